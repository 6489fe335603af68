//! The export-file parser never panics: golden `.exp` files with deterministic random
//! byte mutations either parse or give an error inside the input.

use oxicard_cap::export::ExportFile;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// xorshift64*: a fixed-seed generator so every run tests the same inputs.
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

/// Walks everything a parsed file offers, so lazy accessors run over mutated data too.
fn walk(file: &ExportFile<'_>) -> usize {
    let mut items = file.package_name().len() + file.package_aid().len();
    items += file.referenced_packages().count();
    items += file.constant_pool().entries().count();
    for class in file.classes() {
        items += class.supers().count() + class.interfaces().count();
        items += class.fields().map(|f| f.name.len()).sum::<usize>();
        items += class.methods().map(|m| m.descriptor.len()).sum::<usize>();
    }
    items
}

#[test]
fn mutated_golden_export_files_never_panic() {
    let names = [
        "lib/lib.exp",
        "sharing/server.exp",
        "sharing/client.exp",
        "hello/hello.exp",
    ];
    let files: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(format!("{GOLDEN}/{n}")).expect(n))
        .collect();
    let mut rng = Rng(0x0F1C_A2D0_E5B7_1234);
    let (mut total, mut accepted) = (0usize, 0usize);
    for round in 0..12_000 {
        let mut bytes = files[round % files.len()].clone();
        for _ in 0..=rng.below(4) {
            match rng.below(4) {
                0 => {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                1 => {
                    let at = rng.below(bytes.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
                2 => {
                    let at = rng.below(bytes.len() + 1);
                    bytes.truncate(at.max(1));
                }
                _ => {
                    let at = rng.below(bytes.len() + 1);
                    bytes.insert(at, rng.next() as u8);
                }
            }
        }
        total += 1;
        match ExportFile::parse(&bytes) {
            Ok(file) => {
                accepted += 1;
                walk(&file);
            }
            Err(err) => assert!(err.offset <= bytes.len(), "{err} in {} bytes", bytes.len()),
        }
    }
    println!("export mutation test: {total} mutated inputs, {accepted} still parsed, no panic");
    assert!(total >= 10_000);
    assert!(accepted < total, "mutations must be able to break a file");
}
