//! RSA on fixed-size integers (crypto-bigint, Montgomery form): modular exponentiation for
//! 1024/2048/4096-bit moduli, the CRT private operation, and PKCS#1 v1.5 signature
//! encoding (RFC 8017 §9.2).

use crate::{CryptoEngine, Error, HashAlg, RandomSource};
use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{NonZero, Uint, U1024, U2048, U256, U4096, U512};

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

/// The public exponent of generated keys (F4 = 65537).
pub const PUBLIC_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];
const E: u32 = 65537;

/// Odd primes below 256, for trial division before Miller-Rabin.
const SMALL_PRIMES: [u32; 53] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199, 211, 223, 227, 229, 233, 239, 241, 251,
];

/// Miller-Rabin rounds for a prime of `bits` (FIPS 186-4 Table C.2, error below 2⁻¹⁰⁰).
fn mr_rounds(bits: usize) -> usize {
    if bits >= 1024 {
        4
    } else if bits >= 512 {
        7
    } else {
        40
    }
}

/// `x mod m` for a single-limb `m`.
fn rem_small<const L: usize>(x: &Uint<L>, m: u32) -> Result<u32, Error> {
    let m: Option<NonZero<crypto_bigint::Limb>> =
        NonZero::new(crypto_bigint::Limb::from_u32(m)).into();
    let (_, r) = x.div_rem_limb(m.ok_or(Error::InvalidInput)?);
    u32::try_from(r.0).map_err(|_| Error::InvalidInput)
}

/// A uniformly random value of `Uint<L>` from `rng`.
fn random_uint<const L: usize>(rng: &dyn RandomSource) -> Result<Uint<L>, Error> {
    let mut buf = [0u8; MAX_MODULUS];
    let bytes = buf.get_mut(..Uint::<L>::BYTES).ok_or(Error::Length)?;
    rng.fill(bytes)?;
    let x = Uint::from_be_slice(bytes);
    bytes.fill(0);
    Ok(x)
}

/// Miller-Rabin probable-prime test of odd `n > 3` with `rounds` random bases.
fn miller_rabin<const L: usize>(
    n: &Uint<L>,
    rounds: usize,
    rng: &dyn RandomSource,
) -> Result<bool, Error> {
    let params = params(n)?;
    let n_minus_1 = n.wrapping_sub(&Uint::ONE);
    let s = n_minus_1.trailing_zeros();
    let d = n_minus_1.shr_vartime(s);
    // bases uniform enough in [2, n − 2]: a random value mod (n − 3), plus 2
    let n_minus_3: Option<NonZero<Uint<L>>> =
        NonZero::new(n.wrapping_sub(&Uint::from_u8(3))).into();
    let n_minus_3 = n_minus_3.ok_or(Error::InvalidInput)?;
    'bases: for _ in 0..rounds {
        let a = random_uint::<L>(rng)?
            .rem(&n_minus_3)
            .wrapping_add(&Uint::from_u8(2));
        let mut y = DynResidue::new(&a, params).pow(&d).retrieve();
        if y == Uint::ONE || y == n_minus_1 {
            continue;
        }
        for _ in 1..s {
            y = DynResidue::new(&y, params).square().retrieve();
            if y == n_minus_1 {
                continue 'bases;
            }
            if y == Uint::ONE {
                return Ok(false);
            }
        }
        return Ok(false);
    }
    Ok(true)
}

/// A random prime of exactly `Uint<L>::BITS` bits with its two top bits set (so the
/// product of two has the full length) and `p − 1` prime to [`PUBLIC_EXPONENT`].
fn random_prime<const L: usize>(rng: &dyn RandomSource) -> Result<Uint<L>, Error> {
    let bits = Uint::<L>::BITS;
    let top = Uint::<L>::from_u8(3).shl_vartime(bits - 2);
    // about 350 odd candidates on average for 1024 bits: 100000 means the source is broken
    for _ in 0..100_000 {
        let p = random_uint::<L>(rng)?.bitor(&top).bitor(&Uint::ONE);
        let mut composite = false;
        for &sp in SMALL_PRIMES.iter() {
            if rem_small(&p, sp)? == 0 {
                composite = true;
                break;
            }
        }
        if composite || rem_small(&p, E)? == 1 {
            continue;
        }
        if miller_rabin(&p, mr_rounds(bits), rng)? {
            return Ok(p);
        }
    }
    Err(Error::Random)
}

