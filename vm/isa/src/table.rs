//! The one table of JCVM opcodes.
//!
//! Every fact about a bytecode lives in exactly one row of the [`opcode_table!`] invocation at
//! the end of this file: its value, mnemonic, operand layout, stack effect, handler group,
//! implied operand, wide form and flags. The [`Opcode`] enum, the lookups by value and by
//! mnemonic, the decoder, the encoder and the disassembler are all derived from those rows.
//! The rows follow `shared/spec/jcvm-opcodes.md`; a test parses that file and compares every
//! row with it.

use core::fmt;

/// A set of boolean facts about an opcode (a small bit set, combined with `|`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u32);

impl Flags {
    /// No flag set.
    pub const NONE: Flags = Flags(0);
    /// Has one or more branch offsets as operands (conditional branches, `goto`, `jsr`,
    /// switches).
    pub const BRANCH: Flags = Flags(1 << 0);
    /// A two-way branch: jumps or falls through to the next instruction (`if*`).
    pub const CONDITIONAL: Flags = Flags(1 << 1);
    /// One of the four switch instructions (variable length).
    pub const SWITCH: Flags = Flags(1 << 2);
    /// `jsr` or `ret`: subroutine call and return.
    pub const SUBROUTINE: Flags = Flags(1 << 3);
    /// Returns from the current method (`areturn`, `sreturn`, `ireturn`, `return`).
    pub const RETURN: Flags = Flags(1 << 4);
    /// Throws the exception object on the stack (`athrow`).
    pub const THROW: Flags = Flags(1 << 5);
    /// Control never continues with the next instruction (`goto`, switches, returns,
    /// `athrow`, `ret`). `jsr` is not terminal: its successor is reached through `ret`.
    pub const TERMINAL: Flags = Flags(1 << 6);
    /// Invokes a method (`invokevirtual`, `invokespecial`, `invokestatic`,
    /// `invokeinterface`).
    pub const INVOKE: Flags = Flags(1 << 7);
    /// Has a constant-pool index operand (listed in the ReferenceLocation component; for
    /// `checkcast`/`instanceof` only when `atype` is not 10..13).
    pub const CP_REF: Flags = Flags(1 << 8);
    /// Reads or writes a field (instance or static).
    pub const FIELD: Flags = Flags(1 << 9);
    /// Static: `getstatic_*`, `putstatic_*`, `invokestatic` (no object involved).
    pub const STATIC: Flags = Flags(1 << 10);
    /// Allocates a new object or array (`new`, `newarray`, `anewarray`).
    pub const ALLOCATES: Flags = Flags(1 << 11);
    /// Writes a field or an array element (persistent or transient memory).
    pub const WRITES_HEAP: Flags = Flags(1 << 12);
    /// Reads a local variable (loads, increments, `ret`, and the `*_this` field forms which
    /// read local 0).
    pub const READS_LOCAL: Flags = Flags(1 << 13);
    /// Writes a local variable (stores and increments).
    pub const WRITES_LOCAL: Flags = Flags(1 << 14);
    /// The instruction itself can raise a Java exception (the spec lists runtime exceptions
    /// for it, or it invokes a method or allocates).
    pub const MAY_THROW: Flags = Flags(1 << 15);
    /// Accesses an object through a reference and is checked by the firewall (JCRE §6.2.8):
    /// field access, array element access, `arraylength`, `invokevirtual`,
    /// `invokeinterface`, `athrow`, `checkcast`, `instanceof`.
    pub const TOUCHES_OBJECT: Flags = Flags(1 << 16);
    /// Stores a reference into a static field, instance field or array element: the firewall
    /// refuses temporary JCRE entry point objects and global arrays as the stored value.
    pub const STORES_REF: Flags = Flags(1 << 17);
    /// Belongs to the optional 32-bit integer subset (ACC_INT).
    pub const INT: Flags = Flags(1 << 18);
    /// Reserved for the implementation (`impdep1`, `impdep2`); never valid in a CAP file.
    pub const RESERVED: Flags = Flags(1 << 19);

    /// Every named flag, in bit order (used by `Debug` and the documentation table).
    pub const NAMED: [(&'static str, Flags); 20] = [
        ("BRANCH", Flags::BRANCH),
        ("CONDITIONAL", Flags::CONDITIONAL),
        ("SWITCH", Flags::SWITCH),
        ("SUBROUTINE", Flags::SUBROUTINE),
        ("RETURN", Flags::RETURN),
        ("THROW", Flags::THROW),
        ("TERMINAL", Flags::TERMINAL),
        ("INVOKE", Flags::INVOKE),
        ("CP_REF", Flags::CP_REF),
        ("FIELD", Flags::FIELD),
        ("STATIC", Flags::STATIC),
        ("ALLOCATES", Flags::ALLOCATES),
        ("WRITES_HEAP", Flags::WRITES_HEAP),
        ("READS_LOCAL", Flags::READS_LOCAL),
        ("WRITES_LOCAL", Flags::WRITES_LOCAL),
        ("MAY_THROW", Flags::MAY_THROW),
        ("TOUCHES_OBJECT", Flags::TOUCHES_OBJECT),
        ("STORES_REF", Flags::STORES_REF),
        ("INT", Flags::INT),
        ("RESERVED", Flags::RESERVED),
    ];

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// True when every flag of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when at least one flag of `other` is set in `self`.
    pub const fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    /// True when no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, flag) in Flags::NAMED {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("NONE")?;
        }
        Ok(())
    }
}

