//! The opcode table against its oracle, `shared/spec/jcvm-opcodes.md`: every row of the
//! spec's markdown table is parsed here and compared with the table row of the same value,
//! and every one of the 256 byte values is decoded.

use oxicard_isa::{decode, DecodeErrorKind, Flags, Opcode, Operands, Words};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/spec/jcvm-opcodes.md"
);

/// One row of the spec table: the ten cells, trimmed.
struct SpecRow {
    value: u8,
    dec: u8,
    mnemonic: String,
    len: String,
    operands: String,
    pop: String,
    push: String,
    int: bool,
    exceptions: String,
}

fn spec_rows() -> Vec<SpecRow> {
    let text = std::fs::read_to_string(SPEC).expect("read the opcode spec");
    let mut rows = Vec::new();
    for line in text.lines() {
        if !line.starts_with("| 0x") {
            continue;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        assert_eq!(
            cells.len(),
            10,
            "spec row with {} cells: {line}",
            cells.len()
        );
        let value = u8::from_str_radix(cells[0].trim_start_matches("0x"), 16).expect("hex");
        rows.push(SpecRow {
            value,
            dec: cells[1].parse().expect("decimal value"),
            mnemonic: cells[2].to_string(),
            len: cells[3].to_string(),
            operands: cells[4].to_string(),
            pop: cells[5].to_string(),
            push: cells[6].to_string(),
            int: match cells[8] {
                "int" => true,
                "" => false,
                other => panic!("int column {other:?}"),
            },
            exceptions: cells[9].to_string(),
        });
    }
    rows
}

/// Does the spec's Pop/Push cell describe `words`?
fn words_match(cell: &str, words: Words, opcode: Opcode) -> bool {
    match words {
        Words::Fixed(n) => cell == n.to_string(),
        Words::ReceiverAndArgs => cell == "1+argwords",
        Words::Args => cell == "argwords",
        Words::InterfaceNargs => cell == "nargs",
        Words::ReturnValue => cell.starts_with("ret words"),
        Words::Shuffle => {
            matches!(opcode, Opcode::DupX | Opcode::SwapX)
                && matches!(cell, "-" | "net +m" | "net 0")
        }
        Words::FrameEnd => cell == "-",
        Words::Unspecified => cell == "–",
    }
}

/// `(name, encoding)` of each operand field the spec's Operands cell names, in order.
fn spec_fields(cell: &str) -> Vec<(String, String)> {
    let words: Vec<&str> = cell
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|pair| matches!(pair[1], "u1" | "s1" | "u2" | "s2" | "s4"))
        .map(|pair| (pair[0].to_string(), pair[1].to_string()))
        .collect()
}

