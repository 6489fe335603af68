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
