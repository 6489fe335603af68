//! The APDU transcript format of the golden reference files (`../shared/golden/README.md` §4):
//! `load`, `install` and `reset` directives, `>` command lines and `<` expected responses, `#`
//! comments. The same scripts run on the in-process card (`oxicard run --sim`) and, later, over
//! PC/SC, so parsing lives here once.

use std::fmt;

use oxicard_apdu::{hex, Aid, Command};

/// One parsed step of a transcript, with the 1-based line it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `load <package AID>`: load the CAP file of that package.
    Load {
        /// Line number in the script.
        line: usize,
        /// The package AID.
        package: Aid,
    },
    /// `install <package AID> <applet AID> [<instance AID> [<params>]]`.
    Install {
        /// Line number in the script.
        line: usize,
        /// The package holding the applet class.
        package: Aid,
        /// The applet (class) AID.
        applet: Aid,
        /// The instance AID (defaults to the applet AID).
        instance: Aid,
        /// Application-specific install parameters.
        params: Vec<u8>,
    },
    /// `reset`: a card reset (power cycle).
    Reset {
        /// Line number in the script.
        line: usize,
    },
    /// A `>` command, optionally followed by its `<` expected response.
    Exchange(Exchange),
}

/// A command APDU and what must come back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Line number of the `>` line.
    pub line: usize,
    /// The command APDU bytes (checked to be a well-formed ISO 7816-4 APDU).
    pub command: Vec<u8>,
    /// The expected response, when the script gives one.
    pub expected: Option<Expected>,
}

/// An expected response: the data and the status word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Line number of the `<` line.
    pub line: usize,
    /// The response data (may be empty).
    pub data: Vec<u8>,
    /// The status word.
    pub sw: u16,
}

impl Expected {
    /// The expected response bytes as a card sends them: data then SW1 SW2.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = self.data.clone();
        bytes.extend_from_slice(&self.sw.to_be_bytes());
        bytes
    }
}

/// A parsed transcript.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// The steps in order.
    pub steps: Vec<Step>,
}

/// Why a transcript could not be parsed: the line and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for TranscriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TranscriptError {}

fn parse_hex(line: usize, what: &str, text: &str) -> Result<Vec<u8>, TranscriptError> {
    hex::decode(text).map_err(|e| TranscriptError {
        line,
        message: format!("{what} is not hex ({e}): {text:?}"),
    })
}

fn parse_aid(line: usize, what: &str, text: Option<&str>) -> Result<Aid, TranscriptError> {
    let text = text.ok_or_else(|| TranscriptError {
        line,
        message: format!("missing {what}"),
    })?;
    Aid::from_hex(text).map_err(|e| TranscriptError {
        line,
        message: format!("{what} {text:?} is not a valid AID: {e}"),
    })
}

impl Transcript {
    /// Parses a transcript. Every error names its line.
    pub fn parse(text: &str) -> Result<Transcript, TranscriptError> {
        let mut steps = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            if let Some(rest) = content.strip_prefix('>') {
                let command = parse_hex(line, "command APDU", rest)?;
                Command::parse(&command).map_err(|e| TranscriptError {
                    line,
                    message: format!("malformed command APDU: {e}"),
                })?;
                steps.push(Step::Exchange(Exchange {
                    line,
                    command,
                    expected: None,
                }));
            } else if let Some(rest) = content.strip_prefix('<') {
                let expected = parse_expected(line, rest)?;
                match steps.last_mut() {
                    Some(Step::Exchange(exchange)) if exchange.expected.is_none() => {
                        exchange.expected = Some(expected);
                    }
                    _ => {
                        return Err(TranscriptError {
                            line,
                            message: "a `<` response must follow a `>` command".into(),
                        })
                    }
                }
            } else {
                steps.push(parse_directive(line, content)?);
            }
        }
        Ok(Transcript { steps })
    }

    /// The number of exchanges that have an expected response.
    pub fn checked_exchanges(&self) -> usize {
        self.steps
            .iter()
            .filter(|step| {
                matches!(
                    step,
                    Step::Exchange(Exchange {
                        expected: Some(_),
                        ..
                    })
                )
            })
            .count()
    }
}

