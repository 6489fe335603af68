//! An in-process simulated card: the oxicard runtime on a RAM NVM, fed with CAP files from
//! disk. It is what `oxicard run --sim` and host-side tests drive; it keeps a catalogue of CAP
//! files by package AID so that a script's `load` lines can name packages. Its NVM is the
//! simulator's own ([`SimNvm`]: memory or an image file) unless a caller brings another one
//! ([`SimCard::on_nvm`]: the benchmark's training run, which must run the benchmark's card
//! type).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use oxicard_apdu::Aid;
use oxicard_cap::components::header::Header;
use oxicard_cap::jar::read_cap_jar;
use oxicard_cap::ComponentTag;
use oxicard_jcre::{Card, CardError, MAX_RESPONSE};
use oxicard_store::Nvm;
use oxicard_vm::persist::FOREIGN_FORMAT;
use oxicard_vm::Trap;

use crate::nvm::{FileNvm, HeapNvm, SimNvm};

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
pub struct SimCard<N: Nvm = SimNvm> {
    card: Box<Card<N>>,
    catalogue: BTreeMap<Aid, CapPackage>,
}

impl SimCard {
    /// A fresh card in memory: empty NVM, nothing loaded, no applet selected.
    pub fn new() -> Result<SimCard, SimError> {
        Self::power_up(SimNvm::Heap(HeapNvm::new(NVM_SIZE))).map_err(|e| card_error("power-up", e))
    }

    /// A card whose NVM is the image file `path` (created when missing): what was loaded and
    /// installed on it before, and the applets' data, are still there. Every NVM write reaches
    /// the file before the card goes on, so killing the process is a power cut, from which
    /// the card recovers here. `sync` also flushes each write to the disk.
    pub fn with_image(path: &Path, sync: bool) -> Result<SimCard, SimError> {
        let io = |e: std::io::Error| SimError::Io(path.to_path_buf(), e.to_string());
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let nvm = FileNvm::open(path, NVM_SIZE, sync).map_err(io)?;
        Self::power_up(SimNvm::File(nvm)).map_err(|e| match e {
            CardError::Trap(Trap::Malformed { what, .. }) if what == FOREIGN_FORMAT => {
                SimError::Card(format!(
                    "{}: {FOREIGN_FORMAT} (this build reads \"{}\"); the file is left as it is: \
                     use the oxicard that made it, or start a new card with --reset-image",
                    path.display(),
                    String::from_utf8_lossy(&oxicard_vm::layout::MAGIC.to_be_bytes()),
                ))
            }
            other => card_error("power-up", other),
        })
    }
}

impl<N: Nvm> SimCard<N> {
    /// A card on `nvm` (powered up as [`SimCard::new`] is), with an empty catalogue.
    pub fn on_nvm(nvm: N) -> Result<SimCard<N>, SimError> {
        Self::power_up(nvm).map_err(|e| card_error("power-up", e))
    }

    fn power_up(nvm: N) -> Result<SimCard<N>, CardError> {
        let card = Card::new(nvm)?;
        Ok(SimCard {
            card: Box::new(card),
            catalogue: BTreeMap::new(),
        })
    }

    /// True when the package with this AID is on the card.
    pub fn has_package(&self, package: &Aid) -> bool {
        self.card.has_package(package.as_bytes())
    }

    /// True when an applet instance with this AID is installed.
    pub fn has_instance(&self, instance: &Aid) -> bool {
        self.card
            .applet_instances()
            .any(|aid| aid == instance.as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An image that another oxicard format version wrote is refused with a message that
    /// says what to do, and the file is not touched (formatting it would lose that card).
    #[test]
    fn an_image_of_another_format_version_is_refused_and_kept() {
        let path = std::env::temp_dir().join(format!("oxicard-foreign-{}.img", std::process::id()));
        let _ = std::fs::remove_file(&path);
        drop(SimCard::with_image(&path, false).expect("a new image"));
        let mut image = std::fs::read(&path).expect("image");
        assert_eq!(&image[..4], &oxicard_vm::layout::MAGIC.to_be_bytes());
        image[3] = b'1'; // "OXC1": an older format, which this build does not read
        std::fs::write(&path, &image).expect("write");
        let Err(SimError::Card(message)) = SimCard::with_image(&path, false) else {
            panic!("an OXC1 image was opened");
        };
        assert!(
            message.contains("another oxicard format version"),
            "{message}"
        );
        assert!(message.contains("--reset-image"), "{message}");
        assert_eq!(
            std::fs::read(&path).expect("image"),
            image,
            "the file changed"
        );
        // "OXC2" (the format before free handles) opens, and is marked "OXC3"
        image[3] = b'2';
        std::fs::write(&path, &image).expect("write");
        drop(SimCard::with_image(&path, false).expect("an OXC2 image opens"));
        assert_eq!(&std::fs::read(&path).expect("image")[..4], b"OXC3");
        // a blank file is still a new card
        std::fs::write(&path, vec![0u8; image.len()]).expect("blank");
        assert!(SimCard::with_image(&path, false).is_ok());
        let _ = std::fs::remove_file(&path);
    }
}
