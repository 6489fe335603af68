//! BER-TLV (ISO/IEC 7816-4 §6.3, X.690 subset): a zero-copy reader and length/tag/TLV
//! encoders.
//!
//! GlobalPlatform data is BER-TLV: GET STATUS responses (`E3 { 4F AID, 9F70 …, C5 … }`),
//! INSTALL parameters (`C9`, `EF`), the `C4` Load File Data Block of LOAD, FCI templates.
//! The card manager and the shell read them with [`TlvReader`]; nested templates are read
//! with [`Tlv::children`]; plain length-value lists (INSTALL data) with [`LvReader`]. Supported: tags of 1 to 4 bytes (held as a [`Tag`]), lengths
//! `00`..`7F`, `81 xx`, `82 xxxx` and `83 xxxxxx`. Indefinite lengths (`80`) are errors.
//! Non-minimal lengths (e.g. `81 05`) are accepted when reading; the encoders always write
//! the shortest form.

use core::fmt;

use crate::error::{ApduError, ErrorKind, Part};
use crate::writer::Writer;

/// A BER tag: its encoded bytes read as a big-endian number (`4F` = `Tag(0x4F)`,
/// `9F70` = `Tag(0x9F70)`). Tags of up to 4 bytes are supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub u32);

impl Tag {
    /// The first (or only) tag byte.
    pub const fn first_byte(self) -> u8 {
        let [b0, b1, b2, b3] = self.0.to_be_bytes();
        if b0 != 0 {
            b0
        } else if b1 != 0 {
            b1
        } else if b2 != 0 {
            b2
        } else {
            b3
        }
    }

    /// Number of bytes of the encoded tag (1 for `Tag(0)`).
    pub const fn encoded_len(self) -> usize {
        match self.0 {
            0..=0xFF => 1,
            0x100..=0xFFFF => 2,
            0x1_0000..=0xFF_FFFF => 3,
            _ => 4,
        }
    }

    /// Whether the tag is constructed (first byte b6 set): its value is a sequence of TLVs.
    pub const fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    /// The tag class from bits b8-b7 of the first byte: 0 universal, 1 application,
    /// 2 context-specific, 3 private.
    pub const fn class(self) -> u8 {
        self.first_byte() >> 6
    }

    /// Writes the tag bytes at the start of `out` and returns their number.
    pub fn encode_into(self, out: &mut [u8]) -> Result<usize, ApduError> {
        let len = self.encoded_len();
        let bytes = self.0.to_be_bytes();
        let mut w = Writer::with_room(out, len)?;
        w.put(bytes.get(4 - len..).unwrap_or(&[]))?;
        Ok(w.written())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.encoded_len() * 2;
        write!(f, "{:0width$X}", self.0)
    }
}

/// Largest length the encoders can write (`83 FF FF FF`).
pub const MAX_LENGTH: usize = 0xFF_FFFF;

/// Number of bytes of the shortest BER length field for `len`.
pub const fn length_encoded_len(len: usize) -> Result<usize, ApduError> {
    match len {
        0..=0x7F => Ok(1),
        0x80..=0xFF => Ok(2),
        0x100..=0xFFFF => Ok(3),
        0x1_0000..=MAX_LENGTH => Ok(4),
        _ => Err(ApduError::new(
            Part::Tlv,
            0,
            ErrorKind::TlvLengthTooLarge { len },
        )),
    }
}

/// Writes the shortest BER length field for `len` (`05`, `81 80`, `82 01 00`, …) at the
/// start of `out` and returns its number of bytes.
pub fn encode_length(len: usize, out: &mut [u8]) -> Result<usize, ApduError> {
    let field_len = length_encoded_len(len)?;
    let mut w = Writer::with_room(out, field_len)?;
    let bytes = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    if field_len == 1 {
        w.put(bytes.get(3..).unwrap_or(&[]))?;
    } else {
        let count = field_len - 1;
        // 0x81, 0x82 or 0x83: the number of length bytes that follow.
        w.put_u8(0x80 | count as u8)?;
        w.put(bytes.get(4 - count..).unwrap_or(&[]))?;
    }
    Ok(w.written())
}

/// Number of bytes [`encode_tlv`] writes for `tag` and a value of `value_len` bytes.
pub const fn tlv_encoded_len(tag: Tag, value_len: usize) -> Result<usize, ApduError> {
    match length_encoded_len(value_len) {
        Ok(length_len) => Ok(tag.encoded_len() + length_len + value_len),
        Err(e) => Err(e),
    }
}

