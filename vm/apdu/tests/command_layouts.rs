//! Command APDU byte layouts written by hand from the ISO 7816-4 §5.1 table
//! (/work/shared/spec/iso7816-apdu.md section 1): every case short and extended, the
//! ambiguous encodings, and an error naming the offset for every malformed length.
#![allow(clippy::unwrap_used)] // tests fail by panicking

use oxicard_apdu::{ApduError, Case, Command, ErrorKind, Part};

/// Decodes hex test input (test-only shorthand).
fn bytes(text: &str) -> Vec<u8> {
    oxicard_apdu::hex::decode(text).expect("test hex is valid")
}

/// Parses `apdu`, checks the decoded fields, and checks that encoding gives `apdu` back.
fn check(apdu: &[u8], case: Case, data: &[u8], le: Option<usize>) {
    let command = Command::parse(apdu).unwrap_or_else(|e| panic!("{apdu:02X?}: {e}"));
    assert_eq!(command.case(), case, "{apdu:02X?}");
    assert_eq!(command.data(), data, "{apdu:02X?}");
    assert_eq!(command.le(), le, "{apdu:02X?}");
    assert_eq!(command.is_extended(), case.is_extended());
    assert_eq!(command.header(), [apdu[0], apdu[1], apdu[2], apdu[3]]);
    assert_eq!(command.encoded_len(), apdu.len());
    assert_eq!(command.to_vec(), apdu);
}

#[test]
fn case_1_is_the_header_alone() {
    check(&bytes("00 A4 04 00"), Case::Case1, &[], None);
    let apdu = bytes("80 03 6A 82");
    let command = Command::parse(&apdu).unwrap();
    assert_eq!(
        (command.cla(), command.ins(), command.p1(), command.p2()),
        (0x80, 0x03, 0x6A, 0x82)
    );
}

#[test]
fn case_2_short_le_00_means_256() {
    check(&bytes("80 02 00 00 00"), Case::Case2Short, &[], Some(256));
    check(&bytes("80 CA 9F 7F 2D"), Case::Case2Short, &[], Some(0x2D));
    check(&bytes("00 C0 00 00 01"), Case::Case2Short, &[], Some(1));
    check(&bytes("00 C0 00 00 FF"), Case::Case2Short, &[], Some(255));
}

#[test]
fn case_3_short_lc_then_data() {
    check(
        &bytes("00 A4 04 00 06 F00000010101"),
        Case::Case3Short,
        &bytes("F00000010101"),
        None,
    );
    check(&bytes("80 20 00 00 01 FF"), Case::Case3Short, &[0xFF], None);
    let long = vec![0x5A; 255];
    let mut apdu = bytes("80 E8 00 00 FF");
    apdu.extend_from_slice(&long);
    check(&apdu, Case::Case3Short, &long, None);
}

#[test]
fn case_4_short_lc_data_le() {
    check(
        &bytes("80 01 00 00 08 0102030405060708 00"),
        Case::Case4Short,
        &bytes("0102030405060708"),
        Some(256),
    );
    check(
        &bytes("00 A4 04 00 01 3F 10"),
        Case::Case4Short,
        &[0x3F],
        Some(16),
    );
}

#[test]
fn case_2_extended_is_exactly_seven_bytes() {
    check(
        &bytes("00 B0 00 00 00 01 00"),
        Case::Case2Extended,
        &[],
        Some(256),
    );
    check(
        &bytes("00 B0 00 00 00 00 00"),
        Case::Case2Extended,
        &[],
        Some(65536),
    );
    check(
        &bytes("00 B0 00 00 00 12 34"),
        Case::Case2Extended,
        &[],
        Some(0x1234),
    );
    check(
        &bytes("00 B0 00 00 00 00 01"),
        Case::Case2Extended,
        &[],
        Some(1),
    );
}

