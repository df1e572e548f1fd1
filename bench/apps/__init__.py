"""Tiny servers the load benchmarks run in their own processes."""
