//! The card's NVM on a 24xx I2C EEPROM (24C32 to 24C512 and alike: two address bytes).
//!
//! Reads are one random read (address, then a repeated start and a sequential read). Writes
//! go page by page: one I2C write of the two address bytes and at most a page of data that
//! does not cross a page boundary (the chip would wrap around inside the page), then
//! acknowledge polling: the chip does not acknowledge its address while its internal write
//! cycle runs, so the adapter repeats an empty write until it is acknowledged. A power loss
//! during a page write can leave that page undefined, so [`Nvm::unit_size`] is the page size.

use core::cell::RefCell;

use embedded_hal::i2c::{Error as _, ErrorKind, I2c};
use oxicard_store::{Nvm, NvmError, NvmErrorKind};

/// The largest page size supported (24M01/24M02 have 256-byte pages).
pub const MAX_PAGE: usize = 256;

/// What went wrong in an EEPROM NVM operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EepromError<E> {
    /// The range lies outside the chip.
    OutOfBounds {
        /// First byte asked for.
        addr: usize,
        /// Number of bytes.
        len: usize,
    },
    /// The I2C bus failed (during the page holding this address).
    I2c {
        /// The first address of the transfer that failed.
        addr: usize,
        /// The bus error.
        error: E,
    },
    /// The chip did not finish its write cycle within the polling limit.
    WriteCycleTimeout {
        /// The first address of the page written.
        addr: usize,
    },
    /// A read came while the bus was in use (cannot happen from one thread).
    Busy,
}

impl<E: core::fmt::Debug> NvmError for EepromError<E> {
    fn kind(&self) -> NvmErrorKind {
        match self {
            EepromError::OutOfBounds { .. } => NvmErrorKind::OutOfBounds,
            EepromError::I2c { .. } | EepromError::WriteCycleTimeout { .. } => {
                NvmErrorKind::WriteFailed
            }
            EepromError::Busy => NvmErrorKind::Other,
        }
    }
}

/// A 24xx EEPROM on an I2C bus as the card's NVM.
pub struct Eeprom24x<I> {
    i2c: RefCell<I>,
    /// 7-bit device address (0x50 to 0x57).
    address: u8,
    size: usize,
    page: usize,
    /// Empty writes tried before a write cycle counts as failed.
    poll_limit: u32,
}

impl<I: I2c> Eeprom24x<I> {
    /// A chip of `size` bytes with `page`-byte pages at 7-bit `address`; `None` when the page
    /// size is 0, larger than [`MAX_PAGE`] or does not divide the size, or the size needs more
    /// than two address bytes.
    pub fn new(i2c: I, address: u8, size: usize, page: usize) -> Option<Self> {
        let valid = page > 0 && page <= MAX_PAGE && size.is_multiple_of(page) && size <= 0x1_0000;
        valid.then_some(Eeprom24x {
            i2c: RefCell::new(i2c),
            address,
            size,
            page,
            poll_limit: 10_000,
        })
    }

    /// Sets how many empty writes acknowledge polling tries (a write cycle takes at most 5 ms;
    /// at 400 kHz one poll takes about 25 µs).
    pub fn with_poll_limit(mut self, polls: u32) -> Self {
        self.poll_limit = polls;
        self
    }

    /// The bus back.
    pub fn into_inner(self) -> I {
        self.i2c.into_inner()
    }

    fn check(&self, addr: usize, len: usize) -> Result<(), EepromError<I::Error>> {
        match addr.checked_add(len) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(EepromError::OutOfBounds { addr, len }),
        }
    }

    /// Waits for the end of the write cycle of the page at `addr`.
    fn poll_ack(&mut self, addr: usize) -> Result<(), EepromError<I::Error>> {
        let i2c = self.i2c.get_mut();
        for _ in 0..self.poll_limit {
            match i2c.write(self.address, &[]) {
                Ok(()) => return Ok(()),
                Err(e) if matches!(e.kind(), ErrorKind::NoAcknowledge(_)) => {}
                Err(error) => return Err(EepromError::I2c { addr, error }),
            }
        }
        Err(EepromError::WriteCycleTimeout { addr })
    }
}

impl<I: I2c> Nvm for Eeprom24x<I> {
    type Error = EepromError<I::Error>;

    fn size(&self) -> usize {
        self.size
    }

    fn unit_size(&self) -> usize {
        self.page
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.check(addr, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let mut i2c = self.i2c.try_borrow_mut().map_err(|_| EepromError::Busy)?;
        let at = (addr as u16).to_be_bytes();
        i2c.write_read(self.address, &at, buf)
            .map_err(|error| EepromError::I2c { addr, error })
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), Self::Error> {
        self.check(addr, data.len())?;
        let mut frame = [0u8; 2 + MAX_PAGE];
        let mut done = 0usize;
        while let Some(rest) = data.get(done..).filter(|r| !r.is_empty()) {
            let at = addr + done;
            let n = rest.len().min(self.page - at % self.page);
            let (head, body) = frame.split_at_mut(2);
            head.copy_from_slice(&(at as u16).to_be_bytes());
            if let (Some(dst), Some(src)) = (body.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            self.i2c
                .get_mut()
                .write(self.address, frame.get(..2 + n).unwrap_or(&[]))
                .map_err(|error| EepromError::I2c { addr: at, error })?;
            self.poll_ack(at)?;
            done += n;
        }
        Ok(())
    }
}
