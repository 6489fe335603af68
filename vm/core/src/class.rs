//! Queries over classes, built-in (from the API catalog) and linked (class records in NVM):
//! instance size, superclass, virtual tables, interfaces and the subtype test used by
//! checkcast, instanceof, aastore and exception handlers.

use crate::api::{NativeId, CLASS_INTERFACE};
use crate::error::{Detail, Trap};
use crate::heap::{ArrayType, Header, ARRAY_CLASS};
use crate::layout::{self, ClassId, MethodRef, FIRST_USER_CLASS, NATIVE_PACKAGE};
use crate::{nvm_err, Vm};
use oxicard_store::Nvm;

/// Class id of java.lang.Object (the first built-in class).
pub const OBJECT_CLASS: ClassId = 0;

/// A MethodRef naming native `id`.
pub fn native_ref(id: NativeId) -> MethodRef {
    NATIVE_PACKAGE << 16 | id as u32
}

impl<N: Nvm> Vm<N> {
    /// NVM address of the record of user class `id`.
    #[inline]
    pub(crate) fn class_record(&self, id: ClassId) -> Result<u32, Trap> {
        let index = id.wrapping_sub(FIRST_USER_CLASS);
        if id < FIRST_USER_CLASS || index >= self.sb.class_count {
            return Err(Trap::Internal(Detail::BadClassId));
        }
        self.nvm
            .read_u32((layout::CLASS_DIR + index as u32 * 4) as usize)
            .map_err(nvm_err)
    }

    /// Total instance cells of class `id` (superclasses included).
    pub fn class_cells(&self, id: ClassId) -> Result<u16, Trap> {
        if id < FIRST_USER_CLASS {
            let c = self
                .catalog
                .class(id)
                .ok_or(Trap::Internal(Detail::BadClassId))?;
            return Ok(c.cells);
        }
        let r = self.class_record(id)?;
        self.nvm
            .read_u16(r as usize + layout::C_CELLS)
            .map_err(nvm_err)
    }

    /// Superclass of `id` (`None` for Object and interfaces).
    pub fn class_super(&self, id: ClassId) -> Result<Option<ClassId>, Trap> {
        if id >= ARRAY_CLASS {
            return Ok(Some(OBJECT_CLASS));
        }
        if id < FIRST_USER_CLASS {
            let c = self
                .catalog
                .class(id)
                .ok_or(Trap::Internal(Detail::BadClassId))?;
            return Ok(c.super_class);
        }
        let r = self.class_record(id)?;
        let s = self
            .nvm
            .read_u16(r as usize + layout::C_SUPER)
            .map_err(nvm_err)?;
        Ok(if s == 0xFFFF { None } else { Some(s) })
    }

    /// Whether `id` is an interface.
    pub fn class_is_interface(&self, id: ClassId) -> Result<bool, Trap> {
        if id >= ARRAY_CLASS {
            return Ok(false);
        }
        if id < FIRST_USER_CLASS {
            let c = self
                .catalog
                .class(id)
                .ok_or(Trap::Internal(Detail::BadClassId))?;
            return Ok(c.flags & CLASS_INTERFACE != 0);
        }
        let r = self.class_record(id)?;
        let f = self
            .nvm
            .read_u8(r as usize + layout::C_FLAGS)
            .map_err(nvm_err)?;
        Ok(f & CLASS_INTERFACE != 0)
    }

    /// Package index of user class `id` (`None` for built-in classes).
    pub fn class_package(&self, id: ClassId) -> Result<Option<u8>, Trap> {
        if !(FIRST_USER_CLASS..ARRAY_CLASS).contains(&id) {
            return Ok(None);
        }
        let r = self.class_record(id)?;
        Ok(Some(
            self.nvm
                .read_u8(r as usize + layout::C_PACKAGE)
                .map_err(nvm_err)?,
        ))
    }

    /// The method implementing virtual `token` (bit 7: package-visible table) in class `id`.
    #[inline]
    pub fn vtable_entry(&self, id: ClassId, token: u8) -> Result<Option<MethodRef>, Trap> {
        let id = if id >= ARRAY_CLASS { OBJECT_CLASS } else { id };
        if id < FIRST_USER_CLASS {
            if token & 0x80 != 0 {
                return Ok(None);
            }
            let c = self
                .catalog
                .class(id)
                .ok_or(Trap::Internal(Detail::BadClassId))?;
            return Ok(c.vtable.get(token as usize).map(|&n| native_ref(n)));
        }
        let r = self.class_record(id)? as usize;
        let vt_len = self.nvm.read_u8(r + layout::C_VT_LEN).map_err(nvm_err)? as usize;
        let slot = if token & 0x80 != 0 {
            let pvt_len = self.nvm.read_u8(r + layout::C_PVT_LEN).map_err(nvm_err)? as usize;
            let t = (token & 0x7F) as usize;
            if t >= pvt_len {
                return Ok(None);
            }
            vt_len + t
        } else {
            if token as usize >= vt_len {
                return Ok(None);
            }
            token as usize
        };
        let m = self
            .nvm
            .read_u32(r + layout::C_VTABLE + slot * 4)
            .map_err(nvm_err)?;
        Ok(if m == u32::MAX { None } else { Some(m) })
    }

