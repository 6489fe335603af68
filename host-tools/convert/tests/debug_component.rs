//! `--debug`: the Debug component (tag 12) of the golden hello package. The oracles are
//! independent of the converter: the Java source text (which statement is on which line),
//! `javap -l` (javac's LineNumberTable and LocalVariableTable), the JCVM instruction decoder
//! of oxicard-isa, the CAP layout of cap-format.md §1/§4.12 as parsed by oxicard-cap, and
//! the golden hello transcript run on `oxicard_jcre::Card`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{replay, FAST_JVM, GOLDEN, PACKAGES};
use oxicard_cap::model::{Cap, Component, DebugComponent, MethodDebugInfo};
use oxicard_cap::ComponentTag;
use oxicard_convert::{convert_package, ConvertOutput};
use oxicard_isa::{instructions, Opcode, Operands};

const HELLO_SOURCE: &str = "hello/src/org/oxicard/golden/hello/HelloApplet.java";
const HELLO_CLASS: &str = "hello/classes/org/oxicard/golden/hello/HelloApplet.class";

fn convert_hello(debug: bool, int_support: bool) -> ConvertOutput {
    let p = PACKAGES.iter().find(|p| p.last == "hello").unwrap();
    let dir = common::temp_dir("debug");
    let mut opts = common::golden_options(p, &dir);
    opts.debug = debug;
    opts.int_support = int_support;
    convert_package(&opts).unwrap()
}

/// Every component of a converted CAP, read back from the JAR.
fn read_back(out: &ConvertOutput) -> (Cap, Vec<(ComponentTag, Vec<u8>)>) {
    let jar = oxicard_cap::jar::read_cap_jar(&out.cap).unwrap();
    let view = oxicard_cap::Cap::from_components(jar.components.iter().map(|(_, b)| &b[..]))
        .expect("the CAP with its Debug component parses");
    (Cap::from_view(&view), jar.components.clone())
}

/// Index in `method_area` of a Method component info offset (after handler_count and the
/// 8-byte exception handlers).
fn area_index(cap: &Cap, info_offset: usize) -> usize {
    info_offset - 1 - 8 * cap.method.handlers.len()
}

fn string(debug: &DebugComponent, index: u16) -> String {
    String::from_utf8(debug.strings[usize::from(index)].clone()).unwrap()
}

fn method<'a>(debug: &'a DebugComponent, class: &str, name: &str) -> &'a MethodDebugInfo {
    let c = debug
        .classes
        .iter()
        .find(|c| string(debug, c.name_index) == class)
        .unwrap_or_else(|| panic!("class {class} in the Debug component"));
    c.methods
        .iter()
        .find(|m| string(debug, m.name_index) == name)
        .unwrap_or_else(|| panic!("method {name} in the Debug component"))
}

/// The 1-based line of the source file holding `needle` (exactly one line must).
fn source_line(needle: &str) -> u16 {
    let text = std::fs::read_to_string(format!("{GOLDEN}/{HELLO_SOURCE}")).unwrap();
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "{needle} on one source line");
    hits[0] as u16
}

/// A javac local variable: slot, name, descriptor.
type JavacVariable = (u16, String, String);

