//! The card side of T=1 (ISO/IEC 7816-3 clause 11): receives a command APDU (possibly chained
//! over several I-blocks), sends the response APDU in chunks of at most IFSD bytes, answers
//! the reader's S-blocks (IFS, RESYNCH, ABORT), asks for waiting time extensions, and
//! recovers from transmission errors: an invalid block is answered with an R-block carrying
//! the error, an R-block that is not an acknowledgement makes the card send its last block
//! again. No APDU is ever delivered from a block that failed its checks.

use super::block::{
    receive_frame, Block, LinkError, Pcb, RCode, RxError, SKind, Wait, DEFAULT_IFS, LINE_RESET_NAD,
    MAX_BLOCK, MAX_INF,
};

/// The card's serial line: one byte at a time in, whole blocks out.
pub trait CardLink {
    /// The line's error.
    type Error: core::fmt::Debug;

    /// Reads one byte. For [`Wait::Block`] a link may wait forever; for [`Wait::Character`]
    /// it returns [`LinkError::Timeout`] when no byte comes within the character waiting time.
    fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<Self::Error>>;

    /// Writes every byte of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
}

/// An embedded-hal-nb serial port as a [`CardLink`]: blocks for the first byte of a block and
/// polls at most `character_polls` times for every other byte.
pub struct NbSerial<S> {
    /// The UART.
    pub serial: S,
    /// How many polls without a byte make a character waiting time.
    pub character_polls: u32,
}

impl<S> CardLink for NbSerial<S>
where
    S: embedded_hal_nb::serial::Read<u8> + embedded_hal_nb::serial::Write<u8>,
{
    type Error = S::Error;

    fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<S::Error>> {
        let mut polls = 0u32;
        loop {
            match self.serial.read() {
                Ok(b) => return Ok(b),
                Err(nb::Error::Other(e)) => return Err(LinkError::Io(e)),
                Err(nb::Error::WouldBlock) => {
                    if wait == Wait::Character {
                        polls = polls.saturating_add(1);
                        if polls >= self.character_polls {
                            return Err(LinkError::Timeout);
                        }
                    }
                }
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), S::Error> {
        for &b in bytes {
            nb::block!(self.serial.write(b))?;
        }
        nb::block!(self.serial.flush())
    }
}

/// What the reader asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A complete command APDU of this many bytes is in the buffer.
    Command(usize),
    /// The command did not fit into the buffer (it was received and dropped): answer 6700.
    TooLong,
    /// A line reset: reset the card and send the ATR ([`T1Card::send_atr`]).
    Reset,
}

/// What stopped the T=1 layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T1Error<E> {
    /// The serial line failed.
    Link(E),
}

/// The card side of the T=1 protocol over `L`.
pub struct T1Card<L> {
    link: L,
    /// N(S) of the next I-block the card sends.
    ns: bool,
    /// N(S) the card expects on the reader's next I-block.
    nr: bool,
    /// Largest information field the reader accepts.
    ifsd: usize,
    /// Check that the line is quiet after each block (see [`receive_frame`]).
    quiet_check: bool,
    /// A line reset came while the card was sending; reported by the next receive.
    pending_reset: bool,
    last: [u8; MAX_BLOCK],
    last_len: usize,
    rx: [u8; MAX_BLOCK],
}

/// A received block, decoded, or what went wrong.
enum Rx {
    Block(OwnedBlock),
    Invalid(RCode),
    LineReset,
}

/// A decoded block with its information field copied (the receive buffer is reused).
struct OwnedBlock {
    pcb: Pcb,
    inf_len: usize,
}

impl<L: CardLink> T1Card<L> {
    /// The protocol at its initial state (after an ATR) on `link`. `quiet_check` makes every
    /// received block wait a character time for trailing bytes (set it on a line that can
    /// corrupt bytes; a reliable link such as an emulator's TCP socket can skip it).
    pub fn new(link: L, quiet_check: bool) -> Self {
        T1Card {
            link,
            ns: false,
            nr: false,
            ifsd: DEFAULT_IFS,
            quiet_check,
            pending_reset: false,
            last: [0; MAX_BLOCK],
            last_len: 0,
            rx: [0; MAX_BLOCK],
        }
    }

