//! The VM benchmark of issue 3: the compute-heavy commands of the golden applets (README §8)
//! timed in our VM through the [`Card`](oxicard_jcre::Card) facade and, in the same run, on
//! HotSpot's bytecode interpreter (`java -Xint`: JIT off) running javac's class files of the same
//! applets; plus echo APDUs per second through the facade.
//!
//! The core is [`run_vm_bench`], which `cargo bench -p oxicard-tests --bench vm` runs and whose
//! [`BenchReport`] it prints.
//!
//! Method: this machine's speed drifts by up to 1.6x over seconds, so timing all workloads in
//! our VM and then all of them on the JVM would compare measurements taken seconds apart. The
//! benchmark runs in paired rounds instead: in each round every workload is timed for one short
//! slice in our VM and one on the JVM back to back (the side that goes first alternates from
//! round to round, so a steady drift favours neither), and the ratio ours/-Xint is the median
//! of the per-round ratios; their spread (min..max) is reported beside it.
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
    /// Warm-up time per workload and side, in the first round only (in later rounds one
    /// untimed command precedes each slice).
    pub warmup: Duration,
    /// Minimum measured time per workload, side and round (at least 3 commands are timed).
    pub slice: Duration,
    /// Paired rounds: each times every workload for one slice per side (at least 1 is run).
    pub rounds: usize,
    /// Measured time of the echo loop.
    pub echo_time: Duration,
    /// Run the HotSpot side (needs `java` and `javac`).
    pub java: bool,
}

impl Default for BenchOptions {
    /// About 30 s in all: 11 rounds of 140 ms slices.
    fn default() -> Self {
        BenchOptions {
            warmup: Duration::from_millis(300),
            slice: Duration::from_millis(140),
            rounds: 11,
            echo_time: Duration::from_secs(1),
            java: true,
        }
    }
}

impl BenchOptions {
    /// A short run (a few seconds) for smoke tests: 2 rounds of 40 ms slices.
    pub fn quick() -> Self {
        BenchOptions {
            warmup: Duration::from_millis(20),
            slice: Duration::from_millis(40),
            rounds: 2,
            echo_time: Duration::from_millis(200),
            java: true,
        }
    }
}

/// Timing of one workload over all rounds.
#[derive(Clone, Debug)]
pub struct WorkloadResult {
    /// The workload.
    pub workload: Workload,
    /// The command APDU that was timed.
    pub command: Vec<u8>,
    /// Our mean nanoseconds per command in each round, in round order.
    pub ours_round_ns: Vec<f64>,
    /// Commands timed in our VM, all rounds together.
    pub ours_calls: u64,
    /// `java -Xint`'s mean nanoseconds per command in each round (paired with
    /// `ours_round_ns`); empty if the JVM side did not run.
    pub hotspot_round_ns: Vec<f64>,
    /// Commands timed on the JVM, all rounds together.
    pub hotspot_calls: u64,
}

impl WorkloadResult {
    /// Our nanoseconds per command: the median over rounds.
    pub fn ours_ns(&self) -> f64 {
        median(&self.ours_round_ns).unwrap_or(f64::NAN)
    }

    /// HotSpot's nanoseconds per command (the median over rounds), if the JVM side ran.
    pub fn hotspot_ns(&self) -> Option<f64> {
        median(&self.hotspot_round_ns)
    }

    /// Our nanoseconds per JCVM bytecode (from the median time per command).
    pub fn ours_ns_per_bytecode(&self) -> f64 {
        self.ours_ns() / self.workload.jcvm_bytecodes as f64
    }

    /// HotSpot's nanoseconds per JCVM bytecode of the same work (from the median time per
    /// command).
    pub fn hotspot_ns_per_jcvm_bytecode(&self) -> Option<f64> {
        self.hotspot_ns()
            .map(|ns| ns / self.workload.jcvm_bytecodes as f64)
    }

    /// The per-round ratios of our time to HotSpot's, in round order (empty if the JVM side
    /// did not run).
    pub fn round_ratios(&self) -> Vec<f64> {
        paired_ratios(&self.ours_round_ns, &self.hotspot_round_ns)
    }

