"""Judging a run's file: a judgement that adds what the file gained equals judging the whole file afresh, and the
flake check's cases depend on the verdicts, not on their order in the file."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.expectations import Expectation
from harness.judging import Judging, judge_files, new_failure_cases, summary
from harness.results import OUTCOMES, ErrorInfo, Verdict
from harness.writer import VerdictWriter

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
RULE = Expectation("known-1", {"cell": ("*",)}, {}, "sig1", "a known bug", "https://example.org/1")


def _known(cells: set[str]) -> list[Expectation]:
    return [RULE]


@st.composite
def verdicts(draw: st.DrawFn, repetition: int = 0) -> Verdict:
    """A verdict of one of a few cases, properties and signatures; bad ones carry an error."""
    case = draw(st.integers(0, 5))
    outcome = draw(st.sampled_from(OUTCOMES))
    signature = draw(st.sampled_from(["sig0", "sig1", "sig2"])) if outcome in ("fail", "crash", "timeout") else ""
    return Verdict(
        case_id=f"case{case}", cell="py311-tf4.45", versions={"transformers": "4.45.2", "peft": "0.13.2"},
        arch=f"arch{case % 3}", task="causal-lm", method="PREFIX_TUNING",
        property=draw(st.sampled_from(["wrap", "forward", "generate-greedy"])), outcome=outcome,
        signature=signature, error=ErrorInfo("TypeError", signature) if signature else None,
        case={"arch": {"model_type": f"arch{case % 3}"}, "n": case}, repetition=repetition)


def _write(path: Path, drawn: list[Verdict]) -> None:
    with VerdictWriter(path) as writer:
        for v in drawn:
            writer.write(v)


@SETTINGS
@given(st.lists(verdicts(), max_size=30), st.lists(verdicts(repetition=1), max_size=15))
def test_a_judgement_that_adds_the_reruns_equals_judging_the_whole_file(tmp_path: Path, first: list[Verdict],
                                                                       reruns: list[Verdict]) -> None:
    path = tmp_path / "v.jsonl"
    path.unlink(missing_ok=True)
    judging = Judging([path], _known)
    _write(path, first)
    judging.judge()
    _write(path, reruns)
    again, afresh = judging.judge(), judge_files([path], _known)
    assert summary(again) == summary(afresh) and again.exit_code == afresh.exit_code
    assert again.ledger == afresh.ledger
    assert [(f.id, f.kind, f.units) for f in again.findings] == [(f.id, f.kind, f.units) for f in afresh.findings]


@SETTINGS
# one verdict per (case, property), as a run writes them (the writer keeps the first of a key, so two verdicts of one
# key in two orders would be two different files)
@given(st.lists(verdicts(), max_size=30, unique_by=lambda v: (v.case_id, v.property)),
       st.randoms(use_true_random=False), st.integers(1, 3))
def test_the_flake_check_re_runs_the_same_cases_whatever_the_order_of_the_file(
        tmp_path: Path, drawn: list[Verdict], order: object, limit: int) -> None:
    """Workers finish in any order, so a file's order is not the seed's: the re-run cases must not depend on it."""
    shuffled = list(drawn)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    chosen = []
    for name, verdict_list in (("a", drawn), ("b", shuffled)):
        path = tmp_path / f"{name}.jsonl"
        path.unlink(missing_ok=True)
        _write(path, verdict_list)
        chosen.append(sorted(v.case_id for v in new_failure_cases(judge_files([path], _known), limit)))
    assert chosen[0] == chosen[1]
    new = {v.signature for v in drawn if v.signature and v.signature != "sig1" and not v.repetition}
    assert len(chosen[0]) <= min(limit, len(new))
