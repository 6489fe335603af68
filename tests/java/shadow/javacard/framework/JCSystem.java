package javacard.framework;

/**
 * JVM-oracle replacement for the API stub: the transient array factories return ordinary arrays
 * (the harness never deselects, so CLEAR_ON_DESELECT contents live as long as the applet).
 */
public final class JCSystem {
    public static final byte NOT_A_TRANSIENT_OBJECT = 0;
    public static final byte CLEAR_ON_RESET = 1;
    public static final byte CLEAR_ON_DESELECT = 2;

    JCSystem() {
    }

    private static void checkEvent(short length, byte event) {
        if (event != CLEAR_ON_RESET && event != CLEAR_ON_DESELECT) {
            throw new SystemException(SystemException.ILLEGAL_VALUE);
        }
        if (length < 0) {
            throw new NegativeArraySizeException();
        }
    }

    public static boolean[] makeTransientBooleanArray(short length, byte event) {
        checkEvent(length, event);
        return new boolean[length];
    }

    public static byte[] makeTransientByteArray(short length, byte event) {
        checkEvent(length, event);
        return new byte[length];
    }

    public static short[] makeTransientShortArray(short length, byte event) {
        checkEvent(length, event);
        return new short[length];
    }

    public static Object[] makeTransientObjectArray(short length, byte event) {
        checkEvent(length, event);
        return new Object[length];
    }
}
