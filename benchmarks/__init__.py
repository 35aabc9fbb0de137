"""Benchmarks: run with `make bench`, never in the test suite. Results go to benchmarks/results/."""
