//! A [`Card`] with golden applets installed, for the differential test and the benchmarks.
//!
//! Both compare our VM with the JVM on the golden applets of `../shared/golden` (Oracle's CAP
//! files for our VM, javac's class files for the JVM), so they need the same card set-up: the
//! golden CAP files read as load files, the library package loaded before the packages that
//! import it, one instance of each applet installed, and commands taken from the golden
//! transcripts. This module is that set-up, in one place.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use oxicard_apdu::hex::{self, Hex};
use oxicard_cap::jar::read_cap_jar;
use oxicard_jcre::{Card, MAX_RESPONSE};
use oxicard_sim::transcript::{Exchange, Step, Transcript, Variables};
use oxicard_store::RamNvm;

/// Bytes of NVM of the card (enough for every golden CAP at once).
pub const NVM_BYTES: usize = 256 * 1024;

/// The card type: the Card facade on RAM-backed NVM.
pub type GoldenCardInner = Card<RamNvm<NVM_BYTES>>;

/// The golden reference directory (`../shared/golden`, a sibling of the repository).
pub fn golden_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/golden"))
}

/// A golden package: where its CAP file is and its AID.
#[derive(Clone, Copy, Debug)]
pub struct GoldenPackage {
    /// Folder of the package under [`golden_dir`] (its transcript and classes are there too).
    pub folder: &'static str,
    /// The CAP file, relative to [`golden_dir`].
    pub cap: &'static str,
    /// Package AID.
    pub aid: &'static [u8],
    /// A package this one imports (loaded first), if any.
    pub imports: Option<&'static GoldenPackage>,
}

/// A golden applet: its package, AID and Java class.
#[derive(Clone, Copy, Debug)]
pub struct GoldenApplet {
    /// The package that defines the applet.
    pub package: &'static GoldenPackage,
    /// Applet AID (also used as the instance AID).
    pub aid: &'static [u8],
    /// Fully qualified Java class name.
    pub class: &'static str,
}

/// Package `org.oxicard.golden.lib` (no applet; imported by `bytecodes`).
pub const LIB: GoldenPackage = GoldenPackage {
    folder: "lib",
    cap: "lib/lib.cap",
    aid: &[0xF0, 0, 0, 1, 0x08, 0],
    imports: None,
};

/// Package `org.oxicard.golden.bytecodes`.
pub const BYTECODES_PACKAGE: GoldenPackage = GoldenPackage {
    folder: "bytecodes",
    cap: "bytecodes/bytecodes.cap",
    aid: &[0xF0, 0, 0, 1, 0x02, 0],
    imports: Some(&LIB),
};

/// Package `org.oxicard.golden.ints`.
pub const INTS_PACKAGE: GoldenPackage = GoldenPackage {
    folder: "ints",
    cap: "ints/ints.cap",
    aid: &[0xF0, 0, 0, 1, 0x03, 0],
    imports: None,
};

/// Package `org.oxicard.golden.hello`.
pub const HELLO_PACKAGE: GoldenPackage = GoldenPackage {
    folder: "hello",
    cap: "hello/hello.cap",
    aid: &[0xF0, 0, 0, 1, 0x01, 0],
    imports: None,
};

/// The `bytecodes` applet (one computation per INS; README §7).
pub const BYTECODES: GoldenApplet = GoldenApplet {
    package: &BYTECODES_PACKAGE,
    aid: &[0xF0, 0, 0, 1, 0x02, 0x01],
    class: "org.oxicard.golden.bytecodes.BytecodesApplet",
};

/// The `ints` applet (int arithmetic, CRC-32).
pub const INTS: GoldenApplet = GoldenApplet {
    package: &INTS_PACKAGE,
    aid: &[0xF0, 0, 0, 1, 0x03, 0x01],
    class: "org.oxicard.golden.ints.IntsApplet",
};

/// The `hello` applet (INS 01 echo).
pub const HELLO: GoldenApplet = GoldenApplet {
    package: &HELLO_PACKAGE,
    aid: &[0xF0, 0, 0, 1, 0x01, 0x01],
    class: "org.oxicard.golden.hello.HelloApplet",
};

/// Reads a golden CAP file (relative to [`golden_dir`]) as a load file: its components in
/// GlobalPlatform load order, Descriptor included.
pub fn load_file(cap: &str) -> Result<Vec<u8>> {
    let path = golden_dir().join(cap);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let jar = read_cap_jar(&bytes).map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
    Ok(jar.load_file_data_block(true))
}

