"""Properties of the tiny-model strategies: every drawn config builds, runs, stays small, and is reproducible."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.archs import build as B
from harness.archs import zoo
from harness.archs.strategies import ArchSpec, Unbuildable, arch_spec
from harness.archs.tasks import TASKS, discover
from harness.draw import draw

# Building a model per example trips hypothesis's deadline and too_slow checks; the zoo guards time instead.
SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)

CASES = [(t, mt) for t in TASKS for mt in discover(t)]


def _usable_or_skip(model_type: str, task: str) -> st.SearchStrategy[ArchSpec]:
    """The strategy, or a skip carrying the recorded reason the type cannot be drawn or needs a missing package."""
    try:
        strategy = arch_spec(model_type, task)
    except Unbuildable as exc:
        pytest.skip(f"unsupported: {exc}")
    row = zoo.survey_one(model_type, task)
    if row.status == "missing-package":
        pytest.skip(row.reason)
    return strategy


@pytest.mark.slow
@pytest.mark.parametrize(("task", "model_type"), CASES, ids=[f"{t}:{mt}" for t, mt in CASES])
def test_every_drawn_config_builds_and_runs_within_bounds(task: str, model_type: str) -> None:
    """Every draw builds, stays under MAX_PARAMS and runs one forward with finite outputs."""
    strategy = _usable_or_skip(model_type, task)

    @SETTINGS
    @given(strategy)
    def check(spec: ArchSpec) -> None:
        built = B.build(spec)
        assert built.n_params <= B.MAX_PARAMS
        out = B.forward(built, B.sample_inputs(spec, built.config))
        first = out[0] if isinstance(out, tuple) else next(iter(out.values()))
        assert torch.isfinite(first).all(), "a freshly initialised tiny model produced non-finite outputs"

    check()


@pytest.mark.parametrize("seed", [0, 1, 2**31 - 1])
@pytest.mark.parametrize(("task", "model_type"), [("causal-lm", "llama"), ("seq2seq-lm", "t5"), ("seq-cls", "bert")])
def test_drawing_and_building_are_deterministic_for_a_seed(task: str, model_type: str, seed: int) -> None:
    """Same seed → same spec → same weights; and the spec survives a JSON round trip."""
    strategy = arch_spec(model_type, task)
    first, second = draw(strategy, seed), draw(strategy, seed)
    assert first == second
    assert ArchSpec.from_json(json.loads(json.dumps(first.to_json()))) == first
    a, b = B.build(first).model.state_dict(), B.build(second).model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@given(data=st.data())
@settings(max_examples=20, deadline=None, database=None)
def test_geometry_is_consistent(data: st.DataObject) -> None:
    """Heads are a multiple of kv heads, layers stay in 1..2, special ids stay below the text range."""
    spec = data.draw(arch_spec("llama", "causal-lm"))
    o = spec.overrides
    assert o["num_attention_heads"] % o["num_key_value_heads"] == 0
    assert 1 <= o["num_hidden_layers"] <= 2
    assert o["vocab_size"] <= 256
    for key, value in o.items():
        if key.endswith("_token_id") and value is not None:
            assert 0 <= value < 16 <= spec.vocab


def test_unknown_architecture_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a causal-lm architecture.*python -m harness zoo"):
        arch_spec("no-such-model", "causal-lm")


def test_unknown_task_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown task 'translation': choose one of"):
        discover("translation")


def test_every_discovered_type_gets_a_zoo_row_with_a_status() -> None:
    rows = zoo.survey(["question-answering"])
    assert [r.model_type for r in rows] == list(discover("question-answering"))
    assert all(r.status == "ok" or r.reason for r in rows)
