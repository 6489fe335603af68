//! Hand-made malformed inputs: the error names the expected component and byte offset (offsets
//! count from the component's tag byte; offsets into `info` from the spec plus 3).

#![allow(clippy::unwrap_used)] // tests fail by panicking

mod common;

use common::golden_jar;
use oxicard_cap::{Cap, CapError, CapVersion, ClassComponent, ComponentTag, ErrorKind, Header};

fn hello_components() -> Vec<(ComponentTag, Vec<u8>)> {
    golden_jar("hello/hello.cap").components
}

fn with_replaced(tag: ComponentTag, bytes: Vec<u8>) -> Result<(), CapError> {
    let mut components = hello_components();
    for (t, b) in &mut components {
        if *t == tag {
            *b = bytes.clone();
        }
    }
    Cap::from_components(components.iter().map(|(_, b)| b.as_slice()))?.check()
}

#[test]
fn truncated_class_info_names_the_field() {
    // class_info: bitfield, then only one byte of super_class_ref.
    let err = ClassComponent::parse(&[6, 0, 2, 0x00, 0x80], CapVersion::V2_1).unwrap_err();
    assert_eq!(err.component, Some(ComponentTag::Class));
    assert_eq!(err.offset, 4);
    assert_eq!(
        err.to_string(),
        "Class component, offset 0x4: expected 2 bytes for super_class_ref, found 1"
    );
}

#[test]
fn bad_magic_and_versions() {
    // Spec §4.1 example (2.1) with the magic's last byte changed.
    let mut header = vec![
        0x01, 0x00, 0x13, 0xDE, 0xCA, 0xFF, 0xEE, 0x01, 0x02, 0x05, 0x00, 0x01, 0x09, 0xA0, 0x00,
        0x00, 0x00, 0x62, 0x03, 0x01, 0x0C, 0x01,
    ];
    let err = Header::parse(&header).unwrap_err();
    assert_eq!((err.component, err.offset), (Some(ComponentTag::Header), 3));
    assert!(matches!(
        err.kind,
        ErrorKind::Invalid {
            field: "magic",
            found: 0xDECAFFEE,
            ..
        }
    ));
    header[6] = 0xED;
    let ok = Header::parse(&header).unwrap();
    assert_eq!(ok.package.aid, [0xA0, 0, 0, 0, 0x62, 3, 1, 0x0C, 1]);
    assert_eq!(ok.flags, 0x05);
    header[8] = 3; // major version 3
    let err = Header::parse(&header).unwrap_err();
    assert_eq!(err.offset, 8);
    header[8] = 2;
    header[9] = 0x0D; // ACC_EXTENDED
    let err = Header::parse(&header).unwrap_err();
    assert_eq!(err.offset, 9);
    assert!(matches!(err.kind, ErrorKind::Unsupported { .. }));
}

#[test]
fn directory_size_mismatch_points_at_the_entry() {
    let mut components = hello_components();
    let directory = &mut components
        .iter_mut()
        .find(|(t, _)| *t == ComponentTag::Directory)
        .unwrap()
        .1;
    // component_sizes[Method] is the 7th u2: info offset 12, component offset 15.
    directory[15 + 1] ^= 1;
    let cap = Cap::from_components(components.iter().map(|(_, b)| b.as_slice())).unwrap();
    let err = cap.check().unwrap_err();
    assert_eq!(
        (err.component, err.offset),
        (Some(ComponentTag::Directory), 15)
    );
    assert!(
        matches!(err.kind, ErrorKind::SizeMismatch { actual: 132, .. }),
        "{err}"
    );
}

