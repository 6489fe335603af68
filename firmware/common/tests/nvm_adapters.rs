//! The NVM adapters against doubles of their devices: a 24xx EEPROM on embedded-hal-mock's I2C
//! (the exact bus transactions a 24xx datasheet prescribes: two address bytes, page-bounded
//! writes, acknowledge polling) and a NOR flash model that enforces erase-before-write, both
//! with a write interrupted part way.
#![allow(clippy::unwrap_used)]

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock, Transaction};
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use oxicard_firmware::nvm::eeprom::{Eeprom24x, EepromError};
use oxicard_firmware::nvm::flash::{FlashNvm, FlashNvmError};
use oxicard_store::{Nvm, NvmError, NvmErrorKind};

const CHIP: u8 = 0x50;

fn nack() -> ErrorKind {
    ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
}

#[test]
fn eeprom_reads_with_two_address_bytes() {
    let expected = [Transaction::write_read(
        CHIP,
        vec![0x12, 0x34],
        vec![1, 2, 3],
    )];
    let eeprom = Eeprom24x::new(Mock::new(&expected), CHIP, 0x8000, 64).unwrap();
    let mut buf = [0; 3];
    eeprom.read(0x1234, &mut buf).unwrap();
    assert_eq!(buf, [1, 2, 3]);
    assert_eq!(eeprom.unit_size(), 64);
    eeprom.into_inner().done();
}

#[test]
fn eeprom_writes_split_at_page_boundaries_and_poll_for_the_write_cycle() {
    // 24C256: 32 KiB, 64-byte pages. 70 bytes at 0x003C: 4 bytes to the page end, 64, 2.
    let data: Vec<u8> = (0..70).collect();
    let expected = [
        Transaction::write(CHIP, [vec![0x00, 0x3C], data[..4].to_vec()].concat()),
        // busy twice, then acknowledged
        Transaction::write(CHIP, vec![]).with_error(nack()),
        Transaction::write(CHIP, vec![]).with_error(nack()),
        Transaction::write(CHIP, vec![]),
        Transaction::write(CHIP, [vec![0x00, 0x40], data[4..68].to_vec()].concat()),
        Transaction::write(CHIP, vec![]),
        Transaction::write(CHIP, [vec![0x00, 0x80], data[68..].to_vec()].concat()),
        Transaction::write(CHIP, vec![]).with_error(nack()),
        Transaction::write(CHIP, vec![]),
    ];
    let mut eeprom = Eeprom24x::new(Mock::new(&expected), CHIP, 0x8000, 64).unwrap();
    eeprom.write(0x3C, &data).unwrap();
    eeprom.into_inner().done();
}

#[test]
fn an_eeprom_write_interrupted_mid_page_stops_there() {
    // The second page write fails on the bus (the power went): the first page is written,
    // nothing after the failing page is attempted, and the error names the page.
    let data = [0xAB; 100];
    let expected = [
        Transaction::write(CHIP, [vec![0x01, 0x00], vec![0xAB; 64]].concat()),
        Transaction::write(CHIP, vec![]),
        Transaction::write(CHIP, [vec![0x01, 0x40], vec![0xAB; 36]].concat())
            .with_error(ErrorKind::ArbitrationLoss),
    ];
    let mut eeprom = Eeprom24x::new(Mock::new(&expected), CHIP, 0x8000, 64).unwrap();
    let e = eeprom.write(0x100, &data).unwrap_err();
    assert!(matches!(e, EepromError::I2c { addr: 0x140, .. }), "{e:?}");
    assert_eq!(e.kind(), NvmErrorKind::WriteFailed);
    eeprom.into_inner().done();
}

#[test]
fn an_eeprom_that_never_finishes_its_write_cycle_is_reported() {
    let mut expected = vec![Transaction::write(CHIP, vec![0x00, 0x00, 7])];
    expected.extend((0..5).map(|_| Transaction::write(CHIP, vec![]).with_error(nack())));
    let mut eeprom = Eeprom24x::new(Mock::new(&expected), CHIP, 0x8000, 64)
        .unwrap()
        .with_poll_limit(5);
    let e = eeprom.write(0, &[7]).unwrap_err();
    assert!(matches!(e, EepromError::WriteCycleTimeout { addr: 0 }));
    assert!(eeprom.write(0x7FFF, &[1, 2]).is_err(), "past the end");
    eeprom.into_inner().done();
}

/// A NOR flash model: writes can only clear bits (a write that would set one fails, as a
/// verify after programming would), erases set whole sectors to FF, and the power can be cut
/// after a number of operations, leaving the interrupted operation half done.
struct NorModel {
    bytes: Vec<u8>,
    ops_left: Option<usize>,
    erases: usize,
}

#[derive(Debug, PartialEq)]
struct ModelError(NorFlashErrorKind);

impl NorFlashError for ModelError {
    fn kind(&self) -> NorFlashErrorKind {
        self.0
    }
}

impl ErrorType for NorModel {
    type Error = ModelError;
}

