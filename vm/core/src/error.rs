//! Errors of the VM, sorted by who is to blame: a malformed or unlinkable package
//! ([`LinkError`], refused at load), and what stops a running method ([`Trap`]).
//!
//! What exactly was wrong is a one-byte [`Detail`] code, not a text: the card's flash holds
//! no messages (and no pointers to them at every place an error is made). The host turns a
//! code into its text with [`Detail::describe`], which `Debug` prints; a firmware that never
//! formats an error links no table.

use crate::heap::ObjRef;
use core::fmt;
use oxicard_store::NvmErrorKind;

/// Declares [`Detail`]: each code with its text (the text is also its doc).
macro_rules! details {
    ($($code:ident => $text:literal,)*) => {
        /// What exactly was wrong in a [`LinkError`] or [`Trap`]: the field that was expected,
        /// the table that is full, the check that failed. One byte on the card;
        /// [`Detail::describe`] gives the text (`Debug` prints it quoted).
        #[derive(Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Detail {
            $(#[doc = $text] $code,)*
        }

        impl Detail {
            /// The text of this code, for people (host tools, test failures).
            pub const fn describe(self) -> &'static str {
                match self {
                    $(Detail::$code => $text,)*
                }
            }
        }
    };
}

details! {
    AastoreOnPrimitiveArray => "aastore on a primitive array",
    AbstractApiMethodInvoked => "abstract API method invoked",
    Aid => "AID",
    AidLength => "AID length",
    AidLength5To16 => "AID length 5..16",
    AidMethod => "AID method",
    ApduMethod => "APDU method",
    ApduStaticMethod => "APDU static method",
    Applet => "applet",
    AppletAidLength => "applet AID length",
    AppletComponentEntry => "applet component entry",
    AppletMethod => "applet method",
    AppletRecordToRemove => "applet record to remove",
    ArgumentCountMismatch => "argument count mismatch",
    ArrayInitCount => "array_init_count",
    ArrayInitEntryCount => "array_init count",
    ArrayInitType => "array_init type",
    ArrayInitType2To5 => "array_init type 2..5",
    ArrayInitValues => "array_init values",
    ArrayInitWholeElements => "array_init count multiple of the element size",
    BadClassId => "bad class id",
    BadNativeId => "bad native id",
    BadPackage => "bad package",
    BadReference => "bad reference",
    BranchTargetOutsideMethods => "branch target outside the method component",
    CapFormat21To23 => "CAP format 2.1 to 2.3",
    CheckcastType => "checkcast type",
    Chunk => "chunk",
    CipherAlg => "cipher alg",
    CipherState => "cipher state",
    ClassBitfield => "class bitfield",
    ClassHierarchyTooDeep => "class hierarchy too deep",
    ClassRefToClassInfo => "class_ref to a class_info",
    Classes => "classes",
    ClassesPerPackage => "classes per package",
    CompactNotExtendedCap => "compact (not extended) CAP",
    ConsistentStaticImageSizes => "consistent static image sizes",
    Copy => "copy",
    Count => "count",
    CpCount => "CP count",
    CpEntryOfWrongKind => "constant-pool entry of the wrong kind",
    CpIndexOperandInRange => "CP index operand in range",
    CpIndexOutOfRange => "constant-pool index out of range",
    CpInfo => "cp_info",
    CpTag1To6 => "CP tag 1..6",
    CryptoBuffer => "crypto buffer",
    DeclaredInstanceSize => "declared_instance_size",
    DefaultValueCount => "default_value_count",
    DigestAlg => "digest alg",
    DupXOperand => "dup_x operand",
    DupXStack => "dup_x stack",
    EachComponentOnce => "each component once",
    ExceptionHandlerTable => "exception handler table",
    FieldOutsideObject => "field outside object",
    FirstReferenceToken => "first_reference_token",
    Flags => "flags",
    ForeignFormat => "a card image of another oxicard format version",
    Frame => "frame",
    FramePackage => "frame package",
    GcChunk => "gc chunk",
    GcMove => "gc move",
    GetShareableInterfaceObject => "getShareableInterfaceObject",
    HandlerCount => "handler_count",
    HandlerOffset => "handler offset",
    Heap => "heap",
    ImageSize => "image_size",
    ImportAid => "import AID",
    ImportAidLength => "import AID length",
    ImportAidLengthUpTo16 => "import AID length up to 16",
    ImportCount => "import count",
    ImportMajor => "import major",
    ImportMinor => "import minor",
    Imports => "imports",
    Index => "index",
    InheritableTokenCount => "inheritable token count",
    InstanceSize => "instance size",
    Interface => "interface",
    InterfaceClassRef => "interface class_ref",
    InterfaceMethodCount => "interface method count",
    InterfaceMethodIndex => "interface method index",
    InterfaceNotImplemented => "class does not implement the interface",
    InvokeOfAbstractMethod => "invoke of an abstract method",
    InvokeOfNonMethodEntry => "invoke of a non-method constant-pool entry",
    InvokeinterfaceArguments => "invokeinterface arguments",
    InvokeinterfaceNargsMismatch => "invokeinterface nargs mismatch",
    InvokespecialArguments => "invokespecial arguments",
    InvokevirtualArguments => "invokevirtual arguments",
    JCSystemMethod => "JCSystem method",
    Journal => "journal",
    Key => "key",
    KeyMethod => "key method",
    KeySize => "key size",
    KeySlot => "key slot",
    KeyType => "key type",
    Len => "len",
    LocalIndexOutOfRange => "local index out of range",
    MacState => "mac state",
    Magic => "magic",
    MagicDecaffed => "magic DECAFFED",
    MajorVersion => "major version",
    MethodInUnknownPackage => "method in unknown package",
    MethodOffset => "method offset",
    MethodTableEntry => "method table entry",
    MinorVersion => "minor version",
    NativeResultWords => "native returned other words than its catalog entry",
    NewOfAnInterface => "new of an interface",
    NewarrayType => "newarray type",
    NoExceptionObject => "no exception object",
    NoFrame => "no frame",
    NoMethodForInterfaceToken => "no method for the interface token",
    NoMethodForVirtualToken => "no method for the virtual token",
    NoRemoteClasses => "no remote classes",
    NoStackForTheException => "no stack for the exception",
    NonDefaultValueCount => "non_default_value_count",
    NonDefaultValues => "non_default_values",
    NotAByteArray => "not a byte array",
    NotAnArray => "not an array",
    Nvm => "NVM",
    OffsetDelta => "offset delta",
    OffsetsCount => "offsets count",
    OperandStackOverflow => "operand stack overflow",
    OperandStackUnderflow => "operand stack underflow",
    PackageExtent => "package extent",
    PackageMajor => "package major",
    PackageMethodTableBase => "package_method_table_base",
    PackageMethodTableCount => "package_method_table_count",
    PackageMinor => "package minor",
    PackageVirtualMethodTable => "package_virtual_method_table",
    Packages => "packages",
    Pin => "pin",
    Pkg => "pkg",
    PublicMethodTableBase => "public_method_table_base",
    PublicMethodTableCount => "public_method_table_count",
    PublicVirtualMethodTable => "public_virtual_method_table",
    ReferenceCount => "reference_count",
    ReservedOpcode => "reserved opcode",
    ResolvedReference => "resolved reference",
    RestOfLastComponent => "the rest of the last component",
    RetTarget => "ret target",
    ReturnValueOverflowsInvoker => "return value does not fit the invoker's frame",
    Rsa => "rsa",
    RsaKeygen => "rsa keygen",
    SignatureAlg => "signature alg",
    SignaturePool => "signature_pool",
    SignaturePoolLength => "signature_pool_length",
    Size => "size",
    Stack => "stack",
    SuperClassRef => "super_class_ref",
    Superinterfaces => "superinterfaces",
    SwapXOperand => "swap_x operand",
    SwitchBounds => "switch bounds",
    SystemExceptionObjectMissing => "system exception object missing",
    Thrower => "thrower",
    TokenMapping => "token mapping",
    TooManyNativeArguments => "too many native arguments",
    TransientRange => "transient range",
    UndefinedOpcode => "undefined opcode",
    UnknownCryptoNative => "unknown crypto native",
    UnknownNative => "unknown native",
    UtilMethod => "Util method",
    Vtable => "vtable",
}

