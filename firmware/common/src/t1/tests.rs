//! The card side of T=1 checked against the reader side: scripted exchanges with the bytes
//! ISO/IEC 7816-3 prescribes, and proptest-generated APDU sequences over a line that flips
//! bits, with IFSD, chaining and waiting time extensions varied.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;

use super::block::{lrc, Block, LinkError, RCode, SKind, Wait, MAX_BLOCK};
use super::card::{CardLink, T1Card};
use super::reader::{ReaderConfig, ReaderLink, T1Reader};
use crate::card_loop::{serve, serve_one, ApduHandler, ATR, SW_WRONG_LENGTH};

/// A scripted line: the frames the reader "sent" (each followed by a quiet line), and what
/// the card wrote.
struct Script {
    input: VecDeque<Vec<u8>>,
    current: VecDeque<u8>,
    output: Vec<u8>,
}

fn script(frames: Vec<Vec<u8>>) -> Script {
    Script {
        input: frames.into(),
        current: VecDeque::new(),
        output: Vec::new(),
    }
}

impl CardLink for Script {
    type Error = &'static str;
    fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<&'static str>> {
        if wait == Wait::Block && self.current.is_empty() {
            self.current = self
                .input
                .pop_front()
                .ok_or(LinkError::Io("script ended"))?
                .into();
        }
        self.current.pop_front().ok_or(LinkError::Timeout)
    }
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), &'static str> {
        self.output.extend_from_slice(bytes);
        Ok(())
    }
}

fn frame(block: Block<'_>) -> Vec<u8> {
    let mut out = [0; MAX_BLOCK];
    let n = block.encode(&mut out).unwrap();
    out[..n].to_vec()
}

/// Answers with the command's bytes, transformed, `len(command) * 7 % 257` data bytes long.
struct Transform {
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
    resets: usize,
}

fn expected_response(command: &[u8]) -> Vec<u8> {
    let len = command.len() * 7 % 257;
    let mut r: Vec<u8> = (0..len)
        .map(|i| command[i % command.len()] ^ (i as u8))
        .collect();
    r.extend_from_slice(&[0x90, 0x00]);
    r
}

impl ApduHandler for Transform {
    fn reset(&mut self) {
        self.resets += 1;
    }
    fn process(&mut self, command: &[u8], response: &mut [u8]) -> usize {
        self.seen.lock().unwrap().push(command.to_vec());
        let r = expected_response(command);
        response[..r.len()].copy_from_slice(&r);
        r.len()
    }
    fn is_long(&self, command: &[u8]) -> bool {
        command.get(1) == Some(&0xE8)
    }
}

fn transform() -> Transform {
    Transform {
        seen: Arc::new(Mutex::new(Vec::new())),
        resets: 0,
    }
}

#[test]
fn a_short_exchange_has_the_bytes_of_iso_7816_3() {
    // 4 bytes: a 28-byte response plus the status word fits one 32-byte block
    let command = [0x00, 0xB0, 0x00, 0x00];
    let good = frame(Block::i(false, false, &command));
    // the next block with a flipped bit: R(N(R)=1, EDC error)
    let mut bad = frame(Block::i(true, false, &command));
    bad[4] ^= 0x10;
    let mut t1 = T1Card::new(script(vec![good, bad]), true);
    let mut card = transform();
    serve_one(&mut t1, &mut card, &ATR).unwrap();
    let response = expected_response(&command);
    let mut expected = frame(Block::i(false, false, &response));
    assert_eq!(t1.link_mut().output, expected);
    // the corrupted block: R(N(R)=1, EDC error) = 00 91 00 91, and no APDU
    let _ = serve_one(&mut t1, &mut card, &ATR);
    expected.extend_from_slice(&[0x00, 0x91, 0x00, 0x91]);
    assert_eq!(t1.link_mut().output, expected);
    assert_eq!(card.seen.lock().unwrap().len(), 1);
}

#[test]
fn a_line_reset_resends_the_atr_and_a_long_command_is_refused() {
    let mut input = vec![super::block::LINE_RESET.to_vec()];
    // 300 bytes in chained 32-byte blocks: too long for the APDU buffer
    let long = vec![0x11u8; 300];
    let chunks: Vec<&[u8]> = long.chunks(32).collect();
    let mut ns = false;
    for (i, c) in chunks.iter().enumerate() {
        input.push(frame(Block::i(ns, i + 1 < chunks.len(), c)));
        ns = !ns;
    }
    let mut t1 = T1Card::new(script(input), true);
    let mut card = transform();
    serve_one(&mut t1, &mut card, &ATR).unwrap();
    assert_eq!(card.resets, 1);
    assert_eq!(t1.link_mut().output, ATR);
    serve_one(&mut t1, &mut card, &ATR).unwrap();
    let out = t1.link_mut().output[ATR.len()..].to_vec();
    // nine acknowledgements R(1), R(0), ... then I(0,0) 67 00
    let mut expected = Vec::new();
    let mut nr = false;
    for _ in 0..chunks.len() - 1 {
        nr = !nr;
        expected.extend(frame(Block::r(nr, RCode::Ok)));
    }
    expected.extend(frame(Block::i(false, false, &SW_WRONG_LENGTH)));
    assert_eq!(out, expected);
    assert!(card.seen.lock().unwrap().is_empty());
}

