//! `oxicard cap dump`: a readable (or JSON) listing of a CAP file, a raw load file or an
//! export file, with constant-pool references resolved through export files and every
//! method disassembled.

mod exp;
mod model;
mod resolve;
mod text;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use oxicard_cap::export::model::ExportFileModel;
use oxicard_cap::export::EXPORT_MAGIC;
use oxicard_cap::jar::read_cap_jar;
use oxicard_cap::Cap;

use crate::exports::{describe_export_error, ExportRegistry};
use crate::Malformed;

use resolve::Resolver;

/// The parts of a CAP that `--component` can select.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Section {
    /// Header: magic, versions, flags, package AID and name.
    Header,
    /// Directory: component sizes, static field sizes, counts.
    Directory,
    /// Import: imported packages, named from the export files.
    Imports,
    /// Applet: applet AIDs and their install methods.
    Applets,
    /// ConstantPool: every entry, resolved to names where possible.
    #[value(name = "constant-pool", alias = "cp")]
    ConstantPool,
    /// Class: classes and interfaces, method tables.
    Classes,
    /// Method: every method disassembled.
    Methods,
    /// StaticField: the static field image.
    #[value(name = "static-fields")]
    StaticFields,
    /// ReferenceLocation: counts and a cross-check against the code.
    #[value(name = "ref-location")]
    RefLocation,
    /// Export: exported classes and static members.
    Export,
    /// Descriptor: classes, fields, methods with tokens and types.
    Descriptor,
}

/// Arguments of `oxicard cap dump`.
#[derive(Args, Debug)]
pub struct DumpArgs {
    /// The file: a .cap (JAR), a load file of concatenated components (.ijc, the Load File
    /// Data Block) or an .exp export file; the kind is found from the content.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Print one JSON document instead of the listing (keys are stable; see the
    /// README for the schema).
    #[arg(long)]
    pub json: bool,

    /// Where to find export files of imported packages (and of the package itself, for its
    /// own class and method names): a directory, searched recursively for .exp files in
    /// Oracle's a/b/c/javacard/c.exp layout or flat, or a single .exp file. Repeat for
    /// several. The Java Card 3.0.5 API export files are built in.
    #[arg(long = "exportpath", value_name = "PATH")]
    pub export_path: Vec<PathBuf>,

    /// Show only these parts (repeatable; default: all).
    #[arg(long = "component", value_name = "NAME", value_enum)]
    pub components: Vec<Section>,

    /// Do not use the built-in API export files.
    #[arg(long)]
    pub no_builtin_exports: bool,
}

/// What a file holds, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    Jar,
    LoadFile,
    Export,
}

fn detect(bytes: &[u8]) -> Option<FileKind> {
    if bytes.starts_with(b"PK") {
        Some(FileKind::Jar)
    } else if bytes.starts_with(&EXPORT_MAGIC.to_be_bytes()) {
        Some(FileKind::Export)
    } else if bytes.first() == Some(&1) && bytes.get(3..7) == Some(&[0xDE, 0xCA, 0xFF, 0xED][..]) {
        Some(FileKind::LoadFile)
    } else {
        None
    }
}

/// A malformed-input error for `file`.
fn malformed(file: &Path, message: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Malformed(message.to_string())).context(file.display().to_string())
}

/// Runs `oxicard cap dump`: returns the output text and whether problems were found in
/// the file's content (the command then exits with status 2).
pub fn run(args: &DumpArgs) -> anyhow::Result<(String, bool)> {
    let file = &args.file;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.display().to_string();
    let kind = detect(&bytes).ok_or_else(|| {
        let start: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02X}")).collect();
        malformed(
            file,
            format!(
                "not a CAP file (zip 'PK'), a load file (component tag 01, Header magic \
                 DECAFFED) or an export file (00FACADE); it starts with {}",
                if start.is_empty() {
                    "nothing (empty file)".into()
                } else {
                    start.join(" ")
                }
            ),
        )
    })?;
    let mut registry = if args.no_builtin_exports {
        ExportRegistry::empty()
    } else {
        ExportRegistry::builtin()
    };
    for path in &args.export_path {
        registry.add_path(path)?;
    }
    for (path, why) in &registry.skipped {
        eprintln!("warning: skipping {}: {why}", path.display());
    }
    let wanted =
        |section: Section| args.components.is_empty() || args.components.contains(&section);
    let mut out = String::new();
    match kind {
        FileKind::Export => {
            let model = ExportFileModel::parse(&bytes)
                .map_err(|e| malformed(file, describe_export_error(&e)))?;
            let dump = exp::build(name, &model);
            if args.json {
                out = to_json(&dump)?;
            } else {
                exp::write_exp(&dump, &mut out)?;
            }
            Ok((out, false))
        }
        FileKind::Jar => {
            let jar = read_cap_jar(&bytes).map_err(|e| malformed(file, e))?;
            let cap = jar.cap().map_err(|e| malformed(file, e))?;
            dump_cap(
                &cap,
                &registry,
                name,
                "cap",
                Some(&jar.package_path),
                args,
                &wanted,
            )
        }
        FileKind::LoadFile => {
            let cap = Cap::parse_load_file(&bytes).map_err(|e| malformed(file, e))?;
            dump_cap(&cap, &registry, name, "load-file", None, args, &wanted)
        }
    }
}

fn dump_cap(
    cap: &Cap<'_>,
    registry: &ExportRegistry,
    name: String,
    container: &'static str,
    package_path: Option<&str>,
    args: &DumpArgs,
    wanted: &dyn Fn(Section) -> bool,
) -> anyhow::Result<(String, bool)> {
    let resolver = Resolver::new(cap, registry);
    let dump = model::build(cap, &resolver, name, container, package_path, wanted);
    let mut out = String::new();
    if args.json {
        out = to_json(&dump)?;
    } else {
        text::write_cap(&dump, &mut out)?;
    }
    Ok((out, !dump.problems.is_empty()))
}

fn to_json(value: &impl serde::Serialize) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value).context("JSON output")?;
    text.push('\n');
    Ok(text)
}
