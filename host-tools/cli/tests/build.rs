//! `oxicard build`: the echo sample applet is built from its oxicard.toml and its script
//! passes on a simulated card; a converter refusal names the Java source path and line, a
//! javac error comes through with its file:line, and a bad manifest is named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn oxicard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(args)
        .current_dir(REPO)
        .output()
        .expect("oxicard runs")
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxicard-build-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A one-class project `org.test.p` in a fresh folder.
fn project(label: &str, manifest_extra: &str, source: &str) -> PathBuf {
    let dir = temp_dir(label);
    std::fs::write(
        dir.join("oxicard.toml"),
        format!(
            "[package]\nname = \"org.test.p\"\naid = \"F00000099901\"\nversion = \"1.0\"\n\
             {manifest_extra}\n[[applet]]\nclass = \"P\"\naid = \"F0000009990101\"\n"
        ),
    )
    .unwrap();
    let package = dir.join("src/org/test/p");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(package.join("P.java"), source).unwrap();
    dir
}

const APPLET_HEAD: &str = "package org.test.p;\n\
import javacard.framework.*;\n\
public class P extends Applet {\n\
    public static void install(byte[] b, short o, byte l) { new P().register(); }\n\
    public void process(APDU apdu) {\n";

#[test]
fn echo_builds_and_its_script_passes_on_a_simulated_card() {
    let out = temp_dir("echo");
    let built = oxicard(&["build", "applets/echo", "--out", out.to_str().unwrap()]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    for file in ["echo.cap", "echo.exp", "echo.lst", "classes"] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let cap = out.join("echo.cap");
    let run = oxicard(&[
        "run",
        "--sim",
        "--cap",
        cap.to_str().unwrap(),
        "applets/echo/echo.apdu",
    ]);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", text(&run.stderr));
    assert!(stdout.contains(" 0 differed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn converter_refusals_name_the_source_path_and_line() {
    let dir = project(
        "refused",
        "",
        &format!("{APPLET_HEAD}        float f = apdu.getBuffer()[0];\n        f = f * 2;\n        apdu.getBuffer()[0] = (byte) f;\n    }}\n}}\n"),
    );
    let built = oxicard(&["build", dir.to_str().unwrap()]);
    let stderr = text(&built.stderr);
    assert_eq!(built.status.code(), Some(2), "{stderr}");
    let source = dir.join("src/org/test/p/P.java");
    assert!(
        stderr.contains(&format!("{}:7:", source.display())),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn javac_errors_come_through_with_their_line() {
    let dir = project(
        "javac",
        "",
        &format!("{APPLET_HEAD}        short s = undefinedThing;\n    }}\n}}\n"),
    );
    let built = oxicard(&["build", dir.to_str().unwrap()]);
    let stderr = text(&built.stderr);
    assert!(!built.status.success());
    assert!(stderr.contains("P.java:6: error"), "{stderr}");
    assert!(stderr.contains("javac failed"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manifest_mistakes_are_named() {
    let dir = project("manifest", "colour = \"blue\"", "package org.test.p;\n");
    let built = oxicard(&["build", dir.to_str().unwrap()]);
    let stderr = text(&built.stderr);
    assert_eq!(built.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("oxicard.toml") && stderr.contains("colour"),
        "{stderr}"
    );
    let missing = oxicard(&["build", "/nonexistent/project"]);
    assert!(text(&missing.stderr).contains("oxicard.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Static initializers: constants and primitive array literals become the static field image
/// (the applet runs and reads them); anything else in `<clinit>` is refused with its line.
#[test]
fn static_initializers_become_the_image_or_are_refused_with_their_line() {
    let image = project(
        "clinit-ok",
        "",
        "package org.test.p;\n\
         import javacard.framework.*;\n\
         public class P extends Applet {\n\
         \x20   static short counter = 1000;\n\
         \x20   static final byte[] TABLE = { 1, 2, 3, 4 };\n\
         \x20   public static void install(byte[] b, short o, byte l) { new P().register(); }\n\
         \x20   public void process(APDU apdu) {\n\
         \x20       if (selectingApplet()) return;\n\
         \x20       byte[] buf = apdu.getBuffer();\n\
         \x20       Util.setShort(buf, (short) 0, (short) (counter + TABLE[3]));\n\
         \x20       apdu.setOutgoingAndSend((short) 0, (short) 2);\n\
         \x20   }\n\
         }\n",
    );
    let out = image.join("out");
    let built = oxicard(&[
        "build",
        image.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let script = image.join("p.apdu");
    std::fs::write(
        &script,
        "load F00000099901\ninstall F00000099901 F0000009990101\n\
         > 00 A4 04 00 07 F0000009990101\n< 9000\n> 80 00 00 00 00\n< 03EC 9000\n",
    )
    .unwrap();
    let cap = out.join("p.cap");
    let run = oxicard(&[
        "run",
        "--sim",
        "--cap",
        cap.to_str().unwrap(),
        script.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}{}",
        text(&run.stdout),
        text(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&image);

    let refused = project(
        "clinit-refused",
        "",
        "package org.test.p;\n\
         import javacard.framework.*;\n\
         public class P extends Applet {\n\
         \x20   static short[] table = new short[Util.makeShort((byte) 1, (byte) 2)];\n\
         \x20   public static void install(byte[] b, short o, byte l) { new P().register(); }\n\
         \x20   public void process(APDU apdu) { }\n\
         }\n",
    );
    let built = oxicard(&["build", refused.to_str().unwrap()]);
    let stderr = text(&built.stderr);
    assert_eq!(built.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("P.java:4:"), "{stderr}");
    assert!(stderr.contains("static initializer"), "{stderr}");
    let _ = std::fs::remove_dir_all(&refused);
}
