"""padding-invariance, padded-generate and explicit-positions: each holds on the real peft model and on a faithful
stand-in, and catches its broken one; a peft that says it ignores position ids is unsupported, not failed."""

from __future__ import annotations

import pytest

import stand_ins as S
from harness.archs.spec import ArchSpec
from harness.calls import CallSpec, GenerateSpec
from harness.cases import Case
from harness.run.execute import run_case
from harness.methods.wrap import MethodSpec
from harness.oracles import properties_named
from harness.oracles.base import Trial
from test_oracles import ADAPTION, LLAMA, TIMEOUT_S

#: absolute learned positions: shifting them changes the base model's output
GPT2 = ArchSpec("gpt2", "causal-lm", {"n_embd": 32, "n_head": 2, "n_layer": 2, "n_inner": 32, "vocab_size": 128,
                                      "n_positions": 64, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2},
                seed=7, vocab=128)
PROMPT = MethodSpec("PROMPT_TUNING", {"num_virtual_tokens": 3, "prompt_tuning_init": "RANDOM"}, perturb_seed=5)
CALL = CallSpec(batch=3, length=6, mask="left-pad", seed=11, generate=GenerateSpec(max_new_tokens=3))
PADDED = Case(LLAMA, ADAPTION.method, CALL)


def _outcome(case: Case, prop: str, stand_in: type | None = None) -> tuple[str, str]:
    def swap(trial: Trial) -> None:
        if stand_in is not None:
            trial.model = stand_in(trial.model)

    verdict = {v.property: v for v in run_case(case, properties_named([prop]), TIMEOUT_S, hook=swap)}[prop]
    return verdict.outcome, verdict.reason or verdict.signature


BROKEN = [
    ("padding-invariance", S.AttendsPadding),
    ("padded-generate", S.AttendsPadding),
    ("explicit-positions", S.ReversesExplicitPositions),
]


@pytest.mark.parametrize(("prop", "stand_in"), BROKEN, ids=[f"{p}-{s.__name__}" for p, s in BROKEN])
def test_padding_oracles_catch_their_broken_stand_in(prop: str, stand_in: type) -> None:
    assert _outcome(PADDED, prop)[0] == "pass", "the real model must pass first, or the test proves nothing"
    assert _outcome(PADDED, prop, S.Faithful)[0] == "pass"
    assert _outcome(PADDED, prop, stand_in)[0] == "fail"


def test_explicit_positions_that_peft_announces_it_ignores_are_unsupported_and_silent_ones_fail() -> None:
    """On absolute positions (gpt2) a shift must move the output: peft's prompt tuning says it ignores position
    ids (unsupported, with its words); a model that drops them without a word fails."""
    case = Case(GPT2, PROMPT, CallSpec(batch=2, length=5, mask="ones", seed=11))
    outcome, reason = _outcome(case, "explicit-positions")
    assert (outcome, "Ignoring position ids" in reason) == ("unsupported", True), reason
    assert _outcome(case, "explicit-positions", S.SilentlyDropsPositions)[0] == "fail"


def test_padding_the_base_model_is_not_invariant_to_is_unsupported() -> None:
    """gpt2 without position ids is not left-padding invariant by itself: not peft's to honour."""
    case = Case(GPT2, PROMPT, CALL)
    outcome, reason = _outcome(case, "padded-generate")
    assert outcome in ("pass", "unsupported"), reason
    if outcome == "unsupported":
        assert "base model" in reason


def test_a_base_model_whose_real_positions_see_its_padding_is_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    """transformers 4.45's bert-generation decoder leaks later tokens by less than PATH_ATOL on tiny random
    weights; an adapter can push the same leak over it. The base model's leak is found by refilling its padding
    (SAME_ATOL), so the verdict blames no one: unsupported, with the reason."""
    import transformers

    forward = transformers.LlamaForCausalLM.forward

    def leaks_padding(self, input_ids=None, attention_mask=None, **kwargs):  # type: ignore[no-untyped-def]
        out = forward(self, input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        if input_ids is not None and attention_mask is not None:  # what fills the padding reaches every position
            out.logits = out.logits + 1e-6 * (input_ids * (1 - attention_mask)).sum(-1).float()[:, None, None]
        return out

    assert _outcome(PADDED, "padding-invariance")[0] == "pass"
    monkeypatch.setattr(transformers.LlamaForCausalLM, "forward", leaks_padding)
    outcome, reason = _outcome(PADDED, "padding-invariance")
    assert outcome == "unsupported" and "other ids in its padding" in reason, reason
