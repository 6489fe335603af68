//! How deep the stack goes, measured by painting: the free part of the stack region (from
//! the end of the static RAM, cortex-m-rt's `_stack_end`, up to just below the current
//! stack pointer) is filled with a pattern, and the deepest word no longer holding it marks
//! how far the stack reached since. [`deepest`] gives that depth and paints again, so that
//! each report covers the time since the previous one (the board reports it at boot and
//! with every command: see `timing`).
//!
//! The RAM budget of issue 8 counts the static RAM plus this depth (scripts/firmware.sh and
//! scripts/firmware-pcsc.sh add them up).

use core::ptr::{read_volatile, write_volatile};

/// The paint: a word the stack is unlikely to hold by chance.
const PAINT: u32 = 0xA5C3_5A3C;

/// Bytes kept unpainted just below the stack pointer of the painting function (its own
/// locals, if the compiler gives it any).
const MARGIN: usize = 64;

extern "C" {
    /// The lowest address of the stack region (cortex-m-rt's link.x: the end of .uninit).
    static _stack_end: u32;
    /// The initial stack pointer, the top of RAM (cortex-m-rt's link.x).
    static _stack_start: u32;
}

/// The lowest and the top address of the stack region.
fn region() -> (usize, usize) {
    (
        &raw const _stack_end as usize,
        &raw const _stack_start as usize,
    )
}

/// Paints the stack region from its end up to [`MARGIN`] bytes below the stack pointer.
#[inline(never)]
pub fn paint() {
    let (end, _) = region();
    let sp = cortex_m::register::msp::read() as usize;
    let mut addr = end;
    while addr + MARGIN < sp {
        // SAFETY: addr is word-aligned (link.x aligns _stack_end to 4) and lies between the
        // end of the static RAM and the stack pointer's margin: stack space no frame uses.
        unsafe { write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
}

/// The deepest the stack went since the last [`paint`] (bytes below its top), then paints
/// again. A depth equal to the whole region means that the stack ran into the static RAM.
pub fn deepest() -> usize {
    let (end, start) = region();
    let mut addr = end;
    // SAFETY: reads of word-aligned addresses inside the stack region.
    while addr < start && unsafe { read_volatile(addr as *const u32) } == PAINT {
        addr += 4;
    }
    paint();
    start - addr
}
