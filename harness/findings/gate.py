"""Which findings fail a run: by default every new one (no expectation explains it); with ``regressions``, only
the new ones that are regressions or that the baseline did not have. A harness gap, a flaky finding or a deprecation
never fails the run, and neither does a finding expectations.yaml explains in full."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Literal

from harness.findings.build import Finding

FailOn = Literal["new", "regressions"]
FAIL_ON: tuple[FailOn, ...] = ("new", "regressions")
#: kinds that are never a failure of the pair
EXCUSED = ("harness gap", "flaky", "deprecation")


def failing(findings: Iterable[Finding], fail_on: FailOn = "new",
            baseline: Collection[str] | None = None) -> list[Finding]:
    """The findings that make the run exit 1. ``baseline``: the finding ids of an earlier run (None: no baseline,
    so with ``regressions`` only the regressions fail)."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on {fail_on!r}: choose one of {', '.join(FAIL_ON)}")
    out = []
    for finding in findings:
        if finding.kind in EXCUSED or finding.standing == "known":
            continue
        if fail_on == "new" or finding.kind == "regression" or (baseline is not None and finding.id not in baseline):
            out.append(finding)
    return out


def baseline_ids(path: str | Path) -> set[str]:
    """The finding ids of an earlier run's compat.json (``findings[].id``); a file without them is an error that
    says how to make one."""
    hint = "pass the compat.json an earlier `python -m harness report` wrote (one with a findings list)"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read baseline {path} ({exc}); {hint}") from exc
    found = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(found, list) or not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in found):
        raise ValueError(f"baseline {path} has no findings list; {hint}")
    return {f["id"] for f in found}
