//! oxicard-crypto: the cryptographic primitives of the card runtime (javacard.security,
//! javacardx.crypto), no_std and without an allocator. Everything the runtime needs goes
//! through [`CryptoEngine`] (block-level primitives a board can replace with a hardware
//! engine) and [`RandomSource`] (the platform's random generator); [`SoftEngine`] is the
//! software implementation on RustCrypto crates. The helpers in [`digest`], [`rsa`] and
//! [`ec`] build the API-level operations (streaming digests, HMAC, PKCS#1 v1.5, DER
//! ECDSA signatures) on top of an engine.
#![no_std]

#[cfg(feature = "std")]
extern crate std;

pub mod digest;
pub mod ec;
pub mod mac;
pub mod rng;
pub mod rsa;
mod soft;

#[cfg(feature = "std")]
pub use rng::OsRandom;
pub use rng::{RandomSource, TestRandom};
pub use soft::SoftEngine;

/// Why a cryptographic operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// An input or key has a length the algorithm does not accept.
    Length,
    /// A key or point is not valid (not on the curve, zero scalar, even RSA modulus...).
    InvalidKey,
    /// The input value is out of range (e.g. an RSA input not below the modulus).
    InvalidInput,
    /// The random source failed.
    Random,
    /// The engine does not implement this algorithm.
    Unsupported,
}

/// A hash function of the SHA family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1 (FIPS 180-4).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Block length in bytes.
    pub const fn block_len(self) -> usize {
        match self {
            HashAlg::Sha1 | HashAlg::Sha224 | HashAlg::Sha256 => 64,
            HashAlg::Sha384 | HashAlg::Sha512 => 128,
        }
    }

    /// Length of the chaining value in bytes (the internal state).
    pub const fn chain_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 | HashAlg::Sha256 => 32,
            HashAlg::Sha384 | HashAlg::Sha512 => 64,
        }
    }
}

/// A block cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockAlg {
    /// AES (FIPS 197) with a 16, 24 or 32-byte key.
    Aes,
    /// Triple DES (SP 800-67) with a 16-byte (2-key) or 24-byte (3-key) key, or single
    /// DES with an 8-byte key.
    Des,
}

impl BlockAlg {
    /// Block length in bytes.
    pub const fn block_len(self) -> usize {
        match self {
            BlockAlg::Aes => 16,
            BlockAlg::Des => 8,
        }
    }
}

/// The primitives a board provides, in software ([`SoftEngine`]) or in hardware. All
/// buffers are the caller's; big integers and points are big-endian byte strings.
pub trait CryptoEngine: Sync {
    /// Runs the compression function of `alg` over whole `blocks` (a multiple of the
    /// block length), updating `chain` (the big-endian chaining value, `chain_len` bytes).
    fn compress(&self, alg: HashAlg, chain: &mut [u8], blocks: &[u8]) -> Result<(), Error>;

    /// Encrypts (`encrypt`) or decrypts whole blocks of `data` in place with `key`: ECB
    /// when `iv` is `None`, else CBC with `iv` updated to the last ciphertext block.
    fn block_cipher(
        &self,
        alg: BlockAlg,
        key: &[u8],
        encrypt: bool,
        iv: Option<&mut [u8]>,
        data: &mut [u8],
    ) -> Result<(), Error>;

    /// The uncompressed P-256 public point `04 || X || Y` of secret scalar `secret`.
    fn p256_public(&self, secret: &[u8], out: &mut [u8; 65]) -> Result<(), Error>;

    /// ECDSA P-256 signature `r || s` of the hash `hash`, with a nonce from RFC 6979
    /// hedged with 32 bytes from `rng`.
    fn p256_sign(
        &self,
        secret: &[u8],
        hash: &[u8],
        rng: &dyn RandomSource,
        out: &mut [u8; 64],
    ) -> Result<(), Error>;

    /// Verifies ECDSA P-256 signature `r || s` of `hash` under the SEC1 point `public`.
    fn p256_verify(&self, public: &[u8], hash: &[u8], sig: &[u8; 64]) -> Result<bool, Error>;

    /// ECDH on P-256: the x coordinate of `secret` · `public` (SEC1 point).
    fn p256_ecdh(&self, secret: &[u8], public: &[u8], out: &mut [u8; 32]) -> Result<(), Error>;

    /// `input^exponent mod modulus`; `out` has the length of `modulus`.
    fn rsa_exp(
        &self,
        modulus: &[u8],
        exponent: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error>;

    /// The RSA private operation with CRT components (p, q, dp, dq, qinv = q⁻¹ mod p);
    /// `out` has the length of the modulus p·q.
    fn rsa_crt(&self, key: &rsa::CrtKey<'_>, input: &[u8], out: &mut [u8]) -> Result<(), Error>;
}
