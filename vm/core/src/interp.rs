//! The interpreter: one `loop { match op }` over the linked code. The hot state (pc, sp,
//! locals, frame bounds, constant pool) lives in locals; it is written back to the frame
//! before anything that can leave the frame (invoke, return, throw). Opcodes come from the
//! one table in oxicard-isa. Every operand, stack slot, local, branch target and constant-
//! pool index is checked: hostile bytecode stops with [`Trap::Malformed`], never a panic.

use crate::api::{Natives, Value};
use crate::error::Trap;
use crate::heap::{ArrayType, ObjRef, NULL};
use crate::layout::{self, MethodRef, NATIVE_PACKAGE};
use crate::{nvm_err, Frame, SystemException, Vm, MAX_FRAMES, STACK_WORDS};
use oxicard_isa::Opcode as Op;
use oxicard_store::Nvm;

/// Most argument words a native method takes.
const MAX_NATIVE_ARGS: usize = 8;

/// Decoded opcode of every byte value, built at compile time from the one table in
/// oxicard-isa, so dispatch is one indexed load instead of a call per instruction.
static OPCODES: [Option<Op>; 256] = {
    let mut table = [None; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = Op::from_u8(i as u8);
        i += 1;
    }
    table
};

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
        let mut budget = self.budget;
        if method >> 16 == NATIVE_PACKAGE {
            return host.invoke(self, (method & 0xFFFF) as u16, args);
        }
        let stack = self
            .stack
            .get_mut(..args.len())
            .ok_or(Trap::StackOverflow)?;
        stack.copy_from_slice(args);
        self.push_frame(method, 0, args.len() as u8, 0)?;
        let result = loop {
            match self.interp(host, &mut budget) {
                Err(Trap::Throw(obj)) => {
                    if !self.unwind(obj)? {
                        break Err(Trap::Throw(obj));
                    }
                }
                other => break other,
            }
        };
        if result.is_err() {
            // restore the context of the outermost frame
            if let Some(f) = self.frames.first() {
                self.context = f.saved_context;
            }
            self.frames.clear();
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
        let pkg = (m >> 16) as u8;
        let off = m & 0xFFFF;
        let info = *self.packages.get(pkg as usize).ok_or(Trap::Malformed {
            pc: 0,
            what: "method in unknown package",
        })?;
        if off >= info.method_len {
            return Err(Trap::Malformed {
                pc: off,
                what: "method offset",
            });
        }
        let a = (info.method_addr + off) as usize;
        let mut h = [0u8; 4];
        let _ = self.nvm.read(a, &mut h);
        let (max_stack, margs, max_locals, code) = if h[0] & 0x80 != 0 {
            (h[1], h[2], h[3], a + 4)
        } else {
            (h[0] & 0x0F, h[1] >> 4, h[1] & 0x0F, a + 2)
        };
        if h[0] & 0x40 != 0 {
            return Err(Trap::Malformed {
                pc: a as u32,
                what: "invoke of an abstract method",
            });
        }
        if margs != nargs {
            return Err(Trap::Malformed {
                pc: a as u32,
                what: "argument count mismatch",
            });
        }
        let base = args_at + nargs as usize + max_locals as usize;
        let limit = base + max_stack as usize;
        if limit > STACK_WORDS {
            return Err(Trap::StackOverflow);
        }
        if let Some(l) = self.stack.get_mut(args_at + nargs as usize..base) {
            l.fill(0);
        }
        let frame = Frame {
            pc: code as u32,
            locals: args_at as u16,
            stack_base: base as u16,
            sp: base as u16,
            stack_limit: limit as u16,
            package: pkg,
            saved_context: self.context,
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
        while let Some(f) = self.frames.last().copied() {
            let info = *self
                .packages
                .get(f.package as usize)
                .ok_or(Trap::Internal("pkg"))?;
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
                    let class = self.cp_entry(&info, catch, layout::CP_CLASS, f.pc)?;
                    self.is_instance(&h, 0, class as u16)?
                };
                if matches {
                    if handler >= info.method_len {
                        return Err(Trap::Malformed {
                            pc: f.pc,
                            what: "handler offset",
                        });
                    }
                    let top = self.frames.last_mut().ok_or(Trap::Internal("frame"))?;
                    top.pc = info.method_addr + handler;
                    top.sp = top.stack_base + 1;
                    if top.stack_base >= top.stack_limit {
                        return Err(Trap::Malformed {
                            pc: f.pc,
                            what: "no stack for the exception",
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

    /// Resolved constant-pool entry `index` of package `info`, checking its kind.
    #[inline]
    fn cp_entry(
        &self,
        info: &crate::PackageInfo,
        index: u16,
        tag: u8,
        pc: u32,
    ) -> Result<u32, Trap> {
        if index >= info.cp_count {
            return Err(Trap::Malformed {
                pc,
                what: "constant-pool index out of range",
            });
        }
        let e = self
            .nvm
            .read_u32((info.cp_addr + index as u32 * 4) as usize)
            .map_err(nvm_err)?;
        if (e >> 24) as u8 != tag {
            return Err(Trap::Malformed {
                pc,
                what: "constant-pool entry of the wrong kind",
            });
        }
        Ok(e & 0x00FF_FFFF)
    }

    /// Reads a static field of `size` bytes (1, 2, 4) as a sign-extended int.
    fn get_static(&self, addr: u32, size: usize) -> Result<i32, Trap> {
        let mut b = [0u8; 4];
        let buf = b.get_mut(..size).ok_or(Trap::Internal("size"))?;
        self.nvm.read(addr as usize, buf).map_err(nvm_err)?;
        Ok(match size {
            1 => b[0] as i8 as i32,
            2 => i16::from_be_bytes([b[0], b[1]]) as i32,
            _ => i32::from_be_bytes(b),
        })
    }

    /// The interpreter loop proper: runs until the outermost frame returns or a trap.
    #[allow(unused_assignments)]
    fn interp<H: Natives<N>>(&mut self, host: &mut H, budget: &mut u64) -> Result<Value, Trap> {
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
                    None => return Err(Trap::Internal("no frame")),
                };
                pc = f.pc as usize;
                sp = f.sp as usize;
                locals = f.locals as usize;
                base = f.stack_base as usize;
                limit = f.stack_limit as usize;
                info = match self.packages.get(f.package as usize) {
                    Some(i) => *i,
                    None => return Err(Trap::Internal("frame package")),
                };
                code_lo = info.method_addr as usize;
                code_hi = code_lo + info.method_len as usize;
            }};
        }
        load_frame!();

        let fault: Trap;
        let fault_pc: usize;
        'run: loop {
            let insn = pc;
            macro_rules! fail {
                ($e:expr) => {{
                    fault = $e;
                    fault_pc = insn;
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
                        pc: insn as u32,
                        what: $what
                    })
                };
            }
            macro_rules! u8at {
                ($off:expr) => {{
                    let a = insn + $off;
                    if a >= code_hi {
                        bad!("operand past the end of the code")
                    }
                    t!(self.nvm.read_u8(a).map_err(nvm_err))
                }};
            }
            macro_rules! u16at {
                ($off:expr) => {{
                    let a = insn + $off;
                    if a + 2 > code_hi {
                        bad!("operand past the end of the code")
                    }
                    t!(self.nvm.read_u16(a).map_err(nvm_err))
                }};
            }
            macro_rules! i32at {
                ($off:expr) => {{
                    let a = insn + $off;
                    if a + 4 > code_hi {
                        bad!("operand past the end of the code")
                    }
                    t!(self.nvm.read_u32(a).map_err(nvm_err)) as i32
                }};
            }
            macro_rules! push {
                ($v:expr) => {{
                    let v: i16 = $v;
                    if sp >= limit {
                        bad!("operand stack overflow")
                    }
                    match self.stack.get_mut(sp) {
                        Some(s) => *s = v,
                        None => bad!("stack"),
                    }
                    sp += 1;
                }};
            }
            macro_rules! pop {
                () => {{
                    if sp <= base {
                        bad!("operand stack underflow")
                    }
                    sp -= 1;
                    match self.stack.get(sp) {
                        Some(v) => *v,
                        None => bad!("stack"),
                    }
                }};
            }
            macro_rules! push_int {
                ($v:expr) => {{
                    let v: i32 = $v;
                    push!((v >> 16) as i16);
                    push!(v as i16);
                }};
            }
            macro_rules! pop_int {
                () => {{
                    let lo = pop!() as u16 as i32;
                    let hi = pop!() as i32;
                    (hi << 16) | lo
                }};
            }
            macro_rules! local {
                ($i:expr) => {{
                    let i = locals + $i as usize;
                    if i >= base {
                        bad!("local index out of range")
                    }
                    match self.stack.get(i) {
                        Some(v) => *v,
                        None => bad!("stack"),
                    }
                }};
            }
            macro_rules! set_local {
                ($i:expr, $v:expr) => {{
                    let i = locals + $i as usize;
                    let v: i16 = $v;
                    if i >= base {
                        bad!("local index out of range")
                    }
                    match self.stack.get_mut(i) {
                        Some(s) => *s = v,
                        None => bad!("stack"),
                    }
                }};
            }
            macro_rules! jump {
                ($rel:expr) => {{
                    let target = insn as isize + $rel as isize;
                    if target < code_lo as isize || target >= code_hi as isize {
                        bad!("branch target outside the method component")
                    }
                    pc = target as usize;
                    continue 'run;
                }};
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
                    t!(self.cp_entry(&info, $idx as u16, $tag, insn as u32))
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
            macro_rules! invoke {
                ($m:expr, $nargs:expr, $len:expr) => {{
                    let m: MethodRef = $m;
                    let nargs = $nargs as usize;
                    if sp < base + nargs {
                        bad!("operand stack underflow")
                    }
                    if m >> 16 == NATIVE_PACKAGE {
                        let mut args = [0i16; MAX_NATIVE_ARGS];
                        let (dst, src) =
                            match (args.get_mut(..nargs), self.stack.get(sp - nargs..sp)) {
                                (Some(d), Some(s)) => (d, s),
                                _ => bad!("too many native arguments"),
                            };
                        dst.copy_from_slice(src);
                        sp -= nargs;
                        save!(insn);
                        let v = t!(host.invoke(
                            self,
                            (m & 0xFFFF) as u16,
                            args.get(..nargs).unwrap_or(&[])
                        ));
                        match v {
                            Value::Void => {}
                            Value::Word(w) => push!(w),
                            Value::Int(i) => push_int!(i),
                        }
                        pc = insn + $len;
                    } else {
                        save!(insn + $len);
                        t!(self.push_frame(m, sp - nargs, nargs as u8, 0));
                        load_frame!();
                    }
                }};
            }
            macro_rules! ret {
                ($value:expr) => {{
                    let value: Value = $value;
                    let done = match self.frames.pop() {
                        Some(f) => f,
                        None => return Err(Trap::Internal("no frame")),
                    };
                    self.context = done.saved_context;
                    if self.frames.is_empty() {
                        return Ok(value);
                    }
                    load_frame!();
                    sp = done.locals as usize;
                    match value {
                        Value::Void => {}
                        Value::Word(w) => push!(w),
                        Value::Int(i) => push_int!(i),
                    }
                }};
            }

            if *budget == 0 {
                fail!(Trap::BudgetExhausted);
            }
            *budget -= 1;
            if pc >= code_hi {
                bad!("pc outside the method component");
            }
            let byte = t!(self.nvm.read_u8(pc).map_err(nvm_err));
            let op = match OPCODES[byte as usize] {
                Some(op) => op,
                None => bad!("undefined opcode"),
            };
            match op {
                Op::Nop => pc += 1,
                Op::AconstNull => {
                    push!(0);
                    pc += 1;
                }
                Op::SconstM1
                | Op::Sconst0
                | Op::Sconst1
                | Op::Sconst2
                | Op::Sconst3
                | Op::Sconst4
                | Op::Sconst5 => {
                    push!(byte as i16 - 3);
                    pc += 1;
                }
                Op::IconstM1
                | Op::Iconst0
                | Op::Iconst1
                | Op::Iconst2
                | Op::Iconst3
                | Op::Iconst4
                | Op::Iconst5 => {
                    push_int!(byte as i32 - 10);
                    pc += 1;
                }
                Op::Bspush => {
                    push!(u8at!(1) as i8 as i16);
                    pc += 2;
                }
                Op::Sspush => {
                    push!(u16at!(1) as i16);
                    pc += 3;
                }
                Op::Bipush => {
                    push_int!(u8at!(1) as i8 as i32);
                    pc += 2;
                }
                Op::Sipush => {
                    push_int!(u16at!(1) as i16 as i32);
                    pc += 3;
                }
                Op::Iipush => {
                    push_int!(i32at!(1));
                    pc += 5;
                }
                Op::Aload | Op::Sload => {
                    push!(local!(u8at!(1)));
                    pc += 2;
                }
                Op::Iload => {
                    let i = u8at!(1) as usize;
                    push!(local!(i));
                    push!(local!(i + 1));
                    pc += 2;
                }
                Op::Aload0 | Op::Aload1 | Op::Aload2 | Op::Aload3 => {
                    push!(local!(byte - 0x18));
                    pc += 1;
                }
                Op::Sload0 | Op::Sload1 | Op::Sload2 | Op::Sload3 => {
                    push!(local!(byte - 0x1C));
                    pc += 1;
                }
                Op::Iload0 | Op::Iload1 | Op::Iload2 | Op::Iload3 => {
                    let i = (byte - 0x20) as usize;
                    push!(local!(i));
                    push!(local!(i + 1));
                    pc += 1;
                }
                Op::Aaload | Op::Baload | Op::Saload => {
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    let v = t!(self.array_load(arr, index));
                    push!(v as i16);
                    pc += 1;
                }
                Op::Iaload => {
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    let v = t!(self.array_load(arr, index));
                    push_int!(v);
                    pc += 1;
                }
                Op::Astore | Op::Sstore => {
                    let v = pop!();
                    set_local!(u8at!(1), v);
                    pc += 2;
                }
                Op::Istore => {
                    let i = u8at!(1) as usize;
                    let lo = pop!();
                    let hi = pop!();
                    set_local!(i, hi);
                    set_local!(i + 1, lo);
                    pc += 2;
                }
                Op::Astore0 | Op::Astore1 | Op::Astore2 | Op::Astore3 => {
                    let v = pop!();
                    set_local!(byte - 0x2B, v);
                    pc += 1;
                }
                Op::Sstore0 | Op::Sstore1 | Op::Sstore2 | Op::Sstore3 => {
                    let v = pop!();
                    set_local!(byte - 0x2F, v);
                    pc += 1;
                }
                Op::Istore0 | Op::Istore1 | Op::Istore2 | Op::Istore3 => {
                    let i = (byte - 0x33) as usize;
                    let lo = pop!();
                    let hi = pop!();
                    set_local!(i, hi);
                    set_local!(i + 1, lo);
                    pc += 1;
                }
                Op::Aastore => {
                    let v = pop!() as ObjRef;
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    let (h, ty) = t!(self.array_header(arr));
                    if ty != ArrayType::Reference {
                        bad!("aastore on a primitive array");
                    }
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
                Op::Bastore | Op::Sastore => {
                    let v = pop!();
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    t!(self.array_store(arr, index, v as i32));
                    pc += 1;
                }
                Op::Iastore => {
                    let v = pop_int!();
                    let index = pop!();
                    let arr = pop!() as ObjRef;
                    t!(self.array_store(arr, index, v));
                    pc += 1;
                }
                Op::Pop => {
                    pop!();
                    pc += 1;
                }
                Op::Pop2 => {
                    pop!();
                    pop!();
                    pc += 1;
                }
                Op::Dup => {
                    let v = pop!();
                    push!(v);
                    push!(v);
                    pc += 1;
                }
                Op::Dup2 => {
                    let b = pop!();
                    let a = pop!();
                    push!(a);
                    push!(b);
                    push!(a);
                    push!(b);
                    pc += 1;
                }
                Op::DupX => {
                    let mn = u8at!(1);
                    let m = (mn >> 4) as usize;
                    let n = (mn & 0x0F) as usize;
                    if !(1..=4).contains(&m) || (n != 0 && (n < m || n > m + 4)) {
                        bad!("dup_x operand");
                    }
                    if sp < base + m.max(n) || sp + m > limit {
                        bad!("dup_x stack");
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
                Op::SwapX => {
                    let mn = u8at!(1);
                    let m = (mn >> 4) as usize;
                    let n = (mn & 0x0F) as usize;
                    if !(1..=2).contains(&m) || !(1..=2).contains(&n) || sp < base + m + n {
                        bad!("swap_x operand");
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
                Op::Sadd
                | Op::Ssub
                | Op::Smul
                | Op::Sdiv
                | Op::Srem
                | Op::Sand
                | Op::Sor
                | Op::Sxor
                | Op::Sshl
                | Op::Sshr
                | Op::Sushr => {
                    let b = pop!();
                    let a = pop!();
                    let r = match op {
                        Op::Sadd => a.wrapping_add(b),
                        Op::Ssub => a.wrapping_sub(b),
                        Op::Smul => a.wrapping_mul(b),
                        Op::Sdiv | Op::Srem => {
                            if b == 0 {
                                fail!(self.throw(SystemException::Arithmetic));
                            }
                            if op == Op::Sdiv {
                                a.wrapping_div(b)
                            } else {
                                a.wrapping_rem(b)
                            }
                        }
                        Op::Sand => a & b,
                        Op::Sor => a | b,
                        Op::Sxor => a ^ b,
                        Op::Sshl => ((a as i32) << (b & 0x1F)) as i16,
                        Op::Sshr => ((a as i32) >> (b & 0x1F)) as i16,
                        _ => (((a as i32) as u32) >> (b & 0x1F)) as i16,
                    };
                    push!(r);
                    pc += 1;
                }
                Op::Iadd
                | Op::Isub
                | Op::Imul
                | Op::Idiv
                | Op::Irem
                | Op::Iand
                | Op::Ior
                | Op::Ixor
                | Op::Ishl
                | Op::Ishr
                | Op::Iushr => {
                    let b = pop_int!();
                    let a = pop_int!();
                    let r = match op {
                        Op::Iadd => a.wrapping_add(b),
                        Op::Isub => a.wrapping_sub(b),
                        Op::Imul => a.wrapping_mul(b),
                        Op::Idiv | Op::Irem => {
                            if b == 0 {
                                fail!(self.throw(SystemException::Arithmetic));
                            }
                            if op == Op::Idiv {
                                a.wrapping_div(b)
                            } else {
                                a.wrapping_rem(b)
                            }
                        }
                        Op::Iand => a & b,
                        Op::Ior => a | b,
                        Op::Ixor => a ^ b,
                        Op::Ishl => a.wrapping_shl((b & 0x1F) as u32),
                        Op::Ishr => a >> (b & 0x1F),
                        _ => ((a as u32) >> (b & 0x1F)) as i32,
                    };
                    push_int!(r);
                    pc += 1;
                }
                Op::Sneg => {
                    let a = pop!();
                    push!(a.wrapping_neg());
                    pc += 1;
                }
                Op::Ineg => {
                    let a = pop_int!();
                    push_int!(a.wrapping_neg());
                    pc += 1;
                }
                Op::Sinc => {
                    let i = u8at!(1);
                    let c = u8at!(2) as i8 as i16;
                    let v = local!(i);
                    set_local!(i, v.wrapping_add(c));
                    pc += 3;
                }
                Op::SincW => {
                    let i = u8at!(1);
                    let c = u16at!(2) as i16;
                    let v = local!(i);
                    set_local!(i, v.wrapping_add(c));
                    pc += 4;
                }
                Op::Iinc | Op::IincW => {
                    let i = u8at!(1) as usize;
                    let (c, len) = if op == Op::Iinc {
                        (u8at!(2) as i8 as i32, 3)
                    } else {
                        (u16at!(2) as i16 as i32, 4)
                    };
                    let v = ((local!(i) as i32) << 16) | (local!(i + 1) as u16 as i32);
                    let r = v.wrapping_add(c);
                    set_local!(i, (r >> 16) as i16);
                    set_local!(i + 1, r as i16);
                    pc += len;
                }
                Op::S2b => {
                    let a = pop!();
                    push!(a as i8 as i16);
                    pc += 1;
                }
                Op::S2i => {
                    let a = pop!();
                    push_int!(a as i32);
                    pc += 1;
                }
                Op::I2b => {
                    let a = pop_int!();
                    push!(a as i8 as i16);
                    pc += 1;
                }
                Op::I2s => {
                    let a = pop_int!();
                    push!(a as i16);
                    pc += 1;
                }
                Op::Icmp => {
                    let b = pop_int!();
                    let a = pop_int!();
                    push!(a.cmp(&b) as i16);
                    pc += 1;
                }
                Op::Ifeq
                | Op::Ifne
                | Op::Iflt
                | Op::Ifge
                | Op::Ifgt
                | Op::Ifle
                | Op::IfeqW
                | Op::IfneW
                | Op::IfltW
                | Op::IfgeW
                | Op::IfgtW
                | Op::IfleW => {
                    let v = pop!();
                    let (kind, len) = if byte >= 0x98 {
                        (byte - 0x98, 3)
                    } else {
                        (byte - 0x60, 2)
                    };
                    let c = match kind {
                        0 => v == 0,
                        1 => v != 0,
                        2 => v < 0,
                        3 => v >= 0,
                        4 => v > 0,
                        _ => v <= 0,
                    };
                    branch!(c, len);
                }
                Op::Ifnull | Op::Ifnonnull | Op::IfnullW | Op::IfnonnullW => {
                    let v = pop!();
                    let len = if byte >= 0x98 { 3 } else { 2 };
                    let c = (v == 0) == (op == Op::Ifnull || op == Op::IfnullW);
                    branch!(c, len);
                }
                Op::IfAcmpeq | Op::IfAcmpne | Op::IfAcmpeqW | Op::IfAcmpneW => {
                    let b = pop!();
                    let a = pop!();
                    let len = if byte >= 0x98 { 3 } else { 2 };
                    let c = (a == b) == (op == Op::IfAcmpeq || op == Op::IfAcmpeqW);
                    branch!(c, len);
                }
                Op::IfScmpeq
                | Op::IfScmpne
                | Op::IfScmplt
                | Op::IfScmpge
                | Op::IfScmpgt
                | Op::IfScmple
                | Op::IfScmpeqW
                | Op::IfScmpneW
                | Op::IfScmpltW
                | Op::IfScmpgeW
                | Op::IfScmpgtW
                | Op::IfScmpleW => {
                    let b = pop!();
                    let a = pop!();
                    let (kind, len) = if byte >= 0x98 {
                        (byte - 0xA2, 3)
                    } else {
                        (byte - 0x6A, 2)
                    };
                    let c = match kind {
                        0 => a == b,
                        1 => a != b,
                        2 => a < b,
                        3 => a >= b,
                        4 => a > b,
                        _ => a <= b,
                    };
                    branch!(c, len);
                }
                Op::Goto => {
                    let rel = u8at!(1) as i8 as i16;
                    jump!(rel);
                }
                Op::GotoW => {
                    let rel = u16at!(1) as i16;
                    jump!(rel);
                }
                Op::Jsr => {
                    let rel = u16at!(1) as i16;
                    push!((insn + 3 - code_lo) as i16);
                    jump!(rel);
                }
                Op::Ret => {
                    let v = local!(u8at!(1)) as u16 as usize;
                    let target = code_lo + v;
                    if target >= code_hi {
                        bad!("ret target");
                    }
                    pc = target;
                }
                Op::Stableswitch => {
                    let key = pop!() as i32;
                    let default = u16at!(1) as i16;
                    let low = u16at!(3) as i16 as i32;
                    let high = u16at!(5) as i16 as i32;
                    if low > high {
                        bad!("switch bounds");
                    }
                    if key < low || key > high {
                        jump!(default);
                    }
                    let rel = u16at!(7 + 2 * (key - low) as usize) as i16;
                    jump!(rel);
                }
                Op::Itableswitch => {
                    let key = pop_int!() as i64;
                    let default = u16at!(1) as i16;
                    let low = i32at!(3) as i64;
                    let high = i32at!(7) as i64;
                    if low > high {
                        bad!("switch bounds");
                    }
                    if key < low || key > high {
                        jump!(default);
                    }
                    let rel = u16at!(11 + 2 * (key - low) as usize) as i16;
                    jump!(rel);
                }
                Op::Slookupswitch | Op::Ilookupswitch => {
                    let int = op == Op::Ilookupswitch;
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
                Op::Areturn | Op::Sreturn => {
                    let v = pop!();
                    ret!(Value::Word(v));
                }
                Op::Ireturn => {
                    let v = pop_int!();
                    ret!(Value::Int(v));
                }
                Op::Return => {
                    ret!(Value::Void);
                }
                Op::GetstaticA | Op::GetstaticB | Op::GetstaticS | Op::GetstaticI => {
                    let addr = cp!(u16at!(1), layout::CP_SFIELD);
                    let size = match op {
                        Op::GetstaticB => 1,
                        Op::GetstaticI => 4,
                        _ => 2,
                    };
                    let v = t!(self.get_static(addr, size));
                    if size == 4 {
                        push_int!(v);
                    } else {
                        push!(v as i16);
                    }
                    pc += 3;
                }
                Op::PutstaticA | Op::PutstaticB | Op::PutstaticS | Op::PutstaticI => {
                    let addr = cp!(u16at!(1), layout::CP_SFIELD);
                    match op {
                        Op::PutstaticB => {
                            let v = pop!();
                            t!(self.write_persistent(addr, &[v as u8], true));
                        }
                        Op::PutstaticI => {
                            let v = pop_int!();
                            t!(self.write_persistent(addr, &v.to_be_bytes(), true));
                        }
                        _ => {
                            let v = pop!();
                            t!(self.write_persistent(addr, &v.to_be_bytes(), true));
                        }
                    }
                    pc += 3;
                }
                Op::GetfieldA
                | Op::GetfieldB
                | Op::GetfieldS
                | Op::GetfieldI
                | Op::GetfieldAW
                | Op::GetfieldBW
                | Op::GetfieldSW
                | Op::GetfieldIW
                | Op::GetfieldAThis
                | Op::GetfieldBThis
                | Op::GetfieldSThis
                | Op::GetfieldIThis => {
                    let (idx, len, this) = match byte {
                        0x83..=0x86 => (u8at!(1) as u16, 2, false),
                        0xA9..=0xAC => (u16at!(1), 3, false),
                        _ => (u8at!(1) as u16, 2, true),
                    };
                    let cell = cp!(idx, layout::CP_IFIELD) as u16;
                    let obj = if this { local!(0) } else { pop!() } as ObjRef;
                    let int = matches!(op, Op::GetfieldI | Op::GetfieldIW | Op::GetfieldIThis);
                    let hi = t!(self.get_field(obj, cell));
                    if int {
                        let lo = t!(self.get_field(obj, cell + 1));
                        push!(hi);
                        push!(lo);
                    } else if matches!(op, Op::GetfieldB | Op::GetfieldBW | Op::GetfieldBThis) {
                        push!(hi as i8 as i16);
                    } else {
                        push!(hi);
                    }
                    pc += len;
                }
                Op::PutfieldA
                | Op::PutfieldB
                | Op::PutfieldS
                | Op::PutfieldI
                | Op::PutfieldAW
                | Op::PutfieldBW
                | Op::PutfieldSW
                | Op::PutfieldIW
                | Op::PutfieldAThis
                | Op::PutfieldBThis
                | Op::PutfieldSThis
                | Op::PutfieldIThis => {
                    let (idx, len, this) = match byte {
                        0x87..=0x8A => (u8at!(1) as u16, 2, false),
                        0xB1..=0xB4 => (u16at!(1), 3, false),
                        _ => (u8at!(1) as u16, 2, true),
                    };
                    let cell = cp!(idx, layout::CP_IFIELD) as u16;
                    let int = matches!(op, Op::PutfieldI | Op::PutfieldIW | Op::PutfieldIThis);
                    if int {
                        let v = pop_int!();
                        let obj = if this { local!(0) } else { pop!() } as ObjRef;
                        t!(self.put_field(obj, cell, (v >> 16) as i16));
                        t!(self.put_field(obj, cell + 1, v as i16));
                    } else {
                        let mut v = pop!();
                        if matches!(op, Op::PutfieldB | Op::PutfieldBW | Op::PutfieldBThis) {
                            v = v as i8 as i16;
                        }
                        let obj = if this { local!(0) } else { pop!() } as ObjRef;
                        t!(self.put_field(obj, cell, v));
                    }
                    pc += len;
                }
                Op::Invokevirtual => {
                    let e = cp!(u16at!(1), layout::CP_VMETHOD);
                    let nargs = (e >> 8) as usize & 0xFF;
                    let token = e as u8;
                    if nargs == 0 || sp < base + nargs {
                        bad!("invokevirtual arguments");
                    }
                    let obj = match self.stack.get(sp - nargs) {
                        Some(o) => *o as ObjRef,
                        None => bad!("stack"),
                    };
                    let h = t!(self.header(obj));
                    let m = match t!(self.vtable_entry(h.class, token)) {
                        Some(m) => m,
                        None => bad!("no method for the virtual token"),
                    };
                    invoke!(m, nargs, 3);
                }
                Op::Invokespecial | Op::Invokestatic => {
                    let idx = u16at!(1);
                    let e = t!(self
                        .nvm
                        .read_u32((info.cp_addr + idx as u32 * 4) as usize)
                        .map_err(nvm_err));
                    let tag = (e >> 24) as u8;
                    let ok = if op == Op::Invokestatic {
                        tag == layout::CP_SMETHOD
                    } else {
                        tag == layout::CP_SMETHOD || tag == layout::CP_SMETHOD_SUPER
                    };
                    if idx >= info.cp_count || !ok {
                        bad!("invoke of a non-method constant-pool entry");
                    }
                    let m = e & 0x00FF_FFFF;
                    let nargs = t!(self.method_nargs(m)) as usize;
                    if op == Op::Invokespecial {
                        if nargs == 0 || sp < base + nargs {
                            bad!("invokespecial arguments");
                        }
                        if self.stack.get(sp - nargs).copied() == Some(0) {
                            fail!(self.throw(SystemException::NullPointer));
                        }
                    }
                    invoke!(m, nargs, 3);
                }
                Op::Invokeinterface => {
                    let nargs = u8at!(1) as usize;
                    let iface = cp!(u16at!(2), layout::CP_CLASS) as u16;
                    let method = u8at!(4);
                    if nargs == 0 || sp < base + nargs {
                        bad!("invokeinterface arguments");
                    }
                    let obj = match self.stack.get(sp - nargs) {
                        Some(o) => *o as ObjRef,
                        None => bad!("stack"),
                    };
                    let h = t!(self.header(obj));
                    let token = match t!(self.interface_token(h.class, iface, method)) {
                        Some(tk) => tk,
                        None => bad!("class does not implement the interface"),
                    };
                    let m = match t!(self.vtable_entry(h.class, token)) {
                        Some(m) => m,
                        None => bad!("no method for the interface token"),
                    };
                    if t!(self.method_nargs(m)) as usize != nargs {
                        bad!("invokeinterface nargs mismatch");
                    }
                    invoke!(m, nargs, 5);
                }
                Op::New => {
                    let class = cp!(u16at!(1), layout::CP_CLASS) as u16;
                    if t!(self.class_is_interface(class)) {
                        bad!("new of an interface");
                    }
                    save!(insn);
                    let obj = t!(self.new_instance(class));
                    push!(obj as i16);
                    pc += 3;
                }
                Op::Newarray => {
                    let ty = match ArrayType::from_code(u8at!(1)) {
                        Some(t) if t != ArrayType::Reference => t,
                        _ => bad!("newarray type"),
                    };
                    let n = pop!();
                    let arr = t!(self.new_array(ty, n, 0, 0));
                    push!(arr as i16);
                    pc += 2;
                }
                Op::Anewarray => {
                    let class = cp!(u16at!(1), layout::CP_CLASS) as u16;
                    let n = pop!();
                    let arr = t!(self.new_array(ArrayType::Reference, n, class, 0));
                    push!(arr as i16);
                    pc += 3;
                }
                Op::Arraylength => {
                    let arr = pop!() as ObjRef;
                    let (h, _) = t!(self.array_header(arr));
                    push!(h.len as i16);
                    pc += 1;
                }
                Op::Athrow => {
                    let obj = pop!() as ObjRef;
                    if obj == NULL {
                        fail!(self.throw(SystemException::NullPointer));
                    }
                    fail!(Trap::Throw(obj));
                }
                Op::Checkcast | Op::Instanceof => {
                    let atype = u8at!(1);
                    let idx = u16at!(2);
                    let class = match atype {
                        0 | 14 => cp!(idx, layout::CP_CLASS) as u16,
                        10..=13 => 0,
                        _ => bad!("checkcast type"),
                    };
                    let obj = pop!() as ObjRef;
                    let is = if obj == NULL {
                        None
                    } else {
                        let h = t!(self.header(obj));
                        Some(t!(self.is_instance(&h, atype, class)))
                    };
                    if op == Op::Checkcast {
                        if is == Some(false) {
                            fail!(self.throw(SystemException::ClassCast));
                        }
                        push!(obj as i16);
                    } else {
                        push!((is == Some(true)) as i16);
                    }
                    pc += 4;
                }
                Op::Impdep1 | Op::Impdep2 => bad!("reserved opcode"),
            }
        }
        if let Some(f) = self.frames.last_mut() {
            f.pc = fault_pc as u32;
            f.sp = sp as u16;
        }
        Err(fault)
    }
}
