"""Whether a finding's standalone script reproduces it: the record of one verification, and where those live.

``cell`` writes one record per verified finding next to the verdict file (``NAME.repro.jsonl`` beside
``NAME.jsonl``); ``findings`` reads them back. A script reproduces only when it fails the way the finding does:
the same crash signature, or its own check of the property failing for a wrong answer, or running out of time for
a timeout. A script that dies of its own error, or exits 0, does not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Reproduction:
    finding: str
    cell: str
    case_id: str
    property: str
    reproduces: bool
    #: what the script showed: the signature it failed with, "exit 0", "timeout", or its own error
    observed: str
    exit_code: int
    #: the end of the script's output
    output: str
    script: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def sidecar(verdict_file: str | Path) -> Path:
    """The reproduction records that belong to a verdict file."""
    path = Path(verdict_file)
    return path.with_name(path.name.removesuffix(".jsonl") + ".repro.jsonl")


def write(records: list[Reproduction], verdict_file: str | Path) -> Path:
    path = sidecar(verdict_file)
    with path.open("a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
    return path


def read(verdict_files: list[Path]) -> dict[str, dict[str, Reproduction]]:
    """finding id → cell → its latest verification, from the sidecars of ``verdict_files`` (absent ones: none)."""
    found: dict[str, dict[str, Reproduction]] = {}
    for file in verdict_files:
        path = sidecar(file)
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = Reproduction(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a torn or foreign line: that verification is simply not known
            found.setdefault(record.finding, {})[record.cell] = record
    return found
