//! oxicard-convert: turns javac output for Java Card packages into CAP and export files.
//!
//! The stages: [`classfile`] reads class files, [`bytecode`] decodes method bodies into JVM
//! instructions, [`descriptor`] parses type descriptors, [`subset`] refuses whatever a Java
//! Card VM cannot run (naming the source file and line), [`translate`] turns JVM bytecode
//! into JCVM bytecode with a short/int type analysis, and the package stage assigns tokens,
//! links through export files and writes every component. [`convert_package`] runs them all.

pub mod bytecode;
pub mod classfile;
mod debug_info;
pub mod descriptor;
mod locals;
mod package;
mod peephole;
pub mod subset;
pub mod translate;
mod type_table;

use std::fmt;
use std::path::PathBuf;

use oxicard_cap::ComponentTag;

/// An applet of the package: its AID and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppletSpec {
    /// Applet AID (5..=16 bytes).
    pub aid: Vec<u8>,
    /// Class name, dotted (`org.example.MyApplet`) or internal.
    pub class_name: String,
}

/// What to convert, as Oracle's converter takes it.
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// Root of the class files (`<classdir>/<package path>/*.class`).
    pub classdir: PathBuf,
    /// Directories (searched recursively) or single `.exp` files of imported packages; the
    /// Java Card API export files are built in.
    pub export_paths: Vec<PathBuf>,
    /// Applets of the package; none for a library package.
    pub applets: Vec<AppletSpec>,
    /// Accept 32-bit int (CAP flag ACC_INT).
    pub int_support: bool,
    /// Write the Debug component (names, line and local variable tables; CAP format 2.2).
    pub debug: bool,
    /// Produce a method listing.
    pub listing: bool,
    /// Package name, dotted.
    pub package_name: String,
    /// Package AID.
    pub package_aid: Vec<u8>,
    /// Package version (major, minor).
    pub version: (u8, u8),
}

/// What a conversion produced.
#[derive(Debug, Clone)]
pub struct ConvertOutput {
    /// The CAP file (JAR container).
    pub cap: Vec<u8>,
    /// The package's export file.
    pub export: Vec<u8>,
    /// Method listing, with `listing`.
    pub listing: Option<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Every component, encoded.
    pub components: Vec<(ComponentTag, Vec<u8>)>,
    /// The Load File Data Block (components in load order, Descriptor included).
    pub load_file: Vec<u8>,
}

/// Why a conversion failed: one message per problem, each naming the source file and line
/// where it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    /// The messages.
    pub messages: Vec<String>,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.messages.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(m)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConvertError {}

/// Converts one package: class files in, CAP and export file out.
pub fn convert_package(opts: &ConvertOptions) -> Result<ConvertOutput, ConvertError> {
    package::convert(opts)
}
