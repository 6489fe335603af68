//! The interpreter: one `loop { match op }` over the linked code. The hot state (pc, sp,
//! locals, frame bounds, constant pool) lives in locals; it is written back to the frame
//! before anything that can leave the frame (invoke, return, throw). Opcodes come from the
//! one table in oxicard-isa.
//!
//! The loop exists in two modes, one source (`interp::<FAST>`): methods the load-time
//! verifier proved (see the `verify` module) run without the per-instruction checks of
//! operand stack depth, local indexes and branch targets; every other method runs checked,
//! where every operand, stack slot, local, branch target and constant-pool index is checked
//! at run time. Constant-pool kinds, object and array accesses are checked in both modes,
//! stack indexes are masked to the stack array in both, and a fast invoker checks the words
//! a callee returns. Hostile bytecode stops with [`Trap::Malformed`], never a panic.

use crate::api::{Natives, Value};
use crate::error::{CodeAddress, Detail, Trap};
use crate::firewall::Access;
use crate::heap::{ArrayType, ObjRef, NULL};
use crate::layout::{self, MethodRef, NATIVE_PACKAGE};
#[cfg(feature = "proven-loop")]
use crate::verify::{fused, original_opcode};
use crate::{nvm_err, Frame, SystemException, Vm, MAX_FRAMES, STACK_WORDS};

/// Stack indexes are masked with this (the stack length is a power of two), so an access
/// needs no second bounds check after the frame checks; `sp < limit <= STACK_WORDS` holds.
const STACK_MASK: usize = STACK_WORDS - 1;
const _: () = assert!(STACK_WORDS.is_power_of_two());

/// The int whose two words are `first` (at the lower stack or local index) and `second`.
/// An int's low half is its first word, so that the pair is one little-endian 32-bit value:
/// the compiler reads and writes it as one piece, no shift and no or. The order is the VM's
/// own: only a method that reads one word of an int could see it, which no verified method
/// does, and no native takes an int argument.
#[inline(always)]
fn int_of_words(first: i16, second: i16) -> i32 {
    (first as u16 as i32) | (second as i32) << 16
}

/// The two words of `v`, first word first (see [`int_of_words`]).
#[inline(always)]
fn words_of_int(v: i32) -> [i16; 2] {
    [v as i16, (v >> 16) as i16]
}

/// The int in stack words `at` and `at + 1` (one index mask: the stack has a spare word past
/// the last).
#[inline(always)]
fn stack_int(stack: &[i16; STACK_WORDS + 1], at: usize) -> i32 {
    let j = at & STACK_MASK;
    int_of_words(stack[j], stack[j + 1])
}

/// Writes `v` into stack words `at` and `at + 1` (see [`stack_int`]).
#[inline(always)]
fn set_stack_int(stack: &mut [i16; STACK_WORDS + 1], at: usize, v: i32) {
    let j = at & STACK_MASK;
    let [first, second] = words_of_int(v);
    stack[j] = first;
    stack[j + 1] = second;
}
use oxicard_store::Nvm;

/// Most argument words a native method takes.
const MAX_NATIVE_ARGS: usize = 8;
/// The short operation `op` of an `LK_OP` / `LL_OP` superinstruction (one of `sadd ssub
/// smul sand sor sxor sshl sshr`, anything else `sushr`, as the fuser only fuses these) on
/// `a` and `b`.
#[inline(always)]
fn fused_short_op(op: u8, a: i16, b: i16) -> i16 {
    let s = (b & 0x1F) as u32;
    match op {
        ops::Sadd => a.wrapping_add(b),
        ops::Ssub => a.wrapping_sub(b),
        ops::Smul => a.wrapping_mul(b),
        ops::Sand => a & b,
        ops::Sor => a | b,
        ops::Sxor => a ^ b,
        ops::Sshl => (a as i32).wrapping_shl(s) as i16,
        ops::Sshr => (a as i32).wrapping_shr(s) as i16,
        _ => (a as i32 as u32).wrapping_shr(s) as i16,
    }
}

/// The int operation `op` (one of `iadd isub imul iand ior ixor ishl ishr`, anything else
/// `iushr`) on `a` and `b`: the `IK_OP` superinstruction and the proven loop's
/// constant-operand peepholes.
#[inline(always)]
fn fused_int_op(op: u8, a: i32, b: i32) -> i32 {
    let s = (b & 0x1F) as u32;
    match op {
        ops::Iadd => a.wrapping_add(b),
        ops::Isub => a.wrapping_sub(b),
        ops::Imul => a.wrapping_mul(b),
        ops::Iand => a & b,
        ops::Ior => a | b,
        ops::Ixor => a ^ b,
        ops::Ishl => a.wrapping_shl(s),
        ops::Ishr => a.wrapping_shr(s),
        _ => (a as u32).wrapping_shr(s) as i32,
    }
}

/// Whether `op` is one of the short operations [`fused_short_op`] computes
/// ([`crate::verify::SHORT_OPS`]: no division, remainder or negation).
#[inline(always)]
fn is_short_op(op: u8) -> bool {
    op & 0xC0 == 0x40 && (SHORT_OP_BITS >> (op & 63)) & 1 != 0
}

/// Whether `op` is one of the int operations [`fused_int_op`] computes
/// ([`crate::verify::INT_OPS`]).
#[inline(always)]
fn is_int_op(op: u8) -> bool {
    op & 0xC0 == 0x40 && (INT_OP_BITS >> (op & 63)) & 1 != 0
}

/// Bit `op - 0x40` of every opcode in `ops` (all in 0x40..=0x7F).
const fn opcode_bits(ops: &[oxicard_isa::Opcode]) -> u64 {
    let mut bits = 0u64;
    let mut i = 0;
    while i < ops.len() {
        bits |= 1 << (ops[i] as u8 - 0x40);
        i += 1;
    }
    bits
}
const SHORT_OP_BITS: u64 = opcode_bits(&crate::verify::SHORT_OPS);
const INT_OP_BITS: u64 = opcode_bits(&crate::verify::INT_OPS);

/// Budget units a caught exception costs (an unwind searches handler tables and may pop
/// frames: the work of a few dozen instructions), so that a handler which covers its own
/// throwing instruction ends with the budget like any other runaway loop.
const UNWIND_COST: u64 = 16;

/// The opcode byte values as constants, derived from the one table in oxicard-isa, so the
/// dispatch `match` is on the raw byte (one jump-table lookup per instruction).
#[allow(non_upper_case_globals, dead_code)]
mod ops {
    use oxicard_isa::Opcode as Op;
    pub const Nop: u8 = Op::Nop as u8;
    pub const AconstNull: u8 = Op::AconstNull as u8;
    pub const SconstM1: u8 = Op::SconstM1 as u8;
    pub const Sconst0: u8 = Op::Sconst0 as u8;
    pub const Sconst1: u8 = Op::Sconst1 as u8;
    pub const Sconst2: u8 = Op::Sconst2 as u8;
    pub const Sconst3: u8 = Op::Sconst3 as u8;
    pub const Sconst4: u8 = Op::Sconst4 as u8;
    pub const Sconst5: u8 = Op::Sconst5 as u8;
    pub const IconstM1: u8 = Op::IconstM1 as u8;
    pub const Iconst0: u8 = Op::Iconst0 as u8;
    pub const Iconst1: u8 = Op::Iconst1 as u8;
    pub const Iconst2: u8 = Op::Iconst2 as u8;
    pub const Iconst3: u8 = Op::Iconst3 as u8;
    pub const Iconst4: u8 = Op::Iconst4 as u8;
    pub const Iconst5: u8 = Op::Iconst5 as u8;
    pub const Bspush: u8 = Op::Bspush as u8;
    pub const Sspush: u8 = Op::Sspush as u8;
    pub const Bipush: u8 = Op::Bipush as u8;
    pub const Sipush: u8 = Op::Sipush as u8;
    pub const Iipush: u8 = Op::Iipush as u8;
    pub const Aload: u8 = Op::Aload as u8;
    pub const Sload: u8 = Op::Sload as u8;
    pub const Iload: u8 = Op::Iload as u8;
    pub const Aload0: u8 = Op::Aload0 as u8;
    pub const Aload1: u8 = Op::Aload1 as u8;
    pub const Aload2: u8 = Op::Aload2 as u8;
    pub const Aload3: u8 = Op::Aload3 as u8;
    pub const Sload0: u8 = Op::Sload0 as u8;
    pub const Sload1: u8 = Op::Sload1 as u8;
    pub const Sload2: u8 = Op::Sload2 as u8;
    pub const Sload3: u8 = Op::Sload3 as u8;
    pub const Iload0: u8 = Op::Iload0 as u8;
    pub const Iload1: u8 = Op::Iload1 as u8;
    pub const Iload2: u8 = Op::Iload2 as u8;
    pub const Iload3: u8 = Op::Iload3 as u8;
    pub const Aaload: u8 = Op::Aaload as u8;
    pub const Baload: u8 = Op::Baload as u8;
    pub const Saload: u8 = Op::Saload as u8;
    pub const Iaload: u8 = Op::Iaload as u8;
    pub const Astore: u8 = Op::Astore as u8;
    pub const Sstore: u8 = Op::Sstore as u8;
    pub const Istore: u8 = Op::Istore as u8;
    pub const Astore0: u8 = Op::Astore0 as u8;
    pub const Astore1: u8 = Op::Astore1 as u8;
    pub const Astore2: u8 = Op::Astore2 as u8;
    pub const Astore3: u8 = Op::Astore3 as u8;
    pub const Sstore0: u8 = Op::Sstore0 as u8;
    pub const Sstore1: u8 = Op::Sstore1 as u8;
    pub const Sstore2: u8 = Op::Sstore2 as u8;
    pub const Sstore3: u8 = Op::Sstore3 as u8;
    pub const Istore0: u8 = Op::Istore0 as u8;
    pub const Istore1: u8 = Op::Istore1 as u8;
    pub const Istore2: u8 = Op::Istore2 as u8;
    pub const Istore3: u8 = Op::Istore3 as u8;
    pub const Aastore: u8 = Op::Aastore as u8;
    pub const Bastore: u8 = Op::Bastore as u8;
    pub const Sastore: u8 = Op::Sastore as u8;
    pub const Iastore: u8 = Op::Iastore as u8;
    pub const Pop: u8 = Op::Pop as u8;
    pub const Pop2: u8 = Op::Pop2 as u8;
    pub const Dup: u8 = Op::Dup as u8;
    pub const Dup2: u8 = Op::Dup2 as u8;
    pub const DupX: u8 = Op::DupX as u8;
    pub const SwapX: u8 = Op::SwapX as u8;
    pub const Sadd: u8 = Op::Sadd as u8;
    pub const Iadd: u8 = Op::Iadd as u8;
    pub const Ssub: u8 = Op::Ssub as u8;
    pub const Isub: u8 = Op::Isub as u8;
    pub const Smul: u8 = Op::Smul as u8;
    pub const Imul: u8 = Op::Imul as u8;
    pub const Sdiv: u8 = Op::Sdiv as u8;
    pub const Idiv: u8 = Op::Idiv as u8;
    pub const Srem: u8 = Op::Srem as u8;
    pub const Irem: u8 = Op::Irem as u8;
    pub const Sneg: u8 = Op::Sneg as u8;
    pub const Ineg: u8 = Op::Ineg as u8;
    pub const Sshl: u8 = Op::Sshl as u8;
    pub const Ishl: u8 = Op::Ishl as u8;
    pub const Sshr: u8 = Op::Sshr as u8;
    pub const Ishr: u8 = Op::Ishr as u8;
    pub const Sushr: u8 = Op::Sushr as u8;
    pub const Iushr: u8 = Op::Iushr as u8;
    pub const Sand: u8 = Op::Sand as u8;
    pub const Iand: u8 = Op::Iand as u8;
    pub const Sor: u8 = Op::Sor as u8;
    pub const Ior: u8 = Op::Ior as u8;
    pub const Sxor: u8 = Op::Sxor as u8;
    pub const Ixor: u8 = Op::Ixor as u8;
    pub const Sinc: u8 = Op::Sinc as u8;
    pub const Iinc: u8 = Op::Iinc as u8;
    pub const S2b: u8 = Op::S2b as u8;
    pub const S2i: u8 = Op::S2i as u8;
    pub const I2b: u8 = Op::I2b as u8;
    pub const I2s: u8 = Op::I2s as u8;
    pub const Icmp: u8 = Op::Icmp as u8;
    pub const Ifeq: u8 = Op::Ifeq as u8;
    pub const Ifne: u8 = Op::Ifne as u8;
    pub const Iflt: u8 = Op::Iflt as u8;
    pub const Ifge: u8 = Op::Ifge as u8;
    pub const Ifgt: u8 = Op::Ifgt as u8;
    pub const Ifle: u8 = Op::Ifle as u8;
    pub const Ifnull: u8 = Op::Ifnull as u8;
    pub const Ifnonnull: u8 = Op::Ifnonnull as u8;
    pub const IfAcmpeq: u8 = Op::IfAcmpeq as u8;
    pub const IfAcmpne: u8 = Op::IfAcmpne as u8;
    pub const IfScmpeq: u8 = Op::IfScmpeq as u8;
    pub const IfScmpne: u8 = Op::IfScmpne as u8;
    pub const IfScmplt: u8 = Op::IfScmplt as u8;
    pub const IfScmpge: u8 = Op::IfScmpge as u8;
    pub const IfScmpgt: u8 = Op::IfScmpgt as u8;
    pub const IfScmple: u8 = Op::IfScmple as u8;
    pub const Goto: u8 = Op::Goto as u8;
    pub const Jsr: u8 = Op::Jsr as u8;
    pub const Ret: u8 = Op::Ret as u8;
    pub const Stableswitch: u8 = Op::Stableswitch as u8;
    pub const Itableswitch: u8 = Op::Itableswitch as u8;
    pub const Slookupswitch: u8 = Op::Slookupswitch as u8;
    pub const Ilookupswitch: u8 = Op::Ilookupswitch as u8;
    pub const Areturn: u8 = Op::Areturn as u8;
    pub const Sreturn: u8 = Op::Sreturn as u8;
    pub const Ireturn: u8 = Op::Ireturn as u8;
    pub const Return: u8 = Op::Return as u8;
    pub const GetstaticA: u8 = Op::GetstaticA as u8;
    pub const GetstaticB: u8 = Op::GetstaticB as u8;
    pub const GetstaticS: u8 = Op::GetstaticS as u8;
    pub const GetstaticI: u8 = Op::GetstaticI as u8;
    pub const PutstaticA: u8 = Op::PutstaticA as u8;
    pub const PutstaticB: u8 = Op::PutstaticB as u8;
    pub const PutstaticS: u8 = Op::PutstaticS as u8;
    pub const PutstaticI: u8 = Op::PutstaticI as u8;
    pub const GetfieldA: u8 = Op::GetfieldA as u8;
    pub const GetfieldB: u8 = Op::GetfieldB as u8;
    pub const GetfieldS: u8 = Op::GetfieldS as u8;
    pub const GetfieldI: u8 = Op::GetfieldI as u8;
    pub const PutfieldA: u8 = Op::PutfieldA as u8;
    pub const PutfieldB: u8 = Op::PutfieldB as u8;
    pub const PutfieldS: u8 = Op::PutfieldS as u8;
    pub const PutfieldI: u8 = Op::PutfieldI as u8;
    pub const Invokevirtual: u8 = Op::Invokevirtual as u8;
    pub const Invokespecial: u8 = Op::Invokespecial as u8;
    pub const Invokestatic: u8 = Op::Invokestatic as u8;
    pub const Invokeinterface: u8 = Op::Invokeinterface as u8;
    pub const New: u8 = Op::New as u8;
    pub const Newarray: u8 = Op::Newarray as u8;
    pub const Anewarray: u8 = Op::Anewarray as u8;
    pub const Arraylength: u8 = Op::Arraylength as u8;
    pub const Athrow: u8 = Op::Athrow as u8;
    pub const Checkcast: u8 = Op::Checkcast as u8;
    pub const Instanceof: u8 = Op::Instanceof as u8;
    pub const SincW: u8 = Op::SincW as u8;
    pub const IincW: u8 = Op::IincW as u8;
    pub const IfeqW: u8 = Op::IfeqW as u8;
    pub const IfneW: u8 = Op::IfneW as u8;
    pub const IfltW: u8 = Op::IfltW as u8;
    pub const IfgeW: u8 = Op::IfgeW as u8;
    pub const IfgtW: u8 = Op::IfgtW as u8;
    pub const IfleW: u8 = Op::IfleW as u8;
    pub const IfnullW: u8 = Op::IfnullW as u8;
    pub const IfnonnullW: u8 = Op::IfnonnullW as u8;
    pub const IfAcmpeqW: u8 = Op::IfAcmpeqW as u8;
    pub const IfAcmpneW: u8 = Op::IfAcmpneW as u8;
    pub const IfScmpeqW: u8 = Op::IfScmpeqW as u8;
    pub const IfScmpneW: u8 = Op::IfScmpneW as u8;
    pub const IfScmpltW: u8 = Op::IfScmpltW as u8;
    pub const IfScmpgeW: u8 = Op::IfScmpgeW as u8;
    pub const IfScmpgtW: u8 = Op::IfScmpgtW as u8;
    pub const IfScmpleW: u8 = Op::IfScmpleW as u8;
    pub const GotoW: u8 = Op::GotoW as u8;
    pub const GetfieldAW: u8 = Op::GetfieldAW as u8;
    pub const GetfieldBW: u8 = Op::GetfieldBW as u8;
    pub const GetfieldSW: u8 = Op::GetfieldSW as u8;
    pub const GetfieldIW: u8 = Op::GetfieldIW as u8;
    pub const GetfieldAThis: u8 = Op::GetfieldAThis as u8;
    pub const GetfieldBThis: u8 = Op::GetfieldBThis as u8;
    pub const GetfieldSThis: u8 = Op::GetfieldSThis as u8;
    pub const GetfieldIThis: u8 = Op::GetfieldIThis as u8;
    pub const PutfieldAW: u8 = Op::PutfieldAW as u8;
    pub const PutfieldBW: u8 = Op::PutfieldBW as u8;
    pub const PutfieldSW: u8 = Op::PutfieldSW as u8;
    pub const PutfieldIW: u8 = Op::PutfieldIW as u8;
    pub const PutfieldAThis: u8 = Op::PutfieldAThis as u8;
    pub const PutfieldBThis: u8 = Op::PutfieldBThis as u8;
    pub const PutfieldSThis: u8 = Op::PutfieldSThis as u8;
    pub const PutfieldIThis: u8 = Op::PutfieldIThis as u8;
    pub const Impdep1: u8 = Op::Impdep1 as u8;
    pub const Impdep2: u8 = Op::Impdep2 as u8;
}

