//! Golden CAPs made by Oracle's converter: every component parses completely, sizes and
//! instruction counts match golden/README.md, the method listing matches the `.jca` listings,
//! and the ReferenceLocation lists match an independent walk of the bytecode.

#![allow(clippy::unwrap_used)] // tests fail by panicking

mod common;

use common::{golden_bytes, golden_jar, GOLDEN};
use oxicard_cap::{Cap, ComponentTag, RawComponent};

#[test]
fn every_component_parses_and_sizes_match_readme() {
    for (name, path, expected_sum, _) in GOLDEN {
        let jar = golden_jar(path);
        assert!(
            jar.package_path.starts_with("org/oxicard/golden/"),
            "{name}"
        );
        let mut sum = 0;
        for (tag, bytes) in &jar.components {
            let raw = RawComponent::parse_exact(bytes, *tag).unwrap();
            assert_eq!(raw.bytes.len(), bytes.len(), "{name} {tag}");
            sum += bytes.len();
        }
        assert_eq!(sum, expected_sum, "{name}: sum of component sizes");
        let cap = jar.cap().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cap.version(), oxicard_cap::CapVersion::V2_1, "{name}");
        // Every component present in the JAR is present in the Cap, byte for byte.
        for (tag, bytes) in &jar.components {
            assert_eq!(cap.component(*tag).unwrap().bytes, bytes.as_slice());
        }
        assert!(cap.descriptor.is_some());
        // The load file parses to the same components.
        let block = jar.load_file_data_block(true);
        assert_eq!(
            block.len(),
            expected_sum,
            "{name}: load file with Descriptor"
        );
        let from_block = Cap::parse_load_file(&block).unwrap();
        assert_eq!(from_block.class.raw, cap.class.raw);
        let without = jar.load_file_data_block(false);
        let cap2 = Cap::parse_load_file(&without).unwrap();
        assert!(cap2.descriptor.is_none());
        assert_eq!(
            without.len(),
            expected_sum - cap.descriptor.unwrap().raw.bytes.len()
        );
    }
}

#[test]
fn load_file_order_is_gp_order() {
    let jar = golden_jar("hello/hello.cap");
    let block = jar.load_file_data_block(true);
    let mut rest = block.as_slice();
    let mut tags = Vec::new();
    while !rest.is_empty() {
        let (raw, tail) = RawComponent::split_first(rest, 0).unwrap();
        tags.push(raw.tag);
        rest = tail;
    }
    // Header, Directory, Import, Applet, Class, Method, StaticField, ConstantPool,
    // RefLocation, Descriptor (hello has no Export).
    assert_eq!(tags, [1, 2, 4, 3, 6, 7, 8, 5, 9, 11]);
}

#[test]
fn header_and_directory_fields_match_readme() {
    let expected_flags = [
        ("hello", 0x04),
        ("lib", 0x02),
        ("bytecodes", 0x04),
        ("ints", 0x05),
        ("wallet", 0x04),
        ("crypto", 0x04),
        ("server", 0x06),
        ("client", 0x04),
        ("widecp", 0x04),
    ];
    for ((name, path, _, _), (flag_name, flags)) in GOLDEN.iter().zip(expected_flags) {
        assert_eq!(*name, flag_name);
        let jar = golden_jar(path);
        let cap = jar.cap().unwrap();
        assert_eq!(cap.header.flags, flags, "{name}");
        assert_eq!(cap.header.package.aid.len(), 6);
        assert_eq!(cap.header.package.aid[..4], [0xF0, 0, 0, 1]);
        assert_eq!(cap.directory.import_count as usize, cap.import.count());
        for tag in [
            ComponentTag::Header,
            ComponentTag::Class,
            ComponentTag::Method,
        ] {
            assert_eq!(
                cap.directory.component_size(tag).unwrap() as usize,
                cap.component(tag).unwrap().info.len(),
                "{name} {tag}"
            );
        }
    }
}

fn jca_methods(text: &str) -> Vec<(String, Option<(u8, u8)>)> {
    // (".method" line, (.stack, .locals)) in listing order; abstract methods have neither.
    let mut out: Vec<(String, Option<(u8, u8)>)> = Vec::new();
    let mut stack = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with(".method ") {
            out.push((line.to_string(), None));
            stack = None;
        } else if let Some(v) = line.strip_prefix(".stack ") {
            stack = Some(v.trim_end_matches(';').parse::<u8>().unwrap());
        } else if let Some(v) = line.strip_prefix(".locals ") {
            let locals = v.trim_end_matches(';').parse::<u8>().unwrap();
            out.last_mut().unwrap().1 = Some((stack.unwrap(), locals));
        }
    }
    out
}

#[test]
fn method_listing_matches_jca_and_instruction_counts_match_readme() {
    for (name, path, _, expected_instructions) in GOLDEN {
        let jar = golden_jar(path);
        let cap = jar.cap().unwrap();
        let jca_path = path.replace(".cap", ".jca");
        let jca = String::from_utf8(golden_bytes(&jca_path)).unwrap();
        let listed = jca_methods(&jca);
        let methods: Vec<_> = cap.methods().map(|m| m.unwrap()).collect();
        assert_eq!(methods.len(), listed.len(), "{name}: method count");
        let mut instructions = 0;
        for (m, (line, frame)) in methods.iter().zip(&listed) {
            let is_abstract = line.contains(" abstract ");
            assert_eq!(m.has_code(), !is_abstract, "{name}: {line}");
            if let Some((stack, locals)) = frame {
                let header = m.header.unwrap();
                assert_eq!(
                    (header.max_stack, header.max_locals),
                    (*stack, *locals),
                    "{line}"
                );
            }
            if line.contains(" static ") {
                assert_ne!(m.access_flags() & 0x08, 0, "{line}");
            }
            // Walk the instructions: they must end exactly at the end of the bytecode.
            let mut pc = 0;
            for instruction in oxicard_isa::instructions(m.bytecode) {
                pc = instruction.unwrap().next_offset();
                instructions += 1;
            }
            assert_eq!(pc, m.bytecode.len(), "{name}: {line}");
        }
        assert_eq!(instructions, expected_instructions, "{name}: instructions");
        // Method headers and handlers belong to methods: every handler is listed once.
        let handler_total: usize = methods.iter().map(|m| m.handlers.len()).sum();
        assert_eq!(handler_total, cap.method.handlers.len(), "{name}");
    }
}

