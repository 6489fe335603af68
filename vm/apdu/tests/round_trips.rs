//! Property tests: every encoder's output decodes to the same value (commands of all seven
//! cases, responses, AIDs through hex, BER-TLV), and arbitrary bytes never panic a decoder.
//! Decoded commands are also checked against the ISO length formulas of `common`.
#![allow(clippy::unwrap_used)] // tests fail by panicking

mod common;

use common::reference_cases;
use oxicard_apdu::tlv::{self, Tag, TlvReader};
use oxicard_apdu::{hex, Aid, Case, Command, Response, StatusWord};
use proptest::prelude::*;

/// Data lengths: mostly small, sometimes anywhere up to `max`. Long data is filled from a
/// random seed, which is much faster than drawing each byte.
fn data(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..=max.min(300)),
        1 => (0..=max, any::<u64>()).prop_map(|(len, seed)| {
            let mut rng = common::Rng(seed | 1);
            (0..len).map(|_| rng.byte()).collect()
        }),
    ]
}

/// Ne values for short (`max` = 256) or extended (`max` = 65536) commands.
fn ne(max: usize) -> impl Strategy<Value = Option<usize>> {
    prop_oneof![
        Just(None),
        Just(Some(max)),
        (1..=max).prop_map(Some),
        (1..=max.min(300)).prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn short_commands_round_trip(
        header in any::<[u8; 4]>(),
        data in data(255),
        le in ne(256),
    ) {
        let [cla, ins, p1, p2] = header;
        let command = Command::new(cla, ins, p1, p2, &data, le).unwrap();
        prop_assert!(!command.is_extended());
        let bytes = command.to_vec();
        prop_assert_eq!(bytes.len(), command.encoded_len());
        let parsed = Command::parse(&bytes).unwrap();
        prop_assert_eq!(parsed, command);
        let expected_case = match (data.is_empty(), le.is_some()) {
            (true, false) => Case::Case1,
            (true, true) => Case::Case2Short,
            (false, false) => Case::Case3Short,
            (false, true) => Case::Case4Short,
        };
        prop_assert_eq!(parsed.case(), expected_case);
        prop_assert_eq!(reference_cases(&bytes), vec![(expected_case, data.len(), le)]);
    }

    #[test]
    fn extended_commands_round_trip(
        header in any::<[u8; 4]>(),
        data in data(65535),
        le in ne(65536),
    ) {
        prop_assume!(!data.is_empty() || le.is_some());
        let [cla, ins, p1, p2] = header;
        let command = Command::new(cla, ins, p1, p2, &data, le).unwrap().into_extended();
        prop_assert!(command.is_extended());
        let bytes = command.to_vec();
        let parsed = Command::parse(&bytes).unwrap();
        prop_assert_eq!(parsed, command);
        prop_assert_eq!(parsed.data(), &data[..]);
        prop_assert_eq!(parsed.le(), le);
        let expected_case = match (data.is_empty(), le.is_some()) {
            (true, _) => Case::Case2Extended,
            (false, false) => Case::Case3Extended,
            (false, true) => Case::Case4Extended,
        };
        prop_assert_eq!(parsed.case(), expected_case);
        prop_assert_eq!(reference_cases(&bytes), vec![(expected_case, data.len(), le)]);
    }

    #[test]
    fn new_picks_the_shortest_encoding(
        data in data(65535),
        le in ne(65536),
    ) {
        let command = Command::new(0x00, 0xB0, 0, 0, &data, le).unwrap();
        let needs_extended = data.len() > 255 || le.is_some_and(|n| n > 256);
        prop_assert_eq!(command.is_extended(), needs_extended);
        let bytes = command.to_vec();
        prop_assert_eq!(Command::parse(&bytes).unwrap(), command);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_command_parser(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..16),
            prop::collection::vec(any::<u8>(), 0..600),
            // Near-valid: header, then a plausible length field and a body.
            (any::<[u8; 4]>(), prop::collection::vec(0u8..3, 0..4), prop::collection::vec(any::<u8>(), 0..300))
                .prop_map(|(h, l, b)| [h.to_vec(), l, b].concat()),
        ],
    ) {
        let reference = reference_cases(&bytes);
        prop_assert!(reference.len() <= 1);
        match Command::parse(&bytes) {
            Ok(command) => {
                prop_assert_eq!(reference, vec![(command.case(), command.data().len(), command.le())]);
                prop_assert_eq!(command.to_vec(), bytes);
            }
            Err(e) => {
                prop_assert!(reference.is_empty(), "rejected {:02X?}: {}", bytes, e);
                prop_assert!(e.offset <= bytes.len());
            }
        }
    }

    #[test]
    fn responses_round_trip(data in data(65536), sw in any::<u16>()) {
        let response = Response::new(&data, StatusWord(sw));
        let bytes = response.to_vec();
        prop_assert_eq!(bytes.len(), data.len() + 2);
        prop_assert_eq!(Response::parse(&bytes).unwrap(), response);
        let mut buffer = vec![0; bytes.len()];
        prop_assert_eq!(response.encode_into(&mut buffer), Ok(bytes.len()));
        prop_assert_eq!(buffer, bytes);
    }

    #[test]
    fn short_responses_are_errors(bytes in prop::collection::vec(any::<u8>(), 0..2)) {
        let e = Response::parse(&bytes).unwrap_err();
        prop_assert_eq!(e.offset, bytes.len());
    }

    #[test]
    fn aids_round_trip_through_hex(bytes in prop::collection::vec(any::<u8>(), 5..=16)) {
        let aid = Aid::new(&bytes).unwrap();
        let text = aid.to_string();
        prop_assert_eq!(text.len(), bytes.len() * 2);
        prop_assert!(!text.chars().any(|c| c.is_ascii_lowercase()));
        prop_assert_eq!(Aid::from_hex(&text).unwrap(), aid);
        prop_assert_eq!(text.parse::<Aid>().unwrap(), aid);
        prop_assert_eq!(Aid::from_hex(&text.to_lowercase()).unwrap(), aid);
        let colons = bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
        prop_assert_eq!(Aid::from_hex(&colons).unwrap(), aid);
        prop_assert_eq!(aid.rid(), &bytes[..5]);
        prop_assert_eq!(aid.pix(), &bytes[5..]);
        prop_assert!(aid.partial_match(&bytes[..bytes.len() / 2]));
    }

    #[test]
    fn aid_order_is_byte_order(a in prop::collection::vec(any::<u8>(), 5..=16), b in prop::collection::vec(any::<u8>(), 5..=16)) {
        let (x, y) = (Aid::new(&a).unwrap(), Aid::new(&b).unwrap());
        prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        prop_assert_eq!(x == y, a == b);
    }

    #[test]
    fn hex_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..64), spaced in any::<bool>()) {
        let text = if spaced { format!("{:#}", hex::Hex(&bytes)) } else { hex::encode(&bytes) };
        prop_assert_eq!(hex::decode(&text).unwrap(), bytes);
    }

    #[test]
    fn arbitrary_text_never_panics_hex(text in ".{0,40}") {
        match hex::decode(&text) {
            Ok(bytes) => prop_assert_eq!(hex::decoded_len(&text).unwrap(), bytes.len()),
            Err(e) => prop_assert!(e.offset < text.len()),
        }
        let _ = Aid::from_hex(&text);
    }

    #[test]
    fn tlv_lists_round_trip(items in prop::collection::vec((tag(), data(70_000)), 0..5)) {
        let mut encoded = Vec::new();
        for (tag, value) in &items {
            tlv::push_tlv(&mut encoded, *tag, value).unwrap();
        }
        let read: Vec<_> = TlvReader::new(&encoded).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(read.len(), items.len());
        let mut offset = 0;
        for (tlv, (tag, value)) in read.iter().zip(&items) {
            prop_assert_eq!(tlv.tag, *tag);
            prop_assert_eq!(tlv.value, &value[..]);
            prop_assert_eq!(tlv.offset, offset);
            prop_assert_eq!(Ok(tlv.encoded_len()), tlv::tlv_encoded_len(*tag, value.len()));
            offset += tlv.encoded_len();
        }
    }

    #[test]
    fn nested_tlv_round_trips(outer in tag(), inner in prop::collection::vec((tag(), data(300)), 1..4)) {
        let mut children = Vec::new();
        for (tag, value) in &inner {
            tlv::push_tlv(&mut children, *tag, value).unwrap();
        }
        let mut encoded = Vec::new();
        tlv::push_tlv(&mut encoded, outer, &children).unwrap();
        let parent = TlvReader::new(&encoded).next().unwrap().unwrap();
        prop_assert_eq!(parent.value, &children[..]);
        let read: Vec<_> = parent.children().collect::<Result<_, _>>().unwrap();
        for (tlv, (tag, value)) in read.iter().zip(&inner) {
            prop_assert_eq!(tlv.tag, *tag);
            prop_assert_eq!(tlv.value, &value[..]);
            prop_assert_eq!(&encoded[tlv.value_offset()..tlv.value_offset() + value.len()], &value[..]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_tlv_reader(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut consumed = 0;
        for item in TlvReader::new(&bytes) {
            match item {
                Ok(tlv) => {
                    prop_assert_eq!(tlv.offset, consumed);
                    consumed += tlv.encoded_len();
                    for child in tlv.children() {
                        if let Err(e) = child {
                            prop_assert!(e.offset <= bytes.len());
                        }
                    }
                }
                Err(e) => prop_assert!(e.offset <= bytes.len()),
            }
        }
        prop_assert!(consumed <= bytes.len());
    }
}

/// A valid BER tag of 1 to 4 bytes.
fn tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        // One byte: tag number bits not all set.
        any::<u8>()
            .prop_filter("single-byte tag", |b| b & 0x1F != 0x1F)
            .prop_map(|b| Tag(u32::from(b))),
        // Two to four bytes: first byte with number bits 11111, then continuation bytes with
        // b8 set and a last byte with b8 clear.
        (
            any::<u8>(),
            prop::collection::vec(0x80u8..=0xFF, 0..3),
            0u8..0x80
        )
            .prop_map(|(first, middle, last)| {
                let mut value = u32::from(first | 0x1F);
                for byte in middle {
                    value = value << 8 | u32::from(byte);
                }
                Tag(value << 8 | u32::from(last))
            }),
    ]
}
