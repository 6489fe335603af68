//! Owned export-file model and its encoder (feature `alloc`).
//!
//! A converter builds an [`ExportFileModel`] for the package it converts and encodes it;
//! tools read one with [`ExportFileModel::parse`]. The encoder lays out the constant pool
//! the way Oracle's converter does (for each class: field names, descriptors and
//! constant values, method names and descriptors, then the class, its superclasses and
//! interfaces; then this package, then the referenced packages), with each entry written
//! once. A file written by that converter therefore parses and encodes back to the same
//! bytes. Files from other writers keep their meaning but may get a different pool
//! order; field attributes other than `ConstantValue` are not kept.

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::{
    pool_entry_offsets, ExportClass, ExportError, ExportField, ExportFile, ExportMethod,
    FormatVersion, Package, PackageVersion, CONSTANT_VALUE_ATTRIBUTE, EXPORT_MAGIC, TAG_CLASSREF,
    TAG_INTEGER, TAG_PACKAGE, TAG_UTF8,
};

/// An export file as owned data, independent of constant-pool indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFileModel {
    /// Export format version to write (2.1, 2.2 or 2.3).
    pub format: FormatVersion,
    /// The exporting package (`this_package`).
    pub package: PackageModel,
    /// Packages referenced by the file (format 2.3 only; must be empty for older formats).
    /// [`referenced_package_names`](Self::referenced_package_names) gives the names a
    /// converter puts here, in order.
    pub referenced_packages: Vec<PackageModel>,
    /// Exported classes and interfaces, in file order.
    pub classes: Vec<ClassModel>,
}

/// A package: the exporting one or a referenced one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageModel {
    /// Package flags ([`ACC_LIBRARY`](super::ACC_LIBRARY)); referenced packages carry 0.
    pub flags: u8,
    /// Package name in internal form (`javacard/framework`).
    pub name: String,
    /// Package version.
    pub version: PackageVersion,
    /// Package AID (5 to 16 bytes).
    pub aid: Vec<u8>,
}

/// An exported class or interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassModel {
    /// Class token.
    pub token: u8,
    /// Export-file access flags.
    pub access_flags: u16,
    /// Class name in internal form.
    pub name: String,
    /// All superclasses, root first (interfaces list only `java/lang/Object`).
    pub supers: Vec<String>,
    /// All superinterfaces and implemented interfaces, transitively.
    pub interfaces: Vec<String>,
    /// Exported fields, in file order.
    pub fields: Vec<FieldModel>,
    /// Exported methods, in file order.
    pub methods: Vec<MethodModel>,
    /// `CAP22_inheritable_public_method_token_count` (format 2.3; must be 0 for older
    /// formats).
    pub cap22_inheritable_method_count: u8,
}

/// An exported field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldModel {
    /// Field token, or [`CONSTANT_FIELD_TOKEN`](super::CONSTANT_FIELD_TOKEN) for constants.
    pub token: u8,
    /// Access flags.
    pub access_flags: u16,
    /// Field name.
    pub name: String,
    /// Field descriptor.
    pub descriptor: String,
    /// Value of a compile-time constant, sign-extended to 32 bits.
    pub constant_value: Option<i32>,
}

/// An exported method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodModel {
    /// Method token.
    pub token: u8,
    /// Access flags.
    pub access_flags: u16,
    /// Method name.
    pub name: String,
    /// Method descriptor.
    pub descriptor: String,
}

/// An export-file model that cannot be written: a count or length does not fit its
/// field, or the data does not fit the chosen format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportEncodeError {
    /// The rule the model breaks.
    pub limit: &'static str,
}

impl fmt::Display for ExportEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot encode export file: {}", self.limit)
    }
}

const fn limit(limit: &'static str) -> ExportEncodeError {
    ExportEncodeError { limit }
}

impl From<Package<'_>> for PackageModel {
    fn from(package: Package<'_>) -> Self {
        Self {
            flags: package.flags,
            name: package.name.to_string(),
            version: package.version,
            aid: package.aid.to_vec(),
        }
    }
}

