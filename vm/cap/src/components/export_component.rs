//! Export component (tag 10): this package's public classes and their static members, indexed
//! by token, as other packages link to them. (Export *files*, `.exp`, are in [`crate::export`].)

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag};
use crate::reader::{ByteReader, Decode, Items, U2List};

/// A `class_export_info`; its index in the component is the class token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassExport<'a> {
    /// Offset of the class or interface in the Class component info.
    pub class_offset: u16,
    /// Static field image offsets, indexed by static field token.
    pub static_field_offsets: U2List<'a>,
    /// Method component info offsets, indexed by static method token.
    pub static_method_offsets: U2List<'a>,
}

impl<'a> Decode<'a> for ClassExport<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let class_offset = reader.u2("class_offset")?;
        let field_count = reader.u1("static_field_count")?;
        let method_count = reader.u1("static_method_count")?;
        Ok(ClassExport {
            class_offset,
            static_field_offsets: reader
                .u2_list(usize::from(field_count), "static_field_offsets")?,
            static_method_offsets: reader
                .u2_list(usize::from(method_count), "static_method_offsets")?,
        })
    }
}

/// Zero-copy view of the Export component.
#[derive(Clone, Copy, Debug)]
pub struct ExportComponent<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// Exported classes; the index is the class token.
    pub classes: Items<'a, ClassExport<'a>>,
}

impl<'a> ExportComponent<'a> {
    /// Parses a complete Export component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Export)?;
        let mut r = raw.info_reader(version);
        let count = r.u1("class_count")?;
        let classes = Items::parse(&mut r, usize::from(count))?;
        r.finish()?;
        Ok(ExportComponent { raw, classes })
    }
}
