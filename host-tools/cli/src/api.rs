//! `oxicard api exports`: writes the export files of the standard Java Card API, generated
//! from the token tables, so a converter (ours or Oracle's) can compile applets against
//! them.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

/// `oxicard api` subcommands.
#[derive(Subcommand, Debug)]
pub enum ApiCommand {
    /// Generate the API export files (.exp) from the token tables.
    #[command(after_help = EXPORTS_HELP)]
    Exports(ExportsArgs),
}

const EXPORTS_HELP: &str = "\
The files are written in Oracle's layout, one per package:
  <OUT>/javacard/framework/javacard/framework.exp, <OUT>/java/lang/javacard/lang.exp, ...
The same files (target 3.0.5) are committed under applets/api/exp and built into
`oxicard cap dump`.

Example:
  oxicard api exports --out applets/api/exp
  oxicard api exports --spec ../shared/spec --target 3.1.0 --out /tmp/api-3.1";

/// Arguments of `oxicard api exports`.
#[derive(Args, Debug)]
pub struct ExportsArgs {
    /// Directory to write the export files into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Directory holding the token tables api-packages.tsv, api-classes.tsv and
    /// api-tokens.tsv (the default is relative to the current directory: run from the
    /// repository root, next to which the shared folder sits).
    #[arg(long, value_name = "DIR", default_value = "../shared/spec")]
    pub spec: PathBuf,

    /// Java Card platform version whose API to export: 3.0.4, 3.0.5, 3.1.0 or 3.2.0.
    #[arg(long, value_name = "VERSION", default_value = "3.0.5")]
    pub target: String,
}

/// Runs an `oxicard api` subcommand; returns the text to print.
pub fn run(command: &ApiCommand) -> anyhow::Result<String> {
    match command {
        ApiCommand::Exports(args) => {
            let written = oxicard_api::write_api_exports(&args.spec, &args.target, &args.out)
                .with_context(|| {
                    format!(
                        "cannot generate the API export files from {}",
                        args.spec.display()
                    )
                })?;
            let mut out = String::new();
            for path in &written {
                out.push_str(&format!("wrote {}\n", path.display()));
            }
            out.push_str(&format!(
                "{} export files for Java Card {} in {}\n",
                written.len(),
                args.target,
                args.out.display()
            ));
            Ok(out)
        }
    }
}
