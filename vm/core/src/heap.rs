//! The object model: 16-bit references (handles) into an object table in NVM; every object
//! has a header (class or array type, owner context, flags, length) followed by its cells
//! (instances: one 16-bit cell per field word) or elements (arrays). The elements of
//! transient arrays live in RAM; their header stays in NVM.
//!
//! ```text
//! header: u16 class id | u8 owner | u8 flags | u16 length | u16 element class | u16 RAM offset
//! ```

use crate::error::{CodeAddress, Detail, Trap};
use crate::layout::{self, ClassId};
use crate::{nvm_err, SystemException, Vm};
use core::cell::Cell;
use oxicard_store::Nvm;

/// A reference: a handle into the object table, 0 = null.
pub type ObjRef = u16;
/// The null reference.
pub const NULL: ObjRef = 0;

/// Slots of the object-header cache (a power of two; see [`Vm::header`]).
pub const HEADER_CACHE: usize = 4;
const _: () = assert!(HEADER_CACHE.is_power_of_two());

/// Header size in bytes.
pub const HDR: usize = 10;
pub(crate) const HDR_CLASS: usize = 0;
pub(crate) const HDR_OWNER: usize = 2;
pub(crate) const HDR_FLAGS: usize = 3;
pub(crate) const HDR_LEN: usize = 4;
pub(crate) const HDR_ELEM: usize = 6;
pub(crate) const HDR_RAM: usize = 8;

/// Object flag: transient CLEAR_ON_RESET array.
pub const TRANSIENT_RESET: u8 = 1;
/// Object flag: transient CLEAR_ON_DESELECT array.
pub const TRANSIENT_DESELECT: u8 = 2;
/// Mask of the transient kind.
pub const TRANSIENT_MASK: u8 = 3;
/// Object flag: global array (accessible from every context).
pub const GLOBAL: u8 = 4;
/// Object flag: temporary JCRE entry point object (its reference may not be stored; see
/// [`crate::firewall`]).
pub const TEMPORARY_EPO: u8 = 8;

/// Class ids at or above this value denote arrays: `ARRAY_CLASS | atype`.
pub const ARRAY_CLASS: ClassId = 0xFF00;

/// Element type of an array (the `newarray` atype codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ArrayType {
    /// boolean[]
    Boolean = 10,
    /// byte[]
    Byte = 11,
    /// short[]
    Short = 12,
    /// int[]
    Int = 13,
    /// array of references
    Reference = 14,
}

impl ArrayType {
    /// From an atype code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            10 => ArrayType::Boolean,
            11 => ArrayType::Byte,
            12 => ArrayType::Short,
            13 => ArrayType::Int,
            14 => ArrayType::Reference,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn element_size(self) -> usize {
        match self {
            ArrayType::Boolean | ArrayType::Byte => 1,
            ArrayType::Short | ArrayType::Reference => 2,
            ArrayType::Int => 4,
        }
    }
}

/// One slot of the header cache (see [`Vm::header`]): an object and its decoded header,
/// each field in a cell of its own, so that a fast path reads the fields it checks one by
/// one, after the object matched, instead of copying the whole header first.
#[derive(Clone, Default)]
pub(crate) struct HeaderSlot {
    /// The object (0: empty).
    obj: Cell<ObjRef>,
    addr: Cell<u32>,
    class: Cell<ClassId>,
    owner: Cell<u8>,
    flags: Cell<u8>,
    len: Cell<u16>,
    elem_class: Cell<ClassId>,
    ram: Cell<u16>,
}

impl HeaderSlot {
    /// The cached header (of whatever object the slot holds).
    fn header(&self) -> Header {
        Header {
            addr: self.addr.get(),
            class: self.class.get(),
            owner: self.owner.get(),
            flags: self.flags.get(),
            len: self.len.get(),
            elem_class: self.elem_class.get(),
            ram: self.ram.get(),
        }
    }

