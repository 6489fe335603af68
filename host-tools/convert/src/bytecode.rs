//! JVM bytecode (JVMS §6): one opcode table and a decoder from a `Code` attribute's bytes
//! into [`JvmInstruction`]s with typed operands.
//!
//! Every fact about a JVM opcode (byte value, mnemonic, operand layout, kind, value type)
//! lives in one row of the table below; the decoder, the subset check and the translator
//! read those facts instead of repeating them.

use std::collections::BTreeSet;
use std::fmt;

use nom::number::complete::{be_i16, be_i32, be_i8, be_u16, be_u8};
use nom::IResult;

/// How the operand bytes that follow an opcode are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandFormat {
    /// No operand bytes.
    None,
    /// One signed byte (`bipush`).
    Byte,
    /// One signed 16-bit value (`sipush`).
    Short,
    /// A one-byte constant-pool index (`ldc`).
    ConstantPool1,
    /// A two-byte constant-pool index.
    ConstantPool2,
    /// A one-byte local-variable index (two bytes after `wide`).
    Local,
    /// A local index and a signed increment (`iinc`; widened by `wide`).
    Iinc,
    /// A signed 16-bit branch offset.
    Branch2,
    /// A signed 32-bit branch offset.
    Branch4,
    /// `newarray`: one primitive array-type byte.
    NewArray,
    /// `invokeinterface`: index, count, a zero byte.
    InvokeInterface,
    /// `invokedynamic`: index, two zero bytes.
    InvokeDynamic,
    /// `multianewarray`: index, dimensions.
    MultiANewArray,
    /// `tableswitch` with 0–3 padding bytes.
    TableSwitch,
    /// `lookupswitch` with 0–3 padding bytes.
    LookupSwitch,
    /// The `wide` prefix.
    Wide,
}

/// What an instruction does, in broad strokes (used for diagnostics and translation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `nop`.
    Nop,
    /// Pushes a constant.
    Constant,
    /// Loads a local variable.
    Load,
    /// Stores a local variable.
    Store,
    /// Loads an array element.
    ArrayLoad,
    /// Stores an array element.
    ArrayStore,
    /// Untyped stack manipulation (pop, dup, swap).
    Stack,
    /// Add, subtract, multiply, divide, remainder, negate, increment.
    Arithmetic,
    /// Shifts and bitwise logic.
    Bitwise,
    /// Primitive conversions.
    Conversion,
    /// `lcmp`, `fcmp*`, `dcmp*`.
    Comparison,
    /// Conditional and unconditional branches.
    Branch,
    /// `jsr`, `jsr_w`, `ret`.
    Subroutine,
    /// `tableswitch`, `lookupswitch`.
    Switch,
    /// Method return.
    Return,
    /// Field access.
    Field,
    /// Method invocation.
    Invoke,
    /// Object creation, type checks and `athrow`.
    Object,
    /// Array creation and length.
    Array,
    /// `monitorenter`, `monitorexit`.
    Monitor,
    /// The `wide` prefix.
    Wide,
}

/// The primitive or reference type an opcode works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// 32-bit int (also used by javac for byte, short, char and boolean values).
    Int,
    /// 64-bit long.
    Long,
    /// 32-bit float.
    Float,
    /// 64-bit double.
    Double,
    /// Object or array reference.
    Reference,
    /// Byte (or boolean) array elements; result of `i2b`.
    Byte,
    /// Char array elements; result of `i2c`.
    Char,
    /// Short array elements; result of `i2s`.
    Short,
}

macro_rules! value_type {
    (X) => {
        None
    };
    (I) => {
        Some(ValueType::Int)
    };
    (J) => {
        Some(ValueType::Long)
    };
    (F) => {
        Some(ValueType::Float)
    };
    (D) => {
        Some(ValueType::Double)
    };
    (A) => {
        Some(ValueType::Reference)
    };
    (B) => {
        Some(ValueType::Byte)
    };
    (C) => {
        Some(ValueType::Char)
    };
    (S) => {
        Some(ValueType::Short)
    };
}

