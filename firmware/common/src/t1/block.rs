//! The T=1 block codec (ISO/IEC 7816-3 clause 11.3), shared by the card side and the reader
//! side so that both agree byte for byte: prologue (NAD, PCB, LEN), information field,
//! epilogue (LRC: the exclusive-or of every byte before it).
//!
//! | PCB | block |
//! |---|---|
//! | `0 N(S) M 00000` | I-block: N(S) send sequence number, M more data (chaining) |
//! | `10 0 N(R) 00ee` | R-block: N(R) the sequence number expected, ee 00 ok, 01 EDC error, 10 other error |
//! | `11 r 000kk` | S-block: r 1 for a response, kk 00 RESYNCH, 01 IFS, 10 ABORT, 11 WTX |

/// Largest information field (LEN 0xFF is reserved).
pub const MAX_INF: usize = 254;
/// Largest block on the line: prologue, information field, LRC.
pub const MAX_BLOCK: usize = 3 + MAX_INF + 1;
/// Default IFSC and IFSD when the ATR and the reader say nothing (ISO/IEC 7816-3 11.4.2).
pub const DEFAULT_IFS: usize = 32;

/// The NAD of a line reset: oxicard's serial-line convention for the RST contact a UART does
/// not have. A reader sends `FF C0 00 3F` (NAD FF is invalid in ISO/IEC 7816-3, so no real
/// block looks like it); the card resets and answers with its ATR.
pub const LINE_RESET_NAD: u8 = 0xFF;
/// The whole line-reset frame.
pub const LINE_RESET: [u8; 4] = [LINE_RESET_NAD, 0xC0, 0x00, 0x3F];

/// The error an R-block reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RCode {
    /// No error (an acknowledgement in a chain).
    Ok,
    /// The EDC (LRC) or a parity check failed.
    Edc,
    /// Any other error (bad length, bad PCB, timeout).
    Other,
}

/// The kind of an S-block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SKind {
    /// Resynchronisation: both sides restart at sequence numbers 0.
    Resynch,
    /// Information field size: one byte, 1 to 254.
    Ifs,
    /// Abort a chain.
    Abort,
    /// Waiting time extension: one byte, the multiplier of BWT.
    Wtx,
}

/// A protocol control byte, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pcb {
    /// Information block.
    I {
        /// N(S), the send sequence number.
        ns: bool,
        /// M: more blocks of this chain follow.
        more: bool,
    },
    /// Receive-ready block.
    R {
        /// N(R), the sequence number of the I-block expected next.
        nr: bool,
        /// The error reported.
        code: RCode,
    },
    /// Supervisory block.
    S {
        /// The operation.
        kind: SKind,
        /// A response (true) or a request (false).
        response: bool,
    },
}

impl Pcb {
    /// The byte on the line.
    pub fn to_byte(self) -> u8 {
        match self {
            Pcb::I { ns, more } => (u8::from(ns) << 6) | (u8::from(more) << 5),
            Pcb::R { nr, code } => {
                let code = match code {
                    RCode::Ok => 0,
                    RCode::Edc => 1,
                    RCode::Other => 2,
                };
                0x80 | (u8::from(nr) << 4) | code
            }
            Pcb::S { kind, response } => {
                let kind = match kind {
                    SKind::Resynch => 0,
                    SKind::Ifs => 1,
                    SKind::Abort => 2,
                    SKind::Wtx => 3,
                };
                0xC0 | (u8::from(response) << 5) | kind
            }
        }
    }

    /// Decodes a PCB; `None` for the reserved encodings.
    pub fn from_byte(b: u8) -> Option<Pcb> {
        match b & 0xC0 {
            0x00 | 0x40 => (b & 0x1F == 0).then_some(Pcb::I {
                ns: b & 0x40 != 0,
                more: b & 0x20 != 0,
            }),
            0x80 => {
                let code = match b & 0x2F {
                    0 => RCode::Ok,
                    1 => RCode::Edc,
                    2 => RCode::Other,
                    _ => return None,
                };
                Some(Pcb::R {
                    nr: b & 0x10 != 0,
                    code,
                })
            }
            _ => {
                let kind = match b & 0x1F {
                    0 => SKind::Resynch,
                    1 => SKind::Ifs,
                    2 => SKind::Abort,
                    3 => SKind::Wtx,
                    _ => return None,
                };
                Some(Pcb::S {
                    kind,
                    response: b & 0x20 != 0,
                })
            }
        }
    }
}

/// One block: node address, control byte and information field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// Node address byte (0 between one reader and one card).
    pub nad: u8,
    /// What kind of block.
    pub pcb: Pcb,
    /// The information field (at most [`MAX_INF`] bytes).
    pub inf: &'a [u8],
}

