//! javacard.security and javacardx.crypto on the card: the catalog part ([`catalog`]) and
//! the natives. Keys are heap objects (cells: type, size, material array); their material
//! array is persistent or transient as the key type says, holds a bit mask of the
//! components set and each component as length + bytes, so transactions, `clearKey` and
//! `isInitialized` follow from the heap. Engines (MessageDigest, Signature, Cipher...) keep
//! their running state in a CLEAR_ON_DESELECT array. The primitives come from
//! oxicard-crypto's [`CryptoEngine`].

pub mod catalog;

use crate::Runtime;
use catalog::{class, local, NATIVE_BASE};
use oxicard_crypto::digest::{hmac_finish, hmac_start, DigestCtx, MAX_DIGEST};
use oxicard_crypto::{
    ec, mac, rsa, BlockAlg, CryptoEngine, Error, HashAlg, RandomSource, SoftEngine,
};
use oxicard_store::Nvm;
use oxicard_vm::api::{NativeId, Value};
use oxicard_vm::firewall::Access;
use oxicard_vm::heap::{ArrayType, ObjRef, NULL, TRANSIENT_DESELECT, TRANSIENT_RESET};
use oxicard_vm::{Detail, SystemException, Trap, Vm};

/// CryptoException reasons.
const ILLEGAL_VALUE: i16 = 1;
const UNINITIALIZED_KEY: i16 = 2;
const NO_SUCH_ALGORITHM: i16 = 3;
const INVALID_INIT: i16 = 4;
const ILLEGAL_USE: i16 = 5;

/// The CryptoException throwable lives in the runtime's table of preallocated exceptions,
/// indexed by class id: the table must have room for it.
const _: () = assert!((class::CRYPTO_EXCEPTION as usize) < crate::EXCEPTION_SLOTS);

/// The software engine, the default of every [`Platform`].
static SOFT_ENGINE: SoftEngine = SoftEngine;

/// What a board gives the card runtime for cryptography: the engine that runs the
/// primitives (software or a hardware accelerator) and the random source (a TRNG; the OS
/// generator on a host; a seeded generator only in tests). Without a random source,
/// RandomData, key generation and ECDSA signing throw CryptoException ILLEGAL_USE.
#[derive(Clone, Copy)]
pub struct Platform {
    /// The primitives.
    pub engine: &'static dyn CryptoEngine,
    /// The random source, if the board has one.
    pub random: Option<&'static dyn RandomSource>,
}

impl Platform {
    /// A platform with `engine` and `random`.
    pub const fn new(
        engine: &'static dyn CryptoEngine,
        random: Option<&'static dyn RandomSource>,
    ) -> Self {
        Platform { engine, random }
    }

    /// The software engine with `random`.
    pub const fn soft(random: Option<&'static dyn RandomSource>) -> Self {
        Platform {
            engine: &SOFT_ENGINE,
            random,
        }
    }
}

impl Default for Platform {
    /// The software engine and [`oxicard_crypto::rng::platform_default`]: the host's
    /// generator when oxicard-crypto has its `std` feature, none otherwise.
    fn default() -> Self {
        Platform::soft(oxicard_crypto::rng::platform_default())
    }
}

impl core::fmt::Debug for Platform {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Platform")
            .field("random", &self.random.is_some())
            .finish_non_exhaustive()
    }
}

fn arg(args: &[i16], i: usize) -> i16 {
    args.get(i).copied().unwrap_or(0)
}

fn word(v: i16) -> Result<Value, Trap> {
    Ok(Value::Word(v))
}

/// What a key is, from its KeyBuilder type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Aes,
    Des,
    Hmac,
    EcPublic,
    EcPrivate,
    RsaPublic,
    RsaPrivate,
    RsaCrt,
}

impl Kind {
    /// (kind, transient flags) of KeyBuilder type `t`.
    fn of_type(t: i16) -> Option<(Kind, u8)> {
        Some(match t {
            1 => (Kind::Des, TRANSIENT_RESET),
            2 => (Kind::Des, TRANSIENT_DESELECT),
            3 => (Kind::Des, 0),
            4 => (Kind::RsaPublic, 0),
            5 => (Kind::RsaPrivate, 0),
            6 => (Kind::RsaCrt, 0),
            11 => (Kind::EcPublic, 0),
            12 => (Kind::EcPrivate, 0),
            13 => (Kind::Aes, TRANSIENT_RESET),
            14 => (Kind::Aes, TRANSIENT_DESELECT),
            15 => (Kind::Aes, 0),
            19 => (Kind::Hmac, TRANSIENT_RESET),
            20 => (Kind::Hmac, TRANSIENT_DESELECT),
            21 => (Kind::Hmac, 0),
            22 => (Kind::RsaPrivate, TRANSIENT_RESET),
            23 => (Kind::RsaPrivate, TRANSIENT_DESELECT),
            24 => (Kind::RsaCrt, TRANSIENT_RESET),
            25 => (Kind::RsaCrt, TRANSIENT_DESELECT),
            30 => (Kind::EcPrivate, TRANSIENT_RESET),
            31 => (Kind::EcPrivate, TRANSIENT_DESELECT),
            _ => return None,
        })
    }

    fn class(self) -> u16 {
        match self {
            Kind::Aes => class::AES_KEY_IMPL,
            Kind::Des => class::DES_KEY_IMPL,
            Kind::Hmac => class::HMAC_KEY_IMPL,
            Kind::EcPublic => class::EC_PUBLIC_KEY_IMPL,
            Kind::EcPrivate => class::EC_PRIVATE_KEY_IMPL,
            Kind::RsaPublic => class::RSA_PUBLIC_KEY_IMPL,
            Kind::RsaPrivate => class::RSA_PRIVATE_KEY_IMPL,
            Kind::RsaCrt => class::RSA_PRIVATE_CRT_KEY_IMPL,
        }
    }

    /// Maximum bytes of each component slot for a key of `bits`; `None` if that size is
    /// not supported.
    fn slots(self, bits: i16) -> Option<([u16; 7], usize)> {
        let b = bits as u16;
        let s = |v: &[u16]| {
            let mut a = [0u16; 7];
            a.iter_mut().zip(v).for_each(|(d, s)| *d = *s);
            (a, v.len())
        };
        Some(match (self, bits) {
            (Kind::Aes, 128 | 192 | 256) => s(&[b / 8]),
            (Kind::Des, 64 | 128 | 192) => s(&[b / 8]),
            (Kind::Hmac, 1..=1024) => s(&[128]),
            (Kind::EcPublic, 256) => s(&[32, 32, 32, 65, 32, 2, 65]),
            (Kind::EcPrivate, 256) => s(&[32, 32, 32, 65, 32, 2, 32]),
            (Kind::RsaPublic | Kind::RsaPrivate, 512..=4096) if b.is_multiple_of(8) => {
                s(&[b / 8, b / 8])
            }
            (Kind::RsaCrt, 512..=4096) if b.is_multiple_of(16) => s(&[b / 16; 5]),
            _ => return None,
        })
    }
}

/// A key object: its kind, size and material array.
struct KeyRef {
    kind: Kind,
    bits: i16,
    material: ObjRef,
    slots: [u16; 7],
    count: usize,
}

impl KeyRef {
    /// Byte offset of slot `i` (its 2-byte length first) in the material array.
    fn offset(&self, i: usize) -> usize {
        2 + self
            .slots
            .iter()
            .take(i)
            .map(|&m| 2 + m as usize)
            .sum::<usize>()
    }

    fn total(&self) -> usize {
        self.offset(self.count)
    }
}

