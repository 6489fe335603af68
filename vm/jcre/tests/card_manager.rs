//! The card manager driven only with APDUs, as GlobalPlatformPro drives a card: the golden
//! packages loaded with INSTALL [for load] and LOAD blocks (`C4` + BER length + load file
//! data block, blocks of at most 255 bytes, P1 80 on the last, P2 the block number),
//! instances created with INSTALL [for install and make selectable], the golden transcripts
//! run on them, GET STATUS, DELETE, and the refusals that must leave the card unchanged
//! (judged on the digest of the persistent state and the free memory).
#![allow(clippy::unwrap_used)]

mod common;
mod tear;

use common::{cap_path, load_file, GOLDEN};
use oxicard_jcre::{Card, ISD_AID};
use tear::{card_digest, hex, new_nvm, power_up, transcript, Step, TestNvm};

const HELLO_PKG: &str = "F00000010100";
const HELLO: &str = "F00000010101";
const WALLET_PKG: &str = "F00000010400";
const WALLET: &str = "F00000010401";
const LIB_PKG: &str = "F00000010800";
const BYTECODES_PKG: &str = "F00000010200";
const SERVER_PKG: &str = "F00000010600";
const CLIENT_PKG: &str = "F00000010700";

const SELECT_ISD: &str = "00A4040008A000000151000000";

fn send(card: &mut Card<TestNvm>, apdu: &[u8]) -> Vec<u8> {
    let mut resp = [0u8; 300];
    let n = card.transmit(apdu, &mut resp).unwrap();
    resp[..n].to_vec()
}

fn send_hex(card: &mut Card<TestNvm>, apdu: &str) -> Vec<u8> {
    send(card, &hex(apdu))
}

fn sw(resp: &[u8]) -> u16 {
    u16::from_be_bytes([resp[resp.len() - 2], resp[resp.len() - 1]])
}

/// A case-3/4 APDU with Le 00.
fn apdu(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut a = header.to_vec();
    a.push(data.len() as u8);
    a.extend_from_slice(data);
    a.push(0);
    a
}

fn lv(out: &mut Vec<u8>, value: &[u8]) {
    out.push(value.len() as u8);
    out.extend_from_slice(value);
}

fn load_file_of(package: &str) -> Vec<u8> {
    load_file(&format!("{GOLDEN}/{}", cap_path(package)))
}

/// INSTALL [for load] of `package` (no SD AID, hash, parameters or token).
fn install_for_load(package: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    lv(&mut data, package);
    data.extend_from_slice(&[0, 0, 0, 0]);
    apdu([0x80, 0xE6, 0x02, 0x00], &data)
}

/// The load file as GlobalPlatformPro sends it: `C4`, BER length, the data block.
fn c4_framed(load_file: &[u8]) -> Vec<u8> {
    let mut framed = vec![0xC4];
    match load_file.len() {
        n if n < 0x80 => framed.push(n as u8),
        n if n < 0x100 => framed.extend_from_slice(&[0x81, n as u8]),
        n => framed.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    framed.extend_from_slice(load_file);
    framed
}

/// The LOAD commands carrying `stream` in blocks of `block` bytes.
fn load_commands(stream: &[u8], block: usize) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = stream.chunks(block).collect();
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let p1 = if i == last { 0x80 } else { 0x00 };
            apdu([0x80, 0xE8, p1, i as u8], chunk)
        })
        .collect()
}

/// Loads `package` (its golden CAP) with INSTALL [for load] and LOAD blocks of 255 bytes;
/// returns the status word of the last LOAD (every earlier command must answer 9000).
fn gp_load(card: &mut Card<TestNvm>, package: &str) -> u16 {
    let stream = c4_framed(&load_file_of(package));
    gp_load_stream(card, &hex(package), &stream, 255)
}

fn gp_load_stream(card: &mut Card<TestNvm>, package: &[u8], stream: &[u8], block: usize) -> u16 {
    assert_eq!(send_hex(card, SELECT_ISD)[18..], [0x90, 0x00]);
    assert_eq!(send(card, &install_for_load(package)), hex("00 9000"));
    let commands = load_commands(stream, block);
    let (last, blocks) = commands.split_last().unwrap();
    for c in blocks {
        assert_eq!(send(card, c), hex("9000"), "LOAD block {:02X}", c[3]);
    }
    sw(&send(card, last))
}

