//! Hostile input: mutated golden class files and random bytecode must give errors, never
//! panics, in the reader, the decoder, the constant-pool views and the subset check.

#![allow(clippy::unwrap_used)]

mod common;

use oxicard_convert::bytecode::decode;
use oxicard_convert::classfile::ClassFile;
use oxicard_convert::subset::{check_class, Options};
use proptest::prelude::*;

/// xorshift64*: a fixed, seedable generator so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len());
        match rng.below(7) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            2 => bytes[at] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)],
            3 => {
                // a big or small u16 where counts and indices live
                let value = [0u16, 1, 0x7FFF, 0xFFFF][rng.below(4)].to_be_bytes();
                bytes[at] = value[0];
                if at + 1 < bytes.len() {
                    bytes[at + 1] = value[1];
                }
            }
            4 => bytes.truncate(at),
            5 => bytes.insert(at, rng.next() as u8),
            _ => {
                if at < bytes.len() {
                    bytes.remove(at);
                }
            }
        }
        if bytes.is_empty() {
            break;
        }
    }
    bytes
}

/// Uses everything a later stage would use on a parsed class.
fn exercise(class: &ClassFile) {
    for index in 0..=class.constant_pool.len() as u16 + 1 {
        let cp = &class.constant_pool;
        let _ = cp.utf8(index);
        let _ = cp.class_name(index);
        let _ = cp.member_ref(index);
        let _ = cp.loadable(index);
        let _ = cp.invoke_dynamic(index);
        let _ = cp.name_and_type(index);
    }
    for method in &class.methods {
        let _ = method.method_descriptor();
        if let Some(code) = method.code() {
            let _ = code.instructions();
            let _ = code.line_at(0);
            let _ = code.stack_map_frames();
        }
    }
    for field in &class.fields {
        let _ = field.field_type();
    }
    for int_support in [false, true] {
        for diagnostic in check_class(class, &Options { int_support }) {
            let _ = diagnostic.to_string();
        }
    }
}

#[test]
fn mutated_golden_class_files_never_panic() {
    let originals: Vec<Vec<u8>> = common::golden_class_files()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let mut rng = Rng(0x0C1A_55F1_1E5E_ED01);
    let (mut parsed, mut refused) = (0, 0);
    for round in 0..12_000 {
        let original = &originals[round % originals.len()];
        let bytes = mutate(&mut rng, original);
        match ClassFile::parse("Mutant.class", &bytes) {
            Ok(class) => {
                parsed += 1;
                exercise(&class);
            }
            Err(e) => {
                refused += 1;
                if let Some(offset) = e.offset {
                    assert!(offset <= bytes.len(), "{e}");
                }
                assert!(!e.message.is_empty());
                assert!(e.to_string().starts_with("Mutant.class"), "{e}");
            }
        }
    }
    // both paths must really be exercised
    assert!(parsed > 1_000, "parsed {parsed}");
    assert!(refused > 1_000, "refused {refused}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decoder_never_panics_and_covers_its_input(code in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(instructions) = decode(&code) {
            let mut next = 0u32;
            for insn in &instructions {
                prop_assert_eq!(insn.offset, next);
                prop_assert!(insn.length > 0);
                next += insn.length;
            }
            prop_assert_eq!(next as usize, code.len());
            let starts: std::collections::BTreeSet<u32> =
                instructions.iter().map(|i| i.offset).collect();
            for insn in &instructions {
                for target in insn.branch_targets() {
                    prop_assert!(starts.contains(&target));
                }
            }
        }
    }

    #[test]
    fn decoder_handles_switch_heavy_input(
        body in proptest::collection::vec(
            prop_oneof![Just(0xAAu8), Just(0xABu8), Just(0xC4u8), Just(0x84u8), Just(0x00u8), any::<u8>()],
            0..300,
        )
    ) {
        let _ = decode(&body);
    }

    #[test]
    fn reader_never_panics_on_random_bodies(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 51];
        bytes.extend_from_slice(&body);
        if let Ok(class) = ClassFile::parse("Random.class", &bytes) {
            exercise(&class);
        }
    }
}
