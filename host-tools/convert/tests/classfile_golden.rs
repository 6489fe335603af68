//! Reads every golden class file and compares what the reader and the bytecode decoder
//! found with `javap` (an independent reader) on the same file: class name, superclass,
//! interfaces, source file, every member's descriptor, every instruction's offset,
//! mnemonic and operands, switch tables, line numbers and local variables.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use oxicard_convert::bytecode::{JvmInstruction, Operands};
use oxicard_convert::classfile::{ClassFile, Code, StackMapFrame, VerificationType};

#[derive(Debug, Default)]
struct JavapMember {
    declaration: String,
    descriptor: String,
    /// (offset, mnemonic, operand text without spaces)
    instructions: Vec<(u32, String, String)>,
    /// (offset of the switch, key or "default", target)
    switch_cases: Vec<(u32, String, u32)>,
    /// (line, pc)
    lines: Vec<(u16, u16)>,
    /// (from, to, target, caught class or "any")
    handlers: Vec<(u16, u16, u16, String)>,
    /// (start, length, slot, name, descriptor)
    locals: Vec<(u16, u16, u16, String, String)>,
}

#[derive(Debug, Default)]
struct JavapClass {
    source_file: String,
    header: String,
    members: Vec<JavapMember>,
}

#[derive(PartialEq)]
enum Section {
    None,
    Code,
    Lines,
    Locals,
    Handlers,
}

fn parse_javap(text: &str) -> JavapClass {
    let mut class = JavapClass::default();
    let mut section = Section::None;
    let mut current_switch = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Compiled from \"") {
            class.source_file = rest.trim_end_matches('"').to_string();
            continue;
        }
        if class.header.is_empty() && line.ends_with('{') {
            class.header = line.trim_end_matches('{').trim().to_string();
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "}" {
            continue;
        }
        if indent == 2 {
            class.members.push(JavapMember {
                declaration: trimmed.to_string(),
                ..Default::default()
            });
            section = Section::None;
            continue;
        }
        let member = class.members.last_mut().expect("member before details");
        if let Some(descriptor) = trimmed.strip_prefix("descriptor: ") {
            member.descriptor = descriptor.to_string();
        } else if trimmed == "Code:" {
            section = Section::Code;
        } else if trimmed == "LineNumberTable:" {
            section = Section::Lines;
        } else if trimmed == "LocalVariableTable:" {
            section = Section::Locals;
        } else if trimmed == "Exception table:" {
            section = Section::Handlers;
        } else if section == Section::Handlers && trimmed.starts_with("from ") {
            // column header
        } else {
            match section {
                Section::Code => {
                    let (left, right) = trimmed.split_once(':').expect("offset: text");
                    let right = right.trim();
                    if right.starts_with(|c: char| c.is_ascii_lowercase())
                        && left.parse::<u32>().is_ok()
                    {
                        let offset: u32 = left.parse().unwrap();
                        let (mnemonic, operands) =
                            right.split_once(char::is_whitespace).unwrap_or((right, ""));
                        let operands = operands.split("//").next().unwrap_or("");
                        let mut operands: String =
                            operands.chars().filter(|c| !c.is_whitespace()).collect();
                        if mnemonic.ends_with("switch") {
                            current_switch = Some(offset);
                            operands.clear();
                        }
                        member
                            .instructions
                            .push((offset, mnemonic.to_string(), operands));
                    } else if trimmed
                        .starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
                        || left == "default"
                    {
                        let target: u32 = right.parse().expect("switch target");
                        member.switch_cases.push((
                            current_switch.expect("case inside a switch"),
                            left.to_string(),
                            target,
                        ));
                    } else {
                        panic!("unexpected javap code line {line:?}");
                    }
                }
                Section::Lines => {
                    let rest = trimmed.strip_prefix("line ").expect("line N: pc");
                    let (line_no, pc) = rest.split_once(": ").expect("line N: pc");
                    member
                        .lines
                        .push((line_no.parse().unwrap(), pc.parse().unwrap()));
                }
                Section::Locals => {
                    let cols: Vec<&str> = trimmed.split_whitespace().collect();
                    if cols.first() == Some(&"Start") {
                        continue;
                    }
                    assert_eq!(cols.len(), 5, "local variable row {line:?}");
                    member.locals.push((
                        cols[0].parse().unwrap(),
                        cols[1].parse().unwrap(),
                        cols[2].parse().unwrap(),
                        cols[3].to_string(),
                        cols[4].to_string(),
                    ));
                }
                Section::Handlers => {
                    let cols: Vec<&str> = trimmed.split_whitespace().collect();
                    let caught = match cols.get(3..) {
                        Some(["any"]) => "any".to_string(),
                        Some(["Class", name]) => name.to_string(),
                        _ => panic!("exception table row {line:?}"),
                    };
                    member.handlers.push((
                        cols[0].parse().unwrap(),
                        cols[1].parse().unwrap(),
                        cols[2].parse().unwrap(),
                        caught,
                    ));
                }
                Section::None => {}
            }
        }
    }
    class
}

