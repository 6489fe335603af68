//! JVM bytecode to JCVM bytecode.
//!
//! javac computes byte and short arithmetic in 32-bit int (`iload; iload; iadd; i2s`). A Java
//! Card VM computes in 16-bit shorts, and has 32-bit ints only as an option. The translator
//! runs a small type analysis over each method: every value on the JVM operand stack is a
//! node; operands and results of one arithmetic instruction are unified, and a node becomes
//! 32-bit only when something forces it (an int local, field, array element, parameter or
//! return value, or a constant outside the short range). Everything else is translated to
//! the short-typed instructions, and `i2s` on a short value disappears.
//!
//! The same analysis gives the producer of each value, which is what the `getfield_<t>_this`
//! / `putfield_<t>_this` forms need: an `aload_0` of an unchanged `this` whose only use is a
//! field access in the same basic block is dropped. The output is a list of [`Item`]s with
//! symbolic constant-pool keys and branch targets; [`layout`] turns it into bytes once the
//! constant pool is numbered, choosing the 1-byte branch forms wherever they reach.

use std::collections::{BTreeSet, HashMap};

use oxicard_isa::Opcode as Jc;

use crate::bytecode::{ArrayType, JvmInstruction, Opcode, Operands};
use crate::classfile::{ClassFile, Code, Loadable, Method};
use crate::descriptor::{FieldType, MethodDescriptor};

/// A class as a constant-pool operand: one of this package's classes (by index in the
/// package's class order) or a class of an imported package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClassKey {
    /// Index into the package's classes.
    Internal(usize),
    /// Package token and class token.
    External(u8, u8),
}

/// A static member: this package's (class index, member index) or an imported token triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberKey {
    /// Class index and index into that class's fields or methods.
    Internal(usize, usize),
    /// Package token, class token, member token.
    External(u8, u8, u8),
}

/// A constant-pool entry before it has an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CpKey {
    /// CONSTANT_Classref.
    Class(ClassKey),
    /// CONSTANT_InstanceFieldref.
    InstanceField(ClassKey, u8),
    /// CONSTANT_VirtualMethodref.
    Virtual(ClassKey, u8),
    /// CONSTANT_SuperMethodref.
    Super(ClassKey, u8),
    /// CONSTANT_StaticFieldref.
    StaticField(MemberKey),
    /// CONSTANT_StaticMethodref.
    StaticMethod(MemberKey),
}

/// A resolved field reference.
#[derive(Debug, Clone)]
pub struct FieldTarget {
    /// The CP entry.
    pub key: CpKey,
    /// The field's type.
    pub ty: FieldType,
}

/// How a method is invoked, as far as the resolver needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeKind {
    /// `invokevirtual`.
    Virtual,
    /// `invokespecial` (constructor, private method or super call).
    Special,
    /// `invokestatic`.
    Static,
    /// `invokeinterface` (the key is the interface's Classref; the token is returned apart).
    Interface,
}

/// What the translator asks of the package: tokens and CP keys for the members it meets.
pub trait Resolver {
    /// A Classref for a class or array class name (`[B` gives `None`: primitive array).
    fn class(&mut self, name: &str) -> Result<Option<CpKey>, String>;
    /// A field reference.
    fn field(
        &mut self,
        class: &str,
        name: &str,
        descriptor: &str,
        is_static: bool,
    ) -> Result<FieldTarget, String>;
    /// A method reference: the CP key and, for interfaces, the method token.
    fn method(
        &mut self,
        kind: InvokeKind,
        current_class: &str,
        class: &str,
        name: &str,
        descriptor: &str,
    ) -> Result<(CpKey, u8), String>;
}

/// One JCVM instruction before layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Complete bytes.
    Raw(Vec<u8>),
    /// `op [prefix] cp_hi cp_lo [suffix]`.
    Cp {
        /// Opcode.
        op: u8,
        /// Bytes between opcode and index.
        prefix: Vec<u8>,
        /// The entry.
        key: CpKey,
        /// Bytes after the index.
        suffix: Vec<u8>,
    },
    /// A field instruction with a 1-byte index and a `_w` form with a 2-byte index.
    Field {
        /// The narrow opcode.
        narrow: u8,
        /// The wide opcode.
        wide: u8,
        /// The entry.
        key: CpKey,
        /// `_this` form: needs `aload_0` in front when widened.
        this: bool,
    },
    /// A branch to a JVM pc.
    Branch {
        /// 1-byte-offset form.
        narrow: u8,
        /// 2-byte-offset form.
        wide: u8,
        /// JVM target pc.
        target: u32,
    },
    /// A table or lookup switch.
    Switch {
        /// The opcode.
        op: u8,
        /// Int keys.
        int_keys: bool,
        /// JVM default target.
        default: u32,
        /// Keys and JVM targets (table: consecutive keys).
        pairs: Vec<(i32, u32)>,
        /// Table (else lookup) switch.
        table: bool,
    },
}

/// A translated method body.
#[derive(Debug, Clone, Default)]
pub struct Translated {
    /// Items with the JVM pc of the instruction they come from.
    pub items: Vec<(u32, Item)>,
    /// Operand stack words.
    pub max_stack: u16,
    /// Parameter words, `this` included.
    pub nargs: u16,
    /// Local words beyond the parameters.
    pub max_locals: u16,
    /// JVM code length (for end-of-range labels).
    pub code_len: u32,
    /// The Java descriptor of every field and method entry the code refers to (for the
    /// Descriptor component's constant-pool types).
    pub signatures: Vec<(CpKey, String)>,
    /// JCVM local word of each JVM local slot (an int local takes two words), for the Debug
    /// component's variable table.
    pub local_slots: Vec<u16>,
}

/// Everything a translation error needs to say where.
pub struct Site<'a> {
    /// The class.
    pub class: &'a ClassFile,
    /// The method.
    pub method: &'a Method,
}

