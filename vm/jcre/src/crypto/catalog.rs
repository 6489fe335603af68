//! The javacard.security and javacardx.crypto part of the API catalog: packages, classes
//! (with the real class and method tokens of the Java Card 3.0.5 export files, see
//! ../shared/spec/api-tokens.tsv), hidden key implementation classes, native method
//! signatures and static methods. `crate::api` appends these to the framework tables.

use crate::api::{n, FRAMEWORK_CLASS_COUNT, PKG_FRAMEWORK};
use oxicard_vm::api::{BuiltinClass, NativeId, NativeMethod, StaticMethod, CLASS_INTERFACE};
use oxicard_vm::ClassId;

/// API package index of javacard.security.
pub const PKG_SECURITY: u8 = PKG_FRAMEWORK + 1;
/// API package index of javacardx.crypto.
pub const PKG_CRYPTOX: u8 = PKG_FRAMEWORK + 2;

/// First native id of the crypto natives.
pub const NATIVE_BASE: NativeId = n::COUNT as NativeId;

/// Local native numbers (add [`NATIVE_BASE`]).
#[allow(missing_docs)]
pub mod local {
    /// Key methods: `KEY + universal key vtable slot` (slots 1..=40).
    pub const KEY: u16 = 0;
    /// MessageDigest virtual tokens 1..=5.
    pub const MD: u16 = 41;
    /// RandomData virtual tokens 1..=4.
    pub const RD: u16 = 46;
    /// Signature virtual tokens 1..=13.
    pub const SIG: u16 = 50;
    /// KeyPair virtual tokens 1..=3.
    pub const KP: u16 = 63;
    /// KeyAgreement virtual tokens 1..=3.
    pub const KA: u16 = 66;
    /// Cipher virtual tokens 1..=7.
    pub const CI: u16 = 69;
    pub const MD_GET_INSTANCE: u16 = 76;
    pub const CIPHER_GET_INSTANCE: u16 = 77;
    pub const CIPHER_GET_INSTANCE3: u16 = 78;
    pub const SIG_GET_INSTANCE: u16 = 79;
    pub const SIG_GET_INSTANCE4: u16 = 80;
    pub const RD_GET_INSTANCE: u16 = 81;
    pub const KA_GET_INSTANCE: u16 = 82;
    pub const BUILD_KEY: u16 = 83;
    pub const BUILD_KEY4: u16 = 84;
    pub const KEYPAIR_INIT_ALG: u16 = 85;
    pub const KEYPAIR_INIT_KEYS: u16 = 86;
    pub const THROW_IT: u16 = 87;
    /// `MessageDigest.getInitializedMessageDigestInstance(byte, boolean)`.
    pub const IMD_GET_INSTANCE: u16 = 88;
    /// `InitializedMessageDigest.setInitialDigest` (virtual token 6).
    pub const IMD_SET_INITIAL_DIGEST: u16 = 89;
    /// Number of crypto natives.
    pub const COUNT: usize = 90;
}

/// (nargs, return words) of the universal key vtable, slots 0..=40.
const KEY_SIGS: [(u8, u8); 41] = [
    (2, 1), // 0 equals
    (1, 0), // 1 clearKey
    (1, 1), // 2 getSize
    (1, 1), // 3 getType
    (1, 1), // 4 isInitialized
    (3, 0), // 5 setKey([BS)  AES, DES
    (3, 1), // 6 getKey([BS)B
    (4, 0), // 7 setKey([BSS) HMAC
    (4, 0), // 8 setFieldFP
    (2, 0), // 9 setFieldF2M(S)
    (4, 0), // 10 setFieldF2M(SSS)
    (4, 0), // 11 setA
    (4, 0), // 12 setB
    (4, 0), // 13 setG
    (4, 0), // 14 setR
    (2, 0), // 15 setK
    (3, 1), // 16 getField
    (3, 1), // 17 getA
    (3, 1), // 18 getB
    (3, 1), // 19 getG
    (3, 1), // 20 getR
    (1, 1), // 21 getK
    (4, 0), // 22 setS
    (3, 1), // 23 getS
    (4, 0), // 24 setW
    (3, 1), // 25 getW
    (2, 0), // 26 copyDomainParametersFrom
    (4, 0), // 27 setExponent
    (4, 0), // 28 setModulus
    (3, 1), // 29 getExponent
    (3, 1), // 30 getModulus
    (4, 0), // 31 setP
    (4, 0), // 32 setQ
    (4, 0), // 33 setDP1
    (4, 0), // 34 setDQ1
    (4, 0), // 35 setPQ
    (3, 1), // 36 getP
    (3, 1), // 37 getQ
    (3, 1), // 38 getDP1
    (3, 1), // 39 getDQ1
    (3, 1), // 40 getPQ
];

