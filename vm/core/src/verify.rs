//! The load-time verifier: proves, per method, the facts that let the interpreter run the
//! method without per-instruction checks ("fast" mode, see [`crate::interp`]).
//!
//! A walk follows the control flow of one method from its entry (and into every exception
//! handler whose range covers a reached instruction) and proves, for every instruction it
//! reaches: the instruction lies inside the Method component; the operand stack depth before
//! it is the same on every path, never below what it pops, never above `max_stack`; every
//! local it names is below `nargs + max_locals`; every branch target is inside the component.
//! Invokes pop their argument words and push the return words of the method the constant
//! pool resolved to (the linker keeps them in the entry's tag byte, see
//! [`crate::layout::CP_RET_SHIFT`]); the interpreter checks on return that a callee chosen at
//! run time returned that many words.
//!
//! A method the walk cannot prove (jsr/ret, invokeinterface, reserved opcodes, inconsistent
//! depths, a method that runs off the component ...) is not refused: it keeps running in the
//! checked mode, where every operand, stack slot, local and target is checked at run time.
//! The proven methods are recorded in a bitmap after the Method component's guard (one bit
//! per method offset, see [`fast_map_addr`]).
//!
//! The walk keeps two bytes per code byte (state, depth) in free NVM above the allocated
//! image: the card has no RAM to spare for a method of several kilobytes. Only the bytes a
//! walk touched are cleared after it.
//!
//! After a method is proven, its hot short sequences become superinstructions (see
//! [`fused`]): only the first opcode byte of the sequence is replaced, by an internal opcode
//! the fast loop runs as the whole sequence in one dispatch. The other bytes stay, so a branch
//! into the middle of a sequence runs the original instructions, and every reader of code
//! (this walk included) sees the original opcode through [`original_opcode`]. None of the
//! fused instructions can throw, so an exception never starts inside a fused sequence.
//! The exceptions to "only the first byte": a `getfield_<t>_this`/`putfield_<t>_this` whose
//! constant-pool entry names a cell below 256 gets an internal opcode and the cell as its
//! operand (see [`fused::GETFIELD_A_THIS_CELL`]), and a `getstatic_<t>`/`putstatic_<t>` whose
//! field's address is below 64 KiB the address (see [`fused::GETSTATIC_A_AT`]), unless
//! another proof reads one of those bytes as an opcode. They run as the field instructions
//! they were, without the constant pool, and readers of code see their original opcodes (the
//! operands they do not read). The checked loop runs the field forms (its checks hold for any
//! cell) but takes the static forms as undefined: an unproven method may branch onto any
//! byte, and must not reach an NVM address of its choosing.
//! Four sequences go further: an `L; L; <t>aload`, `L; L; K; <b|s>astore`, `L; L; L;
//! <b|s>astore` or `L; L; K; <op>` that no proof enters after its first byte (the walks mark
//! each instruction they reach other than by falling through, see `Cover`) is decoded, its
//! locals and constant written in place of its other instructions (see
//! [`fused::LL_BALOAD_DECODED`], [`fused::LLK_XASTORE_DECODED`] and
//! [`fused::LLK_OP_DECODED`]); the walk reads it as one instruction, and an element
//! instruction's full path throws at that instruction's pc.
//! Fusing waits until every method of the package is proven, and leaves out a byte that some
//! proof read as an operand (overlapping methods, see `Cover`); code not proven before that
//! holds an internal opcode is not proven. The checked loop runs an internal opcode as the
//! local load it replaced (a build without the `proven-loop` feature never fuses and treats
//! it as undefined).

use crate::layout::{self, MethodRef, NATIVE_PACKAGE};
use crate::link::METHOD_GUARD;
use crate::Vm;
use heapless::Vec;
use oxicard_isa::{Flags, Group, Implied, Opcode, OperandLayout, Words};
use oxicard_store::Nvm;

/// Map state of a code byte: not reached.
const UNSEEN: u8 = 0;
/// Reached, waiting to be processed.
const PENDING: u8 = 1;
/// Processed.
const DONE: u8 = 2;

/// The internal opcodes of superinstructions (the fast loop only; opcodes no CAP file uses).
///
/// Each starts with a load of a short or reference local (`L`: `sload`/`aload` with an index
/// operand, or `sload_n`/`aload_n`) and comes in five forms that keep what the first
/// instruction was: the base value for the index form, `+ n` of a `_n` form at the base
/// value's block with bit 3 set (`KIND_A`) or `| 0x0C` (`KIND_B`). So for any local load,
/// original or internal: bit 3 clear is the index form, else the local is `byte & 3`, as for
/// `aload_n` (0x18..0x1B) and `sload_n` (0x1C..0x1F) themselves. `K` is `bspush c` or
/// `sconst_k`; the branches are the narrow forms.
#[cfg_attr(not(feature = "proven-loop"), allow(dead_code))]
pub(crate) mod fused {
    /// Declares the `_0` to `_3` forms of superinstruction `$kind`: its internal opcode
    /// with an `aload_n`/`sload_n` load first (`iload_n` for `IK_OP`), consecutive from `$n0`.
    macro_rules! n_forms {
        ($kind:ident: $n0:ident = $first:expr, $n1:ident, $n2:ident, $n3:ident) => {
            #[doc = concat!("`", stringify!($kind), "` with a `_0` load first.")]
            pub const $n0: u8 = $first;
            #[doc = concat!("`", stringify!($kind), "` with a `_1` load first.")]
            pub const $n1: u8 = $n0 + 1;
            #[doc = concat!("`", stringify!($kind), "` with a `_2` load first.")]
            pub const $n2: u8 = $n0 + 2;
            #[doc = concat!("`", stringify!($kind), "` with a `_3` load first.")]
            pub const $n3: u8 = $n0 + 3;
        };
    }
    /// `L; L`: pushes two locals.
    pub const LL: u8 = 0xC0;
    /// `L; L; if_scmp<cond>`: compares two locals and branches.
    pub const LL_IFCMP: u8 = 0xC1;
    /// `L; K; if_scmp<cond>`: compares a local with a constant and branches.
    pub const LK_IFCMP: u8 = 0xD0;
    /// `L; if<cond>`: compares a local with zero and branches.
    pub const L_IF: u8 = 0xD1;
    /// `L; if_scmp<cond>`: compares the stack top with a local and branches.
    pub const L_IFCMP: u8 = 0xE0;
    /// `L; K; <op>`, `<op>` one of `sadd ssub smul sand sor sxor sshl sshr sushr`: pushes
    /// a local combined with a constant.
    pub const LK_OP: u8 = 0xE1;
    /// `L; L; baload|saload|aaload`: pushes an element of an array in a local at an index in
    /// a local (when the element's fast path does not apply, the loads run and the element
    /// instruction runs on its own, so it throws at its own pc).
    pub const LL_XALOAD: u8 = 0xF0;
    n_forms!(LL: LL_N0 = encode(LL, 0x18), LL_N1, LL_N2, LL_N3);
    n_forms!(LL_IFCMP: LL_IFCMP_N0 = encode(LL_IFCMP, 0x18), LL_IFCMP_N1, LL_IFCMP_N2, LL_IFCMP_N3);
    n_forms!(LK_IFCMP: LK_IFCMP_N0 = encode(LK_IFCMP, 0x18), LK_IFCMP_N1, LK_IFCMP_N2, LK_IFCMP_N3);
    n_forms!(L_IF: L_IF_N0 = encode(L_IF, 0x18), L_IF_N1, L_IF_N2, L_IF_N3);
    n_forms!(L_IFCMP: L_IFCMP_N0 = encode(L_IFCMP, 0x18), L_IFCMP_N1, L_IFCMP_N2, L_IFCMP_N3);
    /// `L; L; <op>`, `<op>` as for [`LK_OP`]: pushes two locals combined. Its forms are
    /// consecutive values (`LL_OP`, then the `_0` to `_3` forms): no other superinstruction
    /// has it as its second load, so the bit-3 rule is not needed.
    pub const LL_OP: u8 = 0xF1;
    n_forms!(LL_OP: LL_OP_N0 = LL_OP + 1, LL_OP_N1, LL_OP_N2, LL_OP_N3);
    /// `IL; IK; <iop>`: an int local (`iload` or `iload_n`) combined with an int constant
    /// (`bipush`, `sipush`, `iconst_n`) by one of `iadd isub imul iand ior ixor ishl ishr
    /// iushr`. Its forms are consecutive values, its original an `iload` form.
    pub const IK_OP: u8 = 0xC2;
    n_forms!(IK_OP: IK_OP_N0 = IK_OP + 1, IK_OP_N1, IK_OP_N2, IK_OP_N3);
    n_forms!(LK_OP: LK_OP_N0 = encode(LK_OP, 0x18), LK_OP_N1, LK_OP_N2, LK_OP_N3);
    n_forms!(
        LL_XALOAD: LL_XALOAD_N0 = encode(LL_XALOAD, 0x18),
        LL_XALOAD_N1,
        LL_XALOAD_N2,
        LL_XALOAD_N3
    );
    /// Declares the internal opcodes of `$insn_a_this` to `$insn_i_this` with the field's
    /// cell in the operand byte instead of the constant-pool index that resolves to it (the
    /// linker resolved it, so the interpreter does not again): consecutive from `$a`.
    macro_rules! cell_forms {
        ($insn:literal: $a:ident = $first:expr, $b:ident, $s:ident, $i:ident) => {
            #[doc = concat!("`", $insn, "_a_this` with the field's cell as its operand.")]
            pub const $a: u8 = $first;
            #[doc = concat!("`", $insn, "_b_this` with the field's cell as its operand.")]
            pub const $b: u8 = $a + 1;
            #[doc = concat!("`", $insn, "_s_this` with the field's cell as its operand.")]
            pub const $s: u8 = $a + 2;
            #[doc = concat!("`", $insn, "_i_this` with the field's cell as its operand.")]
            pub const $i: u8 = $a + 3;
        };
    }
    cell_forms!("getfield": GETFIELD_A_THIS_CELL = 0xD4, GETFIELD_B_THIS_CELL, GETFIELD_S_THIS_CELL, GETFIELD_I_THIS_CELL);
    cell_forms!("putfield": PUTFIELD_A_THIS_CELL = 0xE4, PUTFIELD_B_THIS_CELL, PUTFIELD_S_THIS_CELL, PUTFIELD_I_THIS_CELL);
    /// `getstatic_a` with the static field's NVM address (below 64 KiB; linked packages
    /// never move) as its operand instead of the constant-pool index that resolves to it;
    /// `getstatic_b`, `_s`, `_i` follow. Proven methods only: the checked loop takes the
    /// static forms as undefined opcodes.
    pub const GETSTATIC_A_AT: u8 = 0xB9;
    /// `getstatic_b` with its field's address (see [`GETSTATIC_A_AT`]).
    pub const GETSTATIC_B_AT: u8 = GETSTATIC_A_AT + 1;
    /// `getstatic_s` with its field's address (see [`GETSTATIC_A_AT`]).
    pub const GETSTATIC_S_AT: u8 = GETSTATIC_A_AT + 2;
    /// `getstatic_i` with its field's address (see [`GETSTATIC_A_AT`]).
    pub const GETSTATIC_I_AT: u8 = GETSTATIC_A_AT + 3;
    /// `putstatic_b` with its field's address (see [`GETSTATIC_A_AT`]); `putstatic_s` and
    /// `_i` follow. (`putstatic_a` keeps its index: a stored reference takes the firewall's
    /// check, which costs more than the constant pool.)
    pub const PUTSTATIC_B_AT: u8 = 0xBD;
    /// `putstatic_s` with its field's address (see [`PUTSTATIC_B_AT`]).
    pub const PUTSTATIC_S_AT: u8 = PUTSTATIC_B_AT + 1;
    /// `putstatic_i` with its field's address (see [`PUTSTATIC_B_AT`]).
    pub const PUTSTATIC_I_AT: u8 = PUTSTATIC_B_AT + 2;
    /// `L; L; baload` with its operands decoded at link, `[op, a, b | (len - 3) << 6]`: `a`
    /// the array's local, `b` (below 64) the index's, `len` the sequence's length (3 to 5).
    /// Its other bytes are no instructions any more, so it is written only where no proof
    /// enters the sequence after its first byte (`COVER_TARGET`),
    /// and read as one instruction by the walk (see [`decoded_operands`]). Both loops run it.
    pub const LL_BALOAD_DECODED: u8 = 0xF6;
    /// `L; L; saload` or `L; L; aaload` decoded as [`LL_BALOAD_DECODED`].
    pub const LL_SALOAD_DECODED: u8 = 0xF7;
    /// `L; L; K; bastore` or `L; L; K; sastore` decoded as [`LL_BALOAD_DECODED`] is, into
    /// `[op, a, b | (len - 4) << 6, k]`: `k` the constant (`sconst_<k>` or `bspush k`) stored
    /// into element `b` of array `a`, as `bastore` and `sastore` store (the array's type
    /// decides the element's size).
    pub const LLK_XASTORE_DECODED: u8 = 0xC7;
    /// `L; L; L; bastore` or `L; L; L; sastore` decoded as [`LLK_XASTORE_DECODED`], with the
    /// value's local `c` in place of `k`.
    pub const LLL_XASTORE_DECODED: u8 = 0xD2;
    /// `L; L; K; <op>` (`<op>` as for [`LK_OP`], the sequence at least 5 bytes long) decoded
    /// into `[op, a, b | (len - 5) << 6, k]`, the operation's own byte left last: pushes local
    /// `a`, then local `b` combined with `k` (an array and an index computed from a local, as
    /// in `a[(short) (j + 1)]`).
    pub const LLK_OP_DECODED: u8 = 0xD3;
    /// The first internal opcode.
    pub const FIRST: u8 = 0xC0;
    /// Past the last internal opcode.
    pub const END: u8 = LL_XALOAD_N3 + 1;

    /// The length of the shortest sequence decoded op `op` stands for (3 for the loads, 4
    /// for the stores, 5 for [`LLK_OP_DECODED`]): its third byte keeps the length above it.
    #[inline(always)]
    pub const fn shortest(op: u8) -> usize {
        match op {
            LLK_XASTORE_DECODED | LLL_XASTORE_DECODED => 4,
            LLK_OP_DECODED => 5,
            _ => 3,
        }
    }

    /// The operands of decoded sequence `op` ([`LL_BALOAD_DECODED`] ...) from its second and
    /// third bytes: its first local, its second, the sequence's length.
    #[inline(always)]
    pub const fn decoded_operands(op: u8, b1: u8, b2: u8) -> (u8, u8, usize) {
        (b1, b2 & 0x3F, shortest(op) + (b2 >> 6) as usize)
    }

    /// Whether `byte` is the opcode of a decoded sequence (its other bytes are operands).
    pub const fn is_decoded(byte: u8) -> bool {
        matches!(
            byte,
            LL_BALOAD_DECODED
                | LL_SALOAD_DECODED
                | LLK_XASTORE_DECODED
                | LLL_XASTORE_DECODED
                | LLK_OP_DECODED
        )
    }

    /// The internal opcode of `kind` for a first instruction of original opcode `first`
    /// (a local load).
    pub const fn encode(kind: u8, first: u8) -> u8 {
        if kind == IK_OP {
            // `iload` (0x17) or `iload_n` (0x20 + n)
            if first == 0x17 {
                IK_OP
            } else {
                IK_OP_N0 + (first & 3)
            }
        } else if kind == LL_OP {
            // (never the second load of another superinstruction: consecutive values)
            if first & 8 == 0 {
                LL_OP
            } else {
                LL_OP_N0 + (first & 3)
            }
        } else if first & 8 == 0 {
            kind
        } else if kind & 1 == 0 {
            (kind & 0xF0) | 8 | (first & 3)
        } else {
            (kind & 0xF0) | 0x0C | (first & 3)
        }
    }
}

