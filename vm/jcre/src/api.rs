//! The built-in API as the VM sees it: packages java.lang and javacard.framework (Java Card
//! 3.0.5 versions), their classes with the real tokens of the Oracle export files
//! (../shared/spec/api-tokens.tsv), and the native ids of their methods.

use crate::crypto::catalog as crypto;
use oxicard_vm::api::{
    ApiCatalog, ApiPackage, BuiltinClass, NativeId, NativeMethod, StaticMethod, CLASS_INTERFACE,
    CLASS_SHAREABLE,
};
use oxicard_vm::ClassId;

/// Virtual method token of `Applet.getShareableInterfaceObject(AID, byte)`.
pub const APPLET_GET_SIO_TOKEN: u8 = 5;
/// API package index of java.lang.
pub const PKG_LANG: u8 = 0;
/// API package index of javacard.framework.
pub const PKG_FRAMEWORK: u8 = 1;

// Class ids (index into CLASSES).
/// java.lang.Object
pub const C_OBJECT: ClassId = 0;
/// java.lang.Throwable
pub const C_THROWABLE: ClassId = 1;
/// java.lang.Exception
pub const C_EXCEPTION: ClassId = 2;
/// java.lang.RuntimeException
pub const C_RUNTIME_EXCEPTION: ClassId = 3;
/// java.lang.ArrayIndexOutOfBoundsException
pub const C_AIOOBE: ClassId = 5;
/// java.lang.NegativeArraySizeException
pub const C_NASE: ClassId = 6;
/// java.lang.NullPointerException
pub const C_NPE: ClassId = 7;
/// java.lang.ClassCastException
pub const C_CCE: ClassId = 8;
/// java.lang.ArithmeticException
pub const C_ARITHMETIC: ClassId = 9;
/// java.lang.SecurityException
pub const C_SECURITY: ClassId = 10;
/// java.lang.ArrayStoreException
pub const C_ASE: ClassId = 11;
/// javacard.framework.Applet
pub const C_APPLET: ClassId = 15;
/// javacard.framework.CardException
pub const C_CARD_EXCEPTION: ClassId = 16;
/// javacard.framework.CardRuntimeException
pub const C_CARD_RUNTIME_EXCEPTION: ClassId = 17;
/// javacard.framework.AID
pub const C_AID: ClassId = 18;
/// javacard.framework.ISOException
pub const C_ISO_EXCEPTION: ClassId = 19;
/// javacard.framework.OwnerPIN
pub const C_OWNER_PIN: ClassId = 21;
/// javacard.framework.APDU
pub const C_APDU: ClassId = 22;
/// javacard.framework.PINException
pub const C_PIN_EXCEPTION: ClassId = 23;
/// javacard.framework.APDUException
pub const C_APDU_EXCEPTION: ClassId = 24;
/// javacard.framework.SystemException
pub const C_SYSTEM_EXCEPTION: ClassId = 25;
/// javacard.framework.TransactionException
pub const C_TRANSACTION_EXCEPTION: ClassId = 26;
/// javacard.framework.UserException
pub const C_USER_EXCEPTION: ClassId = 27;
const C_PIN: ClassId = 13;

/// Native method ids.
#[allow(missing_docs)]
pub mod n {
    use oxicard_vm::api::NativeId;
    pub const OBJECT_INIT: NativeId = 0;
    pub const OBJECT_EQUALS: NativeId = 1;
    pub const APPLET_REGISTER: NativeId = 2;
    pub const APPLET_REGISTER_AID: NativeId = 3;
    pub const APPLET_SELECTING: NativeId = 4;
    pub const APPLET_DESELECT: NativeId = 5;
    pub const APPLET_GET_SIO: NativeId = 6;
    pub const APPLET_SELECT: NativeId = 7;
    pub const APPLET_PROCESS: NativeId = 8;
    pub const APPLET_INSTALL: NativeId = 9;
    pub const APPLET_RESELECTING: NativeId = 10;
    pub const REASON_INIT: NativeId = 11;
    pub const GET_REASON: NativeId = 12;
    pub const SET_REASON: NativeId = 13;
    /// `THROW_IT + k`: throwIt of exception class `THROWERS[k]`.
    pub const THROW_IT: NativeId = 14;
    pub const AID_INIT: NativeId = 24;
    pub const AID_EQUALS: NativeId = 25;
    pub const AID_RID_EQUALS: NativeId = 26;
    pub const AID_EQUALS_BYTES: NativeId = 27;
    pub const AID_GET_BYTES: NativeId = 28;
    pub const AID_PARTIAL_EQUALS: NativeId = 29;
    pub const AID_GET_PARTIAL_BYTES: NativeId = 30;
    pub const PIN_INIT: NativeId = 31;
    pub const PIN_CHECK: NativeId = 32;
    pub const PIN_GET_TRIES: NativeId = 33;
    pub const PIN_GET_VALIDATED: NativeId = 34;
    pub const PIN_IS_VALIDATED: NativeId = 35;
    pub const PIN_RESET: NativeId = 36;
    pub const PIN_RESET_UNBLOCK: NativeId = 37;
    pub const PIN_SET_VALIDATED: NativeId = 38;
    pub const PIN_UPDATE: NativeId = 39;
    /// `APDU_VIRTUAL + token` for APDU virtual methods 1..=18.
    pub const APDU_VIRTUAL: NativeId = 40;
    /// `APDU_STATIC + token` for APDU static methods 0..=6.
    pub const APDU_STATIC: NativeId = 60;
    /// `UTIL + token` for Util static methods 0..=7.
    pub const UTIL: NativeId = 70;
    /// `JCSYSTEM + token` for JCSystem static methods 0..=22.
    pub const JCSYSTEM: NativeId = 80;
    /// Number of native ids.
    pub const COUNT: usize = 103;
}

