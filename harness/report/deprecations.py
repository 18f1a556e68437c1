""""Breaks next": the deprecation notices peft's calls raised, per peft frame and message, with the announced
removal, the earliest cell that showed each, and how often. Not failures: a forecast of what the next release of
transformers (or peft) will break.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.outcomes import mask
from harness.report.markdown import code, text
from harness.report.model import version_order
from harness.results import BadLine, Deprecation, Verdict, read_verdicts

#: rows a page or a summary shows (the most frequent first)
ROWS = 100


@dataclass
class Notice:
    """One deprecation, however many verdicts raised it: the same peft frame and the same masked message."""

    frame: str
    message: str
    category: str
    removal: str
    count: int = 0
    #: cell → (transformers, peft) versions, for "first seen"
    cells: dict[str, tuple[str, str]] = field(default_factory=dict)
    properties: set[str] = field(default_factory=set)

    @property
    def first_cell(self) -> str:
        """The cell with the oldest transformers (then peft) release that raised the notice."""
        return min(self.cells, key=lambda cell: (*map(version_order, self.cells[cell]), cell))


def as_deprecation(item: Deprecation | dict[str, Any]) -> Deprecation:
    """A deprecation as recorded: the dataclass in process, a dict once read back from a verdict file."""
    if isinstance(item, Deprecation):
        return item
    return Deprecation(**{k: str(item.get(k, "")) for k in Deprecation.__dataclass_fields__})


def aggregate(verdicts: Iterable[Verdict]) -> list[Notice]:
    """The notices of ``verdicts``, most frequent first (then by frame and message)."""
    notices: dict[tuple[str, str], Notice] = {}
    for verdict in verdicts:
        for raw in verdict.deprecations:
            item = as_deprecation(raw)
            key = (item.frame, mask(item.message))
            notice = notices.setdefault(key, Notice(item.frame, item.message, item.category, item.removal))
            notice.count += 1
            notice.removal = notice.removal or item.removal
            notice.cells[verdict.cell] = (verdict.versions.get("transformers", ""), verdict.versions.get("peft", ""))
            notice.properties.add(verdict.property)
    return sorted(notices.values(), key=lambda n: (-n.count, n.frame, n.message))


def read(files: Iterable[str | Path]) -> list[Notice]:
    """The notices in verdict files (the main report's ``inputs``); unreadable lines are the main report's to
    list, so they are passed over here."""
    problems: list[BadLine] = []
    return aggregate(v for path in files for v in read_verdicts(path, problems))


def markdown(notices: list[Notice]) -> list[str]:
    """The summary.md section (nothing when no notice was seen)."""
    if not notices:
        return []
    lines = [f"### Breaks next ({len(notices)} deprecation notices raised through peft)", "",
             "| peft frame | notice | removal | first seen | count |", "|---|---|---|---|---|"]
    for n in notices[:ROWS]:
        lines.append(f"| {code(n.frame, 60)} | {text(n.message, 160)} | {text(n.removal or '—', 30)} | "
                     f"{code(n.first_cell, 40)} | {n.count:,} |")
    return [*lines, ""]
