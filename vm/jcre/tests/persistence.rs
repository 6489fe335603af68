//! Persistence: a card powered up again on the NVM image of an earlier one is the same
//! card (packages, applets, their state), and operations a power loss interrupts leave
//! no trace.
#![allow(clippy::unwrap_used)]

mod common;
mod tear;

use common::{cap_path, load_file, GOLDEN};
use oxicard_jcre::{Card, CardError};
use tear::{hex, new_nvm, power_up, TestNvm};

const WALLET_PKG: &str = "F00000010400";
const WALLET: &str = "F00000010401";

fn send(card: &mut Card<TestNvm>, apdu: &str) -> Vec<u8> {
    let mut resp = [0u8; 300];
    let n = card.transmit(&hex(apdu), &mut resp).unwrap();
    resp[..n].to_vec()
}

fn wallet_card() -> Card<TestNvm> {
    let mut card = Card::new(new_nvm()).unwrap();
    card.load_cap(&load_file(&format!("{GOLDEN}/{}", cap_path(WALLET_PKG))))
        .unwrap();
    card.install(
        &hex(WALLET_PKG),
        &hex(WALLET),
        &hex(WALLET),
        &hex("04313233340064"),
    )
    .unwrap();
    card
}

#[test]
fn a_card_powered_up_again_keeps_its_applets_and_their_state() {
    let mut card = wallet_card();
    assert_eq!(send(&mut card, "00A4040006F00000010401"), hex("9000"));
    assert_eq!(send(&mut card, "8020000004 31323334"), hex("9000"));
    assert_eq!(send(&mut card, "8032000002 0010 00"), hex("0074 9000"));
    // a wrong PIN costs a try, which must survive the power cycle too
    assert_eq!(send(&mut card, "8020000004 31313131"), hex("63C2"));
    let before = card.vm().available_persistent();
    let nvm = card.into_nvm();

    let mut card = power_up(nvm);
    card.check_invariants().unwrap();
    assert_eq!(card.vm().available_persistent(), before);
    // nothing is selected after power-up
    assert_eq!(send(&mut card, "8030000000"), hex("6A82"));
    assert_eq!(send(&mut card, "00A4040006F00000010401"), hex("9000"));
    assert_eq!(send(&mut card, "8030000000"), hex("0074 9000"));
    // tries left 2, not validated (the validated flag is transient)
    assert_eq!(send(&mut card, "8022000000"), hex("0200 9000"));
    assert_eq!(send(&mut card, "8020000004 31323334"), hex("9000"));
    assert_eq!(send(&mut card, "8034000002 0020 00"), hex("0054 9000"));
    // the registry is persistent: the same instance AID cannot be installed twice
    assert!(matches!(
        card.install(
            &hex(WALLET_PKG),
            &hex(WALLET),
            &hex(WALLET),
            &hex("04313233340064")
        ),
        Err(CardError::InstallFailed(_))
    ));
    // and the package is still loaded: a second instance installs
    card.install(
        &hex(WALLET_PKG),
        &hex(WALLET),
        &hex("F00000010402"),
        &hex("023939"),
    )
    .unwrap();
    let nvm = card.into_nvm();
    let mut card = power_up(nvm);
    card.check_invariants().unwrap();
    assert_eq!(send(&mut card, "00A4040006F00000010402"), hex("9000"));
    assert_eq!(send(&mut card, "8030000000"), hex("0000 9000"));
    assert_eq!(send(&mut card, "00A4040006F00000010401"), hex("9000"));
    assert_eq!(send(&mut card, "8030000000"), hex("0054 9000"));
}

#[test]
fn a_failed_install_leaves_nothing_behind() {
    let mut card = wallet_card();
    let free = card.vm().available_persistent();
    let before = tear::card_digest(&card);
    // a PIN length of 0 makes install() throw before register()
    assert!(card
        .install(
            &hex(WALLET_PKG),
            &hex(WALLET),
            &hex("F00000010403"),
            &hex("00")
        )
        .is_err());
    assert_eq!(card.vm().available_persistent(), free);
    assert_eq!(tear::card_digest(&card), before);
    card.check_invariants().unwrap();
}

#[test]
fn power_loss_during_a_credit_rolls_the_balance_back() {
    let mut card = wallet_card();
    assert_eq!(send(&mut card, "00A4040006F00000010401"), hex("9000"));
    assert_eq!(send(&mut card, "8020000004 31323334"), hex("9000"));
    // cut the power at the first unit the CREDIT writes: its journal entry
    card.nvm_mut().set_writes_left(Some(0));
    let mut resp = [0u8; 300];
    assert!(card
        .transmit(&hex("8032000002 0010 00"), &mut resp)
        .is_err());
    let mut card = power_up(card.into_nvm());
    card.check_invariants().unwrap();
    assert_eq!(send(&mut card, "00A4040006F00000010401"), hex("9000"));
    assert_eq!(send(&mut card, "8030000000"), hex("0064 9000"));
}