impl NorModel {
    fn power(&mut self) -> Result<bool, ModelError> {
        match &mut self.ops_left {
            Some(0) => Err(ModelError(NorFlashErrorKind::Other)),
            Some(n) => {
                *n -= 1;
                Ok(*n == 0)
            }
            None => Ok(false),
        }
    }
}

impl ReadNorFlash for NorModel {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), ModelError> {
        let o = offset as usize;
        bytes.copy_from_slice(&self.bytes[o..o + bytes.len()]);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl NorFlash for NorModel {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 256;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), ModelError> {
        assert_eq!(from % 256, 0);
        assert_eq!(to % 256, 0);
        let last = self.power()?;
        self.erases += 1;
        let (from, to) = (from as usize, to as usize);
        // the operation that loses the power erases only half the range
        let end = if last { from + (to - from) / 2 } else { to };
        self.bytes[from..end].fill(0xFF);
        if last {
            return Err(ModelError(NorFlashErrorKind::Other));
        }
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), ModelError> {
        assert_eq!(offset % 4, 0, "unaligned write");
        assert_eq!(bytes.len() % 4, 0, "unaligned length");
        let last = self.power()?;
        let o = offset as usize;
        let n = if last { bytes.len() / 2 } else { bytes.len() };
        for (dst, &b) in self.bytes[o..o + n].iter_mut().zip(bytes) {
            if *dst & b != b {
                return Err(ModelError(NorFlashErrorKind::Other));
            }
            *dst = b;
        }
        if last {
            return Err(ModelError(NorFlashErrorKind::Other));
        }
        Ok(())
    }
}

fn model(ops_left: Option<usize>) -> NorModel {
    NorModel {
        bytes: vec![0xFF; 4096],
        ops_left,
        erases: 0,
    }
}

#[test]
fn flash_writes_erase_only_when_a_bit_must_be_set() {
    let mut nvm = FlashNvm::<_, 256>::new(model(None), 1024, 2048).unwrap();
    assert_eq!(nvm.unit_size(), 256);
    // clearing bits on erased flash: programmed in place, no erase; unaligned start and end
    nvm.write(253, &[1, 2, 3, 4, 5, 6]).unwrap();
    let mut buf = [0; 8];
    nvm.read(252, &mut buf).unwrap();
    assert_eq!(buf, [0xFF, 1, 2, 3, 4, 5, 6, 0xFF]);
    // setting bits (1 -> 0xFE) needs an erase of the sector at 256 only
    nvm.write(256, &[0xFE]).unwrap();
    nvm.read(252, &mut buf).unwrap();
    assert_eq!(buf, [0xFF, 1, 2, 3, 0xFE, 5, 6, 0xFF]);
    let flash = nvm.into_inner();
    assert_eq!(flash.erases, 1);
    // the region starts at flash offset 1024
    assert_eq!(flash.bytes[1024 + 253..1024 + 256], [1, 2, 3]);
    assert!(flash.bytes[..1024].iter().all(|&b| b == 0xFF));
}

#[test]
fn a_flash_write_interrupted_mid_sector_damages_that_sector_only() {
    // Cut the power at each operation of a write spanning three sectors over old data; every
    // sector before the interrupted one holds the new bytes, every sector after it the old
    // ones: only the unit (sector) being written is undefined, as oxicard-store requires.
    let old = vec![0x00u8; 768];
    let new: Vec<u8> = (0..768).map(|i| (i * 7) as u8).collect();
    for cut in 1..=6 {
        let mut nvm = FlashNvm::<_, 256>::new(model(None), 0, 1024).unwrap();
        nvm.write(0, &old).unwrap();
        let mut flash = nvm.into_inner();
        flash.ops_left = Some(cut);
        let mut nvm = FlashNvm::<_, 256>::new(flash, 0, 1024).unwrap();
        let e = nvm.write(0, &new).unwrap_err();
        assert!(matches!(e, FlashNvmError::Flash(_)));
        assert_eq!(e.kind(), NvmErrorKind::WriteFailed);
        // each sector costs an erase and a write: operation `cut` hits sector (cut - 1) / 2
        let torn = (cut - 1) / 2;
        let flash = nvm.into_inner();
        for sector in 0..3 {
            let bytes = &flash.bytes[sector * 256..sector * 256 + 256];
            if sector < torn {
                assert_eq!(bytes, &new[sector * 256..sector * 256 + 256], "cut {cut}");
            } else if sector > torn {
                assert_eq!(bytes, &old[sector * 256..sector * 256 + 256], "cut {cut}");
            }
        }
        assert!(flash.bytes[768..].iter().all(|&b| b == 0xFF));
    }
}

#[test]
fn adapters_refuse_ranges_outside_their_region() {
    let mut nvm = FlashNvm::<_, 256>::new(model(None), 0, 1024).unwrap();
    assert!(nvm.write(1020, &[0; 8]).is_err());
    assert!(nvm.read(usize::MAX, &mut [0; 2]).is_err());
    assert!(FlashNvm::<_, 256>::new(model(None), 100, 1024).is_none());
    assert!(FlashNvm::<_, 256>::new(model(None), 4096, 256).is_none());
}
