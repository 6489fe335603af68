//! Object deletion: a mark-and-sweep collection of the persistent heap, run by the runtime
//! between commands (after `JCSystem.requestObjectDeletion`, and after a GlobalPlatform
//! DELETE), never while bytecode runs, so no reference lives on the operand stack.
//!
//! Roots are the references the runtime holds (applet registry, APDU object and buffer,
//! exception objects; passed in) and the static field images of the live packages. Every
//! object reachable from them is marked: reference arrays precisely (their elements), and
//! instances and static images conservatively (every 16-bit word that names an allocated
//! handle; the linked image does not keep which instance cells hold references). A
//! conservative mark may keep a dead object, never free a live one.
//!
//! The sweep clears the object-table entry of every unmarked object (the entry reads as
//! the null of an aborted transaction, so the invariant checker and every walker already
//! skip it). Space is then given back from the top: the handle count drops to the highest
//! handle still referenced, the heap top to the end of the highest live object or live
//! package (the extent the loader recorded, [`crate::load`]), trailing deleted packages
//! free their slots and class ids, and the transient RAM top drops below the highest live
//! transient array. Dead space below a live block stays allocated (the allocator bumps;
//! objects do not move). Every write goes through the journal, so a collection is part
//! of its command's epoch: a tear restores the heap exactly as before it.

use crate::error::Trap;
use crate::heap::{ArrayType, ObjRef, ARRAY_CLASS, HDR, NULL};
use crate::layout::{self, FIRST_USER_CLASS, MAX_OBJECTS};
use crate::{nvm_err, Vm};
use oxicard_store::Nvm;

/// Package record field: u32 first byte of the package's linked image (written by the
/// loader when the link succeeded).
pub(crate) const P_EXTENT_START: usize = 80;
/// Package record field: u32 end (exclusive) of the package's linked image.
pub(crate) const P_EXTENT_END: usize = 84;

/// What a collection reclaimed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Collection {
    /// Objects found unreachable and deleted.
    pub objects: u16,
    /// Persistent bytes given back to the allocator (the heap top went down by this much).
    pub bytes: u32,
    /// Package slots freed (trailing deleted packages).
    pub packages: u8,
}

/// One bit per handle.
struct Bits([u32; MAX_OBJECTS / 32 + 1]);

impl Bits {
    fn new() -> Self {
        Bits([0; MAX_OBJECTS / 32 + 1])
    }
    fn get(&self, h: ObjRef) -> bool {
        self.0
            .get(h as usize / 32)
            .is_some_and(|w| w & (1 << (h % 32)) != 0)
    }
    fn set(&mut self, h: ObjRef) {
        if let Some(w) = self.0.get_mut(h as usize / 32) {
            *w |= 1 << (h % 32);
        }
    }
}

impl<N: Nvm> Vm<N> {
    /// Whether package slot `pkg` holds a live package (a deleted one has AID length 0).
    pub fn package_is_live(&self, pkg: u8) -> bool {
        pkg < self.sb.package_count
            && self
                .nvm
                .read_u8(layout::package_record(pkg) as usize + layout::P_AID_LEN)
                .is_ok_and(|len| len != 0)
    }

    /// The linked extent `[start, end)` of package `pkg`, when the loader recorded it.
    fn package_extent(&self, pkg: u8) -> Result<Option<(u32, u32)>, Trap> {
        let r = layout::package_record(pkg) as usize;
        let start = self.nvm.read_u32(r + P_EXTENT_START).map_err(nvm_err)?;
        let end = self.nvm.read_u32(r + P_EXTENT_END).map_err(nvm_err)?;
        Ok(
            (start >= layout::IMAGE_START && end >= start && end <= self.sb.top)
                .then_some((start, end)),
        )
    }

