//! Tests of the Java Card API stubs in `applets/api`.
//!
//! * the committed stub sources are what `api_stub_gen` makes of `api-surface.md`;
//! * the compiled stubs declare exactly the classes, members, modifiers, `throws` clauses and
//!   constant values of `api-tokens.tsv` / `api-classes.tsv` (read back with the JDK's `javap`,
//!   an oracle independent of the generator's parser);
//! * every golden applet compiles against the stub jar alone, and javac then produces the same
//!   class files (`javap -v`, constant pool and bytecode) as with Oracle's API jar.

use oxicard_tests::api_stub_gen::{
    api_surface_path, stub_source_dir, ApiSurface, STUB_PACKAGES, SUPPLEMENTARY_SURFACE,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Root of the repository.
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The golden reference files.
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/golden");
/// The specification tables derived from Oracle's export files and API jar.
const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec");

/// Golden folders with Java sources. One javac run compiles them together, which resolves the
/// dependencies (`lib` before `bytecodes`, `sharing/server` before `sharing/client`).
const GOLDEN_FOLDERS: [&str; 8] = [
    "hello",
    "lib",
    "bytecodes",
    "ints",
    "wallet",
    "crypto",
    "sharing",
    "widecp",
];

/// Class file major version of the stubs and of the golden class files (Java 7).
const CLASS_FILE_MAJOR: u16 = 51;

/// javac flags of the golden class files (golden README, section 3).
const GOLDEN_JAVAC_FLAGS: [&str; 7] = ["-source", "7", "-target", "7", "-g", "-encoding", "UTF-8"];

#[test]
fn regenerate_api_stubs_is_current() {
    let surface = ApiSurface::load().expect("api-surface.md parses");
    let generated = surface.generate_sources().expect("stub sources generate");
    let dir = stub_source_dir();
    let regenerate = std::env::var("OXICARD_REGENERATE").is_ok_and(|v| v == "1");
    let committed = java_files_under(&dir);
    let mut stale = Vec::new();
    for (path, text) in &generated {
        let file = dir.join(path);
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            if regenerate {
                std::fs::create_dir_all(file.parent().expect("stub file has a parent"))
                    .expect("create stub directory");
                std::fs::write(&file, text).expect("write stub source");
            } else {
                stale.push(path.clone());
            }
        }
    }
    for path in committed.iter().filter(|p| !generated.contains_key(*p)) {
        if regenerate {
            std::fs::remove_file(dir.join(path)).expect("remove obsolete stub source");
        } else {
            stale.push(format!("{path} (not generated any more)"));
        }
    }
    assert!(
        stale.is_empty(),
        "stub sources differ from api-surface.md; run \
         `OXICARD_REGENERATE=1 cargo test -p oxicard-tests --test api_stubs`: {stale:?}"
    );
}

/// Relative paths (with `/`) of all `.java` files under `dir`.
fn java_files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "java") {
                let relative = path.strip_prefix(dir).expect("path is under dir");
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

/// Builds the stub jar once per test run with `scripts/build-api.sh` (a no-op when it is current).
fn stub_jar() -> &'static Path {
    static JAR: OnceLock<PathBuf> = OnceLock::new();
    JAR.get_or_init(|| {
        let script = Path::new(REPO).join("scripts/build-api.sh");
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .expect("run scripts/build-api.sh");
        assert!(
            output.status.success(),
            "scripts/build-api.sh failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let jar = Path::new(REPO).join("build/api/oxicard-api.jar");
        assert!(jar.is_file(), "{} was not built", jar.display());
        jar
    })
}

/// Runs a command and returns its standard output; panics with its output if it fails.
fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("command output is UTF-8")
}

/// The class files in the stub jar: entry name → bytes.
fn stub_jar_classes() -> BTreeMap<String, Vec<u8>> {
    let file = std::fs::File::open(stub_jar()).expect("open stub jar");
    let mut archive = zip::ZipArchive::new(file).expect("stub jar is a zip file");
    let mut classes = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("read jar entry");
        if entry.name().ends_with(".class") {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read class file");
            classes.insert(entry.name().to_string(), bytes);
        }
    }
    classes
}