#[test]
fn case_3_extended_marker_then_two_byte_lc() {
    let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let mut apdu = bytes("80 E8 00 00 00 01 2C");
    apdu.extend_from_slice(&data);
    check(&apdu, Case::Case3Extended, &data, None);
    // Extended fields may carry short lengths too.
    check(
        &bytes("00 D6 00 00 00 00 01 AA"),
        Case::Case3Extended,
        &[0xAA],
        None,
    );
    let max = vec![0xC3; 65535];
    let mut apdu = bytes("00 D6 00 00 00 FF FF");
    apdu.extend_from_slice(&max);
    check(&apdu, Case::Case3Extended, &max, None);
}

#[test]
fn case_4_extended_le_has_two_bytes_without_marker() {
    check(
        &bytes("00 2A 9E 9A 00 00 03 AABBCC 00 00"),
        Case::Case4Extended,
        &bytes("AABBCC"),
        Some(65536),
    );
    check(
        &bytes("00 2A 9E 9A 00 00 03 AABBCC 01 00"),
        Case::Case4Extended,
        &bytes("AABBCC"),
        Some(256),
    );
    let data = vec![0x11; 0x1234];
    let mut apdu = bytes("00 2A 80 86 00 12 34");
    apdu.extend_from_slice(&data);
    apdu.extend_from_slice(&[0x08, 0x00]);
    check(&apdu, Case::Case4Extended, &data, Some(0x800));
}

#[test]
fn five_byte_apdu_with_zero_is_case_2_short_not_extended() {
    // "a leading 00 after the header is the extended-length marker only when the APDU is
    // longer than 5 bytes".
    check(&bytes("00 A4 04 00 00"), Case::Case2Short, &[], Some(256));
}

#[test]
fn data_offset_follows_iso7816_offsets() {
    assert_eq!(
        Command::parse(&bytes("80 01 00 00 01 AA"))
            .unwrap()
            .data_offset(),
        5
    );
    assert_eq!(
        Command::parse(&bytes("80 01 00 00 00 00 01 AA"))
            .unwrap()
            .data_offset(),
        7
    );
}

/// Parses `apdu` and returns the error, failing if it parses.
fn error_of(apdu: &[u8]) -> ApduError {
    match Command::parse(apdu) {
        Ok(command) => panic!("{apdu:02X?} parsed as {command:?}"),
        Err(e) => {
            assert_eq!(e.part, Part::Command);
            e
        }
    }
}

#[test]
fn truncated_header_names_the_missing_byte() {
    for len in 0..=3 {
        let e = error_of(&[0x80, 0x01, 0x02][..len]);
        assert_eq!(e.offset, len);
        assert_eq!(e.kind, ErrorKind::HeaderTruncated { len });
    }
    assert_eq!(
        error_of(&[0x80, 0x01]).to_string(),
        "command APDU byte 2: expected the 4-byte header CLA INS P1 P2, the APDU has only 2 byte(s)"
    );
}

#[test]
fn six_bytes_with_marker_is_a_truncated_extended_length() {
    let e = error_of(&bytes("00 B0 00 00 00 05"));
    assert_eq!((e.offset, e.kind), (5, ErrorKind::ExtendedLengthTruncated));
}

#[test]
fn extended_lc_of_zero_is_rejected() {
    let e = error_of(&bytes("00 D6 00 00 00 00 00 AA"));
    assert_eq!((e.offset, e.kind), (5, ErrorKind::ExtendedLcZero));
    let e = error_of(&bytes("00 D6 00 00 00 00 00 00 00"));
    assert_eq!((e.offset, e.kind), (5, ErrorKind::ExtendedLcZero));
}

#[test]
fn short_lc_larger_than_the_data_is_truncated_data_at_offset_5() {
    let e = error_of(&bytes("80 01 00 00 08 010203"));
    assert_eq!(
        (e.offset, e.kind),
        (
            5,
            ErrorKind::DataTruncated {
                lc: 8,
                available: 3
            }
        )
    );
    assert_eq!(
        e.to_string(),
        "command APDU byte 5: expected 8 data byte(s) as announced by Lc, found only 3"
    );
    // A 6-byte APDU whose fifth byte is not 00: Lc = 2 but one data byte.
    let e = error_of(&bytes("80 01 00 00 02 AA"));
    assert_eq!(
        (e.offset, e.kind),
        (
            5,
            ErrorKind::DataTruncated {
                lc: 2,
                available: 1
            }
        )
    );
}