/// `E⁻¹ mod m` for even `m` prime to E: `(k·m + 1) / E` with `k = −m⁻¹ mod E`. `W`
/// must have one limb more than `L` (room for `k·m`).
fn inverse_of_e<const L: usize, const W: usize>(m: &Uint<L>) -> Result<Uint<L>, Error> {
    let r = u64::from(rem_small(m, E)?);
    if r == 0 {
        return Err(Error::InvalidKey);
    }
    // r⁻¹ mod E by Fermat (E is prime), then k = E − r⁻¹
    let (mut base, mut exp, mut inv) = (r, u64::from(E) - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            inv = inv * base % u64::from(E);
        }
        base = base * base % u64::from(E);
        exp >>= 1;
    }
    let k = u64::from(E) - inv;
    let km = m
        .resize::<W>()
        .wrapping_mul(&Uint::<W>::from_u64(k))
        .wrapping_add(&Uint::ONE);
    let e: Option<NonZero<crypto_bigint::Limb>> =
        NonZero::new(crypto_bigint::Limb::from_u32(E)).into();
    let (q, rest) = km.div_rem_limb(e.ok_or(Error::InvalidKey)?);
    if rest.0 != 0 {
        return Err(Error::InvalidKey);
    }
    Ok(q.resize::<L>())
}

/// Where [`generate`] puts a new key: big-endian buffers, `modulus` and
/// `private_exponent` of the modulus length, the CRT components of half that.
#[derive(Debug)]
pub struct GeneratedKey<'a> {
    /// n = p·q.
    pub modulus: &'a mut [u8],
    /// d = e⁻¹ mod (p − 1)(q − 1).
    pub private_exponent: &'a mut [u8],
    /// Prime p (p > q).
    pub p: &'a mut [u8],
    /// Prime q.
    pub q: &'a mut [u8],
    /// d mod (p − 1).
    pub dp: &'a mut [u8],
    /// d mod (q − 1).
    pub dq: &'a mut [u8],
    /// q⁻¹ mod p.
    pub qinv: &'a mut [u8],
}

fn generate_l<const H: usize, const HW: usize, const L: usize, const LW: usize>(
    rng: &dyn RandomSource,
    out: &mut GeneratedKey<'_>,
) -> Result<(), Error> {
    let mut p = random_prime::<H>(rng)?;
    let mut q = random_prime::<H>(rng)?;
    for _ in 0..16 {
        if p != q {
            break;
        }
        q = random_prime::<H>(rng)?;
    }
    if p == q {
        return Err(Error::Random);
    }
    if p < q {
        core::mem::swap(&mut p, &mut q);
    }
    let p1 = p.wrapping_sub(&Uint::ONE);
    let q1 = q.wrapping_sub(&Uint::ONE);
    let dp = inverse_of_e::<H, HW>(&p1)?;
    let dq = inverse_of_e::<H, HW>(&q1)?;
    let phi = p1.resize::<L>().wrapping_mul(&q1.resize::<L>());
    let d = inverse_of_e::<L, LW>(&phi)?;
    let (qinv, invertible) = DynResidue::new(&q, params(&p)?).invert();
    if !bool::from(invertible) {
        return Err(Error::InvalidKey);
    }
    let n = p.resize::<L>().wrapping_mul(&q.resize::<L>());
    store(&n, out.modulus)?;
    store(&d, out.private_exponent)?;
    store(&p, out.p)?;
    store(&q, out.q)?;
    store(&dp, out.dp)?;
    store(&dq, out.dq)?;
    store(&qinv.retrieve(), out.qinv)
}

/// Generates an RSA key of `bits` (512, 1024 or 2048) with public exponent
/// [`PUBLIC_EXPONENT`]: two random primes from `rng` (trial division, then Miller-Rabin
/// with FIPS 186-4 round counts) and the private and CRT components, into `out`.
pub fn generate(
    rng: &dyn RandomSource,
    bits: usize,
    out: &mut GeneratedKey<'_>,
) -> Result<(), Error> {
    let half = bits / 16;
    let lens_ok = out.modulus.len() == bits / 8
        && out.private_exponent.len() == bits / 8
        && [&out.p, &out.q, &out.dp, &out.dq, &out.qinv]
            .iter()
            .all(|b| b.len() == half);
    if !lens_ok {
        return Err(Error::Length);
    }
    match bits {
        512 => {
            generate_l::<{ U256::LIMBS }, { U256::LIMBS + 1 }, { U512::LIMBS }, { U512::LIMBS + 1 }>(
                rng, out,
            )
        }
        1024 => {
            generate_l::<{ U512::LIMBS }, { U512::LIMBS + 1 }, { U1024::LIMBS }, { U1024::LIMBS + 1 }>(
                rng, out,
            )
        }
        2048 => generate_l::<
            { U1024::LIMBS },
            { U1024::LIMBS + 1 },
            { U2048::LIMBS },
            { U2048::LIMBS + 1 },
        >(rng, out),
        _ => Err(Error::Unsupported),
    }
}
