//! A card built and booted in place ([`Card::new_in`], how firmware keeps its card in a
//! static without copying it) behaves like any card: the golden hello and wallet transcripts
//! pass on it, and a card booted in place on the NVM it left recovers its applets.
#![allow(clippy::unwrap_used)]

use std::mem::MaybeUninit;

use oxicard_jcre::{crypto::Platform, Card};
use oxicard_store::RamNvm;
mod common;

use common::{cap_path, in_thread, load_file, GOLDEN};

/// Card NVM size for the test.
const NVM: usize = 128 * 1024;

type TestCard = Card<RamNvm<NVM>>;

fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// Replays a golden transcript on `card`; panics at the first exchange that differs.
fn replay(card: &mut TestCard, name: &str) {
    let text = std::fs::read_to_string(format!("{GOLDEN}/{name}/transcript.apdu")).unwrap();
    let mut command = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap().trim();
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "" => {}
            "load" => card
                .load_cap(&load_file(&format!("{GOLDEN}/{}", cap_path(rest))))
                .unwrap(),
            "install" => {
                let args: Vec<Vec<u8>> = rest.split_whitespace().map(hex).collect();
                let instance = args.get(2).unwrap_or(&args[1]);
                let params = args.get(3).cloned().unwrap_or_default();
                card.install(&args[0], &args[1], instance, &params).unwrap();
            }
            "reset" => card.reset().unwrap(),
            ">" => command = hex(rest),
            "<" => {
                let mut response = [0u8; 258];
                let len = card.transmit(&command, &mut response).unwrap();
                assert_eq!(
                    response[..len],
                    hex(rest)[..],
                    "{name} line {}: response to {command:02X?}",
                    n + 1
                );
            }
            other => panic!("{name} line {}: unknown line kind {other}", n + 1),
        }
    }
}

#[test]
fn golden_transcripts_pass_on_a_card_booted_in_place() {
    in_thread(|| {
        let mut slot: Box<MaybeUninit<TestCard>> = Box::new(MaybeUninit::uninit());
        let card = Card::new_in(&mut slot, RamNvm::new(), Platform::default()).unwrap();
        replay(card, "hello");
        replay(card, "wallet");
        let applets: Vec<Vec<u8>> = card.applet_instances().map(<[u8]>::to_vec).collect();
        assert_eq!(
            applets,
            [
                hex("F00000010101"),
                hex("F00000010401"),
                hex("F00000010402")
            ]
        );
        // the same image booted in place again: the applets are back, in the same order
        let image = card.vm().nvm().clone();
        let mut again: Box<MaybeUninit<TestCard>> = Box::new(MaybeUninit::uninit());
        let card = Card::new_in(&mut again, image, Platform::default()).unwrap();
        let recovered: Vec<Vec<u8>> = card.applet_instances().map(<[u8]>::to_vec).collect();
        assert_eq!(recovered, applets);
        card.check_invariants().unwrap();
    });
}
