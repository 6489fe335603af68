//! The class-file constant pool (JVMS §4.4) and resolved views of its entries.
//!
//! Entries are stored as parsed; lookups check the index and the entry kind and return
//! [`ConstantPoolError`] instead of panicking, so callers can work on untrusted input.

use std::fmt;

/// One constant-pool entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constant {
    /// Index 0 and the slot after a `Long` or `Double`.
    Unusable,
    /// `CONSTANT_Utf8` (1), decoded from modified UTF-8.
    Utf8(String),
    /// `CONSTANT_Integer` (3).
    Integer(i32),
    /// `CONSTANT_Float` (4), as IEEE 754 bits.
    Float(u32),
    /// `CONSTANT_Long` (5).
    Long(i64),
    /// `CONSTANT_Double` (6), as IEEE 754 bits.
    Double(u64),
    /// `CONSTANT_Class` (7).
    Class {
        /// Utf8 index of the binary name or array descriptor.
        name_index: u16,
    },
    /// `CONSTANT_String` (8).
    String {
        /// Utf8 index of the string value.
        string_index: u16,
    },
    /// `CONSTANT_Fieldref` (9).
    Fieldref {
        /// Class index.
        class_index: u16,
        /// NameAndType index.
        name_and_type_index: u16,
    },
    /// `CONSTANT_Methodref` (10).
    Methodref {
        /// Class index.
        class_index: u16,
        /// NameAndType index.
        name_and_type_index: u16,
    },
    /// `CONSTANT_InterfaceMethodref` (11).
    InterfaceMethodref {
        /// Class index.
        class_index: u16,
        /// NameAndType index.
        name_and_type_index: u16,
    },
    /// `CONSTANT_NameAndType` (12).
    NameAndType {
        /// Utf8 index of the member name.
        name_index: u16,
        /// Utf8 index of the descriptor.
        descriptor_index: u16,
    },
    /// `CONSTANT_MethodHandle` (15).
    MethodHandle {
        /// Reference kind 1..=9 (JVMS §5.4.3.5).
        reference_kind: u8,
        /// Index of the referenced field or method ref.
        reference_index: u16,
    },
    /// `CONSTANT_MethodType` (16).
    MethodType {
        /// Utf8 index of the method descriptor.
        descriptor_index: u16,
    },
    /// `CONSTANT_Dynamic` (17).
    Dynamic {
        /// Index into the BootstrapMethods attribute.
        bootstrap_method_attr_index: u16,
        /// NameAndType index.
        name_and_type_index: u16,
    },
    /// `CONSTANT_InvokeDynamic` (18).
    InvokeDynamic {
        /// Index into the BootstrapMethods attribute.
        bootstrap_method_attr_index: u16,
        /// NameAndType index.
        name_and_type_index: u16,
    },
    /// `CONSTANT_Module` (19).
    Module {
        /// Utf8 index of the module name.
        name_index: u16,
    },
    /// `CONSTANT_Package` (20).
    Package {
        /// Utf8 index of the package name.
        name_index: u16,
    },
}

impl Constant {
    /// The JVMS name of the entry kind (`Utf8`, `Class`, …), for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Constant::Unusable => "unusable slot",
            Constant::Utf8(_) => "Utf8",
            Constant::Integer(_) => "Integer",
            Constant::Float(_) => "Float",
            Constant::Long(_) => "Long",
            Constant::Double(_) => "Double",
            Constant::Class { .. } => "Class",
            Constant::String { .. } => "String",
            Constant::Fieldref { .. } => "Fieldref",
            Constant::Methodref { .. } => "Methodref",
            Constant::InterfaceMethodref { .. } => "InterfaceMethodref",
            Constant::NameAndType { .. } => "NameAndType",
            Constant::MethodHandle { .. } => "MethodHandle",
            Constant::MethodType { .. } => "MethodType",
            Constant::Dynamic { .. } => "Dynamic",
            Constant::InvokeDynamic { .. } => "InvokeDynamic",
            Constant::Module { .. } => "Module",
            Constant::Package { .. } => "Package",
        }
    }
}

/// A constant-pool lookup that failed: index out of range or entry of the wrong kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstantPoolError {
    /// The index looked up.
    pub index: u16,
    /// The entry kind(s) expected.
    pub expected: &'static str,
    /// What was found (`"nothing"` when out of range).
    pub found: &'static str,
}

