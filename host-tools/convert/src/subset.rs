//! The Java Card language subset check: refuses, with the source file, line and construct,
//! everything in a class file that a Java Card VM cannot run.
//!
//! Java Card has no float, double, long or char, no strings, threads or reflection, no
//! multi-dimensional arrays, optional 32-bit int, and hard limits on locals, stack and
//! members (JCVM spec §2.2 and §2.2.4). javac happily emits all of these, so the converter
//! checks them before translation and reports every problem at once, like a compiler.
//!
//! Int usage is only refused here where it is certain from the class file (int in
//! descriptors and local-variable tables, int arrays, `iinc`, int constants and switch keys
//! outside the short range). javac computes short arithmetic in int (`iadd; i2s`), so
//! whether an `iadd` result really needs 32 bits is decided by the type analysis in
//! translation, not here.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use crate::bytecode::{ArrayType, JvmInstruction, OpKind, Opcode, Operands, ValueType};
use crate::classfile::{AccessFlags, ClassFile, Code, Loadable, MemberKind, MemberRef, Method};
use crate::descriptor::{FieldType, MethodDescriptor};

/// What the check may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Accept 32-bit int (the optional int subset; CAP header flag ACC_INT).
    pub int_support: bool,
}

/// The kind of unsupported construct a [`Diagnostic`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Construct {
    /// `float` values, fields, arrays or signatures.
    Float,
    /// `double`.
    Double,
    /// `long`.
    Long,
    /// `char` (Java Card has no char type).
    Char,
    /// `int` without int support.
    Int,
    /// `String`, `StringBuilder`, string literals and concatenation.
    String,
    /// Threads (`java.lang.Thread`, `Runnable`, `wait`/`notify`, concurrency utilities).
    Thread,
    /// `synchronized` methods and blocks.
    Synchronization,
    /// Arrays of arrays.
    MultiDimensionalArray,
    /// `invokedynamic` (lambdas, method references, indified string concatenation).
    InvokeDynamic,
    /// `java.lang.Class`, class literals, reflection and method handles.
    Reflection,
    /// A class or member of `java.*` that the Java Card API does not have.
    UnsupportedApi,
    /// `native`, `volatile`, `transient`, `strictfp`.
    Modifier,
    /// More locals, stack, fields, methods or interfaces than the CAP format allows.
    Limit,
    /// The class file is inconsistent (bad index, undecodable bytecode, bad descriptor).
    Malformed,
}

impl Construct {
    fn of_primitive(ty: &FieldType) -> Option<(Construct, &'static str)> {
        Some(match ty {
            FieldType::Float => (Construct::Float, "float"),
            FieldType::Double => (Construct::Double, "double"),
            FieldType::Long => (Construct::Long, "long"),
            FieldType::Char => (Construct::Char, "char"),
            FieldType::Int => (Construct::Int, "int"),
            _ => return None,
        })
    }

    fn of_value_type(ty: ValueType) -> Option<(Construct, &'static str)> {
        Some(match ty {
            ValueType::Float => (Construct::Float, "float"),
            ValueType::Double => (Construct::Double, "double"),
            ValueType::Long => (Construct::Long, "long"),
            ValueType::Char => (Construct::Char, "char"),
            _ => return None,
        })
    }
}

/// One refused construct, located as precisely as the class file allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The source file (`SourceFile` attribute), or the class file's name without it.
    pub source_file: String,
    /// The source line, from the `LineNumberTable`, when the construct is in code.
    pub line: Option<u32>,
    /// Binary name of the class.
    pub class: String,
    /// Name of the method, when the construct is in or on a method.
    pub method: Option<String>,
    /// What kind of construct is refused.
    pub construct: Construct,
    /// The full sentence, e.g. `float arithmetic (fmul) is not supported on Java Card`.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `Foo.java:42: error: float arithmetic (fmul) is not supported on Java Card (in Foo.process)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source_file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        let simple = self.class.rsplit('/').next().unwrap_or(&self.class);
        write!(f, ": error: {} (in {simple}", self.message)?;
        if let Some(method) = &self.method {
            write!(f, ".{method}")?;
        }
        f.write_str(")")
    }
}