/// Operand text as `javap -c` prints it, without spaces.
fn javap_operands(insn: &JvmInstruction) -> String {
    match &insn.operands {
        Operands::None => String::new(),
        Operands::Immediate(v) => v.to_string(),
        Operands::Local(i) => i.to_string(),
        Operands::ConstantPool(i) => format!("#{i}"),
        Operands::Branch(target) => target.to_string(),
        Operands::Iinc { local, delta } => format!("{local},{delta}"),
        Operands::NewArray(ty) => ty.java_name().to_string(),
        Operands::InvokeInterface { index, count } => format!("#{index},{count}"),
        Operands::InvokeDynamic(index) => format!("#{index},0"),
        Operands::MultiANewArray { index, dimensions } => format!("#{index},{dimensions}"),
        Operands::TableSwitch { .. } | Operands::LookupSwitch { .. } => String::new(),
    }
}

fn switch_cases(insn: &JvmInstruction) -> Vec<(u32, String, u32)> {
    let mut cases = Vec::new();
    match &insn.operands {
        Operands::TableSwitch {
            default,
            low,
            targets,
        } => {
            for (i, target) in targets.iter().enumerate() {
                cases.push((
                    insn.offset,
                    (i64::from(*low) + i as i64).to_string(),
                    *target,
                ));
            }
            cases.push((insn.offset, "default".into(), *default));
        }
        Operands::LookupSwitch { default, pairs } => {
            for (key, target) in pairs {
                cases.push((insn.offset, key.to_string(), *target));
            }
            cases.push((insn.offset, "default".into(), *default));
        }
        _ => {}
    }
    cases
}

fn compare_code(what: &str, class: &ClassFile, code: &Code, expected: &JavapMember) -> usize {
    let handlers: Vec<_> = code
        .exception_table
        .iter()
        .map(|h| {
            let caught = if h.catch_type == 0 {
                "any".to_string()
            } else {
                class
                    .constant_pool
                    .class_name(h.catch_type)
                    .unwrap()
                    .to_string()
            };
            (h.start_pc, h.end_pc, h.handler_pc, caught)
        })
        .collect();
    assert_eq!(handlers, expected.handlers, "{what}: exception table");
    let instructions = code
        .instructions()
        .unwrap_or_else(|e| panic!("{what}: decode failed: {e}"));
    let consumed: u32 = instructions.iter().map(|i| i.length).sum();
    assert_eq!(consumed as usize, code.code.len(), "{what}: bytes consumed");
    let ours: Vec<(u32, String, String)> = instructions
        .iter()
        .map(|i| {
            let mnemonic = if i.wide {
                format!("{}_w", i.opcode.mnemonic())
            } else {
                i.opcode.mnemonic().to_string()
            };
            (i.offset, mnemonic, javap_operands(i))
        })
        .collect();
    assert_eq!(ours, expected.instructions, "{what}: instructions");
    let cases: Vec<_> = instructions.iter().flat_map(switch_cases).collect();
    assert_eq!(cases, expected.switch_cases, "{what}: switch tables");
    let lines: Vec<(u16, u16)> = code
        .line_numbers()
        .map(|l| (l.line_number, l.start_pc))
        .collect();
    assert_eq!(lines, expected.lines, "{what}: line numbers");
    let locals: Vec<_> = code
        .local_variables()
        .map(|v| {
            (
                v.start_pc,
                v.length,
                v.index,
                v.name.clone(),
                v.descriptor.clone(),
            )
        })
        .collect();
    assert_eq!(locals, expected.locals, "{what}: local variables");
    // line_at agrees with the table for every instruction
    for insn in &instructions {
        let expected_line = expected
            .lines
            .iter()
            .filter(|(_, pc)| u32::from(*pc) <= insn.offset)
            .max_by_key(|(_, pc)| *pc)
            .map(|(line, _)| *line);
        assert_eq!(
            code.line_at(insn.offset),
            expected_line,
            "{what}: line at {}",
            insn.offset
        );
    }
    instructions.len()
}

