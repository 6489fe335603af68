//! javacard.security and javacardx.crypto on a card built without the `crypto` feature
//! (a firmware image within a small flash budget). The API packages stay on the card, so
//! CAP files that import them still load and link, but the card implements no
//! algorithm: every factory (`MessageDigest`, `Signature`, `Cipher`, `KeyAgreement` and
//! `RandomData.getInstance`, `KeyBuilder.buildKey`, the `KeyPair` constructors) throws
//! CryptoException NO_SUCH_ALGORITHM, as the Java Card API specification says of an
//! algorithm the card does not support. `CryptoException.throwIt` works as usual. No
//! key or engine object can exist, so their virtual methods are never reached.

#[path = "crypto/catalog.rs"]
pub mod catalog;

use crate::Runtime;
use catalog::{class, local, NATIVE_BASE};
use oxicard_store::Nvm;
use oxicard_vm::api::{NativeId, Value};
use oxicard_vm::{Trap, Vm};

/// CryptoException reason of an algorithm the card does not implement.
const NO_SUCH_ALGORITHM: i16 = 3;

/// The CryptoException throwable lives in the runtime's table of preallocated exceptions,
/// indexed by class id: the table must have room for it.
const _: () = assert!((class::CRYPTO_EXCEPTION as usize) < crate::EXCEPTION_SLOTS);

/// What a board gives the card runtime for cryptography: nothing, in a build without the
/// `crypto` feature (the same type name as the full build's, so boards and
/// [`crate::Card::with_platform`] read the same either way).
/// Made by [`Default`] only.
#[derive(Clone, Copy, Debug, Default)]
pub struct Platform {
    _nothing: (),
}

impl Runtime {
    /// Throws CryptoException with `reason` (its one instance, created on first use and
    /// owned by the runtime's context).
    fn crypto_error<N: Nvm>(&mut self, vm: &mut Vm<N>, reason: i16) -> Trap {
        self.throw_reason_lazily(vm, class::CRYPTO_EXCEPTION, reason)
    }

    /// Runs the crypto native `id`: `CryptoException.throwIt` throws its argument, every
    /// other one NO_SUCH_ALGORITHM.
    pub(crate) fn crypto_native<N: Nvm>(
        &mut self,
        vm: &mut Vm<N>,
        id: NativeId,
        args: &[i16],
    ) -> Result<Value, Trap> {
        let reason = if id.checked_sub(NATIVE_BASE) == Some(local::THROW_IT) {
            args.first().copied().unwrap_or(0)
        } else {
            NO_SUCH_ALGORITHM
        };
        Err(self.crypto_error(vm, reason))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Every crypto factory of the API answers NO_SUCH_ALGORITHM (reason 3 of
    //! javacard.security.CryptoException, Java Card 3.0.5 API) through the runtime's native
    //! dispatch, for algorithms the full build implements.
    extern crate std;
    use super::*;
    use crate::Card;
    use oxicard_store::RamNvm;
    use oxicard_vm::api::Natives;
    use std::boxed::Box;

    type TestCard = Card<RamNvm<{ 32 * 1024 }>>;

    /// (exception class, reason) of what native `local` (a crypto local number) threw.
    fn thrown(card: &mut TestCard, local: u16, args: &[i16]) -> (u16, i16) {
        match card.rt.invoke(&mut card.vm, NATIVE_BASE + local, args) {
            Err(Trap::Throw(obj)) => (
                card.vm.header(obj).unwrap().class,
                card.vm.get_field(obj, 0).unwrap(),
            ),
            other => panic!("native {local}: expected an exception, got {other:?}"),
        }
    }

    #[test]
    fn factories_throw_no_such_algorithm() {
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(|| {
                let mut card = Box::new(TestCard::new(RamNvm::new()).unwrap());
                let card = &mut *card;
                let no_such = (class::CRYPTO_EXCEPTION, NO_SUCH_ALGORITHM);
                // (native, arguments, what): algorithms the full build implements
                let calls: [(u16, &[i16], &str); 10] = [
                    (local::MD_GET_INSTANCE, &[4, 0], "SHA-256"),
                    (local::SIG_GET_INSTANCE, &[33, 0], "ECDSA SHA-256"),
                    (local::CIPHER_GET_INSTANCE, &[13, 0], "AES-128 CBC"),
                    (
                        local::CIPHER_GET_INSTANCE3,
                        &[1, 0, 0],
                        "Cipher(cipher, pad)",
                    ),
                    (local::KA_GET_INSTANCE, &[3, 0], "ECDH plain"),
                    (local::RD_GET_INSTANCE, &[2], "secure random"),
                    (local::BUILD_KEY, &[15, 128, 0], "AES-128 key"),
                    (local::BUILD_KEY4, &[15, 0, 128, 0], "buildKey(4 args)"),
                    (local::KEYPAIR_INIT_ALG, &[0, 5, 256], "KeyPair(EC_FP)"),
                    (local::KEYPAIR_INIT_KEYS, &[0, 0, 0], "KeyPair(keys)"),
                ];
                for (native, args, what) in calls {
                    assert_eq!(thrown(card, native, args), no_such, "{what}");
                }
                // throwIt keeps its reason (ILLEGAL_USE)
                assert_eq!(
                    thrown(card, local::THROW_IT, &[5]),
                    (class::CRYPTO_EXCEPTION, 5)
                );
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
