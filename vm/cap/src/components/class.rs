//! Class component (tag 6): interfaces and classes with their method tables, implemented
//! interfaces, RMI remote information and (CAP 2.2+) the signature pool.

use crate::component::{CapVersion, RawComponent};
use crate::components::constant_pool::ClassRef;
use crate::error::{CapError, ComponentTag};
use crate::reader::{ByteReader, Decode, Items, U2List};

/// Class flag (high nibble of the first byte): interface.
pub const ACC_INTERFACE: u8 = 0x8;
/// Class flag: the class implements `Shareable`.
pub const ACC_SHAREABLE: u8 = 0x4;
/// Class flag: remote class or interface (RMI).
pub const ACC_REMOTE: u8 = 0x2;

/// A validated list of u2 `class_ref`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ClassRefs<'a>(pub U2List<'a>);

impl<'a> ClassRefs<'a> {
    /// Number of references.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The references in order.
    pub fn iter(&self) -> impl Iterator<Item = ClassRef> + 'a {
        self.0.iter().map(ClassRef::from_u16)
    }
}

/// An `interface_info` entry.
#[derive(Clone, Copy, Debug)]
pub struct InterfaceInfo<'a> {
    /// Offset of this entry in the Class component info (what internal `class_ref`s hold).
    pub offset: u16,
    /// Flags (high nibble of the first byte): `ACC_INTERFACE` and maybe others.
    pub flags: u8,
    /// All superinterfaces.
    pub superinterfaces: ClassRefs<'a>,
    /// `interface_name_info`, present only for `ACC_REMOTE` interfaces.
    pub interface_name: Option<&'a [u8]>,
}

/// An `implemented_interface_info`: an interface and its method token mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImplementedInterface<'a> {
    /// The interface.
    pub interface: ClassRef,
    /// `index[interface method token]` = virtual method token implementing it.
    pub index: &'a [u8],
}

impl<'a> Decode<'a> for ImplementedInterface<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(ImplementedInterface {
            interface: ClassRef::read(reader, "implemented interface")?,
            index: reader.u1_prefixed("implemented interface index")?,
        })
    }
}

/// A `remote_method_info` of a remote class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteMethodInfo {
    /// Hash of the method name and descriptor.
    pub remote_method_hash: u16,
    /// Offset of the signature in the signature pool.
    pub signature_offset: u16,
    /// Virtual method token.
    pub virtual_method_token: u8,
}

impl<'a> Decode<'a> for RemoteMethodInfo {
    const ANY_BYTES_OF_SIZE: Option<usize> = Some(5);

    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(RemoteMethodInfo {
            remote_method_hash: reader.u2("remote_method_hash")?,
            signature_offset: reader.u2("signature_offset")?,
            virtual_method_token: reader.u1("virtual_method_token")?,
        })
    }
}

/// `remote_interface_info` of an `ACC_REMOTE` class (RMI).
#[derive(Clone, Copy, Debug)]
pub struct RemoteInterfaceInfo<'a> {
    /// Remote methods.
    pub remote_methods: Items<'a, RemoteMethodInfo>,
    /// Hash modifier string.
    pub hash_modifier: &'a [u8],
    /// Class name.
    pub class_name: &'a [u8],
    /// Remote interfaces implemented.
    pub remote_interfaces: ClassRefs<'a>,
}

impl<'a> Decode<'a> for RemoteInterfaceInfo<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let count = reader.u1("remote_methods_count")?;
        let remote_methods = Items::parse(reader, usize::from(count))?;
        let hash_modifier = reader.u1_prefixed("hash_modifier")?;
        let class_name = reader.u1_prefixed("class_name")?;
        let count = reader.u1("remote_interfaces_count")?;
        let remote_interfaces = ClassRefs(reader.u2_list(usize::from(count), "remote_interfaces")?);
        Ok(RemoteInterfaceInfo {
            remote_methods,
            hash_modifier,
            class_name,
            remote_interfaces,
        })
    }
}

/// CAP 2.3 additions to `class_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenMapping<'a> {
    /// `public_virtual_method_token_mapping[base + count]`.
    pub public_virtual_method_token_mapping: &'a [u8],
    /// `CAP22_inheritable_public_method_token_count`.
    pub cap22_inheritable_public_method_token_count: u8,
}

/// A `class_info` entry.
#[derive(Clone, Copy, Debug)]
pub struct ClassInfo<'a> {
    /// Offset of this entry in the Class component info (what internal `class_ref`s hold).
    pub offset: u16,
    /// Flags (high nibble of the first byte): `ACC_SHAREABLE`, `ACC_REMOTE`.
    pub flags: u8,
    /// Superclass; `None` (0xFFFF) only for `java.lang.Object`.
    pub super_class_ref: Option<ClassRef>,
    /// 16-bit cells of instance fields declared in this class.
    pub declared_instance_size: u8,
    /// Token of the first reference instance field, 0xFF if none.
    pub first_reference_token: u8,
    /// Number of reference instance fields.
    pub reference_count: u8,
    /// First public virtual method token in the public table.
    pub public_method_table_base: u8,
    /// First package virtual method token (without bit 7) in the package table.
    pub package_method_table_base: u8,
    /// Method component offsets for public tokens `base..base+count`.
    pub public_virtual_method_table: U2List<'a>,
    /// Method component offsets for package tokens `0x80|(base..base+count)`.
    pub package_virtual_method_table: U2List<'a>,
    /// All implemented interfaces.
    pub interfaces: Items<'a, ImplementedInterface<'a>>,
    /// RMI information, only for `ACC_REMOTE` classes.
    pub remote_interface: Option<RemoteInterfaceInfo<'a>>,
    /// CAP 2.3 token mapping; `None` in 2.1 and 2.2.
    pub token_mapping: Option<TokenMapping<'a>>,
}

