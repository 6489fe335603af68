//! Descriptor component (tag 11): classes, fields and methods with access flags, tokens,
//! method offsets and bytecode sizes, plus the type descriptor table. It is the only place
//! that gives method boundaries in the Method component.

use crate::component::{CapVersion, RawComponent};
use crate::components::class::ClassRefs;
use crate::components::constant_pool::{ClassRef, StaticRef};
use crate::error::{CapError, ComponentTag};
use crate::reader::{ByteReader, Decode, Items, U2List};

/// Descriptor class access flag: public.
pub const ACC_PUBLIC: u8 = 0x01;
/// Descriptor access flag: private (fields, methods).
pub const ACC_PRIVATE: u8 = 0x02;
/// Descriptor access flag: protected (fields, methods).
pub const ACC_PROTECTED: u8 = 0x04;
/// Descriptor access flag: static (fields, methods).
pub const ACC_STATIC: u8 = 0x08;
/// Descriptor access flag: final.
pub const ACC_FINAL: u8 = 0x10;
/// Descriptor class access flag: interface.
pub const ACC_INTERFACE_DESCRIPTOR: u8 = 0x40;
/// Descriptor method access flag: abstract.
pub const ACC_ABSTRACT_METHOD: u8 = 0x40;
/// Descriptor class access flag: abstract.
pub const ACC_ABSTRACT_CLASS: u8 = 0x80;
/// Descriptor method access flag: constructor (`<init>`).
pub const ACC_INIT: u8 = 0x80;

/// The `field_ref` of a field descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldRef {
    /// A static field (as a StaticFieldref payload).
    Static(StaticRef),
    /// An instance field: class and token.
    Instance {
        /// The declaring class.
        class: ClassRef,
        /// Instance field token.
        token: u8,
    },
}

/// A `field_descriptor_info` (7 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldDescriptor {
    /// Field token, 0xFF for private/package static fields.
    pub token: u8,
    /// `ACC_PUBLIC`, `ACC_PRIVATE`, `ACC_PROTECTED`, `ACC_STATIC`, `ACC_FINAL`.
    pub access_flags: u8,
    /// Where the field is.
    pub field_ref: FieldRef,
    /// Primitive type `0x8002..=0x8005`, or an offset into the type descriptor info.
    pub field_type: u16,
}

impl<'a> Decode<'a> for FieldDescriptor {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let token = reader.u1("field token")?;
        let access_flags = reader.u1("field access_flags")?;
        let field_ref = if access_flags & ACC_STATIC != 0 {
            FieldRef::Static(StaticRef::read(reader, "static field_ref")?)
        } else {
            FieldRef::Instance {
                class: ClassRef::read(reader, "instance field class_ref")?,
                token: reader.u1("instance field_ref token")?,
            }
        };
        Ok(FieldDescriptor {
            token,
            access_flags,
            field_ref,
            field_type: reader.u2("field type")?,
        })
    }
}

/// A `method_descriptor_info` (12 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodDescriptor {
    /// Method token, 0xFF for private or package static methods and constructors.
    pub token: u8,
    /// `ACC_PUBLIC` .. `ACC_ABSTRACT_METHOD`, `ACC_INIT`.
    pub access_flags: u8,
    /// Offset of the `method_info` in the Method component info; 0 for interface methods.
    pub method_offset: u16,
    /// Offset of the signature in the type descriptor info.
    pub type_offset: u16,
    /// Bytes of bytecode after the method header; 0 for abstract methods.
    pub bytecode_count: u16,
    /// Number of exception handlers of the method.
    pub exception_handler_count: u16,
    /// Index of its first handler in the Method component's table.
    pub exception_handler_index: u16,
}

impl<'a> Decode<'a> for MethodDescriptor {
    const ANY_BYTES_OF_SIZE: Option<usize> = Some(12);

    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(MethodDescriptor {
            token: reader.u1("method token")?,
            access_flags: reader.u1("method access_flags")?,
            method_offset: reader.u2("method_offset")?,
            type_offset: reader.u2("type_offset")?,
            bytecode_count: reader.u2("bytecode_count")?,
            exception_handler_count: reader.u2("exception_handler_count")?,
            exception_handler_index: reader.u2("exception_handler_index")?,
        })
    }
}

/// A `class_descriptor_info`.
#[derive(Clone, Copy, Debug)]
pub struct ClassDescriptor<'a> {
    /// Class token, 0xFF for package-visible classes.
    pub token: u8,
    /// `ACC_PUBLIC`, `ACC_FINAL`, `ACC_INTERFACE_DESCRIPTOR`, `ACC_ABSTRACT_CLASS`.
    pub access_flags: u8,
    /// This class.
    pub this_class_ref: ClassRef,
    /// Implemented interfaces.
    pub interfaces: ClassRefs<'a>,
    /// Fields.
    pub fields: Items<'a, FieldDescriptor>,
    /// Methods.
    pub methods: Items<'a, MethodDescriptor>,
}

