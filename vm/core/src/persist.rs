//! Power-up and the on-NVM format: how a VM opens an existing image (after the journal
//! rolled back an interrupted epoch), formats an empty one, and checks that every
//! persistent structure is consistent (the invariant checker the tearing tests use).
//!
//! # On-NVM format (image version "OXC1", journal version "OXJ1")
//!
//! ```text
//! 0x0000  superblock (16 bytes): u32 magic "OXC1" | u32 heap top | u16 user classes |
//!         u16 objects | u8 packages | u8 0 | u16 transient RAM in use
//! 0x0040  package directory: MAX_PACKAGES records of 96 bytes (AID, versions, addresses
//!         of the linked Method component, constant pool, static image, export, class map,
//!         applet component; at +80 the u32 start and end of the package's linked extent,
//!         which object collection uses, see [`crate::gc`]; AID length 0: deleted)
//! 0x0700  class directory: u32 address of each user class record
//! 0x0F00  object table: u32 address of each object (handle h = entry h-1; 0 = an object
//!         of an aborted transaction, which reads as null)
//! 0x2F00  runtime area (0x900 bytes), formatted by the runtime (oxicard-jcre documents
//!         it: applet registry and the runtime's own objects)
//! 0x3800  heap, bump-allocated upward: linked packages, class records, static images,
//!         objects (10-byte header: u16 class | u8 owner | u8 flags | u16 length |
//!         u16 element class | u16 RAM offset of transient elements; then 16-bit cells or
//!         the elements; references are 16-bit handles)
//! ...     free space; a package load stages its components at the top of it
//! size-4096  the journal region (see [`crate::journal`])
//! ```
//!
//! All multi-byte values are big-endian. Only the superblock says what is allocated: a
//! structure above the heap top, or a directory entry beyond its count, is free space.
//! The superblock is journaled before it changes, so it and everything it points to
//! change together at a checkpoint.

use crate::error::{CodeAddress, Detail, Trap};
use crate::heap::{self, ArrayType, ARRAY_CLASS, HDR};
use crate::layout::{self, FIRST_USER_CLASS};
use crate::{nvm_err, Vm};
use oxicard_store::Nvm;

/// What [`Vm::new`] answers (as [`Trap::Malformed`] at address 0) for an image that
/// another oxicard format version wrote: its superblock magic is "OXC" and another digit.
pub const FOREIGN_FORMAT: Detail = Detail::ForeignFormat;