impl Site<'_> {
    /// `File.java:12: in Class.method: message`.
    pub fn error(&self, pc: Option<u32>, message: &str) -> String {
        let file = self
            .class
            .source_file()
            .unwrap_or_else(|| self.class.simple_name())
            .to_string();
        let line = pc
            .and_then(|pc| self.method.code().and_then(|c| c.line_at(pc)))
            .or_else(|| self.method.code().and_then(|c| c.first_line()));
        let at = match line {
            Some(l) => format!("{file}:{l}"),
            None => file,
        };
        format!(
            "{at}: in {}.{}{}: {message}",
            self.class.class_name().replace('/', "."),
            self.method.name,
            self.method.descriptor
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Prim,
    Ref,
}

struct Node {
    kind: Kind,
    producer: usize,
    uses: u32,
    merged: bool,
}

struct Analysis {
    nodes: Vec<Node>,
    parent: Vec<usize>,
    int: Vec<bool>,
}

impl Analysis {
    fn new_node(&mut self, kind: Kind, producer: usize) -> usize {
        self.nodes.push(Node {
            kind,
            producer,
            uses: 0,
            merged: false,
        });
        self.parent.push(self.parent.len());
        self.int.push(false);
        self.nodes.len() - 1
    }
    fn find(&mut self, mut n: usize) -> usize {
        while self.parent[n] != n {
            self.parent[n] = self.parent[self.parent[n]];
            n = self.parent[n];
        }
        n
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[rb] = ra;
            let i = self.int[ra] || self.int[rb];
            self.int[ra] = i;
        }
    }
    fn set_int(&mut self, n: usize) {
        let r = self.find(n);
        self.int[r] = true;
    }
    fn is_int(&mut self, n: usize) -> bool {
        let r = self.find(n);
        self.int[r]
    }
    fn words(&mut self, n: usize) -> u16 {
        if self.nodes[n].kind == Kind::Prim && self.is_int(n) {
            2
        } else {
            1
        }
    }
}

fn is_int_type(t: &FieldType) -> bool {
    matches!(t, FieldType::Int)
}

fn kind_of(t: &FieldType) -> Kind {
    match t {
        FieldType::Object(_) | FieldType::Array(_) => Kind::Ref,
        _ => Kind::Prim,
    }
}

/// Local variable layout: JVM slot → (JCVM slot, is int).
struct Locals {
    map: Vec<(u16, bool)>,
    total: u16,
}

fn local_layout(slot_int: &[bool]) -> Locals {
    let mut map = Vec::with_capacity(slot_int.len());
    let mut at = 0u16;
    for &is_int in slot_int {
        map.push((at, is_int));
        at += if is_int { 2 } else { 1 };
    }
    Locals { map, total: at }
}

fn cond_code(op: Opcode) -> u8 {
    // eq ne lt ge gt le → 0..5
    match op {
        Opcode::Ifeq | Opcode::IfIcmpeq => 0,
        Opcode::Ifne | Opcode::IfIcmpne => 1,
        Opcode::Iflt | Opcode::IfIcmplt => 2,
        Opcode::Ifge | Opcode::IfIcmpge => 3,
        Opcode::Ifgt | Opcode::IfIcmpgt => 4,
        _ => 5,
    }
}

fn narrow_wide(op: Jc) -> (u8, u8) {
    (op.value(), op.wide().unwrap_or(op).value())
}

