//! The layout of the linked image in NVM: superblock, package directory, class directory,
//! object table, then one bump-allocated area for linked packages and persistent objects.
//!
//! ```text
//! 0x0000 superblock     magic, top of the allocated area, counts
//! 0x0040 package dir    MAX_PACKAGES records of PKG_REC bytes
//! 0x0700 class dir      MAX_CLASSES u32 addresses of class records (user classes)
//! 0x0F00 object table   MAX_OBJECTS u32 addresses of objects (handle 1 = entry 0);
//!                       0: object of an aborted transaction, 1: free handle (gc)
//! 0x2F00 runtime area   RUNTIME_AREA_LEN bytes reserved for the runtime (applet registry)
//! 0x3800 image          package copies, class records, static images, objects (bump)
//! ```

use crate::error::Trap;
use crate::{nvm_err, PackageInfo};
use oxicard_store::Nvm;

/// Class id: built-in classes are `0..FIRST_USER_CLASS`, user classes from `FIRST_USER_CLASS`.
pub type ClassId = u16;

/// A resolved method: `package << 16 | offset` of the method_info in that package's Method
/// component, or `NATIVE_PACKAGE << 16 | native id`.
pub type MethodRef = u32;

/// Package byte of a [`MethodRef`] naming a native method.
pub const NATIVE_PACKAGE: u32 = 0xFF;

/// First class id given to classes of loaded packages.
pub const FIRST_USER_CLASS: ClassId = 0x100;

/// Superblock magic, the format version: "OXC3" (object-table entry 1 is a free handle,
/// [`FREE_HANDLE`]; "OXC2" added the verifier's bitmap after Method components).
pub const MAGIC: u32 = 0x4F58_4333;
/// The previous format, which this one extends (an "OXC2" image has no free handles): it
/// is opened and marked "OXC3".
pub const MAGIC_OXC2: u32 = 0x4F58_4332;
/// Maximum loaded packages.
pub const MAX_PACKAGES: usize = 16;
/// Bytes per package record.
pub const PKG_REC: usize = 96;
/// Maximum user classes.
pub const MAX_CLASSES: usize = 512;
/// Maximum objects.
pub const MAX_OBJECTS: usize = 2048;

/// Object-table entry of a handle the collector gave back for reuse. Like 0 (an object
/// of an aborted transaction, which references may still name), it reads as no object;
/// unlike 0, no reachable reference names it, so the allocator may hand it out again.
pub const FREE_HANDLE: u32 = 1;

/// Address of the package directory.
pub const PKG_DIR: u32 = 0x0040;
/// Address of the class directory.
pub const CLASS_DIR: u32 = 0x0700;
/// Address of the object table.
pub const OBJ_TABLE: u32 = 0x0F00;
/// Address of the area reserved for the runtime.
pub const RUNTIME_AREA: u32 = 0x2F00;
/// Length of the runtime area.
pub const RUNTIME_AREA_LEN: u32 = 0x0900;
/// Start of the bump-allocated image area.
pub const IMAGE_START: u32 = 0x3800;

// Package record fields (offsets inside a record).
pub(crate) const P_AID_LEN: usize = 0;
pub(crate) const P_AID: usize = 1;
pub(crate) const P_MINOR: usize = 17;
pub(crate) const P_MAJOR: usize = 18;
pub(crate) const P_FLAGS: usize = 19;
pub(crate) const P_METHOD_ADDR: usize = 28;
pub(crate) const P_METHOD_LEN: usize = 32;
pub(crate) const P_CP_ADDR: usize = 36;
pub(crate) const P_CP_COUNT: usize = 40;
pub(crate) const P_STATIC_ADDR: usize = 44;
pub(crate) const P_STATIC_LEN: usize = 48;
pub(crate) const P_EXPORT_ADDR: usize = 52;
pub(crate) const P_EXPORT_LEN: usize = 56;
pub(crate) const P_CLASSMAP_ADDR: usize = 60;
pub(crate) const P_CLASSMAP_COUNT: usize = 64;
pub(crate) const P_APPLET_ADDR: usize = 68;
pub(crate) const P_APPLET_LEN: usize = 72;

