package org.oxicard.conformance.firewall.attacker;

import javacard.framework.AID;
import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Shareable;
import javacard.framework.Util;

import org.oxicard.conformance.firewall.lib.Peekable;
import org.oxicard.conformance.firewall.lib.Secret;
import org.oxicard.conformance.firewall.server.Vault;

/**
 * Firewall conformance, attacker side (another package, so another context). CLA 80:
 *   INS 10 ATTACK P1 = n: attack n (see attack()); a SecurityException is mapped to 6982,
 *          an attack that gets through returns what it reached (9000)
 *   INS 20 SHARE P1 = n: legitimate sharing n (see share()), 9000 with its result
 *   INS 30 FORGE data = a reference (2): reads element 0 of that array (the test patches
 *          forge() in the CAP so that the reference comes from the short argument)
 *   INS 40 GARBAGE: 100 bytes of garbage allocated, then object deletion requested
 *   INS 41 LITTER: 100 bytes of garbage allocated, no deletion requested
 * 6A88: the server's SIO is not available.
 */
public class FirewallAttacker extends Applet {

    static final byte[] SERVER_AID = { (byte) 0xF0, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01 };

    /** Where attacks try to keep references they must not keep. */
    static byte[] staticBuffer;
    private byte[] savedBuffer;
    private APDU savedApdu;
    private ISOException savedException;
    private Vault keptVault;
    private final Object[] refs;
    private final byte[] own;

    private FirewallAttacker() {
        refs = new Object[2];
        own = new byte[] { 0x41, 0x42 };
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new FirewallAttacker().register(bArray, (short) (bOffset + 1), bArray[bOffset]);
    }

    private static Vault vault() {
        AID server = JCSystem.lookupAID(SERVER_AID, (short) 0, (byte) SERVER_AID.length);
        if (server == null) {
            ISOException.throwIt((short) 0x6A88);
        }
        Shareable s = JCSystem.getAppletShareableInterfaceObject(server, (byte) 1);
        if (s == null) {
            ISOException.throwIt((short) 0x6A88);
        }
        return (Vault) s;
    }

    /** Reads element 0 of a; the test's patched CAP makes `a` the short argument. */
    static byte forge(short reference) {
        byte[] a = null;
        return a[0];
    }

