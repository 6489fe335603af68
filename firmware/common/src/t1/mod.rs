//! ISO/IEC 7816-3 protocol T=1: the block codec both sides share, the card side (no_std) and
//! the reader side (std feature), and the ATR length rule.

pub mod atr;
pub mod block;
pub mod card;
#[cfg(any(feature = "std", test))]
pub mod reader;
#[cfg(test)]
mod tests;