const fn nm(nargs: u8, ret_words: u8) -> NativeMethod {
    NativeMethod { nargs, ret_words }
}

/// The crypto native signatures (index = local native number).
pub const fn natives() -> [NativeMethod; local::COUNT] {
    let mut t = [nm(0, 0); local::COUNT];
    let mut i = 1;
    while i < 41 {
        t[(local::KEY as usize) + i] = nm(KEY_SIGS[i].0, KEY_SIGS[i].1);
        i += 1;
    }
    // MessageDigest: doFinal, getAlgorithm, getLength, reset, update
    let md = [(6, 1), (1, 1), (1, 1), (1, 0), (4, 0)];
    let rd = [(4, 0), (4, 0), (4, 1), (1, 1)];
    let sig = [
        (1, 1), // getAlgorithm
        (1, 1), // getLength
        (3, 0), // init(Key, B)
        (6, 0), // init(Key, B, [B, S, S)
        (6, 1), // sign
        (4, 0), // update
        (7, 1), // verify
        (7, 0), // setInitialDigest
        (6, 1), // signPreComputedHash
        (7, 1), // verifyPreComputedHash
        (1, 1), // getMessageDigestAlgorithm
        (1, 1), // getCipherAlgorithm
        (1, 1), // getPaddingAlgorithm
    ];
    let kp = [(1, 0), (1, 1), (1, 1)];
    let ka = [(2, 0), (1, 1), (6, 1)];
    let ci = [(6, 1), (1, 1), (3, 0), (6, 0), (6, 1), (1, 1), (1, 1)];
    let mut i = 0;
    while i < 5 {
        t[local::MD as usize + i] = nm(md[i].0, md[i].1);
        i += 1;
    }
    let mut i = 0;
    while i < 4 {
        t[local::RD as usize + i] = nm(rd[i].0, rd[i].1);
        i += 1;
    }
    let mut i = 0;
    while i < 13 {
        t[local::SIG as usize + i] = nm(sig[i].0, sig[i].1);
        i += 1;
    }
    let mut i = 0;
    while i < 3 {
        t[local::KP as usize + i] = nm(kp[i].0, kp[i].1);
        t[local::KA as usize + i] = nm(ka[i].0, ka[i].1);
        i += 1;
    }
    let mut i = 0;
    while i < 7 {
        t[local::CI as usize + i] = nm(ci[i].0, ci[i].1);
        i += 1;
    }
    t[local::MD_GET_INSTANCE as usize] = nm(2, 1);
    t[local::CIPHER_GET_INSTANCE as usize] = nm(2, 1);
    t[local::CIPHER_GET_INSTANCE3 as usize] = nm(3, 1);
    t[local::SIG_GET_INSTANCE as usize] = nm(2, 1);
    t[local::SIG_GET_INSTANCE4 as usize] = nm(4, 1);
    t[local::RD_GET_INSTANCE as usize] = nm(1, 1);
    t[local::KA_GET_INSTANCE as usize] = nm(2, 1);
    t[local::BUILD_KEY as usize] = nm(3, 1);
    t[local::BUILD_KEY4 as usize] = nm(4, 1);
    t[local::KEYPAIR_INIT_ALG as usize] = nm(3, 0);
    t[local::KEYPAIR_INIT_KEYS as usize] = nm(3, 0);
    t[local::THROW_IT as usize] = nm(1, 0);
    t[local::IMD_GET_INSTANCE as usize] = nm(2, 1);
    t[local::IMD_SET_INITIAL_DIGEST as usize] = nm(7, 0);
    t
}

/// A vtable of `len` tokens whose token `t ≥ 1` is native `first + t − 1`.
const fn run_vt<const L: usize>(first: u16) -> [NativeId; L] {
    let mut t = [0; L];
    t[0] = n::OBJECT_EQUALS;
    let mut i = 1;
    while i < L {
        t[i] = NATIVE_BASE + first + i as u16 - 1;
        i += 1;
    }
    t
}

