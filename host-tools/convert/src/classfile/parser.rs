//! The nom parser behind [`ClassFile::parse`](super::ClassFile::parse).
//!
//! Every parser works on sub-slices of the one class-file buffer, so the position of a
//! failure is recovered from the failing slice's address; contexts name what was being read.

use nom::bytes::complete::take;
use nom::error::{ContextError, ErrorKind, ParseError};
use nom::number::complete::{be_i32, be_i64, be_u16, be_u32, be_u8};

use super::{
    decode_modified_utf8, AccessFlags, Attribute, BootstrapMethod, ClassFile, ClassFileError, Code,
    Constant, ConstantPool, ExceptionHandler, Field, InnerClass, LineNumber, LocalVariable, Method,
    StackMapFrame, VerificationType, MAX_MAJOR_VERSION, MIN_MAJOR_VERSION,
};

/// A parse failure: where (the remaining input) and what was expected.
#[derive(Debug)]
struct Failure<'a> {
    input: &'a [u8],
    message: Option<String>,
    contexts: Vec<&'static str>,
}

impl<'a> ParseError<&'a [u8]> for Failure<'a> {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        Failure {
            input,
            message: None,
            contexts: Vec::new(),
        }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> ContextError<&'a [u8]> for Failure<'a> {
    fn add_context(_input: &'a [u8], context: &'static str, mut other: Self) -> Self {
        other.contexts.push(context);
        other
    }
}

type PResult<'a, T> = nom::IResult<&'a [u8], T, Failure<'a>>;

/// Fails at `input` with a message.
fn fail<T>(input: &[u8], message: String) -> PResult<'_, T> {
    Err(nom::Err::Failure(Failure {
        input,
        message: Some(message),
        contexts: Vec::new(),
    }))
}

/// Runs `parser` with a context label.
fn ctx<'a, T>(
    label: &'static str,
    parser: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> impl FnMut(&'a [u8]) -> PResult<'a, T> {
    nom::error::context(label, parser)
}

/// Parses `count` items, refusing counts that cannot fit in the remaining input.
fn counted<'a, T>(
    input: &'a [u8],
    count: usize,
    min_item_size: usize,
    what: &'static str,
    mut item: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, Vec<T>> {
    if count.saturating_mul(min_item_size) > input.len() {
        return fail(
            input,
            format!(
                "{count} {what} need at least {} bytes, only {} remain",
                count.saturating_mul(min_item_size),
                input.len()
            ),
        );
    }
    let mut items = Vec::with_capacity(count);
    let mut rest = input;
    for _ in 0..count {
        let (next, value) = item(rest)?;
        items.push(value);
        rest = next;
    }
    Ok((rest, items))
}

/// Where an attribute appears; decides which attributes are parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Class,
    Field,
    Method,
    Code,
}

struct Reader<'a> {
    base: &'a [u8],
    cp: ConstantPool,
}

pub(super) fn parse_class_file(origin: &str, bytes: &[u8]) -> Result<ClassFile, ClassFileError> {
    let to_error = |failure: Failure<'_>| {
        let offset = (failure.input.as_ptr() as usize).checked_sub(bytes.as_ptr() as usize);
        let what = failure.contexts.first().copied();
        let path: Vec<&str> = failure.contexts.iter().rev().copied().collect();
        let message = match (failure.message, what) {
            (Some(message), _) if path.is_empty() => message,
            (Some(message), _) => format!("{message} (in {})", path.join(" > ")),
            (None, Some(what)) => format!(
                "expected {what}, found {} (in {})",
                if failure.input.is_empty() {
                    "end of data".to_string()
                } else {
                    "malformed data".to_string()
                },
                path.join(" > ")
            ),
            (None, None) => "malformed class file".to_string(),
        };
        ClassFileError {
            file: origin.to_string(),
            offset,
            message,
        }
    };
    match class_file(origin, bytes) {
        Ok((_, class)) => Ok(class),
        Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(to_error(f)),
        Err(nom::Err::Incomplete(_)) => Err(ClassFileError {
            file: origin.to_string(),
            offset: None,
            message: "unexpected end of data".into(),
        }),
    }
}

