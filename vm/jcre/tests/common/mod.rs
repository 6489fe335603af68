//! Helpers shared by the integration tests: where the golden files are, which CAP holds
//! which package, and how to turn a CAP file into a load file.
#![allow(dead_code, clippy::unwrap_used)]

/// The golden reference data (a sibling of the repository).
pub const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// The CAP file (relative to [`GOLDEN`]) of a package AID.
pub fn cap_path(package_aid: &str) -> &'static str {
    match package_aid {
        "F00000010100" => "hello/hello.cap",
        "F00000010800" => "lib/lib.cap",
        "F00000010200" => "bytecodes/bytecodes.cap",
        "F00000010300" => "ints/ints.cap",
        "F00000010400" => "wallet/wallet.cap",
        "F00000010500" => "crypto/crypto.cap",
        "F00000010600" => "sharing/server.cap",
        "F00000010700" => "sharing/client.cap",
        "F00000010900" => "widecp/widecp.cap",
        other => panic!("unknown package {other}"),
    }
}

/// Reads a CAP file (zip) and concatenates its components in GlobalPlatform load order
/// (Descriptor included), with oxicard-cap's JAR reader.
pub fn load_file(path: &str) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    oxicard_cap::jar::read_cap_jar(&bytes)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .load_file_data_block(true)
}

/// Runs `f` on a thread with a big stack (a card with its NVM array lives on the stack in
/// debug builds).
pub fn in_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}
