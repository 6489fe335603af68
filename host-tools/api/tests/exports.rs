//! The generated API export files: committed copies are current, each parses with the
//! oxicard-cap export parser and carries exactly the rows of the token tables (read here
//! with a separate, minimal TSV reader), and the bytes agree with Oracle's files where
//! we have them (the worked example in export-format.md, the referenced packages of the
//! golden server.exp).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use oxicard_api::{export_file_path, generate_api_exports, write_api_exports, ApiTables, Platform};
use oxicard_cap::export::model::ClassModel;
use oxicard_cap::export::{ExportFile, FormatVersion, PackageVersion};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec");
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");
const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../applets/api/exp");

const PLATFORMS: [&str; 4] = ["3.0.4", "3.0.5", "3.1.0", "3.2.0"];

/// A TSV table as maps from column name to cell, comment lines skipped.
fn table(name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(format!("{SPEC}/{name}")).expect(name);
    let mut lines = text.lines().filter(|line| !line.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split('\t'))
                .map(|(column, cell)| (column.to_string(), cell.to_string()))
                .collect()
        })
        .collect()
}

fn since_at_most(row: &BTreeMap<String, String>, target: &str) -> bool {
    let index = |v: &str| PLATFORMS.iter().position(|p| *p == v).expect("platform");
    index(&row["since"]) <= index(target)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn flags(words: &str) -> u16 {
    words
        .split(',')
        .map(|word| match word {
            "public" => 0x0001,
            "protected" => 0x0004,
            "static" => 0x0008,
            "final" => 0x0010,
            "abstract" => 0x0400,
            other => panic!("access word {other}"),
        })
        .sum()
}

fn generated(target: &str) -> BTreeMap<String, Vec<u8>> {
    generate_api_exports(Path::new(SPEC), target)
        .expect("generate")
        .into_iter()
        .collect()
}

/// Checks one generated export set against the three tables.
fn check_against_tables(target: &str) -> usize {
    let files = generated(target);
    let packages = table("api-packages.tsv");
    let classes = table("api-classes.tsv");
    let tokens = table("api-tokens.tsv");
    let mut rows_checked = 0;

    let present: BTreeSet<String> = packages
        .iter()
        .filter(|p| p[&format!("ver_in_{target}")] != "-")
        .map(|p| p["package"].clone())
        .collect();
    assert_eq!(files.keys().cloned().collect::<BTreeSet<_>>(), present);

    for package in &packages {
        let name = &package["package"];
        let Some(bytes) = files.get(name) else {
            continue;
        };
        let file = ExportFile::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.format(), FormatVersion::V2_3);
        assert_eq!(file.package_name(), name.replace('.', "/"));
        assert_eq!(hex(file.package_aid()), package["aid_hex"], "{name}");
        assert_eq!(
            file.version().to_string(),
            package[&format!("ver_in_{target}")]
        );
        assert_eq!(
            file.package().is_library(),
            package["pkg_flags"] == "library"
        );
        if target == "3.2.0" {
            let referenced: Vec<String> = file
                .referenced_packages()
                .map(|p| p.name.replace('/', "."))
                .collect();
            assert_eq!(
                referenced.join(","),
                package["referenced_packages(3.2.0 exp)"]
            );
        }
        for referenced in file.referenced_packages() {
            let row = packages
                .iter()
                .find(|p| p["package"] == referenced.name.replace('/', "."))
                .expect("referenced package in the table");
            assert_eq!(hex(referenced.aid), row["aid_hex"]);
            assert_eq!(
                referenced.version.to_string(),
                row[&format!("ver_in_{target}")]
            );
            assert_eq!(referenced.flags, 0);
        }

        let class_rows: Vec<_> = classes
            .iter()
            .filter(|c| &c["package"] == name && since_at_most(c, target))
            .collect();
        assert_eq!(usize::from(file.class_count()), class_rows.len(), "{name}");
        for row in class_rows {
            let class_name = format!("{}/{}", name.replace('.', "/"), row["class"]);
            let class = file.class(&class_name).expect(&class_name);
            assert_eq!(class.token.to_string(), row["class_token"], "{class_name}");
            assert_eq!(
                format!("0x{:04X}", class.access_flags),
                row["exp_access_flags"]
            );
            let superclass = class.superclass().unwrap_or("").replace('/', ".");
            assert_eq!(superclass, row["superclass"], "{class_name}");
            if !superclass.is_empty() {
                assert_eq!(class.supers().next(), Some("java/lang/Object"));
            }
            let interfaces: Vec<String> = class.interfaces().map(|i| i.replace('/', ".")).collect();
            assert_eq!(interfaces.join(";"), row["all_superinterfaces"]);
            if target == "3.2.0" {
                assert_eq!(
                    class.cap22_inheritable_method_count.map(|c| c.to_string()),
                    Some(row["cap22_inheritable_count"].clone()),
                    "{class_name}"
                );
            }

            let member_rows: Vec<_> = tokens
                .iter()
                .filter(|t| &t["package"] == name && t["class"] == row["class"])
                .filter(|t| since_at_most(t, target))
                .collect();
            let entries = usize::from(class.field_count()) + usize::from(class.method_count());
            assert_eq!(entries, member_rows.len(), "{class_name}");
            // Resolve the names once; the view resolves through the pool on every call.
            let model = ClassModel::from(class);
            for member in member_rows {
                assert_eq!(member["class_token"], row["class_token"]);
                let token = member["token"].parse::<u8>().expect("token");
                let access = flags(&member["access"]);
                let found = match member["kind"].as_str() {
                    "const" | "static_field" | "instance_field" => model.fields.iter().any(|f| {
                        let value = member["constant_value"].split(' ').next().unwrap_or("");
                        f.name == member["name"]
                            && f.descriptor == member["descriptor"]
                            && f.token == token
                            && f.access_flags == access
                            && f.constant_value.map(|v| v.to_string()).unwrap_or_default() == value
                    }),
                    _ => model.methods.iter().any(|m| {
                        m.name == member["name"]
                            && m.descriptor == member["descriptor"]
                            && m.token == token
                            && m.access_flags == access
                    }),
                };
                assert!(found, "{class_name}: {member:?}");
                rows_checked += 1;
            }
        }
    }
    rows_checked
}

