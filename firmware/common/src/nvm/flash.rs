//! The card's NVM on NOR flash (a microcontroller's internal flash through embedded-storage),
//! with the unit semantics the runtime's journal needs although flash erases whole sectors.
//!
//! # Why a spare sector
//!
//! NOR flash writes can only clear bits; setting one needs an erase of its whole sector (1 to
//! 128 KiB on real parts). A write that sets bits therefore reads the sector into a buffer,
//! merges, erases and reprograms it, and a power loss in that cycle would leave the whole
//! sector undefined: committed data of other objects, or the journal itself. The runtime's
//! journal (oxicard-vm `journal`) tolerates an undefined unit of at most 512 bytes, and
//! oxicard-store's [`Nvm`] contract allows a tear to damage the unit being written and nothing
//! else. So sector rewrites go through a spare sector and are atomic.
//!
//! # Layout
//!
//! The region (`size` bytes at flash offset `base`, `n = size / SECTOR` sectors) holds `n - 1`
//! data sectors and, last, the spare sector. Each sector keeps its first
//! `SECTOR - 2 * TW` bytes for data (the payload; `TW` = 8 bytes rounded up to the write size)
//! and the last `2 * TW` bytes for the trailer, which only the spare uses:
//!
//! ```text
//! spare: payload (SECTOR - 2TW) | header word: u32 BE target sector, u32 BE CRC-32, FF.. (TW)
//!                               | commit word: u32 BE "OXS1", FF.. (TW)
//! ```
//!
//! The CRC-32 (IEEE, as in zip) covers the payload and the 4 target bytes. The NVM address
//! space is the data sectors' payloads, one after the other: [`Nvm::size`] is
//! `(n - 1) * (SECTOR - 2 * TW)` (for 16 KiB sectors and a write size up to 8, 16 bytes of
//! every sector are trailer).
//!
//! # A write, sector by sector (in address order)
//!
//! - **In place**: when every write word (aligned [`NorFlash::WRITE_SIZE`] bytes) the write
//!   changes can be programmed without an erase, the changed words are programmed in place,
//!   in address order. Built with [`FlashNvm::new`] (any [`NorFlash`], which must not program
//!   a word twice between erases) that means the word still reads erased (all FF); built with
//!   [`FlashNvm::new_multiwrite`] (a [`MultiwriteNorFlash`], programming ANDs) it means the
//!   write only clears bits.
//! - **Atomic rewrite** otherwise, with the new payload merged in RAM:
//!   1. erase the spare unless it reads erased (it normally does, see step 4);
//!   2. program the spare's payload and header word (target, CRC), then, in a separate
//!      program operation, its commit word: from here on the new contents are durable;
//!   3. erase the target sector and program its payload;
//!   4. erase the spare.
//!
//! A power loss before the commit word is complete leaves the target untouched (old); after
//! it, recovery finishes the rewrite (new). Recovery ([`FlashNvm::recover`], run by the
//! constructors) finds a spare whose commit word, target and CRC are valid, and copies it to
//! its target again (erase, program) and erases the spare. That is idempotent, so a power
//! loss during recovery only means recovery runs again at the next power-up. A spare that is
//! not valid (blank, half programmed, half erased) is ignored and erased before its next use.
//!
//! A valid spare always holds the latest contents of its target: it becomes valid at step 2,
//! nothing writes the target before the rewrite completes, and the spare is erased (step 4)
//! before the write call returns. If a flash operation fails without a power loss after the
//! commit, recovery is due and runs before the next read or write. A half-erased spare
//! (power lost in step 4) still equal to the target's contents is harmless (recovery copies
//! the same bytes); one whose bits changed would need its CRC-32 to match by chance
//! (probability 2^-32 per such tear) to be taken for valid.
//!
//! # Assumptions about the device (embedded-storage's `NorFlash` contract)
//!
//! - A power loss during `write` leaves the words being written undefined and the rest of
//!   the sector unchanged (the [`NorFlash::write`] doc), words being programmed in address
//!   order; during `erase`, the sector being erased undefined.
//! - Reads after power-up are stable (a word whose programming was cut reads the same value
//!   every time; one that still reads erased is taken for erased and may be programmed
//!   again) and reads have a granularity of one byte (`READ_SIZE == 1`).
//!
//! # Units
//!
//! So a write interrupted by power loss leaves every sector before the interrupted one
//! written, every sector after it untouched, and the interrupted sector old or new (atomic
//! rewrite) or, in place, its changed words before the torn one new, the torn word undefined
//! and the ones after it old. That is oxicard-store's unit contract with the unit being the
//! write word: [`Nvm::unit_size`] is `WRITE_SIZE` (at least 1), well within the 512 bytes the
//! journal supports, instead of a whole sector.
//!
//! # Costs
//!
//! An atomic rewrite costs two erases (target, spare) instead of one, programs the payload
//! twice (spare, target) plus the commit word, reads the spare once to see that it is erased
//! and computes a CRC-32 over the payload. Programs leave out words that are all FF (a plain
//! `NorFlash` must not program a word twice, and on parts with ECC an FF word once programmed
//! could not take a later in-place write), so each payload program is one operation per run
//! of non-erased words. The spare is erased once per rewrite of any data sector: it wears as
//! fast as all data sectors together. The spare sector and `2 * TW` bytes per data sector are
//! not usable. Recovery at power-up reads one word when the spare is not committed.