    /// Holds `h`, the header of `obj`.
    fn set(&self, obj: ObjRef, h: Header) {
        self.obj.set(obj);
        self.addr.set(h.addr);
        self.class.set(h.class);
        self.owner.set(h.owner);
        self.flags.set(h.flags);
        self.len.set(h.len);
        self.elem_class.set(h.elem_class);
        self.ram.set(h.ram);
    }
}

/// Whether `class` is that of an array of `K`-byte elements, as the element bytecodes
/// expect them (`K` = 1: boolean or byte, 2: short or reference, 4: int), in one compare:
/// the type codes come in pairs that differ in one bit (10/11 and 12/14).
#[inline(always)]
fn array_class_of_size<const K: usize>(class: ClassId) -> bool {
    const BYTE: ClassId = ARRAY_CLASS | ArrayType::Byte as ClassId;
    const SHORT: ClassId = ARRAY_CLASS | ArrayType::Short as ClassId;
    const REFERENCE: ClassId = ARRAY_CLASS | ArrayType::Reference as ClassId;
    const INT: ClassId = ARRAY_CLASS | ArrayType::Int as ClassId;
    const _: () = assert!(ArrayType::Boolean as ClassId | 1 == ArrayType::Byte as ClassId);
    const _: () = assert!(SHORT | 2 == REFERENCE);
    match K {
        1 => class | 1 == BYTE,
        2 => class | 2 == REFERENCE,
        _ => class == INT,
    }
}

/// Decoded header of an object.
#[derive(Clone, Copy, Debug, Default)]
pub struct Header {
    /// NVM address of the object.
    pub addr: u32,
    /// Class id (or `ARRAY_CLASS | atype`).
    pub class: ClassId,
    /// Owning context.
    pub owner: u8,
    /// Flags.
    pub flags: u8,
    /// Cells (instances) or elements (arrays).
    pub len: u16,
    /// Component class of reference arrays.
    pub elem_class: ClassId,
    /// RAM offset of transient array elements.
    pub ram: u16,
}

impl Header {
    /// The array type, if this is an array.
    pub fn array_type(&self) -> Option<ArrayType> {
        if self.class >= ARRAY_CLASS {
            ArrayType::from_code((self.class & 0xFF) as u8)
        } else {
            None
        }
    }

    /// Whether the elements are in RAM.
    pub fn is_transient(&self) -> bool {
        self.flags & TRANSIENT_MASK != 0
    }
}

impl<N: Nvm> Vm<N> {
    /// Reads `K` bytes at `addr`, straight from the memory-mapped NVM when there is one.
    #[inline]
    pub(crate) fn read_bytes<const K: usize>(&self, addr: usize) -> Result<[u8; K], Trap> {
        if let Some(s) = self.nvm.as_slice() {
            return s
                .get(addr..addr.wrapping_add(K))
                .and_then(|b| <[u8; K]>::try_from(b).ok())
                .ok_or(Trap::Nvm(oxicard_store::NvmErrorKind::OutOfBounds));
        }
        let mut b = [0u8; K];
        self.nvm.read(addr, &mut b).map_err(nvm_err)?;
        Ok(b)
    }

    /// The code byte at `pc` of a proven method, for the proven-method loop: on a
    /// memory-mapped NVM of power-of-two size the address is masked into it instead of checked
    /// (no branch in the dispatch; a proven pc is inside the NVM, so the mask never changes
    /// it), elsewhere a checked read where a read past the NVM gives `otherwise`.
    #[inline(always)]
    pub(crate) fn proven_code_byte(&self, pc: usize, otherwise: u8) -> u8 {
        match self.nvm.as_slice() {
            Some(s) if s.len().is_power_of_two() => {
                s.get(pc & (s.len() - 1)).copied().unwrap_or(otherwise)
            }
            _ => self.nvm.read_u8(pc).unwrap_or(otherwise),
        }
    }

