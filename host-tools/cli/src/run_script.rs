//! `oxicard run`: replays an APDU script (the golden transcript format) on a card and checks
//! every response. Today the card is the in-process simulator (`--sim`); the PC/SC transport
//! will make the same scripts run against any reader.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use oxicard_apdu::hex::Hex;
use oxicard_sim::{run_transcript, CapPackage, Event, SimCard, Transcript};

/// Arguments of `oxicard run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run on a fresh in-process simulated card (nothing installed, no applet selected).
    #[arg(long)]
    sim: bool,
    /// A CAP file the script's `load <package AID>` lines may load (repeat for several).
    #[arg(long = "cap", value_name = "FILE.cap")]
    caps: Vec<PathBuf>,
    /// Go on after a response differs from the expected one (the exit status is still 1).
    #[arg(long)]
    keep_going: bool,
    /// Print only mismatches and the summary, not every exchange.
    #[arg(short, long)]
    quiet: bool,
    /// The script: `load`, `install`, `reset`, `> APDU` and `< [data] SW` lines, `#` comments.
    script: PathBuf,
}

/// Help text shown after the options of `oxicard run`.
pub const RUN_HELP: &str = "\
Script format (one item per line, `#` starts a comment):
  load <package AID>                                  load the CAP file of that package
  install <package AID> <applet AID> [<instance AID> [<params hex>]]
  reset                                               power cycle: transient data cleared
  > 80 01 00 00 05 48656C6C6F 00                      a command APDU (spaces optional)
  < 48656C6C6F 9000                                   the expected response: data, SW

Examples:
  oxicard run --sim --cap hello.cap hello.apdu
  oxicard run --sim --cap lib.cap --cap bytecodes.cap --keep-going bytecodes.apdu

Exit status: 0 every response matched, 1 a response differed or the card refused a
directive, 2 the script or a CAP file is malformed.";

/// Runs the script; prints each exchange as it happens and a summary at the end.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    if !args.sim {
        bail!("no card given: use --sim for the in-process simulated card (PC/SC readers are not supported yet)");
    }
    let script_name = args.script.display();
    let text =
        std::fs::read_to_string(&args.script).with_context(|| format!("reading {script_name}"))?;
    let transcript =
        Transcript::parse(&text).map_err(|e| crate::Malformed(format!("{script_name}: {e}")))?;
    let mut card = SimCard::new()?;
    for path in &args.caps {
        let package = CapPackage::read(path).map_err(|e| crate::Malformed(e.to_string()))?;
        card.add_cap(package);
    }
    let quiet = args.quiet;
    let result = run_transcript(&mut card, &transcript, args.keep_going, |event| {
        print_event(event, quiet)
    });
    let summary = match result {
        Ok(summary) => summary,
        Err((line, error)) => {
            eprintln!("error: {script_name}:{line}: {error}");
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
            actual,
            matched,
        } => {
            if !quiet || !matched {
                println!("{:>5}  > {:#}", exchange.line, Hex(&exchange.command));
                println!("       < {}", format_response(actual));
            }
            if !matched {
                if let Some(expected) = &exchange.expected {
                    let expected_bytes = expected.bytes();
                    println!(
                        "{:>5}  expected {}",
                        expected.line,
                        format_response(&expected_bytes)
                    );
                    println!(
                        "       differs at byte {}",
                        first_difference(&expected_bytes, actual)
                    );
                }
            }
        }
    }
}

/// Data and status word, the way the transcript writes them.
fn format_response(response: &[u8]) -> String {
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
