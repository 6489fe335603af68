//! The native methods of java.lang and javacard.framework: the runtime side of the API
//! catalog in [`crate::api`]. Each native receives its argument words (`this` first) and
//! returns a value or throws a Java exception (`Err(Trap::Throw)`).

use crate::api::{self, n, PIN_CELLS, THROWERS};
use crate::{AppletEntry, Runtime, APDU_BUFFER_LEN};
use oxicard_store::Nvm;
use oxicard_vm::api::{NativeId, Natives, Value};
use oxicard_vm::heap::{ArrayType, ObjRef, NULL, TRANSIENT_DESELECT, TRANSIENT_RESET};
use oxicard_vm::{SystemException, Trap, Vm};

/// APDU states (APDU.STATE_*).
const STATE_FULL_INCOMING: i8 = 2;
const STATE_OUTGOING: i8 = 3;
const STATE_OUTGOING_LENGTH_KNOWN: i8 = 4;
const STATE_PARTIAL_OUTGOING: i8 = 5;
const STATE_FULL_OUTGOING: i8 = 6;

/// APDUException reasons.
const APDU_ILLEGAL_USE: i16 = 1;
const APDU_BAD_LENGTH: i16 = 3;
/// SystemException reasons.
const SYS_ILLEGAL_VALUE: i16 = 1;
/// TransactionException reasons.
const TX_IN_PROGRESS: i16 = 1;
const TX_NOT_IN_PROGRESS: i16 = 2;
/// PINException.ILLEGAL_VALUE
const PIN_ILLEGAL_VALUE: i16 = 1;

fn arg(args: &[i16], i: usize) -> i16 {
    args.get(i).copied().unwrap_or(0)
}

fn word(v: i16) -> Result<Value, Trap> {
    Ok(Value::Word(v))
}

fn boolean(b: bool) -> Result<Value, Trap> {
    Ok(Value::Word(b as i16))
}

impl Runtime {
    /// Throws the preallocated instance of exception class `class` with `reason`.
    fn throw_reason<N: Nvm>(&self, vm: &mut Vm<N>, class: u16, reason: i16) -> Trap {
        let obj = self.exceptions.get(class as usize).copied().unwrap_or(NULL);
        if obj == NULL {
            return Trap::Internal("no exception object");
        }
        if let Err(e) = vm.put_field_non_atomic(obj, 0, reason) {
            return e;
        }
        Trap::Throw(obj)
    }

    /// The AID object of the applet instance active in context `ctx`: the selected applet
    /// if it belongs to that context, else the first instance of the context's package;
    /// null for the runtime's context.
    fn context_aid<N: Nvm>(&self, ctx: u8) -> ObjRef {
        let in_ctx = |a: &&AppletEntry| Vm::<N>::package_context(a.package) == ctx;
        self.current_applet()
            .filter(in_ctx)
            .or_else(|| self.applets.iter().find(in_ctx))
            .map_or(NULL, |a| a.aid_obj)
    }

