//! Property tests of the APDU notation of the script language (`oxicard_sim::transcript`):
//! command APDUs written in every accepted notation (the golden `>` lines, scriptor's spaced
//! hex lines, opensc-tool's `AA:BB:..` lines, lower or upper case) parse back to the same
//! bytes; expected responses match exactly the response they describe and nothing one byte
//! away; `?` digits match any value; arbitrary text never makes the parser panic. The
//! oracle for well-formed commands is `oxicard_apdu::Command`'s encoder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oxicard_apdu::Command;
use oxicard_sim::transcript::{Exchange, Step, Transcript, Variables};
use proptest::prelude::*;

fn exchange(step: &Step) -> &Exchange {
    match step {
        Step::Exchange(exchange) => exchange,
        other => panic!("not an exchange: {other:?}"),
    }
}

/// One way of writing a byte string: plain, spaced, colon-separated.
fn write_hex(bytes: &[u8], style: u8, lower: bool) -> String {
    let digits: Vec<String> = bytes
        .iter()
        .map(|b| {
            if lower {
                format!("{b:02x}")
            } else {
                format!("{b:02X}")
            }
        })
        .collect();
    match style % 3 {
        0 => digits.concat(),
        1 => digits.join(" "),
        _ => digits.join(":"),
    }
}

/// Well-formed short command APDUs of every case.
fn command_apdu() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 4]>(),
        proptest::collection::vec(any::<u8>(), 0..=255),
        proptest::option::of(1usize..=256),
    )
        .prop_map(|(header, data, le)| {
            let [cla, ins, p1, p2] = header;
            Command::new(cla, ins, p1, p2, &data, le)
                .expect("short command")
                .to_vec()
        })
        .prop_filter("the parser accepts it", |bytes| {
            Command::parse(bytes).is_ok()
        })
}

proptest! {
    #[test]
    fn commands_round_trip_in_every_notation(
        command in command_apdu(),
        style in 0u8..3,
        lower in any::<bool>(),
        arrow in any::<bool>(),
    ) {
        let written = write_hex(&command, style, lower);
        let line = if arrow { format!("> {written}  # comment\n") } else { format!("{written}\n") };
        let transcript = Transcript::parse(&line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(transcript.steps.len(), 1);
        prop_assert_eq!(exchange(&transcript.steps[0]).literal_command(), Some(command));
    }

    #[test]
    fn expected_responses_match_exactly_what_they_describe(
        data in proptest::collection::vec(any::<u8>(), 0..64),
        sw in any::<u16>(),
        style in 0u8..3,
        other in any::<u8>(),
    ) {
        let mut response = data.clone();
        response.extend_from_slice(&sw.to_be_bytes());
        let text = format!(
            "> 80 01 00 00\n< {} {}\n",
            write_hex(&data, style, false),
            write_hex(&sw.to_be_bytes(), style, true)
        );
        let transcript = Transcript::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected = exchange(&transcript.steps[0]).expected.clone().expect("expected");
        let variables = Variables::new();
        prop_assert_eq!(expected.fixed_bytes(&variables), Some(response.clone()));
        prop_assert!(expected.matches(&response, &variables).expect("no variables").is_some());
        // One changed bit, one extra byte or one missing byte no longer matches.
        let index = usize::from(other) % response.len();
        let mut changed = response.clone();
        changed[index] ^= 0x01;
        prop_assert!(expected.matches(&changed, &variables).expect("no variables").is_none());
        let mut longer = response.clone();
        longer.insert(0, other);
        prop_assert!(expected.matches(&longer, &variables).expect("no variables").is_none());
        prop_assert!(expected.matches(&response[1..], &variables).expect("no variables").is_none());
    }

    #[test]
    fn wildcard_digits_match_any_value(
        sw in any::<u16>(),
        data in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let [sw1, sw2] = sw.to_be_bytes();
        let text = format!("> 80 01 00 00\n< * {sw1:02X}??\n");
        let transcript = Transcript::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected = exchange(&transcript.steps[0]).expected.clone().expect("expected");
        let variables = Variables::new();
        let mut response = data.clone();
        response.extend_from_slice(&[sw1, sw2]);
        prop_assert!(expected.matches(&response, &variables).expect("no variables").is_some());
        let last = response.len() - 2;
        response[last] = sw1.wrapping_add(1);
        prop_assert!(expected.matches(&response, &variables).expect("no variables").is_none());
    }

    #[test]
    fn captures_take_the_bytes_they_cover(
        head in proptest::collection::vec(any::<u8>(), 0..8),
        tail in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let text = format!("> 80 01 00 00\n< {{head:{}}} {{tail}} 9000\n", head.len());
        let transcript = Transcript::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected = exchange(&transcript.steps[0]).expected.clone().expect("expected");
        let mut response = head.clone();
        response.extend_from_slice(&tail);
        response.extend_from_slice(&[0x90, 0x00]);
        let captures = expected.matches(&response, &Variables::new()).expect("no variables");
        prop_assert_eq!(
            captures,
            Some(vec![("head".to_string(), head), ("tail".to_string(), tail)])
        );
    }

    #[test]
    fn the_parser_never_panics(text in "[ -~\n]{0,200}") {
        let _ = Transcript::parse(&text);
    }
}
