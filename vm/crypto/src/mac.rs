//! Block-cipher MACs at the block level, for Signature ALG_AES_MAC_128_NOPAD (CBC-MAC,
//! ISO/IEC 9797-1 MAC algorithm 1 without padding) and ALG_AES_CMAC_128 (NIST SP 800-38B,
//! RFC 4493): one chaining step and the CMAC subkeys and last block, so the runtime can
//! stream a message through them with its state in a transient array.

use crate::{BlockAlg, CryptoEngine, Error};

/// AES block length.
pub const BLOCK: usize = 16;

/// One CBC-MAC step: `chain = E_key(chain ⊕ block)`.
pub fn cbc_mac_step(
    engine: &dyn CryptoEngine,
    key: &[u8],
    chain: &mut [u8; BLOCK],
    block: &[u8; BLOCK],
) -> Result<(), Error> {
    chain.iter_mut().zip(block).for_each(|(c, b)| *c ^= b);
    engine.block_cipher(BlockAlg::Aes, key, true, None, chain)
}

/// Doubling in GF(2¹²⁸) as SP 800-38B §6.1 uses it: shift left one bit, and reduce with
/// 0x87 when the top bit fell off.
fn double(v: &[u8; BLOCK]) -> [u8; BLOCK] {
    let mut out = [0u8; BLOCK];
    let mut carry = 0u8;
    for (o, &b) in out.iter_mut().zip(v.iter()).rev() {
        *o = b << 1 | carry;
        carry = b >> 7;
    }
    out[BLOCK - 1] ^= 0x87 & 0u8.wrapping_sub(carry);
    out
}

/// The CMAC subkeys (K1, K2) of AES key `key` (SP 800-38B §6.1).
pub fn cmac_subkeys(
    engine: &dyn CryptoEngine,
    key: &[u8],
) -> Result<([u8; BLOCK], [u8; BLOCK]), Error> {
    let mut l = [0u8; BLOCK];
    engine.block_cipher(BlockAlg::Aes, key, true, None, &mut l)?;
    let k1 = double(&l);
    let k2 = double(&k1);
    l.fill(0);
    Ok((k1, k2))
}

/// The CMAC last block of the message's final `tail` (0 to 16 bytes; 16 only when the
/// message is a non-empty multiple of the block): `tail ⊕ K1` when complete, else
/// `(tail ‖ 10…0) ⊕ K2` (SP 800-38B §6.2 steps 3-4).
pub fn cmac_last_block(tail: &[u8], k1: &[u8; BLOCK], k2: &[u8; BLOCK]) -> [u8; BLOCK] {
    let mut m = [0u8; BLOCK];
    if tail.len() == BLOCK {
        m.copy_from_slice(tail);
        m.iter_mut().zip(k1).for_each(|(a, k)| *a ^= k);
    } else {
        let n = tail.len().min(BLOCK - 1);
        m[..n].copy_from_slice(&tail[..n]);
        m[n] = 0x80;
        m.iter_mut().zip(k2).for_each(|(a, k)| *a ^= k);
    }
    m
}
