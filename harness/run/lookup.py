"""Finding the case a user names: a case JSON file, a finding id (its smallest example) or a case id, looked up in
verdict files (``repro`` and ``bisect`` both take one)."""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path
from typing import Any

from harness.results import BadLine, read_verdicts

#: what a finding id looks like (harness.findings.identity)
FINDING_ID = re.compile(r"F[0-9a-f]{8}")


def _files(sources: list[Path] | None, ref: str) -> list[Path]:
    files = sources or [Path(p) for p in sorted(glob.glob("reports/raw/*.jsonl")) if not p.endswith(".repro.jsonl")]
    if not files:
        raise ValueError(f"no verdict files to look {ref!r} up in: pass --from FILE, or run from the folder that "
                         "holds reports/raw/")
    return files


def find_case(ref: str, sources: list[Path] | None) -> dict[str, Any]:
    """The case JSON for ``ref``: a file path, or a finding or case id found in the verdict files."""
    return locate(ref, sources)[0]


def locate(ref: str, sources: list[Path] | None) -> tuple[dict[str, Any], list[str]]:
    """The case JSON for ``ref`` (a file path, a finding id or a case id found in the verdict files), and the
    properties to judge (a finding's one property; none said for a case)."""
    path = Path(ref)
    if path.suffix == ".json" or path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read a case JSON ({exc})") from exc
        return data.get("case", data), []
    files = _files(sources, ref)
    if FINDING_ID.fullmatch(ref):
        from harness.findings.cli import find, load

        problems: list[BadLine] = []
        try:
            example = find(load([str(f) for f in files], None, problems)[0], ref).example
        except LookupError as exc:
            raise ValueError(str(exc)) from exc
        if example is None:
            raise ValueError(f"finding {ref} has no replayable example case")
        return example.case, [example.property]
    problems = []
    for file in files:
        for verdict in read_verdicts(file, problems):
            if verdict.case_id == ref and "arch" in verdict.case:
                return verdict.case, []
    raise ValueError(f"case {ref!r} is in none of {', '.join(map(str, files))}")
