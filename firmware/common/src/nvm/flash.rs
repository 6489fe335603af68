//! The card's NVM on NOR flash (a microcontroller's internal flash through embedded-storage).
//!
//! NOR flash writes can only clear bits; setting one needs an erase of its whole sector. A
//! write therefore goes sector by sector: when the new bytes only clear bits they are
//! programmed in place (the write granularity of the device, aligned), otherwise the sector is
//! read into a buffer, merged, erased and programmed again. A power loss during that cycle can
//! leave the whole sector undefined, so [`Nvm::unit_size`] is the sector size: the journal of
//! the runtime treats a sector as one unit (it supports units up to 512 bytes).

use core::cell::RefCell;

use embedded_storage::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind};
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

/// A region of NOR flash as the card's NVM: `SECTOR` is the device's erase size (a power of
/// two, at least its write size).
pub struct FlashNvm<F, const SECTOR: usize> {
    /// The driver; in a cell because embedded-storage reads take `&mut self` and
    /// [`Nvm::read`] takes `&self`.
    flash: RefCell<F>,
    /// Offset of the region in the flash.
    base: u32,
    /// Size of the region (a multiple of `SECTOR`).
    size: usize,
    sector: [u8; SECTOR],
}

impl<F: NorFlash, const SECTOR: usize> FlashNvm<F, SECTOR> {
    /// The region of `size` bytes at flash offset `base` (both multiples of `SECTOR`, which
    /// must be a multiple of the flash's erase size); `None` when they are not aligned or the
    /// region does not fit into the flash.
    pub fn new(flash: F, base: u32, size: usize) -> Option<Self> {
        let aligned = SECTOR > 0
            && SECTOR.is_multiple_of(F::ERASE_SIZE)
            && SECTOR.is_multiple_of(F::WRITE_SIZE)
            && (base as usize).is_multiple_of(SECTOR)
            && size.is_multiple_of(SECTOR);
        let fits = (base as usize).checked_add(size)? <= flash.capacity();
        (aligned && fits).then_some(FlashNvm {
            flash: RefCell::new(flash),
            base,
            size,
            sector: [0xFF; SECTOR],
        })
    }

    /// The flash driver back.
    pub fn into_inner(self) -> F {
        self.flash.into_inner()
    }

    fn check(&self, addr: usize, len: usize) -> Result<u32, FlashNvmError<F::Error>> {
        match addr.checked_add(len) {
            Some(end) if end <= self.size => Ok(self.base + addr as u32),
            _ => Err(FlashNvmError::OutOfBounds { addr, len }),
        }
    }

    /// Writes `data` at `offset` inside the sector starting at region address `start`.
    fn write_sector(
        &mut self,
        start: usize,
        offset: usize,
        data: &[u8],
    ) -> Result<(), FlashNvmError<F::Error>> {
        let flash_start = self.base + start as u32;
        let flash = self.flash.get_mut();
        flash
            .read(flash_start, &mut self.sector)
            .map_err(FlashNvmError::Flash)?;
        let Some(old) = self.sector.get(offset..offset + data.len()) else {
            return Err(FlashNvmError::OutOfBounds {
                addr: start + offset,
                len: data.len(),
            });
        };
        if old == data {
            return Ok(());
        }
        let program_only = old.iter().zip(data).all(|(o, n)| o & n == *n);
        if let Some(dst) = self.sector.get_mut(offset..offset + data.len()) {
            dst.copy_from_slice(data);
        }
        if program_only {
            // program the write units the range touches, as they are now merged
            let w = F::WRITE_SIZE.max(1);
            let from = offset / w * w;
            let to = (offset + data.len()).div_ceil(w) * w;
            let chunk = self.sector.get(from..to.min(SECTOR)).unwrap_or(&[]);
            flash
                .write(flash_start + from as u32, chunk)
                .map_err(FlashNvmError::Flash)
        } else {
            flash
                .erase(flash_start, flash_start + SECTOR as u32)
                .map_err(FlashNvmError::Flash)?;
            flash
                .write(flash_start, &self.sector)
                .map_err(FlashNvmError::Flash)
        }
    }
}

impl<F: NorFlash, const SECTOR: usize> Nvm for FlashNvm<F, SECTOR> {
    type Error = FlashNvmError<F::Error>;

    fn size(&self) -> usize {
        self.size
    }

    fn unit_size(&self) -> usize {
        SECTOR
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), Self::Error> {
        let at = self.check(addr, buf.len())?;
        let mut flash = self
            .flash
            .try_borrow_mut()
            .map_err(|_| FlashNvmError::Busy)?;
        flash.read(at, buf).map_err(FlashNvmError::Flash)
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), Self::Error> {
        self.check(addr, data.len())?;
        let mut done = 0usize;
        while let Some(rest) = data.get(done..).filter(|r| !r.is_empty()) {
            let at = addr + done;
            let start = at / SECTOR * SECTOR;
            let offset = at - start;
            let n = rest.len().min(SECTOR - offset);
            self.write_sector(start, offset, rest.get(..n).unwrap_or(&[]))?;
            done += n;
        }
        Ok(())
    }
}
