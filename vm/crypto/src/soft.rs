//! The software [`CryptoEngine`]: RustCrypto's sha1/sha2 compression functions, aes, des,
//! p256, and crypto-bigint modular exponentiation for RSA.

use crate::{rng::RngAdapter, rsa, BlockAlg, CryptoEngine, Error, HashAlg, RandomSource};
use cipher::generic_array::GenericArray;
use cipher::{BlockDecrypt, BlockEncrypt, KeyInit};

/// The software implementation of [`CryptoEngine`] (no state).
#[derive(Clone, Copy, Debug, Default)]
pub struct SoftEngine;

fn compress32(alg: HashAlg, chain: &mut [u8], blocks: &[u8]) -> Result<(), Error> {
    let mut st = [0u32; 8];
    let words = alg.chain_len() / 4;
    for (w, c) in st.iter_mut().zip(chain.chunks_exact(4)).take(words) {
        *w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for block in blocks.chunks_exact(64) {
        let arr: [u8; 64] = block.try_into().map_err(|_| Error::Length)?;
        let ga = GenericArray::from(arr);
        if alg == HashAlg::Sha1 {
            let mut s5 = [st[0], st[1], st[2], st[3], st[4]];
            sha1::compress(&mut s5, core::slice::from_ref(&ga));
            st[..5].copy_from_slice(&s5);
        } else {
            sha2::compress256(&mut st, core::slice::from_ref(&ga));
        }
    }
    for (w, c) in st.iter().zip(chain.chunks_exact_mut(4)).take(words) {
        c.copy_from_slice(&w.to_be_bytes());
    }
    Ok(())
}

fn compress64(chain: &mut [u8], blocks: &[u8]) -> Result<(), Error> {
    let mut st = [0u64; 8];
    for (w, c) in st.iter_mut().zip(chain.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        *w = u64::from_be_bytes(b);
    }
    for block in blocks.chunks_exact(128) {
        let arr: [u8; 128] = block.try_into().map_err(|_| Error::Length)?;
        sha2::compress512(&mut st, core::slice::from_ref(&GenericArray::from(arr)));
    }
    for (w, c) in st.iter().zip(chain.chunks_exact_mut(8)) {
        c.copy_from_slice(&w.to_be_bytes());
    }
    Ok(())
}

/// Runs ECB or CBC over `data` with a RustCrypto block cipher.
fn run_blocks<C: BlockEncrypt + BlockDecrypt>(
    c: &C,
    bs: usize,
    encrypt: bool,
    mut iv: Option<&mut [u8]>,
    data: &mut [u8],
) -> Result<(), Error> {
    if !data.len().is_multiple_of(bs) {
        return Err(Error::Length);
    }
    if let Some(iv) = iv.as_deref() {
        if iv.len() != bs {
            return Err(Error::Length);
        }
    }
    let mut saved = [0u8; 16];
    for block in data.chunks_exact_mut(bs) {
        match (iv.as_deref_mut(), encrypt) {
            (Some(iv), true) => {
                block.iter_mut().zip(iv.iter()).for_each(|(b, v)| *b ^= v);
                c.encrypt_block(GenericArray::from_mut_slice(block));
                iv.copy_from_slice(block);
            }
            (Some(iv), false) => {
                saved[..bs].copy_from_slice(block);
                c.decrypt_block(GenericArray::from_mut_slice(block));
                block.iter_mut().zip(iv.iter()).for_each(|(b, v)| *b ^= v);
                iv.copy_from_slice(&saved[..bs]);
            }
            (None, true) => c.encrypt_block(GenericArray::from_mut_slice(block)),
            (None, false) => c.decrypt_block(GenericArray::from_mut_slice(block)),
        }
    }
    Ok(())
}

fn secret_key(secret: &[u8]) -> Result<p256::SecretKey, Error> {
    if secret.len() != 32 {
        return Err(Error::InvalidKey);
    }
    p256::SecretKey::from_slice(secret).map_err(|_| Error::InvalidKey)
}

impl CryptoEngine for SoftEngine {
    fn compress(&self, alg: HashAlg, chain: &mut [u8], blocks: &[u8]) -> Result<(), Error> {
        if chain.len() != alg.chain_len() || !blocks.len().is_multiple_of(alg.block_len()) {
            return Err(Error::Length);
        }
        match alg {
            HashAlg::Sha384 | HashAlg::Sha512 => compress64(chain, blocks),
            _ => compress32(alg, chain, blocks),
        }
    }

    fn block_cipher(
        &self,
        alg: BlockAlg,
        key: &[u8],
        encrypt: bool,
        iv: Option<&mut [u8]>,
        data: &mut [u8],
    ) -> Result<(), Error> {
        let bs = alg.block_len();
        let bad = |_| Error::Length;
        match (alg, key.len()) {
            (BlockAlg::Aes, 16) => run_blocks(
                &aes::Aes128::new_from_slice(key).map_err(bad)?,
                bs,
                encrypt,
                iv,
                data,
            ),
            (BlockAlg::Aes, 24) => run_blocks(
                &aes::Aes192::new_from_slice(key).map_err(bad)?,
                bs,
                encrypt,
                iv,
                data,
            ),
            (BlockAlg::Aes, 32) => run_blocks(
                &aes::Aes256::new_from_slice(key).map_err(bad)?,
                bs,
                encrypt,
                iv,
                data,
            ),
            (BlockAlg::Des, 8) => run_blocks(
                &des::Des::new_from_slice(key).map_err(bad)?,
                bs,
                encrypt,
                iv,
                data,
            ),
            (BlockAlg::Des, 16) => run_blocks(
                &des::TdesEde2::new_from_slice(key).map_err(bad)?,
                bs,
                encrypt,
                iv,
                data,
            ),
            (BlockAlg::Des, 24) => run_blocks(
                &des::TdesEde3::new_from_slice(key).map_err(bad)?,
                bs,
                encrypt,
                iv,
                data,
            ),
            _ => Err(Error::Length),
        }
    }

    fn p256_public(&self, secret: &[u8], out: &mut [u8; 65]) -> Result<(), Error> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let point = secret_key(secret)?.public_key().to_encoded_point(false);
        let bytes = point.as_bytes();
        if bytes.len() != 65 {
            return Err(Error::InvalidKey);
        }
        out.copy_from_slice(bytes);
        Ok(())
    }

    fn p256_sign(
        &self,
        secret: &[u8],
        hash: &[u8],
        rng: &dyn RandomSource,
        out: &mut [u8; 64],
    ) -> Result<(), Error> {
        use p256::ecdsa::signature::hazmat::RandomizedPrehashSigner;
        let key = p256::ecdsa::SigningKey::from(secret_key(secret)?);
        let mut adapter = RngAdapter::new(rng);
        let sig: p256::ecdsa::Signature = key
            .sign_prehash_with_rng(&mut adapter, hash)
            .map_err(|_| Error::InvalidInput)?;
        adapter.result()?;
        out.copy_from_slice(&sig.to_bytes());
        Ok(())
    }

    fn p256_verify(&self, public: &[u8], hash: &[u8], sig: &[u8; 64]) -> Result<bool, Error> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let key =
            p256::ecdsa::VerifyingKey::from_sec1_bytes(public).map_err(|_| Error::InvalidKey)?;
        let Ok(sig) = p256::ecdsa::Signature::from_slice(sig) else {
            return Ok(false);
        };
        Ok(key.verify_prehash(hash, &sig).is_ok())
    }

    fn p256_ecdh(&self, secret: &[u8], public: &[u8], out: &mut [u8; 32]) -> Result<(), Error> {
        let sk = secret_key(secret)?;
        let pk = p256::PublicKey::from_sec1_bytes(public).map_err(|_| Error::InvalidKey)?;
        let shared = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
        out.copy_from_slice(shared.raw_secret_bytes());
        Ok(())
    }

    fn rsa_exp(
        &self,
        modulus: &[u8],
        exponent: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        rsa::mod_exp(modulus, exponent, input, out)
    }

    fn rsa_crt(&self, key: &rsa::CrtKey<'_>, input: &[u8], out: &mut [u8]) -> Result<(), Error> {
        rsa::crt_exp(key, input, out)
    }
}