/// How one operand field is stored in the code (big-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Unsigned 8-bit.
    U1,
    /// Signed 8-bit.
    S1,
    /// Unsigned 16-bit.
    U2,
    /// Signed 16-bit.
    S2,
    /// Signed 32-bit.
    S4,
}

impl Encoding {
    /// Size in bytes.
    pub const fn size(self) -> usize {
        match self {
            Encoding::U1 | Encoding::S1 => 1,
            Encoding::U2 | Encoding::S2 => 2,
            Encoding::S4 => 4,
        }
    }

    /// The spec's name for it (`u1`, `s2`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::U1 => "u1",
            Encoding::S1 => "s1",
            Encoding::U2 => "u2",
            Encoding::S2 => "s2",
            Encoding::S4 => "s4",
        }
    }
}

/// One operand field of an instruction: its name and encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OperandField {
    /// What the field means (`index`, `branch`, `atype`, ...).
    pub name: &'static str,
    /// How it is stored.
    pub encoding: Encoding,
}

/// Shorthand for an [`OperandField`] literal (a literal, so that `&[...]` is promoted).
macro_rules! field {
    ($name:literal, $encoding:ident) => {
        OperandField {
            name: $name,
            encoding: Encoding::$encoding,
        }
    };
}

/// The shape of the operands that follow the opcode byte. Each shape corresponds to one
/// variant of [`crate::Operands`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperandLayout {
    /// No operands.
    None,
    /// A local variable index (`u1`).
    Local,
    /// A signed byte immediate (`s1`).
    Byte,
    /// A signed short immediate (`s2`).
    Short,
    /// A signed int immediate (`s4`).
    Int,
    /// A 1-byte constant-pool index (`getfield_<t>`, `putfield_<t>`, `*_this`).
    CpIndex1,
    /// A 2-byte constant-pool index.
    CpIndex2,
    /// A 1-byte branch offset relative to the opcode address.
    Branch1,
    /// A 2-byte branch offset relative to the opcode address.
    Branch2,
    /// A primitive array type code (`newarray`: 10..13).
    ArrayType,
    /// `checkcast`/`instanceof`: `atype u1`, `index u2` (index 0 and no CP reference when
    /// atype is 10..13).
    TypeCheck,
    /// `sinc`/`iinc`: local index `u1`, increment `s1`.
    Increment1,
    /// `sinc_w`/`iinc_w`: local index `u1`, increment `s2`.
    Increment2,
    /// `invokeinterface`: `nargs u1`, `index u2`, `method u1`.
    Interface,
    /// `dup_x`: one byte `mn` (m = high nibble, n = low nibble).
    DupX,
    /// `swap_x`: one byte `mn` (m = high nibble, n = low nibble).
    SwapX,
    /// `stableswitch`: `default s2, low s2, high s2, offsets s2[high-low+1]`.
    TableSwitchShort,
    /// `itableswitch`: `default s2, low s4, high s4, offsets s2[high-low+1]`.
    TableSwitchInt,
    /// `slookupswitch`: `default s2, npairs u2, {match s2, offset s2}[npairs]`.
    LookupSwitchShort,
    /// `ilookupswitch`: `default s2, npairs u2, {match s4, offset s2}[npairs]`.
    LookupSwitchInt,
}

impl OperandLayout {
    /// The fixed operand fields (for switches: the header before the table).
    pub const fn fields(self) -> &'static [OperandField] {
        match self {
            OperandLayout::None => &[],
            OperandLayout::Local => &[field!("index", U1)],
            OperandLayout::Byte => &[field!("byte", S1)],
            OperandLayout::Short => &[field!("short", S2)],
            OperandLayout::Int => &[field!("int", S4)],
            OperandLayout::CpIndex1 => &[field!("index", U1)],
            OperandLayout::CpIndex2 => &[field!("index", U2)],
            OperandLayout::Branch1 => &[field!("branch", S1)],
            OperandLayout::Branch2 => &[field!("branch", S2)],
            OperandLayout::ArrayType => &[field!("atype", U1)],
            OperandLayout::TypeCheck => &[field!("atype", U1), field!("index", U2)],
            OperandLayout::Increment1 => &[field!("index", U1), field!("const", S1)],
            OperandLayout::Increment2 => &[field!("index", U1), field!("const", S2)],
            OperandLayout::Interface => &[
                field!("nargs", U1),
                field!("index", U2),
                field!("method", U1),
            ],
            OperandLayout::DupX | OperandLayout::SwapX => &[field!("mn", U1)],
            OperandLayout::TableSwitchShort => {
                &[field!("default", S2), field!("low", S2), field!("high", S2)]
            }
            OperandLayout::TableSwitchInt => {
                &[field!("default", S2), field!("low", S4), field!("high", S4)]
            }
            OperandLayout::LookupSwitchShort | OperandLayout::LookupSwitchInt => {
                &[field!("default", S2), field!("npairs", U2)]
            }
        }
    }

    /// Bytes of the opcode plus the fixed fields (for a switch: before its table).
    pub const fn header_len(self) -> usize {
        let mut fields = self.fields();
        let mut len = 1;
        while let [first, rest @ ..] = fields {
            len += first.encoding.size();
            fields = rest;
        }
        len
    }

    /// True for the four switch layouts, whose length depends on their operands.
    pub const fn is_switch(self) -> bool {
        matches!(
            self,
            OperandLayout::TableSwitchShort
                | OperandLayout::TableSwitchInt
                | OperandLayout::LookupSwitchShort
                | OperandLayout::LookupSwitchInt
        )
    }

    /// The instruction length in bytes including the opcode, or `None` for a switch.
    pub const fn fixed_len(self) -> Option<usize> {
        if self.is_switch() {
            None
        } else {
            Some(self.header_len())
        }
    }

    /// Bytes per switch table entry (offset, or match + offset), 0 for other layouts.
    pub const fn switch_entry_len(self) -> usize {
        match self {
            OperandLayout::TableSwitchShort | OperandLayout::TableSwitchInt => 2,
            OperandLayout::LookupSwitchShort => 4,
            OperandLayout::LookupSwitchInt => 6,
            _ => 0,
        }
    }

    /// Where a constant-pool index operand sits: (offset from the opcode byte, width in
    /// bytes). `checkcast`/`instanceof` report it even though atype 10..13 makes it unused.
    pub const fn cp_index_position(self) -> Option<(usize, u8)> {
        match self {
            OperandLayout::CpIndex1 => Some((1, 1)),
            OperandLayout::CpIndex2 => Some((1, 2)),
            OperandLayout::TypeCheck | OperandLayout::Interface => Some((2, 2)),
            _ => None,
        }
    }
}

