//! Owned models of the CAP components (feature `alloc`) and their writers.
//!
//! Each type mirrors a zero-copy view of [`crate::components`] with `Vec`s instead of slices:
//! `from_view` copies a parsed view, [`Component::parse`] parses bytes into the model, and
//! [`Component::encode`] writes the complete component (tag, size, info). Parsing then encoding
//! gives the same bytes. A converter builds these models and encodes them. Fixed-size items
//! (`CpEntry`, `ExceptionHandler`, descriptors, ...) are shared with the views.
//!
//! Encoders check what the parser would otherwise misread (counts that do not fit their field,
//! flags that disagree with the entry kind) and return a [`CapError`] instead of writing it.

use alloc::vec::Vec;

use crate::component::CapVersion;
use crate::components as view;
use crate::components::class::RemoteMethodInfo;
use crate::components::class::{ACC_INTERFACE, ACC_REMOTE};
use crate::components::constant_pool::{ClassRef, CpEntry};
use crate::components::debug::{FieldDebugInfo, LineInfo, VariableInfo};
use crate::components::descriptor::{FieldDescriptor, FieldRef, MethodDescriptor};
use crate::components::directory::StaticFieldSizeInfo;
use crate::components::method::ExceptionHandler;
use crate::error::{CapError, ComponentTag, ErrorKind};

/// Appends the info bytes of a component, checking that counts fit their fields.
struct Writer {
    tag: ComponentTag,
    out: Vec<u8>,
}

impl Writer {
    fn new(tag: ComponentTag) -> Self {
        Writer {
            tag,
            out: Vec::new(),
        }
    }

    fn too_large(&self, field: &'static str, max: u32, found: usize) -> CapError {
        CapError::new(
            Some(self.tag),
            self.out.len().saturating_add(3),
            ErrorKind::TooLarge { field, max, found },
        )
    }

    fn invalid(&self, field: &'static str, expected: &'static str, found: u32) -> CapError {
        CapError::new(
            Some(self.tag),
            self.out.len().saturating_add(3),
            ErrorKind::Invalid {
                field,
                expected,
                found,
            },
        )
    }

    fn u1(&mut self, value: u8) {
        self.out.push(value);
    }

    fn u2(&mut self, value: u16) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    fn u4(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    fn count_u1(&mut self, len: usize, field: &'static str) -> Result<(), CapError> {
        let value = u8::try_from(len).map_err(|_| self.too_large(field, 0xFF, len))?;
        self.u1(value);
        Ok(())
    }

    fn count_u2(&mut self, len: usize, field: &'static str) -> Result<(), CapError> {
        let value = u16::try_from(len).map_err(|_| self.too_large(field, 0xFFFF, len))?;
        self.u2(value);
        Ok(())
    }

    fn u1_prefixed(&mut self, bytes: &[u8], field: &'static str) -> Result<(), CapError> {
        self.count_u1(bytes.len(), field)?;
        self.bytes(bytes);
        Ok(())
    }

    fn aid(&mut self, aid: &[u8], field: &'static str) -> Result<(), CapError> {
        if !(5..=16).contains(&aid.len()) {
            return Err(self.invalid(
                field,
                "an AID length of 5..=16",
                u32::try_from(aid.len()).unwrap_or(u32::MAX),
            ));
        }
        self.u1_prefixed(aid, field)
    }

    fn u2s(&mut self, values: &[u16]) {
        for &v in values {
            self.u2(v);
        }
    }

    fn class_refs(&mut self, refs: &[ClassRef]) {
        for r in refs {
            self.u2(r.to_u16());
        }
    }

    /// The complete component: tag, u2 size, info.
    fn finish(self) -> Result<Vec<u8>, CapError> {
        let size = u16::try_from(self.out.len()).map_err(|_| {
            CapError::new(
                Some(self.tag),
                1,
                ErrorKind::TooLarge {
                    field: "component size",
                    max: 0xFFFF,
                    found: self.out.len(),
                },
            )
        })?;
        let mut bytes = Vec::with_capacity(self.out.len() + 3);
        bytes.push(self.tag.to_u8());
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(&self.out);
        Ok(bytes)
    }
}

/// An owned component model: parse from and encode to complete component bytes.
pub trait Component: Sized {
    /// The component's tag.
    const TAG: ComponentTag;

    /// Writes the info bytes.
    #[doc(hidden)]
    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError>;

    /// Parses a complete component (tag, size, info) of CAP format `version`.
    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError>;

    /// The complete component bytes (tag, size, info).
    fn encode(&self) -> Result<Vec<u8>, CapError> {
        let mut writer = Writer::new(Self::TAG);
        self.write_info(&mut WriterHandle(&mut writer))?;
        writer.finish()
    }
}

/// Opaque handle to the internal writer (so that [`Component`] can be implemented only here).
pub struct WriterHandle<'w>(&'w mut Writer);

/// A `package_info` (Header and Import).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct PackageInfo {
    /// Minor version.
    pub minor_version: u8,
    /// Major version.
    pub major_version: u8,
    /// AID (5..=16 bytes).
    pub aid: Vec<u8>,
}

