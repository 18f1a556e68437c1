"""Method names as people type them and as peft's registry spells them (no peft import: the CLI checks names and
filters pinned examples before loading it)."""

from __future__ import annotations


def method_key(name: str) -> str:
    """The registry's spelling of a method name: ``PREFIX_TUNING`` for ``prefix-tuning`` or ``Prefix_Tuning``."""
    return name.upper().replace("-", "_")
