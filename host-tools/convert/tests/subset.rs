//! The Java Card subset check: every golden class passes; each refused construct in the
//! sources under tests/refusals is reported with the right file, line and construct.
//!
//! A refusal source marks each line that must be refused with `// refuse: <Construct>, …`.
//! Every diagnostic must match a marker and every marker must be matched. Diagnostics that
//! have no line (fields, native methods) must match a marker on a line sharing a word with
//! the message. The sources are checked with int support on, except `Ints.java`.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use oxicard_convert::classfile::ClassFile;
use oxicard_convert::subset::{
    check_class, Construct, Diagnostic, Options, JAVA_CARD_JAVA_CLASSES,
};

fn refusals_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/refusals")).to_path_buf()
}

/// (line, construct, code text of the line) for every marker in the source.
fn markers(source: &str) -> Vec<(u32, Construct, String)> {
    let mut out = Vec::new();
    for (i, line) in source.lines().enumerate() {
        if let Some((code, list)) = line.split_once("// refuse: ") {
            for name in list.split(',') {
                out.push((i as u32 + 1, construct_named(name.trim()), code.to_string()));
            }
        }
    }
    out
}

fn construct_named(name: &str) -> Construct {
    use Construct::*;
    let all = [
        Float,
        Double,
        Long,
        Char,
        Int,
        String,
        Thread,
        Synchronization,
        MultiDimensionalArray,
        InvokeDynamic,
        Reflection,
        UnsupportedApi,
        Modifier,
        Limit,
        Malformed,
    ];
    *all.iter()
        .find(|c| format!("{c:?}") == name)
        .unwrap_or_else(|| panic!("unknown construct {name}"))
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| w.len() >= 4)
        .map(str::to_lowercase)
        .collect()
}

/// Every refusal source compiled once per test run (one javac run for all of them), the
/// classes grouped by source file name.
fn compiled_refusals() -> &'static HashMap<String, Vec<ClassFile>> {
    static COMPILED: OnceLock<HashMap<String, Vec<ClassFile>>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let out = common::temp_dir("subset-refusals");
        let classes = common::javac(&refusal_sources(), &out, &["-source", "8", "-target", "8"]);
        let mut by_source: HashMap<String, Vec<ClassFile>> = HashMap::new();
        for class_path in &classes {
            let class = ClassFile::read(class_path).unwrap_or_else(|e| panic!("{e}"));
            let source = class.source_file().unwrap().to_string();
            by_source.entry(source).or_default().push(class);
        }
        let _ = std::fs::remove_dir_all(&out);
        by_source
    })
}

/// Checks all the classes of one refusal source.
fn diagnostics_for(source: &Path, options: Options) -> Vec<Diagnostic> {
    let file_name = source.file_name().unwrap().to_string_lossy().into_owned();
    let classes = &compiled_refusals()[&file_name];
    classes
        .iter()
        .flat_map(|class| check_class(class, &options))
        .collect()
}

fn check_refusal_source(source: &Path, options: Options) -> usize {
    let file_name = source.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(source).unwrap();
    let expected = markers(&text);
    assert!(!expected.is_empty(), "{file_name} has no markers");
    let diagnostics = diagnostics_for(source, options);
    let mut matched = BTreeSet::new();
    for d in &diagnostics {
        assert_eq!(d.source_file, file_name, "{d}");
        let shown = d.to_string();
        match d.line {
            Some(line) => {
                assert!(
                    shown.starts_with(&format!("{file_name}:{line}: error: ")),
                    "{shown}"
                );
                let index = expected
                    .iter()
                    .position(|(l, c, _)| *l == line && *c == d.construct)
                    .unwrap_or_else(|| panic!("unexpected diagnostic {shown} ({:?})", d.construct));
                matched.insert(index);
            }
            None => {
                assert!(
                    shown.starts_with(&format!("{file_name}: error: ")),
                    "{shown}"
                );
                let message_words = words(&d.message);
                let index = expected
                    .iter()
                    .position(|(_, c, code)| {
                        *c == d.construct && !words(code).is_disjoint(&message_words)
                    })
                    .unwrap_or_else(|| panic!("unexpected diagnostic {shown} ({:?})", d.construct));
                matched.insert(index);
            }
        }
    }
    for (i, (line, construct, _)) in expected.iter().enumerate() {
        assert!(
            matched.contains(&i),
            "{file_name}:{line}: expected a {construct:?} refusal; got:\n{}",
            diagnostics
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    diagnostics.len()
}

fn refusal_sources() -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(refusals_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "java"))
        .collect();
    sources.sort();
    sources
}