impl fmt::Debug for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.describe(), f)
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Why a package was refused by the loader/linker. The card is left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// A component is malformed: `component` tag, byte `offset` in its info, what was expected.
    Malformed {
        /// Component tag (1 Header … 11 Descriptor; 0 = the load file itself).
        component: u8,
        /// Offset inside the component's info.
        offset: InfoOffset,
        /// What was expected there.
        expected: Detail,
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
        offset: InfoOffset,
    },
    /// A package with this AID is already loaded.
    AlreadyLoaded,
    /// The package uses the int subset and the VM was built without it.
    IntNotSupported,
    /// A fixed-capacity table (packages, classes, vtable) is full, or NVM is exhausted.
    CapacityExceeded(Detail),
    /// The NVM failed.
    Nvm(NvmErrorKind),
}

/// A byte offset in a component's info, where a [`LinkError`] was found: a component is at
/// most 65,535 bytes (its size is a CAP `u2`); in the load file itself (component 0) an
/// offset past 65,535 reads as 65,535. Two bytes of alignment one, so that a `LinkError` is
/// four bytes and `Result<_, LinkError>` comes back in a register instead of through memory:
/// about 3 KB less flash on a Cortex-M card.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InfoOffset([u8; 2]);

impl InfoOffset {
    /// `offset`, or 65,535 when it is larger.
    pub const fn new(offset: usize) -> Self {
        let offset = if offset > u16::MAX as usize {
            u16::MAX
        } else {
            offset as u16
        };
        InfoOffset(offset.to_le_bytes())
    }

