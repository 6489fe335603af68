package javacard.framework;

/**
 * JVM-oracle replacement for the API stub: the Util methods with the behaviour the Java Card
 * 3.0.5 API specification gives them (big-endian shorts, bounds checked copies and fills).
 * Transactions do not exist here, so the atomic and non-atomic forms are the same.
 */
public class Util {
    Util() {
    }

    private static void checkRange(byte[] a, short off, short len) {
        if (a == null) {
            throw new NullPointerException();
        }
        if (off < 0 || len < 0 || off + len > a.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
    }

    public static final short arrayCopy(byte[] src, short srcOff, byte[] dest, short destOff, short length) {
        return arrayCopyNonAtomic(src, srcOff, dest, destOff, length);
    }

    public static final short arrayCopyNonAtomic(byte[] src, short srcOff, byte[] dest, short destOff, short length) {
        checkRange(src, srcOff, length);
        checkRange(dest, destOff, length);
        System.arraycopy(src, srcOff, dest, destOff, length);
        return (short) (destOff + length);
    }

    public static final short arrayFill(byte[] bArray, short bOff, short bLen, byte bValue) {
        return arrayFillNonAtomic(bArray, bOff, bLen, bValue);
    }

    public static final short arrayFillNonAtomic(byte[] bArray, short bOff, short bLen, byte bValue) {
        checkRange(bArray, bOff, bLen);
        for (int i = 0; i < bLen; i++) {
            bArray[bOff + i] = bValue;
        }
        return (short) (bOff + bLen);
    }

    public static final byte arrayCompare(byte[] src, short srcOff, byte[] dest, short destOff, short length) {
        checkRange(src, srcOff, length);
        checkRange(dest, destOff, length);
        for (int i = 0; i < length; i++) {
            int a = src[srcOff + i] & 0xFF;
            int b = dest[destOff + i] & 0xFF;
            if (a != b) {
                return (byte) (a < b ? -1 : 1);
            }
        }
        return 0;
    }

    public static final short makeShort(byte b1, byte b2) {
        return (short) (((b1 & 0xFF) << 8) | (b2 & 0xFF));
    }

    public static final short getShort(byte[] bArray, short bOff) {
        return makeShort(bArray[bOff], bArray[(short) (bOff + 1)]);
    }

    public static final short setShort(byte[] bArray, short bOff, short sValue) {
        checkRange(bArray, bOff, (short) 2);
        bArray[bOff] = (byte) (sValue >> 8);
        bArray[(short) (bOff + 1)] = (byte) sValue;
        return (short) (bOff + 2);
    }
}
