"""The nightly plan: every job fits its budget, the whole matrix fits GitHub's limits, and measured per-target costs
decide the shards (each shard's own cost, not an average)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import cli
from harness.matrix import jobplan
from harness.matrix.cells import load_matrix
from harness.matrix.slicing import GITHUB_MAX_JOBS

MATRIX = load_matrix()
NIGHTLY = MATRIX.profile("nightly")


def test_the_shipped_nightly_plan_fits_githubs_limits(capsys: pytest.CaptureFixture[str]) -> None:
    planned = jobplan.plan(MATRIX.cells, NIGHTLY, MATRIX.jobs, {})
    budget = MATRIX.jobs
    assert budget.minutes <= 350 and budget.max_jobs <= GITHUB_MAX_JOBS
    for cost, count in planned.values():
        assert max(jobplan.shard_seconds(cost, count)) <= budget.case_seconds
    assert cli.main(["matrix", "--nightly", "--github"]) == 0
    jobs = json.loads(capsys.readouterr().out)["include"]
    assert len(jobs) == sum(count for _, count in planned.values()) <= GITHUB_MAX_JOBS
    assert cli.main(["matrix", "--nightly", "--cost"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("runner-hours")


@given(costs=st.dictionaries(st.text(min_size=1, max_size=12), st.floats(1, 30_000), min_size=1, max_size=80))
def test_measured_shards_each_fit_and_are_the_fewest_that_do(costs: dict[str, float]) -> None:
    budget = MATRIX.jobs
    cost = jobplan.CellCost("c", len(costs), sum(costs.values()), costs)
    count = jobplan.shards_needed(cost, budget)
    seconds = jobplan.shard_seconds(cost, count)
    assert max(seconds) <= budget.case_seconds
    assert sum(seconds) == pytest.approx(cost.seconds)
    assert count == 1 or max(jobplan.shard_seconds(cost, count - 1)) > budget.case_seconds


def test_a_target_bigger_than_a_job_is_refused_with_what_to_change() -> None:
    cost = jobplan.CellCost("c", 1, 1e9, {"t:a:m": 1e9})
    with pytest.raises(ValueError, match="raise jobs.minutes"):
        jobplan.shards_needed(cost, MATRIX.jobs)


def test_costs_come_from_the_verdicts_when_given(tmp_path: Path) -> None:
    """Two cases of a wrapping target (1 s and 3 s) cost the mean x the profile's examples x the harness factor; a
    target whose wrap never passed costs one case."""
    cell = MATRIX.pairings[0]
    lines = [
        {"case_id": "a", "property": "wrap", "outcome": "pass", "duration_s": 1.0},
        {"case_id": "b", "property": "wrap", "outcome": "pass", "duration_s": 3.0},
        {"case_id": "c", "property": "wrap", "outcome": "crash", "duration_s": 2.0, "method": "P_TUNING"},
    ]
    path = tmp_path / "v.jsonl"
    path.write_text("".join(json.dumps(_verdict(cell.name, **line)) + "\n" for line in lines))
    measured = jobplan.measured_costs([tmp_path], NIGHTLY, MATRIX.jobs)
    factor = MATRIX.jobs.harness_factor
    assert measured[cell.name] == pytest.approx({"causal-lm:llama:PREFIX_TUNING": 2.0 * NIGHTLY.max_examples * factor,
                                                 "causal-lm:llama:P_TUNING": 2.0 * factor})
    cost = jobplan.cell_cost(cell, NIGHTLY, MATRIX.jobs, measured)
    assert cost.measured and cost.targets == 2
    other = jobplan.cell_cost(MATRIX.pairings[1], replace(NIGHTLY, max_targets=7), MATRIX.jobs, measured)
    assert not other.measured and other.targets == 7


def _verdict(cell: str, **fields: object) -> dict[str, object]:
    base = {"case_id": "", "cell": cell, "versions": {}, "arch": "llama", "task": "causal-lm",
            "method": "PREFIX_TUNING", "property": "wrap", "outcome": "pass", "case": {"arch": {}}}
    return {**base, **fields}
