//! Export-file model round trips: every golden `.exp` encodes back to its own bytes, and
//! any model survives encode → parse (proptest). Needs the `alloc` feature.
#![cfg(feature = "alloc")]

use oxicard_cap::export::model::{
    ClassModel, ExportFileModel, FieldModel, MethodModel, PackageModel,
};
use oxicard_cap::export::{ExportFile, FormatVersion, PackageVersion};
use proptest::prelude::*;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

const GOLDEN_EXP: [&str; 9] = [
    "hello/hello.exp",
    "lib/lib.exp",
    "bytecodes/bytecodes.exp",
    "ints/ints.exp",
    "wallet/wallet.exp",
    "crypto/crypto.exp",
    "sharing/server.exp",
    "sharing/client.exp",
    "widecp/widecp.exp",
];

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{GOLDEN}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_golden_export_file_encodes_back_to_the_same_bytes() {
    for exp in GOLDEN_EXP {
        let bytes = read(exp);
        let model = ExportFileModel::parse(&bytes).unwrap_or_else(|e| panic!("{exp}: {e}"));
        let encoded = model.encode().unwrap_or_else(|e| panic!("{exp}: {e}"));
        assert_eq!(encoded, bytes, "{exp}");
    }
}

#[test]
fn referenced_package_names_match_the_golden_files() {
    for exp in GOLDEN_EXP {
        let bytes = read(exp);
        let file = ExportFile::parse(&bytes).expect(exp);
        let listed: Vec<String> = file
            .referenced_packages()
            .map(|p| p.name.to_string())
            .collect();
        assert_eq!(file.to_model().referenced_package_names(), listed, "{exp}");
    }
}

#[test]
fn the_model_of_lib_says_what_the_converter_wrote() {
    let model = ExportFileModel::parse(&read("lib/lib.exp")).expect("lib.exp");
    let math = &model.classes[2];
    assert_eq!(math.name, "org/oxicard/golden/lib/MathUtil");
    assert_eq!(
        math.fields[0],
        FieldModel {
            token: 0xFF,
            access_flags: 0x0019,
            name: "VERSION".into(),
            descriptor: "S".into(),
            constant_value: Some(0x0102),
        }
    );
    assert_eq!(
        model.package,
        PackageModel {
            flags: 1,
            name: "org/oxicard/golden/lib".into(),
            version: PackageVersion { major: 1, minor: 0 },
            aid: vec![0xF0, 0, 0, 1, 8, 0],
        }
    );
}

#[test]
fn format_2_3_data_in_an_older_format_is_refused() {
    let mut model = ExportFileModel::parse(&read("lib/lib.exp")).expect("lib.exp");
    model.format = FormatVersion::V2_1;
    assert!(model.encode().is_err(), "referenced packages in 2.1");
    model.referenced_packages.clear();
    assert!(model.encode().is_err(), "CAP22 counts in 2.1");
    for class in &mut model.classes {
        class.cap22_inheritable_method_count = 0;
    }
    let bytes = model.encode().expect("plain 2.1");
    let back = ExportFileModel::parse(&bytes).expect("2.1 parses");
    assert_eq!(back, model);
    assert_eq!(&bytes[4..6], [1, 2]);
}

fn name() -> impl Strategy<Value = String> {
    // Mostly a small alphabet so names repeat and the pool shares entries.
    prop_oneof![
        3 => "[a-c/]{0,6}",
        1 => "\\PC{0,12}",
    ]
}

fn package(flags: impl Strategy<Value = u8>) -> impl Strategy<Value = PackageModel> {
    (
        flags,
        name(),
        any::<(u8, u8)>(),
        proptest::collection::vec(any::<u8>(), 5..=16),
    )
        .prop_map(|(flags, name, (major, minor), aid)| PackageModel {
            flags,
            name,
            version: PackageVersion { major, minor },
            aid,
        })
}

fn field() -> impl Strategy<Value = FieldModel> {
    (
        any::<u8>(),
        any::<u16>(),
        name(),
        name(),
        any::<Option<i32>>(),
    )
        .prop_map(
            |(token, access_flags, name, descriptor, constant_value)| FieldModel {
                token,
                access_flags,
                name,
                descriptor,
                constant_value,
            },
        )
}

fn method() -> impl Strategy<Value = MethodModel> {
    (any::<u8>(), any::<u16>(), name(), name()).prop_map(
        |(token, access_flags, name, descriptor)| MethodModel {
            token,
            access_flags,
            name,
            descriptor,
        },
    )
}

fn class(v2_3: bool) -> impl Strategy<Value = ClassModel> {
    let cap22 = if v2_3 {
        any::<u8>().boxed()
    } else {
        Just(0u8).boxed()
    };
    (
        any::<(u8, u16)>(),
        name(),
        proptest::collection::vec(name(), 0..4),
        proptest::collection::vec(name(), 0..4),
        proptest::collection::vec(field(), 0..5),
        proptest::collection::vec(method(), 0..6),
        cap22,
    )
        .prop_map(
            |((token, access_flags), name, supers, interfaces, fields, methods, cap22)| {
                ClassModel {
                    token,
                    access_flags,
                    name,
                    supers,
                    interfaces,
                    fields,
                    methods,
                    cap22_inheritable_method_count: cap22,
                }
            },
        )
}