/// Every checked exchange of a golden transcript (`<folder>/transcript.apdu`) in order: each
/// command with the response (data and SW) its `<` line expects, as parsed by the transcript
/// reader of `oxicard run` (oxicard-sim). Other lines (load, install, reset, comments) are
/// skipped.
pub fn transcript_exchanges(folder: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let path = golden_dir().join(folder).join("transcript.apdu");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let transcript =
        Transcript::parse(&text).with_context(|| format!("parsing {}", path.display()))?;
    let no_variables = Variables::new();
    let mut exchanges = Vec::new();
    for step in &transcript.steps {
        let Step::Exchange(Exchange {
            line,
            command,
            expected: Some(expected),
        }) = step
        else {
            continue;
        };
        let fixed = |what: &str, bytes: Option<Vec<u8>>| {
            bytes.ok_or_else(|| anyhow!("{}:{line}: {what} is not fixed bytes", path.display()))
        };
        exchanges.push((
            fixed("the command", command.build(&no_variables).ok())?,
            fixed("the response", expected.fixed_bytes(&no_variables))?,
        ));
    }
    Ok(exchanges)
}

/// The first exchange of a golden transcript whose command starts with the hex `prefix`
/// (spaces ignored): the command APDU and the response the transcript expects.
pub fn transcript_exchange(folder: &str, prefix: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    let prefix = parse_hex(prefix)?;
    transcript_exchanges(folder)?
        .into_iter()
        .find(|(c, _)| c.starts_with(&prefix))
        .ok_or_else(|| {
            anyhow!(
                "{folder}/transcript.apdu: no command starting with {}",
                to_hex(&prefix)
            )
        })
}

/// Parses hex digits, ignoring whitespace.
pub fn parse_hex(text: &str) -> Result<Vec<u8>> {
    hex::decode(text).map_err(|e| anyhow!("{text:?} is not hex: {e}"))
}

/// Formats bytes as upper-case hex without separators.
pub fn to_hex(bytes: &[u8]) -> String {
    Hex(bytes).to_string()
}

/// A card (boxed: its NVM is an array) with golden applets installed.
pub struct GoldenCard {
    card: Box<GoldenCardInner>,
    response: [u8; MAX_RESPONSE],
}

impl GoldenCard {
    /// Creates a card and loads the packages of `applets` (each imported package first, each
    /// package once), then installs one instance of each applet under its own AID. No applet
    /// is selected.
    pub fn new(applets: &[GoldenApplet]) -> Result<Self> {
        let nvm = Box::new(RamNvm::<NVM_BYTES>::new());
        let card = Card::new(*nvm).map_err(|e| anyhow!("Card::new: {e:?}"))?;
        let mut golden = GoldenCard {
            card: Box::new(card),
            response: [0; MAX_RESPONSE],
        };
        let mut loaded: Vec<&[u8]> = Vec::new();
        for applet in applets {
            let mut chain = vec![applet.package];
            while let Some(import) = chain.last().and_then(|p| p.imports) {
                chain.push(import);
            }
            for package in chain.into_iter().rev() {
                if loaded.contains(&package.aid) {
                    continue;
                }
                golden
                    .card
                    .load_cap(&load_file(package.cap)?)
                    .map_err(|e| anyhow!("loading {}: {e:?}", package.cap))?;
                loaded.push(package.aid);
            }
            golden
                .card
                .install(applet.package.aid, applet.aid, applet.aid, &[])
                .map_err(|e| anyhow!("installing {}: {e:?}", applet.class))?;
        }
        Ok(golden)
    }

    /// Selects `applet` by AID; fails unless the card answers 9000.
    pub fn select(&mut self, applet: &GoldenApplet) -> Result<()> {
        let mut command = vec![0x00, 0xA4, 0x04, 0x00, applet.aid.len() as u8];
        command.extend_from_slice(applet.aid);
        let response = self.transmit(&command)?;
        if response != [0x90, 0x00] {
            bail!("SELECT {} answered {}", applet.class, to_hex(&response));
        }
        Ok(())
    }

    /// Sends a command APDU; returns the response data followed by the status word.
    pub fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        Ok(self.transmit_slice(command)?.to_vec())
    }

    /// Sends a command APDU; returns the response (data and SW) in a buffer of the card, so
    /// that benchmarks do not allocate per command.
    pub fn transmit_slice(&mut self, command: &[u8]) -> Result<&[u8]> {
        let len = self
            .card
            .transmit(command, &mut self.response)
            .map_err(|e| anyhow!("transmit {}: {e:?}", to_hex(command)))?;
        Ok(&self.response[..len])
    }

    /// The card, for anything else (budget, reset, inspection).
    pub fn card_mut(&mut self) -> &mut GoldenCardInner {
        &mut self.card
    }
}