impl PackageInfo {
    /// Copies a view.
    pub fn from_view(v: &view::header::PackageInfo<'_>) -> Self {
        PackageInfo {
            minor_version: v.minor_version,
            major_version: v.major_version,
            aid: v.aid.to_vec(),
        }
    }

    fn write(&self, w: &mut Writer) -> Result<(), CapError> {
        w.u1(self.minor_version);
        w.u1(self.major_version);
        w.aid(&self.aid, "package AID")
    }
}

/// Header component (tag 1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// CAP format minor version (1..=3).
    pub minor_version: u8,
    /// CAP format major version (2).
    pub major_version: u8,
    /// `ACC_INT`, `ACC_EXPORT`, `ACC_APPLET`.
    pub flags: u8,
    /// This package.
    pub package: PackageInfo,
    /// `package_name_info` (present iff minor version >= 2).
    pub package_name: Option<Vec<u8>>,
}

impl Header {
    /// Copies a view.
    pub fn from_view(v: &view::header::Header<'_>) -> Self {
        Header {
            minor_version: v.minor_version,
            major_version: v.major_version,
            flags: v.flags,
            package: PackageInfo::from_view(&v.package),
            package_name: v.package_name.map(<[u8]>::to_vec),
        }
    }

    /// The CAP format version.
    pub fn version(&self) -> CapVersion {
        CapVersion {
            major: self.major_version,
            minor: self.minor_version,
        }
    }
}

impl Component for Header {
    const TAG: ComponentTag = ComponentTag::Header;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.u4(view::header::CAP_MAGIC);
        w.u1(self.minor_version);
        w.u1(self.major_version);
        w.u1(self.flags);
        self.package.write(w)?;
        match (&self.package_name, self.minor_version >= 2) {
            (Some(name), true) => w.u1_prefixed(name, "package_name"),
            (None, false) => Ok(()),
            _ => Err(w.invalid(
                "package_name",
                "a package name exactly in CAP 2.2 and later",
                u32::from(self.minor_version),
            )),
        }
    }

    fn parse(bytes: &[u8], _version: CapVersion) -> Result<Self, CapError> {
        Ok(Header::from_view(&view::header::Header::parse(bytes)?))
    }
}

/// A custom component declared in the Directory.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CustomComponentInfo {
    /// Tag (128..=255).
    pub component_tag: u8,
    /// Info size.
    pub size: u16,
    /// AID.
    pub aid: Vec<u8>,
}

/// Directory component (tag 2).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Directory {
    /// Sizes of components 1.. (11 entries in CAP 2.1, 12 from 2.2).
    pub component_sizes: Vec<u16>,
    /// StaticResources size (CAP 2.3 only).
    pub static_resources_size: Option<u32>,
    /// Static field image sizes.
    pub static_field_size: StaticFieldSizeInfo,
    /// Number of imported packages.
    pub import_count: u8,
    /// Number of applets.
    pub applet_count: u8,
    /// Custom components.
    pub custom_components: Vec<CustomComponentInfo>,
}

impl Directory {
    /// Copies a view.
    pub fn from_view(v: &view::directory::Directory<'_>) -> Self {
        Directory {
            component_sizes: v.component_sizes.iter().collect(),
            static_resources_size: v.static_resources_size,
            static_field_size: v.static_field_size,
            import_count: v.import_count,
            applet_count: v.applet_count,
            custom_components: v
                .custom_components
                .map(|c| CustomComponentInfo {
                    component_tag: c.component_tag,
                    size: c.size,
                    aid: c.aid.to_vec(),
                })
                .collect(),
        }
    }
}

impl Component for Directory {
    const TAG: ComponentTag = ComponentTag::Directory;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        let n = self.component_sizes.len();
        let valid = n == 12 || (n == 11 && self.static_resources_size.is_none());
        if !valid {
            return Err(w.invalid(
                "component_sizes",
                "11 sizes (CAP 2.1) or 12 (2.2, 2.3 with static_resources_size)",
                u32::try_from(n).unwrap_or(u32::MAX),
            ));
        }
        w.u2s(&self.component_sizes);
        if let Some(size) = self.static_resources_size {
            w.u4(size);
        }
        w.u2(self.static_field_size.image_size);
        w.u2(self.static_field_size.array_init_count);
        w.u2(self.static_field_size.array_init_size);
        w.u1(self.import_count);
        w.u1(self.applet_count);
        w.count_u1(self.custom_components.len(), "custom_count")?;
        for c in &self.custom_components {
            if c.component_tag < 128 {
                return Err(w.invalid(
                    "custom component_tag",
                    "a custom tag 128..=255",
                    u32::from(c.component_tag),
                ));
            }
            w.u1(c.component_tag);
            w.u2(c.size);
            w.aid(&c.aid, "custom component AID")?;
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Directory::from_view(&view::directory::Directory::parse(
            bytes, version,
        )?))
    }
}

/// An applet of the Applet component.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AppletInfo {
    /// Applet AID.
    pub aid: Vec<u8>,
    /// Method component offset of `install`.
    pub install_method_offset: u16,
}

/// Applet component (tag 3).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AppletComponent {
    /// The applets.
    pub applets: Vec<AppletInfo>,
}

