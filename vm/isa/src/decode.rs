//! Splitting a method body into instructions with typed operands.
//!
//! The decoder reads the operand layout of each opcode from the table; switch tables stay
//! borrowed from the code and are read through iterators, so nothing is allocated. It
//! checks structure only (known opcode, complete operands, `low <= high`); what the operands
//! mean is the verifier's business.

use core::fmt;

use crate::table::{Implied, Opcode, OperandLayout, Words};

/// A decoded instruction, borrowing switch tables from the code it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction<'a> {
    /// Byte offset of the opcode in the method body (branch offsets are relative to it).
    pub offset: usize,
    /// The opcode.
    pub opcode: Opcode,
    /// The operands; their shape must match `opcode.layout()` (the encoder checks it).
    pub operands: Operands<'a>,
}

/// The operands of an instruction; one variant per [`OperandLayout`] (the two
/// constant-pool index widths share [`Operands::CpIndex`], the two branch widths share
/// [`Operands::Branch`], and so on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operands<'a> {
    /// No operands.
    None,
    /// A local variable index.
    Local(u8),
    /// A signed byte immediate (`bspush`, `bipush`).
    Byte(i8),
    /// A signed short immediate (`sspush`, `sipush`).
    Short(i16),
    /// A signed int immediate (`iipush`).
    Int(i32),
    /// A constant-pool index (1 or 2 bytes by the layout).
    CpIndex(u16),
    /// A branch offset relative to the opcode address (1 or 2 bytes by the layout).
    Branch(i16),
    /// `newarray`: the primitive array type code (10..13).
    ArrayType(u8),
    /// `checkcast`/`instanceof`: array type code (0, 10..14) and Classref index (0 when
    /// `atype` is 10..13).
    TypeCheck {
        /// Array type code.
        atype: u8,
        /// Constant-pool index of a Classref.
        index: u16,
    },
    /// `sinc`, `iinc` (delta fits `s1`) and `sinc_w`, `iinc_w` (`s2`).
    Increment {
        /// The local variable.
        local: u8,
        /// The constant added.
        delta: i16,
    },
    /// `invokeinterface`.
    Interface {
        /// Argument words including the object reference.
        nargs: u8,
        /// Constant-pool index of the interface Classref.
        index: u16,
        /// The interface method token.
        method: u8,
    },
    /// `dup_x`/`swap_x`: the `mn` byte split into its nibbles.
    Shuffle {
        /// High nibble: words copied (dup_x) or the upper group swapped (swap_x).
        m: u8,
        /// Low nibble: insertion depth (dup_x) or the lower group swapped (swap_x).
        n: u8,
    },
    /// `stableswitch`/`itableswitch`.
    TableSwitch(TableSwitch<'a>),
    /// `slookupswitch`/`ilookupswitch`.
    LookupSwitch(LookupSwitch<'a>),
}

/// The operands of a table switch; the jump offsets stay borrowed as big-endian bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSwitch<'a> {
    default: i16,
    low: i32,
    high: i32,
    offsets: &'a [u8],
}

/// The operands of a lookup switch; the pairs stay borrowed as big-endian bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupSwitch<'a> {
    default: i16,
    int_keys: bool,
    pairs: &'a [u8],
}

/// Why a method body could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The offset is at or past the end of the code.
    EndOfCode,
    /// The byte is not an assigned opcode (0xB9..=0xFD).
    UnknownOpcode(u8),
    /// The operands run past the end of the code.
    Truncated {
        /// The opcode whose operands are incomplete.
        opcode: Opcode,
        /// Bytes the instruction needs (opcode included), saturated at `usize::MAX`.
        needed: usize,
        /// Bytes left from the opcode to the end of the code.
        available: usize,
    },
    /// A table switch with `low > high`.
    SwitchBounds {
        /// The low key.
        low: i32,
        /// The high key.
        high: i32,
    },
}

/// A decoding failure and the offset of the instruction where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset of the opcode byte of the failing instruction.
    pub offset: usize,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DecodeErrorKind::EndOfCode => {
                write!(f, "no instruction at offset {}: end of code", self.offset)
            }
            DecodeErrorKind::UnknownOpcode(byte) => {
                write!(f, "unknown opcode 0x{byte:02X} at offset {}", self.offset)
            }
            DecodeErrorKind::Truncated {
                opcode,
                needed,
                available,
            } => write!(
                f,
                "truncated {opcode} at offset {}: needs {needed} bytes, {available} left",
                self.offset
            ),
            DecodeErrorKind::SwitchBounds { low, high } => write!(
                f,
                "bad table switch at offset {}: low {low} > high {high}",
                self.offset
            ),
        }
    }
}

