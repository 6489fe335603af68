public class Strings {
    static final String NAME = "card"; // refuse: String
    short length(String s) { return (short) s.length(); } // refuse: String
    Object greet(Object who) { return "hello " + who; } // refuse: String
    Object literal() { return "text"; } // refuse: String
}
