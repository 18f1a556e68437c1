"""Per-layer config lists (layer kinds, hybrid patterns, layer indices) shrunk to a drawn layer count.

Kind lists keep every kind of the original (a hybrid keeps its attention layers, an interleaved model its local and
global ones); index lists keep the indices that still exist.
"""

from __future__ import annotations

import functools
from typing import Any

from harness.archs import fields, introspect


def distinct(entries: list[Any] | str) -> list[Any]:
    """The kinds in a per-layer list, in order of first appearance."""
    return list(dict.fromkeys(entries))


def shrink_kinds(value: list[Any] | str, layers: int) -> list[Any] | str:
    """The first ``layers`` entries of a per-layer list or pattern string, with every kind of the original kept:
    a kind missing from the head replaces a repeated entry, from the end (``layers`` is at least the kind count)."""
    head = list(value[:layers])
    for kind in distinct(value):
        if kind not in head:
            repeated = next(i for i in reversed(range(len(head))) if head.count(head[i]) > 1)
            head[repeated] = kind
    return "".join(head) if isinstance(value, str) else head


def shrink_indices(value: list[Any] | None, layers: int) -> list[int]:
    """Layer indices below ``layers``; the last layer when none is left of a list that named some, or when the
    default names none (a hybrid's attention layers: prefix tuning needs one)."""
    kept = [i for i in value or () if isinstance(i, int) and 0 <= i < layers]
    return kept or ([layers - 1] if value is None or value else [])


@functools.cache
def kind_lists(config_cls: type) -> tuple[str, ...]:
    """Per-layer list fields: the named ones, and any list default as long as the default layer count (over 2)."""
    defaults = introspect.defaults(config_cls)
    layers = introspect.present(config_cls, fields.LAYERS)
    depth = next((defaults[n] for n in layers if isinstance(defaults.get(n), int)), 0)
    found = []
    for name in sorted(introspect.settable(config_cls) - set(fields.LAYER_INDEX_LISTS)):
        value = defaults.get(name)
        if not value or not isinstance(value, (list, str)) or not _scalars(value):
            continue
        if name in fields.LAYER_LISTS or (isinstance(value, list) and depth > 2 and len(value) == depth):
            found.append(name)
    return tuple(found)


def _scalars(value: list[Any] | str) -> bool:
    return all(isinstance(v, (str, int, float, bool, type(None))) for v in value)


def fewest_layers(config_cls: type) -> int:
    """The most kinds any per-layer list holds: the fewest layers that keep them all."""
    defaults = introspect.defaults(config_cls)
    return max((len(distinct(defaults[n])) for n in kind_lists(config_cls)), default=1)
