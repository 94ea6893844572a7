"""Benchmarks and the longer fault-injection run: ``python -m bench`` (``python -m bench --help``)."""