impl From<ExportField<'_>> for FieldModel {
    fn from(field: ExportField<'_>) -> Self {
        Self {
            token: field.token,
            access_flags: field.access_flags,
            name: field.name.to_string(),
            descriptor: field.descriptor.to_string(),
            constant_value: field.constant_value,
        }
    }
}

impl From<ExportMethod<'_>> for MethodModel {
    fn from(method: ExportMethod<'_>) -> Self {
        Self {
            token: method.token,
            access_flags: method.access_flags,
            name: method.name.to_string(),
            descriptor: method.descriptor.to_string(),
        }
    }
}

impl From<ExportClass<'_>> for ClassModel {
    fn from(class: ExportClass<'_>) -> Self {
        Self {
            token: class.token,
            access_flags: class.access_flags,
            name: class.name.to_string(),
            supers: class.supers().map(str::to_string).collect(),
            interfaces: class.interfaces().map(str::to_string).collect(),
            fields: class.fields().map(FieldModel::from).collect(),
            methods: class.methods().map(MethodModel::from).collect(),
            cap22_inheritable_method_count: class.cap22_inheritable_method_count.unwrap_or(0),
        }
    }
}

impl From<&ExportFile<'_>> for ExportFileModel {
    fn from(file: &ExportFile<'_>) -> Self {
        Self {
            format: file.format(),
            package: file.package().into(),
            referenced_packages: file.referenced_packages().map(PackageModel::from).collect(),
            classes: file.classes().map(ClassModel::from).collect(),
        }
    }
}

impl ExportFile<'_> {
    /// An owned copy of the file's content.
    pub fn to_model(&self) -> ExportFileModel {
        ExportFileModel::from(self)
    }
}

/// Package part (before the last `/`) of an internal class name; `None` for the default
/// package.
fn package_of(class_name: &str) -> Option<&str> {
    class_name.rsplit_once('/').map(|(package, _)| package)
}

/// Class names mentioned by a field or method descriptor (`Lname;` types).
fn descriptor_classes(descriptor: &str) -> impl Iterator<Item = &str> {
    let mut rest = descriptor;
    core::iter::from_fn(move || {
        // Outside class names a descriptor holds only ( ) [ and primitive letters, none
        // of which is 'L', so the next 'L' starts the next class name.
        let start = rest.find('L')?;
        let after = rest.get(start + 1..)?;
        let end = after.find(';')?;
        let name = after.get(..end)?;
        rest = after.get(end + 1..)?;
        Some(name)
    })
}

impl ExportFileModel {
    /// Parses an export file into an owned model: the same checks and result as
    /// [`ExportFile::parse`] then [`ExportFile::to_model`], in time linear in the file size
    /// (the constant pool is indexed once instead of walked for every reference).
    pub fn parse(file: &[u8]) -> Result<Self, ExportError> {
        let mut offsets = Vec::new();
        pool_entry_offsets(file, |offset| offsets.push(offset));
        ExportFile::parse_indexed(file, &offsets).map(|parsed| parsed.to_model())
    }

    /// Names of the other packages this file mentions, in the order Oracle's converter
    /// lists them as referenced packages (format 2.3): `java/lang` first, then in order
    /// of first mention (per class: field and method descriptors, superclasses,
    /// interfaces).
    pub fn referenced_package_names(&self) -> Vec<String> {
        let own = self.package.name.as_str();
        let mut names: Vec<String> = Vec::new();
        let mut note = |class_name: &str| {
            if let Some(package) = package_of(class_name) {
                if package != own && !names.iter().any(|known| known == package) {
                    names.push(package.to_string());
                }
            }
        };
        for class in &self.classes {
            let descriptors = class
                .fields
                .iter()
                .map(|field| field.descriptor.as_str())
                .chain(
                    class
                        .methods
                        .iter()
                        .map(|method| method.descriptor.as_str()),
                );
            for descriptor in descriptors {
                descriptor_classes(descriptor).for_each(&mut note);
            }
            class.supers.iter().for_each(|name| note(name));
            class.interfaces.iter().for_each(|name| note(name));
        }
        if let Some(position) = names.iter().position(|name| name == "java/lang") {
            let java_lang = names.remove(position);
            names.insert(0, java_lang);
        }
        names
    }

