//! Local variables split into webs (the stores and loads that reach each other), so that one
//! JVM slot can hold an `int` in one part of a method and a `short` in another, as javac
//! reuses slots across scopes. Each web is 32-bit or not on its own; a JVM slot gets two
//! JCVM words if any web on it is 32-bit (Oracle's converter lays locals out the same way:
//! `iload 7` in one switch case, `sload 7` in another).
//!
//! Two passes over the control flow graph: a backward liveness pass, then a forward pass
//! that gives every store a web and joins the webs that meet where the slot is live.

use crate::bytecode::{JvmInstruction, Opcode};
use crate::classfile::{Code, Method};
use crate::descriptor::{FieldType, MethodDescriptor};

/// The webs of one method's local variables.
pub(crate) struct LocalWebs {
    /// Per instruction: the web of the local it loads, stores or increments.
    web_of: Vec<Option<usize>>,
    /// Per web (a union-find root): 32-bit.
    int: Vec<bool>,
    parent: Vec<usize>,
    /// Per JVM slot: some web on it is 32-bit.
    pub(crate) slot_int: Vec<bool>,
}

impl LocalWebs {
    fn find(&self, mut w: usize) -> usize {
        while let Some(&p) = self.parent.get(w) {
            if p == w {
                break;
            }
            w = p;
        }
        w
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            if let Some(p) = self.parent.get_mut(rb) {
                *p = ra;
            }
            let int = self.int.get(rb).copied().unwrap_or(false);
            if let Some(i) = self.int.get_mut(ra) {
                *i |= int;
            }
        }
    }

    fn new_web(&mut self) -> usize {
        self.parent.push(self.parent.len());
        self.int.push(false);
        self.parent.len() - 1
    }

    /// True when instruction `i` accesses a 32-bit local.
    pub(crate) fn int_at(&self, i: usize) -> bool {
        match self.web_of.get(i).copied().flatten() {
            Some(w) => self.int.get(self.find(w)).copied().unwrap_or(false),
            None => false,
        }
    }
}

/// How an instruction touches a local slot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    None,
    Load(u16),
    Store(u16),
    /// `iinc`: a load and a store of the same web.
    Update(u16),
}

fn access(ins: &JvmInstruction) -> Access {
    use Opcode as O;
    let slot = ins.local_index().unwrap_or(0);
    match ins.opcode {
        O::Iload
        | O::Iload0
        | O::Iload1
        | O::Iload2
        | O::Iload3
        | O::Aload
        | O::Aload0
        | O::Aload1
        | O::Aload2
        | O::Aload3 => Access::Load(slot),
        O::Istore
        | O::Istore0
        | O::Istore1
        | O::Istore2
        | O::Istore3
        | O::Astore
        | O::Astore0
        | O::Astore1
        | O::Astore2
        | O::Astore3 => Access::Store(slot),
        O::Iinc => Access::Update(slot),
        _ => Access::None,
    }
}

fn falls_through(op: Opcode) -> bool {
    use Opcode as O;
    !matches!(
        op,
        O::Goto
            | O::GotoW
            | O::Tableswitch
            | O::Lookupswitch
            | O::Ireturn
            | O::Lreturn
            | O::Freturn
            | O::Dreturn
            | O::Areturn
            | O::Return
            | O::Athrow
            | O::Ret
    )
}

/// Successors of every instruction (branch targets, fall-through, exception handlers of
/// the ranges it is in), as instruction indices.
fn successors(insns: &[JvmInstruction], code: &Code) -> Result<Vec<Vec<usize>>, String> {
    let index_of = |pc: u32| -> Result<usize, String> {
        insns
            .binary_search_by_key(&pc, |i| i.offset)
            .map_err(|_| format!("code offset {pc} is not the start of an instruction"))
    };
    let mut out = Vec::with_capacity(insns.len());
    for (i, ins) in insns.iter().enumerate() {
        let mut s = Vec::new();
        for t in ins.branch_targets() {
            s.push(index_of(t)?);
        }
        if falls_through(ins.opcode) && i + 1 < insns.len() {
            s.push(i + 1);
        }
        for h in &code.exception_table {
            if u32::from(h.start_pc) <= ins.offset && ins.offset < u32::from(h.end_pc) {
                s.push(index_of(u32::from(h.handler_pc))?);
            }
        }
        out.push(s);
    }
    Ok(out)
}

