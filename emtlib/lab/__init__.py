"""emtlib.lab: running, storing and tabulating the book's experiments on the core library."""