macro_rules! jvm_opcodes {
    ($($byte:literal $variant:ident $mnemonic:literal $format:ident $kind:ident $ty:ident;)*) => {
        /// A JVM opcode (JVMS §6.5). The discriminant is the byte value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[doc = concat!("`", $mnemonic, "`")]
                $variant = $byte,
            )*
        }

        impl Opcode {
            /// Every defined opcode, in byte order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant,)*];

            /// The opcode with this byte value, or `None` for reserved and undefined bytes.
            pub fn from_byte(byte: u8) -> Option<Opcode> {
                match byte {
                    $($byte => Some(Opcode::$variant),)*
                    _ => None,
                }
            }

            /// The JVMS mnemonic, as `javap` prints it.
            pub fn mnemonic(self) -> &'static str {
                match self {
                    $(Opcode::$variant => $mnemonic,)*
                }
            }

            /// The layout of the operand bytes.
            pub fn operand_format(self) -> OperandFormat {
                match self {
                    $(Opcode::$variant => OperandFormat::$format,)*
                }
            }

            /// What the instruction does, broadly.
            pub fn kind(self) -> OpKind {
                match self {
                    $(Opcode::$variant => OpKind::$kind,)*
                }
            }

            /// The type the instruction works on: for typed loads, stores, array accesses,
            /// arithmetic, comparisons and returns, that type; for conversions, the type other
            /// than int (the source of `f2d`, `l2f`, …, `d2l`); `None` for untyped instructions.
            pub fn value_type(self) -> Option<ValueType> {
                match self {
                    $(Opcode::$variant => value_type!($ty),)*
                }
            }
        }
    };
}

