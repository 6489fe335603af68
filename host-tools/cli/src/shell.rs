//! `oxicard shell`: an interactive APDU shell on any card (`--sim` or a PC/SC reader). Each
//! line is a line of the script language of `oxicard run` (`select AID`, APDUs in hex,
//! `reset`, `set`, `{name}` captures, ...), run with the same semantics and variables kept
//! between lines. Answers are shown with the status word explained
//! (`oxicard_apdu::StatusWord::meaning`), the data as ASCII when it is text and as a BER-TLV
//! tree when it parses as one. Line editing, history (`~/.oxicard_history`) and tab
//! completion of commands, applet AIDs and variables come from rustyline.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use oxicard_apdu::hex::Hex;
use oxicard_apdu::tlv::{Tlv, TlvReader};
use oxicard_apdu::StatusWord;
use oxicard_cap::jar::read_cap_jar;
use oxicard_sim::runner::{Event, RunOptions, ScriptSession};
use oxicard_sim::transcript::{Pattern, KEYWORDS};
use oxicard_sim::{Step, Transcript};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::run_script::{open_card, CardArgs};

/// Arguments of `oxicard shell`.
#[derive(Args, Debug)]
pub struct ShellArgs {
    #[command(flatten)]
    card: CardArgs,
    /// No colours (also when NO_COLOR is set or the output is not a terminal).
    #[arg(long)]
    no_color: bool,
    /// History file. Default: ~/.oxicard_history.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
}

/// Help text shown after the options of `oxicard shell`.
pub const SHELL_HELP: &str = "\
Every line is a line of `oxicard run`'s script language (see `oxicard run --help`):
  select F00000010101          SELECT by AID (Tab completes applet AIDs and $variables)
  80 02 00 00 00               a command APDU in hex (also `> ...` and AA:BB:.. forms)
  reset                        card reset
  set key 0102                 a variable, used as $key in later commands
Shell commands: help, atr, vars, quit (or exit, Ctrl-D).

Examples:
  oxicard shell --sim --cap hello.cap --install F00000010100:F00000010101
  oxicard shell --reader 'Virtual PCD 00 00'";

/// Commands of the shell itself, besides the script language's keywords.
const SHELL_COMMANDS: &[&str] = &["help", "atr", "vars", "quit"];

/// ANSI colours, or nothing.
#[derive(Clone, Copy)]
struct Palette {
    on: bool,
}

impl Palette {
    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    fn error(self, text: &str) -> String {
        self.paint("31", text)
    }
    /// Green for success, yellow for warnings and "more data", red for errors.
    fn status(self, sw: StatusWord, text: &str) -> String {
        let code = if sw.is_success() {
            "32"
        } else if sw.is_normal() || sw.is_warning() {
            "33"
        } else {
            "31"
        };
        self.paint(code, text)
    }
}

/// Tab completion: commands first, then AIDs after `select`, `load` and `install`, and
/// `$variables` anywhere after the first word.
struct ShellHelper {
    applets: Vec<String>,
    packages: Vec<String>,
    variables: BTreeSet<String>,
}

impl ShellHelper {
    fn candidates(&self, line: &str, word: &str) -> Vec<String> {
        let before: Vec<&str> = line.split_whitespace().collect();
        let first_word = line.trim_start().len() == word.len();
        let mut all: Vec<String> = Vec::new();
        if first_word {
            // With the space that comes next, so that Tab goes on to the argument.
            all.extend(KEYWORDS.iter().map(|k| format!("{k} ")));
            all.extend(SHELL_COMMANDS.iter().map(|k| k.to_string()));
        } else {
            match before.first().copied() {
                Some("select") => all.extend(self.applets.iter().cloned()),
                Some("load") | Some("install") => all.extend(self.packages.iter().cloned()),
                _ => {}
            }
            all.extend(self.variables.iter().map(|v| format!("${v}")));
        }
        let wanted = word.to_lowercase();
        all.sort();
        all.dedup();
        all.into_iter()
            .filter(|c| c.to_lowercase().starts_with(&wanted))
            .collect()
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = line.get(..pos).unwrap_or(line);
        let start = head.rfind(char::is_whitespace).map_or(0, |space| space + 1);
        let word = head.get(start..).unwrap_or("");
        let pairs = self
            .candidates(head, word)
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// The applet AIDs and package AID of a CAP file (empty when it cannot be read: the card
/// opening reports that).
fn cap_aids(path: &Path) -> (Vec<String>, Option<String>) {
    let Ok(bytes) = std::fs::read(path) else {
        return (Vec::new(), None);
    };
    let Ok(jar) = read_cap_jar(&bytes) else {
        return (Vec::new(), None);
    };
    let Ok(cap) = jar.cap() else {
        return (Vec::new(), None);
    };
    let applets = cap
        .applet
        .map(|component| {
            component
                .applets
                .map(|applet| Hex(applet.aid).to_string())
                .collect()
        })
        .unwrap_or_default();
    (applets, Some(Hex(cap.header.package.aid).to_string()))
}

/// Completion candidates from the command line: applet and instance AIDs, package AIDs.
fn helper_for(args: &CardArgs) -> ShellHelper {
    let mut applets = Vec::new();
    let mut packages = Vec::new();
    for path in &args.caps {
        let (cap_applets, package) = cap_aids(path);
        applets.extend(cap_applets);
        packages.extend(package);
    }
    for spec in &args.installs {
        if let Some(instance) = spec.split(':').nth(2).filter(|i| !i.is_empty()) {
            applets.push(instance.to_uppercase());
        }
    }
    ShellHelper {
        applets,
        packages,
        variables: BTreeSet::new(),
    }
}

fn default_history() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".oxicard_history"))
}

