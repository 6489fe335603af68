//! Replays a [`Transcript`] on a card: every directive is carried out, every command sent,
//! every response compared with the expected one and its captures stored as variables. The
//! card is anything that implements [`ScriptCard`]: the in-process [`SimCard`] here, a PC/SC
//! reader through `oxicard-transport`. The caller sees each event as it happens (to print it)
//! and gets a summary; the first mismatch stops the run unless asked to go on.
//!
//! [`ScriptSession`] keeps the variables between steps, so that the interactive shell can run
//! one line at a time with the same semantics as a script.

use std::fmt;

use oxicard_apdu::hex::Hex;
use oxicard_apdu::Aid;

use oxicard_store::Nvm;

use crate::card::SimCard;
use crate::transcript::{Exchange, Step, Transcript, Variables};

/// What a script needs from a card. Errors are messages for the user.
pub trait ScriptCard {
    /// Sends a command APDU; returns the response data followed by SW1 SW2.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, String>;
    /// A card reset.
    fn reset(&mut self) -> Result<(), String>;
    /// Loads the package with this AID (`load` lines).
    fn load(&mut self, package: &Aid) -> Result<(), String>;
    /// Installs an applet instance (`install` lines).
    fn install(
        &mut self,
        package: &Aid,
        applet: &Aid,
        instance: &Aid,
        params: &[u8],
    ) -> Result<(), String>;
}

impl<N: Nvm> ScriptCard for SimCard<N> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, String> {
        SimCard::transmit(self, command).map_err(|e| e.to_string())
    }

    fn reset(&mut self) -> Result<(), String> {
        SimCard::reset(self).map_err(|e| e.to_string())
    }

    fn load(&mut self, package: &Aid) -> Result<(), String> {
        SimCard::load(self, package).map_err(|e| e.to_string())
    }

    fn install(
        &mut self,
        package: &Aid,
        applet: &Aid,
        instance: &Aid,
        params: &[u8],
    ) -> Result<(), String> {
        SimCard::install(self, package, applet, instance, params).map_err(|e| e.to_string())
    }
}

/// Something that happened while replaying a transcript.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// A directive was carried out (`load`, `install`, `reset`, `set`), or skipped.
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
        /// The command bytes as sent (variables resolved).
        command: Vec<u8>,
        /// The response bytes (data then SW1 SW2).
        actual: Vec<u8>,
        /// Whether it matched the expectation (true when none was given).
        matched: bool,
        /// The expected bytes when the expectation has no wildcard (to show the difference).
        expected_bytes: Option<Vec<u8>>,
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

/// A failure that stops a script: the card refused a directive, a transport failed, a
/// variable is not set. Names its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError {
    /// 1-based line number in the script.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RunError {}

/// How to run a script.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Go on after a mismatch.
    pub keep_going: bool,
    /// Skip `load` and `install` lines (the applets are already on the card).
    pub skip_load_install: bool,
}

/// The state a script carries from step to step: its variables.
#[derive(Clone, Debug, Default)]
pub struct ScriptSession {
    /// Variables set by `set` lines and `{name}` captures.
    pub variables: Variables,
    /// How directives are treated.
    pub options: RunOptions,
}

impl ScriptSession {
    /// A session with no variables.
    pub fn new(options: RunOptions) -> ScriptSession {
        ScriptSession {
            variables: Variables::new(),
            options,
        }
    }

