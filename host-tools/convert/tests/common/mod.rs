//! Helpers shared by the integration tests: golden files, javac and javap.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use oxicard_apdu::{hex::Hex, Aid};
use oxicard_convert::{AppletSpec, ConvertOptions};
use oxicard_sim::runner::{Event, RunOptions, ScriptSession};
use oxicard_sim::transcript::{Exchange, Step, Transcript};
use oxicard_sim::{CapPackage, SimCard};

/// The shared golden folder, as a string for `format!`.
pub const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// The shared golden folder (a sibling of the repository).
pub fn golden_dir() -> PathBuf {
    PathBuf::from(GOLDEN)
}

/// Every `.class` file under `golden/*/classes`, sorted.
pub fn golden_class_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let golden = golden_dir();
    let packages = std::fs::read_dir(&golden).expect("golden dir readable");
    for package in packages {
        let classes = package.expect("dir entry").path().join("classes");
        if classes.is_dir() {
            collect_class_files(&classes, &mut files);
        }
    }
    files.sort();
    assert!(
        files.len() >= 27,
        "expected the golden class files, found {}",
        files.len()
    );
    files
}

fn collect_class_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_class_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "class") {
            out.push(path);
        }
    }
}

/// The golden package folder name a class file belongs to (`ints`, `hello`, …).
pub fn golden_package(path: &Path) -> String {
    let golden = golden_dir();
    let relative = path.strip_prefix(&golden).expect("under golden");
    relative
        .components()
        .next()
        .expect("package folder")
        .as_os_str()
        .to_string_lossy()
        .into_owned()
}

/// xorshift64*: a fixed, seedable generator, so that generated programs and mutated inputs
/// are the same on every run and failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A fresh empty temporary directory for this test.
pub fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "oxicard-convert-{label}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// JVM options for javac and javap: they are short runs, where the JIT's top tier and the
/// parallel collector only cost start-up time (about half the CPU time of a run).
pub const FAST_JVM: [&str; 2] = ["-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC"];

/// Compiles Java sources with `javac -g` and the given release options into `out`, returns
/// the class files produced.
pub fn javac(sources: &[PathBuf], out: &Path, options: &[&str]) -> Vec<PathBuf> {
    let output = Command::new("javac")
        .args(FAST_JVM)
        .args(["-g", "-nowarn", "-encoding", "UTF-8", "-Xlint:-options"])
        .args(options)
        .arg("-d")
        .arg(out)
        .args(sources)
        .output()
        .expect("javac runs");
    assert!(
        output.status.success(),
        "javac failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut files = Vec::new();
    collect_class_files(out, &mut files);
    files.sort();
    files
}

/// Runs `javap` with the options on the files and returns its output split per class
/// (each chunk starting at its `Compiled from` line).
pub fn javap(options: &[&str], files: &[PathBuf]) -> Vec<String> {
    let output = Command::new("javap")
        .args(FAST_JVM)
        .args(options)
        .args(files)
        .output()
        .expect("javap runs");
    assert!(
        output.status.success(),
        "javap failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8 javap output");
    let mut chunks: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Compiled from") || line.starts_with("Classfile ") || chunks.is_empty()
        {
            chunks.push(String::new());
        }
        if let Some(chunk) = chunks.last_mut() {
            chunk.push_str(line);
            chunk.push('\n');
        }
    }
    chunks
}

/// One golden package (golden/README.md §1 and index.json).
pub struct Pkg {
    pub folder: &'static str,
    pub last: &'static str,
    pub name: &'static str,
    pub aid: &'static str,
    pub applets: &'static [(&'static str, &'static str)],
    pub int: bool,
    /// Packages whose export files this one needs (by `last`).
    pub deps: &'static [&'static str],
}

