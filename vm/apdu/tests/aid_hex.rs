//! AIDs (5 to 16 bytes, RID + PIX) using the golden package and applet AIDs of
//! /work/shared/golden/README.md section 1, and the hex syntax host tools read.
#![allow(clippy::unwrap_used)] // tests fail by panicking

use std::collections::BTreeSet;
use std::str::FromStr;

use oxicard_apdu::hex::{self, Hex};
use oxicard_apdu::{Aid, ErrorKind, Part};

#[test]
fn golden_aids_parse_and_display() {
    let applet = Aid::from_hex("F00000010101").unwrap();
    assert_eq!(applet.as_bytes(), &[0xF0, 0x00, 0x00, 0x01, 0x01, 0x01]);
    assert_eq!(applet.rid(), &[0xF0, 0x00, 0x00, 0x01, 0x01]);
    assert_eq!(applet.pix(), &[0x01]);
    assert_eq!(applet.to_string(), "F00000010101");
    assert_eq!(format!("{applet:?}"), "Aid(F00000010101)");
    let framework = Aid::from_str("A0000000620101").unwrap();
    assert_eq!(framework.to_string(), "A0000000620101");
    assert_eq!(Aid::GP_ISD.to_string(), "A000000151000000");
    assert_eq!(
        Aid::GP_ISD,
        Aid::from_hex("A0 00 00 01 51 00 00 00").unwrap()
    );
}

#[test]
fn aid_length_must_be_5_to_16() {
    for len in 0..=20 {
        let bytes = vec![0xA0; len];
        let result = Aid::new(&bytes);
        if (5..=16).contains(&len) {
            assert_eq!(result.unwrap().as_bytes(), &bytes[..]);
        } else {
            let e = result.unwrap_err();
            assert_eq!((e.part, e.kind), (Part::Aid, ErrorKind::AidLength { len }));
            assert_eq!(e.offset, len.min(16));
        }
    }
    assert_eq!(
        Aid::from_hex("A000").unwrap_err().to_string(),
        "AID byte 2: expected an AID of 5 to 16 bytes, got 2"
    );
    let e = Aid::from_hex("A0000000620101A0000000620101A0000000620101").unwrap_err();
    assert_eq!(e.kind, ErrorKind::AidLength { len: 21 });
    // The RID alone is an AID with an empty PIX.
    assert_eq!(Aid::from_hex("A000000062").unwrap().pix(), &[] as &[u8]);
}

#[test]
fn partial_match_is_starts_with() {
    let instance = Aid::from_hex("F00000010402").unwrap();
    assert!(instance.partial_match(&[0xF0, 0x00, 0x00, 0x01, 0x04]));
    assert!(instance.partial_match(instance.as_bytes()));
    assert!(instance.partial_match(&[]));
    assert!(!instance.partial_match(&[0xF0, 0x00, 0x00, 0x01, 0x05]));
    assert!(!instance.partial_match(&[0xF0, 0x00, 0x00, 0x01, 0x04, 0x02, 0x00]));
    let package = Aid::from_hex("F00000010400").unwrap();
    assert!(package.rid_equals(&instance));
    assert!(!package.rid_equals(&Aid::GP_ISD));
}

#[test]
fn ordering_is_lexicographic_and_equality_ignores_storage() {
    let short = Aid::from_hex("F000000101").unwrap();
    let long = Aid::from_hex("F00000010100").unwrap();
    let other = Aid::from_hex("F000000102").unwrap();
    assert!(short < long && long < other);
    assert_ne!(short, long);
    let set: BTreeSet<Aid> = [other, long, short, long].into_iter().collect();
    assert_eq!(
        set.into_iter().collect::<Vec<_>>(),
        vec![short, long, other]
    );
    let mut hashes = std::collections::HashSet::new();
    assert!(hashes.insert(long));
    assert!(!hashes.insert(Aid::new(&[0xF0, 0, 0, 1, 1, 0]).unwrap()));
}

#[test]
fn hex_accepts_spaces_colons_and_both_cases() {
    let expected = vec![0x00, 0xA4, 0x04, 0x00];
    assert_eq!(hex::decode("00A40400").unwrap(), expected);
    assert_eq!(hex::decode("00 a4 04 00").unwrap(), expected);
    assert_eq!(hex::decode("00:A4:04:00").unwrap(), expected);
    assert_eq!(hex::decode("  00A4\t0400\r\n").unwrap(), expected);
    assert_eq!(hex::decode("").unwrap(), Vec::<u8>::new());
    assert_eq!(
        hex::decoded_len("80 01 00 00 08 0102030405060708 00").unwrap(),
        14
    );
}

#[test]
fn hex_errors_name_the_character_offset() {
    let e = hex::decode("00 A4 0G 00").unwrap_err();
    assert_eq!(
        (e.part, e.offset, e.kind),
        (Part::Hex, 7, ErrorKind::InvalidHexChar { found: 'G' })
    );
    assert_eq!(
        e.to_string(),
        "hex text byte 7: expected a hex digit or a separator (whitespace, ':'), found 'G'"
    );
    let e = hex::decode("00 A4 0").unwrap_err();
    assert_eq!((e.offset, e.kind), (6, ErrorKind::OddHexDigit));
    let e = hex::decode("0 0A4").unwrap_err();
    assert_eq!((e.offset, e.kind), (0, ErrorKind::OddHexDigit));
    let e = hex::decode("00 é").unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (3, ErrorKind::InvalidHexChar { found: 'é' })
    );
    let e = hex::decode("0xA4").unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (1, ErrorKind::InvalidHexChar { found: 'x' })
    );
}

#[test]
fn hex_decode_into_a_caller_buffer() {
    let mut out = [0u8; 4];
    assert_eq!(hex::decode_into("A0 00 00", &mut out), Ok(3));
    assert_eq!(out, [0xA0, 0, 0, 0]);
    let e = hex::decode_into("A0 00 00 00 62", &mut out).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::OutputTooSmall {
            needed: 5,
            available: 4
        }
    );
    // A syntax error wins over the size check.
    let e = hex::decode_into("A0 00 00 00 62 ZZ", &mut out).unwrap_err();
    assert_eq!(e.part, Part::Hex);
}

#[test]
fn hex_encoding_is_uppercase() {
    let mut out = [0u8; 8];
    assert_eq!(
        hex::encode_into(&[0xA0, 0x0F, 0x62], &mut out),
        Ok("A00F62")
    );
    assert!(hex::encode_into(&[0; 5], &mut out).is_err());
    assert_eq!(hex::encode(&[0xDE, 0xAD, 0xbe, 0xef]), "DEADBEEF");
    assert_eq!(format!("{}", Hex(&[0x00, 0xA4, 0x04])), "00A404");
    assert_eq!(format!("{:#}", Hex(&[0x00, 0xA4, 0x04])), "00 A4 04");
}
