//! Deletion and memory: GlobalPlatform DELETE of applets and packages through the card
//! manager gives the NVM back (object collection, `oxicard_vm::gc`), so installing, using
//! and deleting packages many times leaves the free memory exactly where it started, and
//! dependency checks refuse to delete a package another package imports; a power cut at
//! any write of a DELETE (registry, object table, superblock) leaves the card exactly
//! before or after it.
#![allow(clippy::unwrap_used)]

use oxicard_jcre::Card;
use oxicard_store::RamNvm;

mod common;
mod tear;
use common::{cap_path, load_file, GOLDEN};
use tear::{card_digest, new_nvm, power_up};

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

/// A DELETE of the wallet package (its instance, then a collection that frees the
/// instance's objects, the package slot and all their space) cut at every unit write,
/// torn or not: after power-up the card passes its invariant checks and is exactly the
/// card before or after the DELETE.
#[test]
fn a_torn_delete_is_all_or_nothing() {
    common::in_thread(|| {
        let mut card = Card::new(new_nvm()).unwrap();
        let mut resp = [0u8; 300];
        card.load_cap(&wallet_file()).unwrap();
        let applet = hex("F00000010401");
        card.install(
            &hex("F00000010400"),
            &applet,
            &applet,
            &hex("04313233340064"),
        )
        .unwrap();
        for c in [
            "00A4040006F00000010401",
            "802000000431323334",
            "8032000002001000",
        ] {
            card.transmit(&hex(c), &mut resp).unwrap();
        }
        card.transmit(&hex("00A4040008A000000151000000"), &mut resp)
            .unwrap();
        let delete = hex("80E40080084F06F00000010400");
        let before = card.clone();
        let before_digest = card_digest(&card);
        let w0 = card.vm().nvm().units_written();
        let n = card.transmit(&delete, &mut resp).unwrap();
        assert_eq!(&resp[..n], &[0x00, 0x90, 0x00]);
        let after_digest = card_digest(&card);
        let units = card.vm().nvm().units_written() - w0;
        assert!(units > 4, "the DELETE writes");
        let mut cuts = 0;
        let mut seen_after = false;
        for n in 0..units {
            for torn in [false, true] {
                let mut c = before.clone();
                c.nvm_mut().set_writes_left(Some(n as usize));
                c.nvm_mut().set_tearing(torn);
                let _ = c.transmit(&delete, &mut resp);
                assert!(!c.vm().nvm().is_powered(), "cut {n} not reached");
                let p = power_up(c.into_nvm());
                p.check_invariants()
                    .unwrap_or_else(|e| panic!("cut {n} (torn {torn}): {e}"));
                let d = card_digest(&p);
                if d == after_digest {
                    seen_after = true;
                } else {
                    assert!(
                        d == before_digest,
                        "cut {n} (torn {torn}): neither before nor after"
                    );
                    assert!(!seen_after, "cut {n}: back to before after reaching after");
                }
                cuts += 1;
            }
        }
        eprintln!("torn DELETE: {cuts} cut points over {units} unit writes, all before or after");
    });
}
