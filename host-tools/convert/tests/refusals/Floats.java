public class Floats {
    float scale = 1.5f; // refuse: Float
    short process(short a) {
        float f = a; // refuse: Float
        f = f * scale; // refuse: Float
        return (short) f; // refuse: Float
    }
    float half(float x) { return x / 2; } // refuse: Float
}