fn class_file<'a>(origin: &str, input: &'a [u8]) -> PResult<'a, ClassFile> {
    let (i, magic) = ctx("magic 0xCAFEBABE", be_u32)(input)?;
    if magic != 0xCAFE_BABE {
        return fail(
            input,
            format!("expected magic 0xCAFEBABE, found 0x{magic:08X}"),
        );
    }
    let (i, minor_version) = ctx("minor_version", be_u16)(i)?;
    let (after_major, major_version) = ctx("major_version", be_u16)(i)?;
    if !(MIN_MAJOR_VERSION..=MAX_MAJOR_VERSION).contains(&major_version) {
        return fail(
            i,
            format!(
                "class file version {major_version}.{minor_version} is not supported: expected \
                 major version {MIN_MAJOR_VERSION} to {MAX_MAJOR_VERSION} (javac --release 10 or older)"
            ),
        );
    }
    let (i, cp) = ctx("constant pool", constant_pool)(after_major)?;
    let reader = Reader { base: input, cp };
    let (i, access_flags) = ctx("access_flags", be_u16)(i)?;
    let (i, this_class) = ctx("this_class", be_u16)(i)?;
    let name = reader.class_name_at(i, this_class, "this_class")?;
    let (j, super_class) = ctx("super_class", be_u16)(i)?;
    let super_name = if super_class == 0 {
        None
    } else {
        Some(reader.class_name_at(i, super_class, "super_class")?)
    };
    let (mut i, interfaces_count) = ctx("interfaces_count", be_u16)(j)?;
    let mut interfaces = Vec::new();
    let mut interface_names = Vec::new();
    for _ in 0..interfaces_count {
        let (next, index) = ctx("interfaces", be_u16)(i)?;
        interface_names.push(reader.class_name_at(i, index, "interface")?);
        interfaces.push(index);
        i = next;
    }
    let (i, fields_count) = ctx("fields_count", be_u16)(i)?;
    let (i, fields) = counted(i, usize::from(fields_count), 8, "fields", |i| {
        ctx("field_info", |i| reader.field(i))(i)
    })?;
    let (i, methods_count) = ctx("methods_count", be_u16)(i)?;
    let (i, methods) = counted(i, usize::from(methods_count), 8, "methods", |i| {
        ctx("method_info", |i| reader.method(i))(i)
    })?;
    let (i, attributes) = ctx("class attributes", |i| reader.attributes(i, Owner::Class))(i)?;
    if !i.is_empty() {
        return fail(
            i,
            format!("expected end of class file, found {} more bytes", i.len()),
        );
    }
    let class = ClassFile {
        origin: origin.to_string(),
        minor_version,
        major_version,
        constant_pool: reader.cp,
        access_flags: AccessFlags(access_flags),
        this_class,
        super_class,
        interfaces,
        fields,
        methods,
        attributes,
        name,
        super_name,
        interface_names,
    };
    Ok((i, class))
}

fn constant_pool(input: &[u8]) -> PResult<'_, ConstantPool> {
    let (mut i, count) = ctx("constant_pool_count", be_u16)(input)?;
    if count == 0 {
        return fail(input, "constant_pool_count must be at least 1".into());
    }
    let mut entries = vec![Constant::Unusable];
    let mut offsets = vec![0usize];
    while entries.len() < usize::from(count) {
        let start = i;
        let (next, entry) = ctx("cp_info", constant)(i)?;
        let two_slots = matches!(entry, Constant::Long(_) | Constant::Double(_));
        entries.push(entry);
        offsets.push(input.len() - start.len());
        if two_slots {
            if entries.len() >= usize::from(count) {
                return fail(
                    start,
                    format!(
                        "a Long or Double constant cannot take the last slot #{}",
                        count - 1
                    ),
                );
            }
            entries.push(Constant::Unusable);
            offsets.push(0);
        }
        i = next;
    }
    let cp = ConstantPool { entries };
    if let Err((index, error)) = cp.validate() {
        let at = offsets.get(usize::from(index)).copied().unwrap_or(0);
        let entry_input = input.get(at..).unwrap_or(input);
        return fail(
            entry_input,
            format!("constant pool entry #{index} refers to a bad entry: {error}"),
        );
    }
    Ok((i, cp))
}

