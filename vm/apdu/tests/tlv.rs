//! BER-TLV with the GlobalPlatform structures of /work/shared/spec/iso7816-apdu.md
//! section 6: a GET STATUS TLV entry, LOAD's `C4` block with its BER length forms, and
//! errors that name the offset.
#![allow(clippy::unwrap_used)] // tests fail by panicking

use oxicard_apdu::hex;
use oxicard_apdu::tlv::{self, LvReader, Tag, TlvReader};
use oxicard_apdu::{ErrorKind, Part};

#[test]
fn get_status_entry_reads_nested() {
    // E3 { 4F AID, 9F70 life cycle, C5 privileges }
    let bytes = hex::decode("E3 0F 4F 06 F00000010101 9F70 01 07 C5 01 00").unwrap();
    let mut reader = TlvReader::new(&bytes);
    let entry = reader.next().unwrap().unwrap();
    assert!(reader.next().is_none());
    assert_eq!(entry.tag, Tag(0xE3));
    assert!(entry.tag.is_constructed());
    assert_eq!(
        (entry.offset, entry.header_len, entry.value.len()),
        (0, 2, 15)
    );
    let children: Vec<_> = entry.children().map(|tlv| tlv.unwrap()).collect();
    let tags: Vec<Tag> = children.iter().map(|tlv| tlv.tag).collect();
    assert_eq!(tags, vec![Tag(0x4F), Tag(0x9F70), Tag(0xC5)]);
    assert_eq!(children[0].value, &[0xF0, 0x00, 0x00, 0x01, 0x01, 0x01]);
    assert_eq!(children[1].offset, 10);
    assert_eq!(children[1].value_offset(), 13);
    assert_eq!(children[1].value, &[0x07]);
    assert!(!children[1].tag.is_constructed());
    assert_eq!(children[1].tag.class(), 2);
    let life_cycle = entry.children().find(Tag(0x9F70)).unwrap().unwrap();
    assert_eq!(life_cycle.value, &[0x07]);
    assert_eq!(entry.children().find(Tag(0xCC)).unwrap(), None);
}

#[test]
fn load_block_length_forms() {
    // "BER length after C4: < 0x80 one byte; 81 xx; 82 xx xx".
    let cases: &[(usize, &str)] = &[
        (0, "C4 00"),
        (0x7F, "C4 7F"),
        (0x80, "C4 81 80"),
        (200, "C4 81 C8"),
        (448, "C4 82 01 C0"),
        (9212, "C4 82 23 FC"),
        (0x1_0000, "C4 83 01 00 00"),
    ];
    for (len, header) in cases {
        let value = vec![0xCA; *len];
        let mut expected = hex::decode(header).unwrap();
        expected.extend_from_slice(&value);
        let mut encoded = Vec::new();
        tlv::push_tlv(&mut encoded, Tag(0xC4), &value).unwrap();
        assert_eq!(encoded, expected, "length {len}");
        let read = TlvReader::new(&encoded).next().unwrap().unwrap();
        assert_eq!((read.tag, read.value.len()), (Tag(0xC4), *len));
    }
}

#[test]
fn non_minimal_lengths_are_read() {
    let bytes = hex::decode("C9 81 02 AABB 4F 82 00 01 CC").unwrap();
    let read: Vec<_> = TlvReader::new(&bytes).map(|t| t.unwrap()).collect();
    assert_eq!(read[0].value, &[0xAA, 0xBB]);
    assert_eq!(read[1].value, &[0xCC]);
    assert_eq!(read[1].offset, 5);
}

#[test]
fn tags_of_one_to_four_bytes() {
    let bytes = hex::decode("5F2D 02 656E BF0C 00 DF8101 01 FF 9F818203 00").unwrap();
    let tags: Vec<Tag> = TlvReader::new(&bytes).map(|t| t.unwrap().tag).collect();
    assert_eq!(
        tags,
        vec![Tag(0x5F2D), Tag(0xBF0C), Tag(0xDF8101), Tag(0x9F818203)]
    );
    assert_eq!(Tag(0x9F818203).encoded_len(), 4);
    assert_eq!(Tag(0x9F70).to_string(), "9F70");
    assert_eq!(Tag(0x04).to_string(), "04");
    let mut out = [0u8; 4];
    assert_eq!(Tag(0xDF8101).encode_into(&mut out), Ok(3));
    assert_eq!(&out[..3], &[0xDF, 0x81, 0x01]);
}

/// The single error that reading `text` gives.
fn error_of(text: &str) -> oxicard_apdu::ApduError {
    let bytes = hex::decode(text).unwrap();
    let mut results: Vec<_> = TlvReader::new(&bytes).collect();
    let last = results.pop().expect("at least one item");
    assert!(
        results.iter().all(|r| r.is_ok()),
        "an error must end the iteration"
    );
    let e = last.expect_err("malformed TLV must fail");
    assert_eq!(e.part, Part::Tlv);
    e
}

