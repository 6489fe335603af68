//! Semantic checks a loader needs before linking ([`Cap::check`]): the Directory agrees with
//! the components, and every reference (constant-pool entries, method tables, handler ranges,
//! ReferenceLocation offsets, install methods, exports, descriptors) points at something real.
//!
//! The checks allocate nothing; lookups are linear scans, with the common case (methods and
//! reference locations in ascending order, as converters write them) handled in one pass.

use crate::cap::Cap;
use crate::components::class::ClassEntry;
use crate::components::constant_pool::{ClassRef, CpEntry, StaticRef};
use crate::components::descriptor::{FieldRef, ACC_INTERFACE_DESCRIPTOR};
use crate::components::header::{ACC_APPLET, ACC_EXPORT};
use crate::error::{CapError, ComponentTag, ErrorKind};

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn bad_reference(
    tag: ComponentTag,
    offset: usize,
    field: &'static str,
    expected: &'static str,
    value: u32,
) -> CapError {
    CapError::new(
        Some(tag),
        offset,
        ErrorKind::BadReference {
            field,
            expected,
            value,
        },
    )
}

fn mismatch(
    tag: ComponentTag,
    offset: usize,
    field: &'static str,
    declared: u32,
    actual: u32,
) -> Result<(), CapError> {
    if declared == actual {
        Ok(())
    } else {
        Err(CapError::new(
            Some(tag),
            offset,
            ErrorKind::SizeMismatch {
                field,
                declared,
                actual,
            },
        ))
    }
}

/// Bytecode range `[start, end)` of a method, as Method component info offsets.
#[derive(Clone, Copy, Debug, Default)]
struct CodeRange {
    start: usize,
    end: usize,
}

impl<'a> Cap<'a> {
    /// Runs every semantic check; the first failure is returned.
    pub fn check(&self) -> Result<(), CapError> {
        self.check_directory()?;
        self.check_class_component()?;
        self.check_constant_pool()?;
        self.check_handlers()?;
        self.check_method_listing()?;
        self.check_ref_locations()?;
        self.check_applets()?;
        self.check_export()?;
        self.check_descriptor()?;
        Ok(())
    }

    /// Directory sizes and counts against the components; Header flags against the
    /// presence of the Applet and Export components.
    pub fn check_directory(&self) -> Result<(), CapError> {
        let dir = ComponentTag::Directory;
        for (index, declared) in self.directory.component_sizes.iter().enumerate() {
            let Some(tag) = ComponentTag::STANDARD.get(index).copied() else {
                continue;
            };
            let actual = match self.component(tag) {
                Some(raw) => to_u32(raw.info.len()),
                // Descriptor and Debug are optional in a load file: nothing to compare.
                None if matches!(tag, ComponentTag::Descriptor | ComponentTag::Debug) => continue,
                None => 0,
            };
            mismatch(
                dir,
                3 + 2 * index,
                "component_sizes entry",
                u32::from(declared),
                actual,
            )?;
        }
        let after_sizes = 3 + 2 * self.directory.component_sizes.len();
        if let (Some(declared), Some(raw)) =
            (self.directory.static_resources_size, self.static_resources)
        {
            mismatch(
                dir,
                after_sizes,
                "static_resources_size",
                declared,
                to_u32(raw.info.len()),
            )?;
        }
        let sf_at = after_sizes
            + if self.directory.static_resources_size.is_some() {
                4
            } else {
                0
            };
        let sizes = self.directory.static_field_size;
        mismatch(
            dir,
            sf_at,
            "image_size",
            u32::from(sizes.image_size),
            u32::from(self.static_field.image_size),
        )?;
        mismatch(
            dir,
            sf_at + 2,
            "array_init_count",
            u32::from(sizes.array_init_count),
            to_u32(self.static_field.array_init.len()),
        )?;
        mismatch(
            dir,
            sf_at + 4,
            "array_init_size",
            u32::from(sizes.array_init_size),
            self.static_field.array_init_size(),
        )?;
        mismatch(
            dir,
            sf_at + 6,
            "import_count",
            u32::from(self.directory.import_count),
            to_u32(self.import.count()),
        )?;
        mismatch(
            dir,
            sf_at + 7,
            "applet_count",
            u32::from(self.directory.applet_count),
            to_u32(self.applet.map_or(0, |a| a.applets.len())),
        )?;
        let mut customs = self.directory.custom_components;
        loop {
            let at = customs.offset();
            let Some(custom) = customs.next() else { break };
            if let Some(raw) = self.component(ComponentTag::Custom(custom.component_tag)) {
                mismatch(
                    dir,
                    at + 1,
                    "custom component size",
                    u32::from(custom.size),
                    to_u32(raw.info.len()),
                )?;
            }
        }
        let flags = self.header.flags;
        mismatch(
            ComponentTag::Header,
            9,
            "ACC_APPLET flag",
            u32::from(flags & ACC_APPLET != 0),
            u32::from(self.applet.is_some()),
        )?;
        mismatch(
            ComponentTag::Header,
            9,
            "ACC_EXPORT flag",
            u32::from(flags & ACC_EXPORT != 0),
            u32::from(self.export.is_some()),
        )
    }