    /// NVM address of object `handle`.
    #[inline]
    pub fn object_addr(&self, handle: ObjRef) -> Result<u32, Trap> {
        if handle == NULL || handle > self.sb.object_count {
            return Err(Trap::Internal(Detail::BadReference));
        }
        let addr = self
            .nvm
            .read_u32((layout::OBJ_TABLE + (handle as u32 - 1) * 4) as usize)
            .map_err(nvm_err)?;
        // 0 (an object of an aborted transaction) and FREE_HANDLE (a handle the collector
        // gave back) both read as "no object"
        Ok(if addr < layout::IMAGE_START { 0 } else { addr })
    }

    /// A handle the collector gave back ([`layout::FREE_HANDLE`]), lowest first, or `None`.
    /// Only outside transactions: an abort frees the handles above the count it saved.
    fn reusable_handle(&mut self) -> Result<Option<ObjRef>, Trap> {
        if self.tx_depth != 0 || self.free_hint == 0 {
            return Ok(None);
        }
        for handle in self.free_hint..=self.sb.object_count {
            let entry = self
                .nvm
                .read_u32((layout::OBJ_TABLE + (handle as u32 - 1) * 4) as usize)
                .map_err(nvm_err)?;
            if entry == layout::FREE_HANDLE {
                self.free_hint = handle + 1;
                return Ok(Some(handle));
            }
        }
        self.free_hint = 0;
        Ok(None)
    }

    /// The header cache slot of `obj`.
    #[inline(always)]
    fn header_slot(&self, obj: ObjRef) -> &HeaderSlot {
        &self.header_cache[obj as usize & (HEADER_CACHE - 1)]
    }

    /// The header of a non-null object; null gives NullPointerException. Decoded headers
    /// are cached, direct-mapped by handle ([`HEADER_CACHE`] slots: a loop touches the same
    /// few objects, `this`, a table and a buffer, again and again); see
    /// `Vm::forget_headers` for when the cache is dropped.
    #[inline]
    pub fn header(&self, obj: ObjRef) -> Result<Header, Trap> {
        let slot = self.header_slot(obj);
        if slot.obj.get() == obj && obj != NULL {
            return Ok(slot.header());
        }
        let h = self.read_header(obj)?;
        slot.set(obj, h);
        Ok(h)
    }

    /// Drops the cached headers. Called whenever a header or the object table changes
    /// (allocation, owner change, a rollback, a failed load that gives handles back, the
    /// object collector).
    pub(crate) fn forget_headers(&self) {
        for slot in &self.header_cache {
            slot.set(NULL, Header::default());
        }
    }

    /// Reads and decodes the header of a non-null object from NVM.
    fn read_header(&self, obj: ObjRef) -> Result<Header, Trap> {
        if obj == NULL {
            return Err(self.throw(SystemException::NullPointer));
        }
        let addr = self.object_addr(obj)?;
        if addr == 0 {
            // allocated by an aborted transaction: the reference reads as null
            return Err(self.throw(SystemException::NullPointer));
        }
        let b: [u8; HDR] = self.read_bytes(addr as usize)?;
        let len = u16::from_be_bytes([b[HDR_LEN], b[HDR_LEN + 1]]);
        if len > i16::MAX as u16 {
            // no allocation makes one (a length is a non-negative short); the element fast
            // paths take a negative index as u16 to be past every length
            return Err(Trap::Internal(Detail::Heap));
        }
        Ok(Header {
            addr,
            class: u16::from_be_bytes([b[HDR_CLASS], b[HDR_CLASS + 1]]),
            owner: b[HDR_OWNER],
            flags: b[HDR_FLAGS],
            len,
            elem_class: u16::from_be_bytes([b[HDR_ELEM], b[HDR_ELEM + 1]]),
            ram: u16::from_be_bytes([b[HDR_RAM], b[HDR_RAM + 1]]),
        })
    }

    pub(crate) fn transient_span(&self, addr: u32) -> Result<(usize, usize), Trap> {
        let class = self
            .nvm
            .read_u16(addr as usize + HDR_CLASS)
            .map_err(nvm_err)?;
        let len = self
            .nvm
            .read_u16(addr as usize + HDR_LEN)
            .map_err(nvm_err)?;
        let ram = self
            .nvm
            .read_u16(addr as usize + HDR_RAM)
            .map_err(nvm_err)?;
        let size = ArrayType::from_code((class & 0xFF) as u8)
            .map(|t| t.element_size())
            .unwrap_or(1);
        Ok((ram as usize, len as usize * size))
    }

