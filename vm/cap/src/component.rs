//! Component framing (`u1 tag, u2 size, u1 info[size]`) and the CAP format version.
//!
//! Every component parser starts here: the frame gives the component's `info` bytes and the
//! offset at which they start, which every later error is reported against.

use crate::error::{CapError, ComponentTag, ErrorKind};
use crate::reader::ByteReader;

/// The CAP file format version (Header `minor_version`/`major_version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CapVersion {
    /// Major version, always 2.
    pub major: u8,
    /// Minor version: 1, 2 or 3.
    pub minor: u8,
}

impl CapVersion {
    /// CAP format 2.1 (no Debug component slot, no package name, no signature pool).
    pub const V2_1: CapVersion = CapVersion { major: 2, minor: 1 };
    /// CAP format 2.2.
    pub const V2_2: CapVersion = CapVersion { major: 2, minor: 2 };
    /// CAP format 2.3 (JC 3.1 and later; compact format only is supported).
    pub const V2_3: CapVersion = CapVersion { major: 2, minor: 3 };
}

/// One complete component: its tag byte, its `info` bytes and all its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawComponent<'a> {
    /// The tag byte.
    pub tag: u8,
    /// The whole component: tag, size and info.
    pub bytes: &'a [u8],
    /// The `info` array (what the size field counts).
    pub info: &'a [u8],
}

impl<'a> RawComponent<'a> {
    /// Length of tag + size: 5 for StaticResources (u4 size), otherwise 3.
    pub fn header_len(tag: u8) -> usize {
        if tag == ComponentTag::StaticResources.to_u8() {
            5
        } else {
            3
        }
    }

    /// The component's tag, if it is a known or custom tag.
    pub fn component_tag(&self) -> Option<ComponentTag> {
        ComponentTag::from_u8(self.tag)
    }

    /// Splits the first component off `data`, which starts at `base` in a container. Errors
    /// name the container (component `None`) with offsets counted from `base`'s origin.
    pub fn split_first(data: &'a [u8], base: usize) -> Result<(Self, &'a [u8]), CapError> {
        let mut reader = ByteReader::new(data, None, base, 1);
        let at = reader.position();
        let tag = reader.u1("component tag")?;
        if ComponentTag::from_u8(tag).is_none() {
            return Err(reader.error_at(
                at,
                ErrorKind::Invalid {
                    field: "component tag",
                    expected: "a component tag 1..=13 or 128..=255",
                    found: u32::from(tag),
                },
            ));
        }
        let size = if Self::header_len(tag) == 5 {
            reader.u4("component size")?
        } else {
            u32::from(reader.u2("component size")?)
        };
        let size = usize::try_from(size).map_err(|_| {
            reader.error(ErrorKind::Unsupported {
                what: "component larger than the address space",
            })
        })?;
        let info = reader.bytes(size, "component info")?;
        let total = reader.position();
        let bytes = data.get(..total).unwrap_or(&[]);
        let rest = data.get(total..).unwrap_or(&[]);
        Ok((RawComponent { tag, bytes, info }, rest))
    }

    /// Parses `data` as exactly one component of tag `expected` (no bytes after it).
    pub fn parse_exact(data: &'a [u8], expected: ComponentTag) -> Result<Self, CapError> {
        let (raw, rest) = Self::split_first(data, 0).map_err(|e| CapError {
            component: Some(expected),
            ..e
        })?;
        if raw.tag != expected.to_u8() {
            return Err(CapError::new(
                Some(expected),
                0,
                ErrorKind::Invalid {
                    field: "component tag",
                    expected: "the tag of the component being parsed",
                    found: u32::from(raw.tag),
                },
            ));
        }
        if !rest.is_empty() {
            return Err(CapError::new(
                Some(expected),
                raw.bytes.len(),
                ErrorKind::TrailingBytes { count: rest.len() },
            ));
        }
        Ok(raw)
    }

    /// A reader over `info` for this component and CAP version.
    pub fn info_reader(&self, version: CapVersion) -> ByteReader<'a> {
        ByteReader::new(
            self.info,
            ComponentTag::from_u8(self.tag),
            Self::header_len(self.tag),
            version.minor,
        )
    }
}
