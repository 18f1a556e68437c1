"""Properties of the tiny-model strategies: every drawn config builds, runs, stays small, and is reproducible."""

from __future__ import annotations

import copy
import json
import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.archs import layerlists, zoo
from harness.archs.build import MAX_PARAMS, Built, arch_config, build, forward, sample_inputs
from harness.archs.families import arch_record
from harness.archs.inputs import forward_parameters
from harness.archs.spec import RESERVED_IDS, ArchSpec
from harness.archs.strategies import Unbuildable, arch_spec
from harness.archs.tasks import TASKS, model_types
from harness.draw import draw

# Building a model per example trips hypothesis's deadline and too_slow checks; the zoo guards time instead.
# Four examples per type: the simplest draw plus three random ones (more only lengthens CI, see the zoo for one
# draw of every type and the survey in the report for several).
SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)

CASES = [(t, mt) for t in TASKS for mt in model_types(t)]


def _strategy_or_skip(model_type: str, task: str) -> st.SearchStrategy[ArchSpec]:
    """The strategy, or a skip carrying the recorded reason the type cannot be drawn here."""
    try:
        return arch_spec(model_type, task)
    except Unbuildable as exc:
        pytest.skip(f"unsupported: {exc}")


def _build_or_skip(spec: ArchSpec) -> Built:
    """The built model, or a skip naming the optional package its family needs (any other failure fails)."""
    try:
        return build(spec)
    except ImportError as exc:
        missing = zoo.missing_package(exc)
        if missing is None:
            raise
        pytest.skip(f"missing-package: {missing}")


def _first_tensor(out: object) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else next(v for v in out.values() if isinstance(v, torch.Tensor))


@pytest.mark.slow
@pytest.mark.parametrize(("task", "model_type"), CASES, ids=[f"{t}:{mt}" for t, mt in CASES])
def test_every_drawn_config_builds_and_runs_within_bounds(task: str, model_type: str) -> None:
    """Every draw builds, stays under MAX_PARAMS and runs one forward with finite outputs."""
    strategy = _strategy_or_skip(model_type, task)

    @SETTINGS
    @given(strategy)
    def check(spec: ArchSpec) -> None:
        built = _build_or_skip(spec)
        assert built.n_params <= MAX_PARAMS
        out = forward(built, sample_inputs(spec, built.config))
        assert torch.isfinite(_first_tensor(out)).all(), "a freshly initialised tiny model gave non-finite outputs"

    check()


@pytest.mark.parametrize("seed", [0, 1, 2**31 - 1])
@pytest.mark.parametrize(("task", "model_type"), [("causal-lm", "llama"), ("seq2seq-lm", "t5"), ("seq-cls", "bert")])
def test_drawing_and_building_are_deterministic_for_a_seed(task: str, model_type: str, seed: int) -> None:
    """Same seed → same spec → same weights; and the spec survives a JSON round trip."""
    strategy = arch_spec(model_type, task)
    first, second = draw(strategy, seed), draw(strategy, seed)
    assert first == second
    assert ArchSpec.from_json(json.loads(json.dumps(first.to_json()))) == first
    a, b = build(first).model.state_dict(), build(second).model.state_dict()
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
            assert 0 <= value < RESERVED_IDS <= spec.vocab


_KINDS = st.sampled_from(["full_attention", "sliding_attention", "mamba", "conv"])


@given(st.lists(_KINDS, min_size=1, max_size=40), st.data())
def test_shrunk_kind_lists_keep_every_kind_at_the_drawn_depth(value: list[str], data: st.DataObject) -> None:
    """A per-layer list shrunk to a depth that can hold its kinds has that depth (or its own length, if shorter)
    and all of its kinds, and differs from its head only where a missing kind had to go."""
    kinds = layerlists.distinct(value)
    layers = data.draw(st.integers(len(kinds), len(kinds) + 3))
    shrunk = layerlists.shrink_kinds(value, layers)
    assert len(shrunk) == min(layers, len(value))
    assert set(shrunk) == set(kinds)
    missing = set(kinds) - set(value[:layers])
    assert sum(a != b for a, b in zip(shrunk, value, strict=False)) == len(missing)
    assert layerlists.shrink_kinds("".join(k[0] for k in value), layers) == "".join(k[0] for k in shrunk)


