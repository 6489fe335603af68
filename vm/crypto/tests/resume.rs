//! `DigestCtx::resume` (the engine under `InitializedMessageDigest.setInitialDigest`): a
//! digest continued from an intermediate hash value equals the digest of the whole message.
//! The intermediate values come from RustCrypto's sha1/sha2 compression functions called
//! directly from the FIPS 180-4 initial hash values (§5.3, typed in here), not from
//! oxicard-crypto's engine; the expected digests are the FIPS 180-4 long-message examples
//! (one million 'a') and oxicard-crypto's one-shot digest (itself checked by kat.rs).
#![allow(clippy::unwrap_used)]

use oxicard_crypto::digest::{digest, DigestCtx};
use oxicard_crypto::{Error, HashAlg, SoftEngine};
use proptest::prelude::*;
use sha2::digest::generic_array::GenericArray;

const ALGS: [HashAlg; 5] = [
    HashAlg::Sha1,
    HashAlg::Sha224,
    HashAlg::Sha256,
    HashAlg::Sha384,
    HashAlg::Sha512,
];

/// FIPS 180-4 §5.3 initial hash values.
const SHA1_H0: [u32; 5] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
const SHA224_H0: [u32; 8] = [
    0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4,
];
const SHA256_H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const SHA384_H0: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const SHA512_H0: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

fn h(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The big-endian intermediate hash value after the whole blocks `blocks`, computed with
/// the RustCrypto compression functions.
fn intermediate(alg: HashAlg, blocks: &[u8]) -> Vec<u8> {
    match alg {
        HashAlg::Sha1 => {
            let mut st = SHA1_H0;
            for b in blocks.chunks_exact(64) {
                sha1::compress(&mut st, &[GenericArray::clone_from_slice(b)]);
            }
            st.iter().flat_map(|w| w.to_be_bytes()).collect()
        }
        HashAlg::Sha224 | HashAlg::Sha256 => {
            let mut st = if alg == HashAlg::Sha224 {
                SHA224_H0
            } else {
                SHA256_H0
            };
            for b in blocks.chunks_exact(64) {
                sha2::compress256(&mut st, &[GenericArray::clone_from_slice(b)]);
            }
            st.iter().flat_map(|w| w.to_be_bytes()).collect()
        }
        HashAlg::Sha384 | HashAlg::Sha512 => {
            let mut st = if alg == HashAlg::Sha384 {
                SHA384_H0
            } else {
                SHA512_H0
            };
            for b in blocks.chunks_exact(128) {
                sha2::compress512(&mut st, &[GenericArray::clone_from_slice(b)]);
            }
            st.iter().flat_map(|w| w.to_be_bytes()).collect()
        }
    }
}

/// Resumes after `hashed` bytes of `msg`, feeds the rest, finishes.
fn resumed_digest(alg: HashAlg, msg: &[u8], hashed: usize) -> Vec<u8> {
    let chain = intermediate(alg, &msg[..hashed]);
    let mut ctx = DigestCtx::resume(alg, &chain, hashed as u64).unwrap();
    ctx.update(&SoftEngine, &msg[hashed..]).unwrap();
    let mut out = [0u8; 64];
    let n = ctx.finish(&SoftEngine, &mut out).unwrap();
    out[..n].to_vec()
}

#[test]
fn resume_gives_the_fips180_million_a_digests() {
    let msg = vec![b'a'; 1_000_000];
    for (alg, want) in [
        (HashAlg::Sha1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
        (
            HashAlg::Sha224,
            "20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67",
        ),
        (
            HashAlg::Sha256,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        ),
        (
            HashAlg::Sha384,
            "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
        ),
        (
            HashAlg::Sha512,
            "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
        ),
    ] {
        let b = alg.block_len();
        // one block, about half the message, and all whole blocks but the last
        for hashed in [b, 500_000 / b * b, 1_000_000 / b * b - b] {
            assert_eq!(resumed_digest(alg, &msg, hashed), h(want), "{alg:?} {hashed}");
        }
    }
}

#[test]
fn resume_refuses_bad_lengths() {
    for alg in ALGS {
        let (b, c) = (alg.block_len() as u64, alg.chain_len());
        let chain = vec![0u8; c];
        for hashed in [0, 1, b - 1, b + 1, 3 * b / 2, 1 << 61] {
            assert_eq!(
                DigestCtx::resume(alg, &chain, hashed).err(),
                Some(Error::InvalidInput),
                "{alg:?} {hashed}"
            );
        }
        assert!(DigestCtx::resume(alg, &chain, (1 << 61) - b).is_ok());
        for len in [0, alg.output_len() - 1, c - 1, c + 1] {
            if len == c {
                continue;
            }
            assert_eq!(
                DigestCtx::resume(alg, &vec![0u8; len], b).err(),
                Some(Error::Length),
                "{alg:?} chain of {len}"
            );
        }
    }
}

proptest! {
    /// Resuming after any number of whole blocks of a random message, then saving and
    /// loading the context, gives the one-shot digest of the whole message.
    #[test]
    fn resume_then_rest_equals_one_shot(
        msg in proptest::collection::vec(any::<u8>(), 1..600),
        blocks in 1usize..5,
        which in 0usize..5,
    ) {
        let alg = ALGS[which];
        let hashed = (blocks * alg.block_len()).min(msg.len() / alg.block_len() * alg.block_len());
        prop_assume!(hashed > 0);
        let mut whole = [0u8; 64];
        let n = digest(&SoftEngine, alg, &msg, &mut whole).unwrap();
        prop_assert_eq!(resumed_digest(alg, &msg, hashed), whole[..n].to_vec());
        let chain = intermediate(alg, &msg[..hashed]);
        let ctx = DigestCtx::resume(alg, &chain, hashed as u64).unwrap();
        let mut saved = [0u8; 256];
        ctx.save(&mut saved).unwrap();
        let mut ctx = DigestCtx::load(alg, &saved).unwrap();
        ctx.update(&SoftEngine, &msg[hashed..]).unwrap();
        let mut out = [0u8; 64];
        let m = ctx.finish(&SoftEngine, &mut out).unwrap();
        prop_assert_eq!(&out[..m], &whole[..n]);
    }
}