#[test]
fn ifs_request_changes_the_response_chunks() {
    let command = [0x80, 0x01, 0, 0, 0x05, 1, 2, 3, 4, 5];
    let input = vec![
        frame(Block::s(SKind::Ifs, false, &[0x10])),
        frame(Block::i(false, false, &command)),
    ];
    let mut t1 = T1Card::new(script(input), true);
    let mut card = transform();
    // S(IFS response) echoes the size: 00 E1 01 10 F0; then the command is processed and
    // its 72-byte response goes out in a first 16-byte block with M set (then the card waits
    // for R(1), and the script ends)
    let _ = serve_one(&mut t1, &mut card, &ATR);
    assert_eq!(
        t1.link_mut().output[..5],
        [0x00, 0xE1, 0x01, 0x10, 0xE1 ^ 0x01 ^ 0x10]
    );
    assert_eq!(t1.ifsd(), 16);
    let response = expected_response(&command);
    let out = &t1.link_mut().output[5..];
    assert_eq!(out, frame(Block::i(false, true, &response[..16])));
    assert_eq!(lrc(out), 0);
}

/// One side of a line: bytes through channels, with bits flipped at chosen positions.
///
/// The bytes of one write travel as one message, as a UART sends them back to back: a
/// writer thread that the scheduler pauses in the middle of a block (for longer than the
/// character waiting time, on a loaded machine) would otherwise cut the block in two, and
/// the test would measure the scheduler instead of the protocol.
struct Wire {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
    /// Received bytes not read yet.
    pending: VecDeque<u8>,
    /// (byte index in this side's output, bit mask)
    flips: Vec<(usize, u8)>,
    written: usize,
    cwt: Duration,
}

impl Wire {
    fn new(tx: Sender<Vec<u8>>, rx: Receiver<Vec<u8>>, flips: Vec<(usize, u8)>) -> Wire {
        Wire {
            tx,
            rx,
            pending: VecDeque::new(),
            flips,
            written: 0,
            cwt: Duration::from_millis(5),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mut line = Vec::with_capacity(bytes.len());
        for &b in bytes {
            let mask = self
                .flips
                .iter()
                .find(|(at, _)| *at == self.written)
                .map_or(0, |f| f.1);
            self.written += 1;
            line.push(b ^ mask);
        }
        self.tx.send(line).map_err(|e| e.to_string())
    }

    /// The next byte, waiting at most `timeout` (for ever with `None`) when none is pending.
    fn next_byte(&mut self, timeout: Option<Duration>) -> Result<Option<u8>, String> {
        while self.pending.is_empty() {
            let line = match timeout {
                None => self.rx.recv().map_err(|e| e.to_string())?,
                Some(t) => match self.rx.recv_timeout(t) {
                    Ok(line) => line,
                    Err(RecvTimeoutError::Timeout) => return Ok(None),
                    Err(e) => return Err(e.to_string()),
                },
            };
            self.pending.extend(line);
        }
        Ok(self.pending.pop_front())
    }
}

impl CardLink for Wire {
    type Error = String;
    fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<String>> {
        let timeout = match wait {
            Wait::Block => None,
            Wait::Character => Some(self.cwt),
        };
        self.next_byte(timeout)
            .map_err(LinkError::Io)?
            .ok_or(LinkError::Timeout)
    }
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.send(bytes)
    }
}

impl ReaderLink for Wire {
    fn read_byte(&mut self, timeout: Duration) -> std::io::Result<Option<u8>> {
        self.next_byte(Some(timeout)).map_err(std::io::Error::other)
    }
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.send(bytes).map_err(std::io::Error::other)
    }
}

