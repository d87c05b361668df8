"""Benchmarks: ``make bench`` prints figures; docs/performance.md records them."""
