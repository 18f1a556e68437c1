"""Families that read an image as words of the vocabulary, looked up from VQ codes (Chameleon, Emu3), and the
tiny VQ-GANs they and Janus's image generation use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from harness.archs.families.derives import free_band_ids
from harness.archs.families.layout import TASK, Images, Layout, image_record, random_pixels
from harness.archs.records import ArchRecord, Derive, Gate

#: codebook entries of the tiny VQ-GANs (their words need ids in the reserved band)
_VQ_CODES = 4
#: a tiny VQ-GAN: 32 channels (its group norms take 32 groups) at three levels, so a 16-pixel image is 4 x 4 codes
_TINY_VQGAN = {"base_channels": 32, "latent_channels": 32, "embed_dim": 16, "channel_multiplier": [1, 1, 1],
               "num_res_blocks": 1, "resolution": 16, "num_embeddings": _VQ_CODES}
#: Emu3's VQ-VAE, as tiny: 3-D convolutions over two repeated frames, attention at no level
_TINY_EMU3_VQ = {"base_channels": 32, "latent_channels": 4, "embed_dim": 4, "channel_multiplier": [1, 1, 1],
                 "num_res_blocks": 1, "codebook_size": _VQ_CODES, "temporal_downsample_factor": 2,
                 "attn_resolutions": [], "hidden_size": 32}
#: the pixel side of Emu3's tiny images
_EMU3_SIDE = 16


def _image_words(word: Callable[[int], str], specials: tuple[str, ...] = ()) -> Derive:
    """VQ families read images as words: each code names a vocabulary entry (``word(code)``). The ``<image>``
    placeholder, the ``specials`` and the code words get ids in the free reserved band, so no drawn text id is an
    image word."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        vocabulary = free_band_ids(o, ("<image>", *specials, *(word(code) for code in range(_VQ_CODES))))
        return {"vocabulary_map": vocabulary, "image_token_id": vocabulary["<image>"]}

    return derive


def _chameleon_word(code: int) -> str:
    return "IMGIMG" + "".join(chr(ord("A") + int(digit)) for digit in str(code)) + "Z"


def _emu3_word(code: int) -> str:
    return f"<|visual token{code:06d}|>"


def _vq_codes(config: Any) -> int:
    vq = config.vq_config
    return (int(vq.resolution) // 2 ** (len(vq.channel_multiplier) - 1)) ** 2


def _vq_image(config: Any, batch: int, generator: torch.Generator) -> Images:
    """A square image of the VQ-GAN's resolution, one placeholder per code it becomes."""
    vq = config.vq_config
    size = int(vq.resolution)
    return Images([int(config.vocabulary_map["<image>"])] * _vq_codes(config),
                  {"pixel_values": random_pixels(generator, batch, int(vq.in_channels), size, size)})


def _emu3_image(config: Any, batch: int, generator: torch.Generator) -> Images:
    """A padded square image and its drawn true size (multiples of the VQ's downsampling): one placeholder per code
    of the true size, plus an end-of-line per row of codes."""
    vq = config.vq_config
    factor = 2 ** (len(vq.channel_multiplier) - 1)
    rows, cols = (int(v) for v in torch.randint(1, _EMU3_SIDE // factor + 1, (2,), generator=generator))
    pixels = random_pixels(generator, batch, int(vq.in_channels), _EMU3_SIDE, _EMU3_SIDE)
    return Images([int(config.vocabulary_map["<image>"])] * rows * (cols + 1),
                  {"pixel_values": pixels, "image_sizes": torch.tensor([[rows * factor, cols * factor]] * batch)})


RECORDS: tuple[ArchRecord, ...] = (
    image_record(("chameleon",), Layout(_vq_image, placeholder="image_token_id"),
                 derive=_image_words(_chameleon_word),
                 note="Chameleon: VQ codes looked up as image words of the vocabulary"),
    ArchRecord(("chameleon_vqgan",), fixed=_TINY_VQGAN, note="a tiny VQ-GAN: 4 x 4 codes from 16 pixels"),
    image_record(("emu3",), Layout(_emu3_image, placeholder="image_token_id"),
                 derive=_image_words(_emu3_word, ("<|extra_200|>",)),
                 unsupported=(Gate("<5", "Emu3ForConditionalGeneration.forward takes pixel_values but does not "
                                         "pass them to its model before transformers 5: the image never reaches it",
                                   (TASK,)),),
                 note="Emu3: VQ codes as image words, an end-of-line word closing each row"),
    ArchRecord(("emu3_vqgan",), fixed=_TINY_EMU3_VQ, note="a tiny 3-D VQ-VAE: 4 codes, downsampling by 4"),
    ArchRecord(("janus_vqgan",), fixed={"base_channels": 32, "channel_multiplier": [1, 1], "num_res_blocks": 1,
                                        "num_embeddings": 64},
               note="the image-generation VQ-GAN: 32 channels (its group norms take 32 groups), two levels, 64 codes"),
)
