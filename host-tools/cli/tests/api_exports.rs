//! `oxicard api exports` writes the same export files, at the same layout paths, as those
//! committed under `applets/api/exp` (which `oxicard cap dump` embeds).

use std::path::{Path, PathBuf};
use std::process::Command;

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec");
const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../applets/api/exp");

fn exp_files(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            exp_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "exp") {
            out.push(path.strip_prefix(root).expect("prefix").to_path_buf());
        }
    }
}

#[test]
fn api_exports_match_the_committed_files() {
    let out = std::env::temp_dir().join(format!("oxicard-api-exports-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(["api", "exports", "--spec", SPEC, "--out"])
        .arg(&out)
        .output()
        .expect("run oxicard");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (mut written, mut committed) = (Vec::new(), Vec::new());
    exp_files(&out, &out, &mut written);
    exp_files(Path::new(COMMITTED), Path::new(COMMITTED), &mut committed);
    written.sort();
    committed.sort();
    assert_eq!(written, committed, "same files at the same layout paths");
    assert!(written.len() >= 10, "{written:?}");
    for path in &written {
        let ours = std::fs::read(out.join(path)).expect("written file");
        let theirs = std::fs::read(Path::new(COMMITTED).join(path)).expect("committed file");
        assert!(ours == theirs, "{} differs", path.display());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("{} export files", written.len())),
        "{stdout}"
    );
    std::fs::remove_dir_all(&out).ok();

    // A missing spec folder is an error with exit status 1 and says which folder.
    let output = Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(["api", "exports", "--spec", "/nonexistent/spec", "--out"])
        .arg(std::env::temp_dir().join("oxicard-unused"))
        .output()
        .expect("run oxicard");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/spec"), "{stderr}");
}