impl AppletComponent {
    /// Copies a view.
    pub fn from_view(v: &view::applet::AppletComponent<'_>) -> Self {
        AppletComponent {
            applets: v
                .applets
                .map(|a| AppletInfo {
                    aid: a.aid.to_vec(),
                    install_method_offset: a.install_method_offset,
                })
                .collect(),
        }
    }
}

impl Component for AppletComponent {
    const TAG: ComponentTag = ComponentTag::Applet;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u1(self.applets.len(), "count")?;
        for a in &self.applets {
            w.aid(&a.aid, "applet AID")?;
            w.u2(a.install_method_offset);
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::applet::AppletComponent::parse(
            bytes, version,
        )?))
    }
}

/// Import component (tag 4).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Import {
    /// Imported packages; index = package token.
    pub packages: Vec<PackageInfo>,
}

impl Import {
    /// Copies a view.
    pub fn from_view(v: &view::import::Import<'_>) -> Self {
        Import {
            packages: v.packages.map(|p| PackageInfo::from_view(&p)).collect(),
        }
    }
}

impl Component for Import {
    const TAG: ComponentTag = ComponentTag::Import;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u1(self.packages.len(), "count")?;
        for p in &self.packages {
            p.write(w)?;
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::import::Import::parse(
            bytes, version,
        )?))
    }
}

/// ConstantPool component (tag 5).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConstantPool {
    /// The entries.
    pub entries: Vec<CpEntry>,
}

impl ConstantPool {
    /// Copies a view.
    pub fn from_view(v: &view::constant_pool::ConstantPool<'_>) -> Self {
        ConstantPool {
            entries: v.entries.collect(),
        }
    }
}

impl Component for ConstantPool {
    const TAG: ComponentTag = ComponentTag::ConstantPool;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u2(self.entries.len(), "count")?;
        for e in &self.entries {
            w.bytes(&e.to_bytes());
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::constant_pool::ConstantPool::parse(
            bytes, version,
        )?))
    }
}

/// An `interface_info`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct InterfaceInfo {
    /// Flags nibble; must include `ACC_INTERFACE`, and `ACC_REMOTE` iff `interface_name`.
    pub flags: u8,
    /// Superinterfaces (at most 15).
    pub superinterfaces: Vec<ClassRef>,
    /// Name of a remote interface.
    pub interface_name: Option<Vec<u8>>,
}

/// An `implemented_interface_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImplementedInterface {
    /// The interface.
    pub interface: ClassRef,
    /// Interface method token → virtual method token.
    pub index: Vec<u8>,
}

/// `remote_interface_info` of a remote class.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RemoteInterfaceInfo {
    /// Remote methods.
    pub remote_methods: Vec<RemoteMethodInfo>,
    /// Hash modifier.
    pub hash_modifier: Vec<u8>,
    /// Class name.
    pub class_name: Vec<u8>,
    /// Remote interfaces.
    pub remote_interfaces: Vec<ClassRef>,
}

/// CAP 2.3 token mapping of a `class_info`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TokenMapping {
    /// `public_virtual_method_token_mapping` (`base + count` bytes).
    pub public_virtual_method_token_mapping: Vec<u8>,
    /// `CAP22_inheritable_public_method_token_count`.
    pub cap22_inheritable_public_method_token_count: u8,
}

/// A `class_info`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClassInfo {
    /// Flags nibble; must not include `ACC_INTERFACE`; `ACC_REMOTE` iff `remote_interface`.
    pub flags: u8,
    /// Superclass, `None` for `java.lang.Object`.
    pub super_class_ref: Option<ClassRef>,
    /// Instance field cells declared here.
    pub declared_instance_size: u8,
    /// First reference field token or 0xFF.
    pub first_reference_token: u8,
    /// Number of reference fields.
    pub reference_count: u8,
    /// First token of the public table.
    pub public_method_table_base: u8,
    /// First token of the package table.
    pub package_method_table_base: u8,
    /// Public virtual method table.
    pub public_virtual_method_table: Vec<u16>,
    /// Package virtual method table.
    pub package_virtual_method_table: Vec<u16>,
    /// Implemented interfaces (at most 15).
    pub interfaces: Vec<ImplementedInterface>,
    /// RMI information.
    pub remote_interface: Option<RemoteInterfaceInfo>,
    /// CAP 2.3 token mapping (present iff the CAP is 2.3).
    pub token_mapping: Option<TokenMapping>,
}

/// An entry of the Class component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClassEntry {
    /// An interface.
    Interface(InterfaceInfo),
    /// A class.
    Class(ClassInfo),
}

/// Class component (tag 6).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClassComponent {
    /// The signature pool (present iff CAP 2.2+).
    pub signature_pool: Option<Vec<u8>>,
    /// Interfaces and classes in order.
    pub entries: Vec<ClassEntry>,
}

