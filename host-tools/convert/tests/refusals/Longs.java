public class Longs {
    long total; // refuse: Long
    void add(short a) {
        long x = a; // refuse: Long
        total += x * 1000000000000L; // refuse: Long
    }
    short high() { return (short) (total >>> 48); } // refuse: Long
}
