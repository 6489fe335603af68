//! What `oxicard cap dump` shows about a CAP, as data: one struct per section, built once
//! and then written as text ([`super::text`]) or serialized as JSON (the field names are
//! the JSON keys, so they are part of the command's interface and stay stable).

use std::collections::BTreeMap;
use std::fmt;

use oxicard_apdu::hex::Hex;
use oxicard_cap::components::class::{ACC_INTERFACE, ACC_REMOTE, ACC_SHAREABLE};
use oxicard_cap::components::descriptor::{
    FieldRef, ACC_ABSTRACT_CLASS, ACC_FINAL, ACC_INIT, ACC_INTERFACE_DESCRIPTOR, ACC_PRIVATE,
    ACC_PROTECTED, ACC_PUBLIC, ACC_STATIC,
};
use oxicard_cap::components::header::{ACC_APPLET, ACC_EXPORT, ACC_INT};
use oxicard_cap::components::method::{ACC_ABSTRACT_HEADER, ACC_EXTENDED_HEADER};
use oxicard_cap::{Cap, ClassEntry, ComponentTag, ExceptionHandler, MethodEntry};
use oxicard_isa::{instructions, BranchTarget};
use serde::Serialize;

use super::resolve::{class_ref_text, static_ref_text, Resolver};
use super::Section;

/// Everything shown about one CAP; sections left out by `--component` are `None`.
#[derive(Serialize)]
pub struct CapDump {
    /// The file dumped.
    pub file: String,
    /// `cap` (a JAR) or `load-file` (concatenated components).
    pub container: &'static str,
    /// Header component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderDump>,
    /// Directory component and the components present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectoryDump>,
    /// Import component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imports: Option<Vec<ImportDump>>,
    /// Applet component (empty for a library).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applets: Option<Vec<AppletDump>>,
    /// ConstantPool component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constant_pool: Option<Vec<CpDump>>,
    /// Class component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<ClassDump>>,
    /// Method component, in component order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<MethodDump>>,
    /// StaticField component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_fields: Option<StaticFieldDump>,
    /// ReferenceLocation component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_location: Option<RefLocationDump>,
    /// Export component (empty when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<Vec<ExportClassDump>>,
    /// Descriptor component (`None` inside when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<Option<DescriptorDump>>,
    /// Things found wrong while dumping (undecodable bytecode, bad references); the
    /// command exits with status 2 when there are any.
    pub problems: Vec<String>,
}

/// The Header component.
#[derive(Serialize)]
pub struct HeaderDump {
    /// `0xDECAFFED`.
    pub magic: String,
    /// CAP format version, `2.1`.
    pub cap_version: String,
    /// The flags byte.
    pub flags: u8,
    /// The flags set, by name (`ACC_APPLET`).
    pub flag_names: Vec<&'static str>,
    /// The package.
    pub package: PackageDump,
}

/// A package: the one in the CAP or an imported one.
#[derive(Serialize)]
pub struct PackageDump {
    /// AID in hex.
    pub aid: String,
    /// `major.minor`.
    pub version: String,
    /// Package name in internal form, when known.
    pub name: Option<String>,
}

/// The Directory component.
#[derive(Serialize)]
pub struct DirectoryDump {
    /// Every component slot: the size the Directory declares and the size found.
    pub components: Vec<ComponentSizeDump>,
    /// Static field image size.
    pub image_size: u16,
    /// Number of arrays initialized from the StaticField component.
    pub array_init_count: u16,
    /// Bytes of array initializers.
    pub array_init_size: u16,
    /// Number of imports.
    pub import_count: u8,
    /// Number of applets.
    pub applet_count: u8,
    /// Custom components declared (tag, size, AID).
    pub custom_components: Vec<CustomComponentDump>,
}

