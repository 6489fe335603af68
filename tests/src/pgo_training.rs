//! The training run of the benchmark's profile-guided build (`scripts/bench.sh`).
//!
//! A profile-guided build compiles the VM twice: once instrumented, to count which branches
//! and handlers a run takes, and once more using those counts to lay out the code (hot paths
//! together and falling through, cold paths apart). The counts must come from the same
//! compiled functions the benchmark runs, so the training runs in the benchmark's own binary
//! (`cargo bench -p oxicard-tests --bench vm -- --train`) on the benchmark's card type
//! ([`GoldenCardInner`](crate::golden_card::GoldenCardInner)).
//!
//! What it runs is not the benchmark: every golden transcript (`../shared/golden/*/
//! transcript.apdu`), each on a fresh card, with the commands the benchmark times left out
//! (see [`WORKLOADS`]). The profile is that of the conformance scripts: loading, linking,
//! installing and the applets' every command, the other loops of the golden applets included.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use oxicard_sim::runner::RunOptions;
use oxicard_sim::{run_transcript, CapPackage, SimCard, Step, Transcript};
use oxicard_store::RamNvm;

use crate::bench::WORKLOADS;
use crate::golden_card::{golden_dir, parse_hex, NVM_BYTES};

/// What a training run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrainingSummary {
    /// Transcripts replayed (folder names), in order.
    pub transcripts: Vec<String>,
    /// Exchanges sent.
    pub exchanges: usize,
    /// Exchanges whose response differed from the transcript's.
    pub mismatched: usize,
    /// Commands left out because the benchmark times them.
    pub left_out: usize,
}

/// The golden CAP files (`*.cap` in the folders of `golden`).
fn golden_caps(golden: &Path) -> Result<Vec<CapPackage>> {
    let mut caps = Vec::new();
    for folder in sorted_entries(golden)? {
        if !folder.is_dir() {
            continue;
        }
        for file in sorted_entries(&folder)? {
            if file.extension().is_some_and(|e| e == "cap") {
                caps.push(CapPackage::read(&file).map_err(|e| anyhow!("{}: {e}", file.display()))?);
            }
        }
    }
    Ok(caps)
}

/// The entries of directory `dir`, sorted (the training runs in the same order every time).
fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

/// Replays every golden transcript on a fresh card of the benchmark's type, without the
/// commands the benchmark times (the [`WORKLOADS`] of the transcript's folder). Runs on a
/// thread of its own with a large stack, as the benchmark does (a card holds its NVM).
pub fn train_on_golden_transcripts() -> Result<TrainingSummary> {
    std::thread::Builder::new()
        .name("pgo-training".into())
        .stack_size(64 << 20)
        .spawn(train_on_this_thread)
        .context("starting the training thread")?
        .join()
        .map_err(|_| anyhow!("the training thread panicked"))?
}

fn train_on_this_thread() -> Result<TrainingSummary> {
    let golden = golden_dir();
    let caps = golden_caps(&golden)?;
    let mut summary = TrainingSummary::default();
    for folder in sorted_entries(&golden)? {
        let path = folder.join("transcript.apdu");
        if !path.is_file() {
            continue;
        }
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut transcript =
            Transcript::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let timed = WORKLOADS
            .iter()
            .filter(|w| w.applet.package.folder == name)
            .map(|w| parse_hex(w.transcript_prefix))
            .collect::<Result<Vec<_>>>()?;
        let before = transcript.steps.len();
        transcript.steps.retain(|step| match step {
            Step::Exchange(exchange) => !exchange
                .literal_command()
                .is_some_and(|c| timed.iter().any(|prefix| c.starts_with(prefix))),
            _ => true,
        });
        summary.left_out += before - transcript.steps.len();

        // the benchmark's card type ([`GoldenCardInner`](crate::golden_card::GoldenCardInner)) with every golden CAP to load
        let mut card: SimCard<RamNvm<NVM_BYTES>> =
            SimCard::on_nvm(RamNvm::new()).map_err(|e| anyhow!("{e}"))?;
        for cap in &caps {
            card.add_cap(cap.clone());
        }
        let options = RunOptions {
            keep_going: true,
            skip_load_install: false,
        };
        let run = run_transcript(&mut card, &transcript, options, |_| {})
            .map_err(|e| anyhow!("{}:{}: {e}", path.display(), e.line))?;
        summary.exchanges += run.exchanges;
        summary.mismatched += run.mismatched;
        summary.transcripts.push(name);
    }
    if summary.transcripts.is_empty() {
        bail!("no golden transcript under {}", golden.display());
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The training replays every golden transcript with every response as the transcript
    /// expects (so the profile is of correct runs) and leaves out exactly the benchmark's six
    /// timed commands.
    #[test]
    fn training_replays_the_golden_transcripts_without_the_timed_commands() -> Result<()> {
        let summary = train_on_golden_transcripts()?;
        for folder in ["hello", "bytecodes", "ints", "wallet", "crypto", "sharing"] {
            assert!(
                summary.transcripts.iter().any(|t| t == folder),
                "{folder} not replayed: {summary:?}"
            );
        }
        assert_eq!(summary.mismatched, 0, "{summary:?}");
        assert_eq!(summary.left_out, WORKLOADS.len(), "{summary:?}");
        assert!(summary.exchanges > 100, "{summary:?}");
        Ok(())
    }
}
