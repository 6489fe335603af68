//! `oxicard bridge` as a process between a card on a serial line and vpcd, without pcscd:
//! the test is both ends. The card is the card side of T=1 from oxicard-firmware (the loop
//! the firmware runs) over a TCP socket, feeding the simulated card with the golden hello
//! applet; the test plays vpcd (the bridge connects to it) and sends the golden hello
//! transcript's commands, with a reset between its runs, as vpcd's messages. Every answer
//! must be the transcript's. Then the card's line is cut: the next command gets 6F00 and the
//! bridge closes the vpcd connection (the card leaves the reader).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Shutdown, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use oxicard_apdu::Aid;
use oxicard_firmware::t1::block::{LinkError, Wait};
use oxicard_firmware::t1::reader::{ReaderLink, TcpLink};
use oxicard_firmware::{serve, ApduHandler, CardLink, T1Card, ATR};
use oxicard_sim::transcript::{Step, Transcript, Variables};
use oxicard_sim::vpcd::{read_message, write_message, CTRL_GET_ATR, CTRL_POWER_ON, CTRL_RESET};
use oxicard_sim::{CapPackage, SimCard};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// The card side of the line over TCP: a block waits as long as it takes, a character 500 ms.
struct CardLine(TcpLink);

impl CardLink for CardLine {
    type Error = String;
    fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<String>> {
        let timeout = match wait {
            Wait::Block => Duration::from_secs(3600),
            Wait::Character => Duration::from_millis(500),
        };
        match self.0.read_byte(timeout) {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(LinkError::Timeout),
            Err(e) => Err(LinkError::Io(e.to_string())),
        }
    }
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.0.write_all(bytes).map_err(|e| e.to_string())
    }
}

/// The simulated card as the firmware loop's card.
struct Sim(SimCard);

impl ApduHandler for Sim {
    fn reset(&mut self) {
        self.0.reset().unwrap();
    }
    fn process(&mut self, command: &[u8], response: &mut [u8]) -> usize {
        let answer = self.0.transmit(command).unwrap();
        response[..answer.len()].copy_from_slice(&answer);
        answer.len()
    }
}

/// The bridge process, killed when the test ends.
struct Bridge(Child);

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The golden hello transcript's exchanges in runs between resets.
fn hello_runs() -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let text = std::fs::read_to_string(Path::new(GOLDEN).join("hello/transcript.apdu")).unwrap();
    let transcript = Transcript::parse(&text).unwrap();
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

#[test]
fn the_bridge_carries_the_golden_hello_transcript_from_vpcd_to_a_t1_card() {
    let mut sim = SimCard::new().unwrap();
    let hello = CapPackage::read(&Path::new(GOLDEN).join("hello/hello.cap")).unwrap();
    let package = hello.aid;
    sim.add_cap(hello);
    sim.load(&package).unwrap();
    let applet = Aid::from_hex("F00000010101").unwrap();
    sim.install(&package, &applet, &applet, &[]).unwrap();

    // the card's serial line
    let line = TcpListener::bind("127.0.0.1:0").unwrap();
    let line_address = line.local_addr().unwrap();
    let card = std::thread::spawn(move || {
        let (stream, _) = line.accept().unwrap();
        let cut = stream.try_clone().unwrap();
        let handle = std::thread::spawn(move || {
            let mut t1 = T1Card::new(CardLine(TcpLink::new(stream).unwrap()), false);
            // the ATR at "boot", then commands until the line is cut
            serve(&mut t1, &mut Sim(sim), &ATR)
        });
        (cut, handle)
    });

    // vpcd
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let vpcd_address = vpcd.local_addr().unwrap();
    let _bridge = Bridge(
        Command::new(env!("CARGO_BIN_EXE_oxicard"))
            .args(["bridge", "--tcp"])
            .arg(line_address.to_string())
            .arg("--vpcd")
            .arg(vpcd_address.to_string())
            .args(["--wait", "20", "--ifsd", "64"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("oxicard bridge starts"),
    );
    let (mut stream, _) = vpcd.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let (cut, card_loop) = card.join().unwrap();

    // what pcscd does when the card appears: ATR, power on, ATR
    write_message(&mut stream, &[CTRL_GET_ATR]).unwrap();
    assert_eq!(read_message(&mut stream).unwrap().unwrap(), ATR);
    write_message(&mut stream, &[CTRL_POWER_ON]).unwrap();
    let runs = hello_runs();
    assert_eq!(runs.iter().map(Vec::len).sum::<usize>(), 18);
    for (index, run) in runs.iter().enumerate() {
        if index > 0 {
            write_message(&mut stream, &[CTRL_RESET]).unwrap();
        }
        write_message(&mut stream, &[CTRL_GET_ATR]).unwrap();
        assert_eq!(read_message(&mut stream).unwrap().unwrap(), ATR);
        for (command, expected) in run {
            write_message(&mut stream, command).unwrap();
            let response = read_message(&mut stream).unwrap().unwrap();
            assert_eq!(&response, expected, "run {index}, command {command:02X?}");
        }
    }

    // the line goes down: 6F00, then the bridge takes the card out of the reader
    cut.shutdown(Shutdown::Both).unwrap();
    let stopped = card_loop.join().unwrap();
    assert!(format!("{stopped:?}").contains("Link"), "{stopped:?}");
    write_message(&mut stream, &[0x80, 0x02, 0x00, 0x00, 0x00]).unwrap();
    assert_eq!(read_message(&mut stream).unwrap().unwrap(), [0x6F, 0x00]);
    assert_eq!(
        read_message(&mut stream).unwrap(),
        None,
        "the bridge closes the vpcd connection"
    );
}
