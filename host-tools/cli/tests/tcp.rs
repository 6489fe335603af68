//! `oxicard sim --tcp` (the plain TCP front end, for tools without PC/SC) on a loopback
//! address with an ephemeral port, driven by `oxicard gp --tcp` and `oxicard run --tcp` as
//! processes: the golden hello CAP installed with GlobalPlatform APDUs over TCP, then the
//! golden hello transcript passes against it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// `oxicard sim --tcp`, killed when the test ends; `log` receives its stderr lines.
struct TcpSim {
    child: Child,
    address: String,
    log: mpsc::Receiver<String>,
}

impl TcpSim {
    fn start() -> TcpSim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oxicard"))
            .args(["sim", "--memory", "--tcp", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("oxicard sim starts");
        let stderr = child.stderr.take().unwrap();
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut sim = TcpSim {
            child,
            address: String::new(),
            log,
        };
        while sim.address.is_empty() {
            let line = sim
                .log
                .recv_timeout(Duration::from_secs(30))
                .expect("oxicard sim says where it listens");
            if let Some(rest) = line.strip_prefix("listening on ") {
                sim.address = rest.split_whitespace().next().unwrap().to_string();
            }
        }
        sim
    }
}

impl Drop for TcpSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn oxicard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(args)
        .output()
        .expect("runs oxicard")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn gp_installs_over_tcp_and_the_golden_hello_transcript_passes() {
    let sim = TcpSim::start();
    assert!(sim.address.starts_with("127.0.0.1:"), "{}", sim.address);
    assert!(!sim.address.ends_with(":0"), "{}", sim.address);
    let address = sim.address.clone();
    let tcp = address.as_str();

    let hello = format!("{GOLDEN}/hello/hello.cap");
    let output = oxicard(&["gp", "--tcp", tcp, "install", &hello]);
    assert!(output.status.success(), "{}", text(&output));
    let output = oxicard(&["gp", "--tcp", tcp, "list"]);
    assert!(
        text(&output).contains("APP: F00000010101"),
        "{}",
        text(&output)
    );

    let transcript = format!("{GOLDEN}/hello/transcript.apdu");
    let output = oxicard(&[
        "run",
        "--quiet",
        "--skip-install",
        "--tcp",
        tcp,
        &transcript,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("18 exchanges sent, 18 matched, 0 differed"),
        "{}",
        text(&output)
    );

    // --tcp and --reader name two different cards.
    let output = oxicard(&["run", "--tcp", tcp, "--reader", "0", &transcript]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    // Nothing listening: a clear error, not a hang.
    drop(sim);
    let output = oxicard(&["gp", "--tcp", tcp, "list"]);
    assert!(!output.status.success());
    assert!(text(&output).contains(tcp), "{}", text(&output));
}
