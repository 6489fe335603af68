//! The fuzzing entry point (`oxicard_jcre::fuzzing`) on mutated golden CAP files: flipped,
//! overwritten, inserted and deleted bytes and truncations of the hello, bytecodes (with its
//! library) and wallet load files. Whatever the mutation, loading, installing and running
//! must end in an error or a status word, never a panic. The unmutated files must load and
//! answer (checked first, so the harness itself is known to reach the interpreter).
#![allow(clippy::unwrap_used)]

use oxicard_jcre::fuzzing::{fuzz_load_and_run_with, FUZZ_BUDGET, FUZZ_NVM};
use oxicard_jcre::Card;
use oxicard_store::RamNvm;
use proptest::prelude::*;
use std::sync::OnceLock;
mod common;

use common::{cap_path, in_thread, load_file, GOLDEN};

fn golden(aid: &str) -> &'static [u8] {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    let files = FILES.get_or_init(|| {
        [
            "F00000010100",
            "F00000010800",
            "F00000010200",
            "F00000010400",
        ]
        .iter()
        .map(|a| {
            (
                a.to_string(),
                load_file(&format!("{GOLDEN}/{}", cap_path(a))),
            )
        })
        .collect()
    });
    &files.iter().find(|(a, _)| a == aid).unwrap().1
}

/// One mutation of a load file.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
        3 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(file: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut f = file.to_vec();
    for m in mutations {
        if f.is_empty() {
            break;
        }
        let n = f.len();
        match *m {
            Mutation::Flip(i, x) => f[i % n] ^= x,
            Mutation::Set(i, v) => f[i % n] = v,
            Mutation::Insert(i, v) => f.insert(i % (n + 1), v),
            Mutation::Delete(i) => {
                f.remove(i % n);
            }
            Mutation::Truncate(i) => f.truncate(i % n),
        }
    }
    f
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn fuzz(package: &'static str, libraries: &'static [&'static str], cases: u32) {
    in_thread(move || {
        let libs: Vec<&[u8]> = libraries.iter().map(|a| golden(a)).collect();
        let file = golden(package);
        proptest!(config(cases), |(mutations in prop::collection::vec(mutation(), 1..4))| {
            let _ = fuzz_load_and_run_with(&libs, &mutate(file, &mutations));
        });
    });
}

#[test]
fn the_unmutated_files_load_and_run_under_the_fuzz_settings() {
    in_thread(|| {
        for (package, libs) in [
            ("F00000010100", &[][..]),
            ("F00000010200", &["F00000010800"][..]),
            ("F00000010400", &[][..]),
        ] {
            let mut card = Box::new(Card::new(RamNvm::<FUZZ_NVM>::new()).unwrap());
            card.set_instruction_budget(FUZZ_BUDGET);
            for lib in libs {
                card.load_cap(golden(lib)).unwrap();
            }
            card.load_cap(golden(package)).unwrap();
            let answered = fuzz_load_and_run_with(
                &libs.iter().map(|a| golden(a)).collect::<Vec<_>>(),
                golden(package),
            );
            // at least SELECT and one command of each applet answer 9000
            assert!(
                answered >= 2,
                "{package}: {answered} commands answered 9000"
            );
        }
    });
}

#[test]
fn mutated_hello_never_panics() {
    fuzz("F00000010100", &[], 1000);
}

#[test]
fn mutated_bytecodes_never_panics() {
    fuzz("F00000010200", &["F00000010800"], 1000);
}

#[test]
fn mutated_wallet_never_panics() {
    fuzz("F00000010400", &[], 1000);
}

/// A mutation of the bytecodes load file found by a random search (two bytes set: 396 to
/// 0x46 and 3865 to 0x0A) whose code ends in an exception handler that catches the exception
/// its own code throws, again and again: unwinding charged no budget, so the command never
/// ended. It must end (with a status word) within the fuzz budget.
#[test]
fn a_handler_that_keeps_catching_its_own_exception_ends_with_the_budget() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut file = golden("F00000010200").to_vec();
        assert_eq!(
            (file[396], file[3865]),
            (0x81, 0x88),
            "the golden file changed"
        );
        file[396] = 0x46;
        file[3865] = 0x0A;
        let lib = golden("F00000010800");
        let _ = fuzz_load_and_run_with(&[lib], &file);
        let _ = done.send(());
    });
    assert!(
        finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .is_ok(),
        "the mutated bytecodes package still runs after 120 s"
    );
}
