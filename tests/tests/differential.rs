//! Differential test (issue 3): the golden `bytecodes` and `ints` applets run on the JVM, from
//! javac's class files, and in our VM, from Oracle's CAP files, on proptest-generated commands;
//! the responses (data and status word) must be equal.
//!
//! The JVM side is `tests/java/GoldenOracle.java` (see `oxicard_tests::jvm_oracle`): one `java`
//! process for the whole test binary, which calls the applet's own `process()`, so the golden
//! dispatch code and computation methods run unchanged; only the handful of API methods they
//! call (`Util.getShort/setShort/makeShort/arrayCopyNonAtomic`, the `APDU` buffer calls,
//! `JCSystem.makeTransient*Array`, `ISOException.throwIt`) come from the shadow classes in
//! `tests/java/shadow`, written from the API specification. `jvm_oracle_agrees_with_transcripts`
//! checks that oracle against the golden transcripts (made on jCardSim).
//!
//! Each property sends every case to both sides in the same order, so commands whose applet
//! state carries over (arrays, statics, fields, sort with 0 repetitions, the `lib` counters)
//! compare too. Generated values include the edges (-32768, -1, 0, 32767, ...) with good
//! probability.
//!
//! Not covered: INS 16 cases whose outcome depends on the implementation's call depth limit
//! (`deepThrow` deeper than 30 frames).
#![allow(clippy::unwrap_used)]

use std::sync::{Mutex, MutexGuard, OnceLock};

use oxicard_tests::golden_card::{
    to_hex, transcript_exchanges, GoldenApplet, GoldenCard, BYTECODES, INTS,
};
use oxicard_tests::jvm_oracle::JvmOracle;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases per command kind.
const CASES: u32 = 256;

/// The two sides: the JVM oracle and our cards (one per applet, so that selecting one applet
/// never deselects the other and clears its CLEAR_ON_DESELECT arrays).
struct Sides {
    jvm: JvmOracle,
    bytecodes: GoldenCard,
    ints: GoldenCard,
}

impl Sides {
    fn card(&mut self, applet: &GoldenApplet) -> &mut GoldenCard {
        if applet.class == BYTECODES.class {
            &mut self.bytecodes
        } else {
            &mut self.ints
        }
    }
}

/// Name of the JVM instance of an applet.
fn jvm_name(applet: &GoldenApplet) -> &'static str {
    applet.class.rsplit('.').next().unwrap()
}

fn new_sides() -> Sides {
    let mut jvm = JvmOracle::start(&[]).unwrap();
    let mut cards = Vec::new();
    for applet in [BYTECODES, INTS] {
        jvm.new_applet(jvm_name(&applet), &applet).unwrap();
        let mut card = GoldenCard::new(&[applet]).unwrap();
        card.select(&applet).unwrap();
        cards.push(card);
    }
    let ints = cards.pop().unwrap();
    let bytecodes = cards.pop().unwrap();
    Sides {
        jvm,
        bytecodes,
        ints,
    }
}

