//! Complete responses over T=0 (ISO/IEC 7816-3 §10.3.3, 7816-4 §5.3.3): a card answers
//! `61xx` when xx more bytes wait to be fetched with GET RESPONSE, and `6Cxx` when the Le of
//! the command was wrong and it must be sent again with Le = xx. pcsc-lite passes both
//! through on T=0 readers, so [`transmit_complete`] does the fetching and the resending for
//! any raw exchange function; callers see data followed by the final SW1 SW2.

use oxicard_apdu::Command;

use crate::TransportError;

/// At most this many GET RESPONSE rounds for one command (a card answering `61xx` forever is
/// broken; 256 rounds of 256 bytes exceed any extended response).
pub const MAX_GET_RESPONSE_ROUNDS: usize = 256;

/// Ne for a short Le byte: `00` means 256.
fn short_ne(le: u8) -> usize {
    if le == 0 {
        256
    } else {
        usize::from(le)
    }
}

/// The CLA of a GET RESPONSE for a command with class byte `cla`: interindustry, on the same
/// logical channel (ISO/IEC 7816-4 §5.4.1: channels 0-3 in b2-b1, further channels in b4-b1
/// with b7 set).
pub fn get_response_cla(cla: u8) -> u8 {
    if cla & 0x40 == 0 {
        cla & 0x03
    } else {
        0x40 | (cla & 0x0F)
    }
}

/// The same command with a different Le (short), for a `6Cxx` answer.
pub fn with_le(command: &[u8], ne: usize) -> Result<Vec<u8>, TransportError> {
    let parsed = Command::parse(command).map_err(|e| {
        TransportError::Protocol(format!("the card asked for a new Le (6Cxx) but: {e}"))
    })?;
    let resent = Command::new(
        parsed.cla(),
        parsed.ins(),
        parsed.p1(),
        parsed.p2(),
        parsed.data(),
        Some(ne),
    )
    .map_err(|e| TransportError::Protocol(format!("resending with Le {ne}: {e}")))?;
    Ok(resent.to_vec())
}

/// Splits a response into data and status word; fewer than two bytes is a protocol error.
fn split_sw(response: &[u8]) -> Result<(&[u8], [u8; 2]), TransportError> {
    match response.len().checked_sub(2) {
        Some(split) => {
            let (data, sw) = response.split_at(split);
            Ok((data, [sw[0], sw[1]]))
        }
        None => Err(TransportError::Protocol(format!(
            "a response of {} byte(s) has no status word",
            response.len()
        ))),
    }
}

/// One exchange, resent once with the corrected Le when the card answers `6Cxx`.
fn exchange_with_le_retry(
    command: &[u8],
    raw: &mut impl FnMut(&[u8]) -> Result<Vec<u8>, TransportError>,
) -> Result<Vec<u8>, TransportError> {
    let response = raw(command)?;
    let (_, [sw1, sw2]) = split_sw(&response)?;
    if sw1 == 0x6C {
        return raw(&with_le(command, short_ne(sw2))?);
    }
    Ok(response)
}