/// The `java.*` classes of the Java Card API (api-classes.tsv). Their only members are the
/// no-argument constructor and `equals(Object)`.
pub const JAVA_CARD_JAVA_CLASSES: &[&str] = &[
    "java/io/IOException",
    "java/lang/ArithmeticException",
    "java/lang/ArrayIndexOutOfBoundsException",
    "java/lang/ArrayStoreException",
    "java/lang/ClassCastException",
    "java/lang/Exception",
    "java/lang/IndexOutOfBoundsException",
    "java/lang/NegativeArraySizeException",
    "java/lang/NullPointerException",
    "java/lang/Object",
    "java/lang/RuntimeException",
    "java/lang/SecurityException",
    "java/lang/Throwable",
    "java/rmi/Remote",
    "java/rmi/RemoteException",
];

/// Most local-variable words a method may use, parameters and `this` included (JCVM §2.2.4.4).
pub const MAX_LOCAL_WORDS: u32 = 255;
/// Deepest operand stack in 16-bit words (JCVM §2.2.4.4).
pub const MAX_STACK_WORDS: u32 = 255;
/// Most instance-field words of a class, an int counting two (JCVM §2.2.4.3; tokens are u1).
pub const MAX_INSTANCE_FIELD_WORDS: u32 = 255;
/// Most public/protected static fields of a class (static field tokens 0..=255).
pub const MAX_EXPORTED_STATIC_FIELDS: usize = 256;
/// Most public/protected static methods and constructors of a class (tokens 0..=255).
pub const MAX_EXPORTED_STATIC_METHODS: usize = 256;
/// Most public/protected virtual methods (tokens 0..=127) and, separately, package-visible
/// virtual methods (tokens 0x80..=0xFF) of a class (JCVM §2.2.4.3).
pub const MAX_VIRTUAL_METHODS: usize = 128;
/// Most interfaces a class may implement (JCVM §2.2.4.2).
pub const MAX_CLASS_INTERFACES: usize = 15;
/// Most superinterfaces of an interface (JCVM §2.2.4.2).
pub const MAX_SUPERINTERFACES: usize = 14;

/// Checks one class against the Java Card subset; returns every problem found (empty when
/// the class is acceptable). Never panics, whatever the class file holds.
pub fn check_class(class: &ClassFile, options: &Options) -> Vec<Diagnostic> {
    let mut checker = Checker {
        class,
        options: *options,
        source_file: class
            .source_file()
            .map(str::to_string)
            .unwrap_or_else(|| file_name(&class.origin)),
        diagnostics: Vec::new(),
        seen: HashSet::new(),
    };
    checker.check_class_level();
    for field in &class.fields {
        checker.check_field(field);
    }
    for method in &class.methods {
        checker.check_method(method);
    }
    checker.diagnostics
}

fn file_name(origin: &str) -> String {
    Path::new(origin)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| origin.to_string())
}

/// Where a diagnostic points.
#[derive(Clone, Copy)]
struct Site<'a> {
    method: Option<&'a str>,
    line: Option<u32>,
}

struct Checker<'a> {
    class: &'a ClassFile,
    options: Options,
    source_file: String,
    diagnostics: Vec<Diagnostic>,
    /// (method, line, message) already reported: one report per line and message.
    seen: HashSet<(Option<String>, Option<u32>, String)>,
}

impl<'a> Checker<'a> {
    fn report(&mut self, site: Site<'_>, construct: Construct, message: String) {
        let key = (site.method.map(str::to_string), site.line, message.clone());
        if !self.seen.insert(key) {
            return;
        }
        self.diagnostics.push(Diagnostic {
            source_file: self.source_file.clone(),
            line: site.line,
            class: self.class.class_name().to_string(),
            method: site.method.map(str::to_string),
            construct,
            message,
        });
    }

    fn unsupported(&mut self, site: Site<'_>, construct: Construct, what: &str) {
        let message = if construct == Construct::Int {
            format!("{what} requires int support, which is not enabled")
        } else {
            format!("{what} is not supported on Java Card")
        };
        self.report(site, construct, message);
    }

