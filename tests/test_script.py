"""Every property has a script form, and each one holds on the real peft model and fails on a stand-in that breaks
that property (tests/stand_ins.py), as its oracle does (tests/test_oracles.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import peft
import pytest
import stand_ins as S
from test_oracles import ADAPTION
from test_padding import GPT2, PADDED
from test_padding import PROMPT as GPT2_PROMPT
from test_trainable import CASE as CLASSIFIER

from harness.cases import Case
from harness.oracles import PROPERTIES
from harness.script import render
from harness.script_checks import CHECKS

#: the adaption-prompt llama of the oracle tests, with labels (the training step needs targets)
CASE = dataclasses.replace(ADAPTION, call=dataclasses.replace(ADAPTION.call, labels=True))


def load(case: Case, prop: str) -> dict[str, Any]:
    """The script's namespace after running it as a module: models built and wrapped, ``check`` not yet called."""
    namespace: dict[str, Any] = {"__name__": "reproducer"}
    exec(compile(render(case, prop), f"<reproducer {prop}>", "exec"), namespace)  # noqa: S102 - our own script
    return namespace


def _wraps(case: Case) -> bool:
    from harness.execute import run_case
    from harness.oracles import select

    return {v.property: v.outcome for v in run_case(case, select(["trainable-set"]), 60)}["wrap"] == "pass"


def test_every_property_has_a_script_form() -> None:
    assert set(CHECKS) == {*PROPERTIES, "wrap"}


#: property → the stand-in that breaks it, whether the faithful stand-in (a greedy loop of its own, no dict
#: outputs with caches) can run the check at all, and the case (CASE unless given; the oracle tests' own otherwise)
BROKEN: list[tuple[str, type, bool] | tuple[str, type, bool, Case]] = [
    ("forward", S.ReturnsNaN, True),
    ("empty-cache", S.ChangesWithEmptyCache, True),
    ("positional-ids", S.ShiftsPositionalArguments, True),
    ("prefilled-cache", S.IgnoresCache, True),
    ("generate-greedy", S.DropsAdapterInGenerate, True),
    ("generate-cache", S.CacheChangesGeneration, False),
    ("generate-split", S.WrongTokensFromCache, False),
    ("generate-options", S.DropsRows, False),
    ("generate-positional", S.SwallowsPositionalIds, True),
    ("adapter-matters", S.WithoutAdapter, True),
    ("disable-adapter", S.NeverDisables, True),
    ("save-load", S.OffsetOutput, False),
    ("train-step", S.LeaksGradients, True),
    ("trainable-set", S.ThawsBaseParameter, True),
    ("trainable-set", S.FreezesHeadCopy, True, CLASSIFIER),
    ("trainable-set", S.ThawsBaseParameter, True, CLASSIFIER),
    ("padding-invariance", S.AttendsPadding, True, PADDED),
    ("padded-generate", S.AttendsPadding, True, PADDED),
    ("explicit-positions", S.ReversesExplicitPositions, True, PADDED),
]


@pytest.mark.parametrize(("prop", "stand_in", "faithful", "case"), [(*row, CASE)[:4] for row in BROKEN],
                         ids=[f"{row[0]}-{row[1].__name__}" + ("" if len(row) == 3 else "-own-case") for row in BROKEN])
def test_a_script_holds_on_the_real_model_and_fails_on_the_stand_in_that_breaks_it(prop: str, stand_in: type,
                                                                                    faithful: bool, case: Case) -> None:
    if case is CLASSIFIER and not _wraps(case):
        pytest.skip("this peft cannot wrap a classifier (peft 0.13's classification wrap crash, peft-2246)")
    script = load(case, prop)
    script["check"](script["model"])
    if faithful:
        script["check"](S.Faithful(script["model"]))
    broken = script["PropertyViolated"] if stand_in is not S.ShiftsPositionalArguments else Exception
    with pytest.raises(broken):
        script["check"](stand_in(script["model"]))


