//! Checks oxicard-firmware's memory routines (firmware/common/src/mem.rs: `memcpy`,
//! `memmove`, `memset` and their ARM EABI forms, in Thumb-2 assembly) on the emulated
//! Cortex-M3 against byte loops made of volatile loads and stores, which the optimiser
//! cannot turn back into calls to these very routines.
//!
//! Every destination and source offset 0..7 in an 8-byte-aligned buffer, every length
//! 0..39: copy between two buffers, copy inside one buffer (overlapping both ways: the
//! destination before and after the source), fill and zero; the word-aligned EABI forms
//! (`__aeabi_memcpy4` …) where both offsets are multiples of their alignment. After each
//! call the whole buffer is compared with the reference, so a write outside the range also
//! counts. Reports the number of cases and of mismatches on the semihosting stderr and
//! exits through semihosting: success only without a mismatch (scripts/firmware.sh runs
//! it under qemu-system-arm).
#![no_std]
#![no_main]
// The routines are called through their C symbols, and the reference loops use volatile
// pointer accesses: both need unsafe.
#![allow(unsafe_code)]

#[path = "../src/vectors.rs"]
mod vectors;

use core::ptr::{addr_of_mut, read_volatile, write_volatile};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, heprintln};
// links the routines under test (and the rest of the firmware crate, unused)
use oxicard_firmware as _;
use panic_halt as _;

