//! Disassembly text in the style of the Oracle converter's `.jca` listings.
//!
//! The mnemonic comes first, then the operands in code order, in decimal: `sspush 1000`,
//! `getfield_s_this 3`, `checkcast 11 0`, `invokeinterface 1 115 0`, `dup_x 18`,
//! `stableswitch L8 1 3 L5 L6 L7`, `slookupswitch L8 7 -32768 L1 ...`. Branch targets are
//! written by a caller-supplied function (the `.jca` numbers its labels per method); the
//! plain `Display` writes absolute offsets as `L0x0012`.

use core::fmt;

use crate::decode::{absolute_target, Instruction, InvalidTarget, Operands};

/// The target of a branch as handed to a label writer: the absolute offset, or the
/// reason it has none.
pub type BranchTarget = Result<usize, InvalidTarget>;

/// Writes a branch target as `L0x0012` (absolute offset in hex); an invalid target as
/// `L?` followed by the signed relative offset.
pub fn write_absolute_label(f: &mut fmt::Formatter<'_>, target: BranchTarget) -> fmt::Result {
    match target {
        Ok(offset) => write!(f, "L0x{offset:04X}"),
        Err(invalid) => write!(f, "L?{:+}", invalid.relative),
    }
}

/// An instruction with a label writer; see [`Instruction::display_with`].
pub struct Disassembly<'i, 'a, F> {
    instruction: &'i Instruction<'a>,
    label: F,
}

impl<'a> Instruction<'a> {
    /// Disassembly text that writes branch targets with `label` (for example to print the
    /// `.jca` label numbers).
    pub fn display_with<F>(&self, label: F) -> Disassembly<'_, 'a, F>
    where
        F: Fn(&mut fmt::Formatter<'_>, BranchTarget) -> fmt::Result,
    {
        Disassembly {
            instruction: self,
            label,
        }
    }
}

impl<F> fmt::Display for Disassembly<'_, '_, F>
where
    F: Fn(&mut fmt::Formatter<'_>, BranchTarget) -> fmt::Result,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instruction = self.instruction;
        let from = instruction.offset;
        let label = |f: &mut fmt::Formatter<'_>, relative: i16| {
            f.write_str(" ")?;
            (self.label)(f, absolute_target(from, relative))
        };
        f.write_str(instruction.opcode.mnemonic())?;
        match instruction.operands {
            Operands::None => Ok(()),
            Operands::Local(v) | Operands::ArrayType(v) => write!(f, " {v}"),
            Operands::Byte(v) => write!(f, " {v}"),
            Operands::Short(v) => write!(f, " {v}"),
            Operands::Int(v) => write!(f, " {v}"),
            Operands::CpIndex(v) => write!(f, " {v}"),
            Operands::Branch(relative) => label(f, relative),
            Operands::TypeCheck { atype, index } => write!(f, " {atype} {index}"),
            Operands::Increment { local, delta } => write!(f, " {local} {delta}"),
            Operands::Interface {
                nargs,
                index,
                method,
            } => write!(f, " {nargs} {index} {method}"),
            Operands::Shuffle { m, n } => write!(f, " {}", (u16::from(m) << 4) | u16::from(n)),
            Operands::TableSwitch(table) => {
                label(f, table.default())?;
                write!(f, " {} {}", table.low(), table.high())?;
                for offset in table.offsets() {
                    label(f, offset)?;
                }
                Ok(())
            }
            Operands::LookupSwitch(lookup) => {
                label(f, lookup.default())?;
                write!(f, " {}", lookup.npairs())?;
                for (key, offset) in lookup.pairs() {
                    write!(f, " {key}")?;
                    label(f, offset)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Instruction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_with(write_absolute_label).fmt(f)
    }
}

/// Writes a listing of a method body, one instruction per line as `offset: text`, and
/// stops with the decoding error text if the body is malformed.
pub fn write_listing(code: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    for instruction in crate::instructions(code) {
        match instruction {
            Ok(instruction) => writeln!(out, "{:5}: {instruction}", instruction.offset)?,
            Err(error) => writeln!(out, "error: {error}")?,
        }
    }
    Ok(())
}