    /// Our time divided by HotSpot's (below 1: we are faster): the median of the per-round
    /// ratios, if the JVM side ran.
    pub fn ratio(&self) -> Option<f64> {
        median(&self.round_ratios())
    }

    /// The smallest and the largest per-round ratio, if the JVM side ran: the noise around
    /// [`ratio`](Self::ratio).
    pub fn ratio_spread(&self) -> Option<(f64, f64)> {
        let ratios = self.round_ratios();
        let min = ratios.iter().copied().reduce(f64::min)?;
        let max = ratios.iter().copied().reduce(f64::max)?;
        Some((min, max))
    }
}

/// Everything the benchmark measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// The options it ran with (`rounds` as run: at least 1).
    pub options: BenchOptions,
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
    /// How the profile of a profile-guided build was made, if this is one (`scripts/bench.sh`
    /// builds one and says so in `OXICARD_BENCH_PGO`).
    pub pgo: Option<String>,
}

impl BenchReport {
    /// Geometric mean over the workloads of their ratios ours/HotSpot (each the median of its
    /// per-round ratios), if the JVM side ran.
    pub fn geometric_mean_ratio(&self) -> Option<f64> {
        let ratios: Vec<f64> = self.workloads.iter().filter_map(|w| w.ratio()).collect();
        geometric_mean(&ratios)
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "oxicard VM benchmark: golden applets, our VM (Card facade, {} build) vs HotSpot",
            match (self.release_build, &self.pgo) {
                (false, _) => "DEBUG (not representative)",
                (true, Some(_)) => "release, profile-guided",
                (true, None) => "release",
            }
        )?;
        match &self.pgo {
            Some(how) => writeln!(f, "profile of the profile-guided build: {how}")?,
            None if self.release_build => writeln!(
                f,
                "(no profile-guided optimisation: `bash scripts/bench.sh` builds with it)"
            )?,
            None => {}
        }
        match (&self.java_version, &self.java_skipped) {
            (Some(v), _) => writeln!(
                f,
                "HotSpot: {v}, run as `java -Xint`: JIT compilers off, bytecode interpreter only"
            )?,
            (None, Some(why)) => writeln!(f, "HotSpot side skipped: {why}")?,
            (None, None) => writeln!(f, "HotSpot side skipped")?,
        }
        let options = &self.options;
        if self.java_version.is_some() {
            writeln!(
                f,
                "method: paired rounds, median of per-round ratios. {} rounds; in each, every \
                 workload runs one slice of >= {} ms in our VM and one on -Xint back to back \
                 (which side goes first alternates by round; round 1 warms both up for {} ms). \
                 ns/op = median over rounds; ours/-Xint = median of the per-round ratios, \
                 min..max = their spread.",
                options.rounds,
                options.slice.as_millis(),
                options.warmup.as_millis()
            )?;
        } else {
            writeln!(
                f,
                "method: {} rounds of one slice of >= {} ms per workload (round 1 warms up for \
                 {} ms); ns/op = median over rounds.",
                options.rounds,
                options.slice.as_millis(),
                options.warmup.as_millis()
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<22} {:>11} {:>11} {:>12} {:>11} {:>13} {:>11} {:>15}",
            "workload",
            "JCVM bc/op",
            "ours ns/op",
            "-Xint ns/op",
            "ours/-Xint",
            "min..max",
            "ours ns/bc",
            "-Xint ns/JCVMbc"
        )?;
        for w in &self.workloads {
            let opt = |v: Option<f64>, digits: usize| match v {
                Some(v) => format!("{v:.digits$}"),
                None => "-".to_string(),
            };
            let spread = match w.ratio_spread() {
                Some((min, max)) => format!("{min:.3}..{max:.3}"),
                None => "-".to_string(),
            };
            writeln!(
                f,
                "{:<22} {:>11} {:>11.0} {:>12} {:>11} {:>13} {:>11.2} {:>15}",
                w.workload.name,
                w.workload.jcvm_bytecodes,
                w.ours_ns(),
                opt(w.hotspot_ns(), 0),
                opt(w.ratio(), 3),
                spread,
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

/// The median of `values` (the mean of the two middle values of an even count), or `None`
/// for no values.
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted.get(middle).copied()
    } else {
        let low = sorted.get(middle.checked_sub(1)?)?;
        let high = sorted.get(middle)?;
        Some((low + high) / 2.0)
    }
}

/// `ours[i] / theirs[i]` for each round `i` both have.
fn paired_ratios(ours: &[f64], theirs: &[f64]) -> Vec<f64> {
    ours.iter().zip(theirs).map(|(o, t)| o / t).collect()
}

/// The geometric mean of `values` (all positive), or `None` for no values.
fn geometric_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let log_sum: f64 = values.iter().map(|v| v.ln()).sum();
    Some((log_sum / values.len() as f64).exp())
}

