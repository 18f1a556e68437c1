"""Families that read raw or flattened patches rather than a square image: Pix2Struct, Kosmos-2.5, Fuyu, and
SigLIP2 at native resolution (LFM2-VL).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from harness.archs.families.derives import chain, free_band_ids, text_width
from harness.archs.families.layout import (
    UNNAMED_PLACEHOLDER,
    Images,
    Layout,
    image_record,
    random_pixels,
    side_of,
    token_id,
    unnamed_placeholder_mask,
)
from harness.archs.records import ArchRecord

#: Pix2Struct's learned row/column tables: the most patches per side an image may have
_PIX2STRUCT_SIDE = 4


def _flat_patch_grid(vision: Any, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Pix2Struct-style flattened patches of a drawn grid, each led by its (1-based) row and column, padded to the
    table size with zero patches, and the mask of the real ones."""
    rows, cols = (int(v) for v in torch.randint(1, _PIX2STRUCT_SIDE + 1, (2,), generator=generator))
    width, slots = int(vision.patch_embed_hidden_size), _PIX2STRUCT_SIDE**2
    grid = torch.cartesian_prod(torch.arange(1, rows + 1), torch.arange(1, cols + 1)).float()
    patches = torch.zeros(batch, slots, 2 + width)
    patches[:, : rows * cols, :2] = grid
    patches[:, : rows * cols, 2:] = random_pixels(generator, batch, rows * cols, width)
    mask = torch.zeros(batch, slots, dtype=torch.long)
    mask[:, : rows * cols] = 1
    return patches, mask


def _flattened_patches(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Pix2Struct: the encoder reads the flattened patches under their mask; the text goes to the decoder."""
    patches, mask = _flat_patch_grid(config.vision_config, batch, generator)
    return Images([], {"flattened_patches": patches, "attention_mask": mask})


def _same_width(o: dict[str, Any]) -> dict[str, Any]:
    """A T5-style decoder cross-attends at its own width: the encoder writes it."""
    return {"vision_config": {**o["vision_config"], "hidden_size": o["text_config"]["hidden_size"]}}


def _kosmos25(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Kosmos-2.5: flattened patches; the latent queries fill the positions the position mask marks."""
    patches, _ = _flat_patch_grid(config.vision_config, batch, generator)
    return Images([UNNAMED_PLACEHOLDER] * int(config.latent_query_num), {"flattened_patches": patches})


def _fuyu(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Fuyu: a drawn number of raw patches of one image per row, each embedded linearly into the place of one
    placeholder."""
    count = int(torch.randint(1, 9, (), generator=generator))
    width = int(config.num_channels) * side_of(config.patch_size) ** 2
    return Images([token_id(config, "image_token_id")] * count,
                  {"image_patches": random_pixels(generator, batch, 1, count, width)})


def _fuyu_indices(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """The patch each position takes (-1 for text): releases before 4.47 place patches by these, not by the token."""
    placeholders = ids == token_id(config, "image_token_id")
    return {"image_patches_indices": torch.where(placeholders, placeholders.long().cumsum(dim=1) - 1, -1)}


def _fuyu_image_token(o: dict[str, Any]) -> dict[str, Any]:
    """An image token id from the free band, where a release's config has none."""
    return free_band_ids(o, ("image_token_id",))


def _naflex(config: Any, batch: int, generator: torch.Generator) -> Images:
    """SigLIP2 at native resolution (LFM2-VL): a drawn grid of flattened patches (a multiple of the downsample
    factor per side), padded to the tower's patch budget, with its shape and validity mask."""
    vision, factor = config.vision_config, int(config.downsample_factor)
    most = int(vision.num_patches)
    rows, cols = (factor * int(v) for v in torch.randint(1, math.isqrt(most) // factor + 1, (2,), generator=generator))
    patches = torch.zeros(batch, most, int(vision.num_channels) * side_of(vision.patch_size) ** 2)
    patches[:, : rows * cols] = random_pixels(generator, batch, rows * cols, patches.shape[-1])
    mask = torch.zeros(batch, most, dtype=torch.long)
    mask[:, : rows * cols] = 1
    return Images([token_id(config, "image_token_id")] * (rows * cols // factor**2),
                  {"pixel_values": patches, "spatial_shapes": torch.tensor([[rows, cols]] * batch),
                   "pixel_attention_mask": mask})


def _naflex_budget(o: dict[str, Any]) -> dict[str, Any]:
    """A patch budget of 16: at most a 4 x 4 grid."""
    return {"vision_config": {**o["vision_config"], "num_patches": 16}}


RECORDS: tuple[ArchRecord, ...] = (
    image_record(("pix2struct",), Layout(_flattened_patches, placeholder=None, text="decoder"), derive=_same_width,
                 note="Pix2Struct: flattened patches for the encoder, the text for the decoder"),
    ArchRecord(("pix2struct_vision_model",), fixed={"seq_len": _PIX2STRUCT_SIDE + 1}, explicit_head_dim=False,
               note="row/column tables of the tiny patch grid (index 0 is padding); width = heads x d_kv"),
    ArchRecord(("pix2struct_text_model",), explicit_head_dim=False, note="width = heads x d_kv"),
    image_record(("kosmos-2.5",), Layout(_kosmos25, placeholder=None, extras=unnamed_placeholder_mask),
                 fixed={"latent_query_num": 4}, note="Kosmos-2.5: latent queries over flattened patches"),
    ArchRecord(("kosmos_2_5_vision_model",), fixed={"max_num_patches": _PIX2STRUCT_SIDE + 1}, explicit_head_dim=False,
               note="row/column tables of the tiny patch grid (index 0 is padding); width = heads x head_dim"),
    image_record(("fuyu",), Layout(_fuyu, placeholder="image_token_id", extras=_fuyu_indices),
                 derive=chain(text_width("hidden_size"), _fuyu_image_token),
                 note="Fuyu: raw patches embedded linearly, one placeholder each (an id set where a release has none)"),
    image_record(("lfm2_vl", "lfm2-vl"), Layout(_naflex, placeholder="image_token_id"),
                 derive=_naflex_budget,
                 note="LFM2-VL: native-resolution SigLIP2 patches, unshuffled by downsample_factor"),
)