    /// `JCSystem.getAppletShareableInterfaceObject(serverAID, parameter)`: calls the server
    /// applet's `getShareableInterfaceObject(clientAID, parameter)` in the server's context
    /// and returns its result; null when no applet has that AID.
    fn applet_sio<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        server_aid: ObjRef,
        parameter: i16,
    ) -> Result<Value, Trap> {
        if server_aid == NULL {
            return word(0);
        }
        let mut want = [0u8; 16];
        let bytes = vm.get_field(server_aid, 0)? as ObjRef;
        let (h, _) = vm.array_header(bytes)?;
        let len = (h.len as usize).min(16);
        let want = want.get_mut(..len).ok_or(Trap::Internal("aid"))?;
        vm.read_elements(&h, 0, want)?;
        let Some(server) = self.applets.iter().find(|a| a.aid.as_slice() == &want[..]) else {
            return word(0);
        };
        let (obj, pkg) = (server.obj, server.package);
        let client = self.context_aid::<N>(vm.context());
        let class = vm.header(obj)?.class;
        let m = vm
            .vtable_entry(class, api::APPLET_GET_SIO_TOKEN)?
            .ok_or(Trap::Internal("getShareableInterfaceObject"))?;
        let ctx = Vm::<N>::package_context(pkg);
        let r = vm.call_nested(self, m, &[obj as i16, client as i16, parameter], ctx)?;
        match r {
            Value::Word(w) => word(w),
            _ => word(0),
        }
    }

    fn current_applet(&self) -> Option<&AppletEntry> {
        self.selected.and_then(|i| self.applets.get(i))
    }

    fn apdu_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let a = &mut self.apdu;
        match token {
            1 => word(self.apdu_buffer as i16),
            2 => word(0),
            3 => {
                // receiveBytes(bOff): everything was received by setIncomingAndReceive
                if a.state < STATE_FULL_INCOMING - 1 {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
                }
                word(0)
            }
            4 | 5 => {
                if a.state < STATE_OUTGOING_LENGTH_KNOWN {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
                }
                let (src, off, len) = if token == 4 {
                    (self.apdu_buffer, arg(args, 1), arg(args, 2))
                } else {
                    (arg(args, 1) as ObjRef, arg(args, 2), arg(args, 3))
                };
                let h = vm.byte_array_range(src, off, len)?;
                let a = &mut self.apdu;
                if a.response.len() + len as usize > a.out_len as usize {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_BAD_LENGTH));
                }
                let mut buf = [0u8; 256];
                let chunk = buf.get_mut(..len as usize).ok_or(Trap::Internal("len"))?;
                vm.read_elements(&h, off as usize, chunk)?;
                let _ = a.response.extend_from_slice(chunk);
                a.state = if a.response.len() == a.out_len as usize {
                    STATE_FULL_OUTGOING
                } else {
                    STATE_PARTIAL_OUTGOING
                };
                Ok(Value::Void)
            }
            6 => {
                if a.state != 0 {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
                }
                a.state = STATE_FULL_INCOMING;
                word(a.lc as i16)
            }
            7 | 10 => {
                if a.state >= STATE_OUTGOING {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
                }
                a.state = STATE_OUTGOING;
                word(if a.le == 0 { 256 } else { a.le as i16 })
            }
            8 => {
                // setOutgoingAndSend(bOff, len)
                if a.state >= STATE_OUTGOING {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
                }
                let len = arg(args, 2);
                if !(0..=256).contains(&len) {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_BAD_LENGTH));
                }
                a.state = STATE_OUTGOING_LENGTH_KNOWN;
                a.out_len = len as u16;
                self.apdu_native(vm, 4, &[0, arg(args, 1), len])
            }
            9 => {
                let len = arg(args, 1);
                if a.state != STATE_OUTGOING {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
                }
                if !(0..=256).contains(&len) {
                    return Err(self.throw_reason(vm, api::C_APDU_EXCEPTION, APDU_BAD_LENGTH));
                }
                a.out_len = len as u16;
                a.state = STATE_OUTGOING_LENGTH_KNOWN;
                Ok(Value::Void)
            }
            11 => word(a.state as i16),
            12 | 13 | 14 | 17 => {
                let h = vm.header(self.apdu_buffer)?;
                let mut cla = [0u8; 1];
                vm.read_elements(&h, 0, &mut cla)?;
                let cla = cla[0];
                boolean(match token {
                    12 => cla & 0x10 != 0,
                    13 => cla & 0x80 == 0 && cla & 0x0C != 0,
                    14 => cla & 0x80 == 0,
                    _ => cla != 0xFF,
                })
            }
            15 => word(a.lc as i16),
            16 => word(5),
            _ => word(0),
        }
    }

    fn util<N: Nvm>(&mut self, vm: &mut Vm<N>, token: u16, args: &[i16]) -> Result<Value, Trap> {
        match token {
            0..=2 => {
                let (src, so, dst, dof, len) = (
                    arg(args, 0) as ObjRef,
                    arg(args, 1),
                    arg(args, 2) as ObjRef,
                    arg(args, 3),
                    arg(args, 4),
                );
                if src == NULL || dst == NULL {
                    return Err(vm.throw(SystemException::NullPointer));
                }
                if len < 0 {
                    return Err(vm.throw(SystemException::ArrayIndexOutOfBounds));
                }
                let hs = vm.byte_array_range(src, so, len)?;
                let hd = vm.byte_array_range(dst, dof, len)?;
                if token == 0 {
                    let mut a = [0u8; 1];
                    let mut b = [0u8; 1];
                    for i in 0..len as usize {
                        vm.read_elements(&hs, so as usize + i, &mut a)?;
                        vm.read_elements(&hd, dof as usize + i, &mut b)?;
                        if a[0] != b[0] {
                            return word(if a[0] > b[0] { 1 } else { -1 });
                        }
                    }
                    return word(0);
                }
                let atomic = token == 1;
                let mut buf = [0u8; 64];
                let total = len as usize;
                let backwards = src == dst && dof > so;
                let mut done = 0;
                while done < total {
                    let nbytes = (total - done).min(buf.len());
                    let at = if backwards {
                        total - done - nbytes
                    } else {
                        done
                    };
                    let chunk = buf.get_mut(..nbytes).ok_or(Trap::Internal("chunk"))?;
                    vm.read_elements(&hs, so as usize + at, chunk)?;
                    vm.write_elements(&hd, dof as usize + at, chunk, atomic)?;
                    done += nbytes;
                }
                word(dof.wrapping_add(len))
            }
            3 | 7 => {
                let (arr, off, len, v) = (
                    arg(args, 0) as ObjRef,
                    arg(args, 1),
                    arg(args, 2),
                    arg(args, 3),
                );
                if arr == NULL {
                    return Err(vm.throw(SystemException::NullPointer));
                }
                if len < 0 {
                    return Err(vm.throw(SystemException::ArrayIndexOutOfBounds));
                }
                let h = vm.byte_array_range(arr, off, len)?;
                let buf = [v as u8; 64];
                let mut done = 0usize;
                while done < len as usize {
                    let nbytes = (len as usize - done).min(buf.len());
                    let chunk = buf.get(..nbytes).ok_or(Trap::Internal("chunk"))?;
                    vm.write_elements(&h, off as usize + done, chunk, token == 7)?;
                    done += nbytes;
                }
                word(off.wrapping_add(len))
            }
            4 => {
                let arr = arg(args, 0) as ObjRef;
                let off = arg(args, 1);
                let h = vm.byte_array_range(arr, off, 2)?;
                let mut b = [0u8; 2];
                vm.read_elements(&h, off as usize, &mut b)?;
                word(i16::from_be_bytes(b))
            }
            5 => word(((arg(args, 0) as u8 as u16) << 8 | arg(args, 1) as u8 as u16) as i16),
            6 => {
                let arr = arg(args, 0) as ObjRef;
                let off = arg(args, 1);
                let h = vm.byte_array_range(arr, off, 2)?;
                vm.write_elements(&h, off as usize, &arg(args, 2).to_be_bytes(), true)?;
                word(off.wrapping_add(2))
            }
            _ => Err(Trap::Internal("Util method")),
        }
    }

    fn jcsystem<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        match token {
            0 => {
                if !vm.abort_transaction()? {
                    return Err(self.throw_reason(
                        vm,
                        api::C_TRANSACTION_EXCEPTION,
                        TX_NOT_IN_PROGRESS,
                    ));
                }
                Ok(Value::Void)
            }
            1 => {
                if !vm.begin_transaction() {
                    return Err(self.throw_reason(
                        vm,
                        api::C_TRANSACTION_EXCEPTION,
                        TX_IN_PROGRESS,
                    ));
                }
                Ok(Value::Void)
            }
            2 => {
                if !vm.commit_transaction() {
                    return Err(self.throw_reason(
                        vm,
                        api::C_TRANSACTION_EXCEPTION,
                        TX_NOT_IN_PROGRESS,
                    ));
                }
                Ok(Value::Void)
            }
            3 => word(self.context_aid::<N>(vm.context()) as i16),
            4 => self.applet_sio(vm, arg(args, 0) as ObjRef, arg(args, 1)),
            6 => word(
                vm.previous_context()
                    .map_or(NULL, |c| self.context_aid::<N>(c)) as i16,
            ),
            5 => word(vm.max_commit_capacity().min(i16::MAX as usize) as i16),
            7 => word(vm.transaction_depth() as i16),
            8 => word(vm.unused_commit_capacity().min(i16::MAX as usize) as i16),
            9 => word(0x0300),
            10 => {
                let obj = arg(args, 0) as ObjRef;
                let h = vm.header(obj)?;
                word((h.flags & 3) as i16)
            }
            11 => {
                let (buf, off, len) = (
                    arg(args, 0) as ObjRef,
                    arg(args, 1),
                    arg(args, 2) as i8 as i16,
                );
                let h = vm.byte_array_range(buf, off, len)?;
                let mut b = [0u8; 16];
                let want = b
                    .get_mut(..(len as usize).min(16))
                    .ok_or(Trap::Internal("aid"))?;
                vm.read_elements(&h, off as usize, want)?;
                let found = self
                    .applets
                    .iter()
                    .find(|a| a.aid.as_slice() == &want[..])
                    .map(|a| a.aid_obj)
                    .unwrap_or(NULL);
                word(found as i16)
            }
            12..=15 => {
                let (len, event) = (arg(args, 0), arg(args, 1));
                let kind = match event {
                    1 => TRANSIENT_RESET,
                    2 => TRANSIENT_DESELECT,
                    _ => {
                        return Err(self.throw_reason(
                            vm,
                            api::C_SYSTEM_EXCEPTION,
                            SYS_ILLEGAL_VALUE,
                        ))
                    }
                };
                let ty = match token {
                    12 => ArrayType::Boolean,
                    13 => ArrayType::Byte,
                    14 => ArrayType::Reference,
                    _ => ArrayType::Short,
                };
                word(vm.new_array(ty, len, api::C_OBJECT, kind)? as i16)
            }
            16 => {
                let free = match arg(args, 0) {
                    0 => vm.available_persistent(),
                    _ => vm.available_transient(),
                };
                word(free.min(i16::MAX as usize) as i16)
            }
            17 => boolean(false),
            18 => Ok(Value::Void),
            19 => word(0),
            20 => boolean(false),
            21 => word(0),
            _ => Err(Trap::Internal("JCSystem method")),
        }
    }

    fn pin<N: Nvm>(&mut self, vm: &mut Vm<N>, id: NativeId, args: &[i16]) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        const LIMIT: u16 = 0;
        const MAX: u16 = 1;
        const TRIES: u16 = 2;
        const PIN: u16 = 3;
        const VALID: u16 = 4;
        let base = vm.class_cells(vm.header(this)?.class)?.saturating_sub(0);
        let _ = base; // OwnerPIN cells are the first PIN_CELLS cells of every subclass
        let set_valid = |vm: &mut Vm<N>, v: bool| -> Result<(), Trap> {
            let flag = vm.get_field(this, VALID)? as ObjRef;
            vm.array_store(flag, 0, v as i32)
        };
        let get_valid = |vm: &Vm<N>| -> Result<bool, Trap> {
            let flag = vm.get_field(this, VALID)? as ObjRef;
            Ok(vm.array_load(flag, 0)? != 0)
        };
        let set_field = |vm: &mut Vm<N>, cell: u16, v: i16| -> Result<(), Trap> {
            let h = vm.header(this)?;
            let _ = h;
            vm.put_field(this, cell, v)
        };
        match id {
            n::PIN_INIT => {
                let (limit, max) = (arg(args, 1), arg(args, 2));
                if limit < 1 || max < 1 {
                    return Err(self.throw_reason(vm, api::C_PIN_EXCEPTION, PIN_ILLEGAL_VALUE));
                }
                let pin = vm.new_array(ArrayType::Byte, max + 1, 0, 0)?;
                let flag = vm.new_array(ArrayType::Boolean, 1, 0, TRANSIENT_RESET)?;
                set_field(vm, LIMIT, limit)?;
                set_field(vm, MAX, max)?;
                set_field(vm, TRIES, limit)?;
                set_field(vm, PIN, pin as i16)?;
                set_field(vm, VALID, flag as i16)?;
                Ok(Value::Void)
            }
            n::PIN_CHECK => {
                set_valid(vm, false)?;
                let tries = vm.get_field(this, TRIES)?;
                if tries <= 0 {
                    return boolean(false);
                }
                // the try counter is decremented before the comparison (not journaled)
                let saved = vm.transaction_depth();
                let _ = saved;
                vm.put_field_non_atomic(this, TRIES, tries - 1)?;
                let (buf, off, len) = (
                    arg(args, 1) as ObjRef,
                    arg(args, 2),
                    arg(args, 3) as i8 as i16,
                );
                let pin = vm.get_field(this, PIN)? as ObjRef;
                let ph = vm.header(pin)?;
                let mut stored = [0u8; 128];
                let plen = vm.array_load(pin, 0)? as usize;
                let s = stored
                    .get_mut(..plen.min(127))
                    .ok_or(Trap::Internal("pin"))?;
                vm.read_elements(&ph, 1, s)?;
                if len as usize != plen {
                    return boolean(false);
                }
                let h = vm.byte_array_range(buf, off, len)?;
                let mut given = [0u8; 128];
                let g = given
                    .get_mut(..plen.min(127))
                    .ok_or(Trap::Internal("pin"))?;
                vm.read_elements(&h, off as usize, g)?;
                if g == s {
                    set_valid(vm, true)?;
                    let limit = vm.get_field(this, LIMIT)?;
                    vm.put_field_non_atomic(this, TRIES, limit)?;
                    return boolean(true);
                }
                boolean(false)
            }
            n::PIN_GET_TRIES => word(vm.get_field(this, TRIES)?),
            n::PIN_GET_VALIDATED | n::PIN_IS_VALIDATED => boolean(get_valid(vm)?),
            n::PIN_RESET => {
                if get_valid(vm)? {
                    let limit = vm.get_field(this, LIMIT)?;
                    vm.put_field_non_atomic(this, TRIES, limit)?;
                    set_valid(vm, false)?;
                }
                Ok(Value::Void)
            }
            n::PIN_RESET_UNBLOCK => {
                let limit = vm.get_field(this, LIMIT)?;
                vm.put_field_non_atomic(this, TRIES, limit)?;
                set_valid(vm, false)?;
                Ok(Value::Void)
            }
            n::PIN_SET_VALIDATED => {
                set_valid(vm, arg(args, 1) != 0)?;
                Ok(Value::Void)
            }
            _ => {
                // update(pin, off, len)
                let (buf, off, len) = (
                    arg(args, 1) as ObjRef,
                    arg(args, 2),
                    arg(args, 3) as i8 as i16,
                );
                let max = vm.get_field(this, MAX)?;
                if len < 0 || len > max {
                    return Err(self.throw_reason(vm, api::C_PIN_EXCEPTION, PIN_ILLEGAL_VALUE));
                }
                let h = vm.byte_array_range(buf, off, len)?;
                let mut given = [0u8; 128];
                let g = given.get_mut(..len as usize).ok_or(Trap::Internal("pin"))?;
                vm.read_elements(&h, off as usize, g)?;
                let pin = vm.get_field(this, PIN)? as ObjRef;
                let ph = vm.header(pin)?;
                vm.write_elements(&ph, 0, &[len as u8], true)?;
                vm.write_elements(&ph, 1, g, true)?;
                let limit = vm.get_field(this, LIMIT)?;
                vm.put_field_non_atomic(this, TRIES, limit)?;
                set_valid(vm, false)?;
                Ok(Value::Void)
            }
        }
    }

    fn aid<N: Nvm>(&mut self, vm: &mut Vm<N>, id: NativeId, args: &[i16]) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let mut own = [0u8; 16];
        let own_len = if id == n::AID_INIT {
            0
        } else {
            let bytes = vm.get_field(this, 0)? as ObjRef;
            let (h, _) = vm.array_header(bytes)?;
            let l = (h.len as usize).min(16);
            vm.read_elements(&h, 0, own.get_mut(..l).ok_or(Trap::Internal("aid"))?)?;
            l
        };
        let own = own.get(..own_len).unwrap_or(&[]);
        let read = |vm: &Vm<N>,
                    buf: ObjRef,
                    off: i16,
                    len: i16,
                    out: &mut [u8; 16]|
         -> Result<usize, Trap> {
            let h = vm.byte_array_range(buf, off, len)?;
            let l = (len as usize).min(16);
            vm.read_elements(
                &h,
                off as usize,
                out.get_mut(..l).ok_or(Trap::Internal("aid"))?,
            )?;
            Ok(l)
        };
        let mut other = [0u8; 16];
        match id {
            n::AID_INIT => {
                let (buf, off, len) = (
                    arg(args, 1) as ObjRef,
                    arg(args, 2),
                    arg(args, 3) as i8 as i16,
                );
                if !(5..=16).contains(&len) {
                    return Err(self.throw_reason(vm, api::C_SYSTEM_EXCEPTION, SYS_ILLEGAL_VALUE));
                }
                let l = read(vm, buf, off, len, &mut other)?;
                let arr = vm.new_array(ArrayType::Byte, l as i16, 0, 0)?;
                let h = vm.header(arr)?;
                vm.write_elements(&h, 0, other.get(..l).unwrap_or(&[]), false)?;
                vm.put_field(this, 0, arr as i16)?;
                Ok(Value::Void)
            }
            n::AID_EQUALS | n::AID_RID_EQUALS => {
                let o = arg(args, 1) as ObjRef;
                if o == NULL {
                    return boolean(false);
                }
                let h = vm.header(o)?;
                if vm.class_is_subtype(h.class, api::C_AID) != Ok(true) {
                    return boolean(false);
                }
                let bytes = vm.get_field(o, 0)? as ObjRef;
                let (bh, _) = vm.array_header(bytes)?;
                let l = (bh.len as usize).min(16);
                vm.read_elements(&bh, 0, other.get_mut(..l).ok_or(Trap::Internal("aid"))?)?;
                let o = other.get(..l).unwrap_or(&[]);
                if id == n::AID_EQUALS {
                    boolean(o == own)
                } else {
                    boolean(o.get(..5) == own.get(..5))
                }
            }
            n::AID_EQUALS_BYTES | n::AID_PARTIAL_EQUALS => {
                let (buf, off, len) = (
                    arg(args, 1) as ObjRef,
                    arg(args, 2),
                    arg(args, 3) as i8 as i16,
                );
                if buf == NULL {
                    return boolean(false);
                }
                let l = read(vm, buf, off, len, &mut other)?;
                let o = other.get(..l).unwrap_or(&[]);
                if id == n::AID_EQUALS_BYTES {
                    boolean(o == own)
                } else {
                    boolean(own.get(..l) == Some(o))
                }
            }
            n::AID_GET_BYTES | n::AID_GET_PARTIAL_BYTES => {
                let (buf, off, len) = if id == n::AID_GET_BYTES {
                    (arg(args, 1) as ObjRef, arg(args, 2), own_len as i16)
                } else {
                    let l = arg(args, 4) as i8 as i16;
                    let l = if l == 0 {
                        own_len as i16
                    } else {
                        l.min(own_len as i16)
                    };
                    (arg(args, 2) as ObjRef, arg(args, 3), l)
                };
                let h = vm.byte_array_range(buf, off, len)?;
                vm.write_elements(
                    &h,
                    off as usize,
                    own.get(..len as usize).unwrap_or(&[]),
                    true,
                )?;
                word(len)
            }
            _ => Err(Trap::Internal("AID method")),
        }
    }

    fn register<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        this: ObjRef,
        aid: Option<(ObjRef, i16, i16)>,
    ) -> Result<Value, Trap> {
        let Some((pkg, inst)) = self.installing.clone() else {
            return Err(self.throw_reason(vm, api::C_SYSTEM_EXCEPTION, 6));
        };
        let mut id: heapless::Vec<u8, 16> = heapless::Vec::new();
        match aid {
            Some((buf, off, len)) => {
                if !(5..=16).contains(&len) {
                    return Err(self.throw_reason(vm, api::C_SYSTEM_EXCEPTION, 4));
                }
                let h = vm.byte_array_range(buf, off, len)?;
                let mut b = [0u8; 16];
                let s = b.get_mut(..len as usize).ok_or(Trap::Internal("aid"))?;
                vm.read_elements(&h, off as usize, s)?;
                let _ = id.extend_from_slice(s);
            }
            None => id = inst,
        }
        if self.applets.iter().any(|a| a.aid == id) || self.registered.is_some() {
            return Err(self.throw_reason(vm, api::C_SYSTEM_EXCEPTION, 4));
        }
        let ctx = vm.context();
        vm.set_context(0);
        let bytes = vm.new_array(ArrayType::Byte, id.len() as i16, 0, 0);
        let r = bytes.and_then(|b| {
            let h = vm.header(b)?;
            vm.write_elements(&h, 0, &id, false)?;
            let o = vm.new_instance(api::C_AID)?;
            vm.put_field(o, 0, b as i16)?;
            Ok(o)
        });
        vm.set_context(ctx);
        let aid_obj = r?;
        self.applets
            .push(AppletEntry {
                aid: id,
                obj: this,
                package: pkg,
                aid_obj,
            })
            .map_err(|_| self.throw_reason(vm, api::C_SYSTEM_EXCEPTION, 5))?;
        self.registered = Some(this);
        Ok(Value::Void)
    }
}

