"""Tiny models for every architecture of the installed transformers: discovery, per-family records, strategies,
build, zoo."""
