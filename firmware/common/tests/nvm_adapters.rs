//! The 24xx EEPROM adapter against embedded-hal-mock's I2C: the exact bus transactions a 24xx
//! datasheet prescribes (two address bytes, page-bounded writes, acknowledge polling), and a
//! write interrupted part way. The flash adapter has its own tests (flash_nvm.rs).
#![allow(clippy::unwrap_used)]

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock, Transaction};
use oxicard_firmware::nvm::eeprom::{Eeprom24x, EepromError};
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