/// Translates one method with code.
pub fn translate_method(
    site: &Site<'_>,
    code: &Code,
    int_support: bool,
    resolver: &mut dyn Resolver,
) -> Result<Translated, String> {
    let method = site.method;
    let insns = code
        .instructions()
        .map_err(|e| site.error(Some(e.offset), &e.message))?;
    let desc = method
        .method_descriptor()
        .map_err(|e| site.error(None, &e.to_string()))?;
    let webs = crate::locals::local_webs(method, code, &insns, &desc, int_support)
        .map_err(|e| site.error(None, &e))?;
    let locals = local_layout(&webs.slot_int);
    let this_stable = !method.is_static()
        && !insns.iter().any(|i| {
            matches!(
                i.opcode,
                Opcode::Astore | Opcode::Astore0 | Opcode::Istore | Opcode::Istore0
            ) && i.local_index() == Some(0)
        });
    let index_of: HashMap<u32, usize> = insns
        .iter()
        .enumerate()
        .map(|(i, ins)| (ins.offset, i))
        .collect();
    let mut block_starts: BTreeSet<u32> = BTreeSet::new();
    for ins in &insns {
        for t in ins.branch_targets() {
            block_starts.insert(t);
        }
    }
    for h in &code.exception_table {
        block_starts.insert(h.handler_pc.into());
        block_starts.insert(h.start_pc.into());
        block_starts.insert(h.end_pc.into());
    }

    // Resolve every member reference once.
    let mut fields: HashMap<usize, FieldTarget> = HashMap::new();
    let mut methods: HashMap<usize, (CpKey, u8, MethodDescriptor)> = HashMap::new();
    let mut classes: HashMap<usize, Option<CpKey>> = HashMap::new();
    let cp = &site.class.constant_pool;
    let mut signatures: Vec<(CpKey, String)> = Vec::new();
    for (i, ins) in insns.iter().enumerate() {
        let pc = Some(ins.offset);
        let err = |m: String| site.error(pc, &m);
        match ins.opcode {
            Opcode::Getstatic | Opcode::Putstatic | Opcode::Getfield | Opcode::Putfield => {
                let r = cp
                    .field_ref(ins.constant_pool_index().unwrap_or(0))
                    .map_err(|e| err(e.to_string()))?;
                let is_static = matches!(ins.opcode, Opcode::Getstatic | Opcode::Putstatic);
                let t = resolver
                    .field(r.class_name, r.name, r.descriptor, is_static)
                    .map_err(err)?;
                signatures.push((t.key, r.descriptor.to_string()));
                fields.insert(i, t);
            }
            Opcode::Invokevirtual
            | Opcode::Invokespecial
            | Opcode::Invokestatic
            | Opcode::Invokeinterface => {
                let r = cp
                    .method_ref(ins.constant_pool_index().unwrap_or(0))
                    .map_err(|e| err(e.to_string()))?;
                let kind = match ins.opcode {
                    Opcode::Invokevirtual => InvokeKind::Virtual,
                    Opcode::Invokespecial => InvokeKind::Special,
                    Opcode::Invokestatic => InvokeKind::Static,
                    _ => InvokeKind::Interface,
                };
                let d = MethodDescriptor::parse(r.descriptor).map_err(|e| err(e.to_string()))?;
                let (key, token) = resolver
                    .method(
                        kind,
                        site.class.class_name(),
                        r.class_name,
                        r.name,
                        r.descriptor,
                    )
                    .map_err(err)?;
                signatures.push((key, r.descriptor.to_string()));
                methods.insert(i, (key, token, d));
            }
            Opcode::New | Opcode::Anewarray | Opcode::Checkcast | Opcode::Instanceof => {
                let name = cp
                    .class_name(ins.constant_pool_index().unwrap_or(0))
                    .map_err(|e| err(e.to_string()))?;
                let name = if ins.opcode == Opcode::Anewarray && name.starts_with('[') {
                    return Err(err("multi-dimensional arrays are not supported".into()));
                } else {
                    name
                };
                classes.insert(i, resolver.class(name).map_err(err)?);
            }
            _ => {}
        }
    }

    // Pass 1: abstract interpretation with nodes.
    let mut an = Analysis {
        nodes: Vec::new(),
        parent: Vec::new(),
        int: Vec::new(),
    };
    let mut entry: Vec<Option<Vec<usize>>> = vec![None; insns.len()];
    let mut work: Vec<usize> = Vec::new();
    if !insns.is_empty() {
        entry[0] = Some(Vec::new());
        work.push(0);
    }
    while let Some(i) = work.pop() {
        let ins = &insns[i];
        let mut stack = entry[i].clone().unwrap_or_default();
        let err = |m: &str| site.error(Some(ins.offset), m);
        macro_rules! pop {
            () => {{
                let n = stack.pop().ok_or_else(|| err("operand stack underflow"))?;
                an.nodes[n].uses += 1;
                n
            }};
        }
        macro_rules! push {
            ($k:expr) => {{
                let n = an.new_node($k, i);
                stack.push(n);
                n
            }};
        }
        use Opcode as O;
        let mut falls_through = true;
        match ins.opcode {
            O::Nop => {}
            O::AconstNull => {
                push!(Kind::Ref);
            }
            O::IconstM1
            | O::Iconst0
            | O::Iconst1
            | O::Iconst2
            | O::Iconst3
            | O::Iconst4
            | O::Iconst5
            | O::Bipush
            | O::Sipush => {
                push!(Kind::Prim);
            }
            O::Ldc | O::LdcW => {
                let v = match cp.loadable(ins.constant_pool_index().unwrap_or(0)) {
                    Ok(Loadable::Int(v)) => v,
                    _ => return Err(err("only int constants can be loaded (ldc)")),
                };
                let n = push!(Kind::Prim);
                if i16::try_from(v).is_err() {
                    if !int_support {
                        return Err(err("int constant outside the short range needs --int"));
                    }
                    an.set_int(n);
                }
            }
            O::Iload | O::Iload0 | O::Iload1 | O::Iload2 | O::Iload3 => {
                let n = push!(Kind::Prim);
                if webs.int_at(i) {
                    an.set_int(n);
                }
            }
            O::Aload | O::Aload0 | O::Aload1 | O::Aload2 | O::Aload3 => {
                push!(Kind::Ref);
            }
            O::Istore | O::Istore0 | O::Istore1 | O::Istore2 | O::Istore3 => {
                let n = pop!();
                if webs.int_at(i) {
                    an.set_int(n);
                }
            }
            O::Astore | O::Astore0 | O::Astore1 | O::Astore2 | O::Astore3 => {
                pop!();
            }
            O::Iaload | O::Baload | O::Saload => {
                pop!();
                pop!();
                let n = push!(Kind::Prim);
                if ins.opcode == O::Iaload {
                    an.set_int(n);
                }
            }
            O::Aaload => {
                pop!();
                pop!();
                push!(Kind::Ref);
            }
            O::Iastore | O::Bastore | O::Sastore | O::Aastore => {
                let v = pop!();
                pop!();
                pop!();
                if ins.opcode == O::Iastore {
                    an.set_int(v);
                }
            }
            O::Pop => {
                pop!();
            }
            O::Pop2 => {
                pop!();
                pop!();
            }
            O::Dup => {
                let a = pop!();
                stack.push(a);
                stack.push(a);
                an.nodes[a].uses += 1;
            }
            O::DupX1 => {
                let a = pop!();
                let b = pop!();
                stack.extend([a, b, a]);
                an.nodes[a].uses += 1;
            }
            O::DupX2 => {
                let a = pop!();
                let b = pop!();
                let c = pop!();
                stack.extend([a, c, b, a]);
                an.nodes[a].uses += 1;
            }
            O::Dup2 => {
                let a = pop!();
                let b = pop!();
                stack.extend([b, a, b, a]);
                an.nodes[a].uses += 1;
                an.nodes[b].uses += 1;
            }
            O::Swap => {
                let a = pop!();
                let b = pop!();
                stack.extend([a, b]);
            }
            O::Iadd
            | O::Isub
            | O::Imul
            | O::Idiv
            | O::Irem
            | O::Iand
            | O::Ior
            | O::Ixor
            | O::Ishl
            | O::Ishr
            | O::Iushr => {
                let b = pop!();
                let a = pop!();
                let r = push!(Kind::Prim);
                an.union(r, a);
                an.union(r, b);
            }
            O::Ineg => {
                let a = pop!();
                let r = push!(Kind::Prim);
                an.union(r, a);
            }
            O::Iinc => {}
            O::I2b | O::I2s => {
                pop!();
                push!(Kind::Prim);
            }
            O::Ifeq
            | O::Ifne
            | O::Iflt
            | O::Ifge
            | O::Ifgt
            | O::Ifle
            | O::Ifnull
            | O::Ifnonnull => {
                pop!();
            }
            O::IfIcmpeq | O::IfIcmpne | O::IfIcmplt | O::IfIcmpge | O::IfIcmpgt | O::IfIcmple => {
                let b = pop!();
                let a = pop!();
                an.union(a, b);
            }
            O::IfAcmpeq | O::IfAcmpne => {
                pop!();
                pop!();
            }
            O::Goto | O::GotoW => falls_through = false,
            O::Tableswitch | O::Lookupswitch => {
                pop!();
                falls_through = false;
            }
            O::Ireturn => {
                let n = pop!();
                if desc.ret.as_ref().is_some_and(is_int_type) {
                    an.set_int(n);
                }
                falls_through = false;
            }
            O::Areturn | O::Athrow => {
                pop!();
                falls_through = false;
            }
            O::Return => falls_through = false,
            O::Getstatic | O::Getfield | O::Putstatic | O::Putfield => {
                let f = &fields[&i];
                let ty = f.ty.clone();
                match ins.opcode {
                    O::Getstatic | O::Getfield => {
                        if ins.opcode == O::Getfield {
                            pop!();
                        }
                        let n = push!(kind_of(&ty));
                        if is_int_type(&ty) {
                            an.set_int(n);
                        }
                    }
                    _ => {
                        let v = pop!();
                        if is_int_type(&ty) {
                            an.set_int(v);
                        }
                        if ins.opcode == O::Putfield {
                            pop!();
                        }
                    }
                }
            }
            O::Invokevirtual | O::Invokespecial | O::Invokestatic | O::Invokeinterface => {
                let d = methods[&i].2.clone();
                for p in d.params.iter().rev() {
                    let n = pop!();
                    if is_int_type(p) {
                        an.set_int(n);
                    }
                }
                if ins.opcode != O::Invokestatic {
                    pop!();
                }
                if let Some(r) = &d.ret {
                    let n = push!(kind_of(r));
                    if is_int_type(r) {
                        an.set_int(n);
                    }
                }
            }
            O::New => {
                push!(Kind::Ref);
            }
            O::Newarray | O::Anewarray => {
                pop!();
                push!(Kind::Ref);
            }
            O::Arraylength => {
                pop!();
                push!(Kind::Prim);
            }
            O::Checkcast => {
                let a = pop!();
                stack.push(a);
                an.nodes[a].uses += 1;
                // a checkcast keeps the value but is a use of its own
            }
            O::Instanceof => {
                pop!();
                push!(Kind::Prim);
            }
            other => {
                return Err(err(&format!(
                    "{} is not supported by the Java Card virtual machine",
                    other.mnemonic()
                )))
            }
        }
        let mut succ: Vec<u32> = ins.branch_targets();
        if falls_through {
            succ.push(ins.offset + ins.length);
        }
        for h in &code.exception_table {
            if u32::from(h.start_pc) <= ins.offset && ins.offset < u32::from(h.end_pc) {
                let pc = u32::from(h.handler_pc);
                let hi = *index_of
                    .get(&pc)
                    .ok_or_else(|| err("handler outside the code"))?;
                if entry[hi].is_none() {
                    let n = an.new_node(Kind::Ref, usize::MAX);
                    an.nodes[n].merged = true;
                    entry[hi] = Some(vec![n]);
                    work.push(hi);
                }
            }
        }
        for t in succ {
            let ti = *index_of
                .get(&t)
                .ok_or_else(|| err("branch or fall-through outside the code"))?;
            match &entry[ti] {
                None => {
                    entry[ti] = Some(stack.clone());
                    work.push(ti);
                }
                Some(existing) => {
                    if existing.len() != stack.len() {
                        return Err(err("operand stack heights differ at a join"));
                    }
                    for (a, b) in existing.clone().into_iter().zip(stack.iter().copied()) {
                        if a != b {
                            an.union(a, b);
                            an.nodes[a].merged = true;
                            an.nodes[b].merged = true;
                        }
                    }
                }
            }
        }
    }

    // Which aload_0 instructions are folded into a _this field access.
    let mut dropped = vec![false; insns.len()];
    let mut this_form = vec![false; insns.len()];
    if this_stable {
        for (i, ins) in insns.iter().enumerate() {
            let Some(st) = &entry[i] else { continue };
            let obj = match ins.opcode {
                Opcode::Getfield => st.last().copied(),
                Opcode::Putfield => st.len().checked_sub(2).and_then(|k| st.get(k).copied()),
                _ => None,
            };
            let Some(obj) = obj else { continue };
            let node = &an.nodes[obj];
            let p = node.producer;
            if node.merged || node.uses != 1 || p >= i || insns[p].opcode != Opcode::Aload0 {
                continue;
            }
            let same_block = insns[p + 1..=i]
                .iter()
                .all(|x| !block_starts.contains(&x.offset))
                && insns[p..i].iter().all(|x| {
                    x.branch_targets().is_empty()
                        && !matches!(
                            x.opcode,
                            Opcode::Athrow | Opcode::Ireturn | Opcode::Areturn | Opcode::Return
                        )
                });
            if same_block && !dropped[p] {
                dropped[p] = true;
                this_form[i] = true;
            }
        }
    }

    let mut produced: HashMap<usize, usize> = HashMap::new();
    for (k, n) in an.nodes.iter().enumerate() {
        if n.producer != usize::MAX {
            produced.entry(n.producer).or_insert(k);
        }
    }

    // Pass 2: emission.
    let mut out = Translated {
        code_len: code.code.len() as u32,
        signatures,
        local_slots: locals.map.iter().map(|&(slot, _)| slot).collect(),
        ..Translated::default()
    };
    let mut max_depth: u16 = 0;
    let mut max_local_used: u16 = 0;
    for (i, ins) in insns.iter().enumerate() {
        let Some(st) = entry[i].clone() else { continue };
        let depth: u16 = st.iter().map(|&n| an.words(n)).sum();
        max_depth = max_depth.max(depth);
        let pc = ins.offset;
        let err = |m: &str| site.error(Some(pc), m);
        let mut items: Vec<Item> = Vec::new();
        let raw = |op: Jc, operands: &[u8]| {
            let mut v = vec![op.value()];
            v.extend_from_slice(operands);
            Item::Raw(v)
        };
        let top = |k: usize| st.get(st.len().wrapping_sub(1 + k)).copied();
        let mut result_int = match produced.get(&i) {
            Some(&n) => an.is_int(n),
            None => false,
        };
        if ins.opcode == Opcode::Nop {
            continue;
        }
        use Opcode as O;
        // (JCVM slot, whether this access is to a 32-bit web)
        let local = |idx: u16| -> Result<(u16, bool), String> {
            locals
                .map
                .get(usize::from(idx))
                .map(|&(slot, _)| (slot, webs.int_at(i)))
                .ok_or_else(|| err("local variable index out of range"))
        };
        match ins.opcode {
            O::AconstNull => items.push(raw(Jc::AconstNull, &[])),
            O::IconstM1
            | O::Iconst0
            | O::Iconst1
            | O::Iconst2
            | O::Iconst3
            | O::Iconst4
            | O::Iconst5
            | O::Bipush
            | O::Sipush
            | O::Ldc
            | O::LdcW => {
                let v: i32 = match (&ins.operands, ins.opcode.int_constant()) {
                    (_, Some(v)) => v,
                    (Operands::Immediate(v), _) => i32::from(*v),
                    _ => match cp.loadable(ins.constant_pool_index().unwrap_or(0)) {
                        Ok(Loadable::Int(v)) => v,
                        _ => return Err(err("only int constants can be loaded")),
                    },
                };
                items.push(constant(v, result_int));
            }
            O::Iload | O::Iload0 | O::Iload1 | O::Iload2 | O::Iload3 => {
                let (slot, is_int) = local(ins.local_index().unwrap_or(0))?;
                max_local_used = max_local_used.max(slot + if is_int { 2 } else { 1 });
                items.push(load_store(if is_int { LS::ILoad } else { LS::SLoad }, slot));
                if !is_int && result_int {
                    items.push(raw(Jc::S2i, &[]));
                }
            }
            O::Aload | O::Aload0 | O::Aload1 | O::Aload2 | O::Aload3 => {
                let (slot, _) = local(ins.local_index().unwrap_or(0))?;
                max_local_used = max_local_used.max(slot + 1);
                if !dropped[i] {
                    items.push(load_store(LS::ALoad, slot));
                }
            }
            O::Istore | O::Istore0 | O::Istore1 | O::Istore2 | O::Istore3 => {
                let (slot, is_int) = local(ins.local_index().unwrap_or(0))?;
                max_local_used = max_local_used.max(slot + if is_int { 2 } else { 1 });
                let v_int = top(0).map(|n| an.is_int(n)).unwrap_or(false);
                if v_int && !is_int {
                    items.push(raw(Jc::I2s, &[]));
                }
                items.push(load_store(
                    if is_int { LS::IStore } else { LS::SStore },
                    slot,
                ));
            }
            O::Astore | O::Astore0 | O::Astore1 | O::Astore2 | O::Astore3 => {
                let (slot, _) = local(ins.local_index().unwrap_or(0))?;
                max_local_used = max_local_used.max(slot + 1);
                items.push(load_store(LS::AStore, slot));
            }
            O::Iaload => items.push(raw(Jc::Iaload, &[])),
            O::Aaload => items.push(raw(Jc::Aaload, &[])),
            O::Baload | O::Saload => {
                items.push(raw(
                    if ins.opcode == O::Baload {
                        Jc::Baload
                    } else {
                        Jc::Saload
                    },
                    &[],
                ));
                if result_int {
                    items.push(raw(Jc::S2i, &[]));
                }
            }
            O::Iastore => items.push(raw(Jc::Iastore, &[])),
            O::Aastore => items.push(raw(Jc::Aastore, &[])),
            O::Bastore | O::Sastore => {
                if top(0).map(|n| an.is_int(n)).unwrap_or(false) {
                    items.push(raw(
                        if ins.opcode == O::Bastore {
                            Jc::I2b
                        } else {
                            Jc::I2s
                        },
                        &[],
                    ));
                }
                items.push(raw(
                    if ins.opcode == O::Bastore {
                        Jc::Bastore
                    } else {
                        Jc::Sastore
                    },
                    &[],
                ));
            }
            O::Pop | O::Pop2 | O::Dup | O::DupX1 | O::DupX2 | O::Dup2 | O::Swap => {
                let mut w = [0u16; 3];
                for (k, slot) in w.iter_mut().enumerate() {
                    if let Some(n) = top(k) {
                        *slot = an.words(n);
                    }
                }
                let item = match ins.opcode {
                    O::Pop => {
                        if w[0] == 2 {
                            raw(Jc::Pop2, &[])
                        } else {
                            raw(Jc::Pop, &[])
                        }
                    }
                    O::Pop2 => {
                        let total = w[0] + w[1];
                        if total == 2 {
                            raw(Jc::Pop2, &[])
                        } else {
                            items.push(raw(Jc::Pop2, &[]));
                            if total == 3 {
                                raw(Jc::Pop, &[])
                            } else {
                                raw(Jc::Pop2, &[])
                            }
                        }
                    }
                    O::Dup => {
                        if w[0] == 2 {
                            raw(Jc::Dup2, &[])
                        } else {
                            raw(Jc::Dup, &[])
                        }
                    }
                    O::Dup2 => {
                        let m = w[0] + w[1];
                        if m == 2 {
                            raw(Jc::Dup2, &[])
                        } else {
                            raw(Jc::DupX, &[((m << 4) | m) as u8])
                        }
                    }
                    O::DupX1 => {
                        let m = w[0];
                        raw(Jc::DupX, &[((m << 4) | (m + w[1])) as u8])
                    }
                    O::DupX2 => {
                        let m = w[0];
                        raw(Jc::DupX, &[((m << 4) | (m + w[1] + w[2])) as u8])
                    }
                    _ => raw(Jc::SwapX, &[((w[0] << 4) | w[1]) as u8]),
                };
                items.push(item);
            }
            O::Iadd
            | O::Isub
            | O::Imul
            | O::Idiv
            | O::Irem
            | O::Iand
            | O::Ior
            | O::Ixor
            | O::Ishl
            | O::Ishr
            | O::Iushr
            | O::Ineg => {
                let (s, n) = match ins.opcode {
                    O::Iadd => (Jc::Sadd, Jc::Iadd),
                    O::Isub => (Jc::Ssub, Jc::Isub),
                    O::Imul => (Jc::Smul, Jc::Imul),
                    O::Idiv => (Jc::Sdiv, Jc::Idiv),
                    O::Irem => (Jc::Srem, Jc::Irem),
                    O::Iand => (Jc::Sand, Jc::Iand),
                    O::Ior => (Jc::Sor, Jc::Ior),
                    O::Ixor => (Jc::Sxor, Jc::Ixor),
                    O::Ishl => (Jc::Sshl, Jc::Ishl),
                    O::Ishr => (Jc::Sshr, Jc::Ishr),
                    O::Iushr => (Jc::Sushr, Jc::Iushr),
                    _ => (Jc::Sneg, Jc::Ineg),
                };
                items.push(raw(if result_int { n } else { s }, &[]));
            }
            O::Iinc => {
                let Operands::Iinc { local: l, delta } = ins.operands else {
                    return Err(err("malformed iinc"));
                };
                let (slot, is_int) = local(l)?;
                max_local_used = max_local_used.max(slot + if is_int { 2 } else { 1 });
                let s8 = i8::try_from(delta).ok();
                match (is_int, s8) {
                    (false, Some(d)) => items.push(raw(Jc::Sinc, &[slot as u8, d as u8])),
                    (false, None) => {
                        items.push(load_store(LS::SLoad, slot));
                        items.push(constant(i32::from(delta), false));
                        items.push(raw(Jc::Sadd, &[]));
                        items.push(load_store(LS::SStore, slot));
                        depth_peak(&mut max_depth, depth + 2);
                    }
                    (true, Some(d)) => items.push(raw(Jc::Iinc, &[slot as u8, d as u8])),
                    (true, None) => {
                        let [a, b] = delta.to_be_bytes();
                        items.push(raw(Jc::IincW, &[slot as u8, a, b]))
                    }
                }
            }
            O::I2b | O::I2s => {
                let v_int = top(0).map(|n| an.is_int(n)).unwrap_or(false);
                result_int = false;
                match (ins.opcode, v_int) {
                    (O::I2b, true) => items.push(raw(Jc::I2b, &[])),
                    (O::I2b, false) => {
                        // `(byte) (c ? 1 : 0)`: every value that can arrive is a byte constant
                        let all_byte_constants = match top(0) {
                            Some(v) => {
                                let root = an.find(v);
                                (0..an.nodes.len())
                                    .filter(|&k| an.find(k) == root)
                                    .collect::<Vec<_>>()
                                    .into_iter()
                                    .all(|k| {
                                        insns
                                            .get(an.nodes[k].producer)
                                            .and_then(byte_constant)
                                            .is_some()
                                    })
                            }
                            None => false,
                        };
                        if !all_byte_constants {
                            items.push(raw(Jc::S2b, &[]));
                        }
                    }
                    (_, true) => items.push(raw(Jc::I2s, &[])),
                    _ => {}
                }
            }
            O::Ifeq | O::Ifne | O::Iflt | O::Ifge | O::Ifgt | O::Ifle => {
                let v_int = top(0).map(|n| an.is_int(n)).unwrap_or(false);
                if v_int {
                    items.push(raw(Jc::Iconst0, &[]));
                    items.push(raw(Jc::Icmp, &[]));
                    depth_peak(&mut max_depth, depth + 2);
                }
                items.push(branch(IFS[usize::from(cond_code(ins.opcode))], ins));
            }
            O::IfIcmpeq | O::IfIcmpne | O::IfIcmplt | O::IfIcmpge | O::IfIcmpgt | O::IfIcmple => {
                let v_int = top(0).map(|n| an.is_int(n)).unwrap_or(false);
                let c = usize::from(cond_code(ins.opcode));
                if v_int {
                    items.push(raw(Jc::Icmp, &[]));
                    items.push(branch(IFS[c], ins));
                } else {
                    items.push(branch(IF_SCMPS[c], ins));
                }
            }
            O::Ifnull => items.push(branch(Jc::Ifnull, ins)),
            O::Ifnonnull => items.push(branch(Jc::Ifnonnull, ins)),
            O::IfAcmpeq => items.push(branch(Jc::IfAcmpeq, ins)),
            O::IfAcmpne => items.push(branch(Jc::IfAcmpne, ins)),
            O::Goto | O::GotoW => items.push(branch(Jc::Goto, ins)),
            O::Tableswitch | O::Lookupswitch => {
                let int_keys = top(0).map(|n| an.is_int(n)).unwrap_or(false);
                let (default, pairs, table) = match &ins.operands {
                    Operands::TableSwitch {
                        default,
                        low,
                        targets,
                    } => (
                        *default,
                        targets
                            .iter()
                            .enumerate()
                            .map(|(k, t)| (low + k as i32, *t))
                            .collect::<Vec<_>>(),
                        true,
                    ),
                    Operands::LookupSwitch { default, pairs } => (*default, pairs.clone(), false),
                    _ => return Err(err("malformed switch")),
                };
                if !int_keys && pairs.iter().any(|(k, _)| i16::try_from(*k).is_err()) {
                    return Err(err("switch key outside the short range"));
                }
                let op = match (table, int_keys) {
                    (true, false) => Jc::Stableswitch,
                    (true, true) => Jc::Itableswitch,
                    (false, false) => Jc::Slookupswitch,
                    (false, true) => Jc::Ilookupswitch,
                };
                items.push(Item::Switch {
                    op: op.value(),
                    int_keys,
                    default,
                    pairs,
                    table,
                });
            }
            O::Ireturn => {
                let int_ret = desc.ret.as_ref().is_some_and(is_int_type);
                items.push(raw(if int_ret { Jc::Ireturn } else { Jc::Sreturn }, &[]));
            }
            O::Areturn => items.push(raw(Jc::Areturn, &[])),
            O::Return => items.push(raw(Jc::Return, &[])),
            O::Athrow => items.push(raw(Jc::Athrow, &[])),
            O::Getstatic | O::Putstatic | O::Getfield | O::Putfield => {
                let f = fields[&i].clone();
                let t = type_letter(&f.ty);
                let get = matches!(ins.opcode, O::Getstatic | O::Getfield);
                match ins.opcode {
                    O::Getstatic | O::Putstatic => {
                        let op = static_field_op(get, t);
                        items.push(Item::Cp {
                            op: op.value(),
                            prefix: vec![],
                            key: f.key,
                            suffix: vec![],
                        });
                    }
                    _ => {
                        let (op, this_op) = instance_field_op(get, t);
                        let (narrow, wide) = narrow_wide(op);
                        if this_form[i] {
                            items.push(Item::Field {
                                narrow: this_op.value(),
                                wide,
                                key: f.key,
                                this: true,
                            });
                        } else {
                            items.push(Item::Field {
                                narrow,
                                wide,
                                key: f.key,
                                this: false,
                            });
                        }
                    }
                }
                if get && !is_int_type(&f.ty) && result_int {
                    items.push(raw(Jc::S2i, &[]));
                }
            }
            O::Invokevirtual | O::Invokespecial | O::Invokestatic | O::Invokeinterface => {
                let (key, token, d) = methods[&i].clone();
                let op = match (ins.opcode, key) {
                    (O::Invokevirtual, _) => Jc::Invokevirtual,
                    (O::Invokeinterface, _) => Jc::Invokeinterface,
                    (O::Invokestatic, _) => Jc::Invokestatic,
                    (_, CpKey::Super(..)) => Jc::Invokespecial,
                    _ => Jc::Invokespecial,
                };
                if op == Jc::Invokeinterface {
                    let mut nargs: u16 = 1;
                    for k in 0..d.params.len() {
                        if let Some(n) = top(k) {
                            nargs += an.words(n);
                        }
                    }
                    items.push(Item::Cp {
                        op: op.value(),
                        prefix: vec![nargs as u8],
                        key,
                        suffix: vec![token],
                    });
                } else {
                    items.push(Item::Cp {
                        op: op.value(),
                        prefix: vec![],
                        key,
                        suffix: vec![],
                    });
                }
                if let Some(r) = &d.ret {
                    if !is_int_type(r) && kind_of(r) == Kind::Prim && result_int {
                        items.push(raw(Jc::S2i, &[]));
                    }
                }
            }
            O::New => {
                let Some(key) = classes[&i] else {
                    return Err(err("new of an array class"));
                };
                items.push(Item::Cp {
                    op: Jc::New.value(),
                    prefix: vec![],
                    key,
                    suffix: vec![],
                });
            }
            O::Newarray => {
                let Operands::NewArray(t) = ins.operands else {
                    return Err(err("malformed newarray"));
                };
                let code = match t {
                    ArrayType::Boolean => 10,
                    ArrayType::Byte => 11,
                    ArrayType::Short => 12,
                    ArrayType::Int => 13,
                    other => {
                        return Err(err(&format!(
                            "{} arrays are not supported",
                            other.java_name()
                        )))
                    }
                };
                items.push(raw(Jc::Newarray, &[code]));
            }
            O::Anewarray => {
                let Some(key) = classes[&i] else {
                    return Err(err("arrays of arrays are not supported"));
                };
                items.push(Item::Cp {
                    op: Jc::Anewarray.value(),
                    prefix: vec![],
                    key,
                    suffix: vec![],
                });
            }
            O::Arraylength => items.push(raw(Jc::Arraylength, &[])),
            O::Checkcast | O::Instanceof => {
                let op = if ins.opcode == O::Checkcast {
                    Jc::Checkcast
                } else {
                    Jc::Instanceof
                };
                let name = cp
                    .class_name(ins.constant_pool_index().unwrap_or(0))
                    .unwrap_or("");
                match (classes[&i], name) {
                    (Some(key), n) if n.starts_with('[') => items.push(Item::Cp {
                        op: op.value(),
                        prefix: vec![14],
                        key,
                        suffix: vec![],
                    }),
                    (Some(key), _) => items.push(Item::Cp {
                        op: op.value(),
                        prefix: vec![0],
                        key,
                        suffix: vec![],
                    }),
                    (None, n) => {
                        let code = match n {
                            "[Z" => 10,
                            "[B" => 11,
                            "[S" => 12,
                            "[I" => 13,
                            _ => return Err(err("unsupported array type in a type check")),
                        };
                        items.push(raw(op, &[code, 0, 0]));
                    }
                }
            }
            other => {
                return Err(err(&format!(
                    "{} is not supported by the Java Card virtual machine",
                    other.mnemonic()
                )))
            }
        }
        for it in items {
            out.items.push((pc, it));
        }
    }
    out.items = crate::peephole::fold_sinc(std::mem::take(&mut out.items), &block_starts);
    let mut nargs: u16 = if method.is_static() { 0 } else { 1 };
    for p in &desc.params {
        nargs += if is_int_type(p) && int_support { 2 } else { 1 };
    }
    out.max_stack = max_depth;
    out.nargs = nargs;
    out.max_locals = locals.total.max(max_local_used).saturating_sub(nargs);
    Ok(out)
}