    fn limit(&mut self, site: Site<'_>, message: String) {
        self.report(site, Construct::Limit, message);
    }

    fn malformed(&mut self, site: Site<'_>, message: String) {
        self.report(
            site,
            Construct::Malformed,
            format!("malformed class file: {message}"),
        );
    }

    /// Reports a problem with a type used as `role` ("field `x`", "parameter of …").
    fn check_type(&mut self, site: Site<'_>, ty: &FieldType, role: &str) {
        if ty.array_dimensions() >= 2 {
            self.unsupported(
                site,
                Construct::MultiDimensionalArray,
                &format!("multi-dimensional array type {ty} ({role})"),
            );
            return;
        }
        let element = ty.element_type();
        if let Some((construct, name)) = Construct::of_primitive(element) {
            if construct == Construct::Int && self.options.int_support {
                return;
            }
            let what = if ty.array_dimensions() > 0 {
                format!("{name} array type ({role})")
            } else {
                format!("{name} type ({role})")
            };
            self.unsupported(site, construct, &what);
        } else if let FieldType::Object(name) = element {
            self.check_class_name(site, name, role);
        }
    }

    /// Reports a use of a class that is not part of the Java Card platform.
    fn check_class_name(&mut self, site: Site<'_>, name: &str, role: &str) {
        if name.starts_with('[') {
            match FieldType::from_class_name(name) {
                Ok(ty) => self.check_type(site, &ty, role),
                Err(e) => self.malformed(site, e.to_string()),
            }
            return;
        }
        let dotted = name.replace('/', ".");
        let construct = match name {
            "java/lang/String"
            | "java/lang/StringBuilder"
            | "java/lang/StringBuffer"
            | "java/lang/CharSequence"
            | "java/lang/invoke/StringConcatFactory" => Construct::String,
            "java/lang/Thread"
            | "java/lang/Runnable"
            | "java/lang/ThreadLocal"
            | "java/lang/ThreadGroup"
            | "java/lang/InterruptedException" => Construct::Thread,
            _ if name.starts_with("java/util/concurrent/") => Construct::Thread,
            "java/lang/Class" | "java/lang/ClassLoader" => Construct::Reflection,
            _ if name.starts_with("java/lang/reflect/")
                || name.starts_with("java/lang/invoke/") =>
            {
                Construct::Reflection
            }
            _ if name.starts_with("java/") && !JAVA_CARD_JAVA_CLASSES.contains(&name) => {
                let message = format!("{dotted} ({role}) is not part of the Java Card API");
                self.report(site, Construct::UnsupportedApi, message);
                return;
            }
            _ => return,
        };
        self.unsupported(site, construct, &format!("{dotted} ({role})"));
    }