impl ClassComponent {
    /// Copies a view.
    pub fn from_view(v: &view::class::ClassComponent<'_>) -> Self {
        let entries = v
            .entries
            .map(|e| match e {
                view::class::ClassEntry::Interface(i) => ClassEntry::Interface(InterfaceInfo {
                    flags: i.flags,
                    superinterfaces: i.superinterfaces.iter().collect(),
                    interface_name: i.interface_name.map(<[u8]>::to_vec),
                }),
                view::class::ClassEntry::Class(c) => ClassEntry::Class(ClassInfo {
                    flags: c.flags,
                    super_class_ref: c.super_class_ref,
                    declared_instance_size: c.declared_instance_size,
                    first_reference_token: c.first_reference_token,
                    reference_count: c.reference_count,
                    public_method_table_base: c.public_method_table_base,
                    package_method_table_base: c.package_method_table_base,
                    public_virtual_method_table: c.public_virtual_method_table.iter().collect(),
                    package_virtual_method_table: c.package_virtual_method_table.iter().collect(),
                    interfaces: c
                        .interfaces
                        .map(|i| ImplementedInterface {
                            interface: i.interface,
                            index: i.index.to_vec(),
                        })
                        .collect(),
                    remote_interface: c.remote_interface.map(|r| RemoteInterfaceInfo {
                        remote_methods: r.remote_methods.collect(),
                        hash_modifier: r.hash_modifier.to_vec(),
                        class_name: r.class_name.to_vec(),
                        remote_interfaces: r.remote_interfaces.iter().collect(),
                    }),
                    token_mapping: c.token_mapping.map(|t| TokenMapping {
                        public_virtual_method_token_mapping: t
                            .public_virtual_method_token_mapping
                            .to_vec(),
                        cap22_inheritable_public_method_token_count: t
                            .cap22_inheritable_public_method_token_count,
                    }),
                }),
            })
            .collect();
        ClassComponent {
            signature_pool: v.signature_pool.map(<[u8]>::to_vec),
            entries,
        }
    }
}

fn bitfield(w: &Writer, flags: u8, count: usize) -> Result<u8, CapError> {
    if flags > 0xF {
        return Err(w.invalid("class flags", "a 4-bit flag nibble", u32::from(flags)));
    }
    let count = u8::try_from(count)
        .ok()
        .filter(|c| *c <= 15)
        .ok_or_else(|| w.too_large("interface_count", 15, count))?;
    Ok((flags << 4) | count)
}

fn write_interface(w: &mut Writer, i: &InterfaceInfo) -> Result<(), CapError> {
    if i.flags & ACC_INTERFACE == 0 || (i.flags & ACC_REMOTE != 0) != i.interface_name.is_some() {
        return Err(w.invalid(
            "interface flags",
            "ACC_INTERFACE, and ACC_REMOTE exactly when there is an interface name",
            u32::from(i.flags),
        ));
    }
    let b = bitfield(w, i.flags, i.superinterfaces.len())?;
    w.u1(b);
    w.class_refs(&i.superinterfaces);
    if let Some(name) = &i.interface_name {
        w.u1_prefixed(name, "interface_name")?;
    }
    Ok(())
}

fn write_class(w: &mut Writer, c: &ClassInfo) -> Result<(), CapError> {
    if c.flags & ACC_INTERFACE != 0 || (c.flags & ACC_REMOTE != 0) != c.remote_interface.is_some() {
        return Err(w.invalid(
            "class flags",
            "no ACC_INTERFACE, and ACC_REMOTE exactly when there is remote information",
            u32::from(c.flags),
        ));
    }
    let b = bitfield(w, c.flags, c.interfaces.len())?;
    w.u1(b);
    w.u2(c.super_class_ref.map_or(0xFFFF, ClassRef::to_u16));
    w.u1(c.declared_instance_size);
    w.u1(c.first_reference_token);
    w.u1(c.reference_count);
    w.u1(c.public_method_table_base);
    w.count_u1(
        c.public_virtual_method_table.len(),
        "public_method_table_count",
    )?;
    w.u1(c.package_method_table_base);
    w.count_u1(
        c.package_virtual_method_table.len(),
        "package_method_table_count",
    )?;
    w.u2s(&c.public_virtual_method_table);
    w.u2s(&c.package_virtual_method_table);
    for i in &c.interfaces {
        w.u2(i.interface.to_u16());
        w.u1_prefixed(&i.index, "implemented interface index")?;
    }
    if let Some(r) = &c.remote_interface {
        w.count_u1(r.remote_methods.len(), "remote_methods_count")?;
        for m in &r.remote_methods {
            w.u2(m.remote_method_hash);
            w.u2(m.signature_offset);
            w.u1(m.virtual_method_token);
        }
        w.u1_prefixed(&r.hash_modifier, "hash_modifier")?;
        w.u1_prefixed(&r.class_name, "class_name")?;
        w.count_u1(r.remote_interfaces.len(), "remote_interfaces_count")?;
        w.class_refs(&r.remote_interfaces);
    }
    if let Some(t) = &c.token_mapping {
        let expected =
            usize::from(c.public_method_table_base) + c.public_virtual_method_table.len();
        if t.public_virtual_method_token_mapping.len() != expected {
            return Err(w.invalid(
                "public_virtual_method_token_mapping",
                "public_method_table_base + public_method_table_count entries",
                u32::try_from(t.public_virtual_method_token_mapping.len()).unwrap_or(u32::MAX),
            ));
        }
        w.bytes(&t.public_virtual_method_token_mapping);
        w.u1(t.cap22_inheritable_public_method_token_count);
    }
    Ok(())
}

