//! One package from class files to CAP components and an export file: token assignment,
//! linking through export files, the static field image, and every component's model.
//!
//! The steps: read and check the classes; order them (interfaces first, supertypes before
//! subtypes); give classes, methods and fields their tokens (JCVM spec §4.3.7, see
//! cap-format.md §6); translate every method ([`crate::translate`]); number the constant
//! pool (instance-field references first, so field instructions keep 1-byte indices); lay
//! out the Method component; then build Class, StaticField, RefLocation, Export, Import,
//! Applet, Header and Directory, and the package's own export file.

use std::collections::{BTreeMap, HashMap};

use oxicard_api::exports::ExportRegistry;
use oxicard_cap::components::constant_pool::{ClassRef, CpEntry, StaticRef};
use oxicard_cap::components::descriptor::{FieldDescriptor, FieldRef, MethodDescriptor};
use oxicard_cap::components::directory::StaticFieldSizeInfo;
use oxicard_cap::components::method::ExceptionHandler;
use oxicard_cap::export::model::{
    ClassModel, ExportFileModel, FieldModel, MethodModel, PackageModel,
};
use oxicard_cap::export::{FormatVersion, PackageVersion};
use oxicard_cap::model::{
    AppletComponent, AppletInfo, ArrayInit, Cap, ClassComponent, ClassDescriptor, ClassEntry,
    ClassExport, ClassInfo, ConstantPool, Descriptor, Directory, ExportComponent, Header,
    ImplementedInterface, Import, InterfaceInfo, MethodComponent, PackageInfo, RefLocation,
    StaticField,
};
use oxicard_cap::ComponentTag;

use crate::bytecode::{Opcode, Operands};
use crate::classfile::{ClassFile, Constant};
use crate::debug_info::{debug_component, DebugClass, MethodPlacement};
use crate::descriptor::FieldType;
use crate::translate::{
    layout, translate_method, ClassKey, CpKey, FieldTarget, InvokeKind, MemberKey, Resolver, Site,
    Translated,
};
use crate::type_table::{field_nibbles, method_nibbles, primitive_code, TypeTable};
use crate::{ConvertError, ConvertOptions, ConvertOutput};

const ACC_PUBLIC: u16 = 0x0001;
const ACC_PRIVATE: u16 = 0x0002;
const ACC_PROTECTED: u16 = 0x0004;
const ACC_STATIC: u16 = 0x0008;
const ACC_FINAL: u16 = 0x0010;
const ACC_INTERFACE: u16 = 0x0200;
const ACC_ABSTRACT: u16 = 0x0400;

fn fail(msg: impl Into<String>) -> ConvertError {
    ConvertError {
        messages: vec![msg.into()],
    }
}

/// The built-in API export files, parsed once per process (parsing them dominated the time
/// of a conversion).
fn builtin_exports() -> &'static BTreeMap<String, ExportFileModel> {
    static BUILTIN: std::sync::OnceLock<BTreeMap<String, ExportFileModel>> =
        std::sync::OnceLock::new();
    BUILTIN.get_or_init(|| {
        let registry = ExportRegistry::builtin();
        registry
            .entries()
            .filter_map(|entry| Some((entry.name.clone(), entry.model()?.clone())))
            .collect()
    })
}

/// Export files by package name (internal form): the built-in API exports, replaced by any
/// file of the same package on the export path.
fn load_exports(
    paths: &[std::path::PathBuf],
) -> Result<BTreeMap<String, ExportFileModel>, ConvertError> {
    let mut registry = ExportRegistry::default();
    for path in paths {
        registry.add_path(path).map_err(|e| fail(e.to_string()))?;
    }
    if let Some((path, reason)) = registry.skipped.first() {
        return Err(fail(format!(
            "{}: not an export file: {reason}",
            path.display()
        )));
    }
    // `entries()` yields the export path in order: insert in reverse so that the first
    // file of a package wins, over the built-in one too.
    let mut map = builtin_exports().clone();
    for entry in registry.entries().collect::<Vec<_>>().into_iter().rev() {
        let model = entry
            .model()
            .ok_or_else(|| fail(format!("{}: not an export file", entry.source)))?;
        map.insert(entry.name.clone(), model.clone());
    }
    Ok(map)
}

/// Facts about one class of the package being converted.
struct Own {
    cf: ClassFile,
    token: u8,
    /// Public virtual tokens visible in this class (inherited included): (name, desc) → token.
    public_vt: HashMap<(String, String), u8>,
    public_count: u8,
    package_vt: HashMap<(String, String), u8>,
    package_count: u8,
    /// Per method: virtual token (bit 7 for package) or static/constructor token.
    method_token: Vec<Option<u8>>,
    /// Per field: instance token or static token.
    field_token: Vec<Option<u8>>,
    /// Per field: offset in the static field image.
    static_offset: Vec<Option<u16>>,
    instance_size: u8,
    first_ref: u8,
    ref_count: u8,
    /// Interfaces: all superinterfaces (transitive); classes: all implemented interfaces.
    all_interfaces: Vec<String>,
    /// Interfaces: every method with its token (name, descriptor, token), the inherited
    /// superinterface methods first, as the spec numbers them.
    iface_methods: Vec<(String, String, u8)>,
}

fn is_public_or_protected(flags: u16) -> bool {
    flags & (ACC_PUBLIC | ACC_PROTECTED) != 0
}

struct Pkg {
    own: Vec<Own>,
    by_name: HashMap<String, usize>,
    exports: BTreeMap<String, ExportFileModel>,
    imports: Vec<String>,
    name: String,
}

/// Either side of a class lookup.
enum Found<'a> {
    Own(usize),
    Ext(&'a ClassModel),
}