    fn check_class_level(&mut self) {
        let class = self.class;
        let site = Site {
            method: None,
            line: None,
        };
        if let Some(super_name) = class.super_name() {
            self.check_class_name(site, super_name, "superclass");
        }
        for interface in class.interface_names() {
            self.check_class_name(site, interface, "implemented interface");
        }
        let (max_interfaces, kind) = if class.is_interface() {
            (MAX_SUPERINTERFACES, "superinterfaces")
        } else {
            (MAX_CLASS_INTERFACES, "implemented interfaces")
        };
        if class.interfaces.len() > max_interfaces {
            self.limit(
                site,
                format!(
                    "{} {kind} exceed the Java Card limit of {max_interfaces}",
                    class.interfaces.len()
                ),
            );
        }
        let is_exported = |flags: AccessFlags| {
            flags.contains(AccessFlags::PUBLIC) || flags.contains(AccessFlags::PROTECTED)
        };
        let instance_words: u32 = class
            .fields
            .iter()
            .filter(|f| !f.is_static())
            .map(|f| if f.descriptor == "I" { 2 } else { 1 })
            .sum();
        if instance_words > MAX_INSTANCE_FIELD_WORDS {
            self.limit(
                site,
                format!(
                    "{instance_words} words of instance fields (an int counts two) exceed the \
                     Java Card limit of {MAX_INSTANCE_FIELD_WORDS}"
                ),
            );
        }
        let exported_statics = class
            .fields
            .iter()
            .filter(|f| {
                f.is_static() && is_exported(f.access_flags) && f.constant_value().is_none()
            })
            .count();
        if exported_statics > MAX_EXPORTED_STATIC_FIELDS {
            self.limit(
                site,
                format!(
                    "{exported_statics} public or protected static fields exceed the Java Card \
                     limit of {MAX_EXPORTED_STATIC_FIELDS}"
                ),
            );
        }
        let exported_static_methods = class
            .methods
            .iter()
            .filter(|m| (m.is_static() || m.name == "<init>") && m.name != "<clinit>")
            .filter(|m| is_exported(m.access_flags))
            .count();
        if exported_static_methods > MAX_EXPORTED_STATIC_METHODS {
            self.limit(
                site,
                format!(
                    "{exported_static_methods} public or protected static methods and \
                     constructors exceed the Java Card limit of {MAX_EXPORTED_STATIC_METHODS}"
                ),
            );
        }
        let virtual_methods = || {
            class.methods.iter().filter(|m| {
                !m.is_static()
                    && !m.access_flags.contains(AccessFlags::PRIVATE)
                    && !m.name.starts_with('<')
            })
        };
        let public_virtual = virtual_methods()
            .filter(|m| is_exported(m.access_flags))
            .count();
        let package_virtual = virtual_methods()
            .filter(|m| !is_exported(m.access_flags))
            .count();
        for (count, kind) in [
            (public_virtual, "public or protected"),
            (package_virtual, "package-visible"),
        ] {
            if count > MAX_VIRTUAL_METHODS {
                self.limit(
                    site,
                    format!(
                        "{count} {kind} instance methods exceed the Java Card limit of {MAX_VIRTUAL_METHODS}"
                    ),
                );
            }
        }
    }

    fn check_field(&mut self, field: &crate::classfile::Field) {
        let site = Site {
            method: None,
            line: None,
        };
        let role = format!("field {}", field.name);
        match field.field_type() {
            Ok(ty) => self.check_type(site, &ty, &role),
            Err(e) => self.malformed(site, format!("{role}: {e}")),
        }
        for (flag, keyword) in [
            (AccessFlags::VOLATILE, "volatile"),
            (AccessFlags::TRANSIENT, "transient"),
        ] {
            if field.access_flags.contains(flag) {
                self.unsupported(
                    site,
                    Construct::Modifier,
                    &format!("the {keyword} modifier ({role})"),
                );
            }
        }
    }

    fn check_method(&mut self, method: &'a Method) {
        let code = method.code();
        let site = Site {
            method: Some(&method.name),
            line: code.and_then(Code::first_line).map(u32::from),
        };
        let descriptor = match method.method_descriptor() {
            Ok(descriptor) => descriptor,
            Err(e) => {
                self.malformed(site, format!("method {}: {e}", method.name));
                return;
            }
        };
        for ty in &descriptor.params {
            self.check_type(site, ty, &format!("parameter of {}", method.name));
        }
        if let Some(ty) = &descriptor.ret {
            self.check_type(site, ty, &format!("return type of {}", method.name));
        }
        let flags = method.access_flags;
        if flags.contains(AccessFlags::SYNCHRONIZED) {
            self.unsupported(site, Construct::Synchronization, "a synchronized method");
        }
        for (flag, keyword) in [
            (AccessFlags::NATIVE, "native"),
            (AccessFlags::STRICT, "strictfp"),
        ] {
            if flags.contains(flag) {
                self.unsupported(
                    site,
                    Construct::Modifier,
                    &format!("the {keyword} modifier"),
                );
            }
        }
        if let Some(code) = code {
            self.check_code(method, &descriptor, code);
        }
    }