/// Whether a branch of condition `c` (0..=5: eq, ne, lt, ge, gt, le, the order of the JCVM
/// `if<cond>` and `if_scmp<cond>` opcodes) is taken for `a` compared with `b`.
///
/// Without a second jump: the comparison gives an outcome (0 less, 1 equal, 2 greater) and
/// [`COND_TABLE`] has, for each condition, the bit of every outcome that takes the branch.
#[cfg_attr(not(feature = "proven-loop"), allow(dead_code))]
#[inline(always)]
fn cond_taken(c: u8, a: i16, b: i16) -> bool {
    let outcome = (a >= b) as u32 + (a > b) as u32;
    (COND_TABLE >> ((3 * c as u32 + outcome) & 31)) & 1 != 0
}

/// Three bits per condition of [`cond_taken`] (bit 0: less, 1: equal, 2: greater), in opcode
/// order: eq 010, ne 101, lt 001, ge 110, gt 100, le 011. (The fuser writes only 0..=5; any
/// other value still reads some bit of the table, never outside it.)
#[cfg_attr(not(feature = "proven-loop"), allow(dead_code))]
const COND_TABLE: u32 = 0b011_100_110_001_101_010;

/// The bytes (opcode and constant-pool index) of a field opcode and whether its object is
/// `this` (local 0): the `_w` forms have a two-byte index, the `_this` forms take no object
/// from the stack.
#[inline(always)]
fn field_form(byte: u8) -> (usize, bool) {
    match byte {
        0xA9..=0xAC | 0xB1..=0xB4 => (3, false),
        0xAD..=0xB0 | 0xB5..=0xB8 => (2, true),
        _ => (2, false),
    }
}

/// How one run of an interpreter loop ended (besides a trap).
enum Exit {
    /// The outermost frame of this execution returned.
    Return(Value),
    /// The top frame runs in the other mode (see [`Frame::fast`]).
    Switch,
}

/// Where the arguments of a new frame are.
#[derive(Clone, Copy)]
enum Args {
    /// `.1` argument words at stack index `.0` (the method must take exactly that many).
    At(usize, u8),
    /// The method's argument words end at stack index `.0` (the invoker's stack top) and
    /// may not reach below index `.1` (the invoker's operand stack bottom).
    Top(usize, usize),
}

/// Stack words of a returned value.
fn value_words(v: Value) -> u8 {
    match v {
        Value::Void => 0,
        Value::Word(_) => 1,
        Value::Int(_) => 2,
    }
}

impl<N: Nvm> Vm<N> {
    /// Runs `method` with `args` (argument words, `this` first) in the current context
    /// until it returns. An uncaught Java exception is `Err(Trap::Throw(obj))`.
    pub fn run<H: Natives<N>>(
        &mut self,
        host: &mut H,
        method: MethodRef,
        args: &[i16],
    ) -> Result<Value, Trap> {
        self.frames.clear();
        self.frame_floor = 0;
        self.budget_left = self.budget;
        let context = self.context;
        self.execute(host, method, args, 0, context)
    }

    /// Calls `method` from inside a native method (re-entrantly, above the frames of the
    /// running methods), in `context`; the caller's context is restored when it returns or
    /// throws. It shares the remaining budget of the run. Used by the runtime for
    /// `getShareableInterfaceObject`.
    pub fn call_nested<H: Natives<N>>(
        &mut self,
        host: &mut H,
        method: MethodRef,
        args: &[i16],
        context: u8,
    ) -> Result<Value, Trap> {
        let at = self.frames.last().map_or(0, |f| f.sp as usize);
        let saved_floor = self.frame_floor;
        let saved_context = self.context;
        let r = self.execute(host, method, args, at, context);
        self.frame_floor = saved_floor;
        self.context = saved_context;
        r
    }

    /// The context that called into the current one: the context saved by the most recent
    /// frame that switched contexts; `None` when the runtime called the current context.
    pub fn previous_context(&self) -> Option<u8> {
        self.frames
            .iter()
            .rev()
            .map(|f| f.saved_context)
            .find(|&c| c != self.context)
    }

    /// Runs `method` with its arguments at stack index `at`, switching to `context`.
    fn execute<H: Natives<N>>(
        &mut self,
        host: &mut H,
        method: MethodRef,
        args: &[i16],
        at: usize,
        context: u8,
    ) -> Result<Value, Trap> {
        if method >> 16 == NATIVE_PACKAGE {
            return host.invoke(self, (method & 0xFFFF) as u16, args);
        }
        let stack = self
            .stack
            .get_mut(at..at + args.len())
            .ok_or(Trap::StackOverflow)?;
        stack.copy_from_slice(args);
        let floor = self.frames.len();
        self.push_frame(method, at, args.len() as u8, 0)?;
        self.context = context;
        self.frame_floor = floor;
        let mut budget = self.budget_left;
        let result = loop {
            // each frame runs in the mode its method was proven for; a call or return into
            // a method of the other mode comes back here to switch loops
            let fast = self.frames.last().is_some_and(|f| f.fast);
            // without the `proven-loop` feature no frame is fast and the loop is one
            let step = if cfg!(feature = "proven-loop") && fast {
                self.interp::<H, true>(host, &mut budget)
            } else {
                self.interp::<H, false>(host, &mut budget)
            };
            match step {
                Ok(Exit::Switch) => {}
                Ok(Exit::Return(v)) => break Ok(v),
                Err(Trap::Throw(obj)) => match self.unwind(obj) {
                    // a caught exception is charged like a call: a handler may cover the
                    // instruction that throws, and without a charge that loop never ends
                    Ok(true) => match budget.checked_sub(UNWIND_COST) {
                        Some(left) => budget = left,
                        None => break Err(Trap::BudgetExhausted),
                    },
                    Ok(false) => break Err(Trap::Throw(obj)),
                    Err(e) => break Err(e),
                },
                Err(e) => break Err(e),
            }
        };
        self.budget_left = budget;
        if result.is_err() {
            // restore the context of the invoker of this execution
            if let Some(f) = self.frames.get(floor) {
                self.context = f.saved_context;
            }
            self.frames.truncate(floor);
        }
        result
    }

    /// Pushes a frame for bytecode method `m` whose `nargs` argument words start at stack
    /// index `args_at`; `ret_pc` is ignored (the invoker's pc is saved by the caller).
    fn push_frame(
        &mut self,
        m: MethodRef,
        args_at: usize,
        nargs: u8,
        _ret_pc: u32,
    ) -> Result<(), Trap> {
        self.push_frame_with(m, Args::At(args_at, nargs))
    }

