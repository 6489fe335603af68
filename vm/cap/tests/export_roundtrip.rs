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
        // Encoding is canonical: the parsed file encodes to the same bytes.
        prop_assert_eq!(back.encode().expect("re-encode"), bytes);
    }
}
