//! Hostile input: mutated golden class files and random bytecode must give errors, never
//! panics, in the reader, the decoder, the constant-pool views and the subset check.

#![allow(clippy::unwrap_used)]

mod common;

use common::Rng;
use oxicard_convert::bytecode::{decode, Operands};
use oxicard_convert::classfile::ClassFile;
use oxicard_convert::subset::{check_class, Options};
use proptest::prelude::*;

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
            let lines = code.line_table();
            for pc in [0, 1, 7, 100, u32::MAX] {
                assert_eq!(lines.line_at(pc), code.line_at(pc));
            }
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
        // half of the bytes are switch, wide, iinc or nop opcodes (mapped from plain bytes:
        // a `prop_oneof!` per byte made this the slowest test of the crate)
        body in proptest::collection::vec(any::<u16>(), 0..300).prop_map(|words| {
            words
                .into_iter()
                .map(|w| match w % 10 {
                    0 => 0xAA,
                    1 => 0xAB,
                    2 => 0xC4,
                    3 => 0x84,
                    4 => 0x00,
                    _ => (w >> 8) as u8,
                })
                .collect::<Vec<u8>>()
        })
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

/// One structured mutation of a method body that still parses: the bytes of the class file
/// are patched in place, so the class reaches the translator.
fn patch_method(rng: &mut Rng, bytes: &mut [u8], class: &ClassFile) -> Option<String> {
    let codes: Vec<_> = class.methods.iter().filter_map(|m| m.code()).collect();
    let code = codes.get(rng.below(codes.len()))?;
    let start = code.code_offset;
    let insns = code.instructions().ok()?;
    let insn = insns.get(rng.below(insns.len()))?;
    let at = start + insn.offset as usize;
    let put_u16 = |bytes: &mut [u8], at: usize, v: u16| {
        bytes[at..at + 2].copy_from_slice(&v.to_be_bytes());
    };
    let code_len = code.code.len() as u16;
    let table = start + code.code.len() + 2;
    match rng.below(9) {
        0 => {
            // max_locals and max_stack: 0 or huge
            let v = [0u16, 1, 0xFFFF][rng.below(3)];
            put_u16(bytes, start - 8 + 2 * rng.below(2), v);
            Some(format!("max_stack/max_locals {v}"))
        }
        1 => {
            // a branch into the middle of an instruction, before the code or past its end
            let branch = insns
                .iter()
                .filter(|i| matches!(i.operands, Operands::Branch(_)) && i.length == 3)
                .nth(rng.below(4))?;
            let delta = [1i16, -1, 2, i16::MAX, i16::MIN, code_len as i16][rng.below(6)];
            let at = start + branch.offset as usize + 1;
            let old = i16::from_be_bytes([bytes[at], bytes[at + 1]]);
            put_u16(bytes, at, old.wrapping_add(delta) as u16);
            Some(format!("branch at {} moved by {delta}", branch.offset))
        }
        2 => {
            // a constant-pool reference to nothing, to the wrong kind, or out of range
            let user = insns
                .iter()
                .filter(|i| matches!(i.operands, Operands::ConstantPool(_)) && i.length == 3)
                .nth(rng.below(6))?;
            let len = class.constant_pool.len() as u16;
            let v = [0, 1, len, len + 1, 0xFFFF, rng.below(len as usize) as u16][rng.below(6)];
            put_u16(bytes, start + user.offset as usize + 1, v);
            Some(format!("cp index {v} at {}", user.offset))
        }
        3 => {
            // a local variable index out of max_locals
            let user = insns
                .iter()
                .filter(|i| matches!(i.operands, Operands::Local(_)) && i.length == 2)
                .nth(rng.below(4))?;
            let v = rng.next() as u8;
            bytes[start + user.offset as usize + 1] = v;
            Some(format!("local {v} at {}", user.offset))
        }
        4 => {
            // a one-byte instruction replaced by another one-byte instruction
            let single = insns.iter().filter(|i| i.length == 1).nth(rng.below(8))?;
            let op = [
                0x00, 0x01, 0x02, 0x03, 0x1A, 0x2A, 0x2E, 0x33, 0x4F, 0x57, 0x58, 0x59, 0x5A, 0x5F,
                0x60, 0x6C, 0x70, 0x74, 0x78, 0x7E, 0x85, 0x88, 0x91, 0x93, 0xAC, 0xB0, 0xB1, 0xBE,
                0xBF, 0xC2, 0xC3,
            ][rng.below(31)];
            bytes[start + single.offset as usize] = op;
            Some(format!("opcode {op:#04x} at {}", single.offset))
        }
        5 => {
            // the last instruction (a return or throw) becomes a nop: falls off the end
            let last = insns.last()?;
            for b in &mut bytes[start + last.offset as usize..][..last.length as usize] {
                *b = 0;
            }
            Some("falls off the end".into())
        }
        6 if !code.exception_table.is_empty() => {
            // an exception table entry with a pc inside an instruction or out of range
            let entry = rng.below(code.exception_table.len());
            let field = rng.below(4);
            let v = [1u16, code_len, code_len + 1, 0xFFFF, 0][rng.below(5)];
            put_u16(bytes, table + 8 * entry + 2 * field, v);
            Some(format!("handler {entry} field {field} = {v}"))
        }
        _ => {
            // any byte of the instruction
            let k = rng.below(insn.length as usize);
            bytes[at + k] = rng.next() as u8;
            Some(format!("byte {k} of the instruction at {}", insn.offset))
        }
    }
}

