//! End to end through the real pcscd (started by `scripts/test.sh` through
//! `scripts/pcsc-env.sh`; nothing is mocked): `oxicard sim` with the golden hello and wallet
//! applets attaches to vsmartcard's vpcd, the card appears in "Virtual PCD 00 00", the golden
//! hello and wallet transcripts pass through `oxicard run --reader` over PC/SC, and two
//! independent PC/SC programs, `opensc-tool` (OpenSC) and `scriptor` (pcsc-tools), get the
//! answers the golden hello transcript gives for the same commands.
//!
//! Everything that uses the vpcd port is in one test function, so that nothing else in this
//! binary competes for the reader. Without pcscd and vpcd the test fails: the test command
//! starts them, so their absence is a broken environment, not a reason to skip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use oxicard_sim::transcript::{Step, Transcript, Variables};
use oxicard_transport::pcsc::{list_readers, wait_for_card, ReaderSelector};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");
const READER: &str = "Virtual PCD 00 00";
/// Limit for every external program and for the card to appear.
const LIMIT: Duration = Duration::from_secs(60);

fn golden(path: &str) -> PathBuf {
    Path::new(GOLDEN).join(path)
}

/// `oxicard sim`, killed when the test ends (passed or failed); its log is kept in a file
/// to show when something goes wrong.
struct SimProcess {
    child: Child,
    log: PathBuf,
}

impl SimProcess {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs a program to its end, killing it after [`LIMIT`].
fn run(command: &mut Command) -> Output {
    let description = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{description}: {e}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{description} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The exchanges of a golden transcript in runs that start after each `reset`: the command
/// bytes and the expected response (data then SW).
fn exchange_runs(script: &str) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let transcript = Transcript::parse(&std::fs::read_to_string(golden(script)).unwrap()).unwrap();
    let mut runs = vec![Vec::new()];
    for step in &transcript.steps {
        match step {
            Step::Reset { .. } => runs.push(Vec::new()),
            Step::Exchange(exchange) => {
                let command = exchange.literal_command().unwrap();
                let expected = exchange.expected.as_ref().unwrap();
                let bytes = expected.fixed_bytes(&Variables::new()).unwrap();
                runs.last_mut().unwrap().push((command, bytes));
            }
            _ => {}
        }
    }
    runs
}

fn spaced_hex(bytes: &[u8]) -> String {
    let words: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    words.join(" ")
}

fn hex_byte(word: &str) -> Option<u8> {
    (word.len() == 2)
        .then(|| u8::from_str_radix(word, 16).ok())
        .flatten()
}

/// Bytes as opensc-tool shows them beside the hex: printable ASCII, `.` for the rest.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

/// The responses in opensc-tool's output: `Received (SW1=0x90, SW2=0x00)` followed by data
/// lines of up to 16 hex bytes and their ASCII rendering (one character per byte).
fn opensc_responses(output: &str) -> Vec<Vec<u8>> {
    let mut responses: Vec<(Vec<u8>, [u8; 2])> = Vec::new();
    let mut in_data = false;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("Received (SW1=0x") {
            let sw1 = u8::from_str_radix(&rest[..2], 16).unwrap();
            let sw2_at = rest.find("SW2=0x").unwrap() + 6;
            let sw2 = u8::from_str_radix(&rest[sw2_at..sw2_at + 2], 16).unwrap();
            responses.push((Vec::new(), [sw1, sw2]));
            in_data = line.ends_with(':');
        } else if line.starts_with("Sending:") {
            in_data = false;
        } else if in_data {
            // k bytes: k hex words, then their ASCII rendering, right after them or (on a
            // short last line of a longer dump) at column 48.
            let words: Vec<&str> = line.split_whitespace().collect();
            let bytes = (1..=16.min(words.len()))
                .rev()
                .map(|k| {
                    words[..k]
                        .iter()
                        .map(|w| hex_byte(w))
                        .collect::<Option<Vec<u8>>>()
                })
                .find(|bytes| {
                    bytes.as_ref().is_some_and(|bytes| {
                        let ascii = printable(bytes);
                        let after = line.get(bytes.len() * 3..).unwrap_or("");
                        after == ascii
                            || after.trim_start() == ascii && line.get(48..) == Some(&ascii)
                    })
                })
                .flatten()
                .unwrap_or_else(|| panic!("opensc-tool data line {line:?}"));
            let data = &mut responses.last_mut().unwrap().0;
            data.extend(bytes);
        }
    }
    responses
        .into_iter()
        .map(|(mut data, sw)| {
            data.extend_from_slice(&sw);
            data
        })
        .collect()
}

/// The responses in scriptor's output: `< 48 65 6C 6C 6F 90 00 : Normal processing.`; a long
/// response goes on over lines of 16 bytes until the one with ` : ` and the meaning.
fn scriptor_responses(output: &str) -> Vec<Vec<u8>> {
    let mut responses = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in output.lines() {
        let rest = match (&current, line.strip_prefix("< ")) {
            (None, Some(rest)) => {
                current = Some(Vec::new());
                rest
            }
            (None, None) => continue,
            (Some(_), _) => line,
        };
        let (bytes, end) = match rest.split_once(" : ") {
            Some((bytes, _)) => (bytes, true),
            None => (rest, false),
        };
        let response = current.as_mut().unwrap();
        for word in bytes.split_whitespace() {
            response.push(hex_byte(word).unwrap_or_else(|| panic!("scriptor line {line:?}")));
        }
        if end {
            responses.extend(current.take());
        }
    }
    responses
}

fn card_in_reader() -> bool {
    list_readers()
        .unwrap()
        .iter()
        .any(|r| r.name == READER && r.card_present)
}

