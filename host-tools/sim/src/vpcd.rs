//! The vpcd front end: puts a card into pcscd through the virtual reader driver of vsmartcard
//! (vpcd), so that every PC/SC program sees a reader ("Virtual PCD 00 00") with the card in it.
//!
//! The card side is a TCP client of vpcd, which listens on port 35963 for its first slot once
//! pcscd has loaded the driver. Every message, in both directions, is a two-byte big-endian
//! length followed by that many bytes. A one-byte message from vpcd is a control: 0x00 power
//! off, 0x01 power on, 0x02 reset (none of them is answered) and 0x04 get ATR (answered with
//! the ATR). A longer message is a command APDU, answered with the response APDU.
//!
//! vpcd writes the length and the body of a message with two separate writes. With delayed
//! acknowledgements on, the body then waits for the ACK of the length (about 40 ms on Linux),
//! so [`FrameStream::before_read`] turns TCP_QUICKACK on before every read (Linux resets it
//! on its own) and TCP_NODELAY is set on the connection.
//!
//! The serving loop is generic over [`FrameStream`] so that the protocol can be tested over an
//! in-memory stream; [`run_client`] adds the connection, and reconnects every retry interval
//! when vpcd is not there yet or drops the connection, keeping the card's state.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::card::{SimCard, SimError};

/// vpcd's port for its first slot (slot N listens on 35963 + N).
pub const DEFAULT_PORT: u16 = 35963;

/// Control message: power the card off.
pub const CTRL_POWER_OFF: u8 = 0x00;
/// Control message: power the card on.
pub const CTRL_POWER_ON: u8 = 0x01;
/// Control message: warm reset.
pub const CTRL_RESET: u8 = 0x02;
/// Control message: send the ATR.
pub const CTRL_GET_ATR: u8 = 0x04;

/// The ATR of the simulated card (ISO/IEC 7816-3):
///
/// | bytes | meaning |
/// |---|---|
/// | `3B` | TS: direct convention |
/// | `89` | T0: TD1 follows, 9 historical bytes |
/// | `80` | TD1: TD2 follows, protocol T=0 offered (the usual first indication) |
/// | `01` | TD2: protocol T=1, nothing follows |
/// | `80` | historical bytes, category indicator: COMPACT-TLV objects follow |
/// | `67 6F 78 69 63 61 72 64` | tag 6 (pre-issuing data), length 7: "oxicard" |
/// | `85` | TCK: exclusive-or of T0 up to the last historical byte |
///
/// Because T=1 is indicated, TCK is present; the exclusive-or of T0 through TCK is zero.
pub const ATR: [u8; 14] = [
    0x3B, 0x89, 0x80, 0x01, 0x80, 0x67, 0x6F, 0x78, 0x69, 0x63, 0x61, 0x72, 0x64, 0x85,
];

/// Status word sent when the card cannot answer a command at all ("no precise diagnosis").
pub const SW_NO_PRECISE_DIAGNOSIS: [u8; 2] = [0x6F, 0x00];

/// What a front end needs from a card: power, reset, ATR and APDU exchange.
pub trait CardBackend {
    /// Contacts activated: the card starts as after a reset.
    fn power_on(&mut self) -> Result<(), SimError>;
    /// Contacts deactivated.
    fn power_off(&mut self) -> Result<(), SimError>;
    /// A warm reset.
    fn reset(&mut self) -> Result<(), SimError>;
    /// The answer to reset.
    fn atr(&self) -> &[u8];
    /// Sends a command APDU; returns the response data followed by SW1 SW2.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, SimError>;
    /// Whether the card is there to be put into the reader. [`run_client`] asks before each
    /// connection to vpcd (a card behind a line that went down may try to bring it back
    /// here) and [`serve`] ends the connection, so that the card leaves the reader, when it
    /// turns false after an operation. The simulated card is always there.
    fn ready(&mut self) -> bool {
        true
    }
}

impl CardBackend for SimCard {
    fn power_on(&mut self) -> Result<(), SimError> {
        // Transient memory and selection are cleared on power-up just as on a reset.
        self.reset()
    }

    fn power_off(&mut self) -> Result<(), SimError> {
        // Nothing to do: the next power-on resets, and NVM keeps its contents.
        Ok(())
    }

    fn reset(&mut self) -> Result<(), SimError> {
        SimCard::reset(self)
    }

