//! Helpers shared by the golden-file tests: where the golden CAPs are, and a JCVM instruction
//! length table (from the JCVM specification opcode list, as in golden/tools/cap_opcodes.py).
#![allow(dead_code)]

use oxicard_cap::jar::{read_cap_jar, CapJar};

/// The golden CAPs: name, path under golden/, sum of component sizes (golden/README.md), and
/// the instruction count (golden/README.md section 6).
pub const GOLDEN: [(&str, &str, usize, usize); 9] = [
    ("hello", "hello/hello.cap", 448, 70),
    ("lib", "lib/lib.cap", 743, 150),
    ("bytecodes", "bytecodes/bytecodes.cap", 9212, 3201),
    ("ints", "ints/ints.cap", 1987, 693),
    ("wallet", "wallet/wallet.cap", 1952, 574),
    ("crypto", "crypto/crypto.cap", 3550, 962),
    ("server", "sharing/server.cap", 970, 184),
    ("client", "sharing/client.cap", 969, 231),
    ("widecp", "widecp/widecp.cap", 9665, 3148),
];

/// The golden folder.
pub fn golden_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/golden"
    ))
}

/// Reads a golden file.
pub fn golden_bytes(path: &str) -> Vec<u8> {
    let full = golden_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Reads a golden CAP JAR.
pub fn golden_jar(path: &str) -> CapJar {
    read_cap_jar(&golden_bytes(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Instruction lengths by opcode (0 = variable-length switch); opcodes 0..=184.
pub const LENGTHS: [u8; 185] = [
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 2, 3, 5, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2,
    2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3,
    3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 5, 3, 2, 3, 1, 1, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2,
];

/// Mnemonics by opcode.
pub const NAMES: [&str; 185] = [
    "nop",
    "aconst_null",
    "sconst_m1",
    "sconst_0",
    "sconst_1",
    "sconst_2",
    "sconst_3",
    "sconst_4",
    "sconst_5",
    "iconst_m1",
    "iconst_0",
    "iconst_1",
    "iconst_2",
    "iconst_3",
    "iconst_4",
    "iconst_5",
    "bspush",
    "sspush",
    "bipush",
    "sipush",
    "iipush",
    "aload",
    "sload",
    "iload",
    "aload_0",
    "aload_1",
    "aload_2",
    "aload_3",
    "sload_0",
    "sload_1",
    "sload_2",
    "sload_3",
    "iload_0",
    "iload_1",
    "iload_2",
    "iload_3",
    "aaload",
    "baload",
    "saload",
    "iaload",
    "astore",
    "sstore",
    "istore",
    "astore_0",
    "astore_1",
    "astore_2",
    "astore_3",
    "sstore_0",
    "sstore_1",
    "sstore_2",
    "sstore_3",
    "istore_0",
    "istore_1",
    "istore_2",
    "istore_3",
    "aastore",
    "bastore",
    "sastore",
    "iastore",
    "pop",
    "pop2",
    "dup",
    "dup2",
    "dup_x",
    "swap_x",
    "sadd",
    "iadd",
    "ssub",
    "isub",
    "smul",
    "imul",
    "sdiv",
    "idiv",
    "srem",
    "irem",
    "sneg",
    "ineg",
    "sshl",
    "ishl",
    "sshr",
    "ishr",
    "sushr",
    "iushr",
    "sand",
    "iand",
    "sor",
    "ior",
    "sxor",
    "ixor",
    "sinc",
    "iinc",
    "s2b",
    "s2i",
    "i2b",
    "i2s",
    "icmp",
    "ifeq",
    "ifne",
    "iflt",
    "ifge",
    "ifgt",
    "ifle",
    "ifnull",
    "ifnonnull",
    "if_acmpeq",
    "if_acmpne",
    "if_scmpeq",
    "if_scmpne",
    "if_scmplt",
    "if_scmpge",
    "if_scmpgt",
    "if_scmple",
    "goto",
    "jsr",
    "ret",
    "stableswitch",
    "itableswitch",
    "slookupswitch",
    "ilookupswitch",
    "areturn",
    "sreturn",
    "ireturn",
    "return",
    "getstatic_a",
    "getstatic_b",
    "getstatic_s",
    "getstatic_i",
    "putstatic_a",
    "putstatic_b",
    "putstatic_s",
    "putstatic_i",
    "getfield_a",
    "getfield_b",
    "getfield_s",
    "getfield_i",
    "putfield_a",
    "putfield_b",
    "putfield_s",
    "putfield_i",
    "invokevirtual",
    "invokespecial",
    "invokestatic",
    "invokeinterface",
    "new",
    "newarray",
    "anewarray",
    "arraylength",
    "athrow",
    "checkcast",
    "instanceof",
    "sinc_w",
    "iinc_w",
    "ifeq_w",
    "ifne_w",
    "iflt_w",
    "ifge_w",
    "ifgt_w",
    "ifle_w",
    "ifnull_w",
    "ifnonnull_w",
    "if_acmpeq_w",
    "if_acmpne_w",
    "if_scmpeq_w",
    "if_scmpne_w",
    "if_scmplt_w",
    "if_scmpge_w",
    "if_scmpgt_w",
    "if_scmple_w",
    "goto_w",
    "getfield_a_w",
    "getfield_b_w",
    "getfield_s_w",
    "getfield_i_w",
    "getfield_a_this",
    "getfield_b_this",
    "getfield_s_this",
    "getfield_i_this",
    "putfield_a_w",
    "putfield_b_w",
    "putfield_s_w",
    "putfield_i_w",
    "putfield_a_this",
    "putfield_b_this",
    "putfield_s_this",
    "putfield_i_this",
];

fn s2(code: &[u8], at: usize) -> Option<i32> {
    Some(i32::from(i16::from_be_bytes([
        *code.get(at)?,
        *code.get(at + 1)?,
    ])))
}

fn s4(code: &[u8], at: usize) -> Option<i64> {
    let b = code.get(at..at + 4)?;
    Some(i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])))
}

/// Length of the instruction at `pc`, or `None` for an unknown opcode or truncated switch.
pub fn instruction_len(code: &[u8], pc: usize) -> Option<usize> {
    let op = usize::from(*code.get(pc)?);
    let len = usize::from(*LENGTHS.get(op)?);
    if len != 0 {
        return Some(len);
    }
    Some(match NAMES[op] {
        "stableswitch" => {
            let (lo, hi) = (s2(code, pc + 3)?, s2(code, pc + 5)?);
            7 + 2 * usize::try_from(hi - lo + 1).ok()?
        }
        "itableswitch" => {
            let (lo, hi) = (s4(code, pc + 3)?, s4(code, pc + 7)?);
            11 + 2 * usize::try_from(hi - lo + 1).ok()?
        }
        "slookupswitch" => 5 + 4 * usize::try_from(s2(code, pc + 3)?).ok()?,
        _ => 5 + 6 * usize::try_from(s2(code, pc + 3)?).ok()?,
    })
}
