"""summary.md, for a CI step summary or a PR comment: the diff first, a compact cell grid, then the findings (one
row per root cause: kind, range, reach, standing, the command that replays it, whether its script reproduces it).

Every part is bounded (rows per section, characters per cell), so the whole stays under GitHub's 65,536-character
comment limit at any run size. Text from verdicts is escaped: GitHub renders some HTML and all Markdown.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable

from harness.findings.build import KINDS, Finding
from harness.findings.summary import repro_command, verification
from harness.report.diff import CATEGORIES, MEANINGS, Diff
from harness.report.model import STATUSES, SYMBOLS, Key, Report, clip, describe, repro

#: rows per listed section, signatures listed, unreadable lines quoted
ROWS = 20
SIGNATURES = 10
UNREADABLE = 5
#: diff categories listed row by row; the others get their count only
LISTED = ("new_failure", "fixed", "flaky")
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def text(value: str, limit: int = 100) -> str:
    """``value`` as inert text for a table cell: one line, clipped, no HTML, no emphasis, links or column breaks."""
    return _MARKDOWN.sub(r"\\\1", html.escape(clip(" ".join(value.split()), limit), quote=False))


def code(value: str, limit: int = 100) -> str:
    """``value`` as inline code where it cannot end the span or a table column; else as escaped text."""
    if "`" in value or "|" in value or len(value) > limit:
        return text(value, limit)
    return f"`{value}`"


def tally(counts: Counter[str]) -> str:
    """``✗ 2 · ! 3 · ✓ 1,200``: the outcomes that need attention first."""
    return " · ".join(f"{SYMBOLS[s]} {counts[s]:,}" for s in STATUSES if counts.get(s))


def render(report: Report, diff: Diff | None, baseline_problem: str) -> str:
    lines = [f"## peft-compat: {report.verdicts:,} verdicts, {len(report.targets):,} targets, "
             f"{len(report.cell_squares())} cells", "", tally(report.counts) + "  ",
             "Legend: " + ", ".join(f"{SYMBOLS[s]} {s}" for s in STATUSES), ""]
    if report.unreadable:
        lines += [f"> **{len(report.unreadable):,} unreadable line(s) were skipped** (the rest was read); the first:",
                  *(f"> - {text(describe(bad), 200)}" for bad in report.unreadable[:UNREADABLE]), ""]
    lines += _diff(report, diff, baseline_problem)
    lines += _grid(report)
    lines += _findings(report)
    return "\n".join(lines) + "\n"


def _diff(report: Report, diff: Diff | None, baseline_problem: str) -> list[str]:
    if diff is None:
        flaky = report.flaky_cases
        lines = ["### Changes", "", f"No diff: {text(baseline_problem, 300)}" if baseline_problem else
                 "No baseline given (`--baseline PREVIOUS_RUN/compat.json`).", ""]
        if flaky:
            lines += [f"**Flaky cases** ({len(flaky):,}): a re-run disagreed with the first run", "",
                      *_table(["cell", "arch", "task", "method", "property", "verdicts", "repro"],
                              ([*_key(key), tally(counts), code(repro(key.cell, case))]
                               for key, case, counts in flaky[:ROWS])),
                      *_more(len(flaky)), ""]
        return lines
    lines = [f"### Changes since {code(diff.baseline)}", "", text(diff.summary(), 2000), ""]
    for category in LISTED:
        changes = diff.changes[category]
        if not changes:
            continue
        rows = []
        for change in changes[:ROWS]:
            target = report.targets.get(change.key)
            case = target.example_case() if target else ""
            rows.append([*_key(change.key), _status(change.before), _status(change.after),
                         code(repro(change.key.cell, case)) if case else ""])
        lines += [f"**{CATEGORIES[category]}** ({len(changes):,}): {MEANINGS[category]}", "",
                  *_table(["cell", "arch", "task", "method", "property", "baseline", "now", "repro"], rows),
                  *_more(len(changes)), ""]
    return lines


def _grid(report: Report) -> list[str]:
    tfs, pefts = report.versions(0), report.versions(1)
    rows = []
    for tf in tfs:
        row = [f"**{text(tf, 40)}**"]
        for peft in pefts:
            cells = report.squares.get((tf, peft), {})
            row.append("<br>".join(f"**{text(cell, 60)}**: {tally(counts)}"
                                   for cell, counts in sorted(cells.items())))
        rows.append(row)
    return ["### Cells (transformers ↓ × peft →)", "", *_table(["", *(text(p, 40) for p in pefts)], rows), ""]


def _findings(report: Report) -> list[str]:
    found = report.findings
    if not found:
        return ["### Findings", "", "No fail, crash or timeout verdicts.", ""]
    kinds = Counter(f.kind for f in found)
    rows = []
    for n, finding in enumerate(found[:SIGNATURES], 1):
        checked = verification(finding, report.reproductions.get(finding.id, {})) or "not verified"
        rows.append([str(n), f"**{finding.kind}**", code(finding.id), text(finding.range.text(), 80),
                     text(finding.reach(), 100), _standing(report, finding), text(finding.text, 160),
                     code(repro_command(finding)), text(checked, 120)])
    return [f"### Findings ({min(len(found), SIGNATURES)} of {len(found):,}: "
            + ", ".join(f"{kinds[k]:,} {k}" for k in KINDS if kinds[k]) + "; all in index.html and compat.json)", "",
            *_table(["#", "kind", "id", "range", "reach", "known?", "finding", "repro", "script"], rows), ""]


def _standing(report: Report, finding: Finding) -> str:
    """"new", or the expectations that explain it, each linked to its upstream issue."""
    links = [f"[{text(ident, 60)}]({_url(report.expectation(ident).link)})" if report.expectation(ident).link
             else text(ident, 60) for ident in sorted(finding.known)]
    if finding.standing == "partly known":
        links.append("partly new")
    return ", ".join(links) or "**new**"


def _url(link: str) -> str:
    """A link target that cannot end the Markdown link or the table column early."""
    return "".join(c if c.isalnum() or c in "/:.-_~#?=&%+" else f"%{ord(c):02X}" for c in link)


def _key(key: Key) -> list[str]:
    return [text(part, 40) for part in key]


def _status(status: str | None) -> str:
    return f"{SYMBOLS[status]} {status}" if status else "— absent"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows)]


def _more(total: int) -> list[str]:
    return [f"\n… and {total - ROWS:,} more in index.html and compat.json."] if total > ROWS else []
