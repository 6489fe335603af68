package org.oxicard.conformance.crypto;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.ECPrivateKey;
import javacard.security.ECPublicKey;
import javacard.security.HMACKey;
import javacard.security.InitializedMessageDigest;
import javacard.security.Key;
import javacard.security.KeyAgreement;
import javacard.security.KeyBuilder;
import javacard.security.KeyPair;
import javacard.security.MessageDigest;
import javacard.security.PrivateKey;
import javacard.security.PublicKey;
import javacard.security.RSAPrivateCrtKey;
import javacard.security.RSAPrivateKey;
import javacard.security.RSAPublicKey;
import javacard.security.RandomData;
import javacard.security.Signature;
import javacardx.crypto.Cipher;

/**
 * Crypto conformance applet: a thin driver of javacard.security and javacardx.crypto, so that
 * known-answer vectors and property tests run through the Java Card API on the card. Inputs are
 * staged in a transient buffer (PUT), keys live in eight slots; every operation names its
 * algorithm by the API constant, so the APDU script carries the vectors and the expected values.
 *
 * CLA 80. Offsets and lengths in command data are 2-byte big-endian and refer to the stage.
 * A CryptoException becomes SW 6Fxx with xx its reason (6F01 ILLEGAL_VALUE, 6F02
 * UNINITIALIZED_KEY, 6F03 NO_SUCH_ALGORITHM, 6F04 INVALID_INIT, 6F05 ILLEGAL_USE).
 *
 * INS 10 PUT        P1P2 = stage offset, data copied there
 * INS 20 DIGEST     P1 = MessageDigest alg; data = off len split: update(split bytes), doFinal(rest)
 * INS 21 IDIGEST    P1 = MessageDigest alg, P2 = mode; data = stateOff stateLen countOff countLen
 *                   off len split: on getInitializedMessageDigestInstance(P1, false),
 *                   setInitialDigest(state, count) (mode 0), the same then reset() (mode 1),
 *                   or neither (mode 2); then update(split bytes), doFinal(rest)
 * INS 22 IDINFO     P1 = MessageDigest alg: getAlgorithm(1) getLength(1) of the
 *                   InitializedMessageDigest
 * INS 30 BUILD      P1 = slot; data = KeyBuilder type(1) bits(2)
 * INS 31 SET        P1 = slot, P2 = component (see set()); data = off len
 * INS 32 GET        P1 = slot, P2 = component; returns it
 * INS 33 CLEAR      P1 = slot: clearKey()
 * INS 34 INFO       P1 = slot; returns isInitialized(1) getSize(2) getType(1)
 * INS 35 GENPAIR    P1 = public slot, P2 = private slot: new KeyPair(pub, priv).genKeyPair()
 * INS 40 CIPHER     P1 = slot, P2 = Cipher alg; data = mode(1) ivOff ivLen inOff inLen split
 *                   (ivLen 0: init without IV); update(split bytes, if any) then doFinal(rest)
 * INS 41 SIGN       P1 = slot, P2 = Signature alg; data = off len split
 * INS 42 VERIFY     P1 = slot, P2 = Signature alg; data = off len sigOff sigLen; returns 01/00
 * INS 43 SIGNHASH   P1 = slot, P2 = Signature alg; data = off len: signPreComputedHash
 * INS 50 AGREE      P1 = private slot, P2 = KeyAgreement alg; data = off len of the peer's W
 * INS 60 RANDOM     P1 = RandomData alg, P2 = length
 */
public class CryptoConformance extends Applet {

    static final byte INS_PUT = 0x10;
    static final byte INS_DIGEST = 0x20;
    static final byte INS_IDIGEST = 0x21;
    static final byte INS_IDINFO = 0x22;
    static final byte INS_BUILD = 0x30;
    static final byte INS_SET = 0x31;
    static final byte INS_GET = 0x32;
    static final byte INS_CLEAR = 0x33;
    static final byte INS_INFO = 0x34;
    static final byte INS_GENPAIR = 0x35;
    static final byte INS_CIPHER = 0x40;
    static final byte INS_SIGN = 0x41;
    static final byte INS_VERIFY = 0x42;
    static final byte INS_SIGNHASH = 0x43;
    static final byte INS_AGREE = 0x50;
    static final byte INS_RANDOM = 0x60;

