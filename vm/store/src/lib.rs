//! oxicard-store: the non-volatile memory (NVM) abstraction the card runtime keeps its
//! persistent state behind.
//!
//! The runtime never touches a flash page or an EEPROM chip directly: everything persistent
//! (linked packages, static fields, the object heap, the applet registry) lives in one [`Nvm`]
//! address space. The trait is shaped like an embedded-hal trait: small, fallible, with an
//! associated error that has a [`NvmError::kind`]. [`RamNvm`] backs it with a RAM array (tests,
//! simulator); [`FaultyNvm`] wraps another NVM and cuts the power at a chosen unit write,
//! optionally leaving that unit half written, so tearing can be tested; [`CountingNvm`]
//! counts the units written.
//!
//! Semantics the runtime relies on: a device writes in units ([`Nvm::unit_size`] bytes,
//! aligned); a write that power loss interrupts may leave the unit being written undefined,
//! and nothing else: units before it are written, units after it untouched.
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

/// Wraps an NVM, counts the units it writes and cuts the power at a chosen unit write, to
/// test tearing.
///
/// A write of `data` at `addr` writes every unit (aligned block of [`Nvm::unit_size`] bytes)
/// it touches, in address order; each counts as one unit write. When power is cut at unit
/// write number `n` (0-based), units `0..n` are written, unit `n` is left untouched or, with
/// tearing on, half old and half new (the first half of the unit's bytes new, the rest old;
/// for one-byte units the high nibble new and the low nibble old), and the write fails with
/// [`NvmErrorKind::PowerLoss`]. From then on the device is off: every write fails until
/// [`FaultyNvm::power_up`].
#[derive(Clone)]
pub struct FaultyNvm<M: Nvm> {
    inner: M,
    unit: usize,
    units_written: u64,
    cut_at: Option<u64>,
    tear: bool,
    powered: bool,
}

impl<M: Nvm> FaultyNvm<M> {
    /// Wraps `inner` with its own unit size; power is cut after `writes_left` more unit
    /// writes (`None`: never).
    pub fn new(inner: M, writes_left: Option<usize>) -> Self {
        let unit = inner.unit_size().max(1);
        Self {
            inner,
            unit,
            units_written: 0,
            cut_at: writes_left.map(|n| n as u64),
            tear: false,
            powered: true,
        }
    }

    /// Uses units of `unit` bytes (at least 1) instead of the inner device's.
    pub fn with_unit(mut self, unit: usize) -> Self {
        self.unit = unit.max(1);
        self
    }

    /// Sets how many more unit writes succeed before power is cut (`None`: never).
    pub fn set_writes_left(&mut self, writes_left: Option<usize>) {
        self.cut_at = writes_left.map(|n| self.units_written + n as u64);
    }

    /// Whether the unit being written when power is cut is left half old, half new
    /// (`true`) or untouched (`false`).
    pub fn set_tearing(&mut self, tear: bool) {
        self.tear = tear;
    }

    /// Unit writes done so far (including a torn one).
    pub fn units_written(&self) -> u64 {
        self.units_written
    }

    /// Whether power has not been cut.
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Restores power; no cut is scheduled any more.
    pub fn power_up(&mut self) {
        self.powered = true;
        self.cut_at = None;
    }

    /// The wrapped NVM.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The wrapped NVM, for changes that bypass the counting.
    pub fn inner_mut(&mut self) -> &mut M {
        &mut self.inner
    }

    /// The wrapped NVM.
    pub fn into_inner(self) -> M {
        self.inner
    }

    /// Writes the part `data` of one unit at `addr`, torn if `tear`.
    fn write_unit(
        &mut self,
        addr: usize,
        data: &[u8],
        unit_start: usize,
        torn: bool,
    ) -> Result<(), FaultyNvmError> {
        let err = |e: M::Error| FaultyNvmError(e.kind());
        if !torn {
            return self.inner.write(addr, data).map_err(err);
        }
        let mut mixed = [0u8; 64];
        let buf = mixed
            .get_mut(..data.len())
            .ok_or(FaultyNvmError(NvmErrorKind::Other))?;
        self.inner.read(addr, buf).map_err(err)?;
        let half = unit_start + self.unit / 2;
        for (i, (b, new)) in buf.iter_mut().zip(data.iter()).enumerate() {
            let at = addr + i;
            if self.unit == 1 {
                *b = (new & 0xF0) | (*b & 0x0F);
            } else if at < half {
                *b = *new;
            }
        }
        self.inner.write(addr, buf).map_err(err)
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

    fn unit_size(&self) -> usize {
        self.unit
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), FaultyNvmError> {
        self.inner
            .read(addr, buf)
            .map_err(|e| FaultyNvmError(e.kind()))
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), FaultyNvmError> {
        if !self.powered {
            return Err(FaultyNvmError(NvmErrorKind::PowerLoss));
        }
        let end = addr
            .checked_add(data.len())
            .filter(|&e| e <= self.inner.size())
            .ok_or(FaultyNvmError(NvmErrorKind::OutOfBounds))?;
        let mut at = addr;
        while at < end {
            let unit_start = at - at % self.unit;
            let unit_end = (unit_start + self.unit).min(end);
            let part = data
                .get(at - addr..unit_end - addr)
                .ok_or(FaultyNvmError(NvmErrorKind::OutOfBounds))?;
            if self.cut_at == Some(self.units_written) {
                self.powered = false;
                if self.tear {
                    self.units_written += 1;
                    // a torn unit wider than the scratch buffer is left untouched
                    if part.len() <= 64 {
                        self.write_unit(at, part, unit_start, true)?;
                    }
                }
                return Err(FaultyNvmError(NvmErrorKind::PowerLoss));
            }
            self.units_written += 1;
            self.write_unit(at, part, unit_start, false)?;
            at = unit_end;
        }
        Ok(())
    }

    fn as_slice(&self) -> Option<&[u8]> {
        self.inner.as_slice()
    }
}

/// Wraps an NVM and counts write calls and the units they touch (aligned blocks of
/// [`Nvm::unit_size`] bytes, or of a unit size chosen with [`CountingNvm::with_unit`]):
/// the figure a write-endurance or speed budget is stated in.
#[derive(Clone)]
pub struct CountingNvm<M: Nvm> {
    inner: M,
    unit: usize,
    writes: u64,
    units: u64,
    bytes: u64,
}

impl<M: Nvm> CountingNvm<M> {
    /// Wraps `inner`, counting in its own unit size.
    pub fn new(inner: M) -> Self {
        let unit = inner.unit_size().max(1);
        Self {
            inner,
            unit,
            writes: 0,
            units: 0,
            bytes: 0,
        }
    }