    /// The link, e.g. to inspect a test double.
    pub fn link_mut(&mut self) -> &mut L {
        &mut self.link
    }

    /// The reader's current IFSD.
    pub fn ifsd(&self) -> usize {
        self.ifsd
    }

    /// Sends the answer to reset and restarts the protocol (sequence numbers 0, IFSD 32).
    pub fn send_atr(&mut self, atr: &[u8]) -> Result<(), T1Error<L::Error>> {
        self.ns = false;
        self.nr = false;
        self.ifsd = DEFAULT_IFS;
        self.last_len = 0;
        self.link.write_all(atr).map_err(T1Error::Link)
    }

    fn send(&mut self, block: Block<'_>) -> Result<(), T1Error<L::Error>> {
        // encode cannot fail: every block built here holds at most MAX_INF bytes
        self.last_len = block.encode(&mut self.last).unwrap_or(0);
        self.resend()
    }

    fn resend(&mut self) -> Result<(), T1Error<L::Error>> {
        match self.last.get(..self.last_len) {
            Some(frame) if !frame.is_empty() => self.link.write_all(frame).map_err(T1Error::Link),
            // nothing sent yet: tell the reader which block is expected
            _ => {
                let mut out = [0; MAX_BLOCK];
                let n = Block::r(self.nr, RCode::Other)
                    .encode(&mut out)
                    .unwrap_or(0);
                self.link
                    .write_all(out.get(..n).unwrap_or(&[]))
                    .map_err(T1Error::Link)
            }
        }
    }

    fn receive(&mut self) -> Result<Rx, T1Error<L::Error>> {
        let quiet = self.quiet_check;
        let link = &mut self.link;
        let result = receive_frame(&mut self.rx, quiet, |wait| link.read_byte(wait));
        match result {
            Ok(n) => match Block::decode(self.rx.get(..n).unwrap_or(&[])) {
                Ok(b) if b.nad == LINE_RESET_NAD => Ok(Rx::LineReset),
                Ok(b) => Ok(Rx::Block(OwnedBlock {
                    pcb: b.pcb,
                    inf_len: b.inf.len(),
                })),
                Err(e) => Ok(Rx::Invalid(e.r_code())),
            },
            Err(RxError::Timeout) => Ok(Rx::Invalid(RCode::Other)),
            Err(RxError::Invalid(e)) => Ok(Rx::Invalid(e.r_code())),
            Err(RxError::Link(e)) => Err(T1Error::Link(e)),
        }
    }

    fn inf(&self, len: usize) -> &[u8] {
        self.rx.get(3..3 + len).unwrap_or(&[])
    }

    /// Answers a reader's S-request.
    fn answer_s_request(&mut self, kind: SKind, inf_len: usize) -> Result<(), T1Error<L::Error>> {
        match kind {
            SKind::Ifs => match *self.inf(inf_len) {
                [size @ 1..=254] => {
                    self.ifsd = usize::from(size);
                    self.send(Block::s(SKind::Ifs, true, &[size]))
                }
                _ => self.send(Block::r(self.nr, RCode::Other)),
            },
            SKind::Resynch => {
                self.ns = false;
                self.nr = false;
                self.ifsd = DEFAULT_IFS;
                self.send(Block::s(SKind::Resynch, true, &[]))
            }
            SKind::Abort => self.send(Block::s(SKind::Abort, true, &[])),
            // the reader never asks for a waiting time extension
            SKind::Wtx => self.send(Block::r(self.nr, RCode::Other)),
        }
    }

