"""summary.md, for a CI step summary or a PR comment: the diff first, a compact cell grid, then the top failure
signatures with the command that replays each.

Every part is bounded (rows per section, characters per cell), so the whole stays under GitHub's 65,536-character
comment limit at any run size. Text from verdicts is escaped: GitHub renders some HTML and all Markdown.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable

from harness.report.diff import CATEGORIES, MEANINGS, Diff
from harness.report.model import STATUSES, SYMBOLS, Key, Report, Signature, clip, describe, repro

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
    lines += _signatures(report)
    return "\n".join(lines) + "\n"


def _diff(report: Report, diff: Diff | None, baseline_problem: str) -> list[str]:
    if diff is None:
        flaky = report.flaky_cases()
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


def _signatures(report: Report) -> list[str]:
    ranked = report.ranked_signatures()
    if not ranked:
        return ["### Failure signatures", "", "No fail, crash or timeout verdicts.", ""]
    rows = []
    for n, signature in enumerate(ranked[:SIGNATURES], 1):
        example = signature.examples[0]
        reach = (f"{len(signature.targets):,} targets, {len(signature.spread('arch')):,} archs, "
                 f"{len(signature.spread('cell')):,} cells")
        rows.append([str(n), tally(signature.counts), text(signature.text, 160), reach, _standing(report, signature),
                     code(repro(example.cell, example.case_id))])
    return [f"### Top failure signatures ({min(len(ranked), SIGNATURES)} of {len(ranked):,}; "
            "the full list, examples and tracebacks are in index.html)", "",
            *_table(["#", "verdicts", "signature", "reach", "known?", "repro (one example)"], rows), ""]


def _standing(report: Report, signature: Signature) -> str:
    """"new", or the expectations that explain it, each linked to its upstream issue."""
    links = [f"[{text(ident, 60)}]({_url(report.expectation(ident).link)})" for ident in sorted(signature.known)]
    if signature.standing == "partly known":
        links.append(f"{signature.unexplained:,} new")
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
