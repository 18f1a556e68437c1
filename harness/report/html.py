"""index.html: one self-contained page (inline CSS and JS, nothing fetched) that stays fast at any run size.

Python aggregates; the page gets each target's statuses over the cells as indices of shared patterns
(``patterns``), detail only for what fails, and a bounded number of examples per signature: its size grows with the
targets and the failures, hardly with the cells. Everything shown is escaped: jinja2 autoescapes the markup, the
JSON island cannot close its <script>, and the script writes data with textContent only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from harness.findings.build import MEANINGS as KIND_MEANINGS
from harness.findings.build import Finding
from harness.findings.summary import repro_command, verification
from harness.report import model, patterns
from harness.report.deprecations import Notice
from harness.report.diff import CATEGORIES, MEANINGS, Diff
from harness.report.model import EXAMPLES, STATUSES, SYMBOLS, Report, clip, describe, repro
from harness.results import OUTCOMES

HERE = Path(__file__).parent
#: characters of a message in a heading line, and of any text shown in full
HEADLINE = 240
FULL = 20_000
#: signatures shown with examples and tracebacks; the rest get one line each (all are in compat.json)
SIGNATURES_SHOWN = 200
#: rows listed per diff category, flaky cases and unreadable lines (all are in compat.json)
ROWS = 1000
#: findings shown with their cells grid and verifications (all are in the table up to ROWS, and in compat.json)
FINDINGS_SHOWN = 100
#: diff categories shown open
OPEN = ("new_failure", "fixed", "flaky")


def embed_json(data: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` island: ``<``, ``>`` and ``&`` become \\u escapes, so no
    ``</script>`` or ``<!--`` can end it early; JSON.parse reads the escapes back as the original characters."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return Markup(text)


def render(report: Report, diff: Diff | None, baseline_problem: str, generated: str,
           breaks_next: Sequence[Notice] = ()) -> str:
    keys = report.targets.keys() | {c.key for changes in (diff.changes.values() if diff else ()) for c in changes}
    names, index = model.key_names(keys)

    def ix(part: str, values: Iterable[str]) -> str:
        """Space-separated indices of key values, for the data attributes the filters read."""
        return " ".join(str(index[part][v]) for v in values)

    flaky_targets = {key for key, status in report.statuses.items() if status == model.FLAKY}

    def sig_outcomes(signature: model.Signature) -> list[str]:
        """The outcome filter's values a signature matches: its outcomes, and "flaky" if it hits a flaky target."""
        return [*signature.counts, *(["flaky"] if signature.targets & flaky_targets else [])]

    env = Environment(loader=FileSystemLoader(HERE), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["clip"] = clip
    env.filters["pretty"] = lambda case: clip(json.dumps(case, indent=1, sort_keys=True, default=str), FULL)
    signatures = report.ranked_signatures()
    script = (HERE / "report.js").read_text(encoding="utf-8")
    return env.get_template("index.html.j2").render(
        report=report, diff=diff, baseline_problem=baseline_problem, generated=generated,
        categories=CATEGORIES, meanings=MEANINGS, open_categories=OPEN, statuses=STATUSES, outcomes=OUTCOMES,
        symbols=SYMBOLS, shown=signatures[:SIGNATURES_SHOWN], rest=signatures[SIGNATURES_SHOWN:],
        flaky=report.flaky_cases, sig_outcomes=sig_outcomes, ix=ix, repro=repro, describe=describe,
        HEADLINE=HEADLINE, FULL=FULL, ROWS=ROWS, EXAMPLES=EXAMPLES, FINDINGS_SHOWN=FINDINGS_SHOWN,
        findings=report.findings, kind_meanings=KIND_MEANINGS, repro_command=repro_command, verification=verification,
        grid_pefts=report.versions(1), finding_grid=lambda finding: finding_grid(report, finding),
        style=Markup((HERE / "report.css").read_text(encoding="utf-8")), script=Markup(script),
        script_hash="sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode(),
        data=embed_json(_page_data(report, names, index, signatures)), breaks_next=breaks_next,
    )


def finding_grid(report: Report, finding: Finding) -> list[tuple[str, list[list[tuple[str, str]]]]]:
    """The version grid (transformers rows, peft columns), each square its cells with this finding's state in them:
    "bad" (it shows), "good" (its targets pass) or "none"."""
    def state(cell: str) -> str:
        return "bad" if cell in finding.cells_bad else "good" if cell in finding.cells_good else "none"

    pefts = report.versions(1)
    return [(tf, [[(cell, state(cell)) for cell in sorted(report.squares.get((tf, peft), {}))] for peft in pefts])
            for tf in report.versions(0)]


def _page_data(report: Report, names: model.Names, index: model.Index,
               signatures: list[model.Signature]) -> dict[str, Any]:
    """What the script needs for the grid and the drill-down, aggregated over cells: each (arch, task, method) row
    names one status pattern per property (see ``patterns``), and only the (row, property) pairs that fail or are
    flaky somewhere carry detail: their signatures and up to EXAMPLES failing cases, each from another cell. Per-cell
    verdict counts are in compat.details.json."""
    table = patterns.encode(report.statuses, names["cell"], names["property"])
    row_at = {row: i for i, row in enumerate(table.rows)}
    sig_index = {s.text: i for i, s in enumerate(signatures)}
    bad = [[row_at[key[:3]], index["property"][key[3]], [sig_index[text] for text in failures.signatures],
            [[index["cell"][cell], case] for cell, case in failures.cases]]
           for key, failures in sorted(report.failures.items())]
    verdicts = Counter[str]()
    for cells in report.squares.values():
        for cell, counts in cells.items():
            verdicts[cell] += sum(counts.values())
    squares = report.cell_squares()
    return {
        "names": names,
        "statuses": list(STATUSES),
        "symbols": SYMBOLS,
        "squares": [squares.get(cell) for cell in names["cell"]],
        "verdicts": [verdicts[cell] for cell in names["cell"]],
        "mixed": sorted(cell for cell in names["cell"]
                        if sum(cell in cells for cells in report.squares.values()) > 1),
        "tf": sorted({tf for tf, _ in squares.values()}, key=model.version_order),
        "peft": sorted({peft for _, peft in squares.values()}, key=model.version_order),
        "sigs": [[s.anchor, clip(s.text, HEADLINE)] for s in signatures],
        "patterns": table.patterns,
        "rows": [[index["arch"][arch], index["task"][task], index["method"][method], list(indices)]
                 for (arch, task, method), indices in zip(table.rows, table.indices, strict=True)],
        "bad": bad,
    }
