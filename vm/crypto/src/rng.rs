//! Random sources: the platform trait, a deterministic generator for tests and, with the
//! `std` feature, the host operating system's generator.

use crate::digest::digest;
use crate::{Error, HashAlg, SoftEngine};
use core::sync::atomic::{AtomicU32, Ordering};

/// The platform's random generator (a TRNG on a board, the OS on a host).
pub trait RandomSource: Sync {
    /// Fills `out` with random bytes.
    fn fill(&self, out: &mut [u8]) -> Result<(), Error>;
}

/// A deterministic generator: SHA-256(seed || counter) blocks. **For tests only**: its
/// output is predictable from the seed.
#[derive(Debug)]
pub struct TestRandom {
    seed: [u8; 32],
    counter: AtomicU32,
}

impl TestRandom {
    /// A generator with `seed`.
    pub const fn new(seed: [u8; 32]) -> Self {
        TestRandom {
            seed,
            counter: AtomicU32::new(0),
        }
    }
}

impl RandomSource for TestRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), Error> {
        for chunk in out.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let mut input = [0u8; 36];
            input[..32].copy_from_slice(&self.seed);
            input[32..].copy_from_slice(&n.to_be_bytes());
            let mut block = [0u8; 32];
            digest(&SoftEngine, HashAlg::Sha256, &input, &mut block)?;
            chunk.copy_from_slice(block.get(..chunk.len()).ok_or(Error::Length)?);
        }
        Ok(())
    }
}

/// The host operating system's random generator (getrandom).
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

#[cfg(feature = "std")]
impl RandomSource for OsRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), Error> {
        getrandom::getrandom(out).map_err(|_| Error::Random)
    }
}

/// A [`RandomSource`] seen as a `rand_core` generator (for the RustCrypto signers); a
/// failure of the source is kept and reported by [`RngAdapter::result`].
pub(crate) struct RngAdapter<'a> {
    source: &'a dyn RandomSource,
    failed: bool,
}

impl<'a> RngAdapter<'a> {
    pub(crate) fn new(source: &'a dyn RandomSource) -> Self {
        RngAdapter {
            source,
            failed: false,
        }
    }

    /// `Err(Error::Random)` if the source failed at any point.
    pub(crate) fn result(&self) -> Result<(), Error> {
        if self.failed {
            Err(Error::Random)
        } else {
            Ok(())
        }
    }
}

impl rand_core::RngCore for RngAdapter<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_be_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_be_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.source.fill(dest).is_err() {
            self.failed = true;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for RngAdapter<'_> {}

/// The platform's default random source: the host OS generator with the `std` feature,
/// none otherwise (a board supplies its TRNG).
pub fn platform_default() -> Option<&'static dyn RandomSource> {
    #[cfg(feature = "std")]
    {
        static OS: OsRandom = OsRandom;
        Some(&OS)
    }
    #[cfg(not(feature = "std"))]
    {
        None
    }
}
