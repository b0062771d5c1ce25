"""Benchmarks (run as scripts; see README.md)."""