/// The JCVM opcode whose byte an internal opcode replaced (any other byte is itself): a
/// `sload` form, which runs and verifies as the `aload` it may have been.
pub(crate) const fn original_opcode(byte: u8) -> u8 {
    if byte >= fused::GETSTATIC_A_AT && byte <= fused::GETSTATIC_I_AT {
        Opcode::GetstaticA as u8 + (byte - fused::GETSTATIC_A_AT)
    } else if byte >= fused::PUTSTATIC_B_AT && byte <= fused::PUTSTATIC_I_AT {
        Opcode::PutstaticB as u8 + (byte - fused::PUTSTATIC_B_AT)
    } else if byte < fused::FIRST || byte >= fused::END || fused::is_decoded(byte) {
        // (a decoded sequence has no original opcode: the walk reads it as a whole)
        byte
    } else if byte >= fused::GETFIELD_A_THIS_CELL && byte <= fused::GETFIELD_I_THIS_CELL {
        Opcode::GetfieldAThis as u8 + (byte - fused::GETFIELD_A_THIS_CELL)
    } else if byte >= fused::PUTFIELD_A_THIS_CELL && byte <= fused::PUTFIELD_I_THIS_CELL {
        Opcode::PutfieldAThis as u8 + (byte - fused::PUTFIELD_A_THIS_CELL)
    } else if byte == fused::IK_OP {
        Opcode::Iload as u8
    } else if byte >= fused::IK_OP_N0 && byte <= fused::IK_OP_N3 {
        Opcode::Iload0 as u8 + (byte - fused::IK_OP_N0)
    } else if byte >= fused::LL_OP_N0 && byte <= fused::LL_OP_N3 {
        Opcode::Sload0 as u8 + (byte - fused::LL_OP_N0)
    } else if byte & 8 == 0 {
        Opcode::Sload as u8
    } else {
        Opcode::Sload0 as u8 + (byte & 3)
    }
}

/// Length of a short or reference local load (original or fused first byte), if it is one.
fn local_load_len(byte: u8) -> Option<usize> {
    match original_opcode(byte) {
        0x15 | 0x16 => Some(2),
        0x18..=0x1F => Some(1),
        _ => None,
    }
}

/// Length of `bspush c` or `sconst_k`, if `byte` is one.
fn short_const_len(byte: u8) -> Option<usize> {
    match byte {
        0x10 => Some(2),
        0x02..=0x08 => Some(1),
        _ => None,
    }
}

/// The short arithmetic of [`fused::LK_OP`] (none of them throws).
pub(crate) const SHORT_OPS: [Opcode; 9] = [
    Opcode::Sadd,
    Opcode::Ssub,
    Opcode::Smul,
    Opcode::Sand,
    Opcode::Sor,
    Opcode::Sxor,
    Opcode::Sshl,
    Opcode::Sshr,
    Opcode::Sushr,
];

/// The int arithmetic of [`fused::IK_OP`] (none of them throws).
pub(crate) const INT_OPS: [Opcode; 9] = [
    Opcode::Iadd,
    Opcode::Isub,
    Opcode::Imul,
    Opcode::Iand,
    Opcode::Ior,
    Opcode::Ixor,
    Opcode::Ishl,
    Opcode::Ishr,
    Opcode::Iushr,
];

/// Whether `byte` is a narrow `if_scmp<cond>`.
fn is_if_scmp(byte: u8) -> bool {
    (Opcode::IfScmpeq as u8..=Opcode::IfScmple as u8).contains(&byte)
}

/// Offsets waiting in RAM; more wait in the map (state [`PENDING`]) and are found by a sweep.
const WORKLIST: usize = 32;
/// Return-word results remembered during one package link.
const RET_CACHE: usize = 64;

/// NVM address of the fast-method bitmap of a package whose Method component is at
/// `method_addr` with length `method_len`: right after the component's guard.
pub(crate) fn fast_map_addr(method_addr: u32, method_len: u32) -> usize {
    method_addr as usize + method_len as usize + METHOD_GUARD.len()
}

/// Bytes of the fast-method bitmap for a Method component of `method_len` bytes.
pub(crate) fn fast_map_len(method_len: usize) -> usize {
    method_len.div_ceil(8)
}

/// What a walk proves about a method's flow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// Only the words its return instructions return (the depth is not tracked).
    Returns,
    /// Every fact fast mode relies on.
    Depth,
}

/// The verifier's state during one package link: where its map lives and what it learned.
pub(crate) struct Verifier {
    /// NVM address of the map (free NVM above the image).
    map: usize,
    /// Bytes of the map known to be zero.
    zeroed: usize,
    /// End of the free NVM the map may use.
    limit: usize,
    /// Return words of methods walked so far.
    returns: Vec<(MethodRef, Option<u8>), RET_CACHE>,
    /// The cover map of the package being verified (see `Vm::begin_cover`).
    cover: Option<Cover>,
}

/// Which code bytes of one package the proven methods use, and how: one byte per code byte,
/// [`COVER_START`] where an instruction starts, [`COVER_OPERAND`] inside one, and
/// [`COVER_TARGET`] where a walk entered other than by falling through. A byte both start
/// and operand (two methods overlap and read it differently) is not fused: a
/// superinstruction changes its first byte, which another proof may have read as an
/// operand.
#[derive(Clone, Copy)]
struct Cover {
    /// The package.
    pkg: u8,
    /// NVM address of the map.
    addr: usize,
    /// Length of the package's Method component.
    len: usize,
}

/// Cover map: a proven instruction starts at this byte.
const COVER_START: u8 = 1;
/// Cover map: this byte is inside a proven instruction.
const COVER_OPERAND: u8 = 2;
/// Cover map: a walk reached this instruction other than by falling through onto it (the
/// method's entry, a branch target, a handler), so a sequence it is inside of keeps it.
const COVER_TARGET: u8 = 4;

impl Verifier {
    /// A verifier whose map uses the free NVM `[map, limit)`.
    pub(crate) fn new(map: usize, limit: usize) -> Self {
        Verifier {
            map,
            zeroed: 0,
            limit,
            returns: Vec::new(),
            cover: None,
        }
    }
}

/// The facts of a method header.
struct Header {
    max_stack: u8,
    nlocals: usize,
    /// Offset of the first instruction in the Method component.
    code: usize,
}

impl<N: Nvm> Vm<N> {
    /// Words the method `m` returns (0, 1 or 2), if every return instruction its flow reaches
    /// agrees; natives say it in the catalog.
    /// Without the `proven-loop` feature nothing runs in fast mode, so nothing is walked.
    pub(crate) fn return_words(&mut self, v: &mut Verifier, m: MethodRef) -> Option<u8> {
        if !cfg!(feature = "proven-loop") {
            return None;
        }
        if m >> 16 == NATIVE_PACKAGE {
            return self
                .catalog
                .natives
                .get((m & 0xFFFF) as usize)
                .map(|n| n.ret_words);
        }
        if let Some((_, r)) = v.returns.iter().find(|(k, _)| *k == m) {
            return *r;
        }
        let r = self.walk(v, m, Proof::Returns);
        let _ = v.returns.push((m, r));
        r
    }

    /// Proves method `m` for fast mode and records it in its package's bitmap.
    /// Without the `proven-loop` feature no method is proven.
    pub(crate) fn verify_method(&mut self, v: &mut Verifier, m: MethodRef) -> bool {
        if !cfg!(feature = "proven-loop") {
            return false;
        }
        if m >> 16 == NATIVE_PACKAGE || self.walk(v, m, Proof::Depth).is_none() {
            return false;
        }
        let Some(info) = self.packages.get((m >> 16) as usize).copied() else {
            return false;
        };
        let off = (m & 0xFFFF) as usize;
        let at = fast_map_addr(info.method_addr, info.method_len) + off / 8;
        match self.nvm.read_u8(at) {
            Ok(b) => self.nvm.write(at, &[b | 1 << (off % 8)]).is_ok(),
            Err(_) => false,
        }
    }

    /// Whether method `m` (bytecode) was proven for fast mode at load.
    #[inline]
    pub(crate) fn is_fast(&self, info: &crate::PackageInfo, off: u32) -> bool {
        if !cfg!(feature = "proven-loop") {
            return false;
        }
        let at = fast_map_addr(info.method_addr, info.method_len) + off as usize / 8;
        matches!(self.nvm.read_u8(at), Ok(b) if b >> (off % 8) & 1 != 0)
    }

    /// Walks the flow of method `m`. `Some(words returned)` when the proof holds (a method
    /// that never returns counts as returning nothing).
    fn walk(&mut self, v: &mut Verifier, m: MethodRef, proof: Proof) -> Option<u8> {
        let info = *self.packages.get((m >> 16) as usize)?;
        let base = info.method_addr as usize;
        let len = info.method_len as usize;
        let hdr = self.method_header(base, len, (m & 0xFFFF) as usize)?;
        // the map: two bytes (state, depth) per code byte, zero before the walk
        let need = len.checked_mul(2)?;
        if v.map.checked_add(need)? > v.limit {
            return None;
        }
        if v.zeroed < need {
            crate::heap::zero_fill(&mut self.nvm, v.map + v.zeroed, need - v.zeroed).ok()?;
            v.zeroed = need;
        }
        let mut w = Walk {
            // the code of a method proven before may hold superinstructions; any other
            // code holding one of their opcodes is not proven
            fused_ok: self.is_fast(&info, m & 0xFFFF),
            targets: v
                .cover
                .filter(|c| proof == Proof::Depth && c.pkg == (m >> 16) as u8 && c.len == len)
                .map(|c| c.addr),
            pkg: (m >> 16) as u8,
            map: v.map,
            len,
            lo: hdr.code,
            hi: hdr.code,
            list: Vec::new(),
            spilled: false,
        };
        let mut r = self.walk_flow(&mut w, base, &hdr, proof);
        if let Some(c) = v.cover {
            if proof == Proof::Depth
                && r.is_some()
                && c.pkg == w.pkg
                && c.len == len
                && self.record_cover(&w, base, c).is_none()
            {
                r = None;
            }
        }
        // leave the map zero for the next walk
        let cleared =
            crate::heap::zero_fill(&mut self.nvm, w.map + 2 * w.lo, 2 * (w.hi - w.lo + 1));
        cleared.ok()?;
        r
    }

    /// Starts the cover map of package `pkg` (Method component of `len` bytes) at the top
    /// of the verifier's free NVM; `None` when it does not fit beside the walks' map (then
    /// nothing is fused, and the walks have the room they had without fusing).
    pub(crate) fn begin_cover(&mut self, v: &mut Verifier, pkg: u8, len: usize) -> Option<()> {
        let addr = v.limit.checked_sub(len)?;
        // the walks of the package's methods still need their map below it
        if addr < v.map.checked_add(len.checked_mul(2)?)? {
            return None;
        }
        crate::heap::zero_fill(&mut self.nvm, addr, len).ok()?;
        v.limit = addr;
        v.cover = Some(Cover { pkg, addr, len });
        Some(())
    }

    /// Marks in cover map `c` the instructions walk `w` reached (their states are
    /// [`DONE`] in its map). `None` when the NVM failed.
    fn record_cover(&mut self, w: &Walk, base: usize, c: Cover) -> Option<()> {
        for pc in w.lo..=w.hi {
            if self.nvm.read_u8(w.map + 2 * pc).ok()? != DONE {
                continue;
            }
            let a = base + pc;
            let op = Opcode::from_u8(original_opcode(self.nvm.read_u8(a).ok()?))?;
            let ilen = match op.layout().fixed_len() {
                Some(l) => l,
                None => switch_len(self, a, op.layout())?,
            };
            for (i, mark) in (pc..pc + ilen)
                .zip(core::iter::once(COVER_START).chain(core::iter::repeat(COVER_OPERAND)))
            {
                let at = c.addr + i;
                if i >= c.len {
                    return None;
                }
                let old = self.nvm.read_u8(at).ok()?;
                if old | mark != old {
                    self.nvm.write(at, &[old | mark]).ok()?;
                }
            }
        }
        Some(())
    }

    /// Fuses the sequences that start where the proven methods of the cover map's package
    /// have an instruction start and nothing else (see [`Cover`]); ends the cover map.
    pub(crate) fn fuse_covered(&mut self, v: &mut Verifier) -> Option<()> {
        let c = v.cover.take()?;
        v.limit = c.addr + c.len;
        // the map's bytes from the cover on are no longer known to be zero
        v.zeroed = v.zeroed.min(c.addr.saturating_sub(v.map));
        let info = *self.packages.get(c.pkg as usize)?;
        let base = info.method_addr as usize;
        let is_start = |vm: &Self, at: usize| -> Option<bool> {
            Some(vm.nvm.read_u8(c.addr + at).ok()? & !COVER_TARGET == COVER_START)
        };
        // the decoded sequences first: a superinstruction decided after them sees their
        // opcodes, none of which is a load it could take as its own second load
        let mut pc = 0;
        while pc < c.len {
            let at = pc;
            pc += 1;
            if !is_start(self, at)? {
                continue;
            }
            if let Some((decoded, len)) = self.decoded_form(base + at, c.addr + at) {
                self.nvm.write(base + at, &decoded).ok()?;
                // the sequence's other instructions are gone (no proof enters them): their
                // bytes are operands now, for the map too
                for k in at + 1..at + len {
                    self.nvm.write(c.addr + k, &[COVER_OPERAND]).ok()?;
                }
                pc = at + len;
            }
        }
        for at in 0..c.len {
            if !is_start(self, at)? {
                continue;
            }
            let a = base + at;
            if let Some((resolved, len)) = self.resolved_form(&info, a, c.addr + at) {
                self.nvm.write(a, resolved.get(..len)?).ok()?;
                continue;
            }
            let Some(kind) = self.fusion_kind(a, base + c.len, false) else {
                continue;
            };
            let first = self.nvm.read_u8(a).ok()?;
            let op = fused::encode(kind, original_opcode(first));
            if op != first {
                self.nvm.write(a, &[op]).ok()?;
            }
        }
        Some(())
    }

    /// The decoded form ([`fused::LL_BALOAD_DECODED`] ...) of the `L; L; <t>aload`, `L; L; K;
    /// <b|s>astore`, `L; L; L; <b|s>astore` or `L; L; K; <op>` at NVM address `a` (cover map
    /// byte `cover`):
    /// the bytes to write and the sequence's length, if it can have one: no proof enters the
    /// sequence after its first byte (its other instructions start where the cover map says
    /// so and nothing else, its operands are operands only) and the index's local is below 64.
    fn decoded_form(&self, a: usize, cover: usize) -> Option<(Vec<u8, 4>, usize)> {
        let code: [u8; 8] = self.read_bytes(a).ok()?;
        // the local a load at `at` reads and its length, if it is one
        let load = |at: usize| -> Option<(u8, usize)> {
            match *code.get(at)? {
                0x15 | 0x16 => Some((*code.get(at + 1)?, 2)), // aload, sload
                b @ 0x18..=0x1F => Some((b & 3, 1)),          // aload_n, sload_n
                _ => None,
            }
        };
        let (la, l0) = load(0)?;
        let (lb, l1) = load(l0)?;
        let third = l0 + l1;
        let mut starts: Vec<usize, 3> = Vec::new();
        starts.extend_from_slice(&[l0, third]).ok()?;
        let mut decoded: Vec<u8, 4> = Vec::new();
        let len = match *code.get(third)? {
            x @ 0x24..=0x26 => {
                let op = if x == 0x25 {
                    fused::LL_BALOAD_DECODED // baload
                } else {
                    fused::LL_SALOAD_DECODED // aaload, saload
                };
                let len = third + 1;
                decoded
                    .extend_from_slice(&[op, la, lb | ((len - fused::shortest(op)) as u8) << 6])
                    .ok()?;
                len
            }
            _ => {
                // a constant or a third local, then bastore or sastore (or after a constant
                // a short operation)
                let (op, value, l2) = match (*code.get(third)?, load(third)) {
                    (0x10, _) => (fused::LLK_XASTORE_DECODED, *code.get(third + 1)?, 2),
                    (k @ 0x02..=0x08, _) => (fused::LLK_XASTORE_DECODED, k.wrapping_sub(3), 1),
                    (_, Some((lc, l2))) => (fused::LLL_XASTORE_DECODED, lc, l2),
                    _ => return None,
                };
                let last = third + l2;
                let len = last + 1;
                let op = match *code.get(last)? {
                    0x38 | 0x39 => op, // bastore, sastore
                    b if op == fused::LLK_XASTORE_DECODED
                        && len >= 5
                        && SHORT_OPS.iter().any(|&o| o as u8 == b) =>
                    {
                        fused::LLK_OP_DECODED
                    }
                    _ => return None,
                };
                starts.push(last).ok()?;
                let above = (len - fused::shortest(op)) as u8;
                decoded
                    .extend_from_slice(&[op, la, lb | above << 6, value])
                    .ok()?;
                len
            }
        };
        if lb >= 64 {
            return None;
        }
        for k in 1..len {
            let want = if starts.contains(&k) {
                COVER_START
            } else {
                COVER_OPERAND
            };
            if self.nvm.read_u8(cover + k).ok()? != want {
                return None;
            }
        }
        Some((decoded, len))
    }

