package org.oxicard.conformance.firewall.lib;

/** An ordinary interface: not Shareable, so no other context may call it. */
public interface Peekable {
    /** The hidden value. */
    short peek();
}