impl Runtime {
    /// The platform's crypto engine.
    fn engine(&self) -> &'static dyn CryptoEngine {
        self.platform.engine
    }

    /// The platform's random source.
    fn random(&self) -> Option<&'static dyn RandomSource> {
        self.platform.random
    }

    /// Throws CryptoException with `reason` (its one instance, created on first use and
    /// owned by the runtime's context).
    fn crypto_error<N: Nvm>(&mut self, vm: &mut Vm<N>, reason: i16) -> Trap {
        self.throw_reason_lazily(vm, class::CRYPTO_EXCEPTION, reason)
    }

    fn crypto_fail<N: Nvm>(&mut self, vm: &mut Vm<N>, e: Error) -> Trap {
        let reason = match e {
            Error::Unsupported => NO_SUCH_ALGORITHM,
            Error::Random => ILLEGAL_USE,
            _ => ILLEGAL_VALUE,
        };
        self.crypto_error(vm, reason)
    }

    fn key_ref<N: Nvm>(&mut self, vm: &mut Vm<N>, key: ObjRef) -> Result<KeyRef, Trap> {
        if key == NULL {
            return Err(vm.throw(SystemException::NullPointer));
        }
        // A key passed to an engine is read like a field of it: another context's key is
        // refused (SecurityException) by the firewall's table.
        vm.guard(key, Access::Field)?;
        let h = vm.header(key)?;
        let is_key = (class::AES_KEY_IMPL..=class::RSA_PRIVATE_CRT_KEY_IMPL).contains(&h.class);
        if !is_key {
            return Err(self.crypto_error(vm, ILLEGAL_VALUE));
        }
        let t = vm.get_field(key, 0)?;
        let bits = vm.get_field(key, 1)?;
        let material = vm.get_field(key, 2)? as ObjRef;
        let (kind, _) = Kind::of_type(t).ok_or(Trap::Internal(Detail::KeyType))?;
        let (slots, count) = kind.slots(bits).ok_or(Trap::Internal(Detail::KeySize))?;
        Ok(KeyRef {
            kind,
            bits,
            material,
            slots,
            count,
        })
    }

    fn key_flags<N: Nvm>(vm: &Vm<N>, k: &KeyRef) -> Result<u16, Trap> {
        let h = vm.header(k.material)?;
        let mut b = [0u8; 2];
        vm.read_elements(&h, 0, &mut b)?;
        Ok(u16::from_be_bytes(b))
    }

    fn key_initialized<N: Nvm>(vm: &Vm<N>, k: &KeyRef) -> Result<bool, Trap> {
        let all = (1u16 << k.count) - 1;
        Ok(Self::key_flags(vm, k)? & all == all)
    }

    /// Reads component `i` into `buf`; its length. UNINITIALIZED_KEY if not set.
    fn slot_read<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        k: &KeyRef,
        i: usize,
        buf: &mut [u8],
    ) -> Result<usize, Trap> {
        if Self::key_flags(vm, k)? & (1 << i) == 0 {
            return Err(self.crypto_error(vm, UNINITIALIZED_KEY));
        }
        let h = vm.header(k.material)?;
        let off = k.offset(i);
        let mut l = [0u8; 2];
        vm.read_elements(&h, off, &mut l)?;
        let len = u16::from_be_bytes(l) as usize;
        let dst = buf.get_mut(..len).ok_or(Trap::Internal(Detail::KeySlot))?;
        vm.read_elements(&h, off + 2, dst)?;
        Ok(len)
    }

    /// Writes component `i` and marks it set.
    fn slot_write<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        k: &KeyRef,
        i: usize,
        data: &[u8],
    ) -> Result<(), Trap> {
        let max = k.slots.get(i).copied().unwrap_or(0) as usize;
        if i >= k.count || data.len() > max {
            return Err(self.crypto_error(vm, ILLEGAL_VALUE));
        }
        if !matches!(k.kind, Kind::EcPublic | Kind::RsaPublic) {
            // the undo entries of this write hold the secret it replaces
            vm.scrub_journal_at_commit();
        }
        let h = vm.header(k.material)?;
        let off = k.offset(i);
        vm.write_elements(&h, off, &(data.len() as u16).to_be_bytes(), true)?;
        vm.write_elements(&h, off + 2, data, true)?;
        let flags = Self::key_flags(vm, k)? | 1 << i;
        vm.write_elements(&h, 0, &flags.to_be_bytes(), true)
    }

    /// Copies `len` bytes of the applet's array `arr` at `off` into `buf`.
    fn read_array<'b, N: Nvm>(
        vm: &mut Vm<N>,
        arr: ObjRef,
        off: i16,
        len: i16,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], Trap> {
        if arr == NULL {
            return Err(vm.throw(SystemException::NullPointer));
        }
        let h = vm.byte_array_range(arr, off, len)?;
        let dst = buf
            .get_mut(..len as usize)
            .ok_or(Trap::Internal(Detail::CryptoBuffer))?;
        vm.read_elements(&h, off as usize, dst)?;
        Ok(dst)
    }

    fn write_array<N: Nvm>(vm: &mut Vm<N>, arr: ObjRef, off: i16, data: &[u8]) -> Result<(), Trap> {
        if arr == NULL {
            return Err(vm.throw(SystemException::NullPointer));
        }
        let h = vm.byte_array_range(arr, off, data.len() as i16)?;
        vm.write_elements(&h, off as usize, data, true)
    }

    /// Sets component `i` of `key` from the applet's array.
    fn key_set<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        key: ObjRef,
        i: usize,
        arr: ObjRef,
        off: i16,
        len: i16,
    ) -> Result<Value, Trap> {
        let k = self.key_ref(vm, key)?;
        let mut buf = [0u8; 512];
        if len < 0 || len as usize > buf.len() {
            return Err(self.crypto_error(vm, ILLEGAL_VALUE));
        }
        let data = Self::read_array(vm, arr, off, len, &mut buf)?;
        let mut tmp = [0u8; 512];
        let data = tmp
            .get_mut(..data.len())
            .map(|t| {
                t.copy_from_slice(data);
                &*t
            })
            .ok_or(Trap::Internal(Detail::Key))?;
        if matches!(k.kind, Kind::EcPublic) && i == 6 && data.first() != Some(&4) {
            return Err(self.crypto_error(vm, ILLEGAL_VALUE));
        }
        self.slot_write(vm, &k, i, data)?;
        Ok(Value::Void)
    }

    /// Copies component `i` of `key` into the applet's array; returns its length.
    fn key_get<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        key: ObjRef,
        i: usize,
        arr: ObjRef,
        off: i16,
    ) -> Result<Value, Trap> {
        let k = self.key_ref(vm, key)?;
        let mut buf = [0u8; 512];
        let n = self.slot_read(vm, &k, i, &mut buf)?;
        Self::write_array(vm, arr, off, buf.get(..n).unwrap_or(&[]))?;
        word(n as i16)
    }

    /// The universal key methods (vtable slots of [`catalog`]).
    fn key_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        slot: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let (a1, a2, a3) = (arg(args, 1), arg(args, 2), arg(args, 3));
        match slot {
            1 => {
                let k = self.key_ref(vm, this)?;
                let h = vm.header(k.material)?;
                let zeros = [0u8; 64];
                let mut done = 0;
                let total = k.total();
                while done < total {
                    let n = (total - done).min(zeros.len());
                    vm.write_elements(&h, done, zeros.get(..n).unwrap_or(&[]), true)?;
                    done += n;
                }
                // the undo entries of these writes hold the key: zero them once committed
                vm.scrub_journal_at_commit();
                if matches!(k.kind, Kind::EcPublic | Kind::EcPrivate) {
                    // the domain parameters stay (JC 3.0.5 clearKey: the key's value)
                    self.set_p256_domain(vm, &k)?;
                }
                Ok(Value::Void)
            }
            2 => word(self.key_ref(vm, this)?.bits),
            3 => word(vm.get_field(this, 0)?),
            4 => {
                let k = self.key_ref(vm, this)?;
                word(Self::key_initialized(vm, &k)? as i16)
            }
            5 => {
                let k = self.key_ref(vm, this)?;
                let len = k.slots[0] as i16;
                self.key_set(vm, this, 0, a1 as ObjRef, a2, len)
            }
            6 => {
                let r = self.key_get(vm, this, 0, a1 as ObjRef, a2)?;
                match r {
                    Value::Word(w) => word(w),
                    other => Ok(other),
                }
            }
            7 => self.key_set(vm, this, 0, a1 as ObjRef, a2, a3),
            8 | 11..=14 => {
                let i = if slot == 8 { 0 } else { (slot - 10) as usize };
                self.key_set(vm, this, i, a1 as ObjRef, a2, a3)
            }
            9 | 10 => Err(self.crypto_error(vm, ILLEGAL_VALUE)),
            15 => {
                let k = self.key_ref(vm, this)?;
                self.slot_write(vm, &k, 5, &a1.to_be_bytes())?;
                Ok(Value::Void)
            }
            16..=20 => self.key_get(vm, this, (slot - 16) as usize, a1 as ObjRef, a2),
            21 => {
                let k = self.key_ref(vm, this)?;
                let mut b = [0u8; 2];
                self.slot_read(vm, &k, 5, &mut b)?;
                word(i16::from_be_bytes(b))
            }
            22 | 24 => self.key_set(vm, this, 6, a1 as ObjRef, a2, a3),
            23 | 25 => self.key_get(vm, this, 6, a1 as ObjRef, a2),
            26 => {
                let src = self.key_ref(vm, a1 as ObjRef)?;
                let dst = self.key_ref(vm, this)?;
                let mut buf = [0u8; 65];
                for i in 0..6 {
                    let n = self.slot_read(vm, &src, i, &mut buf)?;
                    self.slot_write(vm, &dst, i, buf.get(..n).unwrap_or(&[]))?;
                }
                Ok(Value::Void)
            }
            27 => self.key_set(vm, this, 1, a1 as ObjRef, a2, a3),
            28 => self.key_set(vm, this, 0, a1 as ObjRef, a2, a3),
            29 => self.key_get(vm, this, 1, a1 as ObjRef, a2),
            30 => self.key_get(vm, this, 0, a1 as ObjRef, a2),
            31..=35 => self.key_set(vm, this, (slot - 31) as usize, a1 as ObjRef, a2, a3),
            36..=40 => self.key_get(vm, this, (slot - 36) as usize, a1 as ObjRef, a2),
            _ => Err(Trap::Internal(Detail::KeyMethod)),
        }
    }

    fn set_p256_domain<N: Nvm>(&mut self, vm: &mut Vm<N>, k: &KeyRef) -> Result<(), Trap> {
        self.slot_write(vm, k, 0, &ec::P256_P)?;
        self.slot_write(vm, k, 1, &ec::P256_A)?;
        self.slot_write(vm, k, 2, &ec::P256_B)?;
        self.slot_write(vm, k, 3, &ec::P256_G)?;
        self.slot_write(vm, k, 4, &ec::P256_N)?;
        self.slot_write(vm, k, 5, &1i16.to_be_bytes())
    }

    /// Checks that an EC key's domain is P-256 (the only curve implemented) and returns
    /// its S or W component.
    fn ec_value<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        k: &KeyRef,
        out: &mut [u8; 65],
    ) -> Result<usize, Trap> {
        let mut buf = [0u8; 65];
        let want: [&[u8]; 5] = [
            &ec::P256_P,
            &ec::P256_A,
            &ec::P256_B,
            &ec::P256_G,
            &ec::P256_N,
        ];
        for (i, w) in want.iter().enumerate() {
            let n = self.slot_read(vm, k, i, &mut buf)?;
            if buf.get(..n) != Some(*w) {
                return Err(self.crypto_error(vm, ILLEGAL_VALUE));
            }
        }
        self.slot_read(vm, k, 6, out)
    }

    /// KeyBuilder.buildKey(type, length, externalAccess).
    fn build_key<N: Nvm>(&mut self, vm: &mut Vm<N>, t: i16, bits: i16) -> Result<ObjRef, Trap> {
        let Some((kind, transient)) = Kind::of_type(t) else {
            return Err(self.crypto_error(vm, NO_SUCH_ALGORITHM));
        };
        let Some((slots, count)) = kind.slots(bits) else {
            return Err(self.crypto_error(vm, NO_SUCH_ALGORITHM));
        };
        let k = KeyRef {
            kind,
            bits,
            material: NULL,
            slots,
            count,
        };
        let material = vm.new_array(ArrayType::Byte, k.total() as i16, 0, transient)?;
        let obj = vm.new_instance(kind.class())?;
        vm.put_field(obj, 0, t)?;
        vm.put_field(obj, 1, bits)?;
        vm.put_field(obj, 2, material as i16)?;
        if matches!(kind, Kind::EcPublic | Kind::EcPrivate) {
            let k = KeyRef { material, ..k };
            self.set_p256_domain(vm, &k)?;
        }
        Ok(obj)
    }

    /// Allocates an engine object of `class` for `alg` with a `state_len`-byte
    /// CLEAR_ON_DESELECT state array.
    fn new_engine<N: Nvm>(
        vm: &mut Vm<N>,
        class_id: u16,
        alg: i16,
        state_len: usize,
    ) -> Result<Value, Trap> {
        let state = vm.new_array(ArrayType::Byte, state_len as i16, 0, TRANSIENT_DESELECT)?;
        let obj = vm.new_instance(class_id)?;
        vm.put_field(obj, 0, alg)?;
        vm.put_field(obj, 1, state as i16)?;
        word(obj as i16)
    }

    fn state_read<N: Nvm>(vm: &Vm<N>, obj: ObjRef, buf: &mut [u8]) -> Result<usize, Trap> {
        let arr = vm.get_field(obj, 1)? as ObjRef;
        let h = vm.header(arr)?;
        let n = (h.len as usize).min(buf.len());
        vm.read_elements(&h, 0, buf.get_mut(..n).unwrap_or(&mut []))?;
        Ok(n)
    }

    fn state_write<N: Nvm>(vm: &mut Vm<N>, obj: ObjRef, data: &[u8]) -> Result<(), Trap> {
        let arr = vm.get_field(obj, 1)? as ObjRef;
        let h = vm.header(arr)?;
        vm.write_elements(&h, 0, data, false)
    }
}