/// The value of an `iconst_*`/`bipush` (the pushes whose value is a byte).
fn byte_constant(ins: &JvmInstruction) -> Option<i8> {
    if let Some(v) = ins.opcode.int_constant() {
        return i8::try_from(v).ok();
    }
    match (ins.opcode, &ins.operands) {
        (Opcode::Bipush, Operands::Immediate(v)) => i8::try_from(*v).ok(),
        _ => None,
    }
}

fn depth_peak(max: &mut u16, d: u16) {
    *max = (*max).max(d);
}

const IFS: [Jc; 6] = [Jc::Ifeq, Jc::Ifne, Jc::Iflt, Jc::Ifge, Jc::Ifgt, Jc::Ifle];
const IF_SCMPS: [Jc; 6] = [
    Jc::IfScmpeq,
    Jc::IfScmpne,
    Jc::IfScmplt,
    Jc::IfScmpge,
    Jc::IfScmpgt,
    Jc::IfScmple,
];

fn branch(op: Jc, ins: &JvmInstruction) -> Item {
    let (narrow, wide) = narrow_wide(op);
    let target = match ins.operands {
        Operands::Branch(t) => t,
        _ => ins.offset,
    };
    Item::Branch {
        narrow,
        wide,
        target,
    }
}

/// The shortest push of a constant.
fn constant(v: i32, int: bool) -> Item {
    let mut b = Vec::new();
    if int {
        match v {
            -1..=5 => b.push((Jc::Iconst0.value() as i32 + v) as u8),
            -128..=127 => b.extend([Jc::Bipush.value(), v as u8]),
            -32768..=32767 => {
                b.push(Jc::Sipush.value());
                b.extend((v as i16).to_be_bytes());
            }
            _ => {
                b.push(Jc::Iipush.value());
                b.extend(v.to_be_bytes());
            }
        }
    } else {
        let v = v as i16;
        match v {
            -1..=5 => b.push((Jc::Sconst0.value() as i16 + v) as u8),
            -128..=127 => b.extend([Jc::Bspush.value(), v as u8]),
            _ => {
                b.push(Jc::Sspush.value());
                b.extend(v.to_be_bytes());
            }
        }
    }
    Item::Raw(b)
}

