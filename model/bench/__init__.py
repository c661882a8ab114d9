"""Benchmarks: `apprentice bench speed` and `apprentice bench distill`."""
