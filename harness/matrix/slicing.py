"""Choosing matrix cells by name, and cutting them into CI jobs.

``matching_cells`` picks cells with fnmatch patterns (``py311-tf4.45*``; several patterns may share one argument,
separated by commas), as ``python -m harness matrix --cells`` and ``python -m harness nightly --cells`` take them.
``slices`` cuts a list into at most N contiguous, balanced slices; ``github_matrix`` is the ``strategy.matrix`` of the
nightly workflow: one job per slice, under GitHub's limit of 256 jobs per matrix, several cells per job only
when needed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from harness.datafile import near
from harness.matrix.cells import Cell

#: GitHub Actions: "A matrix will generate a maximum of 256 jobs per workflow run."
GITHUB_MAX_JOBS = 256
T = TypeVar("T")


def patterns_of(values: Iterable[str]) -> list[str]:
    """``["a,b", "c"]`` → ``["a", "b", "c"]``: option values split at commas, blanks dropped."""
    return [p.strip() for value in values for p in value.split(",") if p.strip()]


def matching_cells(cells: Sequence[Cell], patterns: Sequence[str]) -> list[Cell]:
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


def github_matrix(cells: Sequence[Cell], max_jobs: int = GITHUB_MAX_JOBS,
                  shards: Mapping[str, int] | None = None) -> dict[str, Any]:
    """``{"include": [{"key", "cells", "count", "args"}, ...]}`` for ``strategy.matrix: ${{ fromJSON(...) }}``.

    A cell planned in N > 1 shards (``shards``, from ``harness.matrix.jobplan``) is N jobs of its own, each running
    ``--shard I/N`` into its own verdict file; the other cells share the remaining jobs as contiguous balanced
    slices. ``cells`` is a comma-separated list for ``tox -e``; ``args`` are more ``run`` arguments; ``key`` names the
    job, its artifact and its caches (the cell name for a one-cell job, ``first..last`` for a slice, ``cell.IofN``
    for a shard; never a comma, which cache keys refuse). A ValueError says when the shards alone exceed
    ``max_jobs``."""
    shards = shards or {}
    whole = [c.name for c in cells if shards.get(c.name, 1) == 1]
    room = max_jobs - sum(shards.get(c.name, 1) for c in cells if shards.get(c.name, 1) > 1)
    if room < min(1, len(whole)):
        raise ValueError(f"the plan needs more than {max_jobs} jobs: raise jobs.minutes or jobs.cores in matrix.yaml, "
                         "choose fewer cells, or a smaller profile")
    first_of = {part[0]: part for part in (slices(whole, room) if whole else [])}
    jobs = []
    for cell in cells:
        count = shards.get(cell.name, 1)
        if count > 1:
            for index in range(1, count + 1):
                key = f"{cell.name}.{index}of{count}"
                jobs.append({"key": key, "cells": cell.name, "count": 1,
                             "args": f"--shard {index}/{count} --out reports/raw/{key}.jsonl "
                                     f"--junit reports/raw/{key}.xml"})
        elif cell.name in first_of:
            part = first_of[cell.name]
            key = part[0] if len(part) == 1 else f"{part[0]}..{part[-1]}"
            jobs.append({"key": key, "cells": ",".join(part), "count": len(part), "args": ""})
    return {"include": jobs}
