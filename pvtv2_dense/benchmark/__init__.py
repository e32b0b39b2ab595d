"""Speed and memory benchmarks: the timing harness and, one file per model, builders of our
models and of the reference implementations holding the same weights. Nothing here reads files
outside the arguments it is given."""
