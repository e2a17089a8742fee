"""Benchmarks for collection, ingest, export and startup (``python -m benchmarks``).

Outside the test suite. Every figure is a ratio to a baseline taken in the same run,
because the machines this runs on are noisy. See ``runner.py`` for the options.
"""