/// Operand-stack words (16-bit slots) consumed or produced by an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Words {
    /// A fixed number of words.
    Fixed(u8),
    /// `1 + argwords`: the receiver and the declared parameters (`invokevirtual`,
    /// `invokespecial`); needs the method signature.
    ReceiverAndArgs,
    /// `argwords`: the declared parameters (`invokestatic`); needs the method signature.
    Args,
    /// The `nargs` operand of `invokeinterface` (receiver included).
    InterfaceNargs,
    /// The return value of the invoked method: 0, 1 or 2 words by its signature.
    ReturnValue,
    /// `dup_x`/`swap_x`: given by the `mn` operand.
    Shuffle,
    /// The frame ends: the value goes to the invoker's stack (push side of returns).
    FrameEnd,
    /// Implementation-defined (`impdep1`, `impdep2`).
    Unspecified,
}

/// Words popped and pushed, as the spec's Pop/Push columns give them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StackEffect {
    /// Words consumed.
    pub pop: Words,
    /// Words produced.
    pub push: Words,
}

/// What kind of handler an opcode needs; the interpreter groups handlers by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    /// `nop`.
    Misc,
    /// Pushes a constant (`aconst_null`, `sconst_*`, `iconst_*`, `bspush`, ...).
    Constant,
    /// Loads a local variable.
    LoadLocal,
    /// Stores a local variable.
    StoreLocal,
    /// Loads an array element.
    ArrayLoad,
    /// Stores an array element.
    ArrayStore,
    /// `arraylength`.
    ArrayLength,
    /// Operand-stack manipulation (`pop`, `dup`, `dup_x`, `swap_x`, ...).
    Stack,
    /// Arithmetic and bitwise operations.
    Arithmetic,
    /// Increments a local (`sinc`, `iinc`, and `_w` forms).
    Increment,
    /// Type conversions (`s2b`, `s2i`, `i2b`, `i2s`).
    Conversion,
    /// `icmp`.
    Compare,
    /// Conditional branches and `goto`.
    Branch,
    /// `jsr`, `ret`.
    Subroutine,
    /// The four switches.
    Switch,
    /// Method returns.
    Return,
    /// `getstatic_*`, `putstatic_*`.
    StaticField,
    /// `getfield_*`, `putfield_*` (all forms).
    InstanceField,
    /// The four invokes.
    Invoke,
    /// `new`, `newarray`, `anewarray`.
    Allocate,
    /// `athrow`.
    Throw,
    /// `checkcast`, `instanceof`.
    TypeCheck,
    /// `impdep1`, `impdep2`.
    Reserved,
}

/// An operand that the opcode implies instead of encoding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Implied {
    /// Nothing implied.
    None,
    /// A local variable index (`aload_0`: 0, `getfield_a_this`: 0 for `this`).
    Local(u8),
    /// A constant pushed (`sconst_m1`: -1, `iconst_5`: 5); a byte keeps the row small.
    Const(i8),
}

/// One row of the opcode table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpcodeInfo {
    /// The opcode. (Its mnemonic is [`OpcodeInfo::mnemonic`], kept out of the row so that a
    /// card image that only checks code does not carry the names.)
    pub opcode: Opcode,
    /// The operand layout after the opcode byte.
    pub layout: OperandLayout,
    /// Operand-stack words consumed and produced.
    pub stack: StackEffect,
    /// The handler group.
    pub group: Group,
    /// An operand implied by the opcode.
    pub implied: Implied,
    /// The same instruction with a wider operand (`ifeq` → `ifeq_w`, `getfield_a` →
    /// `getfield_a_w`, `sinc` → `sinc_w`).
    pub wide: Option<Opcode>,
    /// Boolean facts.
    pub flags: Flags,
}

impl OpcodeInfo {
    /// The byte value.
    pub const fn value(&self) -> u8 {
        self.opcode as u8
    }

    /// The instruction length including the opcode, `None` for the switches.
    pub const fn fixed_len(&self) -> Option<usize> {
        self.layout.fixed_len()
    }

    /// The mnemonic exactly as in the JCVM specification.
    pub const fn mnemonic(&self) -> &'static str {
        self.opcode.mnemonic()
    }
}