/// Runs `commands` through a reader and a card thread over wires flipping the given bits;
/// returns the responses and the commands the card processed.
fn run_pair(
    commands: &[Vec<u8>],
    ifsd: u8,
    to_card_flips: Vec<(usize, u8)>,
    to_reader_flips: Vec<(usize, u8)>,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>, u64) {
    let (reader_tx, card_rx) = channel();
    let (card_tx, reader_rx) = channel();
    let card_wire = Wire::new(card_tx, card_rx, to_reader_flips);
    let reader_wire = Wire::new(reader_tx, reader_rx, to_card_flips);
    let cwt = card_wire.cwt;
    let mut card = transform();
    let seen = card.seen.clone();
    let card_thread = std::thread::spawn(move || {
        let mut t1 = T1Card::new(card_wire, true);
        serve(&mut t1, &mut card, &ATR)
    });
    let mut reader = T1Reader::new(
        reader_wire,
        ReaderConfig {
            bwt: Duration::from_millis(400),
            cwt,
            max_attempts: 12,
            ifsd,
            quiet_check: true,
        },
    );
    let mut responses = Vec::new();
    // the ATR goes out before any flip can matter? No: flips count every byte, ATR included
    let atr = reader.read_atr(Duration::from_secs(5)).unwrap();
    responses.push(atr);
    reader.negotiate_ifsd().unwrap();
    for c in commands {
        responses.push(reader.transceive(c).unwrap());
    }
    let blocks = reader.blocks_sent();
    drop(reader);
    let _ = card_thread.join();
    let seen = seen.lock().unwrap().clone();
    (responses, seen, blocks)
}

fn spaced_flips() -> impl Strategy<Value = Vec<(usize, u8)>> {
    // at most one flipped bit per block: positions at least a block apart, past the ATR
    proptest::collection::vec((0usize..6, 0usize..MAX_BLOCK, 0u32..8), 0..3).prop_map(|v| {
        let mut flips: Vec<(usize, u8)> = v
            .into_iter()
            .map(|(slot, offset, bit)| (ATR.len() + slot * 2 * MAX_BLOCK + offset / 4, 1u8 << bit))
            .collect();
        flips.sort();
        flips.dedup_by(|a, b| a.0 < b.0 + 2 * MAX_BLOCK);
        flips
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn corrupted_lines_never_deliver_a_wrong_apdu(
        commands in proptest::collection::vec(
            (any::<u8>(), prop_oneof![Just(0xE8u8), any::<u8>()], proptest::collection::vec(any::<u8>(), 2..=259))
                .prop_map(|(cla, ins, mut rest)| { rest.insert(0, ins); rest.insert(0, cla); rest }),
            1..4),
        ifsd in prop_oneof![Just(254u8), Just(32u8), 1u8..=254],
        to_card in spaced_flips(),
        to_reader in spaced_flips(),
    ) {
        let (responses, seen, _) = run_pair(&commands, ifsd, to_card, to_reader);
        prop_assert_eq!(&responses[0], &ATR.to_vec());
        for (c, r) in commands.iter().zip(&responses[1..]) {
            prop_assert_eq!(r, &expected_response(c));
        }
        // every command reached the card exactly once, unchanged
        prop_assert_eq!(seen, commands);
    }
}

#[test]
fn chaining_across_every_ifs_boundary() {
    // commands of 1 to 70 bytes over IFSC 32 (default) and responses over IFSD 16: lengths
    // at, below and above each boundary
    let commands: Vec<Vec<u8>> = [4usize, 31, 32, 33, 63, 64, 65, 70, 261]
        .iter()
        .map(|&n| (0..n).map(|i| (i * 13 + n) as u8).collect())
        .collect();
    let (responses, seen, _) = run_pair(&commands, 16, Vec::new(), Vec::new());
    for (c, r) in commands.iter().zip(&responses[1..]) {
        assert_eq!(r, &expected_response(c));
    }
    assert_eq!(seen, commands);
}

#[test]
fn corrupted_blocks_in_either_direction_are_sent_again() {
    let command: Vec<u8> = (0..40u8).collect();
    let commands = vec![command.clone()];
    // clean: S(IFS), two command blocks (32 + 8 bytes), one ack per 254-byte response block
    let (_, _, clean) = run_pair(&commands, 254, Vec::new(), Vec::new());
    assert_eq!(clean, 3);
    // to the card: the IFS request is 5 bytes; flip a bit of the first command block's data
    // (the card answers R(0, EDC error), the reader sends the block again)
    let (responses, seen, blocks) = run_pair(&commands, 254, vec![(5 + 10, 0x04)], Vec::new());
    assert_eq!(responses[1], expected_response(&command));
    assert_eq!(seen, commands);
    assert_eq!(blocks, clean + 1);
    // to the reader: after the ATR and S(IFS response) (5 bytes), an ack R-block (4 bytes),
    // flip the LEN of the response block: the reader asks again with R(0, other error)
    let at = ATR.len() + 5 + 4 + 2;
    let (responses, seen, blocks) = run_pair(&commands, 254, Vec::new(), vec![(at, 0x01)]);
    assert_eq!(responses[1], expected_response(&command));
    assert_eq!(seen, commands);
    assert_eq!(blocks, clean + 1);
}
