//! Applet component (tag 3): the applets of the package and their `install` methods.

use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag};
use crate::reader::{ByteReader, Decode, Items};

/// One applet: its AID and the Method component offset of its static `install([BSB)V`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppletInfo<'a> {
    /// Applet AID (5..=16 bytes).
    pub aid: &'a [u8],
    /// Offset of the install method's `method_info` in the Method component info.
    pub install_method_offset: u16,
}

impl<'a> Decode<'a> for AppletInfo<'a> {
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        Ok(AppletInfo {
            aid: reader.aid("applet AID")?,
            install_method_offset: reader.u2("install_method_offset")?,
        })
    }
}

/// Zero-copy view of the Applet component.
#[derive(Clone, Copy, Debug)]
pub struct AppletComponent<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// The applets.
    pub applets: Items<'a, AppletInfo<'a>>,
}

impl<'a> AppletComponent<'a> {
    /// Parses a complete Applet component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Applet)?;
        let mut r = raw.info_reader(version);
        let count = r.u1("count")?;
        let applets = Items::parse(&mut r, usize::from(count))?;
        r.finish()?;
        Ok(AppletComponent { raw, applets })
    }
}
