//! A whole CAP: the components of one package assembled into [`Cap`], from component slices or
//! a GlobalPlatform Load File Data Block, and the method listing used by disassemblers and the
//! VM.

use crate::component::{CapVersion, RawComponent};
use crate::components::applet::AppletComponent;
use crate::components::class::ClassComponent;
use crate::components::constant_pool::ConstantPool;
use crate::components::debug::DebugComponent;
use crate::components::descriptor::{ClassDescriptor, Descriptor, MethodDescriptor};
use crate::components::directory::Directory;
use crate::components::export_component::ExportComponent;
use crate::components::header::Header;
use crate::components::import::Import;
use crate::components::method::{ExceptionHandler, MethodComponent, MethodHeader};
use crate::components::ref_location::RefLocation;
use crate::components::static_field::StaticField;
use crate::error::{CapError, ComponentTag, ErrorKind};
use crate::reader::Items;

/// Most custom components a [`Cap`] keeps.
pub const MAX_CUSTOM_COMPONENTS: usize = 8;

/// The order of components in a GlobalPlatform Load File Data Block (Descriptor last, optional;
/// Debug never loaded).
pub const LOAD_ORDER: [ComponentTag; 11] = [
    ComponentTag::Header,
    ComponentTag::Directory,
    ComponentTag::Import,
    ComponentTag::Applet,
    ComponentTag::Class,
    ComponentTag::Method,
    ComponentTag::StaticField,
    ComponentTag::Export,
    ComponentTag::ConstantPool,
    ComponentTag::ReferenceLocation,
    ComponentTag::Descriptor,
];

/// The components of one CAP file, each parsed into its view.
#[derive(Clone, Copy, Debug)]
pub struct Cap<'a> {
    /// Header component.
    pub header: Header<'a>,
    /// Directory component.
    pub directory: Directory<'a>,
    /// Applet component, if the package has applets.
    pub applet: Option<AppletComponent<'a>>,
    /// Import component.
    pub import: Import<'a>,
    /// ConstantPool component.
    pub constant_pool: ConstantPool<'a>,
    /// Class component.
    pub class: ClassComponent<'a>,
    /// Method component.
    pub method: MethodComponent<'a>,
    /// StaticField component.
    pub static_field: StaticField<'a>,
    /// ReferenceLocation component.
    pub ref_location: RefLocation<'a>,
    /// Export component, if the package exports anything.
    pub export: Option<ExportComponent<'a>>,
    /// Descriptor component (always in a CAP file, often absent from a load file).
    pub descriptor: Option<Descriptor<'a>>,
    /// Debug component (never loaded).
    pub debug: Option<DebugComponent<'a>>,
    /// StaticResources component (CAP 2.3), unparsed.
    pub static_resources: Option<RawComponent<'a>>,
    custom: [Option<RawComponent<'a>>; MAX_CUSTOM_COMPONENTS],
}

/// Collects raw components by tag, rejecting duplicates.
struct Collected<'a> {
    standard: [Option<RawComponent<'a>>; 13],
    custom: [Option<RawComponent<'a>>; MAX_CUSTOM_COMPONENTS],
}

impl<'a> Collected<'a> {
    fn new() -> Self {
        Collected {
            standard: [None; 13],
            custom: [None; MAX_CUSTOM_COMPONENTS],
        }
    }

    /// Adds `raw`; `at` is its offset in a load file (errors then name the container).
    fn add(&mut self, raw: RawComponent<'a>, at: Option<usize>) -> Result<(), CapError> {
        let tag = raw.component_tag();
        let error = |kind| match at {
            Some(offset) => CapError::new(None, offset, kind),
            None => CapError::new(tag, 0, kind),
        };
        let slot = match tag {
            Some(ComponentTag::Custom(_)) => self.custom.iter_mut().find(|s| match s {
                None => true,
                Some(other) => other.tag == raw.tag,
            }),
            Some(standard) => usize::from(standard.to_u8())
                .checked_sub(1)
                .and_then(|index| self.standard.get_mut(index)),
            None => None,
        };
        let (Some(slot), Some(tag)) = (slot, tag) else {
            return Err(error(match tag {
                Some(_) => ErrorKind::Unsupported {
                    what: "more than 8 custom components",
                },
                None => ErrorKind::Invalid {
                    field: "component tag",
                    expected: "a component tag 1..=13 or 128..=255",
                    found: u32::from(raw.tag),
                },
            }));
        };
        if slot.is_some() {
            return Err(error(ErrorKind::DuplicateComponent { tag }));
        }
        *slot = Some(raw);
        Ok(())
    }

    fn get(&self, tag: ComponentTag) -> Option<RawComponent<'a>> {
        self.standard
            .get(usize::from(tag.to_u8()).checked_sub(1)?)
            .copied()
            .flatten()
    }

    fn require(&self, tag: ComponentTag) -> Result<&'a [u8], CapError> {
        self.get(tag).map(|raw| raw.bytes).ok_or(CapError::new(
            None,
            0,
            ErrorKind::MissingComponent { tag },
        ))
    }

    fn build(self) -> Result<Cap<'a>, CapError> {
        let header = Header::parse(self.require(ComponentTag::Header)?)?;
        let v = header.version();
        let optional = |tag| self.get(tag).map(|raw: RawComponent<'a>| raw.bytes);
        Ok(Cap {
            header,
            directory: Directory::parse(self.require(ComponentTag::Directory)?, v)?,
            applet: optional(ComponentTag::Applet)
                .map(|b| AppletComponent::parse(b, v))
                .transpose()?,
            import: Import::parse(self.require(ComponentTag::Import)?, v)?,
            constant_pool: ConstantPool::parse(self.require(ComponentTag::ConstantPool)?, v)?,
            class: ClassComponent::parse(self.require(ComponentTag::Class)?, v)?,
            method: MethodComponent::parse(self.require(ComponentTag::Method)?, v)?,
            static_field: StaticField::parse(self.require(ComponentTag::StaticField)?, v)?,
            ref_location: RefLocation::parse(self.require(ComponentTag::ReferenceLocation)?, v)?,
            export: optional(ComponentTag::Export)
                .map(|b| ExportComponent::parse(b, v))
                .transpose()?,
            descriptor: optional(ComponentTag::Descriptor)
                .map(|b| Descriptor::parse(b, v))
                .transpose()?,
            debug: optional(ComponentTag::Debug)
                .map(|b| DebugComponent::parse(b, v))
                .transpose()?,
            static_resources: self.get(ComponentTag::StaticResources),
            custom: self.custom,
        })
    }
}

