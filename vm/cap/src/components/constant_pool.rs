//! ConstantPool component (tag 5): 4-byte entries referring to classes, fields and methods.

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag, ErrorKind};
use crate::reader::{ByteReader, Decode, Items};

/// A `class_ref`: an internal Class component offset or an external (package, class) token pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClassRef {
    /// Offset into the Class component info of an `interface_info`/`class_info` (bit 15 clear).
    Internal(u16),
    /// A class of an imported package (bit 15 set).
    External {
        /// Package token (index into the Import component), 0..=127.
        package_token: u8,
        /// Class token in that package's export file.
        class_token: u8,
    },
}

impl ClassRef {
    /// Decodes the u2 form.
    pub fn from_u16(value: u16) -> ClassRef {
        let [hi, lo] = value.to_be_bytes();
        if hi & 0x80 == 0 {
            ClassRef::Internal(value)
        } else {
            ClassRef::External {
                package_token: hi & 0x7F,
                class_token: lo,
            }
        }
    }

    /// The u2 form.
    pub fn to_u16(self) -> u16 {
        match self {
            ClassRef::Internal(offset) => offset,
            ClassRef::External {
                package_token,
                class_token,
            } => u16::from_be_bytes([0x80 | package_token, class_token]),
        }
    }

    pub(crate) fn read(reader: &mut ByteReader<'_>, field: &'static str) -> Result<Self, CapError> {
        Ok(ClassRef::from_u16(reader.u2(field)?))
    }
}

/// The 3-byte reference of a StaticFieldref or StaticMethodref entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StaticRef {
    /// An offset in this package: into the static field image (fields) or into the Method
    /// component info (methods). Encoded `00 offset_hi offset_lo`.
    Internal(u16),
    /// A member of an imported package.
    External {
        /// Package token (index into the Import component).
        package_token: u8,
        /// Class token.
        class_token: u8,
        /// Static field or static method token.
        token: u8,
    },
}

impl StaticRef {
    /// Decodes the 3-byte form; `None` for an internal reference whose first byte is not 0.
    pub fn from_bytes(bytes: [u8; 3]) -> Option<StaticRef> {
        let [a, b, c] = bytes;
        if a & 0x80 != 0 {
            Some(StaticRef::External {
                package_token: a & 0x7F,
                class_token: b,
                token: c,
            })
        } else if a == 0 {
            Some(StaticRef::Internal(u16::from_be_bytes([b, c])))
        } else {
            None
        }
    }

    /// The 3-byte form.
    pub fn to_bytes(self) -> [u8; 3] {
        match self {
            StaticRef::Internal(offset) => {
                let [hi, lo] = offset.to_be_bytes();
                [0, hi, lo]
            }
            StaticRef::External {
                package_token,
                class_token,
                token,
            } => [0x80 | package_token, class_token, token],
        }
    }

    pub(crate) fn read(reader: &mut ByteReader<'_>, field: &'static str) -> Result<Self, CapError> {
        let at = reader.position();
        let bytes = reader.bytes(3, field)?;
        let array = [
            bytes.first().copied().unwrap_or(0),
            bytes.get(1).copied().unwrap_or(0),
            bytes.get(2).copied().unwrap_or(0),
        ];
        StaticRef::from_bytes(array).ok_or_else(|| {
            reader.error_at(
                at,
                ErrorKind::Invalid {
                    field,
                    expected: "0 or 0x80|package_token in the first byte",
                    found: u32::from(array[0]),
                },
            )
        })
    }
}

/// CP tag of CONSTANT_Classref.
pub const CONSTANT_CLASSREF: u8 = 1;
/// CP tag of CONSTANT_InstanceFieldref.
pub const CONSTANT_INSTANCE_FIELDREF: u8 = 2;
/// CP tag of CONSTANT_VirtualMethodref.
pub const CONSTANT_VIRTUAL_METHODREF: u8 = 3;
/// CP tag of CONSTANT_SuperMethodref.
pub const CONSTANT_SUPER_METHODREF: u8 = 4;
/// CP tag of CONSTANT_StaticFieldref.
pub const CONSTANT_STATIC_FIELDREF: u8 = 5;
/// CP tag of CONSTANT_StaticMethodref.
pub const CONSTANT_STATIC_METHODREF: u8 = 6;

