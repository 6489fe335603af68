//! ReferenceLocation component (tag 9): where the Method component holds constant-pool
//! indices (1-byte and 2-byte), delta-encoded with 255 as a continuation byte.

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag};

/// Decodes a delta-encoded offset list into absolute Method component info offsets.
#[derive(Clone, Debug)]
pub struct RefOffsets<'a> {
    deltas: core::slice::Iter<'a, u8>,
    position: u32,
}

impl<'a> RefOffsets<'a> {
    /// Iterates the offsets encoded by `deltas`.
    pub fn new(deltas: &'a [u8]) -> Self {
        RefOffsets {
            deltas: deltas.iter(),
            position: 0,
        }
    }
}

impl Iterator for RefOffsets<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        for &delta in self.deltas.by_ref() {
            self.position = self.position.saturating_add(u32::from(delta));
            if delta != 255 {
                return Some(self.position);
            }
        }
        None
    }
}

/// Zero-copy view of the ReferenceLocation component.
#[derive(Clone, Copy, Debug)]
pub struct RefLocation<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// `offsets_to_byte_indices`: the encoded 1-byte index list.
    pub byte_index_deltas: &'a [u8],
    /// `offsets_to_byte2_indices`: the encoded 2-byte index list.
    pub byte2_index_deltas: &'a [u8],
}

impl<'a> RefLocation<'a> {
    /// Parses a complete ReferenceLocation component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::ReferenceLocation)?;
        let mut r = raw.info_reader(version);
        let count = r.u2("byte_index_count")?;
        let byte_index_deltas = r.bytes(usize::from(count), "offsets_to_byte_indices")?;
        let count = r.u2("byte2_index_count")?;
        let byte2_index_deltas = r.bytes(usize::from(count), "offsets_to_byte2_indices")?;
        r.finish()?;
        Ok(RefLocation {
            raw,
            byte_index_deltas,
            byte2_index_deltas,
        })
    }

    /// Method component info offsets of 1-byte CP indices, ascending.
    pub fn byte_index_offsets(&self) -> RefOffsets<'a> {
        RefOffsets::new(self.byte_index_deltas)
    }

    /// Method component info offsets of 2-byte CP indices, ascending.
    pub fn byte2_index_offsets(&self) -> RefOffsets<'a> {
        RefOffsets::new(self.byte2_index_deltas)
    }
}