jvm_opcodes! {
    0x00 Nop "nop" None Nop X;
    0x01 AconstNull "aconst_null" None Constant A;
    0x02 IconstM1 "iconst_m1" None Constant I;
    0x03 Iconst0 "iconst_0" None Constant I;
    0x04 Iconst1 "iconst_1" None Constant I;
    0x05 Iconst2 "iconst_2" None Constant I;
    0x06 Iconst3 "iconst_3" None Constant I;
    0x07 Iconst4 "iconst_4" None Constant I;
    0x08 Iconst5 "iconst_5" None Constant I;
    0x09 Lconst0 "lconst_0" None Constant J;
    0x0A Lconst1 "lconst_1" None Constant J;
    0x0B Fconst0 "fconst_0" None Constant F;
    0x0C Fconst1 "fconst_1" None Constant F;
    0x0D Fconst2 "fconst_2" None Constant F;
    0x0E Dconst0 "dconst_0" None Constant D;
    0x0F Dconst1 "dconst_1" None Constant D;
    0x10 Bipush "bipush" Byte Constant I;
    0x11 Sipush "sipush" Short Constant I;
    0x12 Ldc "ldc" ConstantPool1 Constant X;
    0x13 LdcW "ldc_w" ConstantPool2 Constant X;
    0x14 Ldc2W "ldc2_w" ConstantPool2 Constant X;
    0x15 Iload "iload" Local Load I;
    0x16 Lload "lload" Local Load J;
    0x17 Fload "fload" Local Load F;
    0x18 Dload "dload" Local Load D;
    0x19 Aload "aload" Local Load A;
    0x1A Iload0 "iload_0" None Load I;
    0x1B Iload1 "iload_1" None Load I;
    0x1C Iload2 "iload_2" None Load I;
    0x1D Iload3 "iload_3" None Load I;
    0x1E Lload0 "lload_0" None Load J;
    0x1F Lload1 "lload_1" None Load J;
    0x20 Lload2 "lload_2" None Load J;
    0x21 Lload3 "lload_3" None Load J;
    0x22 Fload0 "fload_0" None Load F;
    0x23 Fload1 "fload_1" None Load F;
    0x24 Fload2 "fload_2" None Load F;
    0x25 Fload3 "fload_3" None Load F;
    0x26 Dload0 "dload_0" None Load D;
    0x27 Dload1 "dload_1" None Load D;
    0x28 Dload2 "dload_2" None Load D;
    0x29 Dload3 "dload_3" None Load D;
    0x2A Aload0 "aload_0" None Load A;
    0x2B Aload1 "aload_1" None Load A;
    0x2C Aload2 "aload_2" None Load A;
    0x2D Aload3 "aload_3" None Load A;
    0x2E Iaload "iaload" None ArrayLoad I;
    0x2F Laload "laload" None ArrayLoad J;
    0x30 Faload "faload" None ArrayLoad F;
    0x31 Daload "daload" None ArrayLoad D;
    0x32 Aaload "aaload" None ArrayLoad A;
    0x33 Baload "baload" None ArrayLoad B;
    0x34 Caload "caload" None ArrayLoad C;
    0x35 Saload "saload" None ArrayLoad S;
    0x36 Istore "istore" Local Store I;
    0x37 Lstore "lstore" Local Store J;
    0x38 Fstore "fstore" Local Store F;
    0x39 Dstore "dstore" Local Store D;
    0x3A Astore "astore" Local Store A;
    0x3B Istore0 "istore_0" None Store I;
    0x3C Istore1 "istore_1" None Store I;
    0x3D Istore2 "istore_2" None Store I;
    0x3E Istore3 "istore_3" None Store I;
    0x3F Lstore0 "lstore_0" None Store J;
    0x40 Lstore1 "lstore_1" None Store J;
    0x41 Lstore2 "lstore_2" None Store J;
    0x42 Lstore3 "lstore_3" None Store J;
    0x43 Fstore0 "fstore_0" None Store F;
    0x44 Fstore1 "fstore_1" None Store F;
    0x45 Fstore2 "fstore_2" None Store F;
    0x46 Fstore3 "fstore_3" None Store F;
    0x47 Dstore0 "dstore_0" None Store D;
    0x48 Dstore1 "dstore_1" None Store D;
    0x49 Dstore2 "dstore_2" None Store D;
    0x4A Dstore3 "dstore_3" None Store D;
    0x4B Astore0 "astore_0" None Store A;
    0x4C Astore1 "astore_1" None Store A;
    0x4D Astore2 "astore_2" None Store A;
    0x4E Astore3 "astore_3" None Store A;
    0x4F Iastore "iastore" None ArrayStore I;
    0x50 Lastore "lastore" None ArrayStore J;
    0x51 Fastore "fastore" None ArrayStore F;
    0x52 Dastore "dastore" None ArrayStore D;
    0x53 Aastore "aastore" None ArrayStore A;
    0x54 Bastore "bastore" None ArrayStore B;
    0x55 Castore "castore" None ArrayStore C;
    0x56 Sastore "sastore" None ArrayStore S;
    0x57 Pop "pop" None Stack X;
    0x58 Pop2 "pop2" None Stack X;
    0x59 Dup "dup" None Stack X;
    0x5A DupX1 "dup_x1" None Stack X;
    0x5B DupX2 "dup_x2" None Stack X;
    0x5C Dup2 "dup2" None Stack X;
    0x5D Dup2X1 "dup2_x1" None Stack X;
    0x5E Dup2X2 "dup2_x2" None Stack X;
    0x5F Swap "swap" None Stack X;
    0x60 Iadd "iadd" None Arithmetic I;
    0x61 Ladd "ladd" None Arithmetic J;
    0x62 Fadd "fadd" None Arithmetic F;
    0x63 Dadd "dadd" None Arithmetic D;
    0x64 Isub "isub" None Arithmetic I;
    0x65 Lsub "lsub" None Arithmetic J;
    0x66 Fsub "fsub" None Arithmetic F;
    0x67 Dsub "dsub" None Arithmetic D;
    0x68 Imul "imul" None Arithmetic I;
    0x69 Lmul "lmul" None Arithmetic J;
    0x6A Fmul "fmul" None Arithmetic F;
    0x6B Dmul "dmul" None Arithmetic D;
    0x6C Idiv "idiv" None Arithmetic I;
    0x6D Ldiv "ldiv" None Arithmetic J;
    0x6E Fdiv "fdiv" None Arithmetic F;
    0x6F Ddiv "ddiv" None Arithmetic D;
    0x70 Irem "irem" None Arithmetic I;
    0x71 Lrem "lrem" None Arithmetic J;
    0x72 Frem "frem" None Arithmetic F;
    0x73 Drem "drem" None Arithmetic D;
    0x74 Ineg "ineg" None Arithmetic I;
    0x75 Lneg "lneg" None Arithmetic J;
    0x76 Fneg "fneg" None Arithmetic F;
    0x77 Dneg "dneg" None Arithmetic D;
    0x78 Ishl "ishl" None Bitwise I;
    0x79 Lshl "lshl" None Bitwise J;
    0x7A Ishr "ishr" None Bitwise I;
    0x7B Lshr "lshr" None Bitwise J;
    0x7C Iushr "iushr" None Bitwise I;
    0x7D Lushr "lushr" None Bitwise J;
    0x7E Iand "iand" None Bitwise I;
    0x7F Land "land" None Bitwise J;
    0x80 Ior "ior" None Bitwise I;
    0x81 Lor "lor" None Bitwise J;
    0x82 Ixor "ixor" None Bitwise I;
    0x83 Lxor "lxor" None Bitwise J;
    0x84 Iinc "iinc" Iinc Arithmetic I;
    0x85 I2l "i2l" None Conversion J;
    0x86 I2f "i2f" None Conversion F;
    0x87 I2d "i2d" None Conversion D;
    0x88 L2i "l2i" None Conversion J;
    0x89 L2f "l2f" None Conversion J;
    0x8A L2d "l2d" None Conversion J;
    0x8B F2i "f2i" None Conversion F;
    0x8C F2l "f2l" None Conversion F;
    0x8D F2d "f2d" None Conversion F;
    0x8E D2i "d2i" None Conversion D;
    0x8F D2l "d2l" None Conversion D;
    0x90 D2f "d2f" None Conversion D;
    0x91 I2b "i2b" None Conversion B;
    0x92 I2c "i2c" None Conversion C;
    0x93 I2s "i2s" None Conversion S;
    0x94 Lcmp "lcmp" None Comparison J;
    0x95 Fcmpl "fcmpl" None Comparison F;
    0x96 Fcmpg "fcmpg" None Comparison F;
    0x97 Dcmpl "dcmpl" None Comparison D;
    0x98 Dcmpg "dcmpg" None Comparison D;
    0x99 Ifeq "ifeq" Branch2 Branch I;
    0x9A Ifne "ifne" Branch2 Branch I;
    0x9B Iflt "iflt" Branch2 Branch I;
    0x9C Ifge "ifge" Branch2 Branch I;
    0x9D Ifgt "ifgt" Branch2 Branch I;
    0x9E Ifle "ifle" Branch2 Branch I;
    0x9F IfIcmpeq "if_icmpeq" Branch2 Branch I;
    0xA0 IfIcmpne "if_icmpne" Branch2 Branch I;
    0xA1 IfIcmplt "if_icmplt" Branch2 Branch I;
    0xA2 IfIcmpge "if_icmpge" Branch2 Branch I;
    0xA3 IfIcmpgt "if_icmpgt" Branch2 Branch I;
    0xA4 IfIcmple "if_icmple" Branch2 Branch I;
    0xA5 IfAcmpeq "if_acmpeq" Branch2 Branch A;
    0xA6 IfAcmpne "if_acmpne" Branch2 Branch A;
    0xA7 Goto "goto" Branch2 Branch X;
    0xA8 Jsr "jsr" Branch2 Subroutine X;
    0xA9 Ret "ret" Local Subroutine X;
    0xAA Tableswitch "tableswitch" TableSwitch Switch I;
    0xAB Lookupswitch "lookupswitch" LookupSwitch Switch I;
    0xAC Ireturn "ireturn" None Return I;
    0xAD Lreturn "lreturn" None Return J;
    0xAE Freturn "freturn" None Return F;
    0xAF Dreturn "dreturn" None Return D;
    0xB0 Areturn "areturn" None Return A;
    0xB1 Return "return" None Return X;
    0xB2 Getstatic "getstatic" ConstantPool2 Field X;
    0xB3 Putstatic "putstatic" ConstantPool2 Field X;
    0xB4 Getfield "getfield" ConstantPool2 Field X;
    0xB5 Putfield "putfield" ConstantPool2 Field X;
    0xB6 Invokevirtual "invokevirtual" ConstantPool2 Invoke X;
    0xB7 Invokespecial "invokespecial" ConstantPool2 Invoke X;
    0xB8 Invokestatic "invokestatic" ConstantPool2 Invoke X;
    0xB9 Invokeinterface "invokeinterface" InvokeInterface Invoke X;
    0xBA Invokedynamic "invokedynamic" InvokeDynamic Invoke X;
    0xBB New "new" ConstantPool2 Object A;
    0xBC Newarray "newarray" NewArray Array X;
    0xBD Anewarray "anewarray" ConstantPool2 Array A;
    0xBE Arraylength "arraylength" None Array X;
    0xBF Athrow "athrow" None Object A;
    0xC0 Checkcast "checkcast" ConstantPool2 Object A;
    0xC1 Instanceof "instanceof" ConstantPool2 Object A;
    0xC2 Monitorenter "monitorenter" None Monitor A;
    0xC3 Monitorexit "monitorexit" None Monitor A;
    0xC4 Wide "wide" Wide Wide X;
    0xC5 Multianewarray "multianewarray" MultiANewArray Array A;
    0xC6 Ifnull "ifnull" Branch2 Branch A;
    0xC7 Ifnonnull "ifnonnull" Branch2 Branch A;
    0xC8 GotoW "goto_w" Branch4 Branch X;
    0xC9 JsrW "jsr_w" Branch4 Subroutine X;
}