/// A class as `javap -p -s -constants` shows it.
#[derive(Debug, Default)]
struct JavapClass {
    /// Binary name, e.g. `javacard.security.Signature$OneShot`.
    name: String,
    /// Class modifiers plus `interface` for an interface.
    modifiers: BTreeSet<String>,
    /// Superclass (classes only).
    superclass: Option<String>,
    /// Direct superinterfaces.
    interfaces: Vec<String>,
    /// Members: (name, descriptor) → member.
    members: BTreeMap<(String, String), JavapMember>,
}

/// A field or method as `javap -p -s -constants` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JavapMember {
    /// Modifiers (`public`, `static`, …).
    modifiers: BTreeSet<String>,
    /// Whether this is a field.
    is_field: bool,
    /// Constant value of a field, as printed.
    value: Option<String>,
    /// Simple names of the declared thrown exceptions.
    throws: Vec<String>,
}

const JAVA_MODIFIERS: [&str; 12] = [
    "public",
    "protected",
    "private",
    "static",
    "final",
    "abstract",
    "native",
    "synchronized",
    "transient",
    "volatile",
    "strictfp",
    "default",
];

/// Parses the output of `javap -p -s -constants` for several classes.
fn parse_javap(text: &str) -> Vec<JavapClass> {
    let mut classes = Vec::new();
    let mut current: Option<JavapClass> = None;
    let mut pending: Option<(String, JavapMember)> = None;
    for line in text.lines() {
        if line.starts_with("Compiled from") || line.trim().is_empty() {
            continue;
        }
        if let Some(header) = line.strip_suffix(" {").filter(|_| !line.starts_with(' ')) {
            current = Some(parse_javap_class_header(header));
        } else if line == "}" {
            classes.push(current.take().expect("`}` closes a class"));
        } else if let Some(descriptor) = line.trim().strip_prefix("descriptor: ") {
            let (name, member) = pending.take().expect("descriptor follows a member");
            let class = current.as_mut().expect("member inside a class");
            class.members.insert((name, descriptor.to_string()), member);
        } else if let Some(declaration) = line.trim().strip_suffix(';') {
            if declaration == "static {}" {
                continue;
            }
            let class_name = current.as_ref().map(|c| c.name.clone()).unwrap_or_default();
            pending = Some(parse_javap_member(declaration, &class_name));
        } else {
            panic!("unexpected javap line {line:?}");
        }
    }
    classes
}

/// Parses `public final class a.B extends a.C implements a.D, a.E`.
fn parse_javap_class_header(header: &str) -> JavapClass {
    let mut class = JavapClass::default();
    let mut list = "";
    // javap separates interface lists with "," and no space.
    for word in header.split([' ', ',']).filter(|w| !w.is_empty()) {
        match (word, list) {
            ("class", "") => list = "name",
            ("interface", "") => {
                class.modifiers.insert("interface".to_string());
                list = "name";
            }
            (_, "") => {
                class.modifiers.insert(word.to_string());
            }
            (_, "name") => {
                class.name = word.to_string();
                list = "after name";
            }
            ("extends", _) | ("implements", _) => list = word,
            (_, "extends") if !class.modifiers.contains("interface") => {
                class.superclass = Some(word.to_string());
            }
            _ => class.interfaces.push(word.to_string()),
        }
    }
    class
}

/// Parses `public static final short X = 5` or `public void m(byte[], short) throws a.E`;
/// returns the member name (`<init>` for a constructor) and the member.
fn parse_javap_member(declaration: &str, class_name: &str) -> (String, JavapMember) {
    let (signature, throws) = match declaration.split_once(") throws ") {
        Some((signature, throws)) => (
            format!("{signature})"),
            throws
                .split(", ")
                .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
                .collect(),
        ),
        None => (declaration.to_string(), Vec::new()),
    };
    let (signature, value) = match signature.split_once(" = ") {
        Some((signature, value)) => (signature.to_string(), Some(value.to_string())),
        None => (signature, None),
    };
    let is_field = !signature.contains('(');
    let head = signature.split('(').next().unwrap_or_default();
    let words: Vec<&str> = head.split_whitespace().collect();
    let modifiers: BTreeSet<String> = words
        .iter()
        .filter(|w| JAVA_MODIFIERS.contains(w))
        .map(|w| w.to_string())
        .collect();
    let last = words.last().copied().unwrap_or_default();
    let name = if !is_field && last == class_name {
        "<init>".to_string()
    } else {
        last.to_string()
    };
    let member = JavapMember {
        modifiers,
        is_field,
        value,
        throws,
    };
    (name, member)
}