pub const PACKAGES: &[Pkg] = &[
    Pkg {
        folder: "hello",
        last: "hello",
        name: "org.oxicard.golden.hello",
        aid: "F00000010100",
        applets: &[("F00000010101", "HelloApplet")],
        int: false,
        deps: &[],
    },
    Pkg {
        folder: "lib",
        last: "lib",
        name: "org.oxicard.golden.lib",
        aid: "F00000010800",
        applets: &[],
        int: false,
        deps: &[],
    },
    Pkg {
        folder: "bytecodes",
        last: "bytecodes",
        name: "org.oxicard.golden.bytecodes",
        aid: "F00000010200",
        applets: &[("F00000010201", "BytecodesApplet")],
        int: false,
        deps: &["lib"],
    },
    Pkg {
        folder: "ints",
        last: "ints",
        name: "org.oxicard.golden.ints",
        aid: "F00000010300",
        applets: &[("F00000010301", "IntsApplet")],
        int: true,
        deps: &[],
    },
    Pkg {
        folder: "wallet",
        last: "wallet",
        name: "org.oxicard.golden.wallet",
        aid: "F00000010400",
        applets: &[("F00000010401", "WalletApplet")],
        int: false,
        deps: &[],
    },
    Pkg {
        folder: "crypto",
        last: "crypto",
        name: "org.oxicard.golden.crypto",
        aid: "F00000010500",
        applets: &[("F00000010501", "CryptoApplet")],
        int: false,
        deps: &[],
    },
    Pkg {
        folder: "sharing",
        last: "server",
        name: "org.oxicard.golden.sharing.server",
        aid: "F00000010600",
        applets: &[("F00000010601", "LoyaltyServer")],
        int: false,
        deps: &[],
    },
    Pkg {
        folder: "sharing",
        last: "client",
        name: "org.oxicard.golden.sharing.client",
        aid: "F00000010700",
        applets: &[("F00000010701", "LoyaltyClient")],
        int: false,
        deps: &["server"],
    },
    Pkg {
        folder: "widecp",
        last: "widecp",
        name: "org.oxicard.golden.widecp",
        aid: "F00000010900",
        applets: &[("F00000010901", "WideCpApplet")],
        int: false,
        deps: &[],
    },
];

/// Bytes from hex text (whitespace ignored).
pub fn hex(s: &str) -> Vec<u8> {
    oxicard_apdu::hex::decode(s).unwrap()
}

/// The options Oracle's converter was given for a golden package, with its classes in
/// `classdir` and the export files of its dependencies in `exp_dir` (named `<last>.exp`).
pub fn options_with_classdir(p: &Pkg, classdir: PathBuf, exp_dir: &Path) -> ConvertOptions {
    ConvertOptions {
        classdir,
        export_paths: p
            .deps
            .iter()
            .map(|d| exp_dir.join(format!("{d}.exp")))
            .collect(),
        applets: p
            .applets
            .iter()
            .map(|(aid, cls)| AppletSpec {
                aid: hex(aid),
                class_name: format!("{}.{cls}", p.name),
            })
            .collect(),
        int_support: p.int,
        debug: false,
        listing: false,
        package_name: p.name.into(),
        package_aid: hex(p.aid),
        version: (1, 0),
    }
}

/// The options for a golden package read in place from the golden folder.
pub fn golden_options(p: &Pkg, exp_dir: &Path) -> ConvertOptions {
    options_with_classdir(
        p,
        PathBuf::from(format!("{GOLDEN}/{}/classes", p.folder)),
        exp_dir,
    )
}

/// What replaying a golden transcript gave.
pub struct Outcome {
    pub passed: usize,
    pub total: usize,
    pub first_failure: Option<String>,
    /// Per exchange: the response was the expected one.
    pub right: Vec<bool>,
}

/// Replays the golden transcript of `folder` on a fresh simulated card with the transcript
/// runner of `oxicard run` (oxicard-sim), loading the Load File Data Blocks of `loads` (by
/// package AID, hex). Unlike `oxicard run`, a step that fails (a package that did not convert,
/// an install or a command the card refuses) is noted and the replay goes on, so that every
/// checked exchange is counted.
pub fn replay(folder: &str, loads: &HashMap<String, Vec<u8>>) -> Outcome {
    let path = format!("{GOLDEN}/{folder}/transcript.apdu");
    let text = std::fs::read_to_string(&path).unwrap();
    let transcript = Transcript::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut card = SimCard::new().unwrap();
    for (aid, load_file) in loads {
        card.add_cap(CapPackage {
            path: PathBuf::from(format!("converted package {aid}")),
            aid: Aid::from_hex(aid).unwrap(),
            version: (1, 0),
            load_file: load_file.clone(),
        });
    }
    let mut session = ScriptSession::new(RunOptions::default());
    let mut out = Outcome {
        passed: 0,
        total: 0,
        first_failure: None,
        right: Vec::new(),
    };
    for step in &transcript.steps {
        let checked = matches!(
            step,
            Step::Exchange(Exchange {
                expected: Some(_),
                ..
            })
        );
        let mut failure = None;
        let result = session.run_step(&mut card, step, &mut |event| {
            if let Event::Exchange {
                exchange,
                actual,
                matched: false,
                ..
            } = event
            {
                let expected = exchange.expected.as_ref().map(ToString::to_string);
                failure = Some(format!(
                    "line {}: expected {} got {}",
                    exchange.line,
                    expected.unwrap_or_default(),
                    Hex(actual)
                ));
            }
        });
        let matched = result.unwrap_or_else(|e| {
            failure = Some(format!("line {}: {}", e.line, e.message));
            false
        });
        if checked {
            out.total += 1;
            out.passed += usize::from(matched);
            out.right.push(matched);
        }
        if out.first_failure.is_none() {
            out.first_failure = failure;
        }
    }
    out
}
