public class Chars {
    char initial; // refuse: Char
    char[] buffer = new char[4]; // refuse: Char
    void set(byte b) {
        initial = (char) b; // refuse: Char
        buffer[0] = initial; // refuse: Char
    }
}
