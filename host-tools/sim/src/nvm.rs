//! NVM for the desktop card: the card's persistent memory as a heap-allocated byte array. A
//! `RamNvm<N>` keeps its array inline, which is right on a microcontroller but too large for a
//! host thread's stack at the simulator's sizes.

use oxicard_store::{Nvm, NvmErrorKind};

/// A RAM-backed NVM of a size chosen at run time, erased to zero.
pub struct HeapNvm {
    data: Box<[u8]>,
}

impl HeapNvm {
    /// A zero-filled NVM of `size` bytes.
    pub fn new(size: usize) -> HeapNvm {
        HeapNvm {
            data: vec![0; size].into_boxed_slice(),
        }
    }
}

fn range(addr: usize, len: usize) -> Result<core::ops::Range<usize>, NvmErrorKind> {
    let end = addr.checked_add(len).ok_or(NvmErrorKind::OutOfBounds)?;
    Ok(addr..end)
}

impl Nvm for HeapNvm {
    type Error = NvmErrorKind;

    fn size(&self) -> usize {
        self.data.len()
    }

    #[inline]
    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), NvmErrorKind> {
        let src = self
            .data
            .get(range(addr, buf.len())?)
            .ok_or(NvmErrorKind::OutOfBounds)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    #[inline]
    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), NvmErrorKind> {
        let dst = self
            .data
            .get_mut(range(addr, data.len())?)
            .ok_or(NvmErrorKind::OutOfBounds)?;
        dst.copy_from_slice(data);
        Ok(())
    }

    #[inline]
    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_writes_and_refuses_out_of_bounds() {
        let mut nvm = HeapNvm::new(16);
        nvm.write(14, &[1, 2]).expect("in bounds");
        let mut buf = [0u8; 2];
        nvm.read(14, &mut buf).expect("in bounds");
        assert_eq!(buf, [1, 2]);
        assert_eq!(nvm.write(15, &[1, 2]), Err(NvmErrorKind::OutOfBounds));
        assert_eq!(
            nvm.read(usize::MAX, &mut buf),
            Err(NvmErrorKind::OutOfBounds)
        );
    }
}
