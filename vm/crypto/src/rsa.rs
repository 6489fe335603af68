//! RSA on fixed-size integers (crypto-bigint, Montgomery form): modular exponentiation for
//! 1024/2048/4096-bit moduli, the CRT private operation, and PKCS#1 v1.5 signature
//! encoding (RFC 8017 §9.2).

use crate::{CryptoEngine, Error, HashAlg};
use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{NonZero, Uint, U1024, U2048, U4096, U512};

/// Largest modulus in bytes (4096 bits).
pub const MAX_MODULUS: usize = 512;

/// The CRT components of an RSA private key (big-endian).
#[derive(Clone, Copy, Debug)]
pub struct CrtKey<'a> {
    /// Prime p.
    pub p: &'a [u8],
    /// Prime q.
    pub q: &'a [u8],
    /// d mod (p − 1).
    pub dp: &'a [u8],
    /// d mod (q − 1).
    pub dq: &'a [u8],
    /// q⁻¹ mod p.
    pub qinv: &'a [u8],
}

fn strip(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or(&[])
}

fn load<const L: usize>(bytes: &[u8]) -> Result<Uint<L>, Error> {
    let bytes = strip(bytes);
    let size = Uint::<L>::BYTES;
    if bytes.len() > size || size > MAX_MODULUS {
        return Err(Error::Length);
    }
    let mut buf = [0u8; MAX_MODULUS];
    buf.get_mut(size - bytes.len()..size)
        .ok_or(Error::Length)?
        .copy_from_slice(bytes);
    Ok(Uint::from_be_slice(buf.get(..size).ok_or(Error::Length)?))
}

fn store<const L: usize>(x: &Uint<L>, out: &mut [u8]) -> Result<(), Error> {
    let size = Uint::<L>::BYTES;
    let mut buf = [0u8; MAX_MODULUS];
    let wb = core::mem::size_of::<crypto_bigint::Word>();
    for (i, w) in x.as_words().iter().enumerate() {
        let end = size - i * wb;
        buf.get_mut(end - wb..end)
            .ok_or(Error::Length)?
            .copy_from_slice(&w.to_be_bytes());
    }
    let n = out.len();
    if n > size {
        let (zeros, rest) = out.split_at_mut(n - size);
        zeros.fill(0);
        rest.copy_from_slice(buf.get(..size).ok_or(Error::Length)?);
        return Ok(());
    }
    let (high, low) = buf.get(..size).ok_or(Error::Length)?.split_at(size - n);
    if high.iter().any(|&b| b != 0) {
        return Err(Error::Length);
    }
    out.copy_from_slice(low);
    Ok(())
}

#[allow(deprecated)] // new_checked is the non-panicking constructor in 0.5
fn params<const L: usize>(m: &Uint<L>) -> Result<DynResidueParams<L>, Error> {
    Option::from(DynResidueParams::new_checked(m)).ok_or(Error::InvalidKey)
}

fn exp_l<const L: usize>(m: &[u8], e: &[u8], x: &[u8], out: &mut [u8]) -> Result<(), Error> {
    let n = load::<L>(m)?;
    let x = load::<L>(x)?;
    let e = load::<L>(e)?;
    if x >= n {
        return Err(Error::InvalidInput);
    }
    let r = DynResidue::new(&x, params(&n)?).pow(&e).retrieve();
    store(&r, out)
}

/// `input^exponent mod modulus` (odd modulus up to 4096 bits) into `out`.
pub fn mod_exp(modulus: &[u8], exponent: &[u8], input: &[u8], out: &mut [u8]) -> Result<(), Error> {
    match strip(modulus).len() {
        0 => Err(Error::InvalidKey),
        1..=128 => exp_l::<{ U1024::LIMBS }>(modulus, exponent, input, out),
        129..=256 => exp_l::<{ U2048::LIMBS }>(modulus, exponent, input, out),
        257..=512 => exp_l::<{ U4096::LIMBS }>(modulus, exponent, input, out),
        _ => Err(Error::Length),
    }
}

fn reduce<const L: usize, const H: usize>(x: &Uint<L>, m: &Uint<H>) -> Result<Uint<H>, Error> {
    let wide: Option<NonZero<Uint<L>>> = NonZero::new(m.resize::<L>()).into();
    Ok(x.rem(&wide.ok_or(Error::InvalidKey)?).resize::<H>())
}

fn crt_l<const L: usize, const H: usize>(
    k: &CrtKey<'_>,
    c: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    let p = load::<H>(k.p)?;
    let q = load::<H>(k.q)?;
    let dp = load::<H>(k.dp)?;
    let dq = load::<H>(k.dq)?;
    let qinv = load::<H>(k.qinv)?;
    let c = load::<L>(c)?;
    let n = p.resize::<L>().wrapping_mul(&q.resize::<L>());
    if c >= n {
        return Err(Error::InvalidInput);
    }
    let (pp, qp) = (params(&p)?, params(&q)?);
    let m1 = DynResidue::new(&reduce(&c, &p)?, pp).pow(&dp);
    let m2 = DynResidue::new(&reduce(&c, &q)?, qp).pow(&dq).retrieve();
    let m2p = DynResidue::new(&reduce(&m2.resize::<L>(), &p)?, pp);
    let qinv = DynResidue::new(&reduce(&qinv.resize::<L>(), &p)?, pp);
    let h = ((m1 - m2p) * qinv).retrieve();
    let m = m2
        .resize::<L>()
        .wrapping_add(&h.resize::<L>().wrapping_mul(&q.resize::<L>()));
    store(&m, out)
}

