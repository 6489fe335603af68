//! oxicard-store: the non-volatile memory (NVM) abstraction the card runtime keeps its
//! persistent state behind.
//!
//! The runtime never touches a flash page or an EEPROM chip directly: everything persistent
//! (linked packages, static fields, the object heap, the applet registry) lives in one [`Nvm`]
//! address space. The trait is shaped like an embedded-hal trait: small, fallible, with an
//! associated error that has a [`NvmError::kind`]. [`RamNvm`] backs it with a RAM array (tests,
//! simulator); [`FaultyNvm`] wraps another NVM and cuts the power after a chosen number of
//! writes, so tearing can be tested.
#![no_std]

/// What went wrong in an NVM operation, independent of the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NvmErrorKind {
    /// The address range lies (partly) outside the device.
    OutOfBounds,
    /// The device reported a failed write or erase.
    WriteFailed,
    /// Power was lost during the operation (fault injection).
    PowerLoss,
    /// Any other device-specific failure.
    Other,
}

/// The error type of an [`Nvm`] implementation.
pub trait NvmError: core::fmt::Debug {
    /// The device-independent class of this error.
    fn kind(&self) -> NvmErrorKind;
}

impl NvmError for NvmErrorKind {
    fn kind(&self) -> NvmErrorKind {
        *self
    }
}

/// A byte-addressed non-volatile memory.
///
/// Addresses run from 0 to [`Nvm::size`]. A write either completes or fails with an error;
/// what a failed write leaves behind is device specific (a journal above this trait deals
/// with it).
pub trait Nvm {
    /// The device error.
    type Error: NvmError;

    /// Size of the address space in bytes.
    fn size(&self) -> usize;

    /// The smallest unit the device writes atomically, in bytes (1 for RAM and EEPROM).
    fn unit_size(&self) -> usize {
        1
    }

    /// Reads `buf.len()` bytes starting at `addr`.
    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), Self::Error>;

    /// Writes `data` starting at `addr`.
    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), Self::Error>;

    /// The whole address space as a slice, for memory-mapped devices (RAM, on-chip flash).
    /// Readers use it as a fast path; `None` means every read goes through [`Nvm::read`].
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }

    /// Reads one byte.
    #[inline]
    fn read_u8(&self, addr: usize) -> Result<u8, Self::Error> {
        let mut b = [0u8; 1];
        self.read(addr, &mut b)?;
        Ok(b[0])
    }

    /// Reads a big-endian u16.
    #[inline]
    fn read_u16(&self, addr: usize) -> Result<u16, Self::Error> {
        let mut b = [0u8; 2];
        self.read(addr, &mut b)?;
        Ok(u16::from_be_bytes(b))
    }

    /// Reads a big-endian u32.
    #[inline]
    fn read_u32(&self, addr: usize) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    /// Writes a big-endian u16.
    #[inline]
    fn write_u16(&mut self, addr: usize, value: u16) -> Result<(), Self::Error> {
        self.write(addr, &value.to_be_bytes())
    }

    /// Writes a big-endian u32.
    #[inline]
    fn write_u32(&mut self, addr: usize, value: u32) -> Result<(), Self::Error> {
        self.write(addr, &value.to_be_bytes())
    }
}

/// An NVM backed by a RAM array of `N` bytes, initially erased to zero.
#[derive(Clone)]
pub struct RamNvm<const N: usize> {
    data: [u8; N],
}

impl<const N: usize> RamNvm<N> {
    /// A zero-filled NVM.
    pub const fn new() -> Self {
        Self { data: [0; N] }
    }
}

impl<const N: usize> Default for RamNvm<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Nvm for RamNvm<N> {
    type Error = NvmErrorKind;

    fn size(&self) -> usize {
        N
    }