    /// Waits for the next command APDU and copies it into `apdu`.
    pub fn receive_command(&mut self, apdu: &mut [u8]) -> Result<Event, T1Error<L::Error>> {
        if core::mem::take(&mut self.pending_reset) {
            return Ok(Event::Reset);
        }
        let mut len = 0usize;
        let mut too_long = false;
        loop {
            let block = match self.receive()? {
                Rx::LineReset => return Ok(Event::Reset),
                Rx::Invalid(code) => {
                    self.send(Block::r(self.nr, code))?;
                    continue;
                }
                Rx::Block(b) => b,
            };
            match block.pcb {
                Pcb::I { ns, more } if ns == self.nr => {
                    let inf = self.rx.get(3..3 + block.inf_len).unwrap_or(&[]);
                    match apdu.get_mut(len..len + inf.len()) {
                        Some(dst) if !too_long => {
                            dst.copy_from_slice(inf);
                            len += inf.len();
                        }
                        _ => too_long = true,
                    }
                    self.nr = !self.nr;
                    if more {
                        self.send(Block::r(self.nr, RCode::Ok))?;
                    } else if too_long {
                        return Ok(Event::TooLong);
                    } else {
                        return Ok(Event::Command(len));
                    }
                }
                // a repeated I-block or an R-block: the reader missed the card's last block
                Pcb::I { .. } | Pcb::R { .. } => self.resend()?,
                Pcb::S {
                    kind,
                    response: false,
                } => {
                    if kind == SKind::Abort || kind == SKind::Resynch {
                        len = 0;
                        too_long = false;
                    }
                    self.answer_s_request(kind, block.inf_len)?;
                }
                Pcb::S { response: true, .. } => self.send(Block::r(self.nr, RCode::Other))?,
            }
        }
    }

    /// Asks the reader for a waiting time extension of `multiplier` block waiting times before
    /// a long operation; returns when the reader has answered (or after three attempts).
    pub fn request_wtx(&mut self, multiplier: u8) -> Result<(), T1Error<L::Error>> {
        self.send(Block::s(SKind::Wtx, false, &[multiplier]))?;
        for _ in 0..3 {
            match self.receive()? {
                Rx::Block(OwnedBlock {
                    pcb:
                        Pcb::S {
                            kind: SKind::Wtx,
                            response: true,
                        },
                    ..
                }) => return Ok(()),
                Rx::LineReset => {
                    self.pending_reset = true;
                    return Ok(());
                }
                _ => self.resend()?,
            }
        }
        Ok(())
    }

    /// Sends a response APDU, chained in I-blocks of at most IFSD bytes. Returns when the
    /// last block is sent (the reader's next command acknowledges it) or the reader aborted.
    pub fn send_response(&mut self, response: &[u8]) -> Result<(), T1Error<L::Error>> {
        let step = self.ifsd.clamp(1, MAX_INF);
        let mut rest = response;
        loop {
            let (chunk, tail) = rest.split_at(rest.len().min(step));
            let more = !tail.is_empty();
            self.send(Block::i(self.ns, more, chunk))?;
            self.ns = !self.ns;
            if !more {
                return Ok(());
            }
            rest = tail;
            // wait for the acknowledgement R(N(R) = the next N(S))
            loop {
                let block = match self.receive()? {
                    Rx::LineReset => {
                        self.pending_reset = true;
                        return Ok(());
                    }
                    Rx::Invalid(code) => {
                        self.send(Block::r(self.nr, code))?;
                        continue;
                    }
                    Rx::Block(b) => b,
                };
                match block.pcb {
                    Pcb::R { nr, .. } if nr == self.ns => break,
                    Pcb::R { .. } => self.resend()?,
                    Pcb::S {
                        kind,
                        response: false,
                    } => {
                        self.answer_s_request(kind, block.inf_len)?;
                        if kind == SKind::Abort || kind == SKind::Resynch {
                            return Ok(());
                        }
                    }
                    Pcb::I { .. } | Pcb::S { response: true, .. } => {
                        self.send(Block::r(self.nr, RCode::Other))?
                    }
                }
            }
        }
    }
}