const KEY_VT: [NativeId; 41] = run_vt::<41>(local::KEY + 1);
const MD_VT: [NativeId; 6] = run_vt::<6>(local::MD);
/// InitializedMessageDigest: MessageDigest's tokens 0..=5, then setInitialDigest (6).
const IMD_VT: [NativeId; 7] = {
    let mut t = [0; 7];
    let mut i = 0;
    while i < MD_VT.len() {
        t[i] = MD_VT[i];
        i += 1;
    }
    t[6] = NATIVE_BASE + local::IMD_SET_INITIAL_DIGEST;
    t
};
const RD_VT: [NativeId; 5] = run_vt::<5>(local::RD);
const SIG_VT: [NativeId; 14] = run_vt::<14>(local::SIG);
const KP_VT: [NativeId; 4] = run_vt::<4>(local::KP);
const KA_VT: [NativeId; 4] = run_vt::<4>(local::KA);
const CI_VT: [NativeId; 8] = run_vt::<8>(local::CI);
const REASON_VT: &[NativeId] = &[n::OBJECT_EQUALS, n::GET_REASON, n::SET_REASON];

/// Class ids of the crypto classes (`FRAMEWORK_CLASS_COUNT + index`).
#[allow(missing_docs)]
pub mod class {
    use super::FRAMEWORK_CLASS_COUNT as B;
    use oxicard_vm::ClassId;
    pub const CRYPTO_EXCEPTION: ClassId = B;
    pub const KEY: ClassId = B + 1;
    pub const PRIVATE_KEY: ClassId = B + 2;
    pub const PUBLIC_KEY: ClassId = B + 3;
    pub const SECRET_KEY: ClassId = B + 4;
    pub const RSA_PRIVATE_CRT_KEY: ClassId = B + 5;
    pub const RSA_PRIVATE_KEY: ClassId = B + 6;
    pub const RSA_PUBLIC_KEY: ClassId = B + 7;
    pub const DES_KEY: ClassId = B + 8;
    pub const MESSAGE_DIGEST: ClassId = B + 9;
    pub const KEY_BUILDER: ClassId = B + 10;
    pub const RANDOM_DATA: ClassId = B + 11;
    pub const SIGNATURE: ClassId = B + 12;
    pub const KEY_PAIR: ClassId = B + 13;
    pub const EC_KEY: ClassId = B + 14;
    pub const EC_PRIVATE_KEY: ClassId = B + 15;
    pub const EC_PUBLIC_KEY: ClassId = B + 16;
    pub const AES_KEY: ClassId = B + 17;
    pub const KEY_AGREEMENT: ClassId = B + 18;
    pub const HMAC_KEY: ClassId = B + 19;
    pub const CIPHER: ClassId = B + 20;
    pub const AES_KEY_IMPL: ClassId = B + 21;
    pub const DES_KEY_IMPL: ClassId = B + 22;
    pub const HMAC_KEY_IMPL: ClassId = B + 23;
    pub const EC_PUBLIC_KEY_IMPL: ClassId = B + 24;
    pub const EC_PRIVATE_KEY_IMPL: ClassId = B + 25;
    pub const RSA_PUBLIC_KEY_IMPL: ClassId = B + 26;
    pub const RSA_PRIVATE_KEY_IMPL: ClassId = B + 27;
    pub const RSA_PRIVATE_CRT_KEY_IMPL: ClassId = B + 28;
    pub const INITIALIZED_MESSAGE_DIGEST: ClassId = B + 29;
}

/// Number of crypto classes.
pub const CLASS_COUNT: usize = 30;

/// Instance cells of a key: type, size in bits, material array.
pub const KEY_CELLS: u16 = 3;
/// Instance cells of an engine: algorithm, state array, extra.
pub const ENGINE_CELLS: u16 = 3;

const fn iface(
    package: u8,
    token: u8,
    supers: &'static [(ClassId, &'static [u8])],
) -> BuiltinClass {
    BuiltinClass {
        package,
        token,
        super_class: None,
        flags: CLASS_INTERFACE,
        cells: 0,
        vtable: &[],
        interfaces: supers,
    }
}

