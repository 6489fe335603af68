//! oxicard card firmware for ST's NUCLEO-F411RE board (STM32F411RE, Cortex-M4 at 100 MHz).
//!
//! USART2 (PA2 TX, PA3 RX; on the Nucleo wired to the ST-LINK's virtual COM port) is the
//! card's I/O line at 115200 baud, 8N1: the firmware sends oxicard's ATR at reset, then speaks
//! T=1 (oxicard-firmware) and feeds the command APDUs to the card runtime. A host resets the
//! card with a T=1 line reset block, as there is no RST line. The NVM is the internal flash
//! sectors 1 and 2 with sector 3 as the spare that makes sector rewrites atomic (32 KiB less
//! 32 trailer bytes, [`flash`]), or with the `eeprom` feature a 24LC256 on I2C1.
//! README.md has the wiring, and how to build, flash and attach `oxicard bridge`.
#![no_std]
#![no_main]

#[cfg(not(feature = "eeprom"))]
mod flash;

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use cortex_m::peripheral::DWT;
use cortex_m_rt::entry;
use embedded_hal_nb::serial::{Read, Write};
use oxicard_firmware::t1::block::{LinkError, Wait};
use oxicard_firmware::{serve, ApduHandler, CardLink, T1Card, ATR};
use oxicard_jcre::Card;
use oxicard_store::Nvm;
use panic_halt as _;
use stm32f4xx_hal::pac::{self, USART2};
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::Config;
use stm32f4xx_hal::serial::{Error as SerialError, Serial};

/// The card line's speed (the bridge must use the same; 8 data bits, no parity, 1 stop bit).
const BAUD: u32 = 115_200;
/// The core clock, from the internal 16 MHz oscillator through the PLL (the chip's maximum),
/// so that the board needs no crystal and no ST-LINK clock output.
const SYSCLK_HZ: u32 = 100_000_000;
/// The character waiting time of the ATR (CWI 13, the default): 11 + 2^13 etu, one etu being
/// one bit time on this line.
const CWT_ETU: u32 = 11 + (1 << 13);
/// What a byte received with a framing, noise, parity or overrun error is replaced with: the
/// T=1 checks (LRC, length, trailing bytes) then refuse the block and the reader repeats it.
const GARBLED_BYTE: u8 = 0x00;

/// USART2 as the card's line, with the character waiting time measured by the cycle counter.
struct UsartLink {
    serial: Serial<USART2, u8>,
    /// Core clock cycles of a character waiting time.
    character_cycles: u32,
}

impl CardLink for UsartLink {
    type Error = SerialError;

    fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<SerialError>> {
        let start = DWT::cycle_count();
        loop {
            match self.serial.read() {
                Ok(byte) => return Ok(byte),
                // a corrupted byte is a transmission error for T=1 to recover from, not the
                // end of the line
                Err(nb::Error::Other(_)) => return Ok(GARBLED_BYTE),
                Err(nb::Error::WouldBlock) => {
                    let waited = DWT::cycle_count().wrapping_sub(start);
                    if wait == Wait::Character && waited >= self.character_cycles {
                        return Err(LinkError::Timeout);
                    }
                }
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), SerialError> {
        for &byte in bytes {
            nb::block!(self.serial.write(byte))?;
        }
        nb::block!(self.serial.flush())
    }
}

/// The handler when the card runtime cannot start on the NVM: every command is answered
/// 6F00 so that the host sees the fault.
struct NoCard;

impl ApduHandler for NoCard {
    fn reset(&mut self) {}

    fn process(&mut self, _command: &[u8], response: &mut [u8]) -> usize {
        match response.get_mut(..2) {
            Some(sw) => {
                sw.copy_from_slice(&[0x6F, 0x00]);
                2
            }
            None => 0,
        }
    }
}

/// Serves `card` on `link` forever; a failing line restarts with the ATR.
fn run<H: ApduHandler>(link: UsartLink, card: &mut H) -> ! {
    let mut t1 = T1Card::new(link, true);
    loop {
        let _ = serve(&mut t1, card, &ATR);
    }
}

/// The card's NVM: internal flash sectors 1 and 2, sector 3 the spare of atomic rewrites.
#[cfg(not(feature = "eeprom"))]
type BoardNvm = oxicard_firmware::nvm::flash::FlashNvm<flash::NvmSectors, { flash::SECTOR_SIZE }>;

/// The card's NVM: a 24LC256 (32 KiB, 64-byte pages, address 0x50) on I2C1.
#[cfg(feature = "eeprom")]
type BoardNvm = oxicard_firmware::nvm::eeprom::Eeprom24x<stm32f4xx_hal::i2c::I2c<pac::I2C1>>;

/// The NVM sectors of the internal flash as the card's NVM (the last one the spare); builds
/// the adapter, which finishes a sector rewrite a reset interrupted.
#[cfg(not(feature = "eeprom"))]
fn card_nvm(flash: pac::FLASH) -> Option<BoardNvm> {
    BoardNvm::new_multiwrite(flash::NvmSectors::new(flash), 0, flash::NVM_SIZE)
}

/// The 24LC256 on I2C1 (PB8 SCL, PB9 SDA) at 400 kHz as the card's NVM.
#[cfg(feature = "eeprom")]
fn card_nvm(
    i2c1: pac::I2C1,
    gpiob: pac::GPIOB,
    rcc: &mut stm32f4xx_hal::rcc::Rcc,
) -> Option<BoardNvm> {
    use stm32f4xx_hal::i2c::{DutyCycle, I2cExt, Mode};
    let gpiob = gpiob.split(rcc);
    let i2c = i2c1.i2c(
        (gpiob.pb8, gpiob.pb9),
        Mode::fast(400.kHz(), DutyCycle::Ratio2to1),
        rcc,
    );
    BoardNvm::new(i2c, 0x50, 32 * 1024, 64)
}

/// The board's NVM in a static, lent to the card runtime: the card holds a reference, so
/// building and moving it does not copy the NVM driver (the flash one carries a 16 KiB sector
/// buffer) again and again on the stack.
struct StaticNvm(&'static mut BoardNvm);

impl Nvm for StaticNvm {
    type Error = <BoardNvm as Nvm>::Error;

    fn size(&self) -> usize {
        self.0.size()
    }

    fn unit_size(&self) -> usize {
        self.0.unit_size()
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(addr, buf)
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), Self::Error> {
        self.0.write(addr, data)
    }

    fn as_slice(&self) -> Option<&[u8]> {
        self.0.as_slice()
    }
}

/// The card runtime, built and booted in place by [`Card::new_in`] (never moved: a card is
/// about 11 KB). In `.uninit`: [`Card::new_in`] writes all of it.
#[link_section = ".uninit.oxicard_card"]
static mut CARD: MaybeUninit<Card<StaticNvm>> = MaybeUninit::uninit();

/// Starts the card runtime on the NVM that `nvm` makes; both are kept in statics (counted in
/// .bss), so that neither is copied on the stack. `None` when the NVM or the card cannot start.
#[inline(never)]
fn start_card(nvm: impl FnOnce() -> Option<BoardNvm>) -> Option<&'static mut Card<StaticNvm>> {
    let nvm = nvm()?;
    let nvm = cortex_m::singleton!(CARD_NVM: BoardNvm = nvm)?;
    // SAFETY: the singleton above gave its value, so this is the first and only call: no
    // other reference to CARD exists.
    let slot = unsafe { &mut *addr_of_mut!(CARD) };
    Card::new_in(slot, StaticNvm(nvm), Default::default()).ok()
}

#[entry]
fn main() -> ! {
    let (Some(dp), Some(mut cp)) = (pac::Peripherals::take(), cortex_m::Peripherals::take()) else {
        // taken twice: cannot happen at reset
        loop {
            cortex_m::asm::wfi();
        }
    };
    let mut rcc = dp.RCC.freeze(Config::hsi().sysclk(SYSCLK_HZ.Hz()));
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();

    let gpioa = dp.GPIOA.split(&mut rcc);
    let serial = dp
        .USART2
        .serial((gpioa.pa2, gpioa.pa3), BAUD.bps(), &mut rcc);
    let Ok(serial) = serial else {
        // the clock tree cannot make this baud rate: nothing to talk on
        loop {
            cortex_m::asm::wfi();
        }
    };
    // the cycle counter counts core clock (HCLK) cycles
    let cycles = u64::from(rcc.clocks.hclk().raw()) * u64::from(CWT_ETU) / u64::from(BAUD);
    let character_cycles = u32::try_from(cycles).unwrap_or(u32::MAX);
    let link = UsartLink {
        serial,
        character_cycles,
    };

    #[cfg(not(feature = "eeprom"))]
    let card = start_card(|| card_nvm(dp.FLASH));
    #[cfg(feature = "eeprom")]
    let card = start_card(|| card_nvm(dp.I2C1, dp.GPIOB, &mut rcc));
    match card {
        Some(card) => run(link, card),
        None => run(link, &mut NoCard),
    }
}