impl<'a> Cap<'a> {
    /// Assembles a CAP from complete components (each slice is exactly one component: tag,
    /// size, info), in any order. Required: Header, Directory, Import, ConstantPool, Class,
    /// Method, StaticField, ReferenceLocation; each tag at most once.
    pub fn from_components<I>(components: I) -> Result<Self, CapError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut collected = Collected::new();
        for bytes in components {
            let (raw, rest) = RawComponent::split_first(bytes, 0)?;
            if !rest.is_empty() {
                return Err(CapError::new(
                    raw.component_tag(),
                    raw.bytes.len(),
                    ErrorKind::TrailingBytes { count: rest.len() },
                ));
            }
            collected.add(raw, None)?;
        }
        collected.build()
    }

    /// Parses a GlobalPlatform Load File Data Block: complete components concatenated (any
    /// order is accepted; [`LOAD_ORDER`] is the usual one).
    pub fn parse_load_file(bytes: &'a [u8]) -> Result<Self, CapError> {
        let mut collected = Collected::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let at = bytes.len() - rest.len();
            let (raw, tail) = RawComponent::split_first(rest, at)?;
            collected.add(raw, Some(at))?;
            rest = tail;
        }
        collected.build()
    }

    /// The CAP format version.
    pub fn version(&self) -> CapVersion {
        self.header.version()
    }

    /// The custom components present.
    pub fn custom_components(&self) -> impl Iterator<Item = RawComponent<'a>> + '_ {
        self.custom.iter().flatten().copied()
    }

    /// The component with `tag`, as raw bytes, if present.
    pub fn component(&self, tag: ComponentTag) -> Option<RawComponent<'a>> {
        match tag {
            ComponentTag::Header => Some(self.header.raw),
            ComponentTag::Directory => Some(self.directory.raw),
            ComponentTag::Applet => self.applet.map(|c| c.raw),
            ComponentTag::Import => Some(self.import.raw),
            ComponentTag::ConstantPool => Some(self.constant_pool.raw),
            ComponentTag::Class => Some(self.class.raw),
            ComponentTag::Method => Some(self.method.raw),
            ComponentTag::StaticField => Some(self.static_field.raw),
            ComponentTag::ReferenceLocation => Some(self.ref_location.raw),
            ComponentTag::Export => self.export.map(|c| c.raw),
            ComponentTag::Descriptor => self.descriptor.map(|c| c.raw),
            ComponentTag::Debug => self.debug.map(|c| c.raw),
            ComponentTag::StaticResources => self.static_resources,
            ComponentTag::Custom(t) => self.custom_components().find(|c| c.tag == t),
        }
    }

    /// The components present, in Load File order ([`LOAD_ORDER`], then Debug,
    /// StaticResources and custom components).
    pub fn components(&self) -> impl Iterator<Item = RawComponent<'a>> + '_ {
        LOAD_ORDER
            .iter()
            .chain([ComponentTag::Debug, ComponentTag::StaticResources].iter())
            .filter_map(|&tag| self.component(tag))
            .chain(self.custom_components())
    }

    /// Every method of every class in the Descriptor, in Descriptor order. Yields one error
    /// if the Descriptor is absent.
    pub fn methods(&self) -> Methods<'a> {
        Methods {
            method: self.method,
            classes: self.descriptor.map(|d| d.classes),
            current: None,
            class_index: 0,
            missing_reported: false,
        }
    }
}