use core::cell::{Cell, RefCell};
use core::ops::Range;

use embedded_storage::nor_flash::{MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind};
use oxicard_store::{Nvm, NvmError, NvmErrorKind};

/// What went wrong in a flash NVM operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashNvmError<E> {
    /// The range lies outside the NVM region.
    OutOfBounds {
        /// First byte asked for.
        addr: usize,
        /// Number of bytes.
        len: usize,
    },
    /// The flash driver failed.
    Flash(E),
    /// A read came while the driver was in use (cannot happen from one thread).
    Busy,
}

impl<E: NorFlashError> NvmError for FlashNvmError<E> {
    fn kind(&self) -> NvmErrorKind {
        match self {
            FlashNvmError::OutOfBounds { .. } => NvmErrorKind::OutOfBounds,
            FlashNvmError::Busy => NvmErrorKind::Other,
            FlashNvmError::Flash(e) => match e.kind() {
                NorFlashErrorKind::OutOfBounds => NvmErrorKind::OutOfBounds,
                _ => NvmErrorKind::WriteFailed,
            },
        }
    }
}

/// The commit word of a valid spare: "OXS1".
const COMMIT: u32 = 0x4F58_5331;

/// Which words a write may program without an erase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InPlace {
    /// Words that read erased (all FF): any `NorFlash` allows programming them once.
    ErasedWords,
    /// Words whose bits only go from 1 to 0: a `MultiwriteNorFlash` ANDs what it programs.
    ClearBits,
}

/// A region of NOR flash as the card's NVM, with atomic sector rewrites through a spare
/// sector (see the module doc): `SECTOR` is the erase size used (a multiple of the device's
/// erase and write sizes).
pub struct FlashNvm<F, const SECTOR: usize> {
    /// The driver and the sector buffer; in a cell because embedded-storage reads take
    /// `&mut self`, [`Nvm::read`] takes `&self`, and a read may have to run recovery.
    state: RefCell<State<F, SECTOR>>,
    /// Offset of the region in the flash.
    base: u32,
    /// Number of data sectors (the region's sectors but the spare).
    data_sectors: usize,
    /// What the in-place path may program.
    in_place: InPlace,
    /// A rewrite failed after its spare was committed: recovery must run before anything
    /// else reads or writes.
    recovery_due: Cell<bool>,
}

/// The mutable part of a [`FlashNvm`].
struct State<F, const SECTOR: usize> {
    flash: F,
    buf: [u8; SECTOR],
}

impl<F: NorFlash, const SECTOR: usize> FlashNvm<F, SECTOR> {
    /// Bytes of one trailer word: 8 rounded up to the write size.
    const TRAILER_WORD: usize = 8usize.div_ceil(Self::WRITE) * Self::WRITE;
    /// Data bytes of a sector.
    const PAYLOAD: usize = SECTOR.saturating_sub(2 * Self::TRAILER_WORD);
    /// The device's write size (at least 1).
    const WRITE: usize = if F::WRITE_SIZE == 0 { 1 } else { F::WRITE_SIZE };

    /// The region of `size` bytes at flash offset `base`, its last sector being the spare:
    /// the NVM holds `(size / SECTOR - 1) * (SECTOR - 2 * TW)` bytes (module doc). `None`
    /// when `base` and `size` are not multiples of `SECTOR`, `SECTOR` not a multiple of the
    /// flash's erase and write sizes, the region has fewer than two sectors, does not fit
    /// into the flash, or the flash does not read single bytes. Runs [`FlashNvm::recover`];
    /// if that fails, it runs again before the first read or write.
    pub fn new(flash: F, base: u32, size: usize) -> Option<Self> {
        Self::with_mode(flash, base, size, InPlace::ErasedWords)
    }

