//! End to end through the real pcscd (started by `scripts/test.sh` through
//! `scripts/pcsc-env.sh`; nothing is mocked): `oxicard sim` with the golden hello and wallet
//! applets attaches to vsmartcard's vpcd, the card appears in "Virtual PCD 00 00", the golden
//! hello and wallet transcripts pass through `oxicard run --reader` over PC/SC, and two
//! independent PC/SC programs, `opensc-tool` (OpenSC) and `scriptor` (pcsc-tools), get the
//! answers the golden hello transcript gives for the same commands. Then a card on a
//! temporary image file, empty at start, gets the golden hello and wallet applets through
//! `oxicard gp install` over PC/SC, passes the hello transcript, and is killed with SIGKILL
//! while a PC/SC connection is open right after a wallet CREDIT; restarted on the same image,
//! it still lists both applets, passes the hello transcript and has the credited balance.
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

use oxicard_apdu::hex::decode;
use oxicard_sim::transcript::{Step, Transcript, Variables};
use oxicard_transport::pcsc::{list_readers, wait_for_card, ReaderSelector};
use oxicard_transport::{CardChannel, PcscChannel};

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

/// Starts `oxicard sim` with these arguments; its stderr goes to a log file named by `tag`.
fn start_sim(tag: &str, args: &[&std::ffi::OsStr]) -> SimProcess {
    let log = std::env::temp_dir().join(format!(
        "oxicard-pcsc-test-{}-{tag}.log",
        std::process::id()
    ));
    let log_file = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .arg("sim")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("oxicard sim starts");
    SimProcess { child, log }
}

/// `oxicard sim --memory` with the golden hello and wallet applets installed at start.
fn start_sim_with_golden_applets() -> SimProcess {
    let hello = golden("hello/hello.cap");
    let wallet = golden("wallet/wallet.cap");
    let args: Vec<&std::ffi::OsStr> = [
        "--memory".as_ref(),
        "--cap".as_ref(),
        hello.as_os_str(),
        "--cap".as_ref(),
        wallet.as_os_str(),
        "--install".as_ref(),
        "F00000010100:F00000010101".as_ref(),
        // The wallet transcript installs two instances, the second halfway through.
        "--install".as_ref(),
        "F00000010400:F00000010401:F00000010401:04313233340064".as_ref(),
        "--install".as_ref(),
        "F00000010400:F00000010401:F00000010402:023939".as_ref(),
    ]
    .into();
    start_sim("golden", &args)
}

/// Waits until no card is in the reader: vpcd notices a card process that went away only at
/// its next poll.
fn wait_until_reader_empty(what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while card_in_reader() {
        assert!(
            Instant::now() < deadline,
            "a card stays in {READER:?} ({what})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the card of `sim` in the reader.
fn wait_for_sim(sim: &mut SimProcess) {
    let selector = ReaderSelector::Name(READER.into());
    if let Err(e) = wait_for_card(&selector, LIMIT) {
        let status = sim.child.try_wait().unwrap();
        panic!(
            "no card in {READER:?} after {LIMIT:?}: {e}\noxicard sim ({status:?}) said:\n{}",
            sim.log()
        );
    }
}

/// `oxicard run --reader` on a script; asserts it passes with `exchanges` exchanges matched.
fn run_script_over_pcsc(script: &Path, exchanges: usize, sim: &SimProcess) {
    let output = run(Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(["run", "--quiet", "--skip-install", "--reader", READER])
        .arg(script));
    let text = text(&output);
    let name = script.display();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{name}:\n{text}\noxicard sim said:\n{}",
        sim.log()
    );
    let summary = format!("{exchanges} exchanges sent, {exchanges} matched, 0 differed");
    assert!(
        text.contains(&summary),
        "{name}: expected `{summary}` in\n{text}"
    );
}

/// `oxicard gp --reader` with these arguments; asserts it succeeds and returns its output.
fn gp_over_pcsc(args: &[&std::ffi::OsStr], sim: &SimProcess) -> String {
    let output = run(Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(["gp", "--reader", READER])
        .args(args));
    let text = text(&output);
    assert!(
        output.status.success(),
        "oxicard gp {args:?}:\n{text}\noxicard sim said:\n{}",
        sim.log()
    );
    text
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
    // An earlier run of this test may have left its card process behind for a moment.
    wait_until_reader_empty("another `oxicard sim` attached to vpcd?");

    let mut sim = start_sim_with_golden_applets();
    wait_for_sim(&mut sim);

    // The golden transcripts through `oxicard run` over PC/SC.
    for (script, exchanges) in [
        ("hello/transcript.apdu", 18),
        ("wallet/transcript.apdu", 64),
    ] {
        run_script_over_pcsc(&golden(script), exchanges, &sim);
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
    wait_until_reader_empty("the first `oxicard sim` was ended");

    // A card on an image file (a temporary one, never the default), empty at start: the
    // applets come through the card manager, loaded and installed by `oxicard gp` over PC/SC.
    let work = TempDir::new("image");
    let image = work.0.join("card.img");
    let image_args = ["--image".as_ref(), image.as_os_str()];
    let mut sim = start_sim("image", &image_args);
    wait_for_sim(&mut sim);
    let hello_cap = golden("hello/hello.cap");
    let wallet_cap = golden("wallet/wallet.cap");
    gp_over_pcsc(&["install".as_ref(), hello_cap.as_os_str()], &sim);
    gp_over_pcsc(
        &[
            "install".as_ref(),
            wallet_cap.as_os_str(),
            "--params".as_ref(),
            "04313233340064".as_ref(),
        ],
        &sim,
    );
    run_script_over_pcsc(&golden("hello/transcript.apdu"), 18, &sim);

    // Mid-session: a PC/SC connection is open and the wallet was just credited (the golden
    // wallet transcript's SELECT, VERIFY "1234" and CREDIT 16: balance 100 -> 0x0074) when
    // the card process is killed with SIGKILL.
    let mut channel = PcscChannel::connect(&ReaderSelector::Name(READER.into())).unwrap();
    for (command, response) in [
        ("00A4040006F00000010401", "9000"),
        ("802000000431323334", "9000"),
        ("8032000002001000", "00749000"),
    ] {
        assert_eq!(
            channel.transmit(&decode(command).unwrap()).unwrap(),
            decode(response).unwrap(),
            "{command}"
        );
    }
    sim.child.kill().unwrap();
    sim.child.wait().unwrap();
    // The connection is closed once pcscd has seen the card go: closing it before would ask
    // for a reset of a card that is not there.
    wait_until_reader_empty("`oxicard sim` was killed");
    drop(channel);
    drop(sim);

    // Restarted on the same image: the applets are there and the balance is the credited one.
    let mut sim = start_sim("image-restarted", &image_args);
    wait_for_sim(&mut sim);
    let listing = gp_over_pcsc(&["list".as_ref()], &sim);
    for instance in ["APP: F00000010101", "APP: F00000010401"] {
        assert!(listing.contains(instance), "{instance} in\n{listing}");
    }
    run_script_over_pcsc(&golden("hello/transcript.apdu"), 18, &sim);
    let balance = work.0.join("balance.apdu");
    std::fs::write(
        &balance,
        "> 00 A4 04 00 06 F00000010401\n< 9000\n> 80 30 00 00 00\n< 0074 9000\n",
    )
    .unwrap();
    run_script_over_pcsc(&balance, 2, &sim);
    drop(sim);
}

/// A directory of its own under the system's temporary directory, deleted when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("oxicard-pcsc-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