/// INSTALL [for install and make selectable] with install parameters `C9 <params>`.
fn install_command(package: &[u8], applet: &[u8], instance: &[u8], params: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    lv(&mut data, package);
    lv(&mut data, applet);
    lv(&mut data, instance);
    lv(&mut data, &[0x00]);
    let mut install_params = vec![0xC9];
    lv(&mut install_params, params);
    lv(&mut data, &install_params);
    lv(&mut data, &[]);
    apdu([0x80, 0xE6, 0x0C, 0x00], &data)
}

fn gp_install(
    card: &mut Card<TestNvm>,
    package: &[u8],
    applet: &[u8],
    instance: &[u8],
    params: &[u8],
) -> Vec<u8> {
    assert_eq!(sw(&send_hex(card, SELECT_ISD)), 0x9000);
    send(card, &install_command(package, applet, instance, params))
}

fn delete(card: &mut Card<TestNvm>, aid: &str, related: bool) -> Vec<u8> {
    let mut data = vec![0x4F];
    lv(&mut data, &hex(aid));
    let p2 = if related { 0x80 } else { 0x00 };
    send(card, &apdu([0x80, 0xE4, 0x00, p2], &data))
}

fn get_status(card: &mut Card<TestNvm>, p1: u8, p2: u8) -> Vec<u8> {
    send(card, &apdu([0x80, 0xF2, p1, p2], &[0x4F, 0x00]))
}

/// Runs a golden transcript with every load and install done through the card manager.
fn run_transcript_through_card_manager(card: &mut Card<TestNvm>, name: &str) {
    for step in transcript(name) {
        match step {
            Step::Load(aid, _) => assert_eq!(gp_load(card, &aid), 0x9000, "loading {aid}"),
            Step::Install(p, a, i, params) => {
                assert_eq!(gp_install(card, &p, &a, &i, &params), hex("00 9000"))
            }
            Step::Reset => card.reset().unwrap(),
            Step::Command(line, c, expected) => {
                assert_eq!(send(card, &c), expected, "{name} transcript line {line}")
            }
        }
    }
}

/// The legacy GET STATUS entries: (AID, life cycle, privileges).
fn legacy_entries(resp: &[u8]) -> Vec<(Vec<u8>, u8, u8)> {
    let mut entries = Vec::new();
    let mut rest = &resp[..resp.len() - 2];
    while let [len, tail @ ..] = rest {
        let n = *len as usize;
        entries.push((tail[..n].to_vec(), tail[n], tail[n + 1]));
        rest = &tail[n + 2..];
    }
    entries
}

#[test]
fn the_isd_answers_select_with_its_fci_and_is_selected_after_reset() {
    let mut card = Card::new(new_nvm()).unwrap();
    let resp = send_hex(&mut card, SELECT_ISD);
    assert_eq!(resp, hex("6F10 8408 A000000151000000 A504 9F6501FF 9000"));
    assert_eq!(&resp[4..12], ISD_AID);
    // an empty SELECT selects the default application, the ISD
    assert_eq!(send_hex(&mut card, "00A4040000"), resp);
    // explicitly selected: an unknown instruction is not supported
    assert_eq!(send_hex(&mut card, "8030000000"), hex("6D00"));
    assert_eq!(
        send_hex(&mut card, "8450000008 0102030405060708 00"),
        hex("6882")
    );
    // after reset the ISD is selected by default; unknown commands answer 6A82 as before
    card.reset().unwrap();
    assert_eq!(send_hex(&mut card, "8030000000"), hex("6A82"));
    assert_eq!(send_hex(&mut card, "80CA006600"), hex("6624 7322 06072A864886FC6B01 600C060A2A864886FC6B02020201 6309 06072A864886FC6B03 9000"));
    assert_eq!(send_hex(&mut card, "80CA9F7F00"), hex("6A88"));
    // an empty card has only the ISD
    assert_eq!(get_status(&mut card, 0x40, 0x00), hex("6A88"));
    assert_eq!(get_status(&mut card, 0x20, 0x00), hex("6A88"));
    assert_eq!(
        get_status(&mut card, 0x80, 0x00),
        hex("08 A000000151000000 01 9E 9000")
    );
}

