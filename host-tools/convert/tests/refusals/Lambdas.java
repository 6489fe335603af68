// min-release: 8
public class Lambdas {
    interface Op { short apply(short x); }
    short run(short v) {
        Op inc = x -> (short) (x + 1); // refuse: InvokeDynamic
        return inc.apply(v);
    }
}