fn check_against_javap(files: &[PathBuf]) -> (usize, usize) {
    let chunks = common::javap(&["-p", "-c", "-s", "-l"], files);
    assert_eq!(chunks.len(), files.len(), "one javap chunk per class");
    let mut members = 0;
    let mut instructions = 0;
    for (path, chunk) in files.iter().zip(&chunks) {
        let class = ClassFile::read(path).unwrap_or_else(|e| panic!("{e}"));
        let expected = parse_javap(chunk);
        let what = class.class_name().to_string();
        assert_eq!(
            class.source_file(),
            Some(expected.source_file.as_str()),
            "{what}"
        );

        // header: "<modifiers> class|interface <name> [extends …] [implements …]"
        let words: Vec<&str> = expected.header.split_whitespace().collect();
        let kind_at = words
            .iter()
            .position(|w| *w == "class" || *w == "interface")
            .expect("class or interface");
        assert_eq!(
            words[kind_at] == "interface",
            class.is_interface(),
            "{what}"
        );
        assert_eq!(
            words[kind_at + 1],
            class.class_name().replace('/', "."),
            "{what}"
        );
        let mut supers = BTreeSet::new();
        let mut listed = false;
        for word in &words[kind_at + 2..] {
            if *word == "extends" || *word == "implements" {
                listed = true;
            } else if listed {
                for name in word.split(',').filter(|n| !n.is_empty()) {
                    supers.insert(name.to_string());
                }
            }
        }
        let mut ours = BTreeSet::new();
        if !class.is_interface() {
            if let Some(super_name) = class.super_name() {
                if super_name != "java/lang/Object" {
                    ours.insert(super_name.replace('/', "."));
                }
            }
        }
        for name in class.interface_names() {
            ours.insert(name.replace('/', "."));
        }
        assert_eq!(ours, supers, "{what}: supertypes");

        // members, in class-file order: fields, then methods
        assert_eq!(
            expected.members.len(),
            class.fields.len() + class.methods.len(),
            "{what}: member count"
        );
        let (javap_fields, javap_methods) = expected.members.split_at(class.fields.len());
        for (field, javap_field) in class.fields.iter().zip(javap_fields) {
            assert_eq!(
                field.descriptor, javap_field.descriptor,
                "{what}.{}",
                field.name
            );
            assert!(
                javap_field.declaration.contains(&field.name),
                "{what}: field {} vs {}",
                field.name,
                javap_field.declaration
            );
            assert!(javap_field.instructions.is_empty());
        }
        for (method, javap_method) in class.methods.iter().zip(javap_methods) {
            let what = format!("{what}.{}{}", method.name, method.descriptor);
            assert_eq!(method.descriptor, javap_method.descriptor, "{what}");
            if method.name != "<init>" && method.name != "<clinit>" {
                assert!(
                    javap_method
                        .declaration
                        .contains(&format!("{}(", method.name)),
                    "{what}"
                );
            }
            match method.code() {
                Some(code) => instructions += compare_code(&what, &class, code, javap_method),
                None => assert!(
                    javap_method.instructions.is_empty(),
                    "{what}: code expected"
                ),
            }
        }
        members += expected.members.len();
    }
    (members, instructions)
}