#[test]
fn every_spec_row_matches_the_table() {
    let rows = spec_rows();
    assert_eq!(
        rows.len(),
        187,
        "185 defined + 2 reserved opcodes in the spec"
    );
    assert_eq!(Opcode::ALL.len(), rows.len());
    for row in &rows {
        assert_eq!(
            row.value, row.dec,
            "hex and decimal columns of {}",
            row.mnemonic
        );
        let opcode = Opcode::from_u8(row.value).unwrap_or_else(|| {
            panic!(
                "0x{:02X} {} missing from the table",
                row.value, row.mnemonic
            )
        });
        let info = opcode.info();
        let name = &row.mnemonic;
        assert_eq!(info.mnemonic(), name, "mnemonic of 0x{:02X}", row.value);
        assert_eq!(Opcode::from_mnemonic(name), Some(opcode));
        assert_eq!(info.value(), row.value);
        // Length.
        let len = info
            .fixed_len()
            .map_or("var".to_string(), |n| n.to_string());
        assert_eq!(len, row.len, "length of {name}");
        assert_eq!(info.layout.is_switch(), row.len == "var", "{name}");
        // Operand fields: names and encodings, in order (switches: the fixed header).
        let fields = spec_fields(&row.operands);
        let ours: Vec<(String, String)> = info
            .layout
            .fields()
            .iter()
            .map(|f| (f.name.to_string(), f.encoding.name().to_string()))
            .collect();
        if info.layout.is_switch() {
            assert_eq!(&fields[..ours.len()], &ours[..], "switch header of {name}");
        } else {
            assert_eq!(fields, ours, "operand fields of {name}");
        }
        // Int subset.
        assert_eq!(
            info.flags.contains(Flags::INT),
            row.int,
            "int flag of {name}"
        );
        // Stack effect.
        assert!(
            words_match(&row.pop, info.stack.pop, opcode),
            "pop of {name}: spec {:?}, table {:?}",
            row.pop,
            info.stack.pop
        );
        assert!(
            words_match(&row.push, info.stack.push, opcode),
            "push of {name}: spec {:?}, table {:?}",
            row.push,
            info.stack.push
        );
        // Constant-pool references: the operands name a CONSTANT_* entry.
        assert_eq!(
            info.flags.contains(Flags::CP_REF),
            row.operands.contains("CONSTANT_"),
            "CP_REF of {name}"
        );
        assert_eq!(
            info.layout.cp_index_position().is_some(),
            row.operands.contains("CONSTANT_"),
            "CP index position of {name}"
        );
        // Exceptions: whatever the spec lists may throw; only invokes and `new` add to it.
        let reserved = info.flags.contains(Flags::RESERVED);
        assert_eq!(reserved, name.starts_with("impdep"), "{name}");
        let spec_throws = !row.exceptions.is_empty() && !reserved;
        let may_throw = info.flags.contains(Flags::MAY_THROW);
        if spec_throws {
            assert!(may_throw, "{name} lists exceptions but has no MAY_THROW");
        } else if may_throw {
            assert!(
                info.flags.contains(Flags::INVOKE),
                "{name} has MAY_THROW but the spec lists no exception"
            );
        }
        // Firewall: "SecurityException (firewall)" means an object access check or a
        // check on the reference being stored.
        let firewall = row.exceptions.contains("SecurityException (firewall)");
        assert_eq!(
            info.flags
                .intersects(Flags::TOUCHES_OBJECT | Flags::STORES_REF),
            firewall,
            "firewall flags of {name}"
        );
        // Branch operands are exactly the ones named "branch" or a switch.
        let branches = row.operands.contains("branch ") || row.len == "var";
        assert_eq!(
            info.flags.contains(Flags::BRANCH),
            branches,
            "BRANCH of {name}"
        );
        assert_eq!(
            info.flags.contains(Flags::SWITCH),
            row.len == "var",
            "{name}"
        );
    }
}

#[test]
fn table_internal_consistency() {
    for info in Opcode::table() {
        let name = info.mnemonic();
        // The wide form has the same mnemonic plus `_w`, and narrow() inverts wide().
        if let Some(wide) = info.wide {
            let stem = name.trim_end_matches("_this");
            assert_eq!(wide.mnemonic(), format!("{stem}_w"), "wide form of {name}");
            assert_eq!(wide.narrow(), Some(info.opcode), "narrow form of {wide}");
            assert_eq!(wide.info().stack, info.stack, "{name} and {wide}");
            assert_eq!(wide.flags(), info.flags, "{name} and {wide}");
        }
        // Terminal instructions: unconditional jumps, switches, returns, athrow, ret.
        let terminal = matches!(name, "goto" | "goto_w" | "athrow" | "ret")
            || info.flags.intersects(Flags::SWITCH | Flags::RETURN);
        assert_eq!(
            info.flags.contains(Flags::TERMINAL),
            terminal,
            "TERMINAL of {name}"
        );
        assert_eq!(
            info.flags.contains(Flags::CONDITIONAL),
            name.starts_with("if"),
            "CONDITIONAL of {name}"
        );
    }
    // Every `_w` field or branch opcode is the wide form of exactly one short form.
    for opcode in Opcode::ALL {
        let name = opcode.mnemonic();
        if name.ends_with("_w") && opcode != Opcode::SincW && opcode != Opcode::IincW {
            assert!(opcode.narrow().is_some(), "{name} has no short form");
        }
    }
}