#[derive(Clone, Copy)]
enum LS {
    ALoad,
    SLoad,
    ILoad,
    AStore,
    SStore,
    IStore,
}

fn load_store(kind: LS, slot: u16) -> Item {
    let (general, first_short) = match kind {
        LS::ALoad => (Jc::Aload, Jc::Aload0),
        LS::SLoad => (Jc::Sload, Jc::Sload0),
        LS::ILoad => (Jc::Iload, Jc::Iload0),
        LS::AStore => (Jc::Astore, Jc::Astore0),
        LS::SStore => (Jc::Sstore, Jc::Sstore0),
        LS::IStore => (Jc::Istore, Jc::Istore0),
    };
    if slot < 4 {
        Item::Raw(vec![first_short.value() + slot as u8])
    } else {
        Item::Raw(vec![general.value(), slot as u8])
    }
}

/// `a`, `b`, `s` or `i` for a field type.
fn type_letter(t: &FieldType) -> char {
    match t {
        FieldType::Object(_) | FieldType::Array(_) => 'a',
        FieldType::Byte | FieldType::Boolean => 'b',
        FieldType::Int => 'i',
        _ => 's',
    }
}

fn static_field_op(get: bool, t: char) -> Jc {
    match (get, t) {
        (true, 'a') => Jc::GetstaticA,
        (true, 'b') => Jc::GetstaticB,
        (true, 'i') => Jc::GetstaticI,
        (true, _) => Jc::GetstaticS,
        (false, 'a') => Jc::PutstaticA,
        (false, 'b') => Jc::PutstaticB,
        (false, 'i') => Jc::PutstaticI,
        (false, _) => Jc::PutstaticS,
    }
}