/// Writes `tag`, the length of `value` and `value` at the start of `out`; returns the
/// number of bytes written. Nothing is written when `out` is too small.
pub fn encode_tlv(tag: Tag, value: &[u8], out: &mut [u8]) -> Result<usize, ApduError> {
    let total = tlv_encoded_len(tag, value.len())?;
    let mut w = Writer::with_room(out, total)?;
    let mut header = [0u8; 8];
    let tag_len = tag.encode_into(&mut header)?;
    let length_len = encode_length(value.len(), header.get_mut(tag_len..).unwrap_or(&mut []))?;
    w.put(header.get(..tag_len + length_len).unwrap_or(&[]))?;
    w.put(value)?;
    Ok(w.written())
}

/// Appends `tag`, the length of `value` and `value` to `out`.
#[cfg(feature = "alloc")]
pub fn push_tlv(out: &mut alloc::vec::Vec<u8>, tag: Tag, value: &[u8]) -> Result<(), ApduError> {
    let start = out.len();
    let total = tlv_encoded_len(tag, value.len())?;
    out.resize(start + total, 0);
    let written = encode_tlv(tag, value, out.get_mut(start..).unwrap_or(&mut []))?;
    out.truncate(start + written);
    Ok(())
}

/// One decoded BER-TLV data object, borrowing its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value bytes.
    pub value: &'a [u8],
    /// Offset of the tag's first byte in the reader's outermost buffer.
    pub offset: usize,
    /// Number of tag and length bytes before the value.
    pub header_len: usize,
}

impl<'a> Tlv<'a> {
    /// The data objects inside this one's value (for constructed tags); error offsets stay
    /// relative to the outermost buffer.
    pub fn children(&self) -> TlvReader<'a> {
        TlvReader::with_base(self.value, self.offset.saturating_add(self.header_len))
    }

    /// Offset of the first value byte in the reader's outermost buffer.
    pub const fn value_offset(&self) -> usize {
        self.offset.saturating_add(self.header_len)
    }

    /// Number of bytes of the whole data object (tag, length and value) as read.
    pub const fn encoded_len(&self) -> usize {
        self.header_len.saturating_add(self.value.len())
    }
}

/// Reads consecutive BER-TLV data objects from a buffer without copying.
///
/// The iterator yields `Err` once for malformed data and then stops.
#[derive(Clone, Debug)]
pub struct TlvReader<'a> {
    rest: &'a [u8],
    /// Offset of `rest` in the outermost buffer.
    offset: usize,
    failed: bool,
}

impl<'a> TlvReader<'a> {
    /// A reader over `bytes`; error offsets count from its start.
    pub const fn new(bytes: &'a [u8]) -> Self {
        TlvReader::with_base(bytes, 0)
    }

    /// A reader over `bytes`, which start at `base` in some outer buffer; error offsets and
    /// [`Tlv::offset`] count from that outer buffer.
    pub const fn with_base(bytes: &'a [u8], base: usize) -> Self {
        TlvReader {
            rest: bytes,
            offset: base,
            failed: false,
        }
    }

    /// The first data object with `tag` among the remaining ones at this level, or `None`.
    /// Malformed data before it is an error.
    pub fn find(self, tag: Tag) -> Result<Option<Tlv<'a>>, ApduError> {
        for tlv in self {
            let tlv = tlv?;
            if tlv.tag == tag {
                return Ok(Some(tlv));
            }
        }
        Ok(None)
    }

    /// Bytes not read yet.
    pub const fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Decodes the data object at the start of `rest`.
    fn read_one(&self) -> Result<Tlv<'a>, ApduError> {
        let start = self.offset;
        let err = |at: usize, kind| ApduError::new(Part::Tlv, start.saturating_add(at), kind);
        let (tag, tag_len) = read_tag(self.rest).map_err(|(at, kind)| err(at, kind))?;
        let after_tag = self.rest.get(tag_len..).unwrap_or(&[]);
        let (len, length_len) =
            read_length(after_tag).map_err(|(at, kind)| err(tag_len + at, kind))?;
        let header_len = tag_len + length_len;
        let after_length = self.rest.get(header_len..).unwrap_or(&[]);
        let value = after_length.get(..len).ok_or(err(
            header_len,
            ErrorKind::TlvValueTruncated {
                len,
                available: after_length.len(),
            },
        ))?;
        Ok(Tlv {
            tag,
            value,
            offset: start,
            header_len,
        })
    }
}