#[test]
fn exports_for_3_0_5_carry_exactly_the_tokens_of_the_tables() {
    let rows = check_against_tables("3.0.5");
    println!("3.0.5: {rows} token rows found in the generated export files");
    assert!(rows > 1000);
}

#[test]
fn exports_for_every_platform_carry_exactly_the_tokens_of_the_tables() {
    // 3.2.0 also checks the referenced packages and CAP22 counts of Oracle's 3.2.0 set.
    for target in ["3.0.4", "3.1.0", "3.2.0"] {
        assert!(check_against_tables(target) > 1000, "{target}");
    }
}

#[test]
fn the_six_core_packages_are_generated_with_their_3_0_5_versions() {
    let files = generated("3.0.5");
    for (package, version) in [
        ("java.lang", "1.0"),
        ("javacard.framework", "1.6"),
        ("javacard.security", "1.6"),
        ("javacardx.crypto", "1.6"),
        ("javacardx.apdu", "1.0"),
        ("javacardx.apdu.util", "1.0"),
    ] {
        let file = ExportFile::parse(&files[package]).expect(package);
        assert_eq!(file.version().to_string(), version, "{package}");
        assert!(file.class_count() > 0);
    }
    assert!(!generated("3.0.4").contains_key("javacardx.apdu.util"));
}

