"""Benchmarks (not tests): `python -m benchmarks` runs them all and rewrites RESULTS.md."""
