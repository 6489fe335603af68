//! `oxicard convert`: javac's class files of one package to a CAP file and an export file, with
//! the same inputs as Oracle's converter so existing build scripts translate one to one.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use oxicard_apdu::Aid;
use oxicard_convert::{convert_package, AppletSpec, ConvertOptions};

/// Arguments of `oxicard convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Root of the class files: the package's classes are in DIR/<package path>/*.class.
    #[arg(long, value_name = "DIR")]
    classdir: PathBuf,
    /// Export files of imported packages: a directory (Oracle's layout a/b/javacard/b.exp or
    /// flat, searched recursively) or one .exp file. The Java Card API is built in.
    #[arg(long = "exportpath", value_name = "PATH")]
    export_paths: Vec<PathBuf>,
    /// An applet of the package, as AID:CLASS (AID in hex, CLASS fully qualified with dots).
    #[arg(long = "applet", value_name = "AID:CLASS")]
    applets: Vec<String>,
    /// Allow 32-bit int (sets ACC_INT; the card must support ints).
    #[arg(long = "int")]
    int_support: bool,
    /// Write the Debug component (accepted; not written yet).
    #[arg(long)]
    debug: bool,
    /// Also write a readable listing of the methods (<last>.lst).
    #[arg(long)]
    listing: bool,
    /// Where to write <last>.cap and <last>.exp (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The package, with dots (org.example.wallet).
    package: String,
    /// The package AID in hex (F000000104).
    package_aid: String,
    /// The package version, MAJOR.MINOR (1.0).
    version: String,
}

/// Help text shown after the options of `oxicard convert`.
pub const CONVERT_HELP: &str = "\
Examples:
  javac -source 7 -target 7 -g -cp build/api/oxicard-api.jar -d classes src/org/example/hello/*.java
  oxicard convert --classdir classes --applet F00000010101:org.example.hello.HelloApplet \\
      --out build org.example.hello F00000010100 1.0
  oxicard convert --classdir classes --exportpath build/lib --out build org.example.app F000000102 1.0

Oracle's converter options map one to one: -classdir, -exportpath, -applet (AID as hex, not
0xF0:0x00:...), -i (--int), -debug, -out CAP EXP JCA (--out DIR, --listing).";

fn parse_aid(text: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    let aid = Aid::from_hex(text).map_err(|e| anyhow::anyhow!("{what} {text:?}: {e}"))?;
    Ok(aid.as_bytes().to_vec())
}

fn parse_version(text: &str) -> anyhow::Result<(u8, u8)> {
    let parsed = text
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
    match parsed {
        Some(version) => Ok(version),
        None => bail!("version {text:?}: expected MAJOR.MINOR with numbers 0..255, e.g. 1.0"),
    }
}

/// Converts the package and writes its files; returns what was written, for the user.
pub fn run(args: &ConvertArgs) -> anyhow::Result<String> {
    let mut applets = Vec::new();
    for spec in &args.applets {
        let Some((aid, class_name)) = spec.split_once(':') else {
            bail!("--applet {spec:?}: expected AID:CLASS, e.g. F00000010101:org.example.Hello");
        };
        applets.push(AppletSpec {
            aid: parse_aid(aid, "applet AID")?,
            class_name: class_name.to_string(),
        });
    }
    let options = ConvertOptions {
        classdir: args.classdir.clone(),
        export_paths: args.export_paths.clone(),
        applets,
        int_support: args.int_support,
        debug: args.debug,
        listing: args.listing,
        package_name: args.package.clone(),
        package_aid: parse_aid(&args.package_aid, "package AID")?,
        version: parse_version(&args.version)?,
    };
    let output = convert_package(&options).map_err(|e| crate::Malformed(e.to_string()))?;
    let last = args.package.rsplit('.').next().unwrap_or(&args.package);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut report = String::new();
    for warning in &output.warnings {
        report.push_str(&format!("warning: {warning}\n"));
    }
    let mut files = vec![
        (format!("{last}.cap"), output.cap.as_slice()),
        (format!("{last}.exp"), output.export.as_slice()),
    ];
    if let Some(listing) = &output.listing {
        files.push((format!("{last}.lst"), listing.as_bytes()));
    }
    for (name, bytes) in files {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        report.push_str(&format!(
            "wrote {} ({} bytes)\n",
            path.display(),
            bytes.len()
        ));
    }
    Ok(report)
}
