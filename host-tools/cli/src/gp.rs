//! `oxicard gp`: card management with ordinary GlobalPlatform APDUs (the commands of
//! the card manager in oxicard-jcre, and of GlobalPlatform cards that accept them without
//! a secure channel): install a CAP file (load, then INSTALL [for install and make
//! selectable]), load, delete, list the card's contents (GET STATUS), card information.
//! It talks to any [`CardChannel`]: the in-process simulator (`--sim`, or `--image FILE`
//! to keep the card between runs), a PC/SC reader (`--reader`, by default the first
//! reader with a card) or `oxicard sim --tcp` (`--tcp HOST:PORT`).
//!
//! A load is sent as GlobalPlatformPro sends it: INSTALL [for load], then LOAD commands
//! carrying `C4 <BER length> <load file data block>` in blocks (P1 80 on the last, P2 the
//! block number), with a progress bar on a terminal.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use oxicard_apdu::hex::Hex;
use oxicard_apdu::tlv::{Tag, TlvReader};
use oxicard_apdu::{Aid, StatusWord};
use oxicard_cap::components::applet::AppletComponent;
use oxicard_cap::components::header::Header;
use oxicard_cap::jar::read_cap_jar;
use oxicard_cap::ComponentTag;
use oxicard_sim::SimCard;
use oxicard_transport::{CardChannel, PcscChannel, ReaderSelector, SimChannel, TcpChannel};

/// The GlobalPlatform default issuer security domain (oxicard's card manager).
const ISD_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00];

/// Status word of success, and of GET STATUS with more entries to come.
const SW_OK: u16 = 0x9000;
const SW_MORE: u16 = 0x6310;
const SW_NOT_FOUND: u16 = 0x6A88;

/// Arguments of `oxicard gp`.
#[derive(Args, Debug)]
pub struct GpArgs {
    /// Use a fresh in-process simulated card.
    #[arg(long, conflicts_with_all = ["reader", "image", "tcp"])]
    sim: bool,
    /// Use an in-process simulated card whose NVM is this image file (created when
    /// missing; the same format `oxicard sim --image` uses), so that what is installed stays.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["reader", "tcp"])]
    image: Option<PathBuf>,
    /// The PC/SC reader: its name (or a unique part of it) or its index from 0. Default:
    /// the first reader with a card in it.
    #[arg(long, value_name = "NAME|INDEX")]
    reader: Option<String>,
    /// The card of `oxicard sim --tcp ADDR`, reached over TCP without PC/SC.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "reader")]
    tcp: Option<String>,
    #[command(subcommand)]
    command: GpCommand,
}

/// What `oxicard gp` does.
#[derive(Subcommand, Debug)]
enum GpCommand {
    /// Load a CAP file (unless its package is on the card) and install an applet of it.
    Install {
        /// The CAP file.
        cap: PathBuf,
        /// The applet (class) AID to install; default: the CAP's only applet.
        #[arg(long, value_name = "AID")]
        applet: Option<String>,
        /// The instance AID; default: the applet AID.
        #[arg(long, value_name = "AID")]
        instance: Option<String>,
        /// Application install parameters in hex (sent as `C9 <params>`).
        #[arg(long, value_name = "HEX", default_value = "")]
        params: String,
        /// Privileges byte(s) in hex (1 or 3 bytes).
        #[arg(long, value_name = "HEX", default_value = "00")]
        privileges: String,
        /// LOAD block size in bytes.
        #[arg(long, default_value_t = 255, value_parser = clap::value_parser!(u8).range(16..))]
        block_size: u8,
    },
    /// Load the package of a CAP file.
    Load {
        /// The CAP file.
        cap: PathBuf,
        /// LOAD block size in bytes.
        #[arg(long, default_value_t = 255, value_parser = clap::value_parser!(u8).range(16..))]
        block_size: u8,
    },
    /// Delete an applet instance or a package.
    Delete {
        /// The AID of the instance or package.
        aid: String,
        /// Also delete the package's applet instances (DELETE P2 80).
        #[arg(long, short = 'f')]
        related: bool,
    },
    /// List the security domain, applet instances and packages (GET STATUS).
    List,
    /// Show what the card says about itself: ATR, ISD, card recognition data.
    Info,
}