const fn concrete(package: u8, token: u8, cells: u16, vtable: &'static [NativeId]) -> BuiltinClass {
    BuiltinClass {
        package,
        token,
        super_class: Some(0),
        flags: 0,
        cells,
        vtable,
        interfaces: &[],
    }
}

const fn key_impl(token: u8, interfaces: &'static [(ClassId, &'static [u8])]) -> BuiltinClass {
    BuiltinClass {
        package: PKG_SECURITY,
        token,
        super_class: Some(0),
        flags: 0,
        cells: KEY_CELLS,
        vtable: &KEY_VT,
        interfaces,
    }
}

use class as c;
const KEY_M: &[u8] = &[1, 2, 3, 4];
const EC_M: &[u8] = &[8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 26];
const EC_PUB_M: &[u8] = &[
    1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 24, 25, 26,
];
const EC_PRIV_M: &[u8] = &[
    1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 26,
];
const RSA_M: &[u8] = &[1, 2, 3, 4, 29, 30, 27, 28];
const RSA_CRT_M: &[u8] = &[1, 2, 3, 4, 38, 39, 36, 40, 37, 33, 34, 31, 35, 32];
const SUPER_KEY: &[(ClassId, &[u8])] = &[(c::KEY, KEY_M)];
const SUPER_PRIV: &[(ClassId, &[u8])] = &[(c::KEY, KEY_M), (c::PRIVATE_KEY, KEY_M)];
const SUPER_PUB: &[(ClassId, &[u8])] = &[(c::KEY, KEY_M), (c::PUBLIC_KEY, KEY_M)];
const SUPER_SECRET: &[(ClassId, &[u8])] = &[(c::KEY, KEY_M), (c::SECRET_KEY, KEY_M)];

/// The crypto classes, in class id order.
pub const CLASSES: [BuiltinClass; CLASS_COUNT] = [
    BuiltinClass {
        package: PKG_SECURITY,
        token: 12,
        super_class: Some(crate::api::C_CARD_RUNTIME_EXCEPTION),
        flags: 0,
        cells: 1,
        vtable: REASON_VT,
        interfaces: &[],
    },
    iface(PKG_SECURITY, 0, &[]),
    iface(PKG_SECURITY, 2, SUPER_KEY),
    iface(PKG_SECURITY, 3, SUPER_KEY),
    iface(PKG_SECURITY, 4, SUPER_KEY),
    iface(PKG_SECURITY, 7, SUPER_PRIV),
    iface(PKG_SECURITY, 8, SUPER_PRIV),
    iface(PKG_SECURITY, 9, SUPER_PUB),
    iface(PKG_SECURITY, 10, SUPER_SECRET),
    concrete(PKG_SECURITY, 11, ENGINE_CELLS, &MD_VT),
    concrete(PKG_SECURITY, 13, 0, &[n::OBJECT_EQUALS]),
    concrete(PKG_SECURITY, 14, ENGINE_CELLS, &RD_VT),
    concrete(PKG_SECURITY, 15, ENGINE_CELLS, &SIG_VT),
    concrete(PKG_SECURITY, 16, 2, &KP_VT),
    iface(PKG_SECURITY, 17, &[]),
    iface(
        PKG_SECURITY,
        18,
        &[(c::KEY, KEY_M), (c::PRIVATE_KEY, KEY_M), (c::EC_KEY, EC_M)],
    ),
    iface(
        PKG_SECURITY,
        19,
        &[(c::KEY, KEY_M), (c::PUBLIC_KEY, KEY_M), (c::EC_KEY, EC_M)],
    ),
    iface(PKG_SECURITY, 20, SUPER_SECRET),
    concrete(PKG_SECURITY, 22, ENGINE_CELLS, &KA_VT),
    iface(PKG_SECURITY, 23, SUPER_SECRET),
    concrete(PKG_CRYPTOX, 1, ENGINE_CELLS, &CI_VT),
    key_impl(
        0x80,
        &[
            (c::KEY, KEY_M),
            (c::SECRET_KEY, KEY_M),
            (c::AES_KEY, &[1, 2, 3, 4, 5, 6]),
        ],
    ),
    key_impl(
        0x81,
        &[
            (c::KEY, KEY_M),
            (c::SECRET_KEY, KEY_M),
            (c::DES_KEY, &[1, 2, 3, 4, 6, 5]),
        ],
    ),
    key_impl(
        0x82,
        &[
            (c::KEY, KEY_M),
            (c::SECRET_KEY, KEY_M),
            (c::HMAC_KEY, &[1, 2, 3, 4, 7, 6]),
        ],
    ),
    key_impl(
        0x83,
        &[
            (c::KEY, KEY_M),
            (c::PUBLIC_KEY, KEY_M),
            (c::EC_KEY, EC_M),
            (c::EC_PUBLIC_KEY, EC_PUB_M),
        ],
    ),
    key_impl(
        0x84,
        &[
            (c::KEY, KEY_M),
            (c::PRIVATE_KEY, KEY_M),
            (c::EC_KEY, EC_M),
            (c::EC_PRIVATE_KEY, EC_PRIV_M),
        ],
    ),
    key_impl(
        0x85,
        &[
            (c::KEY, KEY_M),
            (c::PUBLIC_KEY, KEY_M),
            (c::RSA_PUBLIC_KEY, RSA_M),
        ],
    ),
    key_impl(
        0x86,
        &[
            (c::KEY, KEY_M),
            (c::PRIVATE_KEY, KEY_M),
            (c::RSA_PRIVATE_KEY, RSA_M),
        ],
    ),
    key_impl(
        0x87,
        &[
            (c::KEY, KEY_M),
            (c::PRIVATE_KEY, KEY_M),
            (c::RSA_PRIVATE_CRT_KEY, RSA_CRT_M),
        ],
    ),
    // InitializedMessageDigest: the instances getInitializedMessageDigestInstance makes
    // (a MessageDigest whose state setInitialDigest can set)
    BuiltinClass {
        package: PKG_SECURITY,
        token: 26,
        super_class: Some(c::MESSAGE_DIGEST),
        flags: 0,
        cells: ENGINE_CELLS,
        vtable: &IMD_VT,
        interfaces: &[],
    },
];

