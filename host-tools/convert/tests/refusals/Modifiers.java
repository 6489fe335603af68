public class Modifiers {
    volatile short flag; // refuse: Modifier
    transient byte[] cache; // refuse: Modifier
    native void nativeCall(); // refuse: Modifier
}
