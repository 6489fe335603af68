//! Every command and response line of the golden transcripts
//! (/work/shared/golden/*/transcript.apdu, README section 4) decodes, and mutated golden
//! commands never panic the parser.
#![allow(clippy::unwrap_used)] // tests fail by panicking

mod common;

use common::{golden_exchanges, reference_cases, Rng};
use oxicard_apdu::{hex, Case, Command, Response, StatusWord};

/// The case the transcript's own spacing shows: header bytes are separate tokens, then
/// Lc (or Le), then data tokens, then an Le token.
fn case_from_tokens(text: &str) -> (Case, usize) {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    assert!(
        tokens[..tokens.len().min(4)].iter().all(|t| t.len() == 2),
        "{text}"
    );
    match tokens.len() {
        4 => (Case::Case1, 0),
        5 => (Case::Case2Short, 0),
        _ => {
            let lc = usize::from_str_radix(tokens[4], 16).unwrap();
            let body: usize = tokens[5..].iter().map(|t| t.len() / 2).sum();
            if body == lc {
                (Case::Case3Short, lc)
            } else {
                assert_eq!(body, lc + 1, "{text}");
                (Case::Case4Short, lc)
            }
        }
    }
}

#[test]
fn every_golden_command_and_response_decodes() {
    let exchanges = golden_exchanges();
    assert!(
        exchanges.len() >= 341,
        "found only {} commands",
        exchanges.len()
    );
    let mut per_case = std::collections::BTreeMap::new();
    for exchange in &exchanges {
        let place = &exchange.place;
        let apdu = hex::decode(&exchange.command).unwrap_or_else(|e| panic!("{place}: {e}"));
        let command = Command::parse(&apdu).unwrap_or_else(|e| panic!("{place}: {e}"));
        // Oracle 1: the field layout written in the transcript.
        let (case, lc) = case_from_tokens(&exchange.command);
        assert_eq!(command.case(), case, "{place}");
        assert_eq!(command.data().len(), lc, "{place}");
        // Oracle 2: the ISO length formulas, checked one by one.
        let reference = reference_cases(&apdu);
        assert_eq!(reference.len(), 1, "{place}");
        assert_eq!(
            reference[0],
            (command.case(), command.data().len(), command.le()),
            "{place}"
        );
        // README §4: only short APDUs; commands that expect data carry Le = 00 (Ne = 256).
        assert!(!command.is_extended(), "{place}");
        if let Some(ne) = command.le() {
            assert_eq!(ne, 256, "{place}");
        }
        // Encoding gives the transcript bytes back, and Display its text (one transcript
        // line splits its data into two tokens, so compare without spaces too).
        assert_eq!(command.to_vec(), apdu, "{place}");
        let text = command.to_string();
        let line: Vec<&str> = exchange.command.split_whitespace().collect();
        assert_eq!(text.replace(' ', ""), line.concat(), "{place}");
        if line.len() <= 7 {
            assert_eq!(text, line.join(" "), "{place}");
        }

        let response_bytes =
            hex::decode(&exchange.response).unwrap_or_else(|e| panic!("{place}: {e}"));
        let response = Response::parse(&response_bytes).unwrap_or_else(|e| panic!("{place}: {e}"));
        // The SW is the last token of the response line, written separately.
        let sw_token = exchange.response.split_whitespace().last().unwrap();
        assert_eq!(format!("{:04X}", response.sw.0), sw_token, "{place}");
        assert_ne!(response.sw.meaning(), "unknown status word", "{place}");
        // Response data only comes back to commands that announced Le.
        if !response.data.is_empty() {
            assert!(
                command.case().expects_response(),
                "{place}: data for a {:?}",
                command.case()
            );
            assert!(response.data.len() <= 256, "{place}");
        }
        assert_eq!(response.to_vec(), response_bytes, "{place}");
        assert_eq!(response.to_string(), exchange.response, "{place}");
        *per_case.entry(format!("{:?}", command.case())).or_insert(0) += 1;
    }
    println!("golden commands per case: {per_case:?}");
    // The transcripts use all four short cases.
    assert_eq!(per_case.len(), 4, "{per_case:?}");
}

