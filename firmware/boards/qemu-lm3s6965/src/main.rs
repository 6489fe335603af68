//! oxicard card firmware for QEMU's `lm3s6965evb` board (TI Stellaris LM3S6965, Cortex-M3).
//!
//! UART0 is the card's I/O line: the firmware sends oxicard's ATR at reset, then speaks
//! T=1 (oxicard-firmware) and feeds the command APDUs to the card runtime. The NVM is a host
//! file reached through ARM semihosting (`oxicard-card.nvm` in QEMU's working directory,
//! 32 KiB) with a RAM copy loaded once the runtime is built, and every write goes through to
//! the file, so that a card image survives a QEMU restart. On real silicon the same loop runs
//! on flash (`oxicard_firmware::nvm::flash`) instead.
//!
//! Every command is timed in SysTick ticks of the core clock ([`ticks`]) and reported on the
//! semihosting stderr (`oxicard-qemu: apdu CLAINSP1P2 ticks N`), after a boot line that
//! calibrates ticks against a loop of a known number of instructions. Under QEMU's
//! `-icount shift=0` (one virtual nanosecond per instruction) both are deterministic, so
//! ticks convert exactly into instructions executed (scripts/firmware-pcsc.sh does).
#![no_std]
#![no_main]

mod stack;
mod timing;
mod vectors;

use core::mem::MaybeUninit;
use core::ptr::{addr_of_mut, read_volatile, write_volatile};

use cortex_m_rt::entry;
use cortex_m_semihosting::{nr, syscall};
use oxicard_firmware::t1::block::{LinkError, Wait};
use oxicard_firmware::{serve, CardLink, T1Card, ATR};
use oxicard_jcre::Card;
use oxicard_store::{Nvm, NvmErrorKind};
use panic_halt as _;

/// Bytes of NVM (the card image, kept in RAM): 32 KiB, or `OXICARD_QEMU_NVM_KIB` KiB when
/// that is set at build time (a measurement build for packages that do not fit, such as the
/// golden bytecodes applet; the RAM left for the stack shrinks by as much).
const NVM_SIZE: usize = match option_env!("OXICARD_QEMU_NVM_KIB") {
    Some(kib) => parse_decimal(kib) * 1024,
    None => 32 * 1024,
};

/// A decimal number at compile time (a build with a malformed value fails).
const fn parse_decimal(text: &str) -> usize {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "OXICARD_QEMU_NVM_KIB is empty");
    let mut value = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        assert!(
            bytes[i].is_ascii_digit(),
            "OXICARD_QEMU_NVM_KIB is not a number"
        );
        value = value * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    value
}

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

/// The card image in RAM (it stands in for a real board's flash). It sits in `.uninit` and is
/// loaded from the host file once the card runtime has booted ([`SemihostedNvm::load`]):
/// until then reads go to the file.
#[link_section = ".uninit.oxicard_nvm"]
static mut IMAGE: MaybeUninit<[u8; NVM_SIZE]> = MaybeUninit::uninit();

/// The card's NVM: a host file through semihosting, with a RAM copy of it ([`IMAGE`]) once
/// loaded; every write goes to both.
struct SemihostedNvm {
    /// The host file's handle, when it could be opened.
    file: Option<usize>,
    /// Whether [`IMAGE`] holds the image (reads then come from RAM).
    loaded: bool,
}

/// The host file of the card image (NUL-terminated for semihosting).
const NVM_PATH: &str = "oxicard-card.nvm\0";

/// Erased NVM bytes.
const ERASED: [u8; 256] = [0xFF; 256];

impl SemihostedNvm {
    /// Opens the host file ("r+b" keeps an existing image; "w+b" creates an erased one).
    fn open() -> Self {
        let path = NVM_PATH.as_bytes();
        let name_len = path.len() - 1;
        // SAFETY: semihosting calls with a NUL-terminated path.
        let mut fd = unsafe { syscall!(OPEN, path.as_ptr(), nr::open::RW_BINARY, name_len) };
        let mut fresh = false;
        if fd != usize::MAX && unsafe { syscall!(FLEN, fd) } != NVM_SIZE {
            // SAFETY: closing the handle just opened.
            let _ = unsafe { syscall!(CLOSE, fd) };
            fd = usize::MAX;
        }
        if fd == usize::MAX {
            fd = unsafe { syscall!(OPEN, path.as_ptr(), nr::open::RW_TRUNC_BINARY, name_len) };
            fresh = true;
        }
        let mut nvm = SemihostedNvm {
            file: (fd != usize::MAX).then_some(fd),
            loaded: false,
        };
        if fresh {
            for addr in (0..NVM_SIZE).step_by(ERASED.len()) {
                nvm.file_write(addr, &ERASED);
            }
        }
        nvm
    }

