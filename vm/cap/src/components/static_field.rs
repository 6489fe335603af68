//! StaticField component (tag 8): size and initial contents of the static field image.

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag, ErrorKind};
use crate::reader::{ByteReader, Decode, Items};

/// An `array_init_info`: a static primitive array initialised by `<clinit>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayInit<'a> {
    /// Element type: 2 boolean, 3 byte, 4 short, 5 int.
    pub element_type: u8,
    /// Element values, big-endian (`count` bytes).
    pub values: &'a [u8],
}

impl ArrayInit<'_> {
    /// Size of one element in bytes for `element_type`.
    pub fn element_size(element_type: u8) -> Option<usize> {
        match element_type {
            2 | 3 => Some(1),
            4 => Some(2),
            5 => Some(4),
            _ => None,
        }
    }
}

impl<'a> Decode<'a> for ArrayInit<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let at = reader.position();
        let element_type = reader.u1("array_init type")?;
        if ArrayInit::element_size(element_type).is_none() {
            return Err(reader.error_at(
                at,
                ErrorKind::Invalid {
                    field: "array_init type",
                    expected: "2 (boolean), 3 (byte), 4 (short) or 5 (int)",
                    found: u32::from(element_type),
                },
            ));
        }
        let count = reader.u2("array_init count")?;
        Ok(ArrayInit {
            element_type,
            values: reader.bytes(usize::from(count), "array_init values")?,
        })
    }
}

/// Zero-copy view of the StaticField component.
#[derive(Clone, Copy, Debug)]
pub struct StaticField<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// Bytes of the static field image.
    pub image_size: u16,
    /// Number of reference static fields (segments 1 and 2).
    pub reference_count: u16,
    /// Array initialisers (segment 1).
    pub array_init: Items<'a, ArrayInit<'a>>,
    /// Bytes of primitive fields with default values (segment 3).
    pub default_value_count: u16,
    /// Initial values of segment 4.
    pub non_default_values: &'a [u8],
}

impl<'a> StaticField<'a> {
    /// Parses a complete StaticField component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::StaticField)?;
        let mut r = raw.info_reader(version);
        let image_size = r.u2("image_size")?;
        let reference_count = r.u2("reference_count")?;
        let array_init_count = r.u2("array_init_count")?;
        let array_init = Items::parse(&mut r, usize::from(array_init_count))?;
        let default_value_count = r.u2("default_value_count")?;
        let non_default_count = r.u2("non_default_value_count")?;
        let non_default_values = r.bytes(usize::from(non_default_count), "non_default_values")?;
        r.finish()?;
        Ok(StaticField {
            raw,
            image_size,
            reference_count,
            array_init,
            default_value_count,
            non_default_values,
        })
    }

    /// Sum of the array initialisers' value bytes (Directory `array_init_size`).
    pub fn array_init_size(&self) -> u32 {
        self.array_init
            .map(|a| u32::try_from(a.values.len()).unwrap_or(u32::MAX))
            .fold(0u32, u32::saturating_add)
    }
}
