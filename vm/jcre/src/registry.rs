//! The runtime's persistent state in NVM, so that a card powered up on an existing image
//! is the same card: the applet registry and the objects the runtime preallocates (the
//! APDU object and buffer, one throwable per built-in exception class). Everything is
//! written through the VM's journaled write path, so it changes together with the heap
//! at each checkpoint.
//!
//! Format of the runtime area (`oxicard_vm::layout::RUNTIME_AREA`, version 1):
//!
//! ```text
//! +0x00  u32 magic "OXR1" (written last when the area is formatted)
//! +0x04  u16 APDU object            +0x06 u16 APDU buffer
//! +0x08  u16 x 32 exception objects, by built-in class id (0 = none)
//! +0x48  u8 applet count
//! +0x50  MAX_APPLETS records of 24 bytes: u8 AID length | AID[16] | u8 package index |
//!        u16 applet object | u16 AID object | 2 bytes reserved
//! ```

use crate::{AppletEntry, Runtime, MAX_APPLETS};
use heapless::Vec;
use oxicard_store::{Nvm, NvmError};
use oxicard_vm::heap::{ObjRef, NULL};
use oxicard_vm::layout::RUNTIME_AREA;
use oxicard_vm::{Detail, Trap, Vm};

/// Magic of a formatted runtime area ("OXR1").
const MAGIC: u32 = 0x4F58_5231;
const APDU_OBJ: usize = 0x04;
const APDU_BUFFER: usize = 0x06;
const EXCEPTIONS: usize = 0x08;
const COUNT: usize = 0x48;
const RECORDS: usize = 0x50;
const RECORD: usize = 24;

fn addr(off: usize) -> usize {
    RUNTIME_AREA as usize + off
}

fn nvm_err<E: NvmError>(e: E) -> Trap {
    Trap::Nvm(e.kind())
}

/// The runtime's persistent references.
#[derive(Clone, Debug)]
pub(crate) struct Persistent {
    pub(crate) apdu_obj: ObjRef,
    pub(crate) apdu_buffer: ObjRef,
    pub(crate) exceptions: [ObjRef; 32],
    pub(crate) applets: Vec<AppletEntry, MAX_APPLETS>,
}

/// Reads the runtime area; `None` when it is not formatted (a new card).
pub(crate) fn load<N: Nvm>(vm: &Vm<N>) -> Result<Option<Persistent>, Trap> {
    let nvm = vm.nvm();
    if nvm.read_u32(addr(0)).map_err(nvm_err)? != MAGIC {
        return Ok(None);
    }
    let mut exceptions = [NULL; 32];
    for (i, e) in exceptions.iter_mut().enumerate() {
        *e = nvm.read_u16(addr(EXCEPTIONS + 2 * i)).map_err(nvm_err)?;
    }
    Ok(Some(Persistent {
        apdu_obj: nvm.read_u16(addr(APDU_OBJ)).map_err(nvm_err)?,
        apdu_buffer: nvm.read_u16(addr(APDU_BUFFER)).map_err(nvm_err)?,
        exceptions,
        applets: load_applets(vm)?,
    }))
}

/// Reads the applet registry.
pub(crate) fn load_applets<N: Nvm>(vm: &Vm<N>) -> Result<Vec<AppletEntry, MAX_APPLETS>, Trap> {
    let nvm = vm.nvm();
    let count = nvm.read_u8(addr(COUNT)).map_err(nvm_err)? as usize;
    let mut applets = Vec::new();
    for i in 0..count.min(MAX_APPLETS) {
        let mut r = [0u8; RECORD];
        nvm.read(addr(RECORDS + i * RECORD), &mut r)
            .map_err(nvm_err)?;
        let len = (r[0] as usize).min(16);
        let mut aid = Vec::new();
        let _ = aid.extend_from_slice(r.get(1..1 + len).unwrap_or(&[]));
        let _ = applets.push(AppletEntry {
            aid,
            package: r[17],
            obj: u16::from_be_bytes([r[18], r[19]]),
            aid_obj: u16::from_be_bytes([r[20], r[21]]),
        });
    }
    Ok(applets)
}

