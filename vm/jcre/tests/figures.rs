//! NVM write figures of the golden wallet (a benchmark printed by a test, with the one
//! goal the issue states checked): units written per APDU for CREDIT, DEBIT and PIN
//! VERIFY at 4-byte and 32-byte units, and the time per committed transaction on the RAM
//! NVM. Run with `--nocapture` to see them.
#![allow(clippy::unwrap_used)]

mod common;
mod tear;

use std::time::Instant;

use common::{cap_path, load_file, GOLDEN};
use oxicard_jcre::Card;
use oxicard_store::CountingNvm;
use tear::{hex, VecNvm, SIZE};

fn wallet(unit: usize) -> Card<CountingNvm<VecNvm>> {
    let nvm = CountingNvm::new(VecNvm(vec![0; SIZE])).with_unit(unit);
    let mut card = Card::new(nvm).unwrap();
    card.load_cap(&load_file(&format!(
        "{GOLDEN}/{}",
        cap_path("F00000010400")
    )))
    .unwrap();
    card.install(
        &hex("F00000010400"),
        &hex("F00000010401"),
        &hex("F00000010401"),
        &hex("04313233340064"),
    )
    .unwrap();
    send(&mut card, "00A4040006F00000010401", "9000");
    card
}

fn send(card: &mut Card<CountingNvm<VecNvm>>, apdu: &str, expect: &str) -> (u64, u64, u64) {
    let c0 = card.vm().nvm().counts();
    let mut resp = [0u8; 300];
    let n = card.transmit(&hex(apdu), &mut resp).unwrap();
    assert_eq!(resp[n - 2..n], hex(expect)[..], "{apdu}");
    let c1 = card.vm().nvm().counts();
    (c1.0 - c0.0, c1.1 - c0.1, c1.2 - c0.2)
}

#[test]
fn wallet_nvm_writes_per_apdu() {
    for unit in [4usize, 32] {
        let mut card = wallet(unit);
        let verify = send(&mut card, "8020000004 31323334", "9000");
        let wrong = send(&mut card, "8020000004 31313131", "63C2");
        send(&mut card, "8020000004 31323334", "9000");
        let credit = send(&mut card, "8032000002 0010 00", "9000");
        let debit = send(&mut card, "8034000002 0020 00", "9000");
        let read = send(&mut card, "8030000000", "9000");
        for (what, (writes, units, bytes)) in [
            ("VERIFY (right PIN)", verify),
            ("VERIFY (wrong PIN)", wrong),
            ("CREDIT", credit),
            ("DEBIT", debit),
            ("GET BALANCE", read),
        ] {
            eprintln!(
                "unit {unit:2} B: {what:18} {units:2} units ({writes} writes, {bytes} bytes)"
            );
        }
        // the balance is one short, one unit: a debit commits with at most 3 more
        assert!(debit.1 <= 1 + 3, "debit writes {} units", debit.1);
        assert_eq!(read.1, 0, "a read-only command writes nothing");
    }
}

#[test]
fn time_per_committed_transaction() {
    let mut card = wallet(4);
    send(&mut card, "8020000004 31323334", "9000");
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n / 2 {
        send(&mut card, "8032000002 0001 00", "9000");
        send(&mut card, "8034000002 0001 00", "9000");
    }
    let per = t.elapsed() / n;
    eprintln!("RAM NVM: {per:?} per CREDIT/DEBIT APDU (one committed transaction each)");
    card.check_invariants().unwrap();
}
