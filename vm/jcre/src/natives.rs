//! The native methods of java.lang and javacard.framework: the runtime side of the API
//! catalog in [`crate::api`]. Each native receives its argument words (`this` first) and
//! returns a value or throws a Java exception (`Err(Trap::Throw)`).

use crate::api::{self, n, PIN_CELLS, THROWERS};
use crate::{AppletEntry, Runtime, APDU_BUFFER_LEN};
use oxicard_store::Nvm;
use oxicard_vm::api::{NativeId, Natives, Value};
use oxicard_vm::heap::{ArrayType, ObjRef, NULL, TRANSIENT_DESELECT, TRANSIENT_RESET};
use oxicard_vm::{Detail, SystemException, Trap, Vm};

/// APDU states (APDU.STATE_*).
const STATE_INITIAL: i8 = 0;
const STATE_PARTIAL_INCOMING: i8 = 1;
const STATE_FULL_INCOMING: i8 = 2;
const STATE_OUTGOING: i8 = 3;
const STATE_OUTGOING_LENGTH_KNOWN: i8 = 4;
const STATE_PARTIAL_OUTGOING: i8 = 5;
const STATE_FULL_OUTGOING: i8 = 6;

/// APDUException reasons.
const APDU_ILLEGAL_USE: i16 = 1;
const APDU_BUFFER_BOUNDS: i16 = 2;
const APDU_BAD_LENGTH: i16 = 3;
/// ISO7816.OFFSET_CDATA
const OFFSET_CDATA: i16 = 5;
/// APDU.PROTOCOL_T1 (media: default, contacts)
const PROTOCOL_T1: i16 = 1;

/// The logical channel a CLA byte names (ISO 7816-4 §5.4.1): b2b1 of a first
/// interindustry CLA, 4 + b4..b1 of a further interindustry CLA, 0 for proprietary CLAs.
fn cla_channel(cla: u8) -> u8 {
    match cla {
        0x00..=0x3F => cla & 0x03,
        0x40..=0x7F => 4 + (cla & 0x0F),
        _ => 0,
    }
}
/// SystemException reasons.
const SYS_ILLEGAL_VALUE: i16 = 1;
/// JCSystem.MEMORY_TYPE_*
const MEMORY_TYPE_PERSISTENT: i16 = 0;
const MEMORY_TYPE_TRANSIENT_RESET: i16 = 1;
const MEMORY_TYPE_TRANSIENT_DESELECT: i16 = 2;
/// TransactionException reasons.
const TX_IN_PROGRESS: i16 = 1;
const TX_NOT_IN_PROGRESS: i16 = 2;
/// PINException.ILLEGAL_VALUE
const PIN_ILLEGAL_VALUE: i16 = 1;

/// The argument words of a framework native, padded with zeros: the natives read them by
/// constant index (no bounds check at each of the 60 places that read one).
type Args = [i16; ARGS];
/// Words in [`Args`]: more than any framework native takes (`this` and 4 more at most).
const ARGS: usize = 8;

/// `args` padded to [`Args`] (extra words are left out: no framework native takes them).
fn padded(args: &[i16]) -> Args {
    let mut a = [0; ARGS];
    for (d, s) in a.iter_mut().zip(args) {
        *d = *s;
    }
    a
}