impl Opcode {
    /// The local-variable index implied by the `_0`…`_3` forms (`iload_2` → 2).
    pub fn implicit_local(self) -> Option<u16> {
        let byte = self as u8;
        let first = match self.kind() {
            OpKind::Load if (0x1A..=0x2D).contains(&byte) => 0x1A,
            OpKind::Store if (0x3B..=0x4E).contains(&byte) => 0x3B,
            _ => return None,
        };
        Some(u16::from((byte - first) % 4))
    }

    /// The constant pushed by `iconst_<n>` (−1…5).
    pub fn int_constant(self) -> Option<i32> {
        let byte = self as u8;
        (0x02..=0x08).contains(&byte).then(|| i32::from(byte) - 3)
    }

    /// For conversions, the source and result types (`i2f` → (Int, Float)).
    pub fn conversion_types(self) -> Option<(ValueType, ValueType)> {
        use ValueType::*;
        Some(match self {
            Opcode::I2l => (Int, Long),
            Opcode::I2f => (Int, Float),
            Opcode::I2d => (Int, Double),
            Opcode::L2i => (Long, Int),
            Opcode::L2f => (Long, Float),
            Opcode::L2d => (Long, Double),
            Opcode::F2i => (Float, Int),
            Opcode::F2l => (Float, Long),
            Opcode::F2d => (Float, Double),
            Opcode::D2i => (Double, Int),
            Opcode::D2l => (Double, Long),
            Opcode::D2f => (Double, Float),
            Opcode::I2b => (Int, Byte),
            Opcode::I2c => (Int, Char),
            Opcode::I2s => (Int, Short),
            _ => return None,
        })
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

/// The element type operand of `newarray` (JVMS §6.5.newarray, Table 6.5.newarray-A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArrayType {
    /// `T_BOOLEAN` (4)
    Boolean = 4,
    /// `T_CHAR` (5)
    Char = 5,
    /// `T_FLOAT` (6)
    Float = 6,
    /// `T_DOUBLE` (7)
    Double = 7,
    /// `T_BYTE` (8)
    Byte = 8,
    /// `T_SHORT` (9)
    Short = 9,
    /// `T_INT` (10)
    Int = 10,
    /// `T_LONG` (11)
    Long = 11,
}

impl ArrayType {
    /// The array type with this `atype` code.
    pub fn from_code(code: u8) -> Option<ArrayType> {
        Some(match code {
            4 => ArrayType::Boolean,
            5 => ArrayType::Char,
            6 => ArrayType::Float,
            7 => ArrayType::Double,
            8 => ArrayType::Byte,
            9 => ArrayType::Short,
            10 => ArrayType::Int,
            11 => ArrayType::Long,
            _ => return None,
        })
    }

