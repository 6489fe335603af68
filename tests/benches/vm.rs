//! `cargo bench -p oxicard-tests --bench vm`: the golden applets' compute-heavy commands in our
//! VM and on `java -Xint`, timed in paired rounds, and echo APDUs per second (issue 3). See
//! `oxicard_tests::bench`.
//!
//! Arguments (after `--`): `--quick` for a short smoke run, `--no-java` to skip the JVM side,
//! `--rounds N` (or `--rounds=N`) for the number of paired rounds (default 11, quick 2),
//! `--train` to replay the golden transcripts instead (the training run of the profile-guided
//! build of `scripts/bench.sh`; see `oxicard_tests::pgo_training`). Cargo's own `--bench`
//! argument is ignored.

use anyhow::{bail, Context};
use oxicard_tests::bench::{run_vm_bench, BenchOptions};
use oxicard_tests::pgo_training::train_on_golden_transcripts;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--train") {
        let summary = train_on_golden_transcripts()?;
        println!(
            "training: {} golden transcripts ({}), {} exchanges, {} differed, {} timed \
             commands left out",
            summary.transcripts.len(),
            summary.transcripts.join(" "),
            summary.exchanges,
            summary.mismatched,
            summary.left_out
        );
        if summary.mismatched != 0 {
            bail!("a golden transcript did not replay as expected");
        }
        return Ok(());
    }
    let mut options = if args.iter().any(|a| a == "--quick") {
        BenchOptions::quick()
    } else {
        BenchOptions::default()
    };
    if args.iter().any(|a| a == "--no-java") {
        options.java = false;
    }
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let rounds = match arg.strip_prefix("--rounds") {
            Some("") => rest.next().map(String::as_str),
            Some(value) => match value.strip_prefix('=') {
                Some(value) => Some(value),
                None => continue,
            },
            None => continue,
        };
        let Some(rounds) = rounds else {
            bail!("--rounds needs a number");
        };
        options.rounds = rounds
            .parse()
            .with_context(|| format!("--rounds {rounds:?}"))?;
        if options.rounds == 0 {
            bail!("--rounds must be at least 1");
        }
    }
    let report = run_vm_bench(&options)?;
    print!("{report}");
    Ok(())
}