/// One component slot of the Directory.
#[derive(Serialize)]
pub struct ComponentSizeDump {
    /// Tag byte.
    pub tag: u8,
    /// Component name.
    pub name: &'static str,
    /// Size declared in the Directory (`info` bytes).
    pub declared_size: Option<u32>,
    /// Size of the component present (`info` bytes); `None` if absent.
    pub actual_size: Option<usize>,
}

/// A custom component declared in the Directory.
#[derive(Serialize)]
pub struct CustomComponentDump {
    /// Tag byte (128..=255).
    pub tag: u8,
    /// Declared size.
    pub size: u16,
    /// AID in hex.
    pub aid: String,
}

/// An imported package.
#[derive(Serialize)]
pub struct ImportDump {
    /// Package token (index in the Import component).
    pub token: usize,
    /// AID, version and name (from the export file found for it).
    pub package: PackageDump,
    /// The export file that resolved it.
    pub export_file: Option<String>,
}

/// An applet.
#[derive(Serialize)]
pub struct AppletDump {
    /// Applet AID in hex.
    pub aid: String,
    /// Method component offset of `install`.
    pub install_method_offset: u16,
    /// The class declaring `install`, when the Descriptor says.
    pub class: Option<String>,
}

/// A constant-pool entry.
#[derive(Serialize)]
pub struct CpDump {
    /// Index in the pool.
    pub index: usize,
    /// Entry kind as named in `.jca` files (`staticMethodRef`).
    pub kind: &'static str,
    /// The reference as stored (`0.16.2`, `0x0012`).
    pub reference: String,
    /// The name the export files and the Descriptor give it.
    pub resolved: Option<String>,
    /// Java descriptor from the Descriptor component.
    pub descriptor: Option<String>,
}

/// A class or interface of the Class component.
#[derive(Serialize)]
pub struct ClassDump {
    /// Offset in the Class component `info` (what internal class references hold).
    pub offset: u16,
    /// `class` or `interface`.
    pub kind: &'static str,
    /// Name when known, else `class@0x0012`.
    pub name: String,
    /// Class token from the Descriptor (absent for package-visible classes).
    pub token: Option<u8>,
    /// Class component flags by name.
    pub flags: Vec<&'static str>,
    /// Superclass (classes) or superinterfaces (interfaces).
    pub supers: Vec<String>,
    /// Implemented interfaces (classes).
    pub interfaces: Vec<String>,
    /// Instance size in words declared by this class.
    pub declared_instance_size: Option<u8>,
    /// First instance field token holding a reference.
    pub first_reference_token: Option<u8>,
    /// Number of reference instance fields.
    pub reference_count: Option<u8>,
    /// Public virtual method table: token and Method component offset.
    pub public_methods: Vec<MethodSlot>,
    /// Package virtual method table.
    pub package_methods: Vec<MethodSlot>,
}

/// One virtual method table slot.
#[derive(Serialize)]
pub struct MethodSlot {
    /// Virtual method token.
    pub token: usize,
    /// Method component offset (`0xFFFF`: inherited / none).
    pub offset: u16,
    /// Name, when the method is in this package and named.
    pub name: Option<String>,
}

/// A method of the Method component.
#[derive(Serialize)]
pub struct MethodDump {
    /// Offset of the `method_info` in the Method component `info`.
    pub offset: u16,
    /// Declaring class.
    pub class: String,
    /// Class token (absent: package-visible class).
    pub class_token: Option<u8>,
    /// Method token (absent: private or package-visible without one).
    pub token: Option<u8>,
    /// Name when known, `<init>` for constructors, else `method@0x0040`.
    pub name: String,
    /// Java descriptor.
    pub descriptor: Option<String>,
    /// Access flags by name (Descriptor).
    pub access: Vec<&'static str>,
    /// Method header flags by name.
    pub header_flags: Vec<&'static str>,
    /// Maximum operand stack words.
    pub max_stack: u8,
    /// Argument words, including `this`.
    pub nargs: u8,
    /// Local variable words besides the arguments.
    pub max_locals: u8,
    /// Bytecode length.
    pub bytecode_count: u16,
    /// Exception handlers covering this method.
    pub handlers: Vec<HandlerDump>,
    /// The bytecode, one instruction each.
    pub instructions: Vec<InstructionDump>,
}

