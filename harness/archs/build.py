"""Building a drawn :class:`ArchSpec` into a model, and making inputs it accepts."""

from __future__ import annotations

import copy
import functools
import inspect
import time
from dataclasses import dataclass
from typing import Any

import torch

from harness.archs.records import record_for
from harness.archs.strategies import RESERVED_IDS, ArchSpec
from harness.archs.tasks import model_class, task

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


def make_config(spec: ArchSpec) -> Any:
    """The transformers config of ``spec`` (the model class's own config class is the truth for composites)."""
    config_cls = model_class(spec.task, spec.model_type).config_class
    overrides = copy.deepcopy(spec.overrides)  # some configs fill in the sub-config dicts they are given
    return config_cls(**overrides, attn_implementation="eager")


def build(spec: ArchSpec) -> Built:
    """The model of ``spec``, weights initialised from ``spec.seed``, in eval mode."""
    start = time.perf_counter()
    config = make_config(spec)
    torch.manual_seed(spec.seed)
    model = model_class(spec.task, spec.model_type)(config)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    if n_params > MAX_PARAMS:
        raise TooLarge(f"{n_params:,} parameters (bound {MAX_PARAMS:,}): the shrink misses a size field")
    return Built(spec, model, n_params, time.perf_counter() - start)


def text_inputs(
    spec: ArchSpec, config: Any, batch: int = 2, length: int = 6, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Token inputs: ids above the special-token band and a full attention mask.

    Seq2seq tasks (and encoder-decoder base models and image-text models) also get decoder ids; encoder-decoder
    classifiers read the eos position, so their rows end with eos.
    """
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(RESERVED_IDS, spec.vocab, (batch, length), generator=gen)
    encoder_decoder = bool(getattr(config, "is_encoder_decoder", False))
    kind = task(spec.task)
    if encoder_decoder and kind.inputs == "text" and not kind.text_types_only:
        ids[:, -1] = _first_id(config.eos_token_id)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if kind.inputs == "seq2seq" or (encoder_decoder and (kind.text_types_only or kind.inputs == "image-text")):
        decoder_length = max(1, length // 2)
        inputs["decoder_input_ids"] = torch.randint(RESERVED_IDS, spec.vocab, (batch, decoder_length), generator=gen)
    return inputs


def _first_id(token_id: int | list[int]) -> int:
    return token_id[0] if isinstance(token_id, list) else token_id


def sample_inputs(
    spec: ArchSpec, config: Any, batch: int = 2, length: int = 6, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Inputs the model of ``spec`` accepts: the input maker of its config's record, else :func:`text_inputs`,
    without the ones its forward does not name (FNet has no attention mask, some seq2seq heads no decoder ids)."""
    make = record_for(getattr(config, "model_type", None) or spec.model_type).inputs
    if make is None:
        inputs = text_inputs(spec, config, batch, length, seed)
    else:
        inputs = make(spec, config, batch, length, torch.Generator().manual_seed(seed))
    named = forward_parameters(spec.task, spec.model_type)
    return {k: v for k, v in inputs.items() if k in named} if named else inputs


@functools.cache
def forward_parameters(task_name: str, model_type: str) -> frozenset[str]:
    """The inputs the model class's forward names (its ``**kwargs`` carry options, not inputs); empty for a
    forward that names none, which then takes whatever it is given."""
    params = inspect.signature(model_class(task_name, model_type).forward).parameters
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(name for name, p in params.items() if p.kind in kinds and name != "self")


def forward(built: Built, inputs: dict[str, torch.Tensor]) -> Any:
    """One no-grad forward pass."""
    with torch.no_grad():
        return built.model(**inputs)
