//! Golden transcripts (../shared/golden/*/transcript.apdu, made against Oracle's converter
//! output and checked on jCardSim) replayed through the `Card` facade: every response must
//! match exactly. Transcripts that cannot pass yet are listed in `PENDING` with the reason;
//! they still run, report how far they get, and fail if they start passing.
#![allow(clippy::unwrap_used)]

use oxicard_jcre::Card;
use oxicard_store::RamNvm;
mod common;

use common::{cap_path, load_file, GOLDEN};

/// Transcripts expected to fail for now, with the reason.
const PENDING: &[(&str, &str)] = &[];

/// Single exchanges expected to fail for now: (transcript, line of the command, reason).
/// Every other exchange of these transcripts must pass, and these must still fail.
const PENDING_LINES: &[(&str, usize, &str)] = &[];

/// Card NVM size for the tests.
const NVM: usize = 256 * 1024;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Result of replaying a transcript.
struct Outcome {
    passed: usize,
    total: usize,
    first_failure: Option<String>,
    /// Command line numbers of the exchanges that did not match.
    failed_lines: Vec<usize>,
}

fn replay(name: &str) -> Outcome {
    let text = std::fs::read_to_string(format!("{GOLDEN}/{name}/transcript.apdu")).unwrap();
    let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
    let mut out = Outcome {
        passed: 0,
        total: 0,
        first_failure: None,
        failed_lines: Vec::new(),
    };
    let mut pending_command: Option<(usize, Vec<u8>)> = None;
    let fail = |out: &mut Outcome, msg: String| {
        if out.first_failure.is_none() {
            out.first_failure = Some(msg);
        }
    };
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next().unwrap() {
            "load" => {
                let aid = words.next().unwrap();
                let lf = load_file(&format!("{GOLDEN}/{}", cap_path(aid)));
                if let Err(e) = card.load_cap(&lf) {
                    fail(&mut out, format!("line {line_no}: load {aid}: {e:?}"));
                }
            }
            "install" => {
                let args: Vec<&str> = words.collect();
                let pkg = hex(args[0]);
                let applet = hex(args[1]);
                let instance = args
                    .get(2)
                    .map(|s| hex(s))
                    .unwrap_or_else(|| applet.clone());
                let params = args.get(3).map(|s| hex(s)).unwrap_or_default();
                if let Err(e) = card.install(&pkg, &applet, &instance, &params) {
                    fail(&mut out, format!("line {line_no}: install: {e:?}"));
                }
            }
            "reset" => card.reset().unwrap(),
            ">" => pending_command = Some((line_no, hex(&line[1..]))),
            "<" => {
                let (cmd_line, cmd) = pending_command.take().expect("response without command");
                let expected = hex(&line[1..]);
                out.total += 1;
                let mut resp = [0u8; 300];
                match card.transmit(&cmd, &mut resp) {
                    Ok(len) if resp[..len] == expected[..] => out.passed += 1,
                    Ok(len) => fail(
                        {
                            out.failed_lines.push(cmd_line);
                            &mut out
                        },
                        format!(
                            "line {cmd_line}: expected {} got {}",
                            hexs(&expected),
                            hexs(&resp[..len])
                        ),
                    ),
                    Err(e) => fail(
                        {
                            out.failed_lines.push(cmd_line);
                            &mut out
                        },
                        format!("line {cmd_line}: {e:?}"),
                    ),
                }
            }
            other => panic!("line {line_no}: unknown transcript item {other}"),
        }
    }
    out
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn check(name: &'static str) {
    // the card lives on the heap of a thread with a large stack (RamNvm is an array)
    let outcome = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || replay(name))
        .unwrap()
        .join()
        .unwrap();
    eprintln!(
        "{name}: {}/{} exchanges pass; first failure: {:?}",
        outcome.passed, outcome.total, outcome.first_failure
    );
    let pending_lines: Vec<usize> = PENDING_LINES
        .iter()
        .filter(|(n, _, _)| *n == name)
        .map(|(_, line, _)| *line)
        .collect();
    match PENDING.iter().find(|(n, _)| *n == name) {
        Some((_, reason)) => assert!(
            outcome.first_failure.is_some(),
            "{name} passes now; remove it from PENDING ({reason})"
        ),
        None => {
            assert!(outcome.total > 0);
            assert_eq!(
                outcome.failed_lines, pending_lines,
                "{name}: failing command lines differ from PENDING_LINES"
            );
            assert_eq!(outcome.passed + pending_lines.len(), outcome.total);
        }
    }
}

#[test]
fn hello() {
    check("hello");
}

#[test]
fn bytecodes() {
    check("bytecodes");
}

#[test]
fn ints() {
    check("ints");
}

#[test]
fn wallet() {
    check("wallet");
}

#[test]
fn sharing() {
    check("sharing");
}

#[test]
#[cfg(feature = "crypto")]
fn crypto() {
    check("crypto");
}

#[test]
fn widecp() {
    check("widecp");
}