    fn check_code(&mut self, method: &'a Method, descriptor: &MethodDescriptor, code: &'a Code) {
        let lines = code.line_table();
        let method_site = Site {
            method: Some(&method.name),
            line: code.first_line().map(u32::from),
        };
        // locals: int locals take two Java Card words
        let int_slots: HashSet<u16> = code
            .local_variables()
            .filter(|v| v.descriptor == "I")
            .map(|v| v.index)
            .collect();
        let int_params = descriptor
            .params
            .iter()
            .filter(|t| **t == FieldType::Int)
            .count() as u32;
        let int_words = (int_slots.len() as u32).max(int_params);
        let local_words = u32::from(code.max_locals) + int_words;
        if local_words > MAX_LOCAL_WORDS {
            self.limit(
                method_site,
                format!(
                    "method {} uses {local_words} local variable words (an int counts two); \
                     Java Card allows at most {MAX_LOCAL_WORDS}",
                    method.name
                ),
            );
        }
        if u32::from(code.max_stack) > MAX_STACK_WORDS {
            self.limit(
                method_site,
                format!(
                    "method {} needs an operand stack of {} words; Java Card allows at most {MAX_STACK_WORDS}",
                    method.name, code.max_stack
                ),
            );
        }
        for handler in &code.exception_table {
            if handler.catch_type == 0 {
                continue;
            }
            let site = Site {
                method: Some(&method.name),
                line: lines.line_at(u32::from(handler.handler_pc)).map(u32::from),
            };
            match self.class.constant_pool.class_name(handler.catch_type) {
                Ok(name) => self.check_class_name(site, name, "caught exception"),
                Err(e) => self.malformed(site, e.to_string()),
            }
        }
        let instructions = match code.instructions() {
            Ok(instructions) => instructions,
            Err(e) => {
                let site = Site {
                    method: Some(&method.name),
                    line: lines.line_at(e.offset).map(u32::from),
                };
                self.malformed(site, e.to_string());
                return;
            }
        };
        // a local's range starts after the store that initializes it: report the store's line.
        // Range 0 holds the parameters, already checked through the descriptor.
        for variable in code.local_variables().filter(|v| v.start_pc > 0) {
            // the instruction just before the range (instructions are in offset order)
            let before = instructions.partition_point(|i| i.offset < u32::from(variable.start_pc));
            let store = before
                .checked_sub(1)
                .and_then(|k| instructions.get(k))
                .map_or(0, |i| i.offset);
            let site = Site {
                method: Some(&method.name),
                line: lines.line_at(store).map(u32::from),
            };
            match FieldType::parse(&variable.descriptor) {
                Ok(ty) => self.check_type(site, &ty, &format!("local variable {}", variable.name)),
                Err(e) => self.malformed(site, format!("local variable {}: {e}", variable.name)),
            }
        }
        for insn in &instructions {
            let site = Site {
                method: Some(&method.name),
                line: lines.line_at(insn.offset).map(u32::from),
            };
            self.check_instruction(site, insn);
        }
    }