/// Computes the webs of a method's locals. `int_support` gates the LocalVariableTable's
/// `int` declarations (without it nothing is 32-bit).
pub(crate) fn local_webs(
    method: &Method,
    code: &Code,
    insns: &[JvmInstruction],
    desc: &MethodDescriptor,
    int_support: bool,
) -> Result<LocalWebs, String> {
    let n_slots = usize::from(code.max_locals);
    let n = insns.len();
    let succ = successors(insns, code)?;
    let acc: Vec<Access> = insns.iter().map(access).collect();
    for a in &acc {
        if let Access::Load(s) | Access::Store(s) | Access::Update(s) = *a {
            if usize::from(s) >= n_slots {
                return Err(format!("local variable {s} is beyond max_locals {n_slots}"));
            }
        }
    }

    // Liveness (backward, to a fixed point).
    let mut live_in: Vec<Vec<bool>> = vec![vec![false; n_slots]; n];
    let mut changed = true;
    while changed {
        changed = false;
        for i in (0..n).rev() {
            let mut live = vec![false; n_slots];
            for &s in &succ[i] {
                for (l, &v) in live.iter_mut().zip(&live_in[s]) {
                    *l |= v;
                }
            }
            match acc[i] {
                Access::Store(s) => live[usize::from(s)] = false,
                Access::Load(s) | Access::Update(s) => live[usize::from(s)] = true,
                Access::None => {}
            }
            // an exception can leave before the store: handlers see the old value
            for h in &code.exception_table {
                let pc = insns[i].offset;
                if u32::from(h.start_pc) <= pc && pc < u32::from(h.end_pc) {
                    if let Ok(hi) =
                        insns.binary_search_by_key(&u32::from(h.handler_pc), |x| x.offset)
                    {
                        for (l, &v) in live.iter_mut().zip(&live_in[hi]) {
                            *l |= v;
                        }
                    }
                }
            }
            if live != live_in[i] {
                live_in[i] = live;
                changed = true;
            }
        }
    }

    // Webs (forward).
    let mut webs = LocalWebs {
        web_of: vec![None; n],
        int: Vec::new(),
        parent: Vec::new(),
        slot_int: vec![false; n_slots],
    };
    let mut entry: Vec<Option<Vec<Option<usize>>>> = vec![None; n];
    let mut start = vec![None; n_slots];
    let first_param = usize::from(!method.is_static());
    if first_param == 1 {
        if let Some(s) = start.get_mut(0) {
            *s = Some(webs.new_web());
        }
    }
    for (slot, p) in (first_param..).zip(&desc.params) {
        let w = webs.new_web();
        if matches!(p, FieldType::Int) {
            webs.int[w] = true;
        }
        if let Some(s) = start.get_mut(slot) {
            *s = Some(w);
        }
    }
    let store_web: Vec<Option<usize>> = acc
        .iter()
        .map(|a| matches!(a, Access::Store(_)).then(|| webs.new_web()))
        .collect();
    let mut work = Vec::new();
    if n > 0 {
        entry[0] = Some(start);
        work.push(0);
    }
    while let Some(i) = work.pop() {
        let mut state = entry[i].clone().unwrap_or_default();
        match acc[i] {
            Access::Load(s) | Access::Update(s) => {
                webs.web_of[i] = state.get(usize::from(s)).copied().flatten();
            }
            Access::Store(s) => {
                webs.web_of[i] = store_web[i];
                if let Some(v) = state.get_mut(usize::from(s)) {
                    *v = store_web[i];
                }
            }
            Access::None => {}
        }
        let mut targets: Vec<(usize, Vec<Option<usize>>)> =
            succ[i].iter().map(|&t| (t, state.clone())).collect();
        // handlers are entered with the state before this instruction
        for h in &code.exception_table {
            let pc = insns[i].offset;
            if u32::from(h.start_pc) <= pc && pc < u32::from(h.end_pc) {
                if let Ok(hi) = insns.binary_search_by_key(&u32::from(h.handler_pc), |x| x.offset) {
                    targets.push((hi, entry[i].clone().unwrap_or_default()));
                }
            }
        }
        for (t, st) in targets {
            match &entry[t] {
                None => {
                    entry[t] = Some(st);
                    work.push(t);
                }
                Some(existing) => {
                    let existing = existing.clone();
                    for (s, (a, b)) in existing.iter().zip(&st).enumerate() {
                        if let (Some(a), Some(b), true) = (a, b, live_in[t][s]) {
                            webs.union(*a, *b);
                        }
                    }
                }
            }
        }
    }

    // Which webs hold an `int`: the LocalVariableTable says so for a range that one of
    // the web's accesses is in (a store's value becomes visible after the store).
    if int_support {
        for v in code.local_variables() {
            if v.descriptor != "I" {
                continue;
            }
            let (from, to) = (
                u32::from(v.start_pc),
                u32::from(v.start_pc) + u32::from(v.length),
            );
            for (i, ins) in insns.iter().enumerate() {
                let inside = match acc[i] {
                    Access::Load(s) | Access::Update(s) if s == v.index => {
                        from <= ins.offset && ins.offset < to
                    }
                    Access::Store(s) if s == v.index => {
                        let after = ins.offset + ins.length;
                        from <= after && after <= to
                    }
                    _ => false,
                };
                if let (true, Some(w)) = (inside, webs.web_of[i]) {
                    let r = webs.find(w);
                    webs.int[r] = true;
                }
            }
        }
    }
    for (i, a) in acc.iter().enumerate() {
        if let Access::Load(s) | Access::Store(s) | Access::Update(s) = *a {
            if webs.int_at(i) {
                webs.slot_int[usize::from(s)] = true;
            }
        }
    }
    // parameters keep their declared width even when never accessed
    for (slot, p) in (first_param..).zip(&desc.params) {
        if matches!(p, FieldType::Int) {
            if let Some(s) = webs.slot_int.get_mut(slot) {
                *s = true;
            }
        }
    }
    Ok(webs)
}
