//! Writing instructions back to bytes: the inverse of the decoder, byte for byte.
//!
//! [`Instruction::encode`] writes any instruction whose operands match its opcode's
//! layout. A converter that has its switch tables as numbers rather than bytes uses
//! [`write_table_switch`] and [`write_lookup_switch`].

use core::fmt;

use crate::decode::{Instruction, Operands};
use crate::table::{Opcode, OperandLayout};

/// Why an instruction could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes the instruction needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The operands' shape does not match the opcode's layout.
    OperandMismatch {
        /// The opcode.
        opcode: Opcode,
    },
    /// An operand does not fit its field (e.g. a branch offset of 200 for a 1-byte branch,
    /// a CP index of 300 for `getfield_a`, a nibble above 15).
    OperandOutOfRange {
        /// The opcode.
        opcode: Opcode,
        /// Name of the field, as in the layout.
        field: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed, available } => {
                write!(f, "buffer too small: need {needed} bytes, have {available}")
            }
            EncodeError::OperandMismatch { opcode } => {
                write!(f, "operands do not match the layout of {opcode}")
            }
            EncodeError::OperandOutOfRange { opcode, field } => {
                write!(f, "operand {field} of {opcode} out of range")
            }
        }
    }
}

/// A cursor over the output buffer; every write is bounds-checked.
struct Writer<'o> {
    out: &'o mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, bytes: &[u8]) {
        let end = self.at.saturating_add(bytes.len());
        if let Some(slot) = self.out.get_mut(self.at..end) {
            slot.copy_from_slice(bytes);
        }
        self.at = end;
    }
}

fn narrow_i8(opcode: Opcode, field: &'static str, value: i16) -> Result<u8, EncodeError> {
    i8::try_from(value)
        .map(|v| v as u8)
        .map_err(|_| EncodeError::OperandOutOfRange { opcode, field })
}

fn narrow_u8(opcode: Opcode, field: &'static str, value: u16) -> Result<u8, EncodeError> {
    u8::try_from(value).map_err(|_| EncodeError::OperandOutOfRange { opcode, field })
}

fn narrow_i16(opcode: Opcode, field: &'static str, value: i32) -> Result<[u8; 2], EncodeError> {
    i16::try_from(value)
        .map(i16::to_be_bytes)
        .map_err(|_| EncodeError::OperandOutOfRange { opcode, field })
}

fn ensure_room(out: &[u8], needed: usize) -> Result<(), EncodeError> {
    if out.len() < needed {
        Err(EncodeError::BufferTooSmall {
            needed,
            available: out.len(),
        })
    } else {
        Ok(())
    }
}

impl Instruction<'_> {
    /// Writes the instruction to the start of `out` and returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let opcode = self.opcode;
        let mismatch = EncodeError::OperandMismatch { opcode };
        let needed = self.len();
        ensure_room(out, needed)?;
        let mut w = Writer { out, at: 0 };
        w.bytes(&[opcode.value()]);
        match (opcode.layout(), self.operands) {
            (OperandLayout::None, Operands::None) => {}
            (OperandLayout::Local, Operands::Local(v))
            | (OperandLayout::ArrayType, Operands::ArrayType(v)) => {
                w.bytes(&[v]);
            }
            (OperandLayout::Byte, Operands::Byte(v)) => w.bytes(&v.to_be_bytes()),
            (OperandLayout::Short, Operands::Short(v)) => w.bytes(&v.to_be_bytes()),
            (OperandLayout::Int, Operands::Int(v)) => w.bytes(&v.to_be_bytes()),
            (OperandLayout::CpIndex1, Operands::CpIndex(v)) => {
                w.bytes(&[narrow_u8(opcode, "index", v)?]);
            }
            (OperandLayout::CpIndex2, Operands::CpIndex(v)) => w.bytes(&v.to_be_bytes()),
            (OperandLayout::Branch1, Operands::Branch(v)) => {
                w.bytes(&[narrow_i8(opcode, "branch", v)?]);
            }
            (OperandLayout::Branch2, Operands::Branch(v)) => w.bytes(&v.to_be_bytes()),
            (OperandLayout::TypeCheck, Operands::TypeCheck { atype, index }) => {
                w.bytes(&[atype]);
                w.bytes(&index.to_be_bytes());
            }
            (OperandLayout::Increment1, Operands::Increment { local, delta }) => {
                w.bytes(&[local, narrow_i8(opcode, "const", delta)?]);
            }
            (OperandLayout::Increment2, Operands::Increment { local, delta }) => {
                w.bytes(&[local]);
                w.bytes(&delta.to_be_bytes());
            }
            (
                OperandLayout::Interface,
                Operands::Interface {
                    nargs,
                    index,
                    method,
                },
            ) => {
                w.bytes(&[nargs]);
                w.bytes(&index.to_be_bytes());
                w.bytes(&[method]);
            }
            (OperandLayout::DupX | OperandLayout::SwapX, Operands::Shuffle { m, n }) => {
                if m > 0x0F || n > 0x0F {
                    return Err(EncodeError::OperandOutOfRange {
                        opcode,
                        field: "mn",
                    });
                }
                w.bytes(&[(m << 4) | n]);
            }
            (OperandLayout::TableSwitchShort, Operands::TableSwitch(table)) => {
                w.bytes(&table.default().to_be_bytes());
                w.bytes(&narrow_i16(opcode, "low", table.low())?);
                w.bytes(&narrow_i16(opcode, "high", table.high())?);
                w.bytes(table.raw_offsets());
            }
            (OperandLayout::TableSwitchInt, Operands::TableSwitch(table)) => {
                w.bytes(&table.default().to_be_bytes());
                w.bytes(&table.low().to_be_bytes());
                w.bytes(&table.high().to_be_bytes());
                w.bytes(table.raw_offsets());
            }
            (
                layout @ (OperandLayout::LookupSwitchShort | OperandLayout::LookupSwitchInt),
                Operands::LookupSwitch(lookup),
            ) => {
                if lookup.int_keys() != (layout == OperandLayout::LookupSwitchInt) {
                    return Err(mismatch);
                }
                w.bytes(&lookup.default().to_be_bytes());
                w.bytes(&lookup.npairs().to_be_bytes());
                w.bytes(lookup.raw_pairs());
            }
            _ => return Err(mismatch),
        }
        Ok(w.at)
    }
}