/// Locations of CP indices found by decoding every instruction with oxicard-isa's table
/// (itself checked against the spec's opcode table).
fn cp_index_locations(cap: &Cap<'_>) -> (Vec<u32>, Vec<u32>) {
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for (i, h) in cap.method.handlers.enumerate() {
        if h.catch_type_index != 0 {
            two.push(1 + 8 * i as u32 + 6);
        }
    }
    for m in cap.methods() {
        let m = m.unwrap();
        for instruction in oxicard_isa::instructions(m.bytecode) {
            if let Some(cp) = instruction.unwrap().cp_index() {
                let at = (m.bytecode_offset + cp.position) as u32;
                match cp.width {
                    1 => one.push(at),
                    _ => two.push(at),
                }
            }
        }
    }
    one.sort();
    two.sort();
    (one, two)
}

#[test]
fn ref_location_matches_bytecode_walk() {
    for (name, path, _, _) in GOLDEN {
        let cap_jar = golden_jar(path);
        let cap = cap_jar.cap().unwrap();
        let (one, two) = cp_index_locations(&cap);
        let listed_one: Vec<u32> = cap.ref_location.byte_index_offsets().collect();
        let listed_two: Vec<u32> = cap.ref_location.byte2_index_offsets().collect();
        assert_eq!(listed_one, one, "{name}: 1-byte indices");
        assert_eq!(listed_two, two, "{name}: 2-byte indices");
        assert!(!two.is_empty());
    }
}

fn reencode<T: oxicard_cap::model::Component>(bytes: &[u8], v: oxicard_cap::CapVersion) -> Vec<u8> {
    T::parse(bytes, v).unwrap().encode().unwrap()
}

#[test]
fn every_component_reencodes_byte_identically() {
    use oxicard_cap::model as m;
    let mut checked = 0;
    for (name, path, _, _) in GOLDEN {
        let jar = golden_jar(path);
        let v = jar.cap().unwrap().version();
        for (tag, bytes) in &jar.components {
            let again = match tag {
                ComponentTag::Header => reencode::<m::Header>(bytes, v),
                ComponentTag::Directory => reencode::<m::Directory>(bytes, v),
                ComponentTag::Applet => reencode::<m::AppletComponent>(bytes, v),
                ComponentTag::Import => reencode::<m::Import>(bytes, v),
                ComponentTag::ConstantPool => reencode::<m::ConstantPool>(bytes, v),
                ComponentTag::Class => reencode::<m::ClassComponent>(bytes, v),
                ComponentTag::Method => reencode::<m::MethodComponent>(bytes, v),
                ComponentTag::StaticField => reencode::<m::StaticField>(bytes, v),
                ComponentTag::ReferenceLocation => reencode::<m::RefLocation>(bytes, v),
                ComponentTag::Export => reencode::<m::ExportComponent>(bytes, v),
                ComponentTag::Descriptor => reencode::<m::Descriptor>(bytes, v),
                ComponentTag::Debug => reencode::<m::DebugComponent>(bytes, v),
                other => panic!("{name}: unexpected {other}"),
            };
            assert_eq!(&again, bytes, "{name} {tag}");
            checked += 1;
        }
        // The whole owned CAP gives the same Load File Data Block.
        let model = m::Cap::from_view(&jar.cap().unwrap());
        assert_eq!(
            model.load_file_data_block(true).unwrap(),
            jar.load_file_data_block(true),
            "{name}"
        );
        // ReferenceLocation rebuilt from absolute offsets gives the same deltas.
        let cap = jar.cap().unwrap();
        let one: Vec<u32> = cap.ref_location.byte_index_offsets().collect();
        let two: Vec<u32> = cap.ref_location.byte2_index_offsets().collect();
        assert_eq!(
            m::RefLocation::from_offsets(&one, &two).unwrap(),
            model.ref_location,
            "{name}"
        );
        // Class entry offsets computed by the model equal the parsed ones.
        let offsets: Vec<u16> = cap.class.entries.map(|e| e.offset()).collect();
        assert_eq!(model.class.entry_offsets().unwrap(), offsets, "{name}");
    }
    // 10 components each; lib trades Applet for Export, server has both.
    assert_eq!(checked, 9 * 10 + 1, "components checked");
}

#[test]
fn every_golden_cap_passes_check() {
    for (name, path, _, _) in GOLDEN {
        let jar = golden_jar(path);
        jar.cap()
            .unwrap()
            .check()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // A load file without the Descriptor passes the checks that do not need it.
        let block = jar.load_file_data_block(false);
        Cap::parse_load_file(&block)
            .unwrap()
            .check()
            .unwrap_or_else(|e| panic!("{name} (no Descriptor): {e}"));
    }
}
