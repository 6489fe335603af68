//! Response APDUs (ISO/IEC 7816-4 §5.1): response data followed by the status word
//! `SW1 SW2`. The card runtime encodes them; host tools decode them.

use core::fmt;

use crate::error::{ApduError, ErrorKind, Part};
use crate::hex::Hex;
use crate::sw::StatusWord;
use crate::writer::Writer;

/// A response APDU: data borrowed from the caller (Nr bytes, possibly none) and the
/// status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Response<'a> {
    /// The response data.
    pub data: &'a [u8],
    /// The trailing status word `SW1 SW2`.
    pub sw: StatusWord,
}

impl<'a> Response<'a> {
    /// A response with `data` and status word `sw`.
    pub const fn new(data: &'a [u8], sw: StatusWord) -> Self {
        Response { data, sw }
    }

    /// A response without data.
    pub const fn status(sw: StatusWord) -> Self {
        Response { data: &[], sw }
    }

    /// Splits a response APDU into data and status word without copying; it needs at
    /// least the two status bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        match bytes {
            [data @ .., sw1, sw2] => Ok(Response {
                data,
                sw: StatusWord::from_bytes(*sw1, *sw2),
            }),
            _ => Err(ApduError::new(
                Part::Response,
                bytes.len(),
                ErrorKind::ResponseTruncated { len: bytes.len() },
            )),
        }
    }

    /// Number of bytes [`Response::encode_into`] writes: the data plus 2.
    pub const fn encoded_len(&self) -> usize {
        self.data.len().saturating_add(2)
    }

    /// Encodes data and status word at the start of `out` and returns the length. Fails,
    /// writing nothing, when `out` is too small.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, ApduError> {
        let mut w = Writer::with_room(out, self.encoded_len())?;
        w.put(self.data)?;
        w.put(&self.sw.to_bytes())?;
        Ok(w.written())
    }

    /// Encodes the response into a new vector.
    #[cfg(feature = "alloc")]
    pub fn to_vec(&self) -> alloc::vec::Vec<u8> {
        let mut out = alloc::vec::Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(self.data);
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }
}

/// The transcript form of the golden files: the data in uppercase hex, a space, then the
/// status word (`48656C6C6F 9000`), or only the status word (`6A82`).
impl fmt::Display for Response<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.data.is_empty() {
            write!(f, "{} ", Hex(self.data))?;
        }
        write!(f, "{:04X}", self.sw.0)
    }
}