    /// The form the link resolves, opcode and operand, of the field instruction at NVM
    /// address `a` of package `info`, if it has one: `getfield_<t>_this`/`putfield_<t>_this`
    /// with the field's cell ([`fused::GETFIELD_A_THIS_CELL`] ...), `getstatic_<t>` and
    /// `putstatic_<t>` (not `_a`) with the field's address ([`fused::GETSTATIC_A_AT`] ...).
    /// Only where its operand bytes are read as operands only (cover bytes from
    /// `cover + 1`) and the value its constant-pool entry resolves to fits them; the bytes
    /// to write are the first `len` (the instruction's length).
    fn resolved_form(
        &self,
        info: &crate::PackageInfo,
        a: usize,
        cover: usize,
    ) -> Option<([u8; 3], usize)> {
        // (original opcodes, first internal opcode, tag of the entry, instruction length)
        let forms = [
            (
                Opcode::GetfieldAThis..=Opcode::GetfieldIThis,
                fused::GETFIELD_A_THIS_CELL,
                layout::CP_IFIELD,
                2,
            ),
            (
                Opcode::PutfieldAThis..=Opcode::PutfieldIThis,
                fused::PUTFIELD_A_THIS_CELL,
                layout::CP_IFIELD,
                2,
            ),
            (
                Opcode::GetstaticA..=Opcode::GetstaticI,
                fused::GETSTATIC_A_AT,
                layout::CP_SFIELD,
                3,
            ),
            (
                Opcode::PutstaticB..=Opcode::PutstaticI,
                fused::PUTSTATIC_B_AT,
                layout::CP_SFIELD,
                3,
            ),
        ];
        // (the guard after the component keeps a 3-byte read inside the NVM)
        let [op, b1, b2]: [u8; 3] = self.read_bytes(a).ok()?;
        let (opcodes, first, tag, len) = forms
            .into_iter()
            .find(|(o, ..)| (*o.start() as u8..=*o.end() as u8).contains(&op))?;
        for k in 1..len {
            if self.nvm.read_u8(cover + k).ok()? != COVER_OPERAND {
                return None;
            }
        }
        let first = first + (op - *opcodes.start() as u8);
        if len == 2 {
            let cell = self.cp_entry(info, b1.into(), tag, a as u32).ok()? as u16;
            Some(([first, u8::try_from(cell).ok()?, b2], len))
        } else {
            let index = u16::from_be_bytes([b1, b2]);
            let address = self.cp_entry(info, index, tag, a as u32).ok()? & 0x00FF_FFFF;
            let [hi, lo] = u16::try_from(address).ok()?.to_be_bytes();
            Some(([first, hi, lo], len))
        }
    }

    /// The superinstruction the code at NVM address `a` starts, if any (the component ends
    /// at `end`). `nested`: asked for the second load of an `L; L`, which is not looked
    /// into further.
    fn fusion_kind(&self, a: usize, end: usize, nested: bool) -> Option<u8> {
        let byte = |at: usize| -> u8 {
            if at < end {
                self.nvm.read_u8(at).unwrap_or(0)
            } else {
                0
            }
        };
        let first = original_opcode(byte(a));
        let int_local = match first {
            0x17 => Some(2),
            0x20..=0x23 => Some(1),
            _ => None,
        };
        if let Some(l0) = int_local {
            let l1 = match byte(a + l0) {
                0x12 => 2,        // bipush
                0x13 => 3,        // sipush
                0x09..=0x0F => 1, // iconst_m1 .. iconst_5
                _ => return None,
            };
            let op = byte(a + l0 + l1);
            return INT_OPS
                .iter()
                .any(|&o| o as u8 == op)
                .then_some(fused::IK_OP);
        }
        let l0 = local_load_len(byte(a))?;
        let b1 = byte(a + l0);
        if let Some(l1) = local_load_len(b1) {
            let b2 = byte(a + l0 + l1);
            if is_if_scmp(b2) {
                Some(fused::LL_IFCMP)
            } else if [Opcode::Aaload, Opcode::Baload, Opcode::Saload]
                .iter()
                .any(|&o| o as u8 == b2)
            {
                Some(fused::LL_XALOAD)
            } else if SHORT_OPS.iter().any(|&o| o as u8 == b2) {
                Some(fused::LL_OP)
            } else if nested {
                Some(fused::LL)
            } else {
                match self.fusion_kind(a + l0, end, true) {
                    // the second load starts a sequence of its own: with `L; L` fused it
                    // would run only after a branch to it
                    Some(kind) if kind != fused::LL => None,
                    _ => Some(fused::LL),
                }
            }
        } else if let Some(l1) = short_const_len(b1) {
            match byte(a + l0 + l1) {
                b2 if is_if_scmp(b2) => Some(fused::LK_IFCMP),
                b2 if SHORT_OPS.iter().any(|&o| o as u8 == b2) => Some(fused::LK_OP),
                _ => None,
            }
        } else if (Opcode::Ifeq as u8..=Opcode::Ifle as u8).contains(&b1) {
            Some(fused::L_IF)
        } else if is_if_scmp(b1) {
            Some(fused::L_IFCMP)
        } else {
            None
        }
    }

    fn method_header(&self, base: usize, len: usize, off: usize) -> Option<Header> {
        if off >= len {
            return None;
        }
        let b: [u8; 4] = self.read_bytes(base + off).ok()?;
        if b[0] & 0x40 != 0 {
            return None; // abstract: no code
        }
        let (max_stack, nargs, max_locals, code) = if b[0] & 0x80 != 0 {
            (b[1], b[2], b[3], off + 4)
        } else {
            (b[0] & 0x0F, b[1] >> 4, b[1] & 0x0F, off + 2)
        };
        Some(Header {
            max_stack,
            nlocals: nargs as usize + max_locals as usize,
            code,
        })
    }

    fn walk_flow(&mut self, w: &mut Walk, base: usize, hdr: &Header, proof: Proof) -> Option<u8> {
        let track = proof == Proof::Depth;
        let handlers = self.nvm.read_u8(base).ok()? as usize;
        let mut ret: Option<u8> = None;
        self.reach_target(w, hdr.code, 0)?;
        loop {
            let pc = match w.list.pop() {
                Some(pc) => pc as usize,
                None if w.spilled => {
                    w.spilled = false;
                    match self.next_pending(w)? {
                        Some(pc) => pc,
                        None => break,
                    }
                }
                None => break,
            };
            let [state, depth]: [u8; 2] = self.read_bytes(w.map + 2 * pc).ok()?;
            if state != PENDING {
                continue;
            }
            self.nvm.write(w.map + 2 * pc, &[DONE]).ok()?;
            let depth = depth as usize;
            let a = base + pc;
            let byte = self.nvm.read_u8(a).ok()?;
            if w.fused_ok && fused::is_decoded(byte) {
                // a decoded sequence: one instruction that reads two or three locals and
                // pushes one word (a load), two (`L; L; K; <op>`) or none (a store)
                let [_, b1, b2, b3]: [u8; 4] = self.read_bytes(a).ok()?;
                let (la, lb, ilen) = fused::decoded_operands(byte, b1, b2);
                let (lc, pushes) = match byte {
                    fused::LLK_XASTORE_DECODED => (0, 0),
                    fused::LLL_XASTORE_DECODED => (b3, 0),
                    fused::LLK_OP_DECODED => (0, 2),
                    _ => (0, 1),
                };
                if pc + ilen > w.len
                    || la.max(lb).max(lc) as usize >= hdr.nlocals
                    || (track && depth + pushes > hdr.max_stack as usize)
                {
                    return None;
                }
                if pc + ilen < w.len {
                    self.reach(w, pc + ilen, if track { depth + pushes } else { 0 })?;
                }
                self.reach_handlers(w, base, handlers, hdr, (pc, ilen), track)?;
                continue;
            }
            if !w.fused_ok && original_opcode(byte) != byte {
                return None;
            }
            let op = Opcode::from_u8(original_opcode(byte))?;
            let flags = op.flags();
            if flags.intersects(Flags::RESERVED | Flags::SUBROUTINE) {
                return None;
            }
            let layout = op.layout();
            let u8at = |vm: &Self, o: usize| vm.nvm.read_u8(a + o).ok();
            let u16at = |vm: &Self, o: usize| vm.nvm.read_u16(a + o).ok();
            let ilen = match layout.fixed_len() {
                Some(l) => l,
                None => switch_len(self, a, layout)?,
            };
            if pc.checked_add(ilen)? > w.len {
                return None;
            }
            // stack effect: (pops, depth after)
            let info = op.info();
            let (pops, after) = match op {
                Opcode::Invokestatic
                | Opcode::Invokespecial
                | Opcode::Invokevirtual
                | Opcode::Invokeinterface
                    if !track =>
                {
                    (0, 0)
                }
                Opcode::Invokestatic | Opcode::Invokespecial | Opcode::Invokevirtual => {
                    let e = self.cp_word(w.pkg, u16at(self, 1)?)?;
                    let tag = (e >> 24) as u8 & layout::CP_TAG_MASK;
                    let words = (e >> 24) as u8 >> layout::CP_RET_SHIFT;
                    let nargs = match (op, tag) {
                        (Opcode::Invokevirtual, layout::CP_VMETHOD) => (e >> 8) as usize & 0xFF,
                        (Opcode::Invokestatic, layout::CP_SMETHOD)
                        | (Opcode::Invokespecial, layout::CP_SMETHOD)
                        | (Opcode::Invokespecial, layout::CP_SMETHOD_SUPER) => {
                            self.method_nargs(e & 0x00FF_FFFF).ok()? as usize
                        }
                        _ => return None,
                    };
                    if words == 0 {
                        return None; // return words unknown
                    }
                    (nargs, depth.checked_sub(nargs)? + words as usize - 1)
                }
                // the callee's return words are known only at run time
                Opcode::Invokeinterface => return None,
                Opcode::DupX => {
                    let mn = u8at(self, 1)? as usize;
                    let (m, n) = (mn >> 4, mn & 0x0F);
                    if !(1..=4).contains(&m) || (n != 0 && (n < m || n > m + 4)) {
                        return None;
                    }
                    (m.max(n), depth + m)
                }
                Opcode::SwapX => {
                    let mn = u8at(self, 1)? as usize;
                    let (m, n) = (mn >> 4, mn & 0x0F);
                    if !(1..=2).contains(&m) || !(1..=2).contains(&n) {
                        return None;
                    }
                    (m + n, depth)
                }
                _ => match (info.stack.pop, info.stack.push) {
                    (Words::Fixed(p), Words::Fixed(q)) => (
                        p as usize,
                        depth.wrapping_sub(p as usize).wrapping_add(q as usize),
                    ),
                    (Words::Fixed(p), Words::FrameEnd) => {
                        if ret.is_some_and(|r| r != p) {
                            return None;
                        }
                        ret = Some(p);
                        (p as usize, 0)
                    }
                    _ => return None,
                },
            };
            if track && (depth < pops || after > hdr.max_stack as usize) {
                return None;
            }
            // locals
            if flags.intersects(Flags::READS_LOCAL | Flags::WRITES_LOCAL) {
                let index = match info.implied {
                    Implied::Local(i) => i as usize,
                    _ => u8at(self, 1)? as usize,
                };
                let width = if flags.contains(Flags::INT) && info.group != Group::InstanceField {
                    2
                } else {
                    1
                };
                if index + width > hdr.nlocals {
                    return None;
                }
            }
            // successors
            let next = if track { after } else { 0 };
            if flags.contains(Flags::BRANCH) {
                if flags.contains(Flags::SWITCH) {
                    let (table, count, step) = switch_table(self, a, layout)?;
                    self.reach_rel(w, pc, u16at(self, 1)? as i16, next)?;
                    for i in 0..count {
                        let rel = u16at(self, table + i * step + step - 2)? as i16;
                        self.reach_rel(w, pc, rel, next)?;
                    }
                } else {
                    let rel = match layout {
                        OperandLayout::Branch1 => u8at(self, 1)? as i8 as i16,
                        _ => u16at(self, 1)? as i16,
                    };
                    self.reach_rel(w, pc, rel, next)?;
                }
            }
            if !flags.contains(Flags::TERMINAL) && pc + ilen < w.len {
                // (falling through onto the guard after the component traps: no successor)
                self.reach(w, pc + ilen, next)?;
            }
            self.reach_handlers(w, base, handlers, hdr, (pc, ilen), track)?;
        }
        Some(ret.unwrap_or(0))
    }

    /// Reaches those of the `handlers` exception handlers whose range overlaps the
    /// instruction `(pc, ilen)` (an invoker's pc is inside its invoke, so the whole
    /// instruction counts), with the exception as their one stack word.
    fn reach_handlers(
        &mut self,
        w: &mut Walk,
        base: usize,
        handlers: usize,
        hdr: &Header,
        (pc, ilen): (usize, usize),
        track: bool,
    ) -> Option<()> {
        for h in 0..handlers {
            let e: [u8; 6] = self.read_bytes(base + 1 + 8 * h).ok()?;
            let start = u16::from_be_bytes([e[0], e[1]]) as usize;
            let end = start + (u16::from_be_bytes([e[2], e[3]]) & 0x7FFF) as usize;
            let handler = u16::from_be_bytes([e[4], e[5]]) as usize;
            if start < pc + ilen && pc < end && hdr.max_stack >= 1 {
                self.reach_target(w, handler, if track { 1 } else { 0 })?;
            }
        }
        Some(())
    }

    /// The resolved constant-pool entry `index` of package `pkg`.
    fn cp_word(&self, pkg: u8, index: u16) -> Option<u32> {
        let info = self.packages.get(pkg as usize)?;
        if index >= info.cp_count {
            return None;
        }
        self.nvm
            .read_u32((info.cp_addr + index as u32 * 4) as usize)
            .ok()
    }

    fn reach_rel(&mut self, w: &mut Walk, pc: usize, rel: i16, depth: usize) -> Option<()> {
        let target = pc as isize + rel as isize;
        if target < 0 || target as usize >= w.len {
            return None;
        }
        self.reach_target(w, target as usize, depth)
    }

    /// [`Vm::reach`] for an instruction entered other than by falling through onto it:
    /// also marks it in the cover map the walk records into, if any ([`COVER_TARGET`]).
    fn reach_target(&mut self, w: &mut Walk, pc: usize, depth: usize) -> Option<()> {
        if let Some(map) = w.targets {
            if pc < w.len {
                let old = self.nvm.read_u8(map + pc).ok()?;
                if old & COVER_TARGET == 0 {
                    self.nvm.write(map + pc, &[old | COVER_TARGET]).ok()?;
                }
            }
        }
        self.reach(w, pc, depth)
    }

