"""Families that take the image beside the text rather than as placeholders in it: a decoder or gated layers
cross-attend to it (Mllama, Idefics, BLIP, the vision encoder-decoder, PP-FormulaNet), the encoder reads it next to
the boxed text (UDOP), or the model prepends its features itself (GIT).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from harness.archs.families.derives import config_class, rope_settings
from harness.archs.families.layout import (
    Images,
    Layout,
    grid_side,
    image_record,
    random_pixels,
    side_of,
    square_pixels,
    token_id,
)
from harness.archs.records import ArchRecord

#: Mllama's tile layouts (width x height in tiles); an image's aspect-ratio id is its index here plus one
_TILE_LAYOUTS = [[1, 1], [1, 2], [2, 1]]


def _mllama(o: dict[str, Any]) -> dict[str, Any]:
    """Mllama: a cross-attention layer at the last text layer, one global and one tapped tower layer (the tower's
    output width is the tapped layers' widths concatenated), up to two tiles per image."""
    text, vision = o["text_config"], o["vision_config"]
    return {
        "text_config": {**text, "cross_attention_layers": [text["num_hidden_layers"] - 1],
                        **rope_settings(config_class("mllama", "text_config"))},
        "vision_config": {**vision, "num_global_layers": 1, "intermediate_layers_indices": [0],
                          "vision_output_dim": 2 * vision["hidden_size"], "max_num_tiles": 2,
                          "supported_aspect_ratios": _TILE_LAYOUTS},
    }


def _tiles(config: Any, batch: int, generator: torch.Generator) -> Images:
    """One image per row, cut into a drawn tile layout and padded to the most tiles; the single image token opens
    the row and every token after it cross-attends to the image's real tiles."""
    vision = config.vision_config
    layout = int(torch.randint(len(vision.supported_aspect_ratios), (), generator=generator))
    tiles, most = math.prod(vision.supported_aspect_ratios[layout]), int(vision.max_num_tiles)
    side = side_of(vision.image_size)
    pixels = random_pixels(generator, batch, 1, most, int(vision.num_channels), side, side)
    real = torch.tensor([1] * tiles + [0] * (most - tiles)).expand(batch, 1, most)
    return Images([token_id(config, "image_token_index")],
                  {"pixel_values": pixels, "aspect_ratio_ids": torch.full((batch, 1), layout + 1),
                   "aspect_ratio_mask": real.clone()})


def _cross_attention_mask(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every position from the image token on attends to every tile (padding tiles are masked by the tower)."""
    seen = (ids == token_id(config, "image_token_index")).cumsum(dim=1).clamp(max=1)
    most = int(config.vision_config.max_num_tiles)
    return {"cross_attention_mask": seen[:, :, None, None].expand(-1, -1, 1, most).contiguous()}


def _cross_attended(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Idefics: one image per row that the text cross-attends to (no placeholders in the text)."""
    return Images([], {"pixel_values": square_pixels(config, batch, generator).unsqueeze(1)})


def _every_token_sees_the_image(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"image_attention_mask": torch.ones(*ids.shape, 1, dtype=torch.long)}


def _plain(config: Any, batch: int, generator: torch.Generator) -> Images:
    """A square image of the tower's size and no tokens: the model reads it beside the text, not inside it."""
    return Images([], {"pixel_values": square_pixels(config, batch, generator)})


def _git_prefix(config: Any) -> int:
    """GIT prepends the tower's tokens (CLS included) to the text."""
    return grid_side(config) ** 2 + 1


def _encoder_image(config: Any, batch: int, generator: torch.Generator) -> Images:
    """A square image of the encoder's size, for vision-encoder / text-decoder pairs."""
    encoder = config.encoder
    size = side_of(encoder.image_size)
    return Images([], {"pixel_values": random_pixels(generator, batch, int(encoder.num_channels), size, size)})


def _vision_text_pair(o: dict[str, Any]) -> dict[str, Any]:
    """A ViT encoder and a GPT-2 decoder that cross-attends to it; the decoder starts from its own bos."""
    decoder = o["decoder"]
    return {"decoder": {**decoder, "is_decoder": True, "add_cross_attention": True},
            "decoder_start_token_id": decoder.get("bos_token_id", 0), "pad_token_id": decoder.get("pad_token_id", 0)}


def _page(config: Any, batch: int, generator: torch.Generator) -> Images:
    """UDOP: a square page image of the configured size (the config is flat, T5-style)."""
    size = side_of(config.image_size)
    return Images([], {"pixel_values": random_pixels(generator, batch, int(config.num_channels), size, size)})


def _token_boxes(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """A box per token, tiling the page in reading order (a 4 x 4 grid of quarter-page cells)."""
    cell = torch.arange(ids.shape[1]) % 16
    x0, y0 = (cell % 4).float() / 4, (cell // 4).float() / 4
    boxes = torch.stack([x0, y0, x0 + 0.25, y0 + 0.25], dim=-1)
    return {"bbox": boxes.expand(ids.shape[0], -1, -1).contiguous()}


def _formulanet_encoder(o: dict[str, Any]) -> dict[str, Any]:
    """PP-FormulaNet's SAM-style encoder: windows of 2 tiling its 4 x 4 grid, writing the decoder's width."""
    return {"vision_config": {**o["vision_config"], "window_size": 2,
                              "decoder_hidden_size": o["text_config"]["d_model"]}}


RECORDS: tuple[ArchRecord, ...] = (
    image_record(("mllama",), Layout(_tiles, placeholder=None, extras=_cross_attention_mask), derive=_mllama,
                 note="Mllama: one image token; text cross-attends to the image's tiles"),
    image_record(("idefics",), Layout(_cross_attended, placeholder=None, extras=_every_token_sees_the_image),
                 note="Idefics: gated cross-attention from every text token to the row's image"),
    image_record(("blip",), Layout(_plain, placeholder=None), note="BLIP: the text decoder cross-attends to the image"),
    image_record(("git",), Layout(_plain, placeholder=None, prefix=_git_prefix),
                 note="GIT: the image's tokens prepended to the text inside the model"),
    image_record(("vision-encoder-decoder",), Layout(_encoder_image, placeholder=None, text="decoder"),
                 parts={"encoder": "vit", "decoder": "gpt2"}, derive=_vision_text_pair,
                 note="the generic vision encoder-decoder composite, as ViT to GPT-2"),
    image_record(("udop",), Layout(_page, placeholder=None, extras=_token_boxes, text="both"),
                 note="UDOP: boxed text tokens and the page image in the encoder, the text again in the decoder"),
    image_record(("pp_formulanet",), Layout(_plain, placeholder=None, text="decoder", language_model="model.decoder"),
                 derive=_formulanet_encoder,
                 note="PP-FormulaNet: a SAM-style image encoder (windows tiling its 4 x 4 grid) for a text decoder "
                      "(whose model holds both, so the decoder is named)"),
)
