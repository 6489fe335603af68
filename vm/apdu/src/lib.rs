//! ISO/IEC 7816-4 APDUs for the oxicard card runtime and host tools.
//!
//! This crate is the one definition of the bytes that cross between a terminal and a card:
//! [`Command`] and [`Response`] APDUs (cases 1 to 4, short and extended, decoded without
//! copying and encoded into caller buffers), [`StatusWord`]s with their meanings,
//! application identifiers ([`Aid`]), hex text ([`hex`]) and BER-TLV ([`tlv`]).
//!
//! It is `#![no_std]` and needs no allocator, so the card runtime can use it as is; the
//! `alloc` feature adds `to_vec()`-style helpers and `std` adds `std::error::Error`. No
//! function panics on any input: malformed bytes give an [`ApduError`] that says which part,
//! which byte offset, and what was expected.
//!
//! ```
//! use oxicard_apdu::{Aid, Case, Command, Response, StatusWord};
//!
//! let select = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x00, 0x00, 0x01, 0x01, 0x01];
//! let command = Command::parse(&select)?;
//! assert_eq!(command.case(), Case::Case3Short);
//! assert_eq!(Aid::new(command.data())?.to_string(), "F00000010101");
//!
//! let get_data = Command::new(0x80, 0xCA, 0x9F, 0x7F, &[], Some(256))?;
//! let mut buffer = [0u8; 5];
//! assert_eq!(get_data.encode_into(&mut buffer)?, 5);
//! assert_eq!(buffer, [0x80, 0xCA, 0x9F, 0x7F, 0x00]);
//!
//! let response = Response::parse(&[0x6A, 0x82])?;
//! assert_eq!(response.sw, StatusWord::SW_FILE_NOT_FOUND);
//! assert_eq!(response.sw.to_string(), "6A82 (file or application not found)");
//!
//! let error = Command::parse(&[0x80, 0x01, 0x00, 0x00, 0x08, 0x01]).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "command APDU byte 5: expected 8 data byte(s) as announced by Lc, found only 1"
//! );
//! # Ok::<(), oxicard_apdu::ApduError>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod aid;
pub mod cla;
pub mod command;
pub mod error;
pub mod hex;
pub mod response;
pub mod sw;
pub mod tlv;
mod writer;

pub use aid::Aid;
pub use command::{Case, Command};
pub use error::{ApduError, ErrorKind, Part};
pub use response::Response;
pub use sw::StatusWord;
