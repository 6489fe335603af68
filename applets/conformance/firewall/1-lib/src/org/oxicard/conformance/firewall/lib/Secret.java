package org.oxicard.conformance.firewall.lib;

import javacard.framework.ISOException;

/** An object that is not Shareable: only its owner's context may use its fields and methods. */
public class Secret implements Peekable {
    /** A persistent array (the server puts its own here), reachable through a public static field. */
    public static byte[] STATIC_SECRET;
    /** An object (the server puts its own here), reachable through a public static field. */
    public static Secret STATIC_OBJECT;
    /** An exception object (the server puts its own here). */
    public static ISOException OWN_EXCEPTION;

    /** The hidden value. */
    public short value;

    /** Creates a secret holding value. */
    public Secret(short value) {
        this.value = value;
    }

    public short peek() {
        return value;
    }
}
