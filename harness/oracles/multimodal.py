"""The multimodal path: an outer model (LLaVA and kin) calling a peft-wrapped language model.

The outer forward hands its own arguments — ``past_key_values`` among them, often ``None`` — to the language model,
which is exactly how peft issue #1938 surfaced. Here the language model alone is wrapped with the case's method,
put back in place, and the *outer* model is called.
"""

from __future__ import annotations

import torch

from harness.archs.multimodal import language_model
from harness.methods.wrap import make_config, perturb
from harness.oracles.base import (
    SAME_ATOL,
    NotApplicable,
    OracleFailure,
    Property,
    Trial,
    assert_changed,
    assert_close,
    last_positions,
    main_output,
)

MULTIMODAL_TASKS = ("image-text-to-text",)


def _install(outer: torch.nn.Module, inner: torch.nn.Module, replacement: torch.nn.Module) -> None:
    """Put ``replacement`` where ``inner`` sits inside ``outer``."""
    name = next(n for n, m in outer.named_modules() if m is inner)
    parent_name, _, attribute = name.rpartition(".")
    setattr(outer.get_submodule(parent_name) if parent_name else outer, attribute, replacement)


def check_outer_calls_wrapped_language_model(trial: Trial) -> None:
    """With only its language model wrapped, the outer model's forward runs (no crash), its main output is finite,
    the perturbed adapter changes it (CHANGE_MIN), and inside ``disable_adapter()`` it equals the unwrapped
    model's (SAME_ATOL)."""
    from peft import get_peft_model

    if "num_tasks" in trial.case.method.options:
        raise NotApplicable("the outer forward passes no task_ids, which multitask prompt tuning needs")
    outer = trial.rebuild_base().model
    try:
        lm = language_model(outer)
    except LookupError as exc:
        raise NotApplicable(str(exc)) from exc
    has_head = lm.get_output_embeddings() is not None
    config = make_config(trial.case.method, "causal-lm" if has_head else "feature-extraction")
    base_ids = {id(p) for p in lm.parameters()}
    wrapped = get_peft_model(lm, config)
    wrapped.eval()
    adapter = [n for n, p in wrapped.named_parameters() if id(p) not in base_ids]
    if trial.case.method.perturb:
        perturb(wrapped, adapter, trial.case.method.perturb_seed)
    _install(outer, lm, wrapped)
    inputs = {k: v for k, v in trial.model_inputs().items() if k != "task_ids"}
    reference = main_output(trial.base_out)
    with torch.no_grad():
        out = main_output(outer(**inputs))
        if not torch.isfinite(out).all():
            raise OracleFailure("the outer model's output has non-finite values")
        assert_changed(last_positions(out, reference.shape[1]), reference, "outer output with a wrapped LM vs base")
        with wrapped.disable_adapter():
            disabled = main_output(outer(**inputs))
    assert_close(disabled, reference, SAME_ATOL, "outer output with the LM's adapter disabled vs base")


PROPERTIES = (
    Property("outer-wrapped-lm", check_outer_calls_wrapped_language_model.__doc__ or "",
             check_outer_calls_wrapped_language_model, MULTIMODAL_TASKS, standalone=True),
)
