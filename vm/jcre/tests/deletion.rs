//! Deletion and memory: GlobalPlatform DELETE of applets and packages through the card
//! manager gives the NVM back (object collection, `oxicard_vm::gc`), so installing, using
//! and deleting packages many times leaves the free memory exactly where it started, and
//! dependency checks refuse to delete a package another package imports.
#![allow(clippy::unwrap_used)]

use oxicard_jcre::Card;
use oxicard_store::RamNvm;

mod common;
use common::{cap_path, load_file, GOLDEN};

const NVM: usize = 256 * 1024;
type TestCard = Card<RamNvm<NVM>>;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn send(card: &mut TestCard, apdu: &str) -> (Vec<u8>, u16) {
    let mut resp = [0u8; 300];
    let n = card.transmit(&hex(apdu), &mut resp).unwrap();
    (
        resp[..n - 2].to_vec(),
        u16::from_be_bytes([resp[n - 2], resp[n - 1]]),
    )
}

fn sw(card: &mut TestCard, apdu: &str) -> u16 {
    send(card, apdu).1
}

/// GlobalPlatform DELETE (with related objects: P2 80) of `aid`, from the ISD.
fn delete(card: &mut TestCard, aid: &str) -> u16 {
    assert_eq!(sw(card, "00A4040008A000000151000000"), 0x9000);
    let aid = hex(aid);
    let apdu = format!(
        "80E40080{:02X}4F{:02X}{}",
        aid.len() + 2,
        aid.len(),
        aid.iter().map(|b| format!("{b:02X}")).collect::<String>()
    );
    sw(card, &apdu)
}

fn wallet_file() -> Vec<u8> {
    load_file(&format!("{GOLDEN}/{}", cap_path("F00000010400")))
}

/// One life of the golden wallet: load, install (PIN 1234, balance 0064), select, verify
/// the PIN, credit, debit, read the balance, then DELETE the package with its instance.
fn wallet_life(card: &mut TestCard, lf: &[u8]) {
    card.load_cap(lf).unwrap();
    let (pkg, applet) = (hex("F00000010400"), hex("F00000010401"));
    card.install(&pkg, &applet, &applet, &hex("04313233340064"))
        .unwrap();
    assert_eq!(sw(card, "00A4040006F00000010401"), 0x9000);
    assert_eq!(sw(card, "802000000431323334"), 0x9000);
    assert_eq!(send(card, "80300000 00"), (hex("0064"), 0x9000));
    assert_eq!(send(card, "8032000002001000").1, 0x9000);
    assert_eq!(send(card, "8034000002000800").1, 0x9000);
    assert_eq!(send(card, "80300000 00"), (hex("006C"), 0x9000));
    assert_eq!(delete(card, "F00000010400"), 0x9000);
    assert!(!card.has_package(&pkg));
}

#[test]
fn install_use_delete_many_times_leaks_no_nvm() {
    common::in_thread(|| {
        let lf = wallet_file();
        let mut card = Box::new(Card::new(RamNvm::<NVM>::new()).unwrap());
        let start = card.available_persistent();
        // more lives than the 16 package slots: slots come back too
        for life in 0..40 {
            wallet_life(&mut card, &lf);
            card.check_invariants().unwrap();
            assert_eq!(
                card.available_persistent(),
                start,
                "free NVM after life {life}"
            );
            assert_eq!(
                card.vm().package_count(),
                0,
                "package slots after life {life}"
            );
        }
        // and the card is still usable: the wallet lives once more after a power cycle
        let nvm = card.into_nvm();
        let mut card = Box::new(Card::new(nvm).unwrap());
        assert_eq!(card.available_persistent(), start);
        wallet_life(&mut card, &lf);
        assert_eq!(card.available_persistent(), start);
    });
}

#[test]
fn deleting_an_applet_reclaims_its_objects() {
    common::in_thread(|| {
        let lf = wallet_file();
        let mut card = Box::new(Card::new(RamNvm::<NVM>::new()).unwrap());
        card.load_cap(&lf).unwrap();
        let loaded = card.available_persistent();
        let (pkg, applet) = (hex("F00000010400"), hex("F00000010401"));
        for _ in 0..10 {
            card.install(&pkg, &applet, &applet, &hex("04313233340064"))
                .unwrap();
            assert!(card.available_persistent() < loaded);
            assert_eq!(sw(&mut card, "00A4040006F00000010401"), 0x9000);
            assert_eq!(delete(&mut card, "F00000010401"), 0x9000);
            assert_eq!(card.available_persistent(), loaded);
            card.check_invariants().unwrap();
        }
    });
}

#[test]
fn a_package_another_package_imports_is_not_deleted() {
    common::in_thread(|| {
        let mut card = Box::new(Card::new(RamNvm::<NVM>::new()).unwrap());
        for p in ["F00000010600", "F00000010700"] {
            card.load_cap(&load_file(&format!("{GOLDEN}/{}", cap_path(p))))
                .unwrap();
        }
        let before = card.available_persistent();
        // the client imports the server: 6985, nothing changes
        assert_eq!(delete(&mut card, "F00000010600"), 0x6985);
        assert!(card.has_package(&hex("F00000010600")));
        assert_eq!(card.available_persistent(), before);
        // client first, then the server: both go, and all their space comes back
        assert_eq!(delete(&mut card, "F00000010700"), 0x9000);
        assert_eq!(delete(&mut card, "F00000010600"), 0x9000);
        card.check_invariants().unwrap();
        let empty = Box::new(Card::new(RamNvm::<NVM>::new()).unwrap());
        assert_eq!(card.available_persistent(), empty.available_persistent());
    });
}
