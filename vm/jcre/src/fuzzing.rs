//! Entry points for fuzzing the card runtime: load arbitrary bytes as a package, install
//! every applet it declares, and send a few commands. Whatever the input, nothing may
//! panic; every failure must come back as an error or a status word. Std-free, so the same
//! code runs under cargo-fuzz and in the property tests.

use crate::Card;
use oxicard_store::RamNvm;

/// NVM size of the fuzzed card.
pub const FUZZ_NVM: usize = 128 * 1024;

/// Execution budget per command of the fuzzed card (keeps every input fast).
pub const FUZZ_BUDGET: u64 = 20_000;

/// Commands sent to every installed applet after SELECT: the golden applets' instructions
/// (hello, bytecodes, ints, wallet) with small arguments, and some malformed ones.
const COMMANDS: &[&[u8]] = &[
    &[0x80, 0x01, 0x00, 0x00, 0x02, 0x01, 0x02, 0x00],
    &[0x80, 0x02, 0x00, 0x00, 0x00],
    &[0x80, 0x10, 0x00, 0x00, 0x04, 0x12, 0x34, 0x00, 0x07, 0x00],
    &[0x80, 0x13, 0x00, 0x00, 0x02, 0x00, 0x03, 0x00],
    &[0x80, 0x15, 0x01, 0x00, 0x00],
    &[0x80, 0x16, 0x01, 0x00, 0x00],
    &[0x80, 0x19, 0x00, 0x00, 0x00],
    &[0x80, 0x1C, 0x05, 0x00, 0x00],
    &[0x80, 0x20, 0x00, 0x01, 0x02, 0x31, 0x32, 0x00],
    &[0x80, 0x30, 0x00, 0x00, 0x00],
    &[0x80, 0x20, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04],
    &[0x80, 0x01, 0x00],
    &[0x00, 0xA4, 0x04, 0x00, 0x05, 0xF0, 0x00, 0x00, 0x00, 0x00],
];

/// Loads `data` as a package load file into a fresh card, installs every applet it
/// declares, selects each and sends a few commands. Never panics.
pub fn fuzz_load_and_run(data: &[u8]) {
    let _ = fuzz_load_and_run_with(&[], data);
}

/// Like [`fuzz_load_and_run`], after loading the well-formed packages `libraries` (e.g. a
/// library the fuzzed package imports). Returns how many commands got a `9000` answer
/// (so tests can check that an input reaches the interpreter).
pub fn fuzz_load_and_run_with(libraries: &[&[u8]], data: &[u8]) -> usize {
    let mut ok = 0;
    let Ok(mut card) = Card::new(RamNvm::<FUZZ_NVM>::new()) else {
        return ok;
    };
    card.set_instruction_budget(FUZZ_BUDGET);
    for lib in libraries {
        let _ = card.load_cap(lib);
    }
    let before = card.vm().package_count();
    // fed in GlobalPlatform-sized blocks, as a card manager would
    let mut session = card.begin_load();
    for block in data.chunks(255) {
        if session.feed(block).is_err() {
            break;
        }
    }
    if session.finish().is_err() {
        return ok;
    }
    let pkg = before;
    let mut response = [0u8; crate::MAX_RESPONSE];
    for index in 0..4u8 {
        let Ok(Some((aid, _))) = card.vm().package_applet(pkg, index) else {
            break;
        };
        let Some(package_aid) = card.vm().package_aid(pkg) else {
            break;
        };
        // application parameters as the wallet expects them (PIN length, PIN, balance);
        // applets that take none ignore them
        let params = [0x04, 0x31, 0x32, 0x33, 0x34, 0x00, 0x64];
        if card.install(&package_aid, &aid, &aid, &params).is_err() {
            continue;
        }
        let mut select = [0u8; 21];
        let n = aid.len().min(16);
        select[..5].copy_from_slice(&[0x00, 0xA4, 0x04, 0x00, n as u8]);
        if let (Some(d), Some(s)) = (select.get_mut(5..5 + n), aid.get(..n)) {
            d.copy_from_slice(s);
        }
        let commands =
            core::iter::once(select.get(..5 + n).unwrap_or(&[])).chain(COMMANDS.iter().copied());
        for command in commands {
            if let Ok(len) = card.transmit(command, &mut response) {
                if len >= 2 && response.get(len - 2..len) == Some(&[0x90, 0x00][..]) {
                    ok += 1;
                }
            }
        }
        let _ = card.reset();
    }
    ok
}
