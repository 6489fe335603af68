//! The streaming loader through the `Card` facade: golden load files fed in blocks of
//! every size a GlobalPlatform LOAD can carry must link exactly like the whole file, and a
//! load that fails anywhere (malformed framing, link error at the very end, abort, dropped
//! session) must leave every live byte of the card image and the free memory as they were.
#![allow(clippy::unwrap_used)]

use oxicard_jcre::Card;
use oxicard_store::{Nvm, RamNvm};
use oxicard_vm::layout;
mod common;

use common::{cap_path, in_thread, load_file, GOLDEN};

const NVM: usize = 256 * 1024;
type TestCard = Card<RamNvm<NVM>>;

fn golden_load_file(aid: &str) -> Vec<u8> {
    load_file(&format!("{GOLDEN}/{}", cap_path(aid)))
}

fn new_card() -> Box<TestCard> {
    Box::new(Card::new(RamNvm::new()).unwrap())
}

/// Installs and selects hello and checks its echo command (an oracle from the hello
/// transcript: the data comes back unchanged with 9000).
fn hello_works(card: &mut TestCard) {
    let aid = [0xF0, 0, 0, 0x01, 0x01, 0x01];
    let package = [0xF0, 0, 0, 0x01, 0x01, 0x00];
    card.install(&package, &aid, &aid, &[]).unwrap();
    let mut resp = [0u8; 258];
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, 6];
    select.extend_from_slice(&aid);
    let n = card.transmit(&select, &mut resp).unwrap();
    assert_eq!(&resp[..n], &[0x90, 0x00]);
    let n = card
        .transmit(&[0x80, 0x01, 0, 0, 3, 7, 8, 9, 0], &mut resp)
        .unwrap();
    assert_eq!(&resp[..n], &[7, 8, 9, 0x90, 0x00]);
}

/// The live part of the image: superblock, the used entries of each directory, and the
/// allocated image area. Free space may hold stale bytes of a failed load.
fn live_image(card: &TestCard) -> Vec<u8> {
    let nvm = card.vm().nvm().as_slice().unwrap();
    let sb = layout::Superblock::read(card.vm().nvm()).unwrap();
    let mut out = nvm[..16].to_vec();
    let pkgs = layout::PKG_DIR as usize;
    out.extend_from_slice(&nvm[pkgs..pkgs + sb.package_count as usize * layout::PKG_REC]);
    let classes = layout::CLASS_DIR as usize;
    out.extend_from_slice(&nvm[classes..classes + sb.class_count as usize * 4]);
    let objects = layout::OBJ_TABLE as usize;
    out.extend_from_slice(&nvm[objects..objects + sb.object_count as usize * 4]);
    out.extend_from_slice(&nvm[layout::IMAGE_START as usize..sb.top as usize]);
    out
}

/// Splits a load file into its components (tag, whole component bytes).
fn components(lf: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lf.len() {
        let size = u16::from_be_bytes([lf[i + 1], lf[i + 2]]) as usize;
        out.push((lf[i], lf[i..i + 3 + size].to_vec()));
        i += 3 + size;
    }
    out
}

#[test]
fn every_block_size_links_like_the_whole_file() {
    in_thread(|| {
        let lf = golden_load_file("F00000010100");
        for block in [1usize, 2, 3, 7, 64, 128, 200, 254, 255] {
            let mut card = new_card();
            let mut session = card.begin_load();
            for chunk in lf.chunks(block) {
                session.feed(chunk).unwrap();
            }
            assert_eq!(session.bytes_fed(), lf.len());
            session.finish().unwrap();
            hello_works(&mut card);
        }
    });
}

#[test]
fn a_link_failure_at_the_end_leaves_the_card_as_it_was() {
    in_thread(|| {
        let mut card = new_card();
        card.load_cap(&golden_load_file("F00000010800")).unwrap();
        let before = live_image(&card);
        let free = card.available_persistent();
        // Without RefLocation the linker fails last, after it has written classes, the constant
        // pool and static arrays.
        let bytecodes = golden_load_file("F00000010200");
        let broken: Vec<u8> = components(&bytecodes)
            .into_iter()
            .filter(|(tag, _)| *tag != 9)
            .flat_map(|(_, c)| c)
            .collect();
        let mut session = card.begin_load();
        for chunk in broken.chunks(255) {
            session.feed(chunk).unwrap();
        }
        assert!(session.finish().is_err());
        assert_eq!(live_image(&card), before);
        assert_eq!(card.available_persistent(), free);
        // the complete package loads afterwards
        card.load_cap(&bytecodes).unwrap();
        assert!(card.available_persistent() < free);
    });
}

#[test]
fn malformed_framing_abort_and_drop_leave_the_card_as_it_was() {
    in_thread(|| {
        let mut card = new_card();
        card.load_cap(&golden_load_file("F00000010800")).unwrap();
        let before = live_image(&card);
        let free = card.available_persistent();
        let lf = golden_load_file("F00000010100");
        // truncated in the middle of a component
        let mut session = card.begin_load();
        session.feed(&lf[..lf.len() - 1]).unwrap();
        assert!(session.finish().is_err());
        // the same component twice
        let header = &components(&lf)[0].1;
        let mut session = card.begin_load();
        session.feed(header).unwrap();
        assert!(session.feed(header).is_err());
        assert!(session.feed(&lf).is_err(), "errors are sticky");
        session.abort();
        // a component larger than the free memory
        let mut session = card.begin_load();
        let _ = session.feed(&[7, 0xFF, 0xFF]);
        drop(session);
        // a session dropped half way
        let mut session = card.begin_load();
        session.feed(&lf[..lf.len() / 2]).unwrap();
        drop(session);
        assert_eq!(live_image(&card), before);
        assert_eq!(card.available_persistent(), free);
        card.load_cap(&lf).unwrap();
        hello_works(&mut card);
    });
}

#[test]
fn staging_a_component_larger_than_free_memory_is_refused() {
    in_thread(|| {
        let mut card = Box::new(Card::new(RamNvm::<{ 32 * 1024 }>::new()).unwrap());
        let free = card.available_persistent();
        let mut session = card.begin_load();
        let big = (free + 1).min(0xFFFF) as u16;
        let [hi, lo] = big.to_be_bytes();
        if free < 0xFFFF {
            assert!(session.feed(&[7, hi, lo]).is_err());
        }
        session.abort();
        assert_eq!(card.available_persistent(), free);
    });
}
