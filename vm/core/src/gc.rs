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
//! The sweep marks the object-table entry of every unmarked handle [`layout::FREE_HANDLE`]
//! (it reads as no object, like the 0 of an object of an aborted transaction, which
//! references may still name; a free handle no reachable word names, so the allocator
//! hands it out again). The live objects are then slid down over the dead space between
//! them (a copy never overwrites the bytes an entry names, see `Vm::compact`); linked packages do
//! not move, so space is packed below each package and above the last. Space is then
//! given back from the top: the handle count drops to the highest handle still
//! referenced, the heap top to the end of the highest live object or package (the extent
//! the loader recorded, [`crate::load`]), trailing deleted packages free their slots and
//! class ids, and the transient RAM top drops below the highest live transient array
//! (transient RAM is not packed). Every write goes through the journal, so a collection
//! is part of its command's epoch: a tear restores the heap exactly as before it.

use crate::error::{Detail, Trap};
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
    /// Live objects moved down over dead space.
    pub moved: u16,
}

/// A live block of the image area, as the compaction walks them.
enum Block {
    /// A linked package's extent: never moves.
    Fixed {
        /// End (exclusive).
        end: u32,
    },
    /// A live object: header and persistent body.
    Object {
        handle: ObjRef,
        start: u32,
        len: u32,
    },
}