fn instance_field_op(get: bool, t: char) -> (Jc, Jc) {
    match (get, t) {
        (true, 'a') => (Jc::GetfieldA, Jc::GetfieldAThis),
        (true, 'b') => (Jc::GetfieldB, Jc::GetfieldBThis),
        (true, 'i') => (Jc::GetfieldI, Jc::GetfieldIThis),
        (true, _) => (Jc::GetfieldS, Jc::GetfieldSThis),
        (false, 'a') => (Jc::PutfieldA, Jc::PutfieldAThis),
        (false, 'b') => (Jc::PutfieldB, Jc::PutfieldBThis),
        (false, 'i') => (Jc::PutfieldI, Jc::PutfieldIThis),
        (false, _) => (Jc::PutfieldS, Jc::PutfieldSThis),
    }
}

/// A method body laid out as bytes.
#[derive(Debug, Clone, Default)]
pub struct Laid {
    /// The bytecode.
    pub code: Vec<u8>,
    /// Offsets (in `code`) of 1-byte CP indices.
    pub byte_refs: Vec<u32>,
    /// Offsets (in `code`) of 2-byte CP indices.
    pub byte2_refs: Vec<u32>,
    /// JVM pc → JCVM offset (for every pc that starts an instruction, and the code end).
    pub pc_map: HashMap<u32, u32>,
}