/// An exception handler.
#[derive(Serialize)]
pub struct HandlerDump {
    /// First covered bytecode offset (in the method, like instruction offsets).
    pub start: i64,
    /// First offset after the covered range.
    pub end: i64,
    /// Handler bytecode offset.
    pub handler: i64,
    /// Constant-pool index of the caught class; 0 catches anything (finally).
    pub catch_type_index: u16,
    /// Caught class (`any` for `catch_type_index` 0).
    pub catch_type: String,
    /// The stop bit (last handler of a nesting level).
    pub stop: bool,
}

/// One instruction.
#[derive(Serialize)]
pub struct InstructionDump {
    /// Bytecode offset.
    pub offset: usize,
    /// Label of this offset (`L3`) when something branches or hands over to it.
    pub label: Option<String>,
    /// Mnemonic, as in `.jca` files.
    pub mnemonic: &'static str,
    /// Operands text (`.jca` order; branch targets as labels).
    pub operands: String,
    /// What a constant-pool operand refers to.
    pub comment: Option<String>,
}

/// The StaticField component.
#[derive(Serialize)]
pub struct StaticFieldDump {
    /// Size of the static field image in bytes.
    pub image_size: u16,
    /// Reference fields (at the start of the image).
    pub reference_count: u16,
    /// Arrays initialized at load time.
    pub array_init: Vec<ArrayInitDump>,
    /// Bytes of primitive fields with default values.
    pub default_value_count: u16,
    /// Primitive fields with non-default initial values, in hex.
    pub non_default_values: String,
}

/// An array initializer.
#[derive(Serialize)]
pub struct ArrayInitDump {
    /// Element type (`byte`).
    pub element_type: &'static str,
    /// Bytes of values.
    pub byte_count: usize,
    /// Values in hex.
    pub values: String,
}

/// The ReferenceLocation component.
#[derive(Serialize)]
pub struct RefLocationDump {
    /// Method component offsets of 1-byte constant-pool indices.
    pub byte_index_count: usize,
    /// Method component offsets of 2-byte constant-pool indices.
    pub byte2_index_count: usize,
    /// Constant-pool operands in the listed methods that the component does not list.
    pub unlisted_operands: usize,
}

/// One class of the Export component.
#[derive(Serialize)]
pub struct ExportClassDump {
    /// Class component offset.
    pub class_offset: u16,
    /// Class name when known.
    pub class: String,
    /// Static field image offsets, by token.
    pub static_field_offsets: Vec<u16>,
    /// Method component offsets of static methods, by token.
    pub static_method_offsets: Vec<u16>,
}

/// The Descriptor component.
#[derive(Serialize)]
pub struct DescriptorDump {
    /// Classes and interfaces.
    pub classes: Vec<ClassDescriptorDump>,
    /// Entries of `constant_pool_types`.
    pub constant_pool_types: usize,
}

/// One class descriptor.
#[derive(Serialize)]
pub struct ClassDescriptorDump {
    /// Class token.
    pub token: u8,
    /// Access flags by name.
    pub access: Vec<&'static str>,
    /// The class (`this_class_ref`).
    pub class: String,
    /// Implemented interfaces.
    pub interfaces: Vec<String>,
    /// Fields.
    pub fields: Vec<FieldDescriptorDump>,
    /// Methods.
    pub methods: Vec<MethodDescriptorDump>,
}

/// One field descriptor.
#[derive(Serialize)]
pub struct FieldDescriptorDump {
    /// Field token.
    pub token: u8,
    /// Access flags by name.
    pub access: Vec<&'static str>,
    /// The field reference (`0x0004` static offset, `0x0012.3` instance).
    pub reference: String,
    /// Java type.
    pub descriptor: String,
}