    /// Bump-allocates `size` bytes of the image area.
    pub(crate) fn alloc_bytes(&mut self, size: usize) -> Result<u32, Trap> {
        let addr = self.sb.top;
        let end = (addr as usize)
            .checked_add(size)
            .filter(|&e| e <= self.alloc_limit)
            .ok_or(Trap::OutOfMemory)?;
        self.sb.top = end as u32;
        Ok(addr)
    }

    fn new_object(&mut self, hdr: [u8; HDR], body_len: usize) -> Result<ObjRef, Trap> {
        self.forget_headers();
        let reused = self.reusable_handle()?;
        if reused.is_none() && self.sb.object_count as usize >= layout::MAX_OBJECTS {
            return Err(self.throw(SystemException::NoResource));
        }
        let saved = self.sb;
        // objects start at even addresses: a short field never straddles two NVM units
        self.sb.top += self.sb.top & 1;
        let addr = match self.alloc_bytes(HDR + body_len) {
            Ok(a) => a,
            Err(_) => return Err(self.throw(SystemException::NoResource)),
        };
        let handle = reused.unwrap_or(self.sb.object_count + 1);
        let entry = layout::OBJ_TABLE + (handle as u32 - 1) * 4;
        let r = (|| {
            self.nvm.write(addr as usize, &hdr).map_err(nvm_err)?;
            zero_fill(&mut self.nvm, addr as usize + HDR, body_len)?;
            if reused.is_some() {
                // the entry existed when the epoch began: a tear gives the handle back
                self.write_persistent(entry, &addr.to_be_bytes(), false)?;
            } else {
                self.nvm.write_u32(entry as usize, addr).map_err(nvm_err)?;
                self.sb.object_count = handle;
            }
            self.store_superblock()
        })();
        match r {
            Ok(()) => Ok(handle),
            Err(e) => {
                self.sb = saved;
                if reused.is_some() {
                    self.free_hint = 1;
                }
                Err(e)
            }
        }
    }

    /// Allocates an instance of `class` owned by the current context, fields zero/null.
    pub fn new_instance(&mut self, class: ClassId) -> Result<ObjRef, Trap> {
        let cells = self.class_cells(class)?;
        let mut hdr = [0u8; HDR];
        hdr[HDR_CLASS..HDR_CLASS + 2].copy_from_slice(&class.to_be_bytes());
        hdr[HDR_OWNER] = self.context;
        hdr[HDR_LEN..HDR_LEN + 2].copy_from_slice(&cells.to_be_bytes());
        self.new_object(hdr, cells as usize * 2)
    }

    /// Allocates an array owned by the current context. `transient` is 0 (persistent),
    /// [`TRANSIENT_RESET`] or [`TRANSIENT_DESELECT`]; `flags` may add [`GLOBAL`].
    pub fn new_array(
        &mut self,
        ty: ArrayType,
        len: i16,
        elem_class: ClassId,
        flags: u8,
    ) -> Result<ObjRef, Trap> {
        if len < 0 {
            return Err(self.throw(SystemException::NegativeArraySize));
        }
        let bytes = len as usize * ty.element_size();
        let mut hdr = [0u8; HDR];
        hdr[HDR_CLASS..HDR_CLASS + 2].copy_from_slice(&(ARRAY_CLASS | ty as u16).to_be_bytes());
        hdr[HDR_OWNER] = self.context;
        hdr[HDR_FLAGS] = flags;
        hdr[HDR_LEN..HDR_LEN + 2].copy_from_slice(&(len as u16).to_be_bytes());
        hdr[HDR_ELEM..HDR_ELEM + 2].copy_from_slice(&elem_class.to_be_bytes());
        if flags & TRANSIENT_MASK != 0 {
            let off = self.sb.ram_top as usize;
            let end = off + bytes;
            if end > crate::TRANSIENT_BYTES {
                return Err(self.throw(SystemException::NoResource));
            }
            hdr[HDR_RAM..HDR_RAM + 2].copy_from_slice(&(off as u16).to_be_bytes());
            let saved = self.sb.ram_top;
            self.sb.ram_top = end as u16;
            let r = self.new_object(hdr, 0);
            if r.is_err() {
                self.sb.ram_top = saved;
            } else if let Some(area) = self.ram.get_mut(off..end) {
                area.fill(0);
            }
            r
        } else {
            self.new_object(hdr, bytes)
        }
    }