/// Writes a `stableswitch` (`int_keys` false) or `itableswitch` (true) whose table covers
/// the keys `low..low + offsets.len()`; returns the length written.
pub fn write_table_switch(
    out: &mut [u8],
    int_keys: bool,
    default: i16,
    low: i32,
    offsets: &[i16],
) -> Result<usize, EncodeError> {
    let opcode = if int_keys {
        Opcode::Itableswitch
    } else {
        Opcode::Stableswitch
    };
    let out_of_range = |field| EncodeError::OperandOutOfRange { opcode, field };
    let count = i32::try_from(offsets.len()).map_err(|_| out_of_range("high"))?;
    let high = count
        .checked_sub(1)
        .and_then(|last| low.checked_add(last))
        .ok_or(out_of_range("high"))?;
    let needed = opcode
        .layout()
        .header_len()
        .saturating_add(offsets.len().saturating_mul(2));
    ensure_room(out, needed)?;
    let mut w = Writer { out, at: 0 };
    w.bytes(&[opcode.value()]);
    w.bytes(&default.to_be_bytes());
    if int_keys {
        w.bytes(&low.to_be_bytes());
        w.bytes(&high.to_be_bytes());
    } else {
        w.bytes(&narrow_i16(opcode, "low", low)?);
        w.bytes(&narrow_i16(opcode, "high", high)?);
    }
    for offset in offsets {
        w.bytes(&offset.to_be_bytes());
    }
    Ok(w.at)
}

/// Writes an `slookupswitch` (`int_keys` false) or `ilookupswitch` (true) with the given
/// `(match, offset)` pairs, in the order given (the format wants them sorted by match);
/// returns the length written.
pub fn write_lookup_switch(
    out: &mut [u8],
    int_keys: bool,
    default: i16,
    pairs: &[(i32, i16)],
) -> Result<usize, EncodeError> {
    let opcode = if int_keys {
        Opcode::Ilookupswitch
    } else {
        Opcode::Slookupswitch
    };
    let npairs = u16::try_from(pairs.len()).map_err(|_| EncodeError::OperandOutOfRange {
        opcode,
        field: "npairs",
    })?;
    let layout = opcode.layout();
    let needed = layout
        .header_len()
        .saturating_add(layout.switch_entry_len().saturating_mul(pairs.len()));
    ensure_room(out, needed)?;
    let mut w = Writer { out, at: 0 };
    w.bytes(&[opcode.value()]);
    w.bytes(&default.to_be_bytes());
    w.bytes(&npairs.to_be_bytes());
    for &(key, offset) in pairs {
        if int_keys {
            w.bytes(&key.to_be_bytes());
        } else {
            w.bytes(&narrow_i16(opcode, "match", key)?);
        }
        w.bytes(&offset.to_be_bytes());
    }
    Ok(w.at)
}