    public void process(APDU apdu) {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        if (buf[ISO7816.OFFSET_CLA] != (byte) 0x80) {
            ISOException.throwIt(ISO7816.SW_CLA_NOT_SUPPORTED);
        }
        apdu.setIncomingAndReceive();
        byte p1 = buf[ISO7816.OFFSET_P1];
        short len = 0;
        switch (buf[ISO7816.OFFSET_INS]) {
        case 0x10:
            try {
                len = attack(apdu, buf, p1);
            } catch (SecurityException e) {
                ISOException.throwIt(ISO7816.SW_SECURITY_STATUS_NOT_SATISFIED);
            }
            break;
        case 0x20:
            len = share(buf, p1);
            break;
        case 0x30:
            try {
                buf[0] = forge(Util.getShort(buf, ISO7816.OFFSET_CDATA));
                len = 1;
            } catch (SecurityException e) {
                ISOException.throwIt(ISO7816.SW_SECURITY_STATUS_NOT_SATISFIED);
            }
            break;
        case 0x40:
        case 0x41:
            if (new byte[100] == null) {
                ISOException.throwIt(ISO7816.SW_FUNC_NOT_SUPPORTED);
            }
            if (buf[ISO7816.OFFSET_INS] == 0x40) {
                JCSystem.requestObjectDeletion();
            }
            break;
        default:
            ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
        if (len > 0) {
            apdu.setOutgoingAndSend((short) 0, len);
        }
    }

    /** Attack n; returns the length of what it reached in buf (0: it wrote, nothing to show). */
    private short attack(APDU apdu, byte[] buf, byte n) {
        Vault v = vault();
        switch (n) {
        case 1: // baload on a private server array smuggled through a Shareable method
            buf[0] = v.secret()[0];
            return 1;
        case 2: // bastore on it
            v.secret()[0] = 0x77;
            return 0;
        case 3: // arraylength of it
            buf[0] = (byte) v.secret().length;
            return 1;
        case 4: // an API method reading it on the attacker's behalf
            return Util.arrayCopyNonAtomic(v.secret(), (short) 0, buf, (short) 0, (short) 4);
        case 5: // an API method writing it on the attacker's behalf
            Util.arrayFillNonAtomic(v.secret(), (short) 0, (short) 4, (byte) 0x77);
            return 0;
        case 6: // a virtual method (Object.equals) of the server's array
            buf[0] = (byte) (v.secret().equals(own) ? 1 : 2);
            return 1;
        case 7: // a transient array of another context
            buf[0] = v.transientSecret()[0];
            return 1;
        case 8: // a static field of another package: the array it references
            buf[0] = Secret.STATIC_SECRET[0];
            return 1;
        case 9: // a static field of another package: a field of the object it references
            return Util.setShort(buf, (short) 0, Secret.STATIC_OBJECT.value);
        case 10: // ... writing that field
            Secret.STATIC_OBJECT.value = 0x7777;
            return 0;
        case 11: // ... calling a virtual method of that object
            return Util.setShort(buf, (short) 0, Secret.STATIC_OBJECT.peek());
        case 12: { // cast a leaked non-Shareable object to its class
            Secret s = (Secret) v.leakObject();
            return Util.setShort(buf, (short) 0, s.value);
        }
        case 13: // instanceof of a leaked object against a non-Shareable interface
            buf[0] = (byte) (v.leakObject() instanceof Peekable ? 1 : 2);
            return 1;
        case 14: // a non-Shareable interface method of another context's object
            return Util.setShort(buf, (short) 0, v.peekable().peek());
        case 15: { // cast the SIO itself to an unrelated class
            Object o = v;
            Secret s = (Secret) o;
            return Util.setShort(buf, (short) 0, s.value);
        }
        case 16: // keep the APDU buffer (a global array) in an instance field
            savedBuffer = buf;
            return 0;
        case 17: // ... in a static field
            staticBuffer = buf;
            return 0;
        case 18: // ... in an array element
            refs[0] = buf;
            return 0;
        case 19: // keep the APDU object (a temporary JCRE entry point object)
            savedApdu = apdu;
            return 0;
        case 20: // keep a JCRE-owned exception object (a temporary entry point object)
            try {
                v.throwJcre();
            } catch (ISOException e) {
                savedException = e;
            }
            return 0;
        case 21: // throw an exception object owned by another context
            throw Secret.OWN_EXCEPTION;
        case 22: // call a method of another context's exception object caught from it
            try {
                v.throwOwn();
            } catch (ISOException e) {
                return Util.setShort(buf, (short) 0, e.getReason());
            }
            return 0;
        case 23: // make the server read the attacker's array (the server's context is active)
            return Util.setShort(buf, (short) 0, v.readClientArray(own));
        case 24: // make the server keep the APDU buffer
            v.keepBuffer(buf);
            return 0;
        default:
            ISOException.throwIt(ISO7816.SW_INCORRECT_P1P2);
            return 0;
        }
    }

    /** Legitimate sharing n. */
    private short share(byte[] buf, byte n) {
        Vault v = vault();
        switch (n) {
        case 0: // a value through the SIO
            return Util.setShort(buf, (short) 0, v.peek());
        case 1: // the server writes the APDU buffer (a global array)
            return v.fillBuffer(buf, (short) 0);
        case 2: // instanceof the Shareable interface across the firewall
            buf[0] = (byte) (((Object) v) instanceof Vault ? 1 : 0);
            return 1;
        case 3: // a JCRE-owned ISOException thrown by the server, caught here
            try {
                v.throwJcre();
            } catch (ISOException e) {
                return Util.setShort(buf, (short) 0, e.getReason());
            }
            return 0;
        case 4: // keeping the SIO reference itself is allowed
            keptVault = v;
            return Util.setShort(buf, (short) 0, keptVault.peek());
        case 5: // a permanent JCRE entry point object (the attacker's AID)
            return JCSystem.getAID().getBytes(buf, (short) 0);
        case 6: // in the server, the previous context is the attacker
            return v.previousContext(buf, (short) 0);
        case 7: // the attacker's own objects and a reference to another context's object
            refs[1] = v;
            buf[0] = own[0];
            buf[1] = (byte) own.length;
            return 2;
        default:
            ISOException.throwIt(ISO7816.SW_INCORRECT_P1P2);
            return 0;
        }
    }
}