/// The hash of a MessageDigest algorithm number.
fn md_alg(alg: i16) -> Option<HashAlg> {
    Some(match alg {
        1 => HashAlg::Sha1,
        4 => HashAlg::Sha256,
        5 => HashAlg::Sha384,
        6 => HashAlg::Sha512,
        7 => HashAlg::Sha224,
        _ => return None,
    })
}

/// Signature families.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SigKind {
    Ecdsa,
    RsaPkcs1,
    Hmac,
}

fn sig_alg(alg: i16) -> Option<(SigKind, HashAlg)> {
    Some(match alg {
        17 => (SigKind::Ecdsa, HashAlg::Sha1),
        33 => (SigKind::Ecdsa, HashAlg::Sha256),
        34 => (SigKind::Ecdsa, HashAlg::Sha384),
        37 => (SigKind::Ecdsa, HashAlg::Sha224),
        38 => (SigKind::Ecdsa, HashAlg::Sha512),
        10 => (SigKind::RsaPkcs1, HashAlg::Sha1),
        39 => (SigKind::RsaPkcs1, HashAlg::Sha224),
        40 => (SigKind::RsaPkcs1, HashAlg::Sha256),
        41 => (SigKind::RsaPkcs1, HashAlg::Sha384),
        42 => (SigKind::RsaPkcs1, HashAlg::Sha512),
        24 => (SigKind::Hmac, HashAlg::Sha1),
        25 => (SigKind::Hmac, HashAlg::Sha256),
        26 => (SigKind::Hmac, HashAlg::Sha384),
        27 => (SigKind::Hmac, HashAlg::Sha512),
        _ => return None,
    })
}

/// Signature.ALG_AES_MAC_128_NOPAD.
const SIG_AES_MAC_128_NOPAD: i16 = 18;
/// Signature.ALG_AES_CMAC_128.
const SIG_AES_CMAC_128: i16 = 49;

/// KeyAgreement.ALG_EC_SVDP_DH (SHA-1 of the shared secret).
const KA_EC_SVDP_DH: i16 = 1;
/// KeyAgreement.ALG_EC_SVDP_DH_PLAIN.
const KA_EC_SVDP_DH_PLAIN: i16 = 3;

/// Cipher.ALG_RSA_PKCS1.
const CIPHER_RSA_PKCS1: i16 = 10;
/// Cipher.ALG_RSA_NOPAD.
const CIPHER_RSA_NOPAD: i16 = 12;

/// How a block Cipher pads its last block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pad {
    /// None: the input must be block aligned.
    Nothing,
    /// ISO/IEC 9797-1 method 1: zero bytes up to a positive multiple of the block (as few
    /// as possible, so decryption cannot remove them and returns them).
    Iso9797M1,
    /// ISO/IEC 9797-1 method 2: 0x80 then zero bytes (always at least one byte).
    Iso9797M2,
    /// PKCS#5: n bytes of value n, 1 ≤ n ≤ block length.
    Pkcs5,
}

impl Pad {
    /// Cipher.PAD_* constant.
    fn constant(self) -> i16 {
        match self {
            Pad::Nothing => 1,
            Pad::Iso9797M1 => 2,
            Pad::Iso9797M2 => 3,
            Pad::Pkcs5 => 6,
        }
    }

    /// Whether decryption removes the padding (so `update` keeps the last block back).
    fn strips(self) -> bool {
        matches!(self, Pad::Iso9797M2 | Pad::Pkcs5)
    }

    /// Length of `len` input bytes once padded for encryption with blocks of `bs`.
    fn padded_len(self, len: usize, bs: usize) -> usize {
        match self {
            Pad::Nothing => len,
            Pad::Iso9797M1 => len.div_ceil(bs).max(1) * bs,
            Pad::Iso9797M2 | Pad::Pkcs5 => (len / bs + 1) * bs,
        }
    }

    /// Writes the padding of a `len`-byte input into `tail` (the bytes after it).
    fn fill(self, tail: &mut [u8]) {
        match self {
            Pad::Nothing | Pad::Iso9797M1 => tail.fill(0),
            Pad::Iso9797M2 => {
                tail.fill(0);
                if let Some(first) = tail.first_mut() {
                    *first = 0x80;
                }
            }
            Pad::Pkcs5 => {
                let n = tail.len() as u8;
                tail.fill(n);
            }
        }
    }

    /// Length of the message in decrypted `data` (the padding removed); `None` if the
    /// padding is wrong.
    fn unpadded_len(self, data: &[u8], bs: usize) -> Option<usize> {
        match self {
            Pad::Nothing | Pad::Iso9797M1 => Some(data.len()),
            Pad::Iso9797M2 => {
                let last_non_zero = data.iter().rposition(|&b| b != 0)?;
                let pad_len = data.len() - last_non_zero;
                (data.get(last_non_zero) == Some(&0x80) && pad_len <= bs).then_some(last_non_zero)
            }
            Pad::Pkcs5 => {
                let n = *data.last()? as usize;
                let start = data.len().checked_sub(n)?;
                let ok =
                    (1..=bs).contains(&n) && data.get(start..)?.iter().all(|&b| b as usize == n);
                ok.then_some(start)
            }
        }
    }
}

/// (block cipher, CBC, padding) of a Cipher algorithm number (Java Card 3.0.5 constants;
/// the AES ones take any AES key size).
fn cipher_alg(alg: i16) -> Option<(BlockAlg, bool, Pad)> {
    Some(match alg {
        1 => (BlockAlg::Des, true, Pad::Nothing),
        2 => (BlockAlg::Des, true, Pad::Iso9797M1),
        3 => (BlockAlg::Des, true, Pad::Iso9797M2),
        4 => (BlockAlg::Des, true, Pad::Pkcs5),
        5 => (BlockAlg::Des, false, Pad::Nothing),
        6 => (BlockAlg::Des, false, Pad::Iso9797M1),
        7 => (BlockAlg::Des, false, Pad::Iso9797M2),
        8 => (BlockAlg::Des, false, Pad::Pkcs5),
        13 => (BlockAlg::Aes, true, Pad::Nothing),
        14 => (BlockAlg::Aes, false, Pad::Nothing),
        22 => (BlockAlg::Aes, true, Pad::Iso9797M1),
        23 => (BlockAlg::Aes, true, Pad::Iso9797M2),
        24 => (BlockAlg::Aes, true, Pad::Pkcs5),
        25 => (BlockAlg::Aes, false, Pad::Iso9797M1),
        26 => (BlockAlg::Aes, false, Pad::Iso9797M2),
        27 => (BlockAlg::Aes, false, Pad::Pkcs5),
        _ => return None,
    })
}

/// Engine state layout: [0] mode (0 = not initialized), [1..3] key reference, then the
/// algorithm's context.
const ST_CTX: usize = 3;
/// Cipher context: IV (16) then the pending partial block (16) and its length.
const CI_IV: usize = ST_CTX;
const CI_PENDING: usize = ST_CTX + 16;
const CI_PENDING_LEN: usize = ST_CTX + 32;
/// Bit of the pending-length byte: data went through `update` since init or doFinal, so an
/// empty final block is not padded to a whole block by ISO 9797-1 method 1.
const CI_STARTED: u8 = 0x80;
/// The IV given to init, restored by doFinal.
const CI_IV0: usize = ST_CTX + 33;
const CI_STATE_LEN: usize = ST_CTX + 49;
/// Largest engine state: a SHA-512 context.
const MAX_STATE: usize = ST_CTX + DigestCtx::serialized_len(HashAlg::Sha512);
/// Input is processed in chunks of this size.
const CHUNK: usize = 256;