impl<N: Nvm> Vm<N> {
    /// Power-up: journal recovery, then the image is opened or, on an empty NVM,
    /// formatted (the magic is written last, so a torn format is redone). An image of
    /// another oxicard format version is refused ([`FOREIGN_FORMAT`]) with nothing written
    /// but what its own journal recovery would write: formatting it would throw away a
    /// card its own build can open.
    pub(crate) fn open_or_format(&mut self) -> Result<(), Trap> {
        if self.nvm.size() < layout::IMAGE_START as usize + 1024 + crate::JOURNAL_BYTES {
            return Err(Trap::OutOfMemory);
        }
        self.alloc_limit = self.heap_limit();
        // the journal first: it undoes a torn write of the last epoch, the magic's included
        self.open_journal()?;
        let sb = layout::Superblock::read(&self.nvm)?;
        if sb.magic == layout::MAGIC_OXC2 {
            // journaled, and committed by the checkpoint below: a tear leaves "OXC2"
            self.write_persistent(0, &layout::MAGIC.to_be_bytes(), false)?;
        } else if sb.magic != layout::MAGIC && sb.magic >> 8 == layout::MAGIC >> 8 {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(0),
                what: FOREIGN_FORMAT,
            });
        } else if sb.magic != layout::MAGIC {
            let mut empty = layout::Superblock::empty();
            empty.magic = 0;
            empty.write(&mut self.nvm)?;
            self.nvm.write_u32(0, layout::MAGIC).map_err(nvm_err)?;
        }
        self.reload_image()?;
        self.checkpoint()
    }

    /// Re-reads the superblock and the package table from NVM.
    pub(crate) fn reload_image(&mut self) -> Result<(), Trap> {
        self.forget_headers();
        self.free_hint = 1;
        self.sb = layout::Superblock::read(&self.nvm)?;
        self.packages.clear();
        for p in 0..self.sb.package_count {
            let info = layout::read_package_info(&self.nvm, p)?;
            self.packages
                .push(info)
                .map_err(|_| Trap::Internal(Detail::Packages))?;
        }
        Ok(())
    }

    /// The NVM, mutable: for fault injection (cutting the power of a test device) and
    /// tools; writing the image through it bypasses the journal.
    pub fn nvm_mut(&mut self) -> &mut N {
        &mut self.nvm
    }

    /// Gives the NVM back (e.g. to power the card up again on it).
    pub fn into_nvm(self) -> N {
        self.nvm
    }

    /// Checks every persistent structure: the superblock's counts and heap top, every
    /// package record's areas, every class record, every object header (inside the heap,
    /// a known class or array type, the body inside the heap, transient elements inside
    /// RAM). Returns what is wrong first.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let sb = &self.sb;
        let on_nvm = layout::Superblock::read(&self.nvm).map_err(|_| "superblock unreadable")?;
        if on_nvm.magic != layout::MAGIC {
            return Err("superblock magic");
        }
        if (
            on_nvm.top,
            on_nvm.object_count,
            on_nvm.class_count,
            on_nvm.package_count,
        ) != (sb.top, sb.object_count, sb.class_count, sb.package_count)
        {
            return Err("cached superblock differs from NVM");
        }
        let top = sb.top as usize;
        if top < layout::IMAGE_START as usize || top > self.heap_limit() {
            return Err("heap top outside the heap");
        }
        if sb.package_count as usize > layout::MAX_PACKAGES
            || sb.class_count as usize > layout::MAX_CLASSES
            || sb.object_count as usize > layout::MAX_OBJECTS
            || sb.ram_top as usize > crate::TRANSIENT_BYTES
        {
            return Err("superblock count beyond its table");
        }
        let in_heap = |addr: u32, len: u32| {
            addr as usize >= layout::IMAGE_START as usize
                && (addr as usize).saturating_add(len as usize) <= top
        };
        if self.packages.len() != sb.package_count as usize {
            return Err("package table");
        }
        for p in 0..sb.package_count {
            let info = layout::read_package_info(&self.nvm, p).map_err(|_| "package record")?;
            if !in_heap(info.method_addr, info.method_len)
                || !in_heap(info.cp_addr, info.cp_count as u32 * 4)
                || (info.static_len != 0 && !in_heap(info.static_addr, info.static_len))
            {
                return Err("package record points outside the heap");
            }
        }
        for c in 0..sb.class_count {
            let rec = self
                .nvm
                .read_u32((layout::CLASS_DIR + c as u32 * 4) as usize)
                .map_err(|_| "class directory")?;
            if !in_heap(rec, layout::C_VTABLE as u32) {
                return Err("class record outside the heap");
            }
            let pkg = self
                .nvm
                .read_u8(rec as usize + layout::C_PACKAGE)
                .map_err(|_| "class record")?;
            if pkg >= sb.package_count {
                return Err("class of an unknown package");
            }
        }
        for handle in 1..=sb.object_count {
            let addr = self.object_addr(handle).map_err(|_| "object table")?;
            if addr == 0 {
                continue;
            }
            if !in_heap(addr, HDR as u32) {
                return Err("object outside the heap");
            }
            let h = self.header(handle).map_err(|_| "object header")?;
            let body = if h.class >= ARRAY_CLASS {
                let ty = h.array_type().ok_or("array type")?;
                let bytes = h.len as u32 * ty.element_size() as u32;
                if h.is_transient() {
                    if h.ram as usize + bytes as usize > crate::TRANSIENT_BYTES {
                        return Err("transient array outside RAM");
                    }
                    0
                } else {
                    bytes
                }
            } else {
                if h.class >= FIRST_USER_CLASS && (h.class - FIRST_USER_CLASS) >= sb.class_count {
                    return Err("object of an unknown class");
                }
                if h.flags & heap::TRANSIENT_MASK != 0 {
                    return Err("transient instance");
                }
                h.len as u32 * 2
            };
            if !in_heap(addr, HDR as u32 + body) {
                return Err("object body outside the heap");
            }
            if h.class == ARRAY_CLASS | ArrayType::Reference as u16 && !h.is_transient() {
                for i in 0..h.len {
                    let r = self
                        .nvm
                        .read_u16(addr as usize + HDR + i as usize * 2)
                        .map_err(nvm_err)
                        .map_err(|_| "reference array")?;
                    if r > sb.object_count {
                        return Err("reference to an unallocated object");
                    }
                }
            }
        }
        Ok(())
    }
}
