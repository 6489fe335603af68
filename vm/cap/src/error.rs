//! Errors of the CAP parsers, checks and writers.
//!
//! Every error says *where* (the component and a byte offset) and *what was expected*, so a card
//! loader can report malformed input precisely and a host tool can point at the broken byte.

use core::fmt;

/// The tag of a CAP component (JCVM specification §6.1, `cap-format.md` §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentTag {
    /// Tag 1: Header component.
    Header,
    /// Tag 2: Directory component.
    Directory,
    /// Tag 3: Applet component.
    Applet,
    /// Tag 4: Import component.
    Import,
    /// Tag 5: ConstantPool component.
    ConstantPool,
    /// Tag 6: Class component.
    Class,
    /// Tag 7: Method component.
    Method,
    /// Tag 8: StaticField component.
    StaticField,
    /// Tag 9: ReferenceLocation component.
    ReferenceLocation,
    /// Tag 10: Export component.
    Export,
    /// Tag 11: Descriptor component.
    Descriptor,
    /// Tag 12: Debug component.
    Debug,
    /// Tag 13: StaticResources component (CAP 2.3).
    StaticResources,
    /// Tags 128..=255: custom components declared in the Directory.
    Custom(u8),
}

impl ComponentTag {
    /// All standard tags 1..=13 in tag order.
    pub const STANDARD: [ComponentTag; 13] = [
        ComponentTag::Header,
        ComponentTag::Directory,
        ComponentTag::Applet,
        ComponentTag::Import,
        ComponentTag::ConstantPool,
        ComponentTag::Class,
        ComponentTag::Method,
        ComponentTag::StaticField,
        ComponentTag::ReferenceLocation,
        ComponentTag::Export,
        ComponentTag::Descriptor,
        ComponentTag::Debug,
        ComponentTag::StaticResources,
    ];

    /// The tag for a tag byte; `None` for 0 and the reserved values 14..=127.
    pub fn from_u8(value: u8) -> Option<ComponentTag> {
        match value {
            1..=13 => ComponentTag::STANDARD.get(usize::from(value) - 1).copied(),
            128..=255 => Some(ComponentTag::Custom(value)),
            _ => None,
        }
    }

    /// The tag byte.
    pub fn to_u8(self) -> u8 {
        match self {
            ComponentTag::Header => 1,
            ComponentTag::Directory => 2,
            ComponentTag::Applet => 3,
            ComponentTag::Import => 4,
            ComponentTag::ConstantPool => 5,
            ComponentTag::Class => 6,
            ComponentTag::Method => 7,
            ComponentTag::StaticField => 8,
            ComponentTag::ReferenceLocation => 9,
            ComponentTag::Export => 10,
            ComponentTag::Descriptor => 11,
            ComponentTag::Debug => 12,
            ComponentTag::StaticResources => 13,
            ComponentTag::Custom(tag) => tag,
        }
    }

    /// The component's name as used in messages ("Class", "ReferenceLocation", ...).
    pub fn name(self) -> &'static str {
        match self {
            ComponentTag::Header => "Header",
            ComponentTag::Directory => "Directory",
            ComponentTag::Applet => "Applet",
            ComponentTag::Import => "Import",
            ComponentTag::ConstantPool => "ConstantPool",
            ComponentTag::Class => "Class",
            ComponentTag::Method => "Method",
            ComponentTag::StaticField => "StaticField",
            ComponentTag::ReferenceLocation => "ReferenceLocation",
            ComponentTag::Export => "Export",
            ComponentTag::Descriptor => "Descriptor",
            ComponentTag::Debug => "Debug",
            ComponentTag::StaticResources => "StaticResources",
            ComponentTag::Custom(_) => "custom",
        }
    }

    /// The file name of the component inside a CAP JAR (`RefLocation.cap` for tag 9); `None`
    /// for custom components.
    pub fn file_name(self) -> Option<&'static str> {
        Some(match self {
            ComponentTag::Header => "Header.cap",
            ComponentTag::Directory => "Directory.cap",
            ComponentTag::Applet => "Applet.cap",
            ComponentTag::Import => "Import.cap",
            ComponentTag::ConstantPool => "ConstantPool.cap",
            ComponentTag::Class => "Class.cap",
            ComponentTag::Method => "Method.cap",
            ComponentTag::StaticField => "StaticField.cap",
            ComponentTag::ReferenceLocation => "RefLocation.cap",
            ComponentTag::Export => "Export.cap",
            ComponentTag::Descriptor => "Descriptor.cap",
            ComponentTag::Debug => "Debug.cap",
            ComponentTag::StaticResources => "StaticResources.cap",
            ComponentTag::Custom(_) => return None,
        })
    }
}

