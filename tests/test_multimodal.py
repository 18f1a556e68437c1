"""Properties of the image-text zoo: token layouts valid by construction, checked against the models themselves."""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.archs.build import arch_config, build, forward, sample_inputs
from harness.archs.families.layout import TASK
from harness.archs.multimodal import language_model, layout_of
from harness.archs.spec import RESERVED_IDS, ArchSpec
from harness.archs.strategies import Unbuildable, arch_spec
from harness.archs.tasks import model_types, model_class

SETTINGS = settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
#: the families later work leans on, checked in the default (fast) run; the rest run under -m slow
CORE = ("llava", "llava_next", "qwen2_vl", "mllama", "paligemma", "idefics2")
#: families whose one stack reads image and text together: no separate language model to hand a cache to
ONE_STACK = ("git", "idefics", "chameleon")


def _with_layout() -> list[str]:
    """Image-text types of the installed transformers whose config's record lays out images (and can be drawn)."""
    found = []
    for model_type in model_types(TASK):
        try:
            config_cls = model_class(TASK, model_type).config_class
            arch_spec(model_type, TASK)
        except (Unbuildable, LookupError):
            continue
        if layout_of(config_cls) is not None:
            found.append(model_type)
    return found


TYPES = _with_layout()
CASES = [pytest.param(mt, marks=() if mt in CORE else pytest.mark.slow) for mt in TYPES]


@st.composite
def _case(draw: st.DrawFn, model_type: str) -> tuple[ArchSpec, int, int, int]:
    """A drawn model with the batch sizes and text lengths the harness uses, and an input seed."""
    return (draw(arch_spec(model_type, TASK)), draw(st.integers(1, 3)), draw(st.integers(1, 8)),
            draw(st.integers(0, 2**16)))


@pytest.mark.parametrize("model_type", CASES)
def test_image_tokens_match_the_features_the_model_makes(model_type: str) -> None:
    """The forward accepts the drawn layout and its logits cover every position; one placeholder more is rejected.

    A model fills placeholders from its image features, so a forward that accepts the layout has at least as many
    features as placeholders; rejecting one more (an explicit check or a short masked scatter) shows it has no more.
    """

    @SETTINGS
    @given(_case(model_type))
    def check(case: tuple[ArchSpec, int, int, int]) -> None:
        spec, batch, length, seed = case
        built = build(spec)
        inputs = sample_inputs(spec, built.config, batch, length, seed)
        layout = layout_of(built.config)
        logits = forward(built, inputs).logits
        assert logits.shape[:2] == (batch, layout.positions(built.config, inputs))
        assert torch.isfinite(logits).all()
        placeholder = layout.placeholder_id(built.config)
        if placeholder is None:  # the layout marks image positions otherwise (a mask, cross-attention, a prefix)
            return
        extra = inputs["input_ids"].clone()
        extra[0, -1] = placeholder
        with pytest.raises(Exception):  # noqa: B017,PT011 - releases reject a mismatch with different errors
            forward(built, {**inputs, "input_ids": extra})

    check()


@pytest.mark.parametrize("model_type", TYPES)
def test_text_is_drawn_above_every_special_token(model_type: str) -> None:
    """The image segment uses only reserved ids, the text only ids above them, and every row ends in the text."""

    @SETTINGS
    @given(_case(model_type))
    def check(case: tuple[ArchSpec, int, int, int]) -> None:
        spec, batch, length, seed = case
        config = arch_config(spec)
        ids = sample_inputs(spec, config, batch, length, seed)[layout_of(config).text_key()]
        segment, text = ids[:, :-length], ids[:, -length:]
        assert (segment < RESERVED_IDS).all()
        assert ((text >= RESERVED_IDS) & (text < spec.vocab)).all()
        assert (segment == segment[0]).all(), "every row carries the same image layout"

    check()


@pytest.mark.parametrize("model_type", CASES)
def test_inputs_and_outputs_are_deterministic_for_a_seed(model_type: str) -> None:
    """The same spec and input seed give equal inputs and equal logits from two separately built models."""

    @settings(SETTINGS, max_examples=2)
    @given(_case(model_type))
    def check(case: tuple[ArchSpec, int, int, int]) -> None:
        spec, batch, length, seed = case
        first, second = build(spec), build(spec)
        a = sample_inputs(spec, first.config, batch, length, seed)
        b = sample_inputs(spec, second.config, batch, length, seed)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert torch.equal(forward(first, a).logits, forward(second, b).logits)

    check()


@pytest.mark.parametrize("model_type", CASES)
def test_language_model_is_what_the_outer_forward_calls(model_type: str) -> None:
    """The submodule ``language_model`` returns is called once by the outer forward, on the whole merged sequence
    and no pixels, and handed the outer ``past_key_values`` where the outer forward takes one (BLIP-2's does not)."""
    from harness.draw import draw

    spec = draw(arch_spec(model_type, TASK), 0)
    takes = inspect.signature(model_class(TASK, model_type).forward).parameters
    built = build(spec)
    if model_type in ONE_STACK:
        with pytest.raises(LookupError):
            language_model(built.model)
        return
    inner = language_model(built.model)
    calls: list[dict[str, object]] = []
    handle = inner.register_forward_pre_hook(lambda _m, _a, kwargs: calls.append(kwargs), with_kwargs=True)
    try:
        inputs = sample_inputs(spec, built.config, 1, 3)
        forward(built, {**inputs, **({"use_cache": True} if "use_cache" in takes else {})})
    finally:
        handle.remove()
    assert len(calls) == 1
    assert not [k for k, v in calls[0].items() if "pixel" in k and v is not None], "it reads the image itself"
    sequence = next(calls[0][k] for k in ("inputs_embeds", "input_ids") if calls[0].get(k) is not None)
    assert sequence.shape[1] == layout_of(built.config).positions(built.config, inputs)
    if "past_key_values" in takes:
        assert "past_key_values" in calls[0]


def test_language_model_names_the_paths_it_tried() -> None:
    with pytest.raises(LookupError, match="no language model without a vision part at any of .*add its path there"):
        language_model(torch.nn.Linear(2, 2))