    fn check_instruction(&mut self, site: Site<'_>, insn: &JvmInstruction) {
        let opcode = insn.opcode;
        let mnemonic = opcode.mnemonic();
        // typed instructions on float, double, long and char
        let typed = match opcode.conversion_types() {
            Some((from, to)) => Construct::of_value_type(from).or(Construct::of_value_type(to)),
            None => opcode.value_type().and_then(Construct::of_value_type),
        };
        if let Some((construct, name)) = typed {
            let what = match opcode.kind() {
                OpKind::Constant => format!("{name} constant ({mnemonic})"),
                OpKind::Load | OpKind::Store => format!("{name} local variable ({mnemonic})"),
                OpKind::ArrayLoad | OpKind::ArrayStore => format!("{name} array ({mnemonic})"),
                OpKind::Arithmetic | OpKind::Bitwise => format!("{name} arithmetic ({mnemonic})"),
                OpKind::Conversion => format!("{name} conversion ({mnemonic})"),
                OpKind::Comparison => format!("{name} comparison ({mnemonic})"),
                OpKind::Return => format!("{name} return value ({mnemonic})"),
                _ => format!("{name} value ({mnemonic})"),
            };
            self.unsupported(site, construct, &what);
        }
        if !self.options.int_support {
            self.check_int_instruction(site, insn);
        }
        let cp = &self.class.constant_pool;
        match (&insn.operands, opcode.kind()) {
            (_, OpKind::Monitor) => {
                self.unsupported(
                    site,
                    Construct::Synchronization,
                    &format!("a synchronized block ({mnemonic})"),
                );
            }
            (Operands::MultiANewArray { .. }, _) => {
                self.unsupported(
                    site,
                    Construct::MultiDimensionalArray,
                    "a multi-dimensional array (multianewarray)",
                );
            }
            (Operands::NewArray(ty), _) => {
                let element = match ty {
                    ArrayType::Float => Some(FieldType::Float),
                    ArrayType::Double => Some(FieldType::Double),
                    ArrayType::Long => Some(FieldType::Long),
                    ArrayType::Char => Some(FieldType::Char),
                    ArrayType::Int if !self.options.int_support => Some(FieldType::Int),
                    _ => None,
                };
                if let Some((construct, name)) = element.as_ref().and_then(Construct::of_primitive)
                {
                    self.unsupported(site, construct, &format!("{name} array (newarray)"));
                }
            }
            (Operands::InvokeDynamic(index), _) => self.check_invokedynamic(site, *index),
            (Operands::ConstantPool(index), OpKind::Constant) => match cp.loadable(*index) {
                Ok(constant) => self.check_loadable(site, constant, mnemonic),
                Err(e) => self.malformed(site, format!("{mnemonic}: {e}")),
            },
            (Operands::ConstantPool(index), OpKind::Field | OpKind::Invoke)
            | (Operands::InvokeInterface { index, .. }, _) => match cp.member_ref(*index) {
                Ok(member) => self.check_member(site, &member, mnemonic),
                Err(e) => self.malformed(site, format!("{mnemonic}: {e}")),
            },
            (Operands::ConstantPool(index), OpKind::Object | OpKind::Array) => {
                match cp.class_name(*index) {
                    Ok(name) => {
                        if opcode == Opcode::Anewarray && name.starts_with('[') {
                            self.unsupported(
                                site,
                                Construct::MultiDimensionalArray,
                                "an array of arrays (anewarray)",
                            );
                        } else {
                            self.check_class_name(site, name, mnemonic);
                        }
                    }
                    Err(e) => self.malformed(site, format!("{mnemonic}: {e}")),
                }
            }
            _ => {}
        }
    }

    /// Int usage that is certain from one instruction (without type analysis).
    fn check_int_instruction(&mut self, site: Site<'_>, insn: &JvmInstruction) {
        let opcode = insn.opcode;
        let mnemonic = opcode.mnemonic();
        if matches!(opcode.kind(), OpKind::ArrayLoad | OpKind::ArrayStore)
            && opcode.value_type() == Some(ValueType::Int)
        {
            self.unsupported(site, Construct::Int, &format!("int array ({mnemonic})"));
        }
        if opcode == Opcode::Iinc {
            // javac increments short/byte locals with iload/iadd/i2s/istore; iinc means int
            self.unsupported(site, Construct::Int, "int local variable increment (iinc)");
        }
        let out_of_short = |key: i32| i16::try_from(key).is_err();
        let wide_key = match &insn.operands {
            Operands::TableSwitch { low, targets, .. } => {
                let high = i64::from(*low) + targets.len() as i64 - 1;
                out_of_short(*low) || i16::try_from(high).is_err()
            }
            Operands::LookupSwitch { pairs, .. } => pairs.iter().any(|(key, _)| out_of_short(*key)),
            _ => false,
        };
        if wide_key {
            self.unsupported(
                site,
                Construct::Int,
                &format!("int switch key outside the short range ({mnemonic})"),
            );
        }
    }

