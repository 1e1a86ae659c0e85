"""Benchmarks: `python -m bench.<name>`; each prints medians, p99 and a same-run baseline ratio."""