impl Runtime {
    /// Runs the crypto native with local number `id`.
    pub(crate) fn crypto_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        id: NativeId,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let l = id - NATIVE_BASE;
        let this = arg(args, 0) as ObjRef;
        match l {
            1..=40 => self.key_native(vm, l - local::KEY, args),
            _ if (local::MD..local::MD + 5).contains(&l) => {
                self.digest_native(vm, l - local::MD + 1, args)
            }
            _ if (local::RD..local::RD + 4).contains(&l) => {
                self.random_native(vm, l - local::RD + 1, args)
            }
            _ if (local::SIG..local::SIG + 13).contains(&l) => {
                self.signature_native(vm, l - local::SIG + 1, args)
            }
            _ if (local::KP..local::KP + 3).contains(&l) => match l - local::KP + 1 {
                1 => self.gen_key_pair(vm, this),
                2 => word(vm.get_field(this, 1)?),
                _ => word(vm.get_field(this, 0)?),
            },
            _ if (local::KA..local::KA + 3).contains(&l) => {
                self.agreement_native(vm, l - local::KA + 1, args)
            }
            _ if (local::CI..local::CI + 7).contains(&l) => {
                self.cipher_native(vm, l - local::CI + 1, args)
            }
            local::MD_GET_INSTANCE | local::IMD_GET_INSTANCE => match md_alg(arg(args, 0)) {
                Some(h) => Self::new_engine(
                    vm,
                    if l == local::MD_GET_INSTANCE {
                        class::MESSAGE_DIGEST
                    } else {
                        class::INITIALIZED_MESSAGE_DIGEST
                    },
                    arg(args, 0),
                    ST_CTX + DigestCtx::serialized_len(h),
                ),
                None => Err(self.crypto_error(vm, NO_SUCH_ALGORITHM)),
            },
            local::IMD_SET_INITIAL_DIGEST => self.set_initial_digest(vm, args),
            local::SIG_GET_INSTANCE => match sig_alg(arg(args, 0)) {
                None if matches!(arg(args, 0), SIG_AES_MAC_128_NOPAD | SIG_AES_CMAC_128) => {
                    Self::new_engine(vm, class::SIGNATURE, arg(args, 0), CI_STATE_LEN)
                }
                Some((_, h)) => Self::new_engine(
                    vm,
                    class::SIGNATURE,
                    arg(args, 0),
                    ST_CTX + DigestCtx::serialized_len(h),
                ),
                None => Err(self.crypto_error(vm, NO_SUCH_ALGORITHM)),
            },
            local::CIPHER_GET_INSTANCE => match (arg(args, 0), cipher_alg(arg(args, 0))) {
                (_, Some(_)) => Self::new_engine(vm, class::CIPHER, arg(args, 0), CI_STATE_LEN),
                (CIPHER_RSA_PKCS1 | CIPHER_RSA_NOPAD, None) => {
                    Self::new_engine(vm, class::CIPHER, arg(args, 0), ST_CTX)
                }
                _ => Err(self.crypto_error(vm, NO_SUCH_ALGORITHM)),
            },
            local::RD_GET_INSTANCE => match arg(args, 0) {
                1..=6 => Self::new_engine(vm, class::RANDOM_DATA, arg(args, 0), 1),
                _ => Err(self.crypto_error(vm, NO_SUCH_ALGORITHM)),
            },
            local::KA_GET_INSTANCE => match arg(args, 0) {
                alg @ (KA_EC_SVDP_DH | KA_EC_SVDP_DH_PLAIN) => {
                    Self::new_engine(vm, class::KEY_AGREEMENT, alg, ST_CTX)
                }
                _ => Err(self.crypto_error(vm, NO_SUCH_ALGORITHM)),
            },
            local::BUILD_KEY => word(self.build_key(vm, arg(args, 0), arg(args, 1))? as i16),
            local::CIPHER_GET_INSTANCE3 | local::SIG_GET_INSTANCE4 | local::BUILD_KEY4 => {
                Err(self.crypto_error(vm, NO_SUCH_ALGORITHM))
            }
            local::KEYPAIR_INIT_KEYS => {
                let (public, private) = (arg(args, 1) as ObjRef, arg(args, 2) as ObjRef);
                let pk = self.key_ref(vm, public)?;
                let sk = self.key_ref(vm, private)?;
                let ok = matches!(
                    (pk.kind, sk.kind),
                    (Kind::EcPublic, Kind::EcPrivate)
                        | (Kind::RsaPublic, Kind::RsaPrivate | Kind::RsaCrt)
                );
                if !ok || pk.bits != sk.bits {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                vm.put_field(this, 0, public as i16)?;
                vm.put_field(this, 1, private as i16)?;
                Ok(Value::Void)
            }
            local::KEYPAIR_INIT_ALG => {
                // KeyPair.ALG_RSA, ALG_RSA_CRT, ALG_EC_FP: (public, private) key types
                let (public_type, private_type) = match arg(args, 1) {
                    1 => (4, 5),
                    2 => (4, 6),
                    5 => (11, 12),
                    _ => return Err(self.crypto_error(vm, NO_SUCH_ALGORITHM)),
                };
                let public = self.build_key(vm, public_type, arg(args, 2))?;
                let private = self.build_key(vm, private_type, arg(args, 2))?;
                vm.put_field(this, 0, public as i16)?;
                vm.put_field(this, 1, private as i16)?;
                Ok(Value::Void)
            }
            local::THROW_IT => Err(self.crypto_error(vm, arg(args, 0))),
            _ => Err(Trap::Internal(Detail::UnknownCryptoNative)),
        }
    }

    fn gen_key_pair<N: Nvm>(&mut self, vm: &mut Vm<N>, this: ObjRef) -> Result<Value, Trap> {
        let public = vm.get_field(this, 0)? as ObjRef;
        let private = vm.get_field(this, 1)? as ObjRef;
        let pk = self.key_ref(vm, public)?;
        let sk = self.key_ref(vm, private)?;
        if pk.kind == Kind::RsaPublic {
            return self.gen_rsa_key_pair(vm, &pk, &sk);
        }
        let mut w = [0u8; 65];
        self.ec_value(vm, &pk, &mut w).or_else(|e| match e {
            // W itself may be unset; the domain check is what matters
            Trap::Throw(_) if !Self::key_initialized(vm, &pk)? => Ok(0),
            e => Err(e),
        })?;
        let rng = self
            .random()
            .ok_or_else(|| self.crypto_error(vm, ILLEGAL_USE))?;
        let mut s = [0u8; 32];
        let r = ec::p256_generate(self.engine(), rng, &mut s, &mut w);
        r.map_err(|e| self.crypto_fail(vm, e))?;
        self.slot_write(vm, &sk, 6, &s)?;
        self.slot_write(vm, &pk, 6, &w)?;
        s.fill(0);
        Ok(Value::Void)
    }