    /// Records that instruction `pc` is reached with `depth` words on the stack.
    fn reach(&mut self, w: &mut Walk, pc: usize, depth: usize) -> Option<()> {
        if pc >= w.len || depth > u8::MAX as usize {
            return None;
        }
        let at = w.map + 2 * pc;
        let [state, known]: [u8; 2] = self.read_bytes(at).ok()?;
        if state != UNSEEN {
            return (known as usize == depth).then_some(());
        }
        self.nvm.write(at, &[PENDING, depth as u8]).ok()?;
        w.lo = w.lo.min(pc);
        w.hi = w.hi.max(pc);
        if w.list.push(pc as u16).is_err() {
            w.spilled = true;
        }
        Some(())
    }

    /// The first pending instruction in the touched range (after the worklist overflowed).
    fn next_pending(&self, w: &mut Walk) -> Option<Option<usize>> {
        for pc in w.lo..=w.hi {
            if self.nvm.read_u8(w.map + 2 * pc).ok()? == PENDING {
                w.spilled = true;
                return Some(Some(pc));
            }
        }
        Some(None)
    }
}

/// One walk in progress.
struct Walk {
    /// The method was proven before: its code may hold superinstructions.
    fused_ok: bool,
    /// The cover map (NVM address) this walk marks the instructions it enters other than by
    /// falling through in ([`COVER_TARGET`]), if it records into one.
    targets: Option<usize>,
    /// Package of the method.
    pkg: u8,
    /// NVM address of the map.
    map: usize,
    /// Length of the Method component.
    len: usize,
    /// Lowest and highest code offsets touched in the map.
    lo: usize,
    hi: usize,
    list: Vec<u16, WORKLIST>,
    /// Some reached instruction did not fit in `list`.
    spilled: bool,
}

/// A switch's jump table: (offset of the first entry from the opcode, entries, entry size).
fn switch_table<N: Nvm>(
    vm: &Vm<N>,
    a: usize,
    layout: OperandLayout,
) -> Option<(usize, usize, usize)> {
    let step = layout.switch_entry_len();
    match layout {
        OperandLayout::TableSwitchShort | OperandLayout::TableSwitchInt => {
            let (low, high, table) = if layout == OperandLayout::TableSwitchShort {
                (
                    vm.nvm.read_u16(a + 3).ok()? as i16 as i64,
                    vm.nvm.read_u16(a + 5).ok()? as i16 as i64,
                    7,
                )
            } else {
                (
                    vm.nvm.read_u32(a + 3).ok()? as i32 as i64,
                    vm.nvm.read_u32(a + 7).ok()? as i32 as i64,
                    11,
                )
            };
            if low > high || high - low >= 0x8000 {
                return None;
            }
            Some((table, (high - low + 1) as usize, step))
        }
        _ => Some((5, vm.nvm.read_u16(a + 3).ok()? as usize, step)),
    }
}

