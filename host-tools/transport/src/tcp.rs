//! The channel to `oxicard sim --tcp`: the simulator's plain TCP front end
//! ([`oxicard_sim::tcp`]), for machines without pcscd. The framing is vpcd's (a two-byte
//! big-endian length, then the body; one-byte bodies are controls: `01` power on, `02` reset,
//! `04` get ATR), so the message reading and writing of [`oxicard_sim::vpcd`] is reused.
//! Responses go through [`transmit_complete`] as on PC/SC, so a `61xx` is completed here too.

use std::net::TcpStream;
use std::time::Duration;

use oxicard_sim::vpcd::{read_message, write_message, CTRL_GET_ATR, CTRL_POWER_ON, CTRL_RESET};

use crate::response::transmit_complete;
use crate::{CardChannel, TransportError};

/// How long to wait for the card to answer one message before giving up.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A card reached through `oxicard sim --tcp`.
pub struct TcpChannel {
    stream: TcpStream,
    name: String,
    atr: Vec<u8>,
}

impl TcpChannel {
    /// Connects to the simulator at `address` (`host:port`), powers the card on and reads its
    /// ATR.
    pub fn connect(address: &str) -> Result<TcpChannel, TransportError> {
        let io = |context: &str| {
            let context = format!("{context} {address}");
            move |error| TransportError::Io { context, error }
        };
        let stream = TcpStream::connect(address).map_err(io("connecting to"))?;
        stream
            .set_nodelay(true)
            .and_then(|()| stream.set_read_timeout(Some(ANSWER_TIMEOUT)))
            .map_err(io("setting up the connection to"))?;
        let mut channel = TcpChannel {
            stream,
            name: format!("tcp:{address}"),
            atr: Vec::new(),
        };
        channel.control(CTRL_POWER_ON)?;
        channel.read_atr()?;
        Ok(channel)
    }

    /// Sends a one-byte control message (not answered).
    fn control(&mut self, control: u8) -> Result<(), TransportError> {
        write_message(&mut self.stream, &[control]).map_err(|error| TransportError::Io {
            context: format!("sending control {control:02X} to {}", self.name),
            error,
        })
    }

    fn read_atr(&mut self) -> Result<(), TransportError> {
        self.control(CTRL_GET_ATR)?;
        self.atr = self.answer()?;
        Ok(())
    }

    /// Reads the card's next message; the connection ending is an error here.
    fn answer(&mut self) -> Result<Vec<u8>, TransportError> {
        let name = &self.name;
        match read_message(&mut self.stream) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Err(TransportError::Protocol(format!(
                "{name} closed the connection"
            ))),
            Err(error) => Err(TransportError::Io {
                context: format!("reading the answer of {name}"),
                error,
            }),
        }
    }

    /// One exchange, as it is (no GET RESPONSE).
    pub fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if command.len() < 4 {
            // One byte would be taken for a control message.
            return Err(TransportError::Protocol(format!(
                "a command APDU has at least 4 bytes, not {}",
                command.len()
            )));
        }
        write_message(&mut self.stream, command).map_err(|error| TransportError::Io {
            context: format!("sending a command to {}", self.name),
            error,
        })?;
        self.answer()
    }
}

impl CardChannel for TcpChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit_complete(command, |c| self.transmit_raw(c))
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.control(CTRL_RESET)?;
        self.read_atr()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use oxicard_apdu::hex::decode;
    use oxicard_sim::{CapPackage, SimCard};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

    #[test]
    fn the_golden_hello_applet_answers_over_loopback_tcp() {
        let mut card = SimCard::new().unwrap();
        let package =
            CapPackage::read(std::path::Path::new(&format!("{GOLDEN}/hello/hello.cap"))).unwrap();
        let aid = package.aid;
        card.add_cap(package);
        card.load(&aid).unwrap();
        let applet = oxicard_apdu::Aid::from_hex("F00000010101").unwrap();
        card.install(&aid, &applet, &applet, &[]).unwrap();
        let (listener, address) = oxicard_sim::tcp::bind("127.0.0.1:0").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let server_stop = Arc::clone(&stop);
        let server = std::thread::spawn(move || {
            oxicard_sim::tcp::serve_listener(&listener, &mut card, &server_stop, &mut |_| {})
                .unwrap();
        });

        let mut channel = TcpChannel::connect(&address.to_string()).unwrap();
        assert_eq!(channel.atr(), oxicard_sim::vpcd::ATR);
        // The golden hello transcript: SELECT, then HELLO answers "Hello" 90 00.
        let select = decode("00A4040006F00000010101").unwrap();
        assert_eq!(channel.transmit(&select).unwrap(), [0x90, 0x00]);
        let hello = decode("8002000000").unwrap();
        assert_eq!(channel.transmit(&hello).unwrap(), b"Hello\x90\x00");
        // After a reset nothing is selected: HELLO is not understood by the card manager.
        channel.reset().unwrap();
        assert_eq!(channel.atr(), oxicard_sim::vpcd::ATR);
        assert_ne!(channel.transmit(&hello).unwrap(), b"Hello\x90\x00");
        assert!(channel.transmit(&[0x80]).is_err());
        drop(channel);
        stop.store(true, Ordering::SeqCst);
        server.join().unwrap();
        assert!(TcpChannel::connect(&address.to_string()).is_err());
    }
}
