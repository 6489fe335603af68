public class Reflection {
    Object type() { return Reflection.class; } // refuse: Reflection
    boolean same(Object o) { return o.getClass() == Reflection.class; } // refuse: Reflection
}
