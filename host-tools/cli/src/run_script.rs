//! `oxicard run`: replays an APDU script (the golden transcript format and its extensions,
//! see `oxicard_sim::transcript`) on a card and checks every response. The card is the
//! in-process simulator (`--sim`), a card in a PC/SC reader (`--reader`, by default the
//! first reader with a card) or `oxicard sim --tcp` (`--tcp HOST:PORT`). Also home of the card options `oxicard shell` shares.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use oxicard_apdu::hex::Hex;
use oxicard_sim::runner::{run_transcript, Event, RunOptions};
use oxicard_sim::{CapPackage, SimCard, Step, Transcript};
use oxicard_transport::{CardChannel, PcscChannel, ReaderSelector, SimChannel, TcpChannel};

/// Which card to talk to: the options `oxicard run` and `oxicard shell` share.
#[derive(Args, Debug)]
pub struct CardArgs {
    /// Use a fresh in-process simulated card (nothing installed, no applet selected) instead
    /// of a PC/SC reader.
    #[arg(long, conflicts_with_all = ["reader", "tcp"])]
    pub sim: bool,
    /// The PC/SC reader: its name (or a unique part of it) or its index from 0. Default: the
    /// first reader with a card in it.
    #[arg(long, value_name = "NAME|INDEX")]
    pub reader: Option<String>,
    /// The card of `oxicard sim --tcp ADDR`, reached over TCP without PC/SC.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "reader")]
    pub tcp: Option<String>,
    /// With --sim: a CAP file that `load <package AID>` lines may load (repeat for several).
    #[arg(long = "cap", value_name = "FILE.cap", requires = "sim")]
    pub caps: Vec<PathBuf>,
    /// With --sim: load every --cap file at start and install an applet instance: package
    /// AID, applet AID, and optionally instance AID and install parameters, in hex, separated
    /// by colons.
    #[arg(
        long = "install",
        value_name = "PKG:APPLET[:INSTANCE[:PARAMS]]",
        requires = "sim"
    )]
    pub installs: Vec<String>,
}

/// An `--install PKG:APPLET[:INSTANCE[:PARAMS]]` option as the script line `install PKG
/// APPLET [INSTANCE [PARAMS]]`, parsed by the script parser.
fn install_step(spec: &str) -> anyhow::Result<Step> {
    let fields: Vec<&str> = spec.split(':').collect();
    let words: Vec<&str> = match fields.as_slice() {
        [package, applet] => vec![package, applet],
        [package, applet, instance] => vec![package, applet, instance],
        [package, applet, instance, params] => {
            let instance = if instance.is_empty() {
                applet
            } else {
                instance
            };
            vec![package, applet, instance, params]
        }
        _ => {
            anyhow::bail!("--install {spec}: expected PKG:APPLET[:INSTANCE[:PARAMS]] (AIDs in hex)")
        }
    };
    let transcript = Transcript::parse(&format!("install {}", words.join(" ")))
        .map_err(|e| anyhow::anyhow!("--install {spec}: {}", e.message))?;
    match transcript.steps.into_iter().next() {
        Some(step @ Step::Install { .. }) => Ok(step),
        _ => anyhow::bail!("--install {spec}: expected PKG:APPLET[:INSTANCE[:PARAMS]]"),
    }
}

/// Opens the card the options name. On the simulator, the CAP files are catalogued (and
/// with --install loaded and the instances installed).
pub fn open_card(args: &CardArgs) -> anyhow::Result<Box<dyn CardChannel>> {
    if let Some(address) = &args.tcp {
        return Ok(Box::new(TcpChannel::connect(address)?));
    }
    if !args.sim {
        let selector = ReaderSelector::from_option(args.reader.as_deref());
        return Ok(Box::new(PcscChannel::connect(&selector)?));
    }
    let installs = args
        .installs
        .iter()
        .map(|spec| install_step(spec))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| crate::Malformed(format!("{e:#}")))?;
    let mut card = SimCard::new()?;
    for path in &args.caps {
        let package = CapPackage::read(path).map_err(|e| crate::Malformed(e.to_string()))?;
        let aid = package.aid;
        card.add_cap(package);
        if !installs.is_empty() {
            card.load(&aid)
                .with_context(|| format!("loading {}", path.display()))?;
        }
    }
    for step in &installs {
        if let Step::Install {
            package,
            applet,
            instance,
            params,
            ..
        } = step
        {
            card.install(package, applet, instance, params)?;
        }
    }
    Ok(Box::new(SimChannel::new(card)))
}

/// Arguments of `oxicard run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    card: CardArgs,
    /// Skip the script's `load` and `install` lines (the applets are already on the card,
    /// e.g. an `oxicard sim` started with --install).
    #[arg(long)]
    skip_install: bool,
    /// Go on after a response differs from the expected one (the exit status is still 1).
    #[arg(long)]
    keep_going: bool,
    /// Print only mismatches and the summary, not every exchange.
    #[arg(short, long)]
    quiet: bool,
    /// The script (see below).
    script: PathBuf,
}

