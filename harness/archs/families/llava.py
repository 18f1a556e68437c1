"""LLaVA and its kin: one placeholder per selected vision-tower token, LLaVA-NeXT's any-resolution crops, and
the families with a Pixtral tower, which also take each image's size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from harness.archs.families.derives import config_class, declared_only, min_image_tokens
from harness.archs.families.layout import (
    DrawImages,
    Images,
    Layout,
    grid_side,
    image_record,
    one_square,
    random_pixels,
    side_of,
    token_id,
)
from harness.archs.records import ArchRecord

#: vision towers that prepend a CLS token to their patch sequence
_CLS_TOWERS = frozenset({"clip_vision_model", "internvl_vision", "blip_2_vision_model", "instructblip_vision_model"})


def _tower_tokens(config: Any) -> int:
    """Tokens the vision tower emits for one image, after the feature-select strategy (CLS cropped by default)."""
    cls = int(config.vision_config.model_type in _CLS_TOWERS)
    cropped = int(getattr(config, "vision_feature_select_strategy", "default") == "default")
    return grid_side(config) ** 2 + cls - cropped


def _vip_layers(o: dict[str, Any]) -> dict[str, Any]:
    """VipLLaVA concatenates five fixed layers of a deep tower; two of a tiny tower do the same job."""
    return {**min_image_tokens(o),
            **declared_only(config_class("vipllava"),
                             {"vision_feature_layers": [-2, -1], "vision_feature_layer": [-2, -1]})}


def _anyres_pinpoints(o: dict[str, Any]) -> dict[str, Any]:
    """Grid resolutions of one or two tower-sized crops, so every drawn image size maps to a tiny crop grid."""
    side = o.get("vision_config", {}).get("image_size", 32)
    return {**min_image_tokens(o), "image_grid_pinpoints": [[side, side], [side, 2 * side], [2 * side, side]]}


def _onevision_pinpoints(o: dict[str, Any]) -> dict[str, Any]:
    """As LLaVA-NeXT, and told to downsample unpadded features beyond one crop's worth, so that path runs too."""
    return {**_anyres_pinpoints(o), "vision_aspect_ratio": "anyres_max_1"}


def _best_resolution(height: int, width: int, pinpoints: list[list[int]]) -> tuple[int, int]:
    """The pinpoint an (height, width) image is resized into: most of the image kept, then least padding."""

    def score(point: list[int]) -> tuple[int, int]:
        scale = min(point[1] / width, point[0] / height)
        kept = min(int(width * scale) * int(height * scale), width * height)
        return kept, -(point[0] * point[1] - kept)

    best = max(pinpoints, key=score)  # max keeps the first of equals, as the processors do
    return int(best[0]), int(best[1])


def _unpadded(height: int, width: int, rows: int, cols: int) -> tuple[int, int]:
    """The feature grid left after cropping the letterbox padding of an (height, width) image from rows x cols."""
    if width / height > cols / rows:
        kept = int(round(height * cols / width, 7))
        return rows - 2 * ((rows - kept) // 2), cols
    kept = int(round(width * rows / height, 7))
    return rows, cols - 2 * ((cols - kept) // 2)


def _anyres_tokens(config: Any, height: int, width: int) -> tuple[int, int]:
    """(crops, placeholders) of one image under LLaVA-NeXT's any-resolution scheme: a base crop of the whole image,
    then the grid of crops with its padding removed, a newline token closing each feature row."""
    side, grid = side_of(config.vision_config.image_size), grid_side(config)
    best_h, best_w = _best_resolution(height, width, config.image_grid_pinpoints)
    crops_h, crops_w = best_h // side, best_w // side
    rows, cols = _unpadded(height, width, crops_h * grid, crops_w * grid)
    most = getattr(config, "vision_aspect_ratio", None)  # OneVision: "anyres_max_<crops>"
    if most is not None:
        ratio = math.sqrt(rows * cols / (int(most.removeprefix("anyres_max_")) * grid**2))
        if ratio > 1.1:
            rows, cols = int(rows // ratio), int(cols // ratio)
    return crops_h * crops_w + 1, _tower_tokens(config) + rows * (cols + 1)


def _anyres(config: Any, batch: int, generator: torch.Generator) -> Images:
    """An image of a drawn size (the same for every row), as its crops and its true size."""
    side = side_of(config.vision_config.image_size)
    height, width = (int(v) for v in torch.randint(side // 4, 2 * side + 1, (2,), generator=generator))
    crops, count = _anyres_tokens(config, height, width)
    pixels = random_pixels(generator, batch, crops, int(config.vision_config.num_channels), side, side)
    return Images([token_id(config, "image_token_index")] * count,
                  {"pixel_values": pixels, "image_sizes": torch.tensor([[height, width]] * batch)})


def _with_sizes(count: Callable[[Any], int]) -> DrawImages:
    """Pixtral-style towers take each image's true size next to its pixels."""
    plain = one_square(count)

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        drawn = plain(config, batch, generator)
        size = side_of(config.vision_config.image_size)
        return Images(drawn.tokens, {**drawn.tensors, "image_sizes": torch.tensor([[size, size]] * batch)})

    return images


def _spatial_merge(config: Any) -> int:
    return (grid_side(config) // int(config.spatial_merge_size)) ** 2


RECORDS: tuple[ArchRecord, ...] = (
    image_record(("llava",), Layout(one_square(_tower_tokens)), derive=min_image_tokens,
                 note="LLaVA: one placeholder per selected vision-tower token"),
    # "pixtral" names both LLaVA with a Pixtral tower (an image-text type) and that tower's own config
    image_record(("pixtral",), Layout(one_square(_tower_tokens)), explicit_head_dim=False,
                 note="Pixtral tower: 2-D rotary over head_dim = hidden / heads"),
    image_record(("vipllava",), Layout(one_square(_tower_tokens)), derive=_vip_layers,
                 note="VipLLaVA: CLS cropped from a concatenation of layers"),
    image_record(("video_llava",), Layout(one_square(_tower_tokens, pixel_name="pixel_values_images")),
                 derive=min_image_tokens, note="Video-LLaVA: LLaVA's layout under the forward's image pixel name"),
    image_record(("llava_next", "llava_next_video"), Layout(_anyres), derive=_anyres_pinpoints,
                 note="LLaVA-NeXT any-resolution: crops, unpadding and row newlines"),
    image_record(("llava_onevision",), Layout(_anyres), derive=_onevision_pinpoints,
                 note="LLaVA-NeXT any-resolution, features downsampled beyond anyres_max crops"),
    image_record(("mistral3", "lighton_ocr", "mistral_large4"), Layout(_with_sizes(_spatial_merge)),
                 note="Pixtral tower with image sizes, patches merged spatially"),
    ArchRecord(("mistral_large4_text",), grouped_kv=False, fixed={"index_head_dim": 16, "index_n_heads": 2},
               note="MLA with a sparse indexer: kv heads = heads, indexer heads wider than the rotary part"),
)
