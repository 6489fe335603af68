//! The desktop card. Today: an in-process simulated card (the runtime on a RAM NVM) that loads
//! CAP files, the golden transcript format that scripts drive it with, and the vpcd front end
//! ([`vpcd`]) that puts the card into pcscd, and a plain TCP front end ([`tcp`]) for tools
//! without PC/SC. The file-backed NVM comes with later PC/SC work.
//!
//! Everything here is host-side (std): it owns the files, the parsing of text scripts and the
//! formatting of what happened, so that the card runtime stays `no_std`.

pub mod card;
pub mod nvm;
pub mod runner;
pub mod tcp;
pub mod transcript;
pub mod vpcd;

pub use card::{CapPackage, SimCard, SimError};
pub use runner::{run_transcript, Event, RunSummary};
pub use transcript::{Exchange, Expected, Step, Transcript, TranscriptError};
