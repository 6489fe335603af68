//! Export files the host tools (the CAP listing, the converter) resolve names with: the built-in Java Card API exports
//! (embedded in the binary, so `oxicard` works without an SDK) and the files found on an
//! export path given by the user.
//!
//! A CAP file names its imports only by AID, so a directory on the export path is searched
//! for every `.exp` file in it (Oracle's `a/b/c/javacard/c.exp` layout and flat folders
//! alike) and the files are looked up by package AID or name. User files come before the
//! built-in ones, so a newer API export file replaces the embedded one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use oxicard_cap::export::model::ExportFileModel;
use oxicard_cap::export::ExportError;

/// `(path, include_bytes!(applets/api/exp/path))`.
macro_rules! builtin {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!("../../../applets/api/exp/", $path)),
        )
    };
}

/// The API export files for Java Card 3.0.5, from `applets/api/exp` (Oracle's layout path,
/// file bytes).
pub const BUILTIN_EXPORTS: &[(&str, &[u8])] = &[
    builtin!("java/io/javacard/io.exp"),
    builtin!("java/lang/javacard/lang.exp"),
    builtin!("java/rmi/javacard/rmi.exp"),
    builtin!("javacard/framework/javacard/framework.exp"),
    builtin!("javacard/framework/service/javacard/service.exp"),
    builtin!("javacard/security/javacard/security.exp"),
    builtin!("javacardx/apdu/javacard/apdu.exp"),
    builtin!("javacardx/apdu/util/javacard/util.exp"),
    builtin!("javacardx/biometry/javacard/biometry.exp"),
    builtin!("javacardx/biometry1toN/javacard/biometry1toN.exp"),
    builtin!("javacardx/crypto/javacard/crypto.exp"),
    builtin!("javacardx/external/javacard/external.exp"),
    builtin!("javacardx/framework/math/javacard/math.exp"),
    builtin!("javacardx/framework/string/javacard/string.exp"),
    builtin!("javacardx/framework/tlv/javacard/tlv.exp"),
    builtin!("javacardx/framework/util/intx/javacard/intx.exp"),
    builtin!("javacardx/framework/util/javacard/util.exp"),
    builtin!("javacardx/security/javacard/security.exp"),
];

/// Deepest directory level searched below an export-path directory.
const MAX_SEARCH_DEPTH: usize = 12;

/// Most `.exp` files read from one export-path directory (a guard against pointing the
/// search at `/`).
const MAX_FILES_PER_DIR: usize = 4096;

/// One export file and where it came from. Built-in files are parsed on first use
/// ([`ExportEntry::model`]); their package name and AID are read without a full parse.
#[derive(Debug)]
pub struct ExportEntry {
    /// Where the file came from: a path, or `built-in:<layout path>`.
    pub source: String,
    /// Package name in internal form (`javacard/framework`).
    pub name: String,
    /// Package AID.
    pub aid: Vec<u8>,
    bytes: &'static [u8],
    model: OnceLock<Option<ExportFileModel>>,
}

impl ExportEntry {
    /// An entry for a file parsed already.
    fn parsed(source: String, model: ExportFileModel) -> Self {
        ExportEntry {
            source,
            name: model.package.name.clone(),
            aid: model.package.aid.clone(),
            bytes: &[],
            model: OnceLock::from(Some(model)),
        }
    }

    /// The parsed file; `None` if it does not parse (only possible for a built-in file,
    /// which a test rules out).
    pub fn model(&self) -> Option<&ExportFileModel> {
        self.model
            .get_or_init(|| ExportFileModel::parse(self.bytes).ok())
            .as_ref()
    }
}

/// Reads the package name and AID of an export file from its constant pool, without
/// parsing the classes.
fn peek_package(bytes: &[u8]) -> Option<(String, Vec<u8>)> {
    let u2 = |at: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes([
            *bytes.get(at)?,
            *bytes.get(at + 1)?,
        ])))
    };
    let count = u2(6)?;
    let mut starts = Vec::with_capacity(count);
    let mut at = 8;
    for _ in 0..count {
        starts.push(at);
        at += 1 + match *bytes.get(at)? {
            1 => 2 + u2(at + 1)?,
            3 => 4,
            7 => 2,
            13 => 6 + usize::from(*bytes.get(at + 6)?),
            _ => return None,
        };
    }
    let package = *starts.get(u2(at)?)?;
    if bytes.get(package) != Some(&13) {
        return None;
    }
    let name_at = *starts.get(u2(package + 2)?)?;
    let name = bytes.get(name_at + 3..name_at + 3 + u2(name_at + 1)?)?;
    let aid_len = usize::from(*bytes.get(package + 6)?);
    let aid = bytes.get(package + 7..package + 7 + aid_len)?;
    Some((String::from_utf8_lossy(name).into_owned(), aid.to_vec()))
}

/// Why an export-path element could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportPathError {
    /// The path could not be read.
    Io {
        /// The path.
        path: PathBuf,
        /// What the operating system said.
        reason: String,
    },
    /// A file named explicitly is not a valid export file.
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where and what, from the parser.
        reason: String,
    },
    /// The path is neither a file nor a directory.
    NotFileOrDirectory(PathBuf),
}

impl ExportPathError {
    /// True when the input was malformed (as opposed to unreadable or missing).
    pub fn is_malformed(&self) -> bool {
        matches!(self, ExportPathError::Malformed { .. })
    }
}