    /// Checks a `class_ref` found in `tag` at `offset`.
    fn check_class_ref(
        &self,
        class: ClassRef,
        tag: ComponentTag,
        offset: usize,
        field: &'static str,
    ) -> Result<(), CapError> {
        match class {
            ClassRef::Internal(at) => {
                if self.class.entry_at(at).is_some() {
                    Ok(())
                } else {
                    Err(bad_reference(
                        tag,
                        offset,
                        field,
                        "the start of an interface_info or class_info in the Class component",
                        u32::from(at),
                    ))
                }
            }
            ClassRef::External { package_token, .. } => {
                self.check_package_token(package_token, tag, offset, field)
            }
        }
    }

    fn check_package_token(
        &self,
        package_token: u8,
        tag: ComponentTag,
        offset: usize,
        field: &'static str,
    ) -> Result<(), CapError> {
        if usize::from(package_token) < self.import.count() {
            Ok(())
        } else {
            Err(bad_reference(
                tag,
                offset,
                field,
                "a package token below the Import count",
                u32::from(package_token),
            ))
        }
    }

    /// True if `offset` is the start of a method header: a Descriptor method offset when the
    /// Descriptor is present, otherwise any well-formed header in the method area.
    fn is_method_offset(&self, offset: u16) -> bool {
        match self.descriptor {
            Some(descriptor) => descriptor.classes.into_iter().any(|class| {
                !class.is_interface()
                    && class.methods.into_iter().any(|m| m.method_offset == offset)
            }),
            None => self.method.header_at(usize::from(offset)).is_ok(),
        }
    }

    fn check_method_offset(
        &self,
        offset: u16,
        tag: ComponentTag,
        at: usize,
        field: &'static str,
    ) -> Result<(), CapError> {
        if self.is_method_offset(offset) {
            Ok(())
        } else {
            Err(bad_reference(
                tag,
                at,
                field,
                "a method header in the Method component",
                u32::from(offset),
            ))
        }
    }

    fn check_static_field_offset(
        &self,
        offset: u16,
        tag: ComponentTag,
        at: usize,
        field: &'static str,
    ) -> Result<(), CapError> {
        if offset < self.static_field.image_size {
            Ok(())
        } else {
            Err(bad_reference(
                tag,
                at,
                field,
                "an offset inside the static field image",
                u32::from(offset),
            ))
        }
    }

