//! Streaming SHA digests and HMAC over a [`CryptoEngine`]'s compression function. The
//! context serializes to a fixed-size byte string so the card runtime can keep it in a
//! transient array between `update` calls.

use crate::{CryptoEngine, Error, HashAlg};

/// Largest digest (SHA-512) in bytes.
pub const MAX_DIGEST: usize = 64;
/// Largest block (SHA-384/512) in bytes.
pub const MAX_BLOCK: usize = 128;

const SHA1_IV: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
const SHA224_IV: [u32; 8] = [
    0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4,
];
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const SHA384_IV: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// A digest in progress: chaining value, the partial block and the message length.
#[derive(Clone, Debug)]
pub struct DigestCtx {
    alg: HashAlg,
    chain: [u8; MAX_DIGEST],
    buf: [u8; MAX_BLOCK],
    buf_len: usize,
    total: u64,
}

impl DigestCtx {
    /// A fresh context (the algorithm's initial value).
    pub fn new(alg: HashAlg) -> Self {
        let mut chain = [0u8; MAX_DIGEST];
        let words: &[u32] = match alg {
            HashAlg::Sha1 => &SHA1_IV,
            HashAlg::Sha224 => &SHA224_IV,
            HashAlg::Sha256 => &SHA256_IV,
            _ => &[],
        };
        for (c, w) in chain.chunks_exact_mut(4).zip(words) {
            c.copy_from_slice(&w.to_be_bytes());
        }
        let words64: &[u64] = match alg {
            HashAlg::Sha384 => &SHA384_IV,
            HashAlg::Sha512 => &SHA512_IV,
            _ => &[],
        };
        for (c, w) in chain.chunks_exact_mut(8).zip(words64) {
            c.copy_from_slice(&w.to_be_bytes());
        }
        DigestCtx {
            alg,
            chain,
            buf: [0; MAX_BLOCK],
            buf_len: 0,
            total: 0,
        }
    }

    /// A context that continues a message whose first `hashed` bytes were already
    /// compressed into the chaining value `chain` (big-endian, [`HashAlg::chain_len`]
    /// bytes: the whole internal state, also for SHA-224 and SHA-384), as
    /// `InitializedMessageDigest.setInitialDigest` gives them. Errors: [`Error::Length`]
    /// when `chain` is not `chain_len` bytes, [`Error::InvalidInput`] when `hashed` is 0,
    /// not a multiple of the block length, or not below 2^61 (the message length in bits
    /// must fit the 64 bits this context keeps).
    pub fn resume(alg: HashAlg, chain: &[u8], hashed: u64) -> Result<Self, Error> {
        let c = alg.chain_len();
        if chain.len() != c {
            return Err(Error::Length);
        }
        if hashed == 0 || !hashed.is_multiple_of(alg.block_len() as u64) || hashed >= 1 << 61 {
            return Err(Error::InvalidInput);
        }
        let mut ctx = DigestCtx::new(alg);
        ctx.chain
            .get_mut(..c)
            .ok_or(Error::Length)?
            .copy_from_slice(chain);
        ctx.total = hashed;
        Ok(ctx)
    }

    /// The algorithm.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// Bytes of the serialized form of a context of `alg`.
    pub const fn serialized_len(alg: HashAlg) -> usize {
        alg.chain_len() + alg.block_len() + 1 + 8
    }

    /// Writes the context to `out` (at least [`Self::serialized_len`] bytes).
    pub fn save(&self, out: &mut [u8]) -> Result<(), Error> {
        let (c, b) = (self.alg.chain_len(), self.alg.block_len());
        let out = out.get_mut(..c + b + 9).ok_or(Error::Length)?;
        let (chain, rest) = out.split_at_mut(c);
        chain.copy_from_slice(self.chain.get(..c).ok_or(Error::Length)?);
        let (buf, rest) = rest.split_at_mut(b);
        buf.copy_from_slice(self.buf.get(..b).ok_or(Error::Length)?);
        let (len, total) = rest.split_at_mut(1);
        len[0] = self.buf_len as u8;
        total.copy_from_slice(&self.total.to_be_bytes());
        Ok(())
    }

    /// Reads a context of `alg` written by [`Self::save`].
    pub fn load(alg: HashAlg, bytes: &[u8]) -> Result<Self, Error> {
        let (c, b) = (alg.chain_len(), alg.block_len());
        let bytes = bytes.get(..c + b + 9).ok_or(Error::Length)?;
        let mut ctx = DigestCtx::new(alg);
        let (chain, rest) = bytes.split_at(c);
        ctx.chain
            .get_mut(..c)
            .ok_or(Error::Length)?
            .copy_from_slice(chain);
        let (buf, rest) = rest.split_at(b);
        ctx.buf
            .get_mut(..b)
            .ok_or(Error::Length)?
            .copy_from_slice(buf);
        let (len, total) = rest.split_at(1);
        ctx.buf_len = len[0] as usize;
        if ctx.buf_len >= b {
            return Err(Error::InvalidInput);
        }
        let mut t = [0u8; 8];
        t.copy_from_slice(total);
        ctx.total = u64::from_be_bytes(t);
        Ok(ctx)
    }

