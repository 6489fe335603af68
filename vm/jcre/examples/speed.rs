//! Quick release-mode speed check of the interpreter through the `Card` facade: echo APDUs
//! per second and the compute-heavy golden bytecodes commands (golden README §8).
//!
//! `cargo run --release -p oxicard-jcre --example speed` (a filter argument picks the
//! measurements whose name contains it; `SPEED_ONCE=1` runs each once, for callgrind;
//! `SPEED_MIN=k` prints the best of k batches).
//!
//! A host-side measuring tool, not card code: it unwraps, so a missing golden file or a
//! wrong response stops the measurement with the failure instead of timing it.
#![allow(clippy::unwrap_used)]

use oxicard_jcre::Card;
use oxicard_store::RamNvm;
use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The command on `line` of the bytecodes transcript (a `> ...` line).
fn transcript_command(name: &str, line: usize) -> Vec<u8> {
    let text =
        std::fs::read_to_string(format!("{}/{name}/transcript.apdu", common::GOLDEN)).unwrap();
    let l = text.lines().nth(line - 1).unwrap();
    hex(l.trim_start_matches('>'))
}

fn card_with(packages: &[&str], install: (&str, &str)) -> Box<Card<RamNvm<{ 256 * 1024 }>>> {
    let mut card = Box::new(Card::new(RamNvm::new()).unwrap());
    for p in packages {
        let lf = common::load_file(&format!("{}/{}", common::GOLDEN, common::cap_path(p)));
        card.load_cap(&lf).unwrap();
    }
    let (pkg, applet) = (hex(install.0), hex(install.1));
    card.install(&pkg, &applet, &applet, &[]).unwrap();
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, applet.len() as u8];
    select.extend_from_slice(&applet);
    let mut resp = [0u8; 258];
    let n = card.transmit(&select, &mut resp).unwrap();
    assert_eq!(&resp[n - 2..n], &[0x90, 0x00]);
    card
}

fn time<F: FnMut()>(what: &str, min_iters: u32, mut f: F) {
    // an optional argument picks the measurements whose name contains it
    if let Some(filter) = std::env::args().nth(1) {
        if !what.contains(filter.as_str()) {
            return;
        }
    }
    // SPEED_ONCE=1 runs each measurement once (for instruction counting under callgrind)
    if std::env::var_os("SPEED_ONCE").is_some() {
        f();
        return;
    }
    for _ in 0..min_iters.min(10) {
        f();
    }
    // SPEED_MIN=k: the fastest of k timed batches (each at least `min_iters` calls, or 2 ms),
    // a figure less disturbed by other load on the machine than the mean
    if let Some(k) = std::env::var("SPEED_MIN")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        f();
        let mut best = f64::MAX;
        for _ in 0..k.max(1) {
            let start = Instant::now();
            let mut iters = 0u32;
            while iters < min_iters.min(1000) || start.elapsed().as_micros() < 2000 {
                f();
                iters += 1;
            }
            best = best.min(start.elapsed().as_secs_f64() / iters as f64);
        }
        println!(
            "{what:<24} {:>12.3} µs/APDU  {:>12.0} APDUs/s (best of {k})",
            best * 1e6,
            1.0 / best
        );
        return;
    }
    let start = Instant::now();
    let mut iters = 0u32;
    while iters < min_iters || start.elapsed().as_millis() < 1000 {
        f();
        iters += 1;
    }
    let per = start.elapsed().as_secs_f64() / iters as f64;
    println!(
        "{what:<24} {:>12.3} µs/APDU  {:>12.0} APDUs/s",
        per * 1e6,
        1.0 / per
    );
}

fn main() {
    let mut resp = [0u8; 258];
    let mut hello = card_with(&["F00000010100"], ("F00000010100", "F00000010101"));
    for (what, cmd) in [
        ("echo 8 bytes", hex("80 01 00 00 08 0102030405060708 00")),
        ("echo 0 bytes", hex("80 01 00 00 00")),
    ] {
        time(what, 10_000, || {
            let n = hello.transmit(&cmd, &mut resp).unwrap();
            assert_eq!(resp[n - 2], 0x90);
        });
    }
    let mut bc = card_with(
        &["F00000010800", "F00000010200"],
        ("F00000010200", "F00000010201"),
    );
    for (what, line) in [
        ("CRC-16 (80 20)", 389),
        ("sort (80 21)", 395),
        ("fib(24) (80 1C 18)", 332),
        ("ack(3,3) (80 1D 03 03)", 341),
        ("sieve 1024 (80 22 0400)", 408),
    ] {
        let cmd = transcript_command("bytecodes", line);
        time(what, 5, || {
            let n = bc.transmit(&cmd, &mut resp).unwrap();
            assert_eq!(resp[n - 2], 0x90, "{what}");
        });
    }
    let mut ints = card_with(&["F00000010300"], ("F00000010300", "F00000010301"));
    let cmd = transcript_command("ints", 78);
    time("CRC-32 (80 02)", 5, || {
        let n = ints.transmit(&cmd, &mut resp).unwrap();
        assert_eq!(resp[n - 2], 0x90, "CRC-32");
    });
}