/// One constant-pool entry (`cp_info`, 4 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpEntry {
    /// CONSTANT_Classref (tag 1).
    ClassRef(ClassRef),
    /// CONSTANT_InstanceFieldref (tag 2).
    InstanceFieldRef {
        /// The declaring class.
        class: ClassRef,
        /// Instance field token in that class.
        token: u8,
    },
    /// CONSTANT_VirtualMethodref (tag 3).
    VirtualMethodRef {
        /// The class fixing the token namespace.
        class: ClassRef,
        /// Virtual method token (bit 7 set: package-visible).
        token: u8,
    },
    /// CONSTANT_SuperMethodref (tag 4).
    SuperMethodRef {
        /// The (internal) class containing the `super.m()` call.
        class: ClassRef,
        /// Virtual method token.
        token: u8,
    },
    /// CONSTANT_StaticFieldref (tag 5).
    StaticFieldRef(StaticRef),
    /// CONSTANT_StaticMethodref (tag 6).
    StaticMethodRef(StaticRef),
}

impl CpEntry {
    /// The CP tag byte.
    pub fn tag(&self) -> u8 {
        match self {
            CpEntry::ClassRef(_) => CONSTANT_CLASSREF,
            CpEntry::InstanceFieldRef { .. } => CONSTANT_INSTANCE_FIELDREF,
            CpEntry::VirtualMethodRef { .. } => CONSTANT_VIRTUAL_METHODREF,
            CpEntry::SuperMethodRef { .. } => CONSTANT_SUPER_METHODREF,
            CpEntry::StaticFieldRef(_) => CONSTANT_STATIC_FIELDREF,
            CpEntry::StaticMethodRef(_) => CONSTANT_STATIC_METHODREF,
        }
    }

    /// The 4-byte encoding.
    pub fn to_bytes(&self) -> [u8; 4] {
        let tag = self.tag();
        match *self {
            CpEntry::ClassRef(class) => {
                let [hi, lo] = class.to_u16().to_be_bytes();
                [tag, hi, lo, 0]
            }
            CpEntry::InstanceFieldRef { class, token }
            | CpEntry::VirtualMethodRef { class, token }
            | CpEntry::SuperMethodRef { class, token } => {
                let [hi, lo] = class.to_u16().to_be_bytes();
                [tag, hi, lo, token]
            }
            CpEntry::StaticFieldRef(r) | CpEntry::StaticMethodRef(r) => {
                let [a, b, c] = r.to_bytes();
                [tag, a, b, c]
            }
        }
    }
}

impl<'a> Decode<'a> for CpEntry {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let at = reader.position();
        let tag = reader.u1("cp_info tag")?;
        Ok(match tag {
            CONSTANT_CLASSREF => {
                let class = ClassRef::read(reader, "class_ref")?;
                let pad_at = reader.position();
                let padding = reader.u1("Classref padding")?;
                if padding != 0 {
                    return Err(reader.error_at(
                        pad_at,
                        ErrorKind::Invalid {
                            field: "Classref padding",
                            expected: "0",
                            found: u32::from(padding),
                        },
                    ));
                }
                CpEntry::ClassRef(class)
            }
            CONSTANT_INSTANCE_FIELDREF..=CONSTANT_SUPER_METHODREF => {
                let class = ClassRef::read(reader, "class_ref")?;
                let token = reader.u1("token")?;
                match tag {
                    CONSTANT_INSTANCE_FIELDREF => CpEntry::InstanceFieldRef { class, token },
                    CONSTANT_VIRTUAL_METHODREF => CpEntry::VirtualMethodRef { class, token },
                    _ => CpEntry::SuperMethodRef { class, token },
                }
            }
            CONSTANT_STATIC_FIELDREF => {
                CpEntry::StaticFieldRef(StaticRef::read(reader, "static field reference")?)
            }
            CONSTANT_STATIC_METHODREF => {
                CpEntry::StaticMethodRef(StaticRef::read(reader, "static method reference")?)
            }
            other => {
                return Err(reader.error_at(
                    at,
                    ErrorKind::Invalid {
                        field: "cp_info tag",
                        expected: "a constant pool tag 1..=6",
                        found: u32::from(other),
                    },
                ))
            }
        })
    }
}

/// Zero-copy view of the ConstantPool component.
#[derive(Clone, Copy, Debug)]
pub struct ConstantPool<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// The entries.
    pub entries: Items<'a, CpEntry>,
    entry_bytes: &'a [u8],
}

impl<'a> ConstantPool<'a> {
    /// Parses a complete ConstantPool component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::ConstantPool)?;
        let mut r = raw.info_reader(version);
        let count = r.u2("count")?;
        let entry_bytes = r.rest();
        let entries = Items::parse(&mut r, usize::from(count))?;
        r.finish()?;
        Ok(ConstantPool {
            raw,
            entries,
            entry_bytes,
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the pool has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The entry at `index` (random access, constant time).
    pub fn get(&self, index: usize) -> Option<CpEntry> {
        let start = index.checked_mul(4)?;
        let bytes = self.entry_bytes.get(start..start.checked_add(4)?)?;
        let mut reader = ByteReader::new(bytes, Some(ComponentTag::ConstantPool), 0, 1);
        CpEntry::decode(&mut reader).ok()
    }
}