/// Lays a translated method out as bytes, with CP indices from `cp_index`.
/// `code_base` is the absolute offset of the first bytecode (switch padding is not used by
/// the JCVM, so it only matters for nothing; kept for clarity of the caller).
pub fn layout(t: &Translated, cp_index: &dyn Fn(&CpKey) -> u16) -> Result<Laid, String> {
    let n = t.items.len();
    let mut wide = vec![false; n];
    loop {
        // sizes and offsets
        let mut offsets = Vec::with_capacity(n + 1);
        let mut at = 0u32;
        for (k, (_, it)) in t.items.iter().enumerate() {
            offsets.push(at);
            at += item_size(it, wide[k], cp_index);
        }
        offsets.push(at);
        let pc_map = pc_map(t, &offsets, at);
        let mut changed = false;
        for (k, (_, it)) in t.items.iter().enumerate() {
            if let Item::Branch { target, .. } = it {
                if !wide[k] {
                    let to = *pc_map.get(target).ok_or("branch target lost")?;
                    let rel = i64::from(to) - i64::from(offsets[k]);
                    if !(-128..=127).contains(&rel) {
                        wide[k] = true;
                        changed = true;
                    }
                }
            }
        }
        if changed {
            continue;
        }
        let mut laid = Laid {
            pc_map: pc_map.clone(),
            ..Laid::default()
        };
        for (k, (_, it)) in t.items.iter().enumerate() {
            let here = offsets[k];
            let code = &mut laid.code;
            match it {
                Item::Raw(b) => code.extend_from_slice(b),
                Item::Cp {
                    op,
                    prefix,
                    key,
                    suffix,
                } => {
                    code.push(*op);
                    code.extend_from_slice(prefix);
                    laid.byte2_refs.push(code.len() as u32);
                    code.extend_from_slice(&cp_index(key).to_be_bytes());
                    code.extend_from_slice(suffix);
                }
                Item::Field {
                    narrow,
                    wide: w,
                    key,
                    this,
                } => {
                    let idx = cp_index(key);
                    if let Ok(b) = u8::try_from(idx) {
                        code.push(*narrow);
                        laid.byte_refs.push(code.len() as u32);
                        code.push(b);
                    } else {
                        if *this {
                            code.push(Jc::Aload0.value());
                        }
                        code.push(*w);
                        laid.byte2_refs.push(code.len() as u32);
                        code.extend_from_slice(&idx.to_be_bytes());
                    }
                }
                Item::Branch {
                    narrow,
                    wide: w,
                    target,
                } => {
                    let to = *pc_map.get(target).ok_or("branch target lost")?;
                    let rel = i64::from(to) - i64::from(here);
                    if wide[k] {
                        let rel = i16::try_from(rel).map_err(|_| {
                            format!("branch of {rel} bytes: a method body is too long")
                        })?;
                        code.push(*w);
                        code.extend_from_slice(&rel.to_be_bytes());
                    } else {
                        code.push(*narrow);
                        code.push(rel as i8 as u8);
                    }
                }
                Item::Switch {
                    op,
                    int_keys,
                    default,
                    pairs,
                    table,
                } => {
                    let rel = |pc: &u32| -> Result<[u8; 2], String> {
                        let to = *pc_map.get(pc).ok_or("switch target lost")?;
                        let rel = i64::from(to) - i64::from(here);
                        let rel = i16::try_from(rel).map_err(|_| {
                            format!("switch branch of {rel} bytes: a method body is too long")
                        })?;
                        Ok(rel.to_be_bytes())
                    };
                    code.push(*op);
                    code.extend_from_slice(&rel(default)?);
                    if *table {
                        let low = pairs.first().map(|p| p.0).unwrap_or(0);
                        let high = pairs.last().map(|p| p.0).unwrap_or(-1);
                        if *int_keys {
                            code.extend_from_slice(&low.to_be_bytes());
                            code.extend_from_slice(&high.to_be_bytes());
                        } else {
                            code.extend_from_slice(&(low as i16).to_be_bytes());
                            code.extend_from_slice(&(high as i16).to_be_bytes());
                        }
                        for (_, t) in pairs {
                            code.extend_from_slice(&rel(t)?);
                        }
                    } else {
                        code.extend_from_slice(&(pairs.len() as u16).to_be_bytes());
                        for (key, t) in pairs {
                            if *int_keys {
                                code.extend_from_slice(&key.to_be_bytes());
                            } else {
                                code.extend_from_slice(&(*key as i16).to_be_bytes());
                            }
                            code.extend_from_slice(&rel(t)?);
                        }
                    }
                }
            }
        }
        return Ok(laid);
    }
}

