//! The firmware's main loop: ATR, then command APDUs from T=1 to the card runtime and the
//! responses back, forever. Boards only bring a [`CardLink`] (their UART) and an NVM.

use oxicard_jcre::{Card, APDU_BUFFER_LEN, MAX_RESPONSE};
use oxicard_store::Nvm;

use crate::t1::card::{CardLink, Event, T1Card, T1Error};

/// The answer to reset of oxicard firmware: the same bytes as oxicard-sim's vpcd front end
/// (direct convention; T=0 then T=1 indicated; historical bytes 80 67 "oxicard"; TCK), so a
/// host sees one kind of oxicard card whether simulated or on a board.
pub const ATR: [u8; 14] = [
    0x3B, 0x89, 0x80, 0x01, 0x80, 0x67, 0x6F, 0x78, 0x69, 0x63, 0x61, 0x72, 0x64, 0x85,
];

/// The waiting time extension asked for before a long command (multiplier of BWT).
pub const LONG_COMMAND_WTX: u8 = 10;

/// Status word: wrong length (the command did not fit into the APDU buffer).
pub const SW_WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
/// Status word: no precise diagnosis (the runtime failed on this command).
pub const SW_NO_PRECISE_DIAGNOSIS: [u8; 2] = [0x6F, 0x00];

/// What the loop needs from a card.
pub trait ApduHandler {
    /// A reset (the reader's line reset).
    fn reset(&mut self);
    /// Processes a command APDU; writes the response (data then status word) into `response`
    /// and returns its length.
    fn process(&mut self, command: &[u8], response: &mut [u8]) -> usize;
    /// Whether the command may take longer than a block waiting time (a waiting time
    /// extension is asked for first).
    fn is_long(&self, _command: &[u8]) -> bool {
        false
    }
}

/// Writes a status word as the whole response.
fn status(response: &mut [u8], sw: [u8; 2]) -> usize {
    match response.get_mut(..2) {
        Some(out) => {
            out.copy_from_slice(&sw);
            2
        }
        None => 0,
    }
}

impl<N: Nvm> ApduHandler for Card<N> {
    fn reset(&mut self) {
        // a failing reset leaves the card as it is; the next command reports the fault
        let _ = Card::reset(self);
    }

    fn process(&mut self, command: &[u8], response: &mut [u8]) -> usize {
        match self.transmit(command, response) {
            Ok(n) => n,
            Err(_) => status(response, SW_NO_PRECISE_DIAGNOSIS),
        }
    }

    fn is_long(&self, command: &[u8]) -> bool {
        // GlobalPlatform INSTALL, LOAD and DELETE link, write and journal much of the NVM
        matches!(command, [cla, 0xE4 | 0xE6 | 0xE8, ..] if cla & 0x80 != 0)
    }
}

/// Handles one event from the reader: a command (answered), a reset (ATR sent again), or a
/// command too long for the buffer (6700).
pub fn serve_one<L: CardLink, H: ApduHandler>(
    t1: &mut T1Card<L>,
    card: &mut H,
    atr: &[u8],
) -> Result<(), T1Error<L::Error>> {
    let mut command = [0u8; APDU_BUFFER_LEN];
    let mut response = [0u8; MAX_RESPONSE];
    match t1.receive_command(&mut command)? {
        Event::Reset => {
            card.reset();
            t1.send_atr(atr)
        }
        Event::TooLong => t1.send_response(&SW_WRONG_LENGTH),
        Event::Command(n) => {
            let command = command.get(..n).unwrap_or(&[]);
            if card.is_long(command) {
                t1.request_wtx(LONG_COMMAND_WTX)?;
            }
            let m = card.process(command, &mut response);
            t1.send_response(response.get(..m).unwrap_or(&[]))
        }
    }
}

/// Sends the ATR, then serves the reader until the line fails.
pub fn serve<L: CardLink, H: ApduHandler>(
    t1: &mut T1Card<L>,
    card: &mut H,
    atr: &[u8],
) -> T1Error<L::Error> {
    if let Err(e) = t1.send_atr(atr) {
        return e;
    }
    loop {
        if let Err(e) = serve_one(t1, card, atr) {
            return e;
        }
    }
}