    fn atr(&self) -> &[u8] {
        &ATR
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, SimError> {
        SimCard::transmit(self, command)
    }
}

/// A byte stream that carries vpcd messages: anything readable and writable, plus a hook run
/// before every read (TCP_QUICKACK for a TCP connection; nothing for other streams).
pub trait FrameStream: Read + Write {
    /// Called before every read of the stream.
    fn before_read(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FrameStream for TcpStream {
    fn before_read(&mut self) -> io::Result<()> {
        set_quickack(self)
    }
}

#[cfg(target_os = "linux")]
fn set_quickack(stream: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(stream).set_quickack(true)
}

#[cfg(not(target_os = "linux"))]
fn set_quickack(_stream: &TcpStream) -> io::Result<()> {
    Ok(())
}

/// Something that happened on the vpcd link, for logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VpcdEvent<'a> {
    /// Connected to vpcd at this address.
    Connected(&'a str),
    /// Could not connect; the next attempt comes after the retry interval.
    ConnectFailed(&'a str, String),
    /// The connection ended (vpcd closed it, it broke, or the card went away); why, and
    /// reconnecting after the retry interval.
    Disconnected(String),
    /// Power on.
    PowerOn,
    /// Power off.
    PowerOff,
    /// Reset.
    Reset,
    /// The ATR was requested and sent.
    Atr,
    /// A control byte this front end does not know, ignored.
    UnknownControl(u8),
    /// An empty message, ignored.
    EmptyMessage,
    /// The card refused an operation (the link goes on; a command gets 6F00).
    CardError(String),
    /// A command APDU and its response.
    Apdu {
        /// The command APDU.
        command: &'a [u8],
        /// The response (data then SW1 SW2).
        response: &'a [u8],
    },
}

/// Reads one message; `Ok(None)` when the stream ends cleanly between messages.
pub fn read_message<S: FrameStream>(stream: &mut S) -> io::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 2];
    stream.before_read()?;
    let first = loop {
        match stream.read(&mut length) {
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    match first {
        0 => return Ok(None),
        1 => {
            stream.before_read()?;
            stream.read_exact(&mut length[1..])?;
        }
        _ => {}
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(length))];
    if !body.is_empty() {
        stream.before_read()?;
        stream.read_exact(&mut body)?;
    }
    Ok(Some(body))
}

/// Writes one message (length and body in a single write).
pub fn write_message<S: Write>(stream: &mut S, body: &[u8]) -> io::Result<()> {
    let length = u16::try_from(body.len()).map_err(|_| {
        io::Error::new(
            ErrorKind::InvalidInput,
            format!(
                "a vpcd message holds at most 65535 bytes, not {}",
                body.len()
            ),
        )
    })?;
    let mut frame = Vec::with_capacity(body.len() + 2);
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(body);
    stream.write_all(&frame)?;
    stream.flush()
}

/// Serves one vpcd connection until vpcd closes it (`Ok`) or it breaks (`Err`).
pub fn serve<S: FrameStream, C: CardBackend>(
    stream: &mut S,
    card: &mut C,
    log: &mut dyn FnMut(&VpcdEvent<'_>),
) -> io::Result<()> {
    while let Some(message) = read_message(stream)? {
        match message.as_slice() {
            [] => log(&VpcdEvent::EmptyMessage),
            [control] => {
                let (event, result) = match *control {
                    CTRL_POWER_OFF => (VpcdEvent::PowerOff, card.power_off()),
                    CTRL_POWER_ON => (VpcdEvent::PowerOn, card.power_on()),
                    CTRL_RESET => (VpcdEvent::Reset, card.reset()),
                    CTRL_GET_ATR => {
                        write_message(stream, card.atr())?;
                        (VpcdEvent::Atr, Ok(()))
                    }
                    other => (VpcdEvent::UnknownControl(other), Ok(())),
                };
                log(&event);
                if let Err(e) = result {
                    log(&VpcdEvent::CardError(e.to_string()));
                }
                if !card.ready() {
                    return Ok(());
                }
            }
            command => {
                let response = card.transmit(command).unwrap_or_else(|e| {
                    log(&VpcdEvent::CardError(e.to_string()));
                    SW_NO_PRECISE_DIAGNOSIS.to_vec()
                });
                log(&VpcdEvent::Apdu {
                    command,
                    response: &response,
                });
                write_message(stream, &response)?;
                if !card.ready() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Connects to vpcd at `address` (`host:port`) and serves the card, reconnecting every `retry`
/// when vpcd is not there or drops the connection, or when the card was not
/// [`ready`](CardBackend::ready). Returns when `stop` is set (checked after each connection
/// ends and during the waits).
pub fn run_client<C: CardBackend>(
    address: &str,
    card: &mut C,
    retry: Duration,
    stop: &AtomicBool,
    log: &mut dyn FnMut(&VpcdEvent<'_>),
) {
    while !stop.load(Ordering::SeqCst) {
        if !card.ready() {
            wait(retry, stop);
            continue;
        }
        match TcpStream::connect(address) {
            Ok(mut stream) => {
                log(&VpcdEvent::Connected(address));
                let result = stream
                    .set_nodelay(true)
                    .and_then(|()| serve(&mut stream, card, log));
                let reason = match result {
                    // serve also ends when the card stops being ready
                    Ok(()) if !card.ready() => {
                        "the card went away; it comes back when it answers again".to_string()
                    }
                    Ok(()) => "vpcd closed the connection".to_string(),
                    Err(e) => format!("connection lost: {e}"),
                };
                log(&VpcdEvent::Disconnected(reason));
            }
            Err(e) => log(&VpcdEvent::ConnectFailed(address, e.to_string())),
        }
        wait(retry, stop);
    }
}

/// Sleeps for `duration`, waking early when `stop` is set.
fn wait(duration: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(20);
    let mut left = duration;
    while !left.is_zero() && !stop.load(Ordering::SeqCst) {
        let now = left.min(step);
        std::thread::sleep(now);
        left = left.saturating_sub(now);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn atr_check_byte_and_structure_follow_iso_7816_3() {
        // TCK: the exclusive-or of every byte from T0 to TCK is zero.
        assert_eq!(ATR[1..].iter().fold(0, |x, b| x ^ b), 0);
        // T0 says TD1 present (bit 8) and K historical bytes; TD1 -> TD2; TD2 = T=1, last.
        let historical = usize::from(ATR[1] & 0x0F);
        assert_eq!(ATR[1] & 0xF0, 0x80);
        assert_eq!(ATR[2], 0x80);
        assert_eq!(ATR[3], 0x01);
        // TS, T0, TD1, TD2, the historical bytes, TCK.
        assert_eq!(ATR.len(), 4 + historical + 1);
        assert_eq!(&ATR[6..13], b"oxicard");
    }

    #[test]
    fn a_message_split_across_reads_is_reassembled() {
        // One byte per read, as a TCP stream may deliver it.
        struct Trickle(Vec<u8>, usize);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                match (self.0.get(self.1), buf.first_mut()) {
                    (Some(&b), Some(slot)) => {
                        *slot = b;
                        self.1 += 1;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        impl Write for Trickle {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        impl FrameStream for Trickle {}
        let mut stream = Trickle(vec![0, 3, 0xAA, 0xBB, 0xCC, 0, 1, 0x04], 0);
        assert_eq!(
            read_message(&mut stream).unwrap(),
            Some(vec![0xAA, 0xBB, 0xCC])
        );
        assert_eq!(read_message(&mut stream).unwrap(), Some(vec![0x04]));
        assert_eq!(read_message(&mut stream).unwrap(), None);
    }

    #[test]
    fn a_stream_ending_inside_a_message_is_an_error() {
        struct Cut(io::Cursor<Vec<u8>>);
        impl Read for Cut {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0.read(buf)
            }
        }
        impl Write for Cut {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        impl FrameStream for Cut {}
        let mut stream = Cut(io::Cursor::new(vec![0, 5, 1, 2]));
        let error = read_message(&mut stream).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
    }

    #[test]
    fn serve_ends_the_connection_once_the_card_is_no_longer_ready() {
        /// Answers 9000 and is gone after `left` commands.
        struct Fading {
            left: usize,
        }
        impl CardBackend for Fading {
            fn power_on(&mut self) -> Result<(), SimError> {
                Ok(())
            }
            fn power_off(&mut self) -> Result<(), SimError> {
                Ok(())
            }
            fn reset(&mut self) -> Result<(), SimError> {
                Ok(())
            }
            fn atr(&self) -> &[u8] {
                &ATR
            }
            fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, SimError> {
                self.left = self.left.saturating_sub(1);
                Ok(vec![0x90, 0x00])
            }
            fn ready(&mut self) -> bool {
                self.left > 0
            }
        }
        struct Duplex(io::Cursor<Vec<u8>>, Vec<u8>);
        impl Read for Duplex {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0.read(buf)
            }
        }
        impl Write for Duplex {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.1.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        impl FrameStream for Duplex {}
        // power on, then three commands: the card goes after the second
        let mut input = vec![0, 1, CTRL_POWER_ON];
        for _ in 0..3 {
            input.extend_from_slice(&[0, 4, 0x80, 0x02, 0x00, 0x00]);
        }
        let mut stream = Duplex(io::Cursor::new(input), Vec::new());
        let mut card = Fading { left: 2 };
        let mut commands = 0;
        serve(&mut stream, &mut card, &mut |event| {
            if matches!(event, VpcdEvent::Apdu { .. }) {
                commands += 1;
            }
        })
        .unwrap();
        assert_eq!(commands, 2);
        assert_eq!(stream.1, [0, 2, 0x90, 0x00, 0, 2, 0x90, 0x00]);
    }

    #[test]
    fn write_message_prefixes_the_big_endian_length() {
        let mut out = Vec::new();
        write_message(&mut out, &[0x90, 0x00]).unwrap();
        assert_eq!(out, [0, 2, 0x90, 0x00]);
        let long = vec![0x11; 0x0123];
        out.clear();
        write_message(&mut out, &long).unwrap();
        assert_eq!(out[..2], [0x01, 0x23]);
        assert_eq!(out.len(), 0x0125);
        let too_long = vec![0; 0x1_0000];
        assert!(write_message(&mut out, &too_long).is_err());
    }
}
