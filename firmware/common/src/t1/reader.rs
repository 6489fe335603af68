//! The reader side of T=1 (std only): what a smart-card reader does on the line, for the host
//! bridge and for testing the card side. Resets the card (the line-reset convention of
//! [`super::block::LINE_RESET`]) and reads its ATR, negotiates IFSD, sends command APDUs in
//! I-blocks of at most IFSC bytes, collects chained responses, grants waiting time extensions,
//! and recovers from errors: an invalid or missing block is answered with an R-block, a
//! block that makes no progress by resending the last one, and after too many attempts the
//! exchange fails and the protocol is resynchronised (S(RESYNCH)).

use std::io;
use std::time::Duration;

use super::atr::atr_length;
use super::block::{
    receive_frame, Block, LinkError, Pcb, RCode, RxError, SKind, Wait, DEFAULT_IFS, LINE_RESET,
    MAX_BLOCK, MAX_INF,
};

/// The reader's serial line.
pub trait ReaderLink {
    /// Reads one byte, waiting at most `timeout`; `Ok(None)` when none came.
    fn read_byte(&mut self, timeout: Duration) -> io::Result<Option<u8>>;
    /// Writes every byte of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum ReaderError {
    /// The line failed.
    Io(io::Error),
    /// No valid answer after the allowed attempts (the protocol has been resynchronised).
    NoAnswer {
        /// What the reader was doing.
        during: &'static str,
        /// How many blocks it sent.
        attempts: u32,
    },
    /// The card sent no complete ATR after a reset.
    NoAtr(Vec<u8>),
    /// The command APDU is empty.
    EmptyCommand,
}

impl std::fmt::Display for ReaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReaderError::Io(e) => write!(f, "serial line: {e}"),
            ReaderError::NoAnswer { during, attempts } => {
                write!(
                    f,
                    "T=1: no valid answer from the card {during} after {attempts} blocks"
                )
            }
            ReaderError::NoAtr(got) => write!(f, "no complete ATR after reset (got {got:02X?})"),
            ReaderError::EmptyCommand => write!(f, "an empty command APDU cannot be sent"),
        }
    }
}

impl std::error::Error for ReaderError {}

impl From<io::Error> for ReaderError {
    fn from(e: io::Error) -> Self {
        ReaderError::Io(e)
    }
}

/// Timing and retry settings of the reader.
#[derive(Clone, Copy, Debug)]
pub struct ReaderConfig {
    /// Block waiting time: how long the card may take to start its answer.
    pub bwt: Duration,
    /// Character waiting time: the longest gap inside a block.
    pub cwt: Duration,
    /// Blocks sent for one step before giving up.
    pub max_attempts: u32,
    /// The IFSD the reader announces (1 to 254).
    pub ifsd: u8,
    /// Wait a character time after each block for trailing bytes (a line that can corrupt).
    pub quiet_check: bool,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            bwt: Duration::from_secs(5),
            cwt: Duration::from_millis(500),
            max_attempts: 4,
            ifsd: 254,
            quiet_check: false,
        }
    }
}

/// A block the reader keeps to send again.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Sent {
    pcb: Pcb,
    inf: Vec<u8>,
}

/// A block received.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Received {
    pcb: Pcb,
    inf: Vec<u8>,
}

/// The reader side of the T=1 protocol over `L`.
pub struct T1Reader<L> {
    link: L,
    config: ReaderConfig,
    /// N(S) of the reader's next I-block.
    ns: bool,
    /// N(S) expected on the card's next I-block.
    nr: bool,
    /// The card's IFSC.
    ifsc: usize,
    /// Blocks sent since creation, retransmissions included (for figures and tests).
    blocks_sent: u64,
}

impl<L: ReaderLink> T1Reader<L> {
    /// A reader on `link`, at the initial protocol state.
    pub fn new(link: L, config: ReaderConfig) -> Self {
        T1Reader {
            link,
            config,
            ns: false,
            nr: false,
            ifsc: DEFAULT_IFS,
            blocks_sent: 0,
        }
    }