/// One method descriptor.
#[derive(Serialize)]
pub struct MethodDescriptorDump {
    /// Method token.
    pub token: u8,
    /// Access flags by name.
    pub access: Vec<&'static str>,
    /// Method component offset.
    pub method_offset: u16,
    /// Name.
    pub name: String,
    /// Java descriptor.
    pub descriptor: Option<String>,
    /// Bytecode length.
    pub bytecode_count: u16,
    /// Handlers.
    pub exception_handler_count: u16,
    /// First handler index.
    pub exception_handler_index: u16,
}

/// Names of the set bits of `flags` from `table`.
fn flag_names(flags: u8, table: &[(u8, &'static str)]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

const HEADER_FLAGS: &[(u8, &str)] = &[
    (ACC_INT, "ACC_INT"),
    (ACC_EXPORT, "ACC_EXPORT"),
    (ACC_APPLET, "ACC_APPLET"),
];
const CLASS_FLAGS: &[(u8, &str)] = &[
    (ACC_INTERFACE, "ACC_INTERFACE"),
    (ACC_SHAREABLE, "ACC_SHAREABLE"),
    (ACC_REMOTE, "ACC_REMOTE"),
];
const CLASS_ACCESS: &[(u8, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_FINAL, "final"),
    (ACC_INTERFACE_DESCRIPTOR, "interface"),
    (ACC_ABSTRACT_CLASS, "abstract"),
];
const MEMBER_ACCESS: &[(u8, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_PRIVATE, "private"),
    (ACC_PROTECTED, "protected"),
    (ACC_STATIC, "static"),
    (ACC_FINAL, "final"),
];
const METHOD_ACCESS: &[(u8, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_PRIVATE, "private"),
    (ACC_PROTECTED, "protected"),
    (ACC_STATIC, "static"),
    (ACC_FINAL, "final"),
    (0x40, "abstract"),
    (ACC_INIT, "init"),
];
const METHOD_HEADER_FLAGS: &[(u8, &str)] = &[
    (ACC_EXTENDED_HEADER, "ACC_EXTENDED"),
    (ACC_ABSTRACT_HEADER, "ACC_ABSTRACT"),
];

/// AID as uppercase hex.
pub fn aid_hex(aid: &[u8]) -> String {
    Hex(aid).to_string()
}

/// Builds the dump of `cap` with the `sections` asked for.
pub fn build(
    cap: &Cap<'_>,
    resolver: &Resolver<'_, '_>,
    file: String,
    container: &'static str,
    package_path: Option<&str>,
    wanted: impl Fn(Section) -> bool,
) -> CapDump {
    let mut problems = Vec::new();
    let cp: Vec<CpDump> = cap
        .constant_pool
        .entries
        .enumerate()
        .map(|(index, entry)| {
            let r = resolver.cp_entry(index, entry);
            CpDump {
                index,
                kind: r.kind,
                reference: r.reference,
                resolved: r.resolved,
                descriptor: r.descriptor,
            }
        })
        .collect();
    let methods = if wanted(Section::Methods) || wanted(Section::RefLocation) {
        Some(methods(cap, resolver, &cp, &mut problems))
    } else {
        None
    };
    CapDump {
        file,
        container,
        header: wanted(Section::Header).then(|| header(cap, resolver, package_path)),
        directory: wanted(Section::Directory).then(|| directory(cap)),
        imports: wanted(Section::Imports).then(|| imports(cap, resolver)),
        applets: wanted(Section::Applets).then(|| applets(cap, resolver)),
        classes: wanted(Section::Classes).then(|| classes(cap, resolver)),
        static_fields: wanted(Section::StaticFields).then(|| static_fields(cap)),
        ref_location: wanted(Section::RefLocation)
            .then(|| ref_location(cap, methods.as_deref().unwrap_or(&[]))),
        export: wanted(Section::Export).then(|| export(cap, resolver)),
        descriptor: wanted(Section::Descriptor).then(|| descriptor(cap, resolver)),
        constant_pool: wanted(Section::ConstantPool).then_some(cp),
        methods: methods.filter(|_| wanted(Section::Methods)),
        problems,
    }
}

fn header(cap: &Cap<'_>, resolver: &Resolver<'_, '_>, package_path: Option<&str>) -> HeaderDump {
    let h = cap.header;
    let name = h
        .package_name
        .map(|n| String::from_utf8_lossy(n).replace('.', "/"))
        .or_else(|| package_path.map(str::to_string))
        .or_else(|| resolver.own().map(|e| e.name.clone()));
    HeaderDump {
        magic: "0xDECAFFED".into(),
        cap_version: format!("{}.{}", h.major_version, h.minor_version),
        flags: h.flags,
        flag_names: flag_names(h.flags, HEADER_FLAGS),
        package: PackageDump {
            aid: aid_hex(h.package.aid),
            version: format!("{}.{}", h.package.major_version, h.package.minor_version),
            name,
        },
    }
}

fn directory(cap: &Cap<'_>) -> DirectoryDump {
    let d = cap.directory;
    let slots = oxicard_cap::components::directory::Directory::size_count(cap.version());
    let components = ComponentTag::STANDARD
        .iter()
        .take(slots)
        .map(|&tag| ComponentSizeDump {
            tag: tag.to_u8(),
            name: tag.name(),
            declared_size: d.component_size(tag),
            actual_size: cap.component(tag).map(|raw| raw.info.len()),
        })
        .collect();
    DirectoryDump {
        components,
        image_size: d.static_field_size.image_size,
        array_init_count: d.static_field_size.array_init_count,
        array_init_size: d.static_field_size.array_init_size,
        import_count: d.import_count,
        applet_count: d.applet_count,
        custom_components: d
            .custom_components
            .map(|c| CustomComponentDump {
                tag: c.component_tag,
                size: c.size,
                aid: aid_hex(c.aid),
            })
            .collect(),
    }
}

fn imports(cap: &Cap<'_>, resolver: &Resolver<'_, '_>) -> Vec<ImportDump> {
    cap.import
        .packages
        .enumerate()
        .map(|(token, p)| {
            let found = resolver.import(token);
            ImportDump {
                token,
                package: PackageDump {
                    aid: aid_hex(p.aid),
                    version: format!("{}.{}", p.major_version, p.minor_version),
                    name: found.map(|e| e.name.clone()),
                },
                export_file: found.map(|e| e.source.clone()),
            }
        })
        .collect()
}

fn applets(cap: &Cap<'_>, resolver: &Resolver<'_, '_>) -> Vec<AppletDump> {
    let Some(applet) = cap.applet else {
        return Vec::new();
    };
    applet
        .applets
        .map(|a| AppletDump {
            aid: aid_hex(a.aid),
            install_method_offset: a.install_method_offset,
            class: resolver
                .method_at(a.install_method_offset)
                .map(|(c, _)| resolver.class_name(c.this_class_ref)),
        })
        .collect()
}

fn method_slots(
    resolver: &Resolver<'_, '_>,
    base: u8,
    table: oxicard_cap::reader::U2List<'_>,
) -> Vec<MethodSlot> {
    table
        .iter()
        .enumerate()
        .map(|(i, offset)| MethodSlot {
            token: usize::from(base) + i,
            offset,
            name: resolver
                .method_at(offset)
                .map(|(c, m)| resolver.internal_method_name(&c, &m)),
        })
        .collect()
}

fn classes(cap: &Cap<'_>, resolver: &Resolver<'_, '_>) -> Vec<ClassDump> {
    let token_of = |offset: u16| {
        let classes = cap.descriptor?.classes;
        let mut classes = classes;
        classes
            .find(|c| c.this_class_ref == oxicard_cap::ClassRef::Internal(offset))
            .map(|c| c.token)
            .filter(|&t| t != 0xFF)
    };
    cap.class
        .entries
        .map(|entry| {
            let offset = entry.offset();
            let name = resolver.class_name(oxicard_cap::ClassRef::Internal(offset));
            match entry {
                ClassEntry::Interface(i) => ClassDump {
                    offset,
                    kind: "interface",
                    name,
                    token: token_of(offset),
                    flags: flag_names(i.flags, CLASS_FLAGS),
                    supers: i
                        .superinterfaces
                        .iter()
                        .map(|c| resolver.class_name(c))
                        .collect(),
                    interfaces: Vec::new(),
                    declared_instance_size: None,
                    first_reference_token: None,
                    reference_count: None,
                    public_methods: Vec::new(),
                    package_methods: Vec::new(),
                },
                ClassEntry::Class(c) => ClassDump {
                    offset,
                    kind: "class",
                    name,
                    token: token_of(offset),
                    flags: flag_names(c.flags, CLASS_FLAGS),
                    supers: c
                        .super_class_ref
                        .map(|s| resolver.class_name(s))
                        .into_iter()
                        .collect(),
                    interfaces: c
                        .interfaces
                        .map(|i| resolver.class_name(i.interface))
                        .collect(),
                    declared_instance_size: Some(c.declared_instance_size),
                    first_reference_token: Some(c.first_reference_token),
                    reference_count: Some(c.reference_count),
                    public_methods: method_slots(
                        resolver,
                        c.public_method_table_base,
                        c.public_virtual_method_table,
                    ),
                    package_methods: method_slots(
                        resolver,
                        c.package_method_table_base,
                        c.package_virtual_method_table,
                    ),
                },
            }
        })
        .collect()
}

/// Labels (`L0`, `L1`, …) for every offset something branches to or a handler names, in
/// offset order.
fn labels(entry: &MethodEntry<'_>) -> BTreeMap<usize, String> {
    let mut targets: Vec<usize> = Vec::new();
    for instruction in instructions(entry.bytecode).flatten() {
        targets.extend(instruction.branch_targets().flatten());
    }
    for handler in entry.handlers {
        let (start, end, target) = handler_offsets(entry, &handler);
        targets.extend(
            [start, end, target]
                .into_iter()
                .filter_map(|o| usize::try_from(o).ok()),
        );
    }
    targets.sort_unstable();
    targets.dedup();
    targets
        .into_iter()
        .enumerate()
        .map(|(n, offset)| (offset, format!("L{n}")))
        .collect()
}

/// A handler's start, end and handler offsets relative to the method's bytecode (the
/// Method component stores them relative to its `info`); negative when the handler lies
/// before the method.
fn handler_offsets(entry: &MethodEntry<'_>, handler: &ExceptionHandler) -> (i64, i64, i64) {
    let base = i64::try_from(entry.bytecode_offset).unwrap_or(i64::MAX);
    (
        i64::from(handler.start_offset) - base,
        i64::from(handler.end_offset()) - base,
        i64::from(handler.handler_offset) - base,
    )
}

/// Writes a branch target as its label, or `L0x0012` when it has none.
struct LabelWriter<'l>(&'l BTreeMap<usize, String>);

impl LabelWriter<'_> {
    fn write(&self, f: &mut fmt::Formatter<'_>, target: BranchTarget) -> fmt::Result {
        match target.ok().and_then(|t| self.0.get(&t)) {
            Some(label) => f.write_str(label),
            None => oxicard_isa::write_absolute_label(f, target),
        }
    }
}

fn methods(
    cap: &Cap<'_>,
    resolver: &Resolver<'_, '_>,
    cp: &[CpDump],
    problems: &mut Vec<String>,
) -> Vec<MethodDump> {
    let mut out = Vec::new();
    for entry in cap.methods() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(format!("method listing: {e}"));
                if cap.descriptor.is_none() {
                    break;
                }
                continue;
            }
        };
        let Some(header) = entry.header else {
            continue; // interface methods have no code
        };
        let class_name = resolver.class_name(entry.class.this_class_ref);
        let name = resolver.internal_method_name(&entry.class, &entry.descriptor);
        let labels = labels(&entry);
        let writer = LabelWriter(&labels);
        let mut list = Vec::new();
        for instruction in instructions(entry.bytecode) {
            match instruction {
                Ok(i) => {
                    let text = i.display_with(|f, t| writer.write(f, t)).to_string();
                    let operands = text
                        .strip_prefix(i.opcode.mnemonic())
                        .unwrap_or("")
                        .trim_start()
                        .to_string();
                    let comment = i.cp_index().map(|operand| {
                        cp.get(usize::from(operand.index))
                            .map(|e| e.resolved.clone().unwrap_or_else(|| e.reference.clone()))
                            .unwrap_or_else(|| "(index outside the constant pool)".into())
                    });
                    list.push(InstructionDump {
                        offset: i.offset,
                        label: labels.get(&i.offset).cloned(),
                        mnemonic: i.opcode.mnemonic(),
                        operands,
                        comment,
                    });
                }
                Err(e) => problems.push(format!(
                    "Method component, offset 0x{:X} (method {class_name}.{name}): {e}",
                    entry.bytecode_offset + 3
                )),
            }
        }
        let code_len = i64::from(entry.descriptor.bytecode_count);
        let handlers = entry
            .handlers
            .map(|h| {
                let (start, end, handler) = handler_offsets(&entry, &h);
                let inside = |o: i64| (0..=code_len).contains(&o);
                if !(inside(start) && inside(end) && inside(handler)) {
                    problems.push(format!(
                        "Method component: method {class_name}.{name}: exception handler \
                         {start}..{end} -> {handler} lies outside the method's {code_len} \
                         bytes"
                    ));
                }
                (h, start, end, handler)
            })
            .map(|(h, start, end, handler)| HandlerDump {
                start,
                end,
                handler,
                catch_type_index: h.catch_type_index,
                catch_type: if h.catch_type_index == 0 {
                    "any".into()
                } else {
                    cp.get(usize::from(h.catch_type_index))
                        .map(|e| e.resolved.clone().unwrap_or_else(|| e.reference.clone()))
                        .unwrap_or_else(|| format!("#{}", h.catch_type_index))
                },
                stop: h.stop_bit,
            })
            .collect();
        out.push(MethodDump {
            offset: entry.descriptor.method_offset,
            class: class_name,
            class_token: Some(entry.class.token).filter(|&t| t != 0xFF),
            token: Some(entry.descriptor.token).filter(|&t| t != 0xFF),
            name,
            descriptor: resolver.method_type(&entry.descriptor),
            access: flag_names(entry.descriptor.access_flags, METHOD_ACCESS),
            header_flags: flag_names(header.flags, METHOD_HEADER_FLAGS),
            max_stack: header.max_stack,
            nargs: header.nargs,
            max_locals: header.max_locals,
            bytecode_count: entry.descriptor.bytecode_count,
            handlers,
            instructions: list,
        });
    }
    out.sort_by_key(|m| m.offset);
    out
}

