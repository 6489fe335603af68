//! The one error type of this crate.
//!
//! Every decoder and encoder here reports malformed or unfitting input as an [`ApduError`]
//! that says what was being read or written ([`Part`]), at which byte offset, and what was
//! expected there ([`ErrorKind`]). Nothing in this crate panics on bad input.

use core::fmt;

/// What was being decoded or encoded when an [`ApduError`] happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// A command APDU (`CLA INS P1 P2 [Lc data] [Le]`); offsets count from CLA.
    Command,
    /// A response APDU (`[data] SW1 SW2`); offsets count from the first response byte.
    Response,
    /// An application identifier; offsets count from the first AID byte.
    Aid,
    /// Hexadecimal text; offsets are byte offsets into the text.
    Hex,
    /// BER-TLV data; offsets count from the start of the outermost buffer given to the reader.
    Tlv,
    /// A caller-supplied output buffer that an encoder writes into; the offset is the
    /// buffer's length, i.e. where the write ran out of room.
    Output,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Command => "command APDU",
            Part::Response => "response APDU",
            Part::Aid => "AID",
            Part::Hex => "hex text",
            Part::Tlv => "BER-TLV",
            Part::Output => "output buffer",
        })
    }
}

/// Why decoding or encoding failed; the [`fmt::Display`] text says what was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Fewer than the 4 header bytes `CLA INS P1 P2`.
    HeaderTruncated {
        /// Number of bytes present.
        len: usize,
    },
    /// A 6-byte APDU: the extended-length marker `00` is followed by only one byte,
    /// but an extended Lc or Le needs two.
    ExtendedLengthTruncated,
    /// An extended Lc of `00 00`: Lc must be 1..=65535 (a command without data has no Lc).
    ExtendedLcZero,
    /// Lc announces more data bytes than the APDU holds.
    DataTruncated {
        /// Nc, the number of data bytes announced by Lc.
        lc: usize,
        /// Number of bytes present after the Lc field.
        available: usize,
    },
    /// An extended case-4 APDU whose Le field has one byte instead of two.
    ExtendedLeTruncated,
    /// Bytes after the end of the APDU that Lc (and an optional Le) describe.
    TrailingBytes {
        /// Nc, the number of data bytes announced by Lc.
        lc: usize,
        /// Number of unexpected bytes.
        extra: usize,
    },
    /// Command data longer than the encoding allows (255 short, 65535 extended).
    DataTooLong {
        /// Length of the data.
        len: usize,
        /// Largest length allowed.
        max: usize,
    },
    /// Ne outside 1..=256 (short) or 1..=65536 (extended); "no response data" is `None`.
    NeOutOfRange {
        /// The requested Ne.
        ne: usize,
        /// Largest Ne allowed.
        max: usize,
    },
    /// Fewer than the 2 status bytes of a response APDU.
    ResponseTruncated {
        /// Number of bytes present.
        len: usize,
    },
    /// An AID length outside 5..=16 bytes.
    AidLength {
        /// The length found.
        len: usize,
    },
    /// A character that is neither a hex digit nor a separator (whitespace or `:`).
    InvalidHexChar {
        /// The character found.
        found: char,
    },
    /// A lone hex digit: a byte needs two digits, not split by a separator.
    OddHexDigit,
    /// A BER-TLV tag that announces more tag bytes than the input holds.
    TlvTagTruncated,
    /// A BER-TLV tag longer than 4 bytes (tags are held in a `u32`).
    TlvTagTooLong,
    /// The input ends inside a BER-TLV length field.
    TlvLengthTruncated {
        /// Length bytes needed after the first length byte.
        needed: usize,
        /// Length bytes present.
        available: usize,
    },
    /// A BER-TLV length byte `80` (indefinite length), which is not allowed in ISO 7816.
    TlvIndefiniteLength,
    /// A BER-TLV length form `84`..`FF`: only `00`..`7F`, `81 xx`, `82 xx xx` and
    /// `83 xx xx xx` are supported.
    TlvLengthFormUnsupported {
        /// The first length byte.
        first: u8,
    },
    /// A BER-TLV value longer than the bytes that remain.
    TlvValueTruncated {
        /// Length announced by the length field.
        len: usize,
        /// Bytes present after the length field.
        available: usize,
    },
    /// A BER-TLV length above 0xFF_FFFF, which no supported length form can encode.
    TlvLengthTooLarge {
        /// The length to encode.
        len: usize,
    },
    /// An output buffer too small for the encoding.
    OutputTooSmall {
        /// Bytes the encoding needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::HeaderTruncated { len } => write!(
                f,
                "expected the 4-byte header CLA INS P1 P2, the APDU has only {len} byte(s)"
            ),
            ErrorKind::ExtendedLengthTruncated => f.write_str(
                "expected 2 length bytes after the extended-length marker 00, found 1",
            ),
            ErrorKind::ExtendedLcZero => f.write_str(
                "expected an extended Lc of 1..=65535, found 0000 (a command without data has no Lc)",
            ),
            ErrorKind::DataTruncated { lc, available } => write!(
                f,
                "expected {lc} data byte(s) as announced by Lc, found only {available}"
            ),
            ErrorKind::ExtendedLeTruncated => {
                f.write_str("expected a 2-byte extended Le after the data, found 1 byte")
            }
            ErrorKind::TrailingBytes { lc, extra } => write!(
                f,
                "expected the APDU to end after {lc} data byte(s) and an optional Le, found {extra} extra byte(s)"
            ),
            ErrorKind::DataTooLong { len, max } => write!(
                f,
                "expected at most {max} command data bytes, got {len}"
            ),
            ErrorKind::NeOutOfRange { ne, max } => write!(
                f,
                "expected Ne in 1..={max} (None for no response data), got {ne}"
            ),
            ErrorKind::ResponseTruncated { len } => write!(
                f,
                "expected at least the 2 status bytes SW1 SW2, the response has only {len} byte(s)"
            ),
            ErrorKind::AidLength { len } => {
                write!(f, "expected an AID of 5 to 16 bytes, got {len}")
            }
            ErrorKind::InvalidHexChar { found } => write!(
                f,
                "expected a hex digit or a separator (whitespace, ':'), found {found:?}"
            ),
            ErrorKind::OddHexDigit => {
                f.write_str("expected a second hex digit: a byte is two digits with no separator inside")
            }
            ErrorKind::TlvTagTruncated => {
                f.write_str("expected another tag byte (the tag continues), the input ends")
            }
            ErrorKind::TlvTagTooLong => f.write_str("expected a tag of at most 4 bytes"),
            ErrorKind::TlvLengthTruncated { needed, available } => write!(
                f,
                "expected {needed} length byte(s) after the length form byte, found {available}"
            ),
            ErrorKind::TlvIndefiniteLength => {
                f.write_str("expected a definite length, found 80 (indefinite length)")
            }
            ErrorKind::TlvLengthFormUnsupported { first } => write!(
                f,
                "expected a length of form 00..7F, 81 xx, 82 xxxx or 83 xxxxxx, found first byte {first:02X}"
            ),
            ErrorKind::TlvValueTruncated { len, available } => write!(
                f,
                "expected a value of {len} byte(s), found only {available}"
            ),
            ErrorKind::TlvLengthTooLarge { len } => write!(
                f,
                "expected a length of at most 16777215 (83 xxxxxx), got {len}"
            ),
            ErrorKind::OutputTooSmall { needed, available } => write!(
                f,
                "expected room for {needed} byte(s), the buffer has {available}"
            ),
        }
    }
}

/// A decoding or encoding error: where ([`Part`] and byte offset) and why ([`ErrorKind`]).
///
/// Display: `command APDU byte 5: expected 8 data byte(s) as announced by Lc, found only 3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApduError {
    /// What was being decoded or encoded.
    pub part: Part,
    /// Byte offset of the problem within that part (see [`Part`] for what it counts from).
    pub offset: usize,
    /// What was wrong and what was expected.
    pub kind: ErrorKind,
}

impl ApduError {
    /// Creates an error for `part` at byte `offset`.
    pub const fn new(part: Part, offset: usize, kind: ErrorKind) -> Self {
        ApduError { part, offset, kind }
    }

    /// The error for an output buffer of `available` bytes that needs `needed`.
    pub(crate) const fn output_too_small(needed: usize, available: usize) -> Self {
        ApduError::new(
            Part::Output,
            available,
            ErrorKind::OutputTooSmall { needed, available },
        )
    }
}

impl fmt::Display for ApduError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} byte {}: {}", self.part, self.offset, self.kind)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ApduError {}