impl fmt::Display for ExportPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportPathError::Io { path, reason } => {
                write!(f, "export path {}: {reason}", path.display())
            }
            ExportPathError::Malformed { path, reason } => {
                write!(f, "{}: {reason}", path.display())
            }
            ExportPathError::NotFileOrDirectory(path) => {
                write!(f, "export path {}: not a file or directory", path.display())
            }
        }
    }
}

impl std::error::Error for ExportPathError {}

/// Export files searched by package AID or name: user files first, then the built-in API.
#[derive(Debug, Default)]
pub struct ExportRegistry {
    user: Vec<ExportEntry>,
    builtin: Vec<ExportEntry>,
    /// Files on the export path that could not be read or parsed (path and reason); they
    /// are skipped.
    pub skipped: Vec<(PathBuf, String)>,
}

/// An export-file parse error in words: `export file, offset 0x1A: expected ...`.
pub fn describe_export_error(error: &ExportError) -> String {
    format!(
        "export file, offset 0x{:X}: expected {}",
        error.offset, error.expected
    )
}

impl ExportRegistry {
    /// A registry with no files.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A registry holding the built-in API export files.
    pub fn builtin() -> Self {
        let builtin = BUILTIN_EXPORTS
            .iter()
            .filter_map(|(path, bytes)| {
                // The embedded files are checked by a test; a broken one is left out.
                let (name, aid) = peek_package(bytes)?;
                Some(ExportEntry {
                    source: format!("built-in:{path}"),
                    name,
                    aid,
                    bytes,
                    model: OnceLock::new(),
                })
            })
            .collect();
        ExportRegistry {
            builtin,
            ..Self::default()
        }
    }

    /// Adds an export-path element: a `.exp` file, or a directory searched recursively for
    /// `.exp` files. A file named explicitly must parse; unreadable files found in a
    /// directory are recorded in [`skipped`](Self::skipped). Returns the number of files
    /// added.
    pub fn add_path(&mut self, path: &Path) -> Result<usize, ExportPathError> {
        let io = |e: std::io::Error| ExportPathError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let metadata = std::fs::metadata(path).map_err(io)?;
        if metadata.is_file() {
            let bytes = std::fs::read(path).map_err(io)?;
            let model = ExportFileModel::parse(&bytes).map_err(|e| ExportPathError::Malformed {
                path: path.to_path_buf(),
                reason: describe_export_error(&e),
            })?;
            self.user
                .push(ExportEntry::parsed(path.display().to_string(), model));
            return Ok(1);
        }
        if !metadata.is_dir() {
            return Err(ExportPathError::NotFileOrDirectory(path.to_path_buf()));
        }
        let mut files = Vec::new();
        collect_exp_files(path, 0, &mut files);
        files.sort();
        let mut added = 0;
        for file in files.into_iter().take(MAX_FILES_PER_DIR) {
            match std::fs::read(&file) {
                Ok(bytes) => match ExportFileModel::parse(&bytes) {
                    Ok(model) => {
                        self.user
                            .push(ExportEntry::parsed(file.display().to_string(), model));
                        added += 1;
                    }
                    Err(e) => self.skipped.push((file, describe_export_error(&e))),
                },
                Err(e) => self.skipped.push((file, e.to_string())),
            }
        }
        Ok(added)
    }

    /// All files, user files first.
    pub fn entries(&self) -> impl Iterator<Item = &ExportEntry> {
        self.user.iter().chain(&self.builtin)
    }

    /// The first file exporting the package with `aid`.
    pub fn find_by_aid(&self, aid: &[u8]) -> Option<&ExportEntry> {
        self.entries().find(|e| e.aid == aid && e.model().is_some())
    }

    /// The first file exporting the package `name` (internal form `javacard/framework` or
    /// dotted).
    pub fn find_by_name(&self, name: &str) -> Option<&ExportEntry> {
        let name = name.replace('.', "/");
        self.entries()
            .find(|e| e.name == name && e.model().is_some())
    }
}

/// Appends the `.exp` files below `dir` (at most [`MAX_SEARCH_DEPTH`] levels, not following
/// directory symlinks).
fn collect_exp_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_SEARCH_DEPTH || out.len() >= MAX_FILES_PER_DIR {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect_exp_files(&path, depth + 1, out);
        } else if path.extension().is_some_and(|ext| ext == "exp") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_exports_all_parse_and_sit_at_their_layout_path() {
        let registry = ExportRegistry::builtin();
        assert_eq!(registry.builtin.len(), BUILTIN_EXPORTS.len());
        for entry in registry.entries() {
            let model = entry.model().expect("built-in file parses");
            assert_eq!(model.package.name, entry.name, "peeked name");
            assert_eq!(model.package.aid, entry.aid, "peeked AID");
            let name = &entry.name;
            let last = name.rsplit('/').next().unwrap_or(name);
            assert_eq!(
                entry.source,
                format!("built-in:{name}/javacard/{last}.exp"),
                "layout path of {name}"
            );
        }
        let framework = registry
            .find_by_aid(&[0xA0, 0, 0, 0, 0x62, 1, 1])
            .map(|e| e.name.as_str());
        assert_eq!(framework, Some("javacard/framework"));
        assert!(registry.find_by_name("java.lang").is_some());
    }
}
