//! Names for the tokens and offsets of a CAP file.
//!
//! A CAP file refers to other packages by token (import index, class token, member token)
//! and to its own classes and methods by component offset. Names exist only in export
//! files: an external reference is resolved through the imported package's export file
//! (package token → import → export file → class token → class → member token → name and
//! descriptor); an internal one through the package's own export file when it is on the
//! export path (public classes and members only). The Descriptor component supplies the
//! rest: which class an offset belongs to, member tokens, constructors (`ACC_INIT`) and the
//! type of every constant-pool entry. Anything no source names is shown by offset or token
//! (`class@0x0012`, `method@0x0040`, `field#3`).

use oxicard_cap::components::descriptor::{FieldRef, ACC_INIT, ACC_STATIC};
use oxicard_cap::export::model::{ClassModel, ExportFileModel, FieldModel, MethodModel};
use oxicard_cap::export::ACC_STATIC as EXP_ACC_STATIC;
use oxicard_cap::{
    Cap, ClassDescriptor, ClassEntry, ClassRef, CpEntry, FieldDescriptor, MethodDescriptor,
    StaticRef, TypeDescriptor,
};

use oxicard_api::exports::{ExportEntry, ExportRegistry};

/// A constant-pool entry in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedEntry {
    /// `classRef`, `instanceFieldRef`, `virtualMethodRef`, `superMethodRef`,
    /// `staticFieldRef` or `staticMethodRef` (the `.jca` names).
    pub kind: &'static str,
    /// The reference as stored: `0.16.2` (package.class.member tokens), `0x0012` (an
    /// internal offset), `0x0000.3` (internal class, member token).
    pub reference: String,
    /// The name the export files and the Descriptor give it, when one is known:
    /// `javacard/framework/Util.arrayCopyNonAtomic([BS[BSS)S`, `short a/b/C.count`.
    pub resolved: Option<String>,
    /// The Java descriptor of the member from the Descriptor component (`([BS)V`, `S`).
    pub descriptor: Option<String>,
}

/// Resolves tokens and offsets of one CAP against an export registry.
pub struct Resolver<'c, 'r> {
    cap: &'c Cap<'c>,
    registry: &'r ExportRegistry,
    imports: Vec<Option<&'r ExportEntry>>,
    own: Option<&'r ExportEntry>,
    /// Names of internal classes from other sources (the JAR manifest's applet names).
    class_hints: Vec<(u16, String)>,
}

/// The Java descriptor of a primitive type nibble (`S` for 4), without array or reference
/// types.
fn primitive(nibble: u8) -> Option<&'static str> {
    Some(match nibble {
        1 => "V",
        2 => "Z",
        3 => "B",
        4 => "S",
        5 => "I",
        0xA => "[Z",
        0xB => "[B",
        0xC => "[S",
        0xD => "[I",
        _ => return None,
    })
}

/// A field descriptor as a Java type name: `S` → `short`, `[B` → `byte[]`,
/// `Ljava/lang/Object;` → `java/lang/Object`.
pub fn java_type_name(descriptor: &str) -> String {
    if let Some(element) = descriptor.strip_prefix('[') {
        return format!("{}[]", java_type_name(element));
    }
    match descriptor {
        "Z" => "boolean".into(),
        "B" => "byte".into(),
        "S" => "short".into(),
        "I" => "int".into(),
        "V" => "void".into(),
        other => other
            .strip_prefix('L')
            .and_then(|s| s.strip_suffix(';'))
            .unwrap_or(other)
            .into(),
    }
}

impl<'c, 'r> Resolver<'c, 'r> {
    /// A resolver for `cap`: each import and the package itself are looked up by AID.
    pub fn new(cap: &'c Cap<'c>, registry: &'r ExportRegistry) -> Self {
        let imports = cap
            .import
            .packages
            .map(|package| registry.find_by_aid(package.aid))
            .collect();
        let own = registry.find_by_aid(cap.header.package.aid);
        Resolver {
            cap,
            registry,
            imports,
            own,
            class_hints: Vec::new(),
        }
    }

    /// Names the applet classes: `applets` pairs an applet AID with its class name in
    /// internal form (from the JAR manifest); the class is the one declaring the applet's
    /// `install` method.
    pub fn with_applet_names(mut self, applets: &[(Vec<u8>, String)]) -> Self {
        let Some(component) = self.cap.applet else {
            return self;
        };
        for applet in component.applets {
            let Some((_, name)) = applets.iter().find(|(aid, _)| aid == applet.aid) else {
                continue;
            };
            if let Some((class, _)) = self.method_at(applet.install_method_offset) {
                if let ClassRef::Internal(offset) = class.this_class_ref {
                    self.class_hints.push((offset, name.clone()));
                }
            }
        }
        self
    }