/// `javap -l` of `process`: (JVM pc, line) entries and the local variables.
fn javap_process() -> (Vec<(u32, u16)>, Vec<JavacVariable>) {
    let out = std::process::Command::new("javap")
        .args(FAST_JVM)
        .args(["-l", "-p"])
        .arg(format!("{GOLDEN}/{HELLO_CLASS}"))
        .output()
        .expect("javap runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let body = text
        .split("public void process(")
        .nth(1)
        .expect("process in javap output");
    let body = body.split("\n\n").next().unwrap();
    let mut lines = Vec::new();
    let mut vars = Vec::new();
    for l in body.lines().map(str::trim) {
        if let Some(rest) = l.strip_prefix("line ") {
            let (line, pc) = rest.split_once(": ").unwrap();
            lines.push((pc.parse().unwrap(), line.parse().unwrap()));
        } else {
            // Start  Length  Slot  Name   Signature
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() == 5 && w[0].parse::<u32>().is_ok() {
                vars.push((w[2].parse().unwrap(), w[3].to_string(), w[4].to_string()));
            }
        }
    }
    assert!(lines.len() >= 8, "javap line table of process: {lines:?}");
    (lines, vars)
}

/// The JCVM instructions of a method's line-table range starting at `start_pc`.
fn first_instruction_of_line(cap: &Cap, m: &MethodDebugInfo, line: u16) -> (Opcode, String) {
    let entry = m
        .lines
        .iter()
        .find(|l| l.source_line == line)
        .unwrap_or_else(|| panic!("line {line} in the line table {:?}", m.lines));
    let code_start = usize::from(m.location) + usize::from(m.header_size);
    let code = &cap.method.method_area[area_index(cap, code_start)..][..usize::from(m.body_size)];
    let ins = instructions(code)
        .map(Result::unwrap)
        .find(|i| i.offset == usize::from(entry.start_pc))
        .unwrap_or_else(|| panic!("line {line} starts at an instruction"));
    (ins.opcode, format!("{:?}", ins.operands))
}

#[test]
fn debug_component_is_written_as_cap_2_2_and_reads_back() {
    let out = convert_hello(true, false);
    let (cap, components) = read_back(&out);
    assert_eq!(
        (cap.header.major_version, cap.header.minor_version),
        (2, 2),
        "CAP 2.2 with the Debug component (cap-format.md §1)"
    );
    assert_eq!(cap.header.package_name, Some(Vec::new()));
    let debug_bytes = &components
        .iter()
        .find(|(t, _)| *t == ComponentTag::Debug)
        .expect("Debug.cap in the JAR")
        .1;
    assert_eq!(cap.directory.component_sizes.len(), 12);
    assert_eq!(
        usize::from(cap.directory.component_sizes[11]),
        debug_bytes.len() - 3,
        "the Directory lists the Debug component's size"
    );
    for (tag, bytes) in &components {
        let t = usize::from(tag.to_u8());
        assert_eq!(
            usize::from(cap.directory.component_sizes[t - 1]),
            bytes.len() - 3,
            "Directory size of {tag:?}"
        );
    }
    // the model writes back exactly the bytes it read
    let debug = cap.debug.clone().expect("Debug component parsed");
    assert_eq!(&debug.encode().unwrap(), debug_bytes);
    assert_eq!(
        string(&debug, debug.package_name_index),
        "org/oxicard/golden/hello"
    );
    let class = &debug.classes[0];
    assert_eq!(
        string(&debug, class.name_index),
        "org/oxicard/golden/hello/HelloApplet"
    );
    assert_eq!(string(&debug, class.source_file_index), "HelloApplet.java");
    assert_eq!(
        string(&debug, class.superclass_name_index),
        "javacard/framework/Applet"
    );
    assert_eq!(class.access_flags, 0x0001, "public class");
    let names: Vec<String> = class
        .methods
        .iter()
        .map(|m| string(&debug, m.name_index))
        .collect();
    assert_eq!(names, ["<init>", "install", "process"], "no <clinit>");
    let install = method(&debug, "org/oxicard/golden/hello/HelloApplet", "install");
    assert_eq!(string(&debug, install.descriptor_index), "([BSB)V");
    assert_eq!(install.access_flags, 0x0009, "public static");
    // the HELLO field: static, its image offset; the byte constants keep their values
    let field = |name: &str| {
        class
            .fields
            .iter()
            .find(|f| string(&debug, f.name_index) == name)
            .unwrap()
    };
    assert_eq!(field("HELLO").access_flags, 0x001A, "private static final");
    assert_eq!(field("INS_HELLO").contents, 2);
    assert_eq!(field("CLA_PROPRIETARY").contents as i32, -128);
    // every method's location and sizes agree with the Method component
    for m in &class.methods {
        let header = cap.method.method_area[area_index(&cap, usize::from(m.location))];
        let extended = header & 0x80 != 0;
        assert_eq!(m.header_size, if extended { 4 } else { 2 });
        for l in &m.lines {
            assert!(l.start_pc <= l.end_pc && l.end_pc < m.body_size, "{l:?}");
        }
    }
    // without --debug: CAP 2.1, no Debug component, 11 sizes
    let plain = convert_hello(false, false);
    let (plain_cap, _) = read_back(&plain);
    assert_eq!(plain_cap.header.minor_version, 1);
    assert!(plain_cap.debug.is_none());
    assert_eq!(plain_cap.directory.component_sizes.len(), 11);
    // the code is the same; the Class component gains an empty signature pool (CAP 2.2)
    assert_eq!(plain_cap.method, cap.method);
    assert_eq!(plain_cap.class.signature_pool, None);
    assert_eq!(cap.class.signature_pool, Some(Vec::new()));
    assert_eq!(plain_cap.class.entries.len(), cap.class.entries.len());
}

#[test]
fn process_line_table_maps_javac_lines_to_jcvm_offsets() {
    let out = convert_hello(true, false);
    let (cap, _) = read_back(&out);
    let debug = cap.debug.clone().unwrap();
    let process = method(&debug, "org/oxicard/golden/hello/HelloApplet", "process");
    assert_eq!(
        string(&debug, process.descriptor_index),
        "(Ljavacard/framework/APDU;)V"
    );
    // the lines are javac's, in JCVM pc order, with no overlap
    let (javac_lines, javac_vars) = javap_process();
    let javac_line_set: Vec<u16> = javac_lines.iter().map(|l| l.1).collect();
    for l in &process.lines {
        assert!(javac_line_set.contains(&l.source_line), "{l:?} not javac's");
    }
    for w in process.lines.windows(2) {
        assert!(w[0].end_pc < w[1].start_pc, "{w:?}");
    }
    assert_eq!(process.lines.first().unwrap().start_pc, 0);
    assert_eq!(process.lines.last().unwrap().end_pc + 1, process.body_size);
    // statements whose first JCVM instruction the source text tells
    let cases = [
        ("if (selectingApplet())", Opcode::Aload0, "None".to_string()),
        (
            "ISOException.throwIt(ISO7816.SW_CLA_NOT_SUPPORTED)",
            Opcode::Sspush,
            format!("{:?}", Operands::Short(0x6E00)),
        ),
        (
            "ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED)",
            Opcode::Sspush,
            format!("{:?}", Operands::Short(0x6D00)),
        ),
        (
            "short len = apdu.setIncomingAndReceive()",
            Opcode::Aload1,
            "None".to_string(),
        ),
        (
            "switch (buf[ISO7816.OFFSET_INS])",
            Opcode::Aload2,
            "None".to_string(),
        ),
    ];
    for (statement, opcode, operands) in cases {
        let line = source_line(statement);
        assert!(javac_line_set.contains(&line), "javac recorded line {line}");
        assert_eq!(
            first_instruction_of_line(&cap, process, line),
            (opcode, operands),
            "first instruction of line {line}: {statement}"
        );
    }
    // local variables: javac's, at JCVM words (no int locals: the same slots)
    let vars: HashMap<String, (u8, String)> = process
        .variables
        .iter()
        .map(|v| {
            (
                string(&debug, v.name_index),
                (v.index, string(&debug, v.descriptor_index)),
            )
        })
        .collect();
    assert_eq!(vars.len(), javac_vars.len(), "{vars:?} vs {javac_vars:?}");
    for (slot, name, descriptor) in &javac_vars {
        assert_eq!(vars[name], (*slot as u8, descriptor.clone()), "{name}");
    }
    let len = process
        .variables
        .iter()
        .find(|v| string(&debug, v.name_index) == "len")
        .unwrap();
    assert!(len.length > 0 && len.start_pc + len.length <= process.body_size);
}

#[test]
fn cap_with_debug_component_runs_the_hello_transcript() {
    let out = convert_hello(true, false);
    // the Load File Data Block never holds the Debug component (cap-format.md §3)
    let jar = oxicard_cap::jar::read_cap_jar(&out.cap).unwrap();
    let load_file = jar.load_file_data_block(true);
    assert_eq!(load_file, out.load_file);
    let loaded = Cap::parse_load_file(&load_file).unwrap();
    assert!(loaded.debug.is_none());
    assert_eq!(
        loaded.directory.component_sizes.len(),
        12,
        "the loaded Directory still lists 12 sizes"
    );
    let p = PACKAGES.iter().find(|p| p.last == "hello").unwrap();
    let loads = HashMap::from([(p.aid.to_string(), load_file)]);
    // the card's RAM and NVM live on the stack (as in golden_convert)
    let outcome = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || replay("hello", &loads))
        .unwrap()
        .join()
        .unwrap();
    assert!(
        outcome.first_failure.is_none() && outcome.total > 0,
        "{}/{}: {:?}",
        outcome.passed,
        outcome.total,
        outcome.first_failure
    );
}

