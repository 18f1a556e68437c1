"""Statuses over cells, each distinct string of them stored once: the encoding that keeps page and compat.json small
at any number of cells.

A *row* is one (arch, task, method). Each of its properties has one status per cell, written as a *pattern*: one
character per cell, the status's index in ``STATUSES`` (``"0"`` fail … ``"7"`` skip), or ``"."`` where the cell has
no verdict of it. Patterns repeat across rows (a run of cells that crash, an arch that older transformers lack), so
a row names each property's pattern by its index and the size grows with the rows and the distinct patterns, not
with rows × cells. Lossless: ``decode(encode(statuses))`` gives the statuses back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from harness.report.model import STATUSES, Key

ABSENT = "."
#: status → its character in a pattern
CODE = {status: str(i) for i, status in enumerate(STATUSES)}
#: (arch, task, method)
Row = tuple[str, str, str]


class PatternError(ValueError):
    """An encoding that does not decode: a pattern of the wrong length or character, an index out of range."""


@dataclass(frozen=True)
class Table:
    cells: tuple[str, ...]
    properties: tuple[str, ...]
    patterns: tuple[str, ...]
    rows: tuple[Row, ...]
    #: per row, per property (in ``properties`` order), the index of its pattern
    indices: tuple[tuple[int, ...], ...]



def encode(statuses: Mapping[Key, str], cells: Iterable[str] = (), properties: Iterable[str] = ()) -> Table:
    """The table of ``statuses`` ((cell, arch, task, method, property) → status). ``cells`` and ``properties`` fix
    their order and may name more than the statuses have; the rest follow, sorted."""
    cell_order = _order(cells, (key.cell for key in statuses))
    prop_order = _order(properties, (key.property for key in statuses))
    cell_at = {cell: i for i, cell in enumerate(cell_order)}
    prop_at = {prop: i for i, prop in enumerate(prop_order)}
    grid: dict[Row, list[list[str]]] = {}
    for key, status in statuses.items():
        row = grid.get(key[1:4]) or grid.setdefault(key[1:4], [[ABSENT] * len(cell_order) for _ in prop_order])
        row[prop_at[key.property]][cell_at[key.cell]] = CODE[status]
    patterns: dict[str, int] = {}
    indices = []
    for row_key in sorted(grid):
        indices.append(tuple(patterns.setdefault("".join(chars), len(patterns)) for chars in grid[row_key]))
    return Table(tuple(cell_order), tuple(prop_order), tuple(patterns), tuple(sorted(grid)), tuple(indices))


def decode(cells: Sequence[str], properties: Sequence[str], patterns: Sequence[str], rows: Sequence[Row],
           indices: Sequence[Sequence[int]]) -> dict[Key, str]:
    """The statuses an encoding stands for; PatternError if it is not a valid one."""
    for number, pattern in enumerate(patterns):
        if len(pattern) != len(cells) or not set(pattern) <= {ABSENT, *CODE.values()}:
            raise PatternError(f"patterns[{number}] is not {len(cells)} characters of {ABSENT!r} and 0-"
                               f"{len(STATUSES) - 1}")
    if len(indices) != len(rows):
        raise PatternError(f"{len(rows)} rows but {len(indices)} lists of pattern indices")
    statuses: dict[Key, str] = {}
    for number, (row, row_indices) in enumerate(zip(rows, indices, strict=True)):
        if len(row_indices) != len(properties) or not all(0 <= i < len(patterns) for i in row_indices):
            raise PatternError(f"rows[{number}] needs {len(properties)} pattern indices below {len(patterns)}")
        for prop, index in zip(properties, row_indices, strict=True):
            for cell, char in zip(cells, patterns[index], strict=True):
                if char != ABSENT:
                    statuses[Key(cell, *row, prop)] = STATUSES[int(char)]
    return statuses


def _order(first: Iterable[str], more: Iterable[str]) -> list[str]:
    """``first`` in its order, then whatever else ``more`` names, sorted."""
    given = list(dict.fromkeys(first))
    return given + sorted(set(more) - set(given))