/// A branch whose absolute target would be negative or overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTarget {
    /// Offset of the branching instruction.
    pub from: usize,
    /// The relative offset.
    pub relative: i16,
}

impl fmt::Display for InvalidTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "branch at offset {} by {} leaves the method",
            self.from, self.relative
        )
    }
}

/// Where the constant-pool index operand of an instruction sits in the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpIndexOperand {
    /// The constant-pool index.
    pub index: u16,
    /// Offset of the operand's first byte in the code (what ReferenceLocation lists).
    pub position: usize,
    /// Width in bytes: 1 or 2.
    pub width: u8,
}

/// Words an instruction pops and pushes, when the instruction alone determines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackWords {
    /// Words consumed.
    pub pop: u8,
    /// Words produced on this frame's stack.
    pub push: u8,
}

pub(crate) fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let hi = *bytes.get(at)?;
    let lo = *bytes.get(at.checked_add(1)?)?;
    Some(u16::from_be_bytes([hi, lo]))
}

pub(crate) fn be_i16(bytes: &[u8], at: usize) -> Option<i16> {
    be_u16(bytes, at).map(|v| v as i16)
}

pub(crate) fn be_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let hi = be_u16(bytes, at)?;
    let lo = be_u16(bytes, at.checked_add(2)?)?;
    Some(((u32::from(hi) << 16) | u32::from(lo)) as i32)
}

impl<'a> TableSwitch<'a> {
    /// Builds the operands from their parts; `offsets` holds the `s2` jump offsets as
    /// big-endian bytes, `high - low + 1` of them. `None` if `low > high` or the count does
    /// not match.
    pub fn new(default: i16, low: i32, high: i32, offsets: &'a [u8]) -> Option<Self> {
        let count = table_count(low, high)?;
        if offsets.len() != count.checked_mul(2)? {
            return None;
        }
        Some(TableSwitch {
            default,
            low,
            high,
            offsets,
        })
    }

    /// Offset taken when the key is outside `low..=high`.
    pub fn default(&self) -> i16 {
        self.default
    }

    /// The lowest key.
    pub fn low(&self) -> i32 {
        self.low
    }

    /// The highest key.
    pub fn high(&self) -> i32 {
        self.high
    }

    /// Number of table entries (`high - low + 1`).
    pub fn len(&self) -> usize {
        self.offsets.len() / 2
    }

    /// Always false: a table switch has at least one entry.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The jump offsets as big-endian bytes, as stored in the code.
    pub fn raw_offsets(&self) -> &'a [u8] {
        self.offsets
    }

    /// The jump offsets for the keys `low..=high`, in order.
    pub fn offsets(&self) -> impl Iterator<Item = i16> + 'a {
        self.offsets
            .chunks_exact(2)
            .filter_map(|pair| be_i16(pair, 0))
    }

    /// `(key, offset)` for every entry.
    pub fn entries(&self) -> impl Iterator<Item = (i32, i16)> + 'a {
        let low = self.low;
        self.offsets()
            .enumerate()
            .map(move |(i, offset)| (low.wrapping_add(i as i32), offset))
    }

    /// The jump offset the switch takes for `key`.
    pub fn lookup(&self, key: i32) -> i16 {
        if key < self.low || key > self.high {
            return self.default;
        }
        let index = (i64::from(key) - i64::from(self.low)) as usize;
        index
            .checked_mul(2)
            .and_then(|at| be_i16(self.offsets, at))
            .unwrap_or(self.default)
    }
}

impl<'a> LookupSwitch<'a> {
    /// Builds the operands from their parts; `pairs` holds `{match, offset}` pairs as
    /// big-endian bytes (match `s4` when `int_keys`, else `s2`; offset `s2`). `None` if the
    /// bytes are not a whole number of pairs or there are more than 65535 pairs.
    pub fn new(default: i16, int_keys: bool, pairs: &'a [u8]) -> Option<Self> {
        let pair_len = if int_keys { 6 } else { 4 };
        if !pairs.chunks_exact(pair_len).remainder().is_empty()
            || pairs.len() / pair_len > usize::from(u16::MAX)
        {
            return None;
        }
        Some(LookupSwitch {
            default,
            int_keys,
            pairs,
        })
    }

    /// Offset taken when no key matches.
    pub fn default(&self) -> i16 {
        self.default
    }

