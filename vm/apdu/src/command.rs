//! Command APDUs (ISO/IEC 7816-4 §5.1): a zero-copy view that decodes all seven cases,
//! short and extended, and encodes them back.
//!
//! The card runtime parses every incoming command with [`Command::parse`] before acting on
//! it; host tools build commands with [`Command::new`] and send [`Command::encode_into`]'s
//! bytes. Decoding follows the ISO rules exactly:
//!
//! | bytes after the header | case |
//! |---|---|
//! | none | 1 |
//! | `Le` (one byte, `00` = 256) | 2 short |
//! | `Lc data` (Lc = 1..255) | 3 short |
//! | `Lc data Le` | 4 short |
//! | `00 Le1 Le2` (exactly 7 bytes in all, `0000` = 65536) | 2 extended |
//! | `00 Lc1 Lc2 data` (Lc = 1..65535) | 3 extended |
//! | `00 Lc1 Lc2 data Le1 Le2` | 4 extended |
//!
//! A `00` after the header is the extended-length marker only when the APDU is longer than 5
//! bytes; a 5-byte APDU is always case 2 short. Every other length is an [`ApduError`] with
//! the offset of the offending field.

use core::fmt;

use crate::error::{ApduError, ErrorKind, Part};
use crate::hex::Hex;
use crate::writer::Writer;

/// Offset of Lc (or of the short Le / extended-length marker): `ISO7816.OFFSET_LC`.
pub const OFFSET_LC: usize = 4;
/// Offset of short command data: `ISO7816.OFFSET_CDATA`.
pub const OFFSET_CDATA: usize = 5;
/// Offset of extended command data: `ISO7816.OFFSET_EXT_CDATA`.
pub const OFFSET_EXT_CDATA: usize = 7;
/// Largest Nc of a short APDU.
pub const MAX_SHORT_NC: usize = 255;
/// Largest Ne of a short APDU (Le = `00`).
pub const MAX_SHORT_NE: usize = 256;
/// Largest Nc of an extended APDU.
pub const MAX_EXTENDED_NC: usize = 65_535;
/// Largest Ne of an extended APDU (Le = `00 00`).
pub const MAX_EXTENDED_NE: usize = 65_536;
/// Length of the longest encodable command APDU (case 4 extended with 65535 data bytes).
pub const MAX_COMMAND_LEN: usize = 4 + 3 + MAX_EXTENDED_NC + 2;

/// The ISO 7816-4 case of a command APDU: whether it has data (Lc), whether it expects
/// response data (Le), and how the lengths are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Case {
    /// No command data, no response data: `CLA INS P1 P2`.
    Case1,
    /// No command data, response data expected: `… Le`.
    Case2Short,
    /// Command data, no response data: `… Lc data`.
    Case3Short,
    /// Command data and response data expected: `… Lc data Le`.
    Case4Short,
    /// `… 00 Le1 Le2`.
    Case2Extended,
    /// `… 00 Lc1 Lc2 data`.
    Case3Extended,
    /// `… 00 Lc1 Lc2 data Le1 Le2`.
    Case4Extended,
}

impl Case {
    /// Whether this case uses extended length fields.
    pub const fn is_extended(self) -> bool {
        matches!(
            self,
            Case::Case2Extended | Case::Case3Extended | Case::Case4Extended
        )
    }

    /// Whether a command of this case carries command data (Lc is present).
    pub const fn has_data(self) -> bool {
        matches!(
            self,
            Case::Case3Short | Case::Case4Short | Case::Case3Extended | Case::Case4Extended
        )
    }

    /// Whether a command of this case expects response data (Le is present).
    pub const fn expects_response(self) -> bool {
        matches!(
            self,
            Case::Case2Short | Case::Case4Short | Case::Case2Extended | Case::Case4Extended
        )
    }