    /// Counts in units of `unit` bytes (at least 1); the device reports this unit size.
    pub fn with_unit(mut self, unit: usize) -> Self {
        self.unit = unit.max(1);
        self
    }

    /// (write calls, units written, bytes written) so far.
    pub fn counts(&self) -> (u64, u64, u64) {
        (self.writes, self.units, self.bytes)
    }

    /// The wrapped NVM.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The wrapped NVM.
    pub fn into_inner(self) -> M {
        self.inner
    }
}

impl<M: Nvm> Nvm for CountingNvm<M> {
    type Error = M::Error;

    fn size(&self) -> usize {
        self.inner.size()
    }

    fn unit_size(&self) -> usize {
        self.unit
    }

    #[inline]
    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), M::Error> {
        self.inner.read(addr, buf)
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), M::Error> {
        self.inner.write(addr, data)?;
        if !data.is_empty() {
            let first = addr / self.unit;
            let last = (addr + data.len() - 1) / self.unit;
            self.writes += 1;
            self.units += (last - first + 1) as u64;
            self.bytes += data.len() as u64;
        }
        Ok(())
    }

    #[inline]
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
    fn faulty_nvm_cuts_power_after_n_unit_writes() {
        let mut nvm = FaultyNvm::new(RamNvm::<8>::new(), Some(1)).with_unit(2);
        nvm.write_u16(0, 0xABCD).unwrap();
        assert_eq!(
            nvm.write_u16(2, 0x1234).unwrap_err().kind(),
            NvmErrorKind::PowerLoss
        );
        assert_eq!(nvm.read_u16(0).unwrap(), 0xABCD);
        assert_eq!(nvm.read_u16(2).unwrap(), 0);
        // off until powered up again
        assert!(!nvm.is_powered());
        assert!(nvm.write(7, &[1]).is_err());
        nvm.power_up();
        nvm.write(7, &[1]).unwrap();
    }

    #[test]
    fn faulty_nvm_counts_units_and_cuts_inside_a_write() {
        // 4-byte units: a 6-byte write at 2 touches units 0 and 1
        let mut nvm = FaultyNvm::new(RamNvm::<16>::new(), None).with_unit(4);
        nvm.write(2, &[1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(nvm.units_written(), 2);
        // cut at the second unit of the next write, untouched
        nvm.set_writes_left(Some(1));
        let e = nvm.write(4, &[9; 8]).unwrap_err();
        assert_eq!(e.kind(), NvmErrorKind::PowerLoss);
        let mut b = [0u8; 12];
        nvm.read(0, &mut b).unwrap();
        assert_eq!(b, [0, 0, 1, 2, 9, 9, 9, 9, 0, 0, 0, 0]);
    }

    #[test]
    fn faulty_nvm_tears_half_old_half_new() {
        let mut nvm = FaultyNvm::new(RamNvm::<8>::new(), Some(0)).with_unit(4);
        nvm.set_tearing(true);
        assert!(nvm.write(0, &[0xFF; 4]).is_err());
        let mut b = [0u8; 4];
        nvm.read(0, &mut b).unwrap();
        assert_eq!(b, [0xFF, 0xFF, 0, 0]);
        assert_eq!(nvm.units_written(), 1);
        // one-byte units tear by nibble
        let mut nvm = FaultyNvm::new(RamNvm::<2>::new(), Some(0));
        nvm.set_tearing(true);
        assert!(nvm.write(1, &[0xAB]).is_err());
        assert_eq!(nvm.read_u8(1).unwrap(), 0xA0);
    }

    #[test]
    fn counting_nvm_counts_touched_units() {
        let mut nvm = CountingNvm::new(RamNvm::<32>::new()).with_unit(8);
        nvm.write(6, &[0; 4]).unwrap(); // units 0 and 1
        nvm.write(16, &[0; 8]).unwrap(); // unit 2
        assert_eq!(nvm.counts(), (2, 3, 12));
        assert_eq!(nvm.unit_size(), 8);
    }
}
