public class Doubles {
    static double ratio; // refuse: Double
    static short compute(short a) {
        double d = a * 0.5; // refuse: Double
        ratio = d; // refuse: Double
        return (short) d; // refuse: Double
    }
}
