//! Directory component (tag 2): sizes of all components, static field sizes, counts and the
//! custom components. A loader checks every other component against it.

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag, ErrorKind};
use crate::reader::{ByteReader, Decode, Items, U2List};

/// A `custom_component_info`: a custom component declared in the Directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomComponentInfo<'a> {
    /// Component tag (128..=255).
    pub component_tag: u8,
    /// Size of the component's info.
    pub size: u16,
    /// AID identifying the custom component.
    pub aid: &'a [u8],
}

impl<'a> Decode<'a> for CustomComponentInfo<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let at = reader.position();
        let component_tag = reader.u1("custom component_tag")?;
        if component_tag < 128 {
            return Err(reader.error_at(
                at,
                ErrorKind::Invalid {
                    field: "custom component_tag",
                    expected: "a custom tag 128..=255",
                    found: u32::from(component_tag),
                },
            ));
        }
        Ok(CustomComponentInfo {
            component_tag,
            size: reader.u2("custom component size")?,
            aid: reader.aid("custom component AID")?,
        })
    }
}

/// `static_field_size_info` of the Directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StaticFieldSizeInfo {
    /// Bytes of the static field image.
    pub image_size: u16,
    /// Number of array initialisers.
    pub array_init_count: u16,
    /// Total bytes of array initialiser values.
    pub array_init_size: u16,
}

/// Zero-copy view of the Directory component.
#[derive(Clone, Copy, Debug)]
pub struct Directory<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// Sizes of components with tags 1.. (11 entries in CAP 2.1, 12 from 2.2).
    pub component_sizes: U2List<'a>,
    /// Size of the StaticResources component (CAP 2.3 only).
    pub static_resources_size: Option<u32>,
    /// Static field image sizes.
    pub static_field_size: StaticFieldSizeInfo,
    /// Number of imported packages.
    pub import_count: u8,
    /// Number of applets.
    pub applet_count: u8,
    /// Custom components.
    pub custom_components: Items<'a, CustomComponentInfo<'a>>,
}

impl<'a> Directory<'a> {
    /// Number of `component_sizes` entries for a CAP version.
    pub fn size_count(version: CapVersion) -> usize {
        if version.minor >= 2 {
            12
        } else {
            11
        }
    }

    /// Parses a complete Directory component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Directory)?;
        let mut r = raw.info_reader(version);
        let component_sizes = r.u2_list(Self::size_count(version), "component_sizes")?;
        let static_resources_size = if version.minor >= 3 {
            Some(r.u4("static_resources_size")?)
        } else {
            None
        };
        let static_field_size = StaticFieldSizeInfo {
            image_size: r.u2("image_size")?,
            array_init_count: r.u2("array_init_count")?,
            array_init_size: r.u2("array_init_size")?,
        };
        let import_count = r.u1("import_count")?;
        let applet_count = r.u1("applet_count")?;
        let custom_count = r.u1("custom_count")?;
        let custom_components = Items::parse(&mut r, usize::from(custom_count))?;
        r.finish()?;
        Ok(Directory {
            raw,
            component_sizes,
            static_resources_size,
            static_field_size,
            import_count,
            applet_count,
            custom_components,
        })
    }

    /// The declared size of the component with `tag` (tags 1..=12; 13 from
    /// `static_resources_size`; custom tags from the custom component list).
    pub fn component_size(&self, tag: ComponentTag) -> Option<u32> {
        match tag {
            ComponentTag::StaticResources => self.static_resources_size,
            ComponentTag::Custom(t) => {
                let mut all = self.custom_components;
                all.find(|c| c.component_tag == t)
                    .map(|c| u32::from(c.size))
            }
            other => self
                .component_sizes
                .get(usize::from(other.to_u8()).saturating_sub(1))
                .map(u32::from),
        }
    }
}
