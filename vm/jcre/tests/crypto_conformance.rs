//! The crypto conformance applet (applets/conformance/crypto) on the card: built at test
//! time (javac against the API stubs, then oxicard-convert), installed on a card whose
//! platform random source is a seeded test generator, and driven by
//! - its APDU script of published known answers (SHA, AES, TDES, HMAC, ECDSA P-256 verify,
//!   ECDH P-256 plain and SHA-1 forms, RSA-2048 PKCS#1 v1.5 with sign, verify and
//!   signPreComputedHash; InitializedMessageDigest continued from FIPS 180-4 intermediate
//!   hash values; the expected values are in the script),
//! - RSA key pairs generated on the card (genKeyPair) that sign on the card and verify
//!   off the card; ECDSA signPreComputedHash verified off and on the card,
//! - property tests through the Java API (encrypt then decrypt, sign then verify, ECDH
//!   symmetric between two on-card key pairs, on-card ECDSA signatures checked off-card),
//! - CryptoException reasons, `clearKey` checked on the NVM image, and the platform hook
//!   (no random source: ILLEGAL_USE; a seeded one: its exact output).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oxicard_crypto::digest::digest;
use oxicard_crypto::{CryptoEngine, HashAlg, RandomSource, SoftEngine, TestRandom};
use oxicard_jcre::crypto::Platform;
use oxicard_jcre::Card;
use oxicard_store::{Nvm, RamNvm};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const APPLET_DIR: &str = "applets/conformance/crypto";
const PACKAGE_AID: &str = "F00000030101";
const APPLET_AID: &str = "F0000003010101";
const NVM: usize = 256 * 1024;

/// The seed of the test random source.
const SEED: [u8; 32] = [0x5E; 32];

type TestCard = Card<RamNvm<NVM>>;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The applet's load file, built once per test binary: javac, then the converter.
fn load_file() -> &'static [u8] {
    static LOAD_FILE: OnceLock<Vec<u8>> = OnceLock::new();
    LOAD_FILE.get_or_init(|| {
        let repo = Path::new(REPO);
        let jar = repo.join("build/api/oxicard-api.jar");
        if !jar.exists() {
            let ok = Command::new("bash")
                .arg(repo.join("scripts/build-api.sh"))
                .status()
                .expect("bash runs")
                .success();
            assert!(ok, "scripts/build-api.sh failed");
        }
        let classes =
            std::env::temp_dir().join(format!("oxicard-crypto-conformance-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&classes);
        std::fs::create_dir_all(&classes).unwrap();
        let sources = repo
            .join(APPLET_DIR)
            .join("src/org/oxicard/conformance/crypto/CryptoConformance.java");
        let out = Command::new("javac")
            .args([
                "-nowarn",
                "-Xlint:-options",
                "-g",
                "-source",
                "7",
                "-target",
                "7",
            ])
            .args(["-encoding", "UTF-8", "-cp"])
            .arg(&jar)
            .arg("-d")
            .arg(&classes)
            .arg(&sources)
            .output()
            .expect("javac runs");
        assert!(
            out.status.success(),
            "javac: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = oxicard_convert::ConvertOptions {
            classdir: PathBuf::from(&classes),
            applets: vec![oxicard_convert::AppletSpec {
                aid: hex(APPLET_AID),
                class_name: "org.oxicard.conformance.crypto.CryptoConformance".into(),
            }],
            package_name: "org.oxicard.conformance.crypto".into(),
            package_aid: hex(PACKAGE_AID),
            version: (1, 0),
            ..Default::default()
        };
        let output = oxicard_convert::convert_package(&opts).expect("the applet converts");
        let _ = std::fs::remove_dir_all(&classes);
        output.load_file
    })
}

/// A card on `platform` with the applet installed and selected.
fn card_with(platform: Platform) -> Box<TestCard> {
    let mut card = Box::new(Card::with_platform(RamNvm::<NVM>::new(), platform).unwrap());
    card.load_cap(load_file()).unwrap();
    let aid = hex(APPLET_AID);
    card.install(&hex(PACKAGE_AID), &aid, &aid, &[]).unwrap();
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
    select.extend_from_slice(&aid);
    assert_eq!(send(&mut card, &select), (vec![], 0x9000));
    card
}

/// A card whose random source is a fresh [`TestRandom`] with [`SEED`].
fn seeded_card() -> Box<TestCard> {
    let rng: &'static TestRandom = Box::leak(Box::new(TestRandom::new(SEED)));
    card_with(Platform::soft(Some(rng)))
}

/// Sends a command APDU; (response data, status word).
fn send(card: &mut TestCard, apdu: &[u8]) -> (Vec<u8>, u16) {
    let mut resp = [0u8; 300];
    let n = card.transmit(apdu, &mut resp).unwrap();
    (
        resp[..n - 2].to_vec(),
        u16::from_be_bytes([resp[n - 2], resp[n - 1]]),
    )
}

/// Sends `80 ins p1 p2 [Lc data] 00`.
fn cmd(card: &mut TestCard, ins: u8, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
    let mut apdu = vec![0x80, ins, p1, p2];
    if !data.is_empty() {
        apdu.push(data.len() as u8);
        apdu.extend_from_slice(data);
    }
    apdu.push(0);
    send(card, &apdu)
}

/// `cmd` that must succeed; its data.
fn ok(card: &mut TestCard, ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
    let (d, sw) = cmd(card, ins, p1, p2, data);
    assert_eq!(sw, 0x9000, "INS {ins:02X} P1 {p1:02X} P2 {p2:02X}");
    d
}

fn s2(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Stages `data` at `off` (INS 10, in chunks of 255).
fn put(card: &mut TestCard, off: u16, data: &[u8]) {
    for (i, chunk) in data.chunks(255).enumerate() {
        let at = off + (i * 255) as u16;
        let mut apdu = vec![0x80, 0x10, (at >> 8) as u8, at as u8, chunk.len() as u8];
        apdu.extend_from_slice(chunk);
        assert_eq!(send(card, &apdu).1, 0x9000);
    }
}

// API constants and the applet's component numbers (see CryptoConformance.java)
const TYPE_RSA_PUBLIC: u8 = 4;
const TYPE_RSA_PRIVATE: u8 = 5;
const TYPE_RSA_CRT_PRIVATE: u8 = 6;
const TYPE_EC_FP_PUBLIC: u8 = 11;
const TYPE_EC_FP_PRIVATE: u8 = 12;
const TYPE_AES: u8 = 15;
const TYPE_HMAC: u8 = 21;
const AES_CBC: u8 = 13;
const AES_ECB: u8 = 14;
const ENCRYPT: u8 = 2;
const DECRYPT: u8 = 1;
const C_SECRET: u8 = 1;
const C_MODULUS: u8 = 2;
const C_EXPONENT: u8 = 3;
const C_S: u8 = 9;
const C_W: u8 = 10;
const SIG_ECDSA_SHA256: u8 = 33;
const SIG_HMAC_SHA256: u8 = 25;
const SIG_RSA_SHA256_PKCS1: u8 = 40;
const KA_EC_SVDP_DH_PLAIN: u8 = 3;
const CIPHER_RSA_PKCS1: u8 = 10;
const KEYS: u16 = 0x200;

fn build(card: &mut TestCard, slot: u8, ktype: u8, bits: u16) -> u16 {
    let mut data = vec![ktype];
    data.extend_from_slice(&bits.to_be_bytes());
    cmd(card, 0x30, slot, 0, &data).1
}

fn set_key(card: &mut TestCard, slot: u8, comp: u8, value: &[u8]) -> u16 {
    put(card, KEYS, value);
    cmd(card, 0x31, slot, comp, &s2(&[KEYS, value.len() as u16])).1
}

/// Replays the applet's APDU script `name` on `card`; (exchanges that matched, total,
/// failures).
fn replay_script(card: &mut TestCard, name: &str) -> (usize, usize, Vec<String>) {
    let path = Path::new(REPO).join(APPLET_DIR).join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut passed, mut total, mut failures) = (0, 0, Vec::new());
    let mut pending: Option<(usize, Vec<u8>)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap().trim();
        let Some(word) = line.split_whitespace().next() else {
            continue;
        };
        match word {
            // the test loads and installs the freshly built applet itself
            "load" | "install" => {}
            ">" => pending = Some((n + 1, hex(&line[1..]))),
            "<" => {
                let (at, command) = pending.take().expect("response without command");
                let expected = hex(&line[1..]);
                let mut resp = [0u8; 300];
                let got = card
                    .transmit(&command, &mut resp)
                    .map(|n| resp[..n].to_vec());
                total += 1;
                match got {
                    Ok(r) if r == expected => passed += 1,
                    other => failures.push(format!(
                        "line {at}: expected {} got {:?}",
                        hexs(&expected),
                        other.map(|r| hexs(&r))
                    )),
                }
            }
            other => panic!("{}: line {}: unknown item {other}", path.display(), n + 1),
        }
    }
    (passed, total, failures)
}

