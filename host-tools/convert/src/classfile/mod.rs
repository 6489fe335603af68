//! The JVM class file (JVMS §4) as an owned model, read by a nom parser.
//!
//! The converter's input is javac output for Java Card applets. This module reads class
//! files of versions 45 to 54 (javac `--release` 7 to 10 and older) into [`ClassFile`],
//! resolving names and descriptors once so later stages work on strings and parsed types.
//! Malformed input gives a [`ClassFileError`] naming the file, byte offset and what was
//! expected; nothing here panics on bad input.

mod constant_pool;
mod parser;

use std::fmt;
use std::path::Path;

pub use constant_pool::{
    decode_modified_utf8, Constant, ConstantPool, ConstantPoolError, Loadable, MemberKind,
    MemberRef, NameAndType,
};

use crate::bytecode::{self, DecodeError, JvmInstruction};
use crate::descriptor::{DescriptorError, FieldType, MethodDescriptor};

/// Lowest class file major version accepted (JDK 1.0.2/1.1).
pub const MIN_MAJOR_VERSION: u16 = 45;
/// Highest class file major version accepted (Java 10), as the Java Card converters.
pub const MAX_MAJOR_VERSION: u16 = 54;

/// Access flags of a class, field or method (JVMS Tables 4.1-B, 4.5-A, 4.6-A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AccessFlags(pub u16);

impl AccessFlags {
    /// `ACC_PUBLIC`
    pub const PUBLIC: u16 = 0x0001;
    /// `ACC_PRIVATE`
    pub const PRIVATE: u16 = 0x0002;
    /// `ACC_PROTECTED`
    pub const PROTECTED: u16 = 0x0004;
    /// `ACC_STATIC`
    pub const STATIC: u16 = 0x0008;
    /// `ACC_FINAL`
    pub const FINAL: u16 = 0x0010;
    /// `ACC_SUPER` (classes) / `ACC_SYNCHRONIZED` (methods)
    pub const SYNCHRONIZED: u16 = 0x0020;
    /// `ACC_VOLATILE` (fields) / `ACC_BRIDGE` (methods)
    pub const VOLATILE: u16 = 0x0040;
    /// `ACC_TRANSIENT` (fields) / `ACC_VARARGS` (methods)
    pub const TRANSIENT: u16 = 0x0080;
    /// `ACC_NATIVE`
    pub const NATIVE: u16 = 0x0100;
    /// `ACC_INTERFACE`
    pub const INTERFACE: u16 = 0x0200;
    /// `ACC_ABSTRACT`
    pub const ABSTRACT: u16 = 0x0400;
    /// `ACC_STRICT`
    pub const STRICT: u16 = 0x0800;
    /// `ACC_SYNTHETIC`
    pub const SYNTHETIC: u16 = 0x1000;
    /// `ACC_ANNOTATION`
    pub const ANNOTATION: u16 = 0x2000;
    /// `ACC_ENUM`
    pub const ENUM: u16 = 0x4000;
    /// `ACC_MODULE`
    pub const MODULE: u16 = 0x8000;

    /// True when every bit of `flag` is set.
    pub fn contains(self, flag: u16) -> bool {
        self.0 & flag == flag
    }
}

/// A class file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFileError {
    /// The class file's name as given to the reader (usually its path).
    pub file: String,
    /// Byte offset in the class file where the problem is, when known.
    pub offset: Option<usize>,
    /// What was expected, or what is wrong.
    pub message: String,
}

impl fmt::Display for ClassFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{}: offset {offset}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ClassFileError {}

/// An entry of the `exception_table` of a `Code` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionHandler {
    /// First covered code offset.
    pub start_pc: u16,
    /// End of the covered range (exclusive).
    pub end_pc: u16,
    /// Handler code offset.
    pub handler_pc: u16,
    /// Class index of the caught type; 0 catches everything (`finally`).
    pub catch_type: u16,
}

/// A `LineNumberTable` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineNumber {
    /// First code offset of the line.
    pub start_pc: u16,
    /// Source line number.
    pub line_number: u16,
}