    #[inline]
    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), NvmErrorKind> {
        let end = addr
            .checked_add(buf.len())
            .ok_or(NvmErrorKind::OutOfBounds)?;
        let src = self.data.get(addr..end).ok_or(NvmErrorKind::OutOfBounds)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    #[inline]
    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), NvmErrorKind> {
        let end = addr
            .checked_add(data.len())
            .ok_or(NvmErrorKind::OutOfBounds)?;
        let dst = self
            .data
            .get_mut(addr..end)
            .ok_or(NvmErrorKind::OutOfBounds)?;
        dst.copy_from_slice(data);
        Ok(())
    }

    #[inline]
    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.data)
    }

    #[inline]
    fn read_u8(&self, addr: usize) -> Result<u8, NvmErrorKind> {
        self.data
            .get(addr)
            .copied()
            .ok_or(NvmErrorKind::OutOfBounds)
    }

    #[inline]
    fn read_u16(&self, addr: usize) -> Result<u16, NvmErrorKind> {
        match self.data.get(addr..addr.wrapping_add(2)) {
            Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
            _ => Err(NvmErrorKind::OutOfBounds),
        }
    }

    #[inline]
    fn read_u32(&self, addr: usize) -> Result<u32, NvmErrorKind> {
        match self.data.get(addr..addr.wrapping_add(4)) {
            Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
            _ => Err(NvmErrorKind::OutOfBounds),
        }
    }
}

/// Wraps an NVM and fails every write after the first `writes_left` ones with
/// [`NvmErrorKind::PowerLoss`], to simulate tearing. A failed write writes nothing.
pub struct FaultyNvm<M: Nvm> {
    inner: M,
    writes_left: Option<usize>,
}

impl<M: Nvm> FaultyNvm<M> {
    /// Wraps `inner`; `writes_left = None` never fails.
    pub fn new(inner: M, writes_left: Option<usize>) -> Self {
        Self { inner, writes_left }
    }

    /// Sets how many more writes succeed before power is cut (`None`: never).
    pub fn set_writes_left(&mut self, writes_left: Option<usize>) {
        self.writes_left = writes_left;
    }

    /// The wrapped NVM.
    pub fn into_inner(self) -> M {
        self.inner
    }
}

/// Error of a [`FaultyNvm`]: power loss or the inner device's error kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultyNvmError(pub NvmErrorKind);

impl NvmError for FaultyNvmError {
    fn kind(&self) -> NvmErrorKind {
        self.0
    }
}

impl<M: Nvm> Nvm for FaultyNvm<M> {
    type Error = FaultyNvmError;

    fn size(&self) -> usize {
        self.inner.size()
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), FaultyNvmError> {
        self.inner
            .read(addr, buf)
            .map_err(|e| FaultyNvmError(e.kind()))
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), FaultyNvmError> {
        if let Some(left) = self.writes_left.as_mut() {
            if *left == 0 {
                return Err(FaultyNvmError(NvmErrorKind::PowerLoss));
            }
            *left -= 1;
        }
        self.inner
            .write(addr, data)
            .map_err(|e| FaultyNvmError(e.kind()))
    }

    fn as_slice(&self) -> Option<&[u8]> {
        self.inner.as_slice()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ram_nvm_round_trips_and_checks_bounds() {
        let mut nvm = RamNvm::<16>::new();
        nvm.write(3, &[1, 2, 3]).unwrap();
        assert_eq!(nvm.read_u16(3).unwrap(), 0x0102);
        assert_eq!(nvm.read_u8(5).unwrap(), 3);
        assert_eq!(nvm.write(15, &[1, 2]), Err(NvmErrorKind::OutOfBounds));
        assert_eq!(nvm.read_u32(13), Err(NvmErrorKind::OutOfBounds));
        assert_eq!(nvm.read_u8(16), Err(NvmErrorKind::OutOfBounds));
        assert_eq!(
            nvm.read(usize::MAX, &mut [0u8; 2]),
            Err(NvmErrorKind::OutOfBounds)
        );
    }

    #[test]
    fn faulty_nvm_cuts_power_after_n_writes() {
        let mut nvm = FaultyNvm::new(RamNvm::<8>::new(), Some(1));
        nvm.write_u16(0, 0xABCD).unwrap();
        assert_eq!(
            nvm.write_u16(2, 0x1234).unwrap_err().kind(),
            NvmErrorKind::PowerLoss
        );
        assert_eq!(nvm.read_u16(0).unwrap(), 0xABCD);
        assert_eq!(nvm.read_u16(2).unwrap(), 0);
    }
}
