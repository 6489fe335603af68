//! Application identifiers (ISO/IEC 7816-5): 5 to 16 bytes, a 5-byte registered
//! application provider identifier (RID) followed by up to 11 bytes of proprietary
//! extension (PIX). Packages, applets, instances and security domains are all named by AIDs;
//! this type keeps them inline, so the card runtime needs no allocator to hold them.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

use crate::error::{ApduError, ErrorKind, Part};
use crate::hex;

/// An AID of 5 to 16 bytes, stored inline.
///
/// Equality, ordering and hashing look at the AID bytes only (ordering is lexicographic,
/// so a prefix sorts before its extensions). Display is uppercase hex (`F00000010101`).
#[derive(Clone, Copy)]
pub struct Aid {
    /// The AID bytes, zero after `len`.
    bytes: [u8; Aid::MAX_LEN],
    /// Number of AID bytes, `MIN_LEN..=MAX_LEN`.
    len: u8,
}

impl Aid {
    /// Shortest AID: the RID alone.
    pub const MIN_LEN: usize = 5;
    /// Longest AID: RID plus an 11-byte PIX.
    pub const MAX_LEN: usize = 16;
    /// Length of the RID.
    pub const RID_LEN: usize = 5;

    /// The GlobalPlatform default issuer security domain AID, `A000000151000000`.
    pub const GP_ISD: Aid = Aid::from_array_prefix(
        [
            0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
        8,
    );

    /// An AID from its first `len` bytes of `bytes`; `len` must be in 5..=16 and the rest
    /// zero (used for constants only).
    const fn from_array_prefix(bytes: [u8; Aid::MAX_LEN], len: u8) -> Aid {
        Aid { bytes, len }
    }

    /// The AID with bytes `bytes`, which must be 5 to 16 bytes long.
    pub const fn new(bytes: &[u8]) -> Result<Aid, ApduError> {
        let len = bytes.len();
        if len < Aid::MIN_LEN || len > Aid::MAX_LEN {
            let offset = if len < Aid::MIN_LEN {
                len
            } else {
                Aid::MAX_LEN
            };
            return Err(ApduError::new(
                Part::Aid,
                offset,
                ErrorKind::AidLength { len },
            ));
        }
        let mut stored = [0u8; Aid::MAX_LEN];
        let mut i = 0;
        while i < len {
            stored[i] = bytes[i];
            i += 1;
        }
        Ok(Aid {
            bytes: stored,
            len: len as u8,
        })
    }

    /// Parses hex text (see [`crate::hex`] for the accepted syntax) without allocating.
    pub fn from_hex(text: &str) -> Result<Aid, ApduError> {
        let mut stored = [0u8; Aid::MAX_LEN];
        let mut len = 0usize;
        for byte in hex::bytes(text) {
            let byte = byte?;
            if let Some(slot) = stored.get_mut(len) {
                *slot = byte;
            }
            len += 1;
        }
        match stored.get(..len) {
            Some(bytes) => Aid::new(bytes),
            None => Err(ApduError::new(
                Part::Aid,
                Aid::MAX_LEN,
                ErrorKind::AidLength { len },
            )),
        }
    }

    /// The AID bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The registered application provider identifier: the first 5 bytes.
    pub fn rid(&self) -> &[u8] {
        self.bytes.get(..Aid::RID_LEN).unwrap_or(&[])
    }

    /// The proprietary application identifier extension: the bytes after the RID (0 to 11).
    pub fn pix(&self) -> &[u8] {
        self.as_bytes().get(Aid::RID_LEN..).unwrap_or(&[])
    }

    /// Whether this AID starts with `prefix`, as Java Card's `AID.partialEquals` and a SELECT
    /// by partial AID use it. An empty prefix matches; a prefix longer than the AID does not.
    pub fn partial_match(&self, prefix: &[u8]) -> bool {
        self.as_bytes().starts_with(prefix)
    }

    /// Whether `other` has the same RID (Java Card `AID.RIDEquals`).
    pub fn rid_equals(&self, other: &Aid) -> bool {
        self.rid() == other.rid()
    }
}

impl PartialEq for Aid {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Aid {}

impl PartialOrd for Aid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Aid {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Aid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl AsRef<[u8]> for Aid {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl TryFrom<&[u8]> for Aid {
    type Error = ApduError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        Aid::new(bytes)
    }
}

impl FromStr for Aid {
    type Err = ApduError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Aid::from_hex(text)
    }
}

impl fmt::Display for Aid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&hex::Hex(self.as_bytes()), f)
    }
}

impl fmt::Debug for Aid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aid({self})")
    }
}