fn start_sim() -> SimProcess {
    let log = std::env::temp_dir().join(format!("oxicard-pcsc-test-{}.log", std::process::id()));
    let log_file = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(["sim", "--memory"])
        .arg("--cap")
        .arg(golden("hello/hello.cap"))
        .arg("--cap")
        .arg(golden("wallet/wallet.cap"))
        .args([
            "--install",
            "F00000010100:F00000010101",
            // The wallet transcript installs two instances, the second halfway through.
            "--install",
            "F00000010400:F00000010401:F00000010401:04313233340064",
            "--install",
            "F00000010400:F00000010401:F00000010402:023939",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("oxicard sim starts");
    SimProcess { child, log }
}

#[test]
fn the_simulated_card_answers_every_pcsc_program_through_pcscd() {
    // pcscd with vpcd must be there (scripts/test.sh starts it), and the reader empty: a card
    // staying in it would be another `oxicard sim`, which would answer instead of ours.
    let readers = list_readers().unwrap_or_else(|e| {
        panic!("pcscd is not available ({e}); start it with `scripts/pcsc-env.sh install start`")
    });
    assert!(
        readers.iter().any(|r| r.name == READER),
        "pcscd has no reader {READER:?} (vsmartcard-vpcd missing?): {readers:?}"
    );
    // vpcd notices a card process that went away (an earlier run of this test) only at its
    // next poll: give it a few seconds.
    let deadline = Instant::now() + Duration::from_secs(15);
    while card_in_reader() {
        assert!(
            Instant::now() < deadline,
            "a card stays in {READER:?} (another `oxicard sim` attached to vpcd?)"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut sim = start_sim();
    let selector = ReaderSelector::Name(READER.into());
    if let Err(e) = wait_for_card(&selector, LIMIT) {
        let status = sim.child.try_wait().unwrap();
        panic!(
            "no card in {READER:?} after {LIMIT:?}: {e}\noxicard sim ({status:?}) said:\n{}",
            sim.log()
        );
    }

    // The golden transcripts through `oxicard run` over PC/SC.
    for (script, exchanges) in [
        ("hello/transcript.apdu", 18),
        ("wallet/transcript.apdu", 64),
    ] {
        let output = run(Command::new(env!("CARGO_BIN_EXE_oxicard"))
            .args(["run", "--quiet", "--skip-install", "--reader", READER])
            .arg(golden(script)));
        let text = text(&output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{script}:\n{text}\noxicard sim said:\n{}",
            sim.log()
        );
        let summary = format!("{exchanges} exchanges sent, {exchanges} matched, 0 differed");
        assert!(
            text.contains(&summary),
            "{script}: expected `{summary}` in\n{text}"
        );
    }

    // The same commands from opensc-tool and scriptor, one invocation per run between resets
    // (every run starts with a SELECT); both must see the golden answers.
    let runs = exchange_runs("hello/transcript.apdu");
    assert_eq!(runs.iter().map(Vec::len).sum::<usize>(), 18);
    let dir = std::env::temp_dir().join(format!("oxicard-pcsc-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (index, exchanges) in runs.iter().enumerate() {
        let expected: Vec<Vec<u8>> = exchanges.iter().map(|(_, r)| r.clone()).collect();

        let mut opensc = Command::new("opensc-tool");
        opensc.args(["-r", "0"]);
        for (command, _) in exchanges {
            opensc.arg("-s").arg(spaced_hex(command).replace(' ', ""));
        }
        let output = run(&mut opensc);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "opensc-tool run {index}:\n{}",
            text(&output)
        );
        assert_eq!(
            opensc_responses(&stdout),
            expected,
            "opensc-tool run {index}:\n{stdout}"
        );

        let script = dir.join(format!("run{index}.scriptor"));
        let lines: Vec<String> = exchanges.iter().map(|(c, _)| spaced_hex(c)).collect();
        std::fs::write(&script, lines.join("\n") + "\n").unwrap();
        let output = run(Command::new("scriptor").args(["-r", READER]).arg(&script));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "scriptor run {index}:\n{}",
            text(&output)
        );
        assert_eq!(
            scriptor_responses(&stdout),
            expected,
            "scriptor run {index}:\n{stdout}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
    drop(sim);
}

#[test]
fn opensc_tool_output_is_read_byte_for_byte() {
    let output = "Sending: 80 01 00 00 02 41 42 00 \nReceived (SW1=0x90, SW2=0x00):\n41 42 AB\n\
                  Sending: 80 03 6A 82 \nReceived (SW1=0x6A, SW2=0x82)\n\
                  Sending: 80 01 \nReceived (SW1=0x90, SW2=0x00):\n\
                  41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F 50 ABCDEFGHIJKLMNOP\n\
                  51                                              Q\n";
    let responses = opensc_responses(output);
    assert_eq!(responses[0], [0x41, 0x42, 0x90, 0x00]);
    assert_eq!(responses[1], [0x6A, 0x82]);
    let mut long: Vec<u8> = (0x41..=0x51).collect();
    long.extend_from_slice(&[0x90, 0x00]);
    assert_eq!(responses[2], long);
    let scriptor = "Using T=1 protocol\n80 02 00 00 00\n> 80 02 00 00 00\n\
                    < 48 65 6C 6C 6F 90 00 : Normal processing.\n> 80 01 00 00 11 ..\n\
                    < 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F \n\
                    10 90 00 : Normal processing.\n";
    let mut long: Vec<u8> = (0..=0x10).collect();
    long.extend_from_slice(&[0x90, 0x00]);
    assert_eq!(
        scriptor_responses(scriptor),
        [b"Hello\x90\x00".to_vec(), long]
    );
}
