"""Families whose image becomes a fixed set of learned queries in the text: BLIP-2's Q-Former (and
InstructBLIP's), Idefics2's perceiver resampler, Kosmos-2's latent queries and Aria's cross-attention queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from harness.archs.families.derives import config_class, declared_only, free_band_ids
from harness.archs.families.layout import (
    UNNAMED_PLACEHOLDER,
    DrawImages,
    Images,
    Layout,
    grid_side,
    image_record,
    one_square,
    square_pixels,
    tiled,
    token_id,
    unnamed_placeholder_mask,
)
from harness.archs.inputs import text_ids
from harness.archs.records import ArchRecord, Derive


def _qformer(token: str) -> Derive:
    """BLIP-2-style: four query tokens read the tower (the Q-Former's cross-attention width is the tower's) and
    stand in the text as placeholders of ``token``, which releases before 4.47 leave unset (features prepended)."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        qformer = {**o["qformer_config"], "encoder_hidden_size": o["vision_config"]["hidden_size"]}
        return {"num_query_tokens": 4, "qformer_config": qformer, **free_band_ids(o, (token,))}

    return derive


def _queries(token: str, frames: int = 0, instructed: bool = False) -> DrawImages:
    """Query-token placeholders for one image (or ``frames`` video frames) per row; an ``instructed`` Q-Former
    (InstructBLIP) also reads an instruction, drawn from its own vocabulary."""

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        pixels = square_pixels(config, batch * max(frames, 1), generator)
        if frames:
            pixels = pixels.unflatten(0, (batch, frames))
        tensors = {"pixel_values": pixels}
        if instructed:
            instruction = text_ids(int(config.qformer_config.vocab_size), (batch, 3), generator)
            tensors.update(qformer_input_ids=instruction, qformer_attention_mask=torch.ones_like(instruction))
        return Images([token_id(config, token)] * int(config.num_query_tokens) * max(frames, 1), tensors)

    return images


def _idefics2(o: dict[str, Any]) -> dict[str, Any]:
    """Idefics2's perceiver resampler, shrunk here (its config shares the outer model_type in some releases): four
    latents per image, one block, two heads, writing the text width."""
    if "text_config" not in o:  # a sub-config's own level, in releases where it shares the outer model_type
        return {}
    resampler = {"resampler_n_latents": 4, "resampler_depth": 1, "resampler_n_heads": 2, "resampler_head_dim": 8,
                 "num_key_value_heads": 1, "hidden_size": o["text_config"]["hidden_size"]}
    perceiver = declared_only(config_class("idefics2", "perceiver_config"), resampler)
    return {"perceiver_config": {**o.get("perceiver_config", {}), **perceiver}}


def _latents(config: Any) -> int:
    return int(config.perceiver_config.resampler_n_latents)


def _kosmos2(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Kosmos-2: the image's latent queries fill the positions its mask marks."""
    return Images([UNNAMED_PLACEHOLDER] * int(config.latent_query_num),
                  {"pixel_values": square_pixels(config, batch, generator)})


def _aria(o: dict[str, Any]) -> dict[str, Any]:
    """Aria's projector maps a patch count to a query count: the tiny grid's 16 patches to 4 queries."""
    vision = o["vision_config"]
    return {"projector_patch_to_query_dict": {(vision["image_size"] // vision["patch_size"]) ** 2: 4}}


def _aria_queries(config: Any) -> int:
    return int(config.projector_patch_to_query_dict[grid_side(config) ** 2])


def _masked(count: Callable[[Any], int]) -> DrawImages:
    """A square image with its (all-valid) pixel mask."""
    plain = one_square(count)

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        drawn = plain(config, batch, generator)
        pixels = drawn.tensors["pixel_values"]
        mask = torch.ones(pixels.shape[0], *pixels.shape[-2:], dtype=torch.bool)
        return Images(drawn.tokens, {"pixel_values": pixels, "pixel_mask": mask})

    return images


RECORDS: tuple[ArchRecord, ...] = (
    image_record(("blip-2",), Layout(_queries("image_token_index")), derive=_qformer("image_token_index"),
                 note="BLIP-2: Q-Former query tokens as placeholders"),
    image_record(("instructblip",), Layout(_queries("image_token_index", instructed=True)),
                 derive=_qformer("image_token_index"), note="InstructBLIP: query tokens read an instruction too"),
    image_record(("instructblipvideo",),
                 Layout(_queries("video_token_index", frames=2, instructed=True), placeholder="video_token_index"),
                 derive=_qformer("video_token_index"), note="InstructBLIP-Video: query tokens for each of two frames"),
    image_record(("idefics2",), Layout(tiled(_latents), placeholder="image_token_id"), derive=_idefics2,
                 note="Idefics2: a perceiver resampler's latents per image"),
    image_record(("kosmos-2",), Layout(_kosmos2, placeholder=None, extras=unnamed_placeholder_mask),
                 fixed={"latent_query_num": 4}, note="Kosmos-2: latent queries at the positions a mask marks"),
    image_record(("aria",), Layout(_masked(_aria_queries)), derive=_aria,
                 note="Aria: cross-attention queries per image, counted by the patch-to-query map"),
)
