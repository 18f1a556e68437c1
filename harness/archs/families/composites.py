"""Multimodal composites whose records only fit their parts together (widths, layer taps, per-stage lists) or
say why they cannot run here; none lays out images of its own.
"""

from __future__ import annotations

from typing import Any

from harness.archs.families.derives import text_width
from harness.archs.families.layout import TASK
from harness.archs.records import ArchRecord, Gate


def _granite4_vision(o: dict[str, Any]) -> dict[str, Any]:
    """Granite 4 Vision: one deepstack pair (last tower layer into the last text layer), the four spatial groups into
    the last text layer, windows halved; its Q-Former takes one head per 64 of the tower width."""
    last = o["text_config"]["num_hidden_layers"] - 1
    return {"deepstack_layer_map": [[-1, last]], "spatial_target_layers": [last] * 4, "downsample_rate": "1/2",
            "vision_config": {**o["vision_config"], "hidden_size": 64}}


def _last_layer_sparse(o: dict[str, Any]) -> dict[str, Any]:
    """Per-layer MLP kinds for a text default that lists none: dense layers, then MoE at the last one."""
    text = o["text_config"]
    kinds = ["dense"] * (text["num_hidden_layers"] - 1) + ["sparse"]
    return {"text_config": {**text, "mlp_layer_types": kinds}}


def _sam_neck(o: dict[str, Any]) -> dict[str, Any]:
    """The SAM neck's downsampling convolutions: from the neck's output channels into the encoder's width."""
    sam = o["sam_config"]
    return {"sam_config": {**sam, "downsample_channels": [sam["output_channels"], o["encoder_config"]["hidden_size"]]}}


def _molmo2_taps(o: dict[str, Any]) -> dict[str, Any]:
    """The two tower layers Molmo2's adapter concatenates, indexed within the tiny tower."""
    return {"adapter_config": {**o["adapter_config"], "vision_feature_layer": [-1, 0]}}


def _video_patches_at_both_levels(o: dict[str, Any]) -> dict[str, Any]:
    """Nemotron-H Omni's tower keeps its own copy of the video temporal patch size: both set alike."""
    return {"video_temporal_patch_size": 2, "vision_config": {**o["vision_config"], "video_temporal_patch_size": 2}}


def _step3p7_window(o: dict[str, Any]) -> dict[str, Any]:
    """A window of 4 for the sliding-window mask Step3p7's text model builds whatever its layer kinds."""
    return {"text_config": {**o["text_config"], "sliding_window": 4}}


RECORDS: tuple[ArchRecord, ...] = (
    ArchRecord(("inkling2",), derive=text_width("vision_config.text_hidden_size"),
               note="Inkling2: the vision tower projects to the text width itself"),
    ArchRecord(("granite_docling",), derive=text_width("vision_config.out_hidden_size"),
               note="Granite-Docling: the vision tower projects to the text width itself"),
    ArchRecord(("muse_spark",), derive=text_width("audio_config.out_hidden_size"),
               note="Muse Spark: audio features are scattered into the text sequence at its width"),
    ArchRecord(("muse_spark_audio",), fixed={"hidden_sizes": [16, 16, 16, 16], "depths": [1, 1, 1, 1]},
               note="Muse Spark's audio tower: its four downsampling stages (per-stage lists), each one narrow block"),
    ArchRecord(("dots3_note",), derive=text_width("vision_config.adapter_out_dim", "audio_config.adapter_out_dim"),
               note="Dots3 Note: the vision and audio adapters write the text width"),
    ArchRecord(("molmo2",), derive=_molmo2_taps,
               note="Molmo2: the adapter concatenates two tower layers, indexed within the tiny tower"),
    ArchRecord(("nemotron_h_omni",), derive=_video_patches_at_both_levels,
               note="Nemotron-H Omni: the tower keeps its own copy of the video temporal patch size (both set)"),
    ArchRecord(("granite4_vision",), derive=_granite4_vision,
               note="Granite 4 Vision: deepstack and spatial projectors inject into the tiny text model's last layer"),
    ArchRecord(("deepseek_ocr2",), derive=_last_layer_sparse,
               note="DeepSeek-OCR-2: dense MLPs, then MoE at the last layer (the default lists no layer kinds)"),
    ArchRecord(("unlimited_ocr_text",), grouped_kv=False,
               note="Unlimited-OCR's eager attention does not repeat kv heads: as many as query heads"),
    ArchRecord(("deepseek_ocr2_vision", "unlimited_ocr_vision"), derive=_sam_neck,
               note="SAM neck of the OCR towers: two narrow downsampling convolutions into the encoder width"),
    ArchRecord(("step3p7",), derive=_step3p7_window,
               note="Step3p7: the text model builds a sliding-window mask whatever its layer kinds; a window of 4"),
    ArchRecord(("pi0",), unsupported=(Gate("", "PI0 is a robot action policy: its forward needs the robot state "
                                               "and predicts flow-matching actions, not text; the harness makes no "
                                               "such inputs", (TASK,)),),
               note="listed by the image-text-to-text mapping, but a vision-language-action model"),
    ArchRecord(("evolla",), unsupported=(Gate("", "Evolla reads protein sequences and structure tokens, not "
                                                  "images: the harness makes no such inputs", (TASK,)),),
               note="listed by the image-text-to-text mapping, but a protein-language model"),
)
