//! The APDU script language of `oxicard run` and `oxicard shell`. It is a superset of the
//! transcript format of the golden reference files (`../shared/golden/README.md` §4): `load`,
//! `install` and `reset` directives, `>` command lines and `<` expected responses, `#`
//! comments. On top of that:
//!
//! - `select AID`: SELECT by name (`00 A4 04 00 Lc AID 00`); expects `9000` unless a `<` line
//!   follows;
//! - wildcards in expected responses: `?` (or `X`) for any hex digit, `*` for any run of
//!   bytes: `< * 61??`;
//! - named variables: `{name}` (the rest of the data) or `{name:N}` (N bytes) in a `<` line
//!   captures bytes of the response; `set name HEX` sets one; `$name` or `${name}` uses one in
//!   a command, a `select` or an expected response;
//! - the plain formats people already have: scriptor's hex lines (no `>`, `exit` ends the
//!   script, its `< … : meaning` output lines) and opensc-tool's `AA:BB:..` bytes.
//!
//! The same scripts run on the in-process card and over PC/SC, so parsing lives here once.

use std::collections::BTreeMap;
use std::fmt;

use oxicard_apdu::{hex, Aid, Command};

/// Variables of a running script: name to bytes.
pub type Variables = BTreeMap<String, Vec<u8>>;

/// Variables captured by a matching response, in pattern order.
pub type Captures = Vec<(String, Vec<u8>)>;

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
    /// `set <name> <hex>`: gives a variable a value.
    Set {
        /// Line number in the script.
        line: usize,
        /// The variable name.
        name: String,
        /// The value (may use other variables).
        value: HexTemplate,
    },
    /// A command (`>` line, bare hex line or `select`), optionally followed by its `<`
    /// expected response.
    Exchange(Exchange),
}

/// A piece of a hex template: literal bytes or a variable's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HexItem {
    /// Literal bytes.
    Bytes(Vec<u8>),
    /// The bytes of a variable (`$name` or `${name}`).
    Variable(String),
}

/// Bytes written in hex that may use variables, resolved when the script runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HexTemplate(pub Vec<HexItem>);

impl HexTemplate {
    /// The bytes when the template uses no variable.
    pub fn literal(&self) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        for item in &self.0 {
            match item {
                HexItem::Bytes(b) => bytes.extend_from_slice(b),
                HexItem::Variable(_) => return None,
            }
        }
        Some(bytes)
    }

    /// The bytes with every variable replaced by its value; an unknown variable is an error.
    pub fn resolve(&self, variables: &Variables) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        for item in &self.0 {
            match item {
                HexItem::Bytes(b) => bytes.extend_from_slice(b),
                HexItem::Variable(name) => bytes.extend_from_slice(lookup(variables, name)?),
            }
        }
        Ok(bytes)
    }
}

fn lookup<'v>(variables: &'v Variables, name: &str) -> Result<&'v [u8], String> {
    variables
        .get(name)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("variable ${name} is not set"))
}

/// The command of an exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandSpec {
    /// A command APDU written out (`>` line or bare hex line).
    Apdu(HexTemplate),
    /// `select AID`: SELECT by name, `00 A4 04 00 Lc AID 00`.
    Select(HexTemplate),
}

impl CommandSpec {
    /// The command APDU bytes, checked to be a well-formed ISO 7816-4 APDU.
    pub fn build(&self, variables: &Variables) -> Result<Vec<u8>, String> {
        match self {
            CommandSpec::Apdu(template) => {
                let bytes = template.resolve(variables)?;
                Command::parse(&bytes).map_err(|e| format!("malformed command APDU: {e}"))?;
                Ok(bytes)
            }
            CommandSpec::Select(template) => select_command(&template.resolve(variables)?),
        }
    }
}

/// The SELECT by name command for `aid`: `00 A4 04 00 Lc AID 00`.
pub fn select_command(aid: &[u8]) -> Result<Vec<u8>, String> {
    let aid = Aid::new(aid).map_err(|e| format!("select: not a valid AID: {e}"))?;
    Command::new(0x00, 0xA4, 0x04, 0x00, aid.as_bytes(), Some(256))
        .map(|command| command.to_vec())
        .map_err(|e| format!("select: {e}"))
}

