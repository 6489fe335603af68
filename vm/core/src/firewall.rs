//! The applet firewall: the one place that decides whether the active context may touch an
//! object (Java Card runtime environment specification, classic edition, chapter 6).
//!
//! Every package is one context ([`Vm::package_context`]); the runtime is the JCRE context
//! [`JCRE_CONTEXT`]. Every object is owned by the context that was active when it was
//! created (its header's owner byte). The interpreter calls [`Vm::guard`] (or
//! [`Vm::guard_header`]) at every bytecode that uses an object or array and
//! [`Vm::guard_stored`] where a reference is written into a field, an array or a static
//! field; natives that read or write an applet's array on its behalf go through
//! [`Vm::byte_array_range`](crate::Vm::byte_array_range), which checks too.
//!
//! The check costs one comparison when the object is owned by the active context (the
//! overwhelmingly common case); everything else goes to [`decide`], a pure function with
//! an exhaustive match over ([`Access`], [`ObjectKind`]) — the decision table:
//!
//! | access (bytecodes)                                     | own | global array | permanent EPO | temporary EPO | other context |
//! |--------------------------------------------------------|-----|--------------|---------------|---------------|---------------|
//! | field read/write (getfield\*, putfield\*)              | yes | no           | no            | no            | no            |
//! | element read/write, length (\*aload, \*astore, arraylength, API array arguments) | yes | yes | no | no | no |
//! | invokevirtual / invokespecial                          | yes | yes          | yes           | yes           | no            |
//! | invokeinterface                                        | yes | yes          | yes           | yes           | only a Shareable interface (context switch) |
//! | athrow                                                 | yes | no           | yes           | yes           | no            |
//! | checkcast / instanceof                                 | yes | yes          | yes           | yes           | only to a Shareable interface the class implements |
//! | store the reference (putfield_a, aastore, putstatic_a) | yes | no           | yes           | no            | yes           |
//!
//! The JCRE context may do everything. Global arrays (the APDU buffer, the install
//! parameters) and entry point objects are owned by the JCRE context; objects it owns that
//! are neither global nor flagged [`TEMPORARY_EPO`] are permanent entry point objects
//! (AIDs, for example). A denied access throws `java.lang.SecurityException`.

use crate::api::{CLASS_INTERFACE, CLASS_SHAREABLE};
use crate::error::Trap;
use crate::heap::{Header, ObjRef, GLOBAL, NULL, TEMPORARY_EPO};
use crate::layout::ClassId;
use crate::{SystemException, Vm};
use oxicard_store::Nvm;

/// The context of the runtime (the JCRE): owner of entry point objects and global arrays,
/// allowed every access.
pub const JCRE_CONTEXT: u8 = 0;

/// What a bytecode (or a native acting for the applet) does with an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// getfield / putfield (all forms).
    Field,
    /// Reading or writing an array element, reading an array's length (bytecodes, and API
    /// methods that take an array argument).
    Element,
    /// invokevirtual or invokespecial with the object as receiver.
    InvokeVirtual,
    /// invokeinterface of interface `ClassId` with the object as receiver.
    InvokeInterface(ClassId),
    /// athrow of the object.
    Throw,
    /// checkcast / instanceof against class or interface `ClassId` (0 for array types).
    TypeTest(ClassId),
    /// The object's reference is stored into a field, an array element or a static field.
    Store,
}

/// What an object is, seen from the active context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// Owned by the active context.
    Own,
    /// A global array (owned by the JCRE, accessible from every context).
    GlobalArray,
    /// A JCRE entry point object whose reference may be stored (an AID).
    PermanentEpo,
    /// A JCRE entry point object whose reference may not be stored (the APDU object, the
    /// runtime's exception objects).
    TemporaryEpo,
    /// Owned by another applet context; `shareable`: the access is an invocation of, or a
    /// type test against, an interface extending Shareable that the object's class
    /// implements.
    Foreign {
        /// The access goes through a Shareable interface.
        shareable: bool,
    },
}

/// The firewall's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The access goes ahead in the active context.
    Allow,
    /// The access goes ahead; an invocation switches to the object's context.
    AllowSwitch,
    /// SecurityException.
    Deny,
}