/// Runs `command`: for `warmup` (at least once, untimed), then for at least `min_time` and 3
/// commands. Returns (ns per command, commands timed). Fails if a response differs from
/// `expected`.
fn time_ours(
    card: &mut GoldenCard,
    command: &[u8],
    expected: &[u8],
    warmup: Duration,
    min_time: Duration,
) -> Result<(f64, u64)> {
    let start = Instant::now();
    loop {
        check_response(card.transmit_slice(command)?, expected, command)?;
        if start.elapsed() >= warmup {
            break;
        }
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

/// Times `command` on the JVM instance `class` like [`time_ours`] (the JVM runs it once
/// untimed, then for `warmup`, then for at least `min_time` and 3 commands). Returns (ns per
/// command, commands timed). Fails if the response differs from `expected`.
fn time_hotspot(
    jvm: &mut JvmOracle,
    class: &str,
    command: &[u8],
    expected: &[u8],
    warmup: Duration,
    min_time: Duration,
) -> Result<(f64, u64)> {
    let timing = jvm.bench(class, command, warmup, min_time)?;
    if timing.response != expected {
        bail!(
            "the JVM answered {} to {} instead of {}",
            to_hex(&timing.response),
            to_hex(command),
            to_hex(expected)
        );
    }
    Ok((timing.ns_per_call, timing.calls))
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

/// The HotSpot side: `java -Xint` with an instance of every workload's applet (named by its
/// class) and its version, or why it does not run.
type HotspotSide = (Option<JvmOracle>, Option<String>, Option<String>);

/// Starts the HotSpot side if the options ask for it and `java` is there.
fn start_hotspot(options: &BenchOptions) -> Result<HotspotSide> {
    if !options.java {
        return Ok((None, None, Some("disabled by the options".to_string())));
    }
    let Some(version) = java_version() else {
        return Ok((None, None, Some("java/javac not found".to_string())));
    };
    let mut jvm = JvmOracle::start(&["-Xint"])?;
    let mut created: Vec<&str> = Vec::new();
    for workload in WORKLOADS {
        let class = workload.applet.class;
        if !created.contains(&class) {
            jvm.new_applet(class, &workload.applet)?;
            created.push(class);
        }
    }
    Ok((Some(jvm), Some(version), None))
}

fn run_on_this_thread(options: &BenchOptions) -> Result<BenchReport> {
    let options = BenchOptions {
        rounds: options.rounds.max(1),
        ..options.clone()
    };
    let mut card = GoldenCard::new(&[BYTECODES, INTS, HELLO])?;
    let mut rows = Vec::new();
    let mut exchanges = Vec::new();
    for workload in WORKLOADS {
        let (command, expected) =
            transcript_exchange(workload.applet.package.folder, workload.transcript_prefix)?;
        exchanges.push(expected);
        rows.push(WorkloadResult {
            workload,
            command,
            ours_round_ns: Vec::with_capacity(options.rounds),
            ours_calls: 0,
            hotspot_round_ns: Vec::with_capacity(options.rounds),
            hotspot_calls: 0,
        });
    }
    let (mut jvm, java_version, java_skipped) = start_hotspot(&options)?;

    let mut selected: Option<&'static str> = None;
    for round in 0..options.rounds {
        let warmup = if round == 0 {
            options.warmup
        } else {
            Duration::ZERO
        };
        let hotspot_first = round % 2 == 1;
        for (row, expected) in rows.iter_mut().zip(&exchanges) {
            let applet = row.workload.applet;
            if selected != Some(applet.class) {
                card.select(&applet)?;
                selected = Some(applet.class);
            }
            let name = row.workload.name;
            // times one side of the pair: ours if `ours_turn`, else the JVM's (if it runs)
            let mut time_side = |ours_turn: bool| -> Result<()> {
                if ours_turn {
                    let (ns, calls) =
                        time_ours(&mut card, &row.command, expected, warmup, options.slice)?;
                    row.ours_round_ns.push(ns);
                    row.ours_calls += calls;
                } else if let Some(jvm) = jvm.as_mut() {
                    let (ns, calls) = time_hotspot(
                        jvm,
                        applet.class,
                        &row.command,
                        expected,
                        warmup,
                        options.slice,
                    )?;
                    row.hotspot_round_ns.push(ns);
                    row.hotspot_calls += calls;
                }
                Ok(())
            };
            time_side(!hotspot_first)
                .and_then(|()| time_side(hotspot_first))
                .with_context(|| format!("{name}, round {}", round + 1))?;
        }
    }
    // the JVM idles from here on; end it before the echo loop anyway
    drop(jvm.take());

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

    Ok(BenchReport {
        options,
        workloads: rows,
        echo_per_second,
        echo_calls,
        java_version,
        java_skipped,
        release_build: !cfg!(debug_assertions),
        pgo: std::env::var("OXICARD_BENCH_PGO")
            .ok()
            .filter(|how| !how.is_empty()),
    })
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

    fn assert_close(got: Option<f64>, want: f64) {
        let got = got.unwrap_or_else(|| panic!("None instead of {want}"));
        assert!((got - want).abs() < 1e-12, "{got} instead of {want}");
    }

    /// Median, paired ratios and geometric mean against values computed by hand.
    #[test]
    fn statistics_helpers_match_hand_computed_values() {
        assert_close(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_close(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_close(median(&[7.0]), 7.0);
        assert_eq!(median(&[]), None);

        // 2/1, 9/10, 4/8: median of the ratios 0.9, while the ratio of the medians is 4/8
        let ours = [2.0, 9.0, 4.0];
        let hotspot = [1.0, 10.0, 8.0];
        assert_eq!(paired_ratios(&ours, &hotspot), vec![2.0, 0.9, 0.5]);
        assert_close(median(&paired_ratios(&ours, &hotspot)), 0.9);

        assert_close(geometric_mean(&[2.0, 8.0]), 4.0);
        assert_close(geometric_mean(&[0.5, 2.0, 1.0]), 1.0);
        assert_close(geometric_mean(&[1.0, 3.0, 9.0]), 3.0);
        assert_eq!(geometric_mean(&[]), None);
    }

    /// A workload's ratio is the median of its paired per-round ratios, its spread their
    /// min..max, and the report's geometric mean combines those medians.
    #[test]
    fn report_uses_the_median_of_paired_ratios() {
        let row = |ours: &[f64], hotspot: &[f64]| WorkloadResult {
            workload: WORKLOADS[0],
            command: Vec::new(),
            ours_round_ns: ours.to_vec(),
            ours_calls: 0,
            hotspot_round_ns: hotspot.to_vec(),
            hotspot_calls: 0,
        };
        let first = row(&[2.0, 9.0, 4.0], &[1.0, 10.0, 8.0]);
        assert_close(Some(first.ours_ns()), 4.0);
        assert_close(first.hotspot_ns(), 8.0);
        assert_close(first.ratio(), 0.9);
        assert_eq!(first.ratio_spread(), Some((0.5, 2.0)));
        // ratios 3, 4.5, 10 and 40: median (4.5 + 10) / 2
        let second = row(&[30.0, 45.0, 100.0, 40.0], &[10.0, 10.0, 10.0, 1.0]);
        assert_close(second.ratio(), 7.25);

        let only_ours = row(&[5.0, 6.0], &[]);
        assert_eq!(only_ours.ratio(), None);
        assert_eq!(only_ours.ratio_spread(), None);

        let report = BenchReport {
            options: BenchOptions::quick(),
            workloads: vec![first, second, only_ours],
            echo_per_second: 0.0,
            echo_calls: 0,
            java_version: None,
            java_skipped: None,
            release_build: false,
            pgo: None,
        };
        // sqrt(0.9 * 7.25) = sqrt(6.525)
        assert_close(report.geometric_mean_ratio(), 6.525f64.sqrt());
    }
}