    /// Carries out one step; returns whether its response (if any) matched.
    pub fn run_step<C: ScriptCard + ?Sized>(
        &mut self,
        card: &mut C,
        step: &Step,
        observe: &mut dyn FnMut(&Event<'_>),
    ) -> Result<bool, RunError> {
        let fail = |line: usize| move |message: String| RunError { line, message };
        let skip = self.options.skip_load_install;
        let text = match step {
            Step::Load { line, package } => {
                if skip {
                    format!("load {package} (skipped)")
                } else {
                    card.load(package).map_err(fail(*line))?;
                    format!("load {package}")
                }
            }
            Step::Install {
                line,
                package,
                applet,
                instance,
                params,
            } => {
                let text = format!("install {package} {applet} {instance} {}", Hex(params));
                if skip {
                    format!("{} (skipped)", text.trim_end())
                } else {
                    card.install(package, applet, instance, params)
                        .map_err(fail(*line))?;
                    text
                }
            }
            Step::Reset { line } => {
                card.reset().map_err(fail(*line))?;
                "reset".into()
            }
            Step::Set { line, name, value } => {
                let bytes = value.resolve(&self.variables).map_err(fail(*line))?;
                let text = format!("set {name} {}", Hex(&bytes));
                self.variables.insert(name.clone(), bytes);
                text
            }
            Step::Exchange(exchange) => return self.exchange(card, exchange, observe),
        };
        let line = match step {
            Step::Load { line, .. }
            | Step::Install { line, .. }
            | Step::Reset { line }
            | Step::Set { line, .. } => *line,
            Step::Exchange(exchange) => exchange.line,
        };
        observe(&Event::Directive { line, text });
        Ok(true)
    }

    fn exchange<C: ScriptCard + ?Sized>(
        &mut self,
        card: &mut C,
        exchange: &Exchange,
        observe: &mut dyn FnMut(&Event<'_>),
    ) -> Result<bool, RunError> {
        let fail = |message: String| RunError {
            line: exchange.line,
            message,
        };
        let command = exchange.command.build(&self.variables).map_err(fail)?;
        let actual = card.transmit(&command).map_err(fail)?;
        let (matched, expected_bytes) = match &exchange.expected {
            None => (true, None),
            Some(expected) => {
                let outcome = expected
                    .matches(&actual, &self.variables)
                    .map_err(|message| RunError {
                        line: expected.line,
                        message,
                    })?;
                let expected_bytes = expected.fixed_bytes(&self.variables);
                match outcome {
                    Some(captures) => {
                        self.variables.extend(captures);
                        (true, expected_bytes)
                    }
                    None => (false, expected_bytes),
                }
            }
        };
        observe(&Event::Exchange {
            exchange,
            command,
            actual,
            matched,
            expected_bytes,
        });
        Ok(matched)
    }
}

/// Replays `transcript` on `card`, calling `observe` for every event. Stops at the first
/// mismatch unless `options.keep_going`. Errors are failures that stop the script (a package
/// that cannot be loaded, an install the card refused, a broken transport).
pub fn run_transcript<C: ScriptCard + ?Sized>(
    card: &mut C,
    transcript: &Transcript,
    options: RunOptions,
    mut observe: impl FnMut(&Event<'_>),
) -> Result<RunSummary, RunError> {
    let mut session = ScriptSession::new(options);
    let mut summary = RunSummary::default();
    for step in &transcript.steps {
        let matched = session.run_step(card, step, &mut observe)?;
        if let Step::Exchange(exchange) = step {
            summary.exchanges += 1;
            if matched {
                summary.matched += 1;
            } else {
                summary.mismatched += 1;
                summary.first_mismatch.get_or_insert(exchange.line);
                if !options.keep_going {
                    break;
                }
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A card that answers every command with the next canned response and records what it
    /// was sent.
    #[derive(Default)]
    struct Canned {
        responses: Vec<Vec<u8>>,
        sent: Vec<Vec<u8>>,
        resets: usize,
    }

    impl ScriptCard for Canned {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, String> {
            self.sent.push(command.to_vec());
            if self.responses.is_empty() {
                return Err("no more responses".into());
            }
            Ok(self.responses.remove(0))
        }
        fn reset(&mut self) -> Result<(), String> {
            self.resets += 1;
            Ok(())
        }
        fn load(&mut self, _: &Aid) -> Result<(), String> {
            Err("cannot load".into())
        }
        fn install(&mut self, _: &Aid, _: &Aid, _: &Aid, _: &[u8]) -> Result<(), String> {
            Err("cannot install".into())
        }
    }

    #[test]
    fn captured_variables_feed_later_commands() {
        let script = "select F00000010101\n> 80 10 00 00 00\n< {challenge:4} 9000\n\
                      > 80 11 00 00 04 $challenge\n< 9000\nreset\n";
        let transcript = Transcript::parse(script).unwrap();
        let mut card = Canned {
            responses: vec![vec![0x90, 0], vec![1, 2, 3, 4, 0x90, 0], vec![0x90, 0]],
            ..Canned::default()
        };
        let mut lines = Vec::new();
        let summary = run_transcript(&mut card, &transcript, RunOptions::default(), |event| {
            if let Event::Directive { line, .. } = event {
                lines.push(*line)
            }
        })
        .unwrap();
        assert_eq!(summary.exchanges, 3);
        assert_eq!(summary.matched, 3);
        assert_eq!(card.sent[2], [0x80, 0x11, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(card.resets, 1);
        assert_eq!(lines, [6]);
    }

    #[test]
    fn a_mismatch_stops_unless_keep_going_and_directives_can_be_skipped() {
        let script = "install F00000010100 F00000010101\n> 80 01 00 00\n< 9000\n\
                      > 80 01 00 00\n< 9000\n";
        let transcript = Transcript::parse(script).unwrap();
        let responses = vec![vec![0x6A, 0x82], vec![0x6A, 0x82]];
        let mut card = Canned {
            responses: responses.clone(),
            ..Canned::default()
        };
        let error = run_transcript(&mut card, &transcript, RunOptions::default(), |_| {});
        assert_eq!(
            error.unwrap_err(),
            RunError {
                line: 1,
                message: "cannot install".into()
            }
        );
        let skip = RunOptions {
            skip_load_install: true,
            ..RunOptions::default()
        };
        let summary = run_transcript(&mut card, &transcript, skip, |_| {}).unwrap();
        assert_eq!((summary.exchanges, summary.mismatched), (1, 1));
        assert_eq!(summary.first_mismatch, Some(2));
        let mut card = Canned {
            responses,
            ..Canned::default()
        };
        let keep_going = RunOptions {
            keep_going: true,
            skip_load_install: true,
        };
        let summary = run_transcript(&mut card, &transcript, keep_going, |_| {}).unwrap();
        assert_eq!((summary.exchanges, summary.mismatched), (2, 2));
    }

    #[test]
    fn an_unset_variable_stops_the_script_at_its_line() {
        let transcript = Transcript::parse("\n> 80 01 00 00 02 $nope\n").unwrap();
        let mut card = Canned::default();
        let error =
            run_transcript(&mut card, &transcript, RunOptions::default(), |_| {}).unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("$nope"), "{error}");
    }
}
