"""What a resumed supervisor sends to its workers: only what the verdict file lacks, at the granularity it records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.matrix.cells import Profile
from harness.run.plan import Target
from harness.results import Verdict, case_id
from harness.writer import VerdictWriter
from harness.run.runner import Item, Supervisor, target_record_id

CELL = "py311-test"
PROPERTIES = ["forward", "generate-greedy"]
BUDGET = Profile("smoke", 1, 5.0, False, None)


def _case(n: int) -> dict[str, Any]:
    return {"arch": {"model_type": f"arch{n}", "task": "causal-lm"}, "method": {"method": "PROMPT_TUNING"},
            "call": {"n": n}}


def _verdict(case: dict[str, Any], prop: str, repetition: int = 0, **fields: Any) -> Verdict:
    return Verdict(case_id(case), CELL, {}, case["arch"]["model_type"], "causal-lm", "PROMPT_TUNING", prop, "pass",
                   case=case, repetition=repetition, **fields)


@pytest.fixture
def supervisor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Item]]:
    monkeypatch.setenv("PEFT_COMPAT_CELL", CELL)
    out = tmp_path / "v.jsonl"
    complete, partial = _case(0), _case(1)
    refused, finished, fresh = (Target("causal-lm", f"arch{i}", "PROMPT_TUNING") for i in range(3))
    with VerdictWriter(out, fresh=True) as writer:
        for prop in ["wrap", *PROPERTIES]:
            writer.write(_verdict(complete, prop, kind="pinned"))
        writer.write(_verdict(partial, "wrap", kind="pinned"))
        writer.write(Verdict(target_record_id(refused), CELL, {}, "arch0", "causal-lm", "PROMPT_TUNING", "wrap",
                             "unsupported", kind="target", case={"target": refused.to_json()}))
        writer.write(_verdict(_case(9), "wrap"))
        writer.mark_done(CELL, finished.key)
    items = [Item(case=complete, pinned=True), Item(case=partial, pinned=True), Item(target=refused),
             Item(target=finished), Item(target=fresh)]
    return out, items


def test_a_resume_sends_only_what_the_file_lacks(supervisor: tuple[Path, list[Item]]) -> None:
    out, items = supervisor
    with VerdictWriter(out) as writer:
        run = Supervisor(writer, 1, BUDGET, PROPERTIES, 0, None)
        pending = run._pending(items)
        assert [i.case_id for i in pending] == [items[1].case_id, items[4].case_id]
        partial = run._command(pending[0])
        assert partial["done"] == ["wrap"], "a partly judged case is judged only for the steps it lacks"
        target = run._command(pending[1])
    assert target["done"] == {}, "a target is told only of its own cases"
    assert run._command(Item(target=Target("causal-lm", "arch9", "PROMPT_TUNING")))["done"] == {
        case_id(_case(9)): ["wrap"]}


def test_flake_reruns_are_pending_until_their_own_repetition_is_on_file(supervisor: tuple[Path, list[Item]]) -> None:
    out, items = supervisor
    with VerdictWriter(out) as writer:
        rerun = Supervisor(writer, 1, BUDGET, PROPERTIES, 0, None, repetition=1)
        assert len(rerun._pending(items[:2])) == 2, "repetition 0 verdicts do not stand for a re-run"
        for prop in ["wrap", *PROPERTIES]:
            writer.write(_verdict(items[0].case or {}, prop, repetition=1))
        assert [i.case_id for i in rerun._pending(items[:2])] == [items[1].case_id], "the writer keeps it current"
    with VerdictWriter(out) as writer:
        again = Supervisor(writer, 1, BUDGET, PROPERTIES, 0, None, repetition=1)
        assert [i.case_id for i in again._pending(items[:2])] == [items[1].case_id]


def test_a_fresh_run_starts_the_file_anew(supervisor: tuple[Path, list[Item]]) -> None:
    out, items = supervisor
    with VerdictWriter(out, fresh=True) as writer:
        run = Supervisor(writer, 1, BUDGET, PROPERTIES, 0, None)
        assert len(run._pending(items)) == len(items)
