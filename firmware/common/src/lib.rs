//! oxicard-firmware: what every oxicard board firmware shares. The card side of ISO/IEC
//! 7816-3 (the ATR and protocol T=1 over a serial byte stream), NVM adapters that put the
//! card runtime on internal NOR flash or a 24xx I2C EEPROM through the embedded-hal and
//! embedded-storage traits, and the main loop feeding APDUs to [`oxicard_jcre::Card`].
//! With the `std` feature it also has the reader side of T=1 (the host bridge uses it, and the
//! tests check the card side against it).
#![cfg_attr(not(any(feature = "std", test)), no_std)]

pub mod card_loop;
#[cfg(all(target_arch = "arm", target_os = "none"))]
mod mem;
pub mod nvm;
pub mod t1;

pub use card_loop::{serve, serve_one, ApduHandler, ATR};
pub use t1::card::{CardLink, Event, NbSerial, T1Card, T1Error};