#[test]
fn short_bytes_after_le_are_trailing_bytes() {
    let e = error_of(&bytes("80 01 00 00 02 AABB 00 11"));
    assert_eq!(
        (e.offset, e.kind),
        (8, ErrorKind::TrailingBytes { lc: 2, extra: 1 })
    );
    let e = error_of(&bytes("80 01 00 00 01 AA 00 11 22 33"));
    assert_eq!(
        (e.offset, e.kind),
        (7, ErrorKind::TrailingBytes { lc: 1, extra: 3 })
    );
}

#[test]
fn extended_lc_larger_than_the_data_is_truncated_data_at_offset_7() {
    let e = error_of(&bytes("80 E8 00 00 00 01 00 AABBCC"));
    assert_eq!(
        (e.offset, e.kind),
        (
            7,
            ErrorKind::DataTruncated {
                lc: 256,
                available: 3
            }
        )
    );
}

#[test]
fn extended_le_of_one_byte_is_truncated_le() {
    let e = error_of(&bytes("00 2A 9E 9A 00 00 03 AABBCC 00"));
    assert_eq!((e.offset, e.kind), (10, ErrorKind::ExtendedLeTruncated));
}

#[test]
fn extended_bytes_after_le_are_trailing_bytes() {
    let e = error_of(&bytes("00 2A 9E 9A 00 00 03 AABBCC 00 00 00"));
    assert_eq!(
        (e.offset, e.kind),
        (12, ErrorKind::TrailingBytes { lc: 3, extra: 1 })
    );
}

#[test]
fn new_chooses_short_fields_when_they_suffice() {
    let c = Command::new(0x00, 0xA4, 0x04, 0x00, &[1, 2, 3, 4, 5], Some(256)).unwrap();
    assert_eq!(c.case(), Case::Case4Short);
    assert_eq!(c.to_vec(), bytes("00 A4 04 00 05 0102030405 00"));
    let c = Command::new(0x80, 0xCA, 0x9F, 0x7F, &[], None).unwrap();
    assert_eq!(c.case(), Case::Case1);
    assert_eq!(c.to_vec(), bytes("80 CA 9F 7F"));
    let c = Command::new(0x80, 0xCA, 0x9F, 0x7F, &[], Some(0x2D)).unwrap();
    assert_eq!(c.to_vec(), bytes("80 CA 9F 7F 2D"));
    let c = Command::new(0x80, 0xE2, 0x00, 0x00, &[0xEE; 255], None).unwrap();
    assert_eq!(c.case(), Case::Case3Short);
}

#[test]
fn new_switches_to_extended_for_long_data_or_large_ne() {
    let data = vec![0x42; 256];
    let c = Command::new(0x80, 0xE2, 0x00, 0x00, &data, None).unwrap();
    assert_eq!(c.case(), Case::Case3Extended);
    assert_eq!(&c.to_vec()[..7], &bytes("80 E2 00 00 00 01 00")[..]);
    let c = Command::new(0x00, 0xB0, 0x00, 0x00, &[], Some(257)).unwrap();
    assert_eq!(c.case(), Case::Case2Extended);
    assert_eq!(c.to_vec(), bytes("00 B0 00 00 00 01 01"));
    let c = Command::new(0x00, 0xB0, 0x00, 0x00, &[], Some(65536)).unwrap();
    assert_eq!(c.to_vec(), bytes("00 B0 00 00 00 00 00"));
    let c = Command::new(0x00, 0x2A, 0x9E, 0x9A, &[1, 2], Some(300)).unwrap();
    assert_eq!(c.case(), Case::Case4Extended);
    assert_eq!(c.to_vec(), bytes("00 2A 9E 9A 00 00 02 0102 01 2C"));
}