/// A `LocalVariableTable` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVariable {
    /// First code offset where the variable has a value.
    pub start_pc: u16,
    /// Length of the range where it has a value.
    pub length: u16,
    /// Variable name.
    pub name: String,
    /// Field descriptor of its type.
    pub descriptor: String,
    /// Local-variable slot.
    pub index: u16,
}

/// A verification type in a stack map frame (JVMS §4.7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationType {
    /// `Top`
    Top,
    /// `Integer` (int, short, byte, char, boolean)
    Integer,
    /// `Float`
    Float,
    /// `Double` (two slots)
    Double,
    /// `Long` (two slots)
    Long,
    /// `Null`
    Null,
    /// `UninitializedThis`
    UninitializedThis,
    /// `Object` with a Class constant index.
    Object(u16),
    /// `Uninitialized` with the offset of the `new` instruction.
    Uninitialized(u16),
}

/// One `StackMapTable` frame (JVMS §4.7.4), with the extended forms folded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackMapFrame {
    /// `same_frame` / `same_frame_extended`.
    Same {
        /// Offset delta to the previous frame.
        offset_delta: u16,
    },
    /// `same_locals_1_stack_item_frame` / `..._extended`.
    SameLocals1StackItem {
        /// Offset delta.
        offset_delta: u16,
        /// The single stack item.
        stack: VerificationType,
    },
    /// `chop_frame`: the last `chopped` (1–3) locals are gone.
    Chop {
        /// Offset delta.
        offset_delta: u16,
        /// Number of locals removed.
        chopped: u8,
    },
    /// `append_frame`: 1–3 more locals.
    Append {
        /// Offset delta.
        offset_delta: u16,
        /// The added locals.
        locals: Vec<VerificationType>,
    },
    /// `full_frame`.
    Full {
        /// Offset delta.
        offset_delta: u16,
        /// All locals.
        locals: Vec<VerificationType>,
        /// All stack items.
        stack: Vec<VerificationType>,
    },
}

impl StackMapFrame {
    /// The frame's `offset_delta`.
    pub fn offset_delta(&self) -> u16 {
        match self {
            StackMapFrame::Same { offset_delta }
            | StackMapFrame::SameLocals1StackItem { offset_delta, .. }
            | StackMapFrame::Chop { offset_delta, .. }
            | StackMapFrame::Append { offset_delta, .. }
            | StackMapFrame::Full { offset_delta, .. } => *offset_delta,
        }
    }
}

/// An `InnerClasses` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InnerClass {
    /// Class index of the inner class.
    pub inner_class_info_index: u16,
    /// Class index of the outer class, or 0.
    pub outer_class_info_index: u16,
    /// Utf8 index of the simple name, or 0 for anonymous classes.
    pub inner_name_index: u16,
    /// Access flags as declared in source.
    pub inner_class_access_flags: AccessFlags,
}

/// A `BootstrapMethods` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapMethod {
    /// MethodHandle index of the bootstrap method.
    pub method_ref: u16,
    /// Loadable-constant indices of the static arguments.
    pub arguments: Vec<u16>,
}

/// The `Code` attribute of a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// Maximum operand stack depth, in JVM words.
    pub max_stack: u16,
    /// Number of local-variable slots, parameters included.
    pub max_locals: u16,
    /// The bytecode.
    pub code: Vec<u8>,
    /// Offset of the first bytecode byte in the class file (for messages).
    pub code_offset: usize,
    /// Exception handlers, in order of precedence.
    pub exception_table: Vec<ExceptionHandler>,
    /// Attributes of the Code attribute (line numbers, local variables, stack maps, …).
    pub attributes: Vec<Attribute>,
}

/// A method's line numbers sorted by start pc (see [`Code::line_table`]).
#[derive(Debug, Clone, Default)]
pub struct LineTable {
    entries: Vec<(u16, u16)>,
}

impl LineTable {
    /// The source line of the instruction at `pc`: the entry with the greatest start pc not
    /// after `pc` (the last such entry when several start there).
    pub fn line_at(&self, pc: u32) -> Option<u16> {
        let after = self
            .entries
            .partition_point(|&(start_pc, _)| u32::from(start_pc) <= pc);
        let index = after.checked_sub(1)?;
        self.entries.get(index).map(|&(_, line)| line)
    }
}

