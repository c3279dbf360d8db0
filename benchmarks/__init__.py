"""Benchmark programs: each prints one JSON line with --json. They measure; tests assert."""