#[test]
fn golden_status_words_display_with_their_meaning() {
    let mut seen = std::collections::BTreeSet::new();
    for exchange in golden_exchanges() {
        let bytes = hex::decode(&exchange.response).unwrap();
        seen.insert(Response::parse(&bytes).unwrap().sw);
    }
    for sw in &seen {
        println!("{sw}");
    }
    assert!(seen.contains(&StatusWord::SW_NO_ERROR));
    assert!(seen.contains(&StatusWord(0x63C2)));
    assert_eq!(
        StatusWord(0x63C2).to_string(),
        "63C2 (verification failed, 2 tries left)"
    );
}

/// One random change to a golden command.
fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut apdu = original.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        match rng.below(8) {
            // Truncate.
            0 => {
                let len = rng.below(apdu.len() + 1);
                apdu.truncate(len);
            }
            // Append bytes.
            1 => {
                for _ in 0..1 + rng.below(4) {
                    apdu.push(rng.byte());
                }
            }
            // Replace a byte.
            2 if !apdu.is_empty() => {
                let i = rng.below(apdu.len());
                apdu[i] = rng.byte();
            }
            // Flip one bit.
            3 if !apdu.is_empty() => {
                let i = rng.below(apdu.len());
                apdu[i] ^= 1 << rng.below(8);
            }
            // Insert a byte.
            4 => {
                let i = rng.below(apdu.len() + 1);
                apdu.insert(i, rng.byte());
            }
            // Delete a byte.
            5 if !apdu.is_empty() => {
                let i = rng.below(apdu.len());
                apdu.remove(i);
            }
            // Rewrite the length byte(s) after the header.
            6 if apdu.len() > 4 => {
                apdu[4] = [0x00, 0x01, 0xFF, rng.byte()][rng.below(4)];
            }
            // Turn the APDU into an extended one, right or wrong.
            _ if apdu.len() > 4 => {
                let extra = [0x00, rng.byte()];
                apdu.splice(4..4, extra);
            }
            _ => apdu.push(0x00),
        }
    }
    apdu
}

#[test]
fn mutated_golden_commands_give_errors_not_panics() {
    let originals: Vec<Vec<u8>> = golden_exchanges()
        .iter()
        .map(|exchange| hex::decode(&exchange.command).unwrap())
        .collect();
    let mut rng = Rng(0x0A1C_A4D0_5EED_0001);
    let (mut total, mut accepted, mut rejected) = (0usize, 0usize, 0usize);
    for original in &originals {
        for _ in 0..64 {
            let apdu = mutate(&mut rng, original);
            total += 1;
            let reference = reference_cases(&apdu);
            assert!(
                reference.len() <= 1,
                "{apdu:02X?} fits several cases: {reference:?}"
            );
            match Command::parse(&apdu) {
                Ok(command) => {
                    accepted += 1;
                    assert_eq!(
                        reference,
                        vec![(command.case(), command.data().len(), command.le())],
                        "{apdu:02X?}"
                    );
                    assert_eq!(command.to_vec(), apdu);
                }
                Err(e) => {
                    rejected += 1;
                    assert!(
                        reference.is_empty(),
                        "{apdu:02X?} rejected ({e}) but fits {reference:?}"
                    );
                    assert!(e.offset <= apdu.len(), "{apdu:02X?}: {e}");
                    assert!(e.to_string().starts_with("command APDU byte "), "{e}");
                }
            }
        }
    }
    println!("mutation test: {total} mutated golden commands, {accepted} well-formed, {rejected} rejected with an error");
    assert!(total >= 20_000, "only {total} mutated inputs");
    assert!(
        accepted > 1000 && rejected > 1000,
        "{accepted} accepted, {rejected} rejected"
    );
}