fn element_type(code: u8) -> &'static str {
    match code {
        2 => "boolean",
        3 => "byte",
        4 => "short",
        5 => "int",
        _ => "?",
    }
}

fn static_fields(cap: &Cap<'_>) -> StaticFieldDump {
    let s = cap.static_field;
    StaticFieldDump {
        image_size: s.image_size,
        reference_count: s.reference_count,
        array_init: s
            .array_init
            .map(|a| ArrayInitDump {
                element_type: element_type(a.element_type),
                byte_count: a.values.len(),
                values: aid_hex(a.values),
            })
            .collect(),
        default_value_count: s.default_value_count,
        non_default_values: aid_hex(s.non_default_values),
    }
}

fn ref_location(cap: &Cap<'_>, methods: &[MethodDump]) -> RefLocationDump {
    let r = cap.ref_location;
    let byte: std::collections::BTreeSet<u32> = r.byte_index_offsets().collect();
    let byte2: std::collections::BTreeSet<u32> = r.byte2_index_offsets().collect();
    let mut unlisted = 0;
    for entry in cap.methods().flatten() {
        if !methods
            .iter()
            .any(|m| m.offset == entry.descriptor.method_offset)
        {
            continue;
        }
        for instruction in instructions(entry.bytecode).flatten() {
            let Some(operand) = instruction.cp_index() else {
                continue;
            };
            let at = u32::try_from(entry.bytecode_offset + operand.position).unwrap_or(u32::MAX);
            let listed = if operand.width == 1 {
                byte.contains(&at)
            } else {
                byte2.contains(&at)
            };
            if !listed {
                unlisted += 1;
            }
        }
    }
    RefLocationDump {
        byte_index_count: byte.len(),
        byte2_index_count: byte2.len(),
        unlisted_operands: unlisted,
    }
}