    /// The ISO case number, 1 to 4.
    pub const fn number(self) -> u8 {
        match self {
            Case::Case1 => 1,
            Case::Case2Short | Case::Case2Extended => 2,
            Case::Case3Short | Case::Case3Extended => 3,
            Case::Case4Short | Case::Case4Extended => 4,
        }
    }
}

/// A command APDU: header, command data borrowed from the caller, and Ne.
///
/// A `Command` always satisfies the length rules of its encoding (data length and Ne fit
/// short or extended fields), so [`Command::encode_into`] can only fail for lack of room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Command<'a> {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &'a [u8],
    le: Option<usize>,
    extended: bool,
}

/// Short error constructor for command decoding.
const fn command_error(offset: usize, kind: ErrorKind) -> ApduError {
    ApduError::new(Part::Command, offset, kind)
}

/// Reads a big-endian 2-byte length at `offset`, if present.
fn read_u16(bytes: &[u8], offset: usize) -> Option<usize> {
    let pair = bytes.get(offset..offset.checked_add(2)?)?;
    match *pair {
        [hi, lo] => Some(usize::from(u16::from_be_bytes([hi, lo]))),
        _ => None,
    }
}

impl<'a> Command<'a> {
    /// Builds a command, choosing short length fields when they suffice (data of at most
    /// 255 bytes and Ne of at most 256) and extended ones otherwise.
    ///
    /// `le` is Ne, the maximum number of response data bytes expected: `None` for no
    /// response data, `Some(256)` for short Le `00`, `Some(65536)` for extended Le `0000`.
    /// Empty `data` means no Lc field. Use [`Command::into_extended`] to force extended
    /// fields.
    pub fn new(
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: &'a [u8],
        le: Option<usize>,
    ) -> Result<Self, ApduError> {
        if data.len() > MAX_EXTENDED_NC {
            return Err(command_error(
                OFFSET_LC,
                ErrorKind::DataTooLong {
                    len: data.len(),
                    max: MAX_EXTENDED_NC,
                },
            ));
        }
        if let Some(ne) = le {
            if ne == 0 || ne > MAX_EXTENDED_NE {
                let le_offset = if data.is_empty() {
                    OFFSET_LC
                } else {
                    OFFSET_CDATA.saturating_add(data.len())
                };
                return Err(command_error(
                    le_offset,
                    ErrorKind::NeOutOfRange {
                        ne,
                        max: MAX_EXTENDED_NE,
                    },
                ));
            }
        }
        let extended = data.len() > MAX_SHORT_NC || le.is_some_and(|ne| ne > MAX_SHORT_NE);
        Ok(Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
            extended,
        })
    }

    /// The same command with extended length fields (no change for case 1, which has no
    /// length fields).
    pub const fn into_extended(mut self) -> Self {
        self.extended = !self.data.is_empty() || self.le.is_some();
        self
    }

    /// Decodes a command APDU per ISO/IEC 7816-4 §5.1 without copying.
    ///
    /// Every malformed length is an error naming the offset of the offending field.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        let (cla, ins, p1, p2, body) = match bytes {
            [cla, ins, p1, p2, body @ ..] => (*cla, *ins, *p1, *p2, body),
            _ => {
                return Err(command_error(
                    bytes.len(),
                    ErrorKind::HeaderTruncated { len: bytes.len() },
                ))
            }
        };
        let mut command = Command {
            cla,
            ins,
            p1,
            p2,
            data: &[],
            le: None,
            extended: false,
        };
        match body {
            // Case 1.
            [] => Ok(command),
            // Case 2 short: a 5-byte APDU, whatever its last byte.
            [le] => {
                command.le = Some(short_ne(*le));
                Ok(command)
            }
            // Extended: the marker 00 followed by at least one more byte.
            [0, rest @ ..] => {
                command.extended = true;
                Self::parse_extended_body(command, rest, bytes.len())
            }
            // Short case 3 or 4: Lc is 1..=255.
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                let (data, after) = split_data(rest, lc, OFFSET_CDATA)?;
                command.data = data;
                match after {
                    [] => Ok(command),
                    [le] => {
                        command.le = Some(short_ne(*le));
                        Ok(command)
                    }
                    [_, extra @ ..] => Err(command_error(
                        OFFSET_CDATA + lc + 1,
                        ErrorKind::TrailingBytes {
                            lc,
                            extra: extra.len(),
                        },
                    )),
                }
            }
        }
    }

    /// Decodes what follows the extended-length marker at offset 4; `rest` starts at offset 5.
    fn parse_extended_body(
        mut command: Self,
        rest: &'a [u8],
        total: usize,
    ) -> Result<Self, ApduError> {
        let Some(first) = read_u16(rest, 0) else {
            // 6 bytes in all: the marker and one length byte.
            return Err(command_error(
                OFFSET_CDATA,
                ErrorKind::ExtendedLengthTruncated,
            ));
        };
        if total == OFFSET_EXT_CDATA {
            // Case 2 extended: exactly 7 bytes.
            command.le = Some(extended_ne(first));
            return Ok(command);
        }
        // Case 3 or 4 extended: `first` is Lc.
        if first == 0 {
            return Err(command_error(OFFSET_CDATA, ErrorKind::ExtendedLcZero));
        }
        let (data, after) = split_data(rest.get(2..).unwrap_or(&[]), first, OFFSET_EXT_CDATA)?;
        command.data = data;
        let le_offset = OFFSET_EXT_CDATA + first;
        match after {
            [] => Ok(command),
            [_] => Err(command_error(le_offset, ErrorKind::ExtendedLeTruncated)),
            [hi, lo] => {
                command.le = Some(extended_ne(usize::from(u16::from_be_bytes([*hi, *lo]))));
                Ok(command)
            }
            [_, _, extra @ ..] => Err(command_error(
                le_offset + 2,
                ErrorKind::TrailingBytes {
                    lc: first,
                    extra: extra.len(),
                },
            )),
        }
    }

    /// The class byte.
    pub const fn cla(&self) -> u8 {
        self.cla
    }

    /// The instruction byte.
    pub const fn ins(&self) -> u8 {
        self.ins
    }

    /// Parameter byte 1.
    pub const fn p1(&self) -> u8 {
        self.p1
    }

    /// Parameter byte 2.
    pub const fn p2(&self) -> u8 {
        self.p2
    }

    /// The four header bytes `CLA INS P1 P2`.
    pub const fn header(&self) -> [u8; 4] {
        [self.cla, self.ins, self.p1, self.p2]
    }

    /// The command data (Nc = its length); empty when there is no Lc.
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Ne, the maximum number of response data bytes expected: `None` when there is no Le,
    /// 1..=256 for short APDUs (Le `00` = 256), 1..=65536 for extended ones (`0000` = 65536).
    pub const fn le(&self) -> Option<usize> {
        self.le
    }

    /// The ISO 7816-4 case of this command.
    pub const fn case(&self) -> Case {
        match (self.data.is_empty(), self.le.is_some(), self.extended) {
            (true, false, _) => Case::Case1,
            (true, true, false) => Case::Case2Short,
            (false, false, false) => Case::Case3Short,
            (false, true, false) => Case::Case4Short,
            (true, true, true) => Case::Case2Extended,
            (false, false, true) => Case::Case3Extended,
            (false, true, true) => Case::Case4Extended,
        }
    }

    /// Whether the length fields are extended (always `false` for case 1).
    pub const fn is_extended(&self) -> bool {
        self.extended
    }

    /// Offset of the command data in the encoded APDU: [`OFFSET_EXT_CDATA`] (7) for
    /// extended APDUs, [`OFFSET_CDATA`] (5) otherwise.
    pub const fn data_offset(&self) -> usize {
        if self.extended {
            OFFSET_EXT_CDATA
        } else {
            OFFSET_CDATA
        }
    }

    /// Number of bytes [`Command::encode_into`] writes.
    pub const fn encoded_len(&self) -> usize {
        let n = self.data.len();
        match self.case() {
            Case::Case1 => 4,
            Case::Case2Short => 5,
            Case::Case3Short => 5 + n,
            Case::Case4Short => 6 + n,
            Case::Case2Extended => 7,
            Case::Case3Extended => 7 + n,
            Case::Case4Extended => 9 + n,
        }
    }

    /// Encodes the APDU at the start of `out` and returns its length. Fails, writing
    /// nothing, when `out` is shorter than [`Command::encoded_len`].
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, ApduError> {
        let mut w = Writer::with_room(out, self.encoded_len())?;
        w.put(&self.header())?;
        let nc = self.data.len();
        if self.extended {
            w.put_u8(0)?;
            if nc > 0 {
                // `Command` guarantees nc <= 65535.
                w.put(&u16::try_from(nc).unwrap_or(u16::MAX).to_be_bytes())?;
                w.put(self.data)?;
            }
            if let Some(ne) = self.le {
                // 65536 is encoded as 0000.
                w.put(&u16::try_from(ne).unwrap_or(0).to_be_bytes())?;
            }
        } else {
            if nc > 0 {
                w.put_u8(u8::try_from(nc).unwrap_or(u8::MAX))?;
                w.put(self.data)?;
            }
            if let Some(ne) = self.le {
                // 256 is encoded as 00.
                w.put_u8(u8::try_from(ne).unwrap_or(0))?;
            }
        }
        Ok(w.written())
    }

    /// Encodes the APDU into a new vector.
    #[cfg(feature = "alloc")]
    pub fn to_vec(&self) -> alloc::vec::Vec<u8> {
        let mut out = alloc::vec![0; self.encoded_len()];
        // The buffer has exactly the room needed, so encoding cannot fail.
        let written = self.encode_into(&mut out).unwrap_or(0);
        out.truncate(written);
        out
    }
}

