"""Wrapping as users do it: ``get_peft_model(model, config)`` with no geometry given, peft inferring the rest."""

from __future__ import annotations

from harness.oracles.base import NotRun, Property, Trial


def check_geometry_inferred(trial: Trial) -> None:
    """``get_peft_model`` infers the prompt geometry (num_layers / token_dim / num_attention_heads) from the model
    config by itself: peft's refusal to infer it is this property's outcome (``rejected``, with peft's message), even
    though the case goes on wrapped with explicit values so that the other properties still run. No tolerance: peft
    either infers the geometry or it does not."""
    wrapped = trial.wrapped
    if wrapped.inference_error is not None:
        raise wrapped.inference_error
    if wrapped.outcome != "wrapped":
        raise NotRun(f"the wrap itself was {wrapped.outcome} before any geometry question (see the wrap verdict)")


PROPERTIES = (
    Property("geometry-inferred", check_geometry_inferred.__doc__ or "", check_geometry_inferred, standalone=True),
)