#[test]
fn golden_hello_and_wallet_load_install_and_run_through_the_card_manager() {
    let mut card = Card::new(new_nvm()).unwrap();
    run_transcript_through_card_manager(&mut card, "hello");
    run_transcript_through_card_manager(&mut card, "wallet");
    card.check_invariants().unwrap();

    assert_eq!(sw(&send_hex(&mut card, SELECT_ISD)), 0x9000);
    let apps = legacy_entries(&get_status(&mut card, 0x40, 0x00));
    let aids: Vec<Vec<u8>> = apps.iter().map(|e| e.0.clone()).collect();
    assert_eq!(aids, [hex(HELLO), hex(WALLET), hex("F00000010402")]);
    assert!(apps.iter().all(|e| e.1 == 0x07), "SELECTABLE: {apps:?}");
    let packages = legacy_entries(&get_status(&mut card, 0x20, 0x00));
    assert_eq!(packages, [(hex(HELLO_PKG), 1, 0), (hex(WALLET_PKG), 1, 0)]);
    // load files with their modules (legacy): AID, life cycle, privileges, count, modules
    assert_eq!(
        get_status(&mut card, 0x10, 0x00),
        hex("06F00000010100 01 00 01 06F00000010101 06F00000010400 01 00 01 06F00000010401 9000")
    );
    // TLV format: one E3 template per entry
    assert_eq!(
        get_status(&mut card, 0x40, 0x02)[..38],
        hex("E323 4F06F00000010101 9F700107 C503000000 C406F00000010100 CC08A000000151000000 E3")[..]
    );
    assert_eq!(
        get_status(&mut card, 0x10, 0x02)[..39],
        hex("E325 4F06F00000010100 9F700101 C50100 CE020100 8406F00000010101 CC08A000000151000000")
            [..]
    );
    // only entries whose AID starts with the given prefix
    assert_eq!(
        send_hex(&mut card, "80F24000 04 4F02F000 00")[..2],
        hex("06F0")[..]
    );
    assert_eq!(send_hex(&mut card, "80F24000 04 4F02A000 00"), hex("6A88"));
}

#[test]
fn get_status_pages_with_6310() {
    let mut card = Card::new(new_nvm()).unwrap();
    assert_eq!(gp_load(&mut card, HELLO_PKG), 0x9000);
    let instances: Vec<Vec<u8>> = (0..7u8)
        .map(|i| hex(&format!("F00000010101{i:020X}")))
        .collect();
    for instance in &instances {
        let r = gp_install(&mut card, &hex(HELLO_PKG), &hex(HELLO), instance, &[]);
        assert_eq!(r, hex("00 9000"));
    }
    // each TLV entry is 2 + 45 bytes: five fit in 256
    let first = get_status(&mut card, 0x40, 0x02);
    assert_eq!(sw(&first), 0x6310);
    assert_eq!(first.len(), 5 * 47 + 2);
    let next = get_status(&mut card, 0x40, 0x03);
    assert_eq!(sw(&next), 0x9000);
    assert_eq!(next.len(), 2 * 47 + 2);
    assert_eq!(next[4..20], instances[5][..]);
    // "next" without a 6310 before it
    assert_eq!(get_status(&mut card, 0x40, 0x03), hex("6A86"));
}