    fn with_mode(flash: F, base: u32, size: usize, in_place: InPlace) -> Option<Self> {
        let aligned = SECTOR > 2 * Self::TRAILER_WORD
            && F::ERASE_SIZE > 0
            && SECTOR.is_multiple_of(F::ERASE_SIZE)
            && SECTOR.is_multiple_of(Self::WRITE)
            && (base as usize).is_multiple_of(SECTOR)
            && size.is_multiple_of(SECTOR)
            && size / SECTOR >= 2
            && F::READ_SIZE == 1;
        // flash offsets are u32: the region must end within them
        let end = (base as usize).checked_add(size)?;
        let fits = end <= flash.capacity() && u32::try_from(end).is_ok();
        let nvm = (aligned && fits).then_some(FlashNvm {
            state: RefCell::new(State {
                flash,
                buf: [0xFF; SECTOR],
            }),
            base,
            data_sectors: size / SECTOR - 1,
            in_place,
            recovery_due: Cell::new(true),
        })?;
        // a failure leaves recovery due: it runs again before the first read or write
        let _ = nvm.recover_shared();
        Some(nvm)
    }

    /// Finishes a sector rewrite that a power loss (or a flash error) interrupted after its
    /// spare was committed: copies the spare to its target sector and erases the spare.
    /// Does nothing when the spare is not valid. The constructors run it.
    pub fn recover(&mut self) -> Result<(), FlashNvmError<F::Error>> {
        self.recover_shared()
    }

    /// The flash driver back.
    pub fn into_inner(self) -> F {
        self.state.into_inner().flash
    }

    /// Flash offset of the start of sector `index` of the region (the spare is
    /// `data_sectors`).
    fn sector_offset(&self, index: usize) -> u32 {
        self.base + (index * SECTOR) as u32
    }

    fn spare_offset(&self) -> u32 {
        self.sector_offset(self.data_sectors)
    }

    /// The pieces of the NVM range `addr..addr + len`, one per sector it touches: sector
    /// index, offset in the sector's data area, and the piece's range within the range.
    fn pieces(addr: usize, len: usize) -> impl Iterator<Item = (usize, usize, Range<usize>)> {
        let mut done = 0usize;
        core::iter::from_fn(move || {
            if done >= len || Self::PAYLOAD == 0 {
                return None;
            }
            let at = addr + done;
            let (index, offset) = (at / Self::PAYLOAD, at % Self::PAYLOAD);
            let n = (len - done).min(Self::PAYLOAD - offset);
            let piece = (index, offset, done..done + n);
            done += n;
            Some(piece)
        })
    }

    fn check(&self, addr: usize, len: usize) -> Result<(), FlashNvmError<F::Error>> {
        match addr.checked_add(len) {
            Some(end) if end <= self.size() => Ok(()),
            _ => Err(FlashNvmError::OutOfBounds { addr, len }),
        }
    }