impl fmt::Display for ConstantPoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "constant pool entry #{}: expected {}, found {}",
            self.index, self.expected, self.found
        )
    }
}

impl std::error::Error for ConstantPoolError {}

/// Which kind of member a [`MemberRef`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    /// `Fieldref`
    Field,
    /// `Methodref`
    Method,
    /// `InterfaceMethodref`
    InterfaceMethod,
}

/// A resolved `NameAndType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAndType<'a> {
    /// Member name.
    pub name: &'a str,
    /// Field or method descriptor.
    pub descriptor: &'a str,
}

/// A resolved field or method reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRef<'a> {
    /// Field, method or interface method.
    pub kind: MemberKind,
    /// Binary name of the class (or array descriptor) the member is looked up in.
    pub class_name: &'a str,
    /// Member name.
    pub name: &'a str,
    /// Field or method descriptor.
    pub descriptor: &'a str,
}

impl fmt::Display for MemberRef<'_> {
    /// `java/lang/String.length()I` or `Foo.count:S`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MemberKind::Field => write!(f, "{}.{}:{}", self.class_name, self.name, self.descriptor),
            _ => write!(f, "{}.{}{}", self.class_name, self.name, self.descriptor),
        }
    }
}

/// A resolved constant that `ldc`, `ldc_w` or `ldc2_w` can load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loadable<'a> {
    /// An int constant.
    Int(i32),
    /// A float constant.
    Float(f32),
    /// A long constant.
    Long(i64),
    /// A double constant.
    Double(f64),
    /// A string literal.
    String(&'a str),
    /// A class literal (binary name or array descriptor).
    Class(&'a str),
    /// A method type (descriptor).
    MethodType(&'a str),
    /// A method handle.
    MethodHandle {
        /// Reference kind 1..=9.
        reference_kind: u8,
        /// The referenced member.
        member: MemberRef<'a>,
    },
    /// A dynamically computed constant.
    Dynamic(NameAndType<'a>),
}

/// The constant pool: `entries[i]` is entry `#i`; entry 0 is [`Constant::Unusable`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConstantPool {
    /// All entries, indexed as in the class file.
    pub entries: Vec<Constant>,
}

impl ConstantPool {
    /// Number of slots, as `constant_pool_count` (including slot 0).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no slots at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `index`; slot 0 and the second slot of a long/double are errors.
    pub fn get(&self, index: u16) -> Result<&Constant, ConstantPoolError> {
        match self.entries.get(usize::from(index)) {
            None => Err(mismatch(index, "an entry", "nothing (index out of range)")),
            Some(Constant::Unusable) => Err(mismatch(index, "an entry", "an unusable slot")),
            Some(entry) => Ok(entry),
        }
    }

    /// The string of a `Utf8` entry.
    pub fn utf8(&self, index: u16) -> Result<&str, ConstantPoolError> {
        match self.get(index)? {
            Constant::Utf8(text) => Ok(text),
            other => Err(mismatch(index, "Utf8", other.kind_name())),
        }
    }

    /// The binary name (or array descriptor) of a `Class` entry.
    pub fn class_name(&self, index: u16) -> Result<&str, ConstantPoolError> {
        match self.get(index)? {
            Constant::Class { name_index } => self.utf8(*name_index),
            other => Err(mismatch(index, "Class", other.kind_name())),
        }
    }

    /// A resolved `NameAndType` entry.
    pub fn name_and_type(&self, index: u16) -> Result<NameAndType<'_>, ConstantPoolError> {
        match self.get(index)? {
            Constant::NameAndType {
                name_index,
                descriptor_index,
            } => Ok(NameAndType {
                name: self.utf8(*name_index)?,
                descriptor: self.utf8(*descriptor_index)?,
            }),
            other => Err(mismatch(index, "NameAndType", other.kind_name())),
        }
    }

    /// A resolved `Fieldref`, `Methodref` or `InterfaceMethodref`.
    pub fn member_ref(&self, index: u16) -> Result<MemberRef<'_>, ConstantPoolError> {
        let (kind, class_index, nat_index) = match self.get(index)? {
            Constant::Fieldref {
                class_index,
                name_and_type_index,
            } => (MemberKind::Field, class_index, name_and_type_index),
            Constant::Methodref {
                class_index,
                name_and_type_index,
            } => (MemberKind::Method, class_index, name_and_type_index),
            Constant::InterfaceMethodref {
                class_index,
                name_and_type_index,
            } => (
                MemberKind::InterfaceMethod,
                class_index,
                name_and_type_index,
            ),
            other => {
                return Err(mismatch(
                    index,
                    "Fieldref, Methodref or InterfaceMethodref",
                    other.kind_name(),
                ))
            }
        };
        let nat = self.name_and_type(*nat_index)?;
        Ok(MemberRef {
            kind,
            class_name: self.class_name(*class_index)?,
            name: nat.name,
            descriptor: nat.descriptor,
        })
    }

    /// A resolved `Fieldref`.
    pub fn field_ref(&self, index: u16) -> Result<MemberRef<'_>, ConstantPoolError> {
        let member = self.member_ref(index)?;
        if member.kind != MemberKind::Field {
            return Err(mismatch(index, "Fieldref", self.kind_name_at(index)));
        }
        Ok(member)
    }

    /// A resolved `Methodref` or `InterfaceMethodref`.
    pub fn method_ref(&self, index: u16) -> Result<MemberRef<'_>, ConstantPoolError> {
        let member = self.member_ref(index)?;
        if member.kind == MemberKind::Field {
            return Err(mismatch(
                index,
                "Methodref or InterfaceMethodref",
                "Fieldref",
            ));
        }
        Ok(member)
    }

    /// The bootstrap method index and name/type of an `InvokeDynamic` entry.
    pub fn invoke_dynamic(&self, index: u16) -> Result<(u16, NameAndType<'_>), ConstantPoolError> {
        match self.get(index)? {
            Constant::InvokeDynamic {
                bootstrap_method_attr_index,
                name_and_type_index,
            } => Ok((
                *bootstrap_method_attr_index,
                self.name_and_type(*name_and_type_index)?,
            )),
            other => Err(mismatch(index, "InvokeDynamic", other.kind_name())),
        }
    }

    /// A constant loadable by `ldc`/`ldc_w`/`ldc2_w`.
    pub fn loadable(&self, index: u16) -> Result<Loadable<'_>, ConstantPoolError> {
        Ok(match self.get(index)? {
            Constant::Integer(v) => Loadable::Int(*v),
            Constant::Float(bits) => Loadable::Float(f32::from_bits(*bits)),
            Constant::Long(v) => Loadable::Long(*v),
            Constant::Double(bits) => Loadable::Double(f64::from_bits(*bits)),
            Constant::String { string_index } => Loadable::String(self.utf8(*string_index)?),
            Constant::Class { name_index } => Loadable::Class(self.utf8(*name_index)?),
            Constant::MethodType { descriptor_index } => {
                Loadable::MethodType(self.utf8(*descriptor_index)?)
            }
            Constant::MethodHandle {
                reference_kind,
                reference_index,
            } => Loadable::MethodHandle {
                reference_kind: *reference_kind,
                member: self.member_ref(*reference_index)?,
            },
            Constant::Dynamic {
                name_and_type_index,
                ..
            } => Loadable::Dynamic(self.name_and_type(*name_and_type_index)?),
            other => return Err(mismatch(index, "a loadable constant", other.kind_name())),
        })
    }

    fn kind_name_at(&self, index: u16) -> &'static str {
        self.get(index).map_or("nothing", Constant::kind_name)
    }

    /// Checks that every entry refers to entries of the right kinds (JVMS §4.4). On error,
    /// returns the index of the first bad entry and the failed lookup.
    pub fn validate(&self) -> Result<(), (u16, ConstantPoolError)> {
        for (i, entry) in self.entries.iter().enumerate() {
            let index = u16::try_from(i).unwrap_or(u16::MAX);
            self.validate_entry(index, entry).map_err(|e| (index, e))?;
        }
        Ok(())
    }

    fn validate_entry(&self, index: u16, entry: &Constant) -> Result<(), ConstantPoolError> {
        match entry {
            Constant::Class { name_index }
            | Constant::Module { name_index }
            | Constant::Package { name_index } => {
                self.utf8(*name_index)?;
            }
            Constant::String { string_index } => {
                self.utf8(*string_index)?;
            }
            Constant::MethodType { descriptor_index } => {
                self.utf8(*descriptor_index)?;
            }
            Constant::NameAndType { .. } => {
                self.name_and_type(index)?;
            }
            Constant::Fieldref { .. }
            | Constant::Methodref { .. }
            | Constant::InterfaceMethodref { .. } => {
                self.member_ref(index)?;
            }
            Constant::Dynamic {
                name_and_type_index,
                ..
            }
            | Constant::InvokeDynamic {
                name_and_type_index,
                ..
            } => {
                self.name_and_type(*name_and_type_index)?;
            }
            Constant::MethodHandle {
                reference_kind,
                reference_index,
            } => {
                let member = self.member_ref(*reference_index)?;
                let ok = match reference_kind {
                    1..=4 => member.kind == MemberKind::Field,
                    5 | 8 => member.kind == MemberKind::Method,
                    6 | 7 => member.kind != MemberKind::Field,
                    9 => member.kind == MemberKind::InterfaceMethod,
                    _ => false,
                };
                if !ok {
                    return Err(mismatch(
                        index,
                        "a MethodHandle whose kind (1..=9) matches its reference",
                        "a MethodHandle with a mismatched kind",
                    ));
                }
            }
            Constant::Unusable
            | Constant::Utf8(_)
            | Constant::Integer(_)
            | Constant::Float(_)
            | Constant::Long(_)
            | Constant::Double(_) => {}
        }
        Ok(())
    }
}

