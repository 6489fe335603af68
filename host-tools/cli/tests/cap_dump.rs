//! `oxicard cap dump` against the Oracle converter's own output: for every golden CAP, the
//! disassembly of every method must equal the `.jca` listing, and every constant-pool entry
//! the `.jca` names must resolve to that name. Malformed input must end with exit status 2
//! and a message naming the component and offset, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// The golden CAPs with their instruction counts (golden README §6).
const CAPS: [(&str, usize); 9] = [
    ("hello/hello.cap", 70),
    ("lib/lib.cap", 150),
    ("bytecodes/bytecodes.cap", 3201),
    ("ints/ints.cap", 693),
    ("wallet/wallet.cap", 574),
    ("crypto/crypto.cap", 962),
    ("widecp/widecp.cap", 3148),
    ("sharing/server.cap", 184),
    ("sharing/client.cap", 231),
];

fn golden(path: &str) -> PathBuf {
    Path::new(GOLDEN).join(path)
}

fn oxicard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxicard"))
        .args(args)
        .output()
        .expect("run oxicard")
}

/// Runs `oxicard cap dump FILE --json` with the golden folder on the export path (for the
/// `lib` and `server` export files that `bytecodes` and `client` import).
fn dump_json(file: &Path, extra: &[&str]) -> Value {
    let file = file.to_str().expect("utf-8 path");
    let mut args = vec!["cap", "dump", file, "--json", "--exportpath", GOLDEN];
    args.extend_from_slice(extra);
    let output = oxicard(&args);
    assert!(
        output.status.success(),
        "{file}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

/// An exception handler as instruction indices (start, end, handler) and
/// `catch_type_index`.
type HandlerRow = (Option<usize>, Option<usize>, Option<usize>, u64);

/// A `.method` block of a `.jca` listing.
#[derive(Debug, Default)]
struct JcaMethod {
    /// `name(descriptor)`, e.g. `process(Ljavacard/framework/APDU;)V`.
    signature: String,
    stack: Option<u64>,
    locals: Option<u64>,
    /// Instruction texts with label numbers dropped (`ifeq L`).
    instructions: Vec<String>,
    /// Label name → index of the instruction it marks.
    labels: std::collections::HashMap<String, usize>,
    /// `.exceptionTable` rows: start, end and handler labels, catch_type_index.
    handlers: Vec<(String, String, String, u64)>,
}

/// Replaces branch labels by `L` (`.jca` and the dump number them differently).
fn normalize(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let is_label = word.len() > 1
                && word.starts_with('L')
                && word[1..]
                    .trim_start_matches("0x")
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit());
            if is_label {
                "L"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `.method` blocks of a listing, in listing order (= Method component order).
fn jca_methods(text: &str) -> Vec<JcaMethod> {
    let mut methods: Vec<JcaMethod> = Vec::new();
    let mut in_exception_table = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with(".exceptionTable") {
            in_exception_table = true;
            continue;
        }
        if in_exception_table {
            if trimmed == "}" {
                in_exception_table = false;
            } else if let Some(current) = methods.last_mut() {
                let words: Vec<&str> = trimmed.trim_end_matches(';').split(' ').collect();
                if let [start, end, handler, index] = words[..] {
                    current.handlers.push((
                        start.into(),
                        end.into(),
                        handler.into(),
                        index.parse().expect("catch_type_index"),
                    ));
                }
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix(".method ") {
            // `.method public static install([BSB)V 0 {`: the word holding `(`.
            let signature = rest
                .split(' ')
                .find(|w| w.contains('('))
                .unwrap_or("")
                .to_string();
            methods.push(JcaMethod {
                signature,
                ..JcaMethod::default()
            });
            continue;
        }
        let Some(current) = methods.last_mut() else {
            continue;
        };
        if let Some(n) = trimmed.strip_prefix(".stack ") {
            current.stack = n.trim_end_matches(';').parse().ok();
            continue;
        }
        if let Some(n) = trimmed.strip_prefix(".locals ") {
            current.locals = n.trim_end_matches(';').parse().ok();
            continue;
        }
        // Instruction lines: four tabs, an optional `Lnn:`, a tab, then `text;`.
        let Some(rest) = line.strip_prefix("\t\t\t\t") else {
            continue;
        };
        let (label, rest) = match rest.split_once(":\t") {
            Some((label, rest)) if label.starts_with('L') => (Some(label), rest),
            _ => match rest.strip_prefix('\t') {
                Some(rest) => (None, rest),
                None => continue,
            },
        };
        if rest.starts_with('\t') {
            continue;
        }
        if let Some(label) = label {
            current
                .labels
                .insert(label.to_string(), current.instructions.len());
        }
        let instruction = rest.split(';').next().unwrap_or("");
        current.instructions.push(normalize(instruction));
    }
    methods
}

/// `(index, line)` of the `.constantPool` block: `line` is the entry text after the
/// `// index` marker line.
fn jca_constant_pool(text: &str) -> Vec<(usize, String)> {
    let mut entries = Vec::new();
    let mut inside = false;
    let mut index: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with(".constantPool") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if trimmed == "}" {
            break;
        }
        if let Some(n) = trimmed.strip_prefix("// ") {
            index = n.parse().ok();
            continue;
        }
        if let Some(i) = index.take() {
            entries.push((i, trimmed.to_string()));
        }
    }
    entries
}

fn str_field<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or("")
}

#[test]
fn every_method_disassembles_like_the_jca_listing() {
    let (mut methods_compared, mut instructions_compared, mut names_compared) = (0, 0, 0);
    let mut handlers_compared = 0;
    for (cap, expected_instructions) in CAPS {
        let dump = dump_json(&golden(cap), &["--component", "methods"]);
        let jca = std::fs::read_to_string(golden(cap).with_extension("jca")).expect("jca");
        let listing: Vec<JcaMethod> = jca_methods(&jca)
            .into_iter()
            .filter(|m| !m.instructions.is_empty())
            .collect();
        let ours: Vec<&Value> = dump["methods"]
            .as_array()
            .expect("methods array")
            .iter()
            .filter(|m| m["instructions"].as_array().is_some_and(|i| !i.is_empty()))
            .collect();
        assert_eq!(ours.len(), listing.len(), "{cap}: methods with code");
        let mut count = 0;
        for (method, theirs) in ours.iter().zip(&listing) {
            let where_ = format!("{cap}: method at {}", method["offset"]);
            let texts: Vec<String> = method["instructions"]
                .as_array()
                .expect("instructions")
                .iter()
                .map(|i| {
                    let mnemonic = str_field(i, "mnemonic");
                    let operands = str_field(i, "operands");
                    if operands.is_empty() {
                        mnemonic.to_string()
                    } else {
                        normalize(&format!("{mnemonic} {operands}"))
                    }
                })
                .collect();
            let mnemonics: Vec<&str> = texts
                .iter()
                .map(|t| t.split(' ').next().unwrap_or(""))
                .collect();
            let jca_mnemonics: Vec<&str> = theirs
                .instructions
                .iter()
                .map(|t| t.split(' ').next().unwrap_or(""))
                .collect();
            assert_eq!(mnemonics, jca_mnemonics, "{where_}: mnemonic sequence");
            assert_eq!(texts, theirs.instructions, "{where_}: instruction text");
            assert_eq!(
                method["max_stack"].as_u64(),
                theirs.stack,
                "{where_}: .stack"
            );
            // `.locals` counts the locals besides the arguments, as max_locals does.
            assert_eq!(
                method["max_locals"].as_u64(),
                theirs.locals,
                "{where_}: .locals"
            );
            // Exception handlers: same catch types, and the same instructions start, end
            // and handle each covered range.
            let offsets: Vec<u64> = method["instructions"]
                .as_array()
                .expect("instructions")
                .iter()
                .map(|i| i["offset"].as_u64().expect("offset"))
                .collect();
            let index_of = |offset: &Value| {
                let offset = offset.as_u64().expect("handler offset");
                if offset == method["bytecode_count"].as_u64().expect("count") {
                    Some(offsets.len())
                } else {
                    offsets.iter().position(|&o| o == offset)
                }
            };
            let ours_handlers: Vec<HandlerRow> = method["handlers"]
                .as_array()
                .expect("handlers")
                .iter()
                .map(|h| {
                    (
                        index_of(&h["start"]),
                        index_of(&h["end"]),
                        index_of(&h["handler"]),
                        h["catch_type_index"].as_u64().expect("catch_type_index"),
                    )
                })
                .collect();
            let jca_handlers: Vec<HandlerRow> = theirs
                .handlers
                .iter()
                .map(|(start, end, handler, index)| {
                    let at = |label: &String| theirs.labels.get(label).copied();
                    (at(start), at(end), at(handler), *index)
                })
                .collect();
            assert_eq!(ours_handlers, jca_handlers, "{where_}: exception handlers");
            handlers_compared += jca_handlers.len();
            let name = str_field(method, "name");
            if !name.starts_with("method@") {
                let signature = format!("{name}{}", str_field(method, "descriptor"));
                if !signature.contains("class@") {
                    assert_eq!(signature, theirs.signature, "{where_}: name and descriptor");
                    names_compared += 1;
                }
            }
            count += texts.len();
            methods_compared += 1;
        }
        assert_eq!(count, expected_instructions, "{cap}: instructions");
        instructions_compared += count;
    }
    println!(
        "{methods_compared} methods, {instructions_compared} instructions and \
         {handlers_compared} exception handlers equal to the .jca listings; {names_compared} \
         method names and descriptors equal"
    );
    assert!(handlers_compared > 0);
    assert_eq!(instructions_compared, 9213, "golden README §6 total");
    assert!(names_compared >= 20, "names resolved: {names_compared}");
}

#[test]
fn constant_pool_entries_resolve_to_the_names_in_the_jca_listing() {
    let (mut external, mut internal, mut all_entries) = (0, 0, 0);
    for (cap, _) in CAPS {
        let dump = dump_json(&golden(cap), &["--component", "constant-pool"]);
        let jca = std::fs::read_to_string(golden(cap).with_extension("jca")).expect("jca");
        let pool = dump["constant_pool"].as_array().expect("constant_pool");
        let expected = jca_constant_pool(&jca);
        assert_eq!(pool.len(), expected.len(), "{cap}: constant pool size");
        for (index, line) in expected {
            all_entries += 1;
            let entry = &pool[index];
            let kind = line.trim_start_matches('.').split(' ').next().unwrap_or("");
            assert_eq!(str_field(entry, "kind"), kind, "{cap} #{index}: kind");
            let resolved = entry["resolved"].as_str();
            if let Some((_, comment)) = line.split_once("//") {
                // External reference: `// javacard/framework/Util.arrayCopyNonAtomic(...)`,
                // `// register([BSB)V` (virtual: no class), `// short a/b/C.field`.
                let comment = comment.trim();
                let resolved = resolved.unwrap_or_else(|| panic!("{cap} #{index}: unresolved"));
                assert!(
                    resolved == comment || resolved.ends_with(&format!(".{comment}")),
                    "{cap} #{index}: resolved {resolved:?}, .jca says {comment:?}"
                );
                external += 1;
            } else if let Some(resolved) = resolved.filter(|r| !r.contains('@') && !r.contains('#'))
            {
                // Internal reference named through the package's own export file:
                // `.jca` writes `staticMethodRef HelloApplet/<init>()V`, we write
                // `org/oxicard/golden/hello/HelloApplet.<init>()V`.
                let jca_name = line
                    .trim_end_matches(';')
                    .rsplit(' ')
                    .next()
                    .unwrap_or("")
                    .replacen('/', ".", 1);
                let ours = resolved.rsplit(' ').next().unwrap_or("");
                let short = ours.rsplit_once('/').map_or(ours, |(_, s)| s);
                if kind == "classRef" {
                    assert_eq!(short, jca_name, "{cap} #{index}: class name");
                } else {
                    assert_eq!(short, jca_name, "{cap} #{index}: member name");
                }
                internal += 1;
            }
        }
    }
    println!(
        "{external} external constant-pool references resolved equal to the .jca comments, \
         {internal} internal ones named, of {all_entries} entries"
    );
    // classRef 31 + instanceFieldRef 1 + staticFieldRef 1 + staticMethodRef 75 +
    // virtualMethodRef 71 commented entries in the nine listings.
    assert_eq!(external, 179);
}

#[test]
fn hello_constant_pool_entry_8_names_array_copy() {
    let dump = dump_json(&golden("hello/hello.cap"), &["--component", "cp"]);
    assert_eq!(
        dump["constant_pool"][8]["resolved"],
        "javacard/framework/Util.arrayCopyNonAtomic([BS[BSS)S"
    );
    assert_eq!(dump["constant_pool"][8]["reference"], "0.16.2");
    assert!(
        dump.get("methods").is_none(),
        "--component selects sections"
    );
    // The text listing says the same.
    let hello = golden("hello/hello.cap");
    let output = oxicard(&["cap", "dump", hello.to_str().expect("path")]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("invokestatic 8"), "{text}");
    assert!(text.contains("javacard/framework/Util.arrayCopyNonAtomic([BS[BSS)S"));
    assert!(text.contains("process(Ljavacard/framework/APDU;)V"));
}

#[test]
fn golden_export_files_dump() {
    for (cap, _) in CAPS {
        let exp = golden(cap).with_extension("exp");
        let dump = dump_json(&exp, &[]);
        let cap_dump = dump_json(&golden(cap), &["--component", "header"]);
        assert_eq!(dump["container"], "exp");
        assert_eq!(
            dump["package"]["aid"], cap_dump["header"]["package"]["aid"],
            "{cap}: the export file and the CAP name the same package"
        );
        assert_eq!(
            dump["package"]["name"], cap_dump["header"]["package"]["name"],
            "{cap}: package name"
        );
        let text = oxicard(&["cap", "dump", exp.to_str().expect("path")]);
        assert!(text.status.success());
    }
    // lib exports MathUtil.gcd, the method bytecodes calls (`.jca`: 2.2.0(SS)S).
    let lib = dump_json(&golden("lib/lib.exp"), &[]);
    let math = lib["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .find(|c| c["name"] == "org/oxicard/golden/lib/MathUtil")
        .expect("MathUtil");
    assert_eq!(math["token"], 2);
    assert!(math["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .any(|m| m["name"] == "gcd" && m["token"] == 0 && m["descriptor"] == "(SS)S"));
}

/// A fresh scratch directory for this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxicard-cli-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The Load File Data Block of a golden CAP (components concatenated, Descriptor last).
fn load_file(cap: &str) -> Vec<u8> {
    let bytes = std::fs::read(golden(cap)).expect("cap");
    oxicard_cap::jar::read_cap_jar(&bytes)
        .expect("jar")
        .load_file_data_block(true)
}

#[test]
fn load_files_dump_like_the_cap() {
    let dir = scratch("load");
    for cap in ["hello/hello.cap", "sharing/client.cap"] {
        let path = dir.join("package.ijc");
        std::fs::write(&path, load_file(cap)).expect("write");
        let from_load_file = dump_json(&path, &["--component", "methods"]);
        let from_cap = dump_json(&golden(cap), &["--component", "methods"]);
        assert_eq!(from_load_file["container"], "load-file");
        // Same code; only names from the JAR manifest (applet classes) differ.
        let code = |dump: &Value| -> Vec<(Value, Value, Value)> {
            dump["methods"]
                .as_array()
                .expect("methods")
                .iter()
                .flat_map(|m| m["instructions"].as_array().expect("instructions").iter())
                .map(|i| {
                    (
                        i["offset"].clone(),
                        i["mnemonic"].clone(),
                        i["operands"].clone(),
                    )
                })
                .collect()
        };
        assert!(!code(&from_cap).is_empty());
        assert_eq!(code(&from_load_file), code(&from_cap), "{cap}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Where the component with `tag` starts in a load file.
fn component_offset(load_file: &[u8], tag: u8) -> usize {
    let mut at = 0;
    while load_file[at] != tag {
        at += 3 + usize::from(u16::from_be_bytes([load_file[at + 1], load_file[at + 2]]));
    }
    at
}

/// Runs a dump of `bytes` and returns (exit code, stderr).
fn dump_bytes(dir: &Path, bytes: &[u8]) -> (Option<i32>, String) {
    let path = dir.join("input.bin");
    std::fs::write(&path, bytes).expect("write");
    let output = oxicard(&[
        "cap",
        "dump",
        path.to_str().expect("path"),
        "--no-builtin-exports",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert_ne!(output.status.code(), Some(101), "panic exit status");
    (output.status.code(), stderr)
}

#[test]
fn malformed_input_exits_2_naming_component_and_offset() {
    let dir = scratch("malformed");
    // Truncated load files: every cut inside hello (448 bytes) in steps of 5, each
    // reported as malformed with a component (or the container) and an offset.
    let hello = load_file("hello/hello.cap");
    let mut cuts = 0;
    for len in (1..hello.len()).step_by(5) {
        let (code, stderr) = dump_bytes(&dir, &hello[..len]);
        assert_eq!(code, Some(2), "cut at {len}: {stderr}");
        assert!(stderr.starts_with("error: "), "cut at {len}: {stderr}");
        assert!(
            stderr.contains(" component, offset 0x") || stderr.contains("CAP container, offset 0x"),
            "cut at {len}: {stderr}"
        );
        cuts += 1;
    }
    // A cut inside the Method component names it.
    let method_at = component_offset(&hello, 7);
    let (code, stderr) = dump_bytes(&dir, &hello[..method_at + 20]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("Method component, offset 0x14:"),
        "{stderr}"
    );
    // Truncated CAP (zip) files.
    let cap = std::fs::read(golden("hello/hello.cap")).expect("cap");
    for len in [10, cap.len() / 2, cap.len() - 1] {
        let (code, stderr) = dump_bytes(&dir, &cap[..len]);
        assert_eq!(code, Some(2), "zip cut at {len}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    // Corrupted bytes: any outcome but a panic; a byte changed anywhere in hello gives
    // a clean dump (0), a dump with problems (2) or an error (2).
    for at in (0..hello.len()).step_by(7) {
        let mut bytes = hello.clone();
        bytes[at] ^= 0xFF;
        let (code, stderr) = dump_bytes(&dir, &bytes);
        assert!(matches!(code, Some(0) | Some(2)), "flip at {at}: {stderr}");
    }
    // Not a CAP at all, and an empty file.
    for bytes in [&b"hello world"[..], &[][..]] {
        let (code, stderr) = dump_bytes(&dir, bytes);
        assert_eq!(code, Some(2));
        assert!(stderr.contains("not a CAP file"), "{stderr}");
    }
    println!("{cuts} truncated load files rejected with exit status 2");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn missing_file_exits_1_and_help_teaches() {
    let output = oxicard(&["cap", "dump", "/nonexistent/x.cap"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: cannot read /nonexistent/x.cap"),
        "{stderr}"
    );

    let help = oxicard(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in ["cap", "api", "Examples:", "Exit status"] {
        assert!(text.contains(needle), "--help lacks {needle}: {text}");
    }
    let help = oxicard(&["cap", "dump", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in ["--json", "--exportpath", "--component", "constant-pool"] {
        assert!(
            text.contains(needle),
            "cap dump --help lacks {needle}: {text}"
        );
    }
    let version = oxicard(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("oxicard "));
    // No subcommand is a usage error.
    assert_eq!(oxicard(&[]).status.code(), Some(2));
}