/// The decision table (see the module documentation). `jcre`: the active context is the
/// JCRE context.
pub fn decide(jcre: bool, access: Access, kind: ObjectKind) -> Verdict {
    use Access as A;
    use ObjectKind as K;
    use Verdict::{Allow, AllowSwitch, Deny};
    if jcre {
        return Allow;
    }
    match (access, kind) {
        (_, K::Own) => Allow,
        (A::Field, K::GlobalArray | K::PermanentEpo | K::TemporaryEpo | K::Foreign { .. }) => Deny,
        (A::Element, K::GlobalArray) => Allow,
        (A::Element, K::PermanentEpo | K::TemporaryEpo | K::Foreign { .. }) => Deny,
        (A::InvokeVirtual, K::GlobalArray | K::PermanentEpo | K::TemporaryEpo) => Allow,
        (A::InvokeVirtual, K::Foreign { .. }) => Deny,
        (A::InvokeInterface(_), K::GlobalArray | K::PermanentEpo | K::TemporaryEpo) => Allow,
        (A::InvokeInterface(_), K::Foreign { shareable: true }) => AllowSwitch,
        (A::InvokeInterface(_), K::Foreign { shareable: false }) => Deny,
        (A::Throw, K::PermanentEpo | K::TemporaryEpo) => Allow,
        (A::Throw, K::GlobalArray | K::Foreign { .. }) => Deny,
        (A::TypeTest(_), K::GlobalArray | K::PermanentEpo | K::TemporaryEpo) => Allow,
        (A::TypeTest(_), K::Foreign { shareable }) => {
            if shareable {
                Allow
            } else {
                Deny
            }
        }
        (A::Store, K::PermanentEpo | K::Foreign { .. }) => Allow,
        (A::Store, K::GlobalArray | K::TemporaryEpo) => Deny,
    }
}

impl<N: Nvm> Vm<N> {
    /// Checks `access` to the non-null object `obj` by the active context: NullPointerException
    /// for null, SecurityException when the firewall denies it.
    #[inline]
    pub fn guard(&self, obj: ObjRef, access: Access) -> Result<(), Trap> {
        let h = self.header(obj)?;
        self.guard_header(&h, access)
    }

    /// [`Vm::guard`] for an object whose header is already decoded.
    #[inline]
    pub fn guard_header(&self, h: &Header, access: Access) -> Result<(), Trap> {
        if h.owner == self.context {
            return Ok(());
        }
        self.guard_slow(h, access)
    }

    /// `array_load` behind the firewall (one header look-up for both).
    #[inline]
    pub(crate) fn checked_load(&self, arr: ObjRef, index: i16) -> Result<i32, Trap> {
        let (h, ty) = self.array_header(arr)?;
        self.guard_header(&h, Access::Element)?;
        self.load_from(&h, ty, index)
    }

    /// `array_store` behind the firewall (one header look-up for both).
    #[inline]
    pub(crate) fn checked_store(
        &mut self,
        arr: ObjRef,
        index: i16,
        value: i32,
    ) -> Result<(), Trap> {
        let (h, ty) = self.array_header(arr)?;
        self.guard_header(&h, Access::Element)?;
        self.store_into(&h, ty, index, value)
    }

    /// `get_field` behind the firewall (one header look-up for both).
    #[inline]
    pub(crate) fn checked_get_field(&self, obj: ObjRef, cell: u16) -> Result<i16, Trap> {
        let h = self.header(obj)?;
        self.guard_header(&h, Access::Field)?;
        self.field_of(&h, cell)
    }

    /// `put_field` behind the firewall (one header look-up for both).
    #[inline]
    pub(crate) fn checked_put_field(
        &mut self,
        obj: ObjRef,
        cell: u16,
        value: i16,
    ) -> Result<(), Trap> {
        let h = self.header(obj)?;
        self.guard_header(&h, Access::Field)?;
        self.put_field_of(&h, cell, value)
    }

