//! The NVM journal: why every APDU, every package load and every applet transaction is
//! all-or-nothing across a power loss.
//!
//! The journal is an undo log in a fixed region at the top of NVM ([`JOURNAL_BYTES`]).
//! Before a persistent value that existed when the current *epoch* began is overwritten,
//! its old bytes are appended to the log; the data is then written in place. An epoch ends
//! with a checkpoint ([`Vm::checkpoint`]), which the runtime calls at the end of every
//! APDU, install and load: it writes the next epoch number, one unit, and that single
//! write is the commit point. At power-up ([`Vm::new`]) the entries of the current epoch
//! are rolled back newest first, so the image is exactly as it was at the last checkpoint.
//!
//! Applet transactions (`JCSystem.beginTransaction`) run inside the epoch: their entries
//! carry a flag, `abortTransaction` restores just those, and a tear rolls the whole epoch
//! (and so the whole transaction) back. Objects allocated inside an aborted transaction
//! have their object-table entry cleared, so references to them behave as null.
//!
//! Writes into memory allocated during the epoch (above the top of the heap when it
//! began) need no undo entry: rolling the superblock back frees that memory. So a debit
//! (one journaled short, one data write, one checkpoint) costs the data unit plus an
//! 8-byte entry and a 4-byte epoch write.
//!
//! Region format (version 1):
//!
//! ```text
//! +0      u32 magic "OXJ1"   u16 slot size S (max(8, unit size))
//! +S      u32 epoch          (alone in its unit: writing it is the commit point)
//! +2S     entries, each padded to a multiple of 4 bytes:
//!         u24 NVM address | u8 length (bits 0-6) + transaction flag (bit 7)
//!         u16 CRC-16/CCITT over (epoch, the first 4 bytes, the old data)
//!         old data (length bytes)
//! ```
//!
//! An entry belongs to the current epoch when its CRC, computed with the current epoch,
//! matches; the scan stops at the first entry that does not, so a torn entry (whose data
//! was therefore not yet overwritten) and stale entries of older epochs are ignored.

use crate::error::{Detail, Trap};
use crate::heap::ObjRef;
use crate::{layout, nvm_err, SystemException, Vm};
use heapless::Vec;
use oxicard_store::Nvm;

/// Bytes of NVM the journal region takes (at the top of the NVM).
pub const JOURNAL_BYTES: usize = 4096;
/// Largest old-data chunk of one entry.
const CHUNK: usize = 64;
/// Entry header bytes.
const ENTRY_HDR: usize = 6;
/// Magic of a formatted journal region ("OXJ1", format version 1).
const JOURNAL_MAGIC: u32 = 0x4F58_4A31;
/// Transaction flag in an entry's length byte.
const TX_FLAG: u8 = 0x80;
/// Most entries one epoch can hold (entries are at least 8 bytes).
const MAX_ENTRIES: usize = JOURNAL_BYTES / 8;

/// State of an open applet transaction.
#[derive(Clone, Copy, Debug)]
struct Tx {
    /// Offset of its first entry.
    start: u16,
    /// Index in `positions` of its first entry.
    first_index: u16,
    /// Heap top when it began: writes above need no undo entry for the transaction.
    top: u32,
    /// Objects allocated before it began.
    objects: u16,
}

/// An entry a journaled write found or appended (see [`Journal::covers`]).
#[derive(Clone, Copy, Debug)]
struct Recent {
    /// Epoch it belongs to.
    epoch: u32,
    /// Its index in `positions`.
    index: u16,
    /// NVM address and length of the bytes it saved.
    addr: u32,
    len: u8,
    /// It carries the transaction flag.
    tx: bool,
}

/// The RAM side of the journal: where the region is, the epoch, where the next entry goes.
#[derive(Clone, Debug)]
pub(crate) struct Journal {
    /// NVM address of the region.
    base: usize,
    /// Slot size S (see the module docs).
    slot: usize,
    /// The current epoch.
    epoch: u32,
    /// Offset (from `base`) of the next entry.
    end: usize,
    /// Offsets of this epoch's entries, oldest first.
    positions: Vec<u16, MAX_ENTRIES>,
    /// The superblock was journaled in this epoch.
    sb_logged: bool,
    /// Heap top when the epoch began: writes at or above need no undo entry.
    fresh_from: u32,
    /// The open applet transaction.
    tx: Option<Tx>,
    /// Checkpoints that committed something (for tests and figures).
    commits: u64,
    /// Zero the entry area at the next commit (see [`Vm::scrub_journal_at_commit`]).
    scrub: bool,
    /// The entries the last journaled writes found or appended: a loop that writes the
    /// same few fields or statics again and again finds them without reading the log. (A
    /// `Vec`: empty, it costs nothing to build, and the card is built in place.)
    recent: Vec<Recent, RECENT>,
    /// The entry of a full `recent` the next one replaces (its oldest).
    recent_next: u8,
}

