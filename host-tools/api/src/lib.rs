//! oxicard-api: the Java Card API as data.
//!
//! The token tables in `shared/spec` (`api-packages.tsv`, `api-classes.tsv`,
//! `api-tokens.tsv`) say which packages, classes, fields and methods the standard API has,
//! with their AIDs, versions and tokens. A converter needs the same facts in the form of
//! export (.exp) files, one per imported package. This crate reads the tables
//! ([`ApiTables`]) and generates those export files ([`generate_api_exports`],
//! [`write_api_exports`]), so the export files committed under `applets/api/exp` come
//! from the one source and a test can show they are current.

use std::fmt;
use std::path::{Path, PathBuf};

use oxicard_cap::export::model::ExportEncodeError;

pub mod exports;
mod generate;
mod tables;

pub use generate::{export_file_path, internal_name};
pub use tables::{
    ApiClass, ApiMember, ApiPackage, ApiTables, MemberKind, Platform, CLASSES_TSV, PACKAGES_TSV,
    TOKENS_TSV,
};

/// Why the API tables could not be read or turned into export files.
#[derive(Debug)]
pub enum ApiError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A table row is malformed.
    Table {
        /// Table file name.
        file: &'static str,
        /// 1-based line number (0: the table is empty).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// The tables contradict each other (unknown superclass, class token mismatch …).
    Model(String),
    /// A platform version that the tables do not cover.
    UnknownPlatform(String),
    /// A generated model could not be encoded.
    Encode {
        /// Package (dotted).
        package: String,
        /// The encoder's error.
        source: ExportEncodeError,
    },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ApiError::Table {
                file,
                line,
                message,
            } => write!(f, "{file} line {line}: {message}"),
            ApiError::Model(message) => write!(f, "API tables: {message}"),
            ApiError::UnknownPlatform(text) => write!(
                f,
                "unknown platform version {text:?}: expected 3.0.4, 3.0.5, 3.1.0 or 3.2.0"
            ),
            ApiError::Encode { package, source } => write!(f, "{package}: {source}"),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The export files of every API package present on `target` (`3.0.4`, `3.0.5`,
/// `3.1.0` or `3.2.0`), generated from the tables in `spec_dir`: `(dotted package name,
/// export file bytes)` in table order.
pub fn generate_api_exports(
    spec_dir: &Path,
    target: &str,
) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    let platform: Platform = target.parse()?;
    let tables = ApiTables::load(spec_dir)?;
    let mut files = Vec::new();
    for package in &tables.packages {
        let Some(model) = tables.export_model(&package.name, platform)? else {
            continue;
        };
        let bytes = model.encode().map_err(|source| ApiError::Encode {
            package: package.name.clone(),
            source,
        })?;
        files.push((package.name.clone(), bytes));
    }
    Ok(files)
}

/// Generates the export files for `target` and writes them under `out_dir` in Oracle's
/// layout (`<out_dir>/javacard/framework/javacard/framework.exp`, see
/// [`export_file_path`]). Returns the paths written. This is `oxicard api exports`.
pub fn write_api_exports(
    spec_dir: &Path,
    target: &str,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ApiError> {
    let mut written = Vec::new();
    for (package, bytes) in generate_api_exports(spec_dir, target)? {
        let path = out_dir.join(export_file_path(&package));
        let io = |source| ApiError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, bytes).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}
