//! The vpcd front end against the golden hello applet: the protocol over an in-memory stream
//! (power on, ATR, APDUs, reset, power off), and over TCP against a fake vpcd in the test that
//! drops the connection once, to check that the card reconnects and keeps its state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Cursor, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oxicard_apdu::Aid;
use oxicard_sim::vpcd::{self, FrameStream, ATR};
use oxicard_sim::{CapPackage, SimCard};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// SELECT of the hello applet and its HELLO command, with the golden transcript's answers.
const SELECT_HELLO: &[u8] = &[0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0, 0, 0x01, 0x01, 0x01];
const HELLO: &[u8] = &[0x80, 0x02, 0x00, 0x00, 0x00];
const HELLO_RESPONSE: &[u8] = b"Hello\x90\x00";
const OK: &[u8] = &[0x90, 0x00];

fn hello_card() -> SimCard {
    let mut card = SimCard::new().unwrap();
    let cap = CapPackage::read(&Path::new(GOLDEN).join("hello/hello.cap")).unwrap();
    let package = cap.aid;
    card.add_cap(cap);
    card.load(&package).unwrap();
    let applet = Aid::from_hex("F00000010101").unwrap();
    card.install(&package, &applet, &applet, &[]).unwrap();
    card
}

/// vpcd's side written out by hand: length (big-endian) and body of each message.
fn frames(messages: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend_from_slice(&u16::try_from(message.len()).unwrap().to_be_bytes());
        out.extend_from_slice(message);
    }
    out
}

/// Splits what the card wrote into messages, checking the framing.
fn unframe(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        let length = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        messages.push(bytes[2..2 + length].to_vec());
        bytes = &bytes[2 + length..];
    }
    messages
}

/// An in-memory connection: reads from a script of vpcd's messages, collects the card's.
struct Pipe {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
    reads_prepared: usize,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FrameStream for Pipe {
    fn before_read(&mut self) -> io::Result<()> {
        self.reads_prepared += 1;
        Ok(())
    }
}

#[test]
fn power_on_atr_apdus_reset_power_off_over_an_in_memory_stream() {
    let mut card = hello_card();
    let mut pipe = Pipe {
        input: Cursor::new(frames(&[
            &[vpcd::CTRL_POWER_ON],
            &[vpcd::CTRL_GET_ATR],
            SELECT_HELLO,
            HELLO,
            &[vpcd::CTRL_RESET],
            HELLO,
            SELECT_HELLO,
            HELLO,
            &[vpcd::CTRL_POWER_OFF],
            &[0x7F],
        ])),
        output: Vec::new(),
        reads_prepared: 0,
    };
    let mut events = Vec::new();
    vpcd::serve(&mut pipe, &mut card, &mut |event| {
        events.push(format!("{event:?}"))
    })
    .unwrap();

    let answers = unframe(&pipe.output);
    assert_eq!(answers.len(), 6, "{answers:02X?}");
    assert_eq!(answers[0], ATR);
    assert_eq!(answers[1], OK);
    assert_eq!(answers[2], HELLO_RESPONSE);
    // After the reset no applet is selected: HELLO is not answered by the applet.
    assert_ne!(answers[3], HELLO_RESPONSE);
    assert_ne!(answers[3][answers[3].len() - 2..], *OK);
    assert_eq!(answers[4], OK);
    assert_eq!(answers[5], HELLO_RESPONSE);

    assert_eq!(events.len(), 10, "{events:#?}");
    assert_eq!(events[0], "PowerOn");
    assert_eq!(events[1], "Atr");
    assert!(events[2].starts_with("Apdu"), "{}", events[2]);
    assert_eq!(events[4], "Reset");
    assert_eq!(events[8], "PowerOff");
    assert_eq!(events[9], "UnknownControl(127)");
    // Every read was prepared (TCP_QUICKACK on a real connection).
    assert!(pipe.reads_prepared >= 10, "{}", pipe.reads_prepared);
}

/// A fake vpcd: reads one message the way the card writes it.
fn read_answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut body).unwrap();
    body
}

/// A fake vpcd: sends one message as vpcd does, length and body in two writes.
fn send(stream: &mut TcpStream, message: &[u8]) {
    let length = u16::try_from(message.len()).unwrap().to_be_bytes();
    stream.write_all(&length).unwrap();
    stream.write_all(message).unwrap();
}

/// Accepts the card's connection, failing the test instead of hanging if it does not come.
fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                return stream;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "the card did not connect");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

#[test]
fn the_card_connects_to_vpcd_answers_and_reconnects_after_a_drop() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(Mutex::new(Vec::<String>::new()));

    let card_thread = {
        let stop = Arc::clone(&stop);
        let events = Arc::clone(&events);
        std::thread::spawn(move || {
            let mut card = hello_card();
            vpcd::run_client(
                &address,
                &mut card,
                Duration::from_millis(50),
                &stop,
                &mut |event| events.lock().unwrap().push(format!("{event:?}")),
            );
        })
    };

    // First connection: power on, ATR, select the applet, then vpcd goes away.
    let mut first = accept(&listener);
    send(&mut first, &[vpcd::CTRL_POWER_ON]);
    send(&mut first, &[vpcd::CTRL_GET_ATR]);
    assert_eq!(read_answer(&mut first), ATR);
    send(&mut first, SELECT_HELLO);
    assert_eq!(read_answer(&mut first), OK);
    send(&mut first, HELLO);
    assert_eq!(read_answer(&mut first), HELLO_RESPONSE);
    drop(first);

    // Second connection: the card comes back by itself with its applet still installed.
    let mut second = accept(&listener);
    send(&mut second, &[vpcd::CTRL_GET_ATR]);
    assert_eq!(read_answer(&mut second), ATR);
    send(&mut second, &[vpcd::CTRL_RESET]);
    send(&mut second, SELECT_HELLO);
    assert_eq!(read_answer(&mut second), OK);
    let echo = [0x80, 0x01, 0x00, 0x00, 0x03, 0xCA, 0xFE, 0x42, 0x00];
    send(&mut second, &echo);
    assert_eq!(read_answer(&mut second), [0xCA, 0xFE, 0x42, 0x90, 0x00]);

    stop.store(true, Ordering::SeqCst);
    drop(second);
    card_thread.join().unwrap();

    let events = events.lock().unwrap();
    let connects = events.iter().filter(|e| e.starts_with("Connected")).count();
    let drops = events
        .iter()
        .filter(|e| e.starts_with("Disconnected"))
        .count();
    assert_eq!((connects, drops), (2, 2), "{events:#?}");
}