    /// The export file found for the import with `token`.
    pub fn import(&self, token: usize) -> Option<&'r ExportEntry> {
        self.imports.get(token).copied().flatten()
    }

    /// The package's own export file, when the export path has one.
    pub fn own(&self) -> Option<&'r ExportEntry> {
        self.own
    }

    /// The exported class with `class_token` of the package imported as `package_token`.
    fn external_class(&self, package_token: u8, class_token: u8) -> Option<&'r ClassModel> {
        let entry = self.import(usize::from(package_token))?;
        entry
            .model()?
            .classes
            .iter()
            .find(|c| c.token == class_token)
    }

    /// The class descriptor whose `this_class_ref` is the internal `offset`.
    fn internal_class(&self, offset: u16) -> Option<ClassDescriptor<'c>> {
        let mut classes = self.cap.descriptor?.classes;
        classes.find(|c| c.this_class_ref == ClassRef::Internal(offset))
    }

    /// The own export file's class with the token of the internal class at `offset`.
    fn own_class(&self, offset: u16) -> Option<&'r ClassModel> {
        let descriptor = self.internal_class(offset)?;
        own_class_by_token(self.own.and_then(ExportEntry::model), descriptor.token)
    }

    /// The name of a class: `javacard/framework/APDU`, or `class@0x0012` for an internal
    /// class without an export name, or `0.3` for an external class with no export file.
    pub fn class_name(&self, class: ClassRef) -> String {
        match class {
            ClassRef::External {
                package_token,
                class_token,
            } => match self.external_class(package_token, class_token) {
                Some(model) => model.name.clone(),
                None => format!("{package_token}.{class_token}"),
            },
            ClassRef::Internal(offset) => match self.own_class(offset) {
                Some(model) => model.name.clone(),
                None => self
                    .class_hints
                    .iter()
                    .find(|(o, _)| *o == offset)
                    .map(|(_, name)| name.clone())
                    .unwrap_or_else(|| format!("class@0x{offset:04X}")),
            },
        }
    }

    /// A type descriptor as a Java descriptor: `(S[B)V` for a method (`is_method`), `S`
    /// for a field.
    pub fn type_text(&self, descriptor: TypeDescriptor<'_>, is_method: bool) -> String {
        let mut types = Vec::new();
        let mut index = 0;
        while let Some(nibble) = descriptor.nibble(index) {
            index += 1;
            let text = match nibble {
                6 | 0xE => {
                    let mut value = 0u16;
                    for _ in 0..4 {
                        value = (value << 4) | u16::from(descriptor.nibble(index).unwrap_or(0));
                        index += 1;
                    }
                    let name = self.class_name(ClassRef::from_u16(value));
                    let array = if nibble == 0xE { "[" } else { "" };
                    format!("{array}L{name};")
                }
                0 if index == usize::from(descriptor.nibble_count) => continue,
                other => primitive(other).unwrap_or("?").to_string(),
            };
            types.push(text);
        }
        if !is_method {
            return types.concat();
        }
        let ret = types.pop().unwrap_or_else(|| "?".into());
        format!("({}){ret}", types.concat())
    }

    /// The Java descriptor of a type at `offset` in the Descriptor's type table.
    fn type_at(&self, offset: u16, is_method: bool) -> Option<String> {
        let descriptor = self.cap.descriptor?.type_descriptor_at(offset)?;
        Some(self.type_text(descriptor, is_method))
    }

    /// The Java descriptor of the member a constant-pool entry refers to.
    fn cp_type(&self, index: usize, is_method: bool) -> Option<String> {
        let offset = self.cap.descriptor?.constant_pool_types.get(index)?;
        if offset == 0xFFFF {
            return None;
        }
        self.type_at(offset, is_method)
    }

    /// The Java descriptor of the field type at `offset` in the Descriptor's type table.
    pub fn field_type_at(&self, offset: u16) -> Option<String> {
        self.type_at(offset, false)
    }

    /// The Java descriptor of a method described in the Descriptor.
    pub fn method_type(&self, method: &MethodDescriptor) -> Option<String> {
        self.type_at(method.type_offset, true)
    }

    /// The name of an internal method: its export name, `<init>` for constructors, or
    /// `method@0x0040` (Method component offset).
    pub fn internal_method_name(
        &self,
        class: &ClassDescriptor<'_>,
        method: &MethodDescriptor,
    ) -> String {
        if method.access_flags & ACC_INIT != 0 {
            return "<init>".into();
        }
        let is_static = method.access_flags & ACC_STATIC != 0;
        let exported = own_class_by_token(self.own.and_then(ExportEntry::model), class.token)
            .filter(|_| method.token != 0xFF)
            .and_then(|model| find_method(model, method.token, is_static))
            .map(|m| m.name.clone());
        if let Some(name) = exported {
            return name;
        }
        if is_static && self.is_install_method(method.method_offset) {
            return "install".into();
        }
        // A public virtual method keeps the token of the method it overrides.
        let public_virtual = !is_static && method.token < 0x80;
        if let (true, ClassRef::Internal(offset)) = (public_virtual, class.this_class_ref) {
            if let Some(name) = self.inherited_method_name(offset, method.token, 0) {
                return name;
            }
        }
        format!("method@0x{:04X}", method.method_offset)
    }

    /// True if an applet's `install` method is at Method component `offset`.
    fn is_install_method(&self, offset: u16) -> bool {
        self.cap.applet.is_some_and(|a| {
            a.applets
                .into_iter()
                .any(|a| a.install_method_offset == offset)
        })
    }

    /// The name of the public virtual method with `token` in a superclass of the internal
    /// class at `offset`, following the superclass chain (at most 32 classes deep).
    fn inherited_method_name(&self, offset: u16, token: u8, depth: usize) -> Option<String> {
        if depth > 32 {
            return None;
        }
        let ClassEntry::Class(info) = self.cap.class.entry_at(offset)? else {
            return None;
        };
        match info.super_class_ref? {
            ClassRef::External {
                package_token,
                class_token,
            } => {
                let model = self.external_class(package_token, class_token)?;
                self.external_method(model, token, false)
                    .map(|m| m.name.clone())
            }
            ClassRef::Internal(super_offset) => {
                let exported = self
                    .own_class(super_offset)
                    .and_then(|model| find_method(model, token, false))
                    .map(|m| m.name.clone());
                exported
                    .or_else(|| {
                        let class = self.internal_class(super_offset)?;
                        let mut methods = class.methods;
                        let declared = methods.find(|m| {
                            m.token == token && m.access_flags & (ACC_STATIC | ACC_INIT) == 0
                        })?;
                        let name = self.internal_method_name(&class, &declared);
                        (!name.starts_with("method@")).then_some(name)
                    })
                    .or_else(|| self.inherited_method_name(super_offset, token, depth + 1))
            }
        }
    }

    /// The class and method descriptors of the method at Method component `offset`.
    pub fn method_at(&self, offset: u16) -> Option<(ClassDescriptor<'c>, MethodDescriptor)> {
        let classes = self.cap.descriptor?.classes;
        classes.filter(|c| !c.is_interface()).find_map(|class| {
            let mut methods = class.methods;
            methods
                .find(|m| m.method_offset == offset)
                .map(|m| (class, m))
        })
    }

    /// The class and field descriptors matching `predicate`.
    fn field_where(
        &self,
        predicate: impl Fn(&FieldDescriptor) -> bool,
    ) -> Option<(ClassDescriptor<'c>, FieldDescriptor)> {
        let classes = self.cap.descriptor?.classes;
        classes.into_iter().find_map(|class| {
            let mut fields = class.fields;
            fields.find(|f| predicate(f)).map(|f| (class, f))
        })
    }

    /// The name of an internal field: its export name, or `field@0x0004` (static image
    /// offset) / `field#3` (instance token).
    fn internal_field_name(&self, class: &ClassDescriptor<'_>, field: &FieldDescriptor) -> String {
        let is_static = field.access_flags & ACC_STATIC != 0;
        let exported = own_class_by_token(self.own.and_then(ExportEntry::model), class.token)
            .filter(|_| field.token != 0xFF)
            .and_then(|model| find_field(model, field.token, is_static));
        match (exported, field.field_ref) {
            (Some(model), _) => model.name.clone(),
            (None, FieldRef::Static(StaticRef::Internal(offset))) => {
                format!("field@0x{offset:04X}")
            }
            (None, _) => format!("field#{}", field.token),
        }
    }

    /// An external method of `class` with `token` or, for virtual methods, of the nearest
    /// superclass that declares the token.
    fn external_method(
        &self,
        class: &'r ClassModel,
        token: u8,
        is_static: bool,
    ) -> Option<&'r MethodModel> {
        let mut current = Some(class);
        let mut supers = class.supers.iter().rev();
        while let Some(model) = current {
            if let Some(found) = find_method(model, token, is_static) {
                return Some(found);
            }
            if is_static {
                return None;
            }
            current = supers
                .next()
                .and_then(|name| class_by_name(self.registry, name));
        }
        None
    }

    /// An external field of `class` with `token`.
    fn external_field(
        &self,
        class: &'r ClassModel,
        token: u8,
        is_static: bool,
    ) -> Option<&'r FieldModel> {
        let registry = self.registry;
        let mut current = Some(class);
        let mut supers = class.supers.iter().rev();
        while let Some(model) = current {
            if let Some(found) = find_field(model, token, is_static) {
                return Some(found);
            }
            current = supers.next().and_then(|name| class_by_name(registry, name));
        }
        None
    }

    /// Resolves constant-pool entry `index`.
    pub fn cp_entry(&self, index: usize, entry: CpEntry) -> ResolvedEntry {
        match entry {
            CpEntry::ClassRef(class) => ResolvedEntry {
                kind: "classRef",
                reference: class_ref_text(class),
                resolved: self.resolved_class(class),
                descriptor: None,
            },
            CpEntry::InstanceFieldRef { class, token } => {
                let descriptor = self.cp_type(index, false);
                let name = match class {
                    ClassRef::External {
                        package_token,
                        class_token,
                    } => self
                        .external_class(package_token, class_token)
                        .and_then(|model| {
                            let field = self.external_field(model, token, false)?;
                            Some((
                                model.name.clone(),
                                field.name.clone(),
                                Some(field.descriptor.clone()),
                            ))
                        }),
                    ClassRef::Internal(_) => self
                        .field_where(|f| f.field_ref == FieldRef::Instance { class, token })
                        .map(|(c, f)| {
                            (
                                self.class_name(class),
                                self.internal_field_name(&c, &f),
                                None,
                            )
                        })
                        .or_else(|| Some((self.class_name(class), format!("field#{token}"), None))),
                };
                self.field_entry(
                    "instanceFieldRef",
                    class_member_text(class, token),
                    name,
                    descriptor,
                )
            }
            CpEntry::StaticFieldRef(target) => {
                let descriptor = self.cp_type(index, false);
                let name = match target {
                    StaticRef::External {
                        package_token,
                        class_token,
                        token,
                    } => self
                        .external_class(package_token, class_token)
                        .and_then(|model| {
                            let field = self.external_field(model, token, true)?;
                            Some((
                                model.name.clone(),
                                field.name.clone(),
                                Some(field.descriptor.clone()),
                            ))
                        }),
                    StaticRef::Internal(_) => self
                        .field_where(|f| f.field_ref == FieldRef::Static(target))
                        .map(|(c, f)| {
                            (
                                self.class_name(c.this_class_ref),
                                self.internal_field_name(&c, &f),
                                None,
                            )
                        }),
                };
                self.field_entry("staticFieldRef", static_ref_text(target), name, descriptor)
            }
            CpEntry::StaticMethodRef(target) => {
                let descriptor = self.cp_type(index, true);
                let resolved = match target {
                    StaticRef::External {
                        package_token,
                        class_token,
                        token,
                    } => self
                        .external_class(package_token, class_token)
                        .and_then(|model| {
                            let method = self.external_method(model, token, true)?;
                            Some(format!(
                                "{}.{}{}",
                                model.name, method.name, method.descriptor
                            ))
                        }),
                    StaticRef::Internal(offset) => self.method_at(offset).map(|(c, m)| {
                        format!(
                            "{}.{}{}",
                            self.class_name(c.this_class_ref),
                            self.internal_method_name(&c, &m),
                            descriptor.as_deref().unwrap_or("")
                        )
                    }),
                };
                ResolvedEntry {
                    kind: "staticMethodRef",
                    reference: static_ref_text(target),
                    resolved,
                    descriptor,
                }
            }
            CpEntry::VirtualMethodRef { class, token }
            | CpEntry::SuperMethodRef { class, token } => {
                let kind = if matches!(entry, CpEntry::VirtualMethodRef { .. }) {
                    "virtualMethodRef"
                } else {
                    "superMethodRef"
                };
                let descriptor = self.cp_type(index, true);
                let resolved = match class {
                    ClassRef::External {
                        package_token,
                        class_token,
                    } => self
                        .external_class(package_token, class_token)
                        .and_then(|model| {
                            let method = self.external_method(model, token, false)?;
                            Some(format!(
                                "{}.{}{}",
                                model.name, method.name, method.descriptor
                            ))
                        }),
                    ClassRef::Internal(offset) => {
                        let name = self
                            .internal_class(offset)
                            .and_then(|c| {
                                let mut methods = c.methods;
                                methods
                                    .find(|m| {
                                        m.token == token
                                            && m.access_flags & (ACC_STATIC | ACC_INIT) == 0
                                    })
                                    .map(|m| self.internal_method_name(&c, &m))
                            })
                            .unwrap_or_else(|| format!("method#{token}"));
                        Some(format!(
                            "{}.{name}{}",
                            self.class_name(class),
                            descriptor.as_deref().unwrap_or("")
                        ))
                    }
                };
                ResolvedEntry {
                    kind,
                    reference: class_member_text(class, token),
                    resolved,
                    descriptor,
                }
            }
        }
    }

    /// A field entry: `short a/b/C.name`.
    fn field_entry(
        &self,
        kind: &'static str,
        reference: String,
        name: Option<(String, String, Option<String>)>,
        descriptor: Option<String>,
    ) -> ResolvedEntry {
        let resolved = name.map(|(class, field, exported_type)| {
            let field_type = exported_type.or_else(|| descriptor.clone());
            match field_type {
                Some(t) => format!("{} {class}.{field}", java_type_name(&t)),
                None => format!("{class}.{field}"),
            }
        });
        ResolvedEntry {
            kind,
            reference,
            resolved,
            descriptor,
        }
    }

    /// The name of a class reference, if any source names it.
    fn resolved_class(&self, class: ClassRef) -> Option<String> {
        match class {
            ClassRef::External {
                package_token,
                class_token,
            } => self
                .external_class(package_token, class_token)
                .map(|m| m.name.clone()),
            ClassRef::Internal(_) => Some(self.class_name(class)),
        }
    }
}