/// Sends `command` through `raw` (one exchange with the reader) and returns the complete
/// response: on `6Cxx` the command is sent again with Le = xx; on `61xx` GET RESPONSE
/// commands fetch the rest, their data appended, until another status word comes.
pub fn transmit_complete(
    command: &[u8],
    mut raw: impl FnMut(&[u8]) -> Result<Vec<u8>, TransportError>,
) -> Result<Vec<u8>, TransportError> {
    let cla = command.first().copied().unwrap_or(0);
    let mut response = exchange_with_le_retry(command, &mut raw)?;
    let mut data = Vec::new();
    for _ in 0..MAX_GET_RESPONSE_ROUNDS {
        let (chunk, [sw1, sw2]) = split_sw(&response)?;
        if sw1 != 0x61 {
            if data.is_empty() {
                return Ok(response);
            }
            data.extend_from_slice(&response);
            return Ok(data);
        }
        data.extend_from_slice(chunk);
        let get_response = [get_response_cla(cla), 0xC0, 0x00, 0x00, sw2];
        response = exchange_with_le_retry(&get_response, &mut raw)?;
    }
    Err(TransportError::Protocol(format!(
        "the card still answered 61xx after {MAX_GET_RESPONSE_ROUNDS} GET RESPONSE commands"
    )))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A T=0 card that holds `payload` and hands it out in pieces of at most `chunk` bytes
    /// through 61xx / GET RESPONSE, insisting on an exact Le (6Cxx otherwise) for GET RESPONSE.
    struct T0Card {
        payload: Vec<u8>,
        chunk: usize,
        log: Vec<Vec<u8>>,
    }

    impl T0Card {
        fn exchange(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.log.push(command.to_vec());
            let remaining = |p: &Vec<u8>| u8::try_from(p.len().min(255)).unwrap();
            match command {
                [_, 0xC0, 0, 0, le] => {
                    let n = self.payload.len().min(self.chunk);
                    if usize::from(*le) != n {
                        return Ok(vec![0x6C, u8::try_from(n).unwrap()]);
                    }
                    let mut out: Vec<u8> = self.payload.drain(..n).collect();
                    if self.payload.is_empty() {
                        out.extend_from_slice(&[0x90, 0x00]);
                    } else {
                        out.extend_from_slice(&[0x61, remaining(&self.payload)]);
                    }
                    Ok(out)
                }
                _ => Ok(vec![0x61, remaining(&self.payload)]),
            }
        }
    }

    #[test]
    fn get_response_collects_every_piece() {
        let payload: Vec<u8> = (0..=255u8).chain(0..44).collect();
        let mut card = T0Card {
            payload: payload.clone(),
            chunk: 100,
            log: Vec::new(),
        };
        let response = transmit_complete(&[0x80, 0xCA, 0, 0], |c| card.exchange(c)).unwrap();
        let mut expected = payload;
        expected.extend_from_slice(&[0x90, 0x00]);
        assert_eq!(response, expected);
        // The command, then GET RESPONSE Le=FF (6C64), Le=64, ... three pieces of 100.
        assert_eq!(card.log[1], [0x00, 0xC0, 0, 0, 0xFF]);
        assert_eq!(card.log[2], [0x00, 0xC0, 0, 0, 100]);
        // Then C8 (6C64) and 64, and 64 for the last piece: six exchanges in all.
        assert_eq!(card.log.len(), 6);
    }

    #[test]
    fn wrong_le_is_resent_with_the_length_the_card_gives() {
        let mut sent = Vec::new();
        let response = transmit_complete(&[0x00, 0xB0, 0, 0, 0x00], |c| {
            sent.push(c.to_vec());
            Ok(match c.last() {
                Some(0x05) => vec![1, 2, 3, 4, 5, 0x90, 0x00],
                _ => vec![0x6C, 0x05],
            })
        })
        .unwrap();
        assert_eq!(response, [1, 2, 3, 4, 5, 0x90, 0x00]);
        assert_eq!(
            sent,
            [vec![0x00, 0xB0, 0, 0, 0x00], vec![0x00, 0xB0, 0, 0, 0x05]]
        );
    }

    #[test]
    fn ordinary_answers_pass_unchanged_and_broken_ones_are_errors() {
        let response = transmit_complete(&[0x80, 0x02, 0, 0, 0], |_| Ok(b"Hello\x90\x00".to_vec()));
        assert_eq!(response.unwrap(), b"Hello\x90\x00");
        let short = transmit_complete(&[0x80, 0x02, 0, 0, 0], |_| Ok(vec![0x90]));
        assert!(matches!(short, Err(TransportError::Protocol(_))));
        let endless = transmit_complete(&[0x80, 0x02, 0, 0, 0], |_| Ok(vec![0x61, 0x01]));
        assert!(endless.unwrap_err().to_string().contains("61xx"));
    }

    #[test]
    fn get_response_stays_on_the_logical_channel() {
        assert_eq!(get_response_cla(0x80), 0x00);
        assert_eq!(get_response_cla(0x83), 0x03);
        assert_eq!(get_response_cla(0x01), 0x01);
        assert_eq!(get_response_cla(0x4A), 0x4A);
        assert_eq!(get_response_cla(0xC5), 0x45);
        assert_eq!(
            with_le(&[0x80, 0x01, 0, 0, 2, 0xAA, 0xBB], 256).unwrap(),
            [0x80, 0x01, 0, 0, 2, 0xAA, 0xBB, 0x00]
        );
    }
}