extern "C" {
    fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn memset(dst: *mut u8, byte: i32, n: usize) -> *mut u8;
    fn __aeabi_memcpy(dst: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memcpy4(dst: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memcpy8(dst: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memmove(dst: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memmove4(dst: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memmove8(dst: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memset(dst: *mut u8, n: usize, byte: i32);
    fn __aeabi_memset4(dst: *mut u8, n: usize, byte: i32);
    fn __aeabi_memset8(dst: *mut u8, n: usize, byte: i32);
    fn __aeabi_memclr(dst: *mut u8, n: usize);
    fn __aeabi_memclr4(dst: *mut u8, n: usize);
    fn __aeabi_memclr8(dst: *mut u8, n: usize);
}

/// Bytes in each buffer: the largest offset plus the largest length, and room on both sides.
const SIZE: usize = 64;
/// Offsets tried for the destination and the source.
const OFFSETS: usize = 8;
/// Lengths tried: 0..LENGTHS.
const LENGTHS: usize = 40;

/// An 8-byte-aligned buffer, so that offset 0 suits every EABI form.
#[repr(C, align(8))]
struct Buffer([u8; SIZE]);

/// The buffers: the routine under test writes `actual` (reading `source` or itself), the
/// reference loop writes `expected`.
static mut SOURCE: Buffer = Buffer([0; SIZE]);
static mut ACTUAL: Buffer = Buffer([0; SIZE]);
static mut EXPECTED: Buffer = Buffer([0; SIZE]);

/// A copy routine: destination, source, length.
type Copy = unsafe extern "C" fn(*mut u8, *const u8, usize);
/// A fill routine in the EABI argument order: destination, length, byte.
type Fill = unsafe extern "C" fn(*mut u8, usize, i32);

/// The C forms, wrapped in the EABI signatures, and checked to return the destination.
unsafe extern "C" fn c_memcpy(dst: *mut u8, src: *const u8, n: usize) {
    if memcpy(dst, src, n) != dst {
        write_volatile(
            addr_of_mut!(BAD_RETURNS),
            read_volatile(addr_of_mut!(BAD_RETURNS)) + 1,
        );
    }
}
unsafe extern "C" fn c_memmove(dst: *mut u8, src: *const u8, n: usize) {
    if memmove(dst, src, n) != dst {
        write_volatile(
            addr_of_mut!(BAD_RETURNS),
            read_volatile(addr_of_mut!(BAD_RETURNS)) + 1,
        );
    }
}
unsafe extern "C" fn c_memset(dst: *mut u8, n: usize, byte: i32) {
    if memset(dst, byte, n) != dst {
        write_volatile(
            addr_of_mut!(BAD_RETURNS),
            read_volatile(addr_of_mut!(BAD_RETURNS)) + 1,
        );
    }
}
unsafe extern "C" fn clear(dst: *mut u8, n: usize, _byte: i32) {
    __aeabi_memclr(dst, n);
}
unsafe extern "C" fn clear4(dst: *mut u8, n: usize, _byte: i32) {
    __aeabi_memclr4(dst, n);
}
unsafe extern "C" fn clear8(dst: *mut u8, n: usize, _byte: i32) {
    __aeabi_memclr8(dst, n);
}

/// C forms that returned something other than their destination.
static mut BAD_RETURNS: u32 = 0;

/// Puts a distinct pattern in all three buffers (the source differs from the destination).
unsafe fn reset() {
    for i in 0..SIZE {
        let source = (i as u8).wrapping_mul(7).wrapping_add(1);
        let destination = 0xA0 ^ i as u8;
        write_volatile(addr_of_mut!(SOURCE.0[i]), source);
        write_volatile(addr_of_mut!(ACTUAL.0[i]), destination);
        write_volatile(addr_of_mut!(EXPECTED.0[i]), destination);
    }
}

/// Whether `actual` and `expected` agree in every byte.
unsafe fn same() -> bool {
    (0..SIZE).all(|i| {
        read_volatile(addr_of_mut!(ACTUAL.0[i])) == read_volatile(addr_of_mut!(EXPECTED.0[i]))
    })
}

/// The reference copy: byte by byte, backward when the destination starts inside the source
/// (as memmove must), from `source` (or from `expected` itself when `overlapping`).
unsafe fn reference_copy(overlapping: bool, dst: usize, src: usize, n: usize) {
    let from = |i: usize| {
        if overlapping {
            read_volatile(addr_of_mut!(EXPECTED.0[src + i]))
        } else {
            read_volatile(addr_of_mut!(SOURCE.0[src + i]))
        }
    };
    if overlapping && dst > src {
        for i in (0..n).rev() {
            write_volatile(addr_of_mut!(EXPECTED.0[dst + i]), from(i));
        }
    } else {
        for i in 0..n {
            write_volatile(addr_of_mut!(EXPECTED.0[dst + i]), from(i));
        }
    }
}

/// Cases run and mismatches found.
struct Tally {
    cases: u32,
    failures: u32,
}

impl Tally {
    /// Copies with `routine` at every offset pair that suits its `alignment` and every length.
    unsafe fn copies(&mut self, routine: Copy, alignment: usize, overlapping: bool) {
        for dst in (0..OFFSETS).step_by(alignment) {
            for src in (0..OFFSETS).step_by(alignment) {
                for n in 0..LENGTHS {
                    reset();
                    let base = addr_of_mut!(ACTUAL.0) as *mut u8;
                    let from = if overlapping {
                        base.add(src) as *const u8
                    } else {
                        (addr_of_mut!(SOURCE.0) as *const u8).add(src)
                    };
                    routine(base.add(dst), from, n);
                    reference_copy(overlapping, dst, src, n);
                    self.count(same());
                }
            }
        }
    }

    /// Fills with `routine` at every offset that suits its `alignment` and every length
    /// (`byte` 0 for the memclr forms).
    unsafe fn fills(&mut self, routine: Fill, alignment: usize, byte: u8) {
        for dst in (0..OFFSETS).step_by(alignment) {
            for n in 0..LENGTHS {
                reset();
                // the high bits of the byte argument must be ignored
                routine(
                    (addr_of_mut!(ACTUAL.0) as *mut u8).add(dst),
                    n,
                    0x5A00 | i32::from(byte),
                );
                for i in 0..n {
                    write_volatile(addr_of_mut!(EXPECTED.0[dst + i]), byte);
                }
                self.count(same());
            }
        }
    }

    /// Counts one case.
    fn count(&mut self, passed: bool) {
        self.cases += 1;
        if !passed {
            self.failures += 1;
        }
    }
}

#[entry]
fn main() -> ! {
    let mut tally = Tally {
        cases: 0,
        failures: 0,
    };
    // SAFETY: the routines get in-bounds ranges of the static buffers (offset < 8, length
    // < 40, 64-byte buffers), aligned as each EABI form requires; only this loop touches
    // the buffers.
    let bad_returns = unsafe {
        let copies: [(Copy, usize); 4] = [
            (c_memcpy, 1),
            (__aeabi_memcpy, 1),
            (__aeabi_memcpy4, 4),
            (__aeabi_memcpy8, 8),
        ];
        for (routine, alignment) in copies {
            tally.copies(routine, alignment, false);
        }
        let moves: [(Copy, usize); 4] = [
            (c_memmove, 1),
            (__aeabi_memmove, 1),
            (__aeabi_memmove4, 4),
            (__aeabi_memmove8, 8),
        ];
        for (routine, alignment) in moves {
            tally.copies(routine, alignment, false);
            tally.copies(routine, alignment, true);
        }
        let fills: [(Fill, usize, u8); 7] = [
            (c_memset, 1, 0xC3),
            (__aeabi_memset, 1, 0xC3),
            (__aeabi_memset4, 4, 0x3C),
            (__aeabi_memset8, 8, 0xFF),
            (clear, 1, 0),
            (clear4, 4, 0),
            (clear8, 8, 0),
        ];
        for (routine, alignment, byte) in fills {
            tally.fills(routine, alignment, byte);
        }
        read_volatile(addr_of_mut!(BAD_RETURNS))
    };
    heprintln!(
        "memcheck: {} cases, {} mismatches, {} wrong return values",
        tally.cases,
        tally.failures,
        bad_returns
    );
    if tally.failures == 0 && bad_returns == 0 {
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        debug::exit(debug::EXIT_FAILURE);
    }
    loop {
        cortex_m::asm::wfi();
    }
}