impl Component for ClassComponent {
    const TAG: ComponentTag = ComponentTag::Class;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        if let Some(pool) = &self.signature_pool {
            w.count_u2(pool.len(), "signature_pool_length")?;
            w.bytes(pool);
        }
        for entry in &self.entries {
            match entry {
                ClassEntry::Interface(i) => write_interface(w, i)?,
                ClassEntry::Class(c) => write_class(w, c)?,
            }
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::class::ClassComponent::parse(
            bytes, version,
        )?))
    }
}

impl ClassComponent {
    /// Info offsets of the entries as they will be encoded (what internal `class_ref`s hold).
    pub fn entry_offsets(&self) -> Result<Vec<u16>, CapError> {
        let mut w = Writer::new(ComponentTag::Class);
        if let Some(pool) = &self.signature_pool {
            w.count_u2(pool.len(), "signature_pool_length")?;
            w.bytes(pool);
        }
        let mut offsets = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let at = w.out.len();
            offsets.push(u16::try_from(at).map_err(|_| w.too_large("entry offset", 0xFFFF, at))?);
            match entry {
                ClassEntry::Interface(i) => write_interface(&mut w, i)?,
                ClassEntry::Class(c) => write_class(&mut w, c)?,
            }
        }
        Ok(offsets)
    }
}

/// Method component (tag 7).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MethodComponent {
    /// Exception handlers of all methods.
    pub handlers: Vec<ExceptionHandler>,
    /// Method headers and bytecode, starting at info offset `1 + 8 * handlers.len()`.
    pub method_area: Vec<u8>,
}

impl MethodComponent {
    /// Copies a view.
    pub fn from_view(v: &view::method::MethodComponent<'_>) -> Self {
        MethodComponent {
            handlers: v.handlers.collect(),
            method_area: v.method_area().to_vec(),
        }
    }
}

impl Component for MethodComponent {
    const TAG: ComponentTag = ComponentTag::Method;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u1(self.handlers.len(), "handler_count")?;
        for h in &self.handlers {
            if h.active_length > 0x7FFF {
                return Err(w.too_large("active_length", 0x7FFF, usize::from(h.active_length)));
            }
            w.bytes(&h.to_bytes());
        }
        w.bytes(&self.method_area);
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::method::MethodComponent::parse(
            bytes, version,
        )?))
    }
}

/// An `array_init_info`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ArrayInit {
    /// Element type (2..=5).
    pub element_type: u8,
    /// Values, big-endian.
    pub values: Vec<u8>,
}

/// StaticField component (tag 8).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StaticField {
    /// Bytes of the static field image.
    pub image_size: u16,
    /// Reference static fields.
    pub reference_count: u16,
    /// Array initialisers.
    pub array_init: Vec<ArrayInit>,
    /// Bytes of default-valued primitives.
    pub default_value_count: u16,
    /// Non-default initial values.
    pub non_default_values: Vec<u8>,
}

impl StaticField {
    /// Copies a view.
    pub fn from_view(v: &view::static_field::StaticField<'_>) -> Self {
        StaticField {
            image_size: v.image_size,
            reference_count: v.reference_count,
            array_init: v
                .array_init
                .map(|a| ArrayInit {
                    element_type: a.element_type,
                    values: a.values.to_vec(),
                })
                .collect(),
            default_value_count: v.default_value_count,
            non_default_values: v.non_default_values.to_vec(),
        }
    }
}

impl Component for StaticField {
    const TAG: ComponentTag = ComponentTag::StaticField;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.u2(self.image_size);
        w.u2(self.reference_count);
        w.count_u2(self.array_init.len(), "array_init_count")?;
        for a in &self.array_init {
            if view::static_field::ArrayInit::element_size(a.element_type).is_none() {
                return Err(w.invalid(
                    "array_init type",
                    "2 (boolean), 3 (byte), 4 (short) or 5 (int)",
                    u32::from(a.element_type),
                ));
            }
            w.u1(a.element_type);
            w.count_u2(a.values.len(), "array_init count")?;
            w.bytes(&a.values);
        }
        w.u2(self.default_value_count);
        w.count_u2(self.non_default_values.len(), "non_default_value_count")?;
        w.bytes(&self.non_default_values);
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::static_field::StaticField::parse(
            bytes, version,
        )?))
    }
}

/// ReferenceLocation component (tag 9), as the encoded delta lists.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RefLocation {
    /// `offsets_to_byte_indices` (delta-encoded).
    pub byte_index_deltas: Vec<u8>,
    /// `offsets_to_byte2_indices` (delta-encoded).
    pub byte2_index_deltas: Vec<u8>,
}

impl RefLocation {
    /// Copies a view.
    pub fn from_view(v: &view::ref_location::RefLocation<'_>) -> Self {
        RefLocation {
            byte_index_deltas: v.byte_index_deltas.to_vec(),
            byte2_index_deltas: v.byte2_index_deltas.to_vec(),
        }
    }

    /// Builds the lists from ascending absolute Method component offsets.
    pub fn from_offsets(byte_indices: &[u32], byte2_indices: &[u32]) -> Result<Self, CapError> {
        Ok(RefLocation {
            byte_index_deltas: encode_deltas(byte_indices)?,
            byte2_index_deltas: encode_deltas(byte2_indices)?,
        })
    }
}