    /// Copies the host file into [`IMAGE`]; from now on reads come from RAM. Without a host
    /// file the card gets an erased image (in RAM only).
    fn load(&mut self) {
        // SAFETY: nothing else references IMAGE (the card reads it through as_slice only once
        // `loaded` is set, after this).
        let image = unsafe { &mut *addr_of_mut!(IMAGE) };
        let image = image.write([0xFF; NVM_SIZE]);
        if let Some(fd) = self.file {
            // SAFETY: semihosting calls on an open handle with an in-bounds buffer; READ
            // returns the number of bytes not read.
            unsafe {
                let _ = syscall!(SEEK, fd, 0);
                let _ = syscall!(READ, fd, image.as_mut_ptr(), NVM_SIZE);
            }
        }
        self.loaded = true;
    }

    /// The image in RAM, once loaded.
    fn image(&self) -> Option<&[u8; NVM_SIZE]> {
        // SAFETY: IMAGE is initialised once `loaded` is set; it is only written through
        // `&mut self` methods, so no mutable reference is alive while this one is.
        self.loaded
            .then(|| unsafe { (*core::ptr::addr_of!(IMAGE)).assume_init_ref() })
    }

    /// Writes `bytes` at `addr` of the host file; true on success (or without a file).
    fn file_write(&mut self, addr: usize, bytes: &[u8]) -> bool {
        let Some(fd) = self.file else {
            return true;
        };
        // SAFETY: semihosting calls on an open handle with an in-bounds buffer.
        unsafe {
            syscall!(SEEK, fd, addr) == 0 && syscall!(WRITE, fd, bytes.as_ptr(), bytes.len()) == 0
        }
    }
}

impl Nvm for SemihostedNvm {
    type Error = NvmErrorKind;

    fn size(&self) -> usize {
        NVM_SIZE
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), NvmErrorKind> {
        let end = addr
            .checked_add(buf.len())
            .filter(|&end| end <= NVM_SIZE)
            .ok_or(NvmErrorKind::OutOfBounds)?;
        if let Some(image) = self.image() {
            buf.copy_from_slice(image.get(addr..end).ok_or(NvmErrorKind::OutOfBounds)?);
            return Ok(());
        }
        match self.file {
            // SAFETY: semihosting calls on an open handle with an in-bounds buffer.
            Some(fd) => unsafe {
                if syscall!(SEEK, fd, addr) == 0
                    && syscall!(READ, fd, buf.as_mut_ptr(), buf.len()) == 0
                {
                    Ok(())
                } else {
                    Err(NvmErrorKind::Other)
                }
            },
            None => {
                buf.fill(0xFF);
                Ok(())
            }
        }
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), NvmErrorKind> {
        let end = addr
            .checked_add(data.len())
            .filter(|&end| end <= NVM_SIZE)
            .ok_or(NvmErrorKind::OutOfBounds)?;
        if self.loaded {
            // SAFETY: as in `image`, and `&mut self` excludes every other reference.
            let image = unsafe { (*addr_of_mut!(IMAGE)).assume_init_mut() };
            image
                .get_mut(addr..end)
                .ok_or(NvmErrorKind::OutOfBounds)?
                .copy_from_slice(data);
        }
        if self.file_write(addr, data) {
            Ok(())
        } else {
            Err(NvmErrorKind::WriteFailed)
        }
    }

    fn as_slice(&self) -> Option<&[u8]> {
        self.image().map(|image| &image[..])
    }
}

/// The card (VM, runtime and RAM areas: about 11 KB), built and booted in place by
/// [`Card::new_in`] and never moved. It is static RAM like [`IMAGE`], in `.uninit` (not
/// zeroed at reset: [`Card::new_in`] writes all of it).
#[link_section = ".uninit.oxicard_card"]
static mut CARD: MaybeUninit<Card<SemihostedNvm>> = MaybeUninit::uninit();

#[entry]
fn main() -> ! {
    stack::paint();
    let mut report = timing::Report::start();
    let nvm = SemihostedNvm::open();
    let mut t1 = T1Card::new(
        Uart0 {
            character_polls: 2_000_000,
        },
        false,
    );
    // SAFETY: main runs once and never returns; this is the only reference to CARD.
    let slot = unsafe { &mut *addr_of_mut!(CARD) };
    match Card::new_in(slot, nvm, Default::default()) {
        Ok(card) => {
            card.nvm_mut().load();
            report.boot_stack();
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