    /** Key components for SET/GET. */
    static final byte C_SECRET = 1;
    static final byte C_MODULUS = 2;
    static final byte C_EXPONENT = 3;
    static final byte C_P = 4;
    static final byte C_Q = 5;
    static final byte C_DP1 = 6;
    static final byte C_DQ1 = 7;
    static final byte C_PQ = 8;
    static final byte C_S = 9;
    static final byte C_W = 10;

    static final short STAGE_LEN = 1024;
    static final short OUT_LEN = 512;

    private final byte[] stage;
    private final byte[] out;
    private final Key[] keys;
    /** Engines by algorithm number, made on first use (getInstance allocates). */
    private final MessageDigest[] digests;
    private final InitializedMessageDigest[] initializedDigests;
    private final Cipher[] ciphers;
    private final Signature[] signatures;
    private final KeyAgreement[] agreements;
    private final RandomData[] randoms;

    private CryptoConformance() {
        stage = JCSystem.makeTransientByteArray(STAGE_LEN, JCSystem.CLEAR_ON_DESELECT);
        out = JCSystem.makeTransientByteArray(OUT_LEN, JCSystem.CLEAR_ON_DESELECT);
        keys = new Key[8];
        digests = new MessageDigest[ENGINES];
        initializedDigests = new InitializedMessageDigest[ENGINES];
        ciphers = new Cipher[ENGINES];
        signatures = new Signature[ENGINES];
        agreements = new KeyAgreement[ENGINES];
        randoms = new RandomData[ENGINES];
    }

    /** Algorithm numbers below this get their engine cached. */
    static final byte ENGINES = 64;

