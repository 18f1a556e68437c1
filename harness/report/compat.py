"""compat.json: the machine-readable report (schema in compat.schema.json), its details file, and reading an
earlier one back as a baseline.

compat.json aggregates: one row per target (cell, arch, task, method) with each property's status, per-case detail
(failure signatures, failing case ids) only for its bad or flaky properties, and one row per finding. What it leaves out
is in compat.details.json beside it (compat.details.schema.json): every (target, property) with its own counts, and
every finding whole (cell versions, targets, example case, verifications), as ``findings --json`` gives it. compat.json
so grows with the targets, not with their cases and verdicts.

The next run's ``--baseline`` needs only ``schema``, ``properties`` and each target's key and ``statuses``; schema-1
files (one row per (target, property)) are read too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.findings import export
from harness.findings.build import Finding
from harness.report.diff import CATEGORIES, Diff
from harness.report.model import FLAKY, STATUSES, Key, Report, Signature, TargetRow, repro, worst
from harness.results import BAD_OUTCOMES

SCHEMA = 2
#: the schemas ``read_baseline`` reads
READABLE = (1, 2)
SCHEMA_FILE = Path(__file__).with_name("compat.schema.json")
DETAILS_SCHEMA_FILE = Path(__file__).with_name("compat.details.schema.json")
#: the details file, written beside compat.json
DETAILS = "compat.details.json"


class BaselineError(Exception):
    """A baseline that cannot be used; the message says which file and what to do."""


def to_json(report: Report, diff: Diff | None, generated: str) -> dict[str, Any]:
    properties = sorted({key.property for key in report.targets})
    return {
        "schema": SCHEMA,
        "generated": generated,
        "details": DETAILS,
        "inputs": report.inputs,
        "totals": {
            "verdicts": report.verdicts,
            "targets": len(report.targets),
            "cases": sum(len(t.cases) for t in report.targets.values()),
            "outcomes": dict(report.counts),
        },
        "unreadable": [{"path": b.path, "line": b.line, "problem": b.problem} for b in report.unreadable],
        "grid": [{"transformers": tf, "peft": peft, "cell": cell, "counts": dict(counts)}
                 for (tf, peft), cells in sorted(report.squares.items()) for cell, counts in sorted(cells.items())],
        "properties": properties,
        "targets": _targets(report, properties),
        "signatures": [_signature(report, s) for s in report.ranked_signatures()],
        "findings": [_finding(f, report) for f in report.findings],
        "flaky_cases": [{**key._asdict(), "case_id": case, "counts": dict(counts)}
                        for key, case, counts in report.flaky_cases()],
        "diff": _diff(diff) if diff else None,
    }


def details_json(report: Report, generated: str) -> dict[str, Any]:
    """compat.details.json: what compat.json aggregates away."""
    return {
        "schema": SCHEMA,
        "generated": generated,
        "targets": [_target_property(t) for _, t in sorted(report.targets.items())],
        "findings": [export.to_json(f, report.reproductions.get(f.id)) for f in report.findings],
    }


def _targets(report: Report, properties: list[str]) -> list[dict[str, Any]]:
    """One row per (cell, arch, task, method): its properties' statuses (in ``properties`` order, None where it has
    no verdict), its cases, and the detail of its bad or flaky properties (the counts are in the details file)."""
    grouped: dict[tuple[str, str, str, str], dict[str, TargetRow]] = {}
    for key, target in sorted(report.targets.items()):
        grouped.setdefault(key[:4], {})[key.property] = target
    rows = []
    for (cell, arch, task, method), by_property in grouped.items():
        cases = set().union(*(target.cases.keys() for target in by_property.values()))
        statuses = {prop: target.status for prop, target in by_property.items()}
        row: dict[str, Any] = {
            "cell": cell, "arch": arch, "task": task, "method": method, "status": worst(statuses.values()),
            "statuses": [statuses.get(prop) for prop in properties], "cases": len(cases),
        }
        bad = {prop: _bad(target) for prop, target in by_property.items()
               if target.status in BAD_OUTCOMES or target.status == FLAKY}
        if bad:
            row["bad"] = bad
        rows.append(row)
    return rows


def _bad(target: TargetRow) -> dict[str, Any]:
    detail: dict[str, Any] = {"signatures": [text for text, _ in target.signatures.most_common()],
                              "bad_cases": target.bad_cases()}
    if target.flaky_cases:
        detail["flaky_cases"] = len(target.flaky_cases)
    return detail


def _target_property(target: TargetRow) -> dict[str, Any]:
    return {
        **target.key._asdict(),
        "status": target.status,
        "counts": dict(target.counts),
        "cases": len(target.cases),
        "flaky_cases": len(target.flaky_cases),
        "signatures": [text for text, _ in target.signatures.most_common()],
        "bad_cases": target.bad_cases(),
    }


def _finding(finding: Finding, report: Report) -> dict[str, Any]:
    """A finding's row: what it is, where it shows and where not, how far it reaches and how to replay it; the whole
    record is in the details file."""
    whole = export.to_json(finding, report.reproductions.get(finding.id))
    example = whole["example_case"]
    return {
        **{name: whole[name] for name in ("id", "kind", "signature", "standing", "known", "range", "range_exact",
                                         "outcomes", "units", "flaky_units", "reproduces", "repro")},
        "reach": finding.reach(),
        "cells_bad": sorted(finding.cells_bad),
        "cells_good": sorted(finding.cells_good),
        "targets": len(finding.targets),
        "example_case": None if example is None else {k: v for k, v in example.items() if k != "case"},
    }


def read_baseline(path: str | Path) -> dict[Key, str]:
    """{(target, property): status} of a compat.json written by an earlier run (schema 1 or 2)."""
    hint = "pass the compat.json an earlier `python -m harness report` wrote"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}; {hint}") from exc
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not JSON ({exc}); {hint}") from exc
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema not in READABLE:
        raise BaselineError(f"baseline {path} has schema {schema!r}, this harness reads schemas "
                            f"{', '.join(map(str, READABLE))}; {hint}, or rebuild it from that run's verdict files "
                            "with `python -m harness report`")
    if schema == 2 and not isinstance(data.get("properties"), list):
        raise BaselineError(f"baseline {path} lacks its 'properties' list; {hint}")
    statuses: dict[Key, str] = {}
    for number, target in enumerate(data.get("targets") or []):
        try:
            pairs = _statuses(target, data.get("properties")) if schema == 2 else \
                [(str(target["property"]), str(target["status"]))]
            parts = [str(target[part]) for part in Key._fields[:4]]
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"baseline {path}: targets[{number}] lacks {exc}; {hint}") from exc
        for prop, status in pairs:
            if status not in STATUSES:
                raise BaselineError(f"baseline {path}: targets[{number}] has unknown status {status!r}; {hint}")
            statuses[Key(*parts, prop)] = status
    return statuses


def _statuses(target: dict[str, Any], properties: list[Any]) -> list[tuple[str, str]]:
    """A schema-2 row's (property, status) pairs, its ``statuses`` read against the file's ``properties``."""
    found = target["statuses"]
    if not isinstance(found, list) or len(found) != len(properties):
        raise ValueError("'statuses' as long as the file's 'properties'")
    return [(str(prop), str(status)) for prop, status in zip(properties, found, strict=True) if status is not None]


def _signature(report: Report, signature: Signature) -> dict[str, Any]:
    error = signature.error
    return {
        "signature": signature.text,
        "counts": dict(signature.counts),
        "verdicts": signature.verdicts,
        "targets": len(signature.targets),
        "standing": signature.standing,
        "known": [{"id": ident, "link": report.expectation(ident).link, "reason": report.expectation(ident).reason,
                   "verdicts": count} for ident, count in sorted(signature.known.items())],
        "error": {"type": error.type, "message": error.message, "frame": error.frame} if error else None,
        **{name: signature.spread(part) for name, part in _SPREAD.items()},
        "examples": [{"case_id": v.case_id, "cell": v.cell, "arch": v.arch, "task": v.task, "method": v.method,
                      "property": v.property, "outcome": v.outcome, "repro": repro(v.cell, v.case_id)}
                     for v in signature.examples],
    }


#: compat.json field → Key part, for a signature's spread over cells, archs, …
_SPREAD = {"cells": "cell", "archs": "arch", "tasks": "task", "methods": "method", "properties": "property"}


def _diff(diff: Diff) -> dict[str, Any]:
    return {
        "baseline": diff.baseline,
        "counts": {category: len(diff.changes[category]) for category in CATEGORIES},
        "unchanged": diff.unchanged,
        "missing_cells": dict(diff.missing_cells),
        "changes": [{"category": category, **change.key._asdict(), "before": change.before, "after": change.after}
                    for category in CATEGORIES for change in diff.changes[category]],
    }
