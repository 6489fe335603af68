//! A card built without the `crypto` feature (the small firmware build) still loads and
//! installs a CAP file that imports javacard.security and javacardx.crypto: the golden
//! `crypto` applet's constructor catches the CryptoException of every `getInstance` /
//! `buildKey` and leaves its engines null, so every command answers 6A81 (its
//! "algorithm could not be instantiated at install time", see CryptoApplet.java).
//! Run with `cargo test -p oxicard-jcre --no-default-features --test no_crypto`.
#![cfg(not(feature = "crypto"))]
#![allow(clippy::unwrap_used)]

use oxicard_jcre::Card;
use oxicard_store::RamNvm;
mod common;

use common::{cap_path, load_file, GOLDEN};

const PACKAGE_AID: [u8; 6] = [0xF0, 0, 0, 0x01, 0x05, 0x00];
const APPLET_AID: [u8; 6] = [0xF0, 0, 0, 0x01, 0x05, 0x01];

/// Sends a command APDU; the status word.
fn status(card: &mut Card<RamNvm<{ 64 * 1024 }>>, apdu: &[u8]) -> u16 {
    let mut resp = [0u8; 300];
    let n = card.transmit(apdu, &mut resp).unwrap();
    assert_eq!(n, 2, "no data expected in answer to {apdu:02X?}");
    u16::from_be_bytes([resp[0], resp[1]])
}

#[test]
fn crypto_applet_loads_and_finds_no_algorithm() {
    common::in_thread(|| {
        let mut card = Box::new(Card::new(RamNvm::<{ 64 * 1024 }>::new()).unwrap());
        let cap = load_file(&format!("{GOLDEN}/{}", cap_path("F00000010500")));
        card.load_cap(&cap).unwrap();
        card.install(&PACKAGE_AID, &APPLET_AID, &APPLET_AID, &[])
            .unwrap();
        let mut select = vec![0x00, 0xA4, 0x04, 0x00, 6];
        select.extend_from_slice(&APPLET_AID);
        assert_eq!(status(&mut card, &select), 0x9000);
        // SHA-1, SHA-256, AES, DES3, HMAC, random, ECDSA, ECDH, RSA (INS 50..5C)
        for ins in 0x50..=0x5C {
            let apdu = [0x80, ins, 0x00, 0x00, 0x01, 0x00, 0x00];
            assert_eq!(status(&mut card, &apdu), 0x6A81, "INS {ins:02X}");
        }
    });
}
