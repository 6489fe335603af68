//! Known-answer tests of oxicard-crypto against published vectors: FIPS 180-4 examples
//! (SHA), FIPS 197 appendix C (AES), SP 800-38A F.1/F.2 (AES ECB/CBC), RFC 4231 (HMAC),
//! RFC 6979 A.2.5 (ECDSA P-256), and RSA-2048 PKCS#1 v1.5 with the golden test key
//! (signature values from the golden crypto transcript, computed by Python `cryptography`).
#![allow(clippy::unwrap_used)]

use oxicard_crypto::digest::{digest, hmac, DigestCtx};
use oxicard_crypto::ec::{der_decode, der_encode, p256_generate};
use oxicard_crypto::rsa::{pkcs1_sign_crt, pkcs1_verify, CrtKey};
use oxicard_crypto::{BlockAlg, CryptoEngine, HashAlg, SoftEngine, TestRandom};
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn dg(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    let mut out = [0u8; 64];
    let n = digest(&SoftEngine, alg, data, &mut out).unwrap();
    out[..n].to_vec()
}

const ABC448: &[u8] = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const ABC896: &[u8] = b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

#[test]
fn sha_fips180_examples() {
    let cases: &[(HashAlg, &[u8], &str)] = &[
        (HashAlg::Sha1, b"abc", "A9993E364706816ABA3E25717850C26C9CD0D89D"),
        (HashAlg::Sha1, ABC448, "84983E441C3BD26EBAAE4AA1F95129E5E54670F1"),
        (HashAlg::Sha1, b"", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"),
        (HashAlg::Sha224, b"abc", "23097D223405D8228642A477BDA255B32AADBCE4BDA0B3F7E36C9DA7"),
        (HashAlg::Sha224, ABC448, "75388B16512776CC5DBA5DA1FD890150B0C6455CB4F58B1952522525"),
        (HashAlg::Sha256, b"abc", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
        (HashAlg::Sha256, ABC448, "248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1"),
        (HashAlg::Sha256, b"", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
        (HashAlg::Sha384, b"abc", "CB00753F45A35E8BB5A03D699AC65007272C32AB0EDED1631A8B605A43FF5BED8086072BA1E7CC2358BAECA134C825A7"),
        (HashAlg::Sha384, ABC896, "09330C33F71147E83D192FC782CD1B4753111B173B3B05D22FA08086E3B0F712FCC7C71A557E2DB966C3E9FA91746039"),
        (HashAlg::Sha512, b"abc", "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F"),
        (HashAlg::Sha512, ABC896, "8E959B75DAE313DA8CF4F72814FC143F8F7779C6EB9F7FA17299AEADB6889018501D289E4900F7E4331B99DEC4B5433AC7D329EEB6DD26545E96E55B874BE909"),
    ];
    for (alg, msg, want) in cases {
        assert_eq!(dg(*alg, msg), h(want), "{alg:?} {}", msg.len());
    }
}

#[test]
fn sha_million_a() {
    // FIPS 180-4 long message: one million 'a', fed in uneven pieces
    let chunk = [b'a'; 997];
    for (alg, want) in [
        (HashAlg::Sha1, "34AA973CD4C4DAA4F61EEB2BDBAD27316534016F"),
        (
            HashAlg::Sha256,
            "CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0",
        ),
    ] {
        let mut ctx = DigestCtx::new(alg);
        let mut left = 1_000_000usize;
        while left > 0 {
            let n = left.min(chunk.len());
            ctx.update(&SoftEngine, &chunk[..n]).unwrap();
            left -= n;
        }
        let mut out = [0u8; 64];
        let n = ctx.finish(&SoftEngine, &mut out).unwrap();
        assert_eq!(out[..n].to_vec(), h(want));
    }
}

proptest! {
    /// Saving and loading the context between arbitrary splits gives the one-shot digest.
    #[test]
    fn digest_context_round_trip(data in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..400) {
        for alg in [HashAlg::Sha1, HashAlg::Sha224, HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let cut = cut.min(data.len());
            let mut ctx = DigestCtx::new(alg);
            ctx.update(&SoftEngine, &data[..cut]).unwrap();
            let mut saved = [0u8; 256];
            ctx.save(&mut saved).unwrap();
            let mut ctx = DigestCtx::load(alg, &saved).unwrap();
            ctx.update(&SoftEngine, &data[cut..]).unwrap();
            let mut out = [0u8; 64];
            let n = ctx.finish(&SoftEngine, &mut out).unwrap();
            prop_assert_eq!(out[..n].to_vec(), dg(alg, &data));
        }
    }

    /// Encrypt then decrypt gives the plaintext back, ECB and CBC, AES and DES.
    #[test]
    fn block_cipher_round_trip(key in proptest::array::uniform32(any::<u8>()), blocks in 0usize..6, cbc in any::<bool>()) {
        for (alg, klen) in [(BlockAlg::Aes, 16), (BlockAlg::Aes, 24), (BlockAlg::Aes, 32), (BlockAlg::Des, 16), (BlockAlg::Des, 24)] {
            let bs = alg.block_len();
            let plain: Vec<u8> = (0..blocks * bs).map(|i| i as u8).collect();
            let mut data = plain.clone();
            let mut iv = vec![7u8; bs];
            SoftEngine.block_cipher(alg, &key[..klen], true, cbc.then_some(&mut iv[..]), &mut data).unwrap();
            let mut iv = vec![7u8; bs];
            SoftEngine.block_cipher(alg, &key[..klen], false, cbc.then_some(&mut iv[..]), &mut data).unwrap();
            prop_assert_eq!(data, plain);
        }
    }
}

fn cipher(alg: BlockAlg, key: &str, iv: Option<&str>, encrypt: bool, data: &str) -> Vec<u8> {
    let mut d = h(data);
    let mut iv = iv.map(h);
    SoftEngine
        .block_cipher(alg, &h(key), encrypt, iv.as_deref_mut(), &mut d)
        .unwrap();
    d
}

#[test]
fn aes_fips197_and_sp800_38a() {
    let pt = "00112233445566778899AABBCCDDEEFF";
    let k128 = "000102030405060708090A0B0C0D0E0F";
    let k192 = "000102030405060708090A0B0C0D0E0F1011121314151617";
    let k256 = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
    for (k, ct) in [
        (k128, "69C4E0D86A7B0430D8CDB78070B4C55A"),
        (k192, "DDA97CA4864CDFE06EAF70A0EC0D7191"),
        (k256, "8EA2B7CA516745BFEAFC49904B496089"),
    ] {
        assert_eq!(cipher(BlockAlg::Aes, k, None, true, pt), h(ct));
        assert_eq!(cipher(BlockAlg::Aes, k, None, false, ct), h(pt));
    }
    let msg = "6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710";
    let iv = "000102030405060708090A0B0C0D0E0F";
    // F.1.1 ECB-AES128, F.2.1 CBC-AES128, F.2.5 CBC-AES256
    let k = "2B7E151628AED2A6ABF7158809CF4F3C";
    let ecb = "3AD77BB40D7A3660A89ECAF32466EF97F5D3D58503B9699DE785895A96FDBAAF43B1CD7F598ECE23881B00E3ED0306887B0C785E27E8AD3F8223207104725DD4";
    assert_eq!(cipher(BlockAlg::Aes, k, None, true, msg), h(ecb));
    let cbc = "7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B273BED6B8E3C1743B7116E69E222295163FF1CAA1681FAC09120ECA307586E1A7";
    assert_eq!(cipher(BlockAlg::Aes, k, Some(iv), true, msg), h(cbc));
    assert_eq!(cipher(BlockAlg::Aes, k, Some(iv), false, cbc), h(msg));
    let k = "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4";
    let cbc = "F58C4C04D6E5F1BA779EABFB5F7BFBD69CFC4E967EDB808D679F777BC6702C7D39F23369A9D9BACFA530E26304231461B2EB05E2C39BE9FCDA6C19078C6A9D1B";
    assert_eq!(cipher(BlockAlg::Aes, k, Some(iv), true, msg), h(cbc));
    // CBC state carries across calls: two halves give the same as one call
    let mut ivb = h(iv);
    let mut d = h(msg);
    let (a, b) = d.split_at_mut(32);
    SoftEngine
        .block_cipher(BlockAlg::Aes, &h(k), true, Some(&mut ivb), a)
        .unwrap();
    SoftEngine
        .block_cipher(BlockAlg::Aes, &h(k), true, Some(&mut ivb), b)
        .unwrap();
    assert_eq!(d, h(cbc));
}

#[test]
fn tdes_vectors() {
    // DES: the classic FIPS 81-era test (key 133457799BBCDFF1) and 2-key 3DES CBC from the
    // golden crypto transcript (values computed by Python `cryptography`)
    assert_eq!(
        cipher(
            BlockAlg::Des,
            "133457799BBCDFF1",
            None,
            true,
            "0123456789ABCDEF"
        ),
        h("85E813540F0AB405")
    );
    let ct = cipher(
        BlockAlg::Des,
        "0123456789ABCDEFFEDCBA9876543210",
        Some("1234567890ABCDEF"),
        true,
        "4E6F77206973207468652074696D6520666F7220616C6C20",
    );
    assert_eq!(ct, h("F85D4AB92066789E1D0430671F28AE7AB9627D35385D2E24"));
    // 3-key with K1=K2=K3 degenerates to single DES
    assert_eq!(
        cipher(
            BlockAlg::Des,
            "133457799BBCDFF1133457799BBCDFF1133457799BBCDFF1",
            None,
            true,
            "0123456789ABCDEF"
        ),
        h("85E813540F0AB405")
    );
}

#[test]
fn hmac_rfc4231() {
    let key1 = [0x0bu8; 20];
    let key6 = [0xaau8; 131];
    let cases: &[(&[u8], &[u8], HashAlg, &str)] = &[
        (&key1, b"Hi There", HashAlg::Sha256, "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7"),
        (b"Jefe", b"what do ya want for nothing?", HashAlg::Sha256, "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"),
        (&key1, b"Hi There", HashAlg::Sha224, "896FB1128ABBDF196832107CD49DF33F47B4B1169912BA4F53684B22"),
        (&key1, b"Hi There", HashAlg::Sha512, "87AA7CDEA5EF619D4FF0B4241A1D6CB02379F4E2CE4EC2787AD0B30545E17CDEDAA833B7D6B8A702038B274EAEA3F4E4BE9D914EEB61F1702E696C203A126854"),
        (&key6, b"Test Using Larger Than Block-Size Key - Hash Key First", HashAlg::Sha256, "60E431591EE0B67F0D8A26AACBF5B77F8E0BC6213728C5140546040F0EE37F54"),
        (&key6, b"Test Using Larger Than Block-Size Key - Hash Key First", HashAlg::Sha384, "4ECE084485813E9088D2C63A041BC5B44F9EF1012A2B588F3CD11F05033AC4C60C2EF6AB4030FE8296248DF163F44952"),
    ];
    for (key, msg, alg, want) in cases {
        let mut out = [0u8; 64];
        let n = hmac(&SoftEngine, *alg, key, msg, &mut out).unwrap();
        assert_eq!(out[..n].to_vec(), h(want), "{alg:?}");
    }
}

const RFC6979_X: &str = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
const RFC6979_W: &str = "0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB67903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";

#[test]
fn ecdsa_p256_rfc6979() {
    let mut w = [0u8; 65];
    SoftEngine.p256_public(&h(RFC6979_X), &mut w).unwrap();
    assert_eq!(w.to_vec(), h(RFC6979_W));
    // A.2.5, SHA-256, "sample" and "test"
    for (msg, rs) in [
        (&b"sample"[..], "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"),
        (&b"test"[..], "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"),
    ] {
        let hash = dg(HashAlg::Sha256, msg);
        let sig: [u8; 64] = h(rs).try_into().unwrap();
        assert!(SoftEngine.p256_verify(&w, &hash, &sig).unwrap());
        let mut bad = sig;
        bad[63] ^= 1;
        assert!(!SoftEngine.p256_verify(&w, &hash, &bad).unwrap());
        let mut der = [0u8; 72];
        let n = der_encode(&sig, &mut der).unwrap();
        assert_eq!(der_decode(&der[..n]), Some(sig));
    }
    // the DER form of the "sample" signature as in the golden transcript
    let der = h("3046022100EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716022100F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
    assert!(der_decode(&der).is_some());
    assert!(der_decode(&der[..der.len() - 1]).is_none());
    // ECDH: golden transcript INS 58 (x of S·W, symmetric)
    let peer = h("0420B5F0FEDABFE305A4A019B74EE1102CB13DF5D3EB88202EE24031BF77B69715461E209888D359682DD342279C8354782ADE3BA22A41E31E2A619FF61C565556");
    let mut z = [0u8; 32];
    SoftEngine.p256_ecdh(&h(RFC6979_X), &peer, &mut z).unwrap();
    assert_eq!(
        z.to_vec(),
        h("D8C0D4E803E695BE645CD2307281194CB8D51C96AA72F5EE77F1FE1E25470A7A")
    );
    let mut z2 = [0u8; 32];
    SoftEngine
        .p256_ecdh(
            &h("0F0E0D0C0B0A09080706050403020100F0E0D0C0B0A090807060504030201001"),
            &w,
            &mut z2,
        )
        .unwrap();
    assert_eq!(z, z2);
}

#[test]
fn ecdsa_sign_verify_random_keys() {
    let rng = TestRandom::new([3; 32]);
    for i in 0..8u8 {
        let (mut s, mut w) = ([0u8; 32], [0u8; 65]);
        p256_generate(&SoftEngine, &rng, &mut s, &mut w).unwrap();
        let hash = dg(HashAlg::Sha256, &[i; 10]);
        let mut sig = [0u8; 64];
        SoftEngine.p256_sign(&s, &hash, &rng, &mut sig).unwrap();
        assert!(SoftEngine.p256_verify(&w, &hash, &sig).unwrap());
        let other = dg(HashAlg::Sha256, &[i; 11]);
        assert!(!SoftEngine.p256_verify(&w, &other, &sig).unwrap());
    }
}

/// The golden RSA-2048 test key (PKCS#8 PEM) as its PKCS#1 integers n, e, d, p, q, dp, dq, qinv.
fn golden_rsa_key() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/golden/crypto/keys/rsa2048-test-key.pem"
    );
    let pem = std::fs::read_to_string(path).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64(&b64);
    // PrivateKeyInfo ::= SEQUENCE { INTEGER, AlgorithmIdentifier, OCTET STRING { RSAPrivateKey } }
    let (body, _) = tlv(&der);
    let (_, rest) = tlv_skip(body); // version
    let (_, rest) = tlv_skip(rest); // algorithm
    let (octets, _) = tlv(rest);
    let (mut seq, _) = tlv(octets);
    let mut ints = Vec::new();
    while !seq.is_empty() {
        let (v, rest) = tlv(seq);
        ints.push(v.to_vec());
        seq = rest;
    }
    ints.remove(0); // version 0
    ints
}

fn tlv(d: &[u8]) -> (&[u8], &[u8]) {
    let (len, hl) = match d[1] {
        l if l < 0x80 => (l as usize, 2),
        0x81 => (d[2] as usize, 3),
        0x82 => ((d[2] as usize) << 8 | d[3] as usize, 4),
        _ => panic!("length"),
    };
    (&d[hl..hl + len], &d[hl + len..])
}

fn tlv_skip(d: &[u8]) -> (&[u8], &[u8]) {
    tlv(d)
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        acc = acc << 6 | val(c) as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn rsa2048_pkcs1_v15_golden_key() {
    let k = golden_rsa_key();
    let (n, e, d) = (&k[0], &k[1], &k[2]);
    let crt = CrtKey {
        p: &k[3],
        q: &k[4],
        dp: &k[5],
        dq: &k[6],
        qinv: &k[7],
    };
    let hash = dg(HashAlg::Sha256, b"abc");
    let mut sig = [0u8; 256];
    pkcs1_sign_crt(&SoftEngine, &crt, HashAlg::Sha256, &hash, &mut sig).unwrap();
    // golden transcript INS 5A, "abc"
    let want = h("3AF082DB6FD0D29039D8B51F65BE9580E401CE3BC849A7B5CA7976D91DAFC483CFDCC2090564BEA8D1585FAFA6F987BA35224E7A20CF82390C071DA2532B61816C024C88107E32C8556DDBF038CFA6DBA30F710684ADD79A507E67B3951ADEB59BE6CBB75F27AFEC6A3BDEA629B0089DAAADFAC45AB505782AFDE1F038E2D57D100C6674545F1BE6DA769A175BE68878B957B41655E4C15D13F2F3AFFAC76A53A5C29F264ED0B0E34FC69FF76EF8EC0BB0FC25EC6561AEAC4E06DB52D6936A8077525FE46D7262B1E6E804E22F27B5C7926063FAB0972A0644DFB80AC7A0E9C3F75E66E6D932A453FB2CB4ADB97EDDB6A16AF5C391FA56B2C0D108FE951BC6E0");
    assert_eq!(sig.to_vec(), want);
    assert!(pkcs1_verify(&SoftEngine, n, e, HashAlg::Sha256, &hash, &sig).unwrap());
    let mut bad = sig;
    bad[44] ^= 1;
    assert!(!pkcs1_verify(&SoftEngine, n, e, HashAlg::Sha256, &hash, &bad).unwrap());
    // the non-CRT private exponent gives the same signature
    let mut em = [0u8; 256];
    oxicard_crypto::rsa::pkcs1_sign_encode(HashAlg::Sha256, &hash, &mut em).unwrap();
    let mut sig2 = [0u8; 256];
    SoftEngine.rsa_exp(n, d, &em, &mut sig2).unwrap();
    assert_eq!(sig2, sig);
}

proptest! {
    /// RSAES-PKCS1-v1_5 encoding: the decoder finds exactly the message again, the
    /// padding string has no zero byte and the layout is 00 02 PS 00 M (RFC 8017 §7.2.1).
    #[test]
    fn pkcs1_encryption_encoding_round_trip(
        msg in proptest::collection::vec(any::<u8>(), 0..=117),
        seed in any::<[u8; 32]>(),
    ) {
        use oxicard_crypto::rsa::{pkcs1_decrypt_decode, pkcs1_encrypt_encode};
        let rng = TestRandom::new(seed);
        let mut em = [0u8; 128];
        pkcs1_encrypt_encode(&msg, &rng, &mut em).unwrap();
        prop_assert_eq!(&em[..2], &[0u8, 2][..]);
        let start = pkcs1_decrypt_decode(&em).unwrap();
        prop_assert_eq!(&em[start..], &msg[..]);
        prop_assert!(em[2..start - 1].iter().all(|&b| b != 0));
        prop_assert!(start - 3 >= 8);
        // too long a message for the modulus is refused
        let long = [0u8; 118];
        prop_assert!(pkcs1_encrypt_encode(&long, &rng, &mut em).is_err());
        // a wrong block type is refused
        em[1] = 3;
        prop_assert_eq!(pkcs1_decrypt_decode(&em), None);
    }
}

/// Checks a generated key with Python's big integers (an implementation independent of
/// crypto-bigint): n = p·q with p, q passing 20 Fermat/Miller-Rabin-style bases,
/// e·d ≡ 1 mod φ(n), dp = d mod (p − 1), dq = d mod (q − 1), q·qinv ≡ 1 mod p.
fn python_checks_rsa_key(bits: usize, parts: &[Vec<u8>; 7]) {
    let hexs: Vec<String> = parts
        .iter()
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
        .collect();
    let script = format!(
        "n,d,p,q,dp,dq,qi=[int(x,16) for x in {hexs:?}]\n\
         e=65537\n\
         assert n==p*q and n.bit_length()=={bits}\n\
         for x in (p,q):\n  assert all(pow(a,x-1,x)==1 for a in (2,3,5,7,11,13,17,19,23,29,31,37,41,43,47,53,59,61,67,71))\n\
         assert (e*d)%((p-1)*(q-1))==1\n\
         assert dp==d%(p-1) and dq==d%(q-1) and (q*qi)%p==1\n\
         print('ok')\n"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rsa_key_generation_1024_and_2048() {
    use oxicard_crypto::rsa::{generate, GeneratedKey};
    for (bits, seed) in [(512usize, 1u8), (1024, 2), (2048, 3)] {
        let rng = TestRandom::new([seed; 32]);
        let mut parts: [Vec<u8>; 7] = [
            vec![0; bits / 8],
            vec![0; bits / 8],
            vec![0; bits / 16],
            vec![0; bits / 16],
            vec![0; bits / 16],
            vec![0; bits / 16],
            vec![0; bits / 16],
        ];
        {
            let [n, d, p, q, dp, dq, qinv] = &mut parts;
            let mut out = GeneratedKey {
                modulus: n,
                private_exponent: d,
                p,
                q,
                dp,
                dq,
                qinv,
            };
            generate(&rng, bits, &mut out).unwrap();
        }
        python_checks_rsa_key(bits, &parts);
        // and the key works: a CRT signature verifies under (n, e)
        let [n, _, p, q, dp, dq, qinv] = &parts;
        let key = CrtKey { p, q, dp, dq, qinv };
        let hash = dg(HashAlg::Sha256, b"generated");
        let mut sig = vec![0u8; bits / 8];
        pkcs1_sign_crt(&SoftEngine, &key, HashAlg::Sha256, &hash, &mut sig).unwrap();
        assert!(pkcs1_verify(&SoftEngine, n, &[1, 0, 1], HashAlg::Sha256, &hash, &sig).unwrap());
    }
    // sizes we do not generate, and buffers of the wrong length
    let rng = TestRandom::new([4; 32]);
    let (mut a, mut b, mut c) = ([0u8; 16], [0u8; 16], [0u8; 8]);
    let (mut d, mut e, mut f, mut g) = ([0u8; 8], [0u8; 8], [0u8; 8], [0u8; 8]);
    let mut out = oxicard_crypto::rsa::GeneratedKey {
        modulus: &mut a,
        private_exponent: &mut b,
        p: &mut c,
        q: &mut d,
        dp: &mut e,
        dq: &mut f,
        qinv: &mut g,
    };
    assert_eq!(
        oxicard_crypto::rsa::generate(&rng, 128, &mut out),
        Err(oxicard_crypto::Error::Unsupported)
    );
    assert_eq!(
        oxicard_crypto::rsa::generate(&rng, 1024, &mut out),
        Err(oxicard_crypto::Error::Length)
    );
}

/// AES-CMAC of `msg` through the block-level helpers, as the runtime streams it.
fn cmac(key: &[u8], msg: &[u8]) -> [u8; 16] {
    use oxicard_crypto::mac::{cbc_mac_step, cmac_last_block, cmac_subkeys};
    let (k1, k2) = cmac_subkeys(&SoftEngine, key).unwrap();
    let full = if msg.is_empty() {
        0
    } else {
        (msg.len() - 1) / 16
    };
    let mut chain = [0u8; 16];
    for block in msg[..full * 16].chunks(16) {
        cbc_mac_step(&SoftEngine, key, &mut chain, block.try_into().unwrap()).unwrap();
    }
    let last = cmac_last_block(&msg[full * 16..], &k1, &k2);
    cbc_mac_step(&SoftEngine, key, &mut chain, &last).unwrap();
    chain
}

/// RFC 4493 section 4 (AES-128 subkeys and examples 1-4) and SP 800-38B appendix D.3
/// (AES-256 examples 9 and 12).
#[test]
fn aes_cmac_rfc4493_and_sp800_38b() {
    let key = h("2b7e151628aed2a6abf7158809cf4f3c");
    let (k1, k2) = oxicard_crypto::mac::cmac_subkeys(&SoftEngine, &key).unwrap();
    assert_eq!(k1.to_vec(), h("fbeed618357133667c85e08f7236a8de"));
    assert_eq!(k2.to_vec(), h("f7ddac306ae266ccf90bc11ee46d513b"));
    let msg = h(
        "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
    );
    for (len, want) in [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ] {
        assert_eq!(
            cmac(&key, &msg[..len]).to_vec(),
            h(want),
            "RFC 4493, {len} bytes"
        );
    }
    let key256 = h("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    assert_eq!(
        cmac(&key256, &[]).to_vec(),
        h("028962f61b7bf89efc6b551f4667d983")
    );
    assert_eq!(
        cmac(&key256, &msg).to_vec(),
        h("e1992190549f6ed5696a2c056c315410")
    );
}
