"""Model inputs every family shares: text token ids above the reserved band, the plain text inputs, the inputs a
model's forward names, and the makers that add a family's own inputs to the text ones."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import torch

from harness.archs.records import MakeInputs
from harness.archs.spec import RESERVED_IDS, ArchSpec
from harness.archs.tasks import model_class, task

#: ``extra(config, text inputs, generator) -> more inputs`` for families that read more than tokens
Extra = Callable[[Any, dict[str, torch.Tensor], torch.Generator], dict[str, torch.Tensor]]


def text_ids(vocab: int, shape: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """Text token ids above the reserved special-token band."""
    return torch.randint(RESERVED_IDS, vocab, shape, generator=generator)


def text_inputs(
    spec: ArchSpec, config: Any, batch: int = 2, length: int = 6, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Token inputs: ids above the special-token band and a full attention mask.

    Seq2seq tasks (and encoder-decoder base models and image-text models) also get decoder ids; encoder-decoder
    classifiers read the eos position, so their rows end with eos.
    """
    gen = torch.Generator().manual_seed(seed)
    ids = text_ids(spec.vocab, (batch, length), gen)
    encoder_decoder = bool(getattr(config, "is_encoder_decoder", False))
    kind = task(spec.task)
    if encoder_decoder and kind.inputs == "text" and not kind.text_types_only:
        ids[:, -1] = _first_id(config.eos_token_id)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if kind.inputs == "seq2seq" or (encoder_decoder and (kind.text_types_only or kind.inputs == "image-text")):
        inputs["decoder_input_ids"] = text_ids(spec.vocab, (batch, max(1, length // 2)), gen)
    return inputs


def _first_id(token_id: int | list[int]) -> int:
    return token_id[0] if isinstance(token_id, list) else token_id


@functools.cache
def forward_parameters(task_name: str, model_type: str) -> frozenset[str]:
    """The inputs the model class's forward names (its ``**kwargs`` carry options, not inputs); empty for a
    forward that names none, which then takes whatever it is given."""
    params = inspect.signature(model_class(task_name, model_type).forward).parameters
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(name for name, p in params.items() if p.kind in kinds and name != "self")


def _seeded_text(spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator) -> dict[str, Any]:
    """The plain text inputs, seeded from ``generator``."""
    return text_inputs(spec, config, batch, length, int(torch.randint(2**31 - 1, (1,), generator=generator)))


def text_and(extra: Extra) -> MakeInputs:
    """The plain text inputs, plus what ``extra`` adds."""

    def make(spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator) -> dict[str, Any]:
        inputs = _seeded_text(spec, config, batch, length, generator)
        return {**inputs, **extra(config, inputs, generator)}

    return make


def unless_tokens(extra: Extra) -> MakeInputs:
    """Text inputs for the heads that take token ids; plus what ``extra`` makes for a base model that takes none
    (``sample_inputs`` then drops the token ids it does not name)."""

    def make(spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator) -> dict[str, Any]:
        inputs = _seeded_text(spec, config, batch, length, generator)
        tokens = "input_ids" in forward_parameters(spec.task, spec.model_type)
        return inputs if tokens else {**inputs, **extra(config, inputs, generator)}

    return make
