//! Helpers shared by the integration tests: golden files, javac and javap.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared golden folder (a sibling of the repository).
pub fn golden_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/golden"
    ))
    .to_path_buf()
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

/// Compiles Java sources with `javac -g` and the given release options into `out`, returns
/// the class files produced.
pub fn javac(sources: &[PathBuf], out: &Path, options: &[&str]) -> Vec<PathBuf> {
    let output = Command::new("javac")
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