    /// The Java keyword of the element type (`int`).
    pub fn java_name(self) -> &'static str {
        match self {
            ArrayType::Boolean => "boolean",
            ArrayType::Char => "char",
            ArrayType::Float => "float",
            ArrayType::Double => "double",
            ArrayType::Byte => "byte",
            ArrayType::Short => "short",
            ArrayType::Int => "int",
            ArrayType::Long => "long",
        }
    }
}

/// Decoded operands. Branch targets are absolute code offsets, already checked to be the
/// start of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operands {
    /// No operands (including the `_<n>` forms; see [`Opcode::implicit_local`]).
    None,
    /// The value pushed by `bipush` or `sipush`.
    Immediate(i16),
    /// A local-variable index (`iload`, `astore`, `ret`, …).
    Local(u16),
    /// A constant-pool index (`ldc`, field and method instructions, `new`, …).
    ConstantPool(u16),
    /// An absolute branch target.
    Branch(u32),
    /// `iinc local, delta`.
    Iinc {
        /// The local-variable index.
        local: u16,
        /// The signed increment.
        delta: i16,
    },
    /// `newarray` element type.
    NewArray(ArrayType),
    /// `invokeinterface index, count`.
    InvokeInterface {
        /// The `InterfaceMethodref` index.
        index: u16,
        /// The argument word count byte.
        count: u8,
    },
    /// `invokedynamic index` (an `InvokeDynamic` constant).
    InvokeDynamic(u16),
    /// `multianewarray index, dimensions`.
    MultiANewArray {
        /// The array class index.
        index: u16,
        /// Number of dimensions to create.
        dimensions: u8,
    },
    /// `tableswitch`.
    TableSwitch {
        /// Absolute default target.
        default: u32,
        /// The key of `targets[0]`.
        low: i32,
        /// Absolute targets for keys `low..=low + targets.len() - 1`.
        targets: Vec<u32>,
    },
    /// `lookupswitch`.
    LookupSwitch {
        /// Absolute default target.
        default: u32,
        /// (key, absolute target) pairs in increasing key order.
        pairs: Vec<(i32, u32)>,
    },
}

/// One decoded JVM instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JvmInstruction {
    /// Offset of the opcode byte (or of the `wide` prefix) in the method's code.
    pub offset: u32,
    /// The opcode (for a `wide` instruction, the widened opcode).
    pub opcode: Opcode,
    /// True when the instruction had the `wide` prefix.
    pub wide: bool,
    /// Total length in bytes, including prefix, padding and operands.
    pub length: u32,
    /// The decoded operands.
    pub operands: Operands,
}