    /// Superclasses, superinterfaces, implemented interfaces and method tables.
    pub fn check_class_component(&self) -> Result<(), CapError> {
        let tag = ComponentTag::Class;
        for entry in self.class.entries {
            let at = usize::from(entry.offset()) + 3;
            match entry {
                ClassEntry::Interface(i) => {
                    for (n, r) in i.superinterfaces.iter().enumerate() {
                        self.check_class_ref(r, tag, at + 1 + 2 * n, "superinterface")?;
                    }
                }
                ClassEntry::Class(c) => {
                    if let Some(superclass) = c.super_class_ref {
                        self.check_class_ref(superclass, tag, at + 1, "super_class_ref")?;
                    }
                    let tables = c
                        .public_virtual_method_table
                        .iter()
                        .chain(c.package_virtual_method_table.iter());
                    for (n, offset) in tables.enumerate() {
                        // 0xFFFF (and 0 from old converters): implemented in a superclass.
                        if offset != 0xFFFF && offset != 0 {
                            self.check_method_offset(
                                offset,
                                tag,
                                at + 10 + 2 * n,
                                "virtual method table entry",
                            )?;
                        }
                    }
                    for i in c.interfaces {
                        self.check_class_ref(i.interface, tag, at, "implemented interface")?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Every constant-pool entry refers to something real.
    pub fn check_constant_pool(&self) -> Result<(), CapError> {
        let tag = ComponentTag::ConstantPool;
        let mut entries = self.constant_pool.entries;
        loop {
            let at = entries.offset();
            let Some(entry) = entries.next() else {
                return Ok(());
            };
            match entry {
                CpEntry::ClassRef(class) => self.check_class_ref(class, tag, at + 1, "Classref")?,
                CpEntry::InstanceFieldRef { class, token } => {
                    self.check_class_ref(class, tag, at + 1, "InstanceFieldref class")?;
                    if let ClassRef::Internal(offset) = class {
                        match self.class.entry_at(offset) {
                            Some(ClassEntry::Class(c)) if token < c.declared_instance_size => {}
                            _ => {
                                return Err(bad_reference(
                                    tag,
                                    at + 3,
                                    "InstanceFieldref token",
                                    "a field token below the class's declared_instance_size",
                                    u32::from(token),
                                ))
                            }
                        }
                    }
                }
                CpEntry::VirtualMethodRef { class, token } => {
                    self.check_class_ref(class, tag, at + 1, "VirtualMethodref class")?;
                    if token & 0x80 != 0 && !matches!(class, ClassRef::Internal(_)) {
                        return Err(bad_reference(
                            tag,
                            at + 1,
                            "VirtualMethodref class",
                            "an internal class for a package-visible method token",
                            u32::from(class.to_u16()),
                        ));
                    }
                }
                CpEntry::SuperMethodRef { class, .. } => {
                    if !matches!(class, ClassRef::Internal(_)) {
                        return Err(bad_reference(
                            tag,
                            at + 1,
                            "SuperMethodref class",
                            "an internal class",
                            u32::from(class.to_u16()),
                        ));
                    }
                    self.check_class_ref(class, tag, at + 1, "SuperMethodref class")?;
                }
                CpEntry::StaticFieldRef(StaticRef::Internal(offset)) => {
                    self.check_static_field_offset(offset, tag, at + 2, "StaticFieldref offset")?
                }
                CpEntry::StaticMethodRef(StaticRef::Internal(offset)) => {
                    self.check_method_offset(offset, tag, at + 2, "StaticMethodref offset")?
                }
                CpEntry::StaticFieldRef(StaticRef::External { package_token, .. })
                | CpEntry::StaticMethodRef(StaticRef::External { package_token, .. }) => {
                    self.check_package_token(package_token, tag, at + 1, "static reference")?
                }
            }
        }
    }

    fn is_classref_index(&self, index: u16) -> bool {
        matches!(
            self.constant_pool.get(usize::from(index)),
            Some(CpEntry::ClassRef(_))
        )
    }

    /// Exception handler ranges lie in the method area; catch types are Classrefs.
    pub fn check_handlers(&self) -> Result<(), CapError> {
        let tag = ComponentTag::Method;
        let area = self.method.methods_offset..self.method.info().len();
        for (n, h) in self.method.handlers.enumerate() {
            let at = 3 + 1 + 8 * n;
            let end = usize::try_from(h.end_offset()).unwrap_or(usize::MAX);
            let start = usize::from(h.start_offset);
            if !area.contains(&start) || end > area.end || end <= start {
                return Err(bad_reference(
                    tag,
                    at,
                    "handler try range",
                    "a non-empty range inside the method area",
                    u32::from(h.start_offset),
                ));
            }
            if !area.contains(&usize::from(h.handler_offset)) {
                return Err(bad_reference(
                    tag,
                    at + 4,
                    "handler_offset",
                    "an offset inside the method area",
                    u32::from(h.handler_offset),
                ));
            }
            if h.catch_type_index != 0 && !self.is_classref_index(h.catch_type_index) {
                return Err(bad_reference(
                    tag,
                    at + 6,
                    "catch_type_index",
                    "a Classref entry of the constant pool",
                    u32::from(h.catch_type_index),
                ));
            }
        }
        Ok(())
    }

    /// Every Descriptor method has a header and bytecode inside the Method component, and its
    /// handlers lie inside its bytecode.
    pub fn check_method_listing(&self) -> Result<(), CapError> {
        if self.descriptor.is_none() {
            return Ok(());
        }
        for method in self.methods() {
            let method = method?;
            let code = method.bytecode_offset..method.bytecode_offset + method.bytecode.len();
            for h in method.handlers {
                let start = usize::from(h.start_offset);
                let end = usize::try_from(h.end_offset()).unwrap_or(usize::MAX);
                let handler = usize::from(h.handler_offset);
                if !code.contains(&start) || end > code.end || !code.contains(&handler) {
                    return Err(bad_reference(
                        ComponentTag::Method,
                        3 + method.bytecode_offset,
                        "exception handler of this method",
                        "try range and handler inside the method's bytecode",
                        u32::from(h.start_offset),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Finds the bytecode range holding `[offset, offset + width)`. `cursor` continues where
    /// the last search stopped, so ascending offsets over methods in ascending order (what
    /// converters write) cost one pass; otherwise it wraps around once.
    fn code_range_containing(
        &self,
        offset: usize,
        width: usize,
        cursor: &mut (CodeRange, crate::cap::Methods<'a>),
    ) -> Result<bool, CapError> {
        let inside = |r: &CodeRange| offset >= r.start && offset + width <= r.end;
        if inside(&cursor.0) {
            return Ok(true);
        }
        for _pass in 0..2 {
            for method in cursor.1.by_ref() {
                let method = method?;
                let range = CodeRange {
                    start: method.bytecode_offset,
                    end: method.bytecode_offset + method.bytecode.len(),
                };
                if inside(&range) {
                    cursor.0 = range;
                    return Ok(true);
                }
            }
            cursor.1 = self.methods();
        }
        Ok(false)
    }

    /// Every ReferenceLocation offset is a CP index operand inside method bytecode (or a
    /// handler's catch type) and holds a valid CP index.
    pub fn check_ref_locations(&self) -> Result<(), CapError> {
        let tag = ComponentTag::ReferenceLocation;
        let info = self.method.info();
        let cp_len = self.constant_pool.len();
        let lists = [
            (self.ref_location.byte_index_deltas, 1usize, 3 + 2),
            (
                self.ref_location.byte2_index_deltas,
                2usize,
                3 + 2 + self.ref_location.byte_index_deltas.len() + 2,
            ),
        ];
        let handler_count = self.method.handlers.len();
        for (deltas, width, list_at) in lists {
            let mut cursor = (CodeRange::default(), self.methods());
            let mut position = 0usize;
            for (n, &delta) in deltas.iter().enumerate() {
                position = position.saturating_add(usize::from(delta));
                if delta == 255 {
                    continue;
                }
                let at = list_at + n;
                let value = match width {
                    1 => info.get(position).map(|&b| usize::from(b)),
                    _ => match (info.get(position), info.get(position + 1)) {
                        (Some(&hi), Some(&lo)) => Some(usize::from(u16::from_be_bytes([hi, lo]))),
                        _ => None,
                    },
                };
                let is_catch_type = width == 2
                    && position >= 7
                    && (position - 7) & 7 == 0
                    && (position - 7) / 8 < handler_count;
                let located = if self.descriptor.is_some() && !is_catch_type {
                    self.code_range_containing(position, width, &mut cursor)?
                } else {
                    position >= self.method.methods_offset || is_catch_type
                };
                if !located || value.is_none() {
                    return Err(bad_reference(
                        tag,
                        at,
                        "reference location",
                        "a CP index operand inside method bytecode",
                        to_u32(position),
                    ));
                }
                if let Some(index) = value.filter(|&v| v >= cp_len) {
                    return Err(bad_reference(
                        tag,
                        at,
                        "CP index at this reference location",
                        "an index below the constant pool count",
                        to_u32(index),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Applet install methods are method headers; applet AIDs share the package RID.
    pub fn check_applets(&self) -> Result<(), CapError> {
        let Some(applet) = self.applet else {
            return Ok(());
        };
        let rid = self.header.package.aid.get(..5);
        let mut applets = applet.applets;
        loop {
            let at = applets.offset();
            let Some(a) = applets.next() else {
                return Ok(());
            };
            if a.aid.get(..5) != rid {
                return Err(CapError::new(
                    Some(ComponentTag::Applet),
                    at,
                    ErrorKind::Invalid {
                        field: "applet AID",
                        expected: "the package's RID (first 5 AID bytes)",
                        found: a.aid.first().copied().map_or(0, u32::from),
                    },
                ));
            }
            self.check_method_offset(
                a.install_method_offset,
                ComponentTag::Applet,
                at + 1 + a.aid.len(),
                "install_method_offset",
            )?;
        }
    }

    /// Export class offsets, static field offsets and static method offsets.
    pub fn check_export(&self) -> Result<(), CapError> {
        let Some(export) = self.export else {
            return Ok(());
        };
        let tag = ComponentTag::Export;
        let mut classes = export.classes;
        loop {
            let at = classes.offset();
            let Some(c) = classes.next() else {
                return Ok(());
            };
            self.check_class_ref(ClassRef::Internal(c.class_offset), tag, at, "class_offset")?;
            for offset in c.static_field_offsets.iter() {
                self.check_static_field_offset(offset, tag, at + 4, "static_field_offsets")?;
            }
            for offset in c.static_method_offsets.iter() {
                self.check_method_offset(offset, tag, at + 4, "static_method_offsets")?;
            }
        }
    }

    /// The Descriptor lists the Class component's entries in order, its constant-pool types
    /// match the constant pool, and its field and type references are real.
    pub fn check_descriptor(&self) -> Result<(), CapError> {
        let Some(descriptor) = self.descriptor else {
            return Ok(());
        };
        let tag = ComponentTag::Descriptor;
        mismatch(
            tag,
            3,
            "class_count",
            to_u32(descriptor.classes.len()),
            to_u32(self.class.entries.len()),
        )?;
        let is_type = |offset: u16| descriptor.type_descriptor_at(offset).is_some();
        let mut classes = descriptor.classes;
        let mut entries = self.class.entries;
        loop {
            let at = classes.offset();
            let (Some(class), Some(entry)) = (classes.next(), entries.next()) else {
                break;
            };
            let is_interface = class.access_flags & ACC_INTERFACE_DESCRIPTOR != 0;
            if class.this_class_ref != ClassRef::Internal(entry.offset())
                || is_interface != matches!(entry, ClassEntry::Interface(_))
            {
                return Err(bad_reference(
                    tag,
                    at + 2,
                    "this_class_ref",
                    "the Class component entry in the same position and of the same kind",
                    u32::from(class.this_class_ref.to_u16()),
                ));
            }
            for f in class.fields {
                if let FieldRef::Static(StaticRef::Internal(offset)) = f.field_ref {
                    self.check_static_field_offset(offset, tag, at, "static field_ref")?;
                }
                if f.field_type & 0x8000 == 0 && !is_type(f.field_type) {
                    return Err(bad_reference(
                        tag,
                        at,
                        "field type",
                        "a type descriptor",
                        u32::from(f.field_type),
                    ));
                }
            }
            for m in class.methods {
                if !is_type(m.type_offset) {
                    return Err(bad_reference(
                        tag,
                        at,
                        "method type_offset",
                        "a type descriptor",
                        u32::from(m.type_offset),
                    ));
                }
            }
        }
        let types_at = 3 + descriptor.types_offset;
        mismatch(
            tag,
            types_at,
            "constant_pool_count",
            to_u32(descriptor.constant_pool_types.len()),
            to_u32(self.constant_pool.len()),
        )?;
        for (n, (type_offset, entry)) in descriptor
            .constant_pool_types
            .iter()
            .zip(self.constant_pool.entries)
            .enumerate()
        {
            let ok = match entry {
                CpEntry::ClassRef(_) => type_offset == 0xFFFF,
                _ => is_type(type_offset),
            };
            if !ok {
                return Err(bad_reference(
                    tag,
                    types_at + 2 + 2 * n,
                    "constant_pool_types entry",
                    "0xFFFF for a Classref, else a type descriptor",
                    u32::from(type_offset),
                ));
            }
        }
        Ok(())
    }
}