/// Mutated golden packages (byte-level and instruction-level mutations of one class file)
/// go through the whole converter: each must give a CAP or an error, never panic, and
/// quickly.
#[test]
fn mutated_golden_packages_convert_or_refuse() {
    use common::{options_with_classdir, PACKAGES};
    use oxicard_convert::convert_package;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    let exports = common::temp_dir("mutant-exports");
    let mut packages = Vec::new();
    for p in PACKAGES {
        let classdir = PathBuf::from(format!("{}/{}/classes", common::GOLDEN, p.folder));
        let out = convert_package(&options_with_classdir(p, classdir.clone(), &exports)).unwrap();
        std::fs::write(exports.join(format!("{}.exp", p.last)), &out.export).unwrap();
        let package_dir = classdir.join(p.name.replace('.', "/"));
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&package_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "class"))
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        packages.push((p, files));
    }
    let work = common::temp_dir("mutants");
    let mut rng = Rng(0x5EED_C0DE_0BAD_F00D);
    let (mut converted, mut refused, mut failures) = (0, 0, Vec::new());
    let mut slowest = Duration::ZERO;
    for case in 0..400 {
        let (p, files) = &packages[case % packages.len()];
        let victim = rng.below(files.len());
        let (name, original) = &files[victim];
        let mut bytes = original.clone();
        let what = if case % 3 == 0 {
            bytes = mutate(&mut rng, original);
            Some("byte-level".to_string())
        } else {
            let class = ClassFile::parse(name, original).unwrap();
            patch_method(&mut rng, &mut bytes, &class)
        };
        let Some(what) = what else { continue };
        let classdir = work.join(format!("case{case}"));
        let package_dir = classdir.join(p.name.replace('.', "/"));
        std::fs::create_dir_all(&package_dir).unwrap();
        for (i, (file, original)) in files.iter().enumerate() {
            let content = if i == victim { &bytes } else { original };
            std::fs::write(package_dir.join(file), content).unwrap();
        }
        let opts = options_with_classdir(p, classdir.clone(), &exports);
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| convert_package(&opts));
        let took = started.elapsed();
        slowest = slowest.max(took);
        let label = format!("case {case}: {}/{name}: {what}", p.last);
        match result {
            Ok(Ok(_)) => converted += 1,
            Ok(Err(e)) => {
                refused += 1;
                assert!(!e.messages.is_empty() && e.messages.iter().all(|m| !m.is_empty()));
            }
            Err(_) => failures.push(format!("{label}: panicked")),
        }
        if took > Duration::from_secs(2) {
            failures.push(format!("{label}: took {took:?}"));
        }
        let _ = std::fs::remove_dir_all(&classdir);
    }
    eprintln!("mutated packages: {converted} converted, {refused} refused, slowest {slowest:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(converted > 20 && refused > 100, "{converted} {refused}");
}
