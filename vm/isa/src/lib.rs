//! oxicard-isa: the Java Card virtual machine instruction set, defined once.
//!
//! Every fact about a JCVM bytecode lives in one row of the opcode table (see the
//! `table` module source): value, mnemonic, operand layout, stack effect, handler group,
//! implied operand, wide form and flags. Everything else in this crate is derived from it:
//!
//! - [`Opcode`] with [`Opcode::from_u8`], [`Opcode::from_mnemonic`], [`Opcode::info`] and
//!   [`Opcode::ALL`];
//! - the decoder [`decode`] / [`instructions`], which splits a method body into
//!   [`Instruction`]s with typed [`Operands`] (switch tables are borrowed, not copied);
//! - the encoder [`Instruction::encode`] (and [`write_table_switch`] /
//!   [`write_lookup_switch`] for converters), which reproduces the input byte for byte;
//! - disassembly text in the style of the Oracle `.jca` listings (`Display` for
//!   [`Instruction`], [`Instruction::display_with`] for custom labels, [`write_listing`]);
//! - the documentation table [`write_markdown_table`].
//!
//! The crate is `no_std`, allocates nothing and never panics on any input.
//!
//! ```
//! use oxicard_isa::{instructions, Opcode};
//!
//! // sload_1; bspush 10; if_scmpge +5; sconst_1; sreturn; sconst_0; sreturn
//! let code = [0x1D, 0x10, 0x0A, 0x6D, 0x05, 0x04, 0x78, 0x03, 0x78];
//! let text: Vec<String> = instructions(&code)
//!     .map(|i| i.unwrap().to_string())
//!     .collect();
//! assert_eq!(text[2], "if_scmpge L0x0008");
//! assert_eq!(Opcode::from_mnemonic("sreturn"), Some(Opcode::Sreturn));
//! ```
#![no_std]

mod decode;
mod display;
mod encode;
mod table;

pub use decode::{
    decode, instructions, BranchOffsets, CpIndexOperand, DecodeError, DecodeErrorKind, Instruction,
    Instructions, InvalidTarget, LookupSwitch, Operands, StackWords, TableSwitch,
};
pub use display::{write_absolute_label, write_listing, BranchTarget, Disassembly};
pub use encode::{write_lookup_switch, write_table_switch, EncodeError};
pub use table::{
    Encoding, Flags, Group, Implied, Opcode, OpcodeInfo, OperandField, OperandLayout, StackEffect,
    Words,
};

use core::fmt;

/// Writes the opcode table as a Markdown table (value, mnemonic, length, operands, pop,
/// push, group, flags), for documentation.
pub fn write_markdown_table(out: &mut impl fmt::Write) -> fmt::Result {
    writeln!(
        out,
        "| Hex | Mnemonic | Len | Operands | Pop | Push | Group | Flags |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for info in Opcode::table() {
        write!(out, "| 0x{:02X} | {} | ", info.value(), info.mnemonic())?;
        match info.fixed_len() {
            Some(len) => write!(out, "{len}")?,
            None => out.write_str("var")?,
        }
        out.write_str(" | ")?;
        let fields = info.layout.fields();
        if fields.is_empty() {
            out.write_str("—")?;
        }
        for (i, field) in fields.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(out, "{separator}{} {}", field.name, field.encoding.name())?;
        }
        if info.layout.is_switch() {
            out.write_str(", table…")?;
        }
        writeln!(
            out,
            " | {} | {} | {:?} | {:?} |",
            WordsText(info.stack.pop),
            WordsText(info.stack.push),
            info.group,
            info.flags
        )?;
    }
    Ok(())
}

/// The spec's notation for a stack-effect column.
struct WordsText(Words);

impl fmt::Display for WordsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Words::Fixed(n) => write!(f, "{n}"),
            Words::ReceiverAndArgs => f.write_str("1+argwords"),
            Words::Args => f.write_str("argwords"),
            Words::InterfaceNargs => f.write_str("nargs"),
            Words::ReturnValue => f.write_str("ret words"),
            Words::Shuffle => f.write_str("by mn"),
            Words::FrameEnd => f.write_str("-"),
            Words::Unspecified => f.write_str("–"),
        }
    }
}