/// Formats the runtime area with the runtime's objects and an empty registry; the magic
/// goes last.
/// The APDU object and the exception objects become temporary entry point objects (the
/// firewall lets every context use them but none store them).
pub(crate) fn format<N: Nvm>(vm: &mut Vm<N>, p: &Persistent) -> Result<(), Trap> {
    for &obj in p.exceptions.iter().chain([p.apdu_obj].iter()) {
        if obj != NULL {
            vm.mark_temporary_entry_point(obj)?;
        }
    }
    let mut b = [0u8; RECORDS];
    b[APDU_OBJ..APDU_OBJ + 2].copy_from_slice(&p.apdu_obj.to_be_bytes());
    b[APDU_BUFFER..APDU_BUFFER + 2].copy_from_slice(&p.apdu_buffer.to_be_bytes());
    for (i, e) in p.exceptions.iter().enumerate() {
        if let Some(d) = b.get_mut(EXCEPTIONS + 2 * i..EXCEPTIONS + 2 * i + 2) {
            d.copy_from_slice(&e.to_be_bytes());
        }
    }
    let body = b.get(4..).unwrap_or(&[]);
    vm.write_persistent(addr(4) as u32, body, false)?;
    vm.write_persistent(addr(0) as u32, &MAGIC.to_be_bytes(), false)
}

/// Appends applet `entry` as record `index` and counts it.
pub(crate) fn store_applet<N: Nvm>(
    vm: &mut Vm<N>,
    index: usize,
    entry: &AppletEntry,
) -> Result<(), Trap> {
    let mut r = [0u8; RECORD];
    r[0] = entry.aid.len() as u8;
    if let Some(d) = r.get_mut(1..1 + entry.aid.len()) {
        d.copy_from_slice(&entry.aid);
    }
    r[17] = entry.package;
    r[18..20].copy_from_slice(&entry.obj.to_be_bytes());
    r[20..22].copy_from_slice(&entry.aid_obj.to_be_bytes());
    vm.write_persistent(addr(RECORDS + index * RECORD) as u32, &r, false)?;
    vm.write_persistent(addr(COUNT) as u32, &[index as u8 + 1], false)
}

/// Checks the registry against the heap: every applet object and AID object is a live
/// object, every package index names a loaded package, no AID twice, and the cached
/// registry equals the one in NVM.
pub(crate) fn check<N: Nvm>(vm: &Vm<N>, cached: &[AppletEntry]) -> Result<(), &'static str> {
    let stored = load_applets(vm).map_err(|_| "registry unreadable")?;
    if stored.len() != cached.len() {
        return Err("cached registry differs from NVM");
    }
    for (i, (a, b)) in stored.iter().zip(cached.iter()).enumerate() {
        if a.aid != b.aid || a.obj != b.obj || a.package != b.package || a.aid_obj != b.aid_obj {
            return Err("cached registry differs from NVM");
        }
        if !(5..=16).contains(&a.aid.len()) {
            return Err("applet AID length");
        }
        if a.package >= vm.package_count() {
            return Err("applet of an unknown package");
        }
        if vm.header(a.obj).is_err() || vm.header(a.aid_obj).is_err() {
            return Err("applet or AID object missing");
        }
        if stored.iter().skip(i + 1).any(|o| o.aid == a.aid) {
            return Err("AID registered twice");
        }
    }
    Ok(())
}

/// Removes applet record `index`: the records after it move down one place and the count
/// goes down, all through the journal (so the removal is part of the command's epoch).
/// The applet's objects stay in the heap until the next collection
/// ([`oxicard_vm::Vm::collect_garbage`]) finds them unreachable.
pub(crate) fn remove_applet<N: Nvm>(
    vm: &mut Vm<N>,
    applets: &mut Vec<AppletEntry, MAX_APPLETS>,
    index: usize,
) -> Result<(), Trap> {
    if index >= applets.len() {
        return Err(Trap::Internal(Detail::AppletRecordToRemove));
    }
    applets.remove(index);
    for (i, entry) in applets.iter().enumerate().skip(index) {
        store_applet(vm, i, entry)?;
    }
    vm.write_persistent(addr(COUNT) as u32, &[applets.len() as u8], false)
}

/// Every reference the runtime holds between commands: the roots of object collection
/// (applet and AID objects, the APDU object and buffer, the exception objects).
pub(crate) fn roots(rt: &Runtime) -> Vec<ObjRef, { 2 * MAX_APPLETS + 34 }> {
    let mut roots = Vec::new();
    let _ = roots.push(rt.apdu_obj);
    let _ = roots.push(rt.apdu_buffer);
    for &e in rt.exceptions.iter() {
        let _ = roots.push(e);
    }
    for a in rt.applets.iter() {
        let _ = roots.push(a.obj);
        let _ = roots.push(a.aid_obj);
    }
    roots
}
