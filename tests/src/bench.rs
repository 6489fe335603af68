//! The VM benchmark of issue 3: the compute-heavy commands of the golden applets (README §8)
//! timed in our VM through the [`Card`](oxicard_jcre::Card) facade and, in the same run, on
//! HotSpot's bytecode interpreter (`java -Xint`: JIT off) running javac's class files of the same
//! applets; plus echo APDUs per second through the facade.
//!
//! The core is [`run_vm_bench`], so that both `cargo bench -p oxicard-tests --bench vm` and the
//! `oxicard bench` command can run it and print its [`BenchReport`].
//!
//! Normalisation: our time per JCVM bytecode divides by the exact number of JCVM bytecodes the
//! command executes ([`Workload::jcvm_bytecodes`]). HotSpot's time is divided by the same JCVM
//! count (the JVM bytecodes of javac's code are a different, usually larger, number that a
//! product JVM cannot count), so the honest comparison is the time per command and its ratio.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::golden_card::{
    to_hex, transcript_exchange, GoldenApplet, GoldenCard, BYTECODES, HELLO, INTS,
};
use crate::jvm_oracle::{java_version, JvmOracle};

/// A benchmarked command of a golden applet.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Short name for the table.
    pub name: &'static str,
    /// The applet that runs it.
    pub applet: GoldenApplet,
    /// Hex prefix of the command in the applet's golden transcript (the first match is used,
    /// and its transcript response checks both sides).
    pub transcript_prefix: &'static str,
    /// JCVM bytecodes the command executes in `process()`. Measured by bisecting the
    /// instruction budget of the interpreter of commit 642a684, which charged exactly one unit
    /// per instruction (the current interpreter charges loops and calls only): the smallest
    /// budget with which the command still gives the transcript's response.
    pub jcvm_bytecodes: u64,
}

/// The workloads: golden README §8.
pub const WORKLOADS: [Workload; 6] = [
    Workload {
        name: "CRC-16 250 B x 200",
        applet: BYTECODES,
        transcript_prefix: "80 20 00 C8",
        jcvm_bytecodes: 6_003_805,
    },
    Workload {
        name: "sort 127 shorts x 50",
        applet: BYTECODES,
        transcript_prefix: "80 21 00 32",
        jcvm_bytecodes: 7_030_738,
    },
    Workload {
        name: "fib(24)",
        applet: BYTECODES,
        transcript_prefix: "80 1C 18",
        jcvm_bytecodes: 1_950_686,
    },
    Workload {
        name: "sieve 1024",
        applet: BYTECODES,
        transcript_prefix: "80 22 04 00",
        jcvm_bytecodes: 36_986,
    },
    Workload {
        name: "ackermann(3,3)",
        applet: BYTECODES,
        transcript_prefix: "80 1D 03 03",
        jcvm_bytecodes: 67_094,
    },
    Workload {
        name: "CRC-32 250 B x 200",
        applet: INTS,
        transcript_prefix: "80 02 00 C8",
        jcvm_bytecodes: 1_152_462,
    },
];

/// The echo command (hello applet INS 01 with 5 bytes) and its response.
pub const ECHO_COMMAND: [u8; 11] = [
    0x80, 0x01, 0x00, 0x00, 0x05, b'h', b'e', b'l', b'l', b'o', 0x00,
];

/// Goal of issue 3: echo APDUs per second on one core.
pub const ECHO_GOAL_PER_SECOND: f64 = 2_000_000.0;

/// How long to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Warm-up time per workload and side.
    pub warmup: Duration,
    /// Minimum measured time per workload and side (at least 3 commands are timed).
    pub min_time: Duration,
    /// Measured time of the echo loop.
    pub echo_time: Duration,
    /// Run the HotSpot side (needs `java` and `javac`).
    pub java: bool,
}

impl Default for BenchOptions {
    /// About 20 s in all.
    fn default() -> Self {
        BenchOptions {
            warmup: Duration::from_millis(300),
            min_time: Duration::from_secs(1),
            echo_time: Duration::from_secs(1),
            java: true,
        }
    }
}

impl BenchOptions {
    /// A short run (a few seconds) for smoke tests.
    pub fn quick() -> Self {
        BenchOptions {
            warmup: Duration::from_millis(20),
            min_time: Duration::from_millis(100),
            echo_time: Duration::from_millis(200),
            java: true,
        }
    }
}

/// Timing of one workload.
#[derive(Clone, Debug)]
pub struct WorkloadResult {
    /// The workload.
    pub workload: Workload,
    /// The command APDU that was timed.
    pub command: Vec<u8>,
    /// Mean nanoseconds per command in our VM.
    pub ours_ns: f64,
    /// Commands timed in our VM.
    pub ours_calls: u64,
    /// Mean nanoseconds per command on `java -Xint`, if the JVM side ran.
    pub hotspot_ns: Option<f64>,
    /// Commands timed on the JVM.
    pub hotspot_calls: u64,
}

