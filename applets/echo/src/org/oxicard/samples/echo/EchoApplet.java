package org.oxicard.samples.echo;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.Util;

/**
 * The smallest useful applet: echoes the command data back (INS 01), answers a counter of
 * how many commands it has seen since install (INS 02), and turns P1P2 into a status word
 * (INS 03). It is the sample that `scripts/main.sh` builds and the APDU echo used by
 * benchmarks.
 */
public class EchoApplet extends Applet {
    private static final byte CLA_ECHO = (byte) 0x80;
    private static final byte INS_ECHO = (byte) 0x01;
    private static final byte INS_COUNT = (byte) 0x02;
    private static final byte INS_STATUS = (byte) 0x03;

    private short commands;

    private EchoApplet(byte[] bArray, short bOffset, byte bLength) {
        register(bArray, (short) (bOffset + 1), bArray[bOffset]);
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new EchoApplet(bArray, bOffset, bLength);
    }

    public void process(APDU apdu) {
        if (selectingApplet()) {
            return;
        }
        byte[] buffer = apdu.getBuffer();
        if (buffer[ISO7816.OFFSET_CLA] != CLA_ECHO) {
            ISOException.throwIt(ISO7816.SW_CLA_NOT_SUPPORTED);
        }
        commands++;
        switch (buffer[ISO7816.OFFSET_INS]) {
            case INS_ECHO:
                short length = apdu.setIncomingAndReceive();
                apdu.setOutgoingAndSend(ISO7816.OFFSET_CDATA, length);
                return;
            case INS_COUNT:
                Util.setShort(buffer, (short) 0, commands);
                apdu.setOutgoingAndSend((short) 0, (short) 2);
                return;
            case INS_STATUS:
                ISOException.throwIt(Util.getShort(buffer, ISO7816.OFFSET_P1));
                return;
            default:
                ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
    }
}