    /// Pushes a frame for bytecode method `m`, its arguments placed as `args` says.
    #[inline]
    fn push_frame_with(&mut self, m: MethodRef, args: Args) -> Result<(), Trap> {
        let pkg = (m >> 16) as u8;
        let off = m & 0xFFFF;
        let info = *self.packages.get(pkg as usize).ok_or(Trap::Malformed {
            pc: CodeAddress::new(0),
            what: Detail::MethodInUnknownPackage,
        })?;
        if off >= info.method_len {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(off),
                what: Detail::MethodOffset,
            });
        }
        let a = (info.method_addr + off) as usize;
        let h: [u8; 4] = self.read_bytes(a)?;
        let (max_stack, margs, max_locals, code) = if h[0] & 0x80 != 0 {
            (h[1], h[2], h[3], a + 4)
        } else {
            (h[0] & 0x0F, h[1] >> 4, h[1] & 0x0F, a + 2)
        };
        if h[0] & 0x40 != 0 {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(a as u32),
                what: Detail::InvokeOfAbstractMethod,
            });
        }
        let args_at = match args {
            Args::At(at, nargs) if nargs == margs => at,
            Args::Top(top, floor) if top >= floor + margs as usize => top - margs as usize,
            _ => {
                return Err(Trap::Malformed {
                    pc: CodeAddress::new(a as u32),
                    what: Detail::ArgumentCountMismatch,
                })
            }
        };
        let nargs = margs;
        let base = args_at + nargs as usize + max_locals as usize;
        let limit = base + max_stack as usize;
        if limit > STACK_WORDS {
            return Err(Trap::StackOverflow);
        }
        if let Some(l) = self.stack.get_mut(args_at + nargs as usize..base) {
            // locals are few: a loop, not a call to memset
            for w in l.iter_mut() {
                *w = core::hint::black_box(0);
            }
        }
        let frame = Frame {
            pc: code as u32,
            locals: args_at as u16,
            stack_base: base as u16,
            sp: base as u16,
            stack_limit: limit as u16,
            package: pkg,
            saved_context: self.context,
            fast: self.is_fast(&info, off),
            expect_ret: 0,
        };
        if self.frames.len() >= MAX_FRAMES {
            return Err(Trap::StackOverflow);
        }
        self.frames.push(frame).map_err(|_| Trap::StackOverflow)
    }

    /// Looks for a handler of `obj` from the top frame down; on success the frame stack
    /// is cut back to the handling frame, which continues at the handler.
    #[cold]
    fn unwind(&mut self, obj: ObjRef) -> Result<bool, Trap> {
        let h = self.header(obj)?;
        let mut exact = true;
        while self.frames.len() > self.frame_floor {
            let Some(f) = self.frames.last().copied() else {
                break;
            };
            let info = *self
                .packages
                .get(f.package as usize)
                .ok_or(Trap::Internal(Detail::Pkg))?;
            let m = info.method_addr as usize;
            let pc_off = (f.pc as usize)
                .wrapping_sub(m)
                .wrapping_sub(!exact as usize);
            let count = self.nvm.read_u8(m).map_err(nvm_err)? as usize;
            for i in 0..count {
                let mut e = [0u8; 8];
                self.nvm.read(m + 1 + i * 8, &mut e).map_err(nvm_err)?;
                let start = u16::from_be_bytes([e[0], e[1]]) as usize;
                let len = (u16::from_be_bytes([e[2], e[3]]) & 0x7FFF) as usize;
                let handler = u16::from_be_bytes([e[4], e[5]]) as u32;
                let catch = u16::from_be_bytes([e[6], e[7]]);
                if pc_off < start || pc_off >= start + len {
                    continue;
                }
                let matches = catch == 0 || {
                    let class = self.cp_entry(&info, catch, layout::CP_CLASS, f.pc)? & 0xFFFF;
                    self.is_instance(&h, 0, class as u16)?
                };
                if matches {
                    if handler >= info.method_len {
                        return Err(Trap::Malformed {
                            pc: CodeAddress::new(f.pc),
                            what: Detail::HandlerOffset,
                        });
                    }
                    let top = self
                        .frames
                        .last_mut()
                        .ok_or(Trap::Internal(Detail::Frame))?;
                    top.pc = info.method_addr + handler;
                    top.sp = top.stack_base + 1;
                    if top.stack_base >= top.stack_limit {
                        return Err(Trap::Malformed {
                            pc: CodeAddress::new(f.pc),
                            what: Detail::NoStackForTheException,
                        });
                    }
                    if let Some(s) = self.stack.get_mut(top.stack_base as usize) {
                        *s = obj as i16;
                    }
                    return Ok(true);
                }
            }
            self.context = f.saved_context;
            self.frames.pop();
            exact = false;
        }
        Ok(false)
    }

    /// Resolved constant-pool entry `index` of package `info`, checking its kind; the whole
    /// entry (the tag byte included, see [`layout::CP_RET_SHIFT`]).
    #[inline]
    pub(crate) fn cp_entry(
        &self,
        info: &crate::PackageInfo,
        index: u16,
        tag: u8,
        pc: u32,
    ) -> Result<u32, Trap> {
        if index >= info.cp_count {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(pc),
                what: Detail::CpIndexOutOfRange,
            });
        }
        let e = self
            .nvm
            .read_u32((info.cp_addr + index as u32 * 4) as usize)
            .map_err(nvm_err)?;
        if (e >> 24) as u8 & layout::CP_TAG_MASK != tag {
            return Err(Trap::Malformed {
                pc: CodeAddress::new(pc),
                what: Detail::CpEntryOfWrongKind,
            });
        }
        Ok(e)
    }

    /// Reads a static field of `size` bytes (1, 2, 4) as a sign-extended int.
    fn get_static(&self, addr: u32, size: usize) -> Result<i32, Trap> {
        let mut b = [0u8; 4];
        let buf = b.get_mut(..size).ok_or(Trap::Internal(Detail::Size))?;
        self.nvm.read(addr as usize, buf).map_err(nvm_err)?;
        Ok(match size {
            1 => b[0] as i8 as i32,
            2 => i16::from_be_bytes([b[0], b[1]]) as i32,
            _ => i32::from_be_bytes(b),
        })
    }

    /// The interpreter loop proper: runs until the outermost frame returns or a trap.
    #[allow(unused_assignments)]
    ///
    /// `FAST`: the running method was proven at load (see the `verify` module): operand
    /// stack depths, local indexes and branch targets are not checked. Stack indexes are
    /// masked in both modes, so even a wrong proof could not reach outside the stack array.
    fn interp<H: Natives<N>, const FAST: bool>(
        &mut self,
        host: &mut H,
        budget: &mut u64,
    ) -> Result<Exit, Trap> {
        // the instruction budget is counted in a local and written back on every exit
        let mut left = *budget;
        let mut pc: usize;
        let mut sp: usize;
        let mut locals: usize;
        let mut base: usize;
        let mut limit: usize;
        let mut info: crate::PackageInfo;
        let mut code_lo: usize;
        let mut code_hi: usize;

        macro_rules! load_frame {
            () => {{
                let f = match self.frames.last() {
                    Some(f) => *f,
                    None => {
                        *budget = left;
                        return Err(Trap::Internal(Detail::NoFrame));
                    }
                };
                pc = f.pc as usize;
                sp = f.sp as usize;
                locals = f.locals as usize;
                base = f.stack_base as usize;
                limit = f.stack_limit as usize;
                info = match self.packages.get(f.package as usize) {
                    Some(i) => *i,
                    None => {
                        *budget = left;
                        return Err(Trap::Internal(Detail::FramePackage));
                    }
                };
                code_lo = info.method_addr as usize;
                code_hi = code_lo + info.method_len as usize;
                if f.fast != FAST {
                    *budget = left;
                    return Ok(Exit::Switch);
                }
            }};
        }
        load_frame!();

        let fault: Trap;
        let fault_pc: usize;
        'run: loop {
            let insn = pc;
            // ends the run on trap `$e` at the instruction (or at pc `$at` inside a decoded
            // sequence: the element instruction's own)
            macro_rules! fail {
                ($e:expr) => {
                    fail!($e, insn)
                };
                ($e:expr, $at:expr) => {{
                    fault = $e;
                    fault_pc = $at;
                    break 'run;
                }};
            }
            macro_rules! t {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(e) => fail!(e),
                    }
                };
            }
            macro_rules! bad {
                ($what:expr) => {
                    fail!(Trap::Malformed {
                        pc: CodeAddress::new(insn as u32),
                        what: $what
                    })
                };
            }
            // The running frame's operand stack bounds, package and code range. The checked
            // loop keeps them in locals; the proven loop needs them only for calls and rare
            // instructions and reads them from the frame then, so that fewer values are
            // carried around its loop (and kept in registers).
            macro_rules! top_frame {
                () => {
                    match self.frames.last() {
                        Some(f) => *f,
                        None => fail!(Trap::Internal(Detail::NoFrame)),
                    }
                };
            }
            // the frame's `$field` (`stack_base`, `stack_limit`), kept in local `$local` by the
            // checked loop
            macro_rules! frame_bound {
                ($field:ident, $local:ident) => {
                    if FAST {
                        top_frame!().$field as usize
                    } else {
                        $local
                    }
                };
            }
            macro_rules! frame_info {
                () => {
                    if FAST {
                        match self.packages.get(top_frame!().package as usize) {
                            Some(i) => *i,
                            None => fail!(Trap::Internal(Detail::FramePackage)),
                        }
                    } else {
                        info
                    }
                };
            }
            macro_rules! frame_code {
                () => {
                    if FAST {
                        let i = frame_info!();
                        (
                            i.method_addr as usize,
                            (i.method_addr + i.method_len) as usize,
                        )
                    } else {
                        (code_lo, code_hi)
                    }
                };
            }
            // Operands are not checked against the end of the method component: a read
            // past it stays inside the NVM (which checks its bounds), every operand value
            // is validated where it is used (locals, CP indexes, branch targets) or was
            // proven at load (fast mode).
            // (a proven method's operands are inside its code: read like its opcodes)
            macro_rules! u8at {
                ($off:expr) => {{
                    if FAST {
                        self.proven_code_byte(insn + $off, 0)
                    } else {
                        t!(self.nvm.read_u8(insn + $off).map_err(nvm_err))
                    }
                }};
            }
            macro_rules! u16at {
                ($off:expr) => {{
                    if FAST {
                        u16::from_be_bytes([
                            self.proven_code_byte(insn + $off, 0),
                            self.proven_code_byte(insn + $off + 1, 0),
                        ])
                    } else {
                        t!(self.nvm.read_u16(insn + $off).map_err(nvm_err))
                    }
                }};
            }
            macro_rules! i32at {
                ($off:expr) => {{
                    t!(self.nvm.read_u32(insn + $off).map_err(nvm_err)) as i32
                }};
            }
            macro_rules! push {
                ($v:expr) => {{
                    let v: i16 = $v;
                    if !FAST && sp >= limit {
                        bad!(Detail::OperandStackOverflow)
                    }
                    self.stack[sp & STACK_MASK] = v;
                    sp += 1;
                }};
            }
            macro_rules! pop {
                () => {{
                    if !FAST && sp <= base {
                        bad!(Detail::OperandStackUnderflow)
                    }
                    sp -= 1;
                    self.stack[sp & STACK_MASK]
                }};
            }
            macro_rules! push_int {
                ($v:expr) => {{
                    let [first, second] = words_of_int($v);
                    push!(first);
                    push!(second);
                }};
            }
            macro_rules! pop_int {
                () => {{
                    let second = pop!();
                    let first = pop!();
                    int_of_words(first, second)
                }};
            }
            macro_rules! local {
                ($i:expr) => {{
                    let i = locals + $i as usize;
                    if !FAST && i >= base {
                        bad!(Detail::LocalIndexOutOfRange)
                    }
                    self.stack[i & STACK_MASK]
                }};
            }
            macro_rules! set_local {
                ($i:expr, $v:expr) => {{
                    let i = locals + $i as usize;
                    let v: i16 = $v;
                    if !FAST && i >= base {
                        bad!(Detail::LocalIndexOutOfRange)
                    }
                    self.stack[i & STACK_MASK] = v;
                }};
            }
            // The short result `$v` of the instructions that end before pc `$next`, in a
            // proven method: a following `sstore` takes it at once (one dispatch for both, the
            // store runs as it would next: it is the next instruction of the proven method),
            // a following narrow `if_scmp<cond>` compares the value below it with it and
            // branches (the loop test `i < (short) (off + len)`), otherwise it is pushed.
            macro_rules! short_result {
                ($v:expr, $next:expr) => {{
                    let v: i16 = $v;
                    let next: usize = $next;
                    let b = self.proven_code_byte(next, ops::Impdep1);
                    if b.wrapping_sub(ops::Sstore0) < 4 {
                        self.stack[(locals + (b - ops::Sstore0) as usize) & STACK_MASK] = v;
                        pc = next + 1;
                    } else if b == ops::Sstore {
                        let i = self.proven_code_byte(next + 1, 0) as usize;
                        self.stack[(locals + i) & STACK_MASK] = v;
                        pc = next + 2;
                    } else if b.wrapping_sub(ops::IfScmpeq) < 6 {
                        let a = self.stack[(sp - 1) & STACK_MASK];
                        if cond_taken(b - ops::IfScmpeq, a, v) {
                            let rel = self.proven_code_byte(next + 1, 0) as i8 as isize;
                            let target = next.wrapping_add(rel as usize);
                            if target <= next {
                                charge!((next - target) as u64 + 1);
                            }
                            pc = target;
                        } else {
                            pc = next + 2;
                        }
                        sp -= 1;
                    } else {
                        self.stack[sp & STACK_MASK] = v;
                        sp += 1;
                        pc = next;
                    }
                }};
            }
            // The same for an int result and `istore`.
            macro_rules! int_result {
                ($v:expr, $next:expr) => {{
                    let v: i32 = $v;
                    let next: usize = $next;
                    let b = self.proven_code_byte(next, ops::Impdep1);
                    let (at, len) = if b.wrapping_sub(ops::Istore0) < 4 {
                        (locals + (b - ops::Istore0) as usize, 1)
                    } else if b == ops::Istore {
                        (locals + self.proven_code_byte(next + 1, 0) as usize, 2)
                    } else {
                        (sp, 0)
                    };
                    set_stack_int(&mut self.stack, at, v);
                    if len == 0 {
                        sp += 2;
                    }
                    pc = next + len;
                }};
            }
            // One handler per opcode (no second dispatch inside a handler).
            macro_rules! short_op {
                ($a:ident, $b:ident, $e:expr) => {{
                    // two pops and a push: one check (sp never exceeds the frame limit)
                    if !FAST && sp < base + 2 {
                        bad!(Detail::OperandStackUnderflow)
                    }
                    let $b = self.stack[(sp - 1) & STACK_MASK];
                    let $a = self.stack[(sp - 2) & STACK_MASK];
                    if FAST {
                        let r: i16 = $e;
                        sp -= 2;
                        short_result!(r, pc + 1);
                    } else {
                        self.stack[(sp - 2) & STACK_MASK] = $e;
                        sp -= 1;
                        pc += 1;
                    }
                }};
            }
            // A constant of `$len` bytes: in a proven method, an operation that follows takes
            // it as its right operand at once (its left is already on the stack, as proven)
            macro_rules! short_const {
                ($k:expr, $len:expr) => {{
                    let k: i16 = $k;
                    let b = if FAST {
                        self.proven_code_byte(pc + $len, ops::Impdep1)
                    } else {
                        ops::Nop
                    };
                    if FAST && is_short_op(b) {
                        let a = self.stack[(sp - 1) & STACK_MASK];
                        sp -= 1;
                        short_result!(fused_short_op(b, a, k), pc + $len + 1);
                    } else {
                        push!(k);
                        pc += $len;
                    }
                }};
            }
            macro_rules! int_const {
                ($k:expr, $len:expr) => {{
                    let k: i32 = $k;
                    let b = if FAST {
                        self.proven_code_byte(pc + $len, ops::Impdep1)
                    } else {
                        ops::Nop
                    };
                    if FAST && is_int_op(b) {
                        let a = stack_int(&self.stack, sp - 2);
                        sp -= 2;
                        int_result!(fused_int_op(b, a, k), pc + $len + 1);
                    } else {
                        push_int!(k);
                        pc += $len;
                    }
                }};
            }
            macro_rules! int_op {
                ($a:ident, $b:ident, $e:expr) => {{
                    // four pops and two pushes: one check (sp never exceeds the frame limit)
                    if !FAST && sp < base + 4 {
                        bad!(Detail::OperandStackUnderflow)
                    }
                    // the two ints below the stack top, word by word
                    macro_rules! int_operands {
                        () => {
                            (
                                stack_int(&self.stack, sp - 4),
                                stack_int(&self.stack, sp - 2),
                            )
                        };
                    }
                    let ($a, $b) = if FAST {
                        // the four words in one piece (a proven frame's operands never
                        // wrap around the stack array)
                        let j = (sp - 4) & STACK_MASK;
                        let window = self.stack.get(j..j + 4);
                        match window.and_then(|q| <&[i16; 4]>::try_from(q).ok()) {
                            Some(q) => (int_of_words(q[0], q[1]), int_of_words(q[2], q[3])),
                            None => int_operands!(),
                        }
                    } else {
                        int_operands!()
                    };
                    let r: i32 = $e;
                    if FAST {
                        sp -= 4;
                        int_result!(r, pc + 1);
                    } else {
                        set_stack_int(&mut self.stack, sp - 4, r);
                        sp -= 2;
                        pc += 1;
                    }
                }};
            }
            // the inlined fast paths of element and field bytecodes, in proven methods only
            // (unproven ones take the checked calls: less code for the rare mode)
            macro_rules! fast {
                ($e:expr) => {
                    if FAST {
                        $e
                    } else {
                        None
                    }
                };
            }
            macro_rules! if_short {
                ($v:ident, $cond:expr, $len:expr) => {{
                    let $v = pop!();
                    branch!($cond, $len);
                }};
            }
            macro_rules! if_shorts {
                ($a:ident, $b:ident, $cond:expr, $len:expr) => {{
                    if !FAST && sp < base + 2 {
                        bad!(Detail::OperandStackUnderflow)
                    }
                    let $b = self.stack[(sp - 1) & STACK_MASK];
                    let $a = self.stack[(sp - 2) & STACK_MASK];
                    sp -= 2;
                    branch!($cond, $len);
                }};
            }
            // The budget is charged where code can repeat: a backward branch costs the
            // bytes it jumps back over (about the instructions of the loop body), a call 1.
            macro_rules! charge {
                ($n:expr) => {{
                    let n: u64 = $n;
                    if left < n {
                        fail!(Trap::BudgetExhausted);
                    }
                    left -= n;
                }};
            }
            // a branch of the instruction at `$at` (`jump!`: the running one)
            macro_rules! jump_from {
                ($at:expr, $rel:expr) => {{
                    let at: usize = $at;
                    let target = at as isize + $rel as isize;
                    if !FAST && (target < code_lo as isize || target >= code_hi as isize) {
                        bad!(Detail::BranchTargetOutsideMethods)
                    }
                    if target <= at as isize {
                        charge!((at as isize - target) as u64 + 1);
                    }
                    pc = target as usize;
                    continue 'run;
                }};
            }
            macro_rules! jump {
                ($rel:expr) => {
                    jump_from!(insn, $rel)
                };
            }
            macro_rules! branch {
                ($cond:expr, $len:expr) => {{
                    let c: bool = $cond;
                    if c {
                        let rel = if $len == 2 {
                            u8at!(1) as i8 as i16
                        } else {
                            u16at!(1) as i16
                        };
                        jump!(rel);
                    }
                    pc = insn + $len;
                }};
            }
            macro_rules! cp {
                ($idx:expr, $tag:expr) => {
                    t!(self.cp_entry(&frame_info!(), $idx as u16, $tag, insn as u32)) & 0x00FF_FFFF
                };
            }
            // words the method of a constant-pool method entry returns (0xFF: unknown)
            macro_rules! ret_words {
                ($e:expr) => {
                    (($e >> 24) as u8 >> layout::CP_RET_SHIFT).wrapping_sub(1)
                };
            }
            macro_rules! save {
                ($next:expr) => {{
                    if let Some(f) = self.frames.last_mut() {
                        f.pc = $next as u32;
                        f.sp = sp as u16;
                    }
                }};
            }
            // `$owner`: owner context of the receiver (0: no context switch). Invoking a
            // method of an object of another applet context (a Shareable interface object)
            // switches to that context until the method returns.
            macro_rules! invoke {
                ($m:expr, $nargs:expr, $len:expr, $owner:expr, $ret:expr) => {{
                    let m: MethodRef = $m;
                    let nargs = $nargs as usize;
                    // the words the verifier assumed this call returns (fast frames only)
                    let expect: u8 = $ret;
                    charge!(1);
                    if sp < frame_bound!(stack_base, base) + nargs {
                        bad!(Detail::OperandStackUnderflow)
                    }
                    if m >> 16 == NATIVE_PACKAGE {
                        let mut args = [0i16; MAX_NATIVE_ARGS];
                        let (dst, src) =
                            match (args.get_mut(..nargs), self.stack.get(sp - nargs..sp)) {
                                (Some(d), Some(s)) => (d, s),
                                _ => bad!(Detail::TooManyNativeArguments),
                            };
                        dst.copy_from_slice(src);
                        sp -= nargs;
                        save!(insn);
                        self.budget_left = left;
                        let v = host.invoke(
                            self,
                            (m & 0xFFFF) as u16,
                            args.get(..nargs).unwrap_or(&[]),
                        );
                        left = self.budget_left;
                        let v = t!(v);
                        if FAST && value_words(v) != expect {
                            bad!(Detail::NativeResultWords);
                        }
                        match v {
                            Value::Void => {}
                            Value::Word(w) => push!(w),
                            Value::Int(i) => push_int!(i),
                        }
                        pc = insn + $len;
                    } else {
                        save!(insn + $len);
                        if let Some(f) = self.frames.last_mut() {
                            f.expect_ret = expect;
                        }
                        t!(self.push_frame(m, sp - nargs, nargs as u8, 0));
                        let owner: u8 = $owner;
                        if owner != 0 && owner != self.context {
                            self.context = owner;
                        }
                        load_frame!();
                    }
                }};
            }
            macro_rules! ret {
                ($value:expr) => {{
                    let value: Value = $value;
                    let done = match self.frames.pop() {
                        Some(f) => f,
                        None => {
                            *budget = left;
                            return Err(Trap::Internal(Detail::NoFrame));
                        }
                    };
                    self.context = done.saved_context;
                    if self.frames.len() <= self.frame_floor {
                        *budget = left;
                        return Ok(Exit::Return(value));
                    }
                    // the value goes onto the invoker's stack, checked against its frame:
                    // a fast invoker's proof assumed the words its constant pool names
                    let at = done.locals as usize;
                    let words = value_words(value);
                    let ok = match self.frames.last_mut() {
                        Some(f) => {
                            let fits = at + words as usize <= f.stack_limit as usize
                                && at >= f.stack_base as usize;
                            if fits && (!f.fast || f.expect_ret == words) {
                                f.sp = (at + words as usize) as u16;
                                true
                            } else {
                                false
                            }
                        }
                        None => false,
                    };
                    if !ok {
                        bad!(Detail::ReturnValueOverflowsInvoker);
                    }
                    match value {
                        Value::Void => {}
                        Value::Word(w) => self.stack[at & STACK_MASK] = w,
                        Value::Int(i) => set_stack_int(&mut self.stack, at, i),
                    }
                    load_frame!();
                }};
            }

            // `getstatic_<t>` (`$op`, the JCVM opcode) of the static field at NVM address `$addr`
            macro_rules! getstatic {
                ($op:expr, $addr:expr) => {{
                    let addr: u32 = $addr;
                    let size = match $op {
                        ops::GetstaticB => 1,
                        ops::GetstaticI => 4,
                        _ => 2,
                    };
                    let v = t!(self.get_static(addr, size));
                    if size == 4 {
                        push_int!(v);
                    } else {
                        push!(v as i16);
                    }
                    pc += 3;
                }};
            }
            // `putstatic_<t>` (`$op`, the JCVM opcode) of the static field at NVM address `$addr`
            macro_rules! putstatic {
                ($op:expr, $addr:expr) => {{
                    let addr: u32 = $addr;
                    let op: u8 = $op;
                    match op {
                        ops::PutstaticB => {
                            let v = pop!();
                            t!(self.write_persistent(addr, &[v as u8], true));
                        }
                        ops::PutstaticI => {
                            let v = pop_int!();
                            t!(self.write_persistent(addr, &v.to_be_bytes(), true));
                        }
                        _ => {
                            let v = pop!();
                            if op == ops::PutstaticA {
                                t!(self.guard_stored(v as ObjRef));
                            }
                            t!(self.write_persistent(addr, &v.to_be_bytes(), true));
                        }
                    }
                    pc += 3;
                }};
            }
            // the cell of the field a field instruction of `$len` bytes names: its operand
            // byte (`$cell`) or the constant-pool entry its operand indexes
            macro_rules! field_cell {
                ($len:expr, $cell:expr) => {
                    if $cell {
                        u8at!(1) as u16
                    } else {
                        let idx = if $len == 3 {
                            u16at!(1)
                        } else {
                            u8at!(1) as u16
                        };
                        cp!(idx, layout::CP_IFIELD) as u16
                    }
                };
            }
            // `getfield_<t>[_w|_this]`: `$len` operand-and-opcode bytes, the object `this`
            // (local 0) or popped, an int field (`$int`: two words), a byte field (`$byte`:
            // sign-extended) or one word. The proven loop's arm of each opcode passes
            // constants; the checked loop's one arm for all decodes them from the opcode.
            // (`cell`: a form whose operand byte is the field's cell, resolved at link, see
            // `verify::fused::GETFIELD_A_THIS_CELL`)
            macro_rules! getfield {
                ($len:expr, $this:expr, $int:expr, $byte:expr) => {
                    getfield!($len, $this, $int, $byte, false)
                };
                ($len:expr, $this:expr, $int:expr, $byte:expr, cell) => {
                    getfield!($len, $this, $int, $byte, true)
                };
                ($len:expr, $this:expr, $int:expr, $byte:expr, $cell:expr) => {{
                    let cell = field_cell!($len, $cell);
                    let obj = if $this { local!(0) } else { pop!() } as ObjRef;
                    let hi = match fast!(self.field_fast(obj, cell)) {
                        Some(v) => v,
                        None => t!(self.checked_get_field(obj, cell)),
                    };
                    if $int {
                        let lo = match fast!(self.field_fast(obj, cell.wrapping_add(1))) {
                            Some(v) => v,
                            None => t!(self.get_field(obj, cell.wrapping_add(1))),
                        };
                        push!(lo);
                        push!(hi);
                    } else if $byte {
                        push!(hi as i8 as i16);
                    } else {
                        push!(hi);
                    }
                    pc += $len;
                }};
            }
            // `putfield_<t>[_w|_this]`, as `getfield!`; `$reference`: the firewall checks
            // the reference stored
            macro_rules! putfield {
                ($len:expr, $this:expr, $int:expr, $byte:expr, $reference:expr) => {
                    putfield!($len, $this, $int, $byte, $reference, false)
                };
                ($len:expr, $this:expr, $int:expr, $byte:expr, $reference:expr, cell) => {
                    putfield!($len, $this, $int, $byte, $reference, true)
                };
                ($len:expr, $this:expr, $int:expr, $byte:expr, $reference:expr, $cell:expr) => {{
                    let cell = field_cell!($len, $cell);
                    if $int {
                        let v = pop_int!();
                        let obj = if $this { local!(0) } else { pop!() } as ObjRef;
                        match fast!(self.put_field_fast(obj, cell, (v >> 16) as i16)) {
                            Some(r) => t!(r),
                            None => t!(self.checked_put_field(obj, cell, (v >> 16) as i16)),
                        }
                        match fast!(self.put_field_fast(obj, cell.wrapping_add(1), v as i16)) {
                            Some(r) => t!(r),
                            None => t!(self.put_field(obj, cell.wrapping_add(1), v as i16)),
                        }
                    } else {
                        let mut v = pop!();
                        if $byte {
                            v = v as i8 as i16;
                        }
                        let obj = if $this { local!(0) } else { pop!() } as ObjRef;
                        if $reference {
                            t!(self.guard_stored(v as ObjRef));
                        }
                        match fast!(self.put_field_fast(obj, cell, v)) {
                            Some(r) => t!(r),
                            None => t!(self.checked_put_field(obj, cell, v)),
                        }
                    }
                    pc += $len;
                }};
            }

            // Superinstructions (see `verify::fused`), in proven methods only. They read
            // their code as one window of 8 bytes from `insn` (the guard after the Method
            // component keeps it inside the NVM; the bytes were proven at link).
            #[cfg(feature = "proven-loop")]
            macro_rules! window {
                () => {
                    u64::from_le_bytes(self.read_bytes::<8>(insn).unwrap_or([0; 8]))
                };
            }
            // byte `$k` (< 8) of window `$w`
            #[cfg(feature = "proven-loop")]
            macro_rules! wbyte {
                ($w:expr, $k:expr) => {
                    $w.wrapping_shr(8 * ($k) as u32) as u8
                };
            }
            // the value of the local the load at byte `$k` of window `$w` reads, its length
            #[cfg(feature = "proven-loop")]
            macro_rules! fused_local {
                ($w:expr, $k:expr) => {{
                    let k: usize = $k;
                    let b = wbyte!($w, k);
                    let wide = b & 8 == 0;
                    let i = if wide { wbyte!($w, k + 1) } else { b & 3 };
                    (
                        self.stack[(locals + i as usize) & STACK_MASK],
                        1 + wide as usize,
                    )
                }};
            }
            // `bspush c` or `sconst_k` at byte `$k` of window `$w`: the constant, its length
            #[cfg(feature = "proven-loop")]
            macro_rules! fused_const {
                ($w:expr, $k:expr) => {{
                    let k: usize = $k;
                    let b = wbyte!($w, k);
                    let bspush = b == ops::Bspush;
                    let c = if bspush {
                        wbyte!($w, k + 1) as i8 as i16
                    } else {
                        b as i16 - 3
                    };
                    (c, 1 + bspush as usize)
                }};
            }
            // the narrow branch at byte `$k` of window `$w`, `$taken` or not, the stack top
            // then at `$sp` (set after the budget charge: a trap leaves the frame at `insn`)
            #[cfg(feature = "proven-loop")]
            macro_rules! fused_branch {
                ($w:expr, $taken:expr, $k:expr, $sp:expr) => {{
                    let k: usize = $k;
                    let at = insn + k;
                    if $taken {
                        let target = at.wrapping_add(wbyte!($w, k + 1) as i8 as usize);
                        if target <= at {
                            charge!((at - target) as u64 + 1);
                        }
                        sp = $sp;
                        pc = target;
                        continue 'run;
                    }
                    sp = $sp;
                    pc = at + 2;
                }};
            }
            // one superinstruction whose first load's local is `$i0` and length `$l0`
            #[cfg(feature = "proven-loop")]
            macro_rules! fused_op {
                (LL, $w:ident, $i0:expr, $l0:expr) => {{
                    let a = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let (b, l1) = fused_local!($w, $l0);
                    self.stack[sp & STACK_MASK] = a;
                    self.stack[(sp + 1) & STACK_MASK] = b;
                    sp += 2;
                    pc += $l0 + l1;
                }};
                (LL_IFCMP, $w:ident, $i0:expr, $l0:expr) => {{
                    let a = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let (b, l1) = fused_local!($w, $l0);
                    let c = wbyte!($w, $l0 + l1).wrapping_sub(ops::IfScmpeq);
                    fused_branch!($w, cond_taken(c, a, b), $l0 + l1, sp);
                }};
                (LK_IFCMP, $w:ident, $i0:expr, $l0:expr) => {{
                    let a = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let (b, l1) = fused_const!($w, $l0);
                    let c = wbyte!($w, $l0 + l1).wrapping_sub(ops::IfScmpeq);
                    fused_branch!($w, cond_taken(c, a, b), $l0 + l1, sp);
                }};
                (L_IF, $w:ident, $i0:expr, $l0:expr) => {{
                    let a = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let c = wbyte!($w, $l0).wrapping_sub(ops::Ifeq);
                    fused_branch!($w, cond_taken(c, a, 0), $l0, sp);
                }};
                (L_IFCMP, $w:ident, $i0:expr, $l0:expr) => {{
                    let b = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let a = self.stack[(sp - 1) & STACK_MASK];
                    let c = wbyte!($w, $l0).wrapping_sub(ops::IfScmpeq);
                    fused_branch!($w, cond_taken(c, a, b), $l0, sp - 1);
                }};
                (LK_OP, $w:ident, $i0:expr, $l0:expr) => {{
                    let a = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let (k, l1) = fused_const!($w, $l0);
                    let r = fused_short_op(wbyte!($w, $l0 + l1), a, k);
                    short_result!(r, pc + $l0 + l1 + 1);
                }};
                (LL_XALOAD, $w:ident, $i0:expr, $l0:expr) => {{
                    let arr = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let (index, l1) = fused_local!($w, $l0);
                    let v = if wbyte!($w, $l0 + l1) == ops::Baload {
                        self.load_fast::<1>(arr as ObjRef, index)
                            .map(|[b]| b as i8 as i16)
                    } else {
                        self.load_fast::<2>(arr as ObjRef, index)
                            .map(i16::from_be_bytes)
                    };
                    match v {
                        Some(v) => short_result!(v, pc + $l0 + l1 + 1),
                        None => {
                            // the element instruction runs on its own: the checked path
                            // reads the element or throws at its own pc
                            self.stack[sp & STACK_MASK] = arr;
                            self.stack[(sp + 1) & STACK_MASK] = index;
                            sp += 2;
                            pc += $l0 + l1;
                        }
                    }
                }};
                (IK_OP, $w:ident, $i0:expr, $l0:expr) => {{
                    let a = stack_int(&self.stack, locals + $i0 as usize);
                    let (k, l1) = match wbyte!($w, $l0) {
                        ops::Bipush => (wbyte!($w, $l0 + 1) as i8 as i32, 2),
                        ops::Sipush => (
                            i16::from_be_bytes([wbyte!($w, $l0 + 1), wbyte!($w, $l0 + 2)]) as i32,
                            3,
                        ),
                        c => (c as i32 - ops::Iconst0 as i32, 1),
                    };
                    let r = fused_int_op(wbyte!($w, $l0 + l1), a, k);
                    int_result!(r, pc + $l0 + l1 + 1);
                }};
                (LL_OP, $w:ident, $i0:expr, $l0:expr) => {{
                    let a = self.stack[(locals + $i0 as usize) & STACK_MASK];
                    let (b, l1) = fused_local!($w, $l0);
                    let r = fused_short_op(wbyte!($w, $l0 + l1), a, b);
                    short_result!(r, pc + $l0 + l1 + 1);
                }};
            }
            // the code window of decoded sequence `$op`, the values of the two locals its
            // second and third bytes name, and its length
            #[cfg(feature = "proven-loop")]
            macro_rules! decoded_operands {
                ($op:expr) => {{
                    let w = window!();
                    let (la, lb, len) = fused::decoded_operands($op, wbyte!(w, 1), wbyte!(w, 2));
                    (w, local!(la), local!(lb), len)
                }};
            }
            // `L; L; <t>aload` decoded at link (`fused::LL_BALOAD_DECODED`), elements of `$k`
            // bytes: its operands are in place, no load's form to decode. When the element's
            // fast path does not apply, the element instruction's full path reads it or
            // throws, at that instruction's pc. (The checked loop runs it too, its locals and
            // push checked: a method whose proof record is lost runs as its code was.)
            #[cfg(feature = "proven-loop")]
            macro_rules! decoded_xaload {
                ($k:literal) => {{
                    // (both loads have the same shortest length)
                    let (_, arr, index, len) = decoded_operands!(fused::LL_BALOAD_DECODED);
                    let arr = arr as ObjRef;
                    let v = if $k == 1 {
                        fast!(self.load_fast::<1>(arr, index)).map(|[b]| b as i8 as i16)
                    } else {
                        fast!(self.load_fast::<2>(arr, index)).map(i16::from_be_bytes)
                    };
                    let v = match v {
                        Some(v) => v,
                        None => match self.checked_load(arr, index) {
                            Ok(v) => v as i16,
                            Err(e) => fail!(e, insn + len - 1),
                        },
                    };
                    if FAST {
                        short_result!(v, pc + len);
                    } else {
                        push!(v);
                        pc += len;
                    }
                }};
            }
            // `L; L; K; <b|s>astore` (`$value`: `const`) or `L; L; L; <b|s>astore` (`local`)
            // decoded at link (`fused::LLK_XASTORE_DECODED`), as `decoded_xaload!`: the store
            // as `bastore` and `sastore` store; when its fast path does not apply, their full
            // path stores or throws, at the store's pc.
            #[cfg(feature = "proven-loop")]
            macro_rules! decoded_xastore {
                ($value:ident) => {{
                    // (both stores have the same shortest length)
                    let (w, arr, index, len) = decoded_operands!(fused::LLK_XASTORE_DECODED);
                    let arr = arr as ObjRef;
                    let v = decoded_xastore!(value $value, wbyte!(w, 3)) as i32;
                    let stored = match fast!(self.store_fast(arr, index, v)) {
                        Some(r) => r,
                        None => self.checked_store(arr, index, v),
                    };
                    if let Err(e) = stored {
                        fail!(e, insn + len - 1);
                    }
                    pc += len;
                }};
                (value const, $b:expr) => {
                    $b as i8 as i16
                };
                (value local, $b:expr) => {
                    local!($b)
                };
            }
            // `L; L; K; <op>` decoded at link (`fused::LLK_OP_DECODED`): the first local, then
            // the second combined with the constant
            #[cfg(feature = "proven-loop")]
            macro_rules! decoded_llk_op {
                () => {{
                    let (w, a, b, len) = decoded_operands!(fused::LLK_OP_DECODED);
                    let r = fused_short_op(wbyte!(w, len - 1), b, wbyte!(w, 3) as i8 as i16);
                    push!(a);
                    push!(r);
                    pc += len;
                }};
            }
            // the index form (local in the next byte) and the `_n` forms of a kind
            // a superinstruction's first byte in a method run checked (its proof record was
            // not written, or an unproven method overlaps a proven one): it runs as the local
            // load it replaced, the rest of its sequence as it is. (A build without the proven
            // loop never fuses, and does not take images linked by one with it: there it is an
            // undefined opcode.)
            #[cfg(feature = "proven-loop")]
            macro_rules! fused_checked {
                ($byte:expr) => {{
                    let o = original_opcode($byte);
                    let wide = o == ops::Sload || o == ops::Iload;
                    let i = if wide { u8at!(1) } else { o & 3 };
                    push!(local!(i));
                    if o == ops::Iload || o >= ops::Iload0 {
                        push!(local!(i + 1));
                    }
                    pc += 1 + wide as usize;
                }};
            }
            // one superinstruction opcode: `index` (the first load's local in the next byte)
            // or the `_n` form with local `$n`, each its own arm of the dispatch
            #[cfg(feature = "proven-loop")]
            macro_rules! fused_arm {
                ($kind:ident, $byte:ident, index) => {{
                    if !FAST {
                        fused_checked!($byte);
                        continue 'run;
                    }
                    let w = window!();
                    fused_op!($kind, w, wbyte!(w, 1), 2)
                }};
                ($kind:ident, $byte:ident, $n:literal) => {{
                    if !FAST {
                        fused_checked!($byte);
                        continue 'run;
                    }
                    let w = window!();
                    fused_op!($kind, w, $n, 1)
                }};
            }

            // No end check: pc only leaves the method component by falling through past
            // its last instruction, onto the reserved-opcode guard the linker puts after
            // it (link::METHOD_GUARD); branches, returns and handlers are checked.
            let byte = if FAST {
                // a proven method's pc stays inside its component and guard: a read past the
                // NVM (impossible) runs as the guard's reserved opcode
                self.proven_code_byte(pc, ops::Impdep1)
            } else {
                t!(self.nvm.read_u8(pc).map_err(nvm_err))
            };
            let op = byte;
            match op {
                ops::Nop => pc += 1,
                ops::AconstNull => {
                    push!(0);
                    pc += 1;
                }
                ops::SconstM1
                | ops::Sconst0
                | ops::Sconst1
                | ops::Sconst2
                | ops::Sconst3
                | ops::Sconst4
                | ops::Sconst5 => short_const!(byte as i16 - 3, 1),
                ops::IconstM1
                | ops::Iconst0
                | ops::Iconst1
                | ops::Iconst2
                | ops::Iconst3
                | ops::Iconst4
                | ops::Iconst5 => int_const!(byte as i32 - 10, 1),
                ops::Bspush => short_const!(u8at!(1) as i8 as i16, 2),
                ops::Sspush => short_const!(u16at!(1) as i16, 3),
                ops::Bipush => int_const!(u8at!(1) as i8 as i32, 2),
                ops::Sipush => int_const!(u16at!(1) as i16 as i32, 3),
                ops::Iipush => {
                    push_int!(i32at!(1));
                    pc += 5;
                }
                ops::Aload | ops::Sload => {
                    push!(local!(u8at!(1)));
                    pc += 2;
                }
                ops::Iload => {
                    let i = u8at!(1) as usize;
                    push!(local!(i));
                    push!(local!(i + 1));
                    pc += 2;
                }
                ops::Aload0 | ops::Aload1 | ops::Aload2 | ops::Aload3 => {
                    push!(local!(byte - 0x18));
                    pc += 1;
                }
                ops::Sload0 | ops::Sload1 | ops::Sload2 | ops::Sload3 => {
                    push!(local!(byte - 0x1C));
                    pc += 1;
                }
                ops::Iload0 | ops::Iload1 | ops::Iload2 | ops::Iload3 => {
                    let i = (byte - 0x20) as usize;
                    push!(local!(i));
                    push!(local!(i + 1));
                    pc += 1;
                }
                ops::Baload => {
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    let v = match fast!(self.load_fast::<1>(arr, index)) {
                        Some([b]) => b as i8 as i16,
                        None => t!(self.checked_load(arr, index)) as i16,
                    };
                    push!(v);
                    pc += 1;
                }
                ops::Aaload | ops::Saload => {
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    let v = match fast!(self.load_fast::<2>(arr, index)) {
                        Some(b) => i16::from_be_bytes(b),
                        None => t!(self.checked_load(arr, index)) as i16,
                    };
                    push!(v);
                    pc += 1;
                }
                ops::Iaload => {
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    let v = match fast!(self.load_fast::<4>(arr, index)) {
                        Some(b) => i32::from_be_bytes(b),
                        None => t!(self.checked_load(arr, index)),
                    };
                    push_int!(v);
                    pc += 1;
                }
                ops::Astore | ops::Sstore => {
                    let v = pop!();
                    set_local!(u8at!(1), v);
                    pc += 2;
                }
                ops::Istore => {
                    let i = u8at!(1) as usize;
                    let second = pop!();
                    let first = pop!();
                    set_local!(i, first);
                    set_local!(i + 1, second);
                    pc += 2;
                }
                ops::Astore0 | ops::Astore1 | ops::Astore2 | ops::Astore3 => {
                    let v = pop!();
                    set_local!(byte - 0x2B, v);
                    pc += 1;
                }
                ops::Sstore0 | ops::Sstore1 | ops::Sstore2 | ops::Sstore3 => {
                    let v = pop!();
                    set_local!(byte - 0x2F, v);
                    pc += 1;
                }
                ops::Istore0 | ops::Istore1 | ops::Istore2 | ops::Istore3 => {
                    let i = (byte - 0x33) as usize;
                    let second = pop!();
                    let first = pop!();
                    set_local!(i, first);
                    set_local!(i + 1, second);
                    pc += 1;
                }
                ops::Aastore => {
                    let v = pop!() as ObjRef;
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    let (h, ty) = t!(self.array_header(arr));
                    if ty != ArrayType::Reference {
                        bad!(Detail::AastoreOnPrimitiveArray);
                    }
                    t!(self.guard_header(&h, Access::Element));
                    t!(self.guard_stored(v));
                    if v != NULL {
                        let vh = t!(self.header(v));
                        let ok = if vh.array_type().is_some() {
                            h.elem_class == crate::class::OBJECT_CLASS
                        } else {
                            t!(self.class_is_subtype(vh.class, h.elem_class))
                        };
                        if !ok {
                            fail!(self.throw(SystemException::ArrayStore));
                        }
                    }
                    t!(self.array_store(arr, index, v as i16 as i32));
                    pc += 1;
                }
                ops::Bastore | ops::Sastore => {
                    let v = pop!();
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    match fast!(self.store_fast(arr, index, v as i32)) {
                        Some(r) => t!(r),
                        None => t!(self.checked_store(arr, index, v as i32)),
                    }
                    pc += 1;
                }
                ops::Iastore => {
                    let v = pop_int!();
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    match fast!(self.store_fast(arr, index, v)) {
                        Some(r) => t!(r),
                        None => t!(self.checked_store(arr, index, v)),
                    }
                    pc += 1;
                }
                ops::Pop => {
                    pop!();
                    pc += 1;
                }
                ops::Pop2 => {
                    pop!();
                    pop!();
                    pc += 1;
                }
                ops::Dup => {
                    let v = pop!();
                    push!(v);
                    push!(v);
                    pc += 1;
                }
                ops::Dup2 => {
                    let b = pop!();
                    let a = pop!();
                    push!(a);
                    push!(b);
                    push!(a);
                    push!(b);
                    pc += 1;
                }
                ops::DupX => {
                    let mn = u8at!(1);
                    let m = (mn >> 4) as usize;
                    let n = (mn & 0x0F) as usize;
                    if !(1..=4).contains(&m) || (n != 0 && (n < m || n > m + 4)) {
                        bad!(Detail::DupXOperand);
                    }
                    if sp < frame_bound!(stack_base, base) + m.max(n)
                        || sp + m > frame_bound!(stack_limit, limit)
                    {
                        bad!(Detail::DupXStack);
                    }
                    let mut tmp = [0i16; 4];
                    if let (Some(d), Some(s)) = (tmp.get_mut(..m), self.stack.get(sp - m..sp)) {
                        d.copy_from_slice(s);
                    }
                    if n == 0 {
                        if let Some(d) = self.stack.get_mut(sp..sp + m) {
                            d.copy_from_slice(tmp.get(..m).unwrap_or(&[]));
                        }
                    } else {
                        self.stack.copy_within(sp - n..sp, sp - n + m);
                        if let Some(d) = self.stack.get_mut(sp - n..sp - n + m) {
                            d.copy_from_slice(tmp.get(..m).unwrap_or(&[]));
                        }
                    }
                    sp += m;
                    pc += 2;
                }
                ops::SwapX => {
                    let mn = u8at!(1);
                    let m = (mn >> 4) as usize;
                    let n = (mn & 0x0F) as usize;
                    if !(1..=2).contains(&m)
                        || !(1..=2).contains(&n)
                        || sp < frame_bound!(stack_base, base) + m + n
                    {
                        bad!(Detail::SwapXOperand);
                    }
                    let mut tmp = [0i16; 4];
                    if let (Some(d), Some(s)) =
                        (tmp.get_mut(..m + n), self.stack.get(sp - m - n..sp))
                    {
                        d.copy_from_slice(s);
                    }
                    // result: top m words, then the n words below them
                    for i in 0..m {
                        if let Some(s) = self.stack.get_mut(sp - m - n + i) {
                            *s = tmp.get(n + i).copied().unwrap_or(0);
                        }
                    }
                    for i in 0..n {
                        if let Some(s) = self.stack.get_mut(sp - n + i) {
                            *s = tmp.get(i).copied().unwrap_or(0);
                        }
                    }
                    pc += 2;
                }
                ops::Sadd => short_op!(a, b, a.wrapping_add(b)),
                ops::Ssub => short_op!(a, b, a.wrapping_sub(b)),
                ops::Smul => short_op!(a, b, a.wrapping_mul(b)),
                ops::Sdiv | ops::Srem => {
                    let b = pop!();
                    let a = pop!();
                    if b == 0 {
                        fail!(self.throw(SystemException::Arithmetic));
                    }
                    push!(if op == ops::Sdiv {
                        a.wrapping_div(b)
                    } else {
                        a.wrapping_rem(b)
                    });
                    pc += 1;
                }
                ops::Sand => short_op!(a, b, a & b),
                ops::Sor => short_op!(a, b, a | b),
                ops::Sxor => short_op!(a, b, a ^ b),
                ops::Sshl => short_op!(a, b, ((a as i32) << (b & 0x1F)) as i16),
                ops::Sshr => short_op!(a, b, ((a as i32) >> (b & 0x1F)) as i16),
                ops::Sushr => short_op!(a, b, (((a as i32) as u32) >> (b & 0x1F)) as i16),
                ops::Iadd => int_op!(a, b, a.wrapping_add(b)),
                ops::Isub => int_op!(a, b, a.wrapping_sub(b)),
                ops::Imul => int_op!(a, b, a.wrapping_mul(b)),
                ops::Iand => int_op!(a, b, a & b),
                ops::Ior => int_op!(a, b, a | b),
                ops::Ixor => int_op!(a, b, a ^ b),
                ops::Ishl => int_op!(a, b, a.wrapping_shl((b & 0x1F) as u32)),
                ops::Ishr => int_op!(a, b, a >> (b & 0x1F)),
                ops::Iushr => int_op!(a, b, ((a as u32) >> (b & 0x1F)) as i32),
                ops::Idiv | ops::Irem => {
                    let b = pop_int!();
                    let a = pop_int!();
                    if b == 0 {
                        fail!(self.throw(SystemException::Arithmetic));
                    }
                    push_int!(if op == ops::Idiv {
                        a.wrapping_div(b)
                    } else {
                        a.wrapping_rem(b)
                    });
                    pc += 1;
                }
                ops::Sneg => {
                    let a = pop!();
                    push!(a.wrapping_neg());
                    pc += 1;
                }
                ops::Ineg => {
                    let a = pop_int!();
                    push_int!(a.wrapping_neg());
                    pc += 1;
                }
                ops::Sinc => {
                    let i = u8at!(1);
                    let c = u8at!(2) as i8 as i16;
                    let v = local!(i);
                    set_local!(i, v.wrapping_add(c));
                    pc += 3;
                    // the back edge of a counting loop, `sinc; goto`, in one dispatch: in a
                    // proven method the next byte starts an instruction (or is the guard)
                    if FAST && t!(self.nvm.read_u8(pc).map_err(nvm_err)) == ops::Goto {
                        let rel = u8at!(4) as i8 as i16;
                        jump_from!(pc, rel);
                    }
                }
                ops::SincW => {
                    let i = u8at!(1);
                    let c = u16at!(2) as i16;
                    let v = local!(i);
                    set_local!(i, v.wrapping_add(c));
                    pc += 4;
                }
                ops::Iinc | ops::IincW => {
                    let i = u8at!(1) as usize;
                    let (c, len) = if op == ops::Iinc {
                        (u8at!(2) as i8 as i32, 3)
                    } else {
                        (u16at!(2) as i16 as i32, 4)
                    };
                    let v = int_of_words(local!(i), local!(i + 1));
                    let [first, second] = words_of_int(v.wrapping_add(c));
                    set_local!(i, first);
                    set_local!(i + 1, second);
                    pc += len;
                }
                ops::S2b => {
                    let a = pop!();
                    push!(a as i8 as i16);
                    pc += 1;
                }
                ops::S2i => {
                    let a = pop!();
                    int_const!(a as i32, 1);
                }
                ops::I2b => {
                    let a = pop_int!();
                    push!(a as i8 as i16);
                    pc += 1;
                }
                ops::I2s => {
                    let a = pop_int!();
                    push!(a as i16);
                    pc += 1;
                }
                ops::Icmp => {
                    let b = pop_int!();
                    let a = pop_int!();
                    push!(a.cmp(&b) as i16);
                    pc += 1;
                }
                ops::Ifeq => if_short!(v, v == 0, 2),
                ops::Ifne => if_short!(v, v != 0, 2),
                ops::Iflt => if_short!(v, v < 0, 2),
                ops::Ifge => if_short!(v, v >= 0, 2),
                ops::Ifgt => if_short!(v, v > 0, 2),
                ops::Ifle => if_short!(v, v <= 0, 2),
                ops::IfeqW => if_short!(v, v == 0, 3),
                ops::IfneW => if_short!(v, v != 0, 3),
                ops::IfltW => if_short!(v, v < 0, 3),
                ops::IfgeW => if_short!(v, v >= 0, 3),
                ops::IfgtW => if_short!(v, v > 0, 3),
                ops::IfleW => if_short!(v, v <= 0, 3),
                ops::Ifnull => if_short!(v, v == 0, 2),
                ops::Ifnonnull => if_short!(v, v != 0, 2),
                ops::IfnullW => if_short!(v, v == 0, 3),
                ops::IfnonnullW => if_short!(v, v != 0, 3),
                ops::IfAcmpeq | ops::IfScmpeq => if_shorts!(a, b, a == b, 2),
                ops::IfAcmpne | ops::IfScmpne => if_shorts!(a, b, a != b, 2),
                ops::IfScmplt => if_shorts!(a, b, a < b, 2),
                ops::IfScmpge => if_shorts!(a, b, a >= b, 2),
                ops::IfScmpgt => if_shorts!(a, b, a > b, 2),
                ops::IfScmple => if_shorts!(a, b, a <= b, 2),
                ops::IfAcmpeqW | ops::IfScmpeqW => if_shorts!(a, b, a == b, 3),
                ops::IfAcmpneW | ops::IfScmpneW => if_shorts!(a, b, a != b, 3),
                ops::IfScmpltW => if_shorts!(a, b, a < b, 3),
                ops::IfScmpgeW => if_shorts!(a, b, a >= b, 3),
                ops::IfScmpgtW => if_shorts!(a, b, a > b, 3),
                ops::IfScmpleW => if_shorts!(a, b, a <= b, 3),
                ops::Goto => {
                    let rel = u8at!(1) as i8 as i16;
                    jump!(rel);
                }
                ops::GotoW => {
                    let rel = u16at!(1) as i16;
                    jump!(rel);
                }
                ops::Jsr => {
                    let rel = u16at!(1) as i16;
                    push!((insn + 3 - frame_code!().0) as i16);
                    jump!(rel);
                }
                ops::Ret => {
                    let v = local!(u8at!(1)) as u16 as usize;
                    let (lo, hi) = frame_code!();
                    let target = lo + v;
                    if target >= hi {
                        bad!(Detail::RetTarget);
                    }
                    if target <= insn {
                        charge!((insn - target) as u64 + 1);
                    }
                    pc = target;
                }
                ops::Stableswitch => {
                    let key = pop!() as i32;
                    let default = u16at!(1) as i16;
                    let low = u16at!(3) as i16 as i32;
                    let high = u16at!(5) as i16 as i32;
                    if low > high {
                        bad!(Detail::SwitchBounds);
                    }
                    if key < low || key > high {
                        jump!(default);
                    }
                    let rel = u16at!(7 + 2 * (key - low) as usize) as i16;
                    jump!(rel);
                }
                ops::Itableswitch => {
                    let key = pop_int!() as i64;
                    let default = u16at!(1) as i16;
                    let low = i32at!(3) as i64;
                    let high = i32at!(7) as i64;
                    if low > high {
                        bad!(Detail::SwitchBounds);
                    }
                    if key < low || key > high {
                        jump!(default);
                    }
                    let rel = u16at!(11 + 2 * (key - low) as usize) as i16;
                    jump!(rel);
                }
                ops::Slookupswitch | ops::Ilookupswitch => {
                    let int = op == ops::Ilookupswitch;
                    let key = if int { pop_int!() } else { pop!() as i32 };
                    let default = u16at!(1) as i16;
                    let npairs = u16at!(3) as usize;
                    let pair = if int { 6 } else { 4 };
                    let mut rel = default;
                    for i in 0..npairs {
                        let at = 5 + i * pair;
                        let m = if int {
                            i32at!(at)
                        } else {
                            u16at!(at) as i16 as i32
                        };
                        if m == key {
                            rel = u16at!(at + pair - 2) as i16;
                            break;
                        }
                    }
                    jump!(rel);
                }
                ops::Areturn | ops::Sreturn => {
                    let v = pop!();
                    ret!(Value::Word(v));
                }
                ops::Ireturn => {
                    let v = pop_int!();
                    ret!(Value::Int(v));
                }
                ops::Return => {
                    ret!(Value::Void);
                }
                ops::GetstaticA | ops::GetstaticB | ops::GetstaticS | ops::GetstaticI => {
                    getstatic!(op, cp!(u16at!(1), layout::CP_SFIELD))
                }
                // the static forms with an NVM address as operand, in proven methods only:
                // unproven code may branch onto any byte, and must not reach an address of
                // its choosing (the checked loop takes them as undefined opcodes)
                #[cfg(feature = "proven-loop")]
                fused::GETSTATIC_A_AT if FAST => getstatic!(ops::GetstaticA, u16at!(1) as u32),
                #[cfg(feature = "proven-loop")]
                fused::GETSTATIC_B_AT if FAST => getstatic!(ops::GetstaticB, u16at!(1) as u32),
                #[cfg(feature = "proven-loop")]
                fused::GETSTATIC_S_AT if FAST => getstatic!(ops::GetstaticS, u16at!(1) as u32),
                #[cfg(feature = "proven-loop")]
                fused::GETSTATIC_I_AT if FAST => getstatic!(ops::GetstaticI, u16at!(1) as u32),
                #[cfg(feature = "proven-loop")]
                fused::PUTSTATIC_B_AT if FAST => putstatic!(ops::PutstaticB, u16at!(1) as u32),
                #[cfg(feature = "proven-loop")]
                fused::PUTSTATIC_S_AT if FAST => putstatic!(ops::PutstaticS, u16at!(1) as u32),
                #[cfg(feature = "proven-loop")]
                fused::PUTSTATIC_I_AT if FAST => putstatic!(ops::PutstaticI, u16at!(1) as u32),
                ops::PutstaticA | ops::PutstaticB | ops::PutstaticS | ops::PutstaticI => {
                    putstatic!(op, cp!(u16at!(1), layout::CP_SFIELD))
                }
                // in proven methods one arm per field opcode: the operand width, `this` and the
                // field kind are known in each (no decoding of the opcode inside the arm); the
                // checked loop has the one arm below for all (less flash for the firmware)
                ops::GetfieldA if FAST => getfield!(2, false, false, false),
                ops::GetfieldB if FAST => getfield!(2, false, false, true),
                ops::GetfieldS if FAST => getfield!(2, false, false, false),
                ops::GetfieldI if FAST => getfield!(2, false, true, false),
                ops::GetfieldAW if FAST => getfield!(3, false, false, false),
                ops::GetfieldBW if FAST => getfield!(3, false, false, true),
                ops::GetfieldSW if FAST => getfield!(3, false, false, false),
                ops::GetfieldIW if FAST => getfield!(3, false, true, false),
                ops::GetfieldAThis if FAST => getfield!(2, true, false, false),
                ops::GetfieldBThis if FAST => getfield!(2, true, false, true),
                ops::GetfieldSThis if FAST => getfield!(2, true, false, false),
                ops::GetfieldIThis if FAST => getfield!(2, true, true, false),
                ops::PutfieldA if FAST => putfield!(2, false, false, false, true),
                ops::PutfieldB if FAST => putfield!(2, false, false, true, false),
                ops::PutfieldS if FAST => putfield!(2, false, false, false, false),
                ops::PutfieldI if FAST => putfield!(2, false, true, false, false),
                ops::PutfieldAW if FAST => putfield!(3, false, false, false, true),
                ops::PutfieldBW if FAST => putfield!(3, false, false, true, false),
                ops::PutfieldSW if FAST => putfield!(3, false, false, false, false),
                ops::PutfieldIW if FAST => putfield!(3, false, true, false, false),
                ops::PutfieldAThis if FAST => putfield!(2, true, false, false, true),
                ops::PutfieldBThis if FAST => putfield!(2, true, false, true, false),
                ops::PutfieldSThis if FAST => putfield!(2, true, false, false, false),
                ops::PutfieldIThis if FAST => putfield!(2, true, true, false, false),
                #[cfg(feature = "proven-loop")]
                fused::GETFIELD_A_THIS_CELL => getfield!(2, true, false, false, cell),
                #[cfg(feature = "proven-loop")]
                fused::GETFIELD_B_THIS_CELL => getfield!(2, true, false, true, cell),
                #[cfg(feature = "proven-loop")]
                fused::GETFIELD_S_THIS_CELL => getfield!(2, true, false, false, cell),
                #[cfg(feature = "proven-loop")]
                fused::GETFIELD_I_THIS_CELL => getfield!(2, true, true, false, cell),
                #[cfg(feature = "proven-loop")]
                fused::PUTFIELD_A_THIS_CELL => putfield!(2, true, false, false, true, cell),
                #[cfg(feature = "proven-loop")]
                fused::PUTFIELD_B_THIS_CELL => putfield!(2, true, false, true, false, cell),
                #[cfg(feature = "proven-loop")]
                fused::PUTFIELD_S_THIS_CELL => putfield!(2, true, false, false, false, cell),
                #[cfg(feature = "proven-loop")]
                fused::PUTFIELD_I_THIS_CELL => putfield!(2, true, true, false, false, cell),
                ops::GetfieldA
                | ops::GetfieldB
                | ops::GetfieldS
                | ops::GetfieldI
                | ops::GetfieldAW
                | ops::GetfieldBW
                | ops::GetfieldSW
                | ops::GetfieldIW
                | ops::GetfieldAThis
                | ops::GetfieldBThis
                | ops::GetfieldSThis
                | ops::GetfieldIThis => {
                    let (len, this) = field_form(byte);
                    getfield!(
                        len,
                        this,
                        matches!(op, ops::GetfieldI | ops::GetfieldIW | ops::GetfieldIThis),
                        matches!(op, ops::GetfieldB | ops::GetfieldBW | ops::GetfieldBThis)
                    )
                }
                ops::PutfieldA
                | ops::PutfieldB
                | ops::PutfieldS
                | ops::PutfieldI
                | ops::PutfieldAW
                | ops::PutfieldBW
                | ops::PutfieldSW
                | ops::PutfieldIW
                | ops::PutfieldAThis
                | ops::PutfieldBThis
                | ops::PutfieldSThis
                | ops::PutfieldIThis => {
                    let (len, this) = field_form(byte);
                    putfield!(
                        len,
                        this,
                        matches!(op, ops::PutfieldI | ops::PutfieldIW | ops::PutfieldIThis),
                        matches!(op, ops::PutfieldB | ops::PutfieldBW | ops::PutfieldBThis),
                        matches!(op, ops::PutfieldA | ops::PutfieldAW | ops::PutfieldAThis)
                    )
                }
                ops::Invokevirtual => {
                    let e = t!(self.cp_entry(
                        &frame_info!(),
                        u16at!(1),
                        layout::CP_VMETHOD,
                        insn as u32
                    ));
                    let nargs = (e >> 8) as usize & 0xFF;
                    let token = e as u8;
                    if nargs == 0 || sp < frame_bound!(stack_base, base) + nargs {
                        bad!(Detail::InvokevirtualArguments);
                    }
                    let obj = match self.stack.get(sp - nargs) {
                        Some(o) => *o as ObjRef,
                        None => bad!(Detail::Stack),
                    };
                    let h = t!(self.header(obj));
                    t!(self.guard_header(&h, Access::InvokeVirtual));
                    let m = match t!(self.vtable_entry(h.class, token)) {
                        Some(m) => m,
                        None => bad!(Detail::NoMethodForVirtualToken),
                    };
                    invoke!(m, nargs, 3, h.owner, ret_words!(e));
                }
                ops::Invokespecial | ops::Invokestatic => {
                    let idx = u16at!(1);
                    let info = frame_info!();
                    let e = t!(self
                        .nvm
                        .read_u32((info.cp_addr + idx as u32 * 4) as usize)
                        .map_err(nvm_err));
                    let tag = (e >> 24) as u8 & layout::CP_TAG_MASK;
                    let ok = if op == ops::Invokestatic {
                        tag == layout::CP_SMETHOD
                    } else {
                        tag == layout::CP_SMETHOD || tag == layout::CP_SMETHOD_SUPER
                    };
                    if idx >= info.cp_count || !ok {
                        bad!(Detail::InvokeOfNonMethodEntry);
                    }
                    let m = e & 0x00FF_FFFF;
                    if op == ops::Invokestatic && m >> 16 != NATIVE_PACKAGE {
                        // one read of the callee's header: its argument count places
                        // the frame (the `invoke!` path below, for static calls)
                        charge!(1);
                        save!(insn + 3);
                        if let Some(f) = self.frames.last_mut() {
                            f.expect_ret = ret_words!(e);
                        }
                        t!(self.push_frame_with(m, Args::Top(sp, frame_bound!(stack_base, base))));
                        load_frame!();
                        continue 'run;
                    }
                    let nargs = t!(self.method_nargs(m)) as usize;
                    if op == ops::Invokespecial {
                        if nargs == 0 || sp < frame_bound!(stack_base, base) + nargs {
                            bad!(Detail::InvokespecialArguments);
                        }
                        let this = self.stack.get(sp - nargs).copied().unwrap_or(0) as ObjRef;
                        t!(self.guard(this, Access::InvokeVirtual));
                    }
                    invoke!(m, nargs, 3, 0, ret_words!(e));
                }
                ops::Invokeinterface => {
                    let nargs = u8at!(1) as usize;
                    let iface = cp!(u16at!(2), layout::CP_CLASS) as u16;
                    let method = u8at!(4);
                    if nargs == 0 || sp < frame_bound!(stack_base, base) + nargs {
                        bad!(Detail::InvokeinterfaceArguments);
                    }
                    let obj = match self.stack.get(sp - nargs) {
                        Some(o) => *o as ObjRef,
                        None => bad!(Detail::Stack),
                    };
                    let h = t!(self.header(obj));
                    t!(self.guard_header(&h, Access::InvokeInterface(iface)));
                    let token = match t!(self.interface_token(h.class, iface, method)) {
                        Some(tk) => tk,
                        None => bad!(Detail::InterfaceNotImplemented),
                    };
                    let m = match t!(self.vtable_entry(h.class, token)) {
                        Some(m) => m,
                        None => bad!(Detail::NoMethodForInterfaceToken),
                    };
                    if t!(self.method_nargs(m)) as usize != nargs {
                        bad!(Detail::InvokeinterfaceNargsMismatch);
                    }
                    invoke!(m, nargs, 5, h.owner, u8::MAX);
                }
                ops::New => {
                    let class = cp!(u16at!(1), layout::CP_CLASS) as u16;
                    if t!(self.class_is_interface(class)) {
                        bad!(Detail::NewOfAnInterface);
                    }
                    save!(insn);
                    let obj = t!(self.new_instance(class));
                    push!(obj as i16);
                    pc += 3;
                }
                ops::Newarray => {
                    let ty = match ArrayType::from_code(u8at!(1)) {
                        Some(t) if t != ArrayType::Reference => t,
                        _ => bad!(Detail::NewarrayType),
                    };
                    let n = pop!();
                    let arr = t!(self.new_array(ty, n, 0, 0));
                    push!(arr as i16);
                    pc += 2;
                }
                ops::Anewarray => {
                    let class = cp!(u16at!(1), layout::CP_CLASS) as u16;
                    let n = pop!();
                    let arr = t!(self.new_array(ArrayType::Reference, n, class, 0));
                    push!(arr as i16);
                    pc += 3;
                }
                ops::Arraylength => {
                    let arr = pop!() as ObjRef;
                    let (h, _) = t!(self.array_header(arr));
                    t!(self.guard_header(&h, Access::Element));
                    push!(h.len as i16);
                    pc += 1;
                }
                ops::Athrow => {
                    let obj = pop!() as ObjRef;
                    t!(self.guard(obj, Access::Throw));
                    fail!(Trap::Throw(obj));
                }
                ops::Checkcast | ops::Instanceof => {
                    let atype = u8at!(1);
                    let idx = u16at!(2);
                    let class = match atype {
                        0 | 14 => cp!(idx, layout::CP_CLASS) as u16,
                        10..=13 => 0,
                        _ => bad!(Detail::CheckcastType),
                    };
                    let obj = pop!() as ObjRef;
                    let is = if obj == NULL {
                        None
                    } else {
                        let h = t!(self.header(obj));
                        t!(self.guard_header(&h, Access::TypeTest(class)));
                        Some(t!(self.is_instance(&h, atype, class)))
                    };
                    if op == ops::Checkcast {
                        if is == Some(false) {
                            fail!(self.throw(SystemException::ClassCast));
                        }
                        push!(obj as i16);
                    } else {
                        push!((is == Some(true)) as i16);
                    }
                    pc += 4;
                }
                #[cfg(feature = "proven-loop")]
                fused::LL => fused_arm!(LL, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::LL_N0 => fused_arm!(LL, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::LL_N1 => fused_arm!(LL, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::LL_N2 => fused_arm!(LL, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::LL_N3 => fused_arm!(LL, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::LL_IFCMP => fused_arm!(LL_IFCMP, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::LL_IFCMP_N0 => fused_arm!(LL_IFCMP, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::LL_IFCMP_N1 => fused_arm!(LL_IFCMP, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::LL_IFCMP_N2 => fused_arm!(LL_IFCMP, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::LL_IFCMP_N3 => fused_arm!(LL_IFCMP, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::LK_IFCMP => fused_arm!(LK_IFCMP, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::LK_IFCMP_N0 => fused_arm!(LK_IFCMP, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::LK_IFCMP_N1 => fused_arm!(LK_IFCMP, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::LK_IFCMP_N2 => fused_arm!(LK_IFCMP, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::LK_IFCMP_N3 => fused_arm!(LK_IFCMP, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::L_IF => fused_arm!(L_IF, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::L_IF_N0 => fused_arm!(L_IF, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::L_IF_N1 => fused_arm!(L_IF, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::L_IF_N2 => fused_arm!(L_IF, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::L_IF_N3 => fused_arm!(L_IF, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::L_IFCMP => fused_arm!(L_IFCMP, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::L_IFCMP_N0 => fused_arm!(L_IFCMP, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::L_IFCMP_N1 => fused_arm!(L_IFCMP, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::L_IFCMP_N2 => fused_arm!(L_IFCMP, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::L_IFCMP_N3 => fused_arm!(L_IFCMP, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::LK_OP => fused_arm!(LK_OP, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::LK_OP_N0 => fused_arm!(LK_OP, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::LK_OP_N1 => fused_arm!(LK_OP, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::LK_OP_N2 => fused_arm!(LK_OP, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::LK_OP_N3 => fused_arm!(LK_OP, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::LL_XALOAD => fused_arm!(LL_XALOAD, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::LL_XALOAD_N0 => fused_arm!(LL_XALOAD, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::LL_XALOAD_N1 => fused_arm!(LL_XALOAD, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::LL_XALOAD_N2 => fused_arm!(LL_XALOAD, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::LL_XALOAD_N3 => fused_arm!(LL_XALOAD, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::LL_BALOAD_DECODED => decoded_xaload!(1),
                #[cfg(feature = "proven-loop")]
                fused::LL_SALOAD_DECODED => decoded_xaload!(2),
                #[cfg(feature = "proven-loop")]
                fused::LLK_XASTORE_DECODED => decoded_xastore!(const),
                #[cfg(feature = "proven-loop")]
                fused::LLL_XASTORE_DECODED => decoded_xastore!(local),
                #[cfg(feature = "proven-loop")]
                fused::LLK_OP_DECODED => decoded_llk_op!(),
                #[cfg(feature = "proven-loop")]
                fused::IK_OP => fused_arm!(IK_OP, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::IK_OP_N0 => fused_arm!(IK_OP, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::IK_OP_N1 => fused_arm!(IK_OP, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::IK_OP_N2 => fused_arm!(IK_OP, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::IK_OP_N3 => fused_arm!(IK_OP, byte, 3),
                #[cfg(feature = "proven-loop")]
                fused::LL_OP => fused_arm!(LL_OP, byte, index),
                #[cfg(feature = "proven-loop")]
                fused::LL_OP_N0 => fused_arm!(LL_OP, byte, 0),
                #[cfg(feature = "proven-loop")]
                fused::LL_OP_N1 => fused_arm!(LL_OP, byte, 1),
                #[cfg(feature = "proven-loop")]
                fused::LL_OP_N2 => fused_arm!(LL_OP, byte, 2),
                #[cfg(feature = "proven-loop")]
                fused::LL_OP_N3 => fused_arm!(LL_OP, byte, 3),
                // the guard after the code and the other reserved opcode. With the proven loop
                // (host builds) an arm of their own: the jump table then spans every byte value
                // (impdep2 is 0xFF), and the dispatch needs no range check. Without it (the
                // firmware's budget build) in the default arm: the wider table took 1.7 KB of
                // flash there.
                #[cfg(feature = "proven-loop")]
                ops::Impdep1 | ops::Impdep2 => bad!(Detail::ReservedOpcode),
                _ => bad!(if !cfg!(feature = "proven-loop")
                    && (byte == ops::Impdep1 || byte == ops::Impdep2)
                {
                    Detail::ReservedOpcode
                } else {
                    Detail::UndefinedOpcode
                }),
            }
        }
        if let Some(f) = self.frames.last_mut() {
            f.pc = fault_pc as u32;
            f.sp = sp as u16;
        }
        *budget = left;
        Err(fault)
    }
}

#[cfg(all(test, feature = "proven-loop"))]
mod tests {
    use super::cond_taken;

    /// The branchless table agrees with the six Java comparisons (the oracle: Rust's own
    /// operators) for every condition and a spread of operands, extremes included.
    #[test]
    fn cond_taken_matches_the_java_comparisons() {
        let values = [i16::MIN, -300, -1, 0, 1, 2, 300, i16::MAX];
        for a in values {
            for b in values {
                let expected = [a == b, a != b, a < b, a >= b, a > b, a <= b];
                for (c, want) in expected.into_iter().enumerate() {
                    assert_eq!(cond_taken(c as u8, a, b), want, "cond {c}, {a} vs {b}");
                }
            }
        }
    }
}
