//! Export-file parser against the Oracle-made golden `.exp` files (converter v25.1,
//! format 2.3): each parses completely and says what golden/README.md and
//! golden/index.json say about its package.

use oxicard_cap::export::{
    ExportFile, FieldKind, FormatVersion, MethodKind, PackageVersion, ACC_ABSTRACT, ACC_FINAL,
    ACC_INTERFACE, ACC_PUBLIC, ACC_SHAREABLE, ACC_STATIC,
};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// Every `.exp` under golden/ (relative paths).
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// `(package, aid, exp)` of every package in golden/index.json, read with plain text
/// scanning (one `"folder"` block per package).
fn index_packages() -> Vec<(String, String, String)> {
    let index = std::fs::read_to_string(format!("{GOLDEN}/index.json")).expect("index.json");
    let value = |block: &str, key: &str| -> String {
        let tag = format!("\"{key}\": \"");
        let start = block.find(&tag).expect(key) + tag.len();
        let len = block[start..].find('"').expect("closing quote");
        block[start..start + len].to_string()
    };
    index
        .split("\"folder\":")
        .skip(1)
        .map(|block| {
            (
                value(block, "package"),
                value(block, "aid"),
                value(block, "exp"),
            )
        })
        .collect()
}

#[test]
fn every_golden_export_file_is_listed_in_the_index() {
    let mut listed: Vec<String> = index_packages()
        .into_iter()
        .map(|(_, _, exp)| exp)
        .collect();
    listed.sort();
    let mut ours: Vec<String> = GOLDEN_EXP.iter().map(|s| s.to_string()).collect();
    ours.sort();
    assert_eq!(listed, ours);
}

#[test]
fn golden_packages_have_the_names_aids_and_versions_of_the_index() {
    for (package, aid, exp) in index_packages() {
        let bytes = read(&exp);
        let file = ExportFile::parse(&bytes).unwrap_or_else(|e| panic!("{exp}: {e}"));
        assert_eq!(file.format(), FormatVersion::V2_3, "{exp}");
        assert_eq!(file.package_name(), package.replace('.', "/"), "{exp}");
        assert_eq!(hex(file.package_aid()), aid, "{exp}");
        // Every golden package was converted as version 1.0.
        assert_eq!(
            file.version(),
            PackageVersion { major: 1, minor: 0 },
            "{exp}"
        );
        // Only lib is a library package (README: header flags).
        assert_eq!(file.package().is_library(), exp == "lib/lib.exp", "{exp}");
    }
}

#[test]
fn applet_packages_export_nothing_but_server_exports_its_shareable_interface() {
    for exp in GOLDEN_EXP {
        let bytes = read(exp);
        let file = ExportFile::parse(&bytes).expect(exp);
        let names: Vec<&str> = file.classes().map(|c| c.simple_name()).collect();
        let expected: &[&str] = match exp {
            "lib/lib.exp" => &["Mixer", "Counter", "MathUtil", "AddMixer"],
            "sharing/server.exp" => &["LoyaltyService"],
            _ => &[],
        };
        assert_eq!(names, expected, "{exp}");
        assert_eq!(usize::from(file.class_count()), names.len());
        if expected.is_empty() {
            assert_eq!(file.referenced_packages().count(), 0, "{exp}");
        }
    }
}

#[test]
fn server_exports_loyalty_service_as_a_shareable_interface() {
    let bytes = read("sharing/server.exp");
    let file = ExportFile::parse(&bytes).expect("server.exp");
    let refs: Vec<(&str, String, PackageVersion)> = file
        .referenced_packages()
        .map(|p| (p.name, hex(p.aid), p.version))
        .collect();
    assert_eq!(
        refs,
        [
            (
                "java/lang",
                "A0000000620001".to_string(),
                PackageVersion { major: 1, minor: 0 }
            ),
            (
                "javacard/framework",
                "A0000000620101".to_string(),
                PackageVersion { major: 1, minor: 6 }
            ),
        ]
    );
    let service = file
        .class("org/oxicard/golden/sharing/server/LoyaltyService")
        .expect("LoyaltyService");
    assert!(file
        .class("org/oxicard/golden/sharing/server/LoyaltyServer")
        .is_none());
    assert_eq!(service.token, 0);
    assert_eq!(
        service.access_flags,
        ACC_PUBLIC | ACC_INTERFACE | ACC_ABSTRACT | ACC_SHAREABLE
    );
    assert!(service.is_interface() && service.is_shareable());
    assert_eq!(service.supers().collect::<Vec<_>>(), ["java/lang/Object"]);
    assert_eq!(
        service.interfaces().collect::<Vec<_>>(),
        ["javacard/framework/Shareable"]
    );
    assert_eq!(service.cap22_inheritable_method_count, Some(0));
    let methods: Vec<(u8, &str, &str)> = service
        .methods()
        .map(|m| (m.token, m.name, m.descriptor))
        .collect();
    assert_eq!(
        methods,
        [
            (0, "getPoints", "()S"),
            (1, "debit", "(S)S"),
            (2, "credit", "(S)S"),
            (3, "contextInfo", "([BS)S"),
            (4, "getHistory", "()[B"),
        ]
    );
    assert!(service
        .methods()
        .all(|m| m.kind(true) == MethodKind::Interface));
}