impl JvmInstruction {
    /// The local variable used by a load, store, `iinc` or `ret`, including the implicit
    /// index of the `_<n>` forms.
    pub fn local_index(&self) -> Option<u16> {
        match self.operands {
            Operands::Local(index) | Operands::Iinc { local: index, .. } => Some(index),
            _ => self.opcode.implicit_local(),
        }
    }

    /// The constant-pool index operand, if the instruction has one.
    pub fn constant_pool_index(&self) -> Option<u16> {
        match self.operands {
            Operands::ConstantPool(index)
            | Operands::InvokeDynamic(index)
            | Operands::InvokeInterface { index, .. }
            | Operands::MultiANewArray { index, .. } => Some(index),
            _ => None,
        }
    }

    /// Every branch target of the instruction (switch defaults first).
    pub fn branch_targets(&self) -> Vec<u32> {
        match &self.operands {
            Operands::Branch(target) => vec![*target],
            Operands::TableSwitch {
                default, targets, ..
            } => std::iter::once(*default)
                .chain(targets.iter().copied())
                .collect(),
            Operands::LookupSwitch { default, pairs } => std::iter::once(*default)
                .chain(pairs.iter().map(|&(_, target)| target))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Malformed bytecode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset in the code of the instruction that could not be decoded.
    pub offset: u32,
    /// What was expected there.
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytecode offset {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for DecodeError {}

type Decoded<'a, T> = IResult<&'a [u8], T, ()>;

/// Decodes a whole method body. The instructions must cover `code` exactly, and every branch
/// target must be the start of an instruction. Never panics.
pub fn decode(code: &[u8]) -> Result<Vec<JvmInstruction>, DecodeError> {
    if code.len() > usize::from(u16::MAX) {
        return Err(DecodeError {
            offset: 0,
            message: format!("code length {} exceeds 65535 bytes", code.len()),
        });
    }
    let mut instructions = Vec::new();
    let mut offset = 0usize;
    while let Some(rest) = code.get(offset..).filter(|rest| !rest.is_empty()) {
        let instruction = decode_one(rest, offset)?;
        offset += instruction.length as usize;
        instructions.push(instruction);
    }
    let starts: BTreeSet<u32> = instructions.iter().map(|i| i.offset).collect();
    for instruction in &instructions {
        for target in instruction.branch_targets() {
            if !starts.contains(&target) {
                return Err(DecodeError {
                    offset: instruction.offset,
                    message: format!(
                        "{} branches to offset {target}, which is not the start of an instruction",
                        instruction.opcode
                    ),
                });
            }
        }
    }
    Ok(instructions)
}

/// Decodes the instruction at the start of `input`, which is at `offset` in the method.
fn decode_one(input: &[u8], offset: usize) -> Result<JvmInstruction, DecodeError> {
    let fail = |message: String| DecodeError {
        offset: offset as u32,
        message,
    };
    let truncated =
        |opcode: Opcode| fail(format!("{opcode}: operands run past the end of the code"));
    let Some((&byte, after_opcode)) = input.split_first() else {
        return Err(fail("expected an opcode".into()));
    };
    let opcode =
        Opcode::from_byte(byte).ok_or_else(|| fail(format!("undefined opcode 0x{byte:02X}")))?;
    let branch = |delta: i32| -> Result<u32, DecodeError> {
        i64::try_from(offset)
            .ok()
            .and_then(|base| base.checked_add(i64::from(delta)))
            .and_then(|target| u32::try_from(target).ok())
            .filter(|&target| (target as usize) < (offset + input.len()))
            .ok_or_else(|| fail(format!("{opcode}: branch offset {delta} leaves the code")))
    };
    let (rest, wide, opcode, operands) = match opcode.operand_format() {
        OperandFormat::None => (after_opcode, false, opcode, Operands::None),
        OperandFormat::Byte => {
            let (rest, v) = p(be_i8(after_opcode)).ok_or_else(|| truncated(opcode))?;
            (rest, false, opcode, Operands::Immediate(i16::from(v)))
        }
        OperandFormat::Short => {
            let (rest, v) = p(be_i16(after_opcode)).ok_or_else(|| truncated(opcode))?;
            (rest, false, opcode, Operands::Immediate(v))
        }
        OperandFormat::ConstantPool1 => {
            let (rest, v) = p(be_u8(after_opcode)).ok_or_else(|| truncated(opcode))?;
            (rest, false, opcode, Operands::ConstantPool(u16::from(v)))
        }
        OperandFormat::ConstantPool2 => {
            let (rest, v) = p(be_u16(after_opcode)).ok_or_else(|| truncated(opcode))?;
            (rest, false, opcode, Operands::ConstantPool(v))
        }
        OperandFormat::Local => {
            let (rest, v) = p(be_u8(after_opcode)).ok_or_else(|| truncated(opcode))?;
            (rest, false, opcode, Operands::Local(u16::from(v)))
        }
        OperandFormat::Iinc => {
            let (rest, (local, delta)) = p(nom::sequence::pair(be_u8, be_i8)(after_opcode))
                .ok_or_else(|| truncated(opcode))?;
            let operands = Operands::Iinc {
                local: u16::from(local),
                delta: i16::from(delta),
            };
            (rest, false, opcode, operands)
        }
        OperandFormat::Branch2 => {
            let (rest, delta) = p(be_i16(after_opcode)).ok_or_else(|| truncated(opcode))?;
            (
                rest,
                false,
                opcode,
                Operands::Branch(branch(i32::from(delta))?),
            )
        }
        OperandFormat::Branch4 => {
            let (rest, delta) = p(be_i32(after_opcode)).ok_or_else(|| truncated(opcode))?;
            (rest, false, opcode, Operands::Branch(branch(delta)?))
        }
        OperandFormat::NewArray => {
            let (rest, code) = p(be_u8(after_opcode)).ok_or_else(|| truncated(opcode))?;
            let ty = ArrayType::from_code(code)
                .ok_or_else(|| fail(format!("newarray: invalid array type {code}")))?;
            (rest, false, opcode, Operands::NewArray(ty))
        }
        OperandFormat::InvokeInterface => {
            let (rest, (index, count, zero)) =
                p(nom::sequence::tuple((be_u16, be_u8, be_u8))(after_opcode))
                    .ok_or_else(|| truncated(opcode))?;
            if count == 0 || zero != 0 {
                return Err(fail(format!(
                    "invokeinterface: expected a non-zero count and a zero byte, found {count} and {zero}"
                )));
            }
            (
                rest,
                false,
                opcode,
                Operands::InvokeInterface { index, count },
            )
        }
        OperandFormat::InvokeDynamic => {
            let (rest, (index, zero)) = p(nom::sequence::pair(be_u16, be_u16)(after_opcode))
                .ok_or_else(|| truncated(opcode))?;
            if zero != 0 {
                return Err(fail(format!(
                    "invokedynamic: expected two zero bytes after the index, found 0x{zero:04X}"
                )));
            }
            (rest, false, opcode, Operands::InvokeDynamic(index))
        }
        OperandFormat::MultiANewArray => {
            let (rest, (index, dimensions)) = p(nom::sequence::pair(be_u16, be_u8)(after_opcode))
                .ok_or_else(|| truncated(opcode))?;
            if dimensions == 0 {
                return Err(fail("multianewarray: dimensions must be at least 1".into()));
            }
            (
                rest,
                false,
                opcode,
                Operands::MultiANewArray { index, dimensions },
            )
        }
        OperandFormat::TableSwitch | OperandFormat::LookupSwitch => {
            let padding = (4 - (offset + 1) % 4) % 4;
            let aligned = after_opcode
                .get(padding..)
                .ok_or_else(|| truncated(opcode))?;
            let (rest, operands) = decode_switch(opcode, aligned, &branch, &fail)?;
            (rest, false, opcode, operands)
        }
        OperandFormat::Wide => {
            let (rest, inner_byte) = p(be_u8(after_opcode)).ok_or_else(|| truncated(opcode))?;
            let inner = Opcode::from_byte(inner_byte)
                .filter(|op| {
                    matches!(
                        op.operand_format(),
                        OperandFormat::Local | OperandFormat::Iinc
                    )
                })
                .ok_or_else(|| {
                    fail(format!("wide: opcode 0x{inner_byte:02X} cannot be widened"))
                })?;
            if inner.operand_format() == OperandFormat::Iinc {
                let (rest, (local, delta)) =
                    p(nom::sequence::pair(be_u16, be_i16)(rest)).ok_or_else(|| truncated(inner))?;
                (rest, true, inner, Operands::Iinc { local, delta })
            } else {
                let (rest, local) = p(be_u16(rest)).ok_or_else(|| truncated(inner))?;
                (rest, true, inner, Operands::Local(local))
            }
        }
    };
    let length = input.len() - rest.len();
    Ok(JvmInstruction {
        offset: offset as u32,
        opcode,
        wide,
        length: length as u32,
        operands,
    })
}

/// Decodes the aligned body of a `tableswitch` or `lookupswitch`.
fn decode_switch<'a>(
    opcode: Opcode,
    input: &'a [u8],
    branch: &dyn Fn(i32) -> Result<u32, DecodeError>,
    fail: &dyn Fn(String) -> DecodeError,
) -> Result<(&'a [u8], Operands), DecodeError> {
    let truncated = || fail(format!("{opcode}: operands run past the end of the code"));
    let (rest, default) = p(be_i32(input)).ok_or_else(truncated)?;
    let default = branch(default)?;
    if opcode == Opcode::Tableswitch {
        let (mut rest, (low, high)) =
            p(nom::sequence::pair(be_i32, be_i32)(rest)).ok_or_else(truncated)?;
        if low > high {
            return Err(fail(format!(
                "tableswitch: low {low} is greater than high {high}"
            )));
        }
        let count = (i64::from(high) - i64::from(low) + 1) as u64;
        if count.saturating_mul(4) > rest.len() as u64 {
            return Err(truncated());
        }
        let mut targets = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let (next, delta) = p(be_i32(rest)).ok_or_else(truncated)?;
            targets.push(branch(delta)?);
            rest = next;
        }
        Ok((
            rest,
            Operands::TableSwitch {
                default,
                low,
                targets,
            },
        ))
    } else {
        let (mut rest, npairs) = p(be_i32(rest)).ok_or_else(truncated)?;
        let count = u64::try_from(npairs)
            .map_err(|_| fail(format!("lookupswitch: negative pair count {npairs}")))?;
        if count.saturating_mul(8) > rest.len() as u64 {
            return Err(truncated());
        }
        let mut pairs: Vec<(i32, u32)> = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let (next, (key, delta)) =
                p(nom::sequence::pair(be_i32, be_i32)(rest)).ok_or_else(truncated)?;
            if pairs.last().is_some_and(|&(previous, _)| previous >= key) {
                return Err(fail(format!(
                    "lookupswitch: keys must increase, found {key} after a key >= it"
                )));
            }
            pairs.push((key, branch(delta)?));
            rest = next;
        }
        Ok((rest, Operands::LookupSwitch { default, pairs }))
    }
}

/// Turns a nom result into an option (the decoder's own errors carry the messages).
fn p<'a, T>(result: Decoded<'a, T>) -> Option<(&'a [u8], T)> {
    result.ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_consistent() {
        assert_eq!(Opcode::ALL.len(), 202);
        for byte in 0..=255u8 {
            match Opcode::from_byte(byte) {
                Some(op) => assert_eq!(op as u8, byte),
                None => assert!(byte > 0xC9, "0x{byte:02X} missing"),
            }
        }
        assert_eq!(Opcode::Iload2.implicit_local(), Some(2));
        assert_eq!(Opcode::Astore3.implicit_local(), Some(3));
        assert_eq!(Opcode::Iload.implicit_local(), None);
        assert_eq!(Opcode::IconstM1.int_constant(), Some(-1));
        assert_eq!(Opcode::Iconst5.int_constant(), Some(5));
    }

    #[test]
    fn decodes_switches_with_padding_and_wide() {
        // 0: iload_1; 1: tableswitch (2 pad bytes) default +29, low 0, high 1, +29, +29
        // 24: wide iinc 300 -2; 30: return  (branch offsets are relative to the switch at 1)
        let mut code = vec![0x1B, 0xAA, 0, 0];
        for v in [29i32, 0, 1, 29, 29] {
            code.extend_from_slice(&v.to_be_bytes());
        }
        code.extend_from_slice(&[0xC4, 0x84, 0x01, 0x2C, 0xFF, 0xFE, 0xB1]);
        let insns = decode(&code).unwrap();
        assert_eq!(insns.len(), 4);
        assert_eq!(
            insns[1].operands,
            Operands::TableSwitch {
                default: 30,
                low: 0,
                targets: vec![30, 30]
            }
        );
        assert_eq!(insns[2].offset, 24);
        assert_eq!(
            insns[2].operands,
            Operands::Iinc {
                local: 300,
                delta: -2
            }
        );
        assert!(insns[2].wide);
        assert_eq!(insns[3].offset, 30);
        // a default target inside the wide iinc is refused
        let mut bad = code.clone();
        bad[7] = 26;
        assert!(decode(&bad).is_err());
    }

    #[test]
    fn refuses_truncated_and_undefined() {
        assert!(decode(&[0x11, 0x00]).is_err());
        assert!(decode(&[0xCA]).is_err());
        assert!(decode(&[0xA7, 0x00, 0x05]).is_err());
        assert!(decode(&[0xC4, 0x60]).is_err());
        assert!(decode(&[]).unwrap().is_empty());
    }
}
