//! Errors of the VM, sorted by who is to blame: a malformed or unlinkable package
//! ([`LinkError`], refused at load), and what stops a running method ([`Trap`]).

use crate::heap::ObjRef;
use oxicard_store::NvmErrorKind;

/// Why a package was refused by the loader/linker. The card is left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// A component is malformed: `component` tag, byte `offset` in its info, what was expected.
    Malformed {
        /// Component tag (1 Header … 11 Descriptor; 0 = the load file itself).
        component: u8,
        /// Offset inside the component's info.
        offset: usize,
        /// What was expected there.
        expected: &'static str,
    },
    /// A required component is missing.
    MissingComponent(u8),
    /// An imported package (Import index) is not on the card.
    MissingImport(u8),
    /// An imported package is on the card, but with an incompatible version.
    VersionMismatch(u8),
    /// A token (class, method, field) does not exist in the imported package.
    BadToken {
        /// Component where the reference sits.
        component: u8,
        /// Offset of the reference in the component info.
        offset: usize,
    },
    /// A package with this AID is already loaded.
    AlreadyLoaded,
    /// The package uses the int subset and the VM was built without it.
    IntNotSupported,
    /// A fixed-capacity table (packages, classes, vtable) is full, or NVM is exhausted.
    CapacityExceeded(&'static str),
    /// The NVM failed.
    Nvm(NvmErrorKind),
}

/// What ended a VM run abnormally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// A Java exception object was thrown and not caught.
    Throw(ObjRef),
    /// The instruction budget of this run is exhausted (runaway loop).
    BudgetExhausted,
    /// The frame or operand stack is full.
    StackOverflow,
    /// Persistent or transient memory is exhausted where no Java exception can report it.
    OutOfMemory,
    /// The bytecode or image is malformed (hostile input): what, at which code address.
    Malformed {
        /// NVM address of the offending instruction.
        pc: u32,
        /// What was wrong.
        what: &'static str,
    },
    /// The NVM failed.
    Nvm(NvmErrorKind),
    /// A VM invariant was broken (a bug, never caused by input).
    Internal(&'static str),
}

impl From<NvmErrorKind> for Trap {
    fn from(kind: NvmErrorKind) -> Self {
        Trap::Nvm(kind)
    }
}
