public class MultiArrays {
    byte[][] grid; // refuse: MultiDimensionalArray
    void make() {
        grid = new byte[2][3]; // refuse: MultiDimensionalArray
        short[][] rows = new short[3][]; // refuse: MultiDimensionalArray
        rows[0] = new short[1];
    }
}