impl WorkloadResult {
    /// Our nanoseconds per JCVM bytecode.
    pub fn ours_ns_per_bytecode(&self) -> f64 {
        self.ours_ns / self.workload.jcvm_bytecodes as f64
    }

    /// HotSpot's nanoseconds per JCVM bytecode of the same work.
    pub fn hotspot_ns_per_jcvm_bytecode(&self) -> Option<f64> {
        self.hotspot_ns
            .map(|ns| ns / self.workload.jcvm_bytecodes as f64)
    }

    /// Our time divided by HotSpot's (below 1: we are faster).
    pub fn ratio(&self) -> Option<f64> {
        self.hotspot_ns.map(|ns| self.ours_ns / ns)
    }
}

/// Everything the benchmark measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// One row per workload.
    pub workloads: Vec<WorkloadResult>,
    /// Echo APDUs per second through the Card facade.
    pub echo_per_second: f64,
    /// Echo APDUs timed.
    pub echo_calls: u64,
    /// `java -version`'s first line, when the JVM side ran.
    pub java_version: Option<String>,
    /// Why the JVM side did not run, if it did not.
    pub java_skipped: Option<String>,
    /// Whether our VM was built with optimisations (debug assertions off).
    pub release_build: bool,
}

impl BenchReport {
    /// Geometric mean of the ratios ours/HotSpot, if the JVM side ran.
    pub fn geometric_mean_ratio(&self) -> Option<f64> {
        let ratios: Vec<f64> = self.workloads.iter().filter_map(|w| w.ratio()).collect();
        if ratios.is_empty() {
            return None;
        }
        let log_sum: f64 = ratios.iter().map(|r| r.ln()).sum();
        Some((log_sum / ratios.len() as f64).exp())
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "oxicard VM benchmark: golden applets, our VM (Card facade, {} build) vs HotSpot",
            if self.release_build {
                "release"
            } else {
                "DEBUG (not representative)"
            }
        )?;
        match (&self.java_version, &self.java_skipped) {
            (Some(v), _) => writeln!(
                f,
                "HotSpot: {v}, run as `java -Xint`: JIT compilers off, bytecode interpreter only"
            )?,
            (None, Some(why)) => writeln!(f, "HotSpot side skipped: {why}")?,
            (None, None) => writeln!(f, "HotSpot side skipped")?,
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<22} {:>11} {:>13} {:>15} {:>11} {:>13} {:>15}",
            "workload",
            "JCVM bc/op",
            "ours ns/op",
            "-Xint ns/op",
            "ours/-Xint",
            "ours ns/bc",
            "-Xint ns/JCVMbc"
        )?;
        for w in &self.workloads {
            let opt = |v: Option<f64>, digits: usize| match v {
                Some(v) => format!("{v:.digits$}"),
                None => "-".to_string(),
            };
            writeln!(
                f,
                "{:<22} {:>11} {:>13.0} {:>15} {:>11} {:>13.2} {:>15}",
                w.workload.name,
                w.workload.jcvm_bytecodes,
                w.ours_ns,
                opt(w.hotspot_ns, 0),
                opt(w.ratio(), 3),
                w.ours_ns_per_bytecode(),
                opt(w.hotspot_ns_per_jcvm_bytecode(), 2),
            )?;
        }
        if let Some(g) = self.geometric_mean_ratio() {
            writeln!(
                f,
                "geometric mean of ours/-Xint: {g:.3} (goal: <= 1, {})",
                if g <= 1.0 { "met" } else { "NOT met" }
            )?;
        }
        writeln!(
            f,
            "bc = bytecodes. Both ns/bytecode columns divide by the JCVM bytecodes of the command \
             (the JVM's own bytecode count differs and is not measurable on a product JVM); \
             compare the ns/op columns and their ratio."
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "echo (hello INS 01, 5 bytes) through Card::transmit, one thread: {:.0} APDUs/s \
             ({} APDUs; goal >= {:.0}, {})",
            self.echo_per_second,
            self.echo_calls,
            ECHO_GOAL_PER_SECOND,
            if self.echo_per_second >= ECHO_GOAL_PER_SECOND {
                "met"
            } else {
                "NOT met"
            }
        )
    }
}