/// Bytes of NVM an object's body takes after its header (a transient array's elements
/// live in RAM).
fn object_bytes(hdr: &crate::heap::Header) -> u32 {
    match hdr.array_type() {
        Some(_) if hdr.is_transient() => 0,
        Some(t) => hdr.len as u32 * t.element_size() as u32,
        None => hdr.len as u32 * 2,
    }
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
                .ok_or(Trap::Internal(Detail::GcChunk))?;
            let table = layout::OBJ_TABLE + (first as u32 - 1) * 4;
            self.nvm.read(table as usize, span).map_err(nvm_err)?;
            let mut changed = false;
            for (i, e) in span.chunks_exact_mut(4).enumerate() {
                let h = first + i as u16;
                let entry = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
                // unmarked: no reachable word names the handle, so it can be handed out
                // again (an aborted transaction's object, entry 0, included)
                if !marked.get(h) && entry != layout::FREE_HANDLE {
                    if entry >= layout::IMAGE_START {
                        done.objects += 1;
                    }
                    e.copy_from_slice(&layout::FREE_HANDLE.to_be_bytes());
                    changed = true;
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
        let compacted = self.compact(&marked, &mut done)?;
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
            if let Some(t) = hdr.array_type().filter(|_| hdr.is_transient()) {
                let end = hdr.ram as usize + hdr.len as usize * t.element_size();
                ram_top = ram_top.max(end as u16);
            }
            top = top.max(hdr.addr + HDR as u32 + object_bytes(&hdr));
        }
        for p in 0..self.sb.package_count {
            match self.package_extent(p)? {
                Some((_, end)) if compacted || self.package_is_live(p) => top = top.max(end),
                Some(_) => {}
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
        done.bytes += self.sb.top - top;
        self.sb.top = top;
        self.sb.object_count = handles;
        self.sb.ram_top = self.sb.ram_top.min(ram_top);
        self.store_superblock()?;
        self.forget_headers();
        self.free_hint = 1;
        Ok(done)
    }

    /// Slides the live persistent objects down over the dead space between them, in
    /// address order; linked packages (their recorded extents, deleted ones below a live
    /// one included, since their class records stay in the class directory) do not move,
    /// so objects close up the gaps below the next package. A copy never overwrites the
    /// bytes the object-table entry names: an object whose new place overlaps its old one
    /// goes through free space above the top first. Every write is journaled, a tear
    /// restores the old entries, and an early checkpoint of a full journal leaves every
    /// entry naming a complete copy. References are handles, so nothing else changes. Returns false,
    /// moving nothing, when a package's extent was not recorded.
    fn compact(&mut self, live: &Bits, done: &mut Collection) -> Result<bool, Trap> {
        for p in 0..self.sb.package_count {
            if self.package_extent(p)?.is_none() {
                return Ok(false);
            }
        }
        let mut dest = layout::IMAGE_START;
        let mut cursor = layout::IMAGE_START;
        while let Some(block) = self.next_block(cursor, live)? {
            match block {
                Block::Fixed { end } => {
                    dest = dest.max(end);
                    cursor = end;
                }
                Block::Object { handle, start, len } => {
                    let to = dest + (dest & 1); // objects start at even addresses
                    let moved = if to + len <= start {
                        self.move_object(handle, start, to, len)?;
                        true
                    } else {
                        to < start && self.move_through_scratch(handle, start, to, len)?
                    };
                    if moved {
                        done.moved += 1;
                        dest = to + len;
                    } else {
                        dest = dest.max(start + len);
                    }
                    cursor = start + len;
                }
            }
        }
        self.forget_headers();
        Ok(true)
    }

    /// The live block of the image area with the lowest start at or above `from`.
    fn next_block(&self, from: u32, live: &Bits) -> Result<Option<Block>, Trap> {
        let mut best: Option<(u32, Block)> = None;
        for p in 0..self.sb.package_count {
            if let Some((start, end)) = self.package_extent(p)? {
                if start >= from && end > start && best.as_ref().is_none_or(|b| start < b.0) {
                    best = Some((start, Block::Fixed { end }));
                }
            }
        }
        let mut lowest: Option<(u32, ObjRef)> = None;
        for h in 1..=self.sb.object_count {
            if !live.get(h) {
                continue;
            }
            let addr = self.object_addr(h)?;
            if addr >= from && addr != 0 && lowest.is_none_or(|(a, _)| addr < a) {
                lowest = Some((addr, h));
            }
        }
        if let Some((start, handle)) = lowest {
            if best.as_ref().is_none_or(|b| start < b.0) {
                let hdr = self.read_header_raw(handle)?;
                let len = HDR as u32 + object_bytes(&hdr);
                best = Some((start, Block::Object { handle, start, len }));
            }
        }
        Ok(best.map(|(_, b)| b))
    }

    /// Moves object `handle` down to `to` when the new place overlaps the old one: first
    /// to free space above the heap top (the top is raised over it first, so that every
    /// state an early checkpoint may commit is consistent), then down to `to`; the top goes
    /// back afterwards. False, moving nothing, when there is no room above the top.
    fn move_through_scratch(
        &mut self,
        handle: ObjRef,
        from: u32,
        to: u32,
        len: u32,
    ) -> Result<bool, Trap> {
        let top = self.sb.top;
        let scratch = top + (top & 1);
        let end = scratch as usize + len as usize;
        if end > self.alloc_limit {
            return Ok(false);
        }
        self.sb.top = end as u32;
        self.store_superblock()?;
        self.move_object(handle, from, scratch, len)?;
        self.move_object(handle, scratch, to, len)?;
        self.sb.top = top;
        self.store_superblock()?;
        Ok(true)
    }

    /// Copies object `handle` (`len` bytes at `from`) down to `to`, then points its
    /// object-table entry there; both journaled.
    fn move_object(&mut self, handle: ObjRef, from: u32, to: u32, len: u32) -> Result<(), Trap> {
        let mut buf = [0u8; 64];
        let mut off = 0u32;
        while off < len {
            let n = (len - off).min(buf.len() as u32);
            let chunk = buf
                .get_mut(..n as usize)
                .ok_or(Trap::Internal(Detail::GcMove))?;
            self.nvm
                .read((from + off) as usize, chunk)
                .map_err(nvm_err)?;
            self.write_persistent(to + off, chunk, false)?;
            off += n;
        }
        let entry = layout::OBJ_TABLE + (handle as u32 - 1) * 4;
        self.write_persistent(entry, &to.to_be_bytes(), false)?;
        self.forget_headers();
        Ok(())
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