/// Help shown after `oxicard gp --help`.
pub const GP_HELP: &str = "\
Examples:
  oxicard gp --image card.img install hello.cap
  oxicard gp --image card.img install wallet.cap --params 04313233340064
  oxicard gp --image card.img list
  oxicard gp --image card.img delete F00000010100 -f
  oxicard gp --reader 0 info

No secure channel is opened: the commands are sent in the clear (CLA 80), which
oxicard's card manager accepts; other cards answer 6982.";

/// A CAP file as `oxicard gp` needs it: package AID and version, applet AIDs, load file.
struct CapFile {
    package: Vec<u8>,
    version: (u8, u8),
    applets: Vec<Vec<u8>>,
    load_file: Vec<u8>,
}

impl CapFile {
    fn read(path: &Path) -> anyhow::Result<CapFile> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let malformed =
            |e: &dyn std::fmt::Display| crate::Malformed(format!("{}: {e}", path.display()));
        let jar = read_cap_jar(&bytes).map_err(|e| malformed(&e))?;
        let header_bytes = jar
            .component(ComponentTag::Header)
            .ok_or_else(|| malformed(&"no Header component"))?;
        let header = Header::parse(header_bytes).map_err(|e| malformed(&e))?;
        let mut applets = Vec::new();
        if let Some(bytes) = jar.component(ComponentTag::Applet) {
            let component =
                AppletComponent::parse(bytes, header.version()).map_err(|e| malformed(&e))?;
            for applet in component.applets {
                applets.push(applet.aid.to_vec());
            }
        }
        Ok(CapFile {
            package: header.package.aid.to_vec(),
            version: (header.package.major_version, header.package.minor_version),
            applets,
            load_file: jar.load_file_data_block(false),
        })
    }
}

