package org.oxicard.conformance.firewall.server;

import org.oxicard.conformance.firewall.lib.Peekable;

import javacard.framework.Shareable;

/** The server's Shareable interface: some methods share legitimately, others leak references. */
public interface Vault extends Shareable {
    /** Legitimate: a value, computed in the server's context. */
    short peek();

    /** Leaks a reference to a private, persistent server array. */
    byte[] secret();

    /** Leaks a reference to a server object of a class that is not Shareable. */
    Object leakObject();

    /** Leaks a reference to a server-owned transient array. */
    byte[] transientSecret();

    /** Leaks a server object typed as an ordinary (not Shareable) interface. */
    Peekable peekable();

    /** Reads element 0 of the caller's array (in the server's context). */
    short readClientArray(byte[] array);

    /** Keeps the caller's array (e.g. the APDU buffer) in a server field. */
    void keepBuffer(byte[] buffer);

    /** Legitimate: writes 5A 5B into a global array (the APDU buffer) at off; returns 2. */
    short fillBuffer(byte[] buffer, short off);

    /** Throws the server's own exception object. */
    void throwOwn();

    /** Legitimate: throws ISOException 6A02 (a JCRE-owned object). */
    void throwJcre();

    /** Legitimate: writes len + the AID of the previous context into buffer at off. */
    short previousContext(byte[] buffer, short off);
}
