//! The plain TCP front end: the card as a TCP server, for tools that have no PC/SC (scripts in
//! other languages, CI machines without pcscd) and for `oxicard run|shell|gp --tcp`.
//!
//! The framing is vpcd's ([`crate::vpcd`]), with the roles turned round: here the card
//! listens and the tool connects. Every message, in both directions, is a two-byte
//! big-endian length followed by that many bytes. A one-byte message from the tool is a
//! control: `00` power off, `01` power on, `02` warm reset (none of them is answered) and `04`
//! get ATR (answered with the ATR). A longer message is a command APDU, answered with the
//! complete response APDU (data then SW1 SW2). A tool usually starts with `00 01 01` (power
//! on) and `00 01 04` (get ATR).
//!
//! One connection is served at a time; the next waits in the listen backlog until the one
//! before closes. The card (and its NVM) is the same for every connection; a connection that
//! ends is like a card pulled out and put back: the next power on resets it.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::vpcd::{serve, CardBackend, VpcdEvent};

/// How often a listener waiting for a connection looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// Serves the card to every connection `listener` accepts, one after the other, until `stop`
/// is set (checked between connections and while waiting for one). Connections and their
/// ends are logged as [`VpcdEvent::Connected`] (with the peer's address) and
/// [`VpcdEvent::Disconnected`]; the exchanges as for vpcd.
pub fn serve_listener<C: CardBackend>(
    listener: &TcpListener,
    card: &mut C,
    stop: &AtomicBool,
    log: &mut dyn FnMut(&VpcdEvent<'_>),
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut stream, peer)) => {
                let peer = peer.to_string();
                log(&VpcdEvent::Connected(&peer));
                let result = prepare(&stream).and_then(|()| serve(&mut stream, card, log));
                let reason = match result {
                    Ok(()) => format!("{peer} closed the connection"),
                    Err(e) => format!("connection to {peer} lost: {e}"),
                };
                log(&VpcdEvent::Disconnected(reason));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// An accepted connection blocks (the listener does not) and sends small answers at once.
fn prepare(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)
}

/// Binds `address` (`host:port`; port 0 picks a free one) for [`serve_listener`].
pub fn bind(address: &str) -> io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(address)?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::vpcd::{read_message, write_message, ATR};
    use crate::SimCard;
    use std::sync::Arc;

    #[test]
    fn a_tcp_client_gets_the_atr_and_answers_then_the_next_client_is_served() {
        let (listener, address) = bind("127.0.0.1:0").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let server_stop = Arc::clone(&stop);
        let server = std::thread::spawn(move || {
            let mut card = SimCard::new().unwrap();
            let mut connections = 0;
            serve_listener(&listener, &mut card, &server_stop, &mut |event| {
                if matches!(event, VpcdEvent::Connected(_)) {
                    connections += 1;
                }
            })
            .unwrap();
            connections
        });
        for _ in 0..2 {
            let mut stream = TcpStream::connect(address).unwrap();
            write_message(&mut stream, &[0x01]).unwrap();
            write_message(&mut stream, &[0x04]).unwrap();
            assert_eq!(read_message(&mut stream).unwrap().unwrap(), ATR);
            // SELECT of an AID nobody has: ISO 7816-4 "file or application not found".
            write_message(
                &mut stream,
                &[0x00, 0xA4, 0x04, 0x00, 0x03, 0xF0, 0xF1, 0xF2],
            )
            .unwrap();
            assert_eq!(read_message(&mut stream).unwrap().unwrap(), [0x6A, 0x82]);
        }
        stop.store(true, Ordering::SeqCst);
        assert_eq!(server.join().unwrap(), 2);
    }
}
