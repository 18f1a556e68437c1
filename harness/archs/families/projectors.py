"""Families that turn a square image into a fixed number of placeholders, counted from what their projector
does to the patch grid: keep it (PaliGemma, Janus, DeepSeek-VL), pool it (Gemma3), pixel-shuffle it (InternVL, Aya
Vision, Llama4, Idefics3), convolve it (GOT-OCR2), or run DaViT stages over it (Florence-2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from harness.archs.families.derives import min_image_tokens, text_width
from harness.archs.families.layout import (
    Images,
    Layout,
    grid_side,
    image_record,
    one_square,
    random_pixels,
    side_of,
    tiled,
    token_id,
)
from harness.archs.records import ArchRecord


def _patch_tokens(config: Any) -> int:
    return grid_side(config) ** 2


def _hybrid_sam(o: dict[str, Any]) -> dict[str, Any]:
    """DeepSeek-VL hybrid's SAM high-resolution tower: windows of 2 over its 4 x 4 grid, the first block global (the
    aligner taps it)."""
    return {"high_res_vision_config": {**o["high_res_vision_config"], "window_size": 2, "global_attn_indexes": [0]}}


def _two_resolutions(config: Any, batch: int, generator: torch.Generator) -> Images:
    """The image at the low-resolution tower's size and again at the high-resolution tower's."""
    drawn = one_square(_patch_tokens, placeholder="image_token_id")(config, batch, generator)
    high = config.high_res_vision_config
    size = side_of(high.image_size)
    high_res = random_pixels(generator, batch, int(high.num_channels), size, size)
    return Images(drawn.tokens, {**drawn.tensors, "high_res_pixel_values": high_res})


def _janus_widths(o: dict[str, Any]) -> dict[str, Any]:
    """Janus's understanding aligner and generation heads project to the text width."""
    hidden = o["text_config"]["hidden_size"]
    return {"vision_config": {**o["vision_config"], "projection_dim": hidden},
            "vq_config": {**o["vq_config"], "projection_dim": hidden, "image_token_embed_dim": hidden}}


def _gemma3_tokens(o: dict[str, Any]) -> dict[str, Any]:
    """Gemma3 average-pools the patch grid down to ``mm_tokens_per_image`` (a square that divides the grid)."""
    return {"mm_tokens_per_image": 4}


def _mm_tokens(config: Any) -> int:
    return int(config.mm_tokens_per_image)


def _shuffled_tokens(factor: Callable[[Any], float]) -> Callable[[Any], int]:
    """Pixel-shuffle projectors fold ``1/factor`` patches per side into one token."""

    def count(config: Any) -> int:
        return round(grid_side(config) * factor(config)) ** 2

    return count


def _per_downsample_factor(config: Any) -> float:
    return 1 / int(config.downsample_factor)


def _downsample_ratio(config: Any) -> float:
    return float(config.downsample_ratio)


def _per_scale_factor(config: Any) -> float:
    return 1 / int(config.scale_factor)


def _pixel_shuffle_ratio(config: Any) -> float:
    return float(config.vision_config.pixel_shuffle_ratio)


def _halved_twice(config: Any) -> int:
    """Two stride-2 convolutions (GOT-OCR2's projector) over the patch grid."""
    side = math.ceil(math.ceil(grid_side(config) / 2) / 2)
    return side**2


def _sam_windows(o: dict[str, Any]) -> dict[str, Any]:
    """SAM's windowed attention over a 4 x 4 grid: windows of 2, the last layer global (set from the outer config:
    some releases give the tower config no model_type for a record of its own)."""
    vision = o["vision_config"]
    windows = {"window_size": 2, "global_attn_indexes": [vision["num_hidden_layers"] - 1]}
    return {**min_image_tokens(o), "vision_config": {**vision, **windows}}


def _llama4_adapter(o: dict[str, Any]) -> dict[str, Any]:
    """The pixel-shuffle MLP reads 4 x hidden (ratio 0.5) and its output width is the tower's output width."""
    hidden = o["hidden_size"]
    return {"intermediate_size": hidden * 4, "projector_input_dim": hidden, "projector_output_dim": hidden,
            "vision_output_dim": hidden}


#: the pixel side of images for towers whose config names no image size
_IMAGE_SIDE = 32


