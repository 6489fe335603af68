//! `oxicard sim`: the simulated card attached to vsmartcard's vpcd driver, so that it sits in a
//! PC/SC reader ("Virtual PCD 00 00") for every PC/SC program. The card keeps its NVM in an
//! image file, so packages, applets and their data survive restarts and `kill -9`. There is
//! no card manager yet, so applets are loaded and installed from CAP files at start (skipped
//! when the image already holds them). With `--tcp ADDR` the card listens on a TCP port
//! instead ([`oxicard_sim::tcp`]), for tools without PC/SC.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use oxicard_apdu::hex::{decode, Hex};
use oxicard_apdu::Aid;
use oxicard_sim::tcp;
use oxicard_sim::vpcd::{self, VpcdEvent};
use oxicard_sim::{CapPackage, SimCard};

/// How long to wait before connecting again when vpcd is not there or went away.
const RETRY: Duration = Duration::from_secs(1);

/// Arguments of `oxicard sim`.
#[derive(Args, Debug)]
pub struct SimArgs {
    /// Host where pcscd with the vpcd driver runs.
    #[arg(long, default_value = "localhost")]
    host: String,
    /// vpcd's port: 35963 for its first slot ("Virtual PCD 00 00"), one more for each next slot.
    #[arg(long, default_value_t = vpcd::DEFAULT_PORT)]
    port: u16,
    /// A CAP file to load at start, in the order given (libraries before their users).
    #[arg(long = "cap", value_name = "FILE.cap")]
    caps: Vec<PathBuf>,
    /// An applet instance to install after loading: package AID, applet AID, and optionally
    /// instance AID and install parameters, in hex, separated by colons.
    #[arg(long = "install", value_name = "PKG:APPLET[:INSTANCE[:PARAMS]]")]
    installs: Vec<String>,
    /// The card's NVM image file (created when missing). Default: $OXICARD_IMAGE, else
    /// $XDG_DATA_HOME/oxicard/card.img, else ~/.local/share/oxicard/card.img.
    #[arg(long, value_name = "FILE", conflicts_with = "memory")]
    image: Option<PathBuf>,
    /// Start from an empty card: delete the image file first.
    #[arg(long, conflicts_with = "memory")]
    reset_image: bool,
    /// Keep the NVM in memory only: a fresh card that forgets everything when it ends.
    #[arg(long)]
    memory: bool,
    /// Instead of attaching to vpcd, listen for TCP connections on this address (port 0:
    /// any free port; the address is printed) and serve the card to them one at a time, with
    /// vpcd's framing: a two-byte big-endian length, then the body; one-byte bodies are
    /// controls (00 power off, 01 power on, 02 reset, 04 get ATR, answered with the ATR),
    /// longer ones command APDUs, answered with the response. `oxicard run|shell|gp --tcp`.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["host", "port"])]
    tcp: Option<String>,
    /// Log every APDU and control message.
    #[arg(short, long)]
    verbose: bool,
}

/// The image file: the option, or the environment's choice, or the per-user default.
fn image_path(option: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = option {
        return Ok(path.clone());
    }
    let env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(path) = env("OXICARD_IMAGE") {
        return Ok(PathBuf::from(path));
    }
    let data = match (env("XDG_DATA_HOME"), env("HOME")) {
        (Some(data), _) => PathBuf::from(data),
        (None, Some(home)) => PathBuf::from(home).join(".local/share"),
        (None, None) => bail!("no --image given and neither XDG_DATA_HOME nor HOME is set"),
    };
    Ok(data.join("oxicard").join("card.img"))
}

/// Help text shown after the options of `oxicard sim`.
pub const SIM_HELP: &str = "\
Needs pcscd running with vsmartcard's vpcd driver (Debian/Ubuntu: apt-get install pcscd
vsmartcard-vpcd). The card connects to vpcd, retries every second while vpcd is not there,
and comes back by itself when pcscd restarts. The card's NVM is an image file (see
--image): what is installed, and every applet's data, is kept across restarts, and killing
the process at any moment is a power cut the card recovers from. Ctrl-C ends it.

