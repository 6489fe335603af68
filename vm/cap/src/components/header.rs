//! Header component (tag 1): magic, CAP format version, package flags, package AID and name.

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag, ErrorKind};
use crate::reader::{ByteReader, Decode};

/// The CAP magic number `0xDECAFFED`.
pub const CAP_MAGIC: u32 = 0xDECA_FFED;
/// Header flag: the package uses the int type.
pub const ACC_INT: u8 = 0x01;
/// Header flag: the package has an Export component.
pub const ACC_EXPORT: u8 = 0x02;
/// Header flag: the package has an Applet component.
pub const ACC_APPLET: u8 = 0x04;
/// Header flag: extended CAP format (2.3; not supported by this crate).
pub const ACC_EXTENDED: u8 = 0x08;

/// A `package_info`: version and AID of a package (Header and Import components).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PackageInfo<'a> {
    /// Package minor version.
    pub minor_version: u8,
    /// Package major version.
    pub major_version: u8,
    /// Package AID (5..=16 bytes).
    pub aid: &'a [u8],
}

impl<'a> Decode<'a> for PackageInfo<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(PackageInfo {
            minor_version: reader.u1("package minor_version")?,
            major_version: reader.u1("package major_version")?,
            aid: reader.aid("package AID")?,
        })
    }
}

/// Zero-copy view of the Header component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// CAP format minor version (1..=3).
    pub minor_version: u8,
    /// CAP format major version (2).
    pub major_version: u8,
    /// `ACC_INT`, `ACC_EXPORT`, `ACC_APPLET`.
    pub flags: u8,
    /// This package's version and AID.
    pub package: PackageInfo<'a>,
    /// `package_name_info` (CAP 2.2+): internal-form package name, often empty; `None` in 2.1.
    pub package_name: Option<&'a [u8]>,
}

impl<'a> Header<'a> {
    /// Parses a complete Header component. The Header fixes the CAP version, so it needs none.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Header)?;
        let mut r = raw.info_reader(CapVersion::V2_1);
        let at = r.position();
        let magic = r.u4("magic")?;
        if magic != CAP_MAGIC {
            return Err(r.error_at(
                at,
                ErrorKind::Invalid {
                    field: "magic",
                    expected: "0xDECAFFED",
                    found: magic,
                },
            ));
        }
        let at = r.position();
        let minor_version = r.u1("minor_version")?;
        if !(1..=3).contains(&minor_version) {
            return Err(r.error_at(
                at,
                ErrorKind::Invalid {
                    field: "minor_version",
                    expected: "CAP format minor version 1, 2 or 3",
                    found: u32::from(minor_version),
                },
            ));
        }
        let at = r.position();
        let major_version = r.u1("major_version")?;
        if major_version != 2 {
            return Err(r.error_at(
                at,
                ErrorKind::Invalid {
                    field: "major_version",
                    expected: "CAP format major version 2",
                    found: u32::from(major_version),
                },
            ));
        }
        let at = r.position();
        let flags = r.u1("flags")?;
        if flags & ACC_EXTENDED != 0 {
            return Err(r.error_at(
                at,
                ErrorKind::Unsupported {
                    what: "extended CAP format (ACC_EXTENDED)",
                },
            ));
        }
        if flags & !(ACC_INT | ACC_EXPORT | ACC_APPLET) != 0 {
            return Err(r.error_at(
                at,
                ErrorKind::Invalid {
                    field: "flags",
                    expected: "only ACC_INT, ACC_EXPORT and ACC_APPLET",
                    found: u32::from(flags),
                },
            ));
        }
        let package = PackageInfo::decode(&mut r)?;
        let package_name = if minor_version >= 2 {
            Some(r.u1_prefixed("package_name")?)
        } else {
            None
        };
        r.finish()?;
        Ok(Header {
            raw,
            minor_version,
            major_version,
            flags,
            package,
            package_name,
        })
    }

    /// The CAP format version.
    pub fn version(&self) -> CapVersion {
        CapVersion {
            major: self.major_version,
            minor: self.minor_version,
        }
    }
}