    /// The offset as a number.
    pub const fn get(self) -> u16 {
        u16::from_le_bytes(self.0)
    }
}

impl fmt::Debug for InfoOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

/// An NVM address in three bytes, where a [`Trap::Malformed`] happened: up to 16 MiB, more
/// than any NVM oxicard runs on (the host simulator's is 512 KiB). Three bytes and not a
/// `u32` so that a [`Trap`] is four bytes and `Result<(), Trap>` comes back in a register
/// instead of through memory at every `?`: about 4.7 KB less flash on a Cortex-M card.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeAddress([u8; 3]);

impl CodeAddress {
    /// `address`, kept to its low 24 bits.
    pub const fn new(address: u32) -> Self {
        let [low, middle, high, _] = address.to_le_bytes();
        CodeAddress([low, middle, high])
    }

    /// The address as a number.
    pub const fn get(self) -> u32 {
        let [low, middle, high] = self.0;
        u32::from_le_bytes([low, middle, high, 0])
    }
}

impl fmt::Debug for CodeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
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
        pc: CodeAddress,
        /// What was wrong.
        what: Detail,
    },
    /// The NVM failed.
    Nvm(NvmErrorKind),
    /// A VM invariant was broken (a bug, never caused by input).
    Internal(Detail),
}

// Four bytes: the spare values of the `Detail` code tell the variants apart, and the
// `Result<(), Trap>` of every fallible VM step (and the linker's `Result<(), LinkError>`)
// fits in one register.
const _: () = assert!(core::mem::size_of::<Trap>() == 4);
const _: () = assert!(core::mem::size_of::<Result<(), Trap>>() == 4);
const _: () = assert!(core::mem::size_of::<LinkError>() == 4);
const _: () = assert!(core::mem::size_of::<Result<(), LinkError>>() == 4);

impl From<NvmErrorKind> for Trap {
    fn from(kind: NvmErrorKind) -> Self {
        Trap::Nvm(kind)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn code_addresses_keep_24_bits_and_print_as_numbers() {
        // every address of the simulator's 512 KiB NVM, both ends and a middle one
        for address in [0, 1, 0x1234, 0x7_FFFF, 0xFF_FFFF] {
            assert_eq!(CodeAddress::new(address).get(), address);
        }
        assert_eq!(CodeAddress::new(0x1234_5678).get(), 0x34_5678);
        let trap = Trap::Malformed {
            pc: CodeAddress::new(0x4_0123),
            what: Detail::CpIndexOutOfRange,
        };
        assert_eq!(
            format!("{trap:?}"),
            format!(
                "Malformed {{ pc: 262435, what: {:?} }}",
                Detail::CpIndexOutOfRange.describe()
            )
        );
    }
    #[test]
    fn info_offsets_keep_a_component_offset_and_saturate_past_it() {
        // a component's size is a CAP u2: every offset in it fits
        for offset in [0, 1, 0x1234, 0xFFFF] {
            assert_eq!(InfoOffset::new(offset).get() as usize, offset);
        }
        // offsets in a load file past 64 KiB
        assert_eq!(InfoOffset::new(0x1_0000).get(), 0xFFFF);
        assert_eq!(InfoOffset::new(usize::MAX).get(), 0xFFFF);
        let error = LinkError::Malformed {
            component: 9,
            offset: InfoOffset::new(300),
            expected: Detail::CpIndexOutOfRange,
        };
        assert_eq!(
            format!("{error:?}"),
            format!(
                "Malformed {{ component: 9, offset: 300, expected: {:?} }}",
                Detail::CpIndexOutOfRange.describe()
            )
        );
    }
}
