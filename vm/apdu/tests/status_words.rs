//! Status word constants against the Java Card `javacard.framework.ISO7816` constants in
//! /work/shared/spec/api-tokens.tsv (taken from Oracle's export files), and meaning texts
//! against the status word table of /work/shared/spec/iso7816-apdu.md section 2.
#![allow(clippy::unwrap_used)] // tests fail by panicking

use std::collections::BTreeMap;

use oxicard_apdu::StatusWord;

/// Every `SW_*` constant of this crate that Java Card's `ISO7816` also defines.
const JAVA_CARD_NAMES: &[(&str, StatusWord)] = &[
    ("SW_NO_ERROR", StatusWord::SW_NO_ERROR),
    ("SW_BYTES_REMAINING_00", StatusWord::SW_BYTES_REMAINING_00),
    ("SW_WRONG_LENGTH", StatusWord::SW_WRONG_LENGTH),
    (
        "SW_SECURITY_STATUS_NOT_SATISFIED",
        StatusWord::SW_SECURITY_STATUS_NOT_SATISFIED,
    ),
    ("SW_FILE_INVALID", StatusWord::SW_FILE_INVALID),
    (
        "SW_AUTHENTICATION_METHOD_BLOCKED",
        StatusWord::SW_AUTHENTICATION_METHOD_BLOCKED,
    ),
    ("SW_DATA_INVALID", StatusWord::SW_DATA_INVALID),
    (
        "SW_CONDITIONS_NOT_SATISFIED",
        StatusWord::SW_CONDITIONS_NOT_SATISFIED,
    ),
    ("SW_COMMAND_NOT_ALLOWED", StatusWord::SW_COMMAND_NOT_ALLOWED),
    (
        "SW_APPLET_SELECT_FAILED",
        StatusWord::SW_APPLET_SELECT_FAILED,
    ),
    ("SW_WRONG_DATA", StatusWord::SW_WRONG_DATA),
    ("SW_FUNC_NOT_SUPPORTED", StatusWord::SW_FUNC_NOT_SUPPORTED),
    ("SW_FILE_NOT_FOUND", StatusWord::SW_FILE_NOT_FOUND),
    ("SW_RECORD_NOT_FOUND", StatusWord::SW_RECORD_NOT_FOUND),
    ("SW_INCORRECT_P1P2", StatusWord::SW_INCORRECT_P1P2),
    ("SW_WRONG_P1P2", StatusWord::SW_WRONG_P1P2),
    ("SW_CORRECT_LENGTH_00", StatusWord::SW_CORRECT_LENGTH_00),
    ("SW_INS_NOT_SUPPORTED", StatusWord::SW_INS_NOT_SUPPORTED),
    ("SW_CLA_NOT_SUPPORTED", StatusWord::SW_CLA_NOT_SUPPORTED),
    ("SW_UNKNOWN", StatusWord::SW_UNKNOWN),
    ("SW_FILE_FULL", StatusWord::SW_FILE_FULL),
    (
        "SW_LOGICAL_CHANNEL_NOT_SUPPORTED",
        StatusWord::SW_LOGICAL_CHANNEL_NOT_SUPPORTED,
    ),
    (
        "SW_SECURE_MESSAGING_NOT_SUPPORTED",
        StatusWord::SW_SECURE_MESSAGING_NOT_SUPPORTED,
    ),
    (
        "SW_WARNING_STATE_UNCHANGED",
        StatusWord::SW_WARNING_STATE_UNCHANGED,
    ),
    (
        "SW_LAST_COMMAND_EXPECTED",
        StatusWord::SW_LAST_COMMAND_EXPECTED,
    ),
    (
        "SW_COMMAND_CHAINING_NOT_SUPPORTED",
        StatusWord::SW_COMMAND_CHAINING_NOT_SUPPORTED,
    ),
];

/// `SW_*` name → value of the `ISO7816` constants in api-tokens.tsv.
fn tsv_status_words() -> BTreeMap<String, u16> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/spec/api-tokens.tsv"
    );
    let text = std::fs::read_to_string(path).expect("api-tokens.tsv is readable");
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() < 9
            || columns[0] != "javacard.framework"
            || columns[1] != "ISO7816"
            || columns[3] != "const"
            || !columns[4].starts_with("SW_")
        {
            continue;
        }
        // Value column: "27264 (0x6A80)"; the decimal is the signed Java short.
        let value = columns[8];
        let decimal: i16 = value.split(' ').next().unwrap().parse().unwrap();
        let hex = value.split("(0x").nth(1).unwrap().trim_end_matches(')');
        let from_hex = u16::from_str_radix(hex, 16).unwrap();
        assert_eq!(decimal as u16, from_hex, "{line}");
        let previous = out.insert(columns[4].to_owned(), from_hex);
        assert!(previous.is_none() || previous == Some(from_hex), "{line}");
    }
    out
}

#[test]
fn every_java_card_iso7816_sw_constant_matches() {
    let tsv = tsv_status_words();
    assert!(
        tsv.len() >= 26,
        "only {} SW constants in the TSV",
        tsv.len()
    );
    let ours: BTreeMap<String, u16> = JAVA_CARD_NAMES
        .iter()
        .map(|(name, sw)| ((*name).to_owned(), sw.0))
        .collect();
    assert_eq!(
        ours, tsv,
        "ISO7816 SW_* constants differ from api-tokens.tsv"
    );
}