/// Operand bytes that make any opcode decode: zeros, except a 1-entry table switch.
fn minimal_operands(opcode: Opcode) -> Vec<u8> {
    let mut code = vec![opcode.value()];
    code.extend_from_slice(&[0; 16]);
    code
}

#[test]
fn all_256_byte_values() {
    let mut defined = 0;
    for byte in 0..=255u8 {
        let code = minimal_operands(Opcode::from_u8(byte).unwrap_or(Opcode::Nop));
        let mut code = code;
        code[0] = byte;
        let expected_defined = byte <= 0xB8 || byte >= 0xFE;
        match decode(&code, 0) {
            Ok(instruction) => {
                assert!(expected_defined, "0x{byte:02X} decoded as {instruction}");
                defined += 1;
                let opcode = instruction.opcode;
                assert_eq!(opcode.value(), byte);
                assert_eq!(Opcode::try_from(byte), Ok(opcode));
                // All-zero operands: table switches cover low = high = 0 (one entry),
                // lookup switches have no pairs.
                let expected_len = match opcode {
                    Opcode::Stableswitch => 9,
                    Opcode::Itableswitch => 13,
                    Opcode::Slookupswitch | Opcode::Ilookupswitch => 5,
                    _ => opcode.fixed_len().expect("fixed length"),
                };
                assert_eq!(instruction.len(), expected_len, "length of {opcode}");
                assert!(instruction.to_string().starts_with(opcode.mnemonic()));
                // One byte short of the instruction is a truncation error naming it.
                if expected_len > 1 {
                    let error = decode(&code[..expected_len - 1], 0).expect_err("truncated");
                    assert!(
                        matches!(error.kind, DecodeErrorKind::Truncated { opcode: o, .. } if o == opcode),
                        "{opcode}: {error}"
                    );
                }
                // Exact length decodes and re-encodes to the same bytes.
                let mut out = [0u8; 16];
                let n = instruction.encode(&mut out).expect("encode");
                assert_eq!(&out[..n], &code[..expected_len], "{opcode}");
            }
            Err(error) => {
                assert!(!expected_defined, "0x{byte:02X}: {error}");
                assert_eq!(error.kind, DecodeErrorKind::UnknownOpcode(byte));
                assert_eq!(error.offset, 0);
                assert_eq!(
                    error.to_string(),
                    format!("unknown opcode 0x{byte:02X} at offset 0")
                );
                assert_eq!(Opcode::try_from(byte), Err(byte));
            }
        }
    }
    assert_eq!(defined, 187);
}

#[test]
fn switch_decoding_details() {
    // stableswitch at offset 2: default +20, keys 1..=3 → +9, +11, +13.
    let code = [
        0x00, 0x00, 0x73, 0x00, 0x14, 0x00, 0x01, 0x00, 0x03, 0x00, 0x09, 0x00, 0x0B, 0x00, 0x0D,
    ];
    let instruction = decode(&code, 2).expect("decode");
    assert_eq!(instruction.len(), 13);
    let Operands::TableSwitch(table) = instruction.operands else {
        panic!("not a table switch")
    };
    assert_eq!((table.default(), table.low(), table.high()), (20, 1, 3));
    assert_eq!(
        table.entries().collect::<Vec<_>>(),
        [(1, 9), (2, 11), (3, 13)]
    );
    assert_eq!(table.lookup(2), 11);
    assert_eq!(table.lookup(4), 20);
    let targets: Vec<usize> = instruction
        .branch_targets()
        .map(|t| t.expect("target"))
        .collect();
    assert_eq!(targets, [22, 11, 13, 15]);
    assert_eq!(
        instruction.to_string(),
        "stableswitch L0x0016 1 3 L0x000B L0x000D L0x000F"
    );
    // low > high is an error naming both.
    let bad = [0x73, 0x00, 0x05, 0x00, 0x03, 0x00, 0x02];
    let error = decode(&bad, 0).expect_err("low > high");
    assert_eq!(
        error.kind,
        DecodeErrorKind::SwitchBounds { low: 3, high: 2 }
    );
    // An itableswitch with a huge range is truncated, not a panic or an allocation.
    let huge = [0x74, 0, 0, 0x80, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF];
    assert!(matches!(
        decode(&huge, 0).map_err(|e| e.kind),
        Err(DecodeErrorKind::Truncated { .. })
    ));
    // ilookupswitch with two pairs, sorted.
    let code = [
        0x76, 0x00, 0x20, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x18,
    ];
    let instruction = decode(&code, 0).expect("decode");
    let Operands::LookupSwitch(lookup) = instruction.operands else {
        panic!("not a lookup switch")
    };
    assert_eq!(lookup.pairs().collect::<Vec<_>>(), [(-1, 16), (65536, 24)]);
    assert!(lookup.is_sorted());
    assert_eq!(lookup.lookup(65536), 24);
    assert_eq!(lookup.lookup(0), 32);
    assert_eq!(
        instruction.to_string(),
        "ilookupswitch L0x0020 2 -1 L0x0010 65536 L0x0018"
    );
    // A negative target is reported, not wrapped.
    let back = decode(&[0x70, 0xFE], 0).expect("goto -2");
    assert!(back.branch_target().expect("branch").is_err());
}

