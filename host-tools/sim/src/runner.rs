//! Replays a [`Transcript`] on a [`SimCard`]: every directive is carried out, every command sent,
//! every response compared with the expected one. The caller sees each event as it happens (to
//! print it) and gets a summary; the first mismatch stops the run unless asked to go on.

use oxicard_apdu::hex::Hex;

use crate::card::{SimCard, SimError};
use crate::transcript::{Exchange, Step, Transcript};

/// Something that happened while replaying a transcript.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// A directive was carried out (`load`, `install`, `reset`).
    Directive {
        /// Line number in the script.
        line: usize,
        /// What was done, in words.
        text: String,
    },
    /// A command was sent and a response came back.
    Exchange {
        /// The command and its expectation.
        exchange: &'a Exchange,
        /// The response bytes (data then SW1 SW2).
        actual: Vec<u8>,
        /// Whether it matched the expectation (true when none was given).
        matched: bool,
    },
}

/// How a replay ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Commands sent.
    pub exchanges: usize,
    /// Responses that matched their expectation.
    pub matched: usize,
    /// Responses that did not.
    pub mismatched: usize,
    /// The line of the first mismatch.
    pub first_mismatch: Option<usize>,
}

impl RunSummary {
    /// True when every checked response matched.
    pub fn passed(&self) -> bool {
        self.mismatched == 0
    }
}

/// Replays `transcript` on `card`, calling `observe` for every event. Stops at the first
/// mismatch unless `keep_going`. Errors are host-side failures (a package that cannot be loaded,
/// an install the card refused), named with their line.
pub fn run_transcript(
    card: &mut SimCard,
    transcript: &Transcript,
    keep_going: bool,
    mut observe: impl FnMut(&Event<'_>),
) -> Result<RunSummary, (usize, SimError)> {
    let mut summary = RunSummary::default();
    for step in &transcript.steps {
        match step {
            Step::Load { line, package } => {
                card.load(package).map_err(|e| (*line, e))?;
                observe(&Event::Directive {
                    line: *line,
                    text: format!("load {package}"),
                });
            }
            Step::Install {
                line,
                package,
                applet,
                instance,
                params,
            } => {
                card.install(package, applet, instance, params)
                    .map_err(|e| (*line, e))?;
                observe(&Event::Directive {
                    line: *line,
                    text: format!("install {package} {applet} {instance} {}", Hex(params)),
                });
            }
            Step::Reset { line } => {
                card.reset().map_err(|e| (*line, e))?;
                observe(&Event::Directive {
                    line: *line,
                    text: "reset".into(),
                });
            }
            Step::Exchange(exchange) => {
                let actual = card
                    .transmit(&exchange.command)
                    .map_err(|e| (exchange.line, e))?;
                let matched = exchange
                    .expected
                    .as_ref()
                    .is_none_or(|expected| expected.bytes() == actual);
                summary.exchanges += 1;
                if matched {
                    summary.matched += 1;
                } else {
                    summary.mismatched += 1;
                    summary.first_mismatch.get_or_insert(exchange.line);
                }
                observe(&Event::Exchange {
                    exchange,
                    actual,
                    matched,
                });
                if !matched && !keep_going {
                    break;
                }
            }
        }
    }
    Ok(summary)
}
