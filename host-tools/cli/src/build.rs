//! `oxicard build`: one applet project from Java sources to a CAP file. A small manifest,
//! `oxicard.toml`, next to the sources names the package, its AID and version, its applets,
//! imported packages and int support; the command runs javac against the Java Card API stub
//! jar and then the converter (through `oxicard convert`, so both take the same inputs).
//! Errors point at Java source lines: javac's are passed through, the converter's name the
//! source file (rewritten to its path under the project) and line.
//!
//! ```toml
//! [package]
//! name = "org.example.echo"      # the Java package, with dots
//! aid = "F00000020101"           # package AID, hex
//! version = "1.0"                # MAJOR.MINOR
//! int = false                    # 32-bit int support (optional, default false)
//! sources = "src"                # source root, relative to the manifest (optional)
//!
//! [[applet]]
//! class = "EchoApplet"           # simple name in the package, or fully qualified
//! aid = "F0000002010101"
//!
//! [[import]]                     # a user package this one uses (optional, repeatable)
//! export = "../lib/build"        # its export file, or a folder holding it
//! classes = "../lib/build/classes"   # its class files, for javac (optional)
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Parser};
use serde::Deserialize;

use crate::convert::ConvertArgs;

/// The manifest's file name.
pub const MANIFEST: &str = "oxicard.toml";

/// Relative path of the API stub jar in the repository (written by scripts/build-api.sh).
const API_JAR: &str = "build/api/oxicard-api.jar";

/// Relative path of the script that builds the API stub jar.
const BUILD_API_SCRIPT: &str = "scripts/build-api.sh";

/// Arguments of `oxicard build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The project folder (holding oxicard.toml).
    #[arg(default_value = ".", value_name = "DIR")]
    project: PathBuf,
    /// Where to write classes/, <last>.cap, <last>.exp and <last>.lst (default DIR/build).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The Java Card API stub jar (default: $OXICARD_API_JAR, else build/api/oxicard-api.jar
    /// in the repository holding the project or the current folder).
    #[arg(long, value_name = "JAR")]
    api_jar: Option<PathBuf>,
    /// Write the Debug component.
    #[arg(long)]
    debug: bool,
}

/// Help text shown after the options of `oxicard build`.
pub const BUILD_HELP: &str = "\
The project folder holds oxicard.toml and the Java sources (src/ unless the manifest says
otherwise):

  [package]
  name = \"org.example.echo\"
  aid = \"F00000020101\"
  version = \"1.0\"
  int = false

  [[applet]]
  class = \"EchoApplet\"
  aid = \"F0000002010101\"

  [[import]]
  export = \"../lib/build\"
  classes = \"../lib/build/classes\"

Examples:
  oxicard build applets/echo
  oxicard build applets/echo --out build/applets/echo --api-jar build/api/oxicard-api.jar";

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The package.
    pub package: PackageSection,
    /// The applets (none for a library).
    #[serde(default, rename = "applet")]
    pub applets: Vec<AppletSection>,
    /// Imported user packages.
    #[serde(default, rename = "import")]
    pub imports: Vec<ImportSection>,
}

/// `[package]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSection {
    /// The Java package, with dots.
    pub name: String,
    /// Package AID, hex.
    pub aid: String,
    /// MAJOR.MINOR.
    pub version: String,
    /// 32-bit int support.
    #[serde(default)]
    pub int: bool,
    /// Source root relative to the manifest.
    #[serde(default = "default_sources")]
    pub sources: PathBuf,
}

fn default_sources() -> PathBuf {
    PathBuf::from("src")
}

/// `[[applet]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppletSection {
    /// Simple name in the package, or fully qualified with dots.
    pub class: String,
    /// Applet AID, hex.
    pub aid: String,
}

/// `[[import]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSection {
    /// Export file of the imported package, or a folder holding it.
    pub export: PathBuf,
    /// Its class files (a folder or jar) for javac.
    #[serde(default)]
    pub classes: Option<PathBuf>,
}

impl Manifest {
    /// Reads and checks `DIR/oxicard.toml`.
    pub fn read(project: &Path) -> anyhow::Result<Manifest> {
        let path = project.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| crate::Malformed(format!("{}: {e}", path.display())).into())
    }

    /// The applet's class, fully qualified.
    fn qualified(&self, class: &str) -> String {
        if class.contains('.') {
            class.to_string()
        } else {
            format!("{}.{class}", self.package.name)
        }
    }
}

