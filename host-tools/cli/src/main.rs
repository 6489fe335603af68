//! The `oxicard` command: one binary for the host tools. Each subcommand lives in its own
//! module; this file only parses the command line, runs the subcommand and turns its
//! result into output and an exit status.

mod api;
mod bridge;
mod build;
mod cap_dump;
mod convert;
mod gp;
mod run_script;
mod shell;
mod sim;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status for malformed input files (and for command-line usage errors, as clap does).
const EXIT_MALFORMED: u8 = 2;
/// Exit status for other failures (unreadable files, I/O errors).
const EXIT_FAILURE: u8 = 1;

/// Malformed input: the message says where (component and offset) and what was expected.
/// Errors of this type make the command exit with status 2.
#[derive(Debug)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Malformed {}

const EXAMPLES: &str = "\
Examples:
  oxicard cap dump applet.cap                    listing of every component
  oxicard cap dump applet.cap --component methods --component constant-pool
  oxicard cap dump applet.cap --json | jq '.methods[].name'
  oxicard cap dump client.cap --exportpath build/exp   resolve imports of your own packages
  oxicard cap dump framework.exp                 classes and tokens of an export file
  oxicard api exports --out applets/api/exp      write the API export files
  oxicard convert --classdir classes --applet F00000010101:org.example.Hello --out build \
      org.example F00000010100 1.0                 class files to CAP + export file
  oxicard run --sim --cap hello.cap hello.apdu    replay an APDU script on a simulated card
  oxicard run --reader 0 --skip-install hello.apdu   the same script on a PC/SC card
  oxicard shell --sim --cap hello.cap --install F00000010100:F00000010101
                                                 an interactive APDU shell
  oxicard sim --cap hello.cap --install F00000010100:F00000010101 -v
                                                 a card in pcscd's reader \"Virtual PCD 00 00\"
  oxicard bridge --tcp 127.0.0.1:5550            the firmware card (QEMU's UART) in pcscd

Exit status: 0 success, 1 failure (e.g. unreadable file), 2 malformed input or usage error.";

/// oxicard: tools for the oxicard Java Card platform.
#[derive(Parser, Debug)]
#[command(name = "oxicard", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect CAP, load and export files.
    #[command(subcommand)]
    Cap(CapCommand),
    /// Java Card API export files.
    #[command(subcommand)]
    Api(api::ApiCommand),
    /// Convert javac class files of one package to a CAP file and an export file.
    #[command(after_help = convert::CONVERT_HELP)]
    Convert(convert::ConvertArgs),
    /// Build an applet project (oxicard.toml next to the Java sources): javac, then convert.
    #[command(after_help = build::BUILD_HELP)]
    Build(build::BuildArgs),
    /// Replay an APDU script on a card and check every response.
    #[command(after_help = run_script::RUN_HELP)]
    Run(run_script::RunArgs),
    /// Put a simulated card into pcscd through vsmartcard's vpcd driver.
    #[command(after_help = sim::SIM_HELP)]
    Sim(sim::SimArgs),
    /// Talk to a card interactively: APDUs, select, reset, variables; answers explained.
    #[command(after_help = shell::SHELL_HELP)]
    Shell(shell::ShellArgs),
    /// Manage a card with GlobalPlatform APDUs: install, load, delete, list, info.
    #[command(after_help = gp::GP_HELP)]
    Gp(gp::GpArgs),
    /// Put a card behind a serial line (oxicard firmware, QEMU) into pcscd through vpcd:
    /// the reader side of T=1.
    #[command(after_help = bridge::BRIDGE_HELP)]
    Bridge(bridge::BridgeArgs),
}

#[derive(Subcommand, Debug)]
enum CapCommand {
    /// List every component of a CAP, load or export file, methods disassembled.
    ///
    /// For a CAP: header, directory, imports, applets, the constant pool with names
    /// resolved through export files, classes, static fields, every method disassembled
    /// with labels and resolved operands, reference locations, export and descriptor.
    /// For an export file: the package and its classes with tokens, fields and methods.
    #[command(after_help = DUMP_HELP)]
    Dump(cap_dump::DumpArgs),
}

const DUMP_HELP: &str = "\
Names: references into imported packages are resolved through their export files. The
Java Card 3.0.5 API (java.lang, javacard.*, javacardx.*) is built in; give the export files
of your own libraries with --exportpath. Classes and methods of the package itself are
named only if its own export file is on the export path (public ones); otherwise they are
shown by offset (class@0x0012, method@0x0040) with their types from the Descriptor.

JSON (--json): one document with the keys file, container, header, directory, imports,
applets, constant_pool, classes, methods, static_fields, ref_location, export, descriptor
and problems (sections not selected by --component are left out). Each method has
instructions: [{offset, label, mnemonic, operands, comment}]; each constant-pool entry
{index, kind, reference, resolved, descriptor}.

Errors: a malformed file is reported as
  error: FILE: Method component, offset 0x1F: expected ...
with exit status 2. Offsets count from the component's tag byte.

Examples:
  oxicard cap dump hello.cap
  oxicard cap dump hello.cap --component methods
  oxicard cap dump bytecodes.cap --exportpath ../lib/build --json";

/// Turns a subcommand that prints as it goes into an exit status, reporting its error.
fn report_error(result: anyhow::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        if error.downcast_ref::<Malformed>().is_some() {
            ExitCode::from(EXIT_MALFORMED)
        } else {
            ExitCode::from(EXIT_FAILURE)
        }
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Cap(CapCommand::Dump(args)) => cap_dump::run(args),
        Command::Api(command) => api::run(command).map(|text| (text, false)),
        Command::Convert(args) => convert::run(args).map(|text| (text, false)),
        Command::Build(args) => build::run(args).map(|text| (text, false)),
        Command::Run(args) => return report_error(run_script::run(args)),
        Command::Sim(args) => return report_error(sim::run(args)),
        Command::Shell(args) => return report_error(shell::run(args)),
        Command::Gp(args) => return report_error(gp::run(args)),
        Command::Bridge(args) => return report_error(bridge::run(args)),
    };
    match result {
        Ok((text, problems)) => {
            let mut stdout = std::io::stdout().lock();
            let written = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush());
            if let Err(e) = written {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("error: writing output: {e}");
                    return ExitCode::from(EXIT_FAILURE);
                }
            }
            if problems {
                eprintln!("error: the file has problems; see the Problems section");
                ExitCode::from(EXIT_MALFORMED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => report_error(Err(error)),
    }
}