    fn recover_shared(&self) -> Result<(), FlashNvmError<F::Error>> {
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| FlashNvmError::Busy)?;
        self.recover_with(&mut state)?;
        self.recovery_due.set(false);
        Ok(())
    }

    /// Recovery on the borrowed state (module doc).
    fn recover_with(&self, state: &mut State<F, SECTOR>) -> Result<(), FlashNvmError<F::Error>> {
        let spare = self.spare_offset();
        let State { flash, buf } = state;
        let mut word = [0u8; 8];
        flash
            .read(
                spare + (Self::PAYLOAD + Self::TRAILER_WORD) as u32,
                &mut word[..4],
            )
            .map_err(FlashNvmError::Flash)?;
        if be32(&word, 0) != COMMIT {
            return Ok(());
        }
        flash
            .read(spare + Self::PAYLOAD as u32, &mut word)
            .map_err(FlashNvmError::Flash)?;
        let target = be32(&word, 0) as usize;
        if target >= self.data_sectors {
            return Ok(());
        }
        let payload = buf.get_mut(..Self::PAYLOAD).unwrap_or(&mut []);
        flash.read(spare, payload).map_err(FlashNvmError::Flash)?;
        if spare_crc(payload, target as u32) != be32(&word, 4) {
            return Ok(());
        }
        let to = self.sector_offset(target);
        flash
            .erase(to, to + SECTOR as u32)
            .map_err(FlashNvmError::Flash)?;
        Self::program_erased(flash, to, payload).map_err(FlashNvmError::Flash)?;
        flash
            .erase(spare, spare + SECTOR as u32)
            .map_err(FlashNvmError::Flash)
    }

    /// Programs `bytes` (whole write words) at flash offset `at` of a freshly erased range,
    /// leaving out the words that are all FF: they read erased already, and a plain
    /// `NorFlash` must not program a word twice (an FF word programmed once could not take
    /// a later in-place write; on parts with ECC, programming FF sets the ECC bits).
    fn program_erased(flash: &mut F, at: u32, bytes: &[u8]) -> Result<(), F::Error> {
        let w = Self::WRITE;
        let words = bytes.len() / w;
        let erased = |i: usize| {
            bytes
                .get(i * w..i * w + w)
                .is_none_or(|b| b.iter().all(|&b| b == 0xFF))
        };
        let mut i = 0;
        while i < words {
            if erased(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i < words && !erased(i) {
                i += 1;
            }
            if let Some(run) = bytes.get(start * w..i * w) {
                flash.write(at + (start * w) as u32, run)?;
            }
        }
        Ok(())
    }

    /// Writes `data` at `offset` of the payload of data sector `index`.
    fn write_sector(
        &self,
        state: &mut State<F, SECTOR>,
        index: usize,
        offset: usize,
        data: &[u8],
    ) -> Result<(), FlashNvmError<F::Error>> {
        let oob = || FlashNvmError::OutOfBounds {
            addr: index * Self::PAYLOAD + offset,
            len: data.len(),
        };
        let end = offset.checked_add(data.len()).ok_or_else(oob)?;
        let at = self.sector_offset(index);
        let State { flash, buf } = state;
        let payload = buf.get_mut(..Self::PAYLOAD).ok_or_else(oob)?;
        flash.read(at, payload).map_err(FlashNvmError::Flash)?;
        let old = payload.get(offset..end).ok_or_else(oob)?;
        if old == data {
            return Ok(());
        }
        let w = Self::WRITE;
        let (from, to) = (offset / w * w, end.div_ceil(w) * w);
        // the new byte at payload offset `p`, if the write covers it
        let new_byte = |p: usize| p.checked_sub(offset).and_then(|k| data.get(k)).copied();
        let changed = |payload: &[u8], word: usize| {
            (word..word + w).any(|p| new_byte(p).is_some_and(|n| payload.get(p) != Some(&n)))
        };
        let in_place = match self.in_place {
            InPlace::ClearBits => old.iter().zip(data).all(|(o, n)| o & n == *n),
            InPlace::ErasedWords => (from..to).step_by(w).all(|word| {
                !changed(payload, word)
                    || payload
                        .get(word..word + w)
                        .is_some_and(|b| b.iter().all(|&b| b == 0xFF))
            }),
        };
        if in_place {
            // Program runs of words in address order: with ClearBits the whole span (an
            // unchanged byte is programmed to its own value, which ANDs to itself), with
            // ErasedWords only the words that change (each programmed once after its erase).
            let mut run: Option<usize> = None;
            let mut word = from;
            while word <= to {
                let in_run =
                    word < to && (self.in_place == InPlace::ClearBits || changed(payload, word));
                match (in_run, run) {
                    (true, None) => run = Some(word),
                    (false, Some(start)) => {
                        for p in start..word {
                            if let (Some(dst), Some(n)) = (payload.get_mut(p), new_byte(p)) {
                                *dst = n;
                            }
                        }
                        let chunk = payload.get(start..word).ok_or_else(oob)?;
                        flash
                            .write(at + start as u32, chunk)
                            .map_err(FlashNvmError::Flash)?;
                        run = None;
                    }
                    _ => {}
                }
                word += w;
            }
            return Ok(());
        }
        payload
            .get_mut(offset..end)
            .ok_or_else(oob)?
            .copy_from_slice(data);
        self.rewrite(flash, buf, index)
    }

    /// Replaces data sector `index` with the payload in `buf` through the spare (module
    /// doc, steps 1 to 4).
    fn rewrite(
        &self,
        flash: &mut F,
        buf: &mut [u8; SECTOR],
        index: usize,
    ) -> Result<(), FlashNvmError<F::Error>> {
        let spare = self.spare_offset();
        // 1. the spare must read erased
        let mut blank = true;
        let mut chunk = [0u8; 64];
        let mut at = 0usize;
        while blank && at < SECTOR {
            let n = chunk.len().min(SECTOR - at);
            let part = chunk.get_mut(..n).unwrap_or(&mut []);
            flash
                .read(spare + at as u32, part)
                .map_err(FlashNvmError::Flash)?;
            blank = part.iter().all(|&b| b == 0xFF);
            at += n;
        }
        if !blank {
            flash
                .erase(spare, spare + SECTOR as u32)
                .map_err(FlashNvmError::Flash)?;
        }
        // 2. payload and header word, then the commit word
        let (payload, trailer) = buf.split_at_mut(Self::PAYLOAD);
        let crc = spare_crc(payload, index as u32);
        trailer.fill(0xFF);
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&(index as u32).to_be_bytes());
        head[4..].copy_from_slice(&crc.to_be_bytes());
        if let Some(dst) = trailer.get_mut(..8) {
            dst.copy_from_slice(&head);
        }
        if let Some(dst) = trailer.get_mut(Self::TRAILER_WORD..Self::TRAILER_WORD + 4) {
            dst.copy_from_slice(&COMMIT.to_be_bytes());
        }
        let commit_at = Self::PAYLOAD + Self::TRAILER_WORD;
        Self::program_erased(flash, spare, buf.get(..commit_at).unwrap_or(&[]))
            .map_err(FlashNvmError::Flash)?;
        // from the commit word on, a failure may leave the spare as the truth: recovery
        // decides before anything else touches the flash
        let target = self.sector_offset(index);
        let finish = flash
            .write(
                spare + commit_at as u32,
                buf.get(commit_at..).unwrap_or(&[]),
            )
            // 3. the target
            .and_then(|()| flash.erase(target, target + SECTOR as u32))
            .and_then(|()| {
                Self::program_erased(flash, target, buf.get(..Self::PAYLOAD).unwrap_or(&[]))
            })
            // 4. the spare, erased for the next rewrite
            .and_then(|()| flash.erase(spare, spare + SECTOR as u32));
        if finish.is_err() {
            self.recovery_due.set(true);
        }
        finish.map_err(FlashNvmError::Flash)
    }
}

