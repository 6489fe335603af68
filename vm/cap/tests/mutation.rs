//! Mutation test: random damage to every golden CAP's Load File Data Block (bit flips, byte
//! changes, truncations, insertions, size-field edits) must give `Ok` or a `CapError` from
//! parsing, checking, listing methods and re-encoding — never a panic.

#![allow(clippy::unwrap_used)] // tests fail by panicking

mod common;

use common::{golden_jar, GOLDEN};
use oxicard_cap::{Cap, RawComponent};

/// xorshift64*: a small deterministic generator (fixed seed, reproducible failures).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Offsets of the components' size fields in a load file.
fn size_fields(block: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = block;
    while !rest.is_empty() {
        let (raw, tail) = RawComponent::split_first(rest, 0).unwrap();
        out.push(block.len() - rest.len() + 1);
        let _ = raw;
        rest = tail;
    }
    out
}

fn mutate(rng: &mut Rng, original: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        if bytes.is_empty() {
            break;
        }
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            2 => bytes.truncate(at),
            3 => bytes.insert(at, rng.next() as u8),
            4 => {
                // Size field edit: off by a little or a random value.
                let field = sizes[rng.below(sizes.len())];
                if field + 1 < bytes.len() {
                    let old = u16::from_be_bytes([bytes[field], bytes[field + 1]]);
                    let new = match rng.below(3) {
                        0 => old.wrapping_add(1),
                        1 => old.wrapping_sub(1),
                        _ => rng.next() as u16,
                    };
                    bytes[field..field + 2].copy_from_slice(&new.to_be_bytes());
                }
            }
            _ => {
                // A random u2 written anywhere (offsets, counts, CP indices).
                if at + 1 < bytes.len() {
                    let value = rng.next() as u16;
                    bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
                }
            }
        }
    }
    bytes
}

/// Everything a loader or tool would do with a parsed CAP; errors are fine, panics are not.
fn exercise(bytes: &[u8]) -> (bool, bool) {
    let Ok(cap) = Cap::parse_load_file(bytes) else {
        return (false, false);
    };
    let checked = cap.check().is_ok();
    for m in cap.methods().flatten() {
        let _ = m.handlers.count();
    }
    let _ = cap.ref_location.byte2_index_offsets().count();
    let model = oxicard_cap::model::Cap::from_view(&cap);
    // Whatever parsed re-encodes to the same bytes, component by component.
    for (tag, encoded) in model.encode_components().unwrap() {
        assert_eq!(
            cap.component(tag).unwrap().bytes,
            encoded.as_slice(),
            "{tag}"
        );
    }
    (true, checked)
}

#[test]
fn mutated_load_files_never_panic() {
    // Mutations per golden CAP (same order as GOLDEN): fewer for the two 9 KB CAPs, whose
    // checks cost most in debug builds; 21,200 in all.
    const PER_CAP: [usize; 9] = [4000, 3000, 700, 2500, 2500, 1800, 3000, 3000, 700];
    let mut rng = Rng(0x0C0F_FEE0_DECA_FFED);
    let (mut tried, mut parsed, mut checked) = (0, 0, 0);
    for ((name, path, _, _), count) in GOLDEN.iter().zip(PER_CAP) {
        let block = golden_jar(path).load_file_data_block(true);
        assert_eq!(exercise(&block), (true, true), "{name}: unmutated");
        let sizes = size_fields(&block);
        for _ in 0..count {
            let mutated = mutate(&mut rng, &block, &sizes);
            let (p, c) = exercise(&mutated);
            tried += 1;
            parsed += usize::from(p);
            checked += usize::from(c);
        }
    }
    println!("mutations tried: {tried}, parsed: {parsed}, passed check: {checked}");
    assert!(tried >= 20_000);
    // The checks must reject most of what parses (most mutations break a reference).
    assert!(checked < parsed, "checks rejected nothing");
}
