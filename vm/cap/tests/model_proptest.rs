//! Property tests: random owned component models encode to bytes that parse back to the same
//! model, for every component type and CAP versions 2.1, 2.2 and 2.3.

#![allow(clippy::unwrap_used)] // tests fail by panicking

use oxicard_cap::components::class::RemoteMethodInfo;
use oxicard_cap::components::debug::{FieldDebugInfo, LineInfo, VariableInfo};
use oxicard_cap::components::descriptor::{FieldRef, ACC_STATIC};
use oxicard_cap::components::directory::StaticFieldSizeInfo;
use oxicard_cap::model::{self as m, Component};
use oxicard_cap::{
    CapVersion, ClassRef, CpEntry, ExceptionHandler, FieldDescriptor, MethodDescriptor, StaticRef,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn version() -> impl Strategy<Value = CapVersion> {
    (1u8..=3).prop_map(|minor| CapVersion { major: 2, minor })
}

fn aid() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 5..=16)
}

fn package() -> impl Strategy<Value = m::PackageInfo> {
    (any::<u8>(), any::<u8>(), aid()).prop_map(|(minor_version, major_version, aid)| {
        m::PackageInfo {
            minor_version,
            major_version,
            aid,
        }
    })
}

fn class_ref() -> impl Strategy<Value = ClassRef> {
    any::<u16>().prop_map(ClassRef::from_u16)
}

fn static_ref() -> impl Strategy<Value = StaticRef> {
    prop_oneof![
        any::<u16>().prop_map(StaticRef::Internal),
        (0u8..128, any::<u8>(), any::<u8>()).prop_map(|(package_token, class_token, token)| {
            StaticRef::External {
                package_token,
                class_token,
                token,
            }
        }),
    ]
}

fn cp_entry() -> impl Strategy<Value = CpEntry> {
    prop_oneof![
        class_ref().prop_map(CpEntry::ClassRef),
        (class_ref(), any::<u8>())
            .prop_map(|(class, token)| CpEntry::InstanceFieldRef { class, token }),
        (class_ref(), any::<u8>())
            .prop_map(|(class, token)| CpEntry::VirtualMethodRef { class, token }),
        (class_ref(), any::<u8>())
            .prop_map(|(class, token)| CpEntry::SuperMethodRef { class, token }),
        static_ref().prop_map(CpEntry::StaticFieldRef),
        static_ref().prop_map(CpEntry::StaticMethodRef),
    ]
}