/// Entries [`Journal::recent`] remembers.
const RECENT: usize = 4;

impl Journal {
    /// A journal not yet opened (see [`Vm::open_journal`]).
    pub(crate) const fn new() -> Self {
        Journal {
            base: 0,
            slot: 8,
            epoch: 0,
            end: 16,
            positions: Vec::new(),
            sb_logged: false,
            fresh_from: u32::MAX,
            tx: None,
            commits: 0,
            scrub: false,
            recent: Vec::new(),
            recent_next: 0,
        }
    }

    fn first(&self) -> usize {
        2 * self.slot
    }

    /// Whether an entry of [`Journal::recent`] already saves the `len` bytes at `addr`
    /// for a write (`tx`: for the open transaction): the same test as the scan of
    /// [`Vm::journal_old`], on an entry of this epoch (entries are only appended within
    /// an epoch; the log is emptied only by the commit that starts the next epoch).
    #[inline]
    fn covers(&self, addr: u32, len: usize, tx: bool) -> bool {
        self.recent.iter().any(|r| {
            r.epoch == self.epoch
                && (r.index as usize) < self.positions.len()
                && r.addr <= addr
                && addr as usize + len <= r.addr as usize + r.len as usize
                && (!tx || (r.tx && matches!(self.tx, Some(t) if r.index >= t.first_index)))
        })
    }

    /// Remembers `r`, an entry a journaled write found or appended, in place of the
    /// oldest when [`Journal::recent`] is full.
    fn remember(&mut self, r: Recent) {
        if let Err(r) = self.recent.push(r) {
            if let Some(oldest) = self.recent.get_mut(self.recent_next as usize) {
                *oldest = r;
            }
            self.recent_next = (self.recent_next + 1) % RECENT as u8;
        }
    }

    /// Forgets the remembered entries (the log they name is gone or not read yet).
    fn forget_recent(&mut self) {
        self.recent.clear();
        self.recent_next = 0;
    }

    /// Below this address a write needs an undo entry (`tx`: for the open transaction).
    #[inline]
    fn undo_limit(&self, tx: bool) -> u32 {
        match (&self.tx, tx) {
            (Some(t), true) => t.top,
            _ => self.fresh_from,
        }
    }
}

