"""Benchmarks: pure measurement, never part of `make test`; may import anything."""