/// One method as listed by [`Cap::methods`].
#[derive(Clone, Copy, Debug)]
pub struct MethodEntry<'a> {
    /// Index of the class in the Descriptor (and Class component) order.
    pub class_index: usize,
    /// The class's descriptor (token, flags, `this_class_ref`).
    pub class: ClassDescriptor<'a>,
    /// Index of the method in its class's descriptor.
    pub method_index: usize,
    /// The method's descriptor (token, flags, offsets, sizes).
    pub descriptor: MethodDescriptor,
    /// The method header; `None` for interface methods (not in the Method component).
    pub header: Option<MethodHeader>,
    /// Method component info offset of the first bytecode.
    pub bytecode_offset: usize,
    /// The bytecode (`bytecode_count` bytes after the header).
    pub bytecode: &'a [u8],
    /// The method's exception handlers.
    pub handlers: Items<'a, ExceptionHandler>,
}

impl MethodEntry<'_> {
    /// Class token (0xFF for package-visible classes).
    pub fn class_token(&self) -> u8 {
        self.class.token
    }

    /// Method token (0xFF for methods without one).
    pub fn method_token(&self) -> u8 {
        self.descriptor.token
    }

    /// Method access flags (Descriptor values).
    pub fn access_flags(&self) -> u8 {
        self.descriptor.access_flags
    }

    /// Offset of the `method_info` in the Method component info.
    pub fn method_offset(&self) -> u16 {
        self.descriptor.method_offset
    }

    /// True if the method has bytecode.
    pub fn has_code(&self) -> bool {
        !self.bytecode.is_empty()
    }
}

/// Iterator over the methods of a CAP ([`Cap::methods`]).
#[derive(Clone, Debug)]
pub struct Methods<'a> {
    method: MethodComponent<'a>,
    classes: Option<Items<'a, ClassDescriptor<'a>>>,
    current: Option<(ClassDescriptor<'a>, Items<'a, MethodDescriptor>, usize)>,
    class_index: usize,
    missing_reported: bool,
}

impl<'a> Methods<'a> {
    fn entry(
        &self,
        class: ClassDescriptor<'a>,
        method_index: usize,
        descriptor: MethodDescriptor,
    ) -> Result<MethodEntry<'a>, CapError> {
        let offset = usize::from(descriptor.method_offset);
        let handlers = self
            .method
            .handlers
            .range(
                usize::from(descriptor.exception_handler_index),
                usize::from(descriptor.exception_handler_count),
            )
            .ok_or_else(|| {
                CapError::new(
                    Some(ComponentTag::Method),
                    3,
                    ErrorKind::BadReference {
                        field: "Descriptor exception_handler_index",
                        expected: "a range inside the handler table",
                        value: u32::from(descriptor.exception_handler_index),
                    },
                )
            })?;
        let class_index = self.class_index.saturating_sub(1);
        if class.is_interface() {
            return Ok(MethodEntry {
                class_index,
                class,
                method_index,
                descriptor,
                header: None,
                bytecode_offset: offset,
                bytecode: &[],
                handlers,
            });
        }
        let header = self.method.header_at(offset)?;
        let mut reader = self.method.reader_at(offset.saturating_add(header.len()))?;
        let bytecode_offset = reader.position();
        let bytecode = reader.bytes(usize::from(descriptor.bytecode_count), "method bytecode")?;
        Ok(MethodEntry {
            class_index,
            class,
            method_index,
            descriptor,
            header: Some(header),
            bytecode_offset,
            bytecode,
            handlers,
        })
    }
}

impl<'a> Iterator for Methods<'a> {
    type Item = Result<MethodEntry<'a>, CapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.classes.is_none() {
            if self.missing_reported {
                return None;
            }
            self.missing_reported = true;
            return Some(Err(CapError::new(
                None,
                0,
                ErrorKind::MissingComponent {
                    tag: ComponentTag::Descriptor,
                },
            )));
        }
        loop {
            if let Some((class, methods, index)) = self.current.as_mut() {
                if let Some(descriptor) = methods.next() {
                    let (class, method_index) = (*class, *index);
                    *index += 1;
                    return Some(self.entry(class, method_index, descriptor));
                }
            }
            let class = self.classes.as_mut()?.next()?;
            self.class_index += 1;
            self.current = Some((class, class.methods, 0));
        }
    }
}