#[test]
fn into_extended_forces_extended_fields() {
    let c = Command::new(0x00, 0x2A, 0x9E, 0x9A, &[1, 2, 3], Some(256))
        .unwrap()
        .into_extended();
    assert_eq!(c.case(), Case::Case4Extended);
    assert_eq!(c.to_vec(), bytes("00 2A 9E 9A 00 00 03 010203 01 00"));
    let c = Command::new(0x00, 0xB0, 0x00, 0x00, &[], Some(256))
        .unwrap()
        .into_extended();
    assert_eq!(c.to_vec(), bytes("00 B0 00 00 00 01 00"));
    let c = Command::new(0x00, 0xD6, 0x00, 0x00, &[9], None)
        .unwrap()
        .into_extended();
    assert_eq!(c.to_vec(), bytes("00 D6 00 00 00 00 01 09"));
    // Case 1 has no length fields to extend.
    let c = Command::new(0x00, 0x70, 0x80, 0x01, &[], None)
        .unwrap()
        .into_extended();
    assert_eq!((c.case(), c.is_extended()), (Case::Case1, false));
}

#[test]
fn new_rejects_lengths_no_encoding_can_carry() {
    let too_long = vec![0; 65536];
    let e = Command::new(0x80, 0xE8, 0, 0, &too_long, None).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::DataTooLong {
            len: 65536,
            max: 65535
        }
    );
    let e = Command::new(0x80, 0xCA, 0, 0, &[], Some(0)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NeOutOfRange { ne: 0, max: 65536 });
    let e = Command::new(0x80, 0xCA, 0, 0, &[1], Some(65537)).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::NeOutOfRange {
            ne: 65537,
            max: 65536
        }
    );
}

#[test]
fn encode_into_a_small_buffer_fails_and_writes_nothing() {
    let c = Command::new(0x80, 0x01, 0x00, 0x00, &[1, 2, 3], Some(256)).unwrap();
    let mut out = [0xEE; 8];
    let e = c.encode_into(&mut out).unwrap_err();
    assert_eq!((e.part, e.offset), (Part::Output, 8));
    assert_eq!(
        e.kind,
        ErrorKind::OutputTooSmall {
            needed: 9,
            available: 8
        }
    );
    assert_eq!(out, [0xEE; 8]);
    let mut out = [0; 9];
    assert_eq!(c.encode_into(&mut out), Ok(9));
    assert_eq!(out.to_vec(), bytes("80 01 00 00 03 010203 00"));
}

#[test]
fn case_numbers_and_flags() {
    let all = [
        (Case::Case1, 1, false, false, false),
        (Case::Case2Short, 2, false, false, true),
        (Case::Case3Short, 3, false, true, false),
        (Case::Case4Short, 4, false, true, true),
        (Case::Case2Extended, 2, true, false, true),
        (Case::Case3Extended, 3, true, true, false),
        (Case::Case4Extended, 4, true, true, true),
    ];
    for (case, number, extended, data, response) in all {
        assert_eq!(case.number(), number);
        assert_eq!(case.is_extended(), extended);
        assert_eq!(case.has_data(), data);
        assert_eq!(case.expects_response(), response);
    }
}

#[test]
fn display_uses_one_token_per_field() {
    let show = |text: &str| Command::parse(&bytes(text)).unwrap().to_string();
    assert_eq!(show("00A40400"), "00 A4 04 00");
    assert_eq!(show("80020000 00"), "80 02 00 00 00");
    assert_eq!(
        show("00A40400 06 F00000010101"),
        "00 A4 04 00 06 F00000010101"
    );
    assert_eq!(show("80010000 02 AABB 10"), "80 01 00 00 02 AABB 10");
    assert_eq!(show("00B00000 000100"), "00 B0 00 00 000100");
    assert_eq!(show("00D60000 000001 AA"), "00 D6 00 00 000001 AA");
    assert_eq!(
        show("002A9E9A 000003 AABBCC 0000"),
        "00 2A 9E 9A 000003 AABBCC 0000"
    );
}
