"""The import verdicts that back matrix.yaml's exclusions: a cross is left out of the nightly only because a run in
it recorded that its transformers and peft cannot be imported together (``harness/data/imports/<cell>.jsonl``,
written by ``python -m harness run --cell <cell> --out harness/data/imports/<cell>.jsonl`` in that environment)."""

from __future__ import annotations

from pathlib import Path

from harness.results import Verdict, read_verdicts

IMPORTS_DIR = Path(__file__).parents[1] / "data" / "imports"


def recorded(cell: str, folder: Path = IMPORTS_DIR) -> Verdict | None:
    """The recorded ``import`` verdict of ``cell`` (None when there is none, or the file holds something else)."""
    path = folder / f"{cell}.jsonl"
    if not path.is_file():
        return None
    found = [v for v in read_verdicts(path, problems=[]) if v.kind == "import" and v.cell == cell]
    return found[-1] if found else None


def backing(cell: str, folder: Path = IMPORTS_DIR) -> str:
    """One line saying what backs the exclusion of ``cell``, or what to do when nothing does."""
    verdict = recorded(cell, folder)
    if verdict is None:
        return (f"no recorded import verdict: run `python -m harness run --cell {cell} --out "
                f"harness/data/imports/{cell}.jsonl` in that environment")
    v = verdict.versions
    versions = f"transformers {v.get('transformers')}, peft {v.get('peft')}"
    return f"recorded {verdict.outcome} ({versions}): {verdict.signature}"