fn mismatch(index: u16, expected: &'static str, found: &'static str) -> ConstantPoolError {
    ConstantPoolError {
        index,
        expected,
        found,
    }
}

/// Decodes modified UTF-8 (JVMS §4.4.7). Returns the byte position of the first invalid
/// sequence on error. Unpaired surrogates become U+FFFD.
pub fn decode_modified_utf8(bytes: &[u8]) -> Result<String, usize> {
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut pos = 0;
    while let Some(&first) = bytes.get(pos) {
        let continuation = |at: usize| -> Result<u16, usize> {
            match bytes.get(at) {
                Some(&b) if b & 0xC0 == 0x80 => Ok(u16::from(b & 0x3F)),
                _ => Err(at),
            }
        };
        match first {
            0x01..=0x7F => {
                units.push(u16::from(first));
                pos += 1;
            }
            0xC0..=0xDF => {
                units.push((u16::from(first & 0x1F) << 6) | continuation(pos + 1)?);
                pos += 2;
            }
            0xE0..=0xEF => {
                let unit = (u16::from(first & 0x0F) << 12)
                    | (continuation(pos + 1)? << 6)
                    | continuation(pos + 2)?;
                units.push(unit);
                pos += 3;
            }
            _ => return Err(pos),
        }
    }
    Ok(char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf8() {
        assert_eq!(decode_modified_utf8(b"abc").unwrap(), "abc");
        assert_eq!(decode_modified_utf8(&[0xC0, 0x80]).unwrap(), "\0");
        // U+1F600 as a surrogate pair, each half in 3 bytes
        let smiley = [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80];
        assert_eq!(decode_modified_utf8(&smiley).unwrap(), "\u{1F600}");
        assert_eq!(decode_modified_utf8(&[0x00]), Err(0));
        assert_eq!(decode_modified_utf8(&[0x41, 0xE0, 0x80]), Err(3));
        assert_eq!(decode_modified_utf8(&[0xF0, 0x80, 0x80, 0x80]), Err(0));
    }

    #[test]
    fn lookups_check_kind_and_range() {
        let cp = ConstantPool {
            entries: vec![
                Constant::Unusable,
                Constant::Utf8("Foo".into()),
                Constant::Class { name_index: 1 },
                Constant::Long(5),
                Constant::Unusable,
                Constant::Class { name_index: 2 },
            ],
        };
        assert_eq!(cp.class_name(2).unwrap(), "Foo");
        assert!(cp.utf8(0).is_err());
        assert!(cp.utf8(4).is_err());
        assert!(cp.utf8(2).is_err());
        assert!(cp.utf8(60000).is_err());
        assert!(cp.class_name(5).is_err());
        assert_eq!(cp.loadable(3).unwrap(), Loadable::Long(5));
        let (bad_entry, err) = cp.validate().unwrap_err();
        assert_eq!((bad_entry, err.index), (5, 2));
    }
}