/// CRC-16/CCITT-FALSE step over `data`.
fn crc16(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn entry_crc(epoch: u32, head: &[u8], old: &[u8]) -> u16 {
    crc16(crc16(crc16(0xFFFF, &epoch.to_be_bytes()), head), old)
}

/// Size of an entry holding `len` bytes, padded to 4.
fn entry_size(len: usize) -> usize {
    (ENTRY_HDR + len + 3) & !3
}

impl<N: Nvm> Vm<N> {
    /// Lowest NVM address of the journal region; the heap and load staging stay below.
    pub(crate) fn heap_limit(&self) -> usize {
        self.nvm.size().saturating_sub(JOURNAL_BYTES)
    }

    /// Opens the journal region (formatting it if needed) and rolls back the entries of an
    /// interrupted epoch: power-up recovery. Runs before anything reads the image.
    pub(crate) fn open_journal(&mut self) -> Result<(), Trap> {
        let base = self.heap_limit();
        let unit = self.nvm.unit_size().clamp(1, 512);
        let mut head = [0u8; 6];
        self.nvm.read(base, &mut head).map_err(nvm_err)?;
        let magic = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let slot = u16::from_be_bytes([head[4], head[5]]) as usize;
        self.journal = Journal::new();
        self.journal.base = base;
        if magic != JOURNAL_MAGIC || !(8..=512).contains(&slot) {
            // fresh region: the epoch first, then the magic that makes it valid
            let slot = unit.max(8);
            self.journal.slot = slot;
            self.journal.epoch = 1;
            self.nvm.write_u32(base + slot, 1).map_err(nvm_err)?;
            let mut h = [0u8; 6];
            h[..4].copy_from_slice(&JOURNAL_MAGIC.to_be_bytes());
            h[4..].copy_from_slice(&(slot as u16).to_be_bytes());
            self.nvm.write(base, &h).map_err(nvm_err)?;
        } else {
            self.journal.slot = slot;
            self.journal.epoch = self.nvm.read_u32(base + slot).map_err(nvm_err)?;
        }
        self.journal.end = self.journal.first();
        self.journal.forget_recent();
        // scan this epoch's entries
        while let Some(size) = self.read_entry(self.journal.end)? {
            if self
                .journal
                .positions
                .push(self.journal.end as u16)
                .is_err()
            {
                break;
            }
            self.journal.end += size;
        }
        if !self.journal.positions.is_empty() {
            self.undo_entries(0, false)?;
            self.commit_epoch()?;
        }
        Ok(())
    }

    /// Checks the entry at offset `off`: its size when it is a valid entry of this epoch.
    fn read_entry(&self, off: usize) -> Result<Option<usize>, Trap> {
        if off + ENTRY_HDR > JOURNAL_BYTES {
            return Ok(None);
        }
        let at = self.journal.base + off;
        let mut h = [0u8; ENTRY_HDR];
        self.nvm.read(at, &mut h).map_err(nvm_err)?;
        let len = (h[3] & !TX_FLAG) as usize;
        if len == 0 || len > CHUNK || off + entry_size(len) > JOURNAL_BYTES {
            return Ok(None);
        }
        let mut old = [0u8; CHUNK];
        let old = old.get_mut(..len).ok_or(Trap::Internal(Detail::Journal))?;
        self.nvm.read(at + ENTRY_HDR, old).map_err(nvm_err)?;
        let crc = u16::from_be_bytes([h[4], h[5]]);
        if entry_crc(self.journal.epoch, &h[..4], old) != crc {
            return Ok(None);
        }
        Ok(Some(entry_size(len)))
    }

    /// Restores, newest first, the entries from index `from` (only transaction entries
    /// when `tx_only`). The restoring writes are not journaled.
    fn undo_entries(&mut self, from: usize, tx_only: bool) -> Result<(), Trap> {
        let mut i = self.journal.positions.len();
        while i > from {
            i -= 1;
            let off = *self
                .journal
                .positions
                .get(i)
                .ok_or(Trap::Internal(Detail::Journal))? as usize;
            let at = self.journal.base + off;
            let mut h = [0u8; ENTRY_HDR];
            self.nvm.read(at, &mut h).map_err(nvm_err)?;
            if tx_only && h[3] & TX_FLAG == 0 {
                continue;
            }
            let len = (h[3] & !TX_FLAG) as usize;
            let mut old = [0u8; CHUNK];
            let old = old.get_mut(..len).ok_or(Trap::Internal(Detail::Journal))?;
            self.nvm.read(at + ENTRY_HDR, old).map_err(nvm_err)?;
            let addr = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
            self.nvm.write(addr, old).map_err(nvm_err)?;
        }
        self.forget_headers();
        Ok(())
    }

    /// Ends the epoch: the next epoch number is written (the commit point) and the log is
    /// empty again.
    fn commit_epoch(&mut self) -> Result<(), Trap> {
        let next = self.journal.epoch.wrapping_add(1).max(1);
        self.nvm
            .write_u32(self.journal.base + self.journal.slot, next)
            .map_err(nvm_err)?;
        self.journal.epoch = next;
        if self.journal.scrub {
            self.zero_entry_area()?;
        }
        self.journal.end = self.journal.first();
        self.journal.positions.clear();
        self.journal.forget_recent();
        self.journal.sb_logged = false;
        self.journal.fresh_from = self.sb.top;
        self.journal.commits += 1;
        if let Some(t) = self.journal.tx.as_mut() {
            t.start = self.journal.end as u16;
            t.first_index = 0;
        }
        Ok(())
    }

    /// Makes everything written so far durable: a tear from now on rolls back to here.
    /// The runtime calls it at the end of every APDU, install and load. Costs one unit
    /// write when anything was journaled, nothing otherwise. An open applet transaction
    /// stays open (its entries up to here become permanent, so the runtime checkpoints
    /// only with no transaction open).
    pub fn checkpoint(&mut self) -> Result<(), Trap> {
        if self.journal.positions.is_empty() {
            self.journal.fresh_from = self.sb.top;
            return Ok(());
        }
        self.commit_epoch()?;
        self.journal.scrub = false;
        Ok(())
    }

    /// Asks the next checkpoint to zero the journal's entry area once it has committed:
    /// the undo entries keep the old bytes of every journaled write (for `clearKey`, the
    /// key itself) until later entries overwrite them. Committed entries are dead (their
    /// CRC no longer matches the epoch), so zeroing them cannot change what a tear
    /// restores; only non-zero chunks are rewritten.
    pub fn scrub_journal_at_commit(&mut self) {
        self.journal.scrub = true;
    }

    /// Zeroes the entry area (call only with no live entry: right after the epoch write).
    fn zero_entry_area(&mut self) -> Result<(), Trap> {
        let mut at = self.journal.first();
        let mut buf = [0u8; CHUNK];
        while at < JOURNAL_BYTES {
            let n = (JOURNAL_BYTES - at).min(CHUNK);
            let chunk = buf.get_mut(..n).ok_or(Trap::Internal(Detail::Journal))?;
            self.nvm
                .read(self.journal.base + at, chunk)
                .map_err(nvm_err)?;
            if chunk.iter().any(|&b| b != 0) {
                chunk.fill(0);
                self.nvm
                    .write(self.journal.base + at, chunk)
                    .map_err(nvm_err)?;
            }
            at += n;
        }
        Ok(())
    }

    /// Undoes everything written since the last checkpoint (e.g. a failed install) and
    /// re-reads the image; an open transaction is closed.
    pub fn rollback(&mut self) -> Result<(), Trap> {
        self.undo_entries(0, false)?;
        self.journal.tx = None;
        self.tx_depth = 0;
        self.commit_epoch()?;
        self.reload_image()
    }

    /// Checkpoints that committed journaled writes since power-up.
    pub fn commit_count(&self) -> u64 {
        self.journal.commits
    }

    /// Journals the superblock (once per epoch) before it changes.
    pub(crate) fn log_superblock(&mut self) -> Result<(), Trap> {
        if !self.journal.sb_logged {
            self.append_entry(0, 16, false)?;
            self.journal.sb_logged = true;
        }
        Ok(())
    }

    /// Writes the cached superblock, journaled.
    pub(crate) fn store_superblock(&mut self) -> Result<(), Trap> {
        self.log_superblock()?;
        self.sb.write(&mut self.nvm)
    }

    /// Writes persistent data so that a tear or, for `atomic` writes inside a
    /// transaction, an abort restores the old bytes. Writes into memory allocated since
    /// the last checkpoint (or, for the transaction, since it began) are not journaled.
    #[inline]
    pub fn write_persistent(&mut self, addr: u32, data: &[u8], atomic: bool) -> Result<(), Trap> {
        let tx = atomic && self.tx_depth != 0;
        if addr < self.journal.undo_limit(tx) && !self.journal.covers(addr, data.len(), tx) {
            self.journal_old(addr, data.len(), tx)?;
        }
        self.nvm.write(addr as usize, data).map_err(nvm_err)
    }

    /// Writes persistent data that must survive a tear that follows (OwnerPIN's try
    /// counter): journaled, written, then checkpointed. Inside an applet transaction
    /// (which a checkpoint would cut in two) the data is written in place unjournaled, so
    /// neither an abort nor a tear restores it.
    pub fn write_durable(&mut self, addr: u32, data: &[u8]) -> Result<(), Trap> {
        if self.tx_depth != 0 {
            return self.nvm.write(addr as usize, data).map_err(nvm_err);
        }
        self.write_persistent(addr, data, false)?;
        self.checkpoint()
    }

    /// Saves the current `len` bytes at `addr` in the journal.
    #[cold]
    fn journal_old(&mut self, addr: u32, len: usize, tx: bool) -> Result<(), Trap> {
        // the same range journaled earlier in this epoch (transaction) needs no new entry
        let from = match (&self.journal.tx, tx) {
            (Some(t), true) => t.first_index as usize,
            _ => 0,
        };
        let n = self.journal.positions.len();
        for i in (from.max(n.saturating_sub(4))..n).rev() {
            let off = self.journal.positions.get(i).copied().unwrap_or(0) as usize;
            let mut h = [0u8; 4];
            self.nvm
                .read(self.journal.base + off, &mut h)
                .map_err(nvm_err)?;
            let a = u32::from_be_bytes([0, h[0], h[1], h[2]]);
            let l = (h[3] & !TX_FLAG) as usize;
            if a <= addr && addr as usize + len <= a as usize + l && (!tx || h[3] & TX_FLAG != 0) {
                self.journal.remember(Recent {
                    epoch: self.journal.epoch,
                    index: i as u16,
                    addr: a,
                    len: l as u8,
                    tx: h[3] & TX_FLAG != 0,
                });
                return Ok(());
            }
        }
        let mut off = 0usize;
        while off < len {
            let n = (len - off).min(CHUNK);
            self.append_entry(addr + off as u32, n, tx)?;
            off += n;
        }
        Ok(())
    }

    /// Appends an entry with the `len` (<= CHUNK) bytes now at `addr`. When the log is
    /// full: a transaction entry throws TransactionException BUFFER_FULL; otherwise the
    /// epoch is checkpointed early (outside a transaction) or the write goes unjournaled
    /// (a non-atomic write inside one).
    fn append_entry(&mut self, addr: u32, len: usize, tx: bool) -> Result<(), Trap> {
        let size = entry_size(len);
        if self.journal.end + size > JOURNAL_BYTES || self.journal.positions.is_full() {
            if tx {
                return Err(self.throw(SystemException::TransactionBufferFull));
            }
            if self.tx_depth != 0 {
                return Ok(());
            }
            self.commit_epoch()?;
            if addr >= self.journal.fresh_from {
                return Ok(());
            }
        }
        let mut e = [0u8; ENTRY_HDR + CHUNK + 3];
        e[..3].copy_from_slice(&addr.to_be_bytes()[1..]);
        e[3] = len as u8 | if tx { TX_FLAG } else { 0 };
        let old = e
            .get_mut(ENTRY_HDR..ENTRY_HDR + len)
            .ok_or(Trap::Internal(Detail::Journal))?;
        self.nvm.read(addr as usize, old).map_err(nvm_err)?;
        let crc = entry_crc(
            self.journal.epoch,
            &[e[0], e[1], e[2], e[3]],
            e.get(ENTRY_HDR..ENTRY_HDR + len).unwrap_or(&[]),
        );
        e[4..6].copy_from_slice(&crc.to_be_bytes());
        let bytes = e.get(..size).ok_or(Trap::Internal(Detail::Journal))?;
        self.nvm
            .write(self.journal.base + self.journal.end, bytes)
            .map_err(nvm_err)?;
        self.journal
            .positions
            .push(self.journal.end as u16)
            .map_err(|_| Trap::Internal(Detail::Journal))?;
        self.journal.end += size;
        let index = self.journal.positions.len().saturating_sub(1) as u16;
        self.journal.remember(Recent {
            epoch: self.journal.epoch,
            index,
            addr,
            len: len as u8,
            tx,
        });
        Ok(())
    }

    /// Current transaction depth.
    pub fn transaction_depth(&self) -> u8 {
        self.tx_depth
    }

    /// Begins a transaction; `false` if one is already open (nesting is refused).
    pub fn begin_transaction(&mut self) -> bool {
        if self.tx_depth != 0 {
            return false;
        }
        self.tx_depth = 1;
        self.journal.tx = Some(Tx {
            start: self.journal.end as u16,
            first_index: self.journal.positions.len() as u16,
            top: self.sb.top,
            objects: self.sb.object_count,
        });
        true
    }

    /// Commits the open transaction; `false` if none is open. Its writes are durable at
    /// the next checkpoint (the end of the APDU).
    pub fn commit_transaction(&mut self) -> bool {
        if self.tx_depth == 0 {
            return false;
        }
        self.tx_depth = 0;
        self.journal.tx = None;
        true
    }

    /// Aborts the open transaction: every journaled value is restored and the objects it
    /// allocated become unreachable (their references behave as null); `false` if none
    /// is open.
    pub fn abort_transaction(&mut self) -> Result<bool, Trap> {
        let Some(tx) = self.journal.tx else {
            self.tx_depth = 0;
            return Ok(false);
        };
        self.undo_entries(tx.first_index as usize, true)?;
        for handle in tx.objects + 1..=self.sb.object_count {
            self.kill_object(handle)?;
        }
        self.journal.tx = None;
        self.tx_depth = 0;
        Ok(true)
    }

    /// Clears the object-table entry of `handle`: the object is gone, references to it
    /// read as null.
    fn kill_object(&mut self, handle: ObjRef) -> Result<(), Trap> {
        self.forget_headers();
        let at = layout::OBJ_TABLE + (handle as u32 - 1) * 4;
        self.write_persistent(at, &[0; 4], false)
    }

    /// Bytes of old values the journal can still take (the commit capacity left).
    pub fn unused_commit_capacity(&self) -> usize {
        JOURNAL_BYTES.saturating_sub(self.journal.end + ENTRY_HDR + 2)
    }

    /// Total journal capacity in bytes of old values.
    pub fn max_commit_capacity(&self) -> usize {
        JOURNAL_BYTES.saturating_sub(self.journal.first() + ENTRY_HDR + 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_published_check_value() {
        // CRC-16/CCITT-FALSE of "123456789" is 0x29B1
        assert_eq!(crc16(0xFFFF, b"123456789"), 0x29B1);
    }

    #[test]
    fn entries_are_padded_to_four_bytes() {
        assert_eq!(entry_size(1), 8);
        assert_eq!(entry_size(2), 8);
        assert_eq!(entry_size(3), 12);
        assert_eq!(entry_size(64), 72);
    }
}
