//! Every method body of every golden CAP (made by the Oracle converter) decodes without
//! error, consumes exactly its `bytecode_count`, and re-encodes byte for byte. The
//! instruction counts and opcode census are compared with `shared/golden/README.md`
//! (computed there by an independent Python tool), and the disassembly text with the
//! converter's own `.jca` listings.
//!
//! The CAP is read with a minimal test-only reader (zip entry, Descriptor walk); the real
//! CAP parser lives in oxicard-cap.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use oxicard_isa::{instructions, BranchTarget, Opcode};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// (CAP file relative to golden/, instructions, distinct opcodes) from golden/README.md §6.
const EXPECTED: [(&str, usize, usize); 9] = [
    ("hello/hello.cap", 70, 27),
    ("lib/lib.cap", 150, 42),
    ("bytecodes/bytecodes.cap", 3201, 122),
    ("ints/ints.cap", 693, 104),
    ("wallet/wallet.cap", 574, 57),
    ("crypto/crypto.cap", 962, 62),
    ("sharing/server.cap", 184, 48),
    ("sharing/client.cap", 231, 48),
    ("widecp/widecp.cap", 3148, 55),
];

/// The opcodes that no golden CAP uses (README §6).
const NOT_PRESENT: [&str; 7] = [
    "nop",
    "swap_x",
    "jsr",
    "ret",
    "sinc_w",
    "getfield_i_w",
    "putfield_i_w",
];

fn component(cap: &Path, name: &str) -> Vec<u8> {
    let file = std::fs::File::open(cap).expect("open CAP");
    let mut zip = zip::ZipArchive::new(file).expect("CAP is a zip");
    let suffix = format!("/javacard/{name}.cap");
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("zip entry");
        if entry.name().ends_with(&suffix) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read component");
            return bytes;
        }
    }
    panic!("{} has no {name} component", cap.display());
}

fn u2(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]))
}

/// A method with bytecode: where its header starts in Method `info`, and its body.
struct Method {
    offset: usize,
    code: Vec<u8>,
}

/// Walks the Descriptor component (cap-format.md §4.11) for every method with bytecode and
/// cuts its body out of the Method component.
fn methods(cap: &Path) -> Vec<Method> {
    let descriptor = component(cap, "Descriptor");
    let method_component = component(cap, "Method");
    let info = &method_component[3..];
    assert_eq!(u2(&method_component, 1), info.len(), "Method size field");
    let mut at = 3;
    let class_count = descriptor[at];
    at += 1;
    let mut found = Vec::new();
    for _ in 0..class_count {
        at += 4; // token, access_flags, this_class_ref
        let interface_count = usize::from(descriptor[at]);
        let field_count = u2(&descriptor, at + 1);
        let method_count = u2(&descriptor, at + 3);
        at += 5 + 2 * interface_count + 7 * field_count;
        for _ in 0..method_count {
            let method_offset = u2(&descriptor, at + 2);
            let bytecode_count = u2(&descriptor, at + 6);
            at += 12;
            if bytecode_count == 0 {
                continue;
            }
            let extended = info[method_offset] >> 4 & 0x8 != 0;
            let start = method_offset + if extended { 4 } else { 2 };
            found.push(Method {
                offset: method_offset,
                code: info[start..start + bytecode_count].to_vec(),
            });
        }
    }
    found.sort_by_key(|m| m.offset);
    found
}

fn no_label(f: &mut fmt::Formatter<'_>, _: BranchTarget) -> fmt::Result {
    f.write_str("L")
}

/// The instruction texts of each method with code in a `.jca` listing, in listing order,
/// with label numbers dropped (`ifeq L12` → `ifeq L`).
fn jca_methods(jca: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(jca).expect("read jca");
    let mut methods: Vec<Vec<String>> = Vec::new();
    let mut in_method = false;
    for line in text.lines() {
        if line.trim_start().starts_with(".method") {
            in_method = true;
            methods.push(Vec::new());
            continue;
        }
        // Instruction lines: four tabs, an optional `Lnn:`, a tab, then `text;`.
        let Some(rest) = line.strip_prefix("\t\t\t\t") else {
            continue;
        };
        let rest = match rest.split_once(":\t") {
            Some((label, rest)) if label.starts_with('L') => rest,
            _ => match rest.strip_prefix('\t') {
                Some(rest) => rest,
                None => continue,
            },
        };
        if !in_method || rest.starts_with('\t') {
            continue;
        }
        let instruction = rest.split(';').next().expect("split");
        let normalized: Vec<String> = instruction
            .split(' ')
            .map(|word| {
                let label = word.len() > 1
                    && word.starts_with('L')
                    && word[1..].bytes().all(|b| b.is_ascii_digit());
                if label {
                    "L".to_string()
                } else {
                    word.to_string()
                }
            })
            .collect();
        if let Some(current) = methods.last_mut() {
            current.push(normalized.join(" "));
        }
    }
    methods.retain(|m| !m.is_empty());
    methods
}