    /// Encodes the model as an export file.
    pub fn encode(&self) -> Result<Vec<u8>, ExportEncodeError> {
        if !self.format.is_supported() {
            return Err(limit("export format version 2.1, 2.2 or 2.3"));
        }
        let v2_3 = self.format.has_2_3_fields();
        if !v2_3 && !self.referenced_packages.is_empty() {
            return Err(limit("referenced packages need export format 2.3"));
        }
        if !v2_3
            && self
                .classes
                .iter()
                .any(|class| class.cap22_inheritable_method_count != 0)
        {
            return Err(limit(
                "CAP22 inheritable method counts need export format 2.3",
            ));
        }

        let mut pool = PoolBuilder::default();
        let mut classes = Vec::new();
        let class_count =
            u8::try_from(self.classes.len()).map_err(|_| limit("at most 255 classes"))?;
        for class in &self.classes {
            encode_class(class, v2_3, &mut pool, &mut classes)?;
        }
        let this_package = pool.package(&self.package)?;
        let mut referenced = Vec::with_capacity(self.referenced_packages.len());
        for package in &self.referenced_packages {
            referenced.push(pool.package(package)?);
        }

        let mut out = Vec::with_capacity(pool.bytes.len() + classes.len() + 16);
        out.extend_from_slice(&EXPORT_MAGIC.to_be_bytes());
        out.push(self.format.minor);
        out.push(self.format.major);
        out.extend_from_slice(&pool.count.to_be_bytes());
        out.extend_from_slice(&pool.bytes);
        out.extend_from_slice(&this_package.to_be_bytes());
        if v2_3 {
            let count = u8::try_from(referenced.len())
                .map_err(|_| limit("at most 255 referenced packages"))?;
            out.push(count);
            for index in referenced {
                out.extend_from_slice(&index.to_be_bytes());
            }
        }
        out.push(class_count);
        out.extend_from_slice(&classes);
        Ok(out)
    }
}

fn encode_class(
    class: &ClassModel,
    v2_3: bool,
    pool: &mut PoolBuilder,
    out: &mut Vec<u8>,
) -> Result<(), ExportEncodeError> {
    let mut fields = Vec::new();
    let field_count =
        u16::try_from(class.fields.len()).map_err(|_| limit("at most 65535 fields"))?;
    for field in &class.fields {
        let name = pool.utf8(&field.name)?;
        let descriptor = pool.utf8(&field.descriptor)?;
        fields.push(field.token);
        fields.extend_from_slice(&field.access_flags.to_be_bytes());
        fields.extend_from_slice(&name.to_be_bytes());
        fields.extend_from_slice(&descriptor.to_be_bytes());
        match field.constant_value {
            Some(value) => {
                let attribute_name = pool.utf8(CONSTANT_VALUE_ATTRIBUTE)?;
                let value_index = pool.integer(value)?;
                fields.extend_from_slice(&1u16.to_be_bytes());
                fields.extend_from_slice(&attribute_name.to_be_bytes());
                fields.extend_from_slice(&2u32.to_be_bytes());
                fields.extend_from_slice(&value_index.to_be_bytes());
            }
            None => fields.extend_from_slice(&0u16.to_be_bytes()),
        }
    }
    let mut methods = Vec::new();
    let method_count =
        u16::try_from(class.methods.len()).map_err(|_| limit("at most 65535 methods"))?;
    for method in &class.methods {
        let name = pool.utf8(&method.name)?;
        let descriptor = pool.utf8(&method.descriptor)?;
        methods.push(method.token);
        methods.extend_from_slice(&method.access_flags.to_be_bytes());
        methods.extend_from_slice(&name.to_be_bytes());
        methods.extend_from_slice(&descriptor.to_be_bytes());
    }
    let name = pool.class_ref(&class.name)?;
    let supers_count =
        u16::try_from(class.supers.len()).map_err(|_| limit("at most 65535 superclasses"))?;
    let interfaces_count =
        u8::try_from(class.interfaces.len()).map_err(|_| limit("at most 255 interfaces"))?;

    out.push(class.token);
    out.extend_from_slice(&class.access_flags.to_be_bytes());
    out.extend_from_slice(&name.to_be_bytes());
    out.extend_from_slice(&supers_count.to_be_bytes());
    for superclass in &class.supers {
        out.extend_from_slice(&pool.class_ref(superclass)?.to_be_bytes());
    }
    out.push(interfaces_count);
    for interface in &class.interfaces {
        out.extend_from_slice(&pool.class_ref(interface)?.to_be_bytes());
    }
    out.extend_from_slice(&field_count.to_be_bytes());
    out.extend_from_slice(&fields);
    out.extend_from_slice(&method_count.to_be_bytes());
    out.extend_from_slice(&methods);
    if v2_3 {
        out.push(class.cap22_inheritable_method_count);
    }
    Ok(())
}

