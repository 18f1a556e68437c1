"""Choosing matrix cells by name, and cutting them into CI jobs.

``select`` picks cells with fnmatch patterns (``py311-tf4.45*``; several patterns may share one argument, separated
by commas), as ``python -m harness matrix --cells`` and ``python -m harness nightly --cells`` take them. ``slices``
cuts a list into at most N contiguous, balanced slices; ``github_matrix`` is the ``strategy.matrix`` of the nightly
workflow: one job per slice, under GitHub's limit of 256 jobs per matrix, several cells per job only when needed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from harness.datafile import near
from harness.matrix import Cell

#: GitHub Actions: "A matrix will generate a maximum of 256 jobs per workflow run."
GITHUB_MAX_JOBS = 256
T = TypeVar("T")


def patterns_of(values: Iterable[str]) -> list[str]:
    """``["a,b", "c"]`` → ``["a", "b", "c"]``: option values split at commas, blanks dropped."""
    return [p.strip() for value in values for p in value.split(",") if p.strip()]


def select(cells: Sequence[Cell], patterns: Sequence[str]) -> list[Cell]:
    """The cells whose name or an alias matches one of ``patterns``, in matrix order, each once. A pattern that
    matches no cell is a LookupError naming near matches: a typo must not silently shrink a run."""
    chosen = []
    for pattern in patterns:
        hits = [c for c in cells if any(fnmatch.fnmatchcase(n, pattern) for n in (c.name, *c.aliases))]
        if not hits:
            names = [n for c in cells for n in (c.name, *c.aliases)]
            raise LookupError(f"--cells {pattern!r} matches no cell{near(pattern, names)}; "
                              "`python -m harness matrix --nightly` lists them")
        chosen += hits
    return [c for c in cells if c in chosen]


def slices(items: Sequence[T], most: int) -> list[list[T]]:
    """``items`` cut into ``min(len(items), most)`` contiguous slices whose sizes differ by at most one."""
    if most < 1:
        raise ValueError(f"need at least one slice, got {most}")
    count = min(len(items), most)
    if count == 0:
        return []
    size, longer = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (i < longer)
        out.append(list(items[start:end]))
        start = end
    return out


def github_matrix(cells: Sequence[Cell], max_jobs: int = GITHUB_MAX_JOBS) -> dict[str, Any]:
    """``{"include": [{"key", "cells", "count"}, ...]}`` for ``strategy.matrix: ${{ fromJSON(...) }}``.

    ``cells`` is a comma-separated list for ``tox -e``; ``key`` names the job, its artifact and its caches (the cell
    name for a one-cell job, ``first..last`` otherwise; never a comma, which cache keys refuse)."""
    jobs = []
    for part in slices([c.name for c in cells], max_jobs):
        key = part[0] if len(part) == 1 else f"{part[0]}..{part[-1]}"
        jobs.append({"key": key, "cells": ",".join(part), "count": len(part)})
    return {"include": jobs}