    /// The link.
    pub fn link_mut(&mut self) -> &mut L {
        &mut self.link
    }

    /// Blocks sent so far, retransmissions included.
    pub fn blocks_sent(&self) -> u64 {
        self.blocks_sent
    }

    /// Reads an ATR the card sends on its own (at power-up), waiting `timeout` for its first
    /// byte; restarts the protocol state.
    pub fn read_atr(&mut self, timeout: Duration) -> Result<Vec<u8>, ReaderError> {
        let mut atr = Vec::new();
        let mut wait = timeout;
        loop {
            if let Some(total) = atr_length(&atr) {
                if atr.len() >= total {
                    break;
                }
            }
            match self.link.read_byte(wait)? {
                Some(b) => atr.push(b),
                None => return Err(ReaderError::NoAtr(atr)),
            }
            wait = self.config.cwt;
        }
        self.ns = false;
        self.nr = false;
        self.ifsc = DEFAULT_IFS;
        Ok(atr)
    }

    /// Resets the card (line reset) and returns its ATR.
    pub fn reset(&mut self) -> Result<Vec<u8>, ReaderError> {
        self.drain()?;
        self.link.write_all(&LINE_RESET)?;
        self.read_atr(self.config.bwt)
    }

    /// Announces the reader's IFSD with S(IFS request).
    pub fn negotiate_ifsd(&mut self) -> Result<(), ReaderError> {
        let sent = Sent {
            pcb: Pcb::S {
                kind: SKind::Ifs,
                response: false,
            },
            inf: vec![self.config.ifsd],
        };
        self.exchange(&sent, "negotiating IFSD").map(|_| ())
    }

    /// Sends a command APDU and returns the response APDU (data and status word).
    pub fn transceive(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderError> {
        if command.is_empty() {
            return Err(ReaderError::EmptyCommand);
        }
        let chunks: Vec<&[u8]> = command.chunks(self.ifsc.clamp(1, MAX_INF)).collect();
        let mut reply = None;
        for (i, chunk) in chunks.iter().enumerate() {
            let more = i + 1 < chunks.len();
            let sent = Sent {
                pcb: Pcb::I { ns: self.ns, more },
                inf: chunk.to_vec(),
            };
            let r = self.exchange(&sent, "sending a command")?;
            self.ns = !self.ns;
            reply = Some(r);
        }
        let mut response = Vec::new();
        while let Some(Received {
            pcb: Pcb::I { more, .. },
            inf,
        }) = reply.take()
        {
            response.extend_from_slice(&inf);
            self.nr = !self.nr;
            if more {
                let ack = Sent {
                    pcb: Pcb::R {
                        nr: self.nr,
                        code: RCode::Ok,
                    },
                    inf: Vec::new(),
                };
                reply = Some(self.exchange(&ack, "receiving a chained response")?);
            }
        }
        Ok(response)
    }

    fn drain(&mut self) -> io::Result<()> {
        while self.link.read_byte(Duration::from_millis(1))?.is_some() {}
        Ok(())
    }

    fn write(&mut self, pcb: Pcb, inf: &[u8]) -> io::Result<()> {
        let mut out = [0u8; MAX_BLOCK];
        let n = Block { nad: 0, pcb, inf }
            .encode(&mut out)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e:?}")))?;
        self.blocks_sent += 1;
        self.link.write_all(out.get(..n).unwrap_or(&[]))
    }

    fn receive(&mut self, bwt: Duration) -> Result<Result<Received, RCode>, ReaderError> {
        let mut buf = [0u8; MAX_BLOCK];
        let cwt = self.config.cwt;
        let link = &mut self.link;
        let r = receive_frame(&mut buf, self.config.quiet_check, |wait| {
            let timeout = if wait == Wait::Block { bwt } else { cwt };
            match link.read_byte(timeout) {
                Ok(Some(b)) => Ok(b),
                Ok(None) => Err(LinkError::Timeout),
                Err(e) => Err(LinkError::Io(e)),
            }
        });
        match r {
            Ok(n) => Ok(match Block::decode(buf.get(..n).unwrap_or(&[])) {
                Ok(b) => Ok(Received {
                    pcb: b.pcb,
                    inf: b.inf.to_vec(),
                }),
                Err(e) => Err(e.r_code()),
            }),
            Err(RxError::Link(e)) => Err(ReaderError::Io(e)),
            Err(RxError::Timeout) => Ok(Err(RCode::Other)),
            Err(RxError::Invalid(e)) => Ok(Err(e.r_code())),
        }
    }