    /// True for `ilookupswitch` (4-byte keys).
    pub fn int_keys(&self) -> bool {
        self.int_keys
    }

    fn pair_len(&self) -> usize {
        if self.int_keys {
            6
        } else {
            4
        }
    }

    /// Number of pairs.
    pub fn npairs(&self) -> u16 {
        (self.pairs.len() / self.pair_len()) as u16
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs as big-endian bytes, as stored in the code.
    pub fn raw_pairs(&self) -> &'a [u8] {
        self.pairs
    }

    /// `(match, offset)` for every pair, in code order.
    pub fn pairs(&self) -> impl Iterator<Item = (i32, i16)> + 'a {
        let int_keys = self.int_keys;
        self.pairs
            .chunks_exact(self.pair_len())
            .filter_map(move |pair| {
                if int_keys {
                    Some((be_i32(pair, 0)?, be_i16(pair, 4)?))
                } else {
                    Some((i32::from(be_i16(pair, 0)?), be_i16(pair, 2)?))
                }
            })
    }

    /// True when the matches are strictly ascending, as the format requires.
    pub fn is_sorted(&self) -> bool {
        let mut previous: Option<i32> = None;
        for (key, _) in self.pairs() {
            if previous.is_some_and(|p| p >= key) {
                return false;
            }
            previous = Some(key);
        }
        true
    }

    /// The jump offset the switch takes for `key` (first matching pair, else default).
    pub fn lookup(&self, key: i32) -> i16 {
        self.pairs()
            .find(|&(k, _)| k == key)
            .map_or(self.default, |(_, offset)| offset)
    }
}

fn table_count(low: i32, high: i32) -> Option<usize> {
    if low > high {
        return None;
    }
    usize::try_from(i64::from(high) - i64::from(low) + 1).ok()
}

/// Decodes the instruction whose opcode is at `pc`.
pub fn decode(code: &[u8], pc: usize) -> Result<Instruction<'_>, DecodeError> {
    let error = |kind| DecodeError { offset: pc, kind };
    let rest = code.get(pc..).filter(|r| !r.is_empty());
    let rest = rest.ok_or(error(DecodeErrorKind::EndOfCode))?;
    let byte = rest.first().copied().unwrap_or_default();
    let opcode = Opcode::from_u8(byte).ok_or(error(DecodeErrorKind::UnknownOpcode(byte)))?;
    let layout = opcode.layout();
    let truncated = |needed: usize| {
        error(DecodeErrorKind::Truncated {
            opcode,
            needed,
            available: rest.len(),
        })
    };
    let header = layout.header_len();
    if rest.len() < header {
        return Err(truncated(header));
    }
    // From here on the fixed fields are present; the reads below cannot fail.
    let u1 = |at: usize| rest.get(at).copied().unwrap_or_default();
    let s2 = |at: usize| be_i16(rest, at).unwrap_or_default();
    let u2 = |at: usize| be_u16(rest, at).unwrap_or_default();
    let s4 = |at: usize| be_i32(rest, at).unwrap_or_default();
    let operands = match layout {
        OperandLayout::None => Operands::None,
        OperandLayout::Local => Operands::Local(u1(1)),
        OperandLayout::Byte => Operands::Byte(u1(1) as i8),
        OperandLayout::Short => Operands::Short(s2(1)),
        OperandLayout::Int => Operands::Int(s4(1)),
        OperandLayout::CpIndex1 => Operands::CpIndex(u16::from(u1(1))),
        OperandLayout::CpIndex2 => Operands::CpIndex(u2(1)),
        OperandLayout::Branch1 => Operands::Branch(i16::from(u1(1) as i8)),
        OperandLayout::Branch2 => Operands::Branch(s2(1)),
        OperandLayout::ArrayType => Operands::ArrayType(u1(1)),
        OperandLayout::TypeCheck => Operands::TypeCheck {
            atype: u1(1),
            index: u2(2),
        },
        OperandLayout::Increment1 => Operands::Increment {
            local: u1(1),
            delta: i16::from(u1(2) as i8),
        },
        OperandLayout::Increment2 => Operands::Increment {
            local: u1(1),
            delta: s2(2),
        },
        OperandLayout::Interface => Operands::Interface {
            nargs: u1(1),
            index: u2(2),
            method: u1(4),
        },
        OperandLayout::DupX | OperandLayout::SwapX => Operands::Shuffle {
            m: u1(1) >> 4,
            n: u1(1) & 0x0F,
        },
        OperandLayout::TableSwitchShort | OperandLayout::TableSwitchInt => {
            let (low, high) = if layout == OperandLayout::TableSwitchShort {
                (i32::from(s2(3)), i32::from(s2(5)))
            } else {
                (s4(3), s4(7))
            };
            let count =
                table_count(low, high).ok_or(error(DecodeErrorKind::SwitchBounds { low, high }))?;
            let table =
                switch_table(rest, header, count, layout.switch_entry_len()).map_err(truncated)?;
            Operands::TableSwitch(TableSwitch {
                default: s2(1),
                low,
                high,
                offsets: table,
            })
        }
        OperandLayout::LookupSwitchShort | OperandLayout::LookupSwitchInt => {
            let count = usize::from(u2(3));
            let table =
                switch_table(rest, header, count, layout.switch_entry_len()).map_err(truncated)?;
            Operands::LookupSwitch(LookupSwitch {
                default: s2(1),
                int_keys: layout == OperandLayout::LookupSwitchInt,
                pairs: table,
            })
        }
    };
    Ok(Instruction {
        offset: pc,
        opcode,
        operands,
    })
}