#[test]
fn lib_exports_tokens_flags_and_the_version_constant() {
    let bytes = read("lib/lib.exp");
    let file = ExportFile::parse(&bytes).expect("lib.exp");
    assert_eq!(file.constant_pool().len(), 39);
    let refs: Vec<&str> = file.referenced_packages().map(|p| p.name).collect();
    assert_eq!(refs, ["java/lang"]);

    let math = file
        .class("org/oxicard/golden/lib/MathUtil")
        .expect("MathUtil");
    assert_eq!(math.token, 2);
    assert_eq!(math.access_flags, ACC_PUBLIC | ACC_FINAL);
    assert_eq!(math.superclass(), Some("java/lang/Object"));
    let version = math.field("VERSION").expect("VERSION");
    assert_eq!(version.kind(), FieldKind::Constant);
    assert_eq!(version.token, 0xFF);
    assert_eq!(version.constant_value, Some(0x0102));
    let calls = math.field("calls").expect("calls");
    assert_eq!((calls.kind(), calls.token), (FieldKind::Static, 0));
    let fletcher = math.method("fletcher16", "([BSS)S").expect("fletcher16");
    assert_eq!(fletcher.token, 2);
    assert_eq!(fletcher.kind(false), MethodKind::Static);
    assert_eq!(fletcher.access_flags, ACC_PUBLIC | ACC_STATIC);

    let counter = file.class_by_token(1).expect("class token 1");
    assert_eq!(counter.name, "org/oxicard/golden/lib/Counter");
    assert_eq!(counter.cap22_inheritable_method_count, Some(7));
    let value = counter.field("value").expect("value");
    assert_eq!((value.kind(), value.token), (FieldKind::Instance, 0));
    let advance = counter.method("advance", "(S)S").expect("advance");
    assert_eq!(
        (advance.kind(false), advance.token),
        (MethodKind::Virtual, 6)
    );
    assert_ne!(advance.access_flags & ACC_ABSTRACT, 0);
    // Inherited public virtual methods are repeated with the superclass token.
    let equals = counter
        .method("equals", "(Ljava/lang/Object;)Z")
        .expect("equals");
    assert_eq!(equals.token, 0);

    let add_mixer = file
        .class("org/oxicard/golden/lib/AddMixer")
        .expect("AddMixer");
    assert_eq!(
        add_mixer.interfaces().collect::<Vec<_>>(),
        ["org/oxicard/golden/lib/Mixer"]
    );
    assert_eq!(add_mixer.method("mix", "(SS)S").map(|m| m.token), Some(1));
}

#[test]
fn truncating_a_golden_file_anywhere_is_an_error_at_or_before_the_cut() {
    for exp in GOLDEN_EXP {
        let bytes = read(exp);
        for len in 0..bytes.len() {
            let err = ExportFile::parse(&bytes[..len]).expect_err("truncated file must fail");
            assert!(err.offset <= len, "{exp} cut at {len}: {err}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let err = ExportFile::parse(&longer).expect_err("trailing byte must fail");
        assert_eq!(err.offset, bytes.len());
        assert_eq!(err.expected, "end of file");
    }
}

#[test]
fn errors_say_where_and_what() {
    let mut bytes = read("hello/hello.exp");
    bytes[5] = 3;
    let err = ExportFile::parse(&bytes).expect_err("major version 3");
    assert_eq!(err.offset, 4);
    assert_eq!(
        err.to_string(),
        "export file: at byte offset 4: expected export format version 2.1, 2.2 or 2.3"
    );
    bytes[0] = 0xCA;
    let err = ExportFile::parse(&bytes).expect_err("bad magic");
    assert_eq!((err.offset, err.expected), (0, "magic 0x00FACADE"));
}