#[test]
fn every_golden_class_passes() {
    let mut int_refusals = 0;
    for path in common::golden_class_files() {
        let class = ClassFile::read(&path).unwrap();
        let ints = common::golden_package(&path) == "ints";
        let found = check_class(&class, &Options { int_support: ints });
        assert!(
            found.is_empty(),
            "{}:\n{}",
            path.display(),
            found
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        if ints {
            // without int support the int package must be refused
            let refused = check_class(&class, &Options { int_support: false });
            assert!(
                refused.iter().all(|d| d.construct == Construct::Int),
                "{refused:?}"
            );
            int_refusals += refused.len();
        }
    }
    assert!(
        int_refusals > 10,
        "int refusals in the ints package: {int_refusals}"
    );
}

#[test]
fn each_refusal_source_is_refused_at_the_marked_lines() {
    let sources = refusal_sources();
    assert!(sources.len() >= 12);
    let mut total = 0;
    for source in &sources {
        let int_support = !source.ends_with("Ints.java");
        total += check_refusal_source(source, Options { int_support });
    }
    assert!(total >= 30, "{total} diagnostics");
}

#[test]
fn int_usage_passes_with_int_support() {
    let found = diagnostics_for(
        &refusals_dir().join("Ints.java"),
        Options { int_support: true },
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn message_format() {
    let found = diagnostics_for(&refusals_dir().join("Floats.java"), Options::default());
    let shown: Vec<String> = found.iter().map(|d| d.to_string()).collect();
    assert!(
        shown.contains(
            &"Floats.java:5: error: float arithmetic (fmul) is not supported on Java Card (in Floats.process)"
                .to_string()
        ),
        "{shown:#?}"
    );
    assert!(
        shown.contains(&"Floats.java: error: float type (field scale) is not supported on Java Card (in Floats)".to_string()),
        "{shown:#?}"
    );
}

/// Writes generated sources, compiles them in one javac run and checks each (int support
/// on); the diagnostics in the order of the sources.
fn check_generated(sources: &[(&str, String)]) -> Vec<Vec<Diagnostic>> {
    let dir = common::temp_dir("generated");
    let paths: Vec<PathBuf> = sources
        .iter()
        .map(|(name, source)| {
            let path = dir.join(format!("{name}.java"));
            std::fs::write(&path, source).unwrap();
            path
        })
        .collect();
    let out = dir.join("classes");
    std::fs::create_dir_all(&out).unwrap();
    common::javac(&paths, &out, &["-source", "8", "-target", "8"]);
    let found = sources
        .iter()
        .map(|(name, _)| {
            let class = ClassFile::read(&out.join(format!("{name}.class"))).unwrap();
            check_class(&class, &Options { int_support: true })
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    found
}

#[test]
fn limits_of_the_cap_format_are_refused() {
    // 256 short locals + this = 257 words; 254 locals are fine
    let locals = |n: usize| -> String { (0..n).map(|i| format!("short v{i} = {i};\n")).collect() };
    // 128 int fields = 256 words
    let fields: String = (0..128).map(|i| format!("int f{i};\n")).collect();
    // 129 public instance methods
    let methods: String = (0..129)
        .map(|i| format!("public void m{i}() {{}}\n"))
        .collect();
    let found = check_generated(&[
        (
            "ManyLocals",
            format!(
                "public class ManyLocals {{\nshort m() {{\n{}return v0;\n}}\n}}\n",
                locals(256)
            ),
        ),
        (
            "SomeLocals",
            format!(
                "public class SomeLocals {{\nshort m() {{\n{}return v0;\n}}\n}}\n",
                locals(254)
            ),
        ),
        (
            "ManyFields",
            format!("public class ManyFields {{\n{fields}}}\n"),
        ),
        (
            "ManyMethods",
            format!("public class ManyMethods {{\n{methods}}}\n"),
        ),
    ]);
    let [many_locals, some_locals, many_fields, many_methods] = &found[..] else {
        panic!("{found:?}");
    };
    assert_eq!(many_locals.len(), 1, "{many_locals:?}");
    assert_eq!(many_locals[0].construct, Construct::Limit);
    assert_eq!(many_locals[0].line, Some(3));
    assert!(
        many_locals[0].message.contains("257 local variable words"),
        "{}",
        many_locals[0]
    );
    assert!(some_locals.is_empty(), "{some_locals:?}");
    assert_eq!(many_fields.len(), 1, "{many_fields:?}");
    assert!(
        many_fields[0]
            .message
            .contains("256 words of instance fields"),
        "{}",
        many_fields[0]
    );
    assert_eq!(many_methods.len(), 1, "{many_methods:?}");
    assert!(
        many_methods[0]
            .message
            .contains("129 public or protected instance methods"),
        "{}",
        many_methods[0]
    );
}

#[test]
fn java_classes_match_the_api_table() {
    // api-classes.tsv lists every exported class of the Java Card API
    let tsv =
        std::fs::read_to_string(common::golden_dir().join("../spec/api-classes.tsv")).unwrap();
    let mut from_table: Vec<String> = tsv
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let package = cols.next()?;
            let class = cols.next()?;
            package
                .starts_with("java.")
                .then(|| format!("{}/{class}", package.replace('.', "/")))
        })
        .collect();
    from_table.sort();
    let mut ours: Vec<String> = JAVA_CARD_JAVA_CLASSES
        .iter()
        .map(|s| s.to_string())
        .collect();
    ours.sort();
    assert_eq!(ours, from_table);
    // and their only members are <init>()V and equals(Object)
    let tokens =
        std::fs::read_to_string(common::golden_dir().join("../spec/api-tokens.tsv")).unwrap();
    let members: BTreeSet<(String, String)> = tokens
        .lines()
        .filter(|l| l.starts_with("java."))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[4].to_string(), cols[5].to_string())
        })
        .collect();
    let expected: BTreeSet<(String, String)> =
        [("<init>", "()V"), ("equals", "(Ljava/lang/Object;)Z")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    assert_eq!(members, expected);
}

#[test]
fn indified_string_concatenation_is_refused_as_a_string_operation() {
    // javac 9+ compiles `"hello " + who` to invokedynamic StringConcatFactory
    let out = common::temp_dir("indy-concat");
    let classes = common::javac(
        &[refusals_dir().join("Strings.java")],
        &out,
        &["--release", "10"],
    );
    let class = ClassFile::read(&classes[0]).unwrap();
    let found = check_class(&class, &Options::default());
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        found.iter().any(|d| d.line == Some(4)
            && d.construct == Construct::String
            && d.message == "string concatenation (invokedynamic) is not supported on Java Card"),
        "{found:#?}"
    );
}
