//! Property tests: every well-formed instruction survives encode → decode unchanged, and
//! arbitrary bytes never make the decoder, encoder or disassembler panic; whatever decodes
//! re-encodes to the very bytes it came from.

use oxicard_isa::{
    decode, instructions, write_lookup_switch, write_table_switch, EncodeError, Instruction,
    LookupSwitch, Opcode, OperandLayout, Operands, TableSwitch,
};
use proptest::prelude::*;

/// Raw material for one instruction; [`build`] shapes it to the opcode's layout.
#[derive(Clone, Debug)]
struct Material {
    opcode: Opcode,
    byte: u8,
    short: i16,
    int: i32,
    index: u16,
    offsets: Vec<i16>,
    keys: Vec<i32>,
}

fn material() -> impl Strategy<Value = Material> {
    (
        prop::sample::select(Opcode::ALL.to_vec()),
        any::<u8>(),
        any::<i16>(),
        any::<i32>(),
        any::<u16>(),
        prop::collection::vec(any::<i16>(), 1..40),
        prop::collection::btree_set(any::<i32>(), 0..40),
    )
        .prop_map(
            |(opcode, byte, short, int, index, offsets, keys)| Material {
                opcode,
                byte,
                short,
                int,
                index,
                offsets,
                keys: keys.into_iter().collect(),
            },
        )
}

/// Encodes the material as a valid instruction of its opcode (switch tables go through
/// the numeric writers), returning the bytes.
fn build(m: &Material) -> Vec<u8> {
    let mut out = vec![0u8; 1024];
    let layout = m.opcode.layout();
    let operands = match layout {
        OperandLayout::None => Operands::None,
        OperandLayout::Local => Operands::Local(m.byte),
        OperandLayout::Byte => Operands::Byte(m.byte as i8),
        OperandLayout::Short => Operands::Short(m.short),
        OperandLayout::Int => Operands::Int(m.int),
        OperandLayout::CpIndex1 => Operands::CpIndex(u16::from(m.byte)),
        OperandLayout::CpIndex2 => Operands::CpIndex(m.index),
        OperandLayout::Branch1 => Operands::Branch(i16::from(m.byte as i8)),
        OperandLayout::Branch2 => Operands::Branch(m.short),
        OperandLayout::ArrayType => Operands::ArrayType(m.byte),
        OperandLayout::TypeCheck => Operands::TypeCheck {
            atype: m.byte,
            index: m.index,
        },
        OperandLayout::Increment1 => Operands::Increment {
            local: m.byte,
            delta: i16::from(m.short as i8),
        },
        OperandLayout::Increment2 => Operands::Increment {
            local: m.byte,
            delta: m.short,
        },
        OperandLayout::Interface => Operands::Interface {
            nargs: m.byte,
            index: m.index,
            method: m.short as u8,
        },
        OperandLayout::DupX | OperandLayout::SwapX => Operands::Shuffle {
            m: m.byte >> 4,
            n: m.byte & 0xF,
        },
        OperandLayout::TableSwitchShort | OperandLayout::TableSwitchInt => {
            let int_keys = layout == OperandLayout::TableSwitchInt;
            let span = m.offsets.len() as i32 - 1;
            let low = if int_keys {
                m.int.min(i32::MAX - span)
            } else {
                i32::from(m.short).min(i32::from(i16::MAX) - span)
            };
            let n = write_table_switch(&mut out, int_keys, m.short, low, &m.offsets)
                .expect("table switch");
            out.truncate(n);
            return out;
        }
        OperandLayout::LookupSwitchShort | OperandLayout::LookupSwitchInt => {
            let int_keys = layout == OperandLayout::LookupSwitchInt;
            let mut keys: Vec<i32> = if int_keys {
                m.keys.clone()
            } else {
                m.keys.iter().map(|&k| i32::from(k as i16)).collect()
            };
            keys.sort_unstable();
            keys.dedup();
            let pairs: Vec<(i32, i16)> = keys
                .iter()
                .copied()
                .zip(m.offsets.iter().copied().cycle())
                .collect();
            let n =
                write_lookup_switch(&mut out, int_keys, m.short, &pairs).expect("lookup switch");
            out.truncate(n);
            return out;
        }
    };
    let instruction = Instruction::new(m.opcode, operands);
    let n = instruction.encode(&mut out).expect("encode");
    assert_eq!(n, instruction.len());
    out.truncate(n);
    out
}