/// The exception classes whose `throwIt` is native `n::THROW_IT + index`.
pub const THROWERS: [ClassId; 8] = [
    C_CARD_EXCEPTION,
    C_CARD_RUNTIME_EXCEPTION,
    C_ISO_EXCEPTION,
    C_PIN_EXCEPTION,
    C_APDU_EXCEPTION,
    C_SYSTEM_EXCEPTION,
    C_TRANSACTION_EXCEPTION,
    C_USER_EXCEPTION,
];

const fn nm(nargs: u8, ret_words: u8) -> NativeMethod {
    NativeMethod { nargs, ret_words }
}

const fn natives() -> [NativeMethod; n::COUNT] {
    let mut t = [nm(0, 0); n::COUNT];
    t[n::OBJECT_INIT as usize] = nm(1, 0);
    t[n::OBJECT_EQUALS as usize] = nm(2, 1);
    t[n::APPLET_REGISTER as usize] = nm(1, 0);
    t[n::APPLET_REGISTER_AID as usize] = nm(4, 0);
    t[n::APPLET_SELECTING as usize] = nm(1, 1);
    t[n::APPLET_DESELECT as usize] = nm(1, 0);
    t[n::APPLET_GET_SIO as usize] = nm(3, 1);
    t[n::APPLET_SELECT as usize] = nm(1, 1);
    t[n::APPLET_PROCESS as usize] = nm(2, 0);
    t[n::APPLET_INSTALL as usize] = nm(3, 0);
    t[n::APPLET_RESELECTING as usize] = nm(0, 1);
    t[n::REASON_INIT as usize] = nm(2, 0);
    t[n::GET_REASON as usize] = nm(1, 1);
    t[n::SET_REASON as usize] = nm(2, 0);
    let mut k = 0;
    while k < 8 {
        t[n::THROW_IT as usize + k] = nm(1, 0);
        k += 1;
    }
    t[n::AID_INIT as usize] = nm(4, 0);
    t[n::AID_EQUALS as usize] = nm(2, 1);
    t[n::AID_RID_EQUALS as usize] = nm(2, 1);
    t[n::AID_EQUALS_BYTES as usize] = nm(4, 1);
    t[n::AID_GET_BYTES as usize] = nm(3, 1);
    t[n::AID_PARTIAL_EQUALS as usize] = nm(4, 1);
    t[n::AID_GET_PARTIAL_BYTES as usize] = nm(5, 1);
    t[n::PIN_INIT as usize] = nm(3, 0);
    t[n::PIN_CHECK as usize] = nm(4, 1);
    t[n::PIN_GET_TRIES as usize] = nm(1, 1);
    t[n::PIN_GET_VALIDATED as usize] = nm(1, 1);
    t[n::PIN_IS_VALIDATED as usize] = nm(1, 1);
    t[n::PIN_RESET as usize] = nm(1, 0);
    t[n::PIN_RESET_UNBLOCK as usize] = nm(1, 0);
    t[n::PIN_SET_VALIDATED as usize] = nm(2, 0);
    t[n::PIN_UPDATE as usize] = nm(4, 0);
    // APDU virtual methods, by token (nargs include `this`)
    let apdu_v: [(u8, u8); 19] = [
        (2, 1), // 0 equals (unused slot)
        (1, 1), // 1 getBuffer
        (1, 1), // 2 getNAD
        (2, 1), // 3 receiveBytes
        (3, 0), // 4 sendBytes
        (4, 0), // 5 sendBytesLong
        (1, 1), // 6 setIncomingAndReceive
        (1, 1), // 7 setOutgoing
        (3, 0), // 8 setOutgoingAndSend
        (2, 0), // 9 setOutgoingLength
        (1, 1), // 10 setOutgoingNoChaining
        (1, 1), // 11 getCurrentState
        (1, 1), // 12 isCommandChainingCLA
        (1, 1), // 13 isSecureMessagingCLA
        (1, 1), // 14 isISOInterindustryCLA
        (1, 1), // 15 getIncomingLength
        (1, 1), // 16 getOffsetCdata
        (1, 1), // 17 isValidCLA
        (1, 1), // 18 getLogicalChannelEncoding
    ];
    let mut i = 0;
    while i < 19 {
        t[n::APDU_VIRTUAL as usize + i] = nm(apdu_v[i].0, apdu_v[i].1);
        i += 1;
    }
    let apdu_s: [(u8, u8); 7] = [(0, 1), (0, 1), (0, 1), (0, 0), (0, 1), (0, 1), (0, 1)];
    let mut i = 0;
    while i < 7 {
        t[n::APDU_STATIC as usize + i] = nm(apdu_s[i].0, apdu_s[i].1);
        i += 1;
    }
    // Util: arrayCompare, arrayCopy, arrayCopyNonAtomic, arrayFillNonAtomic, getShort,
    // makeShort, setShort, arrayFill
    let util: [(u8, u8); 8] = [
        (5, 1),
        (5, 1),
        (5, 1),
        (4, 1),
        (2, 1),
        (2, 1),
        (3, 1),
        (4, 1),
    ];
    let mut i = 0;
    while i < 8 {
        t[n::UTIL as usize + i] = nm(util[i].0, util[i].1);
        i += 1;
    }
    let jcs: [(u8, u8); 23] = [
        (0, 0), // 0 abortTransaction
        (0, 0), // 1 beginTransaction
        (0, 0), // 2 commitTransaction
        (0, 1), // 3 getAID
        (2, 1), // 4 getAppletShareableInterfaceObject
        (0, 1), // 5 getMaxCommitCapacity
        (0, 1), // 6 getPreviousContextAID
        (0, 1), // 7 getTransactionDepth
        (0, 1), // 8 getUnusedCommitCapacity
        (0, 1), // 9 getVersion
        (1, 1), // 10 isTransient
        (3, 1), // 11 lookupAID
        (2, 1), // 12 makeTransientBooleanArray
        (2, 1), // 13 makeTransientByteArray
        (2, 1), // 14 makeTransientObjectArray
        (2, 1), // 15 makeTransientShortArray
        (1, 1), // 16 getAvailableMemory(B)
        (0, 1), // 17 isObjectDeletionSupported
        (0, 0), // 18 requestObjectDeletion
        (0, 1), // 19 getAssignedChannel
        (1, 1), // 20 isAppletActive
        (2, 1), // 21 makeGlobalArray
        (3, 0), // 22 getAvailableMemory([SSB)
    ];
    let mut i = 0;
    while i < 23 {
        t[n::JCSYSTEM as usize + i] = nm(jcs[i].0, jcs[i].1);
        i += 1;
    }
    t
}