/// A command APDU and what must come back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Line number of the command line.
    pub line: usize,
    /// The command.
    pub command: CommandSpec,
    /// The expected response, when the script gives one (or, for `select`, implies one).
    pub expected: Option<Expected>,
}

impl Exchange {
    /// The command bytes when they do not depend on variables.
    pub fn literal_command(&self) -> Option<Vec<u8>> {
        self.command.build(&Variables::new()).ok()
    }
}

/// One item of an expected response's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// One byte; the bits set in `mask` must equal those of `value` (`?` digits clear them).
    Byte {
        /// The expected bits.
        value: u8,
        /// Which bits are checked.
        mask: u8,
    },
    /// `*`: any number of bytes, none included.
    AnyRun,
    /// `{name}` or `{name:N}`: captures N bytes (or any number) into a variable.
    Capture {
        /// The variable name.
        name: String,
        /// How many bytes; `None` for any number.
        len: Option<usize>,
    },
    /// `$name`: the bytes of a variable.
    Variable(String),
}

/// An expected response: data patterns and the status word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Line number of the `<` line.
    pub line: usize,
    /// The response data patterns (empty: no data).
    pub data: Vec<Pattern>,
    /// The status word (bits cleared in `sw_mask` are wildcards).
    pub sw: u16,
    /// Which bits of the status word are checked (`FFFF` unless `?` digits are used).
    pub sw_mask: u16,
    /// The line as written (without the `<` and comments), for messages.
    pub text: String,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Expected {
    /// Whether `response` (data then SW1 SW2) matches; on a match, the variables captured.
    /// An unset variable in the pattern is an error.
    pub fn matches(
        &self,
        response: &[u8],
        variables: &Variables,
    ) -> Result<Option<Captures>, String> {
        let Some(split) = response.len().checked_sub(2) else {
            return Ok(None);
        };
        let (data, sw) = response.split_at(split);
        let sw = u16::from_be_bytes([sw[0], sw[1]]);
        if sw & self.sw_mask != self.sw & self.sw_mask {
            return Ok(None);
        }
        let mut captures = Vec::new();
        if match_data(&self.data, data, variables, &mut captures)? {
            Ok(Some(captures))
        } else {
            Ok(None)
        }
    }

    /// The expected bytes (data then SW1 SW2) when every item stands for fixed bytes (no
    /// wildcard, no capture); variables are resolved. Used to show where a response differs.
    pub fn fixed_bytes(&self, variables: &Variables) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        for item in &self.data {
            match item {
                Pattern::Byte { value, mask: 0xFF } => bytes.push(*value),
                Pattern::Variable(name) => bytes.extend_from_slice(variables.get(name)?),
                _ => return None,
            }
        }
        if self.sw_mask != 0xFFFF {
            return None;
        }
        bytes.extend_from_slice(&self.sw.to_be_bytes());
        Some(bytes)
    }
}

