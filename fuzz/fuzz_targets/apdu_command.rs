//! Fuzz target for the APDU decoders of `oxicard-apdu`: command APDUs, response APDUs,
//! BER-TLV (walked recursively), length-value lists, AIDs and hex text. Any input must give a value or an
//! error, never a panic; every decoded command must encode back to the exact input bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxicard_apdu::tlv::{LvReader, TlvReader};
use oxicard_apdu::{hex, Aid, Command, Response};

/// Walks a BER-TLV structure down to `depth` levels, checking offsets stay in the input.
fn walk_tlv(reader: TlvReader<'_>, input_len: usize, depth: u32) {
    for item in reader {
        match item {
            Ok(tlv) => {
                assert!(tlv.value_offset() + tlv.value.len() <= input_len);
                if depth > 0 && tlv.tag.is_constructed() {
                    walk_tlv(tlv.children(), input_len, depth - 1);
                }
            }
            Err(e) => assert!(e.offset <= input_len, "{e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match Command::parse(data) {
        Ok(command) => {
            let mut out = [0u8; oxicard_apdu::command::MAX_COMMAND_LEN];
            let len = command
                .encode_into(&mut out)
                .expect("a parsed command encodes");
            assert_eq!(&out[..len], data, "decode/encode round trip");
            assert_eq!(command.encoded_len(), data.len());
        }
        Err(e) => {
            assert!(e.offset <= data.len(), "{e}");
        }
    }

    if let Ok(response) = Response::parse(data) {
        assert_eq!(response.data.len() + 2, data.len());
        let _ = response.sw.meaning();
    }

    walk_tlv(TlvReader::new(data), data.len(), 8);

    let mut lv = LvReader::new(data);
    while !lv.remaining().is_empty() {
        let field = if lv.offset() % 2 == 0 {
            lv.read()
        } else {
            lv.read_ber()
        };
        match field {
            Ok(value) => assert!(lv.offset() <= data.len() && value.len() < data.len()),
            Err(e) => {
                assert!(e.offset <= data.len(), "{e}");
                break;
            }
        }
    }

    if let Ok(aid) = Aid::new(data) {
        assert_eq!(aid.as_bytes(), data);
    }

    if let Ok(text) = core::str::from_utf8(data) {
        let mut buffer = [0u8; 64];
        match hex::decode_into(text, &mut buffer) {
            Ok(len) => assert!(len <= buffer.len()),
            Err(e) => assert!(e.offset <= text.len(), "{e}"),
        }
        if let Ok(aid) = Aid::from_hex(text) {
            assert_eq!(Aid::from_hex(&aid.to_string()), Ok(aid));
        }
    }
});