/// The class of `model` (an export file) with `token`.
fn own_class_by_token(model: Option<&ExportFileModel>, token: u8) -> Option<&ClassModel> {
    if token == 0xFF {
        return None;
    }
    model?.classes.iter().find(|c| c.token == token)
}

/// The method of `class` with `token` in the static (static methods and constructors) or
/// virtual token space.
fn find_method(class: &ClassModel, token: u8, is_static: bool) -> Option<&MethodModel> {
    class.methods.iter().find(|m| {
        let static_space = m.access_flags & EXP_ACC_STATIC != 0 || m.name == "<init>";
        m.token == token && static_space == is_static
    })
}

/// The field of `class` with `token` (static or instance).
fn find_field(class: &ClassModel, token: u8, is_static: bool) -> Option<&FieldModel> {
    class
        .fields
        .iter()
        .find(|f| f.token == token && (f.access_flags & EXP_ACC_STATIC != 0) == is_static)
}

/// The class `name` (internal form) from the export file of its package.
fn class_by_name<'r>(registry: &'r ExportRegistry, name: &str) -> Option<&'r ClassModel> {
    let (package, _) = name.rsplit_once('/')?;
    registry
        .find_by_name(package)?
        .model()?
        .classes
        .iter()
        .find(|c| c.name == name)
}

/// `0.3` for an external class, `0x0012` for an internal one.
pub fn class_ref_text(class: ClassRef) -> String {
    match class {
        ClassRef::External {
            package_token,
            class_token,
        } => format!("{package_token}.{class_token}"),
        ClassRef::Internal(offset) => format!("0x{offset:04X}"),
    }
}

/// `0.3.2` / `0x0012.2`: a class reference and a member token.
fn class_member_text(class: ClassRef, token: u8) -> String {
    format!("{}.{token}", class_ref_text(class))
}

/// `0.16.2` for an external static reference, `0x0012` for an internal offset.
pub fn static_ref_text(target: StaticRef) -> String {
    match target {
        StaticRef::External {
            package_token,
            class_token,
            token,
        } => format!("{package_token}.{class_token}.{token}"),
        StaticRef::Internal(offset) => format!("0x{offset:04X}"),
    }
}