/// Backtracking match of `patterns` against all of `data`.
fn match_data(
    patterns: &[Pattern],
    data: &[u8],
    variables: &Variables,
    captures: &mut Captures,
) -> Result<bool, String> {
    let Some((first, rest)) = patterns.split_first() else {
        return Ok(data.is_empty());
    };
    match first {
        Pattern::Byte { value, mask } => match data.split_first() {
            Some((byte, tail)) if byte & mask == value & mask => {
                match_data(rest, tail, variables, captures)
            }
            _ => Ok(false),
        },
        Pattern::Variable(name) => {
            let value = lookup(variables, name)?;
            match data.strip_prefix(value) {
                Some(tail) => match_data(rest, tail, variables, captures),
                None => Ok(false),
            }
        }
        Pattern::Capture { name, len: Some(n) } => match (data.get(..*n), data.get(*n..)) {
            (Some(taken), Some(tail)) => {
                captures.push((name.clone(), taken.to_vec()));
                if match_data(rest, tail, variables, captures)? {
                    return Ok(true);
                }
                captures.pop();
                Ok(false)
            }
            _ => Ok(false),
        },
        Pattern::AnyRun | Pattern::Capture { len: None, .. } => {
            for n in 0..=data.len() {
                let (taken, tail) = data.split_at(n);
                if let Pattern::Capture { name, .. } = first {
                    captures.push((name.clone(), taken.to_vec()));
                }
                if match_data(rest, tail, variables, captures)? {
                    return Ok(true);
                }
                if matches!(first, Pattern::Capture { .. }) {
                    captures.pop();
                }
            }
            Ok(false)
        }
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

/// The directive keywords (what a line may start with besides `>`, `<` and hex).
pub const KEYWORDS: &[&str] = &["load", "install", "reset", "select", "set", "exit"];

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

/// A token of hex text: a byte (with wildcard mask), a variable use, `*` or a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Byte { value: u8, mask: u8 },
    Variable(String),
    AnyRun,
    Capture { name: String, len: Option<usize> },
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A hex digit (`None` for not one) as (value, mask); wildcards only where `patterns`.
fn nibble(c: char, patterns: bool) -> Option<(u8, u8)> {
    match c {
        '?' | 'X' | 'x' if patterns => Some((0, 0)),
        _ => c
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
            .map(|d| (d, 0x0F)),
    }
}

/// Splits hex text into tokens. Bytes are two adjacent digits; whitespace and `:` separate
/// bytes. With `patterns`, `?`/`X` digits, `*` and `{name[:N]}` are allowed too.
fn tokenize(text: &str, patterns: bool) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let read_name = |start: usize| -> (String, usize) {
        let mut end = start;
        while chars.get(end).is_some_and(|c| is_name_char(*c)) {
            end += 1;
        }
        (chars[start..end].iter().collect(), end)
    };
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() || c == ':' {
            i += 1;
        } else if c == '$' {
            let braced = chars.get(i + 1) == Some(&'{');
            let start = if braced { i + 2 } else { i + 1 };
            if !chars.get(start).is_some_and(|c| is_name_start(*c)) {
                return Err(format!(
                    "`$` at column {} must start a variable name",
                    i + 1
                ));
            }
            let (name, end) = read_name(start);
            i = end;
            if braced {
                if chars.get(i) != Some(&'}') {
                    return Err(format!("`${{{name}` is not closed with `}}`"));
                }
                i += 1;
            }
            tokens.push(Token::Variable(name));
        } else if patterns && c == '*' {
            tokens.push(Token::AnyRun);
            i += 1;
        } else if patterns && c == '{' {
            if !chars.get(i + 1).is_some_and(|c| is_name_start(*c)) {
                return Err(format!(
                    "`{{` at column {} must start a capture `{{name}}` or `{{name:N}}`",
                    i + 1
                ));
            }
            let (name, end) = read_name(i + 1);
            i = end;
            let mut len = None;
            if chars.get(i) == Some(&':') {
                let mut digits = String::new();
                i += 1;
                while let Some(d) = chars.get(i).filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    i += 1;
                }
                len = Some(digits.parse::<usize>().map_err(|_| {
                    format!("capture {{{name}:N}} needs a decimal byte count after `:`")
                })?);
            }
            if chars.get(i) != Some(&'}') {
                return Err(format!("capture `{{{name}` is not closed with `}}`"));
            }
            i += 1;
            tokens.push(Token::Capture { name, len });
        } else if let Some((high, high_mask)) = nibble(c, patterns) {
            let Some((low, low_mask)) = chars.get(i + 1).and_then(|n| nibble(*n, patterns)) else {
                return Err(format!("odd number of hex digits at column {}", i + 1));
            };
            tokens.push(Token::Byte {
                value: (high << 4) | low,
                mask: (high_mask << 4) | low_mask,
            });
            i += 2;
        } else {
            return Err(format!("unexpected {c:?} at column {}", i + 1));
        }
    }
    Ok(tokens)
}