#[test]
fn int_flag_only_when_the_package_uses_int() {
    // hello has no int: `--int` accepts int but the package does not need it
    let hello = convert_hello(false, true);
    let (cap, _) = read_back(&hello);
    assert_eq!(cap.header.flags & 0x01, 0, "ACC_INT without int use");
    assert!(!hello.warnings.iter().any(|w| w.contains("int support")));
    // ints uses int: the golden header has flags 05 (ACC_APPLET | ACC_INT)
    let p = PACKAGES.iter().find(|p| p.last == "ints").unwrap();
    let dir = common::temp_dir("debug-ints");
    let ints = convert_package(&common::golden_options(p, &dir)).unwrap();
    let (cap, _) = read_back(&ints);
    let golden = std::fs::read(format!("{GOLDEN}/ints/ints.cap")).unwrap();
    let golden = oxicard_cap::jar::read_cap_jar(&golden).unwrap();
    let golden = Cap::parse_load_file(&golden.load_file_data_block(false)).unwrap();
    assert_eq!(golden.header.flags, 0x05);
    assert_eq!(cap.header.flags, golden.header.flags);
}

#[test]
fn every_golden_package_converts_with_debug_and_reads_back() {
    let dir = common::temp_dir("debug-all");
    let mut abstract_methods = 0;
    for p in PACKAGES {
        let mut opts = common::golden_options(p, &dir);
        opts.debug = true;
        let out = convert_package(&opts).unwrap();
        std::fs::write(dir.join(format!("{}.exp", p.last)), &out.export).unwrap();
        let (cap, components) = read_back(&out);
        let debug = cap.debug.clone().expect("Debug component");
        let bytes = &components
            .iter()
            .find(|(t, _)| *t == ComponentTag::Debug)
            .unwrap()
            .1;
        assert_eq!(&debug.encode().unwrap(), bytes, "{}", p.last);
        for class in &debug.classes {
            for m in &class.methods {
                if m.access_flags & 0x0400 != 0 {
                    // abstract: no code (JCVM spec §6.14.1.2)
                    abstract_methods += 1;
                    assert_eq!((m.location, m.header_size, m.body_size), (0, 0, 0));
                    assert!(m.lines.is_empty());
                } else {
                    let header = cap.method.method_area[area_index(&cap, usize::from(m.location))];
                    assert_eq!(m.header_size, if header & 0x80 != 0 { 4 } else { 2 });
                    assert!(!m.lines.is_empty(), "{}: a method without lines", p.last);
                }
            }
        }
    }
    assert!(
        abstract_methods > 0,
        "the golden packages have abstract methods"
    );
}