#[test]
fn golden_class_files_match_javap() {
    let files = common::golden_class_files();
    let (members, instructions) = check_against_javap(&files);
    // every golden package has real code; these floors catch a reader that skips things
    assert!(members > 150, "members compared: {members}");
    assert!(instructions > 8000, "instructions compared: {instructions}");
    for path in &files {
        let class = ClassFile::read(path).unwrap();
        assert_eq!(class.major_version, 51, "{}", path.display());
    }
}

#[test]
fn sources_compiled_for_each_release_match_javap() {
    // the refusal sources exercise floats, longs, strings, invokedynamic, switches, …
    let sources: Vec<PathBuf> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/refusals"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "java"))
            .collect();
    assert!(!sources.is_empty());
    // the four javac runs in parallel (they are mostly JVM start-up), then one javap run
    let releases = [("7", 51), ("8", 52), ("9", 53), ("10", 54)];
    let compiled: Vec<Vec<PathBuf>> = std::thread::scope(|scope| {
        let runs: Vec<_> = releases
            .iter()
            .map(|&(release, _)| {
                let sources = &sources;
                scope.spawn(move || compile_for_release(sources, release))
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let all: Vec<PathBuf> = compiled.iter().flatten().cloned().collect();
    let (_, instructions) = check_against_javap(&all);
    assert!(instructions > 400, "{instructions} instructions");
    for ((release, major), files) in releases.iter().zip(&compiled) {
        assert!(files.len() >= 10, "release {release}: {files:?}");
        for path in files {
            let class = ClassFile::read(path).unwrap();
            assert_eq!(class.major_version, *major, "{}", path.display());
        }
    }
    for files in &compiled {
        if let Some(dir) = files.first().and_then(|f| f.parent()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Compiles the sources usable with one `--release` into a fresh folder.
fn compile_for_release(sources: &[PathBuf], release: &str) -> Vec<PathBuf> {
    let out = common::temp_dir(&format!("release{release}"));
    // a source whose first line says `// min-release: N` needs at least release N
    let usable: Vec<PathBuf> = sources
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let min = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("// min-release: "))
                .map_or(0, |n| n.trim().parse::<u32>().unwrap());
            min <= release.parse::<u32>().unwrap()
        })
        .cloned()
        .collect();
    common::javac(&usable, &out, &["--release", release])
}

#[test]
fn refuses_newer_and_older_versions_with_a_clear_message() {
    let path = &common::golden_class_files()[0];
    let mut bytes = std::fs::read(path).unwrap();
    for major in [44u16, 55, 61] {
        bytes[6..8].copy_from_slice(&major.to_be_bytes());
        let err = ClassFile::parse("X.class", &bytes).unwrap_err();
        assert_eq!(err.offset, Some(6));
        assert!(
            err.to_string().contains(&format!("version {major}.")),
            "{err}"
        );
        assert!(err.to_string().contains("45 to 54"), "{err}");
    }
    let err = ClassFile::parse("X.class", &bytes[..3]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("X.class: offset 0: expected magic"),
        "{err}"
    );
    let mut bad_magic = std::fs::read(path).unwrap();
    bad_magic[0] = 0;
    let err = ClassFile::parse("X.class", &bad_magic).unwrap_err();
    assert!(err.to_string().contains("0x00FEBABE"), "{err}");
    let full = std::fs::read(path).unwrap();
    let err = ClassFile::parse("X.class", &full[..full.len() - 1]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("end of data") || text.contains("exceeds"),
        "{err}"
    );
    assert!(err.offset.is_some_and(|o| o < full.len()), "{err}");
    let mut longer = full.clone();
    longer.push(0);
    let err = ClassFile::parse("X.class", &longer).unwrap_err();
    assert_eq!(err.offset, Some(full.len()), "{err}");
}

/// A verification type as `javap -v` prints it.
fn javap_verification_type(class: &ClassFile, ty: &VerificationType) -> String {
    match ty {
        VerificationType::Top => "top".into(),
        VerificationType::Integer => "int".into(),
        VerificationType::Float => "float".into(),
        VerificationType::Long => "long".into(),
        VerificationType::Double => "double".into(),
        VerificationType::Null => "null".into(),
        VerificationType::UninitializedThis => "this".into(),
        VerificationType::Object(index) => {
            let name = class.constant_pool.class_name(*index).unwrap();
            if name.starts_with('[') {
                format!("class \"{name}\"")
            } else {
                format!("class {name}")
            }
        }
        VerificationType::Uninitialized(offset) => format!("uninitialized {offset}"),
    }
}

fn javap_type_list(class: &ClassFile, label: &str, types: &[VerificationType]) -> String {
    if types.is_empty() {
        format!("{label} = []")
    } else {
        let items: Vec<String> = types
            .iter()
            .map(|t| javap_verification_type(class, t))
            .collect();
        format!("{label} = [ {} ]", items.join(", "))
    }
}

/// The StackMapTable lines `javap -v` would print for this class (javac writes the
/// shortest frame form, so the folded extended forms map back unambiguously).
fn stack_map_lines(class: &ClassFile) -> Vec<String> {
    let mut lines = Vec::new();
    for method in &class.methods {
        let Some(frames) = method.code().and_then(|c| c.stack_map_frames()) else {
            continue;
        };
        lines.push(format!(
            "StackMapTable: number_of_entries = {}",
            frames.len()
        ));
        for frame in frames {
            let delta = frame.offset_delta();
            match frame {
                StackMapFrame::Same { .. } if delta < 64 => {
                    lines.push(format!("frame_type = {delta} /* same */"));
                }
                StackMapFrame::Same { .. } => {
                    lines.push("frame_type = 251 /* same_frame_extended */".into());
                    lines.push(format!("offset_delta = {delta}"));
                }
                StackMapFrame::SameLocals1StackItem { stack, .. } => {
                    if delta < 64 {
                        lines.push(format!(
                            "frame_type = {} /* same_locals_1_stack_item */",
                            64 + delta
                        ));
                    } else {
                        lines.push(
                            "frame_type = 247 /* same_locals_1_stack_item_frame_extended */".into(),
                        );
                        lines.push(format!("offset_delta = {delta}"));
                    }
                    lines.push(javap_type_list(class, "stack", std::slice::from_ref(stack)));
                }
                StackMapFrame::Chop { chopped, .. } => {
                    lines.push(format!(
                        "frame_type = {} /* chop */",
                        251 - u16::from(*chopped)
                    ));
                    lines.push(format!("offset_delta = {delta}"));
                }
                StackMapFrame::Append { locals, .. } => {
                    lines.push(format!("frame_type = {} /* append */", 251 + locals.len()));
                    lines.push(format!("offset_delta = {delta}"));
                    lines.push(javap_type_list(class, "locals", locals));
                }
                StackMapFrame::Full { locals, stack, .. } => {
                    lines.push("frame_type = 255 /* full_frame */".into());
                    lines.push(format!("offset_delta = {delta}"));
                    lines.push(javap_type_list(class, "locals", locals));
                    lines.push(javap_type_list(class, "stack", stack));
                }
            }
        }
    }
    lines
}

#[test]
fn golden_stack_map_tables_match_javap() {
    let files = common::golden_class_files();
    let chunks = common::javap(&["-v", "-p"], &files);
    assert_eq!(chunks.len(), files.len());
    let mut frames = 0;
    for (path, chunk) in files.iter().zip(&chunks) {
        let class = ClassFile::read(path).unwrap();
        let expected: Vec<String> = chunk
            .lines()
            .map(str::trim)
            .filter(|l| {
                [
                    "StackMapTable:",
                    "frame_type =",
                    "offset_delta =",
                    "locals = ",
                    "stack = ",
                ]
                .iter()
                .any(|p| l.starts_with(p))
            })
            .map(str::to_string)
            .collect();
        let ours = stack_map_lines(&class);
        assert_eq!(ours, expected, "{}", path.display());
        frames += ours.iter().filter(|l| l.starts_with("frame_type")).count();
    }
    assert!(frames > 300, "frames compared: {frames}");
}