/// The RSA private operation with CRT components, primes up to 2048 bits each.
pub fn crt_exp(key: &CrtKey<'_>, input: &[u8], out: &mut [u8]) -> Result<(), Error> {
    match strip(key.p).len().max(strip(key.q).len()) {
        0 => Err(Error::InvalidKey),
        1..=64 => crt_l::<{ U1024::LIMBS }, { U512::LIMBS }>(key, input, out),
        65..=128 => crt_l::<{ U2048::LIMBS }, { U1024::LIMBS }>(key, input, out),
        129..=256 => crt_l::<{ U4096::LIMBS }, { U2048::LIMBS }>(key, input, out),
        _ => Err(Error::Length),
    }
}

/// The DER DigestInfo prefix of `alg` (RFC 8017 §9.2 note 1).
pub fn digest_info_prefix(alg: HashAlg) -> &'static [u8] {
    match alg {
        HashAlg::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlg::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// EMSA-PKCS1-v1_5 encoding of `hash` into `em` (the modulus length):
/// `00 01 FF…FF 00 DigestInfo hash`.
pub fn pkcs1_sign_encode(alg: HashAlg, hash: &[u8], em: &mut [u8]) -> Result<(), Error> {
    let prefix = digest_info_prefix(alg);
    if hash.len() != alg.output_len() {
        return Err(Error::Length);
    }
    let t_len = prefix.len() + hash.len();
    if em.len() < t_len + 11 {
        return Err(Error::Length);
    }
    let ps_end = em.len() - t_len - 1;
    em[0] = 0;
    em[1] = 1;
    em.get_mut(2..ps_end).ok_or(Error::Length)?.fill(0xFF);
    em[ps_end] = 0;
    let (p, h) = em
        .get_mut(ps_end + 1..)
        .ok_or(Error::Length)?
        .split_at_mut(prefix.len());
    p.copy_from_slice(prefix);
    h.copy_from_slice(hash);
    Ok(())
}

/// PKCS#1 v1.5 signature of `hash` with a CRT key into `out` (the modulus length).
pub fn pkcs1_sign_crt(
    engine: &dyn CryptoEngine,
    key: &CrtKey<'_>,
    alg: HashAlg,
    hash: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    let mut em = [0u8; MAX_MODULUS];
    let em = em.get_mut(..out.len()).ok_or(Error::Length)?;
    pkcs1_sign_encode(alg, hash, em)?;
    engine.rsa_crt(key, em, out)
}

/// Verifies PKCS#1 v1.5 signature `sig` of `hash` under public key (`modulus`, `exponent`).
pub fn pkcs1_verify(
    engine: &dyn CryptoEngine,
    modulus: &[u8],
    exponent: &[u8],
    alg: HashAlg,
    hash: &[u8],
    sig: &[u8],
) -> Result<bool, Error> {
    let k = strip(modulus).len();
    if sig.len() != k {
        return Ok(false);
    }
    let mut em = [0u8; MAX_MODULUS];
    let mut expect = [0u8; MAX_MODULUS];
    let em = em.get_mut(..k).ok_or(Error::Length)?;
    let expect = expect.get_mut(..k).ok_or(Error::Length)?;
    match engine.rsa_exp(modulus, exponent, sig, em) {
        Ok(()) => {}
        Err(Error::InvalidInput) => return Ok(false),
        Err(e) => return Err(e),
    }
    pkcs1_sign_encode(alg, hash, expect)?;
    Ok(subtle::ConstantTimeEq::ct_eq(&em[..], &expect[..]).into())
}

/// RSAES-PKCS1-v1_5 encryption encoding (RFC 8017 §7.2.1) of `msg` into `em` (the modulus
/// length): `00 02 PS 00 msg`, PS at least 8 non-zero random bytes from `rng`.
pub fn pkcs1_encrypt_encode(
    msg: &[u8],
    rng: &dyn crate::RandomSource,
    em: &mut [u8],
) -> Result<(), Error> {
    let k = em.len();
    if k < msg.len() + 11 {
        return Err(Error::Length);
    }
    let ps_end = k - msg.len() - 1;
    em[0] = 0;
    em[1] = 2;
    let ps = em.get_mut(2..ps_end).ok_or(Error::Length)?;
    rng.fill(ps)?;
    for b in ps.iter_mut() {
        // redraw zero bytes one at a time (PS must not contain 00)
        let mut tries = 0;
        while *b == 0 {
            let mut one = [0u8; 1];
            rng.fill(&mut one)?;
            *b = one[0];
            tries += 1;
            if tries > 64 {
                return Err(Error::Random);
            }
        }
    }
    em[ps_end] = 0;
    em.get_mut(ps_end + 1..)
        .ok_or(Error::Length)?
        .copy_from_slice(msg);
    Ok(())
}

/// Checks an RSAES-PKCS1-v1_5 encoded block `00 02 PS 00 msg` (PS at least 8 non-zero
/// bytes; block type 01 with FF padding is accepted too, for data a private key
/// encrypted) and returns the offset of `msg`; `None` if the padding is wrong.
pub fn pkcs1_decrypt_decode(em: &[u8]) -> Option<usize> {
    if em.first() != Some(&0) || !matches!(em.get(1), Some(1 | 2)) {
        return None;
    }
    let block_type = em[1];
    let sep = em.get(2..)?.iter().position(|&b| b == 0)? + 2;
    if sep < 10 {
        return None;
    }
    if block_type == 1 && em.get(2..sep)?.iter().any(|&b| b != 0xFF) {
        return None;
    }
    Some(sep + 1)
}