macro_rules! words {
    ($n:literal) => {
        Words::Fixed($n)
    };
    ($name:ident) => {
        Words::$name
    };
}

macro_rules! implied {
    (_) => {
        Implied::None
    };
    ((local $n:literal)) => {
        Implied::Local($n)
    };
    ((const $($v:tt)+)) => {
        Implied::Const($($v)+)
    };
}

macro_rules! wide {
    (_) => {
        None
    };
    ($w:ident) => {
        Some(Opcode::$w)
    };
}

/// Defines [`Opcode`], its lookups and one [`OpcodeInfo`] constant per row.
macro_rules! opcode_table {
    ($(
        $value:literal $variant:ident $mnemonic:literal $layout:ident $pop:tt $push:tt
        $group:ident $implied:tt $wide:tt [$($flag:ident)|*];
    )*) => {
        /// A JCVM opcode: the 185 defined instructions and the 2 reserved ones.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[doc = concat!("`", $mnemonic, "` (", stringify!($value), ")")]
                $variant = $value,
            )*
        }

        #[allow(non_upper_case_globals)]
        mod row {
            use super::*;
            $(
                pub(super) const $variant: OpcodeInfo = OpcodeInfo {
                    opcode: Opcode::$variant,
                    layout: OperandLayout::$layout,
                    stack: StackEffect { pop: words!($pop), push: words!($push) },
                    group: Group::$group,
                    implied: implied!($implied),
                    wide: wide!($wide),
                    flags: Flags(0 $(| Flags::$flag.0)*),
                };
            )*
        }

        impl Opcode {
            /// Every opcode, in ascending value order.
            pub const ALL: [Opcode; [$($mnemonic),*].len()] = [$(Opcode::$variant),*];

            /// The opcode with this byte value, `None` for the unassigned values
            /// 0xB9..=0xFD.
            pub const fn from_u8(value: u8) -> Option<Opcode> {
                match value {
                    $($value => Some(Opcode::$variant),)*
                    _ => None,
                }
            }

            /// The table row of this opcode.
            pub const fn info(self) -> &'static OpcodeInfo {
                match self {
                    $(Opcode::$variant => &row::$variant,)*
                }
            }

            /// The mnemonic exactly as in the JCVM specification.
            pub const fn mnemonic(self) -> &'static str {
                match self {
                    $(Opcode::$variant => $mnemonic,)*
                }
            }

            /// The opcode with this mnemonic (exact, lower case).
            pub fn from_mnemonic(mnemonic: &str) -> Option<Opcode> {
                match mnemonic {
                    $($mnemonic => Some(Opcode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

impl Opcode {
    /// Number of opcodes in the table (185 defined + 2 reserved).
    pub const COUNT: usize = Opcode::ALL.len();

    /// The byte value.
    pub const fn value(self) -> u8 {
        self as u8
    }

    /// The operand layout.
    pub const fn layout(self) -> OperandLayout {
        self.info().layout
    }

    /// The flags.
    pub const fn flags(self) -> Flags {
        self.info().flags
    }

    /// True when all of `flags` are set for this opcode.
    pub const fn has(self, flags: Flags) -> bool {
        self.info().flags.contains(flags)
    }

    /// The instruction length including the opcode, `None` for the switches.
    pub const fn fixed_len(self) -> Option<usize> {
        self.info().layout.fixed_len()
    }

    /// The `_w` form with the wider operand, if there is one.
    pub const fn wide(self) -> Option<Opcode> {
        self.info().wide
    }

    /// The short form of a `_w` opcode (inverse of [`Opcode::wide`]).
    pub const fn narrow(self) -> Option<Opcode> {
        let mut opcodes: &[Opcode] = &Opcode::ALL;
        while let [candidate, rest @ ..] = opcodes {
            if let Some(wide) = candidate.info().wide {
                if wide as u8 == self as u8 {
                    return Some(*candidate);
                }
            }
            opcodes = rest;
        }
        None
    }

    /// Iterates over every table row, in ascending value order.
    pub fn table() -> impl Iterator<Item = &'static OpcodeInfo> {
        Opcode::ALL.iter().map(|op| op.info())
    }
}

impl fmt::Debug for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

impl TryFrom<u8> for Opcode {
    type Error = u8;
    /// Fails with the byte when it is not an assigned opcode.
    fn try_from(value: u8) -> Result<Opcode, u8> {
        Opcode::from_u8(value).ok_or(value)
    }
}

// value  variant  mnemonic  operand layout  pop  push  group  implied  wide form  [flags]
opcode_table! {
    0x00 Nop             "nop"             None              0               0           Misc          _          _          [];
    0x01 AconstNull      "aconst_null"     None              0               1           Constant      _          _          [];
    0x02 SconstM1        "sconst_m1"       None              0               1           Constant      (const -1) _          [];
    0x03 Sconst0         "sconst_0"        None              0               1           Constant      (const 0)  _          [];
    0x04 Sconst1         "sconst_1"        None              0               1           Constant      (const 1)  _          [];
    0x05 Sconst2         "sconst_2"        None              0               1           Constant      (const 2)  _          [];
    0x06 Sconst3         "sconst_3"        None              0               1           Constant      (const 3)  _          [];
    0x07 Sconst4         "sconst_4"        None              0               1           Constant      (const 4)  _          [];
    0x08 Sconst5         "sconst_5"        None              0               1           Constant      (const 5)  _          [];
    0x09 IconstM1        "iconst_m1"       None              0               2           Constant      (const -1) _          [INT];
    0x0A Iconst0         "iconst_0"        None              0               2           Constant      (const 0)  _          [INT];
    0x0B Iconst1         "iconst_1"        None              0               2           Constant      (const 1)  _          [INT];
    0x0C Iconst2         "iconst_2"        None              0               2           Constant      (const 2)  _          [INT];
    0x0D Iconst3         "iconst_3"        None              0               2           Constant      (const 3)  _          [INT];
    0x0E Iconst4         "iconst_4"        None              0               2           Constant      (const 4)  _          [INT];
    0x0F Iconst5         "iconst_5"        None              0               2           Constant      (const 5)  _          [INT];
    0x10 Bspush          "bspush"          Byte              0               1           Constant      _          _          [];
    0x11 Sspush          "sspush"          Short             0               1           Constant      _          _          [];
    0x12 Bipush          "bipush"          Byte              0               2           Constant      _          _          [INT];
    0x13 Sipush          "sipush"          Short             0               2           Constant      _          _          [INT];
    0x14 Iipush          "iipush"          Int               0               2           Constant      _          _          [INT];
    0x15 Aload           "aload"           Local             0               1           LoadLocal     _          _          [READS_LOCAL];
    0x16 Sload           "sload"           Local             0               1           LoadLocal     _          _          [READS_LOCAL];
    0x17 Iload           "iload"           Local             0               2           LoadLocal     _          _          [READS_LOCAL | INT];
    0x18 Aload0          "aload_0"         None              0               1           LoadLocal     (local 0)  _          [READS_LOCAL];
    0x19 Aload1          "aload_1"         None              0               1           LoadLocal     (local 1)  _          [READS_LOCAL];
    0x1A Aload2          "aload_2"         None              0               1           LoadLocal     (local 2)  _          [READS_LOCAL];
    0x1B Aload3          "aload_3"         None              0               1           LoadLocal     (local 3)  _          [READS_LOCAL];
    0x1C Sload0          "sload_0"         None              0               1           LoadLocal     (local 0)  _          [READS_LOCAL];
    0x1D Sload1          "sload_1"         None              0               1           LoadLocal     (local 1)  _          [READS_LOCAL];
    0x1E Sload2          "sload_2"         None              0               1           LoadLocal     (local 2)  _          [READS_LOCAL];
    0x1F Sload3          "sload_3"         None              0               1           LoadLocal     (local 3)  _          [READS_LOCAL];
    0x20 Iload0          "iload_0"         None              0               2           LoadLocal     (local 0)  _          [READS_LOCAL | INT];
    0x21 Iload1          "iload_1"         None              0               2           LoadLocal     (local 1)  _          [READS_LOCAL | INT];
    0x22 Iload2          "iload_2"         None              0               2           LoadLocal     (local 2)  _          [READS_LOCAL | INT];
    0x23 Iload3          "iload_3"         None              0               2           LoadLocal     (local 3)  _          [READS_LOCAL | INT];
    0x24 Aaload          "aaload"          None              2               1           ArrayLoad     _          _          [MAY_THROW | TOUCHES_OBJECT];
    0x25 Baload          "baload"          None              2               1           ArrayLoad     _          _          [MAY_THROW | TOUCHES_OBJECT];
    0x26 Saload          "saload"          None              2               1           ArrayLoad     _          _          [MAY_THROW | TOUCHES_OBJECT];
    0x27 Iaload          "iaload"          None              2               2           ArrayLoad     _          _          [MAY_THROW | TOUCHES_OBJECT | INT];
    0x28 Astore          "astore"          Local             1               0           StoreLocal    _          _          [WRITES_LOCAL];
    0x29 Sstore          "sstore"          Local             1               0           StoreLocal    _          _          [WRITES_LOCAL];
    0x2A Istore          "istore"          Local             2               0           StoreLocal    _          _          [WRITES_LOCAL | INT];
    0x2B Astore0         "astore_0"        None              1               0           StoreLocal    (local 0)  _          [WRITES_LOCAL];
    0x2C Astore1         "astore_1"        None              1               0           StoreLocal    (local 1)  _          [WRITES_LOCAL];
    0x2D Astore2         "astore_2"        None              1               0           StoreLocal    (local 2)  _          [WRITES_LOCAL];
    0x2E Astore3         "astore_3"        None              1               0           StoreLocal    (local 3)  _          [WRITES_LOCAL];
    0x2F Sstore0         "sstore_0"        None              1               0           StoreLocal    (local 0)  _          [WRITES_LOCAL];
    0x30 Sstore1         "sstore_1"        None              1               0           StoreLocal    (local 1)  _          [WRITES_LOCAL];
    0x31 Sstore2         "sstore_2"        None              1               0           StoreLocal    (local 2)  _          [WRITES_LOCAL];
    0x32 Sstore3         "sstore_3"        None              1               0           StoreLocal    (local 3)  _          [WRITES_LOCAL];
    0x33 Istore0         "istore_0"        None              2               0           StoreLocal    (local 0)  _          [WRITES_LOCAL | INT];
    0x34 Istore1         "istore_1"        None              2               0           StoreLocal    (local 1)  _          [WRITES_LOCAL | INT];
    0x35 Istore2         "istore_2"        None              2               0           StoreLocal    (local 2)  _          [WRITES_LOCAL | INT];
    0x36 Istore3         "istore_3"        None              2               0           StoreLocal    (local 3)  _          [WRITES_LOCAL | INT];
    0x37 Aastore         "aastore"         None              3               0           ArrayStore    _          _          [WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT | STORES_REF];
    0x38 Bastore         "bastore"         None              3               0           ArrayStore    _          _          [WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT];
    0x39 Sastore         "sastore"         None              3               0           ArrayStore    _          _          [WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT];
    0x3A Iastore         "iastore"         None              4               0           ArrayStore    _          _          [WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT | INT];
    0x3B Pop             "pop"             None              1               0           Stack         _          _          [];
    0x3C Pop2            "pop2"            None              2               0           Stack         _          _          [];
    0x3D Dup             "dup"             None              1               2           Stack         _          _          [];
    0x3E Dup2            "dup2"            None              2               4           Stack         _          _          [];
    0x3F DupX            "dup_x"           DupX              Shuffle         Shuffle     Stack         _          _          [];
    0x40 SwapX           "swap_x"          SwapX             Shuffle         Shuffle     Stack         _          _          [];
    0x41 Sadd            "sadd"            None              2               1           Arithmetic    _          _          [];
    0x42 Iadd            "iadd"            None              4               2           Arithmetic    _          _          [INT];
    0x43 Ssub            "ssub"            None              2               1           Arithmetic    _          _          [];
    0x44 Isub            "isub"            None              4               2           Arithmetic    _          _          [INT];
    0x45 Smul            "smul"            None              2               1           Arithmetic    _          _          [];
    0x46 Imul            "imul"            None              4               2           Arithmetic    _          _          [INT];
    0x47 Sdiv            "sdiv"            None              2               1           Arithmetic    _          _          [MAY_THROW];
    0x48 Idiv            "idiv"            None              4               2           Arithmetic    _          _          [MAY_THROW | INT];
    0x49 Srem            "srem"            None              2               1           Arithmetic    _          _          [MAY_THROW];
    0x4A Irem            "irem"            None              4               2           Arithmetic    _          _          [MAY_THROW | INT];
    0x4B Sneg            "sneg"            None              1               1           Arithmetic    _          _          [];
    0x4C Ineg            "ineg"            None              2               2           Arithmetic    _          _          [INT];
    0x4D Sshl            "sshl"            None              2               1           Arithmetic    _          _          [];
    0x4E Ishl            "ishl"            None              4               2           Arithmetic    _          _          [INT];
    0x4F Sshr            "sshr"            None              2               1           Arithmetic    _          _          [];
    0x50 Ishr            "ishr"            None              4               2           Arithmetic    _          _          [INT];
    0x51 Sushr           "sushr"           None              2               1           Arithmetic    _          _          [];
    0x52 Iushr           "iushr"           None              4               2           Arithmetic    _          _          [INT];
    0x53 Sand            "sand"            None              2               1           Arithmetic    _          _          [];
    0x54 Iand            "iand"            None              4               2           Arithmetic    _          _          [INT];
    0x55 Sor             "sor"             None              2               1           Arithmetic    _          _          [];
    0x56 Ior             "ior"             None              4               2           Arithmetic    _          _          [INT];
    0x57 Sxor            "sxor"            None              2               1           Arithmetic    _          _          [];
    0x58 Ixor            "ixor"            None              4               2           Arithmetic    _          _          [INT];
    0x59 Sinc            "sinc"            Increment1        0               0           Increment     _          SincW      [READS_LOCAL | WRITES_LOCAL];
    0x5A Iinc            "iinc"            Increment1        0               0           Increment     _          IincW      [READS_LOCAL | WRITES_LOCAL | INT];
    0x5B S2b             "s2b"             None              1               1           Conversion    _          _          [];
    0x5C S2i             "s2i"             None              1               2           Conversion    _          _          [INT];
    0x5D I2b             "i2b"             None              2               1           Conversion    _          _          [INT];
    0x5E I2s             "i2s"             None              2               1           Conversion    _          _          [INT];
    0x5F Icmp            "icmp"            None              4               1           Compare       _          _          [INT];
    0x60 Ifeq            "ifeq"            Branch1           1               0           Branch        _          IfeqW      [BRANCH | CONDITIONAL];
    0x61 Ifne            "ifne"            Branch1           1               0           Branch        _          IfneW      [BRANCH | CONDITIONAL];
    0x62 Iflt            "iflt"            Branch1           1               0           Branch        _          IfltW      [BRANCH | CONDITIONAL];
    0x63 Ifge            "ifge"            Branch1           1               0           Branch        _          IfgeW      [BRANCH | CONDITIONAL];
    0x64 Ifgt            "ifgt"            Branch1           1               0           Branch        _          IfgtW      [BRANCH | CONDITIONAL];
    0x65 Ifle            "ifle"            Branch1           1               0           Branch        _          IfleW      [BRANCH | CONDITIONAL];
    0x66 Ifnull          "ifnull"          Branch1           1               0           Branch        _          IfnullW    [BRANCH | CONDITIONAL];
    0x67 Ifnonnull       "ifnonnull"       Branch1           1               0           Branch        _          IfnonnullW [BRANCH | CONDITIONAL];
    0x68 IfAcmpeq        "if_acmpeq"       Branch1           2               0           Branch        _          IfAcmpeqW  [BRANCH | CONDITIONAL];
    0x69 IfAcmpne        "if_acmpne"       Branch1           2               0           Branch        _          IfAcmpneW  [BRANCH | CONDITIONAL];
    0x6A IfScmpeq        "if_scmpeq"       Branch1           2               0           Branch        _          IfScmpeqW  [BRANCH | CONDITIONAL];
    0x6B IfScmpne        "if_scmpne"       Branch1           2               0           Branch        _          IfScmpneW  [BRANCH | CONDITIONAL];
    0x6C IfScmplt        "if_scmplt"       Branch1           2               0           Branch        _          IfScmpltW  [BRANCH | CONDITIONAL];
    0x6D IfScmpge        "if_scmpge"       Branch1           2               0           Branch        _          IfScmpgeW  [BRANCH | CONDITIONAL];
    0x6E IfScmpgt        "if_scmpgt"       Branch1           2               0           Branch        _          IfScmpgtW  [BRANCH | CONDITIONAL];
    0x6F IfScmple        "if_scmple"       Branch1           2               0           Branch        _          IfScmpleW  [BRANCH | CONDITIONAL];
    0x70 Goto            "goto"            Branch1           0               0           Branch        _          GotoW      [BRANCH | TERMINAL];
    0x71 Jsr             "jsr"             Branch2           0               1           Subroutine    _          _          [BRANCH | SUBROUTINE];
    0x72 Ret             "ret"             Local             0               0           Subroutine    _          _          [SUBROUTINE | TERMINAL | READS_LOCAL];
    0x73 Stableswitch    "stableswitch"    TableSwitchShort  1               0           Switch        _          _          [BRANCH | SWITCH | TERMINAL];
    0x74 Itableswitch    "itableswitch"    TableSwitchInt    2               0           Switch        _          _          [BRANCH | SWITCH | TERMINAL | INT];
    0x75 Slookupswitch   "slookupswitch"   LookupSwitchShort 1               0           Switch        _          _          [BRANCH | SWITCH | TERMINAL];
    0x76 Ilookupswitch   "ilookupswitch"   LookupSwitchInt   2               0           Switch        _          _          [BRANCH | SWITCH | TERMINAL | INT];
    0x77 Areturn         "areturn"         None              1               FrameEnd    Return        _          _          [RETURN | TERMINAL];
    0x78 Sreturn         "sreturn"         None              1               FrameEnd    Return        _          _          [RETURN | TERMINAL];
    0x79 Ireturn         "ireturn"         None              2               FrameEnd    Return        _          _          [RETURN | TERMINAL | INT];
    0x7A Return          "return"          None              0               FrameEnd    Return        _          _          [RETURN | TERMINAL];
    0x7B GetstaticA      "getstatic_a"     CpIndex2          0               1           StaticField   _          _          [CP_REF | FIELD | STATIC];
    0x7C GetstaticB      "getstatic_b"     CpIndex2          0               1           StaticField   _          _          [CP_REF | FIELD | STATIC];
    0x7D GetstaticS      "getstatic_s"     CpIndex2          0               1           StaticField   _          _          [CP_REF | FIELD | STATIC];
    0x7E GetstaticI      "getstatic_i"     CpIndex2          0               2           StaticField   _          _          [CP_REF | FIELD | STATIC | INT];
    0x7F PutstaticA      "putstatic_a"     CpIndex2          1               0           StaticField   _          _          [CP_REF | FIELD | STATIC | WRITES_HEAP | MAY_THROW | STORES_REF];
    0x80 PutstaticB      "putstatic_b"     CpIndex2          1               0           StaticField   _          _          [CP_REF | FIELD | STATIC | WRITES_HEAP];
    0x81 PutstaticS      "putstatic_s"     CpIndex2          1               0           StaticField   _          _          [CP_REF | FIELD | STATIC | WRITES_HEAP];
    0x82 PutstaticI      "putstatic_i"     CpIndex2          2               0           StaticField   _          _          [CP_REF | FIELD | STATIC | WRITES_HEAP | INT];
    0x83 GetfieldA       "getfield_a"      CpIndex1          1               1           InstanceField _          GetfieldAW [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT];
    0x84 GetfieldB       "getfield_b"      CpIndex1          1               1           InstanceField _          GetfieldBW [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT];
    0x85 GetfieldS       "getfield_s"      CpIndex1          1               1           InstanceField _          GetfieldSW [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT];
    0x86 GetfieldI       "getfield_i"      CpIndex1          1               2           InstanceField _          GetfieldIW [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT | INT];
    0x87 PutfieldA       "putfield_a"      CpIndex1          2               0           InstanceField _          PutfieldAW [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT | STORES_REF];
    0x88 PutfieldB       "putfield_b"      CpIndex1          2               0           InstanceField _          PutfieldBW [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT];
    0x89 PutfieldS       "putfield_s"      CpIndex1          2               0           InstanceField _          PutfieldSW [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT];
    0x8A PutfieldI       "putfield_i"      CpIndex1          3               0           InstanceField _          PutfieldIW [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT | INT];
    0x8B Invokevirtual   "invokevirtual"   CpIndex2          ReceiverAndArgs ReturnValue Invoke        _          _          [INVOKE | CP_REF | MAY_THROW | TOUCHES_OBJECT];
    0x8C Invokespecial   "invokespecial"   CpIndex2          ReceiverAndArgs ReturnValue Invoke        _          _          [INVOKE | CP_REF | MAY_THROW];
    0x8D Invokestatic    "invokestatic"    CpIndex2          Args            ReturnValue Invoke        _          _          [INVOKE | CP_REF | STATIC | MAY_THROW];
    0x8E Invokeinterface "invokeinterface" Interface         InterfaceNargs  ReturnValue Invoke        _          _          [INVOKE | CP_REF | MAY_THROW | TOUCHES_OBJECT];
    0x8F New             "new"             CpIndex2          0               1           Allocate      _          _          [CP_REF | ALLOCATES | MAY_THROW];
    0x90 Newarray        "newarray"        ArrayType         1               1           Allocate      _          _          [ALLOCATES | MAY_THROW];
    0x91 Anewarray       "anewarray"       CpIndex2          1               1           Allocate      _          _          [CP_REF | ALLOCATES | MAY_THROW];
    0x92 Arraylength     "arraylength"     None              1               1           ArrayLength   _          _          [MAY_THROW | TOUCHES_OBJECT];
    0x93 Athrow          "athrow"          None              1               1           Throw         _          _          [THROW | TERMINAL | MAY_THROW | TOUCHES_OBJECT];
    0x94 Checkcast       "checkcast"       TypeCheck         1               1           TypeCheck     _          _          [CP_REF | MAY_THROW | TOUCHES_OBJECT];
    0x95 Instanceof      "instanceof"      TypeCheck         1               1           TypeCheck     _          _          [CP_REF | MAY_THROW | TOUCHES_OBJECT];
    0x96 SincW           "sinc_w"          Increment2        0               0           Increment     _          _          [READS_LOCAL | WRITES_LOCAL];
    0x97 IincW           "iinc_w"          Increment2        0               0           Increment     _          _          [READS_LOCAL | WRITES_LOCAL | INT];
    0x98 IfeqW           "ifeq_w"          Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0x99 IfneW           "ifne_w"          Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0x9A IfltW           "iflt_w"          Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0x9B IfgeW           "ifge_w"          Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0x9C IfgtW           "ifgt_w"          Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0x9D IfleW           "ifle_w"          Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0x9E IfnullW         "ifnull_w"        Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0x9F IfnonnullW      "ifnonnull_w"     Branch2           1               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA0 IfAcmpeqW       "if_acmpeq_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA1 IfAcmpneW       "if_acmpne_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA2 IfScmpeqW       "if_scmpeq_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA3 IfScmpneW       "if_scmpne_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA4 IfScmpltW       "if_scmplt_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA5 IfScmpgeW       "if_scmpge_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA6 IfScmpgtW       "if_scmpgt_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA7 IfScmpleW       "if_scmple_w"     Branch2           2               0           Branch        _          _          [BRANCH | CONDITIONAL];
    0xA8 GotoW           "goto_w"          Branch2           0               0           Branch        _          _          [BRANCH | TERMINAL];
    0xA9 GetfieldAW      "getfield_a_w"    CpIndex2          1               1           InstanceField _          _          [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT];
    0xAA GetfieldBW      "getfield_b_w"    CpIndex2          1               1           InstanceField _          _          [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT];
    0xAB GetfieldSW      "getfield_s_w"    CpIndex2          1               1           InstanceField _          _          [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT];
    0xAC GetfieldIW      "getfield_i_w"    CpIndex2          1               2           InstanceField _          _          [CP_REF | FIELD | MAY_THROW | TOUCHES_OBJECT | INT];
    0xAD GetfieldAThis   "getfield_a_this" CpIndex1          0               1           InstanceField (local 0)  _          [CP_REF | FIELD | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT];
    0xAE GetfieldBThis   "getfield_b_this" CpIndex1          0               1           InstanceField (local 0)  _          [CP_REF | FIELD | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT];
    0xAF GetfieldSThis   "getfield_s_this" CpIndex1          0               1           InstanceField (local 0)  _          [CP_REF | FIELD | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT];
    0xB0 GetfieldIThis   "getfield_i_this" CpIndex1          0               2           InstanceField (local 0)  _          [CP_REF | FIELD | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT | INT];
    0xB1 PutfieldAW      "putfield_a_w"    CpIndex2          2               0           InstanceField _          _          [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT | STORES_REF];
    0xB2 PutfieldBW      "putfield_b_w"    CpIndex2          2               0           InstanceField _          _          [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT];
    0xB3 PutfieldSW      "putfield_s_w"    CpIndex2          2               0           InstanceField _          _          [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT];
    0xB4 PutfieldIW      "putfield_i_w"    CpIndex2          3               0           InstanceField _          _          [CP_REF | FIELD | WRITES_HEAP | MAY_THROW | TOUCHES_OBJECT | INT];
    0xB5 PutfieldAThis   "putfield_a_this" CpIndex1          1               0           InstanceField (local 0)  _          [CP_REF | FIELD | WRITES_HEAP | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT | STORES_REF];
    0xB6 PutfieldBThis   "putfield_b_this" CpIndex1          1               0           InstanceField (local 0)  _          [CP_REF | FIELD | WRITES_HEAP | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT];
    0xB7 PutfieldSThis   "putfield_s_this" CpIndex1          1               0           InstanceField (local 0)  _          [CP_REF | FIELD | WRITES_HEAP | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT];
    0xB8 PutfieldIThis   "putfield_i_this" CpIndex1          2               0           InstanceField (local 0)  _          [CP_REF | FIELD | WRITES_HEAP | READS_LOCAL | MAY_THROW | TOUCHES_OBJECT | INT];
    0xFE Impdep1         "impdep1"         None              Unspecified     Unspecified Reserved      _          _          [RESERVED];
    0xFF Impdep2         "impdep2"         None              Unspecified     Unspecified Reserved      _          _          [RESERVED];
}
