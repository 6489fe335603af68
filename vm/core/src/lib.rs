//! oxicard-vm: the Java Card virtual machine: the linked image in NVM, the object model,
//! the loader/linker and the interpreter.
//!
//! The VM knows nothing about APDUs or applets: the runtime (oxicard-jcre) describes the
//! built-in API packages with an [`api::ApiCatalog`], implements their native methods with
//! [`api::Natives`], and drives the VM through [`Vm::run`].
//!
//! Data flow: [`Vm::load_package`] checks and links the components of a CAP file into a
//! package record, class records, a resolved constant pool, the method component and the
//! static field image, all in NVM. The interpreter runs over that image; it never looks at
//! a raw constant-pool entry.
#![no_std]

pub mod api;
pub mod class;
pub mod error;
pub mod firewall;
pub mod gc;
pub mod heap;
pub mod interp;
pub mod journal;
pub mod layout;
pub mod link;
pub mod load;
pub mod persist;
mod reader;
mod verify;

pub use api::{ApiCatalog, Natives, Value};
pub use error::{Detail, LinkError, Trap};
pub use heap::{ArrayType, ObjRef, NULL};
pub use layout::{ClassId, MethodRef};
pub use load::PackageLoader;

use heapless::Vec;
use oxicard_store::{Nvm, NvmError};

/// Words (16-bit slots) of the operand/locals stack shared by all frames.
pub const STACK_WORDS: usize = 1024;
/// Maximum number of nested frames.
pub const MAX_FRAMES: usize = 128;
/// Bytes of RAM for transient arrays (including the APDU buffer): 2 KiB, a small card's
/// RAM (the budget firmware's); 4 KiB with the feature `large-transient`, which the crypto
/// API needs (oxicard-jcre's `crypto` turns it on: the crypto conformance applets keep more
/// than 2 KiB of transient buffers).
pub const TRANSIENT_BYTES: usize = if cfg!(feature = "large-transient") {
    4096
} else {
    2048
};
pub use journal::JOURNAL_BYTES;
/// Default execution budget per [`Vm::run`] call. The budget is charged where code can
/// repeat: every backward branch costs the number of bytes it jumps back over (roughly the
/// instructions of the loop body) and every call costs 1, so straight-line code runs free
/// and the count stays close to the number of instructions executed.
pub const DEFAULT_BUDGET: u64 = 200_000_000;

/// Which VM-raised Java exception (the runtime provides one preallocated object for each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SystemException {
    /// java.lang.NullPointerException
    NullPointer = 0,
    /// java.lang.ArrayIndexOutOfBoundsException
    ArrayIndexOutOfBounds = 1,
    /// java.lang.ArithmeticException
    Arithmetic = 2,
    /// java.lang.ClassCastException
    ClassCast = 3,
    /// java.lang.NegativeArraySizeException
    NegativeArraySize = 4,
    /// java.lang.ArrayStoreException
    ArrayStore = 5,
    /// java.lang.SecurityException
    Security = 6,
    /// javacard.framework.SystemException (reason NO_RESOURCE) on heap exhaustion
    NoResource = 7,
    /// javacard.framework.TransactionException (reason BUFFER_FULL)
    TransactionBufferFull = 8,
}

/// Number of [`SystemException`] kinds.
pub const SYSTEM_EXCEPTIONS: usize = 9;

/// Cached facts about one loaded package (rebuilt from its NVM record).
#[derive(Clone, Copy, Debug, Default)]
pub struct PackageInfo {
    /// NVM address of the copied Method component info.
    pub method_addr: u32,
    /// Length of the Method component info.
    pub method_len: u32,
    /// NVM address of the resolved constant pool (4 bytes per entry).
    pub cp_addr: u32,
    /// Number of constant-pool entries.
    pub cp_count: u16,
    /// NVM address of the static field image.
    pub static_addr: u32,
    /// Size of the static field image.
    pub static_len: u32,
}

