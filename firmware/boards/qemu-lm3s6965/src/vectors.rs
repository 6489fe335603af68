//! The device-specific part of the vector table. Without cortex-m-rt's `device` feature
//! the table has room for all 240 interrupts a Cortex-M can have, each bound to the default
//! handler: 960 bytes of flash. The firmware enables no device interrupt (UART0 is polled,
//! SysTick is a core exception), so one entry is enough: IRQ 0 (GPIO port A) on the
//! default handler, as before. cortex-m-rt wants at least one.
// `#[no_mangle]` counts as unsafe code: the linker script places the table by this name.
#![allow(unsafe_code)]

extern "C" {
    /// cortex-m-rt's handler of every exception and interrupt without its own.
    fn DefaultHandler();
}

/// The device interrupts, placed right after the core exceptions by cortex-m-rt's link.x.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler];
