//! An in-process simulated card: the oxicard runtime on a RAM NVM, fed with CAP files from
//! disk. It is what `oxicard run --sim` and host-side tests drive; it keeps a catalogue of CAP
//! files by package AID so that a script's `load` lines can name packages.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use oxicard_apdu::Aid;
use oxicard_cap::components::header::Header;
use oxicard_cap::jar::read_cap_jar;
use oxicard_cap::ComponentTag;
use oxicard_jcre::{Card, CardError, MAX_RESPONSE};

use crate::nvm::HeapNvm;

/// Bytes of NVM the simulated card has.
pub const NVM_SIZE: usize = 512 * 1024;

/// A CAP file read from disk, ready to load: its package AID and its load file.
#[derive(Clone, Debug)]
pub struct CapPackage {
    /// Where it came from.
    pub path: PathBuf,
    /// The package AID from the Header component.
    pub aid: Aid,
    /// Package version (major, minor).
    pub version: (u8, u8),
    /// The components concatenated in GlobalPlatform load order (what LOAD commands carry).
    pub load_file: Vec<u8>,
}

impl CapPackage {
    /// Reads a CAP file (the JAR container) and prepares its load file.
    pub fn read(path: &Path) -> Result<CapPackage, SimError> {
        let bytes =
            std::fs::read(path).map_err(|e| SimError::Io(path.to_path_buf(), e.to_string()))?;
        Self::from_bytes(path, &bytes)
    }

    /// Prepares a CAP file already in memory; `path` only names it in messages.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<CapPackage, SimError> {
        let bad = |e: &dyn fmt::Display| SimError::BadCap(path.to_path_buf(), e.to_string());
        let jar = read_cap_jar(bytes).map_err(|e| bad(&e))?;
        let header_bytes = jar
            .component(ComponentTag::Header)
            .ok_or_else(|| bad(&"no Header component"))?;
        let header = Header::parse(header_bytes).map_err(|e| bad(&e))?;
        let aid = Aid::new(header.package.aid).map_err(|e| bad(&e))?;
        Ok(CapPackage {
            path: path.to_path_buf(),
            aid,
            version: (header.package.major_version, header.package.minor_version),
            load_file: jar.load_file_data_block(false),
        })
    }
}

/// What went wrong on the host side of the simulated card.
#[derive(Clone, Debug)]
pub enum SimError {
    /// A file could not be read.
    Io(PathBuf, String),
    /// A CAP file is malformed.
    BadCap(PathBuf, String),
    /// A script asked for a package no given CAP file holds.
    UnknownPackage(Aid),
    /// The card refused an operation.
    Card(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            SimError::BadCap(path, e) => write!(f, "{}: not a valid CAP file: {e}", path.display()),
            SimError::UnknownPackage(aid) => {
                write!(f, "no CAP file given for package {aid} (add it with --cap)")
            }
            SimError::Card(e) => write!(f, "the card refused: {e}"),
        }
    }
}

impl std::error::Error for SimError {}

fn card_error(context: &str, error: CardError) -> SimError {
    SimError::Card(format!("{context}: {error:?}"))
}

/// The simulated card with a catalogue of CAP files it can load by package AID.
pub struct SimCard {
    card: Box<Card<HeapNvm>>,
    catalogue: BTreeMap<Aid, CapPackage>,
}

impl SimCard {
    /// A fresh card: empty NVM, nothing loaded, no applet selected.
    pub fn new() -> Result<SimCard, SimError> {
        let card = Card::new(HeapNvm::new(NVM_SIZE)).map_err(|e| card_error("power-up", e))?;
        Ok(SimCard {
            card: Box::new(card),
            catalogue: BTreeMap::new(),
        })
    }

    /// Makes a CAP file available to [`SimCard::load`] by its package AID.
    pub fn add_cap(&mut self, package: CapPackage) {
        self.catalogue.insert(package.aid, package);
    }

    /// The CAP files known by package AID.
    pub fn catalogue(&self) -> impl Iterator<Item = &CapPackage> {
        self.catalogue.values()
    }

    /// Loads (and links) the package with this AID from the catalogue.
    pub fn load(&mut self, package: &Aid) -> Result<(), SimError> {
        let cap = self
            .catalogue
            .get(package)
            .ok_or(SimError::UnknownPackage(*package))?;
        self.card
            .load_cap(&cap.load_file)
            .map_err(|e| card_error(&format!("loading {}", cap.path.display()), e))
    }

    /// Installs an applet instance with GlobalPlatform-style install parameters.
    pub fn install(
        &mut self,
        package: &Aid,
        applet: &Aid,
        instance: &Aid,
        params: &[u8],
    ) -> Result<(), SimError> {
        self.card
            .install(
                package.as_bytes(),
                applet.as_bytes(),
                instance.as_bytes(),
                params,
            )
            .map_err(|e| card_error(&format!("installing {instance}"), e))
    }

    /// A card reset (power cycle).
    pub fn reset(&mut self) -> Result<(), SimError> {
        self.card.reset().map_err(|e| card_error("reset", e))
    }

    /// Sends a command APDU; returns the response data followed by SW1 SW2.
    pub fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, SimError> {
        let mut response = [0u8; MAX_RESPONSE];
        let len = self
            .card
            .transmit(command, &mut response)
            .map_err(|e| card_error("transmit", e))?;
        Ok(response.get(..len).unwrap_or(&response).to_vec())
    }
}