/// The transcript form of the golden files: uppercase hex, one token per field.
///
/// Short: `80 01 00 00 08 0102030405060708 00`; extended length fields are one token each,
/// marker included: `00 2A 9E 9A 000003 AABBCC 0000`.
impl fmt::Display for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", Hex(&self.header()))?;
        let nc = self.data.len();
        if self.extended {
            if nc > 0 {
                write!(f, " 00{nc:04X} {}", Hex(self.data))?;
            }
            if let Some(ne) = self.le {
                let prefix = if nc > 0 { "" } else { "00" };
                write!(f, " {prefix}{:04X}", ne % MAX_EXTENDED_NE)?;
            }
        } else {
            if nc > 0 {
                write!(f, " {nc:02X} {}", Hex(self.data))?;
            }
            if let Some(ne) = self.le {
                write!(f, " {:02X}", ne % MAX_SHORT_NE)?;
            }
        }
        Ok(())
    }
}

/// Ne for a short Le byte (`00` = 256).
const fn short_ne(le: u8) -> usize {
    if le == 0 {
        MAX_SHORT_NE
    } else {
        le as usize
    }
}

/// Ne for an extended Le value (`0000` = 65536).
const fn extended_ne(le: usize) -> usize {
    if le == 0 {
        MAX_EXTENDED_NE
    } else {
        le
    }
}

/// Splits `lc` data bytes off `rest`, which starts at APDU offset `data_offset`.
fn split_data(rest: &[u8], lc: usize, data_offset: usize) -> Result<(&[u8], &[u8]), ApduError> {
    match (rest.get(..lc), rest.get(lc..)) {
        (Some(data), Some(after)) => Ok((data, after)),
        _ => Err(command_error(
            data_offset,
            ErrorKind::DataTruncated {
                lc,
                available: rest.len(),
            },
        )),
    }
}
