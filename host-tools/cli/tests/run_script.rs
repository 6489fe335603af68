//! `oxicard run --sim`: the golden transcripts (made on jCardSim and checked against the
//! specifications) replayed on the in-process card through the command line, plus the ways a
//! run must fail: a wrong expectation (exit 1 with a diff), a malformed script (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

fn golden(path: &str) -> PathBuf {
    Path::new(GOLDEN).join(path)
}

fn oxicard_run(caps: &[&str], script: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oxicard"));
    command.args(["run", "--sim", "--quiet"]);
    for cap in caps {
        command.arg("--cap").arg(golden(cap));
    }
    command.arg(script).output().expect("oxicard runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn golden_transcripts_pass_on_the_simulated_card() {
    let cases: &[(&str, &[&str], usize)] = &[
        ("hello/transcript.apdu", &["hello/hello.cap"], 18),
        (
            "bytecodes/transcript.apdu",
            &["lib/lib.cap", "bytecodes/bytecodes.cap"],
            141,
        ),
        ("ints/transcript.apdu", &["ints/ints.cap"], 30),
        ("wallet/transcript.apdu", &["wallet/wallet.cap"], 64),
        ("widecp/transcript.apdu", &["widecp/widecp.cap"], 7),
        // RandomData, on-card key generation and ECDSA signing need the OS random source.
        ("crypto/transcript.apdu", &["crypto/crypto.cap"], 53),
    ];
    for (script, caps, exchanges) in cases {
        let output = oxicard_run(caps, &golden(script));
        let text = text(&output);
        assert_eq!(output.status.code(), Some(0), "{script}:\n{text}");
        let summary = format!("{exchanges} exchanges sent, {exchanges} matched, 0 differed");
        assert!(
            text.contains(&summary),
            "{script}: expected `{summary}` in\n{text}"
        );
    }
}

#[test]
fn a_wrong_expectation_fails_with_the_line_and_both_responses() {
    let original = std::fs::read_to_string(golden("hello/transcript.apdu")).unwrap();
    // The HELLO command answers "Hello"; expect "Hellp" instead.
    let altered = original.replacen("< 48656C6C6F 9000", "< 48656C6C70 9000", 1);
    assert_ne!(
        original, altered,
        "the golden transcript changed: update this test"
    );
    let line = altered
        .lines()
        .position(|l| l.starts_with("< 48656C6C70"))
        .unwrap()
        + 1;
    let dir = std::env::temp_dir().join(format!("oxicard-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("altered.apdu");
    std::fs::write(&script, altered).unwrap();
    let output = oxicard_run(&["hello/hello.cap"], &script);
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{line:>5}  expected 48656C6C70 9000")),
        "{text}"
    );
    assert!(text.contains("< 48656C6C6F 9000"), "{text}");
    assert!(text.contains("differs at byte 4"), "{text}");
    assert!(text.contains("1 differed"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn malformed_scripts_and_missing_packages_are_reported() {
    let dir = std::env::temp_dir().join(format!("oxicard-run-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("bad.apdu");
    std::fs::write(&script, "load F00000010100\n> 80 01\n").unwrap();
    let output = oxicard_run(&["hello/hello.cap"], &script);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("line 2: malformed command APDU"),
        "{}",
        text(&output)
    );

    std::fs::write(&script, "load F00000010100\n").unwrap();
    let output = oxicard_run(&[], &script);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("bad.apdu:1: no CAP file given for package F00000010100"),
        "{}",
        text(&output)
    );
    std::fs::remove_dir_all(&dir).ok();
}