    /// genKeyPair for RSA: a new modulus and private key with public exponent 65537 (a
    /// public exponent already set must be that one).
    fn gen_rsa_key_pair<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        pk: &KeyRef,
        sk: &KeyRef,
    ) -> Result<Value, Trap> {
        let bits = pk.bits as usize;
        if !matches!(bits, 512 | 1024 | 2048) {
            return Err(self.crypto_error(vm, NO_SUCH_ALGORITHM));
        }
        if Self::key_flags(vm, pk)? & 0b10 != 0 {
            let mut e = [0u8; rsa::MAX_MODULUS];
            let n = self.slot_read(vm, pk, 1, &mut e)?;
            let e = e.get(..n).unwrap_or(&[]);
            let start = e.iter().position(|&b| b != 0).unwrap_or(e.len());
            if e.get(start..) != Some(&rsa::PUBLIC_EXPONENT[..]) {
                return Err(self.crypto_error(vm, ILLEGAL_VALUE));
            }
        }
        let rng = self
            .random()
            .ok_or_else(|| self.crypto_error(vm, ILLEGAL_USE))?;
        let (half, full) = (bits / 16, bits / 8);
        let mut n = [0u8; 256];
        let mut d = [0u8; 256];
        let mut crt = [[0u8; 128]; 5];
        let [p, q, dp, dq, qinv] = &mut crt;
        let r = (|| {
            let mut out = rsa::GeneratedKey {
                modulus: n.get_mut(..full)?,
                private_exponent: d.get_mut(..full)?,
                p: p.get_mut(..half)?,
                q: q.get_mut(..half)?,
                dp: dp.get_mut(..half)?,
                dq: dq.get_mut(..half)?,
                qinv: qinv.get_mut(..half)?,
            };
            Some(rsa::generate(rng, bits, &mut out))
        })()
        .ok_or(Trap::Internal(Detail::RsaKeygen))?;
        if let Err(e) = r {
            d.fill(0);
            crt.iter_mut().for_each(|c| c.fill(0));
            return Err(self.crypto_fail(vm, e));
        }
        let modulus = n.get(..full).unwrap_or(&[]);
        let written = (|| {
            self.slot_write(vm, pk, 0, modulus)?;
            self.slot_write(vm, pk, 1, &rsa::PUBLIC_EXPONENT)?;
            if sk.kind == Kind::RsaCrt {
                for (i, c) in crt.iter().enumerate() {
                    self.slot_write(vm, sk, i, c.get(..half).unwrap_or(&[]))?;
                }
                Ok(())
            } else {
                self.slot_write(vm, sk, 0, modulus)?;
                self.slot_write(vm, sk, 1, d.get(..full).unwrap_or(&[]))
            }
        })();
        d.fill(0);
        crt.iter_mut().for_each(|c| c.fill(0));
        written.map(|()| Value::Void)
    }

    fn digest_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let alg = vm.get_field(this, 0)?;
        let h = md_alg(alg).ok_or(Trap::Internal(Detail::DigestAlg))?;
        match token {
            2 => return word(alg),
            3 => return word(h.output_len() as i16),
            4 => return Self::state_write(vm, this, &[0]).map(|_| Value::Void),
            _ => {}
        }
        let mut st = [0u8; MAX_STATE];
        Self::state_read(vm, this, &mut st)?;
        let mut ctx = if st[0] == 0 {
            DigestCtx::new(h)
        } else {
            DigestCtx::load(h, st.get(ST_CTX..).unwrap_or(&[]))
                .map_err(|e| self.crypto_fail(vm, e))?
        };
        self.feed(
            vm,
            &mut ctx,
            arg(args, 1) as ObjRef,
            arg(args, 2),
            arg(args, 3),
        )?;
        if token == 5 {
            self.save_digest(vm, this, &ctx, h)?;
            return Ok(Value::Void);
        }
        let mut out = [0u8; MAX_DIGEST];
        let n = ctx
            .finish(self.engine(), &mut out)
            .map_err(|e| self.crypto_fail(vm, e))?;
        Self::state_write(vm, this, &[0])?;
        Self::write_array(
            vm,
            arg(args, 4) as ObjRef,
            arg(args, 5),
            out.get(..n).unwrap_or(&[]),
        )?;
        word(n as i16)
    }

    /// `InitializedMessageDigest.setInitialDigest(state, off, len, msgLen, off, len)`: the
    /// digest continues from the intermediate hash value `state` (the whole chaining
    /// value: 20 bytes for SHA-1, 32 for SHA-224/256, 64 for SHA-384/512) after the number
    /// of message bytes given big-endian in `msgLen`. CryptoException ILLEGAL_VALUE when
    /// the state length is not the algorithm's, or that number is 0, not a multiple of
    /// the block length or too large (2^61 bytes or more).
    fn set_initial_digest<N: Nvm>(&mut self, vm: &mut Vm<N>, args: &[i16]) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let h = md_alg(vm.get_field(this, 0)?).ok_or(Trap::Internal(Detail::DigestAlg))?;
        let (state, state_off, state_len) = (arg(args, 1) as ObjRef, arg(args, 2), arg(args, 3));
        let (count, count_off, count_len) = (arg(args, 4) as ObjRef, arg(args, 5), arg(args, 6));
        for (arr, off, len) in [(state, state_off, state_len), (count, count_off, count_len)] {
            if arr == NULL {
                return Err(vm.throw(SystemException::NullPointer));
            }
            vm.byte_array_range(arr, off, len)?;
        }
        if state_len as usize != h.chain_len() {
            return Err(self.crypto_error(vm, ILLEGAL_VALUE));
        }
        let mut chain = [0u8; MAX_DIGEST];
        let chain = Self::read_array(vm, state, state_off, state_len, &mut chain)?;
        // the byte count, big-endian, of any length: leading zeros, then at most 8 bytes
        let mut hashed = 0u64;
        let mut buf = [0u8; 16];
        let mut done = 0i16;
        while done < count_len {
            let n = (count_len - done).min(buf.len() as i16);
            for &b in Self::read_array(vm, count, count_off + done, n, &mut buf)?.iter() {
                match hashed.checked_mul(256) {
                    Some(v) => hashed = v | u64::from(b),
                    None => return Err(self.crypto_error(vm, ILLEGAL_VALUE)),
                }
            }
            done += n;
        }
        let ctx = DigestCtx::resume(h, chain, hashed).map_err(|e| self.crypto_fail(vm, e))?;
        self.save_digest(vm, this, &ctx, h)?;
        Ok(Value::Void)
    }

    /// Keeps a digest in progress in the state of MessageDigest object `this`.
    fn save_digest<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        this: ObjRef,
        ctx: &DigestCtx,
        h: HashAlg,
    ) -> Result<(), Trap> {
        let mut st = [0u8; MAX_STATE];
        st[0] = 1;
        ctx.save(st.get_mut(ST_CTX..).unwrap_or(&mut []))
            .map_err(|e| self.crypto_fail(vm, e))?;
        Self::state_write(
            vm,
            this,
            st.get(..ST_CTX + DigestCtx::serialized_len(h))
                .unwrap_or(&[]),
        )
    }

    /// Feeds `len` bytes of the applet's array into a digest context.
    fn feed<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        ctx: &mut DigestCtx,
        arr: ObjRef,
        off: i16,
        len: i16,
    ) -> Result<(), Trap> {
        if arr == NULL {
            return Err(vm.throw(SystemException::NullPointer));
        }
        vm.byte_array_range(arr, off, len)?;
        let mut buf = [0u8; CHUNK];
        let mut done = 0i16;
        while done < len {
            let n = (len - done).min(CHUNK as i16);
            let data = Self::read_array(vm, arr, off + done, n, &mut buf)?;
            ctx.update(self.engine(), data)
                .map_err(|e| self.crypto_fail(vm, e))?;
            done += n;
        }
        Ok(())
    }

    fn random_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        match token {
            1 | 3 => {
                let (arr, off, len) = (arg(args, 1) as ObjRef, arg(args, 2), arg(args, 3));
                if arr == NULL {
                    return Err(vm.throw(SystemException::NullPointer));
                }
                vm.byte_array_range(arr, off, len)?;
                let rng = self
                    .random()
                    .ok_or_else(|| self.crypto_error(vm, ILLEGAL_USE))?;
                let mut buf = [0u8; CHUNK];
                let mut done = 0i16;
                while done < len {
                    let n = (len - done).min(CHUNK as i16);
                    let chunk = buf.get_mut(..n as usize).unwrap_or(&mut []);
                    rng.fill(chunk).map_err(|e| self.crypto_fail(vm, e))?;
                    Self::write_array(vm, arr, off + done, chunk)?;
                    done += n;
                }
                if token == 3 {
                    return word(off.wrapping_add(len));
                }
                Ok(Value::Void)
            }
            2 => Ok(Value::Void), // setSeed: the platform generator needs no seed
            _ => word(vm.get_field(this, 0)?),
        }
    }

    /// Reads the engine state and checks it is initialized; returns (state, key).
    fn init_state<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        this: ObjRef,
    ) -> Result<([u8; MAX_STATE], ObjRef), Trap> {
        let mut st = [0u8; MAX_STATE];
        Self::state_read(vm, this, &mut st)?;
        if st[0] == 0 {
            return Err(self.crypto_error(vm, INVALID_INIT));
        }
        Ok((st, i16::from_be_bytes([st[1], st[2]]) as ObjRef))
    }

    fn signature_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let alg = vm.get_field(this, 0)?;
        if alg == SIG_AES_MAC_128_NOPAD || alg == SIG_AES_CMAC_128 {
            return self.aes_mac_native(vm, alg, token, args);
        }
        let (kind, h) = sig_alg(alg).ok_or(Trap::Internal(Detail::SignatureAlg))?;
        match token {
            1 => return word(alg),
            2 => {
                return match kind {
                    SigKind::Ecdsa => word(72),
                    SigKind::Hmac => word(h.output_len() as i16),
                    SigKind::RsaPkcs1 => {
                        let (_, key) = self.init_state(vm, this)?;
                        let k = self.key_ref(vm, key)?;
                        word(k.bits / 8)
                    }
                }
            }
            3 | 4 => {
                let (key, mode) = (arg(args, 1) as ObjRef, arg(args, 2));
                let k = self.key_ref(vm, key)?;
                let ok_key = match (kind, mode) {
                    (SigKind::Ecdsa, 1) => k.kind == Kind::EcPrivate,
                    (SigKind::Ecdsa, 2) => k.kind == Kind::EcPublic,
                    (SigKind::RsaPkcs1, 1) => matches!(k.kind, Kind::RsaCrt | Kind::RsaPrivate),
                    (SigKind::RsaPkcs1, 2) => k.kind == Kind::RsaPublic,
                    (SigKind::Hmac, 1 | 2) => k.kind == Kind::Hmac,
                    _ => false,
                };
                if !ok_key {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                if !Self::key_initialized(vm, &k)? {
                    return Err(self.crypto_error(vm, UNINITIALIZED_KEY));
                }
                if token == 4 {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                let ctx = if kind == SigKind::Hmac {
                    let mut kb = [0u8; 128];
                    let n = self.slot_read(vm, &k, 0, &mut kb)?;
                    hmac_start(self.engine(), h, kb.get(..n).unwrap_or(&[]))
                        .map_err(|e| self.crypto_fail(vm, e))?
                } else {
                    DigestCtx::new(h)
                };
                let mut st = [0u8; MAX_STATE];
                st[0] = mode as u8;
                st[1..3].copy_from_slice(&(key as i16).to_be_bytes());
                ctx.save(st.get_mut(ST_CTX..).unwrap_or(&mut []))
                    .map_err(|e| self.crypto_fail(vm, e))?;
                Self::state_write(
                    vm,
                    this,
                    st.get(..ST_CTX + DigestCtx::serialized_len(h))
                        .unwrap_or(&[]),
                )?;
                return Ok(Value::Void);
            }
            11 => {
                return word(match h {
                    HashAlg::Sha1 => 1,
                    HashAlg::Sha256 => 4,
                    HashAlg::Sha384 => 5,
                    HashAlg::Sha512 => 6,
                    HashAlg::Sha224 => 7,
                })
            }
            12 => {
                return word(match kind {
                    SigKind::RsaPkcs1 => 3,
                    SigKind::Ecdsa => 5,
                    SigKind::Hmac => 9,
                })
            }
            13 => return word(if kind == SigKind::RsaPkcs1 { 7 } else { 0 }),
            9 => return self.sign_precomputed_hash(vm, kind, h, args),
            8 | 10 => return Err(self.crypto_error(vm, ILLEGAL_USE)),
            _ => {}
        }
        let (mut st, key) = self.init_state(vm, this)?;
        let mode = st[0];
        let mut ctx = DigestCtx::load(h, st.get(ST_CTX..).unwrap_or(&[]))
            .map_err(|e| self.crypto_fail(vm, e))?;
        self.feed(
            vm,
            &mut ctx,
            arg(args, 1) as ObjRef,
            arg(args, 2),
            arg(args, 3),
        )?;
        if token == 6 {
            ctx.save(st.get_mut(ST_CTX..).unwrap_or(&mut []))
                .map_err(|e| self.crypto_fail(vm, e))?;
            Self::state_write(
                vm,
                this,
                st.get(..ST_CTX + DigestCtx::serialized_len(h))
                    .unwrap_or(&[]),
            )?;
            return Ok(Value::Void);
        }
        if (token == 5 && mode != 1) || (token == 7 && mode != 2) {
            return Err(self.crypto_error(vm, ILLEGAL_USE));
        }
        let k = self.key_ref(vm, key)?;
        // the message is done: the next call starts a new one with the same key
        let fresh = if kind == SigKind::Hmac {
            let mut kb = [0u8; 128];
            let n = self.slot_read(vm, &k, 0, &mut kb)?;
            let inner = hmac_start(self.engine(), h, kb.get(..n).unwrap_or(&[]))
                .map_err(|e| self.crypto_fail(vm, e))?;
            let mut mac = [0u8; MAX_DIGEST];
            let n = hmac_finish(self.engine(), kb.get(..n).unwrap_or(&[]), ctx, &mut mac)
                .map_err(|e| self.crypto_fail(vm, e))?;
            kb.fill(0);
            let mut fresh = [0u8; MAX_STATE];
            inner
                .save(&mut fresh)
                .map_err(|e| self.crypto_fail(vm, e))?;
            let r = self.finish_mac(vm, token, args, mac.get(..n).unwrap_or(&[]));
            st.get_mut(ST_CTX..)
                .unwrap_or(&mut [])
                .iter_mut()
                .zip(fresh.iter())
                .for_each(|(d, s)| *d = *s);
            Self::state_write(
                vm,
                this,
                st.get(..ST_CTX + DigestCtx::serialized_len(h))
                    .unwrap_or(&[]),
            )?;
            return r;
        } else {
            DigestCtx::new(h)
        };
        let mut hash = [0u8; MAX_DIGEST];
        let hn = ctx
            .finish(self.engine(), &mut hash)
            .map_err(|e| self.crypto_fail(vm, e))?;
        let hash = hash.get(..hn).unwrap_or(&[]);
        fresh
            .save(st.get_mut(ST_CTX..).unwrap_or(&mut []))
            .map_err(|e| self.crypto_fail(vm, e))?;
        Self::state_write(
            vm,
            this,
            st.get(..ST_CTX + DigestCtx::serialized_len(h))
                .unwrap_or(&[]),
        )?;
        match (kind, token) {
            (SigKind::Ecdsa, 5) => {
                self.ecdsa_sign_hash(vm, &k, hash, arg(args, 4) as ObjRef, arg(args, 5))
            }
            (SigKind::Ecdsa, _) => {
                let mut w = [0u8; 65];
                let wn = self.ec_value(vm, &k, &mut w)?;
                let mut sig = [0u8; 128];
                let sl = arg(args, 6);
                if sl < 0 || sl as usize > sig.len() {
                    return word(0);
                }
                let der = Self::read_array(vm, arg(args, 4) as ObjRef, arg(args, 5), sl, &mut sig)?;
                let Some(rs) = ec::der_decode(der) else {
                    return word(0);
                };
                let ok = self
                    .engine()
                    .p256_verify(w.get(..wn).unwrap_or(&[]), hash, &rs)
                    .map_err(|e| self.crypto_fail(vm, e))?;
                word(ok as i16)
            }
            (SigKind::RsaPkcs1, 5) => {
                self.rsa_sign_hash(vm, &k, h, hash, arg(args, 4) as ObjRef, arg(args, 5))
            }
            _ => {
                let mut m = [0u8; rsa::MAX_MODULUS];
                let mut e = [0u8; rsa::MAX_MODULUS];
                let mn = self.slot_read(vm, &k, 0, &mut m)?;
                let en = self.slot_read(vm, &k, 1, &mut e)?;
                let mut sig = [0u8; rsa::MAX_MODULUS];
                let sl = arg(args, 6);
                if sl < 0 || sl as usize > sig.len() {
                    return word(0);
                }
                let s = Self::read_array(vm, arg(args, 4) as ObjRef, arg(args, 5), sl, &mut sig)?;
                let mut sc = [0u8; rsa::MAX_MODULUS];
                let s = sc
                    .get_mut(..s.len())
                    .map(|t| {
                        t.copy_from_slice(s);
                        &*t
                    })
                    .unwrap_or(&[]);
                let ok = rsa::pkcs1_verify(
                    self.engine(),
                    m.get(..mn).unwrap_or(&[]),
                    e.get(..en).unwrap_or(&[]),
                    h,
                    hash,
                    s,
                )
                .map_err(|e| self.crypto_fail(vm, e))?;
                word(ok as i16)
            }
        }
    }

    /// Signature ALG_AES_MAC_128_NOPAD (CBC-MAC, IV zero or given to init) and
    /// ALG_AES_CMAC_128, 16-byte MACs. The state uses the Cipher layout: the chaining
    /// value at CI_IV, the last (up to 16) bytes not yet chained at CI_PENDING (kept back
    /// even when complete: CMAC treats the last block differently), the init IV at CI_IV0.
    fn aes_mac_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        alg: i16,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let cmac = alg == SIG_AES_CMAC_128;
        match token {
            1 => return word(alg),
            2 => return word(mac::BLOCK as i16),
            3 | 4 => {
                let (key, mode) = (arg(args, 1) as ObjRef, arg(args, 2));
                let k = self.key_ref(vm, key)?;
                if k.kind != Kind::Aes || !(1..=2).contains(&mode) {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                if !Self::key_initialized(vm, &k)? {
                    return Err(self.crypto_error(vm, UNINITIALIZED_KEY));
                }
                let mut st = [0u8; CI_STATE_LEN];
                st[0] = mode as u8;
                st[1..3].copy_from_slice(&(key as i16).to_be_bytes());
                if token == 4 {
                    if cmac || arg(args, 5) as usize != mac::BLOCK {
                        return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                    }
                    let mut iv = [0u8; mac::BLOCK];
                    let ivb = Self::read_array(
                        vm,
                        arg(args, 3) as ObjRef,
                        arg(args, 4),
                        arg(args, 5),
                        &mut iv,
                    )?;
                    st[CI_IV..CI_IV + mac::BLOCK].copy_from_slice(ivb);
                    st[CI_IV0..CI_IV0 + mac::BLOCK].copy_from_slice(ivb);
                }
                Self::state_write(vm, this, &st)?;
                return Ok(Value::Void);
            }
            11 => return word(0), // ALG_NULL: no message digest
            12 => return word(if cmac { 10 } else { 6 }), // SIG_CIPHER_AES_(C)MAC128
            13 => return word(if cmac { 0 } else { 1 }), // PAD_NULL, PAD_NOPAD
            5..=7 => {}
            _ => return Err(self.crypto_error(vm, ILLEGAL_USE)),
        }
        let (st, key) = self.init_state(vm, this)?;
        let mut st: [u8; CI_STATE_LEN] = st
            .get(..CI_STATE_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(Trap::Internal(Detail::MacState))?;
        if (token == 5 && st[0] != 1) || (token == 7 && st[0] != 2) {
            return Err(self.crypto_error(vm, ILLEGAL_USE));
        }
        let k = self.key_ref(vm, key)?;
        let mut kb = [0u8; 32];
        let kn = self.slot_read(vm, &k, 0, &mut kb)?;
        let r = self.aes_mac_feed(vm, kb.get(..kn).unwrap_or(&[]), &mut st, args);
        let result = r.and_then(|()| {
            if token == 6 {
                return Ok(None);
            }
            let mut chain = [0u8; mac::BLOCK];
            chain.copy_from_slice(&st[CI_IV..CI_IV + mac::BLOCK]);
            let pending = st[CI_PENDING_LEN] as usize;
            let tail = st.get(CI_PENDING..CI_PENDING + pending).unwrap_or(&[]);
            let key = kb.get(..kn).unwrap_or(&[]);
            let last = if cmac {
                let (k1, k2) =
                    mac::cmac_subkeys(self.engine(), key).map_err(|e| self.crypto_fail(vm, e))?;
                mac::cmac_last_block(tail, &k1, &k2)
            } else {
                // NOPAD: a whole last block, and at least one
                let Ok(last) = <[u8; mac::BLOCK]>::try_from(tail) else {
                    return Err(self.crypto_error(vm, ILLEGAL_USE));
                };
                last
            };
            mac::cbc_mac_step(self.engine(), key, &mut chain, &last)
                .map_err(|e| self.crypto_fail(vm, e))?;
            Ok(Some(chain))
        });
        kb.fill(0);
        let Some(tag) = result? else {
            Self::state_write(vm, this, &st)?;
            return Ok(Value::Void);
        };
        // the message is done: back to the state after init
        st.copy_within(CI_IV0..CI_IV0 + mac::BLOCK, CI_IV);
        st[CI_PENDING_LEN] = 0;
        Self::state_write(vm, this, &st)?;
        self.finish_mac(vm, token, args, &tag)
    }

    /// Chains the applet's input `(args[1], args[2], args[3])` into an AES MAC state,
    /// keeping the last up to 16 bytes pending.
    fn aes_mac_feed<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        key: &[u8],
        st: &mut [u8; CI_STATE_LEN],
        args: &[i16],
    ) -> Result<(), Trap> {
        let (arr, off, len) = (arg(args, 1) as ObjRef, arg(args, 2), arg(args, 3));
        if arr == NULL {
            return Err(vm.throw(SystemException::NullPointer));
        }
        vm.byte_array_range(arr, off, len)?;
        let mut chain = [0u8; mac::BLOCK];
        chain.copy_from_slice(&st[CI_IV..CI_IV + mac::BLOCK]);
        let mut pending = [0u8; mac::BLOCK];
        pending.copy_from_slice(&st[CI_PENDING..CI_PENDING + mac::BLOCK]);
        let mut have = (st[CI_PENDING_LEN] as usize).min(mac::BLOCK);
        let mut buf = [0u8; CHUNK];
        let mut done = 0i16;
        while done < len {
            let n = (len - done).min(CHUNK as i16);
            let data = Self::read_array(vm, arr, off + done, n, &mut buf)?;
            for &b in data.iter() {
                if have == mac::BLOCK {
                    mac::cbc_mac_step(self.engine(), key, &mut chain, &pending)
                        .map_err(|e| self.crypto_fail(vm, e))?;
                    have = 0;
                }
                if let Some(p) = pending.get_mut(have) {
                    *p = b;
                }
                have += 1;
            }
            done += n;
        }
        st[CI_IV..CI_IV + mac::BLOCK].copy_from_slice(&chain);
        st[CI_PENDING..CI_PENDING + mac::BLOCK].copy_from_slice(&pending);
        st[CI_PENDING_LEN] = have as u8;
        Ok(())
    }

    /// `signPreComputedHash(hashBuff, hashOff, hashLength, sigBuff, sigOffset)` for ECDSA
    /// and RSA PKCS#1 v1.5: signs a hash the applet computed. INVALID_INIT unless
    /// initialized for signing; ILLEGAL_USE for HMAC or a hash of the wrong length.
    fn sign_precomputed_hash<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        kind: SigKind,
        h: HashAlg,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let (st, key) = self.init_state(vm, this)?;
        if st[0] != 1 {
            return Err(self.crypto_error(vm, INVALID_INIT));
        }
        if kind == SigKind::Hmac || arg(args, 3) as usize != h.output_len() {
            return Err(self.crypto_error(vm, ILLEGAL_USE));
        }
        let mut hb = [0u8; MAX_DIGEST];
        let hash = Self::read_array(
            vm,
            arg(args, 1) as ObjRef,
            arg(args, 2),
            arg(args, 3),
            &mut hb,
        )?;
        let mut hc = [0u8; MAX_DIGEST];
        let hash = hc
            .get_mut(..hash.len())
            .map(|t| {
                t.copy_from_slice(hash);
                &*t
            })
            .unwrap_or(&[]);
        let k = self.key_ref(vm, key)?;
        let (out, out_off) = (arg(args, 4) as ObjRef, arg(args, 5));
        if kind == SigKind::RsaPkcs1 {
            return self.rsa_sign_hash(vm, &k, h, hash, out, out_off);
        }
        self.ecdsa_sign_hash(vm, &k, hash, out, out_off)
    }

    /// ECDSA P-256 signature (DER) of `hash` with private key `k` into the applet's array.
    fn ecdsa_sign_hash<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        k: &KeyRef,
        hash: &[u8],
        out: ObjRef,
        out_off: i16,
    ) -> Result<Value, Trap> {
        let mut s = [0u8; 65];
        self.ec_value(vm, k, &mut s)?;
        let rng = self
            .random()
            .ok_or_else(|| self.crypto_error(vm, ILLEGAL_USE))?;
        let mut rs = [0u8; 64];
        let r = self
            .engine()
            .p256_sign(s.get(..32).unwrap_or(&[]), hash, rng, &mut rs);
        s.fill(0);
        r.map_err(|e| self.crypto_fail(vm, e))?;
        let mut der = [0u8; 72];
        let n = ec::der_encode(&rs, &mut der).map_err(|e| self.crypto_fail(vm, e))?;
        Self::write_array(vm, out, out_off, der.get(..n).unwrap_or(&[]))?;
        word(n as i16)
    }

    /// RSA PKCS#1 v1.5 signature of `hash` with private key `k` into the applet's array.
    fn rsa_sign_hash<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        k: &KeyRef,
        h: HashAlg,
        hash: &[u8],
        out: ObjRef,
        out_off: i16,
    ) -> Result<Value, Trap> {
        let len = (k.bits / 8) as usize;
        let mut sig = [0u8; rsa::MAX_MODULUS];
        let sig = sig.get_mut(..len).ok_or(Trap::Internal(Detail::Rsa))?;
        let mut em = [0u8; rsa::MAX_MODULUS];
        let em = em.get_mut(..len).ok_or(Trap::Internal(Detail::Rsa))?;
        rsa::pkcs1_sign_encode(h, hash, em).map_err(|e| self.crypto_fail(vm, e))?;
        self.rsa_private(vm, k, em, sig)?;
        Self::write_array(vm, out, out_off, sig)?;
        word(len as i16)
    }

    /// The RSA private operation of key `k` (plain or CRT) on `input` into `out` (the
    /// modulus length); the key material is wiped from the stack afterwards.
    fn rsa_private<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        k: &KeyRef,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(), Trap> {
        let r = if k.kind == Kind::RsaCrt {
            let mut c = [[0u8; rsa::MAX_MODULUS / 2]; 5];
            let mut n = [0usize; 5];
            for (i, (buf, l)) in c.iter_mut().zip(n.iter_mut()).enumerate() {
                *l = self.slot_read(vm, k, i, buf)?;
            }
            let part = |i: usize| {
                c.get(i)
                    .and_then(|b| b.get(..n.get(i).copied().unwrap_or(0)))
                    .unwrap_or(&[])
            };
            let key = rsa::CrtKey {
                p: part(0),
                q: part(1),
                dp: part(2),
                dq: part(3),
                qinv: part(4),
            };
            let r = self.engine().rsa_crt(&key, input, out);
            c.iter_mut().for_each(|b| b.fill(0));
            r
        } else {
            let mut m = [0u8; rsa::MAX_MODULUS];
            let mut d = [0u8; rsa::MAX_MODULUS];
            let mn = self.slot_read(vm, k, 0, &mut m)?;
            let dn = self.slot_read(vm, k, 1, &mut d)?;
            let r = self.engine().rsa_exp(
                m.get(..mn).unwrap_or(&[]),
                d.get(..dn).unwrap_or(&[]),
                input,
                out,
            );
            d.fill(0);
            r
        };
        r.map_err(|e| self.crypto_fail(vm, e))
    }

    /// The RSA public operation of key `k` on `input` into `out` (the modulus length).
    fn rsa_public<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        k: &KeyRef,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(), Trap> {
        let mut m = [0u8; rsa::MAX_MODULUS];
        let mut e = [0u8; rsa::MAX_MODULUS];
        let mn = self.slot_read(vm, k, 0, &mut m)?;
        let en = self.slot_read(vm, k, 1, &mut e)?;
        self.engine()
            .rsa_exp(
                m.get(..mn).unwrap_or(&[]),
                e.get(..en).unwrap_or(&[]),
                input,
                out,
            )
            .map_err(|e| self.crypto_fail(vm, e))
    }

    /// Cipher ALG_RSA_PKCS1 and ALG_RSA_NOPAD: `doFinal` runs the whole block (RSA takes
    /// no `update`); encryption with a private key pads with block type 01.
    fn rsa_cipher_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        alg: i16,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let pkcs1 = alg == CIPHER_RSA_PKCS1;
        match token {
            2 => return word(alg),
            6 => return word(7),                         // CIPHER_RSA
            7 => return word(if pkcs1 { 7 } else { 1 }), // PAD_PKCS1, PAD_NOPAD
            3 | 4 => {
                let (key, mode) = (arg(args, 1) as ObjRef, arg(args, 2));
                let k = self.key_ref(vm, key)?;
                let rsa_key = matches!(k.kind, Kind::RsaPublic | Kind::RsaPrivate | Kind::RsaCrt);
                if !rsa_key || !(1..=2).contains(&mode) || token == 4 {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                if !Self::key_initialized(vm, &k)? {
                    return Err(self.crypto_error(vm, UNINITIALIZED_KEY));
                }
                let mut st = [0u8; ST_CTX];
                st[0] = mode as u8;
                st[1..3].copy_from_slice(&(key as i16).to_be_bytes());
                Self::state_write(vm, this, &st)?;
                return Ok(Value::Void);
            }
            5 => return Err(self.crypto_error(vm, ILLEGAL_USE)),
            _ => {}
        }
        let (st, key) = self.init_state(vm, this)?;
        let encrypt = st[0] == 2;
        let k = self.key_ref(vm, key)?;
        let len = (k.bits / 8) as usize;
        let (il, out, out_off) = (arg(args, 3), arg(args, 4) as ObjRef, arg(args, 5));
        let mut input = [0u8; rsa::MAX_MODULUS];
        if il < 0 || il as usize > len {
            return Err(self.crypto_error(vm, ILLEGAL_USE));
        }
        let data = Self::read_array(vm, arg(args, 1) as ObjRef, arg(args, 2), il, &mut input)?;
        let mut block = [0u8; rsa::MAX_MODULUS];
        let block = block.get_mut(..len).ok_or(Trap::Internal(Detail::Rsa))?;
        let mut result = [0u8; rsa::MAX_MODULUS];
        let result = result.get_mut(..len).ok_or(Trap::Internal(Detail::Rsa))?;
        if encrypt && pkcs1 {
            if k.kind == Kind::RsaPublic {
                let rng = self
                    .random()
                    .ok_or_else(|| self.crypto_error(vm, ILLEGAL_USE))?;
                rsa::pkcs1_encrypt_encode(data, rng, block).map_err(|e| self.crypto_fail(vm, e))?;
            } else {
                // block type 01: 00 01 FF..FF 00 M
                let pad_end = len.checked_sub(data.len() + 1).filter(|&e| e >= 10);
                let Some(pad_end) = pad_end else {
                    return Err(self.crypto_error(vm, ILLEGAL_USE));
                };
                block.fill(0xFF);
                block[0] = 0;
                block[1] = 1;
                block[pad_end] = 0;
                block
                    .get_mut(pad_end + 1..)
                    .ok_or(Trap::Internal(Detail::Rsa))?
                    .copy_from_slice(data);
            }
        } else {
            if data.len() != len {
                return Err(self.crypto_error(vm, ILLEGAL_USE));
            }
            block.copy_from_slice(data);
        }
        if k.kind == Kind::RsaPublic {
            self.rsa_public(vm, &k, block, result)?;
        } else {
            self.rsa_private(vm, &k, block, result)?;
        }
        let produced = if !encrypt && pkcs1 {
            match rsa::pkcs1_decrypt_decode(result) {
                Some(start) => result.get(start..).unwrap_or(&[]),
                None => return Err(self.crypto_error(vm, ILLEGAL_VALUE)),
            }
        } else {
            &result[..]
        };
        let mut copy = [0u8; rsa::MAX_MODULUS];
        let copy = copy
            .get_mut(..produced.len())
            .ok_or(Trap::Internal(Detail::Rsa))?;
        copy.copy_from_slice(produced);
        result.fill(0);
        Self::write_array(vm, out, out_off, copy)?;
        word(copy.len() as i16)
    }

    /// Ends an HMAC sign (writes the MAC) or verify (compares it).
    fn finish_mac<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
        mac: &[u8],
    ) -> Result<Value, Trap> {
        if token == 5 {
            Self::write_array(vm, arg(args, 4) as ObjRef, arg(args, 5), mac)?;
            return word(mac.len() as i16);
        }
        let mut buf = [0u8; MAX_DIGEST];
        let sl = arg(args, 6);
        if sl as usize != mac.len() {
            return word(0);
        }
        let got = Self::read_array(vm, arg(args, 4) as ObjRef, arg(args, 5), sl, &mut buf)?;
        word(subtle_eq(got, mac) as i16)
    }

    fn agreement_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        match token {
            1 => {
                let key = arg(args, 1) as ObjRef;
                let k = self.key_ref(vm, key)?;
                if k.kind != Kind::EcPrivate {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                if !Self::key_initialized(vm, &k)? {
                    return Err(self.crypto_error(vm, UNINITIALIZED_KEY));
                }
                let mut st = [1u8, 0, 0];
                st[1..3].copy_from_slice(&(key as i16).to_be_bytes());
                Self::state_write(vm, this, &st)?;
                Ok(Value::Void)
            }
            2 => word(vm.get_field(this, 0)?),
            _ => {
                let (_, key) = self.init_state(vm, this)?;
                let k = self.key_ref(vm, key)?;
                let mut s = [0u8; 65];
                self.ec_value(vm, &k, &mut s)?;
                let mut w = [0u8; 65];
                let wl = arg(args, 3);
                if !(1..=65).contains(&wl) {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                let peer = Self::read_array(vm, arg(args, 1) as ObjRef, arg(args, 2), wl, &mut w)?;
                let mut z = [0u8; 32];
                let r = self
                    .engine()
                    .p256_ecdh(s.get(..32).unwrap_or(&[]), peer, &mut z);
                s.fill(0);
                r.map_err(|e| self.crypto_fail(vm, e))?;
                if vm.get_field(this, 0)? == KA_EC_SVDP_DH {
                    // the SHA-1 form: SHA-1 of the shared x coordinate (IEEE 1363 ECSVDP-DH
                    // then the digest, as the Java Card API gives it)
                    let mut sha = [0u8; 20];
                    let n =
                        oxicard_crypto::digest::digest(self.engine(), HashAlg::Sha1, &z, &mut sha)
                            .map_err(|e| self.crypto_fail(vm, e))?;
                    z.fill(0);
                    Self::write_array(
                        vm,
                        arg(args, 4) as ObjRef,
                        arg(args, 5),
                        sha.get(..n).unwrap_or(&[]),
                    )?;
                    return word(n as i16);
                }
                Self::write_array(vm, arg(args, 4) as ObjRef, arg(args, 5), &z)?;
                z.fill(0);
                word(32)
            }
        }
    }

    fn cipher_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        token: u16,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let this = arg(args, 0) as ObjRef;
        let alg = vm.get_field(this, 0)?;
        if alg == CIPHER_RSA_PKCS1 || alg == CIPHER_RSA_NOPAD {
            return self.rsa_cipher_native(vm, alg, token, args);
        }
        let (block, cbc, pad) = cipher_alg(alg).ok_or(Trap::Internal(Detail::CipherAlg))?;
        let bs = block.block_len();
        match token {
            2 => return word(alg),
            6 => {
                return word(match (block, cbc) {
                    (BlockAlg::Aes, true) => 1,
                    (BlockAlg::Aes, false) => 2,
                    (BlockAlg::Des, true) => 3,
                    (BlockAlg::Des, false) => 4,
                })
            }
            7 => return word(pad.constant()),
            3 | 4 => {
                let (key, mode) = (arg(args, 1) as ObjRef, arg(args, 2));
                let k = self.key_ref(vm, key)?;
                let ok = matches!(
                    (block, k.kind),
                    (BlockAlg::Aes, Kind::Aes) | (BlockAlg::Des, Kind::Des)
                );
                if !ok || !(1..=2).contains(&mode) {
                    return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                }
                if !Self::key_initialized(vm, &k)? {
                    return Err(self.crypto_error(vm, UNINITIALIZED_KEY));
                }
                let mut st = [0u8; CI_STATE_LEN];
                st[0] = mode as u8;
                st[1..3].copy_from_slice(&(key as i16).to_be_bytes());
                if token == 4 {
                    let il = arg(args, 5);
                    if !cbc || il as usize != bs {
                        return Err(self.crypto_error(vm, ILLEGAL_VALUE));
                    }
                    let mut iv = [0u8; 16];
                    let ivb =
                        Self::read_array(vm, arg(args, 3) as ObjRef, arg(args, 4), il, &mut iv)?;
                    st[CI_IV..CI_IV + bs].copy_from_slice(ivb);
                    st[CI_IV0..CI_IV0 + bs].copy_from_slice(ivb);
                }
                Self::state_write(vm, this, &st)?;
                return Ok(Value::Void);
            }
            _ => {}
        }
        // update (5) or doFinal (1)
        let (st, key) = self.init_state(vm, this)?;
        let mut st: [u8; CI_STATE_LEN] = st
            .get(..CI_STATE_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(Trap::Internal(Detail::CipherState))?;
        let k = self.key_ref(vm, key)?;
        let mut kb = [0u8; 32];
        let kn = self.slot_read(vm, &k, 0, &mut kb)?;
        let encrypt = st[0] == 2;
        let (arr, off, len) = (arg(args, 1) as ObjRef, arg(args, 2), arg(args, 3));
        let (out, out_off) = (arg(args, 4) as ObjRef, arg(args, 5));
        if arr == NULL || out == NULL {
            return Err(vm.throw(SystemException::NullPointer));
        }
        vm.byte_array_range(arr, off, len)?;
        let pending = (st[CI_PENDING_LEN] & !CI_STARTED) as usize;
        let started = st[CI_PENDING_LEN] & CI_STARTED != 0;
        let total = pending + len as usize;
        // decryption that removes padding keeps the last block back until doFinal
        let unpad = !encrypt && pad.strips();
        let process = match (token, encrypt) {
            // method 1 pads only a non-empty message: nothing is left after whole blocks
            (1, true) if pad == Pad::Iso9797M1 && total == 0 && started => 0,
            (1, true) => pad.padded_len(total, bs),
            (1, false) => total,
            _ if unpad => total.saturating_sub(1) / bs * bs,
            _ => total / bs * bs,
        };
        let aligned = total.is_multiple_of(bs) && !(unpad && total == 0);
        if token == 1 && !aligned && (!encrypt || pad == Pad::Nothing) {
            return Err(self.crypto_error(vm, ILLEGAL_USE));
        }
        if !(token == 1 && unpad) {
            vm.byte_array_range(out, out_off, process as i16)?;
        }
        // gather everything first: input and output may overlap
        let mut all = [0u8; 512 + 32];
        if total.max(process) > all.len() {
            return Err(self.crypto_error(vm, ILLEGAL_VALUE));
        }
        all[..pending].copy_from_slice(&st[CI_PENDING..CI_PENDING + pending]);
        Self::read_array(vm, arr, off, len, &mut all[pending..])?;
        if token == 1 && encrypt {
            pad.fill(&mut all[total..process]);
        }
        let mut iv = [0u8; 16];
        iv[..bs].copy_from_slice(&st[CI_IV..CI_IV + bs]);
        let data = &mut all[..process];
        let ivs = if cbc { Some(&mut iv[..bs]) } else { None };
        let r = self
            .engine()
            .block_cipher(block, kb.get(..kn).unwrap_or(&[]), encrypt, ivs, data);
        kb.fill(0);
        r.map_err(|e| self.crypto_fail(vm, e))?;
        let produced = if token == 1 && unpad {
            match pad.unpadded_len(&all[..process], bs) {
                Some(n) => n,
                None => {
                    all.fill(0);
                    return Err(self.crypto_error(vm, ILLEGAL_USE));
                }
            }
        } else {
            process
        };
        let written = Self::write_array(vm, out, out_off, &all[..produced]);
        if token == 1 && unpad {
            all[..process].fill(0);
        }
        written?;
        let rest = total.saturating_sub(process);
        if let (Some(dst), Some(src)) = (
            st.get_mut(CI_PENDING..CI_PENDING + rest),
            all.get(process..total),
        ) {
            dst.copy_from_slice(src);
        }
        st[CI_PENDING_LEN] = rest as u8
            | if started || process > 0 {
                CI_STARTED
            } else {
                0
            };
        if token == 1 {
            // doFinal resets the Cipher to its state after init (same key and IV)
            iv[..bs].copy_from_slice(&st[CI_IV0..CI_IV0 + bs]);
            st[CI_PENDING_LEN] = 0;
        }
        st[CI_IV..CI_IV + bs].copy_from_slice(&iv[..bs]);
        Self::state_write(vm, this, &st)?;
        word(produced as i16)
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
