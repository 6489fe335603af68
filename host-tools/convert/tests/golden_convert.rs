//! Converts every golden package's javac output and checks the result against Oracle's
//! converter output and the golden APDU transcripts: our CAPs must run every transcript on
//! `oxicard_jcre::Card` with the same responses, import the same packages, give exported
//! classes/methods/fields the same tokens, and have method code no larger than Oracle's.
//! Converting twice must give identical bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::{replay, Pkg, PACKAGES};

use oxicard_cap::export::model::ExportFileModel;
use oxicard_convert::{convert_package, ConvertOutput};

use common::GOLDEN;

/// Transcripts that cannot pass yet on our runtime, whatever the CAP, with the reason. For
/// these, our CAPs must give exactly the exchanges right that Oracle's CAPs give.
const PENDING: &[(&str, &str)] = &[];

/// Packages whose Method component may still be larger than Oracle's (none: the issue's
/// check is "the same size or smaller" for every package).
const SIZE_PENDING: &[&str] = &[];

fn out_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("oxicard-convert-golden-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Converts every package (dependencies first), writing each export file for the next.
fn convert_all() -> HashMap<&'static str, Result<ConvertOutput, String>> {
    let dir = out_dir();
    let mut out = HashMap::new();
    for p in PACKAGES {
        let r = convert_package(&common::golden_options(p, &dir)).map_err(|e| e.to_string());
        if let Ok(o) = &r {
            std::fs::write(dir.join(format!("{}.exp", p.last)), &o.export).unwrap();
        }
        out.insert(p.last, r);
    }
    out
}

fn golden_cap(p: &Pkg) -> oxicard_cap::model::Cap {
    let bytes = std::fs::read(format!("{GOLDEN}/{}/{}.cap", p.folder, p.last)).unwrap();
    let jar = oxicard_cap::jar::read_cap_jar(&bytes).unwrap();
    oxicard_cap::model::Cap::parse_load_file(&jar.load_file_data_block(true)).unwrap()
}

fn method_code_size(cap: &oxicard_cap::model::Cap) -> usize {
    cap.method.method_area.len()
}

fn components_size(components: &[(oxicard_cap::ComponentTag, Vec<u8>)]) -> usize {
    components
        .iter()
        .filter(|(t, _)| *t != oxicard_cap::ComponentTag::Debug)
        .map(|(_, b)| b.len())
        .sum()
}

#[test]
fn golden_packages_convert_run_and_match_oracle() {
    let results = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run_all)
        .unwrap()
        .join()
        .unwrap();
    assert!(results.is_empty(), "failures:\n{}", results.join("\n"));
}

