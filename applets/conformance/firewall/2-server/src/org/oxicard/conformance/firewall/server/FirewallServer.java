package org.oxicard.conformance.firewall.server;

import org.oxicard.conformance.firewall.lib.Peekable;
import org.oxicard.conformance.firewall.lib.Secret;

import javacard.framework.AID;
import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Shareable;
import javacard.framework.Util;

/**
 * Firewall conformance, server side. Hands its Vault SIO to any client asking with
 * parameter 1. Its own commands (CLA 80):
 *   INS 10 STATE -> secret(4) | transient secret(4) | hidden value(2) | statics secret(4) |
 *                   static object value(2) | kept buffer stored (1)
 */
public class FirewallServer extends Applet implements Vault {

    private final byte[] secret;
    private final byte[] transientSecret;
    private final Secret hidden;
    private byte[] kept;

    private FirewallServer() {
        secret = new byte[] { 0x53, 0x45, 0x43, 0x52 };
        transientSecret = JCSystem.makeTransientByteArray((short) 4, JCSystem.CLEAR_ON_RESET);
        Util.arrayFillNonAtomic(transientSecret, (short) 0, (short) 4, (byte) 0x54);
        hidden = new Secret((short) 0x1234);
        Secret.STATIC_SECRET = new byte[] { 0x11, 0x22, 0x33, 0x44 };
        Secret.STATIC_OBJECT = new Secret((short) 0x5678);
        Secret.OWN_EXCEPTION = new ISOException((short) 0x6A01);
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new FirewallServer().register(bArray, (short) (bOffset + 1), bArray[bOffset]);
    }

    public Shareable getShareableInterfaceObject(AID client, byte parameter) {
        if (parameter == 1) {
            return this;
        }
        return null;
    }

    public void process(APDU apdu) {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        if (buf[ISO7816.OFFSET_INS] != 0x10) {
            ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
        short o = Util.arrayCopyNonAtomic(secret, (short) 0, buf, (short) 0, (short) 4);
        o = Util.arrayCopyNonAtomic(transientSecret, (short) 0, buf, o, (short) 4);
        o = Util.setShort(buf, o, hidden.value);
        o = Util.arrayCopyNonAtomic(Secret.STATIC_SECRET, (short) 0, buf, o, (short) 4);
        o = Util.setShort(buf, o, Secret.STATIC_OBJECT.value);
        buf[o++] = (byte) (kept != null ? 1 : 0);
        apdu.setOutgoingAndSend((short) 0, o);
    }

    public short peek() {
        return hidden.value;
    }

    public byte[] secret() {
        return secret;
    }

    public Object leakObject() {
        return hidden;
    }

    public byte[] transientSecret() {
        return transientSecret;
    }

    public Peekable peekable() {
        return hidden;
    }

    public short readClientArray(byte[] array) {
        return array[0];
    }

    public void keepBuffer(byte[] buffer) {
        kept = buffer;
    }

    public short fillBuffer(byte[] buffer, short off) {
        buffer[off] = 0x5A;
        buffer[(short) (off + 1)] = 0x5B;
        return 2;
    }

    public void throwOwn() {
        throw Secret.OWN_EXCEPTION;
    }

    public void throwJcre() {
        ISOException.throwIt((short) 0x6A02);
    }

    public short previousContext(byte[] buffer, short off) {
        AID previous = JCSystem.getPreviousContextAID();
        if (previous == null) {
            buffer[off] = 0;
            return 1;
        }
        byte len = previous.getBytes(buffer, (short) (off + 1));
        buffer[off] = len;
        return (short) (len + 1);
    }
}