/// An activation record. The hot copies of `pc` and `sp` live in the interpreter's locals
/// while a frame runs; they are saved here before anything that can leave the frame.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Address of the next instruction (for invokers: the instruction after the invoke).
    pub pc: u32,
    /// Stack index of local 0.
    pub locals: u16,
    /// Stack index of the operand stack bottom.
    pub stack_base: u16,
    /// Operand stack top (exclusive) when the frame is not running.
    pub sp: u16,
    /// Highest allowed stack index (exclusive) for this frame's operand stack.
    pub stack_limit: u16,
    /// Package index of the running method.
    pub package: u8,
    /// Context that was active in the invoker (restored on return).
    pub saved_context: u8,
    /// The method was proven at load (see the `verify` module) and runs without per-
    /// instruction checks.
    pub fast: bool,
    /// Words this (fast) frame expects back from the method it invoked; checked on return.
    pub expect_ret: u8,
}

/// The virtual machine: NVM image and heap, transient RAM, stacks and transaction state.
#[derive(Clone)]
pub struct Vm<N: Nvm> {
    /// The non-volatile memory holding the linked image and the persistent heap.
    nvm: N,
    /// Built-in API description.
    catalog: &'static ApiCatalog,
    /// Transient memory (contents of transient arrays).
    ram: [u8; TRANSIENT_BYTES],
    /// Operand stacks and locals of all frames; the word past the last is spare, so that the
    /// two words of an int read and write as one piece with one index mask (see
    /// `interp::stack_int`).
    stack: [i16; STACK_WORDS + 1],
    /// The frame stack.
    frames: Vec<Frame, MAX_FRAMES>,
    /// Loaded packages, by package index.
    packages: Vec<PackageInfo, { layout::MAX_PACKAGES }>,
    /// Cached superblock.
    sb: layout::Superblock,
    /// The NVM journal (see [`journal`]).
    journal: journal::Journal,
    /// Transaction nesting depth (0 or 1).
    tx_depth: u8,
    /// Currently active context (owner id of newly created objects).
    context: u8,
    /// Execution budget per run (see [`DEFAULT_BUDGET`]).
    budget: u64,
    /// Preallocated exception objects raised by the VM itself.
    system_exceptions: [ObjRef; SYSTEM_EXCEPTIONS],
    /// Frames below this index belong to an outer execution (see [`Vm::call_nested`]).
    frame_floor: usize,
    /// Budget left in the current run, shared with nested calls from natives.
    budget_left: u64,
    /// Recently decoded object headers, direct-mapped by handle (see [`Vm::header`]):
    /// (handle, header); handle 0 when empty.
    header_cache: [heap::HeaderSlot; heap::HEADER_CACHE],
    /// End of the space the allocator may use: the NVM size, or the bottom of the staging
    /// area while a package load is open.
    alloc_limit: usize,
    /// Lowest handle that may be [`layout::FREE_HANDLE`] (0: none); see `gc`.
    free_hint: u16,
}

impl<N: Nvm> Vm<N> {
    /// Creates a VM over `nvm` and opens it ([`Vm::unopened`], then [`Vm::open`]).
    pub fn new(nvm: N, catalog: &'static ApiCatalog) -> Result<Self, Trap> {
        let mut vm = Self::unopened(nvm, catalog);
        vm.open()?;
        Ok(vm)
    }

    /// A VM over `nvm` that has not looked at it yet: no NVM access and no failure, so that
    /// a VM (about 10 KB, most of it the RAM areas) can be put where it stays, e.g. a
    /// static of a firmware, and opened there by [`Vm::open`] without being moved. Until it
    /// is opened it has no image: no packages, and every allocation fails.
    pub fn unopened(nvm: N, catalog: &'static ApiCatalog) -> Self {
        Vm {
            nvm,
            catalog,
            ram: [0; TRANSIENT_BYTES],
            stack: [0; STACK_WORDS + 1],
            frames: Vec::new(),
            packages: Vec::new(),
            sb: layout::Superblock::default(),
            journal: journal::Journal::new(),
            tx_depth: 0,
            context: 0,
            budget: DEFAULT_BUDGET,
            system_exceptions: [NULL; SYSTEM_EXCEPTIONS],
            alloc_limit: 0,
            frame_floor: 0,
            header_cache: core::array::from_fn(|_| heap::HeaderSlot::default()),
            budget_left: DEFAULT_BUDGET,
            free_hint: 1,
        }
    }