fn model() -> impl Strategy<Value = ExportFileModel> {
    (1u8..=3).prop_flat_map(|minor| {
        let v2_3 = minor == 3;
        let referenced = if v2_3 {
            proptest::collection::vec(package(Just(0)), 0..4).boxed()
        } else {
            Just(Vec::new()).boxed()
        };
        (
            package(any::<u8>()),
            referenced,
            proptest::collection::vec(class(v2_3), 0..5),
        )
            .prop_map(
                move |(package, referenced_packages, classes)| ExportFileModel {
                    format: FormatVersion { major: 2, minor },
                    package,
                    referenced_packages,
                    classes,
                },
            )
    })
}

proptest! {
    #[test]
    fn any_model_survives_encode_and_parse(model in model()) {
        let bytes = model.encode().expect("encodable model");
        let parsed = ExportFile::parse(&bytes).expect("encoded model parses");
        prop_assert_eq!(parsed.class_count() as usize, model.classes.len());
        let back = parsed.to_model();
        prop_assert_eq!(&back, &model);
        // The model's own parse (indexed constant pool) gives the same.
        prop_assert_eq!(&ExportFileModel::parse(&bytes).expect("model parse"), &model);
        // Encoding is canonical: the parsed file encodes to the same bytes.
        prop_assert_eq!(back.encode().expect("re-encode"), bytes);
    }
}

/// The committed Java Card API export files (`applets/api/exp`): the largest export files
/// the tools read.
fn api_export_files() -> Vec<Vec<u8>> {
    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "exp") {
                out.push(path);
            }
        }
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../applets/api/exp");
    let mut paths = Vec::new();
    collect(std::path::Path::new(root), &mut paths);
    paths.sort();
    assert!(paths.len() >= 18, "the API export files, found {paths:?}");
    paths
        .iter()
        .map(|path| std::fs::read(path).expect("readable export file"))
        .collect()
}

/// Every golden and API export file, for comparing the two ways to parse.
fn every_export_file() -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = GOLDEN_EXP.iter().map(|exp| read(exp)).collect();
    files.extend(api_export_files());
    files
}

/// The walking parse: [`ExportFile::parse`] then `to_model` (what `ExportFileModel::parse`
/// did before it indexed the constant pool).
fn walking_parse(bytes: &[u8]) -> Result<ExportFileModel, oxicard_cap::export::ExportError> {
    ExportFile::parse(bytes).map(|file| file.to_model())
}

#[test]
fn the_indexed_parse_gives_what_the_walking_parse_gives() {
    for (i, bytes) in every_export_file().iter().enumerate() {
        let model = ExportFileModel::parse(bytes).unwrap_or_else(|e| panic!("file {i}: {e}"));
        assert_eq!(Ok(&model), walking_parse(bytes).as_ref(), "file {i}");
        assert_eq!(model.encode().as_deref(), Ok(&bytes[..]), "file {i}");
    }
}

/// A file with `classes` classes of 200 fields each, every field with its own name: about
/// 200 constant-pool entries per class, each referenced once.
fn wide_export_file(classes: usize) -> Vec<u8> {
    let model = ExportFileModel {
        format: FormatVersion::V2_1,
        package: PackageModel {
            flags: 0,
            name: "w".into(),
            version: PackageVersion { major: 1, minor: 0 },
            aid: vec![0xF0, 0, 0, 0, 1],
        },
        referenced_packages: Vec::new(),
        classes: (0..classes)
            .map(|c| ClassModel {
                token: c as u8,
                access_flags: 1,
                name: format!("w/C{c}"),
                supers: vec!["java/lang/Object".into()],
                interfaces: Vec::new(),
                fields: (0..200)
                    .map(|f| FieldModel {
                        token: f as u8,
                        access_flags: 1,
                        name: format!("f{c}_{f}"),
                        descriptor: "S".into(),
                        constant_value: None,
                    })
                    .collect(),
                methods: Vec::new(),
                cap22_inheritable_method_count: 0,
            })
            .collect(),
    };
    model.encode().expect("encodable")
}

/// Parsing time grows linearly with the constant pool: a pool 16 times larger takes well
/// under 16 × 16 times as long (a walk from the pool's start per reference would be
/// quadratic: about 256 times). Each size is timed at its best of 5 runs, so a busy machine
/// does not decide.
#[test]
fn parse_time_grows_linearly_with_the_pool() {
    let best_time = |bytes: &[u8]| {
        (0..5)
            .map(|_| {
                let start = std::time::Instant::now();
                let model = ExportFileModel::parse(bytes).expect("parses");
                let elapsed = start.elapsed();
                assert!(!model.classes.is_empty());
                elapsed
            })
            .min()
            .expect("five runs")
    };
    let small = wide_export_file(2);
    let large = wide_export_file(32);
    let (small_time, large_time) = (best_time(&small), best_time(&large));
    let ratio = large_time.as_secs_f64() / small_time.as_secs_f64().max(1e-6);
    assert!(
        ratio < 64.0,
        "16 times the pool took {ratio:.0} times as long ({small_time:?} -> {large_time:?})"
    );
}

proptest! {
    #[test]
    fn mutated_files_give_the_same_model_or_error_both_ways(
        file in 0usize..27,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let files = every_export_file();
        let mut bytes = files[file % files.len()].clone();
        for (at, byte, kind) in edits {
            let at = at % bytes.len();
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => bytes.truncate(at.max(1)),
            }
        }
        prop_assert_eq!(ExportFileModel::parse(&bytes), walking_parse(&bytes));
    }
}