/// Identity of a constant-pool entry, so each is written once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PoolKey {
    Utf8(String),
    Integer(i32),
    ClassRef(u16),
    Package {
        flags: u8,
        name_index: u16,
        version: PackageVersion,
        aid: Vec<u8>,
    },
}

/// Builds the constant pool in order of first use.
#[derive(Default)]
struct PoolBuilder {
    bytes: Vec<u8>,
    count: u16,
    indices: BTreeMap<PoolKey, u16>,
}

impl PoolBuilder {
    /// Index of the entry `key`, appending it (encoded by `write`) on first use.
    fn intern(
        &mut self,
        key: PoolKey,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<u16, ExportEncodeError> {
        if let Some(&index) = self.indices.get(&key) {
            return Ok(index);
        }
        let index = self.count;
        self.count = index
            .checked_add(1)
            .ok_or(limit("at most 65535 constant-pool entries"))?;
        write(&mut self.bytes);
        self.indices.insert(key, index);
        Ok(index)
    }

    fn utf8(&mut self, text: &str) -> Result<u16, ExportEncodeError> {
        let len = u16::try_from(text.len()).map_err(|_| limit("names of at most 65535 bytes"))?;
        self.intern(PoolKey::Utf8(text.to_string()), |bytes| {
            bytes.push(TAG_UTF8);
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(text.as_bytes());
        })
    }

    fn integer(&mut self, value: i32) -> Result<u16, ExportEncodeError> {
        self.intern(PoolKey::Integer(value), |bytes| {
            bytes.push(TAG_INTEGER);
            bytes.extend_from_slice(&value.to_be_bytes());
        })
    }

    fn class_ref(&mut self, name: &str) -> Result<u16, ExportEncodeError> {
        let name_index = self.utf8(name)?;
        self.intern(PoolKey::ClassRef(name_index), |bytes| {
            bytes.push(TAG_CLASSREF);
            bytes.extend_from_slice(&name_index.to_be_bytes());
        })
    }

    fn package(&mut self, package: &PackageModel) -> Result<u16, ExportEncodeError> {
        let aid_len = u8::try_from(package.aid.len())
            .ok()
            .filter(|len| (5..=16).contains(len))
            .ok_or(limit("package AIDs of 5 to 16 bytes"))?;
        let name_index = self.utf8(&package.name)?;
        let key = PoolKey::Package {
            flags: package.flags,
            name_index,
            version: package.version,
            aid: package.aid.clone(),
        };
        self.intern(key, |bytes| {
            bytes.push(TAG_PACKAGE);
            bytes.push(package.flags);
            bytes.extend_from_slice(&name_index.to_be_bytes());
            bytes.push(package.version.minor);
            bytes.push(package.version.major);
            bytes.push(aid_len);
            bytes.extend_from_slice(&package.aid);
        })
    }
}
