package javacard.framework;

/** JVM-oracle replacement for the API stub: throwIt throws, and the reason is the status word. */
public class ISOException extends CardRuntimeException {
    public ISOException(short sw) {
        super(sw);
    }

    public static void throwIt(short sw) {
        throw new ISOException(sw);
    }
}