    /// Sets the owner context of an object (used by the runtime for objects it creates on
    /// behalf of an applet).
    pub fn set_owner(&mut self, obj: ObjRef, owner: u8) -> Result<(), Trap> {
        self.forget_headers();
        let addr = self.object_addr(obj)?;
        self.write_persistent(addr + HDR_OWNER as u32, &[owner], false)
    }

    /// Marks a JCRE-owned object as a temporary entry point object (the APDU object, the
    /// runtime's exception objects): any context may invoke its methods, none may store
    /// its reference (see [`crate::firewall`]).
    pub fn mark_temporary_entry_point(&mut self, obj: ObjRef) -> Result<(), Trap> {
        let h = self.header(obj)?;
        self.forget_headers();
        self.write_persistent(h.addr + HDR_FLAGS as u32, &[h.flags | TEMPORARY_EPO], false)
    }

    /// Reads instance cell `cell` of `obj`.
    #[inline]
    pub fn get_field(&self, obj: ObjRef, cell: u16) -> Result<i16, Trap> {
        let h = self.header(obj)?;
        self.field_of(&h, cell)
    }

    /// Cell `cell` of the instance with header `h`.
    #[inline]
    pub(crate) fn field_of(&self, h: &Header, cell: u16) -> Result<i16, Trap> {
        if cell >= h.len || h.class >= ARRAY_CLASS {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(0),
                what: Detail::FieldOutsideObject,
            });
        }
        let v = self
            .nvm
            .read_u16(h.addr as usize + HDR + cell as usize * 2)
            .map_err(nvm_err)?;
        Ok(v as i16)
    }

    /// The cached header of instance `obj` when a field bytecode may take its fast path:
    /// `obj` is the object of its header-cache slot, an instance owned by the active
    /// context (the firewall allows a context its own fields), and `cell` is inside it.
    #[inline(always)]
    fn field_fast_header(&self, obj: ObjRef, cell: u16) -> Option<&HeaderSlot> {
        let h = self.header_slot(obj);
        if h.obj.get() != obj
            || obj == NULL
            || h.owner.get() != self.context
            || h.class.get() >= ARRAY_CLASS
            || cell >= h.len.get()
        {
            return None;
        }
        Some(h)
    }

    /// Cell `cell` of `obj` when the fast path applies (see [`Vm::field_fast_header`]) and
    /// the NVM is memory-mapped; `None`: the caller takes [`Vm::checked_get_field`].
    #[inline(always)]
    pub(crate) fn field_fast(&self, obj: ObjRef, cell: u16) -> Option<i16> {
        let h = self.field_fast_header(obj, cell)?;
        let at = h.addr.get() as usize + HDR + 2 * cell as usize;
        let mem = self.nvm.as_slice()?;
        Some(i16::from_be_bytes([*mem.get(at)?, *mem.get(at + 1)?]))
    }

    /// Writes cell `cell` of `obj` (journaled like every persistent write) when the fast
    /// path applies (see [`Vm::field_fast_header`]); `None`: the caller takes
    /// [`Vm::checked_put_field`].
    #[inline(always)]
    pub(crate) fn put_field_fast(
        &mut self,
        obj: ObjRef,
        cell: u16,
        value: i16,
    ) -> Option<Result<(), Trap>> {
        let addr = self.field_fast_header(obj, cell)?.addr.get();
        Some(self.write_persistent(
            addr + (HDR + cell as usize * 2) as u32,
            &value.to_be_bytes(),
            true,
        ))
    }

    /// Writes instance cell `cell` of `obj` (journaled inside a transaction).
    #[inline]
    pub fn put_field(&mut self, obj: ObjRef, cell: u16, value: i16) -> Result<(), Trap> {
        let h = self.header(obj)?;
        self.put_field_of(&h, cell, value)
    }

    /// Writes cell `cell` of the instance with header `h` (journaled inside a transaction).
    #[inline]
    pub(crate) fn put_field_of(&mut self, h: &Header, cell: u16, value: i16) -> Result<(), Trap> {
        if cell >= h.len || h.class >= ARRAY_CLASS {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(0),
                what: Detail::FieldOutsideObject,
            });
        }
        self.write_persistent(
            h.addr + (HDR + cell as usize * 2) as u32,
            &value.to_be_bytes(),
            true,
        )
    }

    /// Writes instance cell `cell` of `obj` outside any transaction (never journaled).
    pub fn put_field_non_atomic(&mut self, obj: ObjRef, cell: u16, value: i16) -> Result<(), Trap> {
        let h = self.header(obj)?;
        if cell >= h.len || h.class >= ARRAY_CLASS {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(0),
                what: Detail::FieldOutsideObject,
            });
        }
        self.write_persistent(
            h.addr + (HDR + cell as usize * 2) as u32,
            &value.to_be_bytes(),
            false,
        )
    }

    /// Writes instance cell `cell` of `obj` so that it survives any later tear and is
    /// never rolled back (OwnerPIN's try counter; see [`Vm::write_durable`]).
    pub fn put_field_durable(&mut self, obj: ObjRef, cell: u16, value: i16) -> Result<(), Trap> {
        let h = self.header(obj)?;
        if cell >= h.len || h.class >= ARRAY_CLASS {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(0),
                what: Detail::FieldOutsideObject,
            });
        }
        self.write_durable(
            h.addr + (HDR + cell as usize * 2) as u32,
            &value.to_be_bytes(),
        )
    }

    /// Checks `index` against an array header: ArrayIndexOutOfBoundsException if outside.
    #[inline]
    fn element_offset(&self, h: &Header, index: i16, size: usize) -> Result<usize, Trap> {
        if index < 0 || index as u16 >= h.len {
            return Err(self.throw(SystemException::ArrayIndexOutOfBounds));
        }
        Ok(index as usize * size)
    }

    /// Reads element `index` of an array as an int (sign-extended bytes/shorts).
    #[inline]
    pub fn array_load(&self, obj: ObjRef, index: i16) -> Result<i32, Trap> {
        let (h, ty) = self.array_header(obj)?;
        self.load_from(&h, ty, index)
    }

    /// Element `index` of the array with header `h` and type `ty`, as an int.
    #[inline]
    pub(crate) fn load_from(&self, h: &Header, ty: ArrayType, index: i16) -> Result<i32, Trap> {
        let h = *h;
        let i = self.element_offset(&h, index, 1)?;
        Ok(match ty {
            ArrayType::Boolean | ArrayType::Byte => {
                let [b] = self.element_bytes::<1>(&h, i)?;
                b as i8 as i32
            }
            ArrayType::Short | ArrayType::Reference => {
                i16::from_be_bytes(self.element_bytes::<2>(&h, i * 2)?) as i32
            }
            ArrayType::Int => i32::from_be_bytes(self.element_bytes::<4>(&h, i * 4)?),
        })
    }

    /// The `K` element bytes at byte offset `off` (already checked against the length).
    #[inline]
    fn element_bytes<const K: usize>(&self, h: &Header, off: usize) -> Result<[u8; K], Trap> {
        if h.is_transient() {
            let start = h.ram as usize + off;
            self.ram
                .get(start..start + K)
                .and_then(|b| <[u8; K]>::try_from(b).ok())
                .ok_or(Trap::Internal(Detail::TransientRange))
        } else {
            self.read_bytes(h.addr as usize + HDR + off)
        }
    }

    /// The cached header of `arr` when the element bytecodes may take their fast path:
    /// `arr` is the object of the header cache (see [`Vm::header`]), an array whose class
    /// `class_ok` accepts (one compare for the element size the bytecode expects, see
    /// [`array_class_of_size`]), and the active context may read and write its elements
    /// without asking the firewall's table (it owns the array, or the array is a global
    /// array of the JCRE context, which the table allows for every context). `None`: take
    /// the full path (it also throws).
    #[inline(always)]
    fn element_fast_header(
        &self,
        arr: ObjRef,
        class_ok: impl Fn(ClassId) -> bool,
    ) -> Option<&HeaderSlot> {
        let h = self.header_slot(arr);
        if h.obj.get() != arr || arr == NULL || !class_ok(h.class.get()) {
            return None;
        }
        let owner = h.owner.get();
        let own = owner == self.context
            || (owner == crate::firewall::JCRE_CONTEXT && h.flags.get() & GLOBAL != 0);
        own.then_some(h)
    }

    /// Element `index` of `arr` when the fast path applies (see
    /// [`Vm::element_fast_header`]), its elements are `K` bytes (the size the bytecode
    /// expects: 1 for baload, 2 for saload and aaload, 4 for iaload) and `index` is inside
    /// the array: the `K` bytes, big-endian; `None` otherwise (the caller takes
    /// [`Vm::checked_load`], which reads or throws).
    #[inline(always)]
    pub(crate) fn load_fast<const K: usize>(&self, arr: ObjRef, index: i16) -> Option<[u8; K]> {
        let h = self.element_fast_header(arr, array_class_of_size::<K>)?;
        // (a negative index is at least 0x8000 as u16, past every length)
        if index as u16 >= h.len.get() {
            return None;
        }
        let off = K * index as u16 as usize;
        let (mem, start) = if h.flags.get() & TRANSIENT_MASK != 0 {
            (&self.ram[..], h.ram.get() as usize + off)
        } else {
            (self.nvm.as_slice()?, h.addr.get() as usize + HDR + off)
        };
        mem.get(start..start + K)?.try_into().ok()
    }

    /// Stores `value` into element `index` of `arr` when the fast path applies (see
    /// [`Vm::element_fast_header`]) and `index` is inside a primitive array: `Some` with the
    /// result of the write (persistent elements are written through the journal like every
    /// other store); `None` when it did not store: the caller takes [`Vm::checked_store`].
    #[inline(always)]
    pub(crate) fn store_fast(
        &mut self,
        arr: ObjRef,
        index: i16,
        value: i32,
    ) -> Option<Result<(), Trap>> {
        let h = self
            .element_fast_header(arr, |class| class >= ARRAY_CLASS)?
            .header();
        // (a negative index is at least 0x8000 as u16, past every length)
        if index as u16 >= h.len {
            return None;
        }
        let i = index as u16 as usize;
        match (h.class & 0xFF) as u8 {
            10 | 11 => self.put_element(&h, i, [value as u8]),
            12 => self.put_element(&h, 2 * i, (value as i16).to_be_bytes()),
            13 => self.put_element(&h, 4 * i, value.to_be_bytes()),
            _ => None,
        }
    }

    /// Writes the `K` bytes of an element at byte offset `off` (checked against the length
    /// by the caller) of the array with header `h`: into RAM for a transient array (a
    /// fixed-size copy, no call), through the journal for a persistent one.
    #[inline(always)]
    fn put_element<const K: usize>(
        &mut self,
        h: &Header,
        off: usize,
        bytes: [u8; K],
    ) -> Option<Result<(), Trap>> {
        if h.is_transient() {
            let start = h.ram as usize + off;
            let dst: &mut [u8; K] = self.ram.get_mut(start..start + K)?.try_into().ok()?;
            *dst = bytes;
            Some(Ok(()))
        } else {
            Some(self.write_persistent(h.addr + (HDR + off) as u32, &bytes, true))
        }
    }

    /// Writes element `index` of an array (value truncated to the element size).
    #[inline]
    pub fn array_store(&mut self, obj: ObjRef, index: i16, value: i32) -> Result<(), Trap> {
        let (h, ty) = self.array_header(obj)?;
        self.store_into(&h, ty, index, value)
    }

    /// Writes element `index` of the array with header `h` and type `ty`.
    #[inline]
    pub(crate) fn store_into(
        &mut self,
        h: &Header,
        ty: ArrayType,
        index: i16,
        value: i32,
    ) -> Result<(), Trap> {
        let h = *h;
        let i = self.element_offset(&h, index, 1)?;
        match ty {
            ArrayType::Boolean | ArrayType::Byte => {
                self.write_elements(&h, i, &[value as u8], true)
            }
            ArrayType::Short | ArrayType::Reference => {
                self.write_elements(&h, i * 2, &(value as i16).to_be_bytes(), true)
            }
            ArrayType::Int => self.write_elements(&h, i * 4, &value.to_be_bytes(), true),
        }
    }

    /// The header of an array, or the matching exception (NPE; `Malformed` if not an array).
    #[inline]
    pub fn array_header(&self, obj: ObjRef) -> Result<(Header, ArrayType), Trap> {
        let h = self.header(obj)?;
        match h.array_type() {
            Some(t) => Ok((h, t)),
            None => Err(Trap::Malformed {
                pc: CodeAddress::new(0),
                what: Detail::NotAnArray,
            }),
        }
    }

    /// Reads raw element bytes starting at byte offset `off`.
    pub fn read_elements(&self, h: &Header, off: usize, buf: &mut [u8]) -> Result<(), Trap> {
        if h.is_transient() {
            let start = h.ram as usize + off;
            let src = self
                .ram
                .get(start..start + buf.len())
                .ok_or(Trap::Internal(Detail::TransientRange))?;
            buf.copy_from_slice(src);
            Ok(())
        } else {
            self.nvm
                .read(h.addr as usize + HDR + off, buf)
                .map_err(nvm_err)
        }
    }

    /// Writes raw element bytes at byte offset `off`; persistent arrays are journaled
    /// inside a transaction when `atomic`.
    #[inline]
    pub fn write_elements(
        &mut self,
        h: &Header,
        off: usize,
        data: &[u8],
        atomic: bool,
    ) -> Result<(), Trap> {
        if h.is_transient() {
            let start = h.ram as usize + off;
            let dst = self
                .ram
                .get_mut(start..start + data.len())
                .ok_or(Trap::Internal(Detail::TransientRange))?;
            dst.copy_from_slice(data);
            Ok(())
        } else {
            self.write_persistent(h.addr + (HDR + off) as u32, data, atomic)
        }
    }

    /// Checks that `[off, off+len)` lies inside a byte/boolean array the active context may
    /// access (the firewall, for API methods acting on an applet's array argument) and
    /// returns its header; NullPointerException / SecurityException /
    /// ArrayIndexOutOfBoundsException otherwise.
    pub fn byte_array_range(&self, obj: ObjRef, off: i16, len: i16) -> Result<Header, Trap> {
        let (h, ty) = self.array_header(obj)?;
        self.guard_header(&h, crate::firewall::Access::Element)?;
        if ty.element_size() != 1 {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(0),
                what: Detail::NotAByteArray,
            });
        }
        if off < 0 || len < 0 || off as u32 + len as u32 > h.len as u32 {
            return Err(self.throw(SystemException::ArrayIndexOutOfBounds));
        }
        Ok(h)
    }
}

/// Writes `len` zero bytes.
pub(crate) fn zero_fill<N: Nvm>(nvm: &mut N, addr: usize, len: usize) -> Result<(), Trap> {
    let zeros = [0u8; 64];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(zeros.len());
        nvm.write(addr + done, &zeros[..n]).map_err(nvm_err)?;
        done += n;
    }
    Ok(())
}