impl<N: Nvm> Natives<N> for Runtime {
    fn invoke(&mut self, vm: &mut Vm<N>, id: NativeId, args: &[i16]) -> Result<Value, Trap> {
        match id {
            n::OBJECT_INIT => Ok(Value::Void),
            n::OBJECT_EQUALS => boolean(arg(args, 0) == arg(args, 1)),
            n::APPLET_REGISTER => self.register(vm, arg(args, 0) as ObjRef, None),
            n::APPLET_REGISTER_AID => self.register(
                vm,
                arg(args, 0) as ObjRef,
                Some((
                    arg(args, 1) as ObjRef,
                    arg(args, 2),
                    arg(args, 3) as i8 as i16,
                )),
            ),
            n::APPLET_SELECTING => boolean(self.selecting),
            n::APPLET_DESELECT => Ok(Value::Void),
            n::APPLET_GET_SIO => word(0),
            n::APPLET_SELECT => boolean(true),
            n::APPLET_PROCESS | n::APPLET_INSTALL => Err(Trap::Malformed {
                pc: 0,
                what: "abstract API method invoked",
            }),
            n::APPLET_RESELECTING => boolean(false),
            n::REASON_INIT | n::SET_REASON => {
                vm.put_field(arg(args, 0) as ObjRef, 0, arg(args, 1))?;
                Ok(Value::Void)
            }
            n::GET_REASON => word(vm.get_field(arg(args, 0) as ObjRef, 0)?),
            _ if (n::THROW_IT..n::THROW_IT + 8).contains(&id) => {
                let class = THROWERS
                    .get((id - n::THROW_IT) as usize)
                    .copied()
                    .ok_or(Trap::Internal("thrower"))?;
                Err(self.throw_reason(vm, class, arg(args, 0)))
            }
            n::AID_INIT..=n::AID_GET_PARTIAL_BYTES => self.aid(vm, id, args),
            n::PIN_INIT..=n::PIN_UPDATE => {
                let _ = PIN_CELLS;
                self.pin(vm, id, args)
            }
            _ if (n::APDU_VIRTUAL..n::APDU_VIRTUAL + 19).contains(&id) => {
                self.apdu_native(vm, id - n::APDU_VIRTUAL, args)
            }
            _ if (n::APDU_STATIC..n::APDU_STATIC + 7).contains(&id) => match id - n::APDU_STATIC {
                0 | 1 => word(APDU_BUFFER_LEN as i16 - 5),
                2 => word(0),
                3 => Ok(Value::Void),
                4 => word(self.apdu_obj as i16),
                5 => word(self.apdu_buffer as i16),
                _ => word(0),
            },
            _ if (n::UTIL..n::UTIL + 8).contains(&id) => self.util(vm, id - n::UTIL, args),
            _ if (n::JCSYSTEM..n::JCSYSTEM + 23).contains(&id) => {
                self.jcsystem(vm, id - n::JCSYSTEM, args)
            }
            _ => Err(Trap::Internal("unknown native")),
        }
    }
}
