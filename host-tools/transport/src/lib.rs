//! Every way the host tools talk to a card, behind one [`CardChannel`] trait, so that
//! `oxicard run`, `oxicard shell` and later `oxicard gp` work the same on the in-process
//! simulator ([`SimChannel`]), on any PC/SC reader ([`PcscChannel`], which also reaches
//! `oxicard sim` through pcscd's vpcd driver) and on `oxicard sim --tcp` without PC/SC
//! ([`TcpChannel`]).
//!
//! PC/SC readers may run T=0, where a card answers `61xx` (more data: GET RESPONSE) or `6Cxx`
//! (wrong Le: send again with Le = xx); [`response::transmit_complete`] hides both, so that
//! callers always see the complete response.

pub mod pcsc;
pub mod response;
pub mod script;
pub mod sim;
pub mod tcp;

use std::fmt;

pub use crate::pcsc::{list_readers, PcscChannel, ReaderInfo, ReaderSelector};
pub use crate::sim::SimChannel;
pub use crate::tcp::TcpChannel;

/// A connection to a card: APDU exchange, reset, the ATR and a name for messages.
pub trait CardChannel {
    /// What the card is reached through, for messages (a reader name, "in-process simulator").
    fn name(&self) -> &str;
    /// The card's answer to reset.
    fn atr(&self) -> &[u8];
    /// Sends a command APDU; returns the complete response: data followed by SW1 SW2.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;
    /// Resets the card (warm reset; the ATR may change).
    fn reset(&mut self) -> Result<(), TransportError>;
    /// The in-process simulated card behind this channel, if there is one: it can load and
    /// install CAP files directly (other cards need the card manager's LOAD and INSTALL).
    fn sim_card(&mut self) -> Option<&mut oxicard_sim::SimCard> {
        None
    }
}

/// Why talking to a card failed.
#[derive(Debug)]
pub enum TransportError {
    /// A PC/SC call failed: what was being done and pcsc-lite's error.
    Pcsc {
        /// What was being done.
        context: String,
        /// The PC/SC error.
        error: ::pcsc::Error,
    },
    /// No reader matches the selection (the message lists the readers there are).
    NoReader(String),
    /// The in-process card failed.
    Sim(oxicard_sim::SimError),
    /// The card's answer breaks the protocol (too short, endless `61xx`).
    Protocol(String),
    /// A connection to `oxicard sim --tcp` failed: what was being done and the I/O error.
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        error: std::io::Error,
    },
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Pcsc { context, error } => write!(f, "PC/SC: {context}: {error}"),
            TransportError::NoReader(message) => f.write_str(message),
            TransportError::Sim(error) => write!(f, "{error}"),
            TransportError::Protocol(message) => write!(f, "protocol: {message}"),
            TransportError::Io { context, error } => write!(f, "TCP: {context}: {error}"),
        }
    }
}

impl std::error::Error for TransportError {}

impl From<oxicard_sim::SimError> for TransportError {
    fn from(error: oxicard_sim::SimError) -> Self {
        TransportError::Sim(error)
    }
}
