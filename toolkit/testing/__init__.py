"""Helpers for tests and benchmarks: real local servers the toolkit talks to."""
