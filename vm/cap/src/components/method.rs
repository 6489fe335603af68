//! Method component (tag 7): the exception handler table and the method area (method headers
//! and bytecode). Method boundaries are not in this component; they come from the Descriptor
//! (see [`crate::Cap::methods`]).

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag, ErrorKind};
use crate::reader::{ByteReader, Decode, Items};

/// Method header flag (high nibble of the first byte): extended 4-byte header.
pub const ACC_EXTENDED_HEADER: u8 = 0x8;
/// Method header flag: abstract method (no bytecode).
pub const ACC_ABSTRACT_HEADER: u8 = 0x4;

/// An `exception_handler_info` (8 bytes). Offsets are into the Method component info.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExceptionHandler {
    /// First byte of the try range.
    pub start_offset: u16,
    /// `stop_bit`: no later handler's range encloses this one.
    pub stop_bit: bool,
    /// Length of the try range in bytes (15 bits).
    pub active_length: u16,
    /// First byte of the handler code.
    pub handler_offset: u16,
    /// CP index of the caught class; 0 for `finally`/any.
    pub catch_type_index: u16,
}

impl ExceptionHandler {
    /// The 8-byte encoding.
    pub fn to_bytes(&self) -> [u8; 8] {
        let [a, b] = self.start_offset.to_be_bytes();
        let bitfield = (u16::from(self.stop_bit) << 15) | (self.active_length & 0x7FFF);
        let [c, d] = bitfield.to_be_bytes();
        let [e, f] = self.handler_offset.to_be_bytes();
        let [g, h] = self.catch_type_index.to_be_bytes();
        [a, b, c, d, e, f, g, h]
    }

    /// End (exclusive) of the try range.
    pub fn end_offset(&self) -> u32 {
        u32::from(self.start_offset) + u32::from(self.active_length)
    }
}

impl<'a> Decode<'a> for ExceptionHandler {
    const ANY_BYTES_OF_SIZE: Option<usize> = Some(8);

    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let start_offset = reader.u2("handler start_offset")?;
        let bitfield = reader.u2("handler active_length")?;
        Ok(ExceptionHandler {
            start_offset,
            stop_bit: bitfield & 0x8000 != 0,
            active_length: bitfield & 0x7FFF,
            handler_offset: reader.u2("handler_offset")?,
            catch_type_index: reader.u2("catch_type_index")?,
        })
    }
}

/// A decoded `method_header_info` or `extended_method_header_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodHeader {
    /// Flags (`ACC_EXTENDED_HEADER`, `ACC_ABSTRACT_HEADER`).
    pub flags: u8,
    /// Operand stack words.
    pub max_stack: u8,
    /// Parameter words including `this`.
    pub nargs: u8,
    /// Local variable words beyond the parameters.
    pub max_locals: u8,
}

impl MethodHeader {
    /// True for the 4-byte extended form.
    pub fn is_extended(&self) -> bool {
        self.flags & ACC_EXTENDED_HEADER != 0
    }

    /// True for an abstract method.
    pub fn is_abstract(&self) -> bool {
        self.flags & ACC_ABSTRACT_HEADER != 0
    }

    /// Size of the header in bytes (2 or 4).
    pub fn len(&self) -> usize {
        if self.is_extended() {
            4
        } else {
            2
        }
    }

    /// Always false: a header has at least 2 bytes (here for API symmetry with `len`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Decodes the header at the start of `reader`.
    pub fn read(reader: &mut ByteReader<'_>) -> Result<MethodHeader, CapError> {
        let at = reader.position();
        let first = reader.u1("method header")?;
        let flags = first >> 4;
        if flags & ACC_EXTENDED_HEADER != 0 {
            if first & 0x0F != 0 {
                return Err(reader.error_at(
                    at,
                    ErrorKind::Invalid {
                        field: "extended method header",
                        expected: "a zero low nibble",
                        found: u32::from(first),
                    },
                ));
            }
            Ok(MethodHeader {
                flags,
                max_stack: reader.u1("max_stack")?,
                nargs: reader.u1("nargs")?,
                max_locals: reader.u1("max_locals")?,
            })
        } else {
            let second = reader.u1("method header nargs/max_locals")?;
            Ok(MethodHeader {
                flags,
                max_stack: first & 0x0F,
                nargs: second >> 4,
                max_locals: second & 0x0F,
            })
        }
    }

    /// Writes the header bytes into `out` (2 or 4 bytes); returns the number written, or
    /// `None` if the values do not fit the chosen form.
    pub fn write_to(&self, out: &mut [u8; 4]) -> Option<usize> {
        if self.is_extended() {
            *out = [self.flags << 4, self.max_stack, self.nargs, self.max_locals];
            Some(4)
        } else {
            if self.flags > 0xF || self.max_stack > 0xF || self.nargs > 0xF || self.max_locals > 0xF
            {
                return None;
            }
            out[0] = (self.flags << 4) | self.max_stack;
            out[1] = (self.nargs << 4) | self.max_locals;
            Some(2)
        }
    }
}

/// Zero-copy view of the Method component.
#[derive(Clone, Copy, Debug)]
pub struct MethodComponent<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// The exception handler table (all methods).
    pub handlers: Items<'a, ExceptionHandler>,
    /// Info offset of the first method (`1 + 8 * handler_count`).
    pub methods_offset: usize,
    version: CapVersion,
}

impl<'a> MethodComponent<'a> {
    /// Parses a complete Method component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Method)?;
        let mut r = raw.info_reader(version);
        let count = r.u1("handler_count")?;
        let handlers = Items::parse(&mut r, usize::from(count))?;
        Ok(MethodComponent {
            raw,
            handlers,
            methods_offset: r.position(),
            version,
        })
    }

    /// The whole info array (offsets in the CAP index it).
    pub fn info(&self) -> &'a [u8] {
        self.raw.info
    }

    /// The method area: every byte after the handler table.
    pub fn method_area(&self) -> &'a [u8] {
        self.raw.info.get(self.methods_offset..).unwrap_or(&[])
    }

    /// A reader positioned at info offset `offset`.
    pub fn reader_at(&self, offset: usize) -> Result<ByteReader<'a>, CapError> {
        let mut r = self.raw.info_reader(self.version);
        r.bytes(offset, "method area")?;
        Ok(r)
    }

    /// The method header at info offset `offset`, which must lie in the method area.
    pub fn header_at(&self, offset: usize) -> Result<MethodHeader, CapError> {
        let mut r = self.reader_at(offset)?;
        if offset < self.methods_offset {
            return Err(r.error(ErrorKind::BadReference {
                field: "method offset",
                expected: "the method area after the handler table",
                value: u32::try_from(offset).unwrap_or(u32::MAX),
            }));
        }
        MethodHeader::read(&mut r)
    }
}
