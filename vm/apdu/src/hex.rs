//! Hexadecimal text for APDUs and AIDs, without an allocator.
//!
//! Host tools read APDUs written as hex (transcripts, shell input, `opensc-tool` output), and
//! AIDs are written as hex everywhere. Decoding accepts whitespace and `:` between bytes
//! (`00 A4 04 00`, `00A40400`, `00:A4:04:00`) and either letter case, but not a separator
//! inside a byte. Encoding writes uppercase digits, the form the golden transcripts use.

use core::fmt;

use crate::error::{ApduError, ErrorKind, Part};
use crate::writer::Writer;

/// Whether `c` may separate bytes in hex text.
const fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b':')
}

/// The value of hex digit `c`.
const fn digit_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The error for the byte of `text` at `offset`, which is not a hex digit.
fn invalid_char(text: &str, offset: usize) -> ApduError {
    let found = text
        .get(offset..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    ApduError::new(Part::Hex, offset, ErrorKind::InvalidHexChar { found })
}

/// An iterator over the bytes that hex text encodes; it stops after the first error.
///
/// Created by [`bytes`].
#[derive(Clone, Debug)]
pub struct HexBytes<'a> {
    text: &'a str,
    pos: usize,
    failed: bool,
}

/// Iterates over the bytes encoded by `text` (see the module documentation for the syntax).
pub fn bytes(text: &str) -> HexBytes<'_> {
    HexBytes {
        text,
        pos: 0,
        failed: false,
    }
}

impl Iterator for HexBytes<'_> {
    type Item = Result<u8, ApduError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let raw = self.text.as_bytes();
        while raw.get(self.pos).is_some_and(|c| is_separator(*c)) {
            self.pos += 1;
        }
        let high_pos = self.pos;
        let high = *raw.get(high_pos)?;
        let result = match digit_value(high) {
            None => Err(invalid_char(self.text, high_pos)),
            Some(h) => match raw.get(high_pos + 1) {
                None => Err(ApduError::new(Part::Hex, high_pos, ErrorKind::OddHexDigit)),
                Some(&low) => match digit_value(low) {
                    Some(l) => Ok((h << 4) | l),
                    None if is_separator(low) => {
                        Err(ApduError::new(Part::Hex, high_pos, ErrorKind::OddHexDigit))
                    }
                    None => Err(invalid_char(self.text, high_pos + 1)),
                },
            },
        };
        match result {
            Ok(_) => self.pos = high_pos + 2,
            Err(_) => self.failed = true,
        }
        Some(result)
    }
}

/// Number of bytes `text` encodes, checking its syntax.
pub fn decoded_len(text: &str) -> Result<usize, ApduError> {
    bytes(text).try_fold(0usize, |count, byte| byte.map(|_| count + 1))
}

/// Decodes `text` into the start of `out` and returns the number of bytes written.
///
/// Fails on bad syntax, or when `out` is too small (the error then says how many bytes
/// the whole text needs).
pub fn decode_into(text: &str, out: &mut [u8]) -> Result<usize, ApduError> {
    let mut written = 0;
    for byte in bytes(text) {
        let byte = byte?;
        match out.get_mut(written) {
            Some(slot) => *slot = byte,
            None => return Err(ApduError::output_too_small(decoded_len(text)?, out.len())),
        }
        written += 1;
    }
    Ok(written)
}

/// Decodes `text` into a new vector.
#[cfg(feature = "alloc")]
pub fn decode(text: &str) -> Result<alloc::vec::Vec<u8>, ApduError> {
    bytes(text).collect()
}

/// Uppercase hex digits.
const DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// The two uppercase hex digits of `byte`.
const fn digits(byte: u8) -> [u8; 2] {
    [DIGITS[(byte >> 4) as usize], DIGITS[(byte & 0x0F) as usize]]
}

/// Writes `data` as uppercase hex without separators into `out` and returns the text,
/// which borrows `out`. Needs `2 * data.len()` bytes of room.
pub fn encode_into<'o>(data: &[u8], out: &'o mut [u8]) -> Result<&'o str, ApduError> {
    let needed = data.len().saturating_mul(2);
    let mut w = Writer::with_room(out, needed)?;
    for byte in data {
        w.put(&digits(*byte))?;
    }
    let text = out.get(..needed).unwrap_or(&[]);
    // Only ASCII digits were written; this conversion does not fail.
    Ok(core::str::from_utf8(text).unwrap_or(""))
}

/// Encodes `data` as an uppercase hex string without separators.
#[cfg(feature = "alloc")]
pub fn encode(data: &[u8]) -> alloc::string::String {
    use core::fmt::Write;
    let mut text = alloc::string::String::with_capacity(data.len().saturating_mul(2));
    // Writing to a String does not fail.
    let _ = write!(text, "{}", Hex(data));
    text
}

/// Displays bytes as uppercase hex without separators: `format!("{}", Hex(&[0xA0, 0x01]))`
/// is `A001`. With the alternate flag (`{:#}`) the bytes are separated by spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if f.alternate() && i > 0 {
                f.write_str(" ")?;
            }
            let [high, low] = digits(*byte);
            write!(f, "{}{}", char::from(high), char::from(low))?;
        }
        Ok(())
    }
}