static NATIVES: [NativeMethod; n::COUNT + crypto::local::COUNT] = {
    let (base, extra) = (natives(), crypto::natives());
    let mut t = [nm(0, 0); n::COUNT + crypto::local::COUNT];
    let mut i = 0;
    while i < t.len() {
        t[i] = if i < n::COUNT {
            base[i]
        } else {
            extra[i - n::COUNT]
        };
        i += 1;
    }
    t
};

const EQ: &[NativeId] = &[n::OBJECT_EQUALS];
const REASON_VT: &[NativeId] = &[n::OBJECT_EQUALS, n::GET_REASON, n::SET_REASON];

const fn lang(token: u8, super_class: ClassId) -> BuiltinClass {
    BuiltinClass {
        package: PKG_LANG,
        token,
        super_class: Some(super_class),
        flags: 0,
        cells: 0,
        vtable: EQ,
        interfaces: &[],
    }
}

const fn fw(
    token: u8,
    super_class: ClassId,
    cells: u16,
    vtable: &'static [NativeId],
) -> BuiltinClass {
    BuiltinClass {
        package: PKG_FRAMEWORK,
        token,
        super_class: Some(super_class),
        flags: 0,
        cells,
        vtable,
        interfaces: &[],
    }
}

const fn iface(token: u8, flags: u8) -> BuiltinClass {
    BuiltinClass {
        package: PKG_FRAMEWORK,
        token,
        super_class: None,
        flags: CLASS_INTERFACE | flags,
        cells: 0,
        vtable: &[],
        interfaces: &[],
    }
}