/// The bytes of an AID object (its first cell is the byte array).
fn aid_bytes<N: Nvm>(vm: &Vm<N>, aid: ObjRef) -> Result<heapless::Vec<u8, 16>, Trap> {
    let bytes = vm.get_field(aid, 0)? as ObjRef;
    let (h, _) = vm.array_header(bytes)?;
    let mut out = heapless::Vec::new();
    out.resize((h.len as usize).min(16), 0)
        .map_err(|_| Trap::Internal(Detail::Aid))?;
    vm.read_elements(&h, 0, &mut out)?;
    Ok(out)
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
            return Trap::Internal(Detail::NoExceptionObject);
        }
        if let Err(e) = vm.put_field_non_atomic(obj, 0, reason) {
            return e;
        }
        Trap::Throw(obj)
    }

    /// Throws the instance of exception class `class` with `reason`, creating it (owned by
    /// the runtime's context) on first use: for the exceptions of optional API parts.
    pub(crate) fn throw_reason_lazily<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        class: u16,
        reason: i16,
    ) -> Trap {
        let slot = class as usize;
        if self.exceptions.get(slot).copied().unwrap_or(NULL) == NULL {
            let ctx = vm.context();
            vm.set_context(0);
            let r = vm.new_instance(class);
            vm.set_context(ctx);
            match r {
                Ok(obj) => {
                    if let Some(s) = self.exceptions.get_mut(slot) {
                        *s = obj;
                    }
                }
                Err(e) => return e,
            }
        }
        self.throw_reason(vm, class, reason)
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
        let want = aid_bytes(vm, server_aid)?;
        let Some(server) = self.applets.iter().find(|a| a.aid == want) else {
            return word(0);
        };
        let (obj, pkg) = (server.obj, server.package);
        let client = self.context_aid::<N>(vm.context());
        let class = vm.header(obj)?.class;
        let m = vm
            .vtable_entry(class, api::APPLET_GET_SIO_TOKEN)?
            .ok_or(Trap::Internal(Detail::GetShareableInterfaceObject))?;
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

    /// Throws APDUException with `reason`.
    fn apdu_error<N: Nvm>(&self, vm: &mut Vm<N>, reason: i16) -> Trap {
        self.throw_reason(vm, api::C_APDU_EXCEPTION, reason)
    }

    /// The APDU methods (virtual tokens of javacard.framework.APDU). Short APDUs over T=1:
    /// the whole command is in the buffer before `process()` runs, so receiving only moves
    /// the state, and the response is collected for the runtime to send.
    fn apdu_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &Args,
    ) -> Result<Value, Trap> {
        let state = self.apdu.state;
        let cla = self.apdu.cla;
        match token {
            1 => word(self.apdu_buffer as i16),
            2 => word(0), // getNAD: no node addresses
            3 => {
                // receiveBytes(bOff): setIncomingAndReceive already received everything
                if !(STATE_PARTIAL_INCOMING..STATE_OUTGOING).contains(&state) {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                let off = args[1];
                if off < 0 || off as usize > APDU_BUFFER_LEN {
                    return Err(self.apdu_error(vm, APDU_BUFFER_BOUNDS));
                }
                self.apdu.state = STATE_FULL_INCOMING;
                word(0)
            }
            4 | 5 => {
                // sendBytes(bOff, len) / sendBytesLong(outData, bOff, len)
                if !(STATE_OUTGOING_LENGTH_KNOWN..=STATE_FULL_OUTGOING).contains(&state)
                    || self.apdu.sent_all
                {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                let (src, off, len) = if token == 4 {
                    let (off, len) = (args[1], args[2]);
                    if off < 0 || len < 0 || off as usize + len as usize > APDU_BUFFER_LEN {
                        return Err(self.apdu_error(vm, APDU_BUFFER_BOUNDS));
                    }
                    (self.apdu_buffer, off, len)
                } else {
                    (args[1] as ObjRef, args[2], args[3])
                };
                let h = vm.byte_array_range(src, off, len)?;
                if self.apdu.response.len() + len as usize > self.apdu.out_len as usize {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                let mut buf = [0u8; 256];
                let chunk = buf
                    .get_mut(..len as usize)
                    .ok_or(Trap::Internal(Detail::Len))?;
                vm.read_elements(&h, off as usize, chunk)?;
                let a = &mut self.apdu;
                let _ = a.response.extend_from_slice(chunk);
                a.state = if a.response.len() == a.out_len as usize {
                    STATE_FULL_OUTGOING
                } else {
                    STATE_PARTIAL_OUTGOING
                };
                Ok(Value::Void)
            }
            6 => {
                // setIncomingAndReceive
                if state != STATE_INITIAL {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                self.apdu.state = STATE_FULL_INCOMING;
                word(self.apdu.lc as i16)
            }
            7 | 10 => {
                // setOutgoing / setOutgoingNoChaining: returns Ne
                if !(STATE_INITIAL..STATE_OUTGOING).contains(&state) {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                self.apdu.state = STATE_OUTGOING;
                self.apdu.no_chaining = token == 10;
                word(if self.apdu.le == 0 {
                    256
                } else {
                    self.apdu.le as i16
                })
            }
            8 => {
                // setOutgoingAndSend(bOff, len)
                if !(STATE_INITIAL..STATE_OUTGOING).contains(&state) {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                let len = args[2];
                if !(0..=256).contains(&len) {
                    return Err(self.apdu_error(vm, APDU_BAD_LENGTH));
                }
                self.apdu.state = STATE_OUTGOING_LENGTH_KNOWN;
                self.apdu.out_len = len as u16;
                let mut send = [0; ARGS];
                (send[1], send[2]) = (args[1], len);
                let r = self.apdu_native(vm, 4, &send);
                self.apdu.sent_all = true;
                r
            }
            9 => {
                // setOutgoingLength(len)
                let len = args[1];
                if state != STATE_OUTGOING {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                if !(0..=256).contains(&len) {
                    return Err(self.apdu_error(vm, APDU_BAD_LENGTH));
                }
                self.apdu.out_len = len as u16;
                self.apdu.state = STATE_OUTGOING_LENGTH_KNOWN;
                Ok(Value::Void)
            }
            11 => word(state as i16),
            12 => boolean(cla & 0x80 == 0 && cla & 0x10 != 0),
            13 => boolean(match cla {
                0x00..=0x3F => cla & 0x0C != 0,
                0x40..=0x7F => cla & 0x20 != 0,
                _ => false,
            }),
            14 => boolean(cla & 0x80 == 0),
            15 => word(self.apdu.lc as i16),
            16 => word(OFFSET_CDATA),
            17 => boolean(cla != 0xFF),
            18 => word(cla_channel(cla) as i16),
            _ => Err(Trap::Internal(Detail::ApduMethod)),
        }
    }

    /// The static APDU methods (static tokens of javacard.framework.APDU).
    fn apdu_static<N: Nvm>(&mut self, vm: &mut Vm<N>, token: u16) -> Result<Value, Trap> {
        match token {
            0 | 1 => word(APDU_BUFFER_LEN as i16 - 5), // getInBlockSize, getOutBlockSize
            2 => word(PROTOCOL_T1),
            3 => {
                // waitExtension: nothing to do in-process; refused after setOutgoingNoChaining
                if self.apdu.no_chaining && self.apdu.state >= STATE_OUTGOING {
                    return Err(self.apdu_error(vm, APDU_ILLEGAL_USE));
                }
                Ok(Value::Void)
            }
            4 => word(self.apdu_obj as i16),
            5 => word(self.apdu_buffer as i16),
            6 => word(cla_channel(self.apdu.cla) as i16),
            _ => Err(Trap::Internal(Detail::ApduStaticMethod)),
        }
    }

    fn util<N: Nvm>(&mut self, vm: &mut Vm<N>, token: u16, args: &Args) -> Result<Value, Trap> {
        match token {
            0..=2 => {
                let (src, so, dst, dof, len) = (
                    args[0] as ObjRef,
                    args[1],
                    args[2] as ObjRef,
                    args[3],
                    args[4],
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
                    let chunk = buf.get_mut(..nbytes).ok_or(Trap::Internal(Detail::Chunk))?;
                    vm.read_elements(&hs, so as usize + at, chunk)?;
                    vm.write_elements(&hd, dof as usize + at, chunk, atomic)?;
                    done += nbytes;
                }
                word(dof.wrapping_add(len))
            }
            3 | 7 => {
                let (arr, off, len, v) = (args[0] as ObjRef, args[1], args[2], args[3]);
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
                    let chunk = buf.get(..nbytes).ok_or(Trap::Internal(Detail::Chunk))?;
                    vm.write_elements(&h, off as usize + done, chunk, token == 7)?;
                    done += nbytes;
                }
                word(off.wrapping_add(len))
            }
            4 => {
                let arr = args[0] as ObjRef;
                let off = args[1];
                let h = vm.byte_array_range(arr, off, 2)?;
                let mut b = [0u8; 2];
                vm.read_elements(&h, off as usize, &mut b)?;
                word(i16::from_be_bytes(b))
            }
            5 => word(((args[0] as u8 as u16) << 8 | args[1] as u8 as u16) as i16),
            6 => {
                let arr = args[0] as ObjRef;
                let off = args[1];
                let h = vm.byte_array_range(arr, off, 2)?;
                vm.write_elements(&h, off as usize, &args[2].to_be_bytes(), true)?;
                word(off.wrapping_add(2))
            }
            _ => Err(Trap::Internal(Detail::UtilMethod)),
        }
    }

    fn jcsystem<N: Nvm>(&mut self, vm: &mut Vm<N>, token: u16, args: &Args) -> Result<Value, Trap> {
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
            4 => self.applet_sio(vm, args[0] as ObjRef, args[1]),
            6 => word(
                vm.previous_context()
                    .map_or(NULL, |c| self.context_aid::<N>(c)) as i16,
            ),
            5 => word(vm.max_commit_capacity().min(i16::MAX as usize) as i16),
            7 => word(vm.transaction_depth() as i16),
            8 => word(vm.unused_commit_capacity().min(i16::MAX as usize) as i16),
            9 => word(0x0300),
            10 => {
                let obj = args[0] as ObjRef;
                let h = vm.header(obj)?;
                word((h.flags & 3) as i16)
            }
            11 => {
                let (buf, off, len) = (args[0] as ObjRef, args[1], args[2] as i8 as i16);
                let h = vm.byte_array_range(buf, off, len)?;
                let mut b = [0u8; 16];
                let want = b
                    .get_mut(..(len as usize).min(16))
                    .ok_or(Trap::Internal(Detail::Aid))?;
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
                let (len, event) = (args[0], args[1]);
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
                // getAvailableMemory(memoryType), clamped to Short.MAX_VALUE
                let free = self.available_memory(vm, args[0])?;
                word(free.min(i16::MAX as usize) as i16)
            }
            17 => boolean(true),
            // requestObjectDeletion: the runtime collects when the command is over
            18 => {
                self.deletion_requested = true;
                Ok(Value::Void)
            }
            19 => word(0),
            20 => {
                // isAppletActive(AID): only the basic channel, so only the selected applet
                let aid = args[0] as ObjRef;
                if aid == NULL {
                    return boolean(false);
                }
                let want = aid_bytes(vm, aid)?;
                boolean(self.current_applet().is_some_and(|a| a.aid == want))
            }
            21 => word(0),
            22 => {
                // getAvailableMemory(short[] buffer, offset, memoryType): the full value as
                // an int, high short at buffer[offset], low short at buffer[offset + 1]
                let (buf, off) = (args[0] as ObjRef, args[1]);
                let free = self.available_memory(vm, args[2])?;
                let free = free.min(i32::MAX as usize) as i32;
                // an array of another context is refused (the firewall, for an API method)
                vm.guard(buf, oxicard_vm::firewall::Access::Element)?;
                vm.array_store(buf, off, free >> 16)?;
                vm.array_store(buf, off.wrapping_add(1), free & 0xFFFF)?;
                Ok(Value::Void)
            }
            _ => Err(Trap::Internal(Detail::JCSystemMethod)),
        }
    }

    /// Free bytes of memory type `kind` (JCSystem.MEMORY_TYPE_*): persistent heap, or the
    /// transient RAM that both kinds of transient arrays share.
    fn available_memory<N: Nvm>(&self, vm: &mut Vm<N>, kind: i16) -> Result<usize, Trap> {
        match kind {
            MEMORY_TYPE_PERSISTENT => Ok(vm.available_persistent()),
            MEMORY_TYPE_TRANSIENT_RESET | MEMORY_TYPE_TRANSIENT_DESELECT => {
                Ok(vm.available_transient())
            }
            _ => Err(self.throw_reason(vm, api::C_SYSTEM_EXCEPTION, SYS_ILLEGAL_VALUE)),
        }
    }

    fn pin<N: Nvm>(&mut self, vm: &mut Vm<N>, id: NativeId, args: &Args) -> Result<Value, Trap> {
        let this = args[0] as ObjRef;
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
                let (limit, max) = (args[1], args[2]);
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
                // the try counter is decremented and made durable before the comparison:
                // no tear after this point gives the try back
                vm.put_field_durable(this, TRIES, tries - 1)?;
                let (buf, off, len) = (args[1] as ObjRef, args[2], args[3] as i8 as i16);
                let pin = vm.get_field(this, PIN)? as ObjRef;
                let ph = vm.header(pin)?;
                let mut stored = [0u8; 128];
                let plen = vm.array_load(pin, 0)? as usize;
                let s = stored
                    .get_mut(..plen.min(127))
                    .ok_or(Trap::Internal(Detail::Pin))?;
                vm.read_elements(&ph, 1, s)?;
                if len as usize != plen {
                    return boolean(false);
                }
                let h = vm.byte_array_range(buf, off, len)?;
                let mut given = [0u8; 128];
                let g = given
                    .get_mut(..plen.min(127))
                    .ok_or(Trap::Internal(Detail::Pin))?;
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
                set_valid(vm, args[1] != 0)?;
                Ok(Value::Void)
            }
            _ => {
                // update(pin, off, len)
                let (buf, off, len) = (args[1] as ObjRef, args[2], args[3] as i8 as i16);
                let max = vm.get_field(this, MAX)?;
                if len < 0 || len > max {
                    return Err(self.throw_reason(vm, api::C_PIN_EXCEPTION, PIN_ILLEGAL_VALUE));
                }
                let h = vm.byte_array_range(buf, off, len)?;
                let mut given = [0u8; 128];
                let g = given
                    .get_mut(..len as usize)
                    .ok_or(Trap::Internal(Detail::Pin))?;
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

    fn aid<N: Nvm>(&mut self, vm: &mut Vm<N>, id: NativeId, args: &Args) -> Result<Value, Trap> {
        let this = args[0] as ObjRef;
        let mut own = [0u8; 16];
        let own_len = if id == n::AID_INIT {
            0
        } else {
            let bytes = vm.get_field(this, 0)? as ObjRef;
            let (h, _) = vm.array_header(bytes)?;
            let l = (h.len as usize).min(16);
            vm.read_elements(&h, 0, own.get_mut(..l).ok_or(Trap::Internal(Detail::Aid))?)?;
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
                out.get_mut(..l).ok_or(Trap::Internal(Detail::Aid))?,
            )?;
            Ok(l)
        };
        let mut other = [0u8; 16];
        match id {
            n::AID_INIT => {
                let (buf, off, len) = (args[1] as ObjRef, args[2], args[3] as i8 as i16);
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
                let o = args[1] as ObjRef;
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
                vm.read_elements(
                    &bh,
                    0,
                    other.get_mut(..l).ok_or(Trap::Internal(Detail::Aid))?,
                )?;
                let o = other.get(..l).unwrap_or(&[]);
                if id == n::AID_EQUALS {
                    boolean(o == own)
                } else {
                    boolean(o.get(..5) == own.get(..5))
                }
            }
            n::AID_EQUALS_BYTES | n::AID_PARTIAL_EQUALS => {
                let (buf, off, len) = (args[1] as ObjRef, args[2], args[3] as i8 as i16);
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
                    (args[1] as ObjRef, args[2], own_len as i16)
                } else {
                    let l = args[4] as i8 as i16;
                    let l = if l == 0 {
                        own_len as i16
                    } else {
                        l.min(own_len as i16)
                    };
                    (args[2] as ObjRef, args[3], l)
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
            _ => Err(Trap::Internal(Detail::AidMethod)),
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
                let s = b
                    .get_mut(..len as usize)
                    .ok_or(Trap::Internal(Detail::Aid))?;
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
        let entry = AppletEntry {
            aid: id,
            obj: this,
            package: pkg,
            aid_obj,
        };
        let index = self.applets.len();
        self.applets
            .push(entry.clone())
            .map_err(|_| self.throw_reason(vm, api::C_SYSTEM_EXCEPTION, 5))?;
        crate::registry::store_applet(vm, index, &entry)?;
        self.registered = Some(this);
        Ok(Value::Void)
    }
}

impl<N: Nvm> Natives<N> for Runtime {
    fn invoke(&mut self, vm: &mut Vm<N>, id: NativeId, words: &[i16]) -> Result<Value, Trap> {
        let args = &padded(words);
        match id {
            n::OBJECT_INIT => Ok(Value::Void),
            n::OBJECT_EQUALS => boolean(args[0] == args[1]),
            n::APPLET_REGISTER => self.register(vm, args[0] as ObjRef, None),
            n::APPLET_REGISTER_AID => self.register(
                vm,
                args[0] as ObjRef,
                Some((args[1] as ObjRef, args[2], args[3] as i8 as i16)),
            ),
            n::APPLET_SELECTING => boolean(self.selecting),
            n::APPLET_DESELECT => Ok(Value::Void),
            n::APPLET_GET_SIO => word(0),
            n::APPLET_SELECT => boolean(true),
            n::APPLET_PROCESS | n::APPLET_INSTALL => Err(Trap::Malformed {
                pc: oxicard_vm::error::CodeAddress::new(0),
                what: Detail::AbstractApiMethodInvoked,
            }),
            n::APPLET_RESELECTING => boolean(false),
            n::REASON_INIT | n::SET_REASON => {
                vm.put_field(args[0] as ObjRef, 0, args[1])?;
                Ok(Value::Void)
            }
            n::GET_REASON => word(vm.get_field(args[0] as ObjRef, 0)?),
            _ if (n::THROW_IT..n::THROW_IT + 8).contains(&id) => {
                let class = THROWERS
                    .get((id - n::THROW_IT) as usize)
                    .copied()
                    .ok_or(Trap::Internal(Detail::Thrower))?;
                Err(self.throw_reason(vm, class, args[0]))
            }
            n::AID_INIT..=n::AID_GET_PARTIAL_BYTES => self.aid(vm, id, args),
            n::PIN_INIT..=n::PIN_UPDATE => {
                let _ = PIN_CELLS;
                self.pin(vm, id, args)
            }
            _ if (n::APDU_VIRTUAL..n::APDU_VIRTUAL + 19).contains(&id) => {
                self.apdu_native(vm, id - n::APDU_VIRTUAL, args)
            }
            _ if (n::APDU_STATIC..n::APDU_STATIC + 7).contains(&id) => {
                self.apdu_static(vm, id - n::APDU_STATIC)
            }
            _ if (n::UTIL..n::UTIL + 8).contains(&id) => self.util(vm, id - n::UTIL, args),
            _ if (n::JCSYSTEM..n::JCSYSTEM + 23).contains(&id) => {
                self.jcsystem(vm, id - n::JCSYSTEM, args)
            }
            _ if id >= crate::crypto::catalog::NATIVE_BASE => self.crypto_native(vm, id, words),
            _ => Err(Trap::Internal(Detail::UnknownNative)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! The APDU and JCSystem natives against the state rules and reason codes of the
    //! Java Card 3.0.5 API (javacard.framework.APDU, APDUException, JCSystem).
    extern crate std;
    use super::*;
    use crate::{ApduState, Card};
    use oxicard_store::RamNvm;
    use std::boxed::Box;
    use std::vec;

    type TestCard = Card<RamNvm<{ 32 * 1024 }>>;

    fn with_card(f: impl FnOnce(&mut TestCard) + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || {
                let mut card = Box::new(Card::new(RamNvm::new()).unwrap());
                f(&mut card)
            })
            .unwrap()
            .join()
            .unwrap();
    }

    fn call(card: &mut TestCard, id: NativeId, args: &[i16]) -> Result<Value, Trap> {
        card.rt.invoke(&mut card.vm, id, args)
    }

    fn apdu(card: &mut TestCard, token: u16, args: &[i16]) -> Result<Value, Trap> {
        let this = card.rt.apdu_obj as i16;
        let mut all = vec![this];
        all.extend_from_slice(args);
        call(card, n::APDU_VIRTUAL + token, &all)
    }

    /// (exception class, reason) of a thrown framework exception.
    fn thrown(card: &TestCard, r: Result<Value, Trap>) -> (u16, i16) {
        match r {
            Err(Trap::Throw(obj)) => (
                card.vm.header(obj).unwrap().class,
                card.vm.get_field(obj, 0).unwrap(),
            ),
            other => panic!("expected an exception, got {other:?}"),
        }
    }

    fn command(card: &mut TestCard, cla: u8, lc: u16, le: u16) {
        card.rt.apdu = ApduState {
            cla,
            lc,
            le,
            ..ApduState::default()
        };
    }

    #[test]
    fn incoming_state_rules() {
        with_card(|card| {
            command(card, 0x80, 3, 0);
            // receiveBytes before setIncomingAndReceive: ILLEGAL_USE
            let r = apdu(card, 3, &[5]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
            assert_eq!(apdu(card, 6, &[]), Ok(Value::Word(3)));
            assert_eq!(
                apdu(card, 11, &[]),
                Ok(Value::Word(STATE_FULL_INCOMING as i16))
            );
            assert_eq!(apdu(card, 3, &[5]), Ok(Value::Word(0)));
            let r = apdu(card, 3, &[-1]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_BUFFER_BOUNDS));
            // setIncomingAndReceive twice: ILLEGAL_USE
            let r = apdu(card, 6, &[]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
            assert_eq!(apdu(card, 15, &[]), Ok(Value::Word(3)));
            assert_eq!(apdu(card, 16, &[]), Ok(Value::Word(5)));
            assert_eq!(apdu(card, 2, &[]), Ok(Value::Word(0)));
        });
    }

    #[test]
    fn outgoing_state_rules_and_lengths() {
        with_card(|card| {
            command(card, 0x00, 0, 4);
            // setOutgoingLength before setOutgoing: ILLEGAL_USE
            let r = apdu(card, 9, &[2]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
            assert_eq!(apdu(card, 7, &[]), Ok(Value::Word(4)));
            let r = apdu(card, 7, &[]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
            let r = apdu(card, 9, &[257]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_BAD_LENGTH));
            // sendBytes before the length is known: ILLEGAL_USE
            let r = apdu(card, 4, &[0, 1]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
            assert_eq!(apdu(card, 9, &[3]), Ok(Value::Void));
            let r = apdu(card, 4, &[-1, 1]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_BUFFER_BOUNDS));
            let r = apdu(card, 4, &[260, 2]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_BUFFER_BOUNDS));
            assert_eq!(apdu(card, 4, &[0, 2]), Ok(Value::Void));
            assert_eq!(
                apdu(card, 11, &[]),
                Ok(Value::Word(STATE_PARTIAL_OUTGOING as i16))
            );
            // more than the announced length: ILLEGAL_USE
            let r = apdu(card, 4, &[0, 2]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
            assert_eq!(apdu(card, 4, &[0, 1]), Ok(Value::Void));
            assert_eq!(
                apdu(card, 11, &[]),
                Ok(Value::Word(STATE_FULL_OUTGOING as i16))
            );
            assert_eq!(card.rt.apdu.response.len(), 3);
        });
    }

    #[test]
    fn set_outgoing_and_send_then_nothing_more() {
        with_card(|card| {
            command(card, 0x00, 0, 0);
            assert_eq!(apdu(card, 8, &[0, 2]), Ok(Value::Void));
            let r = apdu(card, 4, &[0, 0]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
            command(card, 0x00, 0, 0);
            let r = apdu(card, 8, &[0, 300]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_BAD_LENGTH));
            // setOutgoingNoChaining, then waitExtension is refused
            command(card, 0x00, 0, 0);
            assert_eq!(apdu(card, 10, &[]), Ok(Value::Word(256)));
            let r = call(card, n::APDU_STATIC + 3, &[]);
            assert_eq!(thrown(card, r), (api::C_APDU_EXCEPTION, APDU_ILLEGAL_USE));
        });
    }

    #[test]
    fn cla_queries_follow_iso_7816_4() {
        with_card(|card| {
            // (CLA, chaining, secure messaging, interindustry, channel)
            let cases = [
                (0x00, false, false, true, 0),
                (0x10, true, false, true, 0),
                (0x0C, false, true, true, 0),
                (0x03, false, false, true, 3),
                (0x40, false, false, true, 4),
                (0x6F, false, true, true, 19),
                (0x80, false, false, false, 0),
            ];
            for (cla, chaining, sm, iso, channel) in cases {
                command(card, cla, 0, 0);
                assert_eq!(
                    apdu(card, 12, &[]),
                    Ok(Value::Word(chaining as i16)),
                    "{cla:02X}"
                );
                assert_eq!(apdu(card, 13, &[]), Ok(Value::Word(sm as i16)), "{cla:02X}");
                assert_eq!(
                    apdu(card, 14, &[]),
                    Ok(Value::Word(iso as i16)),
                    "{cla:02X}"
                );
                assert_eq!(
                    call(card, n::APDU_STATIC + 6, &[]),
                    Ok(Value::Word(channel)),
                    "{cla:02X}"
                );
            }
            assert_eq!(call(card, n::APDU_STATIC + 2, &[]), Ok(Value::Word(1)));
            let buffer = card.rt.apdu_buffer as i16;
            assert_eq!(call(card, n::APDU_STATIC + 5, &[]), Ok(Value::Word(buffer)));
        });
    }

    #[test]
    fn available_memory_is_truthful() {
        with_card(|card| {
            let persistent = card.vm.available_persistent();
            let transient = card.vm.available_transient();
            assert!(persistent > 0 && transient > 0);
            let get = |card: &mut TestCard, kind: i16| call(card, n::JCSYSTEM + 16, &[kind]);
            let clamp = |v: usize| Value::Word(v.min(32767) as i16);
            assert_eq!(get(card, 0), Ok(clamp(persistent)));
            assert_eq!(get(card, 1), Ok(clamp(transient)));
            assert_eq!(get(card, 2), Ok(clamp(transient)));
            let r = get(card, 3);
            assert_eq!(
                thrown(card, r),
                (api::C_SYSTEM_EXCEPTION, SYS_ILLEGAL_VALUE)
            );
            // the int overload into a short[2]
            let arr = card.vm.new_array(ArrayType::Short, 2, 0, 0).unwrap();
            let r = call(card, n::JCSYSTEM + 22, &[arr as i16, 0, 0]);
            assert_eq!(r, Ok(Value::Void));
            let hi = card.vm.array_load(arr, 0).unwrap() as u16 as usize;
            let lo = card.vm.array_load(arr, 1).unwrap() as u16 as usize;
            // the array itself took a header and 4 bytes
            assert_eq!(hi << 16 | lo, persistent - oxicard_vm::heap::HDR - 4);
            // allocating 100 transient bytes lowers the transient figure by 100
            card.vm
                .new_array(ArrayType::Byte, 100, 0, TRANSIENT_DESELECT)
                .unwrap();
            assert_eq!(get(card, 2), Ok(clamp(transient - 100)));
            // requestObjectDeletion: supported, the collection runs when the command ends
            assert_eq!(call(card, n::JCSYSTEM + 17, &[]), Ok(Value::Word(1)));
            assert_eq!(call(card, n::JCSYSTEM + 18, &[]), Ok(Value::Void));
            assert!(card.rt.deletion_requested);
        });
    }

    #[test]
    fn clear_on_deselect_clears_only_the_owning_context() {
        with_card(|card| {
            card.vm.set_context(2);
            let mine = card
                .vm
                .new_array(ArrayType::Byte, 4, 0, TRANSIENT_DESELECT)
                .unwrap();
            card.vm.set_context(3);
            let other = card
                .vm
                .new_array(ArrayType::Byte, 4, 0, TRANSIENT_DESELECT)
                .unwrap();
            card.vm.array_store(mine, 0, 7).unwrap();
            card.vm.array_store(other, 0, 9).unwrap();
            card.vm
                .clear_transient_of(TRANSIENT_DESELECT, Some(2))
                .unwrap();
            assert_eq!(card.vm.array_load(mine, 0), Ok(0));
            assert_eq!(card.vm.array_load(other, 0), Ok(9));
            card.vm.clear_transient_of(TRANSIENT_RESET, None).unwrap();
            assert_eq!(card.vm.array_load(other, 0), Ok(9));
            card.vm.clear_transient(TRANSIENT_DESELECT).unwrap();
            assert_eq!(card.vm.array_load(other, 0), Ok(0));
        });
    }
}