#[test]
fn golden_method_bodies_round_trip() {
    let golden = PathBuf::from(GOLDEN);
    let mut all_opcodes = BTreeSet::new();
    let (mut total_methods, mut total_instructions) = (0, 0);
    for (cap_name, expected_instructions, expected_distinct) in EXPECTED {
        let cap = golden.join(cap_name);
        let mut census: BTreeMap<Opcode, usize> = BTreeMap::new();
        let methods = methods(&cap);
        assert!(!methods.is_empty(), "{cap_name}");
        for method in &methods {
            let mut end = 0;
            let mut reencoded = vec![0u8; method.code.len()];
            for instruction in instructions(&method.code) {
                let instruction = instruction
                    .unwrap_or_else(|e| panic!("{cap_name} method at {}: {e}", method.offset));
                assert_eq!(
                    instruction.offset, end,
                    "{cap_name}: instructions are contiguous"
                );
                let written = instruction
                    .encode(&mut reencoded[end..])
                    .unwrap_or_else(|e| panic!("{cap_name} at {}: {e}", end));
                assert_eq!(written, instruction.len());
                end += written;
                *census.entry(instruction.opcode).or_default() += 1;
                // Branch targets stay inside the method.
                for target in instruction.branch_targets() {
                    let target = target.expect("non-negative target");
                    assert!(target < method.code.len(), "{cap_name}: {instruction}");
                }
            }
            assert_eq!(
                end,
                method.code.len(),
                "{cap_name} method at {}: bytecode_count",
                method.offset
            );
            assert_eq!(
                reencoded, method.code,
                "{cap_name} method at {}: re-encoding",
                method.offset
            );
        }
        let count: usize = census.values().sum();
        println!(
            "{cap_name}: {} methods, {count} instructions, {} distinct opcodes",
            methods.len(),
            census.len()
        );
        assert_eq!(
            count, expected_instructions,
            "{cap_name}: instruction count"
        );
        assert_eq!(
            census.len(),
            expected_distinct,
            "{cap_name}: distinct opcodes"
        );
        assert!(
            census
                .keys()
                .all(|op| !op.info().flags.contains(oxicard_isa::Flags::RESERVED)),
            "{cap_name} uses a reserved opcode"
        );
        let uses_int = census
            .keys()
            .any(|op| op.info().flags.contains(oxicard_isa::Flags::INT));
        assert_eq!(
            uses_int,
            cap_name.starts_with("ints/"),
            "{cap_name}: int subset use"
        );
        total_methods += methods.len();
        total_instructions += count;
        all_opcodes.extend(census.into_keys());
    }
    println!(
        "all CAPs: {total_methods} methods, {total_instructions} instructions, {} distinct opcodes",
        all_opcodes.len()
    );
    assert_eq!(
        total_instructions,
        EXPECTED.iter().map(|e| e.1).sum::<usize>()
    );
    assert_eq!(
        all_opcodes.len(),
        178,
        "README: 178 of the 185 defined opcodes"
    );
    let missing: Vec<&str> = Opcode::ALL
        .iter()
        .filter(|op| {
            !all_opcodes.contains(op) && !op.info().flags.contains(oxicard_isa::Flags::RESERVED)
        })
        .map(|op| op.mnemonic())
        .collect();
    assert_eq!(missing, NOT_PRESENT);
}

#[test]
fn disassembly_matches_jca_listings() {
    let golden = PathBuf::from(GOLDEN);
    let mut compared = 0;
    for (cap_name, _, _) in EXPECTED {
        let cap = golden.join(cap_name);
        let jca = cap.with_extension("jca");
        let listing = jca_methods(&jca);
        let ours: Vec<Vec<String>> = methods(&cap)
            .iter()
            .map(|method| {
                instructions(&method.code)
                    .map(|i| i.expect("decode").display_with(no_label).to_string())
                    .collect()
            })
            .collect();
        assert_eq!(ours.len(), listing.len(), "{cap_name}: methods with code");
        for (index, (ours, theirs)) in ours.iter().zip(&listing).enumerate() {
            assert_eq!(
                ours, theirs,
                "{cap_name}: method #{index} (Method component order)"
            );
            compared += ours.len();
        }
    }
    println!("{compared} instructions compared with the .jca listings");
    assert_eq!(compared, EXPECTED.iter().map(|e| e.1).sum::<usize>());
}