const APDU_VT: &[NativeId] = &{
    let mut t = [0; 19];
    t[0] = n::OBJECT_EQUALS;
    let mut i = 1;
    while i < 19 {
        t[i] = n::APDU_VIRTUAL + i as u16;
        i += 1;
    }
    t
};

/// Number of java.lang and javacard.framework classes (the crypto classes follow).
pub const FRAMEWORK_CLASS_COUNT: ClassId = 31;

static CLASSES: [BuiltinClass; FRAMEWORK_CLASS_COUNT as usize + crypto::CLASS_COUNT] = {
    let mut t = [FRAMEWORK_CLASSES[0]; FRAMEWORK_CLASS_COUNT as usize + crypto::CLASS_COUNT];
    let mut i = 0;
    while i < t.len() {
        t[i] = if i < FRAMEWORK_CLASSES.len() {
            FRAMEWORK_CLASSES[i]
        } else {
            crypto::CLASSES[i - FRAMEWORK_CLASSES.len()]
        };
        i += 1;
    }
    t
};

const FRAMEWORK_CLASSES: [BuiltinClass; FRAMEWORK_CLASS_COUNT as usize] = [
    BuiltinClass {
        package: PKG_LANG,
        token: 0,
        super_class: None,
        flags: 0,
        cells: 0,
        vtable: EQ,
        interfaces: &[],
    },
    lang(1, 0),
    lang(2, 1),
    lang(3, 2),
    lang(4, 3),
    lang(5, 4),
    lang(6, 3),
    lang(7, 3),
    lang(8, 3),
    lang(9, 3),
    lang(10, 3),
    lang(11, 3),
    iface(0, 0),               // 12 ISO7816
    iface(1, 0),               // 13 PIN
    iface(2, CLASS_SHAREABLE), // 14 Shareable
    fw(
        3,
        C_OBJECT,
        0,
        &[
            n::OBJECT_EQUALS,
            n::APPLET_REGISTER,
            n::APPLET_REGISTER_AID,
            n::APPLET_SELECTING,
            n::APPLET_DESELECT,
            n::APPLET_GET_SIO,
            n::APPLET_SELECT,
            n::APPLET_PROCESS,
        ],
    ),
    fw(4, C_EXCEPTION, 1, REASON_VT),
    fw(5, C_RUNTIME_EXCEPTION, 1, REASON_VT),
    fw(
        6,
        C_OBJECT,
        1,
        &[
            n::AID_EQUALS,
            n::AID_RID_EQUALS,
            n::AID_EQUALS_BYTES,
            n::AID_GET_BYTES,
            n::AID_PARTIAL_EQUALS,
            n::AID_GET_PARTIAL_BYTES,
        ],
    ),
    fw(7, C_CARD_RUNTIME_EXCEPTION, 1, REASON_VT),
    fw(8, C_OBJECT, 0, EQ), // JCSystem
    BuiltinClass {
        package: PKG_FRAMEWORK,
        token: 9,
        super_class: Some(C_OBJECT),
        flags: 0,
        cells: PIN_CELLS,
        vtable: &[
            n::OBJECT_EQUALS,
            n::PIN_CHECK,
            n::PIN_GET_TRIES,
            n::PIN_GET_VALIDATED,
            n::PIN_IS_VALIDATED,
            n::PIN_RESET,
            n::PIN_RESET_UNBLOCK,
            n::PIN_SET_VALIDATED,
            n::PIN_UPDATE,
        ],
        interfaces: &[(C_PIN, &[1, 2, 4, 5])],
    },
    fw(10, C_OBJECT, 0, APDU_VT),
    fw(11, C_CARD_RUNTIME_EXCEPTION, 1, REASON_VT),
    fw(12, C_CARD_RUNTIME_EXCEPTION, 1, REASON_VT),
    fw(13, C_CARD_RUNTIME_EXCEPTION, 1, REASON_VT),
    fw(14, C_CARD_RUNTIME_EXCEPTION, 1, REASON_VT),
    fw(15, C_CARD_EXCEPTION, 1, REASON_VT),
    fw(16, C_OBJECT, 0, EQ), // Util
    iface(17, 0),            // MultiSelectable
    iface(18, 0),            // AppletEvent
];