/// Runs `javap` with `flags` on the given class file URLs or paths.
fn javap(flags: &[&str], classes: &[String]) -> String {
    run(Command::new("javap").args(flags).args(classes))
}

/// Data rows (tab-separated fields) of a specification table, without comments and header.
fn spec_table(name: &str) -> Vec<Vec<String>> {
    let path = Path::new(SPEC).join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("package\t"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .filter(|row: &Vec<String>| STUB_PACKAGES.contains(&row[0].as_str()))
        .collect()
}

/// A member of a class: (class binary name, member name, descriptor).
type MemberKey = (String, String, String);

/// What is compared of a member: modifiers, constant value, sorted thrown exception names.
type MemberFacts = (BTreeSet<String>, Option<String>, Vec<String>);

/// Splits a comma-separated list (`;` in some columns) into a set, dropping empty items.
fn list_set(text: &str, separator: char) -> BTreeSet<String> {
    text.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn stub_jar_holds_java7_class_files_of_every_surface_class() {
    let classes = stub_jar_classes();
    for (name, bytes) in &classes {
        assert_eq!(
            bytes.get(..4),
            Some(&[0xCA, 0xFE, 0xBA, 0xBE][..]),
            "{name}"
        );
        let major = bytes.get(6..8).map(|b| u16::from_be_bytes([b[0], b[1]]));
        assert_eq!(
            major,
            Some(CLASS_FILE_MAJOR),
            "class file version of {name}"
        );
    }
    let surface = ApiSurface::load().expect("api-surface.md parses");
    let expected: BTreeSet<String> = surface
        .classes
        .iter()
        .map(|c| format!("{}.class", c.binary_name().replace('.', "/")))
        .collect();
    let actual: BTreeSet<String> = classes.keys().cloned().collect();
    assert_eq!(actual, expected, "classes in the stub jar");
    // 85 classes in api-surface.md, java.io.IOException and three java.lang placeholders.
    assert_eq!(actual.len(), 89);
}

#[test]
fn stub_jar_surface_matches_api_tokens_tsv() {
    let jar = stub_jar();
    let urls: Vec<String> = stub_jar_classes()
        .keys()
        .map(|entry| format!("jar:file:{}!/{entry}", jar.display()))
        .collect();
    let javap_classes = parse_javap(&javap(&["-p", "-s", "-constants"], &urls));
    assert_eq!(javap_classes.len(), urls.len(), "javap shows every class");
    let by_name: BTreeMap<&str, &JavapClass> =
        javap_classes.iter().map(|c| (c.name.as_str(), c)).collect();

    // Classes: modifiers, superclass, all superinterfaces (api-classes.tsv).
    let class_rows = spec_table("api-classes.tsv");
    let mut mismatches = Vec::new();
    let mut exported = BTreeSet::new();
    for row in &class_rows {
        let name = format!("{}.{}", row[0], row[1]);
        exported.insert(name.clone());
        let Some(class) = by_name.get(name.as_str()) else {
            mismatches.push(format!("{name}: missing from the stub jar"));
            continue;
        };
        let mut expected_modifiers = list_set(&row[4], ',');
        expected_modifiers.remove("shareable");
        let mut actual_modifiers = class.modifiers.clone();
        if actual_modifiers.contains("interface") {
            actual_modifiers.insert("abstract".to_string());
        }
        if actual_modifiers != expected_modifiers {
            mismatches.push(format!(
                "{name}: modifiers {actual_modifiers:?}, expected {expected_modifiers:?}"
            ));
        }
        let superclass = match (&class.superclass, class.modifiers.contains("interface")) {
            (Some(s), _) => s.clone(),
            (None, true) => "java.lang.Object".to_string(),
            (None, false) if name == "java.lang.Object" => String::new(),
            (None, false) => "java.lang.Object".to_string(),
        };
        if superclass != row[5] {
            mismatches.push(format!(
                "{name}: superclass {superclass}, expected {}",
                row[5]
            ));
        }
        let all_interfaces = all_superinterfaces(&name, &by_name);
        let expected_interfaces = list_set(&row[6], ';');
        if all_interfaces != expected_interfaces {
            mismatches.push(format!(
                "{name}: superinterfaces {all_interfaces:?}, expected {expected_interfaces:?}"
            ));
        }
    }
    for class in &javap_classes {
        let visible = class.modifiers.contains("public") || class.modifiers.contains("protected");
        if visible && !exported.contains(&class.name) {
            mismatches.push(format!("{}: public but not in api-classes.tsv", class.name));
        }
    }
    assert!(
        mismatches.is_empty(),
        "class mismatches:\n{}",
        mismatches.join("\n")
    );
    assert_eq!(
        exported.len(),
        86,
        "classes of the stub packages in api-classes.tsv"
    );

    // Members: every declared public/protected field and method (api-tokens.tsv).
    let mut expected: BTreeMap<MemberKey, MemberFacts> = BTreeMap::new();
    for row in spec_table("api-tokens.tsv") {
        if row[9] != "declared" {
            continue;
        }
        let class = format!("{}.{}", row[0], row[1]);
        let value = row[8].split_whitespace().next().map(str::to_string);
        let throws: Vec<String> = row
            .get(11)
            .map(|t| list_set(t, ',').into_iter().collect())
            .unwrap_or_default();
        let key = (class, row[4].clone(), row[5].clone());
        let previous = expected.insert(key.clone(), (list_set(&row[7], ','), value, throws));
        assert!(previous.is_none(), "{key:?} listed twice in api-tokens.tsv");
    }
    let mut actual = BTreeMap::new();
    for class in &javap_classes {
        for ((name, descriptor), member) in &class.members {
            let visible =
                member.modifiers.contains("public") || member.modifiers.contains("protected");
            if !visible {
                continue;
            }
            let mut modifiers = member.modifiers.clone();
            if class.modifiers.contains("interface") && !member.is_field {
                modifiers.insert("abstract".to_string());
            }
            let throws: Vec<String> = member
                .throws
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            actual.insert(
                (class.name.clone(), name.clone(), descriptor.clone()),
                (modifiers, member.value.clone(), throws),
            );
        }
    }
    let mut member_mismatches = Vec::new();
    for (key, want) in &expected {
        match actual.get(key) {
            None => member_mismatches.push(format!("missing {key:?}")),
            Some(got) if got != want => {
                member_mismatches.push(format!("{key:?}: stub {got:?}, expected {want:?}"))
            }
            Some(_) => {}
        }
    }
    for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
        member_mismatches.push(format!("not in api-tokens.tsv: {key:?}"));
    }
    assert!(
        member_mismatches.is_empty(),
        "{} member mismatches:\n{}",
        member_mismatches.len(),
        member_mismatches.join("\n")
    );
    // Every constant and member line of api-surface.md (and of the supplement) is one row.
    let surface_text = std::fs::read_to_string(api_surface_path()).expect("read api-surface.md");
    let member_lines = surface_text
        .lines()
        .chain(SUPPLEMENTARY_SURFACE.lines())
        .filter(|l| l.starts_with("- [") || l.starts_with("  - "))
        .count();
    assert_eq!(expected.len(), member_lines, "members compared");
}

/// All superinterfaces of a class or interface: its own, its superclasses', and theirs.
fn all_superinterfaces(name: &str, classes: &BTreeMap<&str, &JavapClass>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![name.to_string()];
    while let Some(current) = pending.pop() {
        let Some(class) = classes.get(current.as_str()) else {
            continue;
        };
        for interface in &class.interfaces {
            if found.insert(interface.clone()) {
                pending.push(interface.clone());
            }
        }
        pending.extend(class.superclass.iter().cloned());
    }
    found
}

/// How the golden sources find the API when compiled against the stubs.
#[derive(Clone, Copy, Debug)]
enum ApiPath {
    /// `-cp oxicard-api.jar`, with the JDK's own `java.lang`: the golden command line.
    ClassPath,
    /// `-bootclasspath oxicard-api.jar`: the stubs' `java.lang` replaces the JDK's.
    BootClassPath,
}

/// Compiles the Java sources of the given golden folders against the stub jar in one javac run,
/// with the golden javac flags, and checks that javac produces the golden class files.
///
/// `javap -c -p -s -constants` (bytecode, member signatures, constant values) must be identical
/// for every class. When this javac is the one that made the golden files (index.json), the class
/// files must also be byte-identical, which covers the constant pool and debug attributes.
fn compile_golden_against_stubs(folders: &[&str], api_path: ApiPath) {
    let jar = stub_jar().display().to_string();
    let out = std::env::temp_dir().join(format!(
        "oxicard-api-stubs-{}-{api_path:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("create javac output directory");

    let mut sources = Vec::new();
    let mut golden_classes = BTreeMap::new();
    for folder in folders {
        let root = Path::new(GOLDEN).join(folder);
        sources.extend(files_with_extension(&root.join("src"), "java"));
        for class in files_with_extension(&root.join("classes"), "class") {
            let relative = class
                .strip_prefix(root.join("classes"))
                .expect("class is under classes/")
                .to_string_lossy()
                .replace('\\', "/");
            golden_classes.insert(relative, class);
        }
    }
    assert!(!sources.is_empty(), "no golden sources under {GOLDEN}");
    let api_flag = match api_path {
        ApiPath::ClassPath => "-cp",
        ApiPath::BootClassPath => "-bootclasspath",
    };
    run(Command::new("javac")
        .args(GOLDEN_JAVAC_FLAGS)
        .args(["-Xlint:-options", api_flag, &jar, "-d"])
        .arg(&out)
        .args(&sources));

    let compiled: BTreeMap<String, PathBuf> = files_with_extension(&out, "class")
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&out)
                .expect("class is under the output directory")
                .to_string_lossy()
                .replace('\\', "/");
            (relative, path)
        })
        .collect();
    assert_eq!(
        compiled.keys().collect::<Vec<_>>(),
        golden_classes.keys().collect::<Vec<_>>(),
        "javac made the golden set of classes"
    );

    let listing = |paths: Vec<String>| -> Vec<String> {
        let text = javap(&["-c", "-p", "-s", "-constants"], &paths);
        let sections: Vec<String> = text
            .split("Compiled from")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
            .collect();
        assert_eq!(sections.len(), paths.len(), "one javap listing per class");
        sections
    };
    let path_strings = |m: &BTreeMap<String, PathBuf>| -> Vec<String> {
        m.values().map(|p| p.display().to_string()).collect()
    };
    let ours = listing(path_strings(&compiled));
    let golden = listing(path_strings(&golden_classes));
    for ((name, ours), golden) in compiled.keys().zip(&ours).zip(&golden) {
        if ours != golden {
            let first_difference = ours
                .lines()
                .zip(golden.lines())
                .find(|(a, b)| a != b)
                .map_or_else(String::new, |(a, b)| {
                    format!("\n  stubs:  {a}\n  golden: {b}")
                });
            panic!("{name}: javap -c differs from the golden class file ({api_path:?}){first_difference}");
        }
    }

    if javac_made_golden_files() {
        for (name, path) in &compiled {
            let ours = std::fs::read(path).expect("read compiled class");
            let golden = std::fs::read(&golden_classes[name]).expect("read golden class");
            assert!(
                ours == golden,
                "{name}: class file differs from the golden one ({api_path:?})"
            );
        }
    } else {
        eprintln!("javac is not the golden files' javac: skipped the byte-for-byte comparison");
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Whether `javac -version` is the javac that produced the golden class files (index.json).
fn javac_made_golden_files() -> bool {
    let index_path = Path::new(GOLDEN).join("index.json");
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&index_path).expect("read golden index.json"),
    )
    .expect("index.json is JSON");
    let golden_javac = index["javac"].as_str().expect("index.json names its javac");
    let output = Command::new("javac")
        .arg("-version")
        .output()
        .expect("run javac -version");
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    golden_javac.starts_with(&format!("{version} "))
}

/// All files under `dir` with the given extension, sorted.
fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn golden_applets_compile_against_stub_jar_into_golden_class_files() {
    // The golden command line: the API jar on the class path, the JDK's java.lang.
    compile_golden_against_stubs(&GOLDEN_FOLDERS, ApiPath::ClassPath);
}

#[test]
fn golden_applets_compile_with_stub_java_lang_into_golden_class_files() {
    // With the stubs as the boot class path, java.lang comes from the stubs too. `bytecodes` is
    // left out: it uses `@SuppressWarnings` and `cond ? null : ref` expressions, for which javac
    // needs java.lang.SuppressWarnings and the boxing classes (Byte, Short, ...). Java Card's
    // java.lang has none of them (nor has Oracle's API jar), which is why the golden files were
    // compiled against the JDK's java.lang.
    let folders: Vec<&str> = GOLDEN_FOLDERS
        .iter()
        .copied()
        .filter(|f| *f != "bytecodes")
        .collect();
    compile_golden_against_stubs(&folders, ApiPath::BootClassPath);
}
