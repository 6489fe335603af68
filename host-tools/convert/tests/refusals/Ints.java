public class Ints {
    int counter; // refuse: Int
    short sum(short[] values) {
        short s = 0;
        for (int i = 0; i < values.length; i++) { // refuse: Int
            s += values[i];
        }
        return s;
    }
    void big() { counter = 100000; } // refuse: Int
    int[] table() { return new int[4]; } // refuse: Int
    short ok(short a, short b) { return (short) (a + b); }
}