fn constant(input: &[u8]) -> PResult<'_, Constant> {
    let (i, tag) = ctx("constant tag", be_u8)(input)?;
    let pair = |i| nom::sequence::pair(be_u16, be_u16)(i);
    Ok(match tag {
        1 => {
            let (i, length) = ctx("Utf8 length", be_u16)(i)?;
            let (i, bytes) = ctx("Utf8 bytes", take(length))(i)?;
            match decode_modified_utf8(bytes) {
                Ok(text) => (i, Constant::Utf8(text)),
                Err(at) => {
                    let bad = bytes.get(at..).unwrap_or(bytes);
                    return fail(bad, "expected modified UTF-8 in a Utf8 constant".into());
                }
            }
        }
        3 => {
            let (i, v) = ctx("Integer value", be_i32)(i)?;
            (i, Constant::Integer(v))
        }
        4 => {
            let (i, v) = ctx("Float value", be_u32)(i)?;
            (i, Constant::Float(v))
        }
        5 => {
            let (i, v) = ctx("Long value", be_i64)(i)?;
            (i, Constant::Long(v))
        }
        6 => {
            let (i, v) = ctx("Double value", nom::number::complete::be_u64)(i)?;
            (i, Constant::Double(v))
        }
        7 => {
            let (i, name_index) = ctx("Class name_index", be_u16)(i)?;
            (i, Constant::Class { name_index })
        }
        8 => {
            let (i, string_index) = ctx("String string_index", be_u16)(i)?;
            (i, Constant::String { string_index })
        }
        9..=11 => {
            let (i, (class_index, name_and_type_index)) = ctx("member reference", pair)(i)?;
            let entry = match tag {
                9 => Constant::Fieldref {
                    class_index,
                    name_and_type_index,
                },
                10 => Constant::Methodref {
                    class_index,
                    name_and_type_index,
                },
                _ => Constant::InterfaceMethodref {
                    class_index,
                    name_and_type_index,
                },
            };
            (i, entry)
        }
        12 => {
            let (i, (name_index, descriptor_index)) = ctx("NameAndType", pair)(i)?;
            (
                i,
                Constant::NameAndType {
                    name_index,
                    descriptor_index,
                },
            )
        }
        15 => {
            let (i, (reference_kind, reference_index)) =
                ctx("MethodHandle", nom::sequence::pair(be_u8, be_u16))(i)?;
            (
                i,
                Constant::MethodHandle {
                    reference_kind,
                    reference_index,
                },
            )
        }
        16 => {
            let (i, descriptor_index) = ctx("MethodType descriptor_index", be_u16)(i)?;
            (i, Constant::MethodType { descriptor_index })
        }
        17 | 18 => {
            let (i, (bootstrap_method_attr_index, name_and_type_index)) =
                ctx("dynamic constant", pair)(i)?;
            let entry = if tag == 17 {
                Constant::Dynamic {
                    bootstrap_method_attr_index,
                    name_and_type_index,
                }
            } else {
                Constant::InvokeDynamic {
                    bootstrap_method_attr_index,
                    name_and_type_index,
                }
            };
            (i, entry)
        }
        19 | 20 => {
            let (i, name_index) = ctx("Module/Package name_index", be_u16)(i)?;
            let entry = if tag == 19 {
                Constant::Module { name_index }
            } else {
                Constant::Package { name_index }
            };
            (i, entry)
        }
        _ => {
            return fail(
                input,
                format!("expected a constant pool tag (1, 3-12, 15-20), found {tag}"),
            )
        }
    })
}

