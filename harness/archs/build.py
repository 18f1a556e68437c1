"""Building a drawn :class:`~harness.archs.spec.ArchSpec` into a model, making inputs it accepts, running it."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import torch

from harness.archs.families import arch_record
from harness.archs.inputs import forward_parameters, text_inputs
from harness.archs.spec import ArchSpec
from harness.archs.tasks import model_class

#: every built model stays under this many parameters (a larger one is a shrink bug, reported as such)
MAX_PARAMS = 1_000_000


class TooLarge(Exception):
    """A drawn model exceeded :data:`MAX_PARAMS`; its family needs a record."""


@dataclass
class Built:
    spec: ArchSpec
    model: torch.nn.Module
    n_params: int
    build_s: float

    @property
    def config(self) -> Any:
        return self.model.config


def arch_config(spec: ArchSpec) -> Any:
    """The transformers config of ``spec`` (the model class's own config class is the truth for composites)."""
    config_cls = model_class(spec.task, spec.model_type).config_class
    overrides = copy.deepcopy(spec.overrides)  # some configs fill in the sub-config dicts they are given
    return config_cls(**overrides, attn_implementation="eager")


def build(spec: ArchSpec) -> Built:
    """The model of ``spec``, weights initialised from ``spec.seed``, in eval mode."""
    start = time.perf_counter()
    config = arch_config(spec)
    torch.manual_seed(spec.seed)
    model = model_class(spec.task, spec.model_type)(config)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    if n_params > MAX_PARAMS:
        raise TooLarge(f"{n_params:,} parameters (bound {MAX_PARAMS:,}): the shrink misses a size field")
    return Built(spec, model, n_params, time.perf_counter() - start)


def sample_inputs(
    spec: ArchSpec, config: Any, batch: int = 2, length: int = 6, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Inputs the model of ``spec`` accepts: the input maker of its config's record, else the plain text inputs,
    without the ones its forward does not name (FNet has no attention mask, some seq2seq heads no decoder ids)."""
    make = arch_record(getattr(config, "model_type", None) or spec.model_type).inputs
    if make is None:
        inputs = text_inputs(spec, config, batch, length, seed)
    else:
        inputs = make(spec, config, batch, length, torch.Generator().manual_seed(seed))
    named = forward_parameters(spec.task, spec.model_type)
    return {k: v for k, v in inputs.items() if k in named} if named else inputs


def forward(built: Built, inputs: dict[str, torch.Tensor]) -> Any:
    """One no-grad forward pass."""
    with torch.no_grad():
        return built.model(**inputs)