impl ClassDescriptor<'_> {
    /// True for an interface.
    pub fn is_interface(&self) -> bool {
        self.access_flags & ACC_INTERFACE_DESCRIPTOR != 0
    }
}

impl<'a> Decode<'a> for ClassDescriptor<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let token = reader.u1("class token")?;
        let access_flags = reader.u1("class access_flags")?;
        let this_class_ref = ClassRef::read(reader, "this_class_ref")?;
        let interface_count = reader.u1("interface_count")?;
        let field_count = reader.u2("field_count")?;
        let method_count = reader.u2("method_count")?;
        let interfaces = ClassRefs(reader.u2_list(usize::from(interface_count), "interfaces")?);
        let fields = Items::parse(reader, usize::from(field_count))?;
        let methods = Items::parse(reader, usize::from(method_count))?;
        Ok(ClassDescriptor {
            token,
            access_flags,
            this_class_ref,
            interfaces,
            fields,
            methods,
        })
    }
}

/// A `type_descriptor`: nibble-encoded type or signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeDescriptor<'a> {
    /// Offset from the start of the type descriptor info.
    pub offset: u16,
    /// Number of nibbles.
    pub nibble_count: u8,
    /// `(nibble_count + 1) / 2` bytes of nibbles, high nibble first.
    pub type_bytes: &'a [u8],
}

impl TypeDescriptor<'_> {
    /// The `index`th nibble.
    pub fn nibble(&self, index: usize) -> Option<u8> {
        if index >= usize::from(self.nibble_count) {
            return None;
        }
        let byte = *self.type_bytes.get(index / 2)?;
        Some(if index & 1 == 0 {
            byte >> 4
        } else {
            byte & 0x0F
        })
    }
}

/// Reads type descriptors; positions are relative to the type descriptor info.
struct TypeDescriptorReader;

impl TypeDescriptorReader {
    fn read<'a>(reader: &mut ByteReader<'a>, start: usize) -> Result<TypeDescriptor<'a>, CapError> {
        let offset = u16::try_from(reader.position().saturating_sub(start)).unwrap_or(u16::MAX);
        let nibble_count = reader.u1("type descriptor nibble_count")?;
        let len = usize::from(nibble_count).div_ceil(2);
        Ok(TypeDescriptor {
            offset,
            nibble_count,
            type_bytes: reader.bytes(len, "type descriptor nibbles")?,
        })
    }
}

/// The type descriptors of a Descriptor component, in order.
#[derive(Clone, Copy, Debug)]
pub struct TypeDescriptors<'a> {
    reader: ByteReader<'a>,
    start: usize,
}

impl<'a> Iterator for TypeDescriptors<'a> {
    type Item = TypeDescriptor<'a>;

    fn next(&mut self) -> Option<TypeDescriptor<'a>> {
        if self.reader.is_empty() {
            return None;
        }
        TypeDescriptorReader::read(&mut self.reader, self.start).ok()
    }
}

/// Zero-copy view of the Descriptor component.
#[derive(Clone, Copy, Debug)]
pub struct Descriptor<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// Classes and interfaces, in Class component order.
    pub classes: Items<'a, ClassDescriptor<'a>>,
    /// Info offset of `type_descriptor_info`.
    pub types_offset: usize,
    /// `constant_pool_types`: per CP entry, offset of its type; 0xFFFF for Classrefs.
    pub constant_pool_types: U2List<'a>,
    /// The type descriptors.
    pub type_descriptors: TypeDescriptors<'a>,
}

impl<'a> Descriptor<'a> {
    /// Parses a complete Descriptor component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Descriptor)?;
        let mut r = raw.info_reader(version);
        let class_count = r.u1("class_count")?;
        let classes = Items::parse(&mut r, usize::from(class_count))?;
        let types_offset = r.position();
        let cp_count = r.u2("constant_pool_count")?;
        let constant_pool_types = r.u2_list(usize::from(cp_count), "constant_pool_types")?;
        let type_descriptors = TypeDescriptors {
            reader: r,
            start: types_offset,
        };
        while !r.is_empty() {
            TypeDescriptorReader::read(&mut r, types_offset)?;
        }
        Ok(Descriptor {
            raw,
            classes,
            types_offset,
            constant_pool_types,
            type_descriptors,
        })
    }

    /// The type descriptor at `offset` (from the start of the type descriptor info).
    pub fn type_descriptor_at(&self, offset: u16) -> Option<TypeDescriptor<'a>> {
        let mut all = self.type_descriptors;
        all.find(|t| t.offset == offset)
    }
}