impl<'a> Reader<'a> {
    /// Resolves a Utf8 index read at `at`.
    fn utf8_at(
        &self,
        at: &'a [u8],
        index: u16,
        what: &str,
    ) -> Result<String, nom::Err<Failure<'a>>> {
        match self.cp.utf8(index) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => fail::<()>(at, format!("{what}: {e}")).map(|_| String::new()),
        }
    }

    /// Resolves a Class index read at `at`.
    fn class_name_at(
        &self,
        at: &'a [u8],
        index: u16,
        what: &str,
    ) -> Result<String, nom::Err<Failure<'a>>> {
        match self.cp.class_name(index) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => fail::<()>(at, format!("{what}: {e}")).map(|_| String::new()),
        }
    }

    fn field(&self, input: &'a [u8]) -> PResult<'a, Field> {
        let (i, (access_flags, name_index, descriptor_index)) =
            nom::sequence::tuple((be_u16, be_u16, be_u16))(input)?;
        let name = self.utf8_at(input, name_index, "field name_index")?;
        let descriptor = self.utf8_at(input, descriptor_index, "field descriptor_index")?;
        let (i, attributes) = ctx("field attributes", |i| self.attributes(i, Owner::Field))(i)?;
        let field = Field {
            access_flags: AccessFlags(access_flags),
            name,
            descriptor,
            attributes,
        };
        Ok((i, field))
    }

    fn method(&self, input: &'a [u8]) -> PResult<'a, Method> {
        let (i, (access_flags, name_index, descriptor_index)) =
            nom::sequence::tuple((be_u16, be_u16, be_u16))(input)?;
        let name = self.utf8_at(input, name_index, "method name_index")?;
        let descriptor = self.utf8_at(input, descriptor_index, "method descriptor_index")?;
        let (i, attributes) = ctx("method attributes", |i| self.attributes(i, Owner::Method))(i)?;
        let method = Method {
            access_flags: AccessFlags(access_flags),
            name,
            descriptor,
            attributes,
        };
        Ok((i, method))
    }

    fn attributes(&self, input: &'a [u8], owner: Owner) -> PResult<'a, Vec<Attribute>> {
        let (i, count) = ctx("attributes_count", be_u16)(input)?;
        counted(i, usize::from(count), 6, "attributes", |i| {
            self.attribute(i, owner)
        })
    }

    fn attribute(&self, input: &'a [u8], owner: Owner) -> PResult<'a, Attribute> {
        let (i, name_index) = ctx("attribute_name_index", be_u16)(input)?;
        let name = self.utf8_at(input, name_index, "attribute_name_index")?;
        let (i, length) = ctx("attribute_length", be_u32)(i)?;
        let Ok(length) = usize::try_from(length) else {
            return fail(i, format!("attribute {name}: length {length} is too large"));
        };
        if length > i.len() {
            return fail(
                i,
                format!(
                    "attribute {name}: length {length} exceeds the {} remaining bytes",
                    i.len()
                ),
            );
        }
        let (rest, info) = take(length)(i)?;
        let parsed = match (name.as_str(), owner) {
            ("ConstantValue", Owner::Field) => {
                ctx("ConstantValue", be_u16)(info).map(|(r, v)| (r, Attribute::ConstantValue(v)))
            }
            ("Code", Owner::Method) => ctx("Code", |i| self.code(i))(info),
            ("StackMapTable", Owner::Code) => ctx("StackMapTable", stack_map_table)(info),
            ("Exceptions", Owner::Method) => ctx("Exceptions", |i| {
                let (i, n) = be_u16(i)?;
                counted(i, usize::from(n), 2, "exceptions", be_u16)
            })(info)
            .map(|(r, v)| (r, Attribute::Exceptions(v))),
            ("InnerClasses", Owner::Class) => ctx("InnerClasses", inner_classes)(info),
            ("SourceFile", Owner::Class) => {
                let (r, index) = ctx("SourceFile", be_u16)(info)?;
                let file = self.utf8_at(info, index, "SourceFile sourcefile_index")?;
                Ok((r, Attribute::SourceFile(file)))
            }
            ("LineNumberTable", Owner::Code) => ctx("LineNumberTable", line_number_table)(info),
            ("LocalVariableTable", Owner::Code) => {
                ctx("LocalVariableTable", |i| self.local_variable_table(i))(info)
            }
            ("BootstrapMethods", Owner::Class) => ctx("BootstrapMethods", bootstrap_methods)(info),
            _ => Ok((
                &info[info.len()..],
                Attribute::Unknown {
                    name: name.clone(),
                    info: info.to_vec(),
                },
            )),
        };
        let (left, attribute) = parsed?;
        if !left.is_empty() {
            return fail(
                left,
                format!(
                    "attribute {name}: {} bytes left over inside attribute_length",
                    left.len()
                ),
            );
        }
        Ok((rest, attribute))
    }

    fn code(&self, input: &'a [u8]) -> PResult<'a, Attribute> {
        let (i, max_stack) = ctx("max_stack", be_u16)(input)?;
        let (i, max_locals) = ctx("max_locals", be_u16)(i)?;
        let (i, code_length) = ctx("code_length", be_u32)(i)?;
        if code_length == 0 || code_length > 65535 {
            return fail(
                i,
                format!("code_length must be 1..=65535, found {code_length}"),
            );
        }
        let (i, code) = ctx("code", take(code_length as usize))(i)?;
        let code_offset = (code.as_ptr() as usize).saturating_sub(self.base.as_ptr() as usize);
        let (i, table_length) = ctx("exception_table_length", be_u16)(i)?;
        let (i, exception_table) = counted(
            i,
            usize::from(table_length),
            8,
            "exception handlers",
            |i| {
                ctx("exception_table entry", |input| {
                    let (i, (start_pc, end_pc, handler_pc, catch_type)) =
                        nom::sequence::tuple((be_u16, be_u16, be_u16, be_u16))(input)?;
                    if start_pc >= end_pc
                        || u32::from(end_pc) > code_length
                        || u32::from(handler_pc) >= code_length
                    {
                        return fail(
                            input,
                            format!(
                                "exception handler [{start_pc}, {end_pc}) -> {handler_pc} lies outside the {code_length} bytes of code"
                            ),
                        );
                    }
                    if catch_type != 0 {
                        if let Err(e) = self.cp.class_name(catch_type) {
                            return fail(input, format!("exception handler catch_type: {e}"));
                        }
                    }
                    let handler = ExceptionHandler {
                        start_pc,
                        end_pc,
                        handler_pc,
                        catch_type,
                    };
                    Ok((i, handler))
                })(i)
            },
        )?;
        let (i, attributes) = ctx("Code attributes", |i| self.attributes(i, Owner::Code))(i)?;
        let code = Code {
            max_stack,
            max_locals,
            code: code.to_vec(),
            code_offset,
            exception_table,
            attributes,
        };
        Ok((i, Attribute::Code(code)))
    }

    fn local_variable_table(&self, input: &'a [u8]) -> PResult<'a, Attribute> {
        let (i, n) = be_u16(input)?;
        let (i, entries) = counted(i, usize::from(n), 10, "local variables", |input| {
            let (i, (start_pc, length, name_index, descriptor_index, index)) =
                nom::sequence::tuple((be_u16, be_u16, be_u16, be_u16, be_u16))(input)?;
            let variable = LocalVariable {
                start_pc,
                length,
                name: self.utf8_at(input, name_index, "local variable name_index")?,
                descriptor: self.utf8_at(
                    input,
                    descriptor_index,
                    "local variable descriptor_index",
                )?,
                index,
            };
            Ok((i, variable))
        })?;
        Ok((i, Attribute::LocalVariableTable(entries)))
    }
}

fn line_number_table(input: &[u8]) -> PResult<'_, Attribute> {
    let (i, n) = be_u16(input)?;
    let (i, entries) = counted(i, usize::from(n), 4, "line numbers", |i| {
        let (i, (start_pc, line_number)) = nom::sequence::pair(be_u16, be_u16)(i)?;
        Ok((
            i,
            LineNumber {
                start_pc,
                line_number,
            },
        ))
    })?;
    Ok((i, Attribute::LineNumberTable(entries)))
}

fn inner_classes(input: &[u8]) -> PResult<'_, Attribute> {
    let (i, n) = be_u16(input)?;
    let (i, entries) = counted(i, usize::from(n), 8, "inner classes", |i| {
        let (i, (inner, outer, name, flags)) =
            nom::sequence::tuple((be_u16, be_u16, be_u16, be_u16))(i)?;
        Ok((
            i,
            InnerClass {
                inner_class_info_index: inner,
                outer_class_info_index: outer,
                inner_name_index: name,
                inner_class_access_flags: AccessFlags(flags),
            },
        ))
    })?;
    Ok((i, Attribute::InnerClasses(entries)))
}

fn bootstrap_methods(input: &[u8]) -> PResult<'_, Attribute> {
    let (i, n) = be_u16(input)?;
    let (i, entries) = counted(i, usize::from(n), 4, "bootstrap methods", |i| {
        let (i, (method_ref, argc)) = nom::sequence::pair(be_u16, be_u16)(i)?;
        let (i, arguments) = counted(i, usize::from(argc), 2, "bootstrap arguments", be_u16)?;
        Ok((
            i,
            BootstrapMethod {
                method_ref,
                arguments,
            },
        ))
    })?;
    Ok((i, Attribute::BootstrapMethods(entries)))
}

fn stack_map_table(input: &[u8]) -> PResult<'_, Attribute> {
    let (i, n) = be_u16(input)?;
    let (i, frames) = counted(i, usize::from(n), 1, "stack map frames", stack_map_frame)?;
    Ok((i, Attribute::StackMapTable(frames)))
}

fn stack_map_frame(input: &[u8]) -> PResult<'_, StackMapFrame> {
    let (i, frame_type) = ctx("frame_type", be_u8)(input)?;
    Ok(match frame_type {
        0..=63 => (
            i,
            StackMapFrame::Same {
                offset_delta: u16::from(frame_type),
            },
        ),
        64..=127 => {
            let (i, stack) = verification_type(i)?;
            (
                i,
                StackMapFrame::SameLocals1StackItem {
                    offset_delta: u16::from(frame_type - 64),
                    stack,
                },
            )
        }
        128..=246 => {
            return fail(
                input,
                format!("expected a stack map frame type, found reserved {frame_type}"),
            )
        }
        247 => {
            let (i, offset_delta) = be_u16(i)?;
            let (i, stack) = verification_type(i)?;
            (
                i,
                StackMapFrame::SameLocals1StackItem {
                    offset_delta,
                    stack,
                },
            )
        }
        248..=250 => {
            let (i, offset_delta) = be_u16(i)?;
            (
                i,
                StackMapFrame::Chop {
                    offset_delta,
                    chopped: 251 - frame_type,
                },
            )
        }
        251 => {
            let (i, offset_delta) = be_u16(i)?;
            (i, StackMapFrame::Same { offset_delta })
        }
        252..=254 => {
            let (i, offset_delta) = be_u16(i)?;
            let (i, locals) = counted(
                i,
                usize::from(frame_type - 251),
                1,
                "locals",
                verification_type,
            )?;
            (
                i,
                StackMapFrame::Append {
                    offset_delta,
                    locals,
                },
            )
        }
        255 => {
            let (i, offset_delta) = be_u16(i)?;
            let (i, n_locals) = be_u16(i)?;
            let (i, locals) = counted(i, usize::from(n_locals), 1, "locals", verification_type)?;
            let (i, n_stack) = be_u16(i)?;
            let (i, stack) = counted(i, usize::from(n_stack), 1, "stack items", verification_type)?;
            (
                i,
                StackMapFrame::Full {
                    offset_delta,
                    locals,
                    stack,
                },
            )
        }
    })
}

fn verification_type(input: &[u8]) -> PResult<'_, VerificationType> {
    let (i, tag) = ctx("verification_type_info", be_u8)(input)?;
    Ok(match tag {
        0 => (i, VerificationType::Top),
        1 => (i, VerificationType::Integer),
        2 => (i, VerificationType::Float),
        3 => (i, VerificationType::Double),
        4 => (i, VerificationType::Long),
        5 => (i, VerificationType::Null),
        6 => (i, VerificationType::UninitializedThis),
        7 => {
            let (i, index) = be_u16(i)?;
            (i, VerificationType::Object(index))
        }
        8 => {
            let (i, offset) = be_u16(i)?;
            (i, VerificationType::Uninitialized(offset))
        }
        _ => {
            return fail(
                input,
                format!("expected a verification type tag 0..=8, found {tag}"),
            )
        }
    })
}