    /// Checks that the reference `value` (null allowed) may be stored into a field, an
    /// array element or a static field by the active context.
    #[inline]
    pub fn guard_stored(&self, value: ObjRef) -> Result<(), Trap> {
        if value == NULL {
            return Ok(());
        }
        self.guard(value, Access::Store)
    }

    #[cold]
    fn guard_slow(&self, h: &Header, access: Access) -> Result<(), Trap> {
        let kind = self.object_kind(h, access)?;
        match decide(self.context == JCRE_CONTEXT, access, kind) {
            Verdict::Allow | Verdict::AllowSwitch => Ok(()),
            Verdict::Deny => Err(self.throw(SystemException::Security)),
        }
    }

    /// Classifies an object not owned by the active context.
    fn object_kind(&self, h: &Header, access: Access) -> Result<ObjectKind, Trap> {
        if h.owner == self.context {
            return Ok(ObjectKind::Own);
        }
        if h.owner == JCRE_CONTEXT {
            return Ok(if h.flags & GLOBAL != 0 {
                ObjectKind::GlobalArray
            } else if h.flags & TEMPORARY_EPO != 0 {
                ObjectKind::TemporaryEpo
            } else {
                ObjectKind::PermanentEpo
            });
        }
        let shareable = match access {
            Access::InvokeInterface(iface) | Access::TypeTest(iface) => {
                h.array_type().is_none()
                    && self.is_shareable_interface(iface)?
                    && self.class_is_subtype(h.class, iface)?
            }
            _ => false,
        };
        Ok(ObjectKind::Foreign { shareable })
    }

    /// Whether `class` is an interface that is, or extends, `javacard.framework.Shareable`.
    pub fn is_shareable_interface(&self, class: ClassId) -> Result<bool, Trap> {
        let Some(shareable) = self.catalog.classes.iter().position(|c| {
            c.flags & (CLASS_INTERFACE | CLASS_SHAREABLE) == CLASS_INTERFACE | CLASS_SHAREABLE
        }) else {
            return Ok(false);
        };
        Ok(
            self.class_is_interface(class)?
                && self.class_is_subtype(class, shareable as ClassId)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESSES: [Access; 7] = [
        Access::Field,
        Access::Element,
        Access::InvokeVirtual,
        Access::InvokeInterface(20),
        Access::Throw,
        Access::TypeTest(20),
        Access::Store,
    ];

    /// The table of the module documentation, row by row, written out independently of
    /// the match in [`decide`] (columns: own, global, permanent EPO, temporary EPO,
    /// foreign, foreign through a Shareable interface).
    #[test]
    fn decision_table_matches_the_specification_rows() {
        use Verdict::{Allow as Y, AllowSwitch as S, Deny as N};
        let rows: [(Access, [Verdict; 6]); 7] = [
            (Access::Field, [Y, N, N, N, N, N]),
            (Access::Element, [Y, Y, N, N, N, N]),
            (Access::InvokeVirtual, [Y, Y, Y, Y, N, N]),
            (Access::InvokeInterface(20), [Y, Y, Y, Y, N, S]),
            (Access::Throw, [Y, N, Y, Y, N, N]),
            (Access::TypeTest(20), [Y, Y, Y, Y, N, Y]),
            (Access::Store, [Y, N, Y, N, Y, Y]),
        ];
        let kinds = [
            ObjectKind::Own,
            ObjectKind::GlobalArray,
            ObjectKind::PermanentEpo,
            ObjectKind::TemporaryEpo,
            ObjectKind::Foreign { shareable: false },
            ObjectKind::Foreign { shareable: true },
        ];
        for (access, expected) in rows {
            for (kind, want) in kinds.iter().zip(expected) {
                assert_eq!(decide(false, access, *kind), want, "{access:?} on {kind:?}");
            }
        }
    }

    #[test]
    fn the_jcre_context_may_do_everything() {
        for access in ACCESSES {
            for kind in [
                ObjectKind::Own,
                ObjectKind::GlobalArray,
                ObjectKind::PermanentEpo,
                ObjectKind::TemporaryEpo,
                ObjectKind::Foreign { shareable: false },
            ] {
                assert_eq!(decide(true, access, kind), Verdict::Allow);
            }
        }
    }
}