def _davit_stage(o: dict[str, Any]) -> dict[str, Any]:
    """Florence-2's DaViT tower as one stage (its fields are per-stage lists): 8 x 8 patches, windows of 2."""
    width = o.get("embed_dim", 16)
    if isinstance(width, list):  # the generic shrink keeps a per-stage list per-stage
        width = width[0]
    return {"depths": [1], "patch_size": [8], "patch_stride": [8], "patch_padding": [0], "patch_prenorm": [False],
            "embed_dim": [width], "num_heads": [2], "num_groups": [2], "window_size": 2}


def _davit_tokens(config: Any) -> int:
    """The tower's final grid (each stage a strided convolution), plus one token pooled over it."""
    vision, side = config.vision_config, _IMAGE_SIDE
    for kernel, stride, padding in zip(vision.patch_size, vision.patch_stride, vision.patch_padding, strict=False):
        side = (side + 2 * padding - kernel) // stride + 1
    return side**2 + 1


def _florence_image(config: Any, batch: int, generator: torch.Generator) -> Images:
    channels = int(config.vision_config.in_channels)
    return Images([token_id(config, "image_token_id")] * _davit_tokens(config),
                  {"pixel_values": random_pixels(generator, batch, channels, _IMAGE_SIDE, _IMAGE_SIDE)})


def _florence_projection(o: dict[str, Any]) -> dict[str, Any]:
    """DaViT's projection writes the width of the BART model."""
    return {"vision_config": {**o["vision_config"], "projection_dim": o["text_config"]["d_model"]}}


RECORDS: tuple[ArchRecord, ...] = (
    image_record(("paligemma",), Layout(one_square(_patch_tokens)),
                 derive=text_width("hidden_size", "projection_dim"),
                 note="PaliGemma: one placeholder per SigLIP patch"),
    image_record(("deepseek_vl",), Layout(one_square(_patch_tokens), placeholder="image_token_id"),
                 note="DeepSeek-VL: one placeholder per SigLIP patch"),
    image_record(("deepseek_vl_hybrid",), Layout(_two_resolutions, placeholder="image_token_id"), derive=_hybrid_sam,
                 note="DeepSeek-VL hybrid: SigLIP patches fused with a SAM high-resolution tower"),
    image_record(("ovis2",), Layout(one_square(_patch_tokens), placeholder="image_token_id"),
                 derive=text_width("hidden_size"),
                 note="Ovis2: soft visual words per patch from a visual embedding table"),
    image_record(("janus",), Layout(one_square(_patch_tokens), placeholder="image_token_id"), derive=_janus_widths,
                 note="Janus (understanding path): one placeholder per SigLIP patch"),
    image_record(("gemma3", "shieldgemma2"),
                 Layout(one_square(_mm_tokens, wrap=("boi_token_index", "eoi_token_index"))),
                 derive=_gemma3_tokens, note="Gemma3: pooled patches between begin/end-of-image tokens"),
    image_record(("aya_vision", "cohere2_vision"),
                 Layout(one_square(_shuffled_tokens(_per_downsample_factor)), placeholder="image_token_id"),
                 note="pixel shuffle by downsample_factor"),
    image_record(("internvl", "qianfan_ocr"),
                 Layout(one_square(_shuffled_tokens(_downsample_ratio)), placeholder="image_token_id"),
                 note="InternVL: CLS cropped, then pixel shuffle by downsample_ratio"),
    image_record(("idefics3", "smolvlm"),
                 Layout(tiled(_shuffled_tokens(_per_scale_factor)), placeholder="image_token_id"),
                 note="Idefics3: images per row with a pixel mask, pixel shuffle by scale_factor"),
    image_record(("llama4",), Layout(one_square(_shuffled_tokens(_pixel_shuffle_ratio),
                                                wrap=("boi_token_index", "eoi_token_index"))),
                 note="Llama4: pixel shuffle in the vision adapter"),
    ArchRecord(("llama4_vision_model",), fixed={"pixel_shuffle_ratio": 0.5}, derive=_llama4_adapter,
               note="Llama4 vision adapter widths follow the tower width"),
    image_record(("got_ocr2", "pp_chart2table"), Layout(one_square(_halved_twice)), derive=_sam_windows,
                 note="GOT-OCR2: two stride-2 convolutions over the SAM patch grid"),
    image_record(("florence2",), Layout(_florence_image, placeholder="image_token_id", text="both",
                                        language_model="model.language_model.decoder"),
                 derive=_florence_projection,
                 note="Florence-2: DaViT features as placeholders in the BART encoder, the text again in the decoder "
                      "(the outer forward calls the BART encoder and decoder one by one)"),
    ArchRecord(("florence_vision",), derive=_davit_stage, note="DaViT as one stage of per-stage lists"),
)
