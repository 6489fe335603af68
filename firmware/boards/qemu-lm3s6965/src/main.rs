//! oxicard card firmware for QEMU's `lm3s6965evb` board (TI Stellaris LM3S6965, Cortex-M3).
//!
//! UART0 is the card's I/O line: the firmware sends oxicard's ATR at reset, then speaks
//! T=1 (oxicard-firmware) and feeds the command APDUs to the card runtime. The NVM is a RAM
//! image loaded at boot from a host file through ARM semihosting (`oxicard-card.nvm` in
//! QEMU's working directory) and
//! written through to it, so that a card image survives a QEMU restart. On real silicon the
//! same loop runs on flash (`oxicard_firmware::nvm::flash`) instead.
//!
//! Every command is timed in SysTick ticks of the core clock ([`ticks`]) and reported on the
//! semihosting stderr (`oxicard-qemu: apdu CLA INS P1 P2 ticks N`), after a boot line that
//! calibrates ticks against a loop of a known number of instructions. Under QEMU's
//! `-icount shift=0` (one virtual nanosecond per instruction) both are deterministic, so
//! ticks convert exactly into instructions executed (scripts/firmware-pcsc.sh does).
#![no_std]
#![no_main]

mod timing;

use core::ptr::{read_volatile, write_volatile};

use cortex_m_rt::entry;
use cortex_m_semihosting::{nr, syscall};
use oxicard_firmware::t1::block::{LinkError, Wait};
use oxicard_firmware::{serve, CardLink, T1Card, ATR};
use oxicard_jcre::Card;
use oxicard_store::{Nvm, NvmErrorKind};
use panic_halt as _;

/// Bytes of NVM (the card image) kept in RAM.
const NVM_SIZE: usize = 32 * 1024;

/// UART0 data register.
const UART0_DR: *mut u32 = 0x4000_C000 as *mut u32;
/// UART0 flag register.
const UART0_FR: *const u32 = 0x4000_C018 as *const u32;
/// FR: receive FIFO empty.
const FR_RXFE: u32 = 1 << 4;
/// FR: transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;

/// UART0 as the card's line (QEMU's PL011 model needs no clock or baud setup).
struct Uart0 {
    /// Polls of an empty receive FIFO that make a character waiting time.
    character_polls: u32,
}

impl CardLink for Uart0 {
    type Error = core::convert::Infallible;

    fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<Self::Error>> {
        let mut polls = 0u32;
        loop {
            // SAFETY: UART0's registers exist on this chip; reading FR/DR has no other effect
            // than popping the receive FIFO, which only this loop uses.
            let fr = unsafe { read_volatile(UART0_FR) };
            if fr & FR_RXFE == 0 {
                return Ok(unsafe { read_volatile(UART0_DR) } as u8);
            }
            if wait == Wait::Character {
                polls += 1;
                if polls >= self.character_polls {
                    return Err(LinkError::Timeout);
                }
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        for &b in bytes {
            // SAFETY: as above; writing DR queues one byte for transmission.
            while unsafe { read_volatile(UART0_FR) } & FR_TXFF != 0 {}
            unsafe { write_volatile(UART0_DR, u32::from(b)) };
        }
        Ok(())
    }
}

/// The card image in RAM, written through to a host file by semihosting.
struct SemihostedNvm {
    image: &'static mut [u8; NVM_SIZE],
    /// The host file's handle, when it could be opened.
    file: Option<usize>,
}

/// The host file of the card image (NUL-terminated for semihosting).
const NVM_PATH: &str = "oxicard-card.nvm\0";

impl SemihostedNvm {
    fn open(image: &'static mut [u8; NVM_SIZE]) -> Self {
        image.fill(0xFF);
        let path = NVM_PATH.as_bytes();
        let name_len = path.len() - 1;
        // "r+b" keeps an existing image; "w+b" creates the file when there is none
        // SAFETY: semihosting calls with a NUL-terminated path and in-bounds buffers.
        let mut fd = unsafe { syscall!(OPEN, path.as_ptr(), nr::open::RW_BINARY, name_len) };
        let mut existing = true;
        if fd == usize::MAX {
            fd = unsafe { syscall!(OPEN, path.as_ptr(), nr::open::RW_TRUNC_BINARY, name_len) };
            existing = false;
        }
        if fd == usize::MAX {
            return SemihostedNvm { image, file: None };
        }
        if existing {
            let len = unsafe { syscall!(FLEN, fd) };
            if len == NVM_SIZE {
                // READ returns the number of bytes not read
                let _ = unsafe { syscall!(READ, fd, image.as_mut_ptr(), NVM_SIZE) };
            }
        }
        let mut nvm = SemihostedNvm {
            image,
            file: Some(fd),
        };
        if !existing {
            nvm.flush(0, NVM_SIZE);
        }
        nvm
    }

    fn flush(&mut self, addr: usize, len: usize) -> bool {
        let Some(fd) = self.file else {
            return true;
        };
        let Some(bytes) = self.image.get(addr..addr + len) else {
            return false;
        };
        // SAFETY: semihosting calls on an open handle with an in-bounds buffer.
        unsafe { syscall!(SEEK, fd, addr) == 0 && syscall!(WRITE, fd, bytes.as_ptr(), len) == 0 }
    }
}

impl Nvm for SemihostedNvm {
    type Error = NvmErrorKind;

    fn size(&self) -> usize {
        NVM_SIZE
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), NvmErrorKind> {
        let src = addr
            .checked_add(buf.len())
            .and_then(|end| self.image.get(addr..end))
            .ok_or(NvmErrorKind::OutOfBounds)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), NvmErrorKind> {
        let dst = addr
            .checked_add(data.len())
            .and_then(|end| self.image.get_mut(addr..end))
            .ok_or(NvmErrorKind::OutOfBounds)?;
        dst.copy_from_slice(data);
        if self.flush(addr, data.len()) {
            Ok(())
        } else {
            Err(NvmErrorKind::WriteFailed)
        }
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.image[..])
    }
}

#[entry]
fn main() -> ! {
    static mut IMAGE: [u8; NVM_SIZE] = [0; NVM_SIZE];
    let mut report = timing::Report::start();
    let nvm = SemihostedNvm::open(IMAGE);
    let mut t1 = T1Card::new(
        Uart0 {
            character_polls: 2_000_000,
        },
        false,
    );
    match Card::new(nvm) {
        Ok(card) => {
            let _ = serve(&mut t1, &mut report.timed(card), &ATR);
        }
        Err(_) => {
            // no card: answer every command with 6F00 so the host sees the fault
            struct Mute;
            impl oxicard_firmware::ApduHandler for Mute {
                fn reset(&mut self) {}
                fn process(&mut self, _: &[u8], response: &mut [u8]) -> usize {
                    response[..2].copy_from_slice(&[0x6F, 0x00]);
                    2
                }
            }
            let _ = serve(&mut t1, &mut Mute, &ATR);
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}
