"""Benchmarks: each module here has ``main(argv) -> int`` and prints a table. Never a test."""
