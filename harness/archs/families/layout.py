"""The image layout every image-text family shares: how one image becomes placeholder tokens and pixel tensors
(:class:`Layout`), the input maker a record gets from it (:class:`ImageInputs`), and the drawers and config readers
several families use.

Inputs are ``[image segment] + [text]`` per row; the segment holds the family's wrap tokens (begin/end of image)
around the placeholders, all from the reserved low id band, so text ids drawn above it never collide with them.
Placeholder counts are computed from the config, never by asking the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from harness.archs.inputs import forward_parameters, text_ids
from harness.archs.records import ArchRecord
from harness.archs.spec import ArchSpec

#: the task whose mappings list the image-text families
TASK = "image-text-to-text"


@dataclass(frozen=True)
class Images:
    """One image per row: the token ids that stand for it and the tensors that carry it."""

    tokens: list[int]
    tensors: dict[str, torch.Tensor]


#: ``images(config, batch, generator) -> Images``
DrawImages = Callable[[Any, int, torch.Generator], Images]
#: ``extras(config, input_ids) -> more model inputs`` that depend on the whole token layout
Extras = Callable[[Any, torch.Tensor], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class Layout:
    """How one family turns images into model inputs."""

    images: DrawImages
    #: the config field naming the placeholder token that image features replace (None: no placeholders)
    placeholder: str | None = "image_token_index"
    extras: Extras | None = None
    #: ``prefix(config)``: positions the model itself puts before the text (image features it prepends)
    prefix: Callable[[Any], int] | None = None
    #: where the text goes: after the image segment in ``input_ids`` ("input"); only to a decoder that
    #: cross-attends to an image encoder ("decoder"); or both after the segment and to the decoder ("both")
    text: Literal["input", "decoder", "both"] = "input"
    #: where the language model sits when the generic search (``harness.archs.multimodal.language_model``) would
    #: find the wrong part
    language_model: str | None = None

    def placeholder_id(self, config: Any) -> int | None:
        """The id of the placeholder token in ``config`` (None for layouts without placeholders)."""
        return None if self.placeholder is None else token_id(config, self.placeholder)

    def text_key(self) -> str:
        """The input that holds the image segment (when there is one) and the text."""
        return "decoder_input_ids" if self.text == "decoder" else "input_ids"

    def positions(self, config: Any, inputs: dict[str, torch.Tensor]) -> int:
        """The sequence length of the logits for ``inputs``: the decoder's, or the text key's plus any prefix."""
        if self.text != "input":
            return inputs["decoder_input_ids"].shape[1]
        return inputs["input_ids"].shape[1] + (self.prefix(config) if self.prefix else 0)


def first_of(config: Any, *names: str) -> Any:
    """The first of ``names`` that ``config`` has (configs renamed fields across releases)."""
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    raise AttributeError(f"{type(config).__name__} has none of {names}; the family's record needs updating")


def token_id(config: Any, name: str) -> int:
    """A token id field, under its ``_index`` or ``_id`` spelling."""
    stem = name.removesuffix("_index").removesuffix("_id")
    return int(first_of(config, f"{stem}_index", f"{stem}_id"))


def side_of(value: int | list[int] | tuple[int, int]) -> int:
    """One side of a square size that a config may spell as an int or a pair."""
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def grid_side(config: Any) -> int:
    """Patches per side of the square image the vision tower is configured for."""
    vision = config.vision_config
    return side_of(vision.image_size) // side_of(vision.patch_size)


def random_pixels(generator: torch.Generator, *shape: int) -> torch.Tensor:
    """Pixels of ``shape``, uniform in [-1, 1)."""
    return torch.rand(shape, generator=generator) * 2 - 1


def square_pixels(config: Any, batch: int, generator: torch.Generator) -> torch.Tensor:
    """One square image per row, of the vision tower's size and channels."""
    vision = config.vision_config
    size = side_of(vision.image_size)
    return random_pixels(generator, batch, int(getattr(vision, "num_channels", 3)), size, size)


def one_square(count: Callable[[Any], int], wrap: tuple[str, str] | None = None,
               placeholder: str = "image_token_index", pixel_name: str = "pixel_values") -> DrawImages:
    """A square image of the tower's size, ``count(config)`` placeholders, optionally between two wrap tokens."""

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        tokens = [token_id(config, placeholder)] * count(config)
        if wrap:
            tokens = [token_id(config, wrap[0]), *tokens, token_id(config, wrap[1])]
        return Images(tokens, {pixel_name: square_pixels(config, batch, generator)})

    return images


def tiled(count: Callable[[Any], int]) -> DrawImages:
    """Idefics3-style inputs: one image per row as (batch, images, channels, height, width) plus its pixel mask."""

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        pixels = square_pixels(config, batch, generator).unsqueeze(1)
        mask = torch.ones(pixels.shape[:2] + pixels.shape[-2:], dtype=torch.bool)
        return Images([token_id(config, "image_token_id")] * count(config),
                      {"pixel_values": pixels, "pixel_attention_mask": mask})

    return images


#: the first id of the outer special-token band: the placeholder of families whose config names no image token
UNNAMED_PLACEHOLDER = 8


def unnamed_placeholder_mask(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """The positions of the unnamed placeholder, which Kosmos fills with the image's latent queries."""
    return {"image_embeds_position_mask": (ids == UNNAMED_PLACEHOLDER).long()}


#: pixel inputs that later releases renamed ``pixel_values`` (the old name lingers as a deprecated alias)
_OLD_PIXEL_NAMES = ("pixel_values_images", "image_patches")


def _renamed(spec: ArchSpec, inputs: dict[str, Any]) -> dict[str, Any]:
    """Pixels under an older name passed as ``pixel_values`` where the forward names that."""
    for old in _OLD_PIXEL_NAMES:
        if old in inputs and "pixel_values" in forward_parameters(spec.task, spec.model_type):
            inputs["pixel_values"] = inputs.pop(old)
    return inputs


@dataclass(frozen=True)
class ImageInputs:
    """A record's input maker from its layout: the image segment, then ``length`` text ids, for every row."""

    layout: Layout

    def __call__(self, spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator
                 ) -> dict[str, Any]:
        layout = self.layout
        images = layout.images(config, batch, generator)
        text = text_ids(spec.vocab, (batch, length), generator)
        ids = torch.cat([torch.tensor(images.tokens, dtype=torch.long).expand(batch, -1), text], dim=1)
        mask = "decoder_attention_mask" if layout.text == "decoder" else "attention_mask"
        inputs = {layout.text_key(): ids, mask: torch.ones_like(ids), **images.tensors}
        if layout.text == "both":
            inputs.update(decoder_input_ids=text.clone(), decoder_attention_mask=torch.ones_like(text))
        if layout.extras is not None:
            inputs.update(layout.extras(config, ids))
        return _renamed(spec, inputs)


def image_record(model_types: tuple[str, ...], layout: Layout, **kwargs: Any) -> ArchRecord:
    """The record of an image-text family whose inputs ``layout`` makes."""
    return ArchRecord(model_types, inputs=ImageInputs(layout), **kwargs)