#[test]
fn known_answers_through_the_java_api() {
    common::in_thread(|| {
        let mut card = seeded_card();
        let (passed, total, failures) = replay_script(&mut card, "crypto.apdu");
        eprintln!("crypto conformance script: {passed}/{total} exchanges pass");
        assert!(total > 350, "the script has its vectors ({total})");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

/// Cipher ISO 9797-1 M1/M2 and PKCS#5 paddings for AES and TDES, CBC and ECB (the
/// standards' padding applied to SP 800-38A plaintexts, encrypted by OpenSSL), with
/// update + doFinal splits, bad padding and unaligned ciphertext; Signature
/// ALG_AES_CMAC_128 (RFC 4493, SP 800-38B D.3) and ALG_AES_MAC_128_NOPAD (CBC-MAC against
/// OpenSSL's CBC); InitializedMessageDigest SHA-224 and SHA-384 (the SHA-1, SHA-256 and
/// SHA-512 ones are in crypto.apdu): crypto-padding.apdu.
#[test]
fn cipher_paddings_through_the_java_api() {
    common::in_thread(|| {
        let mut card = seeded_card();
        let (passed, total, failures) = replay_script(&mut card, "crypto-padding.apdu");
        eprintln!("crypto padding script: {passed}/{total} exchanges pass");
        assert!(total > 410, "the script has its vectors ({total})");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

/// Padded Ciphers (ISO 9797-1 M1/M2, PKCS#5; AES and TDES, CBC and ECB) and AES MACs on
/// random keys, messages and update/doFinal splits: decryption gives the message back
/// (M1: with its zero padding), the ciphertext is the padded length, and a MAC does not
/// depend on how the message was split.
#[test]
fn padding_and_mac_properties_through_the_java_api() {
    common::in_thread(|| {
        // (Cipher alg, AES?, padding: 1 = M1, 2 = M2, 3 = PKCS#5)
        const PADDED: [(u8, bool, u8); 12] = [
            (22, true, 1),
            (23, true, 2),
            (24, true, 3),
            (25, true, 1),
            (26, true, 2),
            (27, true, 3),
            (2, false, 1),
            (3, false, 2),
            (4, false, 3),
            (6, false, 1),
            (7, false, 2),
            (8, false, 3),
        ];
        let mut card = seeded_card();
        build(&mut card, 0, TYPE_AES, 256);
        build(&mut card, 1, 3, 192); // TYPE_DES, 3-key TDEA
        let config = ProptestConfig {
            cases: 32,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let card = std::cell::RefCell::new(card);
        proptest!(config, |(
            key in proptest::collection::vec(any::<u8>(), 32),
            iv in proptest::collection::vec(any::<u8>(), 16),
            which in 0usize..12,
            msg in proptest::collection::vec(any::<u8>(), 0..120),
            split in 0usize..120,
            split2 in 0usize..120,
        )| {
            let mut card = card.borrow_mut();
            let card = &mut **card;
            let (alg, aes, pad) = PADDED[which];
            let (slot, bs) = if aes { (0u8, 16usize) } else { (1, 8) };
            prop_assert_eq!(set_key(card, slot, C_SECRET, &key[..if aes { 32 } else { 24 }]), 0x9000);
            let cbc = matches!(alg, 2..=4 | 22..=24);
            let ivlen = if cbc { bs as u16 } else { 0 };
            put(card, 0x1F0, &iv[..bs]);
            put(card, 0, &msg);
            let split = split.min(msg.len()) as u16;
            let mut data = vec![ENCRYPT];
            data.extend(s2(&[0x1F0, ivlen, 0, msg.len() as u16, split]));
            let ct = ok(card, 0x40, slot, alg, &data);
            let padded = match pad {
                1 => msg.len().div_ceil(bs).max(1) * bs,
                _ => (msg.len() / bs + 1) * bs,
            };
            prop_assert_eq!(ct.len(), padded);
            put(card, 0, &ct);
            let cut = (split as usize / bs * bs).min(ct.len()) as u16;
            let mut data = vec![DECRYPT];
            data.extend(s2(&[0x1F0, ivlen, 0, ct.len() as u16, cut]));
            let back = ok(card, 0x40, slot, alg, &data);
            let mut want = msg.clone();
            if pad == 1 {
                want.resize(padded, 0);
            }
            prop_assert_eq!(back, want);
            // AES-CMAC and (block-aligned) CBC-MAC: the tag does not depend on the split
            prop_assert_eq!(set_key(card, 0, C_SECRET, &key), 0x9000);
            put(card, 0, &msg);
            let split2 = split2.min(msg.len()) as u16;
            let len = msg.len() as u16;
            let t1 = ok(card, 0x41, 0, 49, &s2(&[0, len, split]));
            let t2 = ok(card, 0x41, 0, 49, &s2(&[0, len, split2]));
            prop_assert_eq!(t1.len(), 16);
            prop_assert_eq!(&t1, &t2);
            put(card, 0x180, &t1);
            prop_assert_eq!(ok(card, 0x42, 0, 49, &s2(&[0, len, 0x180, 16])), vec![1]);
            let aligned = len / 16 * 16;
            if aligned > 0 {
                let m1 = ok(card, 0x41, 0, 18, &s2(&[0, aligned, split.min(aligned)]));
                let m2 = ok(card, 0x41, 0, 18, &s2(&[0, aligned, split2.min(aligned)]));
                prop_assert_eq!(m1, m2);
            }
        });
    });
}

/// The script's RSA key pair, left in slots 4 (public) and 5 (CRT private).
fn card_after_script() -> Box<TestCard> {
    let mut card = seeded_card();
    let (_, _, failures) = replay_script(&mut card, "crypto.apdu");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    card
}

/// Decodes a DER ECDSA signature to r || s (positive INTEGERs, short form).
fn der_to_rs(der: &[u8]) -> [u8; 64] {
    assert_eq!(der[0], 0x30);
    assert_eq!(der[1] as usize, der.len() - 2);
    let mut rs = [0u8; 64];
    let mut at = 2;
    for half in rs.chunks_mut(32) {
        assert_eq!(der[at], 0x02);
        let len = der[at + 1] as usize;
        let v = &der[at + 2..at + 2 + len];
        let v = if v.len() == 33 { &v[1..] } else { v };
        half[32 - v.len()..].copy_from_slice(v);
        at += 2 + len;
    }
    rs
}

#[test]
fn properties_through_the_java_api() {
    common::in_thread(|| {
        let mut card = card_after_script();
        build(&mut card, 0, TYPE_AES, 256);
        build(&mut card, 1, TYPE_HMAC, 512);
        for slot in [2, 6] {
            build(&mut card, slot, TYPE_EC_FP_PUBLIC, 256);
            build(&mut card, slot + 1, TYPE_EC_FP_PRIVATE, 256);
        }
        let config = ProptestConfig {
            cases: 24,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let card = std::cell::RefCell::new(card);
        proptest!(config, |(
            key in proptest::collection::vec(any::<u8>(), 32),
            iv in proptest::collection::vec(any::<u8>(), 16),
            blocks in 1usize..12,
            split_blocks in 0usize..12,
            msg in proptest::collection::vec(any::<u8>(), 0..300),
            split in 0usize..300,
        )| {
            let mut card = card.borrow_mut();
            let card = &mut **card;
            let split = split.min(msg.len()) as u16;
            // AES-256 ECB and CBC: encrypt then decrypt gives the plaintext back
            prop_assert_eq!(set_key(card, 0, C_SECRET, &key), 0x9000);
            put(card, 0x1F0, &iv);
            let pt: Vec<u8> = msg.iter().copied().cycle().take(16 * blocks).collect();
            let pt = if pt.len() == 16 * blocks { pt } else { vec![0xA5; 16 * blocks] };
            let cut = (16 * split_blocks.min(blocks)) as u16;
            for (alg, ivlen) in [(AES_ECB, 0u16), (AES_CBC, 16)] {
                put(card, 0, &pt);
                let mut data = vec![ENCRYPT];
                data.extend(s2(&[0x1F0, ivlen, 0, pt.len() as u16, cut]));
                let ct = ok(card, 0x40, 0, alg, &data);
                prop_assert_eq!(ct.len(), pt.len());
                prop_assert_ne!(&ct, &pt);
                put(card, 0, &ct);
                data[0] = DECRYPT;
                prop_assert_eq!(ok(card, 0x40, 0, alg, &data), pt.clone());
            }
            // HMAC-SHA-256: sign then verify; a flipped MAC does not verify
            put(card, 0, &msg);
            prop_assert_eq!(set_key(card, 1, C_SECRET, &key), 0x9000);
            let mac = ok(card, 0x41, 1, SIG_HMAC_SHA256, &s2(&[0, msg.len() as u16, split]));
            put(card, 0x180, &mac);
            let verify = s2(&[0, msg.len() as u16, 0x180, mac.len() as u16]);
            prop_assert_eq!(ok(card, 0x42, 1, SIG_HMAC_SHA256, &verify), vec![1]);
            put(card, 0x180, &[mac[0] ^ 0x01]);
            prop_assert_eq!(ok(card, 0x42, 1, SIG_HMAC_SHA256, &verify), vec![0]);
            // RSA-2048 (the script's key): sign then verify
            let sig = ok(card, 0x41, 5, SIG_RSA_SHA256_PKCS1, &s2(&[0, msg.len() as u16, split]));
            prop_assert_eq!(sig.len(), 256);
            put(card, 0x180, &sig);
            let verify = s2(&[0, msg.len() as u16, 0x180, 256]);
            prop_assert_eq!(ok(card, 0x42, 4, SIG_RSA_SHA256_PKCS1, &verify), vec![1]);
            // RSA-2048 Cipher PKCS#1: public-key encryption (random padding) then
            // private-key decryption gives the message back
            let m = &msg[..msg.len().min(245)];
            put(card, 0, m);
            let mut data = vec![ENCRYPT];
            data.extend(s2(&[0, 0, 0, m.len() as u16, 0]));
            let ct = ok(card, 0x40, 4, CIPHER_RSA_PKCS1, &data);
            prop_assert_eq!(ct.len(), 256);
            put(card, 0, &ct);
            data = vec![DECRYPT];
            data.extend(s2(&[0, 0, 0, 256, 0]));
            prop_assert_eq!(ok(card, 0x40, 5, CIPHER_RSA_PKCS1, &data), m.to_vec());
            // EC P-256: two on-card key pairs; ECDSA sign then verify (on card and off
            // card), ECDH agreement symmetric
            put(card, 0, &msg);
            ok(card, 0x35, 2, 3, &[]);
            ok(card, 0x35, 6, 7, &[]);
            let der = ok(card, 0x41, 3, SIG_ECDSA_SHA256, &s2(&[0, msg.len() as u16, split]));
            put(card, 0x180, &der);
            let verify = s2(&[0, msg.len() as u16, 0x180, der.len() as u16]);
            prop_assert_eq!(ok(card, 0x42, 2, SIG_ECDSA_SHA256, &verify), vec![1]);
            prop_assert_eq!(ok(card, 0x42, 6, SIG_ECDSA_SHA256, &verify), vec![0]);
            let w = ok(card, 0x32, 2, C_W, &[]);
            let mut hash = [0u8; 32];
            digest(&SoftEngine, HashAlg::Sha256, &msg, &mut hash).unwrap();
            prop_assert!(SoftEngine.p256_verify(&w, &hash, &der_to_rs(&der)).unwrap());
            let w2 = ok(card, 0x32, 6, C_W, &[]);
            put(card, 0x300, &w2);
            let z1 = ok(card, 0x50, 3, KA_EC_SVDP_DH_PLAIN, &s2(&[0x300, 65]));
            put(card, 0x300, &w);
            let z2 = ok(card, 0x50, 7, KA_EC_SVDP_DH_PLAIN, &s2(&[0x300, 65]));
            prop_assert_eq!(z1.len(), 32);
            prop_assert_eq!(z1, z2);
        });
    });
}

/// InitializedMessageDigest on random messages, algorithms, block counts, byte-count
/// encodings and update splits: setInitialDigest with the intermediate hash value after
/// the first whole blocks (from the engine's compression function, whose known answers
/// kat.rs checks), then the rest, gives the one-shot digest of the whole message.
#[test]
fn initialized_message_digest_continues_any_prefix() {
    common::in_thread(|| {
        // (MessageDigest algorithm number, hash)
        const ALGS: [(u8, HashAlg); 5] = [
            (1, HashAlg::Sha1),
            (7, HashAlg::Sha224),
            (4, HashAlg::Sha256),
            (5, HashAlg::Sha384),
            (6, HashAlg::Sha512),
        ];
        let card = std::cell::RefCell::new(seeded_card());
        let config = ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(
            msg in proptest::collection::vec(any::<u8>(), 128..600),
            which in 0usize..5,
            blocks in 1usize..5,
            count_len in 2usize..=16,
            split in 0usize..600,
        )| {
            let mut card = card.borrow_mut();
            let card = &mut **card;
            let (alg, h) = ALGS[which];
            let b = h.block_len();
            let hashed = (blocks * b).min(msg.len() / b * b);
            // the intermediate hash value: the initial value (a fresh context's saved
            // chain), then the compression function over the first `hashed` bytes
            let mut saved = [0u8; 256];
            oxicard_crypto::digest::DigestCtx::new(h).save(&mut saved).unwrap();
            let mut chain = saved[..h.chain_len()].to_vec();
            SoftEngine.compress(h, &mut chain, &msg[..hashed]).unwrap();
            let count = (hashed as u128).to_be_bytes();
            put(card, 0, &msg);
            put(card, 0x300, &chain);
            put(card, 0x380, &count[16 - count_len..]);
            let rest = (msg.len() - hashed) as u16;
            let split = (split as u16).min(rest);
            let data = s2(&[
                0x300,
                chain.len() as u16,
                0x380,
                count_len as u16,
                hashed as u16,
                rest,
                split,
            ]);
            let got = ok(card, 0x21, alg, 0, &data);
            let mut want = [0u8; 64];
            let n = digest(&SoftEngine, h, &msg, &mut want).unwrap();
            prop_assert_eq!(got, want[..n].to_vec());
        });
    });
}

/// Argument or result words of a JVM type descriptor list (int: 2, void: 0, others: 1).
fn descriptor_words(types: &str) -> u8 {
    let (mut words, mut chars) = (0, types.chars());
    while let Some(c) = chars.next() {
        match c {
            'V' => {}
            'I' => words += 2,
            '[' => {
                words += 1;
                // the element type belongs to the array
                match chars.next() {
                    Some('L') => while chars.next().is_some_and(|c| c != ';') {},
                    Some('[') => panic!("no multi-dimensional arrays in the API"),
                    _ => {}
                }
            }
            'L' => {
                words += 1;
                while chars.next().is_some_and(|c| c != ';') {}
            }
            _ => words += 1,
        }
    }
    words
}

/// The crypto classes of the runtime's API catalog against the Java Card 3.0.5 export
/// tokens (../shared/spec/api-tokens.tsv, from Oracle's export files): every static method,
/// constructor and virtual method of a 3.0.4/3.0.5 class the catalog implements resolves,
/// and the crypto natives take and return the words its descriptor says.
#[test]
fn crypto_catalog_matches_the_api_export_tokens() {
    use oxicard_jcre::api::CATALOG;
    use oxicard_jcre::crypto::catalog::{NATIVE_BASE, PKG_CRYPTOX, PKG_SECURITY};
    // known gaps: entries of the 3.0.5 export the catalog does not have yet
    const MISSING: [(&str, &str); 1] = [("KeyBuilder", "buildKeyWithSharedDomain")];
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/spec/api-tokens.tsv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let (mut checked, mut problems) = (0, Vec::new());
    for row in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = row.split('\t').collect();
        let [package, class, class_token, kind, name, desc, token, _, _, _, since, ..] = f[..]
        else {
            continue;
        };
        let pkg = match package {
            "javacard.security" => PKG_SECURITY,
            "javacardx.crypto" => PKG_CRYPTOX,
            _ => continue,
        };
        if !matches!(since, "3.0.4" | "3.0.5")
            || MISSING.contains(&(class, name))
            || !matches!(kind, "static_method" | "constructor" | "virtual_method")
        {
            continue;
        }
        let (class_token, token): (u8, u8) = (class_token.parse().unwrap(), token.parse().unwrap());
        let Some(id) = CATALOG.find_class(pkg, class_token) else {
            continue; // a class the card does not implement
        };
        let what = format!("{class}.{name}{desc} (token {token})");
        let (args, ret) = desc[1..].split_once(')').unwrap();
        let (mut nargs, ret_words) = (descriptor_words(args), descriptor_words(ret));
        if kind != "static_method" {
            nargs += 1; // this
        }
        let native = if kind == "virtual_method" {
            CATALOG
                .class(id)
                .unwrap()
                .vtable
                .get(token as usize)
                .copied()
        } else {
            CATALOG.find_static(pkg, class_token, token)
        };
        checked += 1;
        match native {
            None => problems.push(format!("{what}: not in the catalog")),
            // framework natives (equals, Object.<init>, the exception reason) are shared
            Some(n) if n < NATIVE_BASE => {}
            Some(n) => {
                let sig = CATALOG.natives[n as usize];
                if (sig.nargs, sig.ret_words) != (nargs, ret_words) {
                    problems.push(format!(
                        "{what}: native {n} takes {} words and returns {}, the descriptor says {nargs} and {ret_words}",
                        sig.nargs, sig.ret_words
                    ));
                }
            }
        }
    }
    assert!(checked > 60, "{checked} entries checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn crypto_exception_reasons() {
    common::in_thread(|| {
        let mut card = seeded_card();
        // NO_SUCH_ALGORITHM: algorithms and key sizes we do not implement
        assert_eq!(cmd(&mut card, 0x20, 2, 0, &s2(&[0, 0, 0])).1, 0x6F03, "MD5");
        assert_eq!(
            cmd(&mut card, 0x60, 0x7F, 8, &[]).1,
            0x6F03,
            "RandomData 127"
        );
        assert_eq!(build(&mut card, 0, TYPE_AES, 100), 0x6F03, "AES-100");
        assert_eq!(build(&mut card, 0, 16, 128), 0x6F03, "TYPE_KOREAN_SEED");
        assert_eq!(build(&mut card, 0, TYPE_EC_FP_PUBLIC, 384), 0x6F03, "P-384");
        build(&mut card, 1, TYPE_HMAC, 512);
        set_key(&mut card, 1, C_SECRET, b"key");
        assert_eq!(
            cmd(&mut card, 0x41, 1, 14, &s2(&[0, 0, 0])).1,
            0x6F03,
            "DSA"
        );
        for (alg, what) in [(2, "ALG_DES_MAC8_NOPAD"), (35, "ALG_AES_MAC_192_NOPAD")] {
            assert_eq!(
                cmd(&mut card, 0x41, 1, alg, &s2(&[0, 0, 0])).1,
                0x6F03,
                "{what}"
            );
        }
        build(&mut card, 2, TYPE_EC_FP_PRIVATE, 256);
        for (alg, what) in [(2, "ALG_EC_SVDP_DHC"), (6, "ALG_EC_SVDP_DH_PLAIN_XY")] {
            assert_eq!(
                cmd(&mut card, 0x50, 2, alg, &s2(&[0, 65])).1,
                0x6F03,
                "{what}"
            );
        }
        for (alg, what) in [
            (9, "ALG_RSA_ISO14888"),
            (15, "ALG_RSA_PKCS1_OAEP"),
            (17, "ALG_KOREAN_SEED_CBC_NOPAD"),
            (18, "ALG_AES_BLOCK_192_CBC_NOPAD"),
        ] {
            let data = [&[ENCRYPT][..], &s2(&[0, 0, 0, 16, 0])].concat();
            assert_eq!(cmd(&mut card, 0x40, 1, alg, &data).1, 0x6F03, "{what}");
        }
        // UNINITIALIZED_KEY: a key used before it is set, or after clearKey
        assert_eq!(build(&mut card, 0, TYPE_AES, 128), 0x9000);
        let enc = [&[ENCRYPT][..], &s2(&[0, 0, 0, 16, 0])].concat();
        assert_eq!(cmd(&mut card, 0x40, 0, AES_ECB, &enc).1, 0x6F02);
        assert_eq!(cmd(&mut card, 0x32, 0, C_SECRET, &[]).1, 0x6F02, "getKey");
        set_key(&mut card, 0, C_SECRET, &[7; 16]);
        assert_eq!(cmd(&mut card, 0x40, 0, AES_ECB, &enc).1, 0x9000);
        assert_eq!(ok(&mut card, 0x34, 0, 0, &[]), vec![1, 0, 128, TYPE_AES]);
        ok(&mut card, 0x33, 0, 0, &[]);
        assert_eq!(ok(&mut card, 0x34, 0, 0, &[]), vec![0, 0, 128, TYPE_AES]);
        assert_eq!(cmd(&mut card, 0x40, 0, AES_ECB, &enc).1, 0x6F02);
        // ILLEGAL_VALUE: a key of the wrong kind for the engine, a W that is not a point
        // encoding; ILLEGAL_USE: NOPAD input that is not block aligned
        assert_eq!(
            cmd(&mut card, 0x40, 1, AES_ECB, &enc).1,
            0x6F01,
            "AES with HMAC key"
        );
        build(&mut card, 2, TYPE_EC_FP_PUBLIC, 256);
        assert_eq!(
            set_key(&mut card, 2, C_W, &[0x07; 65]),
            0x6F01,
            "W not 04||X||Y"
        );
        set_key(&mut card, 0, C_SECRET, &[7; 16]);
        let short = [&[ENCRYPT][..], &s2(&[0, 0, 0, 15, 0])].concat();
        assert_eq!(cmd(&mut card, 0x40, 0, AES_ECB, &short).1, 0x6F05);
        // a public key cannot sign
        build(&mut card, 3, TYPE_RSA_PUBLIC, 2048);
        assert_eq!(
            cmd(&mut card, 0x41, 2, SIG_ECDSA_SHA256, &s2(&[0, 0, 0])).1,
            0x6F01
        );
    });
}

/// Whether `needle` occurs in `region`.
fn contains(region: &[u8], needle: &[u8]) -> bool {
    region.windows(needle.len()).any(|w| w == needle)
}

/// (heap and runtime area, undo journal) of the card's NVM image.
fn image(card: &mut TestCard) -> (Vec<u8>, Vec<u8>) {
    let image = card.nvm_mut().as_slice().unwrap();
    let (heap, journal) = image.split_at(image.len() - oxicard_vm::journal::JOURNAL_BYTES);
    (heap.to_vec(), journal.to_vec())
}

#[test]
fn clear_key_erases_the_key_bytes_from_the_nvm_image() {
    common::in_thread(|| {
        let mut card = seeded_card();
        let aes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0xC3).collect();
        let hmac: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(91) ^ 0x5A).collect();
        let s = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
        build(&mut card, 0, TYPE_AES, 256);
        build(&mut card, 1, TYPE_HMAC, 512);
        build(&mut card, 2, TYPE_EC_FP_PRIVATE, 256);
        assert_eq!(set_key(&mut card, 0, C_SECRET, &aes), 0x9000);
        assert_eq!(set_key(&mut card, 1, C_SECRET, &hmac), 0x9000);
        assert_eq!(set_key(&mut card, 2, C_S, &s), 0x9000);
        // the stage is transient (RAM): overwrite it so only the keys hold these bytes
        put(&mut card, KEYS, &[0; 64]);
        let secrets = [&aes[..], &hmac[..], &s[..]];
        let (heap, _) = image(&mut card);
        for secret in secrets {
            assert!(contains(&heap, secret), "persistent key in NVM");
        }
        for slot in 0..3 {
            ok(&mut card, 0x33, slot, 0, &[]);
            assert_eq!(ok(&mut card, 0x34, slot, 0, &[])[0], 0, "not initialized");
        }
        let (heap, journal) = image(&mut card);
        for secret in secrets {
            let half = &secret[..secret.len() / 2];
            assert!(
                !contains(&heap, half),
                "clearKey left key bytes in the heap: {}",
                hexs(half)
            );
        }
        // the undo journal kept the old bytes of the command's writes (the keys clearKey
        // zeroed) until the checkpoint that ended the command scrubbed it
        for secret in secrets {
            let half = &secret[..secret.len() / 2];
            assert!(
                !contains(&journal, half),
                "clearKey left key bytes in the NVM undo journal: {}",
                hexs(half)
            );
        }
        // a secret key overwritten by setKey: the old value does not stay in the journal
        let old_key: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(53) ^ 0x3C).collect();
        assert_eq!(set_key(&mut card, 0, C_SECRET, &old_key), 0x9000);
        assert_eq!(set_key(&mut card, 0, C_SECRET, &[0x11; 32]), 0x9000);
        put(&mut card, KEYS, &[0; 64]);
        let (heap, journal) = image(&mut card);
        assert!(!contains(&heap, &old_key[..16]));
        assert!(
            !contains(&journal, &old_key[..16]),
            "setKey left the replaced key in the NVM undo journal"
        );
    });
}

/// `Signature.signPreComputedHash` for ECDSA (randomized, so checked by verification): the
/// RFC 6979 A.2.5 private key x signs SHA-256("sample") given as a hash; the signature
/// verifies off card under the published public key U and on card through
/// ALG_ECDSA_SHA_256 over the message itself. HMAC does not take a precomputed hash.
#[test]
fn ecdsa_sign_precomputed_hash() {
    common::in_thread(|| {
        let x = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
        let u = hex(
            "04 60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
             7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
        );
        let mut card = seeded_card();
        build(&mut card, 0, TYPE_EC_FP_PRIVATE, 256);
        build(&mut card, 1, TYPE_EC_FP_PUBLIC, 256);
        assert_eq!(set_key(&mut card, 0, C_S, &x), 0x9000);
        assert_eq!(set_key(&mut card, 1, C_W, &u), 0x9000);
        let mut hash = [0u8; 32];
        digest(&SoftEngine, HashAlg::Sha256, b"sample", &mut hash).unwrap();
        put(&mut card, 0x300, &hash);
        let mut seen = Vec::new();
        for _ in 0..3 {
            let der = ok(&mut card, 0x43, 0, SIG_ECDSA_SHA256, &s2(&[0x300, 32]));
            assert!(SoftEngine.p256_verify(&u, &hash, &der_to_rs(&der)).unwrap());
            put(&mut card, 0, b"sample");
            put(&mut card, 0x100, &der);
            let verify = s2(&[0, 6, 0x100, der.len() as u16]);
            assert_eq!(ok(&mut card, 0x42, 1, SIG_ECDSA_SHA256, &verify), vec![1]);
            seen.push(der);
        }
        assert_ne!(seen[0], seen[1], "randomized nonces");
        // a hash of the wrong length, and HMAC: ILLEGAL_USE
        assert_eq!(
            cmd(&mut card, 0x43, 0, SIG_ECDSA_SHA256, &s2(&[0x300, 20])).1,
            0x6F05
        );
        build(&mut card, 2, TYPE_HMAC, 256);
        set_key(&mut card, 2, C_SECRET, b"key");
        assert_eq!(
            cmd(&mut card, 0x43, 2, SIG_HMAC_SHA256, &s2(&[0x300, 32])).1,
            0x6F05
        );
    });
}

/// `KeyPair.genKeyPair` for RSA: keys generated on the card (CRT and plain private forms,
/// 1024 and 2048 bits) sign on the card; the signature verifies off the card under the
/// modulus and exponent read out through `RSAPublicKey.getModulus/getExponent`.
#[test]
fn rsa_key_pairs_generated_on_card_sign_and_verify_off_card() {
    common::in_thread(|| {
        use oxicard_crypto::rsa::pkcs1_verify;
        let mut card = seeded_card();
        let msg = b"genKeyPair then sign on card, verify off card";
        let mut moduli = Vec::new();
        for (bits, private_type) in [
            (1024u16, TYPE_RSA_CRT_PRIVATE),
            (1024, TYPE_RSA_PRIVATE),
            (2048, TYPE_RSA_CRT_PRIVATE),
        ] {
            assert_eq!(build(&mut card, 0, TYPE_RSA_PUBLIC, bits), 0x9000);
            assert_eq!(build(&mut card, 1, private_type, bits), 0x9000);
            assert_eq!(ok(&mut card, 0x34, 1, 0, &[])[0], 0, "not yet initialized");
            ok(&mut card, 0x35, 0, 1, &[]);
            assert_eq!(ok(&mut card, 0x34, 0, 0, &[])[0], 1, "public key set");
            assert_eq!(ok(&mut card, 0x34, 1, 0, &[])[0], 1, "private key set");
            let n = ok(&mut card, 0x32, 0, C_MODULUS, &[]);
            let e = ok(&mut card, 0x32, 0, C_EXPONENT, &[]);
            assert_eq!(n.len(), bits as usize / 8);
            assert!(n[0] & 0x80 != 0, "full-length modulus");
            assert_eq!(e, vec![1, 0, 1]);
            put(&mut card, 0, msg);
            let sig = ok(
                &mut card,
                0x41,
                1,
                SIG_RSA_SHA256_PKCS1,
                &s2(&[0, msg.len() as u16, 7]),
            );
            assert_eq!(sig.len(), n.len());
            let mut hash = [0u8; 32];
            digest(&SoftEngine, HashAlg::Sha256, msg, &mut hash).unwrap();
            assert!(
                pkcs1_verify(&SoftEngine, &n, &e, HashAlg::Sha256, &hash, &sig).unwrap(),
                "{bits}-bit signature verifies off card"
            );
            let mut other = hash;
            other[0] ^= 1;
            assert!(!pkcs1_verify(&SoftEngine, &n, &e, HashAlg::Sha256, &other, &sig).unwrap());
            moduli.push(n);
        }
        assert_ne!(moduli[0], moduli[1], "each genKeyPair makes a new key");
        // a public exponent set beforehand must be the one we generate for
        build(&mut card, 0, TYPE_RSA_PUBLIC, 1024);
        build(&mut card, 1, TYPE_RSA_CRT_PRIVATE, 1024);
        assert_eq!(set_key(&mut card, 0, C_EXPONENT, &[3]), 0x9000);
        assert_eq!(cmd(&mut card, 0x35, 0, 1, &[]).1, 0x6F01);
        // sizes we do not generate
        build(&mut card, 0, TYPE_RSA_PUBLIC, 4096);
        build(&mut card, 1, TYPE_RSA_CRT_PRIVATE, 4096);
        assert_eq!(cmd(&mut card, 0x35, 0, 1, &[]).1, 0x6F03);
        // no random source: ILLEGAL_USE
        let mut card = card_with(Platform::soft(None));
        build(&mut card, 0, TYPE_RSA_PUBLIC, 1024);
        build(&mut card, 1, TYPE_RSA_CRT_PRIVATE, 1024);
        assert_eq!(cmd(&mut card, 0x35, 0, 1, &[]).1, 0x6F05);
    });
}

#[test]
fn random_data_comes_from_the_platform_source() {
    common::in_thread(|| {
        // no random source (a board without a TRNG): ILLEGAL_USE, for RandomData, key
        // generation and ECDSA signing alike
        let mut card = card_with(Platform::soft(None));
        assert_eq!(cmd(&mut card, 0x60, 2, 16, &[]).1, 0x6F05);
        build(&mut card, 2, TYPE_EC_FP_PUBLIC, 256);
        build(&mut card, 3, TYPE_EC_FP_PRIVATE, 256);
        assert_eq!(cmd(&mut card, 0x35, 2, 3, &[]).1, 0x6F05);
        // a seeded source: RandomData returns exactly its output
        let mut card = seeded_card();
        let got = ok(&mut card, 0x60, 2, 48, &[]);
        let mut want = [0u8; 48];
        TestRandom::new(SEED).fill(&mut want).unwrap();
        assert_eq!(got, want);
        // a second call continues the stream
        let got2 = ok(&mut card, 0x60, 2, 32, &[]);
        assert_ne!(got2[..], want[..32]);
    });
}

/// Mean time of `f` over `n` runs, in microseconds.
fn time_us(n: u32, mut f: impl FnMut()) -> f64 {
    let start = std::time::Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

/// Figures for the closing note (run with `--release -- --ignored --nocapture`):
/// host time of ECDSA P-256 sign and verify, RSA-2048 sign and AES-128 per KB, through
/// the Java API on the VM (one APDU each, applet dispatch included) and directly on
/// oxicard-crypto.
#[test]
#[ignore = "timing figures; run in release with --ignored --nocapture"]
fn figures() {
    common::in_thread(|| {
        use oxicard_crypto::{ec, BlockAlg};
        let mut card = card_after_script();
        let msg = [0x61u8; 64];
        put(&mut card, 0, &msg);
        build(&mut card, 2, TYPE_EC_FP_PUBLIC, 256);
        build(&mut card, 3, TYPE_EC_FP_PRIVATE, 256);
        ok(&mut card, 0x35, 2, 3, &[]);
        let der = ok(&mut card, 0x41, 3, SIG_ECDSA_SHA256, &s2(&[0, 64, 0]));
        put(&mut card, 0x180, &der);
        let verify = s2(&[0, 64, 0x180, der.len() as u16]);
        build(&mut card, 0, TYPE_AES, 128);
        set_key(&mut card, 0, C_SECRET, &[7; 16]);
        put(&mut card, 0x300, &[0x42; 256]);
        let aes = [&[ENCRYPT][..], &s2(&[0, 0, 0x300, 256, 0])].concat();
        let (n_ec, n_rsa, n_aes) = (50, 20, 200);
        let vm_sign = time_us(n_ec, || {
            ok(&mut card, 0x41, 3, SIG_ECDSA_SHA256, &s2(&[0, 64, 0]));
        });
        let vm_verify = time_us(n_ec, || {
            ok(&mut card, 0x42, 2, SIG_ECDSA_SHA256, &verify);
        });
        let vm_rsa = time_us(n_rsa, || {
            ok(&mut card, 0x41, 5, SIG_RSA_SHA256_PKCS1, &s2(&[0, 64, 0]));
        });
        // a response holds at most 256 bytes: a KB is four APDUs
        let vm_aes = time_us(n_aes, || {
            for _ in 0..4 {
                assert_eq!(ok(&mut card, 0x40, 0, AES_ECB, &aes).len(), 256);
            }
        });
        // directly on oxicard-crypto
        let rng = TestRandom::new(SEED);
        let (mut sk, mut pk) = ([0u8; 32], [0u8; 65]);
        ec::p256_generate(&SoftEngine, &rng, &mut sk, &mut pk).unwrap();
        let mut hash = [0u8; 32];
        digest(&SoftEngine, HashAlg::Sha256, &msg, &mut hash).unwrap();
        let mut rs = [0u8; 64];
        let rs_sign = time_us(n_ec, || {
            SoftEngine.p256_sign(&sk, &hash, &rng, &mut rs).unwrap();
        });
        let rs_verify = time_us(n_ec, || {
            assert!(SoftEngine.p256_verify(&pk, &hash, &rs).unwrap());
        });
        let mut data = [0x42u8; 1024];
        let rs_aes = time_us(n_aes, || {
            SoftEngine
                .block_cipher(BlockAlg::Aes, &[7; 16], true, None, &mut data)
                .unwrap();
        });
        eprintln!("figure                 VM (Java API)   Rust direct   ratio");
        eprintln!(
            "ECDSA P-256 sign    {vm_sign:>10.0} us {rs_sign:>10.0} us {:>7.2}",
            vm_sign / rs_sign
        );
        eprintln!(
            "ECDSA P-256 verify  {vm_verify:>10.0} us {rs_verify:>10.0} us {:>7.2}",
            vm_verify / rs_verify
        );
        eprintln!("RSA-2048 sign (CRT) {vm_rsa:>10.0} us   (direct: see oxicard-crypto)");
        eprintln!(
            "AES-128 ECB per KB  {vm_aes:>10.1} us {rs_aes:>10.1} us {:>7.2}",
            vm_aes / rs_aes
        );
    });
}