#[test]
fn java_lang_matches_the_worked_example_of_the_format_spec() {
    let files = generated("3.0.5");
    let lang = &files["java.lang"];
    let mut expected = Vec::new();
    expected.extend_from_slice(&[0x00, 0xFA, 0xCA, 0xDE, 0x03, 0x02, 0x00, 0x1E]);
    for text in [
        "<init>",
        "()V",
        "equals",
        "(Ljava/lang/Object;)Z",
        "java/lang/Object",
    ] {
        expected.push(1);
        expected.extend_from_slice(&(text.len() as u16).to_be_bytes());
        expected.extend_from_slice(text.as_bytes());
    }
    expected.extend_from_slice(&[7, 0, 4]);
    assert!(lang.starts_with(&expected));
    let package = [
        0x0D, 0x01, 0x00, 0x1C, 0x00, 0x01, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x62, 0x00, 0x01,
    ];
    let object_class = [
        0x00, 0x1D, 0x00, 0x0C, // this_package #29, no referenced packages, 12 classes
        0x00, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // Object
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, // <init>()V static token 0
        0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, // equals virtual token 0
        0x01, // CAP22 count
        0x01, 0x00, 0x01, 0x00, 0x07, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x02,
    ];
    let mut tail = package.to_vec();
    tail.extend_from_slice(&object_class);
    assert!(
        lang.windows(tail.len()).any(|w| w == tail.as_slice()),
        "package entry followed by the Object and Throwable class_info"
    );
}

#[test]
fn framework_and_lang_match_the_references_in_oracles_server_exp() {
    let golden = std::fs::read(format!("{GOLDEN}/sharing/server.exp")).expect("server.exp");
    let server = ExportFile::parse(&golden).expect("server.exp");
    let files = generated("3.0.5");
    for referenced in server.referenced_packages() {
        let ours = ExportFile::parse(&files[&referenced.name.replace('/', ".")]).expect("ours");
        assert_eq!(ours.package_aid(), referenced.aid);
        assert_eq!(ours.version(), referenced.version);
    }
    let framework = ExportFile::parse(&files["javacard.framework"]).expect("framework");
    let shareable = framework
        .class("javacard/framework/Shareable")
        .expect("Shareable");
    assert!(shareable.is_shareable() && shareable.is_interface());
    assert_eq!(framework.version(), PackageVersion { major: 1, minor: 6 });
}

#[test]
fn committed_export_files_are_current() {
    let files = generate_api_exports(Path::new(SPEC), "3.0.5").expect("generate");
    let mut expected: BTreeSet<PathBuf> = BTreeSet::new();
    for (package, bytes) in &files {
        let path = Path::new(COMMITTED).join(export_file_path(package));
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (regenerate with `oxicard api exports`)",
                path.display()
            )
        });
        assert!(
            committed == *bytes,
            "{} is stale: regenerate with `oxicard api exports --spec ../shared/spec --out applets/api/exp`",
            path.display()
        );
        expected.insert(path);
    }
    let mut found = BTreeSet::new();
    let mut dirs = vec![PathBuf::from(COMMITTED)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "exp") {
                found.insert(path);
            }
        }
    }
    assert_eq!(
        found, expected,
        "files in applets/api/exp that the tables do not make"
    );
}

#[test]
fn write_api_exports_uses_oracles_layout() {
    let out = std::env::temp_dir().join(format!("oxicard-api-test-{}", std::process::id()));
    let written = write_api_exports(Path::new(SPEC), "3.0.5", &out).expect("write");
    assert!(written.contains(&out.join("javacard/framework/javacard/framework.exp")));
    assert!(written.contains(&out.join("javacardx/apdu/util/javacard/util.exp")));
    assert!(written.iter().all(|path| path.is_file()));
    std::fs::remove_dir_all(&out).expect("clean up");
}

#[test]
fn bad_targets_and_tables_are_reported() {
    let err = generate_api_exports(Path::new(SPEC), "2.2.2").expect_err("unknown target");
    assert!(err.to_string().contains("2.2.2"));
    let packages = std::fs::read_to_string(format!("{SPEC}/api-packages.tsv")).expect("tsv");
    let classes = std::fs::read_to_string(format!("{SPEC}/api-classes.tsv")).expect("tsv");
    let tokens = std::fs::read_to_string(format!("{SPEC}/api-tokens.tsv")).expect("tsv");
    let tables = ApiTables::parse(&packages, &classes, &tokens).expect("tables");
    assert_eq!(tables.packages.len(), 24);
    let broken = classes.replacen("\t0x0601\t", "\t0x0600\t", 1);
    let err = ApiTables::parse(&packages, &broken, &tokens).expect_err("flags mismatch");
    assert!(
        err.to_string().starts_with("api-classes.tsv line "),
        "{err}"
    );
    assert_eq!(Platform::DEFAULT.to_string(), "3.0.5");
}