#[test]
fn constant_pool_reference_to_nothing() {
    let mut cp = hello_components()
        .into_iter()
        .find(|(t, _)| *t == ComponentTag::ConstantPool)
        .unwrap()
        .1;
    // Entry 1 is `.classRef HelloApplet` = 01 0000 00; point it into the middle of class_info.
    assert_eq!(cp[3 + 2 + 4..3 + 2 + 8], [1, 0, 0, 0]);
    cp[3 + 2 + 4 + 2] = 1;
    let err = with_replaced(ComponentTag::ConstantPool, cp.clone()).unwrap_err();
    assert_eq!(
        (err.component, err.offset),
        (Some(ComponentTag::ConstantPool), 10)
    );
    assert!(err.to_string().contains("Classref"), "{err}");
    // Entry 2 `staticMethodRef HelloApplet/<init>()V`: an offset that is no method header.
    cp[3 + 2 + 4 + 2] = 0;
    assert_eq!(cp[13], 6);
    cp[16] = cp[16].wrapping_add(1);
    let err = with_replaced(ComponentTag::ConstantPool, cp).unwrap_err();
    assert_eq!(
        (err.component, err.offset),
        (Some(ComponentTag::ConstantPool), 15)
    );
    assert!(matches!(
        err.kind,
        ErrorKind::BadReference {
            field: "StaticMethodref offset",
            ..
        }
    ));
}

#[test]
fn ref_location_outside_bytecode() {
    let mut rl = hello_components()
        .into_iter()
        .find(|(t, _)| *t == ComponentTag::ReferenceLocation)
        .unwrap()
        .1;
    // hello has no 1-byte indices; move the first 2-byte location to offset 0 (the handler
    // count), which is in no method's bytecode.
    assert_eq!(rl[3..5], [0, 0]);
    assert!(u16::from_be_bytes([rl[5], rl[6]]) > 0);
    rl[7] = 0;
    let err = with_replaced(ComponentTag::ReferenceLocation, rl).unwrap_err();
    assert_eq!(
        (err.component, err.offset),
        (Some(ComponentTag::ReferenceLocation), 7)
    );
    assert!(
        matches!(err.kind, ErrorKind::BadReference { value: 0, .. }),
        "{err}"
    );
}

#[test]
fn load_file_framing_errors_name_the_container() {
    let block = golden_jar("hello/hello.cap").load_file_data_block(true);
    // Cut inside the second component (Directory starts at 19).
    let err = Cap::parse_load_file(&block[..25]).unwrap_err();
    assert_eq!(err.component, None);
    assert_eq!(err.offset, 22);
    assert!(matches!(
        err.kind,
        ErrorKind::Truncated {
            field: "component info",
            needed: 31,
            found: 3
        }
    ));
    // The Header twice.
    let mut twice = block[..19].to_vec();
    twice.extend_from_slice(&block);
    let err = Cap::parse_load_file(&twice).unwrap_err();
    assert_eq!((err.component, err.offset), (None, 19));
    assert_eq!(
        err.kind,
        ErrorKind::DuplicateComponent {
            tag: ComponentTag::Header
        }
    );
    // No Method component.
    let without_method: Vec<&[u8]> = hello_components_slices(&block)
        .into_iter()
        .filter(|c| c[0] != 7)
        .collect();
    let err = Cap::from_components(without_method).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::MissingComponent {
            tag: ComponentTag::Method
        }
    );
    // An unknown tag.
    let err = Cap::parse_load_file(&[14, 0, 0]).unwrap_err();
    assert_eq!((err.component, err.offset), (None, 0));
}

fn hello_components_slices(block: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = block;
    while !rest.is_empty() {
        let (raw, tail) = oxicard_cap::RawComponent::split_first(rest, 0).unwrap();
        out.push(raw.bytes);
        rest = tail;
    }
    out
}

#[test]
fn jar_round_trip_and_reader_errors() {
    use oxicard_cap::jar::{read_cap_jar, write_cap_jar, ManifestInfo};
    let jar = golden_jar("wallet/wallet.cap");
    let info = ManifestInfo {
        converter_version: "oxicard".into(),
        converter_provider: "oxicard".into(),
        applet_names: vec!["WalletApplet".into()],
        ..ManifestInfo::default()
    };
    let written = write_cap_jar(
        jar.components.iter().map(|(_, b)| b.as_slice()),
        &jar.package_path,
        &info,
    )
    .unwrap();
    let again = read_cap_jar(&written).unwrap();
    assert_eq!(again.package_path, jar.package_path);
    assert_eq!(
        again.load_file_data_block(true),
        jar.load_file_data_block(true)
    );
    again.cap().unwrap().check().unwrap();
    // Not a zip.
    let err = read_cap_jar(b"PK\x03\x04 nonsense").unwrap_err();
    assert_eq!(err.component, None);
    assert!(matches!(err.kind, ErrorKind::Container { .. }));
}