ATR: 3B 89 80 01 80 67 6F 78 69 63 61 72 64 85 (T=1, historical bytes \"oxicard\").

Examples:
  oxicard sim --cap hello.cap --install F00000010100:F00000010101 -v
  opensc-tool -r 'Virtual PCD 00 00' -s 00A4040006F00000010101 -s 8002000000
  oxicard sim --memory --tcp 127.0.0.1:35900      no PC/SC: a TCP port instead of vpcd
  oxicard gp --tcp 127.0.0.1:35900 install hello.cap";

/// One `--install` argument, parsed.
#[derive(Debug, PartialEq)]
struct Install {
    package: Aid,
    applet: Aid,
    instance: Aid,
    params: Vec<u8>,
}

fn parse_install(spec: &str) -> anyhow::Result<Install> {
    let fields: Vec<&str> = spec.split(':').collect();
    let aid = |name: &str, text: &str| {
        Aid::from_hex(text)
            .map_err(|e| anyhow::anyhow!("--install {spec}: {name} AID {text:?}: {e}"))
    };
    let (package, applet) = match fields.as_slice() {
        [package, applet, ..] if fields.len() <= 4 => {
            (aid("package", package)?, aid("applet", applet)?)
        }
        _ => bail!("--install {spec}: expected PKG:APPLET[:INSTANCE[:PARAMS]] (AIDs in hex)"),
    };
    let instance = match fields.get(2) {
        Some(text) if !text.is_empty() => aid("instance", text)?,
        _ => applet,
    };
    let params = match fields.get(3) {
        Some(text) => decode(text)
            .map_err(|e| anyhow::anyhow!("--install {spec}: install parameters {text:?}: {e}"))?,
        None => Vec::new(),
    };
    Ok(Install {
        package,
        applet,
        instance,
        params,
    })
}

/// Prepares the card and serves it to vpcd until the process is ended.
pub fn run(args: &SimArgs) -> anyhow::Result<std::process::ExitCode> {
    let installs = args
        .installs
        .iter()
        .map(|spec| parse_install(spec))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| crate::Malformed(format!("{e:#}")))?;
    let mut card = if args.memory {
        eprintln!("card NVM in memory only");
        SimCard::new()?
    } else {
        let image = image_path(args.image.as_ref())?;
        if args.reset_image {
            match std::fs::remove_file(&image) {
                Ok(()) => eprintln!("deleted {}", image.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("deleting {}", image.display())),
            }
        }
        let card = SimCard::with_image(&image, false)?;
        eprintln!("card NVM image {}", image.display());
        card
    };
    for path in &args.caps {
        let package = CapPackage::read(path).map_err(|e| crate::Malformed(e.to_string()))?;
        let aid = package.aid;
        if card.has_package(&aid) {
            eprintln!("{} ({aid}) is on the card already", path.display());
            continue;
        }
        card.add_cap(package);
        card.load(&aid)
            .with_context(|| format!("loading {}", path.display()))?;
        eprintln!("loaded {} ({aid})", path.display());
    }
    for install in &installs {
        if card.has_instance(&install.instance) {
            eprintln!("{} is installed already", install.instance);
            continue;
        }
        card.install(
            &install.package,
            &install.applet,
            &install.instance,
            &install.params,
        )?;
        eprintln!("installed {}", install.instance);
    }
    let verbose = args.verbose;
    let mut last_failure = None;
    let never = AtomicBool::new(false);
    if let Some(address) = &args.tcp {
        let (listener, local) =
            tcp::bind(address).with_context(|| format!("listening on {address}"))?;
        eprintln!("listening on {local} (TCP, vpcd framing)");
        tcp::serve_listener(&listener, &mut card, &never, &mut |event| match event {
            VpcdEvent::Disconnected(reason) => eprintln!("{reason}; waiting for the next"),
            other => log_event(other, verbose, &mut last_failure),
        })
        .with_context(|| format!("accepting connections on {local}"))?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let address = format!("{}:{}", args.host, args.port);
    vpcd::run_client(&address, &mut card, RETRY, &never, &mut |event| {
        log_event(event, verbose, &mut last_failure)
    });
    Ok(std::process::ExitCode::SUCCESS)
}

/// Connection changes always; power, reset and APDUs with -v. A failed connection attempt is
/// reported once, not every second.
pub(crate) fn log_event(event: &VpcdEvent<'_>, verbose: bool, last_failure: &mut Option<String>) {
    match event {
        VpcdEvent::Connected(address) => {
            *last_failure = None;
            eprintln!("connected to {address}");
        }
        VpcdEvent::ConnectFailed(address, error) => {
            if last_failure.as_deref() != Some(error.as_str()) {
                eprintln!("vpcd at {address}: {error}; retrying every second");
                *last_failure = Some(error.clone());
            }
        }
        VpcdEvent::Disconnected(reason) => eprintln!("{reason}; reconnecting"),
        VpcdEvent::CardError(error) => eprintln!("card error: {error}"),
        VpcdEvent::Apdu { command, response } => {
            if verbose {
                eprintln!("> {:#}", Hex(command));
                eprintln!("< {:#}", Hex(response));
            }
        }
        other => {
            if verbose {
                eprintln!("{other:?}");
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn install_specs_default_the_instance_and_parse_params() {
        let short = parse_install("F00000010100:F00000010101").unwrap();
        assert_eq!(short.instance, short.applet);
        assert_eq!(short.package.as_bytes(), [0xF0, 0, 0, 1, 1, 0]);
        assert!(short.params.is_empty());
        let full = parse_install("F00000010400:F00000010401:F00000010402:0431323334").unwrap();
        assert_eq!(full.instance.as_bytes(), [0xF0, 0, 0, 1, 4, 2]);
        assert_eq!(full.params, [4, 0x31, 0x32, 0x33, 0x34]);
        for bad in [
            "F000000101",
            "F0:F1:F2:00:00",
            "XYZ:F00000010101",
            "F0:F1:F2:0",
        ] {
            assert!(parse_install(bad).is_err(), "{bad}");
        }
    }
}