    /// Length of the public and package virtual tables of class `id`.
    pub(crate) fn vtable_lens(&self, id: ClassId) -> Result<(usize, usize), Trap> {
        if id < FIRST_USER_CLASS {
            let c = self
                .catalog
                .class(id)
                .ok_or(Trap::Internal(Detail::BadClassId))?;
            return Ok((c.vtable.len(), 0));
        }
        let r = self.class_record(id)? as usize;
        Ok((
            self.nvm.read_u8(r + layout::C_VT_LEN).map_err(nvm_err)? as usize,
            self.nvm.read_u8(r + layout::C_PVT_LEN).map_err(nvm_err)? as usize,
        ))
    }

    /// Finds interface `iface` in the interface list of class `id` only (not superclasses).
    /// Returns the NVM address of its token map and the map length, or for built-in
    /// classes the static map.
    fn own_interface(&self, id: ClassId, iface: ClassId) -> Result<Option<IfaceMap>, Trap> {
        if id < FIRST_USER_CLASS {
            let c = self
                .catalog
                .class(id)
                .ok_or(Trap::Internal(Detail::BadClassId))?;
            return Ok(c
                .interfaces
                .iter()
                .find(|(i, _)| *i == iface)
                .map(|(_, m)| IfaceMap::Builtin(m)));
        }
        let r = self.class_record(id)? as usize;
        let (vt, pvt) = self.vtable_lens(id)?;
        let count = self
            .nvm
            .read_u8(r + layout::C_IFACE_COUNT)
            .map_err(nvm_err)?;
        let mut p = r + layout::C_VTABLE + (vt + pvt) * 4;
        for _ in 0..count {
            let i = self.nvm.read_u16(p).map_err(nvm_err)?;
            let n = self.nvm.read_u8(p + 2).map_err(nvm_err)?;
            if i == iface {
                return Ok(Some(IfaceMap::Nvm(p as u32 + 3, n)));
            }
            p += 3 + n as usize;
        }
        Ok(None)
    }

    /// The virtual token implementing interface method `method` of `iface` for class `id`.
    pub fn interface_token(
        &self,
        id: ClassId,
        iface: ClassId,
        method: u8,
    ) -> Result<Option<u8>, Trap> {
        let mut c = if id >= ARRAY_CLASS { OBJECT_CLASS } else { id };
        loop {
            match self.own_interface(c, iface)? {
                Some(IfaceMap::Builtin(m)) => return Ok(m.get(method as usize).copied()),
                Some(IfaceMap::Nvm(addr, n)) => {
                    if method >= n {
                        return Ok(None);
                    }
                    return Ok(Some(
                        self.nvm
                            .read_u8(addr as usize + method as usize)
                            .map_err(nvm_err)?,
                    ));
                }
                None => {}
            }
            match self.class_super(c)? {
                Some(s) => c = s,
                None => return Ok(None),
            }
        }
    }

    /// Whether class (not array) `id` is `target` or a subtype of it.
    pub fn class_is_subtype(&self, id: ClassId, target: ClassId) -> Result<bool, Trap> {
        if target == OBJECT_CLASS {
            return Ok(true);
        }
        let target_is_iface = self.class_is_interface(target)?;
        let mut c = id;
        let mut depth = 0;
        loop {
            if c == target {
                return Ok(true);
            }
            if target_is_iface && self.own_interface(c, target)?.is_some() {
                return Ok(true);
            }
            if target_is_iface && self.class_is_interface(c)? && self.super_interface(c, target)? {
                return Ok(true);
            }
            match self.class_super(c)? {
                Some(s) => c = s,
                None => return Ok(false),
            }
            depth += 1;
            if depth > 64 {
                return Err(Trap::Internal(Detail::ClassHierarchyTooDeep));
            }
        }
    }

    /// Whether interface `id` lists `target` among its superinterfaces.
    fn super_interface(&self, id: ClassId, target: ClassId) -> Result<bool, Trap> {
        if id < FIRST_USER_CLASS {
            let c = self
                .catalog
                .class(id)
                .ok_or(Trap::Internal(Detail::BadClassId))?;
            return Ok(c.interfaces.iter().any(|(i, _)| *i == target));
        }
        Ok(self.own_interface(id, target)?.is_some())
    }

    /// The type test of checkcast/instanceof: is the object with header `h` an instance of
    /// type (`atype`, `class`)? `atype` 0: class/interface; 10..13: primitive arrays; 14:
    /// array of `class`.
    pub fn is_instance(&self, h: &Header, atype: u8, class: ClassId) -> Result<bool, Trap> {
        match (h.array_type(), atype) {
            (None, 0) => self.class_is_subtype(h.class, class),
            (Some(_), 0) => Ok(class == OBJECT_CLASS),
            (Some(ArrayType::Reference), 14) => {
                if class == OBJECT_CLASS {
                    return Ok(true);
                }
                if h.elem_class >= ARRAY_CLASS {
                    return Ok(false);
                }
                self.class_is_subtype(h.elem_class, class)
            }
            (Some(t), a) => Ok(t as u8 == a && a != 14),
            (None, _) => Ok(false),
        }
    }
}

enum IfaceMap {
    Builtin(&'static [u8]),
    Nvm(u32, u8),
}