    /// Feeds `data`.
    pub fn update(&mut self, engine: &dyn CryptoEngine, mut data: &[u8]) -> Result<(), Error> {
        let (c, b) = (self.alg.chain_len(), self.alg.block_len());
        self.total = self.total.wrapping_add(data.len() as u64);
        let chain = self.chain.get_mut(..c).ok_or(Error::Length)?;
        if self.buf_len > 0 {
            let take = (b - self.buf_len).min(data.len());
            let (head, tail) = data.split_at(take);
            self.buf
                .get_mut(self.buf_len..self.buf_len + take)
                .ok_or(Error::Length)?
                .copy_from_slice(head);
            self.buf_len += take;
            data = tail;
            if self.buf_len < b {
                return Ok(());
            }
            engine.compress(self.alg, chain, self.buf.get(..b).ok_or(Error::Length)?)?;
            self.buf_len = 0;
        }
        let whole = data.len() / b * b;
        let (blocks, rest) = data.split_at(whole);
        if !blocks.is_empty() {
            engine.compress(self.alg, chain, blocks)?;
        }
        self.buf
            .get_mut(..rest.len())
            .ok_or(Error::Length)?
            .copy_from_slice(rest);
        self.buf_len = rest.len();
        Ok(())
    }

    /// Pads, finishes and writes the digest to `out`; returns its length.
    pub fn finish(mut self, engine: &dyn CryptoEngine, out: &mut [u8]) -> Result<usize, Error> {
        let b = self.alg.block_len();
        let len_bytes = if b == 64 { 8 } else { 16 };
        let bits = self.total.wrapping_mul(8);
        let mut pad = [0u8; 2 * MAX_BLOCK];
        pad[0] = 0x80;
        let used = self.buf_len + 1 + len_bytes;
        let pad_len = if used <= b {
            b - self.buf_len
        } else {
            2 * b - self.buf_len
        };
        let end = pad.get_mut(pad_len - 8..pad_len).ok_or(Error::Length)?;
        end.copy_from_slice(&bits.to_be_bytes());
        let pad = pad.get(..pad_len).ok_or(Error::Length)?;
        self.total = self.total.wrapping_sub(pad_len as u64);
        self.update(engine, pad)?;
        let n = self.alg.output_len();
        out.get_mut(..n)
            .ok_or(Error::Length)?
            .copy_from_slice(self.chain.get(..n).ok_or(Error::Length)?);
        Ok(n)
    }
}

/// One-shot digest of `data` into `out`; returns the digest length.
pub fn digest(
    engine: &dyn CryptoEngine,
    alg: HashAlg,
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut ctx = DigestCtx::new(alg);
    ctx.update(engine, data)?;
    ctx.finish(engine, out)
}

/// The HMAC key block: the key, hashed first when longer than a block, zero-padded.
fn key_block(
    engine: &dyn CryptoEngine,
    alg: HashAlg,
    key: &[u8],
) -> Result<[u8; MAX_BLOCK], Error> {
    let mut k = [0u8; MAX_BLOCK];
    if key.len() > alg.block_len() {
        digest(engine, alg, key, &mut k)?;
    } else {
        k.get_mut(..key.len())
            .ok_or(Error::Length)?
            .copy_from_slice(key);
    }
    Ok(k)
}

/// Starts HMAC (RFC 2104) with `key`: the inner digest context after `K ⊕ ipad`.
pub fn hmac_start(engine: &dyn CryptoEngine, alg: HashAlg, key: &[u8]) -> Result<DigestCtx, Error> {
    let mut k = key_block(engine, alg, key)?;
    k.iter_mut().for_each(|b| *b ^= 0x36);
    let mut ctx = DigestCtx::new(alg);
    ctx.update(engine, k.get(..alg.block_len()).ok_or(Error::Length)?)?;
    Ok(ctx)
}

/// Finishes HMAC from the inner context `inner`; returns the MAC length.
pub fn hmac_finish(
    engine: &dyn CryptoEngine,
    key: &[u8],
    inner: DigestCtx,
    out: &mut [u8],
) -> Result<usize, Error> {
    let alg = inner.alg();
    let mut h = [0u8; MAX_DIGEST];
    let n = inner.finish(engine, &mut h)?;
    let mut k = key_block(engine, alg, key)?;
    k.iter_mut().for_each(|b| *b ^= 0x5c);
    let mut outer = DigestCtx::new(alg);
    outer.update(engine, k.get(..alg.block_len()).ok_or(Error::Length)?)?;
    outer.update(engine, h.get(..n).ok_or(Error::Length)?)?;
    outer.finish(engine, out)
}

/// One-shot HMAC of `data` with `key`; returns the MAC length.
pub fn hmac(
    engine: &dyn CryptoEngine,
    alg: HashAlg,
    key: &[u8],
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut ctx = hmac_start(engine, alg, key)?;
    ctx.update(engine, data)?;
    hmac_finish(engine, key, ctx, out)
}