fn run_all() -> Vec<String> {
    let converted = convert_all();
    let mut failures = Vec::new();
    let mut loads: HashMap<String, Vec<u8>> = HashMap::new();
    let mut oracle_loads: HashMap<String, Vec<u8>> = HashMap::new();
    for p in PACKAGES {
        let bytes = std::fs::read(format!("{GOLDEN}/{}/{}.cap", p.folder, p.last)).unwrap();
        let jar = oxicard_cap::jar::read_cap_jar(&bytes).unwrap();
        oracle_loads.insert(p.aid.to_string(), jar.load_file_data_block(true));
    }
    eprintln!(
        "{:<10} {:>8} {:>8} {:>10} {:>10}",
        "package", "ours", "oracle", "code ours", "code orcl"
    );
    for p in PACKAGES {
        match &converted[p.last] {
            Err(e) => failures.push(format!("{}: conversion failed: {e}", p.last)),
            Ok(o) => {
                loads.insert(p.aid.to_string(), o.load_file.clone());
                let ours = oxicard_cap::model::Cap::parse_load_file(&o.load_file).unwrap();
                let oracle = golden_cap(p);
                let golden_size: usize = oracle
                    .encode_components()
                    .unwrap()
                    .iter()
                    .map(|(_, b)| b.len())
                    .sum();
                eprintln!(
                    "{:<10} {:>8} {:>8} {:>10} {:>10}",
                    p.last,
                    components_size(&o.components),
                    golden_size,
                    method_code_size(&ours),
                    method_code_size(&oracle)
                );
                let mut ours_imports: Vec<_> = ours.import.packages.clone();
                let mut oracle_imports: Vec<_> = oracle.import.packages.clone();
                ours_imports.sort_by(|a, b| a.aid.cmp(&b.aid));
                oracle_imports.sort_by(|a, b| a.aid.cmp(&b.aid));
                if ours_imports != oracle_imports {
                    failures.push(format!(
                        "{}: imports differ: {ours_imports:?} vs {oracle_imports:?}",
                        p.last
                    ));
                }
                if ours.applet.is_some() != oracle.applet.is_some()
                    || ours.export.is_some() != oracle.export.is_some()
                {
                    failures.push(format!(
                        "{}: Applet/Export components present differ",
                        p.last
                    ));
                }
                let tags = |c: &[(oxicard_cap::ComponentTag, Vec<u8>)]| -> Vec<u8> {
                    let mut t: Vec<u8> = c.iter().map(|(t, _)| t.to_u8()).collect();
                    t.sort_unstable();
                    t
                };
                let oracle_components = oracle.encode_components().unwrap();
                if tags(&o.components) != tags(&oracle_components) {
                    failures.push(format!(
                        "{}: components present differ: ours {:?}, Oracle's {:?}",
                        p.last,
                        tags(&o.components),
                        tags(&oracle_components)
                    ));
                }
                if descriptor_shape(&ours) != descriptor_shape(&oracle) {
                    failures.push(format!(
                        "{}: Descriptor classes differ:\n ours   {:?}\n oracle {:?}",
                        p.last,
                        descriptor_shape(&ours),
                        descriptor_shape(&oracle)
                    ));
                }
                let too_big = method_code_size(&ours) > method_code_size(&oracle);
                if too_big != SIZE_PENDING.contains(&p.last) {
                    failures.push(format!(
                        "{}: Method component {} bytes vs Oracle's {} (update SIZE_PENDING)",
                        p.last,
                        method_code_size(&ours),
                        method_code_size(&oracle)
                    ));
                }
                let golden_exp = ExportFileModel::parse(
                    &std::fs::read(format!("{GOLDEN}/{}/{}.exp", p.folder, p.last)).unwrap(),
                )
                .unwrap();
                let our_exp = ExportFileModel::parse(&o.export).unwrap();
                if tokens(&golden_exp) != tokens(&our_exp) {
                    failures.push(format!(
                        "{}: exported tokens differ:\n ours   {:?}\n oracle {:?}",
                        p.last,
                        tokens(&our_exp),
                        tokens(&golden_exp)
                    ));
                }
            }
        }
    }
    // determinism
    let again = convert_all();
    for p in PACKAGES {
        if let (Ok(a), Ok(b)) = (&converted[p.last], &again[p.last]) {
            if a.cap != b.cap || a.export != b.export {
                failures.push(format!("{}: two conversions differ", p.last));
            }
        }
    }
    // transcripts
    for folder in [
        "hello",
        "bytecodes",
        "ints",
        "wallet",
        "crypto",
        "sharing",
        "widecp",
    ] {
        let o = replay(folder, &loads);
        eprintln!(
            "{folder}: {}/{} exchanges pass; first failure: {:?}",
            o.passed, o.total, o.first_failure
        );
        let pending = PENDING.iter().find(|(n, _)| *n == folder);
        match pending {
            Some((_, reason)) => {
                if o.first_failure.is_none() {
                    failures.push(format!(
                        "{folder} passes now; remove it from PENDING ({reason})"
                    ));
                }
                let oracle = replay(folder, &oracle_loads);
                eprintln!(
                    "{folder} with Oracle's CAPs: {}/{} exchanges pass",
                    oracle.passed, oracle.total
                );
                if oracle.right != o.right {
                    failures.push(format!(
                        "{folder}: our CAPs get other exchanges right than Oracle's CAPs \
                         (ours {}/{}, Oracle's {}/{})",
                        o.passed, o.total, oracle.passed, oracle.total
                    ));
                }
            }
            None => {
                if o.first_failure.is_some() || o.total == 0 {
                    failures.push(format!("{folder}: transcript: {:?}", o.first_failure));
                }
            }
        }
    }
    failures
}

/// Per Descriptor class (sorted): token, access flags, the fields' (token of public ones,
/// access flags) and the methods' (access flags, abstract) — what does not depend on
/// offsets or package-private token choices.
type ClassShape = (u8, u8, Vec<(u8, u8)>, Vec<(u8, bool)>);

fn descriptor_shape(cap: &oxicard_cap::model::Cap) -> Vec<ClassShape> {
    let Some(d) = &cap.descriptor else {
        return Vec::new();
    };
    let mut out: Vec<ClassShape> = d
        .classes
        .iter()
        .map(|c| {
            let mut fields: Vec<(u8, u8)> = c
                .fields
                .iter()
                .map(|f| {
                    let public = f.access_flags & 0x05 != 0;
                    (if public { f.token } else { 0 }, f.access_flags)
                })
                .collect();
            let mut methods: Vec<(u8, bool)> = c
                .methods
                .iter()
                .map(|m| (m.access_flags, m.bytecode_count == 0))
                .collect();
            fields.sort_unstable();
            methods.sort_unstable();
            (c.token, c.access_flags, fields, methods)
        })
        .collect();
    out.sort();
    out
}

/// (class, member, token) for every exported class, field and method.
fn tokens(m: &ExportFileModel) -> Vec<(String, String, u8)> {
    let mut out = Vec::new();
    for c in &m.classes {
        out.push((c.name.clone(), String::new(), c.token));
        for f in &c.fields {
            out.push((c.name.clone(), f.name.clone(), f.token));
        }
        for me in &c.methods {
            out.push((
                c.name.clone(),
                format!("{}{}", me.name, me.descriptor),
                me.token,
            ));
        }
    }
    out.sort();
    out
}
