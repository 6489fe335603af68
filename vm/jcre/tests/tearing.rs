//! Tearing as a test input: the golden transcripts are replayed, and before each step
//! (load, install, reset, command APDU) the card is snapshotted; the step is then re-run
//! from the snapshot with the power cut at unit write n (the unit left untouched or torn
//! half old, half new), for every n the step writes (sampled for long steps). After each
//! cut the card is powered up on the image and checked:
//!
//! - every persistent structure passes the invariant checker (`Card::check_invariants`);
//! - the persistent state is exactly the state before or after the step, or one the step
//!   made durable in between (only OwnerPIN.check does, for its try counter), and the
//!   states follow each other in order as n grows (never back to an earlier one);
//! - for a PIN VERIFY: the state with the try counter decremented but the comparison not
//!   done exists, and no cut after it gives the try back;
//! - a load or install is either fully there or fully absent (a special case of the
//!   before/after rule, checked by the digest of the package and applet tables).
//!
//! The number of cut points checked is printed.
#![allow(clippy::unwrap_used)]

mod common;
mod tear;

use std::time::Instant;

use oxicard_jcre::Card;
use tear::{card_digest, hex, new_nvm, power_up, run_step, transcript, Step, TestNvm};

/// Cut points per step are capped at this number (evenly spread, first and last
/// included), except for the steps [`every_cut`] selects.
const MAX_CUTS: u64 = 24;

/// Whether every write index of `step` is checked (wallet transactions and PIN VERIFY).
fn every_cut(name: &str, step: &Step) -> bool {
    match step {
        Step::Command(_, c, _) => name == "wallet" && c.len() > 1 && c[0] == 0x80,
        _ => false,
    }
}

/// The cut points of a step that writes `units` units.
fn cut_points(units: u64, all: bool) -> Vec<u64> {
    if all || units <= MAX_CUTS {
        return (0..units).collect();
    }
    let mut v: Vec<u64> = (0..MAX_CUTS)
        .map(|i| i * (units - 1) / (MAX_CUTS - 1))
        .collect();
    v.dedup();
    v
}

/// The tries left of the PIN of the selected wallet instance `aid`, on a clone.
fn wallet_tries(card: &Card<TestNvm>, aid: &[u8]) -> u8 {
    let mut c = card.clone();
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
    select.extend_from_slice(aid);
    let mut resp = [0u8; 300];
    c.transmit(&select, &mut resp).unwrap();
    let n = c.transmit(&hex("8022000000"), &mut resp).unwrap();
    assert_eq!(&resp[n - 2..n], &[0x90, 0x00]);
    resp[0]
}

#[derive(Default)]
struct Tally {
    cuts: u64,
    steps: u64,
    verify_checked: u64,
}

fn tear_transcript(name: &str, tally: &mut Tally) {
    let mut card = Card::new(new_nvm()).unwrap();
    let mut selected: Vec<u8> = Vec::new();
    for step in transcript(name) {
        let before = card.clone();
        let before_digest = card_digest(&card);
        let w0 = card.vm().nvm().units_written();
        let c0 = card.vm().commit_count();
        let out = run_step(&mut card, &step);
        if let Step::Command(line, _, expected) = &step {
            assert_eq!(
                out.as_ref(),
                Some(expected),
                "{name} line {line}: uncut run"
            );
        }
        let units = card.vm().nvm().units_written() - w0;
        let commits = card.vm().commit_count() - c0;
        let after_digest = card_digest(&card);
        let is_verify = matches!(&step, Step::Command(_, c, _) if name == "wallet" && c[1] == 0x20);
        let tries_before = is_verify.then(|| wallet_tries(&before, &selected));

        // the states seen, in order of the cut index
        let mut states: Vec<Vec<u8>> = Vec::new();
        let mut seen_decremented = false;
        for n in cut_points(units, every_cut(name, &step)) {
            for tear in [false, true] {
                let mut c = before.clone();
                c.nvm_mut().set_writes_left(Some(n as usize));
                c.nvm_mut().set_tearing(tear);
                let _ = run_step(&mut c, &step);
                assert!(
                    !c.vm().nvm().is_powered(),
                    "{name} {step:?}: cut {n} not reached"
                );
                let p = power_up(c.into_nvm());
                if let Err(e) = p.check_invariants() {
                    panic!("{name} {step:?} cut at unit {n} (torn {tear}): invariant: {e}");
                }
                let d = card_digest(&p);
                let known = d == before_digest || d == after_digest;
                assert!(
                    known || commits > 1,
                    "{name} {step:?} cut at unit {n} (torn {tear}): neither before nor after"
                );
                match states.iter().position(|s| *s == d) {
                    Some(i) => assert_eq!(
                        i,
                        states.len() - 1,
                        "{name} {step:?} cut at unit {n}: back to an earlier state"
                    ),
                    None => states.push(d.clone()),
                }
                if let Some(t) = tries_before {
                    let now = wallet_tries(&p, &selected);
                    if d != before_digest && d != after_digest {
                        // the durable intermediate state: exactly one try spent
                        assert_eq!(now + 1, t, "{name} {step:?} cut {n}: tries");
                    }
                    if d != before_digest && now + 1 == t {
                        seen_decremented = true;
                    }
                    if seen_decremented {
                        assert!(d != before_digest, "{name} cut {n}: a tear gave a try back");
                    }
                }
                tally.cuts += 1;
            }
        }
        assert!(
            states.len() as u64 <= commits + 1,
            "{name} {step:?}: {} states",
            states.len()
        );
        if let Some(t) = tries_before {
            if t > 0 {
                assert!(
                    seen_decremented,
                    "{name} {step:?}: no durable decrement seen"
                );
                tally.verify_checked += 1;
            }
        }
        if let Step::Command(_, c, _) = &step {
            if c.len() > 5 && c[1] == 0xA4 {
                selected = c[5..5 + c[4] as usize].to_vec();
            }
        }
        tally.steps += 1;
    }
}

#[test]
fn every_golden_transcript_survives_power_loss_at_every_write() {
    let t0 = Instant::now();
    let tally = common::in_thread(|| {
        let mut tally = Tally::default();
        for name in ["hello", "wallet", "ints", "bytecodes"] {
            let before = tally.cuts;
            tear_transcript(name, &mut tally);
            eprintln!("tearing {name}: {} cut points", tally.cuts - before);
        }
        tally
    });
    eprintln!(
        "tearing: {} cut points over {} steps checked, 0 failures ({} PIN VERIFYs with a durable decrement) in {:.1?}",
        tally.cuts,
        tally.steps,
        tally.verify_checked,
        t0.elapsed()
    );
    assert!(tally.cuts > 1000);
    assert!(tally.verify_checked > 0);
}
