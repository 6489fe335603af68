//! ECDSA and ECDH on NIST P-256 at the API level: the curve's domain parameters (so the
//! runtime can check keys that set them explicitly), key generation, and the DER
//! `SEQUENCE { INTEGER r, INTEGER s }` signature format Java Card uses.

use crate::{CryptoEngine, Error, RandomSource};

/// Field prime p of P-256.
pub const P256_P: [u8; 32] =
    hex32("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF");
/// Coefficient a.
pub const P256_A: [u8; 32] =
    hex32("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC");
/// Coefficient b.
pub const P256_B: [u8; 32] =
    hex32("5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B");
/// Order n of the base point.
pub const P256_N: [u8; 32] =
    hex32("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
/// Base point G, uncompressed.
pub const P256_G: [u8; 65] = {
    let x = hex32("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296");
    let y = hex32("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5");
    let mut g = [0u8; 65];
    g[0] = 4;
    let mut i = 0;
    while i < 32 {
        g[1 + i] = x[i];
        g[33 + i] = y[i];
        i += 1;
    }
    g
};

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => c - b'a' + 10,
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// Generates a P-256 key pair from `rng`: the secret scalar and the uncompressed point.
pub fn p256_generate(
    engine: &dyn CryptoEngine,
    rng: &dyn RandomSource,
    secret: &mut [u8; 32],
    public: &mut [u8; 65],
) -> Result<(), Error> {
    for _ in 0..16 {
        rng.fill(secret)?;
        match engine.p256_public(secret, public) {
            Ok(()) => return Ok(()),
            Err(Error::InvalidKey) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::Random)
}

fn der_int(v: &[u8; 32], out: &mut [u8]) -> Result<usize, Error> {
    let start = v.iter().position(|&b| b != 0).unwrap_or(31);
    let body = v.get(start..).ok_or(Error::Length)?;
    let pad = usize::from(body.first().is_some_and(|&b| b & 0x80 != 0));
    let len = body.len() + pad;
    let dst = out.get_mut(..2 + len).ok_or(Error::Length)?;
    dst[0] = 0x02;
    dst[1] = len as u8;
    if pad == 1 {
        dst[2] = 0;
    }
    dst.get_mut(2 + pad..)
        .ok_or(Error::Length)?
        .copy_from_slice(body);
    Ok(2 + len)
}

/// DER-encodes `r || s` into `out`; returns the length (at most 72).
pub fn der_encode(rs: &[u8; 64], out: &mut [u8]) -> Result<usize, Error> {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&rs[..32]);
    s.copy_from_slice(&rs[32..]);
    let mut body = [0u8; 70];
    let n1 = der_int(&r, &mut body)?;
    let n2 = der_int(&s, body.get_mut(n1..).ok_or(Error::Length)?)?;
    let total = 2 + n1 + n2;
    let dst = out.get_mut(..total).ok_or(Error::Length)?;
    dst[0] = 0x30;
    dst[1] = (n1 + n2) as u8;
    dst.get_mut(2..)
        .ok_or(Error::Length)?
        .copy_from_slice(body.get(..n1 + n2).ok_or(Error::Length)?);
    Ok(total)
}

/// Parses one DER INTEGER (positive, minimal, at most 32 value bytes) at the start of
/// `der` into a 32-byte big-endian value; returns it and the bytes consumed.
fn der_read_int(der: &[u8]) -> Option<([u8; 32], usize)> {
    if *der.first()? != 0x02 {
        return None;
    }
    let len = *der.get(1)? as usize;
    let body = der.get(2..2 + len)?;
    let first = *body.first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let body = if first == 0 {
        // a leading zero only where the next byte has its top bit set
        if body.get(1).is_some_and(|&b| b & 0x80 == 0) {
            return None;
        }
        body.get(1..)?
    } else {
        body
    };
    if body.len() > 32 {
        return None;
    }
    let mut v = [0u8; 32];
    v.get_mut(32 - body.len()..)?.copy_from_slice(body);
    Some((v, 2 + len))
}

/// Parses a DER ECDSA signature into `r || s`; `None` if it is not exactly one well-formed
/// SEQUENCE of two INTEGERs.
pub fn der_decode(der: &[u8]) -> Option<[u8; 64]> {
    if *der.first()? != 0x30 {
        return None;
    }
    let len = *der.get(1)? as usize;
    if len >= 0x80 || der.len() != 2 + len {
        return None;
    }
    let body = der.get(2..)?;
    let (r, n1) = der_read_int(body)?;
    let (s, n2) = der_read_int(body.get(n1..)?)?;
    if n1 + n2 != len {
        return None;
    }
    let mut rs = [0u8; 64];
    rs[..32].copy_from_slice(&r);
    rs[32..].copy_from_slice(&s);
    Some(rs)
}