/// Runs `oxicard gp`.
pub fn run(args: &GpArgs) -> anyhow::Result<ExitCode> {
    let mut card = open(args)?;
    let card = card.as_mut();
    match &args.command {
        GpCommand::Install {
            cap,
            applet,
            instance,
            params,
            privileges,
            block_size,
        } => {
            let file = CapFile::read(cap)?;
            let applet = match (applet, file.applets.as_slice()) {
                (Some(aid), _) => parse_aid(aid)?,
                (None, [only]) => only.clone(),
                (None, []) => bail!("{} has no applet to install", cap.display()),
                (None, _) => bail!(
                    "{} has several applets ({}): choose one with --applet",
                    cap.display(),
                    file.applets
                        .iter()
                        .map(|a| Hex(a).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let instance = match instance {
                Some(aid) => parse_aid(aid)?,
                None => applet.clone(),
            };
            let params = parse_hex("--params", params)?;
            let privileges = parse_hex("--privileges", privileges)?;
            select_isd(card)?;
            if list_packages(card)?.contains(&file.package) {
                eprintln!("package {} is on the card already", Hex(&file.package));
            } else {
                load(card, &file, *block_size as usize, cap)?;
            }
            install(
                card,
                &file.package,
                &applet,
                &instance,
                &privileges,
                &params,
            )?;
            println!(
                "installed {} (applet {}, package {})",
                Hex(&instance),
                Hex(&applet),
                Hex(&file.package)
            );
        }
        GpCommand::Load { cap, block_size } => {
            let file = CapFile::read(cap)?;
            select_isd(card)?;
            load(card, &file, *block_size as usize, cap)?;
        }
        GpCommand::Delete { aid, related } => {
            let aid = parse_aid(aid)?;
            select_isd(card)?;
            let mut data = vec![0x4F, aid.len() as u8];
            data.extend_from_slice(&aid);
            expect_ok(
                card,
                [0x80, 0xE4, 0x00, if *related { 0x80 } else { 0x00 }],
                &data,
                "DELETE",
            )?;
            println!("deleted {}", Hex(&aid));
        }
        GpCommand::List => {
            select_isd(card)?;
            print!("{}", listing(card)?);
        }
        GpCommand::Info => {
            println!("reader: {}", card.name());
            println!("ATR: {}", Hex(card.atr()));
            let fci = select_isd(card)?;
            println!("ISD: {} (FCI {})", Hex(&ISD_AID), Hex(&fci));
            let (data, sw) = send(card, [0x80, 0xCA, 0x00, 0x66], &[])?;
            if sw == SW_OK {
                println!("card data: {}", Hex(&data));
                for oid in card_data_oids(&data) {
                    println!("  {oid}");
                }
            } else {
                println!("card data: none ({})", explain(sw));
            }
            let (cplc, sw) = send(card, [0x80, 0xCA, 0x9F, 0x7F], &[])?;
            if sw == SW_OK {
                println!("CPLC: {}", Hex(&cplc));
            } else {
                println!("CPLC: none ({})", explain(sw));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the card the options name.
fn open(args: &GpArgs) -> anyhow::Result<Box<dyn CardChannel>> {
    if let Some(image) = &args.image {
        let card = SimCard::with_image(image, false)
            .with_context(|| format!("opening the card image {}", image.display()))?;
        return Ok(Box::new(SimChannel::new(card)));
    }
    if args.sim {
        return Ok(Box::new(SimChannel::new(SimCard::new()?)));
    }
    if let Some(address) = &args.tcp {
        return Ok(Box::new(TcpChannel::connect(address)?));
    }
    let selector = ReaderSelector::from_option(args.reader.as_deref());
    Ok(Box::new(PcscChannel::connect(&selector)?))
}

fn parse_aid(text: &str) -> anyhow::Result<Vec<u8>> {
    let aid = Aid::from_hex(text).map_err(|e| crate::Malformed(format!("AID {text}: {e}")))?;
    Ok(aid.as_bytes().to_vec())
}

fn parse_hex(option: &str, text: &str) -> anyhow::Result<Vec<u8>> {
    oxicard_apdu::hex::decode(text)
        .map_err(|e| crate::Malformed(format!("{option} {text}: {e}")).into())
}

/// A status word with its meaning.
fn explain(sw: u16) -> String {
    format!("{sw:04X}: {}", StatusWord(sw).meaning())
}

/// Sends a command (Le 00 when it has data); returns (data, status word).
fn send(
    card: &mut dyn CardChannel,
    header: [u8; 4],
    data: &[u8],
) -> anyhow::Result<(Vec<u8>, u16)> {
    let mut command = header.to_vec();
    command.push(data.len() as u8);
    command.extend_from_slice(data);
    if !data.is_empty() {
        command.push(0);
    }
    let mut response = card.transmit(&command)?;
    if response.len() < 2 {
        bail!(
            "the card answered {} bytes to {}",
            response.len(),
            Hex(&command)
        );
    }
    let sw = response.split_off(response.len() - 2);
    Ok((response, u16::from_be_bytes([sw[0], sw[1]])))
}

/// Sends a command that must answer 9000; returns its data.
fn expect_ok(
    card: &mut dyn CardChannel,
    header: [u8; 4],
    data: &[u8],
    what: &str,
) -> anyhow::Result<Vec<u8>> {
    let (response, sw) = send(card, header, data)?;
    if sw != SW_OK {
        bail!("{what} refused: {}", explain(sw));
    }
    Ok(response)
}

/// Selects the issuer security domain; returns its FCI.
fn select_isd(card: &mut dyn CardChannel) -> anyhow::Result<Vec<u8>> {
    expect_ok(
        card,
        [0x00, 0xA4, 0x04, 0x00],
        &ISD_AID,
        "SELECT of the card manager",
    )
}

/// The BER encoding of a length.
fn ber_length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

/// INSTALL [for load] and the LOAD blocks, with a progress bar.
fn load(
    card: &mut dyn CardChannel,
    file: &CapFile,
    block_size: usize,
    path: &Path,
) -> anyhow::Result<()> {
    let mut data = vec![file.package.len() as u8];
    data.extend_from_slice(&file.package);
    data.extend_from_slice(&[0, 0, 0, 0]);
    expect_ok(card, [0x80, 0xE6, 0x02, 0x00], &data, "INSTALL [for load]")?;
    let mut stream = vec![0xC4];
    stream.extend_from_slice(&ber_length(file.load_file.len()));
    stream.extend_from_slice(&file.load_file);
    let blocks: Vec<&[u8]> = stream.chunks(block_size).collect();
    if blocks.len() > 256 {
        bail!(
            "{} needs {} LOAD blocks; at most 256 fit the block numbers (raise --block-size)",
            path.display(),
            blocks.len()
        );
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut progress = Progress::new(&name, stream.len());
    for (number, block) in blocks.iter().enumerate() {
        let last = number + 1 == blocks.len();
        let p1 = if last { 0x80 } else { 0x00 };
        let r = expect_ok(card, [0x80, 0xE8, p1, number as u8], block, "LOAD");
        if let Err(e) = r {
            progress.abandon();
            return Err(e.context(format!("loading {} (block {number})", path.display())));
        }
        progress.advance(block.len());
    }
    progress.finish();
    eprintln!(
        "loaded package {} v{}.{} ({} bytes in {} blocks)",
        Hex(&file.package),
        file.version.0,
        file.version.1,
        file.load_file.len(),
        blocks.len()
    );
    Ok(())
}

/// INSTALL [for install and make selectable].
fn install(
    card: &mut dyn CardChannel,
    package: &[u8],
    applet: &[u8],
    instance: &[u8],
    privileges: &[u8],
    params: &[u8],
) -> anyhow::Result<()> {
    if params.len() > 0x7F {
        bail!("--params: at most 127 bytes");
    }
    let mut data = Vec::new();
    for field in [package, applet, instance, privileges] {
        data.push(field.len() as u8);
        data.extend_from_slice(field);
    }
    data.push(params.len() as u8 + 2);
    data.extend_from_slice(&[0xC9, params.len() as u8]);
    data.extend_from_slice(params);
    data.push(0);
    expect_ok(
        card,
        [0x80, 0xE6, 0x0C, 0x00],
        &data,
        "INSTALL [for install and make selectable]",
    )?;
    Ok(())
}

/// The TLV entries (`E3` templates) of GET STATUS `p1`, following 6310.
fn status_entries(card: &mut dyn CardChannel, p1: u8) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut entries = Vec::new();
    let mut p2 = 0x02;
    loop {
        let (data, sw) = send(card, [0x80, 0xF2, p1, p2], &[0x4F, 0x00])?;
        if sw == SW_NOT_FOUND {
            return Ok(entries);
        }
        if sw != SW_OK && sw != SW_MORE {
            bail!("GET STATUS {p1:02X} refused: {}", explain(sw));
        }
        for tlv in TlvReader::new(&data) {
            let tlv = tlv.map_err(|e| anyhow::anyhow!("GET STATUS {p1:02X} answer: {e}"))?;
            if tlv.tag == Tag(0xE3) {
                entries.push(tlv.value.to_vec());
            }
        }
        if sw == SW_OK {
            return Ok(entries);
        }
        p2 = 0x03;
    }
}

/// The values of `tag` in one GET STATUS entry.
fn values(entry: &[u8], tag: u32) -> Vec<Vec<u8>> {
    TlvReader::new(entry)
        .filter_map(Result::ok)
        .filter(|t| t.tag == Tag(tag))
        .map(|t| t.value.to_vec())
        .collect()
}

fn first(entry: &[u8], tag: u32) -> Vec<u8> {
    values(entry, tag).into_iter().next().unwrap_or_default()
}

/// The AIDs of the packages on the card.
fn list_packages(card: &mut dyn CardChannel) -> anyhow::Result<Vec<Vec<u8>>> {
    Ok(status_entries(card, 0x20)?
        .iter()
        .map(|e| first(e, 0x4F))
        .collect())
}

/// The name of a life cycle state (GP): card, application or load file.
fn life_cycle(kind: u8, state: u8) -> String {
    let name = match (kind, state) {
        (0x80, 0x01) => "OP_READY",
        (0x80, 0x07) => "INITIALIZED",
        (0x80, 0x0F) => "SECURED",
        (0x80, 0x7F) => "CARD_LOCKED",
        (0x80, 0xFF) => "TERMINATED",
        (0x40, 0x03) => "INSTALLED",
        (0x40, 0x07) => "SELECTABLE",
        (0x40, s) if s & 0x80 != 0 => "LOCKED",
        (_, 0x01) => "LOADED",
        _ => return format!("{state:02X}"),
    };
    name.to_string()
}

/// `oxicard gp list`: the ISD, the applet instances, the packages with their applets.
fn listing(card: &mut dyn CardChannel) -> anyhow::Result<String> {
    let mut text = String::new();
    for (p1, label) in [(0x80, "ISD"), (0x40, "APP"), (0x10, "PKG")] {
        for entry in status_entries(card, p1)? {
            let state = first(&entry, 0x9F70).first().copied().unwrap_or(0);
            text.push_str(&format!(
                "{label}: {} ({})",
                Hex(&first(&entry, 0x4F)),
                life_cycle(p1, state)
            ));
            let version = first(&entry, 0xCE);
            if let [major, minor] = version.as_slice() {
                text.push_str(&format!(" v{major}.{minor}"));
            }
            text.push('\n');
            for applet in values(&entry, 0x84) {
                text.push_str(&format!("     Applet: {}\n", Hex(&applet)));
            }
        }
    }
    Ok(text)
}

/// The object identifiers in card recognition data (`66 { 73 { 06 .., 6x { 06 .. } } }`),
/// as dotted text.
fn card_data_oids(data: &[u8]) -> Vec<String> {
    fn walk(bytes: &[u8], out: &mut Vec<String>) {
        for tlv in TlvReader::new(bytes).filter_map(Result::ok) {
            if tlv.tag == Tag(0x06) {
                out.push(oid_text(tlv.value));
            } else if tlv.tag.is_constructed() || (0x60..=0x6F).contains(&tlv.tag.0) {
                walk(tlv.value, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(data, &mut out);
    out
}

/// An encoded OBJECT IDENTIFIER as dotted decimal.
fn oid_text(bytes: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value = 0u64;
    for &b in bytes {
        value = value << 7 | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A progress bar on stderr for a load (drawn only on a terminal).
struct Progress {
    name: String,
    total: usize,
    done: usize,
    draw: bool,
}

impl Progress {
    const WIDTH: usize = 30;

    fn new(name: &str, total: usize) -> Progress {
        let progress = Progress {
            name: name.to_string(),
            total: total.max(1),
            done: 0,
            draw: std::io::stderr().is_terminal(),
        };
        progress.redraw();
        progress
    }

    fn redraw(&self) {
        if !self.draw {
            return;
        }
        let filled = self.done * Self::WIDTH / self.total;
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(Self::WIDTH - filled));
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\rloading {} [{bar}] {}/{} bytes",
            self.name, self.done, self.total
        );
        let _ = err.flush();
    }

    fn advance(&mut self, bytes: usize) {
        self.done = (self.done + bytes).min(self.total);
        self.redraw();
    }

    fn finish(&mut self) {
        if self.draw {
            eprintln!();
        }
    }

    fn abandon(&mut self) {
        if self.draw {
            eprintln!(" failed");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn oids_of_card_recognition_data_read_as_dotted_decimal() {
        let data = oxicard_apdu::hex::decode(
            "6624 7322 06072A864886FC6B01 600C060A2A864886FC6B02020201 6309 06072A864886FC6B03",
        )
        .unwrap();
        assert_eq!(
            card_data_oids(&data),
            [
                "1.2.840.114283.1",
                "1.2.840.114283.2.2.2.1",
                "1.2.840.114283.3"
            ]
        );
    }

    #[test]
    fn ber_lengths_use_the_shortest_form() {
        assert_eq!(ber_length(0x7F), [0x7F]);
        assert_eq!(ber_length(0x80), [0x81, 0x80]);
        assert_eq!(ber_length(0x1C0), [0x82, 0x01, 0xC0]);
    }
}
