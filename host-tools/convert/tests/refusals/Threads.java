public class Threads {
    synchronized void locked() { } // refuse: Synchronization
    void block(Object lock) {
        synchronized (lock) { // refuse: Synchronization
            lock.notify(); // refuse: Thread
        } // refuse: Synchronization
    }
    void start() { new Thread().start(); } // refuse: Thread
}