impl<F: MultiwriteNorFlash, const SECTOR: usize> FlashNvm<F, SECTOR> {
    /// [`FlashNvm::new`] for a flash that ANDs when a word is programmed again: writes that
    /// only clear bits are programmed in place, without a sector rewrite.
    pub fn new_multiwrite(flash: F, base: u32, size: usize) -> Option<Self> {
        Self::with_mode(flash, base, size, InPlace::ClearBits)
    }
}

impl<F: NorFlash, const SECTOR: usize> Nvm for FlashNvm<F, SECTOR> {
    type Error = FlashNvmError<F::Error>;

    fn size(&self) -> usize {
        self.data_sectors * Self::PAYLOAD
    }

    /// The write word: a power loss damages at most the word being programmed (module doc).
    fn unit_size(&self) -> usize {
        Self::WRITE
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.check(addr, buf.len())?;
        if self.recovery_due.get() {
            self.recover_shared()?;
        }
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| FlashNvmError::Busy)?;
        for (index, offset, range) in Self::pieces(addr, buf.len()) {
            let part = buf.get_mut(range).unwrap_or(&mut []);
            state
                .flash
                .read(self.sector_offset(index) + offset as u32, part)
                .map_err(FlashNvmError::Flash)?;
        }
        Ok(())
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), Self::Error> {
        self.check(addr, data.len())?;
        if self.recovery_due.get() {
            self.recover_shared()?;
        }
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| FlashNvmError::Busy)?;
        for (index, offset, range) in Self::pieces(addr, data.len()) {
            self.write_sector(&mut state, index, offset, data.get(range).unwrap_or(&[]))?;
        }
        Ok(())
    }
}

/// The big-endian u32 at `at` of `bytes` (0 when out of range).
fn be32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

/// CRC-32 (IEEE, reflected, as in zip) of a spare: its payload, then the target sector.
fn spare_crc(payload: &[u8], target: u32) -> u32 {
    !crc32_update(crc32_update(!0, payload), &target.to_be_bytes())
}

/// Adds `data` to a running CRC-32 (IEEE, reflected, without the final inversion).
fn crc32_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_published_check_value() {
        // CRC-32/ISO-HDLC check value over "123456789"
        assert_eq!(!crc32_update(!0, b"123456789"), 0xCBF4_3926);
    }
}
