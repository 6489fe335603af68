//! The card's NVM sectors of the STM32F411's internal flash as an embedded-storage
//! [`NorFlash`], for [`oxicard_firmware::nvm::flash::FlashNvm`].
//!
//! The HAL's own `NorFlash` (`stm32f4xx_hal::flash::UnlockedFlash`) covers the whole flash
//! with one erase size, the largest sector (128 KiB), so a `FlashNvm` over it would need a
//! 128 KiB sector buffer, as much as the chip's RAM. This adapter is a window on the three
//! 16 KiB sectors 1 to 3 (memory.x keeps the program out of them): offsets 0 to 48 KiB, an
//! erase size of 16 KiB. It still uses the HAL for unlocking, sector erase and programming;
//! reads come straight from the memory-mapped flash. `FlashNvm` keeps the last of the three
//! sectors as the spare through which it rewrites a sector atomically, so the card has two
//! sectors of data (16,368 bytes each: 16 bytes of every sector are the spare's trailer).
//!
//! Writes program bytes (`WRITE_SIZE` 1, the HAL's 8-bit programming), so a reset during a
//! program can damage only the byte being programmed: the card's NVM unit is one byte. The
//! STM32F4 flash may program a byte again (the result is the AND: bits only go from 1 to 0),
//! as the HAL's own `UnlockedFlash` declares: so this window is a [`MultiwriteNorFlash`] too,
//! and a write that only clears bits is programmed in place, without a sector rewrite.

use embedded_storage::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use stm32f4xx_hal::flash::{Error as HalFlashError, FlashExt};
use stm32f4xx_hal::pac::FLASH;

/// Erase size of the NVM sectors (flash sectors 1 to 3 are 16 KiB each).
pub const SECTOR_SIZE: usize = 16 * 1024;
/// Number of the first NVM sector.
const FIRST_SECTOR: u8 = 1;
/// Offset of the NVM in the flash (sector 1 starts at 0x0800_4000); memory.x agrees.
pub const NVM_OFFSET: usize = 16 * 1024;
/// Size of the NVM region: sectors 1, 2 and 3 (`FlashNvm` makes sector 3 its spare).
pub const NVM_SIZE: usize = 3 * SECTOR_SIZE;

/// What went wrong in a flash operation on the NVM sectors.
#[derive(Clone, Copy, Debug)]
pub enum NvmSectorsError {
    /// The range is not inside the NVM sectors.
    OutOfBounds,
    /// An erase range does not start and end on sector boundaries.
    NotAligned,
    /// The flash controller reported an error.
    Flash(HalFlashError),
}

impl NorFlashError for NvmSectorsError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            NvmSectorsError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            NvmSectorsError::NotAligned => NorFlashErrorKind::NotAligned,
            NvmSectorsError::Flash(e) => e.kind(),
        }
    }
}

/// Flash sectors 1 to 3 (48 KiB) as a NOR flash of 16 KiB erase units, offsets from the
/// start of sector 1. Erases and writes unlock the flash controller for their duration only.
pub struct NvmSectors {
    flash: FLASH,
}

impl NvmSectors {
    /// The NVM sectors of the flash controller `flash`.
    pub fn new(flash: FLASH) -> Self {
        NvmSectors { flash }
    }

    /// The flash offset of the `len` bytes at NVM offset `offset`, when they lie inside the
    /// NVM sectors.
    fn flash_offset(offset: u32, len: usize) -> Result<usize, NvmSectorsError> {
        let offset = offset as usize;
        match offset.checked_add(len) {
            Some(end) if end <= NVM_SIZE => Ok(NVM_OFFSET + offset),
            _ => Err(NvmSectorsError::OutOfBounds),
        }
    }

    /// Empties the flash data cache (ART accelerator), which can still hold what the erased
    /// or programmed bytes read before (RM0383, 3.4.2; ST's own HAL flushes after an erase).
    fn flush_data_cache(&mut self) {
        let enabled = self.flash.acr().read().dcen().bit_is_set();
        self.flash.acr().modify(|_, w| w.dcen().clear_bit());
        self.flash.acr().modify(|_, w| w.dcrst().set_bit());
        self.flash.acr().modify(|_, w| w.dcrst().clear_bit());
        if enabled {
            self.flash.acr().modify(|_, w| w.dcen().set_bit());
        }
    }
}

impl ErrorType for NvmSectors {
    type Error = NvmSectorsError;
}

impl ReadNorFlash for NvmSectors {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let start = Self::flash_offset(offset, bytes.len())?;
        let src = FlashExt::read(&self.flash)
            .get(start..start + bytes.len())
            .ok_or(NvmSectorsError::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        NVM_SIZE
    }
}

impl NorFlash for NvmSectors {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = SECTOR_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let (from, to) = (from as usize, to as usize);
        if from > to || to > NVM_SIZE {
            return Err(NvmSectorsError::OutOfBounds);
        }
        if !from.is_multiple_of(SECTOR_SIZE) || !to.is_multiple_of(SECTOR_SIZE) {
            return Err(NvmSectorsError::NotAligned);
        }
        let result = {
            let mut unlocked = self.flash.unlocked();
            (from / SECTOR_SIZE..to / SECTOR_SIZE).try_for_each(|index| {
                // index < 3: the NVM has three sectors
                unlocked.erase(FIRST_SECTOR + index as u8)
            })
        };
        self.flush_data_cache();
        result.map_err(NvmSectorsError::Flash)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let start = Self::flash_offset(offset, bytes.len())?;
        let result = self.flash.unlocked().program(start, bytes.iter());
        self.flush_data_cache();
        result.map_err(NvmSectorsError::Flash)
    }
}

/// Programming a byte again ANDs it with what it holds: the HAL declares its own
/// `UnlockedFlash` a `MultiwriteNorFlash` ("STM32F4 supports multiple writes"), and this
/// window programs through the same HAL routine.
impl MultiwriteNorFlash for NvmSectors {}
