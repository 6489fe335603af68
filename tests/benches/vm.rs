//! `cargo bench -p oxicard-tests --bench vm`: the golden applets' compute-heavy commands in our
//! VM and on `java -Xint`, and echo APDUs per second (issue 3). See `oxicard_tests::bench`.
//!
//! Arguments (after `--`): `--quick` for a short smoke run, `--no-java` to skip the JVM side.
//! Cargo's own `--bench` argument is ignored.

use oxicard_tests::bench::{run_vm_bench, BenchOptions};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = if args.iter().any(|a| a == "--quick") {
        BenchOptions::quick()
    } else {
        BenchOptions::default()
    };
    if args.iter().any(|a| a == "--no-java") {
        options.java = false;
    }
    let report = run_vm_bench(&options)?;
    print!("{report}");
    Ok(())
}
