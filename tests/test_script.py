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
from harness.script_checks import CHECKS, PADDING as PADDING_PROPERTIES

#: the adaption-prompt llama of the oracle tests, with labels (the training step needs targets)
CASE = dataclasses.replace(ADAPTION, call=dataclasses.replace(ADAPTION.call, labels=True))


def load(case: Case, prop: str) -> dict[str, Any]:
    """The script's namespace after running it as a module: models built and wrapped, ``check`` not yet called."""
    namespace: dict[str, Any] = {"__name__": "reproducer"}
    exec(compile(render(case, prop), f"<reproducer {prop}>", "exec"), namespace)  # noqa: S102 - our own script
    return namespace


def _wraps(case: Case) -> bool:
    from harness.run.execute import run_case
    from harness.oracles import properties_named

    return {v.property: v.outcome for v in run_case(case, properties_named(["trainable-set"]), 60)}["wrap"] == "pass"


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
    from harness.run.execute import run_case
    from harness.oracles import properties_named

    oracle = {v.property: v for v in run_case(case, properties_named(["outer-wrapped-lm"]), 60)}["outer-wrapped-lm"]
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
    from harness.run.execute import run_case
    from harness.oracles import properties_named

    case = draw(case_strategy("seq2seq-lm", arch, "PROMPT_TUNING"), seed)
    verdicts = {v.property: v.outcome for v in run_case(case, properties_named(["generate-greedy"]), 60)}
    assert verdicts["generate-greedy"] == "pass"
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


def test_the_geometry_script_fails_with_peft_s_refusal_where_peft_cannot_infer_the_geometry(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As the oracle: peft's own refusal is the outcome, though the script's model is wrapped with explicit values."""
    script = load(CASE, "geometry-inferred")
    script["check"](script["model"])
    wrap = peft.get_peft_model

    def refuses_to_infer(model: Any, config: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(config, "num_layers", None) is None:
            raise ValueError("Please specify `num_layers` in `peft_config`")
        return wrap(model, config, *args, **kwargs)

    monkeypatch.setattr(peft, "get_peft_model", refuses_to_infer)
    script = load(dataclasses.replace(CASE, method=GPT2_PROMPT), "geometry-inferred")  # wrapped with geometry
    assert script["GEOMETRY"] and script["model"] is not None
    with pytest.raises(ValueError, match="num_layers"):
        script["check"](script["model"])


def run_as_main(case: Case, prop: str, capsys: pytest.CaptureFixture[str]) -> str:
    exec(compile(render(case, prop), f"<reproducer {prop}>", "exec"), {"__name__": "__main__"})  # noqa: S102
    return capsys.readouterr().out


def test_explicit_positions_peft_announces_it_ignores_exit_cleanly_and_silent_ones_fail(
        capsys: pytest.CaptureFixture[str]) -> None:
    """gpt2's absolute positions under prompt tuning: peft says it ignores position ids (the oracle's unsupported),
    so the script prints that and ends normally; a model that drops them without a word is a violation."""
    case = Case(GPT2, GPT2_PROMPT, dataclasses.replace(CASE.call, mask="ones", labels=False))
    script = load(case, "explicit-positions")
    with pytest.raises(script["Unsupported"], match="Ignoring position ids"):
        script["check"](script["model"])
    assert "not judged here" in run_as_main(case, "explicit-positions", capsys)
    script = load(case, "explicit-positions")
    with pytest.raises(script["PropertyViolated"], match="explicit position ids are ignored"):
        script["check"](S.SilentlyDropsPositions(script["model"]))


def test_a_one_token_call_is_not_judged_by_the_padding_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    short = dataclasses.replace(PADDED, call=dataclasses.replace(PADDED.call, length=1))
    for prop in ("padding-invariance", "padded-generate"):
        script = load(short, prop)
        with pytest.raises(script["Unsupported"], match="two tokens"):
            script["check"](script["model"])
    assert "not judged here" in run_as_main(short, "padding-invariance", capsys)


def _drawn(task_name: str, arch: str, method_name: str, seed: int) -> Case:
    from harness.cases import case_strategy
    from harness.draw import draw

    return draw(case_strategy(task_name, arch, method_name), seed)


#: cases where the oracles pass, fail or do not judge (gpt2: absolute positions, the base model is not invariant
#: under left padding without position ids; prompt tuning says it ignores position ids), and drawn ones
AGREE = [
    *[(lambda prop=prop: (Case(GPT2, GPT2_PROMPT, PADDED.call), prop)) for prop in PADDING_PROPERTIES],
    *[(lambda prop=prop: (PADDED, prop)) for prop in PADDING_PROPERTIES],
    *[(lambda prop=prop, seed=seed, drawn=drawn: (_drawn(*drawn, seed), prop))
      for drawn in [("causal-lm", "llama", "PREFIX_TUNING"), ("seq2seq-lm", "t5", "PROMPT_TUNING"),
                    ("seq-cls", "llama", "P_TUNING")]
      for prop in (*PADDING_PROPERTIES, "trainable-set") for seed in (0, 1)],
]


@pytest.mark.parametrize("make", AGREE, ids=[f"case{i}-{make()[1]}" for i, make in enumerate(AGREE)])
def test_a_script_judges_as_its_oracle_does(make: Any) -> None:
    """The same verdict on the same case: pass, fail (PropertyViolated) or not judged (Unsupported, exit 0)."""
    from harness.run.execute import run_case
    from harness.oracles import properties_named

    case, prop = make()
    verdict = {v.property: v for v in run_case(case, properties_named([prop]), 60)}[prop]
    if verdict.outcome not in ("pass", "fail", "unsupported"):
        pytest.skip(f"the oracle gives {verdict.outcome} ({verdict.reason or verdict.signature})")
    script = load(case, prop)
    try:
        script["check"](script["model"])
        outcome = "pass"
    except script["Unsupported"]:
        outcome = "unsupported"
    except script["PropertyViolated"]:
        outcome = "fail"
    assert outcome == verdict.outcome, verdict.reason or verdict.signature


def test_trainable_set_is_not_judged_in_inference_mode() -> None:
    case = dataclasses.replace(CASE, method=dataclasses.replace(CASE.method, inference_mode=True))
    script = load(case, "trainable-set")
    with pytest.raises(script["Unsupported"], match="inference_mode"):
        script["check"](script["model"])