#[test]
fn malformed_tlv_errors_name_the_offset() {
    let e = error_of("4F 06 F000");
    assert_eq!(
        (e.offset, e.kind),
        (
            2,
            ErrorKind::TlvValueTruncated {
                len: 6,
                available: 2
            }
        )
    );
    assert_eq!(
        e.to_string(),
        "BER-TLV byte 2: expected a value of 6 byte(s), found only 2"
    );
    let e = error_of("4F 01 AA 9F");
    assert_eq!((e.offset, e.kind), (4, ErrorKind::TlvTagTruncated));
    let e = error_of("9F 70");
    assert_eq!(
        (e.offset, e.kind),
        (
            2,
            ErrorKind::TlvLengthTruncated {
                needed: 1,
                available: 0
            }
        )
    );
    let e = error_of("C4 82 01");
    assert_eq!(
        (e.offset, e.kind),
        (
            2,
            ErrorKind::TlvLengthTruncated {
                needed: 2,
                available: 1
            }
        )
    );
    let e = error_of("C4 80 00 00");
    assert_eq!((e.offset, e.kind), (1, ErrorKind::TlvIndefiniteLength));
    let e = error_of("C4 84 00 00 00 01 AA");
    assert_eq!(
        (e.offset, e.kind),
        (1, ErrorKind::TlvLengthFormUnsupported { first: 0x84 })
    );
    let e = error_of("5F FF FF FF 01 00");
    assert_eq!((e.offset, e.kind), (4, ErrorKind::TlvTagTooLong));
}

#[test]
fn nested_errors_keep_outer_offsets() {
    let bytes = hex::decode("C9 00 E3 05 4F 06 F0 00 00").unwrap();
    let entry = TlvReader::new(&bytes).nth(1).unwrap().unwrap();
    let e = entry.children().next().unwrap().unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (
            6,
            ErrorKind::TlvValueTruncated {
                len: 6,
                available: 3
            }
        )
    );
}

#[test]
fn encoders_check_their_buffers() {
    let mut out = [0u8; 4];
    assert_eq!(tlv::encode_length(0x1234, &mut out), Ok(3));
    assert_eq!(out[..3], [0x82, 0x12, 0x34]);
    let e = tlv::encode_length(0x1234, &mut out[..2]).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::OutputTooSmall {
            needed: 3,
            available: 2
        }
    );
    let e = tlv::encode_length(0x100_0000, &mut out).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TlvLengthTooLarge { len: 0x100_0000 });
    let mut out = [0u8; 5];
    assert_eq!(tlv::encode_tlv(Tag(0x4F), &[1, 2, 3], &mut out), Ok(5));
    assert_eq!(out, [0x4F, 0x03, 1, 2, 3]);
    assert!(tlv::encode_tlv(Tag(0x9F70), &[1, 2, 3], &mut out).is_err());
    assert_eq!(tlv::tlv_encoded_len(Tag(0x9F70), 300), Ok(2 + 3 + 300));
}

#[test]
fn install_for_install_fields_read_as_lv() {
    // INSTALL [for install and make selectable] data (spec section 6): ELF AID, module AID,
    // instance AID, privileges, install parameters (C9 with applet parameters), token.
    let data = hex::decode(
        "06 F00000010400 06 F00000010401 06 F00000010402 01 00 09 C907 04313233340064 00",
    )
    .unwrap();
    let mut lv = LvReader::new(&data);
    assert_eq!(
        lv.read().unwrap(),
        &hex::decode("F00000010400").unwrap()[..]
    );
    assert_eq!(
        lv.read().unwrap(),
        &hex::decode("F00000010401").unwrap()[..]
    );
    assert_eq!(
        lv.read().unwrap(),
        &hex::decode("F00000010402").unwrap()[..]
    );
    assert_eq!(lv.read().unwrap(), &[0x00]);
    let params = lv.read_ber().unwrap();
    let c9 = TlvReader::new(params).find(Tag(0xC9)).unwrap().unwrap();
    assert_eq!(c9.value, &hex::decode("04313233340064").unwrap()[..]);
    assert_eq!(lv.read().unwrap(), &[] as &[u8]);
    assert!(lv.remaining().is_empty());
    assert_eq!(lv.offset(), data.len());
    // Past the end: a missing length byte at the end offset.
    let e = lv.read().unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (
            data.len(),
            ErrorKind::TlvLengthTruncated {
                needed: 1,
                available: 0
            }
        )
    );
}

#[test]
fn lv_errors_name_the_offset() {
    let data = hex::decode("02 AABB 05 CC").unwrap();
    let mut lv = LvReader::new(&data);
    lv.read().unwrap();
    let e = lv.read().unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (
            4,
            ErrorKind::TlvValueTruncated {
                len: 5,
                available: 1
            }
        )
    );
    let data = hex::decode("81 80 00").unwrap();
    let e = LvReader::new(&data).read_ber().unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (
            2,
            ErrorKind::TlvValueTruncated {
                len: 128,
                available: 1
            }
        )
    );
    let data = hex::decode("81 02 AABB").unwrap();
    assert_eq!(LvReader::new(&data).read_ber().unwrap(), &[0xAA, 0xBB]);
}