@given(st.one_of(st.none(), st.lists(st.integers(0, 60), max_size=8)), st.integers(1, 4))
def test_shrunk_index_lists_name_existing_layers(value: list[int] | None, layers: int) -> None:
    """Kept indices exist at the drawn depth, none is invented while one survives, and a list that named layers
    (or a default that names none) still names one."""
    shrunk = layerlists.shrink_indices(value, layers)
    assert all(0 <= i < layers for i in shrunk)
    kept = [i for i in value or () if i < layers]
    assert shrunk == (kept or ([layers - 1] if value is None or value else []))


def test_a_causal_lm_head_on_an_encoder_family_runs_as_a_decoder() -> None:
    """BERT's causal-LM head attends causally only when its config says it is a decoder."""
    spec = draw(arch_spec("bert", "causal-lm"), 0)
    assert spec.overrides["is_decoder"] is True
    assert "is_decoder" not in draw(arch_spec("bert", "seq-cls"), 0).overrides


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_parts_of_a_composite_share_one_vocabulary(seed: int) -> None:
    """An encoder-decoder's halves read the same token ids, so they take the same vocabulary as the spec's."""
    if "encoder-decoder" not in model_types("seq2seq-lm"):
        pytest.skip("no generic encoder-decoder in this transformers")
    spec = draw(arch_spec("encoder-decoder", "seq2seq-lm"), seed)
    assert spec.overrides["encoder"]["vocab_size"] == spec.overrides["decoder"]["vocab_size"] == spec.vocab


@pytest.mark.parametrize(("task", "model_type"), [("seq2seq-lm", "encoder-decoder"), ("causal-lm", "blt")])
def test_building_leaves_the_spec_as_drawn(task: str, model_type: str) -> None:
    """Configs that fill in the sub-config dicts they are given do not change the spec (it is replayed as JSON)."""
    if model_type not in model_types(task):
        pytest.skip(f"no {model_type} in this transformers")
    spec = draw(arch_spec(model_type, task), 0)
    before = copy.deepcopy(spec.overrides)
    build(spec)
    assert spec.overrides == before


@pytest.mark.parametrize("task", ["seq-cls", "feature-extraction"])
def test_inputs_are_only_those_the_forward_names(task: str) -> None:
    """FNet mixes tokens with a Fourier transform and takes no attention mask: none is passed."""
    spec = draw(arch_spec("fnet", task), 0)
    inputs = sample_inputs(spec, arch_config(spec))
    assert "attention_mask" not in inputs and set(inputs) <= forward_parameters(task, "fnet")


def test_every_applicable_gate_is_the_reason_its_types_are_unsupported() -> None:
    """A gate that holds for the installed transformers makes arch_spec refuse the type, with the gate's reason."""
    gated = [(t, mt, arch_record(mt).unsupported_reason(t)) for t in TASKS for mt in model_types(t)]
    gated = [(t, mt, reason) for t, mt, reason in gated if reason]
    if not gated:
        pytest.skip("no gate applies to this transformers")
    for task_name, model_type, reason in gated:
        with pytest.raises(Unbuildable, match=re.escape(reason)):
            arch_spec(model_type, task_name)


def _raised_from(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(("exc", "expected"), [
    (ImportError("LayoutLMv2Model requires the detectron2 library but it was not found"), "needs detectron2"),
    (ModuleNotFoundError("No module named 'sentencepiece'", name="sentencepiece"), "needs sentencepiece"),
    (_raised_from(ModuleNotFoundError("Could not import module 'LlamaForCausalLM'"),
                  ImportError("GemmaTokenizer requires the protobuf library")), "needs protobuf"),
    (_raised_from(ModuleNotFoundError("Could not import module 'LlamaForCausalLM'"),
                  RuntimeError("operator torchvision::nms does not exist")), None),
])
def test_only_a_named_missing_package_is_reported_as_one(exc: BaseException, expected: str | None) -> None:
    """A broken install (an import failing for another reason) is an error to show, not a package to install."""
    assert zoo.missing_package(exc) == expected


def test_unknown_architecture_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a causal-lm architecture.*python -m harness zoo"):
        arch_spec("no-such-model", "causal-lm")


def test_unknown_task_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown task 'translation': choose one of"):
        model_types("translation")


def test_every_discovered_type_gets_a_zoo_row_with_a_status() -> None:
    rows = zoo.build_all(["question-answering"])
    assert [r.model_type for r in rows] == list(model_types("question-answering"))
    assert all(r.status == "ok" or r.reason for r in rows)
