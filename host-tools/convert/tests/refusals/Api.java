public class Api {
    void copy(byte[] a, byte[] b) {
        System.arraycopy(a, 0, b, 0, 1); // refuse: UnsupportedApi
    }
    short hash(Object o) { return (short) o.hashCode(); } // refuse: UnsupportedApi
    byte[] dup(byte[] a) { return a.clone(); } // refuse: UnsupportedApi
}
