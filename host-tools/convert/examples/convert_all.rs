//! The conversion benchmark of issue 5: converts every golden package (the class files in
//! `../shared/golden/*/classes`, with the options Oracle's converter was given, as
//! `tests/golden_convert.rs` does) and prints the time per package and in total. Each round
//! converts all packages in dependency order, writing the export files the next packages
//! import; the first round is reported on its own (cold caches), then the best of the
//! following rounds.
//!
//! `cargo run --release -p oxicard-convert --example convert_all [ROUNDS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::PACKAGES;
use oxicard_convert::convert_package;

/// One round: the time of each package's conversion, in `PACKAGES` order.
fn round(exp_dir: &std::path::Path, debug: bool) -> Vec<Duration> {
    PACKAGES
        .iter()
        .map(|p| {
            let mut options = common::golden_options(p, exp_dir);
            options.debug = debug;
            let start = Instant::now();
            let out = convert_package(&options)
                .unwrap_or_else(|e| panic!("{}: conversion failed: {e}", p.last));
            let took = start.elapsed();
            std::fs::write(exp_dir.join(format!("{}.exp", p.last)), &out.export).unwrap();
            took
        })
        .collect()
}

fn ms(d: Duration) -> String {
    format!("{:8.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ROUNDS is a number"))
        .unwrap_or(20);
    let exp_dir = common::temp_dir("convert-all");
    let first = round(&exp_dir, false);
    let mut best = first.clone();
    let mut best_total = Duration::MAX;
    for _ in 1..rounds.max(2) {
        let times = round(&exp_dir, false);
        let total: Duration = times.iter().sum();
        if total < best_total {
            best_total = total;
            best = times;
        }
    }
    let debug: Vec<Duration> = round(&exp_dir, true);
    println!(
        "{:<10} {:>11} {:>11} {:>11}",
        "package", "first", "best", "with debug"
    );
    for (i, p) in PACKAGES.iter().enumerate() {
        println!(
            "{:<10} {} {} {}",
            p.last,
            ms(first[i]),
            ms(best[i]),
            ms(debug[i])
        );
    }
    println!(
        "{:<10} {} {} {}   ({} packages, best of {} rounds)",
        "total",
        ms(first.iter().sum()),
        ms(best.iter().sum()),
        ms(debug.iter().sum()),
        PACKAGES.len(),
        rounds.max(2) - 1
    );
    let _ = std::fs::remove_dir_all(&exp_dir);
}