def test_the_wrap_script_fails_where_get_peft_model_does(monkeypatch: pytest.MonkeyPatch) -> None:
    load(CASE, "wrap")

    def refuses(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("add_adapter() got an unexpected keyword argument 'low_cpu_mem_usage'")

    monkeypatch.setattr(peft, "get_peft_model", refuses)
    with pytest.raises(TypeError, match="low_cpu_mem_usage"):
        load(CASE, "wrap")


def test_a_maskless_case_generates_from_a_full_mask_and_no_property_is_unknown() -> None:
    maskless = dataclasses.replace(CASE, call=dataclasses.replace(CASE.call, mask="absent"))
    script = load(maskless, "generate-greedy")
    assert "attention_mask" not in script["inputs"] and "attention_mask" in script["gen_inputs"]
    script["check"](script["model"])
    with pytest.raises(ValueError, match="no script form"):
        render(CASE, "no-such-property")


def test_the_outer_model_script_holds_for_blip_2_and_fails_when_the_adapter_cannot_be_disabled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    from harness.cases import case_strategy
    from harness.draw import draw

    # BLIP-2: its OPT language model has a head (the oracle passes it here; llava's headless LM meets a peft bug)
    case = draw(case_strategy("image-text-to-text", "blip-2", "PROMPT_TUNING"), 0)
    from harness.execute import run_case
    from harness.oracles import select

    oracle = {v.property: v for v in run_case(case, select(["outer-wrapped-lm"]), 60)}["outer-wrapped-lm"]
    if oracle.outcome != "pass":  # transformers 4.45's BLIP-2 config has no hidden_size for peft to read
        pytest.skip(f"the oracle itself gives {oracle.outcome} here ({oracle.signature or oracle.reason})")
    script = load(case, "outer-wrapped-lm")
    script["check"](script["model"])
    wrap = peft.get_peft_model

    def never_disables(*args: Any, **kwargs: Any) -> Any:
        wrapped = wrap(*args, **kwargs)
        wrapped.disable_adapter = contextlib.nullcontext
        return wrapped

    monkeypatch.setattr(peft, "get_peft_model", never_disables)
    with pytest.raises(script["PropertyViolated"], match="disabled vs base"):
        script["check"](script["model"])


@pytest.mark.parametrize(("arch", "seed"), [("t5", 3), ("bart", 0)])
def test_the_seq2seq_greedy_script_grows_the_decoder_ids_and_agrees_with_the_oracle(arch: str, seed: int) -> None:
    """Seeds whose cases the oracle passes (t5's has no attention mask); the script must pass them too."""
    from harness.cases import case_strategy
    from harness.draw import draw
    from harness.execute import run_case
    from harness.oracles import select

    case = draw(case_strategy("seq2seq-lm", arch, "PROMPT_TUNING"), seed)
    assert {v.property: v.outcome for v in run_case(case, select(["generate-greedy"]), 60)}["generate-greedy"] == "pass"
    script = load(case, "generate-greedy")
    assert script["IS_SEQ2SEQ"] and "decoder_input_ids" not in script["gen_inputs"]
    script["check"](script["model"])
    with pytest.raises(script["PropertyViolated"], match="generate vs greedy loop"):
        script["check"](S.WrongTokens(script["model"]))


@pytest.mark.parametrize("past", ["none", "dynamic-empty", "static"])
def test_the_forward_script_passes_the_drawn_empty_cache_as_the_oracle_does(past: str) -> None:
    case = dataclasses.replace(CASE, call=dataclasses.replace(CASE.call, past=past, use_cache=False))
    script = load(case, "forward")
    assert (script["empty_cache"]() is script["ABSENT"]) is False
    script["check"](script["model"])
    with pytest.raises(script["PropertyViolated"], match="non-finite"):
        script["check"](S.ReturnsNaN(script["model"]))