    /// Records the extent of a package just linked (called by the loader).
    pub(crate) fn record_package_extent(&mut self, pkg: u8, start: u32) -> Result<(), Trap> {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&start.to_be_bytes());
        b[4..].copy_from_slice(&self.sb.top.to_be_bytes());
        self.write_persistent(
            layout::package_record(pkg) + P_EXTENT_START as u32,
            &b,
            false,
        )
    }

    /// Marks `value` when it names an allocated handle.
    fn mark_word(&self, value: u16, marked: &mut Bits) {
        if value != NULL && value <= self.sb.object_count {
            marked.set(value);
        }
    }

    /// Marks what object `h` references.
    fn scan_object(&self, h: ObjRef, marked: &mut Bits) -> Result<(), Trap> {
        if self.object_addr(h)? == 0 {
            return Ok(()); // an object of an aborted transaction: nothing inside
        }
        let hdr = self.read_header_raw(h)?;
        match hdr.array_type() {
            Some(ArrayType::Reference) => {
                for i in 0..hdr.len {
                    let mut b = [0u8; 2];
                    self.read_elements(&hdr, i as usize * 2, &mut b)?;
                    self.mark_word(u16::from_be_bytes(b), marked);
                }
            }
            Some(_) => {}
            None => {
                for cell in 0..hdr.len {
                    let v = self
                        .nvm
                        .read_u16(hdr.addr as usize + HDR + cell as usize * 2)
                        .map_err(nvm_err)?;
                    self.mark_word(v, marked);
                }
            }
        }
        Ok(())
    }

    /// The header of `h` without the cache (the collector changes the table under it).
    fn read_header_raw(&self, h: ObjRef) -> Result<crate::heap::Header, Trap> {
        self.forget_headers();
        self.header(h)
    }

    /// Marks everything reachable from `roots` and the live packages' static fields (but
    /// those of package `skip`).
    fn mark_reachable(&self, roots: &[ObjRef], skip: Option<u8>) -> Result<Bits, Trap> {
        let mut marked = Bits::new();
        for &r in roots {
            self.mark_word(r, &mut marked);
        }
        for p in 0..self.sb.package_count {
            if !self.package_is_live(p) || skip == Some(p) {
                continue;
            }
            let info = layout::read_package_info(&self.nvm, p)?;
            let mut off = 0;
            while off + 2 <= info.static_len {
                let v = self
                    .nvm
                    .read_u16((info.static_addr + off) as usize)
                    .map_err(nvm_err)?;
                self.mark_word(v, &mut marked);
                off += 2;
            }
        }
        let mut scanned = Bits::new();
        loop {
            let mut progress = false;
            for h in 1..=self.sb.object_count {
                if marked.get(h) && !scanned.get(h) {
                    scanned.set(h);
                    progress = true;
                    self.scan_object(h, &mut marked)?;
                }
            }
            if !progress {
                return Ok(marked);
            }
        }
    }

    /// Deletes every object unreachable from `roots` and the live packages' static fields,
    /// and gives space back from the top (see the module documentation). Call between
    /// commands only.
    pub fn collect_garbage(&mut self, roots: &[ObjRef]) -> Result<Collection, Trap> {
        let marked = self.mark_reachable(roots, None)?;
        let mut done = Collection::default();
        // sweep, writing the object table in chunks of entries
        const CHUNK: u16 = 32;
        let count = self.sb.object_count;
        let mut first = 1u16;
        while first <= count {
            let last = (first + CHUNK - 1).min(count);
            let mut entries = [0u8; CHUNK as usize * 4];
            let span = entries
                .get_mut(..(last - first + 1) as usize * 4)
                .ok_or(Trap::Internal("gc chunk"))?;
            let table = layout::OBJ_TABLE + (first as u32 - 1) * 4;
            self.nvm.read(table as usize, span).map_err(nvm_err)?;
            let mut changed = false;
            for (i, e) in span.chunks_exact_mut(4).enumerate() {
                let h = first + i as u16;
                if !marked.get(h) && e.iter().any(|&b| b != 0) {
                    e.fill(0);
                    changed = true;
                    done.objects += 1;
                }
            }
            if changed {
                self.write_persistent(table, span, false)?;
            }
            first = last + 1;
        }
        self.forget_headers();
        // trailing deleted packages free their slots and class ids
        while self.sb.package_count > 0 && !self.package_is_live(self.sb.package_count - 1) {
            let p = self.sb.package_count - 1;
            while self.sb.class_count > 0 {
                let rec = self
                    .nvm
                    .read_u32((layout::CLASS_DIR + (self.sb.class_count as u32 - 1) * 4) as usize)
                    .map_err(nvm_err)?;
                let owner = self
                    .nvm
                    .read_u8(rec as usize + layout::C_PACKAGE)
                    .map_err(nvm_err)?;
                if owner != p {
                    break;
                }
                self.sb.class_count -= 1;
            }
            self.sb.package_count = p;
            self.packages.pop();
            done.packages += 1;
        }
        // handles, heap top and transient RAM top from the highest live block
        let mut handles = 0;
        let mut top = layout::IMAGE_START;
        let mut ram_top = 0u16;
        for h in 1..=count {
            if !marked.get(h) {
                continue;
            }
            handles = h;
            if self.object_addr(h)? == 0 {
                continue;
            }
            let hdr = self.read_header_raw(h)?;
            let body = match hdr.array_type() {
                Some(t) if hdr.is_transient() => {
                    let end = hdr.ram as usize + hdr.len as usize * t.element_size();
                    ram_top = ram_top.max(end as u16);
                    0
                }
                Some(t) => hdr.len as u32 * t.element_size() as u32,
                None => hdr.len as u32 * 2,
            };
            top = top.max(hdr.addr + HDR as u32 + body);
        }
        for p in 0..self.sb.package_count {
            if !self.package_is_live(p) {
                continue;
            }
            match self.package_extent(p)? {
                Some((_, end)) => top = top.max(end),
                None => top = self.sb.top, // an extent not recorded: nothing is trimmed
            }
        }
        // a deleted package below a live one keeps its classes' records: classes of
        // live objects must stay resolvable, so never trim below a class record in use
        for c in 0..self.sb.class_count {
            let rec = self
                .nvm
                .read_u32((layout::CLASS_DIR + c as u32 * 4) as usize)
                .map_err(nvm_err)?;
            top = top.max(rec + layout::C_VTABLE as u32);
        }
        let top = top.min(self.sb.top);
        done.bytes = self.sb.top - top;
        self.sb.top = top;
        self.sb.object_count = handles;
        self.sb.ram_top = self.sb.ram_top.min(ram_top);
        self.store_superblock()?;
        self.forget_headers();
        Ok(done)
    }

    /// Whether any object reachable from `roots` and the static fields of the live
    /// packages other than `pkg` is an instance of a class of package `pkg` or is owned by
    /// context `context`: what a GlobalPlatform DELETE of that package (or of its last
    /// applet instance) must refuse.
    pub fn objects_still_referenced(
        &self,
        roots: &[ObjRef],
        pkg: u8,
        context: u8,
    ) -> Result<bool, Trap> {
        let marked = self.mark_reachable(roots, Some(pkg))?;
        for h in 1..=self.sb.object_count {
            if !marked.get(h) || self.object_addr(h)? == 0 {
                continue;
            }
            let hdr = self.read_header_raw(h)?;
            if hdr.owner == context {
                return Ok(true);
            }
            if hdr.class < ARRAY_CLASS
                && hdr.class >= FIRST_USER_CLASS
                && self.class_package(hdr.class)? == Some(pkg)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