impl Code {
    /// Decodes the bytecode into instructions (see [`bytecode::decode`]).
    pub fn instructions(&self) -> Result<Vec<JvmInstruction>, DecodeError> {
        bytecode::decode(&self.code)
    }

    /// All `LineNumberTable` entries (javac may split them over several attributes).
    pub fn line_numbers(&self) -> impl Iterator<Item = &LineNumber> {
        self.attributes.iter().flat_map(|a| match a {
            Attribute::LineNumberTable(entries) => entries.as_slice(),
            _ => &[],
        })
    }

    /// The source line of the instruction at `pc`: the entry with the greatest `start_pc`
    /// not after `pc`.
    pub fn line_at(&self, pc: u32) -> Option<u16> {
        self.line_numbers()
            .filter(|entry| u32::from(entry.start_pc) <= pc)
            .max_by_key(|entry| entry.start_pc)
            .map(|entry| entry.line_number)
    }

    /// The line table sorted once, for many [`LineTable::line_at`] look-ups (the same answers
    /// as [`Code::line_at`] in logarithmic time).
    pub fn line_table(&self) -> LineTable {
        let mut entries: Vec<(u16, u16)> = self
            .line_numbers()
            .map(|entry| (entry.start_pc, entry.line_number))
            .collect();
        entries.sort_by_key(|&(start_pc, _)| start_pc);
        LineTable { entries }
    }

    /// The smallest line number of the method (near its declaration), if known.
    pub fn first_line(&self) -> Option<u16> {
        self.line_numbers().map(|entry| entry.line_number).min()
    }

    /// All `LocalVariableTable` entries.
    pub fn local_variables(&self) -> impl Iterator<Item = &LocalVariable> {
        self.attributes.iter().flat_map(|a| match a {
            Attribute::LocalVariableTable(entries) => entries.as_slice(),
            _ => &[],
        })
    }

    /// The `StackMapTable` frames, if the method has one.
    pub fn stack_map_frames(&self) -> Option<&[StackMapFrame]> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::StackMapTable(frames) => Some(frames.as_slice()),
            _ => None,
        })
    }
}

/// An attribute (JVMS §4.7). Attributes the converter has no use for are kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `ConstantValue`: index of the constant.
    ConstantValue(u16),
    /// `Code`.
    Code(Code),
    /// `StackMapTable`.
    StackMapTable(Vec<StackMapFrame>),
    /// `Exceptions`: Class indices of the declared checked exceptions.
    Exceptions(Vec<u16>),
    /// `InnerClasses`.
    InnerClasses(Vec<InnerClass>),
    /// `SourceFile`: the file name.
    SourceFile(String),
    /// `LineNumberTable`.
    LineNumberTable(Vec<LineNumber>),
    /// `LocalVariableTable`.
    LocalVariableTable(Vec<LocalVariable>),
    /// `BootstrapMethods`.
    BootstrapMethods(Vec<BootstrapMethod>),
    /// Any other attribute, unparsed.
    Unknown {
        /// The attribute name.
        name: String,
        /// The `info` bytes.
        info: Vec<u8>,
    },
}

/// A field (`field_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Access flags.
    pub access_flags: AccessFlags,
    /// Field name.
    pub name: String,
    /// Field descriptor text.
    pub descriptor: String,
    /// Attributes.
    pub attributes: Vec<Attribute>,
}

impl Field {
    /// The parsed type of the field.
    pub fn field_type(&self) -> Result<FieldType, DescriptorError> {
        FieldType::parse(&self.descriptor)
    }

    /// The `ConstantValue` index, for compile-time constants.
    pub fn constant_value(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::ConstantValue(index) => Some(*index),
            _ => None,
        })
    }

    /// True for `static` fields.
    pub fn is_static(&self) -> bool {
        self.access_flags.contains(AccessFlags::STATIC)
    }
}

