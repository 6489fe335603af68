//! `oxicard convert` end to end on the echo sample applet: javac against the API stubs, the
//! converter through the command line, the CAP's JAR layout (as Oracle's converter writes it),
//! and the applet's APDU script replayed on the simulated card.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn stub_jar() -> PathBuf {
    let jar = Path::new(REPO).join("build/api/oxicard-api.jar");
    if !jar.exists() {
        let status = Command::new("bash")
            .arg(Path::new(REPO).join("scripts/build-api.sh"))
            .status()
            .expect("bash runs");
        assert!(status.success(), "scripts/build-api.sh failed");
    }
    jar
}

fn oxicard(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(args)
        .output()
        .expect("oxicard runs")
}

#[test]
fn echo_sample_converts_and_runs_its_script() {
    let work = std::env::temp_dir().join(format!("oxicard-convert-{}", std::process::id()));
    let classes = work.join("classes");
    let out = work.join("out");
    std::fs::create_dir_all(&classes).unwrap();
    let source = Path::new(REPO).join("applets/echo/src/org/oxicard/samples/echo/EchoApplet.java");
    let javac = Command::new("javac")
        .args([
            "-nowarn",
            "-Xlint:-options",
            "-g",
            "-source",
            "7",
            "-target",
            "7",
        ])
        .arg("-cp")
        .arg(stub_jar())
        .arg("-d")
        .arg(&classes)
        .arg(&source)
        .status()
        .expect("javac runs");
    assert!(javac.success());

    let output = oxicard(&[
        "convert".as_ref(),
        "--classdir".as_ref(),
        classes.as_os_str(),
        "--applet".as_ref(),
        "F0000002010101:org.oxicard.samples.echo.EchoApplet".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "org.oxicard.samples.echo".as_ref(),
        "F00000020101".as_ref(),
        "1.0".as_ref(),
    ]);
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("echo.cap"), "{text}");

    // The JAR layout Oracle's converter uses: <package path>/javacard/<Component>.cap.
    let cap_bytes = std::fs::read(out.join("echo.cap")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(cap_bytes)).unwrap();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().to_string())
        .collect();
    for component in ["Header", "Directory", "Applet", "Import", "Method"] {
        let entry = format!("org/oxicard/samples/echo/javacard/{component}.cap");
        assert!(names.contains(&entry), "{entry} not in {names:?}");
    }
    assert!(out.join("echo.exp").exists());

    let script = Path::new(REPO).join("applets/echo/echo.apdu");
    let output = oxicard(&[
        "run".as_ref(),
        "--sim".as_ref(),
        "--quiet".as_ref(),
        "--cap".as_ref(),
        out.join("echo.cap").as_os_str(),
        script.as_os_str(),
    ]);
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("9 exchanges sent, 9 matched, 0 differed"),
        "{text}"
    );
    std::fs::remove_dir_all(&work).ok();
}

#[test]
fn bad_arguments_are_explained() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "convert",
                "--classdir",
                ".",
                "--out",
                "x",
                "p",
                "F000",
                "1.0",
            ],
            "package AID",
        ),
        (
            &[
                "convert",
                "--classdir",
                ".",
                "--out",
                "x",
                "p",
                "F000000001",
                "one",
            ],
            "expected MAJOR.MINOR",
        ),
        (
            &[
                "convert",
                "--classdir",
                ".",
                "--applet",
                "F000000001",
                "--out",
                "x",
                "p",
                "F000000001",
                "1.0",
            ],
            "expected AID:CLASS",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        let output = oxicard(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
}