impl Pkg {
    fn find(&self, class: &str) -> Option<Found<'_>> {
        if let Some(&i) = self.by_name.get(class) {
            return Some(Found::Own(i));
        }
        let (pkg, _) = class.rsplit_once('/')?;
        let m = self.exports.get(pkg)?;
        let c = m.classes.iter().find(|c| c.name == class)?;
        Some(Found::Ext(c))
    }

    fn pkg_token(&mut self, name: &str) -> Result<u8, String> {
        if let Some(i) = self.imports.iter().position(|n| n == name) {
            return Ok(i as u8);
        }
        if !self.exports.contains_key(name) {
            return Err(format!(
                "no export file for package {}",
                name.replace('/', ".")
            ));
        }
        self.imports.push(name.to_string());
        Ok((self.imports.len() - 1) as u8)
    }

    fn class_key(&mut self, class: &str) -> Result<ClassKey, String> {
        match self.find(class) {
            Some(Found::Own(i)) => Ok(ClassKey::Internal(i)),
            Some(Found::Ext(c)) => {
                let token = c.token;
                let pkg = class
                    .rsplit_once('/')
                    .map(|p| p.0)
                    .unwrap_or("")
                    .to_string();
                if token == 0xFF {
                    return Err(format!(
                        "class {} is not exported by its package",
                        class.replace('/', ".")
                    ));
                }
                Ok(ClassKey::External(self.pkg_token(&pkg)?, token))
            }
            None => Err(format!(
                "class {} not found (give the export file of its package with --exportpath)",
                class.replace('/', ".")
            )),
        }
    }

    fn super_of(&self, class: &str) -> Option<String> {
        match self.find(class)? {
            Found::Own(i) => self.own[i].cf.super_name().map(str::to_string),
            Found::Ext(c) => c.supers.first().cloned(),
        }
    }

    /// Super-interfaces (transitive) of an interface, or all interfaces of a class.
    fn interfaces_of(&self, class: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let direct: Vec<String> = match self.find(class) {
            Some(Found::Own(i)) => self.own[i].cf.interface_names().to_vec(),
            Some(Found::Ext(c)) => c.interfaces.clone(),
            None => Vec::new(),
        };
        for d in direct {
            if !out.contains(&d) {
                out.push(d.clone());
            }
            for s in self.interfaces_of(&d) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

impl Resolver for Pkg {
    fn class(&mut self, name: &str) -> Result<Option<CpKey>, String> {
        if let Some(elem) = name.strip_prefix("[L") {
            let elem = elem.trim_end_matches(';');
            return Ok(Some(CpKey::Class(self.class_key(elem)?)));
        }
        if name.starts_with('[') {
            return Ok(None);
        }
        Ok(Some(CpKey::Class(self.class_key(name)?)))
    }

    fn field(
        &mut self,
        class: &str,
        name: &str,
        descriptor: &str,
        is_static: bool,
    ) -> Result<FieldTarget, String> {
        let ty = FieldType::parse(descriptor).map_err(|e| e.to_string())?;
        let mut at = Some(class.to_string());
        while let Some(c) = at {
            match self.find(&c) {
                Some(Found::Own(i)) => {
                    if let Some(fi) = self.own[i]
                        .cf
                        .fields
                        .iter()
                        .position(|f| f.name == name && f.descriptor == descriptor)
                    {
                        let key = if is_static {
                            CpKey::StaticField(MemberKey::Internal(i, fi))
                        } else {
                            let t = self.own[i].field_token[fi].ok_or("field without token")?;
                            CpKey::InstanceField(ClassKey::Internal(i), t)
                        };
                        return Ok(FieldTarget { key, ty });
                    }
                }
                Some(Found::Ext(cm)) => {
                    if let Some(f) = cm.fields.iter().find(|f| f.name == name) {
                        let token = f.token;
                        let ck = self.class_key(&c)?;
                        let key = match (is_static, ck) {
                            (true, ClassKey::External(p, ct)) => {
                                CpKey::StaticField(MemberKey::External(p, ct, token))
                            }
                            (_, ck) => CpKey::InstanceField(ck, token),
                        };
                        return Ok(FieldTarget { key, ty });
                    }
                }
                None => return Err(format!("class {} not found", c.replace('/', "."))),
            }
            at = self.super_of(&c);
        }
        Err(format!(
            "field {}.{name} not found",
            class.replace('/', ".")
        ))
    }

    fn method(
        &mut self,
        kind: InvokeKind,
        current: &str,
        class: &str,
        name: &str,
        descriptor: &str,
    ) -> Result<(CpKey, u8), String> {
        let key = (name.to_string(), descriptor.to_string());
        let not_found = || {
            format!(
                "method {}.{name}{descriptor} not found",
                class.replace('/', ".")
            )
        };
        match kind {
            InvokeKind::Interface => {
                let mut candidates = vec![class.to_string()];
                candidates.extend(self.interfaces_of(class));
                for c in candidates {
                    match self.find(&c) {
                        Some(Found::Own(i)) => {
                            if let Some(m) = self.own[i]
                                .iface_methods
                                .iter()
                                .find(|m| m.0 == name && m.1 == descriptor)
                            {
                                return Ok((CpKey::Class(ClassKey::Internal(i)), m.2));
                            }
                        }
                        Some(Found::Ext(cm)) => {
                            if let Some(m) = cm
                                .methods
                                .iter()
                                .find(|m| m.name == name && m.descriptor == descriptor)
                            {
                                let t = m.token;
                                return Ok((CpKey::Class(self.class_key(&c)?), t));
                            }
                        }
                        None => {}
                    }
                }
                Err(not_found())
            }
            InvokeKind::Special if name != "<init>" => {
                // private method of this class, or super call
                if let Some(Found::Own(i)) = self.find(class) {
                    if let Some(mi) = self.own[i]
                        .cf
                        .methods
                        .iter()
                        .position(|m| m.name == name && m.descriptor == descriptor)
                    {
                        if self.own[i].cf.methods[mi].access_flags.0 & ACC_PRIVATE != 0 {
                            return Ok((CpKey::StaticMethod(MemberKey::Internal(i, mi)), 0));
                        }
                    }
                }
                // the super method's virtual token is in the key the virtual lookup returns
                let (virtual_key, _) =
                    self.method(InvokeKind::Virtual, current, class, name, descriptor)?;
                let CpKey::Virtual(_, token) = virtual_key else {
                    return Err(format!(
                        "{}.{name}{descriptor}: super call to a method without a virtual token",
                        class.replace('/', ".")
                    ));
                };
                let cur = self.class_key(current)?;
                Ok((CpKey::Super(cur, token), 0))
            }
            _ => {
                let want_static = kind != InvokeKind::Virtual;
                let mut at = Some(class.to_string());
                while let Some(c) = at {
                    match self.find(&c) {
                        Some(Found::Own(i)) => {
                            let own = &self.own[i];
                            if let Some(mi) = own
                                .cf
                                .methods
                                .iter()
                                .position(|m| m.name == name && m.descriptor == descriptor)
                            {
                                if want_static {
                                    return Ok((
                                        CpKey::StaticMethod(MemberKey::Internal(i, mi)),
                                        0,
                                    ));
                                }
                                if let Some(t) = own.method_token[mi] {
                                    return Ok((CpKey::Virtual(ClassKey::Internal(i), t), 0));
                                }
                            }
                            if !want_static {
                                if let Some(&t) = own.public_vt.get(&key) {
                                    // inherited from an external class: keep walking to it
                                    let _ = t;
                                }
                            }
                        }
                        Some(Found::Ext(cm)) => {
                            if let Some(m) = cm
                                .methods
                                .iter()
                                .find(|m| m.name == name && m.descriptor == descriptor)
                            {
                                let t = m.token;
                                let ck = self.class_key(&c)?;
                                return Ok(match (want_static, ck) {
                                    (true, ClassKey::External(p, ct)) => {
                                        (CpKey::StaticMethod(MemberKey::External(p, ct, t)), 0)
                                    }
                                    (_, ck) => (CpKey::Virtual(ck, t), 0),
                                });
                            }
                        }
                        None => return Err(not_found()),
                    }
                    if name == "<init>" {
                        break;
                    }
                    at = self.super_of(&c);
                }
                Err(not_found())
            }
        }
    }
}

/// Reads the package's class files (sorted by file name).
fn read_classes(opts: &ConvertOptions) -> Result<Vec<ClassFile>, ConvertError> {
    let internal = opts.package_name.replace('.', "/");
    let dir = opts.classdir.join(&internal);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| fail(format!("{}: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "class"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in names {
        match ClassFile::read(&p) {
            Ok(cf) => {
                for d in crate::subset::check_class(
                    &cf,
                    &crate::subset::Options {
                        int_support: opts.int_support,
                    },
                ) {
                    errors.push(d.to_string());
                }
                out.push(cf);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(ConvertError { messages: errors });
    }
    if out.is_empty() {
        return Err(fail(format!("no class files in {}", dir.display())));
    }
    Ok(out)
}

/// Interfaces first, then classes; within each, by the number of this package's types
/// above them (so supertypes come before subtypes), then by name.
fn order_classes(mut classes: Vec<ClassFile>) -> Vec<ClassFile> {
    let names: Vec<String> = classes.iter().map(|c| c.class_name().to_string()).collect();
    let direct: HashMap<String, Vec<String>> = classes
        .iter()
        .map(|c| {
            let deps = c
                .super_name()
                .into_iter()
                .map(str::to_string)
                .chain(c.interface_names().iter().cloned())
                .filter(|d| names.contains(d))
                .collect();
            (c.class_name().to_string(), deps)
        })
        .collect();
    fn above(name: &str, direct: &HashMap<String, Vec<String>>, seen: &mut Vec<String>) {
        for d in direct.get(name).into_iter().flatten() {
            if !seen.contains(d) {
                seen.push(d.clone());
                above(d, direct, seen);
            }
        }
    }
    let depth = |name: &str| {
        let mut seen = Vec::new();
        above(name, &direct, &mut seen);
        seen.len()
    };
    classes.sort_by_cached_key(|c| {
        (
            !c.is_interface(),
            depth(c.class_name()),
            c.class_name().to_string(),
        )
    });
    classes
}

/// Initial value of a static field, from `<clinit>`.
#[derive(Clone, Debug)]
enum Init {
    Value(i32),
    Array(u8, Vec<i32>),
}

fn clinit_values(cf: &ClassFile, errors: &mut Vec<String>) -> HashMap<String, Init> {
    let mut out = HashMap::new();
    let Some(m) = cf.method("<clinit>", "()V") else {
        return out;
    };
    let Some(code) = m.code() else { return out };
    let Ok(insns) = code.instructions() else {
        return out;
    };
    let file = cf.source_file().unwrap_or(cf.simple_name()).to_string();
    let refuse = |pc: u32, what: &str| {
        let line = code
            .line_at(pc)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        format!(
            "{file}{line}: static initializer of {}: {what}; only constant values and primitive array literals can become the static field image",
            cf.class_name().replace('/', ".")
        )
    };
    let konst = |i: &crate::bytecode::JvmInstruction| -> Option<i32> {
        if let Some(v) = i.opcode.int_constant() {
            return Some(v);
        }
        match (&i.operands, i.opcode) {
            (Operands::Immediate(v), _) => Some(i32::from(*v)),
            (_, Opcode::Ldc | Opcode::LdcW) => match cf
                .constant_pool
                .loadable(i.constant_pool_index().unwrap_or(0))
            {
                Ok(crate::classfile::Loadable::Int(v)) => Some(v),
                _ => None,
            },
            _ => None,
        }
    };
    let mut k = 0;
    while k < insns.len() {
        let i = &insns[k];
        if i.opcode == Opcode::Return {
            break;
        }
        if let Some(v) = konst(i) {
            // const; putstatic   or   const; newarray T; (dup; const; const; xastore)*; putstatic
            if let Some(n) = insns.get(k + 1) {
                if n.opcode == Opcode::Putstatic {
                    if let Ok(r) = cf
                        .constant_pool
                        .field_ref(n.constant_pool_index().unwrap_or(0))
                    {
                        out.insert(r.name.to_string(), Init::Value(v));
                    }
                    k += 2;
                    continue;
                }
                if let (Opcode::Newarray, Operands::NewArray(t)) = (n.opcode, &n.operands) {
                    let et = match t {
                        crate::bytecode::ArrayType::Boolean => 2,
                        crate::bytecode::ArrayType::Byte => 3,
                        crate::bytecode::ArrayType::Short => 4,
                        _ => 5,
                    };
                    let mut vals = vec![0i32; usize::try_from(v).unwrap_or(0)];
                    let mut j = k + 2;
                    while let Some(d) = insns.get(j) {
                        if d.opcode != Opcode::Dup {
                            break;
                        }
                        let (Some(ix), Some(val)) = (
                            insns.get(j + 1).and_then(konst),
                            insns.get(j + 2).and_then(konst),
                        ) else {
                            break;
                        };
                        if let Some(slot) = vals.get_mut(usize::try_from(ix).unwrap_or(usize::MAX))
                        {
                            *slot = val;
                        }
                        j += 4;
                    }
                    if let Some(p) = insns.get(j) {
                        if p.opcode == Opcode::Putstatic {
                            if let Ok(r) = cf
                                .constant_pool
                                .field_ref(p.constant_pool_index().unwrap_or(0))
                            {
                                out.insert(r.name.to_string(), Init::Array(et, vals));
                            }
                            k = j + 1;
                            continue;
                        }
                    }
                }
            }
        }
        if i.opcode == Opcode::AconstNull {
            if let Some(n) = insns.get(k + 1) {
                if n.opcode == Opcode::Putstatic {
                    k += 2;
                    continue;
                }
            }
        }
        errors.push(refuse(
            i.offset,
            &format!("`{}` is not allowed", i.opcode.mnemonic()),
        ));
        break;
    }
    out
}

fn is_constant_field(cf: &ClassFile, fi: usize) -> bool {
    let f = &cf.fields[fi];
    f.is_static()
        && f.access_flags.0 & ACC_FINAL != 0
        && f.constant_value().is_some()
        && !matches!(
            f.field_type(),
            Ok(FieldType::Object(_) | FieldType::Array(_))
        )
}

fn constant_value(cf: &ClassFile, fi: usize) -> Option<i32> {
    let idx = cf.fields[fi].constant_value()?;
    match cf.constant_pool.get(idx) {
        Ok(Constant::Integer(v)) => Some(*v),
        _ => None,
    }
}

fn field_size(t: &FieldType) -> u16 {
    match t {
        FieldType::Byte | FieldType::Boolean => 1,
        FieldType::Int => 4,
        _ => 2,
    }
}

fn is_ref(t: &FieldType) -> bool {
    matches!(t, FieldType::Object(_) | FieldType::Array(_))
}

/// A laid-out method: class index, method index, header + bytecode, absolute offsets of
/// its 1-byte and 2-byte CP indices.
type Body = (usize, usize, Vec<u8>, Vec<u32>, Vec<u32>);

/// The conversion.
pub fn convert(opts: &ConvertOptions) -> Result<ConvertOutput, ConvertError> {
    let classes = order_classes(read_classes(opts)?);
    let exports = load_exports(&opts.export_paths)?;
    let internal_name = opts.package_name.replace('.', "/");
    let mut pkg = Pkg {
        own: Vec::new(),
        by_name: HashMap::new(),
        exports,
        imports: Vec::new(),
        name: internal_name.clone(),
    };
    pkg.exports.remove(&internal_name);
    let mut errors: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();

    // Class tokens: public classes in class order.
    let mut next_class_token = 0u8;
    for cf in classes {
        let public = cf.access_flags.0 & ACC_PUBLIC != 0;
        let token = if public {
            next_class_token += 1;
            next_class_token - 1
        } else {
            0xFF
        };
        pkg.by_name
            .insert(cf.class_name().to_string(), pkg.own.len());
        let n_m = cf.methods.len();
        let n_f = cf.fields.len();
        pkg.own.push(Own {
            cf,
            token,
            public_vt: HashMap::new(),
            public_count: 0,
            package_vt: HashMap::new(),
            package_count: 0,
            method_token: vec![None; n_m],
            field_token: vec![None; n_f],
            static_offset: vec![None; n_f],
            instance_size: 0,
            first_ref: 0xFF,
            ref_count: 0,
            all_interfaces: Vec::new(),
            iface_methods: Vec::new(),
        });
    }
    // Imports: packages of supertypes first, in class order.
    for i in 0..pkg.own.len() {
        let supers: Vec<String> = pkg.own[i]
            .cf
            .super_name()
            .into_iter()
            .map(str::to_string)
            .chain(pkg.own[i].cf.interface_names().iter().cloned())
            .collect();
        for s in supers {
            if let Err(e) = pkg.class_key(&s) {
                errors.push(format!(
                    "{}: {e}",
                    pkg.own[i].cf.class_name().replace('/', ".")
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ConvertError { messages: errors });
    }

    // Tokens.
    for i in 0..pkg.own.len() {
        let all_ifaces = pkg.interfaces_of(pkg.own[i].cf.class_name());
        let sup = pkg.own[i].cf.super_name().map(str::to_string);
        let (mut pvt, mut pcount, mut kvt, mut kcount) = (HashMap::new(), 0u8, HashMap::new(), 0u8);
        if !pkg.own[i].cf.is_interface() {
            match sup.as_deref().and_then(|s| pkg.find(s)) {
                Some(Found::Own(s)) => {
                    pvt = pkg.own[s].public_vt.clone();
                    pcount = pkg.own[s].public_count;
                    kvt = pkg.own[s].package_vt.clone();
                    kcount = pkg.own[s].package_count;
                }
                Some(Found::Ext(cm)) => {
                    for m in &cm.methods {
                        if m.access_flags & ACC_STATIC == 0 && m.name != "<init>" {
                            pvt.insert((m.name.clone(), m.descriptor.clone()), m.token);
                            pcount = pcount.max(m.token + 1);
                        }
                    }
                }
                None => {}
            }
        }
        // an interface numbers its superinterfaces' methods first
        let mut iface_methods: Vec<(String, String, u8)> = Vec::new();
        if pkg.own[i].cf.is_interface() {
            for sup in &all_ifaces {
                let mut inherited: Vec<(String, String, u8)> = match pkg.find(sup) {
                    Some(Found::Own(s)) => pkg.own[s].iface_methods.clone(),
                    Some(Found::Ext(cm)) => cm
                        .methods
                        .iter()
                        .map(|m| (m.name.clone(), m.descriptor.clone(), m.token))
                        .collect(),
                    None => Vec::new(),
                };
                inherited.sort_by_key(|m| m.2);
                for (name, desc, _) in inherited {
                    if !iface_methods.iter().any(|m| m.0 == name && m.1 == desc) {
                        let token = iface_methods.len() as u8;
                        iface_methods.push((name, desc, token));
                    }
                }
            }
        }
        let own = &mut pkg.own[i];
        own.all_interfaces = all_ifaces;
        let mut next_static = 0u8;
        let mut method_order: Vec<usize> = (0..own.cf.methods.len()).collect();
        method_order.sort_by_key(|&mi| own.cf.methods[mi].access_flags.0 & ACC_PUBLIC == 0);
        for mi in method_order {
            let m = &own.cf.methods[mi];
            let flags = m.access_flags.0;
            let key = (m.name.clone(), m.descriptor.clone());
            if m.name == "<clinit>" {
                continue;
            }
            if own.cf.is_interface() {
                let token = match iface_methods.iter().find(|m| m.0 == key.0 && m.1 == key.1) {
                    Some(m) => m.2,
                    None => {
                        let token = iface_methods.len() as u8;
                        iface_methods.push((key.0.clone(), key.1.clone(), token));
                        token
                    }
                };
                own.method_token[mi] = Some(token);
            } else if flags & ACC_STATIC != 0 || m.name == "<init>" {
                if is_public_or_protected(flags) {
                    own.method_token[mi] = Some(next_static);
                    next_static += 1;
                }
            } else if flags & ACC_PRIVATE != 0 {
            } else if is_public_or_protected(flags) {
                let t = *pvt.entry(key).or_insert_with(|| {
                    pcount += 1;
                    pcount - 1
                });
                own.method_token[mi] = Some(t);
            } else {
                let t = *kvt.entry(key).or_insert_with(|| {
                    kcount += 1;
                    0x80 | (kcount - 1)
                });
                own.method_token[mi] = Some(t);
            }
        }
        own.iface_methods = iface_methods;
        own.public_vt = pvt;
        own.public_count = pcount;
        own.package_vt = kvt;
        own.package_count = kcount;
        // instance fields: public/protected prims, public/protected refs, other refs, other prims
        let mut groups: [Vec<usize>; 4] = Default::default();
        let mut next_static_field = 0u8;
        for (fi, f) in own.cf.fields.iter().enumerate() {
            let Ok(t) = f.field_type() else { continue };
            let pp = is_public_or_protected(f.access_flags.0);
            if f.is_static() {
                if pp && !is_constant_field(&own.cf, fi) {
                    own.field_token[fi] = Some(next_static_field);
                    next_static_field += 1;
                }
                continue;
            }
            let g = match (pp, is_ref(&t)) {
                (true, false) => 0,
                (true, true) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            groups[g].push(fi);
        }
        let mut tok = 0u16;
        for (g, list) in groups.iter().enumerate() {
            for &fi in list {
                if (g == 1 || g == 2) && own.first_ref == 0xFF {
                    own.first_ref = tok as u8;
                }
                if g == 1 || g == 2 {
                    own.ref_count += 1;
                }
                own.field_token[fi] = Some(tok as u8);
                let int = matches!(own.cf.fields[fi].field_type(), Ok(FieldType::Int));
                tok += if int { 2 } else { 1 };
            }
        }
        own.instance_size = tok as u8;
    }

    // Static field image.
    let mut inits: Vec<HashMap<String, Init>> = Vec::new();
    for own in &pkg.own {
        inits.push(clinit_values(&own.cf, &mut errors));
    }
    let mut segs: [Vec<(usize, usize)>; 4] = Default::default();
    for (ci, own) in pkg.own.iter().enumerate() {
        for (fi, f) in own.cf.fields.iter().enumerate() {
            if !f.is_static() || is_constant_field(&own.cf, fi) {
                continue;
            }
            let Ok(t) = f.field_type() else { continue };
            let init = inits[ci].get(&f.name);
            let seg = match (is_ref(&t), init) {
                (true, Some(Init::Array(..))) => 0,
                (true, _) => 1,
                (false, Some(Init::Value(v))) if *v != 0 => 3,
                (false, _) => 2,
            };
            segs[seg].push((ci, fi));
        }
    }
    let mut image_off = 0u16;
    let mut array_init = Vec::new();
    let mut non_default = Vec::new();
    let mut default_size = 0u16;
    for (s, list) in segs.iter().enumerate() {
        for &(ci, fi) in list {
            let t = pkg.own[ci].cf.fields[fi]
                .field_type()
                .unwrap_or(FieldType::Short);
            pkg.own[ci].static_offset[fi] = Some(image_off);
            let size = if is_ref(&t) { 2 } else { field_size(&t) };
            image_off += size;
            let name = pkg.own[ci].cf.fields[fi].name.clone();
            match (s, inits[ci].get(&name)) {
                (0, Some(Init::Array(et, vals))) => {
                    let mut bytes = Vec::new();
                    for v in vals {
                        match et {
                            2 | 3 => bytes.push(*v as u8),
                            4 => bytes.extend((*v as i16).to_be_bytes()),
                            _ => bytes.extend(v.to_be_bytes()),
                        }
                    }
                    array_init.push(ArrayInit {
                        element_type: *et,
                        values: bytes,
                    });
                }
                (3, Some(Init::Value(v))) => match size {
                    1 => non_default.push(*v as u8),
                    2 => non_default.extend((*v as i16).to_be_bytes()),
                    _ => non_default.extend(v.to_be_bytes()),
                },
                (2, _) => default_size += size,
                _ => {}
            }
        }
    }
    let ref_count = (segs[0].len() + segs[1].len()) as u16;
    if !array_init.is_empty() && opts.applets.is_empty() {
        errors.push("static array initialization in a library package is not allowed".into());
    }

    // Translate.
    let mut translated: Vec<Vec<Option<Translated>>> = Vec::new();
    for ci in 0..pkg.own.len() {
        let mut per = Vec::new();
        let cf = pkg.own[ci].cf.clone();
        for m in &cf.methods {
            if m.name == "<clinit>" || cf.is_interface() {
                per.push(None);
                continue;
            }
            match m.code() {
                Some(code) => {
                    let site = Site {
                        class: &cf,
                        method: m,
                    };
                    match translate_method(&site, code, opts.int_support, &mut pkg) {
                        Ok(t) => per.push(Some(t)),
                        Err(e) => {
                            errors.push(e);
                            per.push(None);
                        }
                    }
                }
                None => per.push(None),
            }
        }
        translated.push(per);
    }
    if !errors.is_empty() {
        return Err(ConvertError { messages: errors });
    }
    // java.lang is always imported (Oracle's converter does the same).
    let _ = pkg.pkg_token("java/lang");

    // Exception catch types need Classrefs too.
    let mut handler_keys: Vec<Vec<Vec<Option<CpKey>>>> = Vec::new();
    for ci in 0..pkg.own.len() {
        let cf = pkg.own[ci].cf.clone();
        let mut per = Vec::new();
        for m in &cf.methods {
            let mut hs = Vec::new();
            if let Some(code) = m.code() {
                for h in &code.exception_table {
                    if h.catch_type == 0 {
                        hs.push(None);
                    } else {
                        let name = cf
                            .constant_pool
                            .class_name(h.catch_type)
                            .unwrap_or("java/lang/Throwable")
                            .to_string();
                        match pkg.class_key(&name) {
                            Ok(k) => hs.push(Some(CpKey::Class(k))),
                            Err(e) => {
                                errors.push(e);
                                hs.push(None)
                            }
                        }
                    }
                }
            }
            per.push(hs);
        }
        handler_keys.push(per);
    }
    if !errors.is_empty() {
        return Err(ConvertError { messages: errors });
    }

    // Constant pool order: instance fields first, then first use.
    let mut cp_order: Vec<CpKey> = Vec::new();
    let mut cp_index: HashMap<CpKey, u16> = HashMap::new();
    let add = |k: CpKey, order: &mut Vec<CpKey>, index: &mut HashMap<CpKey, u16>| {
        if let std::collections::hash_map::Entry::Vacant(e) = index.entry(k) {
            e.insert(order.len() as u16);
            order.push(k);
        }
    };
    for pass in 0..2 {
        for (ci, per) in translated.iter().enumerate() {
            for (mi, t) in per.iter().enumerate() {
                if let Some(t) = t {
                    for (_, it) in &t.items {
                        let k = match it {
                            crate::translate::Item::Cp { key, .. } => Some(*key),
                            crate::translate::Item::Field { key, .. } => Some(*key),
                            _ => None,
                        };
                        if let Some(k) = k {
                            let is_field = matches!(k, CpKey::InstanceField(..));
                            if (pass == 0) == is_field {
                                add(k, &mut cp_order, &mut cp_index);
                            }
                        }
                    }
                }
                if pass == 1 {
                    for k in handler_keys[ci][mi].iter().flatten() {
                        add(*k, &mut cp_order, &mut cp_index);
                    }
                }
            }
        }
    }

    // Method component layout.
    let lookup = |k: &CpKey| cp_index.get(k).copied().unwrap_or(0);
    let mut handlers: Vec<ExceptionHandler> = Vec::new();
    let mut bodies: Vec<Body> = Vec::new();
    let mut handler_total = 0usize;
    for per in &pkg.own {
        for m in &per.cf.methods {
            if let Some(c) = m.code() {
                handler_total += c.exception_table.len();
            }
        }
    }
    let mut offset: u32 = 1 + 8 * handler_total as u32;
    let mut method_offset: HashMap<(usize, usize), u16> = HashMap::new();
    // (bytecode bytes, handler count, first handler index) per method, for the Descriptor
    let mut method_code: HashMap<(usize, usize), (u16, u16, u16)> = HashMap::new();
    let mut catch_refs: Vec<u32> = Vec::new();
    // where each method went, for the Debug component
    let mut placements: HashMap<(usize, usize), MethodPlacement> = HashMap::new();
    // some method uses an instruction or array type of the int subset
    let mut code_uses_int = false;
    for ci in 0..pkg.own.len() {
        if pkg.own[ci].cf.is_interface() {
            continue;
        }
        for mi in 0..pkg.own[ci].cf.methods.len() {
            let m = &pkg.own[ci].cf.methods[mi];
            if m.name == "<clinit>" {
                continue;
            }
            let mut body = Vec::new();
            let (mut b1, mut b2) = (Vec::new(), Vec::new());
            method_offset.insert((ci, mi), offset as u16);
            let translated_method = translated
                .get(ci)
                .and_then(|methods| methods.get(mi))
                .ok_or_else(|| fail(format!("{}: method {} lost", pkg.name, m.name)))?;
            match translated_method {
                None => {
                    // abstract
                    body.extend([0x40, 0]);
                    let nargs =
                        1 + m.method_descriptor().map(|d| d.params.len()).unwrap_or(0) as u8;
                    body[1] = nargs << 4;
                    // the Debug component gives abstract methods location, header and
                    // body size 0 (JCVM spec §6.14.1.2): the default placement
                }
                Some(t) => {
                    let laid = layout(t, &lookup).map_err(fail)?;
                    let ext = t.max_stack > 15 || t.nargs > 15 || t.max_locals > 15;
                    let header_len: u32 = if ext {
                        body.extend([0x80, t.max_stack as u8, t.nargs as u8, t.max_locals as u8]);
                        4
                    } else {
                        body.extend([t.max_stack as u8, ((t.nargs << 4) | t.max_locals) as u8]);
                        2
                    };
                    let code_start = offset + header_len;
                    code_uses_int |= uses_int(&laid.code);
                    if opts.debug {
                        placements.insert(
                            (ci, mi),
                            MethodPlacement {
                                location: offset as u16,
                                header_size: header_len as u8,
                                body_size: laid.code.len() as u16,
                                pc_map: laid.pc_map.clone(),
                                local_slots: t.local_slots.clone(),
                            },
                        );
                    }
                    b1 = laid.byte_refs.iter().map(|o| o + code_start).collect();
                    b2 = laid.byte2_refs.iter().map(|o| o + code_start).collect();
                    body.extend_from_slice(&laid.code);
                    let code = m.code().ok_or_else(|| fail("code vanished"))?;
                    let hs_start = handlers.len();
                    let site = Site {
                        class: &pkg.own[ci].cf,
                        method: m,
                    };
                    let keys = handler_keys
                        .get(ci)
                        .and_then(|c| c.get(mi))
                        .ok_or_else(|| fail(site.error(None, "exception handlers lost")))?;
                    for (hi, h) in code.exception_table.iter().enumerate() {
                        // JCVM offsets of the handler's pcs: each must start an instruction
                        // (end_pc may be the end of the code), in the u16 range of the format
                        let at = |pc: u16, what: &str| -> Result<u16, ConvertError> {
                            let offset = laid.pc_map.get(&u32::from(pc)).ok_or_else(|| {
                                fail(site.error(
                                    Some(u32::from(h.handler_pc)),
                                    &format!(
                                        "exception handler {hi}: {what} {pc} is not the start \
                                         of an instruction"
                                    ),
                                ))
                            })?;
                            u16::try_from(offset + code_start).map_err(|_| {
                                fail(site.error(None, "the Method component exceeds 65535 bytes"))
                            })
                        };
                        let s = at(h.start_pc, "start_pc")?;
                        let e = at(h.end_pc, "end_pc")?;
                        let hp = at(h.handler_pc, "handler_pc")?;
                        let active_length =
                            e.checked_sub(s).filter(|&l| l > 0).ok_or_else(|| {
                                fail(site.error(
                                    Some(u32::from(h.handler_pc)),
                                    &format!(
                                    "exception handler {hi}: end_pc {} is not after start_pc {}",
                                    h.end_pc, h.start_pc
                                ),
                                ))
                            })?;
                        let key = keys.get(hi).copied().flatten();
                        let catch = key.map(|k| lookup(&k)).unwrap_or(0);
                        if catch != 0 || key.is_some() {
                            catch_refs.push(1 + 8 * handlers.len() as u32 + 6);
                        }
                        handlers.push(ExceptionHandler {
                            start_offset: s,
                            stop_bit: false,
                            active_length,
                            handler_offset: hp,
                            catch_type_index: catch,
                        });
                    }
                    let n = handlers.len();
                    method_code.insert(
                        (ci, mi),
                        (
                            laid.code.len() as u16,
                            (n - hs_start) as u16,
                            if n > hs_start { hs_start as u16 } else { 0 },
                        ),
                    );
                    for a in hs_start..n {
                        let (sa, ea) = (
                            handlers[a].start_offset,
                            handlers[a]
                                .start_offset
                                .saturating_add(handlers[a].active_length),
                        );
                        let enclosed = (a + 1..n).any(|b| {
                            let (sb, eb) = (
                                handlers[b].start_offset,
                                handlers[b]
                                    .start_offset
                                    .saturating_add(handlers[b].active_length),
                            );
                            sb <= sa && ea <= eb
                        });
                        handlers[a].stop_bit = !enclosed;
                    }
                }
            }
            offset += body.len() as u32;
            bodies.push((ci, mi, body, b1, b2));
        }
    }
    if offset > 0xFFFF {
        return Err(fail("the Method component is larger than 64 KB"));
    }
    let mut method_area = Vec::new();
    let mut byte_refs = Vec::new();
    let mut byte2_refs = catch_refs.clone();
    for (_, _, body, b1, b2) in &bodies {
        method_area.extend_from_slice(body);
        byte_refs.extend(b1);
        byte2_refs.extend(b2);
    }
    byte_refs.sort_unstable();
    byte2_refs.sort_unstable();
    let method_component = MethodComponent {
        handlers: handlers.clone(),
        method_area,
    };

    // Class component (twice: offsets of entries are needed by class refs).
    let build_class = |class_offsets: &[u16]| -> ClassComponent {
        let cref = |k: ClassKey| -> ClassRef {
            match k {
                ClassKey::Internal(i) => {
                    ClassRef::Internal(class_offsets.get(i).copied().unwrap_or(0))
                }
                ClassKey::External(p, c) => ClassRef::External {
                    package_token: p,
                    class_token: c,
                },
            }
        };
        let mut entries = Vec::new();
        for (ci, own) in pkg.own.iter().enumerate() {
            let _ = ci;
            let iface_refs: Vec<ClassRef> = own
                .all_interfaces
                .iter()
                .filter_map(|n| pkg_class_key_ro(&pkg, n).map(cref))
                .collect();
            let shareable = own
                .all_interfaces
                .iter()
                .any(|n| n == "javacard/framework/Shareable")
                || own.cf.class_name() == "javacard/framework/Shareable";
            if own.cf.is_interface() {
                entries.push(ClassEntry::Interface(InterfaceInfo {
                    flags: if shareable { 0x8 | 0x4 } else { 0x8 },
                    superinterfaces: iface_refs,
                    interface_name: None,
                }));
                continue;
            }
            // public table
            let mut defined: BTreeMap<u8, u16> = BTreeMap::new();
            let mut defined_pkg: BTreeMap<u8, u16> = BTreeMap::new();
            for (mi, m) in own.cf.methods.iter().enumerate() {
                if m.access_flags.0 & ACC_STATIC != 0 || m.name == "<init>" {
                    continue;
                }
                if let Some(t) = own.method_token[mi] {
                    let off = method_offset.get(&(ci, mi)).copied().unwrap_or(0xFFFF);
                    if t & 0x80 != 0 {
                        defined_pkg.insert(t & 0x7F, off);
                    } else {
                        defined.insert(t, off);
                    }
                }
            }
            // a token inherited from a class of this package: that method's offset
            let inherited = |token: u8| -> u16 {
                let mut at = own.cf.super_name().map(str::to_string);
                while let Some(Found::Own(s)) = at.as_deref().and_then(|n| pkg.find(n)) {
                    let sup = &pkg.own[s];
                    for (mi, m) in sup.cf.methods.iter().enumerate() {
                        if !m.is_static()
                            && m.name != "<init>"
                            && sup.method_token[mi] == Some(token)
                        {
                            return method_offset.get(&(s, mi)).copied().unwrap_or(0xFFFF);
                        }
                    }
                    at = sup.cf.super_name().map(str::to_string);
                }
                0xFFFF
            };
            let table = |d: &BTreeMap<u8, u16>, count: u8, high: u8| -> (u8, Vec<u16>) {
                match (d.keys().next(), d.keys().last()) {
                    (Some(&lo), Some(&hi)) => (
                        lo,
                        (lo..=hi)
                            .map(|t| d.get(&t).copied().unwrap_or_else(|| inherited(t | high)))
                            .collect(),
                    ),
                    _ => (count, Vec::new()),
                }
            };
            let (pbase, ptable) = table(&defined, own.public_count, 0);
            let (kbase, ktable) = table(&defined_pkg, own.package_count, 0x80);
            let super_ref = own
                .cf
                .super_name()
                .and_then(|s| pkg_class_key_ro(&pkg, s))
                .map(cref);
            let mut interfaces = Vec::new();
            for n in &own.all_interfaces {
                let Some(k) = pkg_class_key_ro(&pkg, n) else {
                    continue;
                };
                let methods: Vec<(String, String, u8)> = match pkg.find(n) {
                    Some(Found::Own(i)) => pkg.own[i].iface_methods.clone(),
                    Some(Found::Ext(cm)) => cm
                        .methods
                        .iter()
                        .map(|m| (m.name.clone(), m.descriptor.clone(), m.token))
                        .collect(),
                    None => Vec::new(),
                };
                let count = methods.iter().map(|m| m.2 + 1).max().unwrap_or(0);
                let mut index = vec![0u8; usize::from(count)];
                for (name, desc, t) in methods {
                    index[usize::from(t)] =
                        own.public_vt.get(&(name, desc)).copied().unwrap_or(0xFF);
                }
                interfaces.push(ImplementedInterface {
                    interface: cref(k),
                    index,
                });
            }
            entries.push(ClassEntry::Class(ClassInfo {
                flags: if shareable { 0x4 } else { 0 },
                super_class_ref: super_ref,
                declared_instance_size: own.instance_size,
                first_reference_token: own.first_ref,
                reference_count: own.ref_count,
                public_method_table_base: pbase,
                package_method_table_base: kbase,
                public_virtual_method_table: ptable,
                package_virtual_method_table: ktable,
                interfaces,
                remote_interface: None,
                token_mapping: None,
            }));
        }
        ClassComponent {
            // CAP 2.2 (with the Debug component) starts the Class component with the
            // signature pool of remote methods: empty, we have none
            signature_pool: opts.debug.then(Vec::new),
            entries,
        }
    };
    let draft = build_class(&vec![0u16; pkg.own.len()]);
    let class_offsets = draft
        .entry_offsets()
        .map_err(|e| fail(format!("Class component: {e:?}")))?;
    let class_component = build_class(&class_offsets);
    let cref = |k: ClassKey| -> ClassRef {
        match k {
            ClassKey::Internal(i) => ClassRef::Internal(class_offsets.get(i).copied().unwrap_or(0)),
            ClassKey::External(p, c) => ClassRef::External {
                package_token: p,
                class_token: c,
            },
        }
    };
    let sref = |k: MemberKey, field: bool| -> StaticRef {
        match k {
            MemberKey::Internal(ci, mi) => StaticRef::Internal(if field {
                pkg.own[ci].static_offset[mi].unwrap_or(0)
            } else {
                method_offset.get(&(ci, mi)).copied().unwrap_or(0)
            }),
            MemberKey::External(p, c, t) => StaticRef::External {
                package_token: p,
                class_token: c,
                token: t,
            },
        }
    };
    let entries: Vec<CpEntry> = cp_order
        .iter()
        .map(|k| match *k {
            CpKey::Class(c) => CpEntry::ClassRef(cref(c)),
            CpKey::InstanceField(c, t) => CpEntry::InstanceFieldRef {
                class: cref(c),
                token: t,
            },
            CpKey::Virtual(c, t) => CpEntry::VirtualMethodRef {
                class: cref(c),
                token: t,
            },
            CpKey::Super(c, t) => CpEntry::SuperMethodRef {
                class: cref(c),
                token: t,
            },
            CpKey::StaticField(m) => CpEntry::StaticFieldRef(sref(m, true)),
            CpKey::StaticMethod(m) => CpEntry::StaticMethodRef(sref(m, false)),
        })
        .collect();
    let constant_pool = ConstantPool { entries };

    // Descriptor component.
    let object_ref = pkg_class_key_ro(&pkg, "java/lang/Object")
        .map(cref)
        .map(ClassRef::to_u16)
        .unwrap_or(0x8000);
    let class_ref_of = |name: &str| -> u16 {
        pkg_class_key_ro(&pkg, name)
            .map(cref)
            .map(ClassRef::to_u16)
            .unwrap_or(object_ref)
    };
    let signatures: HashMap<CpKey, &str> = translated
        .iter()
        .flatten()
        .flatten()
        .flat_map(|t| t.signatures.iter().map(|(k, d)| (*k, d.as_str())))
        .collect();
    let mut types = TypeTable::new(cp_order.len());
    let type_overflow = || fail("Descriptor component: type descriptors beyond 32 KB");
    let mut cp_types = Vec::with_capacity(cp_order.len());
    for k in &cp_order {
        let nibbles = match (k, signatures.get(k)) {
            (CpKey::Class(_), _) | (_, None) => None,
            (CpKey::InstanceField(..) | CpKey::StaticField(_), Some(d)) => FieldType::parse(d)
                .ok()
                .map(|t| field_nibbles(&t, &class_ref_of)),
            (_, Some(d)) => crate::descriptor::MethodDescriptor::parse(d)
                .ok()
                .map(|m| method_nibbles(&m, &class_ref_of)),
        };
        cp_types.push(match nibbles {
            Some(n) => types.offset(n).ok_or_else(type_overflow)?,
            None => 0xFFFF,
        });
    }
    let mut class_descriptors = Vec::new();
    for (ci, own) in pkg.own.iter().enumerate() {
        let cf = &own.cf;
        let java = cf.access_flags.0;
        let mut flags = 0u8;
        if java & ACC_PUBLIC != 0 {
            flags |= 0x01;
        }
        if java & ACC_FINAL != 0 {
            flags |= 0x10;
        }
        if cf.is_interface() {
            flags |= 0x40;
        }
        if java & ACC_ABSTRACT != 0 {
            flags |= 0x80;
        }
        let this_ref = cref(ClassKey::Internal(ci));
        let mut fields = Vec::new();
        for (fi, f) in cf.fields.iter().enumerate() {
            if cf.is_interface() || is_constant_field(cf, fi) {
                continue;
            }
            let Ok(t) = f.field_type() else { continue };
            let field_type = match primitive_code(&t) {
                Some(code) => code,
                None => types
                    .offset(field_nibbles(&t, &class_ref_of))
                    .ok_or_else(type_overflow)?,
            };
            let field_ref = if f.is_static() {
                FieldRef::Static(StaticRef::Internal(own.static_offset[fi].unwrap_or(0)))
            } else {
                FieldRef::Instance {
                    class: this_ref,
                    token: own.field_token[fi].unwrap_or(0xFF),
                }
            };
            fields.push(FieldDescriptor {
                token: own.field_token[fi].unwrap_or(0xFF),
                access_flags: (f.access_flags.0 & 0x1F) as u8,
                field_ref,
                field_type,
            });
        }
        let mut methods = Vec::new();
        // an interface lists every method, its superinterfaces' included
        for (_, desc, token) in &own.iface_methods {
            let Ok(d) = crate::descriptor::MethodDescriptor::parse(desc) else {
                continue;
            };
            methods.push(MethodDescriptor {
                token: *token,
                access_flags: 0x41,
                method_offset: 0,
                type_offset: types
                    .offset(method_nibbles(&d, &class_ref_of))
                    .ok_or_else(type_overflow)?,
                bytecode_count: 0,
                exception_handler_count: 0,
                exception_handler_index: 0,
            });
        }
        for (mi, m) in cf.methods.iter().enumerate() {
            if m.name == "<clinit>" || cf.is_interface() {
                continue;
            }
            let Ok(d) = m.method_descriptor() else {
                continue;
            };
            let mut flags = (m.access_flags.0 & 0x1F) as u8;
            if m.access_flags.0 & ACC_ABSTRACT != 0 || cf.is_interface() {
                flags |= 0x40;
            }
            if m.name == "<init>" {
                flags |= 0x80;
            }
            let (bytecode_count, handler_count, handler_index) =
                method_code.get(&(ci, mi)).copied().unwrap_or((0, 0, 0));
            methods.push(MethodDescriptor {
                token: own.method_token[mi].unwrap_or(0xFF),
                access_flags: flags,
                method_offset: if cf.is_interface() {
                    0
                } else {
                    method_offset.get(&(ci, mi)).copied().unwrap_or(0)
                },
                type_offset: types
                    .offset(method_nibbles(&d, &class_ref_of))
                    .ok_or_else(type_overflow)?,
                bytecode_count,
                exception_handler_count: handler_count,
                exception_handler_index: handler_index,
            });
        }
        let interfaces = if cf.is_interface() {
            Vec::new()
        } else {
            own.all_interfaces
                .iter()
                .filter_map(|n| pkg_class_key_ro(&pkg, n).map(cref))
                .collect()
        };
        class_descriptors.push(ClassDescriptor {
            token: own.token,
            access_flags: flags,
            this_class_ref: this_ref,
            interfaces,
            fields,
            methods,
        });
    }
    let descriptor = Descriptor {
        classes: class_descriptors,
        constant_pool_types: cp_types,
        type_descriptors: types.into_descriptors(),
    };

    // Applets.
    let mut applets = Vec::new();
    for a in &opts.applets {
        let cname = a.class_name.replace('.', "/");
        let Some(&ci) = pkg.by_name.get(&cname) else {
            return Err(fail(format!(
                "applet class {} is not in package {}",
                a.class_name, opts.package_name
            )));
        };
        let Some(mi) = pkg.own[ci]
            .cf
            .methods
            .iter()
            .position(|m| m.name == "install" && m.descriptor == "([BSB)V" && m.is_static())
        else {
            return Err(fail(format!(
                "applet class {} has no static install([BSB)V method",
                a.class_name
            )));
        };
        applets.push(AppletInfo {
            aid: a.aid.clone(),
            install_method_offset: method_offset.get(&(ci, mi)).copied().ok_or_else(|| {
                fail(format!(
                    "applet class {}: its install method has no code",
                    a.class_name
                ))
            })?,
        });
    }

    // Export component and export file.
    let library = opts.applets.is_empty();
    let exported: Vec<usize> = (0..pkg.own.len())
        .filter(|&i| {
            let o = &pkg.own[i];
            o.token != 0xFF
                && (library
                    || (o.cf.is_interface()
                        && o.all_interfaces
                            .iter()
                            .any(|n| n == "javacard/framework/Shareable")))
        })
        .collect();
    let export_component = if exported.is_empty() {
        None
    } else {
        let mut classes = Vec::new();
        for &i in &exported {
            let o = &pkg.own[i];
            let mut sf: Vec<(u8, u16)> = Vec::new();
            for (fi, f) in o.cf.fields.iter().enumerate() {
                if f.is_static() {
                    if let (Some(t), Some(off)) = (o.field_token[fi], o.static_offset[fi]) {
                        sf.push((t, off));
                    }
                }
            }
            let mut sm: Vec<(u8, u16)> = Vec::new();
            for (mi, m) in o.cf.methods.iter().enumerate() {
                if m.is_static() || m.name == "<init>" {
                    if let Some(t) = o.method_token[mi] {
                        sm.push((t, method_offset.get(&(i, mi)).copied().unwrap_or(0)));
                    }
                }
            }
            sf.sort();
            sm.sort();
            classes.push(ClassExport {
                class_offset: class_offsets[i],
                static_field_offsets: sf.into_iter().map(|x| x.1).collect(),
                static_method_offsets: sm.into_iter().map(|x| x.1).collect(),
            });
        }
        Some(ExportComponent { classes })
    };

    let import = Import {
        packages: pkg
            .imports
            .iter()
            .map(|n| {
                let m = &pkg.exports[n];
                PackageInfo {
                    minor_version: m.package.version.minor,
                    major_version: m.package.version.major,
                    aid: m.package.aid.clone(),
                }
            })
            .collect(),
    };
    let mut flags = 0u8;
    // ACC_INT means the package uses int (JCVM spec §6.4, cap-format.md §4.1), not that the
    // converter was allowed to accept it: `--int` on a package without int leaves it clear.
    if opts.int_support && (code_uses_int || signatures_use_int(&pkg)) {
        flags |= 0x01;
        warnings.push("This package requires int support".into());
    }
    if export_component.is_some() {
        flags |= 0x02;
    }
    if !opts.applets.is_empty() {
        flags |= 0x04;
    }
    // CAP 2.2 with the Debug component (what Oracle's converter writes for 3.0.5 targets
    // with -debug, cap-format.md §1): a package_name_info (empty: no remote classes) and a
    // 12th Directory size.
    let debug = if opts.debug {
        let classes: Vec<DebugClass<'_>> = pkg
            .own
            .iter()
            .enumerate()
            .map(|(ci, own)| DebugClass {
                class: &own.cf,
                location: class_offsets.get(ci).copied().unwrap_or(0),
                shareable: own
                    .all_interfaces
                    .iter()
                    .any(|n| n == "javacard/framework/Shareable"),
                field_contents: (0..own.cf.fields.len())
                    .map(|fi| {
                        if let Some(v) = constant_value(&own.cf, fi) {
                            v as u32
                        } else if own.cf.fields[fi].is_static() {
                            own.static_offset[fi].map_or(0, u32::from)
                        } else {
                            own.field_token[fi].map_or(0, u32::from)
                        }
                    })
                    .collect(),
                methods: own
                    .cf
                    .methods
                    .iter()
                    .enumerate()
                    .map(|(mi, m)| {
                        (m.name != "<clinit>")
                            .then(|| placements.remove(&(ci, mi)).unwrap_or_default())
                    })
                    .collect(),
            })
            .collect();
        Some(debug_component(&internal_name, &classes).map_err(fail)?)
    } else {
        None
    };
    let (cap_minor, directory_entries) = if debug.is_some() { (2, 12) } else { (1, 11) };
    let header = Header {
        minor_version: cap_minor,
        major_version: 2,
        flags,
        package: PackageInfo {
            minor_version: opts.version.1,
            major_version: opts.version.0,
            aid: opts.package_aid.clone(),
        },
        package_name: debug.as_ref().map(|_| Vec::new()),
    };
    let static_field = StaticField {
        image_size: image_off,
        reference_count: ref_count,
        array_init: array_init.clone(),
        default_value_count: default_size,
        non_default_values: non_default,
    };
    let ref_location = RefLocation::from_offsets(&byte_refs, &byte2_refs)
        .map_err(|e| fail(format!("RefLocation: {e:?}")))?;
    let mut cap = Cap {
        header,
        directory: Directory {
            component_sizes: vec![0; directory_entries],
            static_resources_size: None,
            static_field_size: StaticFieldSizeInfo {
                image_size: image_off,
                array_init_count: array_init.len() as u16,
                array_init_size: array_init.iter().map(|a| a.values.len() as u16).sum(),
            },
            import_count: import.packages.len() as u8,
            applet_count: applets.len() as u8,
            custom_components: Vec::new(),
        },
        applet: if applets.is_empty() {
            None
        } else {
            Some(AppletComponent { applets })
        },
        import,
        constant_pool,
        class: class_component,
        method: method_component,
        static_field,
        ref_location,
        export: export_component,
        descriptor: Some(descriptor),
        debug,
        other_components: Vec::new(),
    };
    let enc_err = |e| fail(format!("encoding: {e:?}"));
    for _ in 0..2 {
        let comps = cap.encode_components().map_err(enc_err)?;
        let mut sizes = vec![0u16; directory_entries];
        for (tag, bytes) in &comps {
            let t = usize::from(tag.to_u8());
            if (1..=directory_entries).contains(&t) {
                sizes[t - 1] = (bytes.len() - 3) as u16;
            }
        }
        cap.directory.component_sizes = sizes;
    }
    let components = cap.encode_components().map_err(enc_err)?;
    let load_file = cap.load_file_data_block(true).map_err(enc_err)?;
    let package_path = internal_name.clone();
    let info = oxicard_cap::jar::ManifestInfo {
        created_by: "oxicard".into(),
        creation_time: "1970-01-01T00:00:00".into(),
        converter_version: env!("CARGO_PKG_VERSION").into(),
        converter_provider: "oxicard".into(),
        applet_names: opts.applets.iter().map(|a| a.class_name.clone()).collect(),
    };
    let jar = oxicard_cap::jar::write_cap_jar(
        components.iter().map(|(_, b)| b.as_slice()),
        &package_path,
        &info,
    )
    .map_err(|e| fail(format!("CAP file: {e:?}")))?;

    // Export file.
    let export_model = export_file(&pkg, opts, &exported, library);
    let export = export_model
        .encode()
        .map_err(|e| fail(format!("export file: {e:?}")))?;

    let _ = ComponentTag::Header;
    let listing = if opts.listing {
        let mut s = String::new();
        for (ci, mi, body, _, _) in &bodies {
            let m = &pkg.own[*ci].cf.methods[*mi];
            s.push_str(&format!(
                "{}.{}{} @{}\n",
                pkg.own[*ci].cf.class_name(),
                m.name,
                m.descriptor,
                method_offset.get(&(*ci, *mi)).copied().unwrap_or_default()
            ));
            let hl = if body.first().is_some_and(|b| b & 0x80 != 0) {
                4
            } else {
                2
            };
            let _ = oxicard_isa::write_listing(body.get(hl..).unwrap_or(&[]), &mut s);
            s.push('\n');
        }
        Some(s)
    } else {
        None
    };
    Ok(ConvertOutput {
        cap: jar,
        export,
        listing,
        warnings,
        components,
        load_file,
    })
}

/// A class key without registering a new import (imports are complete by then).
fn pkg_class_key_ro(pkg: &Pkg, class: &str) -> Option<ClassKey> {
    match pkg.find(class)? {
        Found::Own(i) => Some(ClassKey::Internal(i)),
        Found::Ext(c) => {
            let p = class.rsplit_once('/')?.0;
            let t = pkg.imports.iter().position(|n| n == p)?;
            Some(ClassKey::External(t as u8, c.token))
        }
    }
}

fn export_file(
    pkg: &Pkg,
    opts: &ConvertOptions,
    exported: &[usize],
    library: bool,
) -> ExportFileModel {
    let mut classes = Vec::new();
    for &i in exported {
        let o = &pkg.own[i];
        let mut supers = Vec::new();
        let mut at = o.cf.super_name().map(str::to_string);
        while let Some(s) = at {
            supers.push(s.clone());
            at = pkg.super_of(&s);
        }
        if o.cf.is_interface() {
            supers = vec!["java/lang/Object".into()];
        }
        let mut fields = Vec::new();
        for (fi, f) in o.cf.fields.iter().enumerate() {
            if !is_public_or_protected(f.access_flags.0) {
                continue;
            }
            let constant = is_constant_field(&o.cf, fi);
            fields.push(FieldModel {
                token: if constant {
                    0xFF
                } else {
                    o.field_token[fi].unwrap_or(0xFF)
                },
                access_flags: f.access_flags.0
                    & (ACC_PUBLIC | ACC_PROTECTED | ACC_STATIC | ACC_FINAL),
                name: f.name.clone(),
                descriptor: f.descriptor.clone(),
                constant_value: if constant {
                    constant_value(&o.cf, fi)
                } else {
                    None
                },
            });
        }
        let mut methods = Vec::new();
        for (mi, m) in o.cf.methods.iter().enumerate() {
            if (m.is_static() || m.name == "<init>") && is_public_or_protected(m.access_flags.0) {
                if let Some(t) = o.method_token[mi] {
                    methods.push(MethodModel {
                        token: t,
                        access_flags: m.access_flags.0
                            & (ACC_PUBLIC | ACC_PROTECTED | ACC_STATIC | ACC_FINAL | ACC_ABSTRACT),
                        name: m.name.clone(),
                        descriptor: m.descriptor.clone(),
                    });
                }
            }
        }
        // virtual methods, inherited included, in token order
        let mut virt: Vec<(u8, String, String, u16)> = Vec::new();
        if o.cf.is_interface() {
            for (name, descriptor, t) in &o.iface_methods {
                virt.push((
                    *t,
                    name.clone(),
                    descriptor.clone(),
                    ACC_PUBLIC | ACC_ABSTRACT,
                ));
            }
        } else {
            for ((name, desc), &t) in &o.public_vt {
                let flags = o
                    .cf
                    .methods
                    .iter()
                    .find(|m| &m.name == name && &m.descriptor == desc)
                    .map(|m| {
                        m.access_flags.0 & (ACC_PUBLIC | ACC_PROTECTED | ACC_FINAL | ACC_ABSTRACT)
                    })
                    .or_else(|| inherited_flags(pkg, o.cf.super_name(), name, desc))
                    .unwrap_or(ACC_PUBLIC);
                virt.push((t, name.clone(), desc.clone(), flags));
            }
        }
        virt.sort();
        for (t, name, descriptor, access_flags) in virt {
            methods.push(MethodModel {
                token: t,
                access_flags,
                name,
                descriptor,
            });
        }
        let mut flags =
            o.cf.access_flags.0 & (ACC_PUBLIC | ACC_FINAL | ACC_INTERFACE | ACC_ABSTRACT);
        if o.all_interfaces
            .iter()
            .any(|n| n == "javacard/framework/Shareable")
        {
            flags |= 0x0800;
        }
        classes.push(ClassModel {
            token: o.token,
            access_flags: flags,
            name: o.cf.class_name().to_string(),
            supers,
            interfaces: o.all_interfaces.clone(),
            fields,
            methods,
            cap22_inheritable_method_count: if o.cf.is_interface() {
                0
            } else {
                o.public_count
            },
        });
    }
    let mut model = ExportFileModel {
        format: FormatVersion::V2_3,
        package: PackageModel {
            flags: if library { 1 } else { 0 },
            name: pkg.name.clone(),
            version: PackageVersion {
                major: opts.version.0,
                minor: opts.version.1,
            },
            aid: opts.package_aid.clone(),
        },
        referenced_packages: Vec::new(),
        classes,
    };
    model.referenced_packages = model
        .referenced_package_names()
        .iter()
        .filter_map(|n| pkg.exports.get(n))
        .map(|m| PackageModel {
            flags: 0,
            name: m.package.name.clone(),
            version: m.package.version,
            aid: m.package.aid.clone(),
        })
        .collect();
    model
}

fn inherited_flags(pkg: &Pkg, sup: Option<&str>, name: &str, desc: &str) -> Option<u16> {
    let mut at = sup.map(str::to_string);
    while let Some(s) = at {
        match pkg.find(&s)? {
            Found::Own(i) => {
                if let Some(m) = pkg.own[i]
                    .cf
                    .methods
                    .iter()
                    .find(|m| m.name == name && m.descriptor == desc)
                {
                    return Some(
                        m.access_flags.0 & (ACC_PUBLIC | ACC_PROTECTED | ACC_FINAL | ACC_ABSTRACT),
                    );
                }
            }
            Found::Ext(c) => {
                if let Some(m) = c
                    .methods
                    .iter()
                    .find(|m| m.name == name && m.descriptor == desc)
                {
                    return Some(m.access_flags);
                }
            }
        }
        at = pkg.super_of(&s);
    }
    None
}

/// The JCVM code uses the int subset: an int instruction, or an `int[]` array type operand
/// (`newarray`, `checkcast`, `instanceof` with atype 13).
fn uses_int(code: &[u8]) -> bool {
    use oxicard_isa::{Flags, Operands as JcOperands};
    oxicard_isa::instructions(code).any(|ins| {
        ins.is_ok_and(|ins| {
            ins.info().flags.contains(Flags::INT)
                || matches!(
                    ins.operands,
                    JcOperands::ArrayType(13) | JcOperands::TypeCheck { atype: 13, .. }
                )
        })
    })
}

/// Some field or method of the package has `int` or `int[]` in its type.
fn signatures_use_int(pkg: &Pkg) -> bool {
    let has_int = |d: &str| {
        // the letter I outside class names (`Lorg/Item;` is no int)
        let mut in_class = false;
        d.chars().any(|c| {
            match c {
                'L' if !in_class => in_class = true,
                ';' => in_class = false,
                'I' if !in_class => return true,
                _ => {}
            }
            false
        })
    };
    pkg.own.iter().any(|o| {
        o.cf.fields.iter().any(|f| has_int(&f.descriptor))
            || o.cf.methods.iter().any(|m| has_int(&m.descriptor))
    })
}
