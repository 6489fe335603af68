//! `oxicard gp` as a process, on an in-process simulated card kept in an image file: the
//! golden hello and wallet CAPs installed with GlobalPlatform APDUs, listed, the wallet
//! answering its golden balance from the same image, deletions refused and done.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oxicard_sim::SimCard;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

fn oxicard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(args)
        .output()
        .expect("runs oxicard")
}

fn gp(image: &Path, args: &[&str]) -> Output {
    let mut all = vec!["gp", "--image", image.to_str().unwrap()];
    all.extend_from_slice(args);
    oxicard(&all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_image(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxicard-gp-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn install_list_and_delete_on_a_card_image() {
    let image = temp_image("card.img");
    let hello = format!("{GOLDEN}/hello/hello.cap");
    let wallet = format!("{GOLDEN}/wallet/wallet.cap");

    let o = gp(&image, &["install", &hello]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("loaded package F00000010100 v1.0"),
        "{}",
        stderr(&o)
    );
    let o = gp(&image, &["install", &wallet, "--params", "04313233340064"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // installing hello again: the package is there, the instance AID is taken
    let o = gp(&image, &["install", &hello]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is on the card already"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("6985"), "{}", stderr(&o));

    let o = gp(&image, &["list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "ISD: A000000151000000 (OP_READY)\n\
         APP: F00000010101 (SELECTABLE)\n\
         APP: F00000010401 (SELECTABLE)\n\
         PKG: F00000010100 (LOADED) v1.0\n     Applet: F00000010101\n\
         PKG: F00000010400 (LOADED) v1.0\n     Applet: F00000010401\n"
    );

    // the wallet got its install parameters: the golden balance from the same image
    {
        let mut card = SimCard::with_image(&image, false).unwrap();
        assert_eq!(
            card.transmit(&[0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0, 0, 1, 4, 1])
                .unwrap(),
            [0x90, 0x00]
        );
        assert_eq!(
            card.transmit(&[0x80, 0x30, 0, 0, 0]).unwrap(),
            [0x00, 0x64, 0x90, 0x00]
        );
    }

    // a package with an instance goes only with -f (DELETE P2 80)
    let o = gp(&image, &["delete", "F00000010100"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("DELETE refused: 6985"),
        "{}",
        stderr(&o)
    );
    let o = gp(&image, &["delete", "F00000010100", "-f"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = gp(&image, &["delete", "F00000010401"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = gp(&image, &["list"]);
    assert_eq!(
        stdout(&o),
        "ISD: A000000151000000 (OP_READY)\nPKG: F00000010400 (LOADED) v1.0\n     Applet: F00000010401\n"
    );
    let o = gp(&image, &["delete", "F00000010100"]);
    assert!(stderr(&o).contains("6A88"), "{}", stderr(&o));

    // and hello installs again
    let o = gp(&image, &["install", &hello]);
    assert!(o.status.success(), "{}", stderr(&o));
    let _ = std::fs::remove_file(&image);
}

#[test]
fn install_on_a_fresh_simulated_card_and_card_information() {
    let hello = format!("{GOLDEN}/hello/hello.cap");
    let o = oxicard(&["gp", "--sim", "install", &hello, "--block-size", "16"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(339 bytes in 22 blocks)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&o),
        "installed F00000010101 (applet F00000010101, package F00000010100)\n"
    );
    let o = oxicard(&["gp", "--sim", "info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("  1.2.840.114283.2.2.2.1\n"),
        "{}",
        stdout(&o)
    );
    // a malformed AID is a usage error
    let o = oxicard(&["gp", "--sim", "delete", "F0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