/// Builds the project; returns what was written, for the user.
pub fn run(args: &BuildArgs) -> anyhow::Result<String> {
    let manifest = Manifest::read(&args.project)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.project.join("build"));
    let api_jar = find_api_jar(args.api_jar.as_deref(), &args.project)?;
    let source_root = args.project.join(&manifest.package.sources);
    let mut sources = Vec::new();
    collect_java_sources(&source_root, &mut sources)
        .with_context(|| format!("reading {}", source_root.display()))?;
    sources.sort();
    if sources.is_empty() {
        bail!("no .java files under {}", source_root.display());
    }
    let classes = out.join("classes");
    if classes.exists() {
        std::fs::remove_dir_all(&classes)
            .with_context(|| format!("removing {}", classes.display()))?;
    }
    std::fs::create_dir_all(&classes).with_context(|| format!("creating {}", classes.display()))?;
    let javac_start = Instant::now();
    javac(&manifest, &args.project, &api_jar, &sources, &classes)?;
    let javac_time = javac_start.elapsed();

    let mut convert_line: Vec<String> = vec!["convert".into(), "--listing".into()];
    let mut push = |option: &str, value: &Path| {
        convert_line.push(option.into());
        convert_line.push(value.to_string_lossy().into_owned());
    };
    push("--classdir", &classes);
    push("--out", &out);
    for import in &manifest.imports {
        push("--exportpath", &args.project.join(&import.export));
    }
    for applet in &manifest.applets {
        convert_line.push("--applet".into());
        convert_line.push(format!(
            "{}:{}",
            applet.aid,
            manifest.qualified(&applet.class)
        ));
    }
    if manifest.package.int {
        convert_line.push("--int".into());
    }
    if args.debug {
        convert_line.push("--debug".into());
    }
    convert_line.extend([
        manifest.package.name.clone(),
        manifest.package.aid.clone(),
        manifest.package.version.clone(),
    ]);
    /// `oxicard convert`'s command line, parsed by clap as the command would be.
    #[derive(Parser)]
    struct ConvertLine {
        #[command(flatten)]
        args: ConvertArgs,
    }
    let line = ConvertLine::try_parse_from(&convert_line)
        .map_err(|e| crate::Malformed(format!("{}: {e}", args.project.join(MANIFEST).display())))?;
    let convert_start = Instant::now();
    let mut report = crate::convert::run(&line.args).map_err(|error| {
        match error.downcast_ref::<crate::Malformed>() {
            Some(crate::Malformed(message)) => {
                crate::Malformed(with_source_paths(message, &sources)).into()
            }
            None => error,
        }
    })?;
    let convert_time = convert_start.elapsed();
    report.push_str(&format!(
        "javac {:.0} ms, convert {:.1} ms\n",
        javac_time.as_secs_f64() * 1e3,
        convert_time.as_secs_f64() * 1e3
    ));
    Ok(report)
}

/// `dir/*.java`, recursively.
fn collect_java_sources(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_java_sources(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "java") {
            out.push(path);
        }
    }
    Ok(())
}

/// Compiles the sources against the API stubs (as the boot class path: java.lang is the
/// Java Card one), for Java 7 class files like Oracle's converter takes. javac's messages
/// go to our standard error as they are (they name file:line).
fn javac(
    manifest: &Manifest,
    project: &Path,
    api_jar: &Path,
    sources: &[PathBuf],
    classes: &Path,
) -> anyhow::Result<()> {
    let mut command = Command::new("javac");
    command.args([
        "-g",
        "-nowarn",
        "-Xlint:-options",
        "-encoding",
        "UTF-8",
        "-source",
        "7",
        "-target",
        "7",
        "-J-XX:TieredStopAtLevel=1",
        "-J-XX:+UseSerialGC",
    ]);
    command.arg("-bootclasspath").arg(api_jar);
    let class_path: Vec<PathBuf> = manifest
        .imports
        .iter()
        .filter_map(|i| i.classes.as_ref().map(|c| project.join(c)))
        .collect();
    if !class_path.is_empty() {
        command
            .arg("-classpath")
            .arg(std::env::join_paths(&class_path).context("an import's classes path")?);
    }
    command.arg("-d").arg(classes).args(sources);
    let status = command.status().map_err(|e| {
        anyhow::anyhow!("running javac: {e} (install a JDK, e.g. openjdk-17-jdk-headless)")
    })?;
    if !status.success() {
        return Err(
            crate::Malformed(format!("javac failed ({status}); see its messages above")).into(),
        );
    }
    Ok(())
}