/// Parses hex that may use variables (a command, a `select` AID, a `set` value).
fn parse_template(line: usize, what: &str, text: &str) -> Result<HexTemplate, TranscriptError> {
    let tokens = tokenize(text, false).map_err(|e| TranscriptError {
        line,
        message: format!("{what} is not hex ({e}): {text:?}"),
    })?;
    let mut items: Vec<HexItem> = Vec::new();
    for token in tokens {
        match token {
            Token::Byte { value, .. } => match items.last_mut() {
                Some(HexItem::Bytes(bytes)) => bytes.push(value),
                _ => items.push(HexItem::Bytes(vec![value])),
            },
            Token::Variable(name) => items.push(HexItem::Variable(name)),
            Token::AnyRun | Token::Capture { .. } => {
                return Err(TranscriptError {
                    line,
                    message: "wildcards and captures are only allowed in `<` lines".into(),
                })
            }
        }
    }
    Ok(HexTemplate(items))
}

impl Transcript {
    /// Parses a transcript. Every error names its line.
    pub fn parse(text: &str) -> Result<Transcript, TranscriptError> {
        let mut steps = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() || content.starts_with("//") {
                continue;
            }
            if let Some(rest) = content.strip_prefix('>') {
                steps.push(Step::Exchange(command_exchange(line, rest)?));
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
            } else if content.split_whitespace().next() == Some("exit") {
                break;
            } else if looks_like_hex(content) {
                steps.push(Step::Exchange(command_exchange(line, content)?));
            } else {
                steps.push(parse_directive(line, content)?);
            }
        }
        // A `select` without a `<` line expects success (any data, 9000).
        for step in &mut steps {
            if let Step::Exchange(Exchange {
                line,
                command: CommandSpec::Select(_),
                expected: expected @ None,
            }) = step
            {
                *expected = Some(Expected {
                    line: *line,
                    data: vec![Pattern::AnyRun],
                    sw: 0x9000,
                    sw_mask: 0xFFFF,
                    text: "* 9000".into(),
                });
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

/// Whether a line without `>` is a bare command (scriptor's and opensc-tool's formats): its
/// first word is hex (possibly with `:`) or a variable.
fn looks_like_hex(content: &str) -> bool {
    let first = content.split_whitespace().next().unwrap_or("");
    first.starts_with('$') || first.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
}

fn command_exchange(line: usize, text: &str) -> Result<Exchange, TranscriptError> {
    let template = parse_template(line, "command APDU", text)?;
    if let Some(bytes) = template.literal() {
        Command::parse(&bytes).map_err(|e| TranscriptError {
            line,
            message: format!("malformed command APDU: {e}"),
        })?;
    }
    Ok(Exchange {
        line,
        command: CommandSpec::Apdu(template),
        expected: None,
    })
}

fn parse_expected(line: usize, text: &str) -> Result<Expected, TranscriptError> {
    // scriptor prints `< 90 00 : Normal processing.`: the meaning after ` : ` is a comment.
    let text = text.split(" : ").next().unwrap_or("").trim();
    let error = |message: String| TranscriptError { line, message };
    let mut tokens =
        tokenize(text, true).map_err(|e| error(format!("response is not hex ({e}): {text:?}")))?;
    if tokens.is_empty() {
        return Err(error("empty response line: expected `< [data] SW`".into()));
    }
    let sw_bytes = match tokens.as_slice() {
        [.., Token::Byte {
            value: v1,
            mask: m1,
        }, Token::Byte {
            value: v2,
            mask: m2,
        }] => [*v1, *m1, *v2, *m2],
        _ => {
            let last = text.split_whitespace().last().unwrap_or("");
            return Err(error(format!(
                "status word must be 4 hex digits at the end, found {last:?}"
            )));
        }
    };
    tokens.truncate(tokens.len() - 2);
    let data = tokens
        .into_iter()
        .map(|token| match token {
            Token::Byte { value, mask } => Pattern::Byte { value, mask },
            Token::Variable(name) => Pattern::Variable(name),
            Token::AnyRun => Pattern::AnyRun,
            Token::Capture { name, len } => Pattern::Capture { name, len },
        })
        .collect();
    let [v1, m1, v2, m2] = sw_bytes;
    Ok(Expected {
        line,
        data,
        sw: u16::from_be_bytes([v1, v2]),
        sw_mask: u16::from_be_bytes([m1, m2]),
        text: text.to_string(),
    })
}

fn parse_directive(line: usize, content: &str) -> Result<Step, TranscriptError> {
    let (keyword, rest) = content
        .split_once(char::is_whitespace)
        .unwrap_or((content, ""));
    let rest = rest.trim();
    match keyword {
        // The rest of the line is hex that may use variables.
        "select" => {
            if rest.is_empty() {
                return Err(TranscriptError {
                    line,
                    message: "missing AID after `select`".into(),
                });
            }
            let aid = parse_template(line, "AID", rest)?;
            if let Some(bytes) = aid.literal() {
                select_command(&bytes).map_err(|message| TranscriptError { line, message })?;
            }
            return Ok(Step::Exchange(Exchange {
                line,
                command: CommandSpec::Select(aid),
                expected: None,
            }));
        }
        "set" => {
            let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let value = value.trim();
            let value = value.strip_prefix('=').unwrap_or(value);
            if !name.starts_with(is_name_start) || !name.chars().all(is_name_char) {
                return Err(TranscriptError {
                    line,
                    message: format!("`set` needs a variable name, found {name:?}"),
                });
            }
            return Ok(Step::Set {
                line,
                name: name.to_string(),
                value: parse_template(line, "value", value)?,
            });
        }
        _ => {}
    }
    let mut words = rest.split_whitespace();
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
                    "unknown directive {other:?}: expected load, install, reset, select, set, \
                     exit, `>` or `<` (or a command in hex)"
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
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn exchange(step: &Step) -> &Exchange {
        match step {
            Step::Exchange(exchange) => exchange,
            other => panic!("not an exchange: {other:?}"),
        }
    }

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
        let echo = exchange(&transcript.steps[3]);
        assert_eq!(
            echo.literal_command().unwrap(),
            [0x80, 1, 0, 0, 2, 0xAA, 0xBB, 0]
        );
        let expected = echo.expected.as_ref().expect("expected response");
        assert_eq!(
            expected.fixed_bytes(&Variables::new()).unwrap(),
            [0xAA, 0xBB, 0x90, 0x00]
        );
        assert_eq!(expected.to_string(), "AABB 9000");
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("< 9000\n", 1, "must follow"),
            ("> 80 01\n", 1, "malformed command"),
            ("> 80010000\n< 90\n", 2, "4 hex digits"),
            ("> 80010000\n< 9000 *\n", 2, "4 hex digits"),
            ("\nfrobnicate\n", 2, "unknown directive"),
            ("load F000\n", 1, "not a valid AID"),
            ("reset now\n", 1, "unexpected"),
            ("select F000\n", 1, "not a valid AID"),
            ("select\n", 1, "missing AID"),
            ("> 80 01 00 00 *\n", 1, "unexpected '*'"),
            ("> 80 0 1 00 00\n", 1, "odd number of hex digits"),
            ("> 80 01 ${x 00\n", 1, "not closed"),
            ("> 80010000\n< {x:} 9000\n", 2, "decimal byte count"),
            ("set 1x 00\n", 1, "variable name"),
        ];
        for (text, line, needle) in cases {
            let error = Transcript::parse(text).expect_err(text);
            assert_eq!(error.line, line, "{text:?}: {error}");
            assert!(error.message.contains(needle), "{text:?}: {error}");
        }
    }

    #[test]
    fn scriptor_and_opensc_tool_lines_are_commands() {
        let text = "00 A4 04 00 06 F0 00 00 01 01 01\n< 90 00 : Normal processing.\n\
                    80:02:00:00:00\n< 48:65:6C:6C:6F:90:00\nexit\n> 80 02 00 00 00\n";
        let transcript = Transcript::parse(text).expect("parses");
        assert_eq!(transcript.steps.len(), 2, "nothing after exit");
        let select = exchange(&transcript.steps[0]);
        assert_eq!(
            select.literal_command().unwrap(),
            [0x00, 0xA4, 4, 0, 6, 0xF0, 0, 0, 1, 1, 1]
        );
        assert_eq!(select.expected.as_ref().unwrap().sw, 0x9000);
        let hello = exchange(&transcript.steps[1]);
        assert_eq!(hello.literal_command().unwrap(), [0x80, 2, 0, 0, 0]);
        assert_eq!(
            hello
                .expected
                .as_ref()
                .unwrap()
                .fixed_bytes(&Variables::new())
                .unwrap(),
            b"Hello\x90\x00"
        );
    }

    #[test]
    fn select_builds_the_command_and_expects_success() {
        let transcript = Transcript::parse("select F00000010101\nselect $aid\n< 6A82\n").unwrap();
        let first = exchange(&transcript.steps[0]);
        assert_eq!(
            first.literal_command().unwrap(),
            [0x00, 0xA4, 4, 0, 6, 0xF0, 0, 0, 1, 1, 1, 0x00]
        );
        let implied = first.expected.as_ref().unwrap();
        assert!(implied
            .matches(&[0x6F, 0x00, 0x90, 0x00], &Variables::new())
            .unwrap()
            .is_some());
        assert!(implied
            .matches(&[0x6A, 0x82], &Variables::new())
            .unwrap()
            .is_none());
        let second = exchange(&transcript.steps[1]);
        assert_eq!(second.literal_command(), None);
        let mut variables = Variables::new();
        variables.insert("aid".into(), vec![0xA0, 0, 0, 0, 0x62]);
        assert_eq!(
            second.command.build(&variables).unwrap(),
            [0x00, 0xA4, 4, 0, 5, 0xA0, 0, 0, 0, 0x62, 0x00]
        );
        assert_eq!(second.expected.as_ref().unwrap().sw, 0x6A82);
    }

    #[test]
    fn wildcards_captures_and_variables_match() {
        let transcript = Transcript::parse(
            "> 80 01 00 00\n< 6F ?? {serial:4} * {tail} 6?8?\n> 80 01 00 00\n< $serial 9000\n",
        )
        .unwrap();
        let first = exchange(&transcript.steps[0]).expected.clone().unwrap();
        assert_eq!(first.sw_mask, 0xF0F0);
        let variables = Variables::new();
        let response = [0x6F, 0x12, 1, 2, 3, 4, 9, 9, 0x6A, 0x82];
        let captures = first.matches(&response, &variables).unwrap().unwrap();
        assert_eq!(
            captures,
            [
                ("serial".to_string(), vec![1, 2, 3, 4]),
                ("tail".to_string(), vec![9, 9])
            ]
        );
        assert!(first.fixed_bytes(&variables).is_none());
        // Too short for the 4-byte capture; wrong SW; wrong first byte.
        assert!(first
            .matches(&[0x6F, 0x12, 1, 2, 3, 0x6A, 0x82], &variables)
            .unwrap()
            .is_none());
        assert!(first
            .matches(&[0x6F, 0x12, 1, 2, 3, 4, 0x90, 0x00], &variables)
            .unwrap()
            .is_none());
        assert!(first
            .matches(&[0x6E, 0x12, 1, 2, 3, 4, 0x6A, 0x82], &variables)
            .unwrap()
            .is_none());
        let second = exchange(&transcript.steps[1]).expected.clone().unwrap();
        assert!(
            second
                .matches(&[1, 2, 3, 4, 0x90, 0x00], &variables)
                .is_err(),
            "unset"
        );
        let set: Variables = captures.into_iter().collect();
        assert!(second
            .matches(&[1, 2, 3, 4, 0x90, 0x00], &set)
            .unwrap()
            .is_some());
        assert!(second
            .matches(&[1, 2, 3, 5, 0x90, 0x00], &set)
            .unwrap()
            .is_none());
        assert_eq!(second.fixed_bytes(&set).unwrap(), [1, 2, 3, 4, 0x90, 0x00]);
    }

    #[test]
    fn set_takes_hex_and_variables() {
        let transcript = Transcript::parse("set key = 01 02\nset both ${key}$key 03\n").unwrap();
        let mut variables = Variables::new();
        for step in &transcript.steps {
            let Step::Set { name, value, .. } = step else {
                panic!("{step:?}")
            };
            let bytes = value.resolve(&variables).unwrap();
            variables.insert(name.clone(), bytes);
        }
        assert_eq!(variables["both"], [1, 2, 1, 2, 3]);
    }
}
