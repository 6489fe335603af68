//! Deterministic timing of commands: SysTick counts core clock ticks (24 bits, the wraps are
//! counted in its exception) and every command's ticks are written to the semihosting
//! stderr. At boot a calibration line gives the ticks of a loop of a known instruction count,
//! so that under QEMU's `-icount shift=0` a host script turns ticks into instructions.
//!
//! QEMU 7.2's lm3s6965evb clocks the core at 12.5 MHz (an 80 ns period) and SysTick's
//! virtual time advances one nanosecond per instruction with `-icount shift=0`: the
//! calibration reads exactly 25000 ticks for 2,000,000 instructions, 80 instructions a tick,
//! on every run. Without `-icount` the ticks follow the host's clock and vary.
//!
//! The lines, all ASCII, are meant for scripts:
//!
//! ```text
//! oxicard-qemu: calibration ticks 0x000000000001E848 instructions 0x00000000001E8480
//! oxicard-qemu: boot stack 0x0000000000000A10
//! oxicard-qemu: apdu 80200000 ticks 0x0000000000001234 stack 0x0000000000000F20
//! ```
//!
//! `stack` is how deep the stack went (bytes) since the previous line: at boot, then while
//! the command came in over T=1 and ran.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use cortex_m_rt::exception;
use cortex_m_semihosting::hio::{self, HostStream};
use oxicard_firmware::ApduHandler;

/// SysTick's reload value: the whole 24-bit range.
const RELOAD: u32 = 0x00FF_FFFF;

/// Iterations of the calibration loop (two instructions each).
const CALIBRATION_LOOPS: u32 = 1_000_000;

/// SysTick wraps since it was started.
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Core clock ticks since SysTick was started (a wrap pending but not yet counted is added).
pub fn ticks() -> u64 {
    cortex_m::interrupt::free(|_| {
        let wraps = WRAPS.load(Ordering::Relaxed);
        let value = SYST::get_current();
        // the counter reloaded but the exception has not run yet: the value is near RELOAD
        let pending = SCB::is_pendst_pending() && value > RELOAD / 2;
        let wraps = u64::from(wraps) + u64::from(pending);
        (wraps << 24) | u64::from(RELOAD - value)
    })
}

/// Runs `loops` iterations of a two-instruction loop (`subs`, `bne`).
#[inline(never)]
fn spin(loops: u32) {
    // SAFETY: the loop only decrements a scratch register it owns.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {0}, #1",
            "bne 2b",
            inout(reg) loops => _,
            options(nomem, nostack),
        );
    }
}

/// Writes `0x` and 16 hex digits of `value` into `out`.
fn hex64(out: &mut [u8; 18], value: u64) {
    out[0] = b'0';
    out[1] = b'x';
    for (i, digit) in out[2..].iter_mut().enumerate() {
        let nibble = (value >> (60 - 4 * i)) & 0xF;
        *digit = b"0123456789ABCDEF"[nibble as usize];
    }
}

/// The report stream (semihosting stderr) with SysTick running.
pub struct Report {
    stderr: Option<HostStream>,
}

impl Report {
    /// Starts SysTick on the core clock, calibrates it and writes the calibration line.
    pub fn start() -> Report {
        // SAFETY: called once at boot, before anything else uses the core peripherals.
        let mut peripherals = unsafe { cortex_m::Peripherals::steal() };
        let syst = &mut peripherals.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        // the counter starts at 0 and loads RELOAD on its first tick (no exception then)
        let mut polls = 0u32;
        while SYST::get_current() == 0 && polls < 1_000_000 {
            polls += 1;
        }
        let mut report = Report {
            stderr: hio::hstderr().ok(),
        };
        let before = ticks();
        spin(CALIBRATION_LOOPS);
        let spent = ticks() - before;
        let mut a = [0u8; 18];
        let mut b = [0u8; 18];
        hex64(&mut a, spent);
        hex64(&mut b, 2 * u64::from(CALIBRATION_LOOPS));
        report.line(&[b"calibration ticks ", &a, b" instructions ", &b]);
        report
    }

    fn line(&mut self, parts: &[&[u8]]) {
        if let Some(stderr) = self.stderr.as_mut() {
            let _ = stderr.write_all(b"oxicard-qemu: ");
            for part in parts {
                let _ = stderr.write_all(part);
            }
            let _ = stderr.write_all(b"\n");
        }
    }

    /// Writes how deep the stack went so far (see [`crate::stack`]):
    /// `oxicard-qemu: boot stack 0x...`.
    pub fn boot_stack(&mut self) {
        let mut depth = [0u8; 18];
        hex64(&mut depth, crate::stack::deepest() as u64);
        self.line(&[b"boot stack ", &depth]);
    }

    /// `card` with each command timed and reported (borrowed: a card is large, and a move
    /// would copy it on the stack).
    pub fn timed<'a, H: ApduHandler>(&'a mut self, card: &'a mut H) -> Timed<'a, H> {
        Timed { card, report: self }
    }
}

/// A card whose commands are timed.
pub struct Timed<'a, H> {
    card: &'a mut H,
    report: &'a mut Report,
}

impl<H: ApduHandler> ApduHandler for Timed<'_, H> {
    fn reset(&mut self) {
        self.card.reset();
    }

    fn process(&mut self, command: &[u8], response: &mut [u8]) -> usize {
        let start = ticks();
        let n = self.card.process(command, response);
        let spent = ticks() - start;
        let mut header = [0u8; 8];
        for (i, pair) in header.chunks_exact_mut(2).enumerate() {
            let byte = command.get(i).copied().unwrap_or(0);
            pair[0] = b"0123456789ABCDEF"[usize::from(byte >> 4)];
            pair[1] = b"0123456789ABCDEF"[usize::from(byte & 0xF)];
        }
        let mut t = [0u8; 18];
        hex64(&mut t, spent);
        let mut depth = [0u8; 18];
        hex64(&mut depth, crate::stack::deepest() as u64);
        self.report
            .line(&[b"apdu ", &header, b" ticks ", &t, b" stack ", &depth]);
        n
    }

    fn is_long(&self, command: &[u8]) -> bool {
        self.card.is_long(command)
    }
}