    fn check_loadable(&mut self, site: Site<'_>, constant: Loadable<'_>, mnemonic: &str) {
        match constant {
            Loadable::Int(value) => {
                if !self.options.int_support && i16::try_from(value).is_err() {
                    self.unsupported(
                        site,
                        Construct::Int,
                        &format!("int constant {value} outside the short range ({mnemonic})"),
                    );
                }
            }
            Loadable::Float(_) => self.unsupported(
                site,
                Construct::Float,
                &format!("float constant ({mnemonic})"),
            ),
            Loadable::Double(_) => self.unsupported(
                site,
                Construct::Double,
                &format!("double constant ({mnemonic})"),
            ),
            Loadable::Long(_) => self.unsupported(
                site,
                Construct::Long,
                &format!("long constant ({mnemonic})"),
            ),
            Loadable::String(_) => self.unsupported(
                site,
                Construct::String,
                &format!("a string literal ({mnemonic})"),
            ),
            Loadable::Class(_) => self.unsupported(
                site,
                Construct::Reflection,
                &format!("a class literal ({mnemonic})"),
            ),
            Loadable::MethodType(_) | Loadable::MethodHandle { .. } | Loadable::Dynamic(_) => self
                .unsupported(
                    site,
                    Construct::Reflection,
                    &format!("a method handle or dynamic constant ({mnemonic})"),
                ),
        }
    }

    fn check_member(&mut self, site: Site<'_>, member: &MemberRef<'_>, mnemonic: &str) {
        let role = format!("{mnemonic} {member}");
        if member.class_name.starts_with('[') {
            // methods invoked on arrays: clone(), getClass(), hashCode(), …
            self.report(
                site,
                Construct::UnsupportedApi,
                format!(
                    "array method {}{} ({mnemonic}) is not supported on Java Card",
                    member.name, member.descriptor
                ),
            );
            return;
        }
        let before = self.diagnostics.len();
        self.check_class_name(site, member.class_name, &role);
        if self.diagnostics.len() != before {
            // the class itself is refused; its member's signature adds nothing
            return;
        }
        if JAVA_CARD_JAVA_CLASSES.contains(&member.class_name) {
            let allowed = member.kind != MemberKind::Field
                && matches!(
                    (member.name, member.descriptor),
                    ("<init>", "()V") | ("equals", "(Ljava/lang/Object;)Z")
                );
            if !allowed {
                let construct = match member.name {
                    "wait" | "notify" | "notifyAll" => Construct::Thread,
                    "getClass" => Construct::Reflection,
                    _ => Construct::UnsupportedApi,
                };
                let message = format!("{} ({mnemonic}) is not part of the Java Card API", member);
                self.report(site, construct, message);
            }
        }
        match member.kind {
            MemberKind::Field => match FieldType::parse(member.descriptor) {
                Ok(ty) => self.check_type(site, &ty, &role),
                Err(e) => self.malformed(site, format!("{role}: {e}")),
            },
            MemberKind::Method | MemberKind::InterfaceMethod => {
                match MethodDescriptor::parse(member.descriptor) {
                    Ok(descriptor) => {
                        for ty in descriptor.types() {
                            self.check_type(site, ty, &role);
                        }
                    }
                    Err(e) => self.malformed(site, format!("{role}: {e}")),
                }
            }
        }
    }

    fn check_invokedynamic(&mut self, site: Site<'_>, index: u16) {
        let cp = &self.class.constant_pool;
        let bootstrap_class = cp
            .invoke_dynamic(index)
            .ok()
            .and_then(|(bootstrap, _)| self.class.bootstrap_methods().get(usize::from(bootstrap)))
            .and_then(|bootstrap| match cp.loadable(bootstrap.method_ref) {
                Ok(Loadable::MethodHandle { member, .. }) => Some(member.class_name),
                _ => None,
            });
        match bootstrap_class {
            Some("java/lang/invoke/StringConcatFactory") => self.unsupported(
                site,
                Construct::String,
                "string concatenation (invokedynamic)",
            ),
            Some("java/lang/invoke/LambdaMetafactory") => self.unsupported(
                site,
                Construct::InvokeDynamic,
                "a lambda expression or method reference (invokedynamic)",
            ),
            _ => self.unsupported(site, Construct::InvokeDynamic, "invokedynamic"),
        }
    }
}