fn parse_expected(line: usize, text: &str) -> Result<Expected, TranscriptError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (sw_text, data_words) = words.split_last().ok_or_else(|| TranscriptError {
        line,
        message: "empty response line: expected `< [data] SW`".into(),
    })?;
    let sw_bytes = parse_hex(line, "status word", sw_text)?;
    let sw = match sw_bytes.as_slice() {
        [sw1, sw2] => u16::from_be_bytes([*sw1, *sw2]),
        _ => {
            return Err(TranscriptError {
                line,
                message: format!("status word must be 4 hex digits, found {sw_text:?}"),
            })
        }
    };
    let data = parse_hex(line, "response data", &data_words.concat())?;
    Ok(Expected { line, data, sw })
}

fn parse_directive(line: usize, content: &str) -> Result<Step, TranscriptError> {
    let mut words = content.split_whitespace();
    let keyword = words.next().unwrap_or("");
    let step = match keyword {
        "load" => Step::Load {
            line,
            package: parse_aid(line, "package AID", words.next())?,
        },
        "install" => {
            let package = parse_aid(line, "package AID", words.next())?;
            let applet = parse_aid(line, "applet AID", words.next())?;
            let instance = match words.next() {
                Some(text) => parse_aid(line, "instance AID", Some(text))?,
                None => applet,
            };
            let params = match words.next() {
                Some(text) => parse_hex(line, "install parameters", text)?,
                None => Vec::new(),
            };
            Step::Install {
                line,
                package,
                applet,
                instance,
                params,
            }
        }
        "reset" => Step::Reset { line },
        other => {
            return Err(TranscriptError {
                line,
                message: format!(
                    "unknown directive {other:?}: expected load, install, reset, `>` or `<`"
                ),
            })
        }
    };
    if let Some(extra) = words.next() {
        return Err(TranscriptError {
            line,
            message: format!("unexpected {extra:?} after `{keyword}`"),
        });
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_line_kind() {
        let text = "# comment\nload F00000010100\ninstall F00000010100 F00000010101\n\
                    install F00000010400 F00000010401 F00000010402 04313233340064\n\
                    > 80 01 00 00 02 AABB 00  # echo\n< AABB 9000\n> 80 03 6A 82\n< 6A82\nreset\n";
        let transcript = Transcript::parse(text).expect("parses");
        assert_eq!(transcript.steps.len(), 6);
        assert_eq!(transcript.checked_exchanges(), 2);
        match &transcript.steps[2] {
            Step::Install {
                instance, params, ..
            } => {
                assert_eq!(instance.to_string(), "F00000010402");
                assert_eq!(params, &[0x04, 0x31, 0x32, 0x33, 0x34, 0x00, 0x64]);
            }
            other => panic!("unexpected {other:?}"),
        }
        match &transcript.steps[3] {
            Step::Exchange(exchange) => {
                assert_eq!(exchange.command, [0x80, 1, 0, 0, 2, 0xAA, 0xBB, 0]);
                let expected = exchange.expected.as_ref().expect("expected response");
                assert_eq!(expected.bytes(), [0xAA, 0xBB, 0x90, 0x00]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("< 9000\n", 1, "must follow"),
            ("> 80 01\n", 1, "malformed command"),
            ("> 80010000\n< 90\n", 2, "4 hex digits"),
            ("\nfrobnicate\n", 2, "unknown directive"),
            ("load F000\n", 1, "not a valid AID"),
            ("reset now\n", 1, "unexpected"),
        ];
        for (text, line, needle) in cases {
            let error = Transcript::parse(text).expect_err(text);
            assert_eq!(error.line, line, "{text:?}: {error}");
            assert!(error.message.contains(needle), "{text:?}: {error}");
        }
    }
}
