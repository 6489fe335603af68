//! `oxicard sim` as a process: it loads and installs the golden hello applet, connects to a
//! fake vpcd listening in the test on an ephemeral port, and answers as the golden transcript
//! says; a malformed `--install` is a usage error (exit 2) before any connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// Kills the card process when the test ends, passed or failed.
struct Card(Child);

impl Drop for Card {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn send(stream: &mut TcpStream, message: &[u8]) {
    // As vpcd does it: the length and the body in two writes.
    stream
        .write_all(&u16::try_from(message.len()).unwrap().to_be_bytes())
        .unwrap();
    stream.write_all(message).unwrap();
}

fn answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut body).unwrap();
    body
}

fn accept_within(listener: &TcpListener, card: &mut Card, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(limit)).unwrap();
                return stream;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if let Some(status) = card.0.try_wait().unwrap() {
                    panic!("oxicard sim ended with {status} before connecting");
                }
                assert!(Instant::now() < deadline, "oxicard sim did not connect");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

#[test]
fn oxicard_sim_serves_the_hello_applet_to_vpcd() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut card = Card(
        Command::new(env!("CARGO_BIN_EXE_oxicard"))
            .args(["sim", "--host", "127.0.0.1", "--port", &port, "--cap"])
            .arg(Path::new(GOLDEN).join("hello/hello.cap"))
            .args(["--install", "F00000010100:F00000010101", "-v", "--memory"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("oxicard runs"),
    );
    let mut vpcd = accept_within(&listener, &mut card, Duration::from_secs(30));
    send(&mut vpcd, &[0x01]); // power on
    send(&mut vpcd, &[0x04]); // get ATR
    let atr = answer(&mut vpcd);
    assert_eq!(atr[..4], [0x3B, 0x89, 0x80, 0x01]);
    assert_eq!(atr[1..].iter().fold(0, |x, b| x ^ b), 0, "TCK");
    send(
        &mut vpcd,
        &[0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0, 0, 1, 1, 1],
    );
    assert_eq!(answer(&mut vpcd), [0x90, 0x00]);
    send(&mut vpcd, &[0x80, 0x02, 0x00, 0x00, 0x00]);
    assert_eq!(answer(&mut vpcd), b"Hello\x90\x00");
}

/// Starts `oxicard sim` on `image` and returns it with the vpcd connection, powered on.
fn start_on_image(image: &Path, extra: &[&std::ffi::OsStr]) -> (Card, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut card = Card(
        Command::new(env!("CARGO_BIN_EXE_oxicard"))
            .args(["sim", "--host", "127.0.0.1", "--port", &port, "--image"])
            .arg(image)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("oxicard runs"),
    );
    let mut vpcd = accept_within(&listener, &mut card, Duration::from_secs(30));
    send(&mut vpcd, &[0x01]); // power on
    (card, vpcd)
}

fn exchange(vpcd: &mut TcpStream, command: &[u8]) -> Vec<u8> {
    send(vpcd, command);
    answer(vpcd)
}

/// The golden wallet, installed on an image file; the process is killed with SIGKILL in the
/// middle of the session and started again without --cap/--install: the applet and its
/// balance are still there.
#[test]
fn the_card_image_survives_kill_9() {
    let dir = std::env::temp_dir().join(format!("oxicard-sim-image-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = dir.join("card.img");
    let cap = Path::new(GOLDEN).join("wallet/wallet.cap");
    let select = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0, 0, 1, 4, 1];
    let verify = [0x80, 0x20, 0, 0, 4, 0x31, 0x32, 0x33, 0x34];
    let credit = [0x80, 0x32, 0, 0, 2, 0x00, 0x10, 0x00];
    let balance = [0x80, 0x30, 0, 0, 0];
    {
        let extra: [&std::ffi::OsStr; 5] = [
            "--reset-image".as_ref(),
            "--cap".as_ref(),
            cap.as_os_str(),
            "--install".as_ref(),
            "F00000010400:F00000010401:F00000010401:04313233340064".as_ref(),
        ];
        let (mut card, mut vpcd) = start_on_image(&image, &extra);
        assert_eq!(exchange(&mut vpcd, &select), [0x90, 0x00]);
        assert_eq!(exchange(&mut vpcd, &balance), [0x00, 0x64, 0x90, 0x00]);
        assert_eq!(exchange(&mut vpcd, &verify), [0x90, 0x00]);
        assert_eq!(exchange(&mut vpcd, &credit), [0x00, 0x74, 0x90, 0x00]);
        // SIGKILL: no chance to flush or close anything.
        card.0.kill().unwrap();
        card.0.wait().unwrap();
    }
    let (_card, mut vpcd) = start_on_image(&image, &[]);
    assert_eq!(exchange(&mut vpcd, &select), [0x90, 0x00]);
    assert_eq!(exchange(&mut vpcd, &balance), [0x00, 0x74, 0x90, 0x00]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_malformed_install_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(["sim", "--port", "1", "--install", "F00000010100"])
        .output()
        .expect("oxicard runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PKG:APPLET"), "{stderr}");
}
