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
use oxicard_cap::{Cap, ComponentTag, RawComponent};

use crate::Malformed;
use oxicard_api::exports::{describe_export_error, ExportRegistry};

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

    /// Print one JSON document instead of the listing (stable keys; see below).
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
    } else if bytes.first() == Some(&1) {
        // A Header component first; a file too short to show the whole magic is still
        // reported as a truncated load file.
        let magic = [0xDE, 0xCA, 0xFF, 0xED];
        let present = bytes.get(3..).unwrap_or(&[]);
        let shown = present.len().min(magic.len());
        (present.get(..shown) == magic.get(..shown)).then_some(FileKind::LoadFile)
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
        registry.add_path(path).map_err(|e| {
            if e.is_malformed() {
                anyhow::Error::new(crate::Malformed(e.to_string()))
            } else {
                anyhow::Error::new(e)
            }
        })?;
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
            let applets = manifest_applets(&bytes, &jar.package_path);
            let resolver = Resolver::new(&cap, &registry).with_applet_names(&applets);
            dump_cap(
                &cap,
                &resolver,
                name,
                "cap",
                Some(&jar.package_path),
                args,
                &wanted,
            )
        }
        FileKind::LoadFile => {
            check_framing(&bytes).map_err(|e| malformed(file, e))?;
            let cap = Cap::parse_load_file(&bytes).map_err(|e| malformed(file, e))?;
            let resolver = Resolver::new(&cap, &registry);
            dump_cap(&cap, &resolver, name, "load-file", None, args, &wanted)
        }
    }
}

/// The applets named in the JAR manifest (`Java-Card-Applet-<n>-Name` and `-AID`), as
/// (AID, class name in internal form). A missing or unreadable manifest gives none.
fn manifest_applets(jar: &[u8], package_path: &str) -> Vec<(Vec<u8>, String)> {
    use std::io::Read;
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(jar)) else {
        return Vec::new();
    };
    let mut text = String::new();
    let Ok(entry) = archive.by_name("META-INF/MANIFEST.MF") else {
        return Vec::new();
    };
    if entry.take(1 << 20).read_to_string(&mut text).is_err() {
        return Vec::new();
    }
    // Manifest lines longer than 72 bytes continue on lines starting with a space.
    let text = text.replace("\r\n", "\n").replace("\n ", "");
    let value = |key: String| {
        text.lines()
            .find_map(|line| line.strip_prefix(&key).map(|v| v.trim().to_string()))
    };
    let mut applets = Vec::new();
    for n in 1..=255 {
        let (Some(class), Some(aid)) = (
            value(format!("Java-Card-Applet-{n}-Name:")),
            value(format!("Java-Card-Applet-{n}-AID:")),
        ) else {
            break;
        };
        let aid: Option<Vec<u8>> = aid
            .split(':')
            .map(|byte| u8::from_str_radix(byte.trim().trim_start_matches("0x"), 16).ok())
            .collect();
        let Some(aid) = aid else { continue };
        let class = class.replace('.', "/");
        let name = if class.contains('/') {
            class
        } else {
            format!("{package_path}/{class}")
        };
        applets.push((aid, name));
    }
    applets
}

/// Checks that each component of a load file is complete, so that a truncated file is
/// reported against the component it cuts (the parser names only the container).
fn check_framing(bytes: &[u8]) -> Result<(), String> {
    let mut at = 0usize;
    while let Some(&tag) = bytes.get(at) {
        let Some(component) = ComponentTag::from_u8(tag) else {
            return Ok(()); // the parser reports the bad tag
        };
        let header = RawComponent::header_len(tag);
        let rest = bytes.get(at + 1..).unwrap_or(&[]);
        let Some(size_field) = rest.get(..header - 1) else {
            return Err(format!(
                "{component} component, offset 0x1: expected a {}-byte size field, found {} \
                 bytes: the file ends early (at load-file offset 0x{:X})",
                header - 1,
                rest.len(),
                bytes.len()
            ));
        };
        let size = size_field
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let present = rest.len() - size_field.len();
        if present < size {
            return Err(format!(
                "{component} component, offset 0x{:X}: expected {size} bytes of component \
                 info (its size field), found {present}: the file ends early (at load-file \
                 offset 0x{:X})",
                header + present,
                bytes.len()
            ));
        }
        at += header + size;
    }
    Ok(())
}

fn dump_cap(
    cap: &Cap<'_>,
    resolver: &Resolver<'_, '_>,
    name: String,
    container: &'static str,
    package_path: Option<&str>,
    args: &DumpArgs,
    wanted: &dyn Fn(Section) -> bool,
) -> anyhow::Result<(String, bool)> {
    let dump = model::build(cap, resolver, name, container, package_path, wanted);
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