#[test]
fn refusals_answer_their_status_word_and_change_nothing() {
    let mut card = Card::new(new_nvm()).unwrap();
    assert_eq!(gp_load(&mut card, HELLO_PKG), 0x9000);
    assert_eq!(
        gp_install(&mut card, &hex(HELLO_PKG), &hex(HELLO), &hex(HELLO), &[]),
        hex("00 9000")
    );
    assert_eq!(gp_load(&mut card, LIB_PKG), 0x9000);
    assert_eq!(gp_load(&mut card, BYTECODES_PKG), 0x9000);
    let before = card_digest(&card);
    let free = card.available_persistent();
    let unchanged = |card: &Card<TestNvm>, what: &str| {
        assert!(card_digest(card) == before, "{what} changed the card");
        assert_eq!(card.available_persistent(), free, "{what}");
        card.check_invariants().unwrap();
    };

    // a LOAD out of sequence: block 2 after block 0 ends the load
    let stream = c4_framed(&load_file_of(WALLET_PKG));
    let blocks = load_commands(&stream, 255);
    assert_eq!(
        send(&mut card, &install_for_load(&hex(WALLET_PKG))),
        hex("00 9000")
    );
    assert_eq!(send(&mut card, &blocks[0]), hex("9000"));
    assert_eq!(send(&mut card, &blocks[2]), hex("6A86"));
    assert_eq!(send(&mut card, &blocks[1]), hex("6985"), "the load is over");
    // a LOAD without INSTALL [for load]; a repeated block
    assert_eq!(send(&mut card, &blocks[0]), hex("6985"));
    assert_eq!(
        send(&mut card, &install_for_load(&hex(WALLET_PKG))),
        hex("00 9000")
    );
    assert_eq!(send(&mut card, &blocks[0]), hex("9000"));
    assert_eq!(send(&mut card, &blocks[0]), hex("6A86"));
    assert!(!card.has_package(&hex(WALLET_PKG)));
    unchanged(&card, "LOAD out of sequence");

    // a LOAD of a package whose imports are missing (the client needs the server)
    assert_eq!(gp_load(&mut card, CLIENT_PKG), 0x6A88);
    assert!(!card.has_package(&hex(CLIENT_PKG)));
    unchanged(&card, "LOAD with missing imports");

    // DELETE of a package an applet instance still uses, or another package imports
    assert_eq!(delete(&mut card, HELLO_PKG, false), hex("6985"));
    assert_eq!(delete(&mut card, LIB_PKG, false), hex("6985"));
    assert_eq!(delete(&mut card, LIB_PKG, true), hex("6985"));
    assert_eq!(delete(&mut card, "A000000151000000", false), hex("6985"));
    assert_eq!(delete(&mut card, "F0000001FF", false), hex("6A88"));
    unchanged(&card, "DELETE of a used package");

    // INSTALL for an AID already taken: an instance, a package, the ISD
    for taken in [HELLO, WALLET_PKG, LIB_PKG, "A000000151000000"] {
        let r = gp_install(&mut card, &hex(HELLO_PKG), &hex(HELLO), &hex(taken), &[]);
        if taken == WALLET_PKG {
            // not on the card: this one installs, and is deleted again below
            assert_eq!(r, hex("00 9000"));
            assert_eq!(delete(&mut card, WALLET_PKG, false), hex("00 9000"));
            continue;
        }
        assert_eq!(r, hex("6985"), "instance {taken}");
    }
    assert_eq!(
        send(&mut card, &install_for_load(&hex(HELLO_PKG))),
        hex("6985")
    );
    // unknown package or applet
    let r = gp_install(&mut card, &hex(WALLET_PKG), &hex(WALLET), &hex(WALLET), &[]);
    assert_eq!(r, hex("6A88"));
    let r = gp_install(&mut card, &hex(HELLO_PKG), &hex(WALLET), &hex(WALLET), &[]);
    assert_eq!(r, hex("6A88"));
    // install parameters without C9
    let mut bad = install_command(&hex(HELLO_PKG), &hex(HELLO), &hex("F000000101AA"), &[]);
    let at = bad.len() - 4;
    bad[at] = 0xEF;
    assert_eq!(send(&mut card, &bad), hex("6A80"));
    // the registry has no trace of the instance installed and deleted
    assert_eq!(card.applet_instances().count(), 1);
    assert!(
        card_digest(&card) != before,
        "a deleted instance's objects stay in the heap"
    );
}

#[test]
fn load_framing_may_split_anywhere_and_must_be_exact() {
    let mut card = Card::new(new_nvm()).unwrap();
    let lf = load_file_of(HELLO_PKG);
    // blocks of 2 bytes: the C4 length is split between blocks; a DAP block first
    let mut stream = hex("E2 0A 4F 05 A000000151 C3 01 00");
    stream.extend_from_slice(&c4_framed(&lf));
    assert_eq!(
        gp_load_stream(&mut card, &hex(HELLO_PKG), &stream, 2),
        0x9000
    );
    assert!(card.has_package(&hex(HELLO_PKG)));
    assert_eq!(delete(&mut card, HELLO_PKG, false), hex("00 9000"));
    let before = card_digest(&card);

    // not C4: refused at the first block
    assert_eq!(
        send(&mut card, &install_for_load(&hex(HELLO_PKG))),
        hex("00 9000")
    );
    assert_eq!(send(&mut card, &load_commands(&lf, 255)[0]), hex("6A80"));
    // the C4 length promises more than comes
    let mut short = c4_framed(&lf);
    short.truncate(short.len() - 1);
    assert_eq!(
        gp_load_stream(&mut card, &hex(HELLO_PKG), &short, 255),
        0x6A80
    );
    // bytes after the load file data block
    let mut long = c4_framed(&lf);
    long.push(0);
    assert_eq!(
        gp_load_stream(&mut card, &hex(HELLO_PKG), &long, 255),
        0x6A80
    );
    // a package other than the one INSTALL [for load] named
    let stream = c4_framed(&lf);
    assert_eq!(
        gp_load_stream(&mut card, &hex(WALLET_PKG), &stream, 255),
        0x6A80
    );
    // a malformed load file: the Header's magic broken
    let mut broken = lf.clone();
    broken[3] ^= 0xFF;
    assert_eq!(
        gp_load_stream(&mut card, &hex(HELLO_PKG), &c4_framed(&broken), 255),
        0x6A80
    );
    // another command in the middle ends the load
    assert_eq!(
        send(&mut card, &install_for_load(&hex(HELLO_PKG))),
        hex("00 9000")
    );
    let blocks = load_commands(&stream, 255);
    assert_eq!(send(&mut card, &blocks[0]), hex("9000"));
    assert_eq!(sw(&get_status(&mut card, 0x80, 0x00)), 0x9000);
    assert_eq!(send(&mut card, &blocks[1]), hex("6985"));
    assert!(
        card_digest(&card) == before,
        "failed loads changed the card"
    );
    assert!(!card.has_package(&hex(HELLO_PKG)));
    card.check_invariants().unwrap();
}

