package javacard.framework;

/**
 * JVM-oracle replacement for the API stub: the APDU buffer and the three calls the golden applets
 * make. The harness writes each command into the buffer exactly as the oxicard Card facade does
 * (the first 5 header bytes, then the command data), so stale bytes past the data match too.
 */
public final class APDU {
    /** Size of the APDU buffer, as in the Card facade: 5 header bytes, 255 data bytes, Le, 1. */
    public static final short BUFFER_LENGTH = 261;

    private final byte[] buffer = new byte[BUFFER_LENGTH];
    private short lc;
    private short outOffset;
    private short outLength = -1;

    /** Creates the APDU object the harness passes to process(). */
    public APDU() {
    }

    /** Loads a command APDU: header and data into the buffer, Lc remembered; no response yet. */
    public void load(byte[] command) {
        System.arraycopy(command, 0, buffer, 0, Math.min(5, command.length));
        lc = command.length > 5 ? (short) (command[4] & 0xFF) : 0;
        if (lc > 0) {
            System.arraycopy(command, 5, buffer, 5, lc);
        }
        outLength = -1;
    }

    /** The response data set by setOutgoingAndSend, or an empty array. */
    public byte[] responseData() {
        if (outLength < 0) {
            return new byte[0];
        }
        byte[] out = new byte[outLength];
        System.arraycopy(buffer, outOffset, out, 0, outLength);
        return out;
    }

    public byte[] getBuffer() {
        return buffer;
    }

    public short setIncomingAndReceive() {
        return lc;
    }

    public void setOutgoingAndSend(short bOff, short len) {
        if (bOff < 0 || len < 0 || bOff + len > BUFFER_LENGTH || len > 256) {
            throw new APDUException(APDUException.BUFFER_BOUNDS);
        }
        outOffset = bOff;
        outLength = len;
    }
}