/// Length of a switch instruction.
fn switch_len<N: Nvm>(vm: &Vm<N>, a: usize, layout: OperandLayout) -> Option<usize> {
    let (table, count, step) = switch_table(vm, a, layout)?;
    Some(table + count * step)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Hand-assembled methods (opcodes from the one table in oxicard-isa, header layout per
    //! JCVM 3.0.5 §6.10 method_header_info), each proven or not as the spec's rules say.
    extern crate std;
    use super::*;
    use crate::api::{ApiCatalog, Natives};
    use crate::PackageInfo;
    use oxicard_isa::Opcode as Op;
    use oxicard_store::RamNvm;
    use std::boxed::Box;
    use std::vec;
    use std::vec::Vec as StdVec;

    static CATALOG: ApiCatalog = ApiCatalog {
        packages: &[],
        classes: &[],
        static_methods: &[],
        natives: &[],
    };
    const METHODS: u32 = 0x4000;

    /// A VM with one package whose Method component is `0 handlers` + `method` at offset 1.
    fn vm_with(method: &[u8]) -> Box<Vm<RamNvm<0x10000>>> {
        vm_with_catalog(method, &CATALOG)
    }

    /// [`vm_with`] on the built-in classes of `catalog`.
    fn vm_with_catalog(method: &[u8], catalog: &'static ApiCatalog) -> Box<Vm<RamNvm<0x10000>>> {
        let mut comp = vec![0u8];
        comp.extend_from_slice(method);
        vm_with_component(&comp, catalog)
    }

    /// A VM with one package whose Method component is `comp`.
    fn vm_with_component(comp: &[u8], catalog: &'static ApiCatalog) -> Box<Vm<RamNvm<0x10000>>> {
        let mut vm = Box::new(Vm::new(RamNvm::new(), catalog).unwrap());
        vm.nvm.write(METHODS as usize, comp).unwrap();
        let guard = METHODS as usize + comp.len();
        vm.nvm.write(guard, &METHOD_GUARD).unwrap();
        vm.packages
            .push(PackageInfo {
                method_addr: METHODS,
                method_len: comp.len() as u32,
                ..Default::default()
            })
            .unwrap();
        vm
    }

    fn verifier() -> Verifier {
        Verifier::new(0x8000, 0x10000)
    }

    /// Proves methods `ms` of package 0 as a package link does, then fuses; whether each
    /// was proven.
    fn prove_and_fuse(vm: &mut Vm<RamNvm<0x10000>>, ms: &[MethodRef]) -> StdVec<bool> {
        let mut v = verifier();
        let len = vm.packages[0].method_len as usize;
        vm.begin_cover(&mut v, 0, len).unwrap();
        let proven = ms.iter().map(|&m| vm.verify_method(&mut v, m)).collect();
        vm.fuse_covered(&mut v).unwrap();
        proven
    }

    fn ops(code: &[Op]) -> impl Iterator<Item = u8> + '_ {
        code.iter().map(|o| *o as u8)
    }

    #[test]
    fn a_counting_loop_is_proven_and_marked_fast() {
        // short f(short n) { short i = 0; while (i < n) i++; return i; }
        let mut m = vec![0x02, 0x11]; // max_stack 2, nargs 1, max_locals 1
        m.extend(ops(&[Op::Sconst0, Op::Sstore1, Op::Sload1, Op::Sload0]));
        m.extend([
            Op::IfScmpge as u8,
            7,
            Op::Sinc as u8,
            1,
            1,
            Op::Goto as u8,
            (-7i8) as u8,
        ]);
        m.extend(ops(&[Op::Sload1, Op::Sreturn]));
        let mut vm = vm_with(&m);
        let mut v = verifier();
        assert_eq!(vm.return_words(&mut v, 1), Some(1));
        assert_eq!(prove_and_fuse(&mut vm, &[1]), [true]);
        let info = vm.packages[0];
        assert!(vm.is_fast(&info, 1));
        assert!(!vm.is_fast(&info, 2), "only the verified entry is marked");
        // `sload_1; sload_0; if_scmpge` and `sload_0; if_scmpge` became superinstructions,
        // every other byte unchanged
        let mut code = [0u8; 13];
        vm.nvm.read(METHODS as usize + 3, &mut code).unwrap();
        assert_eq!(code[2], fused::encode(fused::LL_IFCMP, Op::Sload1 as u8));
        assert_eq!(code[3], fused::encode(fused::L_IFCMP, Op::Sload0 as u8));
        assert_eq!(original_opcode(code[2]), Op::Sload1 as u8);
        assert_eq!(original_opcode(code[3]), Op::Sload0 as u8);
        assert_eq!(&code[..2], &m[2..4]);
        assert_eq!(&code[4..], &m[6..]);
        // the walk leaves its map clear
        let mut map = [0xAAu8; 64];
        vm.nvm.read(0x8000, &mut map).unwrap();
        assert!(map.iter().all(|&b| b == 0));
    }

    #[test]
    fn unprovable_methods_stay_checked() {
        let cases: [(&str, StdVec<u8>); 6] = [
            (
                "pop on an empty stack",
                vec![0x01, 0x00, Op::Pop as u8, Op::Return as u8],
            ),
            ("local 1 of a method with one local", {
                let mut m = vec![0x01, 0x10];
                m.extend(ops(&[Op::Sload1, Op::Sreturn]));
                m
            }),
            ("depths 0 and 1 meet", {
                let mut m = vec![0x02, 0x10, Op::Sload0 as u8, Op::Ifeq as u8, 3];
                m.extend(ops(&[Op::Sconst1, Op::Return]));
                m
            }),
            (
                "branch before the component",
                vec![0x01, 0x00, Op::Goto as u8, 0x9C],
            ),
            ("push beyond max_stack", {
                let mut m = vec![0x01, 0x00];
                m.extend(ops(&[Op::Sconst1, Op::Sconst1, Op::Pop2, Op::Return]));
                m
            }),
            (
                "jsr",
                vec![0x01, 0x00, Op::Jsr as u8, 0, 3, Op::Return as u8],
            ),
        ];
        for (what, m) in cases {
            let mut vm = vm_with(&m);
            assert!(!vm.verify_method(&mut verifier(), 1), "{what}");
            let info = vm.packages[0];
            assert!(!vm.is_fast(&info, 1), "{what}");
        }
    }

    /// Every byte that is no JCVM instruction and no internal opcode, the dispatch's
    /// default arm (0xE2) and the arms of its own that the bytes above the internal opcodes
    /// have (0xFC to 0xFF, so that the jump table spans every byte value), stops the run with
    /// its error: reserved for `impdep1`/`impdep2`, undefined for the others.
    #[test]
    fn bytes_with_no_instruction_stop_the_run_with_their_error() {
        for (byte, what) in [
            (0xE2, crate::Detail::UndefinedOpcode),
            (0xFC, crate::Detail::UndefinedOpcode),
            (0xFD, crate::Detail::UndefinedOpcode),
            (Op::Impdep1 as u8, crate::Detail::ReservedOpcode),
            (Op::Impdep2 as u8, crate::Detail::ReservedOpcode),
        ] {
            // max_stack 1, no arguments, 1 local: `sconst_0; <byte>`
            let mut vm = vm_with(&[0x01, 0x01, Op::Sconst0 as u8, byte]);
            assert!(!vm.verify_method(&mut verifier(), 1), "{byte:#04x}");
            let r = vm.run(&mut NoNatives, 1, &[]);
            assert!(
                matches!(r, Err(crate::Trap::Malformed { what: w, .. }) if w == what),
                "{byte:#04x}: {r:?}"
            );
        }
    }

    #[test]
    fn return_words_must_agree() {
        // if (n == 0) return; else return n;  -- return and sreturn in one method
        let mut m = vec![0x01, 0x10, Op::Sload0 as u8, Op::Ifne as u8, 3];
        m.extend(ops(&[Op::Return, Op::Sload0, Op::Sreturn]));
        let mut vm = vm_with(&m);
        assert_eq!(vm.return_words(&mut verifier(), 1), None);
        // a method that never returns counts as returning nothing
        let mut vm = vm_with(&[0x00, 0x00, Op::Goto as u8, 0]);
        assert_eq!(vm.return_words(&mut verifier(), 1), Some(0));
        assert!(vm.verify_method(&mut verifier(), 1));
    }

    /// No native methods.
    struct NoNatives;
    impl Natives<RamNvm<0x10000>> for NoNatives {
        fn invoke(
            &mut self,
            _: &mut Vm<RamNvm<0x10000>>,
            _: u16,
            _: &[i16],
        ) -> Result<crate::Value, crate::Trap> {
            Err(crate::Trap::Internal(crate::Detail::UnknownNative))
        }
    }

    /// The counting loop of `a_counting_loop_is_proven_and_marked_fast`.
    fn counting_loop() -> StdVec<u8> {
        let mut m = vec![0x02, 0x11];
        m.extend(ops(&[Op::Sconst0, Op::Sstore1, Op::Sload1, Op::Sload0]));
        m.extend([
            Op::IfScmpge as u8,
            7,
            Op::Sinc as u8,
            1,
            1,
            Op::Goto as u8,
            (-7i8) as u8,
        ]);
        m.extend(ops(&[Op::Sload1, Op::Sreturn]));
        m
    }

    #[test]
    fn fast_and_checked_runs_agree() {
        for fast in [false, true] {
            let mut vm = vm_with(&counting_loop());
            if fast {
                assert!(vm.verify_method(&mut verifier(), 1));
            }
            assert_eq!(
                vm.run(&mut NoNatives, 1, &[300]),
                Ok(crate::Value::Word(300))
            );
            assert_eq!(vm.run(&mut NoNatives, 1, &[-4]), Ok(crate::Value::Word(0)));
        }
    }

    /// `short f(short a, short b)`: every superinstruction kind, in both forms of its first
    /// load, with every condition, mixed into a wrapping hash in local 2; and its value
    /// computed in Rust from the JCVM semantics of the original instructions.
    fn fused_program() -> StdVec<u8> {
        // locals: 0 a, 1 b, 2 hash, 3 loop counter, 4 a, 5 b (4 and 5: the index forms)
        let mut m = vec![0x04, 0x24]; // max_stack 4, nargs 2, max_locals 4
        let (a, b) = (Op::Sload0 as u8, Op::Sload1 as u8);
        let (a4, b5) = ([Op::Sload as u8, 4], [Op::Sload as u8, 5]);
        m.extend([a, Op::Sstore as u8, 4, b, Op::Sstore as u8, 5]);
        // hash = hash * 3 + taken (`sload_2; sload_2; sload_2`: two `L; L` superinstructions)
        let mix = |m: &mut StdVec<u8>, test: &[u8], branch: u8| {
            m.extend(ops(&[
                Op::Sload2,
                Op::Sload2,
                Op::Sload2,
                Op::Sadd,
                Op::Sadd,
            ]));
            m.push(Op::Sstore2 as u8);
            m.extend_from_slice(test);
            m.extend([branch, 4, Op::Goto as u8, 5, Op::Sinc as u8, 2, 1]);
        };
        for c in 0..6u8 {
            let scmp = Op::IfScmpeq as u8 + c;
            let cmp0 = Op::Ifeq as u8 + c;
            mix(&mut m, &[a, b], scmp);
            mix(&mut m, &[a4[0], a4[1], b], scmp);
            mix(&mut m, &[a, b5[0], b5[1]], scmp);
            mix(&mut m, &[a, Op::Bspush as u8, 5], scmp);
            mix(&mut m, &[b5[0], b5[1], Op::SconstM1 as u8], scmp);
            mix(&mut m, &[a], cmp0);
            mix(&mut m, &[b5[0], b5[1]], cmp0);
            mix(&mut m, &[Op::Bspush as u8, 3, a], scmp);
            mix(&mut m, &[Op::Sconst0 as u8, b5[0], b5[1]], scmp);
        }
        // hash += a + (byte) b, twice (`L; L` with either form first)
        for first in [&a4[..], &[a][..]] {
            m.extend_from_slice(first);
            m.extend(ops(&[Op::Sload1, Op::S2b, Op::Sadd]));
            m.extend(ops(&[Op::Sload2, Op::Sadd, Op::Sstore2]));
        }
        // hash += a <op> b, twice, for every `L; L; <op>`
        for op in SHORT_OPS {
            m.extend([a4[0], a4[1], b, op as u8]);
            m.extend(ops(&[Op::Sload2, Op::Sadd, Op::Sstore2]));
            m.extend([a, b5[0], b5[1], op as u8]);
            m.extend(ops(&[Op::Sload2, Op::Sadd, Op::Sstore2]));
        }
        // hash += a <op> 7 and hash += b <op> 2 for every `L; K; <op>`
        for op in SHORT_OPS {
            m.extend([a, Op::Bspush as u8, 7, op as u8]);
            m.extend(ops(&[Op::Sload2, Op::Sadd, Op::Sstore2]));
            m.extend([b5[0], b5[1], Op::Sconst2 as u8, op as u8]);
            m.extend(ops(&[Op::Sload2, Op::Sadd, Op::Sstore2]));
        }
        // hash += a + b (`sload 4; sload_1`: `L; L` with the index form first)
        m.extend([a4[0], a4[1], b, Op::Sadd as u8]);
        m.extend(ops(&[Op::Sload2, Op::Sadd, Op::Sstore2]));
        // a backward fused branch: do { i++ } while (i < 20); hash += i
        m.extend([Op::Sconst0 as u8, Op::Sstore3 as u8]);
        m.extend([Op::Sinc as u8, 3, 1, Op::Sload3 as u8, Op::Bspush as u8, 20]);
        m.extend([Op::IfScmplt as u8, (-6i8) as u8]);
        m.extend(ops(&[Op::Sload2, Op::Sload3, Op::Sadd, Op::Sreturn]));
        m
    }

    /// The JCVM semantics of short operation `op` (one of [`SHORT_OPS`]) on `x` and `k`.
    fn model_short_op(op: Op, x: i16, k: i16) -> i16 {
        let s = k & 0x1F;
        match op {
            Op::Sadd => x.wrapping_add(k),
            Op::Ssub => x.wrapping_sub(k),
            Op::Smul => x.wrapping_mul(k),
            Op::Sand => x & k,
            Op::Sor => x | k,
            Op::Sxor => x ^ k,
            Op::Sshl => ((x as i32) << s) as i16,
            Op::Sshr => ((x as i32) >> s) as i16,
            _ => ((x as i32 as u32) >> s) as i16,
        }
    }

    /// The JCVM semantics of int operation `op` (one of [`INT_OPS`]) on `v` and `k`.
    fn model_int_op(op: Op, v: i32, k: i32) -> i32 {
        let s = (k & 0x1F) as u32;
        match op {
            Op::Iadd => v.wrapping_add(k),
            Op::Isub => v.wrapping_sub(k),
            Op::Imul => v.wrapping_mul(k),
            Op::Iand => v & k,
            Op::Ior => v | k,
            Op::Ixor => v ^ k,
            Op::Ishl => v << s,
            Op::Ishr => v >> s,
            _ => ((v as u32) >> s) as i32,
        }
    }

    fn fused_model(a: i16, b: i16) -> i16 {
        let conds: [fn(i16, i16) -> bool; 6] = [
            |x, y| x == y,
            |x, y| x != y,
            |x, y| x < y,
            |x, y| x >= y,
            |x, y| x > y,
            |x, y| x <= y,
        ];
        let mut h = 0i16;
        for cond in conds {
            for (x, y) in [
                (a, b),
                (a, b),
                (a, b),
                (a, 5),
                (b, -1),
                (a, 0),
                (b, 0),
                (3, a),
                (0, b),
            ] {
                h = h.wrapping_mul(3).wrapping_add(cond(x, y) as i16);
            }
        }
        for _ in 0..2 {
            h = h.wrapping_add(a.wrapping_add(b as i8 as i16));
        }
        for op in SHORT_OPS {
            h = h.wrapping_add(model_short_op(op, a, b));
            h = h.wrapping_add(model_short_op(op, a, b));
        }
        for op in SHORT_OPS {
            h = h.wrapping_add(model_short_op(op, a, 7));
            h = h.wrapping_add(model_short_op(op, b, 2));
        }
        h = h.wrapping_add(a.wrapping_add(b));
        h.wrapping_add(20)
    }

    #[test]
    fn superinstructions_run_as_the_instructions_they_replace() {
        let values = [i16::MIN, -129, -1, 0, 1, 3, 5, 127, i16::MAX];
        let mut fast = vm_with(&fused_program());
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut checked = vm_with(&fused_program());
        let mut code = vec![0u8; fused_program().len() + 1];
        fast.nvm.read(METHODS as usize, &mut code).unwrap();
        let kinds = [
            fused::LL,
            fused::LL_IFCMP,
            fused::LK_IFCMP,
            fused::L_IF,
            fused::L_IFCMP,
            fused::LK_OP,
            fused::LL_OP,
        ];
        for kind in kinds {
            let index_form = fused::encode(kind, Op::Sload as u8);
            assert!(code.contains(&index_form), "no {index_form:#04x}");
            let n_form = |n| fused::encode(kind, Op::Sload0 as u8 + n);
            assert!(
                (0..4).any(|n| code.contains(&n_form(n))),
                "no {:#04x}",
                n_form(0)
            );
        }
        for &a in &values {
            for &b in &values {
                let want = Ok(crate::Value::Word(fused_model(a, b)));
                assert_eq!(fast.run(&mut NoNatives, 1, &[a, b]), want, "fast {a} {b}");
                assert_eq!(
                    checked.run(&mut NoNatives, 1, &[a, b]),
                    want,
                    "checked {a} {b}"
                );
            }
        }
    }

    /// `short[] s = new short[4]; s[1] = 1234;` with `s` in local 2 (stack depth 3 at most).
    const SHORTS_1234_IN_LOCAL_2: [u8; 10] = [
        Op::Sconst4 as u8,
        Op::Newarray as u8,
        12,
        Op::Astore2 as u8,
        Op::Aload2 as u8,
        Op::Sconst1 as u8,
        Op::Sspush as u8,
        0x04,
        0xD2,
        Op::Sastore as u8,
    ];

    #[test]
    fn an_element_superinstruction_loads_or_leaves_the_element_to_its_instruction() {
        // short f(short i, short j) { short[] s = new short[4]; s[1] = 1234;
        //   byte[] b = new byte[3]; b[2] = -7; return (short) (s[i] + b[j]); }
        let mut m = vec![0x04, 0x22]; // max_stack 4, nargs 2, max_locals 2
        m.extend(SHORTS_1234_IN_LOCAL_2);
        m.extend([Op::Sconst3 as u8, Op::Newarray as u8, 11]);
        m.extend([Op::Astore3 as u8, Op::Aload3 as u8, Op::Sconst2 as u8]);
        m.extend([Op::Bspush as u8, (-7i8) as u8, Op::Bastore as u8]);
        // `aload_2; sload_0; saload` and `aload_3; sload_1; baload`
        m.extend(ops(&[Op::Aload2, Op::Sload0, Op::Saload]));
        m.extend(ops(&[Op::Aload3, Op::Sload1, Op::Baload]));
        m.extend(ops(&[Op::Sadd, Op::Sreturn]));
        let mut fast = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut code = vec![0u8; m.len()];
        fast.nvm.read(METHODS as usize + 1, &mut code).unwrap();
        // no branch enters them after their first byte: both are decoded, `[op, a, b]`
        let at = m.len() - 8;
        let decoded = [
            fused::LL_SALOAD_DECODED,
            2,
            0,
            fused::LL_BALOAD_DECODED,
            3,
            1,
        ];
        assert_eq!(code[at..at + 6], decoded, "{code:02x?}");
        // a later walk (a package linked later asks for its return words) reads each as
        // one instruction
        assert!(fast.verify_method(&mut verifier(), 1));
        // the same method with its proof record lost runs them in the checked loop
        let mut lost = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut lost, &[1]), [true]);
        let info = lost.packages[0];
        let map = fast_map_addr(info.method_addr, info.method_len);
        lost.nvm.write(map, &[0]).unwrap();
        assert!(!lost.is_fast(&info, 1));
        let mut checked = vm_with(&m);
        for (i, j) in [
            (1, 2),
            (0, 2),
            (1, 0),
            (3, 1),
            (4, 2),
            (1, 3),
            (-1, 0),
            (0, -1),
        ] {
            let got = fast.run(&mut NoNatives, 1, &[i, j]);
            assert_eq!(got, checked.run(&mut NoNatives, 1, &[i, j]), "{i} {j}");
            assert_eq!(got, lost.run(&mut NoNatives, 1, &[i, j]), "{i} {j}");
            if (0..4).contains(&i) && (0..3).contains(&j) {
                let s = if i == 1 { 1234 } else { 0 };
                let b = if j == 2 { -7 } else { 0 };
                assert_eq!(got, Ok(crate::Value::Word(s + b)), "{i} {j}");
            } else {
                assert!(got.is_err(), "{i} {j}: {got:?}");
            }
        }
    }

    #[test]
    fn an_element_load_a_branch_enters_after_its_first_byte_keeps_its_instructions() {
        // short f(short i, short c) { short[] s = {0, 1234, 0, 0};
        //   the array pushed, then `sload_0; saload` reached by falling through from
        //   `aload_2` (c == 0) or by a branch onto `sload_0` (c != 0) }
        let mut m = vec![0x03, 0x22]; // max_stack 3, nargs 2, max_locals 2
        m.extend(SHORTS_1234_IN_LOCAL_2);
        m.extend(ops(&[Op::Aload2, Op::Sload1]));
        m.extend([Op::Ifne as u8, 4]); // onto `sload_0`
        m.extend(ops(&[
            Op::Pop,
            Op::Aload2,
            Op::Sload0,
            Op::Saload,
            Op::Sreturn,
        ]));
        let mut fast = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut code = vec![0u8; m.len()];
        fast.nvm.read(METHODS as usize + 1, &mut code).unwrap();
        let at = m.len() - 4;
        let kept = [
            fused::encode(fused::LL_XALOAD, Op::Aload2 as u8),
            Op::Sload0 as u8,
            Op::Saload as u8,
        ];
        assert_eq!(code[at..at + 3], kept, "{code:02x?}");
        let mut checked = vm_with(&m);
        for (i, c) in [(1, 0), (1, 1), (0, 0), (2, 1), (4, 0), (-1, 1)] {
            let got = fast.run(&mut NoNatives, 1, &[i, c]);
            assert_eq!(got, checked.run(&mut NoNatives, 1, &[i, c]), "{i} {c}");
            if (0..4).contains(&i) {
                let want = if i == 1 { 1234 } else { 0 };
                assert_eq!(got, Ok(crate::Value::Word(want)), "{i} {c}");
            } else {
                assert!(got.is_err(), "{i} {c}: {got:?}");
            }
        }
    }

    /// Proves and fuses `short f(short i)` with code `body` (`max_stack`, one local besides
    /// `i`) and a handler for any exception (`pop; sconst_m1; sreturn`, after `body`) whose
    /// range is the instruction at `guarded` in `body` alone; checks that the byte at
    /// `decoded_at` became `op`, and that `f` returns 0 for `i` in 0..2 and -1 (the handler)
    /// otherwise, as the unfused method does: the decoded sequence throws at its element
    /// instruction.
    fn throws_inside_its_sequence(
        body: &[u8],
        max_stack: u8,
        guarded: u16,
        decoded_at: usize,
        op: u8,
    ) {
        let code = 1 + 8 + 2; // handler count, one entry, the method's header
        let mut comp = vec![1u8];
        comp.extend((code as u16 + guarded).to_be_bytes()); // start
        comp.extend(1u16.to_be_bytes()); // length
        comp.extend((code as u16 + body.len() as u16).to_be_bytes()); // handler
        comp.extend(0u16.to_be_bytes()); // any exception
        comp.extend([max_stack, 0x11]); // nargs 1, max_locals 1
        comp.extend_from_slice(body);
        comp.extend(ops(&[Op::Pop, Op::SconstM1, Op::Sreturn]));
        let with_exception = || {
            let mut vm = vm_with_component(&comp, &CATALOG);
            // (the object thrown: any will do, the handler catches every class)
            let obj = vm.new_array(crate::ArrayType::Byte, 1, 0, 0).unwrap();
            vm.set_system_exception(crate::SystemException::ArrayIndexOutOfBounds, obj);
            vm
        };
        let mut fast = with_exception();
        assert_eq!(prove_and_fuse(&mut fast, &[9]), [true]);
        let byte = fast
            .nvm
            .read_u8(METHODS as usize + code + decoded_at)
            .unwrap();
        assert_eq!(byte, op);
        let mut checked = with_exception();
        for (i, want) in [(0, 0), (1, 0), (2, -1), (-1, -1)] {
            let got = fast.run(&mut NoNatives, 9, &[i]);
            assert_eq!(got, Ok(crate::Value::Word(want)), "{i}");
            assert_eq!(got, checked.run(&mut NoNatives, 9, &[i]), "{i}");
        }
    }

    #[test]
    fn a_decoded_element_load_throws_at_its_element_instruction() {
        // short f(short i) { short[] s = new short[2]; return s[i]; }, the handler's range
        // the `saload` alone
        let mut body = vec![Op::Sconst2 as u8, Op::Newarray as u8, 12, Op::Astore1 as u8];
        body.extend(ops(&[Op::Aload1, Op::Sload0, Op::Saload, Op::Sreturn]));
        throws_inside_its_sequence(&body, 2, 6, 4, fused::LL_SALOAD_DECODED);
    }

    #[test]
    fn element_stores_of_a_constant_or_a_local_are_decoded() {
        // short f(short i, short v) { byte[] b = new byte[3]; short[] s = new short[3];
        //   b[i] = -7; s[i] = v; short k = 2; s[k] = 3; return (short) (b[i] + s[i] + s[2]); }
        let mut m = vec![0x04, 0x22]; // max_stack 4, nargs 2, max_locals 2
        m.extend([Op::Sconst3 as u8, Op::Newarray as u8, 11, Op::Astore2 as u8]);
        m.extend([Op::Sconst3 as u8, Op::Newarray as u8, 12, Op::Astore3 as u8]);
        let stores = m.len();
        m.extend([
            Op::Aload2 as u8,
            Op::Sload0 as u8,
            Op::Bspush as u8,
            (-7i8) as u8,
        ]);
        m.extend(ops(&[
            Op::Bastore,
            Op::Aload3,
            Op::Sload0,
            Op::Sload1,
            Op::Sastore,
        ]));
        // the index in a local with an index operand, the constant a `sconst_<k>`
        m.extend([Op::Aload3 as u8, Op::Sconst2 as u8, Op::Sstore as u8, 5]);
        m.extend([Op::Aload3 as u8, Op::Sload as u8, 5, Op::Sconst3 as u8]);
        m.extend(ops(&[Op::Sastore, Op::Pop]));
        m.extend(ops(&[Op::Aload2, Op::Sload0, Op::Baload]));
        m.extend(ops(&[Op::Aload3, Op::Sload0, Op::Saload, Op::Sadd]));
        m.extend(ops(&[
            Op::Aload3,
            Op::Sconst2,
            Op::Saload,
            Op::Sadd,
            Op::Sreturn,
        ]));
        m[1] = 0x24; // locals 4 and 5 beside the arguments and the two arrays
        let mut fast = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut code = vec![0u8; m.len()];
        fast.nvm.read(METHODS as usize + 1, &mut code).unwrap();
        let at = stores;
        let b_store = [fused::LLK_XASTORE_DECODED, 2, 1 << 6, (-7i8) as u8];
        assert_eq!(code[at..at + 4], b_store, "{code:02x?}");
        let s_store = [fused::LLL_XASTORE_DECODED, 3, 0, 1];
        assert_eq!(code[at + 5..at + 9], s_store, "{code:02x?}");
        let k_store = [fused::LLK_XASTORE_DECODED, 3, 5 | 1 << 6, 3];
        assert_eq!(code[at + 13..at + 17], k_store, "{code:02x?}");
        assert!(fast.verify_method(&mut verifier(), 1));
        let mut checked = vm_with(&m);
        for (i, v) in [(0, 100), (1, -5), (2, 7), (3, 1), (-1, 1)] {
            let got = fast.run(&mut NoNatives, 1, &[i, v]);
            assert_eq!(got, checked.run(&mut NoNatives, 1, &[i, v]), "{i} {v}");
            if (0..3).contains(&i) {
                // (s[2] = 3 comes after s[i] = v)
                let s_i = if i == 2 { 3 } else { v };
                let want = -7 + s_i + 3;
                assert_eq!(got, Ok(crate::Value::Word(want)), "{i} {v}");
            } else {
                assert!(got.is_err(), "{i} {v}: {got:?}");
            }
        }
    }

    #[test]
    fn a_decoded_element_store_throws_at_its_store() {
        // short f(short i) { byte[] b = new byte[2]; b[i] = 1; return 0; }, the handler's
        // range the `bastore` alone
        let mut body = vec![Op::Sconst2 as u8, Op::Newarray as u8, 11, Op::Astore1 as u8];
        body.extend(ops(&[Op::Aload1, Op::Sload0, Op::Sconst1, Op::Bastore]));
        body.extend(ops(&[Op::Sconst0, Op::Sreturn]));
        throws_inside_its_sequence(&body, 3, 7, 4, fused::LLK_XASTORE_DECODED);
    }

    #[test]
    fn an_array_and_an_index_computed_from_a_local_are_decoded() {
        // short f(short i, short v) { short[] s = new short[8]; s[(short) (i + 1)] = v;
        //   return (short) (s[(short) (i + 1)] + s[(short) (i * 3)]); }
        let mut m = vec![0x04, 0x21]; // max_stack 4, nargs 2, max_locals 1
        m.extend([
            Op::Bspush as u8,
            8,
            Op::Newarray as u8,
            12,
            Op::Astore2 as u8,
        ]);
        let first = m.len();
        m.extend([Op::Aload2 as u8, Op::Sload as u8, 0, Op::Sconst1 as u8]);
        m.extend(ops(&[Op::Sadd, Op::Sload1, Op::Sastore]));
        m.extend([Op::Aload2 as u8, Op::Sload as u8, 0, Op::Sconst1 as u8]);
        m.extend(ops(&[Op::Sadd, Op::Saload]));
        m.extend([Op::Aload as u8, 2, Op::Sload as u8, 0, Op::Bspush as u8, 3]);
        m.extend(ops(&[Op::Smul, Op::Saload, Op::Sadd, Op::Sreturn]));
        let mut fast = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut code = vec![0u8; m.len()];
        fast.nvm.read(METHODS as usize + 1, &mut code).unwrap();
        let plus_one = [fused::LLK_OP_DECODED, 2, 0, 1, Op::Sadd as u8];
        assert_eq!(code[first..first + 5], plus_one, "{code:02x?}");
        assert_eq!(code[first + 7..first + 12], plus_one, "{code:02x?}");
        let times_3 = [fused::LLK_OP_DECODED, 2, 2 << 6, 3];
        assert_eq!(code[first + 13..first + 17], times_3, "{code:02x?}");
        assert_eq!(code[first + 19], Op::Smul as u8);
        assert!(fast.verify_method(&mut verifier(), 1));
        let mut checked = vm_with(&m);
        for (i, v) in [(0, 100), (1, -5), (2, 7), (3, 1), (6, 2), (7, 1), (-1, 1)] {
            let got = fast.run(&mut NoNatives, 1, &[i, v]);
            assert_eq!(got, checked.run(&mut NoNatives, 1, &[i, v]), "{i} {v}");
            if (0..3).contains(&i) {
                assert_eq!(got, Ok(crate::Value::Word(v)), "{i} {v}");
            } else {
                assert!(got.is_err(), "{i} {v}: {got:?}");
            }
        }
    }

    #[test]
    fn a_load_before_a_decoded_sequence_does_not_take_its_first_load() {
        // short f(short x, short i) { short[] s = new short[4]; s[2] = 5;
        //   return (short) (x + s[(short) (i + 1)]); }: `sload_0` then `aload_2; sload 1;
        // sconst_1; sadd` (decoded), which an `L; L` on `sload_0; aload_2` would overlap
        let mut m = vec![0x04, 0x21]; // max_stack 4, nargs 2, max_locals 1
        m.extend([Op::Sconst4 as u8, Op::Newarray as u8, 12, Op::Astore2 as u8]);
        m.extend(ops(&[Op::Aload2, Op::Sconst2, Op::Sconst5, Op::Sastore]));
        let first = m.len();
        m.extend([Op::Sload0 as u8, Op::Aload2 as u8, Op::Sload as u8, 1]);
        m.extend(ops(&[
            Op::Sconst1,
            Op::Sadd,
            Op::Saload,
            Op::Sadd,
            Op::Sreturn,
        ]));
        let mut fast = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut code = vec![0u8; m.len()];
        fast.nvm.read(METHODS as usize + 1, &mut code).unwrap();
        assert_eq!(code[first], Op::Sload0 as u8, "{code:02x?}");
        assert_eq!(code[first + 1], fused::LLK_OP_DECODED, "{code:02x?}");
        let mut checked = vm_with(&m);
        for (x, i) in [(10, 1), (10, 0), (-3, 2), (1, 3), (1, -2)] {
            let got = fast.run(&mut NoNatives, 1, &[x, i]);
            assert_eq!(got, checked.run(&mut NoNatives, 1, &[x, i]), "{x} {i}");
            if (-1..3).contains(&i) {
                let want = x + if i == 1 { 5 } else { 0 };
                assert_eq!(got, Ok(crate::Value::Word(want)), "{x} {i}");
            } else {
                assert!(got.is_err(), "{x} {i}: {got:?}");
            }
        }
    }

    /// One statement of a generated method (see
    /// `random_element_and_arithmetic_code_runs_fused_as_unfused`): each leaves the operand
    /// stack as it found it. Locals: 0 and 1 the arguments, 2 a `short[8]`, 3 a `byte[8]`,
    /// 4 and 5 indexes (0..7), 6 and 7 results.
    #[derive(Clone, Debug)]
    enum Statement {
        /// `x <op> y` into `to`.
        LocalOp(u8, u8, u8, u8),
        /// `x <op> k` into `to`.
        ConstOp(u8, i8, u8, u8),
        /// `to = s[i]` or `b[i]` (`bytes`).
        Load(bool, u8, u8),
        /// `to = s[i + k]` or `b[i + k]`.
        LoadAt(bool, u8, i8, u8),
        /// `s[i] = k` or `b[i] = k`.
        StoreConst(bool, u8, i8),
        /// `s[i] = v` or `b[i] = v`.
        StoreLocal(bool, u8, u8),
        /// `to = x + s[i + k]`: a load before a decoded sequence.
        AddLoadAt(u8, u8, i8, u8),
        /// `if (x == 0)` skips the next statement.
        SkipIfZero(u8),
        /// `if (x <cond> (short) (y <op> z))` skips the next statement: `z` a local, or the
        /// constant `k` when it is `Some(k)` (an operation's result compared and branched on).
        SkipIfCmp(u8, u8, u8, Option<i8>, u8, u8),
    }

    /// The bytes of a load of short local `i`: its `_n` form when there is one and `short`
    /// asks for it, else its index form.
    fn short_load(i: u8, short: bool) -> StdVec<u8> {
        if short && i < 4 {
            vec![Op::Sload0 as u8 + i]
        } else {
            vec![Op::Sload as u8, i]
        }
    }

    /// The bytes of the array load (`aload_2`/`aload 2` or local 3 for bytes).
    fn array_load(bytes: bool, short: bool) -> StdVec<u8> {
        let i = if bytes { 3 } else { 2 };
        if short {
            vec![Op::Aload0 as u8 + i]
        } else {
            vec![Op::Aload as u8, i]
        }
    }

    /// `sconst_k` when `k` has one, else `bspush k`.
    fn short_const(k: i8) -> StdVec<u8> {
        if (-1..=5).contains(&k) {
            vec![(Op::Sconst0 as i8 + k) as u8]
        } else {
            vec![Op::Bspush as u8, k as u8]
        }
    }

    /// The bytes of statement `s` (`short`: which load forms to take where there is a choice).
    fn statement_code(s: &Statement, short: bool) -> StdVec<u8> {
        let op = |k: u8| SHORT_OPS[k as usize % SHORT_OPS.len()] as u8;
        let load_op = load_op_of;
        let store_op = |bytes: bool| if bytes { Op::Bastore } else { Op::Sastore } as u8;
        let mut c = StdVec::new();
        match *s {
            Statement::LocalOp(x, y, k, to) => {
                c.extend(short_load(x, short));
                c.extend(short_load(y, !short));
                c.push(op(k));
                c.extend([Op::Sstore as u8, to]);
            }
            Statement::ConstOp(x, k, o, to) => {
                c.extend(short_load(x, short));
                c.extend(short_const(k));
                c.push(op(o));
                c.extend([Op::Sstore as u8, to]);
            }
            Statement::Load(bytes, i, to) => {
                c.extend(array_load(bytes, short));
                c.extend(short_load(i, false));
                c.push(load_op(bytes));
                c.extend([Op::Sstore as u8, to]);
            }
            Statement::LoadAt(bytes, i, k, to) => {
                c.extend(array_load(bytes, !short));
                c.extend(short_load(i, false));
                c.extend(short_const(k));
                c.push(Op::Sadd as u8);
                c.push(load_op(bytes));
                c.extend([Op::Sstore as u8, to]);
            }
            Statement::StoreConst(bytes, i, k) => {
                c.extend(array_load(bytes, short));
                c.extend(short_load(i, false));
                c.extend(short_const(k));
                c.push(store_op(bytes));
            }
            Statement::StoreLocal(bytes, i, v) => {
                c.extend(array_load(bytes, !short));
                c.extend(short_load(i, false));
                c.extend(short_load(v, short));
                c.push(store_op(bytes));
            }
            Statement::AddLoadAt(x, i, k, to) => {
                c.extend(short_load(x, short));
                c.extend(array_load(false, short));
                c.extend(short_load(i, false));
                c.extend(short_const(k));
                c.push(Op::Sadd as u8);
                c.push(Op::Saload as u8);
                c.push(Op::Sadd as u8);
                c.extend([Op::Sstore as u8, to]);
            }
            Statement::SkipIfZero(_) | Statement::SkipIfCmp(..) => {}
        }
        c
    }

    /// The test of a statement that skips the next one (`SkipIfZero`, `SkipIfCmp`), without
    /// its branch offset byte, and its branch opcode; `None` for any other statement.
    fn skip_test(s: &Statement, short: bool) -> Option<(StdVec<u8>, u8)> {
        match *s {
            Statement::SkipIfZero(x) => Some((short_load(x, short), Op::Ifeq as u8)),
            Statement::SkipIfCmp(x, y, z, k, o, cond) => {
                let mut c = short_load(x, short);
                c.extend(short_load(y, !short));
                match k {
                    Some(k) => c.extend(short_const(k)),
                    None => c.extend(short_load(z, short)),
                }
                c.push(SHORT_OPS[o as usize % SHORT_OPS.len()] as u8);
                Some((c, Op::IfScmpeq as u8 + cond % 6))
            }
            _ => None,
        }
    }

    /// The method: the arrays, the indexes `a & 7` and `b & 7`, the statements, and the sum of
    /// every local and element returned.
    fn generated_method(statements: &[(Statement, bool)]) -> StdVec<u8> {
        let mut m = vec![0x08, 0x26]; // max_stack 8, nargs 2, max_locals 6
        m.extend([
            Op::Bspush as u8,
            8,
            Op::Newarray as u8,
            12,
            Op::Astore2 as u8,
        ]);
        m.extend([
            Op::Bspush as u8,
            8,
            Op::Newarray as u8,
            11,
            Op::Astore3 as u8,
        ]);
        for (from, to) in [(0u8, 4u8), (1, 5)] {
            m.extend([
                Op::Sload0 as u8 + from,
                Op::Sconst5 as u8,
                Op::Sconst2 as u8,
            ]);
            m.extend([Op::Sadd as u8, Op::Sand as u8, Op::Sstore as u8, to]);
        }
        let mut k = 0;
        while k < statements.len() {
            let (s, short) = &statements[k];
            if let Some((test, branch)) = skip_test(s, *short) {
                // (a skip statement after a skip statement: nothing to skip, that one is left
                // out)
                let next = statements
                    .get(k + 1)
                    .map(|(s, short)| statement_code(s, *short))
                    .unwrap_or_default();
                m.extend(test);
                m.extend([branch, 2 + next.len() as u8]);
                m.extend(next);
                k += 2;
                continue;
            }
            m.extend(statement_code(s, *short));
            k += 1;
        }
        // the sum of the locals and of every element
        m.extend(ops(&[Op::Sconst0]));
        for i in [0u8, 1, 4, 5, 6, 7] {
            m.extend(short_load(i, true));
            m.push(Op::Sadd as u8);
        }
        for bytes in [false, true] {
            for i in 0..8 {
                m.extend(array_load(bytes, true));
                m.extend(short_const(i));
                m.extend([load_op_of(bytes), Op::Sadd as u8]);
            }
        }
        m.push(Op::Sreturn as u8);
        m
    }

    /// `baload` for the byte array, else `saload`.
    fn load_op_of(bytes: bool) -> u8 {
        if bytes {
            Op::Baload as u8
        } else {
            Op::Saload as u8
        }
    }

    /// Any statement, its locals and constants from the ranges that make sense.
    fn statement() -> impl proptest::strategy::Strategy<Value = Statement> {
        use proptest::prelude::*;
        let short_local = prop::sample::select(vec![0u8, 1, 4, 5, 6, 7]);
        let index = prop::sample::select(vec![4u8, 5]);
        let result = prop::sample::select(vec![6u8, 7]);
        let k = prop_oneof![-1i8..=5, any::<i8>(), -3i8..=3];
        prop_oneof![
            (
                short_local.clone(),
                short_local.clone(),
                any::<u8>(),
                result.clone()
            )
                .prop_map(|(x, y, o, to)| Statement::LocalOp(x, y, o, to)),
            (short_local.clone(), k.clone(), any::<u8>(), result.clone())
                .prop_map(|(x, k, o, to)| Statement::ConstOp(x, k, o, to)),
            (any::<bool>(), index.clone(), result.clone())
                .prop_map(|(b, i, to)| Statement::Load(b, i, to)),
            (any::<bool>(), index.clone(), -3i8..=3, result.clone())
                .prop_map(|(b, i, k, to)| Statement::LoadAt(b, i, k, to)),
            (any::<bool>(), index.clone(), k).prop_map(|(b, i, k)| Statement::StoreConst(b, i, k)),
            (any::<bool>(), index.clone(), short_local.clone())
                .prop_map(|(b, i, v)| Statement::StoreLocal(b, i, v)),
            (short_local.clone(), index, -3i8..=3, result)
                .prop_map(|(x, i, k, to)| Statement::AddLoadAt(x, i, k, to)),
            short_local.clone().prop_map(Statement::SkipIfZero),
            (
                short_local.clone(),
                short_local.clone(),
                short_local,
                prop::option::of(-3i8..=3),
                any::<u8>(),
                0u8..6
            )
                .prop_map(|(x, y, z, k, o, c)| Statement::SkipIfCmp(x, y, z, k, o, c)),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Generated methods of element accesses (computed indexes included, some out of
        /// range: about 60 % of the methods return, the others throw), short arithmetic and
        /// branches over statements: proven, fused and decoded, they return what the unfused
        /// method returns in the checked loop, or fail alike. (It fails on the single pass
        /// that let an `L; L` take a decoded sequence's first load.)
        #[test]
        fn random_element_and_arithmetic_code_runs_fused_as_unfused(
            statements in proptest::collection::vec((statement(), proptest::bool::ANY), 1..24),
            a in proptest::prelude::any::<i16>(),
            b in proptest::prelude::any::<i16>(),
        ) {
            let m = generated_method(&statements);
            let mut fast = vm_with(&m);
            proptest::prop_assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
            let mut checked = vm_with(&m);
            let got = fast.run(&mut NoNatives, 1, &[a, b]);
            let want = checked.run(&mut NoNatives, 1, &[a, b]);
            // (an exception has no object in this bare VM: both fail the same way)
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn int_superinstructions_run_as_the_instructions_they_replace() {
        // short f(short a, short b): int x = (a << 16) ^ b (locals 2-3), int y = x ^ 0x1234
        // (locals 4-5); h (local 6) = h * 31 + (short) (x|y <op> k) for every int op and
        // constant form
        let mut m = vec![0x05, 0x25]; // max_stack 5, nargs 2, max_locals 5
        m.extend(ops(&[Op::Sload0, Op::S2i]));
        m.extend([
            Op::Bipush as u8,
            16,
            Op::Ishl as u8,
            Op::Sload1 as u8,
            Op::S2i as u8,
        ]);
        m.extend(ops(&[Op::Ixor, Op::Istore2, Op::Iload2]));
        m.extend([
            Op::Sipush as u8,
            0x12,
            0x34,
            Op::Ixor as u8,
            Op::Istore as u8,
            4,
        ]);
        m.extend([Op::Sconst0 as u8, Op::Sstore as u8, 6]);
        let loads: [&[u8]; 2] = [&[Op::Iload2 as u8], &[Op::Iload as u8, 4]];
        let consts: [&[u8]; 4] = [
            &[Op::Bipush as u8, (-3i8) as u8],
            &[Op::Sipush as u8, 0x07, 0x77],
            &[Op::Iconst5 as u8],
            &[Op::IconstM1 as u8],
        ];
        for op in INT_OPS {
            for load in loads {
                for k in consts {
                    m.extend([Op::Sload as u8, 6, Op::Bspush as u8, 31, Op::Smul as u8]);
                    m.extend_from_slice(load);
                    m.extend_from_slice(k);
                    m.extend([op as u8, Op::I2s as u8, Op::Sadd as u8]);
                    m.extend([Op::Sstore as u8, 6]);
                }
            }
        }
        m.extend([Op::Sload as u8, 6, Op::Sreturn as u8]);
        let model = |a: i16, b: i16| -> i16 {
            let x = ((a as i32) << 16) ^ b as i32;
            let y = x ^ 0x1234;
            let mut h = 0i16;
            for op in INT_OPS {
                for v in [x, y] {
                    for k in [-3, 0x777, 5, -1] {
                        let r = model_int_op(op, v, k);
                        h = h.wrapping_mul(31).wrapping_add(r as i16);
                    }
                }
            }
            h
        };
        let mut fast = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut code = vec![0u8; m.len()];
        fast.nvm.read(METHODS as usize + 1, &mut code).unwrap();
        assert!(code.contains(&fused::IK_OP));
        assert!(code.contains(&fused::encode(fused::IK_OP, Op::Iload2 as u8)));
        let mut checked = vm_with(&m);
        for (a, b) in [(0, 0), (1, -1), (-32768, 32767), (0x1234, -0x4321), (-1, 5)] {
            let want = Ok(crate::Value::Word(model(a, b)));
            assert_eq!(fast.run(&mut NoNatives, 1, &[a, b]), want, "fast {a} {b}");
            assert_eq!(
                checked.run(&mut NoNatives, 1, &[a, b]),
                want,
                "checked {a} {b}"
            );
        }
    }

    /// The proven loop's peepholes: a constant followed by an operation (short and int, every
    /// constant form), `s2i` followed by an int operation, and any short or int result
    /// followed by a store (`sstore_n`, `sstore`, `istore_n`, `istore`) or by something else.
    #[test]
    fn constant_and_store_peepholes_run_as_the_instructions_they_replace() {
        // short f(short a, short b); locals: 2-3 int t, 4 hash h, 5 short s
        let mut m = vec![0x05, 0x24]; // max_stack 5, nargs 2, max_locals 4
        let mix = [Op::Sload as u8, 4, Op::Bspush as u8, 31, Op::Smul as u8];
        let mix_end = [Op::Sadd as u8, Op::Sstore as u8, 4];
        let short_consts: [&[u8]; 4] = [
            &[Op::SconstM1 as u8],
            &[Op::Sconst5 as u8],
            &[Op::Bspush as u8, (-7i8) as u8],
            &[Op::Sspush as u8, 0x12, 0x34],
        ];
        let short_stores: [&[u8]; 3] = [
            &[Op::Sstore as u8, 5, Op::Sload as u8, 5],
            &[Op::Sstore3 as u8, Op::Sload3 as u8],
            &[],
        ];
        let int_consts: [&[u8]; 4] = [
            &[Op::IconstM1 as u8],
            &[Op::Iconst4 as u8],
            &[Op::Bipush as u8, (-9i8) as u8],
            &[Op::Sipush as u8, 0x05, 0x67],
        ];
        let int_stores: [&[u8]; 3] = [
            &[Op::Istore as u8, 2, Op::Iload2 as u8],
            &[Op::Istore2 as u8, Op::Iload as u8, 2],
            &[],
        ];
        for op in SHORT_OPS {
            for k in short_consts {
                for store in short_stores {
                    // (short) a <op> k, the left operand not a local load (no superinstruction)
                    m.extend(ops(&[Op::Sload0, Op::S2b]));
                    m.extend_from_slice(k);
                    m.push(op as u8);
                    m.extend_from_slice(store);
                    m.extend(mix);
                    m.extend(ops(&[Op::SwapX]));
                    m.push(0x11);
                    m.extend(mix_end);
                }
            }
        }
        // the int x = (a << 16) ^ b, both halves significant
        let wide = [
            Op::Sload0 as u8,
            Op::S2i as u8,
            Op::Bipush as u8,
            16,
            Op::Ishl as u8,
            Op::Sload1 as u8,
            Op::S2i as u8,
            Op::Ixor as u8,
        ];
        for op in INT_OPS {
            for k in int_consts {
                for store in int_stores {
                    m.extend(wide.iter().copied());
                    m.extend_from_slice(k);
                    m.push(op as u8);
                    m.extend_from_slice(store);
                    m.push(Op::I2s as u8);
                    m.extend(mix);
                    m.extend(ops(&[Op::SwapX]));
                    m.push(0x11);
                    m.extend(mix_end);
                }
            }
            for store in int_stores {
                // x <op> (int) b: `s2i` straight before the operation
                m.extend(wide.iter().copied());
                m.extend(ops(&[Op::Sload1, Op::S2i]));
                m.push(op as u8);
                m.extend_from_slice(store);
                m.push(Op::I2s as u8);
                m.extend(mix);
                m.extend(ops(&[Op::SwapX]));
                m.push(0x11);
                m.extend(mix_end);
            }
        }
        m.extend([Op::Sload as u8, 4, Op::Sreturn as u8]);
        let model = |a: i16, b: i16| -> i16 {
            let mut h = 0i16;
            let mut mix = |v: i16| h = h.wrapping_mul(31).wrapping_add(v);
            for op in SHORT_OPS {
                for k in [-1, 5, -7, 0x1234] {
                    for _ in 0..3 {
                        mix(model_short_op(op, a as i8 as i16, k));
                    }
                }
            }
            let x = ((a as i32) << 16) ^ b as i32;
            for op in INT_OPS {
                for k in [-1, 4, -9, 0x567] {
                    for _ in 0..3 {
                        mix(model_int_op(op, x, k) as i16);
                    }
                }
                for _ in 0..3 {
                    mix(model_int_op(op, x, b as i32) as i16);
                }
            }
            h
        };
        let mut fast = vm_with(&m);
        assert_eq!(prove_and_fuse(&mut fast, &[1]), [true]);
        let mut checked = vm_with(&m);
        for (a, b) in [
            (0, 0),
            (1, -1),
            (-32768, 32767),
            (0x1234, -0x4321),
            (-1, 5),
            (200, 17),
        ] {
            let want = Ok(crate::Value::Word(model(a, b)));
            assert_eq!(fast.run(&mut NoNatives, 1, &[a, b]), want, "fast {a} {b}");
            assert_eq!(
                checked.run(&mut NoNatives, 1, &[a, b]),
                want,
                "checked {a} {b}"
            );
        }
    }

    #[test]
    fn a_fused_method_runs_checked_as_its_original_code() {
        let original = fused_program();
        let mut vm = vm_with(&original);
        assert_eq!(prove_and_fuse(&mut vm, &[1]), [true]);
        let info = vm.packages[0];
        let mut fused_code = vec![0u8; original.len()];
        vm.nvm.read(METHODS as usize + 1, &mut fused_code).unwrap();
        assert_ne!(fused_code, original);
        // the proof record is lost (or the image was linked by a build with the proven
        // loop, opened by one without): the method runs checked
        vm.nvm
            .write(fast_map_addr(info.method_addr, info.method_len), &[0])
            .unwrap();
        assert!(!vm.is_fast(&info, 1));
        for (a, b) in [(-2, 9), (5, 5), (i16::MIN, 0)] {
            let want = Ok(crate::Value::Word(fused_model(a, b)));
            assert_eq!(vm.run(&mut NoNatives, 1, &[a, b]), want);
        }
        // and a walk no longer proves it: its code holds internal opcodes
        assert!(!vm.verify_method(&mut verifier(), 1));
    }

    /// Instance field entries 0.. of package 0's constant pool with cells `cells`.
    fn field_entries(vm: &mut Vm<RamNvm<0x10000>>, cells: &[u16]) {
        let cp = 0x5000u32;
        for (i, &cell) in cells.iter().enumerate() {
            let entry = (layout::CP_IFIELD as u32) << 24 | cell as u32;
            vm.nvm.write_u32(cp as usize + 4 * i, entry).unwrap();
        }
        vm.packages[0].cp_addr = cp;
        vm.packages[0].cp_count = cells.len() as u16;
    }

    #[test]
    fn this_field_instructions_get_their_cells_at_link() {
        // method 1 (`this` in local 0): every `getfield_<t>_this`/`putfield_<t>_this` whose
        // entry names a cell below 256 takes the cell as its operand; the one naming cell 300
        // and the `getfield_s` (object popped) keep their index
        let mut m = vec![0x03, 0x10]; // max_stack 3, nargs 1, max_locals 0
        let code = [
            Op::GetfieldSThis as u8,
            0,
            Op::PutfieldSThis as u8,
            1,
            Op::GetfieldIThis as u8,
            2,
            Op::PutfieldIThis as u8,
            3,
            Op::GetfieldAThis as u8,
            4,
            Op::PutfieldAThis as u8,
            5,
            Op::GetfieldBThis as u8,
            6,
            Op::PutfieldBThis as u8,
            7,
            Op::GetfieldBThis as u8,
            8,
            Op::Pop as u8,
            Op::Aload0 as u8,
            Op::GetfieldS as u8,
            0,
            Op::Sreturn as u8,
        ];
        m.extend(code);
        let mut vm = vm_with(&m);
        field_entries(&mut vm, &[10, 11, 12, 13, 14, 15, 16, 17, 300]);
        assert_eq!(prove_and_fuse(&mut vm, &[1]), [true]);
        let mut linked = [0u8; 23];
        vm.nvm.read(METHODS as usize + 3, &mut linked).unwrap();
        let want = [
            fused::GETFIELD_S_THIS_CELL,
            10,
            fused::PUTFIELD_S_THIS_CELL,
            11,
            fused::GETFIELD_I_THIS_CELL,
            12,
            fused::PUTFIELD_I_THIS_CELL,
            13,
            fused::GETFIELD_A_THIS_CELL,
            14,
            fused::PUTFIELD_A_THIS_CELL,
            15,
            fused::GETFIELD_B_THIS_CELL,
            16,
            fused::PUTFIELD_B_THIS_CELL,
            17,
        ];
        assert_eq!(linked[..16], want);
        assert_eq!(linked[16..], code[16..]);
        // every reader of code sees the original instruction (its length and stack effect
        // included: a walk proves the method again)
        for (at, &byte) in linked.iter().enumerate().step_by(2).take(8) {
            assert_eq!(original_opcode(byte), code[at]);
        }
        assert!(vm.verify_method(&mut verifier(), 1));
    }

    /// Every field instruction (`getfield`/`putfield` of each type, plain, `_w` and `_this`)
    /// in both loops, against the heap's own field accessors: one method per instruction.
    #[test]
    fn every_field_instruction_reads_and_writes_its_cell_in_both_loops() {
        // a built-in class of 6 cells: int at cells 0-1, short at 2, byte at 3, reference at 4
        static FIELDS: ApiCatalog = ApiCatalog {
            packages: &[],
            classes: &[crate::api::BuiltinClass {
                package: 0,
                token: 0,
                super_class: None,
                flags: 0,
                cells: 6,
                vtable: &[],
                interfaces: &[],
            }],
            static_methods: &[],
            natives: &[],
        };
        // (type, cell, value written, the get opcodes (plain, _w, _this), the put opcodes)
        let types = [
            (
                'i',
                0u16,
                0x89AB_CDEFu32 as i32,
                [Op::GetfieldI, Op::GetfieldIW, Op::GetfieldIThis],
                [Op::PutfieldI, Op::PutfieldIW, Op::PutfieldIThis],
            ),
            (
                's',
                2,
                -0x7BDF,
                [Op::GetfieldS, Op::GetfieldSW, Op::GetfieldSThis],
                [Op::PutfieldS, Op::PutfieldSW, Op::PutfieldSThis],
            ),
            (
                'b',
                3,
                0x1285,
                [Op::GetfieldB, Op::GetfieldBW, Op::GetfieldBThis],
                [Op::PutfieldB, Op::PutfieldBW, Op::PutfieldBThis],
            ),
            (
                'a',
                4,
                0,
                [Op::GetfieldA, Op::GetfieldAW, Op::GetfieldAThis],
                [Op::PutfieldA, Op::PutfieldAW, Op::PutfieldAThis],
            ),
        ];
        // constant-pool entry `k` and `256 + k` name type `k`'s cell (300 entries)
        let cell_of = |index: usize| types.get(index % 256).map_or(5, |t| t.1);
        let mut methods = Vec::<(usize, char, u16, i32, bool), 32>::new(); // (offset, type, cell, value, put)
        let mut comp = StdVec::new();
        for &(ty, cell, value, gets, puts) in &types {
            let k = types.iter().position(|t| t.0 == ty).unwrap() as u8;
            for (form, (get, put)) in gets.iter().zip(puts.iter()).enumerate() {
                let operand = |code: &mut StdVec<u8>| match form {
                    1 => code.extend([1, k]), // index 256 + k
                    _ => code.push(k),
                };
                // get: [aload_0] getfield idx; <t>return
                let at = comp.len() + 1;
                comp.extend([0x02, 0x10]); // max_stack 2, nargs 1, max_locals 0
                if form != 2 {
                    comp.push(Op::Aload0 as u8);
                }
                comp.push(*get as u8);
                operand(&mut comp);
                comp.push(match ty {
                    'i' => Op::Ireturn as u8,
                    'a' => Op::Areturn as u8,
                    _ => Op::Sreturn as u8,
                });
                methods.push((at, ty, cell, value, false)).unwrap();
                // put: [aload_0] <value> putfield idx; return
                let at = comp.len() + 1;
                comp.extend([0x03, 0x10]); // max_stack 3, nargs 1, max_locals 0
                if form != 2 {
                    comp.push(Op::Aload0 as u8);
                }
                match ty {
                    'i' => {
                        comp.push(Op::Iipush as u8);
                        comp.extend(value.to_be_bytes());
                    }
                    'a' => comp.push(Op::Aload0 as u8),
                    _ => {
                        comp.push(Op::Sspush as u8);
                        comp.extend((value as i16).to_be_bytes());
                    }
                }
                comp.push(*put as u8);
                operand(&mut comp);
                comp.push(Op::Return as u8);
                methods.push((at, ty, cell, value, true)).unwrap();
            }
        }
        let offsets: StdVec<MethodRef> = methods.iter().map(|m| m.0 as MethodRef).collect();
        let mut vm = vm_with_catalog(&comp, &FIELDS);
        let cp = 0x5000usize;
        for index in 0..300 {
            let entry = (layout::CP_IFIELD as u32) << 24 | cell_of(index) as u32;
            vm.nvm.write_u32(cp + 4 * index, entry).unwrap();
        }
        vm.packages[0].cp_addr = cp as u32;
        vm.packages[0].cp_count = 300;
        assert!(prove_and_fuse(&mut vm, &offsets).iter().all(|&p| p));
        let info = vm.packages[0];
        let obj = vm.new_instance(0).unwrap();
        for checked in [false, true] {
            if checked {
                // the proof record lost: every method runs in the checked loop, the
                // `_this` forms with the cells the link put in their operands
                let map = fast_map_addr(info.method_addr, info.method_len);
                vm.nvm.write(map, &[0; 64]).unwrap();
            }
            for &(m, ty, cell, value, put) in &methods {
                assert_eq!(vm.is_fast(&info, m as u32), !checked);
                let what = (m, ty, put, checked);
                // the value as the field holds it: a byte truncated and sign-extended (the
                // byte field is preset with the whole short for a get, which takes its low
                // byte), a reference the object itself
                let raw = if ty == 'a' { obj as i32 } else { value };
                let value = if ty == 'b' { raw as i8 as i32 } else { raw };
                let words = |v: i32| {
                    if ty == 'i' {
                        [(v >> 16) as i16, v as i16]
                    } else {
                        [v as i16, 0]
                    }
                };
                for c in 0..6 {
                    vm.put_field(obj, c, 0x5A5A).unwrap();
                }
                let got = if put {
                    let r = vm.run(&mut NoNatives, m as u32, &[obj as i16]);
                    assert_eq!(r, Ok(crate::Value::Void), "{what:?}");
                    let stored = [
                        vm.get_field(obj, cell).unwrap(),
                        vm.get_field(obj, cell + 1).unwrap(),
                    ];
                    let n = if ty == 'i' { 2 } else { 1 };
                    assert_eq!(stored[..n], words(value)[..n], "{what:?}");
                    // no other cell changed
                    for c in (0..6).filter(|&c| c < cell || c >= cell + n as u16) {
                        assert_eq!(vm.get_field(obj, c), Ok(0x5A5A), "{what:?} cell {c}");
                    }
                    continue;
                } else {
                    vm.put_field(obj, cell, words(raw)[0]).unwrap();
                    if ty == 'i' {
                        vm.put_field(obj, cell + 1, words(raw)[1]).unwrap();
                    }
                    vm.run(&mut NoNatives, m as u32, &[obj as i16])
                };
                let want = if ty == 'i' {
                    crate::Value::Int(value)
                } else {
                    crate::Value::Word(value as i16)
                };
                assert_eq!(got, Ok(want), "{what:?}");
            }
        }
    }

    #[test]
    fn static_field_instructions_get_their_addresses_at_link_and_run_only_proven() {
        // one method per instruction: (code, constant-pool index, field address, rewritten
        // to); entry 8 names an address past 64 KiB and keeps its index, as does
        // `putstatic_a`
        let cases: [(&[u8], u16, u32, Option<u8>); 9] = [
            (
                &[Op::GetstaticS as u8, 0, 0, Op::Sreturn as u8],
                0,
                0x6000,
                Some(fused::GETSTATIC_S_AT),
            ),
            (
                &[
                    Op::Sspush as u8,
                    0x12,
                    0x34,
                    Op::PutstaticS as u8,
                    0,
                    1,
                    Op::Return as u8,
                ],
                1,
                0x6002,
                Some(fused::PUTSTATIC_S_AT),
            ),
            (
                &[Op::GetstaticB as u8, 0, 2, Op::Sreturn as u8],
                2,
                0x6004,
                Some(fused::GETSTATIC_B_AT),
            ),
            (
                &[
                    Op::Sspush as u8,
                    0x12,
                    0x85,
                    Op::PutstaticB as u8,
                    0,
                    3,
                    Op::Return as u8,
                ],
                3,
                0x6005,
                Some(fused::PUTSTATIC_B_AT),
            ),
            (
                &[Op::GetstaticI as u8, 0, 4, Op::Ireturn as u8],
                4,
                0x6008,
                Some(fused::GETSTATIC_I_AT),
            ),
            (
                &[
                    Op::Iipush as u8,
                    0x89,
                    0xAB,
                    0xCD,
                    0xEF,
                    Op::PutstaticI as u8,
                    0,
                    5,
                    Op::Return as u8,
                ],
                5,
                0x600C,
                Some(fused::PUTSTATIC_I_AT),
            ),
            (
                &[Op::GetstaticA as u8, 0, 6, Op::Areturn as u8],
                6,
                0x6010,
                Some(fused::GETSTATIC_A_AT),
            ),
            (
                &[
                    Op::AconstNull as u8,
                    Op::PutstaticA as u8,
                    0,
                    7,
                    Op::Return as u8,
                ],
                7,
                0x6012,
                None,
            ),
            (
                &[Op::GetstaticS as u8, 0, 8, Op::Sreturn as u8],
                8,
                0x1_0000,
                None,
            ),
        ];
        let mut comp = StdVec::new();
        let mut at = StdVec::new();
        for (code, ..) in &cases {
            at.push(comp.len() + 1);
            comp.extend([0x02, 0x00]); // max_stack 2, nargs 0, max_locals 0
            comp.extend_from_slice(code);
        }
        let mut vm = vm_with(&comp);
        let cp = 0x5000usize;
        for (_, index, addr, _) in &cases {
            let entry = (layout::CP_SFIELD as u32) << 24 | addr;
            vm.nvm.write_u32(cp + 4 * *index as usize, entry).unwrap();
        }
        vm.packages[0].cp_addr = cp as u32;
        vm.packages[0].cp_count = cases.len() as u16;
        let methods: StdVec<MethodRef> = at.iter().map(|&a| a as MethodRef).collect();
        assert!(prove_and_fuse(&mut vm, &methods).iter().all(|&p| p));
        for ((code, _, addr, rewritten), &m) in cases.iter().zip(&at) {
            let op_at = code.len() - 4; // the field instruction, then a return
            let linked: [u8; 3] = vm.read_bytes(METHODS as usize + m + 2 + op_at).unwrap();
            let want = match rewritten {
                Some(op) => [*op, (*addr >> 8) as u8, *addr as u8],
                None => [code[op_at], code[op_at + 1], code[op_at + 2]],
            };
            assert_eq!(linked, want, "method at {m}");
            assert_eq!(original_opcode(linked[0]), code[op_at]);
        }
        // proven: reads and writes reach the fields
        let info = vm.packages[0];
        vm.nvm.write(0x6000, &[0x5A; 0x14]).unwrap();
        vm.nvm.write(0x6000, &[0xFE, 0xDC]).unwrap();
        vm.nvm.write(0x6004, &[0x85]).unwrap();
        vm.nvm.write(0x6008, &[0x01, 0x23, 0x45, 0x67]).unwrap();
        let mut run = |i: usize| {
            assert!(vm.is_fast(&info, at[i] as u32));
            let r = vm.run(&mut NoNatives, at[i] as MethodRef, &[]);
            (r, vm.read_bytes::<0x14>(0x6000).unwrap())
        };
        assert_eq!(run(0).0, Ok(crate::Value::Word(0xFEDCu16 as i16)));
        let (r, image) = run(1);
        assert_eq!(
            (r, &image[2..4]),
            (Ok(crate::Value::Void), &[0x12, 0x34][..])
        );
        assert_eq!(run(2).0, Ok(crate::Value::Word(-123)));
        let (r, image) = run(3);
        // a byte, nothing after it
        assert_eq!(
            (r, &image[5..7]),
            (Ok(crate::Value::Void), &[0x85, 0x5A][..])
        );
        assert_eq!(run(4).0, Ok(crate::Value::Int(0x0123_4567)));
        let (r, image) = run(5);
        assert_eq!(
            (r, &image[12..16]),
            (Ok(crate::Value::Void), &[0x89, 0xAB, 0xCD, 0xEF][..])
        );
        assert_eq!(run(6).0, Ok(crate::Value::Word(0x5A5A)));
        assert_eq!(run(7).0, Ok(crate::Value::Void));
        // run checked (an unproven method may branch onto any byte, this one included):
        // an address operand is never used there, the instruction is undefined; the
        // `putstatic_a` that kept its index still runs
        let map = fast_map_addr(info.method_addr, info.method_len);
        vm.nvm.write(map, &[0; 16]).unwrap();
        let before = vm.read_bytes::<0x14>(0x6000).unwrap();
        for (i, (_, _, _, rewritten)) in cases.iter().enumerate().take(8) {
            let r = vm.run(&mut NoNatives, at[i] as MethodRef, &[]);
            if rewritten.is_some() {
                assert!(
                    matches!(
                        r,
                        Err(crate::Trap::Malformed {
                            what: crate::Detail::UndefinedOpcode,
                            ..
                        })
                    ),
                    "method {i}: {r:?}"
                );
            } else {
                assert_eq!(r, Ok(crate::Value::Void), "method {i}");
            }
        }
        let mut after = vm.read_bytes::<0x14>(0x6000).unwrap();
        after[0x12..].copy_from_slice(&before[0x12..]); // the putstatic_a of null
        assert_eq!(after, before, "no write went through");
    }

    #[test]
    fn a_static_operand_another_proof_reads_as_an_opcode_keeps_its_index() {
        // method 1: `getstatic_s 3; sreturn`; method 2 overlaps it: its header is method 1's
        // second header byte and `getstatic_s`, its code the operand (`nop; sconst_0`) and
        // `sreturn`
        let m = [
            0x01,                 // method 1: max_stack 1
            0x01,                 // method 1: nargs 0, max_locals 1; method 2: max_stack 1
            Op::GetstaticS as u8, // method 2: nargs 7, max_locals 13
            Op::Nop as u8,        // method 1: the operand; method 2's code
            Op::Sconst0 as u8,
            Op::Sreturn as u8,
        ];
        let at = METHODS as usize + 1 + 2;
        for (methods, address) in [(&[1][..], true), (&[1, 2][..], false), (&[2, 1][..], false)] {
            let mut vm = vm_with(&m);
            let entry = (layout::CP_SFIELD as u32) << 24 | 0x6000;
            vm.nvm.write_u32(0x5000 + 12, entry).unwrap();
            vm.packages[0].cp_addr = 0x5000;
            vm.packages[0].cp_count = 4;
            assert!(prove_and_fuse(&mut vm, methods).iter().all(|&p| p));
            let linked: [u8; 3] = vm.read_bytes(at).unwrap();
            let want = if address {
                [fused::GETSTATIC_S_AT, 0x60, 0x00]
            } else {
                [Op::GetstaticS as u8, 0, 3]
            };
            assert_eq!(linked, want, "methods {methods:?}");
        }
    }

    #[test]
    fn a_field_operand_another_proof_reads_as_an_opcode_keeps_its_index() {
        // method 1: `getfield_s_this 3; sreturn`; method 2 overlaps it: its header is method
        // 1's second header byte and `getfield_s_this`, its code is the operand (3:
        // `sconst_0`) and `sreturn`
        let m = [
            0x01,                    // method 1: max_stack 1
            0x11,                    // method 1: nargs 1, max_locals 1; method 2: max_stack 1
            Op::GetfieldSThis as u8, // method 2: nargs 10, max_locals 15
            Op::Sconst0 as u8,       // method 1: the operand; method 2's code
            Op::Sreturn as u8,
        ];
        let at = METHODS as usize + 1 + 2;
        for (methods, cell) in [(&[1][..], true), (&[1, 2][..], false), (&[2, 1][..], false)] {
            let mut vm = vm_with(&m);
            field_entries(&mut vm, &[0, 0, 0, 9]);
            assert!(prove_and_fuse(&mut vm, methods).iter().all(|&p| p));
            let linked: [u8; 2] = vm.read_bytes(at).unwrap();
            let want = if cell {
                [fused::GETFIELD_S_THIS_CELL, 9]
            } else {
                [Op::GetfieldSThis as u8, Op::Sconst0 as u8]
            };
            assert_eq!(linked, want, "methods {methods:?}");
        }
        let mut vm = vm_with(&m);
        field_entries(&mut vm, &[0, 0, 0, 9]);
        prove_and_fuse(&mut vm, &[1, 2]);
        assert_eq!(
            vm.run(&mut NoNatives, 2, &[0; 10]),
            Ok(crate::Value::Word(0))
        );
    }

    #[test]
    fn a_byte_another_proof_reads_as_an_operand_is_not_fused() {
        // method 2: `short a(short x) { return x >= 5 ? 1 : 0; }` (`sload_0; bspush 5;
        // if_scmpge`: a superinstruction); method 1 overlaps it: its header ends with method
        // 2's first header byte, its code starts at method 2's second header byte (0x10,
        // bspush) and reads method 2's `sload_0` as bspush's operand
        let m = [
            0x02,             // method 1: max_stack 2
            0x02,             // method 1: nargs 0, max_locals 2; method 2: max_stack 2
            Op::Bspush as u8, // method 2: nargs 1, max_locals 0
            Op::Sload0 as u8, // method 2's code; method 1: bspush's operand
            Op::Bspush as u8,
            5,
            Op::IfScmpge as u8,
            4,
            Op::Sconst0 as u8,
            Op::Sreturn as u8,
            Op::Sconst1 as u8,
            Op::Sreturn as u8,
        ];
        let sload0_at = METHODS as usize + 1 + 3;
        for (methods, fused) in [(&[2][..], true), (&[2, 1][..], false), (&[1, 2][..], false)] {
            let mut vm = vm_with(&m);
            assert!(prove_and_fuse(&mut vm, methods).iter().all(|&p| p));
            let byte = vm.nvm.read_u8(sload0_at).unwrap();
            let want = if fused {
                fused::encode(fused::LK_IFCMP, Op::Sload0 as u8)
            } else {
                Op::Sload0 as u8
            };
            assert_eq!(byte, want, "methods {methods:?}");
            assert_eq!(vm.run(&mut NoNatives, 2, &[7]), Ok(crate::Value::Word(1)));
            assert_eq!(vm.run(&mut NoNatives, 2, &[4]), Ok(crate::Value::Word(0)));
            if !fused {
                assert_eq!(vm.run(&mut NoNatives, 1, &[]), Ok(crate::Value::Word(1)));
            }
        }
    }

    #[test]
    fn a_fast_invoker_checks_the_words_its_callee_returns() {
        // method 1: `invokestatic 0; sreturn` (proven: CP entry 0 says its method returns 1
        // word); method 7: `return` (returns nothing), entry 0 names it
        let mut m = vec![0x01, 0x00, Op::Invokestatic as u8, 0, 0, Op::Sreturn as u8];
        m.extend([0x00, 0x00, Op::Return as u8]);
        let mut vm = vm_with(&m);
        let cp = 0x5000u32;
        let entry = ((layout::CP_SMETHOD as u32) | (2 << layout::CP_RET_SHIFT)) << 24 | 7;
        vm.nvm.write_u32(cp as usize, entry).unwrap();
        vm.packages[0].cp_addr = cp;
        vm.packages[0].cp_count = 1;
        assert!(vm.verify_method(&mut verifier(), 1));
        assert!(matches!(
            vm.run(&mut NoNatives, 1, &[]),
            Err(crate::Trap::Malformed {
                what: crate::Detail::ReturnValueOverflowsInvoker,
                ..
            })
        ));
        // the same entry with the right words (1 + 1 = 2 means "returns 1 word") for a
        // callee that does return one
        let mut vm = vm_with(&[
            0x01,
            0x00,
            Op::Invokestatic as u8,
            0,
            0,
            Op::Sreturn as u8, //
            0x01,
            0x00,
            Op::Sconst3 as u8,
            Op::Sreturn as u8,
        ]);
        vm.nvm.write_u32(cp as usize, entry).unwrap();
        vm.packages[0].cp_addr = cp;
        vm.packages[0].cp_count = 1;
        assert!(vm.verify_method(&mut verifier(), 1));
        assert_eq!(vm.run(&mut NoNatives, 1, &[]), Ok(crate::Value::Word(3)));
    }

    #[test]
    fn a_fall_through_onto_the_guard_is_a_run_time_trap_not_a_failure() {
        // nop; nop at the very end of the component: the guard after it traps
        let mut vm = vm_with(&[0x00, 0x00, Op::Nop as u8, Op::Nop as u8]);
        assert!(vm.verify_method(&mut verifier(), 1));
    }
}