impl fmt::Display for ComponentTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComponentTag::Custom(tag) => write!(f, "custom (tag {tag})"),
            other => f.write_str(other.name()),
        }
    }
}

/// What was wrong at the error's location.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ended inside a field.
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        found: usize,
    },
    /// A field holds a value the format does not allow.
    Invalid {
        /// The field.
        field: &'static str,
        /// What the format allows, in words.
        expected: &'static str,
        /// The value found.
        found: u32,
    },
    /// A component has bytes after its last field.
    TrailingBytes {
        /// Number of unread bytes.
        count: usize,
    },
    /// A declared size or count disagrees with the data it describes.
    SizeMismatch {
        /// The declaring field.
        field: &'static str,
        /// The declared value.
        declared: u32,
        /// The value the data actually has.
        actual: u32,
    },
    /// A reference (offset, index or token) does not point at what it must.
    BadReference {
        /// The referencing field.
        field: &'static str,
        /// What it must point at.
        expected: &'static str,
        /// The reference value.
        value: u32,
    },
    /// A required component is absent.
    MissingComponent {
        /// The absent component.
        tag: ComponentTag,
    },
    /// A component occurs twice.
    DuplicateComponent {
        /// The repeated component.
        tag: ComponentTag,
    },
    /// A valid but unsupported feature (e.g. the extended CAP format).
    Unsupported {
        /// The feature.
        what: &'static str,
    },
    /// A value is too large to be written in its field (writers only).
    TooLarge {
        /// The field.
        field: &'static str,
        /// The largest value the field holds.
        max: u32,
        /// The value to write.
        found: usize,
    },
    /// The JAR (zip) container is malformed.
    Container {
        /// What went wrong.
        what: &'static str,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::Truncated {
                field,
                needed,
                found,
            } => write!(f, "expected {needed} bytes for {field}, found {found}"),
            ErrorKind::Invalid {
                field,
                expected,
                found,
            } => write!(f, "expected {expected} for {field}, found 0x{found:X}"),
            ErrorKind::TrailingBytes { count } => {
                write!(f, "expected end of component, found {count} more bytes")
            }
            ErrorKind::SizeMismatch {
                field,
                declared,
                actual,
            } => write!(
                f,
                "expected {field} to be {actual} (the actual value), found {declared}"
            ),
            ErrorKind::BadReference {
                field,
                expected,
                value,
            } => write!(
                f,
                "expected {field} to point at {expected}, found 0x{value:X}"
            ),
            ErrorKind::MissingComponent { tag } => {
                write!(f, "expected a {tag} component, found none")
            }
            ErrorKind::DuplicateComponent { tag } => {
                write!(f, "expected one {tag} component, found a second one")
            }
            ErrorKind::Unsupported { what } => write!(f, "unsupported: {what}"),
            ErrorKind::TooLarge { field, max, found } => {
                write!(f, "expected at most {max} for {field}, found {found}")
            }
            ErrorKind::Container { what } => write!(f, "expected a valid CAP JAR: {what}"),
        }
    }
}

/// A parse, check or write error: where (component and byte offset) and what was expected.
///
/// `offset` counts from the component's tag byte (so an offset into the component's `info`
/// array plus 3, or plus 5 for components with a u4 size). For errors in the container (the
/// load file or JAR framing, `component == None`) it counts from the start of the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapError {
    /// The component, or `None` for the container around the components.
    pub component: Option<ComponentTag>,
    /// Byte offset of the offending field (see the type docs for the origin).
    pub offset: usize,
    /// What was wrong.
    pub kind: ErrorKind,
}

impl CapError {
    /// An error in `component` at `offset`.
    pub fn new(component: Option<ComponentTag>, offset: usize, kind: ErrorKind) -> CapError {
        CapError {
            component,
            offset,
            kind,
        }
    }
}

impl fmt::Display for CapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.component {
            Some(tag) => write!(
                f,
                "{tag} component, offset 0x{:X}: {}",
                self.offset, self.kind
            ),
            None => write!(
                f,
                "CAP container, offset 0x{:X}: {}",
                self.offset, self.kind
            ),
        }
    }
}

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
impl std::error::Error for CapError {}
