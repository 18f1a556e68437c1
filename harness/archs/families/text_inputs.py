"""Input makers for text families that read more than token ids: boxes, regions, audio features, embeddings.

Each maker starts from the plain text inputs (``harness.archs.build.text_inputs``) and adds what the family needs;
``sample_inputs`` then keeps the inputs the model's forward names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from harness.archs.records import MakeInputs

if TYPE_CHECKING:
    from harness.archs.strategies import ArchSpec

#: ``extra(config, text inputs, generator) -> more inputs`` for families that read more than tokens
Extra = Callable[[Any, dict[str, torch.Tensor], torch.Generator], dict[str, torch.Tensor]]


def _text(spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator) -> dict[str, Any]:
    from harness.archs.build import text_inputs  # build imports the records: import it late

    return text_inputs(spec, config, batch, length, int(torch.randint(2**31 - 1, (1,), generator=generator)))


def text_and(extra: Extra) -> MakeInputs:
    """The plain text inputs, plus what ``extra`` adds."""

    def make(spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator) -> dict[str, Any]:
        inputs = _text(spec, config, batch, length, generator)
        return {**inputs, **extra(config, inputs, generator)}

    return make


def unless_tokens(extra: Extra) -> MakeInputs:
    """Text inputs for the heads that take token ids; plus what ``extra`` makes for a base model that takes none
    (sample_inputs then drops the token ids it does not name)."""

    def make(spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator) -> dict[str, Any]:
        from harness.archs.build import forward_parameters

        inputs = _text(spec, config, batch, length, generator)
        tokens = "input_ids" in forward_parameters(spec.task, spec.model_type)
        return inputs if tokens else {**inputs, **extra(config, inputs, generator)}

    return make


def boxes(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """One normalised box (x0, y0, x1, y1) per token, corners ordered."""
    batch, length = inputs["input_ids"].shape
    corners = torch.rand(batch, length, 2, 2, generator=generator).sort(dim=-1).values  # (x0, x1), (y0, y1)
    return {"bbox": corners.transpose(-1, -2).reshape(batch, length, 4)}


def first_token_global(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Longformer's QA head otherwise looks for question/answer separators to place global attention."""
    mask = torch.zeros_like(inputs["input_ids"])
    mask[:, 0] = 1
    return {"global_attention_mask": mask}


def visual_regions(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Two detected regions per row: features and normalised box positions."""
    batch = inputs["input_ids"].shape[0]
    return {"visual_feats": torch.randn(batch, 2, config.visual_feat_dim, generator=generator),
            "visual_pos": torch.rand(batch, 2, config.visual_pos_dim, generator=generator)}


def log_mel(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Whisper's encoder reads a log-mel spectrogram of exactly twice its position count in frames."""
    batch = inputs["input_ids"].shape[0]
    frames = 2 * config.max_source_positions
    return {"input_features": torch.randn(batch, config.num_mel_bins, frames, generator=generator)}


def latent_inputs(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """A Perceiver without a preprocessor reads embeddings of the model width."""
    batch, length = inputs["input_ids"].shape
    return {"inputs": torch.randn(batch, length, config.d_model, generator=generator)}


def audio_per_token(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Voxtral Realtime adds one audio embedding to every text position: ``audio_length_per_tok`` mel frames per
    token."""
    batch, length = inputs["input_ids"].shape
    frames = int(config.audio_length_per_tok) * length
    return {"input_features": torch.randn(batch, config.audio_config.num_mel_bins, frames, generator=generator)}
