"""Each oracle passes on the real peft model and on a faithful stand-in, and catches its deliberately broken one."""

from __future__ import annotations

import dataclasses

import pytest
import transformers

import stand_ins as S
from harness.archs.spec import ArchSpec
from harness.calls import CallSpec, GenerateSpec
from harness.cases import Case
from harness.run.execute import run_case
from harness.methods.wrap import MethodSpec
from harness.oracles import properties_named
from harness.oracles.base import Trial

TIMEOUT_S = 60.0


#: a plain multi-head llama (the oracles' subject here, not the zoo's: fixed so every test sees the same model)
LLAMA = ArchSpec("llama", "causal-lm", {
    "hidden_size": 32, "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 16, "num_hidden_layers": 2,
    "intermediate_size": 32, "vocab_size": 128, "max_position_embeddings": 128, "pad_token_id": 0,
    "bos_token_id": 1, "eos_token_id": 2,
}, seed=7, vocab=128)


def _case(method: str, options: dict, length: int = 5) -> Case:
    arch = LLAMA
    call = CallSpec(batch=2, length=length, mask="ones", split=2, seed=11,
                    generate=GenerateSpec(max_new_tokens=4, split=2))
    return Case(arch, MethodSpec(method, options, perturb_seed=5), call)


ADAPTION = _case("ADAPTION_PROMPT", {"adapter_len": 3, "adapter_layers": 1})


def _outcome(case: Case, prop: str, stand_in: type | None) -> str:
    def swap(trial: Trial) -> None:
        if stand_in is not None:
            trial.model = stand_in(trial.model)

    verdicts = {v.property: v for v in run_case(case, properties_named([prop]), TIMEOUT_S, hook=swap)}
    assert verdicts["wrap"].outcome == "pass", verdicts["wrap"]
    return verdicts[prop].outcome


BROKEN = [
    ("generate-greedy", S.DropsAdapterInGenerate, {"fail"}),
    ("generate-greedy", S.IgnoresCache, {"fail"}),
    # transformers < 4.46 notices the extra position (a shape error) where later releases run on silently
    ("generate-greedy", S.RePrependsVirtualTokens, {"fail", "crash"}),
    ("prefilled-cache", S.IgnoresCache, {"fail"}),
    ("prefilled-cache", S.RePrependsVirtualTokens, {"fail", "crash"}),
    ("positional-ids", S.ShiftsPositionalArguments, {"fail", "crash"}),
    ("generate-positional", S.SwallowsPositionalIds, {"fail"}),
]


@pytest.mark.parametrize(("prop", "stand_in", "caught"), BROKEN, ids=[f"{p}-{s.__name__}" for p, s, _ in BROKEN])
def test_oracle_catches_its_broken_stand_in(prop: str, stand_in: type, caught: set[str]) -> None:
    assert _outcome(ADAPTION, prop, None) == "pass", "the real model must pass first, or the test proves nothing"
    assert _outcome(ADAPTION, prop, S.Faithful) == "pass", "a faithful stand-in must pass too"
    assert _outcome(ADAPTION, prop, stand_in) in caught


PROMPT = _case("PROMPT_TUNING", {"num_virtual_tokens": 4, "prompt_tuning_init": "RANDOM"})


@pytest.mark.parametrize("stand_in", [S.DropsAdapterInGenerate, S.IgnoresCache])
def test_greedy_oracle_catches_dropped_prompts_and_caches_with_prompt_tuning(stand_in: type) -> None:
    """Virtual tokens in the cache: the same oracle, the same verdicts."""
    assert _outcome(PROMPT, "generate-greedy", None) == "pass"
    assert _outcome(PROMPT, "generate-greedy", stand_in) == "fail"


def test_disable_adapter_oracle_catches_an_adapter_that_is_never_disabled() -> None:
    class NeverDisables(S.Faithful):
        def disable_adapter(self):  # type: ignore[no-untyped-def]
            import contextlib

            return contextlib.nullcontext()

    assert _outcome(ADAPTION, "disable-adapter", None) == "pass"
    assert _outcome(ADAPTION, "disable-adapter", NeverDisables) == "fail"


def test_adapter_matters_fails_for_an_unperturbed_zero_gate() -> None:
    """Adaption prompt starts as a no-op: without perturbation "the adapter matters" must fail, with it pass."""
    unperturbed = Case(ADAPTION.arch, MethodSpec("ADAPTION_PROMPT", dict(ADAPTION.method.options), perturb=False),
                       ADAPTION.call)
    assert _outcome(ADAPTION, "adapter-matters", None) == "pass"
    assert _outcome(unperturbed, "adapter-matters", None) == "fail"


@pytest.mark.parametrize("base_fails_too", [False, True])
def test_a_generate_the_base_model_fails_too_is_a_skip_not_a_peft_crash(monkeypatch: pytest.MonkeyPatch,
                                                                         base_fails_too: bool) -> None:
    """A generate call the wrapped model refuses is a crash, unless a fresh base model refuses it as well: then the
    call says nothing about peft (a config the zoo drew without a start token, say) and the verdict is a skip."""
    if base_fails_too:
        monkeypatch.setattr(transformers.GenerationMixin, "generate", S.RefusesToGenerate.generate)

    def swap(trial: Trial) -> None:
        trial.model = S.RefusesToGenerate(trial.model)

    verdict = {v.property: v for v in run_case(ADAPTION, properties_named(["generate-greedy"]), TIMEOUT_S, hook=swap)}[
        "generate-greedy"]
    assert verdict.outcome == ("skip" if base_fails_too else "crash"), verdict
    assert ("base model fails" in verdict.reason) is base_fails_too



def test_generate_options_names_a_dropped_prompt_rather_than_its_symptoms() -> None:
    """peft <= 0.17 prompt learning drops ids passed to ``generate`` by position (it calls ``generate(**kwargs)``)
    and generates from a lone start token; the score count then disagrees too, but the prompt is what was lost."""
    spec = dataclasses.replace(ADAPTION.call.generate, positional=True)
    case = dataclasses.replace(ADAPTION, call=dataclasses.replace(ADAPTION.call, generate=spec))

    def judged(stand_in: type | None) -> tuple[str, str]:
        def swap(trial: Trial) -> None:
            if stand_in is not None:
                trial.model = stand_in(trial.model)

        verdict = {v.property: v for v in run_case(case, properties_named(["generate-options"]), TIMEOUT_S, hook=swap)}[
            "generate-options"]
        return verdict.outcome, verdict.error.message if verdict.error else ""

    assert judged(None) == ("pass", "") and judged(S.Faithful) == ("pass", "")
    outcome, message = judged(S.SwallowsPositionalIds)
    assert outcome == "fail" and "do not begin with the prompt" in message