/// The API stub jar: the option, $OXICARD_API_JAR, or build/api/oxicard-api.jar in the
/// repository holding the project (or the current folder), built by scripts/build-api.sh
/// when the repository has the script but not the jar yet.
fn find_api_jar(option: Option<&Path>, project: &Path) -> anyhow::Result<PathBuf> {
    if let Some(jar) = option
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("OXICARD_API_JAR").map(PathBuf::from))
    {
        if !jar.is_file() {
            bail!(
                "API jar {} not found (build it with {BUILD_API_SCRIPT})",
                jar.display()
            );
        }
        return Ok(jar);
    }
    let mut starts = vec![project.canonicalize().unwrap_or_else(|_| project.into())];
    starts.extend(std::env::current_dir().ok());
    for start in &starts {
        for dir in start.ancestors() {
            let jar = dir.join(API_JAR);
            if jar.is_file() {
                return Ok(jar);
            }
            let script = dir.join(BUILD_API_SCRIPT);
            if script.is_file() {
                eprintln!("oxicard build: {API_JAR} missing, running {BUILD_API_SCRIPT}");
                let status = Command::new("bash")
                    .arg(&script)
                    .status()
                    .with_context(|| format!("running {}", script.display()))?;
                if status.success() && jar.is_file() {
                    return Ok(jar);
                }
                bail!("{} failed ({status})", script.display());
            }
        }
    }
    bail!(
        "the Java Card API stub jar was not found: run {BUILD_API_SCRIPT} in the oxicard \
         repository, or give --api-jar (or OXICARD_API_JAR)"
    )
}

/// The converter names a source by file name (`Echo.java:12: ...`, as the class file's
/// SourceFile attribute does): each line starting with the name of one of the sources gets
/// that source's path, so editors can jump to it.
fn with_source_paths(message: &str, sources: &[PathBuf]) -> String {
    message
        .lines()
        .map(|line| {
            let named = sources.iter().find(|source| {
                source.file_name().is_some_and(|name| {
                    let name = name.to_string_lossy();
                    line.strip_prefix(name.as_ref())
                        .is_some_and(|rest| rest.starts_with(':'))
                })
            });
            match named {
                Some(source) => {
                    let name_len = source.file_name().map_or(0, |n| n.len());
                    format!("{}{}", source.display(), &line[name_len..])
                }
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converter_messages_get_source_paths() {
        let sources = [
            PathBuf::from("applets/echo/src/org/x/Echo.java"),
            PathBuf::from("applets/echo/src/org/x/Util.java"),
        ];
        let message =
            "Echo.java:12: float arithmetic\nUtil.java: error: x\nOther.java:3: y\nEcho.javaX: z";
        assert_eq!(
            with_source_paths(message, &sources),
            "applets/echo/src/org/x/Echo.java:12: float arithmetic\n\
             applets/echo/src/org/x/Util.java: error: x\nOther.java:3: y\nEcho.javaX: z"
        );
    }

    #[test]
    fn manifest_defaults_and_unknown_keys() {
        let manifest: Manifest = toml::from_str(
            "[package]\nname = \"a.b\"\naid = \"F000000001\"\nversion = \"1.0\"\n\
             [[applet]]\nclass = \"C\"\naid = \"F00000000101\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!manifest.package.int);
        assert_eq!(manifest.package.sources, PathBuf::from("src"));
        assert_eq!(manifest.qualified("C"), "a.b.C");
        assert_eq!(manifest.qualified("x.y.C"), "x.y.C");
        let unknown = toml::from_str::<Manifest>(
            "[package]\nname = \"a\"\naid = \"F000000001\"\nversion = \"1.0\"\nint_support = true\n",
        );
        assert!(unknown.is_err());
    }
}
