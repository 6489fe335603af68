//! Import component (tag 4): the imported packages; an entry's index is its package token.

use crate::component::{CapVersion, RawComponent};
use crate::components::header::PackageInfo;
use crate::error::{CapError, ComponentTag};
use crate::reader::Items;

/// Zero-copy view of the Import component.
#[derive(Clone, Copy, Debug)]
pub struct Import<'a> {
    /// The component bytes.
    pub raw: RawComponent<'a>,
    /// Imported packages; the index is the package token.
    pub packages: Items<'a, PackageInfo<'a>>,
}

impl<'a> Import<'a> {
    /// Parses a complete Import component.
    pub fn parse(bytes: &'a [u8], version: CapVersion) -> Result<Self, CapError> {
        let raw = RawComponent::parse_exact(bytes, ComponentTag::Import)?;
        let mut r = raw.info_reader(version);
        let count = r.u1("count")?;
        let packages = Items::parse(&mut r, usize::from(count))?;
        r.finish()?;
        Ok(Import { raw, packages })
    }

    /// Number of imported packages.
    pub fn count(&self) -> usize {
        self.packages.len()
    }
}