/// Delta-encodes ascending offsets (a gap of 255 or more uses 255 continuation bytes).
pub fn encode_deltas(offsets: &[u32]) -> Result<Vec<u8>, CapError> {
    let mut out = Vec::new();
    let mut previous = 0u32;
    for &offset in offsets {
        let mut gap = offset.checked_sub(previous).ok_or(CapError::new(
            Some(ComponentTag::ReferenceLocation),
            0,
            ErrorKind::Invalid {
                field: "reference offsets",
                expected: "ascending offsets",
                found: offset,
            },
        ))?;
        while gap >= 255 {
            out.push(255);
            gap -= 255;
        }
        out.push(u8::try_from(gap).unwrap_or(0));
        previous = offset;
    }
    Ok(out)
}

impl Component for RefLocation {
    const TAG: ComponentTag = ComponentTag::ReferenceLocation;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u2(self.byte_index_deltas.len(), "byte_index_count")?;
        w.bytes(&self.byte_index_deltas);
        w.count_u2(self.byte2_index_deltas.len(), "byte2_index_count")?;
        w.bytes(&self.byte2_index_deltas);
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::ref_location::RefLocation::parse(
            bytes, version,
        )?))
    }
}

/// A `class_export_info`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClassExport {
    /// Class component offset.
    pub class_offset: u16,
    /// Static field image offsets by token.
    pub static_field_offsets: Vec<u16>,
    /// Method component offsets by token.
    pub static_method_offsets: Vec<u16>,
}

/// Export component (tag 10).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ExportComponent {
    /// Exported classes by class token.
    pub classes: Vec<ClassExport>,
}

impl ExportComponent {
    /// Copies a view.
    pub fn from_view(v: &view::export_component::ExportComponent<'_>) -> Self {
        ExportComponent {
            classes: v
                .classes
                .map(|c| ClassExport {
                    class_offset: c.class_offset,
                    static_field_offsets: c.static_field_offsets.iter().collect(),
                    static_method_offsets: c.static_method_offsets.iter().collect(),
                })
                .collect(),
        }
    }
}

impl Component for ExportComponent {
    const TAG: ComponentTag = ComponentTag::Export;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u1(self.classes.len(), "class_count")?;
        for c in &self.classes {
            w.u2(c.class_offset);
            w.count_u1(c.static_field_offsets.len(), "static_field_count")?;
            w.count_u1(c.static_method_offsets.len(), "static_method_count")?;
            w.u2s(&c.static_field_offsets);
            w.u2s(&c.static_method_offsets);
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(
            &view::export_component::ExportComponent::parse(bytes, version)?,
        ))
    }
}

/// A `class_descriptor_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassDescriptor {
    /// Class token.
    pub token: u8,
    /// Access flags.
    pub access_flags: u8,
    /// This class.
    pub this_class_ref: ClassRef,
    /// Interfaces.
    pub interfaces: Vec<ClassRef>,
    /// Fields.
    pub fields: Vec<FieldDescriptor>,
    /// Methods.
    pub methods: Vec<MethodDescriptor>,
}

/// A `type_descriptor`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TypeDescriptor {
    /// Number of nibbles.
    pub nibble_count: u8,
    /// `(nibble_count + 1) / 2` bytes.
    pub type_bytes: Vec<u8>,
}

/// Descriptor component (tag 11).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// Classes in Class component order.
    pub classes: Vec<ClassDescriptor>,
    /// Type offset per CP entry (0xFFFF for Classrefs).
    pub constant_pool_types: Vec<u16>,
    /// The type descriptors in order.
    pub type_descriptors: Vec<TypeDescriptor>,
}

impl Descriptor {
    /// Copies a view.
    pub fn from_view(v: &view::descriptor::Descriptor<'_>) -> Self {
        Descriptor {
            classes: v
                .classes
                .map(|c| ClassDescriptor {
                    token: c.token,
                    access_flags: c.access_flags,
                    this_class_ref: c.this_class_ref,
                    interfaces: c.interfaces.iter().collect(),
                    fields: c.fields.collect(),
                    methods: c.methods.collect(),
                })
                .collect(),
            constant_pool_types: v.constant_pool_types.iter().collect(),
            type_descriptors: v
                .type_descriptors
                .map(|t| TypeDescriptor {
                    nibble_count: t.nibble_count,
                    type_bytes: t.type_bytes.to_vec(),
                })
                .collect(),
        }
    }
}