impl<'a> Iterator for TlvReader<'a> {
    type Item = Result<Tlv<'a>, ApduError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match self.read_one() {
            Ok(tlv) => {
                let used = tlv.encoded_len();
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                self.offset = self.offset.saturating_add(used);
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads length-value fields one after another, as in the data of GlobalPlatform INSTALL
/// (`Lx load file AID | Ly security domain AID | … | L install parameters | L token`):
/// [`LvReader::read`] takes a 1-byte length, [`LvReader::read_ber`] a BER length (the
/// install-parameters field may use one).
#[derive(Clone, Debug)]
pub struct LvReader<'a> {
    rest: &'a [u8],
    /// Offset of `rest` in the outermost buffer.
    offset: usize,
}

impl<'a> LvReader<'a> {
    /// A reader over `bytes`; error offsets count from its start.
    pub const fn new(bytes: &'a [u8]) -> Self {
        LvReader {
            rest: bytes,
            offset: 0,
        }
    }

    /// The next field with a 1-byte length (`00`..`FF`).
    pub fn read(&mut self) -> Result<&'a [u8], ApduError> {
        let len = *self.rest.first().ok_or(ApduError::new(
            Part::Tlv,
            self.offset,
            ErrorKind::TlvLengthTruncated {
                needed: 1,
                available: 0,
            },
        ))?;
        self.take_value(usize::from(len), 1)
    }

    /// The next field with a BER length (`00`..`7F`, `81 xx`, `82 xxxx`, `83 xxxxxx`).
    pub fn read_ber(&mut self) -> Result<&'a [u8], ApduError> {
        let (len, length_len) = read_length(self.rest).map_err(|(at, kind)| {
            ApduError::new(Part::Tlv, self.offset.saturating_add(at), kind)
        })?;
        self.take_value(len, length_len)
    }

    /// Splits off `len` value bytes after a length field of `length_len` bytes.
    fn take_value(&mut self, len: usize, length_len: usize) -> Result<&'a [u8], ApduError> {
        let after_length = self.rest.get(length_len..).unwrap_or(&[]);
        let value = after_length.get(..len).ok_or(ApduError::new(
            Part::Tlv,
            self.offset.saturating_add(length_len),
            ErrorKind::TlvValueTruncated {
                len,
                available: after_length.len(),
            },
        ))?;
        let used = length_len.saturating_add(len);
        self.rest = self.rest.get(used..).unwrap_or(&[]);
        self.offset = self.offset.saturating_add(used);
        Ok(value)
    }

    /// Bytes not read yet.
    pub const fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Offset of the next field in the buffer given to [`LvReader::new`].
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

/// Decodes the tag at the start of `bytes`: (tag, its length) or (offset, error kind).
fn read_tag(bytes: &[u8]) -> Result<(Tag, usize), (usize, ErrorKind)> {
    let first = *bytes.first().ok_or((0, ErrorKind::TlvTagTruncated))?;
    let mut value = u32::from(first);
    if first & 0x1F != 0x1F {
        return Ok((Tag(value), 1));
    }
    let mut len = 1;
    loop {
        let byte = *bytes.get(len).ok_or((len, ErrorKind::TlvTagTruncated))?;
        if len >= 4 {
            return Err((len, ErrorKind::TlvTagTooLong));
        }
        value = (value << 8) | u32::from(byte);
        len += 1;
        if byte & 0x80 == 0 {
            return Ok((Tag(value), len));
        }
    }
}

/// Decodes the length field at the start of `bytes`: (length, field size) or
/// (offset, error kind).
fn read_length(bytes: &[u8]) -> Result<(usize, usize), (usize, ErrorKind)> {
    let first = *bytes.first().ok_or((
        0,
        ErrorKind::TlvLengthTruncated {
            needed: 1,
            available: 0,
        },
    ))?;
    let count = match first {
        0x00..=0x7F => return Ok((usize::from(first), 1)),
        0x80 => return Err((0, ErrorKind::TlvIndefiniteLength)),
        0x81..=0x83 => usize::from(first & 0x7F),
        _ => return Err((0, ErrorKind::TlvLengthFormUnsupported { first })),
    };
    let following = bytes.get(1..).unwrap_or(&[]);
    let digits = following.get(..count).ok_or((
        1,
        ErrorKind::TlvLengthTruncated {
            needed: count,
            available: following.len(),
        },
    ))?;
    let len = digits
        .iter()
        .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte));
    Ok((len, 1 + count))
}