/// Runs the shell until `quit` or end of input.
pub fn run(args: &ShellArgs) -> anyhow::Result<ExitCode> {
    let palette = Palette {
        on: !args.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal(),
    };
    let mut card = open_card(&args.card)?;
    println!(
        "oxicard shell: {}, ATR {:#}. Type help for help, quit to leave.",
        card.name(),
        Hex(card.atr())
    );
    let mut editor: Editor<ShellHelper, DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(helper_for(&args.card)));
    let history = args.history.clone().or_else(default_history);
    if let Some(path) = &history {
        // A missing history file is normal on the first run.
        let _ = editor.load_history(path);
    }
    let mut session = ScriptSession::new(RunOptions::default());
    loop {
        let line = match editor.readline("oxicard> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(trimmed);
        match trimmed {
            "quit" | "exit" => break,
            "help" => println!("{SHELL_HELP}"),
            "atr" => println!("ATR {:#}", Hex(card.atr())),
            "vars" => {
                for (name, value) in &session.variables {
                    println!("${name} = {:#}", Hex(value));
                }
            }
            _ => run_line(trimmed, card.as_mut(), &mut session, palette),
        }
        if let Some(helper) = editor.helper_mut() {
            helper.variables = session.variables.keys().cloned().collect();
        }
    }
    if let Some(path) = &history {
        if let Err(e) = editor.save_history(path) {
            eprintln!(
                "{}",
                palette.error(&format!("history {}: {e}", path.display()))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses and runs one line, printing what happened.
fn run_line(
    line: &str,
    card: &mut dyn oxicard_transport::CardChannel,
    session: &mut ScriptSession,
    palette: Palette,
) {
    let transcript = match Transcript::parse(line) {
        Ok(transcript) => transcript,
        Err(e) => {
            println!("{}", palette.error(&e.message));
            return;
        }
    };
    for step in &transcript.steps {
        // The shell shows every answer; the implied `9000` of a bare `select` is not a check.
        let step = without_implied_expectation(step);
        let mut print = |event: &Event<'_>| print_event(event, palette);
        if let Err(e) = session.run_step(card, &step, &mut print) {
            println!("{}", palette.error(&e.message));
        }
    }
}

fn without_implied_expectation(step: &Step) -> Step {
    let mut step = step.clone();
    if let Step::Exchange(exchange) = &mut step {
        let implied = exchange
            .expected
            .as_ref()
            .is_some_and(|e| e.line == exchange.line && e.data == [Pattern::AnyRun]);
        if implied {
            exchange.expected = None;
        }
    }
    step
}

fn print_event(event: &Event<'_>, palette: Palette) {
    match event {
        Event::Directive { text, .. } => println!("{}", palette.dim(text)),
        Event::Exchange {
            command,
            actual,
            matched,
            exchange,
            ..
        } => {
            println!("{}", palette.dim(&format!("> {:#}", Hex(command))));
            for line in describe_response(actual, palette) {
                println!("{line}");
            }
            if !matched {
                if let Some(expected) = &exchange.expected {
                    println!("{}", palette.error(&format!("expected {expected}")));
                }
            }
        }
    }
}

/// The lines that show a response: the data (hex, ASCII when printable, the BER-TLV tree
/// when it parses) and the status word with its meaning.
fn describe_response(response: &[u8], palette: Palette) -> Vec<String> {
    let Some(split) = response.len().checked_sub(2) else {
        return vec![palette.error(&format!("< {:#} (no status word)", Hex(response)))];
    };
    let (data, sw_bytes) = response.split_at(split);
    let sw = StatusWord::from_bytes(sw_bytes[0], sw_bytes[1]);
    let mut lines = Vec::new();
    if !data.is_empty() {
        let mut first = format!("< {:#}", Hex(data));
        if data.iter().all(|b| (0x20..0x7F).contains(b)) {
            first.push_str(&format!("  \"{}\"", String::from_utf8_lossy(data)));
        }
        lines.push(first);
        if let Some(tree) = tlv_tree(data) {
            lines.push("  BER-TLV:".into());
            lines.extend(tree);
        }
    }
    let prefix = if data.is_empty() { "< " } else { "  " };
    lines.push(format!(
        "{prefix}{}",
        palette.status(sw, &format!("{:04X}  {}", sw.0, sw.meaning()))
    ));
    lines
}

/// The data as a BER-TLV tree, one data object a line, when all of it parses (constructed
/// values recursively); `None` otherwise.
fn tlv_tree(data: &[u8]) -> Option<Vec<String>> {
    fn walk(reader: TlvReader<'_>, depth: usize, out: &mut Vec<String>) -> Option<()> {
        for tlv in reader {
            let tlv: Tlv<'_> = tlv.ok()?;
            let tag = format!("{:02X}", tlv.tag.0);
            let indent = "  ".repeat(depth + 2);
            if tlv.tag.is_constructed() && !tlv.value.is_empty() {
                out.push(format!("{indent}{tag} ({} bytes)", tlv.value.len()));
                walk(tlv.children(), depth + 1, out)?;
            } else {
                out.push(format!("{indent}{tag}: {:#}", Hex(tlv.value)));
            }
        }
        Some(())
    }
    let mut out = Vec::new();
    walk(TlvReader::new(data), 0, &mut out)?;
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const PLAIN: Palette = Palette { on: false };

    #[test]
    fn responses_show_text_tlv_and_the_status_word_meaning() {
        assert_eq!(describe_response(&[0x90, 0x00], PLAIN), ["< 9000  OK"]);
        assert_eq!(
            describe_response(b"Hello\x90\x00", PLAIN),
            ["< 48 65 6C 6C 6F  \"Hello\"", "  9000  OK"]
        );
        let fci = [
            0x6F, 0x07, 0x84, 0x02, 0xA0, 0x00, 0x9F, 0x65, 0x00, 0x90, 0x00,
        ];
        let lines = describe_response(&fci, PLAIN);
        assert_eq!(
            lines[1..],
            [
                "  BER-TLV:",
                "    6F (7 bytes)",
                "      84: A0 00",
                "      9F65: ",
                "  9000  OK"
            ]
        );
        let not_found = describe_response(&[0x6A, 0x82], PLAIN);
        assert!(not_found[0].starts_with("< 6A82  "), "{not_found:?}");
        assert!(not_found[0].contains(StatusWord(0x6A82).meaning()));
        assert!(describe_response(&[0x90], PLAIN)[0].contains("no status word"));
    }

    #[test]
    fn data_that_is_not_tlv_is_not_decoded() {
        // 48 = tag, 65 = length 101, more than there is.
        assert_eq!(tlv_tree(b"Hello"), None);
        assert_eq!(tlv_tree(&[0x80, 0x01]), None);
    }

    #[test]
    fn completion_offers_commands_aids_and_variables() {
        let helper = ShellHelper {
            applets: vec!["F00000010101".into()],
            packages: vec!["F00000010100".into()],
            variables: ["serial".to_string()].into_iter().collect(),
        };
        assert_eq!(helper.candidates("sel", "sel"), ["select "]);
        assert_eq!(helper.candidates("re", "re"), ["reset "]);
        assert_eq!(helper.candidates("q", "q"), ["quit"]);
        assert_eq!(
            helper.candidates("select ", ""),
            ["$serial", "F00000010101"]
        );
        assert_eq!(helper.candidates("select f0", "f0"), ["F00000010101"]);
        assert_eq!(helper.candidates("load F", "F"), ["F00000010100"]);
        assert_eq!(helper.candidates("80 01 00 00 04 $s", "$s"), ["$serial"]);
    }
}
