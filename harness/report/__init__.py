"""Compatibility reports from verdict files: an HTML page, a Markdown summary, a machine-readable compat.json, and
the diff against a previous run's compat.json. Reads JSONL only: no torch, transformers or peft needed."""