    /** The index of algorithm alg in an engine cache. */
    private static byte slot(byte alg) {
        if (alg < 0 || alg >= ENGINES) {
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        return alg;
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new CryptoConformance().register(bArray, (short) (bOffset + 1), bArray[bOffset]);
    }

    public void process(APDU apdu) {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        if (buf[ISO7816.OFFSET_CLA] != (byte) 0x80) {
            ISOException.throwIt(ISO7816.SW_CLA_NOT_SUPPORTED);
        }
        short lc = apdu.setIncomingAndReceive();
        short len = 0;
        try {
            len = dispatch(buf, lc);
        } catch (CryptoException e) {
            ISOException.throwIt((short) (0x6F00 | (e.getReason() & 0xFF)));
        }
        if (len > 256) {
            ISOException.throwIt(ISO7816.SW_WRONG_LENGTH);
        }
        Util.arrayCopyNonAtomic(out, (short) 0, buf, (short) 0, len);
        apdu.setOutgoingAndSend((short) 0, len);
    }

    /** The 2-byte value at data index i. */
    private static short at(byte[] buf, short i) {
        return Util.getShort(buf, (short) (ISO7816.OFFSET_CDATA + i));
    }

    private Key key(byte slot) {
        if (slot < 0 || slot >= (byte) keys.length || keys[slot] == null) {
            ISOException.throwIt(ISO7816.SW_INCORRECT_P1P2);
        }
        return keys[slot];
    }

    private short dispatch(byte[] buf, short lc) {
        byte p1 = buf[ISO7816.OFFSET_P1];
        byte p2 = buf[ISO7816.OFFSET_P2];
        switch (buf[ISO7816.OFFSET_INS]) {
        case INS_PUT:
            Util.arrayCopyNonAtomic(buf, ISO7816.OFFSET_CDATA, stage, Util.getShort(buf, ISO7816.OFFSET_P1), lc);
            return 0;
        case INS_DIGEST: {
            if (digests[slot(p1)] == null) {
                digests[p1] = MessageDigest.getInstance(p1, false);
            }
            MessageDigest md = digests[p1];
            short off = at(buf, (short) 0);
            short len = at(buf, (short) 2);
            short split = at(buf, (short) 4);
            md.update(stage, off, split);
            return md.doFinal(stage, (short) (off + split), (short) (len - split), out, (short) 0);
        }
        case INS_IDIGEST: {
            InitializedMessageDigest md = initializedDigest(p1);
            if (p2 != 2) {
                md.setInitialDigest(stage, at(buf, (short) 0), at(buf, (short) 2), stage, at(buf, (short) 4),
                        at(buf, (short) 6));
            }
            if (p2 == 1) {
                md.reset();
            }
            short off = at(buf, (short) 8);
            short len = at(buf, (short) 10);
            short split = at(buf, (short) 12);
            md.update(stage, off, split);
            return md.doFinal(stage, (short) (off + split), (short) (len - split), out, (short) 0);
        }
        case INS_IDINFO: {
            MessageDigest md = initializedDigest(p1);
            out[0] = md.getAlgorithm();
            out[1] = md.getLength();
            return 2;
        }
        case INS_BUILD:
            if (p1 < 0 || p1 >= (byte) keys.length) {
                ISOException.throwIt(ISO7816.SW_INCORRECT_P1P2);
            }
            keys[p1] = KeyBuilder.buildKey(buf[ISO7816.OFFSET_CDATA], at(buf, (short) 1), false);
            return 0;
        case INS_SET:
            set(key(p1), p2, at(buf, (short) 0), at(buf, (short) 2));
            return 0;
        case INS_GET:
            return get(key(p1), p2);
        case INS_CLEAR:
            key(p1).clearKey();
            return 0;
        case INS_INFO: {
            Key k = key(p1);
            out[0] = (byte) (k.isInitialized() ? 1 : 0);
            Util.setShort(out, (short) 1, k.getSize());
            out[3] = k.getType();
            return 4;
        }
        case INS_GENPAIR:
            new KeyPair((PublicKey) key(p1), (PrivateKey) key(p2)).genKeyPair();
            return 0;
        case INS_CIPHER:
            return cipher(buf, key(p1), p2);
        case INS_SIGN:
        case INS_VERIFY:
        case INS_SIGNHASH:
            return signature(buf, key(p1), p2);
        case INS_AGREE: {
            if (agreements[slot(p2)] == null) {
                agreements[p2] = KeyAgreement.getInstance(p2, false);
            }
            KeyAgreement ka = agreements[p2];
            ka.init((PrivateKey) key(p1));
            return ka.generateSecret(stage, at(buf, (short) 0), at(buf, (short) 2), out, (short) 0);
        }
        case INS_RANDOM: {
            if (randoms[slot(p1)] == null) {
                randoms[p1] = RandomData.getInstance(p1);
            }
            RandomData rng = randoms[p1];
            short n = (short) (p2 & 0xFF);
            rng.nextBytes(out, (short) 0, n);
            return n;
        }
        default:
            ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
        return 0;
    }

    /** The InitializedMessageDigest of algorithm alg, made on first use. */
    private InitializedMessageDigest initializedDigest(byte alg) {
        if (initializedDigests[slot(alg)] == null) {
            initializedDigests[alg] = MessageDigest.getInitializedMessageDigestInstance(alg, false);
        }
        return initializedDigests[alg];
    }

    private short cipher(byte[] buf, Key k, byte alg) {
        if (ciphers[slot(alg)] == null) {
            ciphers[alg] = Cipher.getInstance(alg, false);
        }
        Cipher cipher = ciphers[alg];
        byte mode = buf[ISO7816.OFFSET_CDATA];
        short ivLen = at(buf, (short) 3);
        if (ivLen == 0) {
            cipher.init(k, mode);
        } else {
            cipher.init(k, mode, stage, at(buf, (short) 1), ivLen);
        }
        short off = at(buf, (short) 5);
        short len = at(buf, (short) 7);
        short split = at(buf, (short) 9);
        short n = 0;
        if (split != 0) {
            n = cipher.update(stage, off, split, out, (short) 0);
        }
        return (short) (n + cipher.doFinal(stage, (short) (off + split), (short) (len - split), out, n));
    }

    private short signature(byte[] buf, Key k, byte alg) {
        if (signatures[slot(alg)] == null) {
            signatures[alg] = Signature.getInstance(alg, false);
        }
        Signature sig = signatures[alg];
        byte ins = buf[ISO7816.OFFSET_INS];
        sig.init(k, ins == INS_VERIFY ? Signature.MODE_VERIFY : Signature.MODE_SIGN);
        short off = at(buf, (short) 0);
        short len = at(buf, (short) 2);
        if (ins == INS_SIGNHASH) {
            return sig.signPreComputedHash(stage, off, len, out, (short) 0);
        }
        if (ins == INS_VERIFY) {
            out[0] = (byte) (sig.verify(stage, off, len, stage, at(buf, (short) 4), at(buf, (short) 6)) ? 1 : 0);
            return 1;
        }
        short split = at(buf, (short) 4);
        sig.update(stage, off, split);
        return sig.sign(stage, (short) (off + split), (short) (len - split), out, (short) 0);
    }

    private void set(Key k, byte component, short off, short len) {
        byte type = k.getType();
        switch (component) {
        case C_SECRET:
            if (type == KeyBuilder.TYPE_HMAC || type == KeyBuilder.TYPE_HMAC_TRANSIENT_DESELECT
                    || type == KeyBuilder.TYPE_HMAC_TRANSIENT_RESET) {
                ((HMACKey) k).setKey(stage, off, len);
            } else if (type == KeyBuilder.TYPE_AES || type == KeyBuilder.TYPE_AES_TRANSIENT_DESELECT
                    || type == KeyBuilder.TYPE_AES_TRANSIENT_RESET) {
                ((AESKey) k).setKey(stage, off);
            } else {
                ((DESKey) k).setKey(stage, off);
            }
            return;
        case C_MODULUS:
            if (type == KeyBuilder.TYPE_RSA_PUBLIC) {
                ((RSAPublicKey) k).setModulus(stage, off, len);
            } else {
                ((RSAPrivateKey) k).setModulus(stage, off, len);
            }
            return;
        case C_EXPONENT:
            if (type == KeyBuilder.TYPE_RSA_PUBLIC) {
                ((RSAPublicKey) k).setExponent(stage, off, len);
            } else {
                ((RSAPrivateKey) k).setExponent(stage, off, len);
            }
            return;
        case C_P:
            ((RSAPrivateCrtKey) k).setP(stage, off, len);
            return;
        case C_Q:
            ((RSAPrivateCrtKey) k).setQ(stage, off, len);
            return;
        case C_DP1:
            ((RSAPrivateCrtKey) k).setDP1(stage, off, len);
            return;
        case C_DQ1:
            ((RSAPrivateCrtKey) k).setDQ1(stage, off, len);
            return;
        case C_PQ:
            ((RSAPrivateCrtKey) k).setPQ(stage, off, len);
            return;
        case C_S:
            ((ECPrivateKey) k).setS(stage, off, len);
            return;
        case C_W:
            ((ECPublicKey) k).setW(stage, off, len);
            return;
        default:
            ISOException.throwIt(ISO7816.SW_INCORRECT_P1P2);
        }
    }

    private short get(Key k, byte component) {
        byte type = k.getType();
        switch (component) {
        case C_SECRET:
            if (type == KeyBuilder.TYPE_AES || type == KeyBuilder.TYPE_AES_TRANSIENT_DESELECT
                    || type == KeyBuilder.TYPE_AES_TRANSIENT_RESET) {
                return ((AESKey) k).getKey(out, (short) 0);
            }
            return ((DESKey) k).getKey(out, (short) 0);
        case C_MODULUS:
            if (type == KeyBuilder.TYPE_RSA_PUBLIC) {
                return ((RSAPublicKey) k).getModulus(out, (short) 0);
            }
            return ((RSAPrivateKey) k).getModulus(out, (short) 0);
        case C_EXPONENT:
            if (type == KeyBuilder.TYPE_RSA_PUBLIC) {
                return ((RSAPublicKey) k).getExponent(out, (short) 0);
            }
            return ((RSAPrivateKey) k).getExponent(out, (short) 0);
        case C_S:
            return ((ECPrivateKey) k).getS(out, (short) 0);
        case C_W:
            return ((ECPublicKey) k).getW(out, (short) 0);
        default:
            ISOException.throwIt(ISO7816.SW_INCORRECT_P1P2);
        }
        return 0;
    }
}