fn header(v: CapVersion) -> impl Strategy<Value = m::Header> {
    let name = if v.minor >= 2 {
        vec(any::<u8>(), 0..20).prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    (0u8..8, package(), name).prop_map(move |(flags, package, package_name)| m::Header {
        minor_version: v.minor,
        major_version: v.major,
        flags,
        package,
        package_name,
    })
}

fn directory(v: CapVersion) -> impl Strategy<Value = m::Directory> {
    let sizes = if v.minor >= 2 { 12 } else { 11 };
    let resources = if v.minor >= 3 {
        any::<u32>().prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    (
        vec(any::<u16>(), sizes),
        resources,
        any::<(u16, u16, u16)>(),
        any::<(u8, u8)>(),
        vec((128u8..=255, any::<u16>(), aid()), 0..4),
    )
        .prop_map(
            |(component_sizes, static_resources_size, sf, counts, custom)| m::Directory {
                component_sizes,
                static_resources_size,
                static_field_size: StaticFieldSizeInfo {
                    image_size: sf.0,
                    array_init_count: sf.1,
                    array_init_size: sf.2,
                },
                import_count: counts.0,
                applet_count: counts.1,
                custom_components: custom
                    .into_iter()
                    .map(|(component_tag, size, aid)| m::CustomComponentInfo {
                        component_tag,
                        size,
                        aid,
                    })
                    .collect(),
            },
        )
}

fn interface_info() -> impl Strategy<Value = m::ClassEntry> {
    (
        any::<bool>(),
        vec(class_ref(), 0..=15),
        option::of(vec(any::<u8>(), 0..10)),
    )
        .prop_map(|(shareable, superinterfaces, interface_name)| {
            let flags = 0x8
                | if shareable { 0x4 } else { 0 }
                | if interface_name.is_some() { 0x2 } else { 0 };
            m::ClassEntry::Interface(m::InterfaceInfo {
                flags,
                superinterfaces,
                interface_name,
            })
        })
}

fn remote_info() -> impl Strategy<Value = m::RemoteInterfaceInfo> {
    (
        vec(any::<(u16, u16, u8)>(), 0..4),
        vec(any::<u8>(), 0..8),
        vec(any::<u8>(), 0..8),
        vec(class_ref(), 0..4),
    )
        .prop_map(|(methods, hash_modifier, class_name, remote_interfaces)| {
            m::RemoteInterfaceInfo {
                remote_methods: methods
                    .into_iter()
                    .map(|(h, s, t)| RemoteMethodInfo {
                        remote_method_hash: h,
                        signature_offset: s,
                        virtual_method_token: t,
                    })
                    .collect(),
                hash_modifier,
                class_name,
                remote_interfaces,
            }
        })
}

fn class_info(v: CapVersion) -> impl Strategy<Value = m::ClassEntry> {
    let with_mapping = v.minor >= 3;
    (
        (
            any::<bool>(),
            option::of(any::<u16>().prop_filter("0xFFFF means no superclass", |r| *r != 0xFFFF)),
            any::<(u8, u8, u8)>(),
            0u8..40,
            any::<u8>(),
        ),
        vec(any::<u16>(), 0..10),
        vec(any::<u16>(), 0..5),
        vec(
            (class_ref(), vec(any::<u8>(), 0..6))
                .prop_map(|(interface, index)| m::ImplementedInterface { interface, index }),
            0..=15,
        ),
        option::of(remote_info()),
        any::<u8>(),
    )
        .prop_map(
            move |(
                (shareable, superclass, sizes, public_base, package_base),
                public_table,
                package_table,
                interfaces,
                remote_interface,
                cap22,
            )| {
                let flags = if shareable { 0x4 } else { 0 }
                    | if remote_interface.is_some() { 0x2 } else { 0 };
                let mapping_len = usize::from(public_base) + public_table.len();
                let token_mapping = with_mapping.then(|| m::TokenMapping {
                    public_virtual_method_token_mapping: (0..mapping_len)
                        .map(|i| if i % 3 == 0 { 0xFF } else { i as u8 })
                        .collect(),
                    cap22_inheritable_public_method_token_count: cap22,
                });
                m::ClassEntry::Class(m::ClassInfo {
                    flags,
                    super_class_ref: superclass.map(ClassRef::from_u16),
                    declared_instance_size: sizes.0,
                    first_reference_token: sizes.1,
                    reference_count: sizes.2,
                    public_method_table_base: public_base,
                    package_method_table_base: package_base,
                    public_virtual_method_table: public_table,
                    package_virtual_method_table: package_table,
                    interfaces,
                    remote_interface,
                    token_mapping,
                })
            },
        )
}

fn class_component(v: CapVersion) -> impl Strategy<Value = m::ClassComponent> {
    let pool = if v.minor >= 2 {
        vec(any::<u8>(), 0..20).prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    (
        pool,
        vec(prop_oneof![interface_info(), class_info(v)], 0..8),
    )
        .prop_map(|(signature_pool, entries)| m::ClassComponent {
            signature_pool,
            entries,
        })
}

fn handler() -> impl Strategy<Value = ExceptionHandler> {
    (
        any::<u16>(),
        any::<bool>(),
        0u16..0x8000,
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(
            |(start_offset, stop_bit, active_length, handler_offset, catch_type_index)| {
                ExceptionHandler {
                    start_offset,
                    stop_bit,
                    active_length,
                    handler_offset,
                    catch_type_index,
                }
            },
        )
}

fn field_descriptor() -> impl Strategy<Value = FieldDescriptor> {
    (
        any::<u8>(),
        any::<u8>(),
        static_ref(),
        class_ref(),
        any::<u8>(),
        any::<u16>(),
    )
        .prop_map(
            |(token, access_flags, s, class, t, field_type)| FieldDescriptor {
                token,
                access_flags,
                field_ref: if access_flags & ACC_STATIC != 0 {
                    FieldRef::Static(s)
                } else {
                    FieldRef::Instance { class, token: t }
                },
                field_type,
            },
        )
}

fn method_descriptor() -> impl Strategy<Value = MethodDescriptor> {
    (any::<(u8, u8, u16, u16)>(), any::<(u16, u16, u16)>()).prop_map(|(a, b)| MethodDescriptor {
        token: a.0,
        access_flags: a.1,
        method_offset: a.2,
        type_offset: a.3,
        bytecode_count: b.0,
        exception_handler_count: b.1,
        exception_handler_index: b.2,
    })
}

fn descriptor() -> impl Strategy<Value = m::Descriptor> {
    let class = (
        any::<(u8, u8)>(),
        class_ref(),
        vec(class_ref(), 0..4),
        vec(field_descriptor(), 0..5),
        vec(method_descriptor(), 0..5),
    )
        .prop_map(
            |((token, access_flags), this_class_ref, interfaces, fields, methods)| {
                m::ClassDescriptor {
                    token,
                    access_flags,
                    this_class_ref,
                    interfaces,
                    fields,
                    methods,
                }
            },
        );
    let type_descriptor = (0u8..12).prop_flat_map(|n| {
        vec(any::<u8>(), usize::from(n).div_ceil(2)).prop_map(move |type_bytes| m::TypeDescriptor {
            nibble_count: n,
            type_bytes,
        })
    });
    (
        vec(class, 0..5),
        vec(any::<u16>(), 0..10),
        vec(type_descriptor, 0..10),
    )
        .prop_map(
            |(classes, constant_pool_types, type_descriptors)| m::Descriptor {
                classes,
                constant_pool_types,
                type_descriptors,
            },
        )
}

fn debug_component() -> impl Strategy<Value = m::DebugComponent> {
    let method = (
        any::<(u16, u16, u16, u16)>(),
        any::<(u8, u16)>(),
        vec(
            any::<(u8, u16, u16, u16, u16)>().prop_map(|v| VariableInfo {
                index: v.0,
                name_index: v.1,
                descriptor_index: v.2,
                start_pc: v.3,
                length: v.4,
            }),
            0..3,
        ),
        vec(
            any::<(u16, u16, u16)>().prop_map(|l| LineInfo {
                start_pc: l.0,
                end_pc: l.1,
                source_line: l.2,
            }),
            0..3,
        ),
    )
        .prop_map(|(a, b, variables, lines)| m::MethodDebugInfo {
            name_index: a.0,
            descriptor_index: a.1,
            access_flags: a.2,
            location: a.3,
            header_size: b.0,
            body_size: b.1,
            variables,
            lines,
        });
    let class = (
        any::<(u16, u16, u16, u16, u16)>(),
        vec(any::<u16>(), 0..3),
        vec(
            any::<(u16, u16, u16, u32)>().prop_map(|f| FieldDebugInfo {
                name_index: f.0,
                descriptor_index: f.1,
                access_flags: f.2,
                contents: f.3,
            }),
            0..3,
        ),
        vec(method, 0..3),
    )
        .prop_map(|(a, interface_names, fields, methods)| m::ClassDebugInfo {
            name_index: a.0,
            access_flags: a.1,
            location: a.2,
            superclass_name_index: a.3,
            source_file_index: a.4,
            interface_names,
            fields,
            methods,
        });
    (
        vec(vec(any::<u8>(), 0..12), 0..6),
        any::<u16>(),
        vec(class, 0..3),
    )
        .prop_map(|(strings, package_name_index, classes)| m::DebugComponent {
            strings,
            package_name_index,
            classes,
        })
}

fn round_trip<T: Component + PartialEq + std::fmt::Debug>(model: &T, v: CapVersion) {
    let bytes = model.encode().unwrap();
    let parsed = T::parse(&bytes, v).unwrap_or_else(|e| panic!("{e}: {model:?}"));
    assert_eq!(&parsed, model);
    assert_eq!(parsed.encode().unwrap(), bytes);
}

proptest! {
    #[test]
    fn header_round_trip(model in version().prop_flat_map(header)) {
        round_trip(&model, model.version());
    }

    #[test]
    fn directory_round_trip((v, model) in version().prop_flat_map(|v| (Just(v), directory(v)))) {
        round_trip(&model, v);
    }

    #[test]
    fn applet(applets in vec((aid(), any::<u16>()), 0..8)) {
        let model = m::AppletComponent {
            applets: applets
                .into_iter()
                .map(|(aid, install_method_offset)| m::AppletInfo { aid, install_method_offset })
                .collect(),
        };
        round_trip(&model, CapVersion::V2_1);
    }

    #[test]
    fn import(packages in vec(package(), 0..10)) {
        round_trip(&m::Import { packages }, CapVersion::V2_1);
    }

    #[test]
    fn constant_pool(entries in vec(cp_entry(), 0..100)) {
        let model = m::ConstantPool { entries };
        round_trip(&model, CapVersion::V2_2);
        // Random access agrees with iteration.
        let bytes = model.encode().unwrap();
        let view = oxicard_cap::ConstantPool::parse(&bytes, CapVersion::V2_2).unwrap();
        for (i, e) in model.entries.iter().enumerate() {
            prop_assert_eq!(view.get(i), Some(*e));
        }
        prop_assert_eq!(view.get(model.entries.len()), None);
    }

    #[test]
    fn class((v, model) in version().prop_flat_map(|v| (Just(v), class_component(v)))) {
        round_trip(&model, v);
        // Parsed entry offsets are where the model says they are.
        let bytes = model.encode().unwrap();
        let view = oxicard_cap::ClassComponent::parse(&bytes, v).unwrap();
        let offsets: Vec<u16> = view.entries.map(|e| e.offset()).collect();
        prop_assert_eq!(offsets, model.entry_offsets().unwrap());
    }

    #[test]
    fn method(handlers in vec(handler(), 0..10), method_area in vec(any::<u8>(), 0..200)) {
        round_trip(&m::MethodComponent { handlers, method_area }, CapVersion::V2_1);
    }

    #[test]
    fn static_field(
        sizes in any::<(u16, u16, u16)>(),
        inits in vec((2u8..=5, vec(any::<u8>(), 0..20)), 0..5),
        non_default_values in vec(any::<u8>(), 0..30),
    ) {
        let model = m::StaticField {
            image_size: sizes.0,
            reference_count: sizes.1,
            array_init: inits
                .into_iter()
                .map(|(element_type, values)| m::ArrayInit { element_type, values })
                .collect(),
            default_value_count: sizes.2,
            non_default_values,
        };
        round_trip(&model, CapVersion::V2_1);
    }

    #[test]
    fn ref_location(mut one in vec(0u32..70_000, 0..60), mut two in vec(0u32..70_000, 0..60)) {
        one.sort_unstable();
        two.sort_unstable();
        let model = m::RefLocation::from_offsets(&one, &two).unwrap();
        round_trip(&model, CapVersion::V2_1);
        let bytes = model.encode().unwrap();
        let view = oxicard_cap::RefLocation::parse(&bytes, CapVersion::V2_1).unwrap();
        prop_assert_eq!(view.byte_index_offsets().collect::<Vec<_>>(), one);
        prop_assert_eq!(view.byte2_index_offsets().collect::<Vec<_>>(), two);
    }

    #[test]
    fn export(classes in vec((any::<u16>(), vec(any::<u16>(), 0..5), vec(any::<u16>(), 0..5)), 0..8)) {
        let model = m::ExportComponent {
            classes: classes
                .into_iter()
                .map(|(class_offset, static_field_offsets, static_method_offsets)| m::ClassExport {
                    class_offset,
                    static_field_offsets,
                    static_method_offsets,
                })
                .collect(),
        };
        round_trip(&model, CapVersion::V2_1);
    }

    #[test]
    fn descriptor_component(model in descriptor()) {
        round_trip(&model, CapVersion::V2_1);
    }

    #[test]
    fn debug(model in debug_component()) {
        round_trip(&model, CapVersion::V2_2);
    }
}

#[test]
fn encoders_refuse_what_does_not_fit() {
    let too_many = m::ConstantPool {
        entries: vec![CpEntry::ClassRef(ClassRef::Internal(0)); 0x4000],
    };
    // 0x4000 entries * 4 bytes + 2 > 0xFFFF: the component size does not fit.
    let err = too_many.encode().unwrap_err();
    assert!(err.to_string().contains("component size"), "{err}");
    let bad_aid = m::Import {
        packages: vec![m::PackageInfo {
            minor_version: 0,
            major_version: 1,
            aid: vec![1, 2, 3],
        }],
    };
    assert!(bad_aid.encode().is_err());
    let bad_flags = m::ClassComponent {
        signature_pool: None,
        entries: vec![m::ClassEntry::Interface(m::InterfaceInfo {
            flags: 0,
            superinterfaces: vec![],
            interface_name: None,
        })],
    };
    assert!(bad_flags.encode().is_err());
}