#[test]
fn helpers_report_operands() {
    // getfield_s_this 3 at offset 4: CP index 3 at offset 5, width 1; reads local 0.
    let code = [0, 0, 0, 0, 0xAF, 3];
    let i = decode(&code, 4).expect("decode");
    let cp = i.cp_index().expect("cp index");
    assert_eq!((cp.index, cp.position, cp.width), (3, 5, 1));
    assert_eq!(i.local_index(), Some(0));
    assert_eq!(i.to_string(), "getfield_s_this 3");
    // checkcast 11 0 has no CP reference; checkcast 0 33 has one at offset +2.
    let i = decode(&[0x94, 11, 0, 0], 0).expect("decode");
    assert_eq!(i.cp_index(), None);
    assert_eq!(i.to_string(), "checkcast 11 0");
    let i = decode(&[0x94, 0, 0, 33], 0).expect("decode");
    let cp = i.cp_index().expect("cp index");
    assert_eq!((cp.index, cp.position, cp.width), (33, 2, 2));
    // invokeinterface 1 115 0.
    let i = decode(&[0x8E, 1, 0, 115, 0], 0).expect("decode");
    assert_eq!(i.to_string(), "invokeinterface 1 115 0");
    assert_eq!(i.cp_index().map(|c| (c.index, c.position)), Some((115, 2)));
    // Constants, implied and explicit.
    assert_eq!(decode(&[0x02], 0).expect("sconst_m1").constant(), Some(-1));
    assert_eq!(
        decode(&[0x11, 0x03, 0xE8], 0).expect("sspush").constant(),
        Some(1000)
    );
    assert_eq!(
        decode(&[0x11, 0x03, 0xE8], 0).expect("sspush").to_string(),
        "sspush 1000"
    );
    // dup_x 0x12 (JVM dup_x1): pops 2, pushes 3.
    let i = decode(&[0x3F, 0x12], 0).expect("dup_x");
    assert_eq!(i.to_string(), "dup_x 18");
    let words = i.stack_words().expect("stack words");
    assert_eq!((words.pop, words.push), (2, 3));
    assert!(decode(&[0x3F, 0x52], 0)
        .expect("dup_x")
        .stack_words()
        .is_none());
    // sinc_w with a negative constant, iinc.
    assert_eq!(
        decode(&[0x96, 4, 0xFC, 0x18], 0)
            .expect("sinc_w")
            .to_string(),
        "sinc_w 4 -1000"
    );
    // Terminal instructions.
    assert!(decode(&[0x7A], 0).expect("return").is_terminal());
    assert!(!decode(&[0x60, 3], 0).expect("ifeq").is_terminal());
    // Invokes need a signature for their stack effect.
    assert!(decode(&[0x8D, 0, 1], 0)
        .expect("invokestatic")
        .stack_words()
        .is_none());
}