    /// Sends `sent` until the card answers with a block that makes progress: an
    /// acknowledgement of a chained I-block, the card's next I-block, or the S-response.
    fn exchange(&mut self, sent: &Sent, during: &'static str) -> Result<Received, ReaderError> {
        let mut next = sent.clone();
        let mut attempts = 0u32;
        let mut bwt = self.config.bwt;
        loop {
            self.write(next.pcb, &next.inf)?;
            attempts += 1;
            let received = self.receive(bwt)?;
            bwt = self.config.bwt;
            match received {
                Err(code) => {
                    next = Sent {
                        pcb: Pcb::R { nr: self.nr, code },
                        inf: Vec::new(),
                    };
                }
                Ok(r) => {
                    let progress = match (sent.pcb, r.pcb) {
                        (
                            _,
                            Pcb::S {
                                kind: SKind::Wtx,
                                response: false,
                            },
                        ) => {
                            let multiplier = r.inf.first().copied().unwrap_or(1).max(1);
                            bwt = self.config.bwt * u32::from(multiplier);
                            next = Sent {
                                pcb: Pcb::S {
                                    kind: SKind::Wtx,
                                    response: true,
                                },
                                inf: r.inf,
                            };
                            // a granted extension is no failed attempt
                            attempts = attempts.saturating_sub(1);
                            continue;
                        }
                        (Pcb::I { ns, more: true }, Pcb::R { nr, .. }) => nr != ns,
                        (Pcb::I { more: false, .. } | Pcb::R { .. }, Pcb::I { ns, .. }) => {
                            ns == self.nr
                        }
                        (
                            Pcb::S {
                                kind,
                                response: false,
                            },
                            Pcb::S {
                                kind: answered,
                                response: true,
                            },
                        ) => kind == answered,
                        _ => false,
                    };
                    if progress {
                        return Ok(r);
                    }
                    next = sent.clone();
                }
            }
            if attempts >= self.config.max_attempts {
                self.resynch();
                return Err(ReaderError::NoAnswer { during, attempts });
            }
        }
    }

    /// Restarts both sides at sequence numbers 0 with S(RESYNCH) (best effort).
    fn resynch(&mut self) {
        for _ in 0..3 {
            if self
                .write(
                    Pcb::S {
                        kind: SKind::Resynch,
                        response: false,
                    },
                    &[],
                )
                .is_err()
            {
                return;
            }
            if let Ok(Ok(Received {
                pcb:
                    Pcb::S {
                        kind: SKind::Resynch,
                        response: true,
                    },
                ..
            })) = self.receive(self.config.bwt)
            {
                self.ns = false;
                self.nr = false;
                self.ifsc = DEFAULT_IFS;
                return;
            }
        }
    }
}

/// A TCP connection (an emulator's serial port) as a [`ReaderLink`].
pub struct TcpLink {
    stream: std::net::TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

impl TcpLink {
    /// Wraps a connected stream (TCP_NODELAY is set).
    pub fn new(stream: std::net::TcpStream) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        Ok(TcpLink {
            stream,
            buf: Vec::new(),
            pos: 0,
        })
    }
}

impl ReaderLink for TcpLink {
    fn read_byte(&mut self, timeout: Duration) -> io::Result<Option<u8>> {
        use std::io::Read;
        if let Some(&b) = self.buf.get(self.pos) {
            self.pos += 1;
            return Ok(Some(b));
        }
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let mut chunk = [0u8; 512];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the card's serial line closed",
            )),
            Ok(n) => {
                self.buf.clear();
                self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                self.pos = 1;
                Ok(self.buf.first().copied())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }
}