/// The `count * entry_len` bytes after the switch header, or the length needed.
fn switch_table(
    rest: &[u8],
    header: usize,
    count: usize,
    entry_len: usize,
) -> Result<&[u8], usize> {
    let needed = count
        .checked_mul(entry_len)
        .and_then(|table| table.checked_add(header))
        .ok_or(usize::MAX)?;
    rest.get(header..needed).ok_or(needed)
}

/// Iterates over the instructions of a method body from offset 0; yields the first
/// decoding error and then stops.
pub fn instructions(code: &[u8]) -> Instructions<'_> {
    Instructions {
        code,
        pc: 0,
        failed: false,
    }
}

/// Iterator returned by [`instructions`].
#[derive(Clone, Debug)]
pub struct Instructions<'a> {
    code: &'a [u8],
    pc: usize,
    failed: bool,
}

impl<'a> Instructions<'a> {
    /// Offset of the next instruction to decode.
    pub fn offset(&self) -> usize {
        self.pc
    }
}

impl<'a> Iterator for Instructions<'a> {
    type Item = Result<Instruction<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pc >= self.code.len() {
            return None;
        }
        match decode(self.code, self.pc) {
            Ok(instruction) => {
                self.pc = self.pc.saturating_add(instruction.len());
                Some(Ok(instruction))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

impl core::iter::FusedIterator for Instructions<'_> {}

impl<'a> Instruction<'a> {
    /// An instruction at offset 0 (for building code; set `offset` for branch targets).
    pub fn new(opcode: Opcode, operands: Operands<'a>) -> Self {
        Instruction {
            offset: 0,
            opcode,
            operands,
        }
    }

    /// The table row of the opcode.
    pub fn info(&self) -> &'static crate::OpcodeInfo {
        self.opcode.info()
    }

    /// Length in bytes including the opcode (switch tables included).
    pub fn len(&self) -> usize {
        let header = self.opcode.layout().header_len();
        let table = match self.operands {
            Operands::TableSwitch(table) => table.offsets.len(),
            Operands::LookupSwitch(lookup) => lookup.pairs.len(),
            _ => 0,
        };
        header.saturating_add(table)
    }

    /// Always false: an instruction has at least its opcode byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Offset of the instruction that follows in the code.
    pub fn next_offset(&self) -> usize {
        self.offset.saturating_add(self.len())
    }

    /// True when control never continues with the next instruction.
    pub fn is_terminal(&self) -> bool {
        self.opcode.has(crate::Flags::TERMINAL)
    }

    /// The constant-pool index operand and where it sits in the code; `None` when the
    /// instruction has none, or for `checkcast`/`instanceof` with `atype` 10..13 (index 0,
    /// not a reference).
    pub fn cp_index(&self) -> Option<CpIndexOperand> {
        let (relative, width) = self.opcode.layout().cp_index_position()?;
        let index = match self.operands {
            Operands::CpIndex(index) | Operands::Interface { index, .. } => index,
            Operands::TypeCheck { atype, index } if !(10..=13).contains(&atype) => index,
            _ => return None,
        };
        Some(CpIndexOperand {
            index,
            position: self.offset.checked_add(relative)?,
            width,
        })
    }

    /// The local variable read or written: the operand, or the one the opcode implies
    /// (`aload_1` → 1, `getfield_s_this` → 0).
    pub fn local_index(&self) -> Option<u8> {
        match (self.operands, self.info().implied) {
            (Operands::Local(local) | Operands::Increment { local, .. }, _) => Some(local),
            (_, Implied::Local(local)) => Some(local),
            _ => None,
        }
    }

    /// The constant pushed by a constant instruction (`sconst_2` → 2, `sspush 1000` →
    /// 1000); `None` for others (including `aconst_null`).
    pub fn constant(&self) -> Option<i32> {
        match (self.operands, self.info().implied) {
            (Operands::Byte(v), _) => Some(i32::from(v)),
            (Operands::Short(v), _) => Some(i32::from(v)),
            (Operands::Int(v), _) => Some(v),
            (_, Implied::Const(v)) => Some(i32::from(v)),
            _ => None,
        }
    }

    /// The relative branch offsets: the single offset of a branch, or the default then the
    /// table entries of a switch.
    pub fn branch_offsets(&self) -> BranchOffsets<'a> {
        let (first, table, stride, skip) = match self.operands {
            Operands::Branch(offset) => (Some(offset), &[][..], 2, 0),
            Operands::TableSwitch(table) => (Some(table.default), table.offsets, 2, 0),
            Operands::LookupSwitch(lookup) => (
                Some(lookup.default),
                lookup.pairs,
                lookup.pair_len(),
                lookup.pair_len() - 2,
            ),
            _ => (None, &[][..], 2, 0),
        };
        BranchOffsets {
            first,
            table,
            stride,
            skip,
        }
    }

    /// The absolute branch targets (same order as [`Instruction::branch_offsets`]); an item
    /// is an error when the target would be negative. Whether it lies inside the method is
    /// for the caller to check.
    pub fn branch_targets(&self) -> impl Iterator<Item = Result<usize, InvalidTarget>> + 'a {
        let from = self.offset;
        self.branch_offsets()
            .map(move |relative| absolute_target(from, relative))
    }

