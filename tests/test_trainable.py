"""trainable-set and geometry-inferred: each holds on the real peft model and catches its broken stand-in."""

from __future__ import annotations

import pytest

import stand_ins as S
from harness.archs.spec import ArchSpec
from harness.calls import CallSpec
from harness.cases import Case
from harness.run.execute import run_case
from harness.methods.wrap import MethodSpec, WrapResult
from harness.oracles import properties_named
from harness.oracles.base import Trial
from test_oracles import LLAMA, TIMEOUT_S

LLAMA_CLS = ArchSpec("llama", "seq-cls", {**LLAMA.overrides, "num_labels": 3}, seed=7, vocab=128)
PROMPT = MethodSpec("PROMPT_TUNING", {"num_virtual_tokens": 4, "prompt_tuning_init": "RANDOM"}, perturb_seed=5)
CASE = Case(LLAMA_CLS, PROMPT, CallSpec(batch=2, length=5, seed=11))


def _verdicts(case: Case, prop: str, hook: object = None) -> dict:
    """The verdicts by property; skips the test where the installed peft cannot wrap the case at all (peft 0.13's
    classification wrap crash, expectation peft-2246): nothing trains there to judge."""
    verdicts = {v.property: v for v in run_case(case, properties_named([prop]), TIMEOUT_S, hook=hook)}  # type: ignore[arg-type]
    if verdicts["wrap"].outcome != "pass":
        pytest.skip(f"this peft does not wrap {case.arch.task} {case.arch.model_type}: {verdicts['wrap'].signature}")
    return verdicts


def _swap(stand_in: type):  # type: ignore[no-untyped-def]
    def hook(trial: Trial) -> None:
        trial.model = stand_in(trial.model)

    return hook


@pytest.mark.parametrize("stand_in", [S.FreezesHeadCopy, S.ThawsBaseParameter])
def test_trainable_set_catches_a_frozen_head_and_a_thawed_base(stand_in: type) -> None:
    assert _verdicts(CASE, "trainable-set")["trainable-set"].outcome == "pass"
    assert _verdicts(CASE, "trainable-set", _swap(S.Faithful))["trainable-set"].outcome == "pass"
    verdict = _verdicts(CASE, "trainable-set", _swap(stand_in))["trainable-set"]
    assert verdict.outcome == "fail", verdict


def test_trainable_set_names_the_promised_head() -> None:
    verdict = _verdicts(CASE, "trainable-set", _swap(S.FreezesHeadCopy))["trainable-set"]
    assert "score" in verdict.signature, verdict.signature


def test_trainable_set_leaves_the_model_as_it_was() -> None:
    """The step is undone: the property may run before others without changing what they see."""
    seen: dict = {}

    def keep(trial: Trial) -> None:
        seen["trial"] = trial
        seen["before"] = {n: p.detach().clone() for n, p in trial.model.named_parameters()}

    assert _verdicts(CASE, "trainable-set", keep)["trainable-set"].outcome == "pass"
    after = dict(seen["trial"].model.named_parameters())
    assert all(bool((after[n] == p).all()) for n, p in seen["before"].items())


def test_geometry_inferred_reports_the_refusal_while_the_case_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """When peft cannot infer the geometry the property is rejected with peft's message, and the other properties
    still run on the model wrapped with explicit values."""
    import harness.oracles.base as base

    real_wrap = base.wrap

    def refusing(built, spec):  # type: ignore[no-untyped-def]
        result: WrapResult = real_wrap(built, spec)
        result.geometry = "explicit"
        result.inference_error = ValueError("Please specify `num_layers` in `peft_config`")
        return result

    case = Case(LLAMA, PROMPT, CallSpec(batch=2, length=5, seed=11))
    assert _verdicts(case, "geometry-inferred")["geometry-inferred"].outcome == "pass"
    monkeypatch.setattr(base, "wrap", refusing)
    verdicts = {v.property: v for v in run_case(case, properties_named(["geometry-inferred", "forward"]), TIMEOUT_S)}
    assert verdicts["geometry-inferred"].outcome == "rejected", verdicts["geometry-inferred"]
    assert "num_layers" in verdicts["geometry-inferred"].reason
    assert verdicts["forward"].outcome == "pass"