/// Why a frame is not a valid block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// Fewer than the four bytes of prologue and epilogue, or LEN disagrees with the frame.
    Length,
    /// LEN is 0xFF (reserved).
    ReservedLength,
    /// The PCB is a reserved encoding.
    Pcb(u8),
    /// The LRC is not the exclusive-or of the bytes before it.
    Lrc {
        /// The LRC on the line.
        found: u8,
        /// The LRC of the bytes received.
        computed: u8,
    },
    /// An information field longer than [`MAX_INF`] was to be encoded.
    TooLong(usize),
}

impl BlockError {
    /// The error code an R-block answering this error carries.
    pub fn r_code(self) -> RCode {
        match self {
            BlockError::Lrc { .. } => RCode::Edc,
            _ => RCode::Other,
        }
    }
}

/// Longitudinal redundancy check: the exclusive-or of `bytes`.
pub fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |x, b| x ^ b)
}

impl<'a> Block<'a> {
    /// An I-block (NAD 0).
    pub fn i(ns: bool, more: bool, inf: &'a [u8]) -> Self {
        Block {
            nad: 0,
            pcb: Pcb::I { ns, more },
            inf,
        }
    }

    /// An R-block (NAD 0).
    pub fn r(nr: bool, code: RCode) -> Self {
        Block {
            nad: 0,
            pcb: Pcb::R { nr, code },
            inf: &[],
        }
    }

    /// An S-block (NAD 0).
    pub fn s(kind: SKind, response: bool, inf: &'a [u8]) -> Self {
        Block {
            nad: 0,
            pcb: Pcb::S { kind, response },
            inf,
        }
    }

    /// Writes the block as it goes on the line into `out`; returns its length.
    pub fn encode(&self, out: &mut [u8; MAX_BLOCK]) -> Result<usize, BlockError> {
        let len = self.inf.len();
        if len > MAX_INF {
            return Err(BlockError::TooLong(len));
        }
        let (prologue, rest) = out.split_at_mut(3);
        prologue.copy_from_slice(&[self.nad, self.pcb.to_byte(), len as u8]);
        let (inf, epilogue) = rest.split_at_mut(len);
        inf.copy_from_slice(self.inf);
        let check = lrc(prologue) ^ lrc(inf);
        if let Some(slot) = epilogue.first_mut() {
            *slot = check;
        }
        Ok(len + 4)
    }

    /// Decodes a whole frame (prologue, information field, LRC), checking its length and LRC.
    pub fn decode(frame: &'a [u8]) -> Result<Block<'a>, BlockError> {
        let (&[nad, pcb, len], rest) = frame.split_first_chunk::<3>().ok_or(BlockError::Length)?;
        if len == 0xFF {
            return Err(BlockError::ReservedLength);
        }
        let (&found, body) = frame.split_last().ok_or(BlockError::Length)?;
        if rest.len() != usize::from(len) + 1 {
            return Err(BlockError::Length);
        }
        let computed = lrc(body);
        if computed != found {
            return Err(BlockError::Lrc { found, computed });
        }
        let pcb = Pcb::from_byte(pcb).ok_or(BlockError::Pcb(pcb))?;
        let inf = body.get(3..).ok_or(BlockError::Length)?;
        Ok(Block { nad, pcb, inf })
    }
}

/// How long a byte may take to come: the first byte of a block (block waiting time) or a byte
/// inside a block or right after it (character waiting time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The first byte of a block.
    Block,
    /// The next byte of a block, or checking that the line is quiet after a block.
    Character,
}

/// Why no block could be received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxError<E> {
    /// Nothing came within the waiting time.
    Timeout,
    /// The frame received is not a valid block (or bytes followed it).
    Invalid(BlockError),
    /// The line itself failed.
    Link(E),
}

/// What a byte source reports instead of a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError<E> {
    /// The waiting time passed without a byte.
    Timeout,
    /// The line failed.
    Io(E),
}

