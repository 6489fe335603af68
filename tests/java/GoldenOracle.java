import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.util.HashMap;
import java.util.Map;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISOException;

/**
 * Runs golden applets on the JVM for tests/tests/differential.rs and the vm benchmark.
 *
 * Reads one request per line on standard input and answers each with one line on standard output:
 * <ul>
 * <li>{@code new NAME CLASS}: creates an instance of applet class CLASS with its private no-argument
 * constructor (what the applet's install() does before register()); answers {@code OK}.</li>
 * <li>{@code apdu NAME HEX}: passes the command APDU HEX to NAME's process(); answers the response as
 * hex: the data sent with setOutgoingAndSend, then the status word. As in the Java Card runtime, an
 * uncaught ISOException gives its reason as the status word and no data, any other uncaught
 * throwable 6F00.</li>
 * <li>{@code bench NAME HEX WARMUP_MS MIN_MS}: runs the command for WARMUP_MS, then at least MIN_MS
 * and at least 3 times; answers {@code NS_PER_CALL CALLS RESPONSE_HEX}.</li>
 * </ul>
 * A request that cannot be served is answered {@code ERR message}. The program ends at end of input.
 *
 * <p>At start it loads the shadow API classes, checks that they (not the stubs) are in effect and
 * prints {@code READY}: after that it needs no class of the directory it was compiled into.
 */
public final class GoldenOracle {
    private static final Map<String, Applet> APPLETS = new HashMap<>();
    private static final APDU APDU_OBJECT = new APDU();

    private GoldenOracle() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "US-ASCII"));
        PrintStream out = new PrintStream(System.out, false, "US-ASCII");
        for (String shadow : new String[] { "APDU", "CardRuntimeException", "ISOException", "JCSystem", "Util" }) {
            Class.forName("javacard.framework." + shadow);
        }
        byte[] probe = { 0x12, 0x34 };
        if (javacard.framework.Util.getShort(probe, (short) 0) != 0x1234) {
            out.println("ERR the API stubs come before the shadow classes on the class path");
            out.flush();
            return;
        }
        out.println("READY");
        out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split("\\s+");
            String answer;
            try {
                answer = serve(words);
            } catch (Throwable t) {
                answer = "ERR " + t;
            }
            out.println(answer);
            out.flush();
        }
    }

    private static String serve(String[] w) throws Exception {
        switch (w[0]) {
        case "new": {
            Constructor<?> c = Class.forName(w[2]).getDeclaredConstructor();
            c.setAccessible(true);
            APPLETS.put(w[1], (Applet) c.newInstance());
            return "OK";
        }
        case "apdu":
            return hex(exchange(applet(w[1]), unhex(w[2])));
        case "bench": {
            Applet applet = applet(w[1]);
            byte[] command = unhex(w[2]);
            long warmupNs = Long.parseLong(w[3]) * 1_000_000L;
            long minNs = Long.parseLong(w[4]) * 1_000_000L;
            byte[] response = exchange(applet, command);
            long start = System.nanoTime();
            while (System.nanoTime() - start < warmupNs) {
                exchange(applet, command);
            }
            long calls = 0;
            long elapsed;
            start = System.nanoTime();
            do {
                exchange(applet, command);
                calls++;
                elapsed = System.nanoTime() - start;
            } while (elapsed < minNs || calls < 3);
            return (elapsed / (double) calls) + " " + calls + " " + hex(response);
        }
        default:
            throw new IllegalArgumentException("unknown request " + w[0]);
        }
    }

    private static Applet applet(String name) {
        Applet a = APPLETS.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no applet " + name);
        }
        return a;
    }

    /** One command through process(), mapped to response data and status word. */
    private static byte[] exchange(Applet applet, byte[] command) {
        APDU_OBJECT.load(command);
        int sw;
        byte[] data;
        try {
            applet.process(APDU_OBJECT);
            sw = 0x9000;
            data = APDU_OBJECT.responseData();
        } catch (ISOException e) {
            sw = e.getReason() & 0xFFFF;
            data = new byte[0];
        } catch (Throwable t) {
            sw = 0x6F00;
            data = new byte[0];
        }
        byte[] response = new byte[data.length + 2];
        System.arraycopy(data, 0, response, 0, data.length);
        response[data.length] = (byte) (sw >> 8);
        response[data.length + 1] = (byte) sw;
        return response;
    }

    private static byte[] unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder(2 * b.length);
        for (byte x : b) {
            s.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return s.toString().toUpperCase();
    }
}
