"""Reading a built image-text model: the image layout of its config, and the language model inside it, which
the outer forward hands the merged sequence and its cache to.
"""

from __future__ import annotations

from typing import Any

import torch

from harness.archs.families import arch_record
from harness.archs.families.layout import ImageInputs, Layout


def layout_of(config: Any) -> Layout | None:
    """The image layout of a built model's config (None for a type without one): the record of the config's own
    model_type makes the inputs, as in :func:`harness.archs.build.sample_inputs`."""
    inputs = arch_record(config.model_type).inputs
    return inputs.layout if isinstance(inputs, ImageInputs) else None


#: where composite models keep the decoder that takes ``past_key_values`` from the outer forward, newest first;
#: Qwen2-VL before 4.48 keeps the text decoder itself as ``model``, so that path comes last
_LANGUAGE_MODEL_PATHS = ("model.language_model", "language_model", "model.text_model", "text_model", "text_decoder",
                         "decoder", "model")
#: submodules that mark a module as more than a language model (it also reads the image)
_VISION_PARTS = ("vision_tower", "vision_model", "visual", "image_encoder", "vision_embed_tokens", "vqmodel")


def language_model(model: torch.nn.Module) -> torch.nn.Module:
    """The language-model submodule of a built multimodal model: the text decoder the outer forward hands the merged
    sequence and its cache to. Models whose one stack also reads the image (GIT, Idefics, Chameleon) have none."""
    layout = layout_of(model.config) if hasattr(model, "config") else None
    for path in (layout.language_model,) if layout and layout.language_model else _LANGUAGE_MODEL_PATHS:
        found: Any = model
        for part in path.split("."):
            found = getattr(found, part, None)
        if isinstance(found, torch.nn.Module) and not any(hasattr(found, p) for p in _VISION_PARTS):
            return found
    raise LookupError(
        f"{type(model).__name__} has no language model without a vision part at any of {_LANGUAGE_MODEL_PATHS}; "
        "if it has one elsewhere, add its path there"
    )