    /// Opens the NVM of a VM made by [`Vm::unopened`]: if it holds no formatted image, it
    /// is formatted (empty card); otherwise the journal rolls back an interrupted operation
    /// and the existing image is opened.
    pub fn open(&mut self) -> Result<(), Trap> {
        self.open_or_format()
    }

    /// The underlying NVM.
    pub fn nvm(&self) -> &N {
        &self.nvm
    }

    /// The API catalog this VM was built with.
    pub fn catalog(&self) -> &'static ApiCatalog {
        self.catalog
    }

    /// Sets the execution budget of each [`Vm::run`] call (see [`DEFAULT_BUDGET`] for the unit).
    pub fn set_budget(&mut self, budget: u64) {
        self.budget = budget;
    }

    /// The currently active context.
    pub fn context(&self) -> u8 {
        self.context
    }

    /// Sets the active context (used by the runtime before it calls into an applet).
    pub fn set_context(&mut self, context: u8) {
        self.context = context;
    }

    /// Registers the preallocated object the VM throws for `kind`.
    pub fn set_system_exception(&mut self, kind: SystemException, obj: ObjRef) {
        if let Some(slot) = self.system_exceptions.get_mut(kind as usize) {
            *slot = obj;
        }
    }

    /// The preallocated object for `kind`, as a trap to return.
    #[cold]
    pub fn throw(&self, kind: SystemException) -> Trap {
        match self.system_exceptions.get(kind as usize) {
            Some(&obj) if obj != NULL => Trap::Throw(obj),
            _ => Trap::Internal(Detail::SystemExceptionObjectMissing),
        }
    }

    /// Handles in use: the highest allocated object handle (dead ones below it included).
    pub fn object_count(&self) -> u16 {
        self.sb.object_count
    }

    /// Number of loaded packages.
    pub fn package_count(&self) -> u8 {
        self.sb.package_count
    }

    /// Information about package `index`.
    pub fn package(&self, index: u8) -> Option<&PackageInfo> {
        self.packages.get(index as usize)
    }

    /// Clears transient memory of the given kind (1 = CLEAR_ON_RESET and CLEAR_ON_DESELECT
    /// arrays on reset: pass [`heap::TRANSIENT_RESET`] | [`heap::TRANSIENT_DESELECT`]).
    pub fn clear_transient(&mut self, kinds: u8) -> Result<(), Trap> {
        self.clear_transient_of(kinds, None)
    }

    /// Clears the transient arrays of the given kinds that context `owner` owns (`None`:
    /// every context). Deselecting an applet clears the CLEAR_ON_DESELECT arrays of its
    /// context only.
    pub fn clear_transient_of(&mut self, kinds: u8, owner: Option<u8>) -> Result<(), Trap> {
        for handle in 1..=self.sb.object_count {
            let addr = self.object_addr(handle)? as usize;
            if addr == 0 {
                continue; // an object of an aborted transaction
            }
            let [owned_by, flags]: [u8; 2] = self.read_bytes(addr + heap::HDR_OWNER)?;
            if flags & heap::TRANSIENT_MASK & kinds != 0 && owner.is_none_or(|o| o == owned_by) {
                let (off, len) = self.transient_span(addr as u32)?;
                if let Some(area) = self.ram.get_mut(off..off + len) {
                    area.fill(0);
                }
            }
        }
        Ok(())
    }

    /// Drops all frames (after a trap) so the next run starts clean.
    pub fn reset_frames(&mut self) {
        self.frames.clear();
    }

    /// Free bytes of persistent memory.
    pub fn available_persistent(&self) -> usize {
        self.alloc_limit.saturating_sub(self.sb.top as usize)
    }

    /// Free bytes of transient memory.
    pub fn available_transient(&self) -> usize {
        TRANSIENT_BYTES.saturating_sub(self.sb.ram_top as usize)
    }

    /// Transient RAM (for natives that copy into transient arrays).
    pub fn ram(&self) -> &[u8] {
        &self.ram
    }
}

/// Maps an NVM error to a trap.
#[cold]
pub(crate) fn nvm_err<E: NvmError>(e: E) -> Trap {
    Trap::Nvm(e.kind())
}