proptest! {
    #[test]
    fn valid_instructions_round_trip(m in material(), prefix in 0usize..8) {
        let bytes = build(&m);
        // Placed after some nops, the instruction decodes at its offset with all of its
        // bytes, and re-encodes identically.
        let mut code = vec![0u8; prefix];
        code.extend_from_slice(&bytes);
        let instruction = decode(&code, prefix).expect("decode");
        prop_assert_eq!(instruction.opcode, m.opcode);
        prop_assert_eq!(instruction.offset, prefix);
        prop_assert_eq!(instruction.len(), bytes.len());
        let mut again = vec![0u8; bytes.len()];
        prop_assert_eq!(instruction.encode(&mut again), Ok(bytes.len()));
        prop_assert_eq!(&again, &bytes);
        // Rebuilding from the decoded operands gives an equal instruction.
        let rebuilt = Instruction { offset: prefix, ..Instruction::new(instruction.opcode, instruction.operands) };
        prop_assert_eq!(rebuilt, instruction);
        // A buffer one byte short is refused, not overrun.
        let mut short = vec![0u8; bytes.len() - 1];
        let refused = matches!(instruction.encode(&mut short), Err(EncodeError::BufferTooSmall { .. }));
        prop_assert!(refused);
        // The switch contents read back as written.
        match instruction.operands {
            Operands::TableSwitch(table) => {
                prop_assert_eq!(table.offsets().collect::<Vec<_>>(), m.offsets.clone());
                prop_assert_eq!(table.default(), m.short);
            }
            Operands::LookupSwitch(lookup) => {
                prop_assert!(lookup.is_sorted());
                prop_assert_eq!(lookup.default(), m.short);
            }
            _ => {}
        }
        prop_assert!(instruction.to_string().starts_with(m.opcode.mnemonic()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(code in prop::collection::vec(any::<u8>(), 0..200), pc in 0usize..220) {
        let _ = decode(&code, pc);
        let mut end = 0;
        for instruction in instructions(&code) {
            let Ok(instruction) = instruction else { break };
            prop_assert_eq!(instruction.offset, end);
            let len = instruction.len();
            let original = &code[end..end + len];
            let mut out = vec![0u8; len];
            prop_assert_eq!(instruction.encode(&mut out), Ok(len));
            prop_assert_eq!(&out[..], original);
            let _ = instruction.to_string();
            let _ = instruction.stack_words();
            let _ = instruction.cp_index();
            let _ = instruction.branch_targets().count();
            end += len;
        }
        let mut listing = String::new();
        oxicard_isa::write_listing(&code, &mut listing).expect("listing");
    }
}

#[test]
fn encoder_refuses_bad_operands() {
    let mut out = [0u8; 8];
    let branch = Instruction::new(Opcode::Ifeq, Operands::Branch(200));
    assert_eq!(
        branch.encode(&mut out),
        Err(EncodeError::OperandOutOfRange {
            opcode: Opcode::Ifeq,
            field: "branch"
        })
    );
    let wide = Instruction::new(Opcode::IfeqW, Operands::Branch(200));
    assert_eq!(wide.encode(&mut out), Ok(3));
    assert_eq!(&out[..3], &[0x98, 0x00, 0xC8]);
    let field = Instruction::new(Opcode::GetfieldA, Operands::CpIndex(300));
    assert!(matches!(
        field.encode(&mut out),
        Err(EncodeError::OperandOutOfRange { .. })
    ));
    let mismatch = Instruction::new(Opcode::Sspush, Operands::Byte(1));
    assert_eq!(
        mismatch.encode(&mut out),
        Err(EncodeError::OperandMismatch {
            opcode: Opcode::Sspush
        })
    );
    let nibble = Instruction::new(Opcode::DupX, Operands::Shuffle { m: 16, n: 0 });
    assert!(nibble.encode(&mut out).is_err());
    // A short table switch whose keys do not fit s2.
    let raw = [0u8, 1];
    let table = TableSwitch::new(0, 40000, 40000, &raw).expect("one entry");
    let switch = Instruction::new(Opcode::Stableswitch, Operands::TableSwitch(table));
    assert!(switch.encode(&mut [0u8; 16]).is_err());
    let as_int = Instruction::new(Opcode::Itableswitch, Operands::TableSwitch(table));
    assert_eq!(as_int.encode(&mut [0u8; 16]), Ok(13));
    // A lookup switch with int keys under the short opcode.
    let pairs = [0u8; 6];
    let lookup = LookupSwitch::new(0, true, &pairs).expect("one pair");
    let switch = Instruction::new(Opcode::Slookupswitch, Operands::LookupSwitch(lookup));
    assert!(matches!(
        switch.encode(&mut [0u8; 16]),
        Err(EncodeError::OperandMismatch { .. })
    ));
    // Constructors check their byte counts.
    assert!(TableSwitch::new(0, 1, 3, &[0u8; 4]).is_none());
    assert!(TableSwitch::new(0, 3, 1, &[]).is_none());
    assert!(LookupSwitch::new(0, false, &[0u8; 5]).is_none());
}

#[test]
fn markdown_table_lists_every_opcode() {
    let mut text = String::new();
    oxicard_isa::write_markdown_table(&mut text).expect("write");
    assert_eq!(text.lines().count(), 2 + 187);
    assert!(text.contains(
        "| 0x73 | stableswitch | var | default s2, low s2, high s2, table… | 1 | 0 | Switch |"
    ));
    assert!(text.contains("| 0x8E | invokeinterface | 5 | nargs u1, index u2, method u1 | nargs | ret words | Invoke |"));
}