/// A method (`method_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// Access flags.
    pub access_flags: AccessFlags,
    /// Method name (`<init>` for constructors, `<clinit>` for the static initializer).
    pub name: String,
    /// Method descriptor text.
    pub descriptor: String,
    /// Attributes.
    pub attributes: Vec<Attribute>,
}

impl Method {
    /// The parsed descriptor.
    pub fn method_descriptor(&self) -> Result<MethodDescriptor, DescriptorError> {
        MethodDescriptor::parse(&self.descriptor)
    }

    /// The `Code` attribute (absent for abstract and native methods).
    pub fn code(&self) -> Option<&Code> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Code(code) => Some(code),
            _ => None,
        })
    }

    /// Class indices of the `Exceptions` attribute.
    pub fn exceptions(&self) -> &[u16] {
        self.attributes
            .iter()
            .find_map(|a| match a {
                Attribute::Exceptions(list) => Some(list.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// True for `static` methods.
    pub fn is_static(&self) -> bool {
        self.access_flags.contains(AccessFlags::STATIC)
    }
}

/// A parsed class file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFile {
    /// The name the file was read under (its path), used in messages.
    pub origin: String,
    /// `minor_version`.
    pub minor_version: u16,
    /// `major_version` (45..=54).
    pub major_version: u16,
    /// The constant pool.
    pub constant_pool: ConstantPool,
    /// Class access flags.
    pub access_flags: AccessFlags,
    /// Class index of this class.
    pub this_class: u16,
    /// Class index of the superclass, 0 for `java/lang/Object`.
    pub super_class: u16,
    /// Class indices of the direct superinterfaces.
    pub interfaces: Vec<u16>,
    /// Fields.
    pub fields: Vec<Field>,
    /// Methods.
    pub methods: Vec<Method>,
    /// Class attributes.
    pub attributes: Vec<Attribute>,
    name: String,
    super_name: Option<String>,
    interface_names: Vec<String>,
}

impl ClassFile {
    /// Parses a class file. `origin` names it in error messages (usually its path).
    pub fn parse(origin: &str, bytes: &[u8]) -> Result<ClassFile, ClassFileError> {
        parser::parse_class_file(origin, bytes)
    }

    /// Reads and parses the class file at `path`.
    pub fn read(path: &Path) -> Result<ClassFile, ClassFileError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ClassFileError {
            file: origin.clone(),
            offset: None,
            message: format!("cannot read: {e}"),
        })?;
        ClassFile::parse(&origin, &bytes)
    }

    /// Binary name of this class (`org/oxicard/golden/hello/HelloApplet`).
    pub fn class_name(&self) -> &str {
        &self.name
    }

    /// The name without its package (`HelloApplet`).
    pub fn simple_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// Binary name of the superclass (`None` only for `java/lang/Object`).
    pub fn super_name(&self) -> Option<&str> {
        self.super_name.as_deref()
    }

    /// Binary names of the direct superinterfaces.
    pub fn interface_names(&self) -> &[String] {
        &self.interface_names
    }

    /// True for interfaces.
    pub fn is_interface(&self) -> bool {
        self.access_flags.contains(AccessFlags::INTERFACE)
    }

    /// The `SourceFile` attribute (`HelloApplet.java`).
    pub fn source_file(&self) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::SourceFile(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The `InnerClasses` entries.
    pub fn inner_classes(&self) -> &[InnerClass] {
        self.attributes
            .iter()
            .find_map(|a| match a {
                Attribute::InnerClasses(list) => Some(list.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// The `BootstrapMethods` entries.
    pub fn bootstrap_methods(&self) -> &[BootstrapMethod] {
        self.attributes
            .iter()
            .find_map(|a| match a {
                Attribute::BootstrapMethods(list) => Some(list.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// The method with this name and descriptor.
    pub fn method(&self, name: &str, descriptor: &str) -> Option<&Method> {
        self.methods
            .iter()
            .find(|m| m.name == name && m.descriptor == descriptor)
    }

    /// Wraps a constant-pool lookup failure into an error naming this class file.
    pub fn cp_error(&self, error: ConstantPoolError) -> ClassFileError {
        ClassFileError {
            file: self.origin.clone(),
            offset: None,
            message: error.to_string(),
        }
    }
}
