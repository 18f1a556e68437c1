""""Breaks next": the deprecation notices peft's calls raised (findings of kind *deprecation*, one per peft frame
and masked message), with the announced removal, the earliest cell that showed each, its version range and how
often. Not failures: a forecast of what the next release of transformers (or peft) will break.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.findings.build import Finding
from harness.report.markdown import code, text
from harness.report.model import version_order
from harness.results import Deprecation

#: rows a page or a summary shows (the most frequent first)
ROWS = 100


@dataclass(frozen=True)
class Notice:
    """One row of the table: a deprecation finding as a maintainer reads it."""

    id: str
    frame: str
    message: str
    category: str
    removal: str
    #: (cell, case, property) units that raised it
    count: int
    #: the cell with the oldest transformers (then peft) release that raised it
    first_cell: str
    #: where the same targets ran with and without it, e.g. ``transformers<4.48``
    range: str
    properties: tuple[str, ...]


def notices(findings: Iterable[Finding]) -> list[Notice]:
    """The rows of the deprecation findings among ``findings``, most frequent first (then by frame and message)."""
    rows = [_row(f, f.notice) for f in findings if f.notice is not None]
    return sorted(rows, key=lambda n: (-n.count, n.frame, n.message))


def _row(finding: Finding, notice: Deprecation) -> Notice:
    cells = finding.cells_bad
    first = min(cells, key=lambda cell: (version_order(cells[cell].get("transformers", "")),
                                         version_order(cells[cell].get("peft", "")), cell))
    return Notice(finding.id, notice.frame, notice.message, notice.category, notice.removal, len(finding.units),
                  first, finding.range.text(), tuple(finding.spread(3)))


def markdown(rows: list[Notice]) -> list[str]:
    """The summary.md section (nothing when no notice was seen)."""
    if not rows:
        return []
    lines = [f"### Breaks next ({len(rows)} deprecation notices raised through peft)", "",
             "| id | peft frame | notice | removal | first seen | range | count |", "|---|---|---|---|---|---|---|"]
    for n in rows[:ROWS]:
        lines.append(f"| {code(n.id)} | {code(n.frame, 60)} | {text(n.message, 160)} | {text(n.removal or '—', 30)} "
                     f"| {code(n.first_cell, 40)} | {text(n.range, 60)} | {n.count:,} |")
    return [*lines, ""]
