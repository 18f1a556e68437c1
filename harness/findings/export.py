"""A finding as JSON (``findings --json``, compat.json) and as an issue body a maintainer can paste upstream."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.findings.build import MEANINGS, Finding
from harness.findings.ranges import NOT_RUN
from harness.findings.reproduce import Reproduction
from harness.findings.summary import repro_command
from harness.results import Deprecation


def to_json(finding: Finding, reproductions: Mapping[str, Reproduction] | None = None) -> dict[str, Any]:
    example = finding.example
    records = dict(reproductions or {})
    return {
        "id": finding.id,
        "kind": finding.kind,
        "signature": finding.text,
        "cells_bad": finding.cells_bad,
        "cells_good": finding.cells_good,
        "range": finding.range.specifiers(),
        "range_exact": finding.range.exact,
        "targets": [dict(zip(("arch", "task", "method", "property"), t, strict=True)) for t in sorted(finding.targets)],
        "example_case": None if example is None else {
            "case_id": example.case_id, "cell": example.cell, "arch": example.arch, "task": example.task,
            "method": example.method, "property": example.property, "outcome": example.outcome,
            "case": example.case},
        "script": next((r.script for r in records.values() if r.script), None),
        "reproduces": {cell: r.reproduces for cell, r in sorted(records.items())} or None,
        "verifications": [r.to_json() for _, r in sorted(records.items())],
        "standing": finding.standing,
        "known": dict(finding.known),
        "outcomes": dict(finding.outcomes),
        "units": len(finding.units),
        "flaky_units": len(finding.flaky_units),
        "repro": repro_command(finding),
    }


def _versions(cells: Mapping[str, Mapping[str, str]]) -> list[str]:
    return [f"- `{cell}`: transformers {v.get('transformers', '?')}, peft {v.get('peft', '?')}, "
            f"torch {v.get('torch', '?')}" for cell, v in sorted(cells.items())] or ["- none that ran its targets"]


def issue_body(finding: Finding, reproductions: Mapping[str, Reproduction] | None = None) -> str:
    """Markdown: title, versions broken and passing, the script, observed vs expected, the range (for a deprecation
    notice: where peft calls the API, the announced removal, and where it was and was not seen)."""
    if finding.notice is not None:
        return _notice_body(finding, finding.notice)
    example = finding.example
    records = dict(reproductions or {})
    error = example.error if example else None
    where = f"{example.arch} ({example.task}) × {example.method}, `{example.property}`" if example else "?"
    ranges = [f"- {package}: `{spec}`" if spec != NOT_RUN else f"- {package}: no cell decides a bound"
              for package, spec in finding.range.specifiers().items()]
    if not finding.range.exact:
        ranges.append("- the cells allow no single range: good and bad cells interleave")
    script_path = next((Path(r.script) for r in records.values() if r.script), None)
    script = (script_path.read_text(encoding="utf-8") if script_path and script_path.is_file() else
              f"# not written yet: `{repro_command(finding)} --script repro.py` writes it")
    verified = [f"- `{cell}`: {'reproduces' if r.reproduces else 'does NOT reproduce'} ({r.observed})"
                for cell, r in sorted(records.items())] or ["- not verified yet"]
    if error:
        observed = f"`{error.type}` at `{error.frame or 'an unknown frame'}`:\n\n```\n{error.message[:4000]}\n```"
    else:
        observed = f"`{finding.text}`"
    good = ", ".join(f"`{c}`" for c in finding.cells_good) or "no cell that ran it"
    return "\n".join([
        f"# {finding.text[:200]}",
        "",
        f"Found by peft-compat ({finding.id}, {finding.kind}: {MEANINGS[finding.kind]}) on {finding.reach()}; "
        f"smallest example: {where}.",
        "",
        "## Versions", "", "Broken:", *_versions(finding.cells_bad), "", "Passing:", *_versions(finding.cells_good),
        "",
        "## Reproducer", "", "Needs only torch, transformers and peft; exits non-zero where the bug is, 0 where it "
        "is not.", "", "```python", script.rstrip(), "```", "", "Verified:", *verified, "",
        "## Observed", "", observed, "",
        "## Expected", "", f"`{example.property if example else '?'}` holds (no exception, the outputs agree), as it "
        f"does in {good}.", "",
        "## Range", "", *ranges, "",
    ])


def _notice_body(finding: Finding, notice: Deprecation) -> str:
    example = finding.example
    where = f"{example.arch} ({example.task}) × {example.method}, `{example.property}`" if example else "?"
    ranges = [f"- {package}: `{spec}`" for package, spec in finding.range.specifiers().items() if spec != NOT_RUN]
    return "\n".join([
        f"# peft calls a deprecated API at `{notice.frame or 'an unknown frame'}`",
        "",
        f"Found by peft-compat ({finding.id}, deprecation: {MEANINGS['deprecation']}) on {finding.reach()}; "
        f"smallest example: {where} (`{repro_command(finding)}` replays it).",
        "",
        "## Notice", "", f"`{notice.category}` raised while `{notice.frame}` was on the stack:", "", "```",
        notice.message[:4000], "```", "",
        f"Announced removal: {notice.removal or 'no release named'}.", "",
        "## Versions", "", "Raised in:", *_versions(finding.cells_bad), "",
        "Not raised by the same targets in:", *_versions(finding.cells_good), "",
        "## Range", "", *(ranges or ["- no cell decides a bound"]), "",
    ])