const fn sm(package: u8, class_token: u8, token: u8, local: u16) -> StaticMethod {
    StaticMethod {
        package,
        class_token,
        token,
        native: NATIVE_BASE + local,
    }
}

const fn init(package: u8, class_token: u8, token: u8) -> StaticMethod {
    StaticMethod {
        package,
        class_token,
        token,
        native: n::OBJECT_INIT,
    }
}

/// Number of crypto static methods and constructors.
pub const STATIC_COUNT: usize = 20;

/// The crypto static methods and constructors.
pub const STATICS: [StaticMethod; STATIC_COUNT] = [
    StaticMethod {
        package: PKG_SECURITY,
        class_token: 12,
        token: 0,
        native: n::REASON_INIT,
    },
    sm(PKG_SECURITY, 12, 1, local::THROW_IT),
    sm(PKG_SECURITY, 11, 0, local::MD_GET_INSTANCE),
    init(PKG_SECURITY, 11, 1),
    sm(PKG_SECURITY, 11, 2, local::IMD_GET_INSTANCE),
    init(PKG_SECURITY, 26, 0),
    sm(PKG_SECURITY, 13, 0, local::BUILD_KEY),
    sm(PKG_SECURITY, 13, 1, local::BUILD_KEY4),
    sm(PKG_SECURITY, 14, 0, local::RD_GET_INSTANCE),
    init(PKG_SECURITY, 14, 1),
    sm(PKG_SECURITY, 15, 0, local::SIG_GET_INSTANCE),
    init(PKG_SECURITY, 15, 1),
    sm(PKG_SECURITY, 15, 2, local::SIG_GET_INSTANCE4),
    sm(PKG_SECURITY, 16, 0, local::KEYPAIR_INIT_ALG),
    sm(PKG_SECURITY, 16, 1, local::KEYPAIR_INIT_KEYS),
    sm(PKG_SECURITY, 22, 0, local::KA_GET_INSTANCE),
    init(PKG_SECURITY, 22, 1),
    sm(PKG_CRYPTOX, 1, 0, local::CIPHER_GET_INSTANCE),
    init(PKG_CRYPTOX, 1, 1),
    sm(PKG_CRYPTOX, 1, 2, local::CIPHER_GET_INSTANCE3),
];