/// An entry of the Class component.
#[derive(Clone, Copy, Debug)]
pub enum ClassEntry<'a> {
    /// An `interface_info`.
    Interface(InterfaceInfo<'a>),
    /// A `class_info`.
    Class(ClassInfo<'a>),
}

impl ClassEntry<'_> {
    /// Offset of the entry in the Class component info.
    pub fn offset(&self) -> u16 {
        match self {
            ClassEntry::Interface(i) => i.offset,
            ClassEntry::Class(c) => c.offset,
        }
    }
}

impl<'a> Decode<'a> for ClassEntry<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        // Positions in the Class reader are info offsets; the offset field is a u2 in the
        // format, so larger offsets cannot be referenced and are kept saturated.
        let offset = u16::try_from(reader.position()).unwrap_or(u16::MAX);
        let bitfield = reader.u1("class bitfield")?;
        let flags = bitfield >> 4;
        let interface_count = usize::from(bitfield & 0x0F);
        if flags & ACC_INTERFACE != 0 {
            let superinterfaces = ClassRefs(reader.u2_list(interface_count, "superinterfaces")?);
            let interface_name = if flags & ACC_REMOTE != 0 {
                Some(reader.u1_prefixed("interface_name")?)
            } else {
                None
            };
            return Ok(ClassEntry::Interface(InterfaceInfo {
                offset,
                flags,
                superinterfaces,
                interface_name,
            }));
        }
        let super_class_ref = match reader.u2("super_class_ref")? {
            0xFFFF => None,
            value => Some(ClassRef::from_u16(value)),
        };
        let declared_instance_size = reader.u1("declared_instance_size")?;
        let first_reference_token = reader.u1("first_reference_token")?;
        let reference_count = reader.u1("reference_count")?;
        let public_method_table_base = reader.u1("public_method_table_base")?;
        let public_count = reader.u1("public_method_table_count")?;
        let package_method_table_base = reader.u1("package_method_table_base")?;
        let package_count = reader.u1("package_method_table_count")?;
        let public_virtual_method_table =
            reader.u2_list(usize::from(public_count), "public_virtual_method_table")?;
        let package_virtual_method_table =
            reader.u2_list(usize::from(package_count), "package_virtual_method_table")?;
        let interfaces = Items::parse(reader, interface_count)?;
        let remote_interface = if flags & ACC_REMOTE != 0 {
            Some(RemoteInterfaceInfo::decode(reader)?)
        } else {
            None
        };
        let token_mapping = if reader.minor_version() >= 3 {
            let len = usize::from(public_method_table_base) + usize::from(public_count);
            Some(TokenMapping {
                public_virtual_method_token_mapping: reader
                    .bytes(len, "public_virtual_method_token_mapping")?,
                cap22_inheritable_public_method_token_count: reader
                    .u1("CAP22_inheritable_public_method_token_count")?,
            })
        } else {
            None
        };
        Ok(ClassEntry::Class(ClassInfo {
            offset,
            flags,
            super_class_ref,
            declared_instance_size,
            first_reference_token,
            reference_count,
            public_method_table_base,
            package_method_table_base,
            public_virtual_method_table,
            package_virtual_method_table,
            interfaces,
            remote_interface,
            token_mapping,
        }))
    }
}

/// Zero-copy view of the Class component.
#[derive(Clone, Copy, Debug)]
pub struct ClassComponent<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// The signature pool (CAP 2.2+; type descriptors of remote methods); `None` in 2.1.
    pub signature_pool: Option<&'a [u8]>,
    /// Interfaces and classes in component order.
    pub entries: Items<'a, ClassEntry<'a>>,
}

impl<'a> ClassComponent<'a> {
    /// Parses a complete Class component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Class)?;
        let mut r = raw.info_reader(version);
        let signature_pool = if version.minor >= 2 {
            let len = r.u2("signature_pool_length")?;
            Some(r.bytes(usize::from(len), "signature_pool")?)
        } else {
            None
        };
        // Entry offsets are info offsets, so entries are read from a reader over all of info.
        let entries = Items::parse_to_end(&mut r)?;
        Ok(ClassComponent {
            raw,
            signature_pool,
            entries,
        })
    }

    /// The entry starting at info offset `offset`, if any.
    pub fn entry_at(&self, offset: u16) -> Option<ClassEntry<'a>> {
        let mut all = self.entries;
        all.find(|e| e.offset() == offset)
    }
}