/// Runs `command` repeatedly: `warmup`, then at least `min_time` and 3 commands. Returns
/// (ns per command, commands timed). Fails if a response differs from `expected`.
fn time_ours(
    card: &mut GoldenCard,
    command: &[u8],
    expected: &[u8],
    warmup: Duration,
    min_time: Duration,
) -> Result<(f64, u64)> {
    let start = Instant::now();
    while start.elapsed() < warmup {
        check_response(card.transmit_slice(command)?, expected, command)?;
    }
    let start = Instant::now();
    let mut calls = 0u64;
    loop {
        check_response(card.transmit_slice(command)?, expected, command)?;
        calls += 1;
        let elapsed = start.elapsed();
        if calls >= 3 && elapsed >= min_time {
            return Ok((elapsed.as_nanos() as f64 / calls as f64, calls));
        }
    }
}

fn check_response(got: &[u8], expected: &[u8], command: &[u8]) -> Result<()> {
    if got != expected {
        bail!(
            "our VM answered {} to {} instead of {}",
            to_hex(got),
            to_hex(command),
            to_hex(expected)
        );
    }
    Ok(())
}

/// Runs the benchmark (on a thread of its own with a large stack; the card's NVM is an array).
pub fn run_vm_bench(options: &BenchOptions) -> Result<BenchReport> {
    let options = options.clone();
    std::thread::Builder::new()
        .name("vm-bench".into())
        .stack_size(64 << 20)
        .spawn(move || run_on_this_thread(&options))
        .context("starting the benchmark thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the benchmark thread panicked"))?
}

fn run_on_this_thread(options: &BenchOptions) -> Result<BenchReport> {
    let mut card = GoldenCard::new(&[BYTECODES, INTS, HELLO])?;
    let mut rows = Vec::new();
    let mut selected: Option<&'static str> = None;
    let mut exchanges = Vec::new();
    for workload in WORKLOADS {
        let (command, expected) =
            transcript_exchange(workload.applet.package.folder, workload.transcript_prefix)?;
        if selected != Some(workload.applet.class) {
            card.select(&workload.applet)?;
            selected = Some(workload.applet.class);
        }
        let (ours_ns, ours_calls) = time_ours(
            &mut card,
            &command,
            &expected,
            options.warmup,
            options.min_time,
        )
        .with_context(|| workload.name)?;
        exchanges.push(expected);
        rows.push(WorkloadResult {
            workload,
            command,
            ours_ns,
            ours_calls,
            hotspot_ns: None,
            hotspot_calls: 0,
        });
    }

    card.select(&HELLO)?;
    let echo_expected = [&ECHO_COMMAND[5..10], &[0x90, 0x00][..]].concat();
    check_response(
        card.transmit_slice(&ECHO_COMMAND)?,
        &echo_expected,
        &ECHO_COMMAND,
    )?;
    let start = Instant::now();
    let mut echo_calls = 0u64;
    while start.elapsed() < options.echo_time {
        for _ in 0..1024 {
            card.transmit_slice(&ECHO_COMMAND)?;
        }
        echo_calls += 1024;
    }
    let echo_per_second = echo_calls as f64 / start.elapsed().as_secs_f64();

    let (java_version, java_skipped) = if options.java {
        match java_version() {
            Some(version) => {
                run_hotspot(&mut rows, &exchanges, options)?;
                (Some(version), None)
            }
            None => (None, Some("java/javac not found".to_string())),
        }
    } else {
        (None, Some("disabled by the options".to_string()))
    };

    Ok(BenchReport {
        workloads: rows,
        echo_per_second,
        echo_calls,
        java_version,
        java_skipped,
        release_build: !cfg!(debug_assertions),
    })
}

/// Times every workload on `java -Xint` and fills in the HotSpot columns; each JVM response
/// must be the transcript's too.
fn run_hotspot(
    rows: &mut [WorkloadResult],
    expected: &[Vec<u8>],
    options: &BenchOptions,
) -> Result<()> {
    let mut jvm = JvmOracle::start(&["-Xint"])?;
    let mut created: Vec<&str> = Vec::new();
    for (row, expected) in rows.iter_mut().zip(expected) {
        let class = row.workload.applet.class;
        if !created.contains(&class) {
            jvm.new_applet(class, &row.workload.applet)?;
            created.push(class);
        }
        let timing = jvm.bench(class, &row.command, options.warmup, options.min_time)?;
        if &timing.response != expected {
            bail!(
                "{}: the JVM answered {} instead of {}",
                row.workload.name,
                to_hex(&timing.response),
                to_hex(expected)
            );
        }
        row.hotspot_ns = Some(timing.ns_per_call);
        row.hotspot_calls = timing.calls;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every workload's command is in its golden transcript, with a 9000 response.
    #[test]
    fn every_workload_is_in_its_transcript() {
        for w in WORKLOADS {
            let (command, response) =
                transcript_exchange(w.applet.package.folder, w.transcript_prefix)
                    .unwrap_or_else(|e| panic!("{}: {e}", w.name));
            assert_eq!(command[0], 0x80, "{}", w.name);
            assert!(response.ends_with(&[0x90, 0x00]), "{}", w.name);
        }
    }
}