/// Receives one frame into `buf` through `read` (one byte per call) and returns its length.
///
/// With `quiet_check`, after the LRC the line must stay quiet for a character waiting time: bytes after it mean a
/// corrupted LEN cut the frame short, so the frame is refused (and the rest drained) rather
/// than trusted on a one-in-256 LRC match. A source that cannot time out should report
/// [`LinkError::Timeout`] for [`Wait::Character`] when no byte is pending.
pub fn receive_frame<E>(
    buf: &mut [u8; MAX_BLOCK],
    quiet_check: bool,
    mut read: impl FnMut(Wait) -> Result<u8, LinkError<E>>,
) -> Result<usize, RxError<E>> {
    let first = |e| match e {
        LinkError::Timeout => RxError::Timeout,
        LinkError::Io(e) => RxError::Link(e),
    };
    let inner = |e| match e {
        LinkError::Timeout => RxError::Invalid(BlockError::Length),
        LinkError::Io(e) => RxError::Link(e),
    };
    let nad = read(Wait::Block).map_err(first)?;
    let pcb = read(Wait::Character).map_err(inner)?;
    let len = read(Wait::Character).map_err(inner)?;
    let total = if len == 0xFF {
        None
    } else {
        Some(usize::from(len) + 4)
    };
    buf[0] = nad;
    buf[1] = pcb;
    buf[2] = len;
    if let Some(total) = total {
        for slot in buf.iter_mut().take(total).skip(3) {
            *slot = read(Wait::Character).map_err(inner)?;
        }
    }
    // the line must be quiet now; drain whatever follows a bad frame
    let mut trailing = false;
    while quiet_check || total.is_none() {
        match read(Wait::Character) {
            Ok(_) => trailing = true,
            Err(LinkError::Timeout) => break,
            Err(LinkError::Io(e)) => return Err(RxError::Link(e)),
        }
    }
    match total {
        None => Err(RxError::Invalid(BlockError::ReservedLength)),
        Some(_) if trailing => Err(RxError::Invalid(BlockError::Length)),
        Some(total) => Ok(total),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pcb_bytes_follow_iso_7816_3_table() {
        // ISO/IEC 7816-3 11.3.2.2 examples: I(0,0)=00, I(1,0)=40, I(0,1)=20, R(1)=90,
        // R(0) EDC error=81, S(IFS request)=C1, S(IFS response)=E1, S(WTX request)=C3.
        assert_eq!(
            Pcb::I {
                ns: false,
                more: false
            }
            .to_byte(),
            0x00
        );
        assert_eq!(
            Pcb::I {
                ns: true,
                more: false
            }
            .to_byte(),
            0x40
        );
        assert_eq!(
            Pcb::I {
                ns: false,
                more: true
            }
            .to_byte(),
            0x20
        );
        let r = |nr, code| Pcb::R { nr, code }.to_byte();
        assert_eq!(r(true, RCode::Ok), 0x90);
        assert_eq!(r(false, RCode::Edc), 0x81);
        assert_eq!(r(true, RCode::Other), 0x92);
        let s = |kind, response| Pcb::S { kind, response }.to_byte();
        assert_eq!(s(SKind::Ifs, false), 0xC1);
        assert_eq!(s(SKind::Ifs, true), 0xE1);
        assert_eq!(s(SKind::Wtx, false), 0xC3);
        assert_eq!(s(SKind::Resynch, true), 0xE0);
        for b in [0x01u8, 0x1F, 0xA0, 0x84, 0xC4, 0xFF] {
            assert_eq!(Pcb::from_byte(b), None, "{b:02X} is reserved");
        }
    }

    #[test]
    fn a_known_frame_encodes_as_published() {
        // An IFS request for 254 bytes, as in ISO/IEC 7816-3 annex A examples: 00 C1 01 FE 3E.
        let mut out = [0; MAX_BLOCK];
        let n = Block::s(SKind::Ifs, false, &[0xFE])
            .encode(&mut out)
            .unwrap();
        assert_eq!(out[..n], [0x00, 0xC1, 0x01, 0xFE, 0x3E]);
        assert_eq!(LINE_RESET[3], lrc(&LINE_RESET[..3]));
    }

    fn any_pcb() -> impl Strategy<Value = Pcb> {
        (0u8..=255).prop_filter_map("reserved", Pcb::from_byte)
    }

    proptest! {
        #[test]
        fn blocks_round_trip(pcb in any_pcb(), nad in 0u8..0x80, inf in proptest::collection::vec(any::<u8>(), 0..=MAX_INF)) {
            let block = Block { nad, pcb, inf: &inf };
            let mut out = [0; MAX_BLOCK];
            let n = block.encode(&mut out).unwrap();
            prop_assert_eq!(Block::decode(&out[..n]).unwrap(), block);
            prop_assert_eq!(Pcb::from_byte(pcb.to_byte()), Some(pcb));
        }

        #[test]
        fn a_flipped_bit_is_always_detected(inf in proptest::collection::vec(any::<u8>(), 0..=MAX_INF), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let mut out = [0; MAX_BLOCK];
            let n = Block::i(false, false, &inf).encode(&mut out).unwrap();
            let at = at.index(n);
            out[at] ^= 1 << bit;
            let mut bytes = out[..n].iter().copied();
            let mut buf = [0; MAX_BLOCK];
            let r = receive_frame::<()>(&mut buf, true, |_| bytes.next().ok_or(LinkError::Timeout));
            match r {
                Ok(len) => prop_assert!(Block::decode(&buf[..len]).is_err()),
                Err(e) => prop_assert!(matches!(e, RxError::Invalid(_))),
            }
        }
    }
}
