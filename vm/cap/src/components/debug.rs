//! Debug component (tag 12): names, source lines and local variables for off-card tools. It
//! is never loaded onto a card.

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag};
use crate::reader::{ByteReader, Decode, Items, U2List};

/// A string of the strings table (modified UTF-8 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugString<'a>(pub &'a [u8]);

impl<'a> Decode<'a> for DebugString<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let len = reader.u2("string length")?;
        Ok(DebugString(reader.bytes(usize::from(len), "string bytes")?))
    }
}

/// A `field_debug_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldDebugInfo {
    /// Strings-table index of the name.
    pub name_index: u16,
    /// Strings-table index of the descriptor.
    pub descriptor_index: u16,
    /// Java access flags.
    pub access_flags: u16,
    /// Token, static image offset or constant value.
    pub contents: u32,
}

impl<'a> Decode<'a> for FieldDebugInfo {
    const ANY_BYTES_OF_SIZE: Option<usize> = Some(10);

    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(FieldDebugInfo {
            name_index: reader.u2("field name_index")?,
            descriptor_index: reader.u2("field descriptor_index")?,
            access_flags: reader.u2("field access_flags")?,
            contents: reader.u4("field contents")?,
        })
    }
}

/// A local variable of a `method_debug_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VariableInfo {
    /// Local variable index.
    pub index: u8,
    /// Strings-table index of the name.
    pub name_index: u16,
    /// Strings-table index of the descriptor.
    pub descriptor_index: u16,
    /// First bytecode offset where the variable is live.
    pub start_pc: u16,
    /// Length of the live range.
    pub length: u16,
}

impl<'a> Decode<'a> for VariableInfo {
    const ANY_BYTES_OF_SIZE: Option<usize> = Some(9);

    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(VariableInfo {
            index: reader.u1("variable index")?,
            name_index: reader.u2("variable name_index")?,
            descriptor_index: reader.u2("variable descriptor_index")?,
            start_pc: reader.u2("variable start_pc")?,
            length: reader.u2("variable length")?,
        })
    }
}

/// A line-table entry of a `method_debug_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineInfo {
    /// First bytecode offset.
    pub start_pc: u16,
    /// Last bytecode offset.
    pub end_pc: u16,
    /// Source line.
    pub source_line: u16,
}

impl<'a> Decode<'a> for LineInfo {
    const ANY_BYTES_OF_SIZE: Option<usize> = Some(6);

    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(LineInfo {
            start_pc: reader.u2("line start_pc")?,
            end_pc: reader.u2("line end_pc")?,
            source_line: reader.u2("source_line")?,
        })
    }
}

/// A `method_debug_info`.
#[derive(Clone, Copy, Debug)]
pub struct MethodDebugInfo<'a> {
    /// Strings-table index of the name.
    pub name_index: u16,
    /// Strings-table index of the descriptor.
    pub descriptor_index: u16,
    /// Java access flags.
    pub access_flags: u16,
    /// Method component info offset.
    pub location: u16,
    /// Method header size.
    pub header_size: u8,
    /// Bytecode size.
    pub body_size: u16,
    /// Local variables.
    pub variables: Items<'a, VariableInfo>,
    /// Line table.
    pub lines: Items<'a, LineInfo>,
}

impl<'a> Decode<'a> for MethodDebugInfo<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let name_index = reader.u2("method name_index")?;
        let descriptor_index = reader.u2("method descriptor_index")?;
        let access_flags = reader.u2("method access_flags")?;
        let location = reader.u2("method location")?;
        let header_size = reader.u1("header_size")?;
        let body_size = reader.u2("body_size")?;
        let variable_count = reader.u2("variable_count")?;
        let line_count = reader.u2("line_count")?;
        Ok(MethodDebugInfo {
            name_index,
            descriptor_index,
            access_flags,
            location,
            header_size,
            body_size,
            variables: Items::parse(reader, usize::from(variable_count))?,
            lines: Items::parse(reader, usize::from(line_count))?,
        })
    }
}

/// A `class_debug_info`.
#[derive(Clone, Copy, Debug)]
pub struct ClassDebugInfo<'a> {
    /// Strings-table index of the name.
    pub name_index: u16,
    /// Java access flags.
    pub access_flags: u16,
    /// Class component info offset.
    pub location: u16,
    /// Strings-table index of the superclass name.
    pub superclass_name_index: u16,
    /// Strings-table index of the source file name.
    pub source_file_index: u16,
    /// Strings-table indices of interface names.
    pub interface_names: U2List<'a>,
    /// Fields.
    pub fields: Items<'a, FieldDebugInfo>,
    /// Methods.
    pub methods: Items<'a, MethodDebugInfo<'a>>,
}

impl<'a> Decode<'a> for ClassDebugInfo<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let name_index = reader.u2("class name_index")?;
        let access_flags = reader.u2("class access_flags")?;
        let location = reader.u2("class location")?;
        let superclass_name_index = reader.u2("superclass_name_index")?;
        let source_file_index = reader.u2("source_file_index")?;
        let interface_count = reader.u1("interface_count")?;
        let field_count = reader.u2("field_count")?;
        let method_count = reader.u2("method_count")?;
        Ok(ClassDebugInfo {
            name_index,
            access_flags,
            location,
            superclass_name_index,
            source_file_index,
            interface_names: reader
                .u2_list(usize::from(interface_count), "interface_names_indexes")?,
            fields: Items::parse(reader, usize::from(field_count))?,
            methods: Items::parse(reader, usize::from(method_count))?,
        })
    }
}

/// Zero-copy view of the Debug component.
#[derive(Clone, Copy, Debug)]
pub struct DebugComponent<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// The strings table.
    pub strings: Items<'a, DebugString<'a>>,
    /// Strings-table index of the package name.
    pub package_name_index: u16,
    /// Classes.
    pub classes: Items<'a, ClassDebugInfo<'a>>,
}

impl<'a> DebugComponent<'a> {
    /// Parses a complete Debug component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Debug)?;
        let mut r = raw.info_reader(version);
        let string_count = r.u2("string_count")?;
        let strings = Items::parse(&mut r, usize::from(string_count))?;
        let package_name_index = r.u2("package_name_index")?;
        let class_count = r.u2("class_count")?;
        let classes = Items::parse(&mut r, usize::from(class_count))?;
        r.finish()?;
        Ok(DebugComponent {
            raw,
            strings,
            package_name_index,
            classes,
        })
    }
}