fn pc_map(t: &Translated, offsets: &[u32], end: u32) -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    // every JVM pc maps to the first item emitted at or after it
    let mut k = t.items.len();
    let mut pcs: Vec<u32> = t.items.iter().map(|(pc, _)| *pc).collect();
    pcs.push(t.code_len);
    let _ = &mut k;
    let mut item_at = 0usize;
    for pc in 0..=t.code_len {
        while item_at < t.items.len() && t.items[item_at].0 < pc {
            item_at += 1;
        }
        let off = if item_at < t.items.len() {
            offsets[item_at]
        } else {
            end
        };
        map.insert(pc, off);
    }
    map
}

fn item_size(it: &Item, wide: bool, cp_index: &dyn Fn(&CpKey) -> u16) -> u32 {
    match it {
        Item::Raw(b) => b.len() as u32,
        Item::Cp { prefix, suffix, .. } => 3 + (prefix.len() + suffix.len()) as u32,
        Item::Field { key, this, .. } => {
            if cp_index(key) <= 255 {
                2
            } else if *this {
                4
            } else {
                3
            }
        }
        Item::Branch { .. } => {
            if wide {
                3
            } else {
                2
            }
        }
        Item::Switch {
            int_keys,
            pairs,
            table,
            ..
        } => {
            let k = if *int_keys { 4 } else { 2 };
            if *table {
                3 + 2 * k + 2 * pairs.len() as u32
            } else {
                5 + (k + 2) * pairs.len() as u32
            }
        }
    }
}
