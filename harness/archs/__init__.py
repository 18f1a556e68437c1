"""Tiny models for every architecture of the installed transformers: discovery, strategies, build, zoo."""