/// Instance cells of OwnerPIN: try limit, max size, tries left, PIN array, validated flag
/// (a transient boolean[1]).
pub const PIN_CELLS: u16 = 5;

const fn sm(package: u8, class_token: u8, token: u8, native: NativeId) -> StaticMethod {
    StaticMethod {
        package,
        class_token,
        token,
        native,
    }
}

const fn statics() -> [StaticMethod; 71] {
    let mut t = [sm(0, 0, 0, 0); 71];
    let mut k = 0;
    // java.lang constructors <init>()V, token 0
    while k < 12 {
        t[k] = sm(PKG_LANG, k as u8, 0, n::OBJECT_INIT);
        k += 1;
    }
    t[12] = sm(PKG_FRAMEWORK, 3, 0, n::OBJECT_INIT); // Applet.<init>
    t[13] = sm(PKG_FRAMEWORK, 3, 1, n::APPLET_INSTALL);
    t[14] = sm(PKG_FRAMEWORK, 3, 2, n::APPLET_RESELECTING);
    // exceptions with a reason: <init>(S)V token 0, throwIt token 1
    let reason: [u8; 7] = [4, 5, 7, 11, 12, 13, 14];
    let mut i = 0;
    while i < 7 {
        t[15 + 2 * i] = sm(PKG_FRAMEWORK, reason[i], 0, n::REASON_INIT);
        t[16 + 2 * i] = sm(PKG_FRAMEWORK, reason[i], 1, n::THROW_IT + i as u16);
        i += 1;
    }
    // UserException: <init>()V 0, <init>(S)V 1, throwIt 2
    t[29] = sm(PKG_FRAMEWORK, 15, 0, n::OBJECT_INIT);
    t[30] = sm(PKG_FRAMEWORK, 15, 1, n::REASON_INIT);
    t[31] = sm(PKG_FRAMEWORK, 15, 2, n::THROW_IT + 7);
    t[32] = sm(PKG_FRAMEWORK, 6, 0, n::AID_INIT);
    t[33] = sm(PKG_FRAMEWORK, 9, 0, n::PIN_INIT);
    let mut i = 0;
    while i < 7 {
        t[34 + i] = sm(PKG_FRAMEWORK, 10, i as u8, n::APDU_STATIC + i as u16);
        i += 1;
    }
    let mut i = 0;
    while i < 8 {
        t[41 + i] = sm(PKG_FRAMEWORK, 16, i as u8, n::UTIL + i as u16);
        i += 1;
    }
    let mut i = 0;
    while i < 22 {
        t[49 + i] = sm(PKG_FRAMEWORK, 8, i as u8, n::JCSYSTEM + i as u16);
        i += 1;
    }
    t
}

static STATICS: [StaticMethod; 71 + crypto::STATIC_COUNT] = {
    let base = statics();
    let mut t = [base[0]; 71 + crypto::STATIC_COUNT];
    let mut i = 0;
    while i < t.len() {
        t[i] = if i < 71 {
            base[i]
        } else {
            crypto::STATICS[i - 71]
        };
        i += 1;
    }
    t
};

/// java.lang 1.0, javacard.framework 1.6, javacard.security 1.6 and javacardx.crypto 1.6
/// (Java Card 3.0.5).
static PACKAGES: [ApiPackage; 4] = [
    ApiPackage {
        aid: &[0xA0, 0x00, 0x00, 0x00, 0x62, 0x00, 0x01],
        major: 1,
        minor: 0,
    },
    ApiPackage {
        aid: &[0xA0, 0x00, 0x00, 0x00, 0x62, 0x01, 0x01],
        major: 1,
        minor: 6,
    },
    ApiPackage {
        aid: &[0xA0, 0x00, 0x00, 0x00, 0x62, 0x01, 0x02],
        major: 1,
        minor: 6,
    },
    ApiPackage {
        aid: &[0xA0, 0x00, 0x00, 0x00, 0x62, 0x02, 0x01],
        major: 1,
        minor: 6,
    },
];

/// The catalog handed to the VM.
pub static CATALOG: ApiCatalog = ApiCatalog {
    packages: &PACKAGES,
    classes: &CLASSES,
    static_methods: &STATICS,
    natives: &NATIVES,
};
