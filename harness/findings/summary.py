"""The run summary: one line per finding (kind, id, range, reach, standing, what it is, how to replay it), in the
order a maintainer reads them; what ``run``/``judge`` print at the end."""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterable, Mapping

from harness.expectations import Expectation
from harness.findings.build import KINDS, Finding, group
from harness.findings.reproduce import Reproduction
from harness.results import Verdict

#: characters of a finding's text on its line
TEXT = 160


def repro_command(finding: Finding) -> str:
    """The command that replays a finding's example in its cell, quoted for a POSIX shell."""
    cell = finding.example.cell if finding.example else sorted(finding.cells_bad)[0]
    return f"tox -e {shlex.quote(cell)} -- repro {finding.id}"


def verification(finding: Finding, reproductions: Mapping[str, Reproduction]) -> str:
    """"script reproduces in CELL", "script does NOT reproduce in CELL (observed)", or "" when not verified."""
    if not reproductions:
        return ""
    parts = []
    for cell, record in sorted(reproductions.items()):
        parts.append(f"script reproduces in {cell}" if record.reproduces
                     else f"script does NOT reproduce in {cell} ({record.observed[:80]})")
    return "; ".join(parts)


def line(finding: Finding, reproductions: Mapping[str, Reproduction] | None = None) -> str:
    standing = ("known: " + ", ".join(sorted(finding.known))) if finding.known else "NEW"
    if finding.standing == "partly known":
        standing += " (partly)"
    checked = verification(finding, reproductions or {})
    text = finding.text if len(finding.text) <= TEXT else finding.text[:TEXT] + "…"
    parts = [f"{finding.kind.upper():<13} {finding.id} {finding.range.text()}", finding.reach(),
             *([] if finding.kind == "deprecation" else [standing]), text, repro_command(finding),
             *([checked] if checked else [])]
    return " · ".join(parts)


def lines_of(findings: list[Finding],
             reproductions: Mapping[str, Mapping[str, Reproduction]] | None = None) -> list[str]:
    """A count by kind, then one line per finding."""
    kinds = Counter(f.kind for f in findings)
    head = f"{len(findings)} finding(s)" + (": " + ", ".join(f"{kinds[k]} {k}" for k in KINDS if kinds[k])
                                            if findings else "")
    return [head, *(line(f, (reproductions or {}).get(f.id)) for f in findings)]


def lines(verdicts: Iterable[Verdict], expectations: Iterable[Expectation] = (),
          reproductions: Mapping[str, Mapping[str, Reproduction]] | None = None) -> list[str]:
    """The closing summary of a run or of ``judge``: its findings, one line each."""
    return lines_of(group(verdicts, expectations), reproductions)