#[test]
fn status_bytes_and_classes() {
    let sw = StatusWord::SW_FILE_NOT_FOUND;
    assert_eq!((sw.sw1(), sw.sw2()), (0x6A, 0x82));
    assert_eq!(sw.to_bytes(), [0x6A, 0x82]);
    assert_eq!(StatusWord::from_bytes(0x6A, 0x82), sw);
    assert!(StatusWord::SW_NO_ERROR.is_success());
    assert!(!StatusWord(0x6110).is_success());
    assert!(StatusWord(0x6110).is_normal());
    assert!(StatusWord(0x63C1).is_warning() && StatusWord(0x6200).is_warning());
    assert!(StatusWord(0x6F00).is_error() && StatusWord(0x6400).is_error());
    assert!(!StatusWord(0x9000).is_error() && !StatusWord(0x6310).is_error());
}

#[test]
fn count_carrying_status_words() {
    assert_eq!(StatusWord::bytes_remaining(0x10), StatusWord(0x6110));
    assert_eq!(StatusWord::correct_length(0x20), StatusWord(0x6C20));
    assert_eq!(StatusWord::verification_failed(3), StatusWord(0x63C3));
    assert_eq!(StatusWord::verification_failed(0x13), StatusWord(0x63C3));
    assert_eq!(StatusWord(0x63C2).tries_left(), Some(2));
    assert_eq!(StatusWord(0x6310).tries_left(), None);
    assert_eq!(
        StatusWord(0x6110).to_string(),
        "6110 (OK, 16 more bytes available)"
    );
    assert_eq!(
        StatusWord(0x6100).to_string(),
        "6100 (OK, 256 or more bytes available)"
    );
    assert_eq!(
        StatusWord(0x6C08).to_string(),
        "6C08 (wrong Le, 8 is right)"
    );
    assert_eq!(
        StatusWord(0x6C00).to_string(),
        "6C00 (wrong Le, 256 is right)"
    );
    assert_eq!(
        StatusWord(0x63C1).to_string(),
        "63C1 (verification failed, 1 try left)"
    );
    assert_eq!(
        StatusWord(0x63C0).to_string(),
        "63C0 (verification failed, 0 tries left)"
    );
}

#[test]
fn display_is_hex_and_meaning() {
    assert_eq!(
        StatusWord::SW_FILE_NOT_FOUND.to_string(),
        "6A82 (file or application not found)"
    );
    assert_eq!(StatusWord::SW_NO_ERROR.to_string(), "9000 (OK)");
    assert_eq!(
        StatusWord::SW_GP_MORE_DATA.to_string(),
        "6310 (more data available: GlobalPlatform GET STATUS, repeat with P2 b1 set)"
    );
}

/// Each row of the spec's status word table (section 2), as SW and a word its meaning
/// must contain.
const SPEC_TABLE: &[(u16, &str)] = &[
    (0x9000, "OK"),
    (0x6200, "unchanged"),
    (0x6281, "corrupted"),
    (0x6282, "end of file"),
    (0x6283, "deactivated"),
    (0x6284, "format"),
    (0x6300, "changed"),
    (0x6400, "execution error"),
    (0x6500, "state changed"),
    (0x6581, "memory failure"),
    (0x6700, "wrong length"),
    (0x6800, "CLA"),
    (0x6881, "logical channel"),
    (0x6882, "secure messaging"),
    (0x6883, "last command"),
    (0x6884, "chaining"),
    (0x6900, "not allowed"),
    (0x6981, "file structure"),
    (0x6982, "security status"),
    (0x6983, "blocked"),
    (0x6984, "data invalid"),
    (0x6985, "conditions"),
    (0x6986, "no current EF"),
    (0x6987, "missing"),
    (0x6988, "incorrect"),
    (0x6999, "selection failed"),
    (0x6A80, "data field"),
    (0x6A81, "function not supported"),
    (0x6A82, "not found"),
    (0x6A83, "record not found"),
    (0x6A84, "memory"),
    (0x6A85, "TLV"),
    (0x6A86, "P1-P2"),
    (0x6A87, "P1-P2"),
    (0x6A88, "referenced data not found"),
    (0x6A89, "already exists"),
    (0x6A8A, "DF name"),
    (0x6B00, "P1-P2"),
    (0x6D00, "not supported"),
    (0x6E00, "class not supported"),
    (0x6F00, "no precise diagnosis"),
    (0x6310, "GET STATUS"),
    (0x6110, "GET RESPONSE"),
    (0x6C10, "wrong Le"),
    (0x63C5, "verification failed"),
];

#[test]
fn meanings_follow_the_spec_table() {
    for (value, word) in SPEC_TABLE {
        let meaning = StatusWord(*value).meaning();
        assert!(
            meaning.contains(word),
            "{value:04X}: {meaning:?} should mention {word:?}"
        );
    }
}

#[test]
fn every_status_word_has_a_meaning_and_display() {
    for value in 0..=u16::MAX {
        let sw = StatusWord(value);
        assert!(!sw.meaning().is_empty());
        let text = sw.to_string();
        assert!(text.starts_with(&format!("{value:04X} (")), "{text}");
        assert!(text.ends_with(')'), "{text}");
    }
    assert_eq!(StatusWord(0x1234).meaning(), "unknown status word");
    assert_eq!(StatusWord(0x9100).meaning(), "application-specific status");
}