impl Component for Descriptor {
    const TAG: ComponentTag = ComponentTag::Descriptor;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u1(self.classes.len(), "class_count")?;
        for c in &self.classes {
            w.u1(c.token);
            w.u1(c.access_flags);
            w.u2(c.this_class_ref.to_u16());
            w.count_u1(c.interfaces.len(), "interface_count")?;
            w.count_u2(c.fields.len(), "field_count")?;
            w.count_u2(c.methods.len(), "method_count")?;
            w.class_refs(&c.interfaces);
            for f in &c.fields {
                let is_static = f.access_flags & view::descriptor::ACC_STATIC != 0;
                w.u1(f.token);
                w.u1(f.access_flags);
                match (f.field_ref, is_static) {
                    (FieldRef::Static(r), true) => w.bytes(&r.to_bytes()),
                    (FieldRef::Instance { class, token }, false) => {
                        w.u2(class.to_u16());
                        w.u1(token);
                    }
                    _ => {
                        return Err(w.invalid(
                            "field access_flags",
                            "ACC_STATIC exactly for static field_refs",
                            u32::from(f.access_flags),
                        ))
                    }
                }
                w.u2(f.field_type);
            }
            for m in &c.methods {
                w.u1(m.token);
                w.u1(m.access_flags);
                w.u2(m.method_offset);
                w.u2(m.type_offset);
                w.u2(m.bytecode_count);
                w.u2(m.exception_handler_count);
                w.u2(m.exception_handler_index);
            }
        }
        w.count_u2(self.constant_pool_types.len(), "constant_pool_count")?;
        w.u2s(&self.constant_pool_types);
        for t in &self.type_descriptors {
            if t.type_bytes.len() != usize::from(t.nibble_count).div_ceil(2) {
                return Err(w.invalid(
                    "type descriptor",
                    "(nibble_count + 1) / 2 bytes",
                    u32::from(t.nibble_count),
                ));
            }
            w.u1(t.nibble_count);
            w.bytes(&t.type_bytes);
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::descriptor::Descriptor::parse(
            bytes, version,
        )?))
    }
}

/// A `method_debug_info`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MethodDebugInfo {
    /// Name index.
    pub name_index: u16,
    /// Descriptor index.
    pub descriptor_index: u16,
    /// Java access flags.
    pub access_flags: u16,
    /// Method component offset.
    pub location: u16,
    /// Header size.
    pub header_size: u8,
    /// Bytecode size.
    pub body_size: u16,
    /// Local variables.
    pub variables: Vec<VariableInfo>,
    /// Line table.
    pub lines: Vec<LineInfo>,
}

/// A `class_debug_info`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClassDebugInfo {
    /// Name index.
    pub name_index: u16,
    /// Java access flags.
    pub access_flags: u16,
    /// Class component offset.
    pub location: u16,
    /// Superclass name index.
    pub superclass_name_index: u16,
    /// Source file index.
    pub source_file_index: u16,
    /// Interface name indices.
    pub interface_names: Vec<u16>,
    /// Fields.
    pub fields: Vec<FieldDebugInfo>,
    /// Methods.
    pub methods: Vec<MethodDebugInfo>,
}

/// Debug component (tag 12).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DebugComponent {
    /// Strings table.
    pub strings: Vec<Vec<u8>>,
    /// Package name index.
    pub package_name_index: u16,
    /// Classes.
    pub classes: Vec<ClassDebugInfo>,
}

