//! NVM adapters: the card runtime's [`oxicard_store::Nvm`] on the memories a microcontroller
//! board has, through the embedded ecosystem's traits: internal NOR flash
//! ([`embedded_storage::nor_flash::NorFlash`]) and a 24xx I2C EEPROM
//! ([`embedded_hal::i2c::I2c`]).

pub mod eeprom;
pub mod flash;
