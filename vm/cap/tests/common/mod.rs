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