impl DebugComponent {
    /// Copies a view.
    pub fn from_view(v: &view::debug::DebugComponent<'_>) -> Self {
        DebugComponent {
            strings: v.strings.map(|s| s.0.to_vec()).collect(),
            package_name_index: v.package_name_index,
            classes: v
                .classes
                .map(|c| ClassDebugInfo {
                    name_index: c.name_index,
                    access_flags: c.access_flags,
                    location: c.location,
                    superclass_name_index: c.superclass_name_index,
                    source_file_index: c.source_file_index,
                    interface_names: c.interface_names.iter().collect(),
                    fields: c.fields.collect(),
                    methods: c
                        .methods
                        .map(|m| MethodDebugInfo {
                            name_index: m.name_index,
                            descriptor_index: m.descriptor_index,
                            access_flags: m.access_flags,
                            location: m.location,
                            header_size: m.header_size,
                            body_size: m.body_size,
                            variables: m.variables.collect(),
                            lines: m.lines.collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl Component for DebugComponent {
    const TAG: ComponentTag = ComponentTag::Debug;

    fn write_info(&self, w: &mut WriterHandle<'_>) -> Result<(), CapError> {
        let w = &mut *w.0;
        w.count_u2(self.strings.len(), "string_count")?;
        for s in &self.strings {
            w.count_u2(s.len(), "string length")?;
            w.bytes(s);
        }
        w.u2(self.package_name_index);
        w.count_u2(self.classes.len(), "class_count")?;
        for c in &self.classes {
            w.u2(c.name_index);
            w.u2(c.access_flags);
            w.u2(c.location);
            w.u2(c.superclass_name_index);
            w.u2(c.source_file_index);
            w.count_u1(c.interface_names.len(), "interface_count")?;
            w.count_u2(c.fields.len(), "field_count")?;
            w.count_u2(c.methods.len(), "method_count")?;
            w.u2s(&c.interface_names);
            for f in &c.fields {
                w.u2(f.name_index);
                w.u2(f.descriptor_index);
                w.u2(f.access_flags);
                w.u4(f.contents);
            }
            for m in &c.methods {
                w.u2(m.name_index);
                w.u2(m.descriptor_index);
                w.u2(m.access_flags);
                w.u2(m.location);
                w.u1(m.header_size);
                w.u2(m.body_size);
                w.count_u2(m.variables.len(), "variable_count")?;
                w.count_u2(m.lines.len(), "line_count")?;
                for v in &m.variables {
                    w.u1(v.index);
                    w.u2(v.name_index);
                    w.u2(v.descriptor_index);
                    w.u2(v.start_pc);
                    w.u2(v.length);
                }
                for l in &m.lines {
                    w.u2(l.start_pc);
                    w.u2(l.end_pc);
                    w.u2(l.source_line);
                }
            }
        }
        Ok(())
    }

    fn parse(bytes: &[u8], version: CapVersion) -> Result<Self, CapError> {
        Ok(Self::from_view(&view::debug::DebugComponent::parse(
            bytes, version,
        )?))
    }
}

/// An owned CAP: every component as a model.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Cap {
    /// Header.
    pub header: Header,
    /// Directory.
    pub directory: Directory,
    /// Applet, if any.
    pub applet: Option<AppletComponent>,
    /// Import.
    pub import: Import,
    /// ConstantPool.
    pub constant_pool: ConstantPool,
    /// Class.
    pub class: ClassComponent,
    /// Method.
    pub method: MethodComponent,
    /// StaticField.
    pub static_field: StaticField,
    /// ReferenceLocation.
    pub ref_location: RefLocation,
    /// Export, if any.
    pub export: Option<ExportComponent>,
    /// Descriptor, if any.
    pub descriptor: Option<Descriptor>,
    /// Debug, if any.
    pub debug: Option<DebugComponent>,
    /// StaticResources and custom components, as complete component bytes.
    pub other_components: Vec<Vec<u8>>,
}

impl Cap {
    /// Copies a parsed CAP.
    pub fn from_view(cap: &crate::cap::Cap<'_>) -> Self {
        Cap {
            header: Header::from_view(&cap.header),
            directory: Directory::from_view(&cap.directory),
            applet: cap.applet.as_ref().map(AppletComponent::from_view),
            import: Import::from_view(&cap.import),
            constant_pool: ConstantPool::from_view(&cap.constant_pool),
            class: ClassComponent::from_view(&cap.class),
            method: MethodComponent::from_view(&cap.method),
            static_field: StaticField::from_view(&cap.static_field),
            ref_location: RefLocation::from_view(&cap.ref_location),
            export: cap.export.as_ref().map(ExportComponent::from_view),
            descriptor: cap.descriptor.as_ref().map(Descriptor::from_view),
            debug: cap.debug.as_ref().map(DebugComponent::from_view),
            other_components: cap
                .static_resources
                .into_iter()
                .chain(cap.custom_components())
                .map(|raw| raw.bytes.to_vec())
                .collect(),
        }
    }

    /// Parses a Load File Data Block (see [`crate::Cap::parse_load_file`]).
    pub fn parse_load_file(bytes: &[u8]) -> Result<Self, CapError> {
        Ok(Cap::from_view(&crate::cap::Cap::parse_load_file(bytes)?))
    }

    /// Every component encoded, in [`crate::LOAD_ORDER`] (then Debug, then the others).
    pub fn encode_components(&self) -> Result<Vec<(ComponentTag, Vec<u8>)>, CapError> {
        let mut out = Vec::new();
        for tag in crate::cap::LOAD_ORDER
            .iter()
            .chain(core::iter::once(&ComponentTag::Debug))
        {
            let bytes = match tag {
                ComponentTag::Header => Some(self.header.encode()?),
                ComponentTag::Directory => Some(self.directory.encode()?),
                ComponentTag::Import => Some(self.import.encode()?),
                ComponentTag::Applet => self.applet.as_ref().map(Component::encode).transpose()?,
                ComponentTag::Class => Some(self.class.encode()?),
                ComponentTag::Method => Some(self.method.encode()?),
                ComponentTag::StaticField => Some(self.static_field.encode()?),
                ComponentTag::Export => self.export.as_ref().map(Component::encode).transpose()?,
                ComponentTag::ConstantPool => Some(self.constant_pool.encode()?),
                ComponentTag::ReferenceLocation => Some(self.ref_location.encode()?),
                ComponentTag::Descriptor => self
                    .descriptor
                    .as_ref()
                    .map(Component::encode)
                    .transpose()?,
                ComponentTag::Debug => self.debug.as_ref().map(Component::encode).transpose()?,
                _ => None,
            };
            if let Some(bytes) = bytes {
                out.push((*tag, bytes));
            }
        }
        for raw in &self.other_components {
            let tag = raw
                .first()
                .copied()
                .and_then(ComponentTag::from_u8)
                .unwrap_or(ComponentTag::Custom(0xFF));
            out.push((tag, raw.clone()));
        }
        Ok(out)
    }

    /// The Load File Data Block: components in [`crate::LOAD_ORDER`], the Descriptor only if
    /// `with_descriptor`; Debug and other components are not included.
    pub fn load_file_data_block(&self, with_descriptor: bool) -> Result<Vec<u8>, CapError> {
        let mut out = Vec::new();
        for (tag, bytes) in self.encode_components()? {
            let loaded = crate::cap::LOAD_ORDER.contains(&tag)
                && (with_descriptor || tag != ComponentTag::Descriptor);
            if loaded {
                out.extend_from_slice(&bytes);
            }
        }
        Ok(out)
    }
}