/// The shared sides, created on first use (on a big stack: the card's NVM is an array).
fn sides() -> MutexGuard<'static, Sides> {
    static SIDES: OnceLock<Mutex<Sides>> = OnceLock::new();
    SIDES
        .get_or_init(|| Mutex::new(new_sides()))
        .lock()
        // a failed property panicked while holding the lock; the sides are still usable
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` on a thread with a large stack (the card is built there and runs deep in debug
/// builds).
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    let outcome = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Sends `command` to both sides; returns (our VM's response, the JVM's response) as hex.
fn both(applet: &GoldenApplet, command: &[u8]) -> (String, String) {
    let mut sides = sides();
    let ours = sides.card(applet).transmit(command).unwrap();
    let jvm = sides.jvm.exchange(jvm_name(applet), command).unwrap();
    (to_hex(&ours), to_hex(&jvm))
}

/// Builds a case-4 command APDU `80 INS P1 P2 Lc data 00`, or case 2 `80 INS P1 P2 00`
/// without data.
fn command(ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
    let mut c = vec![0x80, ins, p1, p2];
    if !data.is_empty() {
        c.push(data.len() as u8);
        c.extend_from_slice(data);
    }
    c.push(0);
    c
}

/// Big-endian bytes of shorts.
fn shorts(values: &[i16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Checks `CASES` generated commands of one kind on both sides.
fn differential<S>(applet: GoldenApplet, strategy: S, to_command: fn(&S::Value) -> Vec<u8>)
where
    S: Strategy + Send + 'static,
    S::Value: std::fmt::Debug,
{
    on_big_stack(move || {
        let config = Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, |value| {
            let cmd = to_command(&value);
            let (ours, jvm) = both(&applet, &cmd);
            if ours != jvm {
                return Err(TestCaseError::fail(format!(
                    "command {}\n  our VM: {ours}\n  JVM:    {jvm}",
                    to_hex(&cmd)
                )));
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}

/// Edge values of a short.
const SHORT_EDGES: [i16; 16] = [
    i16::MIN,
    i16::MIN + 1,
    -256,
    -129,
    -128,
    -2,
    -1,
    0,
    1,
    2,
    7,
    127,
    128,
    255,
    i16::MAX - 1,
    i16::MAX,
];

/// Any short, an edge value one time in three.
fn short() -> impl Strategy<Value = i16> + Clone {
    prop_oneof![2 => any::<i16>(), 1 => prop::sample::select(&SHORT_EDGES[..])]
}

/// Edge values of an int.
const INT_EDGES: [i32; 12] = [
    i32::MIN,
    i32::MIN + 1,
    -65536,
    -32768,
    -1,
    0,
    1,
    2,
    32767,
    65536,
    i32::MAX - 1,
    i32::MAX,
];

/// Any int, an edge value one time in three.
fn int() -> impl Strategy<Value = i32> + Clone {
    prop_oneof![2 => any::<i32>(), 1 => prop::sample::select(&INT_EDGES[..])]
}

// ---------------------------------------------------------------- bytecodes

#[test]
fn alu_10() {
    differential(BYTECODES, (short(), short()), |&(a, b)| {
        command(0x10, 0, 0, &shorts(&[a, b]))
    });
}

#[test]
fn shifts_11() {
    // shift counts: all of 0..=40 (the count is taken & 0x1F), plus any short
    let count = prop_oneof![2 => -2i16..=40, 1 => short()];
    differential(BYTECODES, (short(), count), |&(v, c)| {
        command(0x11, 0, 0, &shorts(&[v, c]))
    });
}

#[test]
fn comparisons_12() {
    // P1/P2 pick references: 0 null, 1 byte[], 2 short[], 3 the applet, others null
    let small = prop_oneof![2 => -2i16..=2, 1 => short()];
    differential(
        BYTECODES,
        (small.clone(), small, 0u8..=4, 0u8..=4),
        |&(a, b, p1, p2)| command(0x12, p1, p2, &shorts(&[a, b])),
    );
}

#[test]
fn switches_13() {
    // keys around both switches' cases
    let key = prop_oneof![
        2 => -4i16..=9,
        1 => prop::sample::select(&[-32768i16, -1000, -1, 3, 100, 1000, 32767, 99, 101][..]),
        1 => short(),
    ];
    differential(
        BYTECODES,
        prop::collection::vec(key, 1..=32),
        |keys: &Vec<i16>| command(0x13, 0, 0, &shorts(keys)),
    );
}

#[test]
fn loops_14() {
    let bound = prop_oneof![2 => -3i16..=40, 1 => short()];
    differential(BYTECODES, (bound.clone(), bound), |&(n, m)| {
        command(0x14, 0, 0, &shorts(&[n, m]))
    });
}

#[test]
fn arrays_15() {
    differential(
        BYTECODES,
        prop::collection::vec(any::<u8>(), 1..=8),
        |data: &Vec<u8>| command(0x15, 0, 0, data),
    );
}

#[test]
fn exceptions_16() {
    // P1: the caught cases 00..0D (0D = deepThrow(P2), kept shallow), the catches by a
    // superclass 10..13, and the uncaught ones 20..23
    let case = prop_oneof![
        (0u8..=0x0C, any::<u8>()),
        (Just(0x0Du8), 0u8..=30),
        (0x10u8..=0x13, any::<u8>()),
        (0x20u8..=0x23, any::<u8>()),
    ];
    differential(BYTECODES, case, |&(p1, p2)| command(0x16, p1, p2, &[]));
}

#[test]
fn statics_17_and_fields_18() {
    // both update applet state, so each call also checks the state left by the previous one
    differential(BYTECODES, (any::<bool>(), any::<u8>()), |&(statics, p2)| {
        if statics {
            command(0x17, 0, p2, &[])
        } else {
            command(0x18, 0, 0, &[])
        }
    });
}

#[test]
fn virtual_dispatch_19_and_types_1a() {
    differential(
        BYTECODES,
        prop::option::of(any::<u8>()),
        |scale| match scale {
            Some(p1) => command(0x19, *p1, 0, &[]),
            None => command(0x1A, 0, 0, &[]),
        },
    );
}

#[test]
fn try_finally_1b() {
    // P1 = FF reads the trace of the previous call back
    let scenario = prop_oneof![0u8..=4, Just(0xFFu8)];
    differential(BYTECODES, (scenario, 0u8..=2), |&(p1, p2)| {
        command(0x1B, p1, p2, &[])
    });
}

#[test]
fn fib_1c() {
    // small n (fib(14) makes 1219 calls), negatives return n at once
    differential(BYTECODES, (-4i8..=14, any::<u8>()), |&(n, p2)| {
        command(0x1C, n as u8, p2, &[])
    });
}

#[test]
fn ackermann_1d() {
    let args = prop_oneof![(0u8..=2, 0u8..=8), (Just(3u8), 0u8..=3)];
    differential(BYTECODES, args, |&(m, n)| command(0x1D, m, n, &[]));
}

#[test]
fn wide_branches_1e() {
    // small values make the 16 nested conditions hold often (a = b < c, x = 0, y != 0, ...)
    let v = prop_oneof![3 => -2i16..=2, 1 => short()];
    differential(
        BYTECODES,
        (prop::collection::vec(v, 7), 0u8..=15),
        |(values, p1): &(Vec<i16>, u8)| command(0x1E, *p1, 0, &shorts(values)),
    );
}

#[test]
fn library_calls_1f() {
    differential(
        BYTECODES,
        (short(), short(), prop::collection::vec(any::<u8>(), 0..=40)),
        |(a, b, bytes): &(i16, i16, Vec<u8>)| {
            let mut data = shorts(&[*a, *b]);
            data.extend_from_slice(bytes);
            command(0x1F, 0, 0, &data)
        },
    );
}

#[test]
fn crc16_20() {
    differential(
        BYTECODES,
        (prop::collection::vec(any::<u8>(), 1..=64), -2i16..=3),
        |(data, reps): &(Vec<u8>, i16)| {
            let [p1, p2] = reps.to_be_bytes();
            command(0x20, p1, p2, data)
        },
    );
}

#[test]
fn sort_21() {
    // up to 127 shorts (the buffer holds 128); 0 repetitions answers what the previous sort
    // left in the transient buffer
    let value = prop_oneof![3 => short(), 1 => -3i16..=3];
    differential(
        BYTECODES,
        (prop::collection::vec(value, 0..=127), 0i16..=2),
        |(values, reps): &(Vec<i16>, i16)| {
            let [p1, p2] = reps.to_be_bytes();
            command(0x21, p1, p2, &shorts(values))
        },
    );
}

#[test]
fn sieve_22() {
    // 2..=1024 is valid; outside it the applet throws ISOException 6A86
    let n = prop_oneof![8 => 2i16..=1024, 1 => short(), 1 => -1i16..=1, 1 => 1025i16..=1030];
    differential(BYTECODES, n, |&n| {
        let [p1, p2] = n.to_be_bytes();
        command(0x22, p1, p2, &[])
    });
}

// ---------------------------------------------------------------- ints

#[test]
fn ints_alu_01() {
    differential(INTS, (int(), int()), |&(a, b)| {
        let mut data = a.to_be_bytes().to_vec();
        data.extend_from_slice(&b.to_be_bytes());
        command(0x01, 0, 0, &data)
    });
}

#[test]
fn ints_crc32_02() {
    differential(
        INTS,
        (prop::collection::vec(any::<u8>(), 1..=64), -1i16..=3),
        |(data, reps): &(Vec<u8>, i16)| {
            let [p1, p2] = reps.to_be_bytes();
            command(0x02, p1, p2, data)
        },
    );
}

#[test]
fn ints_comparisons_03() {
    let small = prop_oneof![2 => -2i32..=2, 1 => int()];
    differential(INTS, (small.clone(), small), |&(a, b)| {
        let mut data = a.to_be_bytes().to_vec();
        data.extend_from_slice(&b.to_be_bytes());
        command(0x03, 0, 0, &data)
    });
}

#[test]
fn ints_switches_04() {
    let key = prop_oneof![2 => -4i32..=9, 1 => int()];
    differential(
        INTS,
        prop::collection::vec(key, 1..=16),
        |keys: &Vec<i32>| {
            let data: Vec<u8> = keys.iter().flat_map(|k| k.to_be_bytes()).collect();
            command(0x04, 0, 0, &data)
        },
    );
}

#[test]
fn ints_misc_05() {
    differential(INTS, short(), |&s| command(0x05, 0, 0, &s.to_be_bytes()));
}

// ---------------------------------------------------------------- the oracle itself

/// The JVM oracle gives the golden transcripts' responses (jCardSim's) for every command of the
/// `bytecodes` and `ints` transcripts, except where a transcript deselects the applet (the
/// oracle never does) — so a difference found above is our VM's.
#[test]
fn jvm_oracle_agrees_with_transcripts() {
    on_big_stack(|| {
        let mut jvm = JvmOracle::start(&[]).unwrap();
        for (applet, folder) in [(BYTECODES, "bytecodes"), (INTS, "ints")] {
            let name = format!("transcript-{folder}");
            jvm.new_applet(&name, &applet).unwrap();
            let mut compared = 0;
            for (cmd, expected) in transcript_exchanges(folder).unwrap() {
                if cmd.starts_with(&[0x00, 0xA4]) {
                    continue;
                }
                // INS 1B P1=FF reads a CLEAR_ON_DESELECT trace after a reselect: empty on a
                // card, the previous trace on the oracle
                if cmd.starts_with(&[0x80, 0x1B, 0xFF]) {
                    continue;
                }
                let got = jvm.exchange(&name, &cmd).unwrap();
                assert_eq!(
                    to_hex(&got),
                    to_hex(&expected),
                    "{folder}: {}",
                    to_hex(&cmd)
                );
                compared += 1;
            }
            assert!(compared > 25, "{folder}: only {compared} exchanges");
        }
    });
}