/// Help text shown after the options of `oxicard run`.
pub const RUN_HELP: &str = "\
Script format (one item per line, `#` starts a comment):
  load <package AID>                                  load the CAP file of that package
  install <package AID> <applet AID> [<instance AID> [<params hex>]]
  reset                                               card reset: transient data cleared
  select <AID>                                        SELECT by name; expects 9000 unless
                                                      a `<` line follows
  > 80 01 00 00 05 48656C6C6F 00                      a command APDU (spaces optional)
  < 48656C6C6F 9000                                   the expected response: data, SW
  < * 61??                                            `?` any hex digit, `*` any bytes
  < {serial:8} {rest} 9000                            capture 8 bytes, then the rest
  > 80 20 00 00 08 $serial                            use a variable (also ${serial})
  set key 404142434445464748494A4B4C4D4E4F            set a variable
  00 A4 04 00 06 F00000010101                         scriptor's lines (no `>`); `exit` ends
  80:02:00:00:00                                      opensc-tool's byte notation

Cards: --sim for the in-process simulator (load and install work there); otherwise a
PC/SC reader, by default the first with a card. Over PC/SC, `61xx` answers are completed
with GET RESPONSE and `6Cxx` answers resent with the right Le. `load` and `install` need
the card manager, which PC/SC cards do not have yet: --skip-install skips those lines.

Examples:
  oxicard run --sim --cap hello.cap hello.apdu
  oxicard run --sim --cap lib.cap --cap bytecodes.cap --keep-going bytecodes.apdu
  oxicard run --reader 'Virtual PCD 00 00' --skip-install hello.apdu

Exit status: 0 every response matched, 1 a response differed or the card refused a
directive, 2 the script or a CAP file is malformed.";

/// Runs the script; prints each exchange as it happens and a summary at the end.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let script_name = args.script.display();
    let text =
        std::fs::read_to_string(&args.script).with_context(|| format!("reading {script_name}"))?;
    let transcript =
        Transcript::parse(&text).map_err(|e| crate::Malformed(format!("{script_name}: {e}")))?;
    let mut card = open_card(&args.card)?;
    if !args.quiet {
        println!("card: {}, ATR {:#}", card.name(), Hex(card.atr()));
    }
    let quiet = args.quiet;
    let options = RunOptions {
        keep_going: args.keep_going,
        skip_load_install: args.skip_install,
    };
    let result = run_transcript(card.as_mut(), &transcript, options, |event| {
        print_event(event, quiet)
    });
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("error: {script_name}:{}: {error}", error.line);
            return Ok(ExitCode::from(crate::EXIT_FAILURE));
        }
    };
    let checked = transcript.checked_exchanges();
    println!(
        "{script_name}: {} exchanges sent, {} matched, {} differed ({} checked in the script)",
        summary.exchanges, summary.matched, summary.mismatched, checked
    );
    if summary.passed() {
        Ok(ExitCode::SUCCESS)
    } else {
        if let Some(line) = summary.first_mismatch {
            eprintln!("error: {script_name}:{line}: the response differs from the expected one");
        }
        Ok(ExitCode::from(crate::EXIT_FAILURE))
    }
}

fn print_event(event: &Event<'_>, quiet: bool) {
    match event {
        Event::Directive { line, text } => {
            if !quiet {
                println!("{line:>5}  {text}");
            }
        }
        Event::Exchange {
            exchange,
            command,
            actual,
            matched,
            expected_bytes,
        } => {
            if !quiet || !matched {
                println!("{:>5}  > {:#}", exchange.line, Hex(command));
                println!("       < {}", format_response(actual));
            }
            if !matched {
                if let Some(expected) = &exchange.expected {
                    println!("{:>5}  expected {expected}", expected.line);
                    match expected_bytes {
                        Some(bytes) => {
                            println!("       differs at byte {}", first_difference(bytes, actual))
                        }
                        None => println!("       does not match the pattern"),
                    }
                }
            }
        }
    }
}

/// Data and status word, the way the transcript writes them.
pub fn format_response(response: &[u8]) -> String {
    let split = response.len().saturating_sub(2);
    let (data, sw) = response.split_at(split);
    if data.is_empty() {
        format!("{}", Hex(sw))
    } else {
        format!("{} {}", Hex(data), Hex(sw))
    }
}

fn first_difference(expected: &[u8], actual: &[u8]) -> usize {
    expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn install_options_become_install_steps() {
        let Step::Install {
            package,
            applet,
            instance,
            params,
            ..
        } = install_step("F00000010100:F00000010101").unwrap()
        else {
            panic!("not an install")
        };
        assert_eq!(package.as_bytes(), [0xF0, 0, 0, 1, 1, 0]);
        assert_eq!(instance, applet);
        assert!(params.is_empty());
        let Step::Install {
            instance, params, ..
        } = install_step("F00000010400:F00000010401::0431323334").unwrap()
        else {
            panic!("not an install")
        };
        assert_eq!(instance.as_bytes(), [0xF0, 0, 0, 1, 4, 1]);
        assert_eq!(params, [4, 0x31, 0x32, 0x33, 0x34]);
        for bad in [
            "F000000101",
            "F0:F1:F2:00:00",
            "XYZ:F00000010101",
            "F0:F1:F2:0",
        ] {
            assert!(install_step(bad).is_err(), "{bad}");
        }
    }
}
