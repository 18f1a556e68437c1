"""compat.json: the machine-readable report (schema in compat.schema.json), and reading one back as a baseline.

The next run's ``--baseline`` needs only ``schema`` and each target's key and ``status``; the rest (counts,
signatures, flaky cases, the diff) is there for bots and dashboards.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.findings import export
from harness.report.diff import CATEGORIES, Diff
from harness.report.model import STATUSES, Key, Report, Signature, Target, repro

SCHEMA = 1
SCHEMA_FILE = Path(__file__).with_name("compat.schema.json")


class BaselineError(Exception):
    """A baseline that cannot be used; the message says which file and what to do."""


def to_json(report: Report, diff: Diff | None, generated: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "generated": generated,
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
        "targets": [_target(t) for _, t in sorted(report.targets.items())],
        "signatures": [_signature(report, s) for s in report.ranked_signatures()],
        "findings": [export.to_json(f, report.reproductions.get(f.id)) for f in report.findings],
        "flaky_cases": [{**key._asdict(), "case_id": case, "counts": dict(counts), "repro": repro(key.cell, case)}
                        for key, case, counts in report.flaky_cases()],
        "diff": _diff(diff) if diff else None,
    }


def read_baseline(path: str | Path) -> dict[Key, str]:
    """{target: status} of a compat.json written by an earlier run."""
    hint = "pass the compat.json an earlier `python -m harness report` wrote"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}; {hint}") from exc
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not JSON ({exc}); {hint}") from exc
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema != SCHEMA:
        raise BaselineError(f"baseline {path} has schema {schema!r}, this harness reads schema {SCHEMA}; {hint}, "
                            "or rebuild it from that run's verdict files with `python -m harness report`")
    statuses: dict[Key, str] = {}
    for number, target in enumerate(data.get("targets") or []):
        try:
            key = Key(*(str(target[part]) for part in Key._fields))
            status = str(target["status"])
        except (KeyError, TypeError) as exc:
            raise BaselineError(f"baseline {path}: targets[{number}] lacks {exc}; {hint}") from exc
        if status not in STATUSES:
            raise BaselineError(f"baseline {path}: targets[{number}] has unknown status {status!r}; {hint}")
        statuses[key] = status
    return statuses


def _target(target: Target) -> dict[str, Any]:
    return {
        **target.key._asdict(),
        "status": target.status,
        "counts": dict(target.counts),
        "cases": len(target.cases),
        "flaky_cases": len(target.flaky_cases),
        "signatures": [text for text, _ in target.signatures.most_common()],
        "bad_cases": target.bad_cases(),
    }


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
