"""Speed work changes where the time goes, never a verdict: the cases of a recorded run (one file per installed
version pair; its ``recorded`` field says when) get, verdict for verdict, the same outcome and signature when the
supervisor replays them through today's workers. First recorded before the warm workers (commit c605c75) and held
through them; recorded again when the issue-12 oracles changed what some properties judge (adapter-matters no longer
crashes on outputs of different lengths, empty-cache covers every cache class), so that it guards the speed work
from there on; and once more when generate-options began to check that each sequence starts with its prompt (two
cases whose positional ids peft drops) and padding-invariance to refill a base model's padding."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from harness.matrix.cells import load_matrix
from harness.oracles import PROPERTIES
from harness.results import read_verdicts
from harness.run.runner import Item, Supervisor
from harness.versions import installed
from harness.writer import VerdictWriter

RECORDED = Path(__file__).parent / "data" / "same_seed"


def _recorded() -> dict[str, Any]:
    v = installed()
    path = RECORDED / f"transformers{v['transformers']}-peft{v['peft']}.json.gz"
    if not path.exists():
        pytest.skip(f"no run recorded for transformers {v['transformers']} + peft {v['peft']} in {RECORDED}")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        recorded: dict[str, Any] = json.load(f)
    return recorded


def test_recorded_cases_get_the_recorded_verdicts(tmp_path: Path) -> None:
    recorded = _recorded()
    out = tmp_path / "v.jsonl"
    with VerdictWriter(out, fresh=True) as writer:
        supervisor = Supervisor(writer, 2, load_matrix().profile("default"), list(PROPERTIES), 7, None,
                                stream=io.StringIO())
        supervisor.run([Item(case=case) for case in recorded["cases"]])
    got = sorted([v.case_id, v.property, v.outcome, v.signature] for v in read_verdicts(out))
    assert len(got) == len(recorded["verdicts"]) > 100
    assert got == recorded["verdicts"]
