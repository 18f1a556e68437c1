"""compat.json: the machine-readable report (schema in compat.schema.json), its details file, and reading an
earlier one back as a baseline.

compat.json aggregates over cells: one row per target (arch, task, method) naming, per property, the pattern of its
statuses over the cells (see ``patterns``), detail (failure signatures, up to 3 failing cases) only for properties that
fail or are flaky somewhere, and one row per finding. What it leaves out is in compat.details.json beside it
(compat.details.schema.json): every (cell, target, property) with its own counts, and every finding whole (cell
versions, targets, example case, verifications), as ``findings --json`` gives it. compat.json so grows with the
targets and the distinct patterns, not with cells, cases and verdicts.

The next run's ``--baseline`` needs only ``schema``, ``cells``, ``properties``, ``patterns`` and each target's key
and ``statuses``; schema-1 files (one row per (cell, target, property)) and schema-2 files (one row per (cell,
target)) are read too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.findings import export
from harness.findings.build import Finding
from harness.report import patterns
from harness.report.diff import CATEGORIES, Diff
from harness.report.model import STATUSES, Failures, Key, Report, Signature, key_names, repro

SCHEMA = 3
#: the schemas ``read_baseline`` reads
READABLE = (1, 2, 3)
SCHEMA_FILE = Path(__file__).with_name("compat.schema.json")
DETAILS_SCHEMA_FILE = Path(__file__).with_name("compat.details.schema.json")
#: the details file, written beside compat.json
DETAILS = "compat.details.json"


class BaselineError(Exception):
    """A baseline that cannot be used; the message says which file and what to do."""


def to_json(report: Report, diff: Diff | None, generated: str) -> dict[str, Any]:
    table = patterns.encode(report.statuses)
    return {
        "schema": SCHEMA,
        "generated": generated,
        "details": DETAILS,
        "inputs": report.inputs,
        "totals": {
            "verdicts": report.verdicts,
            "targets": len(report.targets),
            "cases": sum(t.cases for t in report.targets.values()),
            "outcomes": dict(report.counts),
        },
        "unreadable": [{"path": b.path, "line": b.line, "problem": b.problem} for b in report.unreadable],
        "grid": [{"transformers": tf, "peft": peft, "cell": cell, "counts": dict(counts)}
                 for (tf, peft), cells in sorted(report.squares.items()) for cell, counts in sorted(cells.items())],
        "cells": list(table.cells),
        "properties": list(table.properties),
        "statuses": list(STATUSES),
        "patterns": list(table.patterns),
        "targets": _targets(report, table),
        "signatures": [_signature(report, s) for s in report.ranked_signatures()],
        "findings": [_finding(f, report) for f in report.findings],
        "flaky_cases": [{**key._asdict(), "case_id": case, "counts": dict(counts)}
                        for key, case, counts in report.flaky_cases],
        "diff": _diff(diff) if diff else None,
    }


#: what each row of the details file's ``targets`` holds, in order (the first five are indices into ``names``)
DETAIL_COLUMNS = (*Key._fields, "status", "counts", "flaky_cases", "signatures", "bad_cases")


def details_json(report: Report, generated: str) -> dict[str, Any]:
    """compat.details.json: what compat.json aggregates away. One array per (cell, target, property), its key parts
    and signatures as indices (``DETAIL_COLUMNS``), so the file stays a few dozen bytes per row."""
    names, index = key_names(report.targets)
    signatures = sorted(report.signatures)
    sig_index = {text: i for i, text in enumerate(signatures)}
    return {
        "schema": SCHEMA,
        "generated": generated,
        "names": names,
        "signatures": signatures,
        "columns": list(DETAIL_COLUMNS),
        "targets": [[*(index[part][value] for part, value in zip(Key._fields, key, strict=True)),
                     report.statuses[key], dict(target.counts), len(target.flaky_cases),
                     [sig_index[text] for text in target.ranked_signatures()], target.bad]
                    for key, target in sorted(report.targets.items())],
        "findings": [export.to_json(f, report.reproductions.get(f.id)) for f in report.findings],
    }


def _targets(report: Report, table: patterns.Table) -> list[dict[str, Any]]:
    """One row per (arch, task, method): per property (in ``properties`` order) the index of its pattern, and the
    failures of each property that fails or is flaky in some cell (the per-cell counts are in the details file)."""
    failures = report.failures
    rows = []
    for (arch, task, method), indices in zip(table.rows, table.indices, strict=True):
        row: dict[str, Any] = {"arch": arch, "task": task, "method": method, "statuses": list(indices)}
        bad = {prop: _bad(failures[arch, task, method, prop]) for prop in table.properties
               if (arch, task, method, prop) in failures}
        if bad:
            row["bad"] = bad
        rows.append(row)
    return rows


def _bad(failures: Failures) -> dict[str, Any]:
    detail: dict[str, Any] = {"cells": failures.cells, "signatures": failures.signatures,
                              "cases": [{"cell": cell, "case_id": case, "repro": repro(cell, case)}
                                        for cell, case in failures.cases]}
    if failures.flaky_cases:
        detail["flaky_cases"] = failures.flaky_cases
    return detail


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
    """{(cell, target, property): status} of a compat.json written by an earlier run (schema 1, 2 or 3)."""
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
    needs = {2: ("properties",), 3: ("cells", "properties", "patterns")}.get(schema, ())
    for name in needs:
        if not isinstance(data.get(name), list):
            raise BaselineError(f"baseline {path} lacks its {name!r} list; {hint}")
    if schema == 3:
        return _patterned(data, path, hint)
    statuses: dict[Key, str] = {}
    for number, target in enumerate(data.get("targets") or []):
        try:
            pairs = _statuses(target, data["properties"]) if schema == 2 else \
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


def _patterned(data: dict[str, Any], path: str | Path, hint: str) -> dict[Key, str]:
    """A schema-3 file's statuses, decoded from its patterns (its ``statuses`` list must be this harness's)."""
    if data.get("statuses") != list(STATUSES):
        raise BaselineError(f"baseline {path} codes its patterns with statuses {data.get('statuses')!r}, this "
                            f"harness with {list(STATUSES)!r}; {hint}")
    try:
        rows = [(str(t["arch"]), str(t["task"]), str(t["method"])) for t in data.get("targets") or []]
        indices = [list(t["statuses"]) for t in data.get("targets") or []]
        return patterns.decode([str(c) for c in data["cells"]], [str(p) for p in data["properties"]],
                               [str(p) for p in data["patterns"]], rows, indices)
    except (KeyError, TypeError) as exc:
        raise BaselineError(f"baseline {path}: a target lacks {exc}; {hint}") from exc
    except patterns.PatternError as exc:
        raise BaselineError(f"baseline {path}: {exc}; {hint}") from exc


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