fn export(cap: &Cap<'_>, resolver: &Resolver<'_, '_>) -> Vec<ExportClassDump> {
    let Some(export) = cap.export else {
        return Vec::new();
    };
    export
        .classes
        .map(|c| ExportClassDump {
            class_offset: c.class_offset,
            class: resolver.class_name(oxicard_cap::ClassRef::Internal(c.class_offset)),
            static_field_offsets: c.static_field_offsets.iter().collect(),
            static_method_offsets: c.static_method_offsets.iter().collect(),
        })
        .collect()
}

fn descriptor(cap: &Cap<'_>, resolver: &Resolver<'_, '_>) -> Option<DescriptorDump> {
    let d = cap.descriptor?;
    let classes = d
        .classes
        .map(|c| ClassDescriptorDump {
            token: c.token,
            access: flag_names(c.access_flags, CLASS_ACCESS),
            class: resolver.class_name(c.this_class_ref),
            interfaces: c
                .interfaces
                .iter()
                .map(|i| resolver.class_name(i))
                .collect(),
            fields: c
                .fields
                .map(|f| FieldDescriptorDump {
                    token: f.token,
                    access: flag_names(f.access_flags, MEMBER_ACCESS),
                    reference: match f.field_ref {
                        FieldRef::Static(s) => static_ref_text(s),
                        FieldRef::Instance { class, token } => {
                            format!("{}.{token}", class_ref_text(class))
                        }
                    },
                    descriptor: field_type_text(resolver, f.field_type),
                })
                .collect(),
            methods: c
                .methods
                .map(|m| MethodDescriptorDump {
                    token: m.token,
                    access: flag_names(m.access_flags, METHOD_ACCESS),
                    method_offset: m.method_offset,
                    name: if c.is_interface() {
                        format!("method#{}", m.token)
                    } else {
                        resolver.internal_method_name(&c, &m)
                    },
                    descriptor: resolver.method_type(&m),
                    bytecode_count: m.bytecode_count,
                    exception_handler_count: m.exception_handler_count,
                    exception_handler_index: m.exception_handler_index,
                })
                .collect(),
        })
        .collect();
    Some(DescriptorDump {
        classes,
        constant_pool_types: d.constant_pool_types.len(),
    })
}

/// A field's type: primitive types are encoded in the value (0x8000 | nibble), others are
/// type-table offsets.
fn field_type_text(resolver: &Resolver<'_, '_>, field_type: u16) -> String {
    if field_type & 0x8000 != 0 {
        let nibble = u8::try_from(field_type & 0xF).unwrap_or(0);
        return match nibble {
            2 => "Z",
            3 => "B",
            4 => "S",
            5 => "I",
            _ => "?",
        }
        .into();
    }
    resolver
        .field_type_at(field_type)
        .unwrap_or_else(|| format!("type@0x{field_type:04X}"))
}
