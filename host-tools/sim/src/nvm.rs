//! NVM for the desktop card: the card's persistent memory as a heap-allocated byte array
//! ([`HeapNvm`]; a `RamNvm<N>` keeps its array inline, which is right on a microcontroller
//! but too large for a host thread's stack at the simulator's sizes), or as a file
//! ([`FileNvm`]) so the simulated card keeps its state between runs.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

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

/// An NVM kept in a file, with a RAM copy for reads. Every write goes to the file before
/// it returns (`pwrite`, so the kernel has it: killing the process with `kill -9` is a power
/// cut between two writes); with `sync` each write is also flushed to the disk
/// (`fdatasync`), which a host power failure would need. Units are `unit` bytes (what the
/// journal aligns to and write counts are stated in).
pub struct FileNvm {
    file: File,
    data: Box<[u8]>,
    unit: usize,
    sync: bool,
}

impl FileNvm {
    /// Opens (or creates, zero-filled) the image file `path` of `size` bytes. An existing
    /// file of another size is refused.
    pub fn open(path: &Path, size: usize, sync: bool) -> std::io::Result<FileNvm> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            file.set_len(size as u64)?;
            file.sync_all()?;
        } else if len != size as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: NVM image of {len} bytes, expected {size}",
                    path.display()
                ),
            ));
        }
        let mut data = vec![0u8; size].into_boxed_slice();
        file.read_exact_at(&mut data, 0)?;
        Ok(FileNvm {
            file,
            data,
            unit: 4,
            sync,
        })
    }

    /// Uses units of `unit` bytes (default 4).
    pub fn with_unit(mut self, unit: usize) -> FileNvm {
        self.unit = unit.max(1);
        self
    }
}

impl Nvm for FileNvm {
    type Error = NvmErrorKind;

    fn size(&self) -> usize {
        self.data.len()
    }

    fn unit_size(&self) -> usize {
        self.unit
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

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), NvmErrorKind> {
        let dst = self
            .data
            .get_mut(range(addr, data.len())?)
            .ok_or(NvmErrorKind::OutOfBounds)?;
        self.file
            .write_all_at(data, addr as u64)
            .map_err(|_| NvmErrorKind::WriteFailed)?;
        if self.sync {
            self.file
                .sync_data()
                .map_err(|_| NvmErrorKind::WriteFailed)?;
        }
        dst.copy_from_slice(data);
        Ok(())
    }

    #[inline]
    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.data)
    }
}

/// The simulator's NVM: in memory (a fresh card every run) or in an image file (a card that
/// keeps its packages, applets and their data across runs and `kill -9`).
pub enum SimNvm {
    /// Memory only.
    Heap(HeapNvm),
    /// An image file.
    File(FileNvm),
}

impl Nvm for SimNvm {
    type Error = NvmErrorKind;

    fn size(&self) -> usize {
        match self {
            SimNvm::Heap(nvm) => nvm.size(),
            SimNvm::File(nvm) => nvm.size(),
        }
    }

    fn unit_size(&self) -> usize {
        match self {
            SimNvm::Heap(nvm) => nvm.unit_size(),
            SimNvm::File(nvm) => nvm.unit_size(),
        }
    }

    #[inline]
    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), NvmErrorKind> {
        match self {
            SimNvm::Heap(nvm) => nvm.read(addr, buf),
            SimNvm::File(nvm) => nvm.read(addr, buf),
        }
    }

    #[inline]
    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), NvmErrorKind> {
        match self {
            SimNvm::Heap(nvm) => nvm.write(addr, data),
            SimNvm::File(nvm) => nvm.write(addr, data),
        }
    }

    #[inline]
    fn as_slice(&self) -> Option<&[u8]> {
        match self {
            SimNvm::Heap(nvm) => nvm.as_slice(),
            SimNvm::File(nvm) => nvm.as_slice(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_nvm_keeps_writes_across_reopen_and_checks_the_size() {
        let dir = std::env::temp_dir().join(format!("oxicard-filenvm-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        {
            let mut nvm = FileNvm::open(&dir, 64, false).expect("create");
            assert_eq!(nvm.read_u32(0), Ok(0));
            nvm.write(60, &[1, 2, 3, 4]).expect("in bounds");
            assert_eq!(nvm.write(62, &[1, 2, 3]), Err(NvmErrorKind::OutOfBounds));
        }
        let nvm = FileNvm::open(&dir, 64, true).expect("reopen");
        assert_eq!(nvm.read_u32(60), Ok(0x0102_0304));
        assert!(FileNvm::open(&dir, 128, false).is_err());
        let _ = std::fs::remove_file(&dir);
    }

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

    /// A figure, not a check: time per committed transaction (a wallet CREDIT or DEBIT
    /// APDU) on a file NVM, without and with fdatasync per write.
    #[test]
    fn time_per_committed_transaction_on_a_file() {
        use crate::card::CapPackage;
        use oxicard_jcre::Card;
        let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");
        let cap = CapPackage::read(Path::new(&format!("{golden}/wallet/wallet.cap"))).expect("cap");
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
                .collect()
        };
        for sync in [false, true] {
            let path =
                std::env::temp_dir().join(format!("oxicard-tx-{}-{sync}", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let nvm = FileNvm::open(&path, 256 * 1024, sync).expect("file");
            let mut card = Card::new(nvm).expect("card");
            card.load_cap(&cap.load_file).expect("load");
            let aid = hex("F00000010401");
            card.install(&hex("F00000010400"), &aid, &aid, &hex("04313233340064"))
                .expect("install");
            let mut resp = [0u8; 300];
            for c in ["00A4040006F00000010401", "802000000431323334"] {
                let n = card.transmit(&hex(c), &mut resp).expect("transmit");
                assert_eq!(resp[n - 2..n], [0x90, 0x00]);
            }
            let rounds = if sync { 20 } else { 200 };
            let t = std::time::Instant::now();
            for _ in 0..rounds {
                for c in ["80320000020001", "80340000020001"] {
                    let n = card.transmit(&hex(c), &mut resp).expect("transmit");
                    assert_eq!(resp[n - 2..n], [0x90, 0x00]);
                }
            }
            let per = t.elapsed() / (2 * rounds);
            eprintln!("file NVM (fdatasync {sync}): {per:?} per committed transaction");
            drop(card);
            // the image on disk is the card: power it up again
            let card = Card::new(FileNvm::open(&path, 256 * 1024, false).expect("reopen"))
                .expect("power-up");
            card.check_invariants().expect("invariants");
            let _ = std::fs::remove_file(&path);
        }
    }
}