    /// The absolute target of a (non-switch) branch or `jsr`.
    pub fn branch_target(&self) -> Option<Result<usize, InvalidTarget>> {
        match self.operands {
            Operands::Branch(relative) => Some(absolute_target(self.offset, relative)),
            _ => None,
        }
    }

    /// Stack words popped and pushed, when the instruction alone determines them; `None`
    /// for invokes (they need the method signature), reserved opcodes and malformed
    /// `dup_x`/`swap_x` operands. Returns push nothing on their own frame.
    pub fn stack_words(&self) -> Option<StackWords> {
        let effect = self.info().stack;
        match (effect.pop, effect.push, self.operands) {
            (Words::Fixed(pop), Words::Fixed(push), _) => Some(StackWords { pop, push }),
            (Words::Fixed(pop), Words::FrameEnd, _) => Some(StackWords { pop, push: 0 }),
            (Words::Shuffle, Words::Shuffle, Operands::Shuffle { m, n }) => {
                shuffle_words(self.opcode, m, n)
            }
            _ => None,
        }
    }
}

/// dup_x: m in 1..=4, n = 0 or m..=m+4; swap_x: m, n in 1..=2.
fn shuffle_words(opcode: Opcode, m: u8, n: u8) -> Option<StackWords> {
    if opcode == Opcode::DupX {
        if !(1..=4).contains(&m) {
            return None;
        }
        if n == 0 {
            Some(StackWords {
                pop: m,
                push: 2 * m,
            })
        } else if (m..=m + 4).contains(&n) {
            Some(StackWords {
                pop: n,
                push: n + m,
            })
        } else {
            None
        }
    } else if (1..=2).contains(&m) && (1..=2).contains(&n) {
        Some(StackWords {
            pop: m + n,
            push: m + n,
        })
    } else {
        None
    }
}

/// `from + relative`, or the error when that leaves `0..=usize::MAX`.
pub(crate) fn absolute_target(from: usize, relative: i16) -> Result<usize, InvalidTarget> {
    let target = if relative < 0 {
        from.checked_sub(usize::from(relative.unsigned_abs()))
    } else {
        from.checked_add(relative as usize)
    };
    target.ok_or(InvalidTarget { from, relative })
}

/// Iterator over the relative branch offsets of one instruction.
#[derive(Clone, Debug)]
pub struct BranchOffsets<'a> {
    first: Option<i16>,
    table: &'a [u8],
    stride: usize,
    skip: usize,
}

impl Iterator for BranchOffsets<'_> {
    type Item = i16;

    fn next(&mut self) -> Option<i16> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        let offset = be_i16(self.table, self.skip)?;
        self.table = self.table.get(self.stride..).unwrap_or_default();
        Some(offset)
    }
}