#[test]
fn delete_an_applet_then_its_package_then_load_it_again() {
    let mut card = Card::new(new_nvm()).unwrap();
    assert_eq!(gp_load(&mut card, HELLO_PKG), 0x9000);
    assert_eq!(
        gp_install(&mut card, &hex(HELLO_PKG), &hex(HELLO), &hex(HELLO), &[]),
        hex("00 9000")
    );
    assert_eq!(send_hex(&mut card, "00A4040006F00000010101"), hex("9000"));
    assert_eq!(send_hex(&mut card, "8002000000"), hex("48656C6C6F 9000"));
    // INSTALL [for make selectable]: every instance is selectable already
    assert_eq!(sw(&send_hex(&mut card, SELECT_ISD)), 0x9000);
    let make_selectable = "80E60800 0E 00 00 06F00000010101 0100 00 00 00";
    assert_eq!(send_hex(&mut card, make_selectable), hex("00 9000"));
    let unknown = "80E60800 0E 00 00 06F000000101FF 0100 00 00 00";
    assert_eq!(send_hex(&mut card, unknown), hex("6A88"));
    // DELETE goes to the ISD: select it first
    assert_eq!(sw(&send_hex(&mut card, SELECT_ISD)), 0x9000);
    assert_eq!(delete(&mut card, HELLO, false), hex("00 9000"));
    assert_eq!(send_hex(&mut card, "00A4040006F00000010101"), hex("6A82"));
    assert_eq!(get_status(&mut card, 0x40, 0x00), hex("6A88"));
    assert_eq!(delete(&mut card, HELLO, false), hex("6A88"));
    assert_eq!(delete(&mut card, HELLO_PKG, false), hex("00 9000"));
    assert!(!card.has_package(&hex(HELLO_PKG)));
    assert_eq!(get_status(&mut card, 0x20, 0x00), hex("6A88"));
    card.check_invariants().unwrap();

    // deletions survive a power cycle
    let mut card = power_up(card.into_nvm());
    card.check_invariants().unwrap();
    assert!(!card.has_package(&hex(HELLO_PKG)));
    assert_eq!(card.applet_instances().count(), 0);

    // load and install again; DELETE P2 80 removes the package with its instances
    assert_eq!(gp_load(&mut card, HELLO_PKG), 0x9000);
    assert_eq!(
        gp_install(&mut card, &hex(HELLO_PKG), &hex(HELLO), &hex(HELLO), &[]),
        hex("00 9000")
    );
    assert_eq!(send_hex(&mut card, "00A4040006F00000010101"), hex("9000"));
    assert_eq!(send_hex(&mut card, "8002000000"), hex("48656C6C6F 9000"));
    assert_eq!(sw(&send_hex(&mut card, SELECT_ISD)), 0x9000);
    assert_eq!(delete(&mut card, HELLO_PKG, true), hex("00 9000"));
    assert_eq!(card.applet_instances().count(), 0);
    assert!(!card.has_package(&hex(HELLO_PKG)));

    // a library can go once its importer is gone
    assert_eq!(gp_load(&mut card, SERVER_PKG), 0x9000);
    assert_eq!(gp_load(&mut card, CLIENT_PKG), 0x9000);
    assert_eq!(delete(&mut card, SERVER_PKG, true), hex("6985"));
    assert_eq!(delete(&mut card, CLIENT_PKG, true), hex("00 9000"));
    assert_eq!(delete(&mut card, SERVER_PKG, true), hex("00 9000"));
    card.check_invariants().unwrap();
}