// Class record fields.
pub(crate) const C_SUPER: usize = 0;
pub(crate) const C_PACKAGE: usize = 2;
pub(crate) const C_FLAGS: usize = 3;
pub(crate) const C_CELLS: usize = 4;
pub(crate) const C_VT_LEN: usize = 8;
pub(crate) const C_PVT_LEN: usize = 9;
pub(crate) const C_IFACE_COUNT: usize = 10;
pub(crate) const C_VTABLE: usize = 12;

// Resolved constant-pool entry tags (top byte of each u32 entry).
/// Resolved Classref: class id.
pub const CP_CLASS: u8 = 1;
/// Resolved InstanceFieldref: cell index.
pub const CP_IFIELD: u8 = 2;
/// Resolved VirtualMethodref: `nargs << 8 | token`.
pub const CP_VMETHOD: u8 = 3;
/// Resolved SuperMethodref: method ref.
pub const CP_SMETHOD_SUPER: u8 = 4;
/// Resolved StaticFieldref: NVM address.
pub const CP_SFIELD: u8 = 5;
/// Resolved StaticMethodref: method ref.
pub const CP_SMETHOD: u8 = 6;
/// The tag bits of a resolved entry's top byte.
pub const CP_TAG_MASK: u8 = 0x0F;
/// Method entries (virtual, super, static) keep the words their method returns, plus one,
/// in the top byte's high nibble (0: unknown), for the verifier and the return check.
pub const CP_RET_SHIFT: u8 = 4;

/// The superblock (cached in RAM, written through).
#[derive(Clone, Copy, Debug, Default)]
pub struct Superblock {
    /// [`MAGIC`] when formatted.
    pub magic: u32,
    /// First free byte of the image area.
    pub top: u32,
    /// User classes defined.
    pub class_count: u16,
    /// Objects allocated (highest handle).
    pub object_count: u16,
    /// Packages loaded.
    pub package_count: u8,
    /// First free byte of transient RAM.
    pub ram_top: u16,
}

impl Superblock {
    /// An empty, formatted card.
    pub fn empty() -> Self {
        Superblock {
            magic: MAGIC,
            top: IMAGE_START,
            ..Default::default()
        }
    }

    /// Reads the superblock.
    pub fn read<N: Nvm>(nvm: &N) -> Result<Self, Trap> {
        let mut b = [0u8; 16];
        nvm.read(0, &mut b).map_err(nvm_err)?;
        Ok(Superblock {
            magic: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            top: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            class_count: u16::from_be_bytes([b[8], b[9]]),
            object_count: u16::from_be_bytes([b[10], b[11]]),
            package_count: b[12],
            ram_top: u16::from_be_bytes([b[14], b[15]]),
        })
    }

    /// Writes the superblock.
    pub fn write<N: Nvm>(&self, nvm: &mut N) -> Result<(), Trap> {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&self.magic.to_be_bytes());
        b[4..8].copy_from_slice(&self.top.to_be_bytes());
        b[8..10].copy_from_slice(&self.class_count.to_be_bytes());
        b[10..12].copy_from_slice(&self.object_count.to_be_bytes());
        b[12] = self.package_count;
        b[14..16].copy_from_slice(&self.ram_top.to_be_bytes());
        nvm.write(0, &b).map_err(nvm_err)
    }
}

/// Address of package record `index`.
pub fn package_record(index: u8) -> u32 {
    PKG_DIR + index as u32 * PKG_REC as u32
}

/// Reads the cached facts of package `index` from its record.
pub fn read_package_info<N: Nvm>(nvm: &N, index: u8) -> Result<PackageInfo, Trap> {
    let r = package_record(index) as usize;
    let u32at = |o: usize| nvm.read_u32(r + o).map_err(nvm_err);
    Ok(PackageInfo {
        method_addr: u32at(P_METHOD_ADDR)?,
        method_len: u32at(P_METHOD_LEN)?,
        cp_addr: u32at(P_CP_ADDR)?,
        cp_count: nvm.read_u16(r + P_CP_COUNT).map_err(nvm_err)?,
        static_addr: u32at(P_STATIC_ADDR)?,
        static_len: u32at(P_STATIC_LEN)?,
    })
}
