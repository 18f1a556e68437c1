"""Qwen-VL and the families on its layout (GLM-4V, PaddleOCR-VL, the Qwen-Omni thinkers, …): a drawn grid of
patches merged 2 x 2, and multimodal rotary (M-RoPE) sections fitted to the tiny text heads, which ERNIE-4.5-VL and
HunYuan-VL need too.
"""

from __future__ import annotations

from typing import Any

import torch

from harness.archs.families.derives import config_class, declared_only, free_band_ids, rope_settings
from harness.archs.families.layout import (
    DrawImages,
    Images,
    Layout,
    first_of,
    image_record,
    random_pixels,
    side_of,
    token_id,
)
from harness.archs.records import ArchRecord, Derive

#: token fields of the Qwen-VL layout; releases before 4.47 keep them out of the config defaults
_QWEN_TOKENS = ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")


def _mrope(level: dict[str, Any], config_cls: type, axes: int = 3, pair_first: bool = False) -> dict[str, Any]:
    """Multimodal rotary sections splitting exactly the rotary half-width of the drawn text heads
    (``partial_rotary_factor`` of them): a (height, width) pair alike, after the ``axes - 2`` that share the rest
    (time, or HunYuan-VL's extra sequence axes), or before them for a family that lists the pair first (ERNIE)."""
    defaults = config_cls().to_dict()
    rope = next((defaults[k] for k in ("rope_parameters", "rope_scaling") if defaults.get(k)), {})
    partial = rope.get("partial_rotary_factor", defaults.get("partial_rotary_factor")) or 1.0
    head_dim = level.get("head_dim") or level["hidden_size"] // level["num_attention_heads"]
    half = int(head_dim * partial) // 2
    side = half * 3 // 8
    shares = [(half - 2 * side) // (axes - 2)] * (axes - 2)
    shares[0] += half - 2 * side - sum(shares)
    sections = [*shares, side, side]
    return rope_settings(config_cls, mrope_section=sections[::-1] if pair_first else sections)


def _text_mrope(model_type: str, axes: int = 3, pair_first: bool = False) -> Derive:
    """Multimodal rotary sections (see :func:`_mrope`) for the text config of ``model_type``, whose default leaves
    them out or sizes them for the full-size heads."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        text = o["text_config"]
        return {"text_config": {**text, **_mrope(text, config_class(model_type, "text_config"), axes, pair_first)}}

    return derive


def _qwen_vl(model_type: str, tokens: tuple[str, ...] = ()) -> Derive:
    """Qwen-VL-style configs, whichever level a release keeps each part at (text fields flat before 4.48, in a
    text_config after): rotary sections for the text attention, the tower settings, and the token ``tokens``
    that a release leaves out of its defaults."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        if "vision_config" not in o:  # the tower's own level, in releases where it shares the outer model_type
            return {}
        if "text_config" in o:
            text = o["text_config"]
            out = {"text_config": {**text, **_mrope(text, config_class(model_type, "text_config"))}}
        else:
            text = o
            out = _mrope(o, config_class(model_type))
        out.update(free_band_ids(o, tokens))
        tower = _qwen_tower(o["vision_config"], text["hidden_size"])
        tower = declared_only(config_class(model_type, "vision_config"), tower)
        out["vision_config"] = {**o["vision_config"], **tower}
        return out

    return derive


def _qwen_tower(vision: dict[str, Any], text_hidden: int) -> dict[str, Any]:
    """The merger writes the text width: ``out_hidden_size``, or in Qwen2-VL's tower (whose width is ``embed_dim``)
    ``hidden_size``; towers with neither leave it to a projector. Windowed attention spans two merged patches with
    the last block global; deep-stack taps read the first block; a 4 x 4 learned position grid is interpolated."""
    layers = vision.get("depth", vision.get("num_hidden_layers", 1))
    merger = next((name for name in ("out_hidden_size", "embed_dim") if name in vision), None)
    width = {} if merger is None else {"out_hidden_size" if merger == "out_hidden_size" else "hidden_size": text_hidden}
    return {**width, "window_size": 2 * 2 * vision.get("patch_size", 8), "fullatt_block_indexes": [layers - 1],
            "deepstack_visual_indexes": [0], "num_position_embeddings": 16}


def _patch_grid(wrap: tuple[str, str] | None, square_patches: bool = False) -> DrawImages:
    """A drawn grid of patches (a multiple of the merge size per side, one temporal frame) as the Qwen-VL processors
    lay it out: flattened (channels x frames x patch x patch), or as ``square_patches`` (channels, patch, patch);
    the placeholders sit between the two ``wrap`` tokens, if any."""

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        vision = config.vision_config
        merge = int(vision.spatial_merge_size)
        rows, cols = (merge * int(v) for v in torch.randint(1, 3, (2,), generator=generator))
        channels, side = int(first_of(vision, "in_channels", "in_chans", "num_channels")), side_of(vision.patch_size)
        if square_patches:
            pixels = random_pixels(generator, batch * rows * cols, channels, side, side)
        else:
            frames = int(getattr(vision, "temporal_patch_size", 1))  # towers without one patch single frames
            pixels = random_pixels(generator, batch * rows * cols, channels * frames * side**2)
        tokens = [token_id(config, "image_token_id")] * (rows * cols // merge**2)
        if wrap:
            tokens = [token_id(config, wrap[0]), *tokens, token_id(config, wrap[1])]
        return Images(tokens, {"pixel_values": pixels, "image_grid_thw": torch.tensor([[1, rows, cols]] * batch)})

    return images


def _mm_token_types(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-token modality (1 for image placeholders, 0 for text) that newer releases read to place M-RoPE."""
    return {"mm_token_type_ids": (ids == token_id(config, "image_token_id")).int()}


_QWEN_LAYOUT = Layout(_patch_grid(("vision_start_token_id", "vision_end_token_id")), placeholder="image_token_id",
                      extras=_mm_token_types)
_PADDLE_LAYOUT = Layout(_patch_grid(("vision_start_token_id", "vision_end_token_id"), square_patches=True),
                        placeholder="image_token_id", extras=_mm_token_types)
_UNWRAPPED_LAYOUT = Layout(_patch_grid(None), placeholder="image_token_id", extras=_mm_token_types)
_GLM_LAYOUT = Layout(_patch_grid(("image_start_token_id", "image_end_token_id")), placeholder="image_token_id",
                     extras=_mm_token_types)


RECORDS: tuple[ArchRecord, ...] = (
    *(image_record((mt,), _QWEN_LAYOUT, derive=_qwen_vl(mt, _QWEN_TOKENS),
                   note="Qwen-VL: flattened patch grid, merged 2 x 2, multimodal rotary positions")
      for mt in ("qwen2_vl", "qwen2_5_vl")),
    *(image_record((mt,), _QWEN_LAYOUT, derive=_qwen_vl(mt), note="Qwen-VL layout")
      for mt in ("qwen3_vl", "qwen3_vl_moe", "cosmos3_omni", "cosmos3_edge", "qwen3_5", "qwen3_5_moe", "lfm3_vl",
                 "qwen4_exp")),
    *(image_record((mt,), _QWEN_LAYOUT, derive=_qwen_vl(mt, ("vision_start_token_id", "vision_end_token_id")),
                   note="Qwen-Omni thinker: the Qwen-VL layout (the vision start/end ids its config leaves out)")
      for mt in ("qwen2_5_omni_thinker", "qwen3_omni_moe_thinker")),
    *(image_record((mt,), _UNWRAPPED_LAYOUT, derive=_qwen_vl(mt), note="the Qwen-VL patch layout, no start/end tokens")
      for mt in ("exaone4_5", "hyperclovax_vision_v2")),
    image_record(("paddleocr_vl",), _PADDLE_LAYOUT, derive=_qwen_vl("paddleocr_vl"),
                 note="PaddleOCR-VL: the Qwen-VL layout with unflattened patches"),
    *(image_record((mt,), _GLM_LAYOUT, derive=_qwen_vl(mt), note="GLM-4V: the Qwen-VL layout between image start/end")
      for mt in ("glm4v", "glm4v_moe", "glm46v", "glmga", "glm_ocr", "glm5_next")),
    ArchRecord(("ernie4_5_vl_moe",), derive=_text_mrope("ernie4_5_vl_moe", pair_first=True),
               note="ERNIE-4.5-VL: rotary sections for the tiny text heads"),
    ArchRecord(("hunyuan_vl",), derive=_text_mrope("hunyuan_vl", axes=4),
               note="HunYuan-VL: four rotary sections (its default has none, yet the rotary embedding needs them)"),
)
