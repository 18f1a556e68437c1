"""Adapter properties: the adapter matters, ``disable_adapter()`` gives back the base model, and the adapter is
active again afterwards; a save/load round trip changes nothing; one training step reaches the adapter only."""

from __future__ import annotations

import tempfile

import torch

from harness.oracles.base import (
    SAME_ATOL,
    NotApplicable,
    OracleFailure,
    Property,
    Trial,
    assert_changed,
    assert_close,
    has_targets,
    last_positions,
    main_output,
)


def _output(trial: Trial, model: object | None = None) -> torch.Tensor:
    with torch.no_grad():
        return main_output((model or trial.model)(**trial.model_inputs()))


def _comparable(adapted: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """``adapted`` restricted to the positions ``base`` has (methods that prepend virtual tokens add positions)."""
    return last_positions(adapted, base.shape[1]) if adapted.dim() >= 3 else adapted


def check_adapter_matters(trial: Trial) -> None:
    """A perturbed (non-zero) adapter changes the output: some value moves by more than CHANGE_MIN."""
    base = main_output(trial.base_out)
    assert_changed(_comparable(_output(trial), base), base, "adapted vs base output")


def check_disable_adapter(trial: Trial) -> None:
    """Inside ``disable_adapter()`` the output ≡ the base model's (SAME_ATOL); after it, ≡ the adapted output."""
    if not hasattr(trial.model, "disable_adapter"):
        raise NotApplicable("the model has no disable_adapter()")
    adapted = _output(trial)
    with trial.model.disable_adapter():
        disabled = _output(trial)
    assert_close(disabled, main_output(trial.base_out), SAME_ATOL, "output with the adapter disabled vs base")
    assert_close(_output(trial), adapted, SAME_ATOL, "output after disable_adapter() vs before")


def check_save_load(trial: Trial) -> None:
    """``save_pretrained`` (safetensors) → ``PeftModel.from_pretrained`` onto a fresh base with the same weights
    gives the same output (SAME_ATOL)."""
    from peft import PeftModel

    expected = _output(trial)
    with tempfile.TemporaryDirectory(prefix="peft-compat-save-") as folder:
        trial.model.save_pretrained(folder, safe_serialization=True)
        loaded = PeftModel.from_pretrained(trial.rebuild_base().model, folder)
        loaded.eval()
        assert_close(_output(trial, loaded), expected, SAME_ATOL, "output after save/load vs before")


def check_train_step(trial: Trial) -> None:
    """One training step: the loss is finite, some adapter parameter gets a non-zero gradient, and no base-model
    parameter gets any gradient."""
    if trial.case.method.inference_mode:
        raise NotApplicable("inference_mode freezes the adapter")
    if not has_targets(trial):
        raise NotApplicable("this call draws no labels, or too few tokens for a next-token loss")
    inputs = trial.model_inputs(labels=True)
    model = trial.model
    model.train()
    try:
        model.zero_grad(set_to_none=True)
        loss = model(**inputs).loss
        if loss is None or not torch.isfinite(loss):
            raise OracleFailure(f"training loss is {loss}")
        loss.backward()
        adapter = set(trial.wrapped.adapter_params)
        grads = {n: p.grad for n, p in model.named_parameters()}
        leaked = sorted(n for n, g in grads.items() if n not in adapter and g is not None and g.abs().sum() > 0)
        if leaked:
            raise OracleFailure(f"gradients reached {len(leaked)} base parameter(s), e.g. {leaked[0]}")
        if not any(grads.get(n) is not None and grads[n].abs().sum() > 0 for n in adapter):
            raise OracleFailure("no adapter parameter received a gradient")
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()


PROPERTIES = (
    Property("adapter-matters", check_adapter_matters.__doc__ or "", check_adapter_matters),
    Property("disable-adapter", check_disable_adapter.__doc__ or "", check_disable_adapter),
    Property("save-load", check_save_load.__doc__ or "", check_save_load),
    Property("train-step", check_train_step.__doc__ or "", check_train_step),
)
