"""Records for multimodal families (LLaVA and kin): tiny images and the token layout that goes with them.

Every image-text record pairs fixed/derived config fields with a :class:`Layout`: how many placeholder tokens one
image becomes (computed from the config, never by asking the model) and which pixel tensors carry it. Inputs are
``[image segment] + [text]`` per row; the segment holds the family's wrap tokens (begin/end of image) around the
placeholders, all from the reserved low id band, so text ids drawn above it never collide with them.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import torch

from harness.archs.records import ArchRecord, Derive, Gate, MakeInputs
from harness.archs.tasks import model_class

if TYPE_CHECKING:
    from harness.archs.strategies import ArchSpec

TASK = "image-text-to-text"
#: the pixel side of images for towers whose config names no image size
_IMAGE_SIDE = 32

#: vision towers that prepend a CLS token to their patch sequence
_CLS_TOWERS = frozenset({"clip_vision_model", "internvl_vision", "blip_2_vision_model", "instructblip_vision_model"})


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
    #: where the language model sits when the generic search (:func:`language_model`) would find the wrong part
    language_model: str | None = None

    def placeholder_id(self, config: Any) -> int | None:
        """The id of the placeholder token in ``config`` (None for layouts without placeholders)."""
        return None if self.placeholder is None else _token(config, self.placeholder)

    def text_key(self) -> str:
        """The input that holds the image segment (when there is one) and the text."""
        return "decoder_input_ids" if self.text == "decoder" else "input_ids"

    def positions(self, config: Any, inputs: dict[str, torch.Tensor]) -> int:
        """The sequence length of the logits for ``inputs``: the decoder's, or the text key's plus any prefix."""
        if self.text != "input":
            return inputs["decoder_input_ids"].shape[1]
        return inputs["input_ids"].shape[1] + (self.prefix(config) if self.prefix else 0)


# ---- config helpers ---------------------------------------------------------------------------------------------


def _get(config: Any, *names: str) -> Any:
    """The first of ``names`` that ``config`` has (configs renamed fields across releases)."""
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    raise AttributeError(f"{type(config).__name__} has none of {names}; the family's record needs updating")


def _token(config: Any, name: str) -> int:
    """A token id field, under its ``_index`` or ``_id`` spelling."""
    stem = name.removesuffix("_index").removesuffix("_id")
    return int(_get(config, f"{stem}_index", f"{stem}_id"))


def _side(value: int | list[int] | tuple[int, int]) -> int:
    """One side of a square size that a config may spell as an int or a pair."""
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def _grid(config: Any) -> int:
    """Patches per side of the square image the vision tower is configured for."""
    vision = config.vision_config
    return _side(vision.image_size) // _side(vision.patch_size)


def _pixels(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(shape, generator=generator) * 2 - 1


def _square(config: Any, batch: int, generator: torch.Generator) -> torch.Tensor:
    vision = config.vision_config
    size = _side(vision.image_size)
    return _pixels(generator, batch, int(getattr(vision, "num_channels", 3)), size, size)


# ---- token counts -----------------------------------------------------------------------------------------------


def _tower_tokens(config: Any) -> int:
    """Tokens the vision tower emits for one image, after the feature-select strategy (CLS cropped by default)."""
    cls = int(config.vision_config.model_type in _CLS_TOWERS)
    cropped = int(getattr(config, "vision_feature_select_strategy", "default") == "default")
    return _grid(config) ** 2 + cls - cropped


def _patch_tokens(config: Any) -> int:
    return _grid(config) ** 2


def _shuffled_tokens(factor: Callable[[Any], float]) -> Callable[[Any], int]:
    """Pixel-shuffle projectors fold ``1/factor`` patches per side into one token."""
    return lambda config: round(_grid(config) * factor(config)) ** 2


def _halved_twice(config: Any) -> int:
    """Two stride-2 convolutions (GOT-OCR2's projector) over the patch grid."""
    side = math.ceil(math.ceil(_grid(config) / 2) / 2)
    return side**2


# ---- layouts ----------------------------------------------------------------------------------------------------


def _fixed(count: Callable[[Any], int], wrap: tuple[str, str] | None = None, placeholder: str = "image_token_index",
           pixel_name: str = "pixel_values") -> DrawImages:
    """A square image of the tower's size, ``count(config)`` placeholders, optionally between two wrap tokens."""

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        tokens = [_token(config, placeholder)] * count(config)
        if wrap:
            tokens = [_token(config, wrap[0]), *tokens, _token(config, wrap[1])]
        return Images(tokens, {pixel_name: _square(config, batch, generator)})

    return images


def _text_ids(vocab: int, shape: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """Text token ids above the reserved special-token band."""
    from harness.archs.strategies import RESERVED_IDS  # strategies imports the records: import it late

    return torch.randint(RESERVED_IDS, vocab, shape, generator=generator)


#: pixel inputs that later releases renamed ``pixel_values`` (the old name lingers as a deprecated alias)
_OLD_PIXEL_NAMES = ("pixel_values_images", "image_patches")


@functools.cache
def _named_inputs(task: str, model_type: str) -> frozenset[str]:
    return frozenset(inspect.signature(model_class(task, model_type).forward).parameters)


def _renamed(spec: ArchSpec, inputs: dict[str, Any]) -> dict[str, Any]:
    """Pixels under an older name passed as ``pixel_values`` where the forward names that."""
    for old in _OLD_PIXEL_NAMES:
        if old in inputs and "pixel_values" in _named_inputs(spec.task, spec.model_type):
            inputs["pixel_values"] = inputs.pop(old)
    return inputs


def _make_inputs(layout: Layout) -> MakeInputs:
    """The record's input maker: the image segment, then ``length`` text ids, for every row."""

    def make(spec: ArchSpec, config: Any, batch: int, length: int, generator: torch.Generator) -> dict[str, Any]:
        images = layout.images(config, batch, generator)
        text = _text_ids(spec.vocab, (batch, length), generator)
        ids = torch.cat([torch.tensor(images.tokens, dtype=torch.long).expand(batch, -1), text], dim=1)
        mask = "decoder_attention_mask" if layout.text == "decoder" else "attention_mask"
        inputs = {layout.text_key(): ids, mask: torch.ones_like(ids), **images.tensors}
        if layout.text == "both":
            inputs.update(decoder_input_ids=text.clone(), decoder_attention_mask=torch.ones_like(text))
        if layout.extras is not None:
            inputs.update(layout.extras(config, ids))
        return _renamed(spec, inputs)

    make.layout = layout  # type: ignore[attr-defined]
    return make


def layout_of(config: Any) -> Layout | None:
    """The image layout of a built model's config (None for a type without one): the record of the config's own
    model_type makes the inputs, as in :func:`harness.archs.build.sample_inputs`."""
    from harness.archs.records import record_for  # records imports this module: import it late

    return getattr(record_for(config.model_type).inputs, "layout", None)


# ---- the language model inside ----------------------------------------------------------------------------------

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


# ---- records ----------------------------------------------------------------------------------------------------


def _record(model_types: tuple[str, ...], layout: Layout, **kwargs: Any) -> ArchRecord:
    return ArchRecord(model_types, inputs=_make_inputs(layout), **kwargs)


def _min_image_tokens(o: dict[str, Any]) -> dict[str, Any]:
    """Releases before 4.47 expand placeholders themselves when fewer than ``image_seq_length`` are given."""
    vision = o.get("vision_config", {})
    return {"image_seq_length": (vision.get("image_size", 32) // vision.get("patch_size", 8)) ** 2}


@functools.cache
def _fields_of(config_cls: type) -> frozenset[str]:
    """The fields a config class takes (its signature and its defaults)."""
    return frozenset(inspect.signature(config_cls.__init__).parameters) | frozenset(config_cls().to_dict())


@functools.cache
def _config_cls(model_type: str, sub: str | None = None) -> type:
    """The config class of an image-text type, or of one of its sub-configs (read off a default instance: the
    sub-config's own model_type may name another class, or the outer one, in some releases)."""
    outer = model_class(TASK, model_type).config_class
    return outer if sub is None else type(getattr(outer(), sub))


def _declared_only(config_cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that ``config_cls`` declares (fields were renamed across releases)."""
    return {k: v for k, v in values.items() if k in _fields_of(config_cls)}


def _vip_layers(o: dict[str, Any]) -> dict[str, Any]:
    """VipLLaVA concatenates five fixed layers of a deep tower; two of a tiny tower do the same job."""
    return {**_min_image_tokens(o),
            **_declared_only(_config_cls("vipllava"),
                             {"vision_feature_layers": [-2, -1], "vision_feature_layer": [-2, -1]})}


def _gemma3_tokens(o: dict[str, Any]) -> dict[str, Any]:
    """Gemma3 average-pools the patch grid down to ``mm_tokens_per_image`` (a square that divides the grid)."""
    return {"mm_tokens_per_image": 4}


def _text_width(*names: str) -> Derive:
    """Width fields that must equal the text model's: outer ones, or ``part.field`` in a sub-config (an adapter or
    an audio tower whose output is scattered into the text sequence)."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        width = o["text_config"]["hidden_size"]
        out: dict[str, Any] = {}
        for name in names:
            part, _, field_name = name.rpartition(".")
            if part:
                out[part] = {**out.get(part, o[part]), field_name: width}
            else:
                out[name] = width
        return out

    return derive


def _chain(*derives: Derive) -> Derive:
    """The derives applied in turn, each seeing what the earlier ones set."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for step in derives:
            out.update(step({**o, **out}))
        return out

    return derive


def _llama4_adapter(o: dict[str, Any]) -> dict[str, Any]:
    """The pixel-shuffle MLP reads 4 x hidden (ratio 0.5) and its output width is the tower's output width."""
    hidden = o["hidden_size"]
    return {"intermediate_size": hidden * 4, "projector_input_dim": hidden, "projector_output_dim": hidden,
            "vision_output_dim": hidden}


def _sam_windows(o: dict[str, Any]) -> dict[str, Any]:
    """SAM's windowed attention over a 4 x 4 grid: windows of 2, the last layer global (set from the outer config:
    some releases give the tower config no model_type for a record of its own)."""
    vision = o["vision_config"]
    windows = {"window_size": 2, "global_attn_indexes": [vision["num_hidden_layers"] - 1]}
    return {**_min_image_tokens(o), "vision_config": {**vision, **windows}}


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


def _mm_tokens(config: Any) -> int:
    return int(config.mm_tokens_per_image)


def _with_sizes(count: Callable[[Any], int]) -> DrawImages:
    """Pixtral-style towers take each image's true size next to its pixels."""
    plain = _fixed(count)

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        drawn = plain(config, batch, generator)
        size = _side(config.vision_config.image_size)
        return Images(drawn.tokens, {**drawn.tensors, "image_sizes": torch.tensor([[size, size]] * batch)})

    return images


def _anyres_pinpoints(o: dict[str, Any]) -> dict[str, Any]:
    """Grid resolutions of one or two tower-sized crops, so every drawn image size maps to a tiny crop grid."""
    side = o.get("vision_config", {}).get("image_size", 32)
    return {**_min_image_tokens(o), "image_grid_pinpoints": [[side, side], [side, 2 * side], [2 * side, side]]}


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
    side, grid = _side(config.vision_config.image_size), _grid(config)
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
    side = _side(config.vision_config.image_size)
    height, width = (int(v) for v in torch.randint(side // 4, 2 * side + 1, (2,), generator=generator))
    crops, count = _anyres_tokens(config, height, width)
    pixels = _pixels(generator, batch, crops, int(config.vision_config.num_channels), side, side)
    return Images([_token(config, "image_token_index")] * count,
                  {"pixel_values": pixels, "image_sizes": torch.tensor([[height, width]] * batch)})


#: token fields of the Qwen-VL layout; releases before 4.47 keep them out of the config defaults
_QWEN_TOKENS = ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")


def _free_band_ids(o: dict[str, Any], names: tuple[str, ...]) -> dict[str, int]:
    """Ids from the outer special-token band (8..15) for the ``names`` the shrink did not set, clear of the ids it
    did."""
    used = {v for k, v in o.items() if k.endswith(("_token_id", "_token_index")) and isinstance(v, int)}
    free = (i for i in range(8, 16) if i not in used)
    return {name: next(free) for name in names if name not in o}


def _rope(config_cls: type, **settings: Any) -> dict[str, Any]:
    """``settings`` merged into the config class's own rotary settings, under the field its release uses (some
    releases leave them None yet index them)."""
    defaults = config_cls().to_dict()
    key = "rope_parameters" if "rope_parameters" in defaults else "rope_scaling"
    rope = dict(defaults.get(key) or {})
    rope.pop("type", None)  # the legacy spelling of rope_type
    return {key: {**rope, "rope_type": rope.get("rope_type", "default"), **settings}}


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
    return _rope(config_cls, mrope_section=sections[::-1] if pair_first else sections)


def _text_mrope(model_type: str, axes: int = 3, pair_first: bool = False) -> Derive:
    """Multimodal rotary sections (see :func:`_mrope`) for the text config of ``model_type``, whose default leaves
    them out or sizes them for the full-size heads."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        text = o["text_config"]
        return {"text_config": {**text, **_mrope(text, _config_cls(model_type, "text_config"), axes, pair_first)}}

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
            out = {"text_config": {**text, **_mrope(text, _config_cls(model_type, "text_config"))}}
        else:
            text = o
            out = _mrope(o, _config_cls(model_type))
        out.update(_free_band_ids(o, tokens))
        tower = _qwen_tower(o["vision_config"], text["hidden_size"])
        tower = _declared_only(_config_cls(model_type, "vision_config"), tower)
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
        channels, side = int(_get(vision, "in_channels", "in_chans", "num_channels")), _side(vision.patch_size)
        if square_patches:
            pixels = _pixels(generator, batch * rows * cols, channels, side, side)
        else:
            frames = int(getattr(vision, "temporal_patch_size", 1))  # towers without one patch single frames
            pixels = _pixels(generator, batch * rows * cols, channels * frames * side**2)
        tokens = [_token(config, "image_token_id")] * (rows * cols // merge**2)
        if wrap:
            tokens = [_token(config, wrap[0]), *tokens, _token(config, wrap[1])]
        return Images(tokens, {"pixel_values": pixels, "image_grid_thw": torch.tensor([[1, rows, cols]] * batch)})

    return images


def _mm_token_types(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-token modality (1 for image placeholders, 0 for text) that newer releases read to place M-RoPE."""
    return {"mm_token_type_ids": (ids == _token(config, "image_token_id")).int()}


def _spatial_merge(config: Any) -> int:
    return (_grid(config) // int(config.spatial_merge_size)) ** 2


def _tiled(count: Callable[[Any], int]) -> DrawImages:
    """Idefics3-style inputs: one image per row as (batch, images, channels, height, width) plus its pixel mask."""

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        pixels = _square(config, batch, generator).unsqueeze(1)
        mask = torch.ones(pixels.shape[:2] + pixels.shape[-2:], dtype=torch.bool)
        return Images([_token(config, "image_token_id")] * count(config),
                      {"pixel_values": pixels, "pixel_attention_mask": mask})

    return images


#: Mllama's tile layouts (width x height in tiles); an image's aspect-ratio id is its index here plus one
_TILE_LAYOUTS = [[1, 1], [1, 2], [2, 1]]


def _mllama(o: dict[str, Any]) -> dict[str, Any]:
    """Mllama: a cross-attention layer at the last text layer, one global and one tapped tower layer (the tower's
    output width is the tapped layers' widths concatenated), up to two tiles per image."""
    text, vision = o["text_config"], o["vision_config"]
    return {
        "text_config": {**text, "cross_attention_layers": [text["num_hidden_layers"] - 1],
                        **_rope(_config_cls("mllama", "text_config"))},
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
    pixels = _pixels(generator, batch, 1, most, int(vision.num_channels), _side(vision.image_size),
                     _side(vision.image_size))
    real = torch.tensor([1] * tiles + [0] * (most - tiles)).expand(batch, 1, most)
    return Images([_token(config, "image_token_index")],
                  {"pixel_values": pixels, "aspect_ratio_ids": torch.full((batch, 1), layout + 1),
                   "aspect_ratio_mask": real.clone()})


def _cross_attention_mask(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every position from the image token on attends to every tile (padding tiles are masked by the tower)."""
    seen = (ids == _token(config, "image_token_index")).cumsum(dim=1).clamp(max=1)
    most = int(config.vision_config.max_num_tiles)
    return {"cross_attention_mask": seen[:, :, None, None].expand(-1, -1, 1, most).contiguous()}


def _idefics2(o: dict[str, Any]) -> dict[str, Any]:
    """Idefics2's perceiver resampler, shrunk here (its config shares the outer model_type in some releases): four
    latents per image, one block, two heads, writing the text width."""
    if "text_config" not in o:  # a sub-config's own level, in releases where it shares the outer model_type
        return {}
    resampler = {"resampler_n_latents": 4, "resampler_depth": 1, "resampler_n_heads": 2, "resampler_head_dim": 8,
                 "num_key_value_heads": 1, "hidden_size": o["text_config"]["hidden_size"]}
    perceiver = _declared_only(_config_cls("idefics2", "perceiver_config"), resampler)
    return {"perceiver_config": {**o.get("perceiver_config", {}), **perceiver}}


def _latents(config: Any) -> int:
    return int(config.perceiver_config.resampler_n_latents)


def _qformer(token: str) -> Derive:
    """BLIP-2-style: four query tokens read the tower (the Q-Former's cross-attention width is the tower's) and
    stand in the text as placeholders of ``token``, which releases before 4.47 leave unset (features prepended)."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        qformer = {**o["qformer_config"], "encoder_hidden_size": o["vision_config"]["hidden_size"]}
        return {"num_query_tokens": 4, "qformer_config": qformer, **_free_band_ids(o, (token,))}

    return derive


def _queries(token: str, frames: int = 0, instructed: bool = False) -> DrawImages:
    """Query-token placeholders for one image (or ``frames`` video frames) per row; an ``instructed`` Q-Former
    (InstructBLIP) also reads an instruction, drawn from its own vocabulary."""

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        pixels = _square(config, batch * max(frames, 1), generator)
        if frames:
            pixels = pixels.unflatten(0, (batch, frames))
        tensors = {"pixel_values": pixels}
        if instructed:
            instruction = _text_ids(int(config.qformer_config.vocab_size), (batch, 3), generator)
            tensors.update(qformer_input_ids=instruction, qformer_attention_mask=torch.ones_like(instruction))
        return Images([_token(config, token)] * int(config.num_query_tokens) * max(frames, 1), tensors)

    return images


#: the first id of the outer special-token band: the placeholder of families whose config names no image token
_UNNAMED_PLACEHOLDER = 8


def _kosmos2(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Kosmos-2: the image's latent queries fill the positions its mask marks."""
    return Images([_UNNAMED_PLACEHOLDER] * int(config.latent_query_num),
                  {"pixel_values": _square(config, batch, generator)})


def _kosmos2_mask(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"image_embeds_position_mask": (ids == _UNNAMED_PLACEHOLDER).long()}


def _plain(config: Any, batch: int, generator: torch.Generator) -> Images:
    """A square image of the tower's size and no tokens: the model reads it beside the text, not inside it."""
    return Images([], {"pixel_values": _square(config, batch, generator)})


def _encoder_image(config: Any, batch: int, generator: torch.Generator) -> Images:
    """A square image of the encoder's size, for vision-encoder / text-decoder pairs."""
    encoder = config.encoder
    size = _side(encoder.image_size)
    return Images([], {"pixel_values": _pixels(generator, batch, int(encoder.num_channels), size, size)})


def _vision_text_pair(o: dict[str, Any]) -> dict[str, Any]:
    """A ViT encoder and a GPT-2 decoder that cross-attends to it; the decoder starts from its own bos."""
    decoder = o["decoder"]
    return {"decoder": {**decoder, "is_decoder": True, "add_cross_attention": True},
            "decoder_start_token_id": decoder.get("bos_token_id", 0), "pad_token_id": decoder.get("pad_token_id", 0)}


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
    patches[:, : rows * cols, 2:] = _pixels(generator, batch, rows * cols, width)
    mask = torch.zeros(batch, slots, dtype=torch.long)
    mask[:, : rows * cols] = 1
    return patches, mask


def _flattened_patches(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Pix2Struct: the encoder reads the flattened patches under their mask; the text goes to the decoder."""
    patches, mask = _flat_patch_grid(config.vision_config, batch, generator)
    return Images([], {"flattened_patches": patches, "attention_mask": mask})


def _kosmos25(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Kosmos-2.5: flattened patches; the latent queries fill the positions the position mask marks."""
    patches, _ = _flat_patch_grid(config.vision_config, batch, generator)
    return Images([_UNNAMED_PLACEHOLDER] * int(config.latent_query_num), {"flattened_patches": patches})


def _same_width(o: dict[str, Any]) -> dict[str, Any]:
    """A T5-style decoder cross-attends at its own width: the encoder writes it."""
    return {"vision_config": {**o["vision_config"], "hidden_size": o["text_config"]["hidden_size"]}}


def _git_prefix(config: Any) -> int:
    """GIT prepends the tower's tokens (CLS included) to the text."""
    return _grid(config) ** 2 + 1


def _aria(o: dict[str, Any]) -> dict[str, Any]:
    """Aria's projector maps a patch count to a query count: the tiny grid's 16 patches to 4 queries."""
    vision = o["vision_config"]
    return {"projector_patch_to_query_dict": {(vision["image_size"] // vision["patch_size"]) ** 2: 4}}


def _aria_queries(config: Any) -> int:
    return int(config.projector_patch_to_query_dict[_grid(config) ** 2])


def _masked(count: Callable[[Any], int]) -> DrawImages:
    """A square image with its (all-valid) pixel mask."""
    plain = _fixed(count)

    def images(config: Any, batch: int, generator: torch.Generator) -> Images:
        drawn = plain(config, batch, generator)
        pixels = drawn.tensors["pixel_values"]
        mask = torch.ones(pixels.shape[0], *pixels.shape[-2:], dtype=torch.bool)
        return Images(drawn.tokens, {"pixel_values": pixels, "pixel_mask": mask})

    return images


def _naflex(config: Any, batch: int, generator: torch.Generator) -> Images:
    """SigLIP2 at native resolution (LFM2-VL): a drawn grid of flattened patches (a multiple of the downsample
    factor per side), padded to the tower's patch budget, with its shape and validity mask."""
    vision, factor = config.vision_config, int(config.downsample_factor)
    most = int(vision.num_patches)
    rows, cols = (factor * int(v) for v in torch.randint(1, math.isqrt(most) // factor + 1, (2,), generator=generator))
    patches = torch.zeros(batch, most, int(vision.num_channels) * _side(vision.patch_size) ** 2)
    patches[:, : rows * cols] = _pixels(generator, batch, rows * cols, patches.shape[-1])
    mask = torch.zeros(batch, most, dtype=torch.long)
    mask[:, : rows * cols] = 1
    return Images([_token(config, "image_token_id")] * (rows * cols // factor**2),
                  {"pixel_values": patches, "spatial_shapes": torch.tensor([[rows, cols]] * batch),
                   "pixel_attention_mask": mask})


def _fuyu(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Fuyu: a drawn number of raw patches of one image per row, each embedded linearly into the place of one
    placeholder."""
    count = int(torch.randint(1, 9, (), generator=generator))
    width = int(config.num_channels) * _side(config.patch_size) ** 2
    return Images([_token(config, "image_token_id")] * count,
                  {"image_patches": _pixels(generator, batch, 1, count, width)})


def _fuyu_indices(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """The patch each position takes (-1 for text): releases before 4.47 place patches by these, not by the token."""
    placeholders = ids == _token(config, "image_token_id")
    return {"image_patches_indices": torch.where(placeholders, placeholders.long().cumsum(dim=1) - 1, -1)}


def _hybrid_sam(o: dict[str, Any]) -> dict[str, Any]:
    """DeepSeek-VL hybrid's SAM high-resolution tower: windows of 2 over its 4 x 4 grid, the first block global (the
    aligner taps it)."""
    return {"high_res_vision_config": {**o["high_res_vision_config"], "window_size": 2, "global_attn_indexes": [0]}}


def _two_resolutions(config: Any, batch: int, generator: torch.Generator) -> Images:
    """The image at the low-resolution tower's size and again at the high-resolution tower's."""
    drawn = _fixed(_patch_tokens, placeholder="image_token_id")(config, batch, generator)
    high = config.high_res_vision_config
    size = _side(high.image_size)
    high_res = _pixels(generator, batch, int(high.num_channels), size, size)
    return Images(drawn.tokens, {**drawn.tensors, "high_res_pixel_values": high_res})


def _cross_attended(config: Any, batch: int, generator: torch.Generator) -> Images:
    """Idefics: one image per row that the text cross-attends to (no placeholders in the text)."""
    return Images([], {"pixel_values": _square(config, batch, generator).unsqueeze(1)})


def _every_token_sees_the_image(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"image_attention_mask": torch.ones(*ids.shape, 1, dtype=torch.long)}


def _janus_widths(o: dict[str, Any]) -> dict[str, Any]:
    """Janus's understanding aligner and generation heads project to the text width."""
    hidden = o["text_config"]["hidden_size"]
    return {"vision_config": {**o["vision_config"], "projection_dim": hidden},
            "vq_config": {**o["vq_config"], "projection_dim": hidden, "image_token_embed_dim": hidden}}


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
        used = {v for k, v in o.items() if k.endswith(("_token_id", "_token_index")) and isinstance(v, int)}
        free = iter(i for i in range(8, 16) if i not in used)
        names = ["<image>", *specials, *(word(code) for code in range(_VQ_CODES))]
        vocabulary = {name: next(free) for name in names}
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
                  {"pixel_values": _pixels(generator, batch, int(vq.in_channels), size, size)})


def _emu3_image(config: Any, batch: int, generator: torch.Generator) -> Images:
    """A padded square image and its drawn true size (multiples of the VQ's downsampling): one placeholder per code
    of the true size, plus an end-of-line per row of codes."""
    vq = config.vq_config
    factor = 2 ** (len(vq.channel_multiplier) - 1)
    rows, cols = (int(v) for v in torch.randint(1, _EMU3_SIDE // factor + 1, (2,), generator=generator))
    pixels = _pixels(generator, batch, int(vq.in_channels), _EMU3_SIDE, _EMU3_SIDE)
    return Images([int(config.vocabulary_map["<image>"])] * rows * (cols + 1),
                  {"pixel_values": pixels, "image_sizes": torch.tensor([[rows * factor, cols * factor]] * batch)})


def _page(config: Any, batch: int, generator: torch.Generator) -> Images:
    """UDOP: a square page image of the configured size (the config is flat, T5-style)."""
    size = _side(config.image_size)
    return Images([], {"pixel_values": _pixels(generator, batch, int(config.num_channels), size, size)})


def _token_boxes(config: Any, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """A box per token, tiling the page in reading order (a 4 x 4 grid of quarter-page cells)."""
    cell = torch.arange(ids.shape[1]) % 16
    x0, y0 = (cell % 4).float() / 4, (cell // 4).float() / 4
    boxes = torch.stack([x0, y0, x0 + 0.25, y0 + 0.25], dim=-1)
    return {"bbox": boxes.expand(ids.shape[0], -1, -1).contiguous()}


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
    return Images([_token(config, "image_token_id")] * _davit_tokens(config),
                  {"pixel_values": _pixels(generator, batch, int(config.vision_config.in_channels), _IMAGE_SIDE,
                                           _IMAGE_SIDE)})


_QWEN_LAYOUT = Layout(_patch_grid(("vision_start_token_id", "vision_end_token_id")), placeholder="image_token_id",
                      extras=_mm_token_types)
_PADDLE_LAYOUT = Layout(_patch_grid(("vision_start_token_id", "vision_end_token_id"), square_patches=True),
                        placeholder="image_token_id", extras=_mm_token_types)
_UNWRAPPED_LAYOUT = Layout(_patch_grid(None), placeholder="image_token_id", extras=_mm_token_types)
_GLM_LAYOUT = Layout(_patch_grid(("image_start_token_id", "image_end_token_id")), placeholder="image_token_id",
                     extras=_mm_token_types)

RECORDS: tuple[ArchRecord, ...] = (
    _record(("llava",), Layout(_fixed(_tower_tokens)), derive=_min_image_tokens,
            note="LLaVA: one placeholder per selected vision-tower token"),
    # "pixtral" names both LLaVA with a Pixtral tower (an image-text type) and that tower's own config
    _record(("pixtral",), Layout(_fixed(_tower_tokens)), explicit_head_dim=False,
            note="Pixtral tower: 2-D rotary over head_dim = hidden / heads"),
    ArchRecord(("llama4_vision_model",), fixed={"pixel_shuffle_ratio": 0.5}, derive=_llama4_adapter,
               note="Llama4 vision adapter widths follow the tower width"),
    ArchRecord(("mistral_large4_text",), grouped_kv=False, fixed={"index_head_dim": 16, "index_n_heads": 2},
               note="MLA with a sparse indexer: kv heads = heads, indexer heads wider than the rotary part"),
    _record(("vipllava",), Layout(_fixed(_tower_tokens)), derive=_vip_layers,
            note="VipLLaVA: CLS cropped from a concatenation of layers"),
    _record(("llava_next", "llava_next_video"), Layout(_anyres), derive=_anyres_pinpoints,
            note="LLaVA-NeXT any-resolution: crops, unpadding and row newlines"),
    _record(("llava_onevision",), Layout(_anyres), derive=_onevision_pinpoints,
            note="LLaVA-NeXT any-resolution, features downsampled beyond anyres_max crops"),
    *(_record((mt,), _QWEN_LAYOUT, derive=_qwen_vl(mt, _QWEN_TOKENS), note="Qwen-VL: flattened patch grid, merged "
              "2 x 2, multimodal rotary positions") for mt in ("qwen2_vl", "qwen2_5_vl")),
    *(_record((mt,), _QWEN_LAYOUT, derive=_qwen_vl(mt), note="Qwen-VL layout")
      for mt in ("qwen3_vl", "qwen3_vl_moe", "cosmos3_omni", "cosmos3_edge", "qwen3_5", "qwen3_5_moe", "lfm3_vl",
                 "qwen4_exp")),
    *(_record((mt,), _QWEN_LAYOUT, derive=_qwen_vl(mt, ("vision_start_token_id", "vision_end_token_id")),
              note="Qwen-Omni thinker: the Qwen-VL layout (the vision start/end ids its config leaves out)")
      for mt in ("qwen2_5_omni_thinker", "qwen3_omni_moe_thinker")),
    *(_record((mt,), _UNWRAPPED_LAYOUT, derive=_qwen_vl(mt), note="the Qwen-VL patch layout, no start/end tokens")
      for mt in ("exaone4_5", "hyperclovax_vision_v2")),
    _record(("paddleocr_vl",), _PADDLE_LAYOUT, derive=_qwen_vl("paddleocr_vl"),
            note="PaddleOCR-VL: the Qwen-VL layout with unflattened patches"),
    *(_record((mt,), _GLM_LAYOUT, derive=_qwen_vl(mt), note="GLM-4V: the Qwen-VL layout between image start/end")
      for mt in ("glm4v", "glm4v_moe", "glm46v", "glmga", "glm_ocr", "glm5_next")),
    _record(("video_llava",), Layout(_fixed(_tower_tokens, pixel_name="pixel_values_images")),
            derive=_min_image_tokens, note="Video-LLaVA: LLaVA's layout under the forward's image pixel name"),
    _record(("mllama",), Layout(_tiles, placeholder=None, extras=_cross_attention_mask), derive=_mllama,
            note="Mllama: one image token; text cross-attends to the image's tiles"),
    _record(("idefics2",), Layout(_tiled(_latents), placeholder="image_token_id"), derive=_idefics2,
            note="Idefics2: a perceiver resampler's latents per image"),
    _record(("blip-2",), Layout(_queries("image_token_index")), derive=_qformer("image_token_index"),
            note="BLIP-2: Q-Former query tokens as placeholders"),
    _record(("instructblip",), Layout(_queries("image_token_index", instructed=True)),
            derive=_qformer("image_token_index"), note="InstructBLIP: query tokens read an instruction too"),
    _record(("instructblipvideo",),
            Layout(_queries("video_token_index", frames=2, instructed=True), placeholder="video_token_index"),
            derive=_qformer("video_token_index"), note="InstructBLIP-Video: query tokens for each of two frames"),
    _record(("kosmos-2",), Layout(_kosmos2, placeholder=None, extras=_kosmos2_mask), fixed={"latent_query_num": 4},
            note="Kosmos-2: latent queries at the positions a mask marks"),
    _record(("git",), Layout(_plain, placeholder=None, prefix=_git_prefix),
            note="GIT: the image's tokens prepended to the text inside the model"),
    _record(("blip",), Layout(_plain, placeholder=None), note="BLIP: the text decoder cross-attends to the image"),
    _record(("pix2struct",), Layout(_flattened_patches, placeholder=None, text="decoder"), derive=_same_width,
            note="Pix2Struct: flattened patches for the encoder, the text for the decoder"),
    ArchRecord(("pix2struct_vision_model",), fixed={"seq_len": _PIX2STRUCT_SIDE + 1}, explicit_head_dim=False,
               note="row/column tables of the tiny patch grid (index 0 is padding); width = heads x d_kv"),
    ArchRecord(("pix2struct_text_model",), explicit_head_dim=False, note="width = heads x d_kv"),
    _record(("vision-encoder-decoder",), Layout(_encoder_image, placeholder=None, text="decoder"),
            parts={"encoder": "vit", "decoder": "gpt2"}, derive=_vision_text_pair,
            note="the generic vision encoder-decoder composite, as ViT to GPT-2"),
    _record(("aria",), Layout(_masked(_aria_queries)), derive=_aria,
            note="Aria: cross-attention queries per image, counted by the patch-to-query map"),
    _record(("lfm2_vl", "lfm2-vl"), Layout(_naflex, placeholder="image_token_id"),
            derive=lambda o: {"vision_config": {**o["vision_config"], "num_patches": 16}},
            note="LFM2-VL: native-resolution SigLIP2 patches, unshuffled by downsample_factor"),
    _record(("fuyu",), Layout(_fuyu, placeholder="image_token_id", extras=_fuyu_indices),
            derive=_chain(_text_width("hidden_size"), lambda o: _free_band_ids(o, ("image_token_id",))),
            note="Fuyu: raw patches embedded linearly, one placeholder each (an id set where a release has none)"),
    _record(("ovis2",), Layout(_fixed(_patch_tokens), placeholder="image_token_id"), derive=_text_width("hidden_size"),
            note="Ovis2: soft visual words per patch from a visual embedding table"),
    _record(("deepseek_vl_hybrid",), Layout(_two_resolutions, placeholder="image_token_id"), derive=_hybrid_sam,
            note="DeepSeek-VL hybrid: SigLIP patches fused with a SAM high-resolution tower"),
    _record(("kosmos-2.5",), Layout(_kosmos25, placeholder=None, extras=_kosmos2_mask),
            fixed={"latent_query_num": 4}, note="Kosmos-2.5: latent queries over flattened patches"),
    ArchRecord(("kosmos_2_5_vision_model",), fixed={"max_num_patches": _PIX2STRUCT_SIDE + 1}, explicit_head_dim=False,
               note="row/column tables of the tiny patch grid (index 0 is padding); width = heads x head_dim"),
    _record(("idefics",), Layout(_cross_attended, placeholder=None, extras=_every_token_sees_the_image),
            note="Idefics: gated cross-attention from every text token to the row's image"),
    _record(("janus",), Layout(_fixed(_patch_tokens), placeholder="image_token_id"), derive=_janus_widths,
            note="Janus (understanding path): one placeholder per SigLIP patch"),
    ArchRecord(("janus_vqgan",), fixed={"base_channels": 32, "channel_multiplier": [1, 1], "num_res_blocks": 1,
                                        "num_embeddings": 64},
               note="the image-generation VQ-GAN: 32 channels (its group norms take 32 groups), two levels, 64 codes"),
    _record(("chameleon",), Layout(_vq_image, placeholder="image_token_id"), derive=_image_words(_chameleon_word),
            note="Chameleon: VQ codes looked up as image words of the vocabulary"),
    ArchRecord(("chameleon_vqgan",), fixed=_TINY_VQGAN, note="a tiny VQ-GAN: 4 x 4 codes from 16 pixels"),
    _record(("emu3",), Layout(_emu3_image, placeholder="image_token_id"),
            derive=_image_words(_emu3_word, ("<|extra_200|>",)),
            unsupported=(Gate("<5", "Emu3ForConditionalGeneration.forward takes pixel_values but does not pass them "
                              "to its model before transformers 5: the image never reaches it", (TASK,)),),
            note="Emu3: VQ codes as image words, an end-of-line word closing each row"),
    ArchRecord(("emu3_vqgan",), fixed=_TINY_EMU3_VQ, note="a tiny 3-D VQ-VAE: 4 codes, downsampling by 4"),
    _record(("udop",), Layout(_page, placeholder=None, extras=_token_boxes, text="both"),
            note="UDOP: boxed text tokens and the page image in the encoder, the text again in the decoder"),
    _record(("florence2",), Layout(_florence_image, placeholder="image_token_id", text="both",
                                   language_model="model.language_model.decoder"),
            derive=lambda o: {"vision_config": {**o["vision_config"],
                                                "projection_dim": o["text_config"]["d_model"]}},
            note="Florence-2: DaViT features as placeholders in the BART encoder, the text again in the decoder (the "
                 "outer forward calls the BART encoder and decoder one by one)"),
    ArchRecord(("florence_vision",), derive=_davit_stage, note="DaViT as one stage of per-stage lists"),
    _record(("pp_formulanet",), Layout(_plain, placeholder=None, text="decoder", language_model="model.decoder"),
            derive=lambda o: {"vision_config": {**o["vision_config"], "window_size": 2,
                                                "decoder_hidden_size": o["text_config"]["d_model"]}},
            note="PP-FormulaNet: a SAM-style image encoder (windows tiling its 4 x 4 grid) for a text decoder (whose "
                 "model holds both, so the decoder is named)"),
    _record(("paligemma",), Layout(_fixed(_patch_tokens)), derive=_text_width("hidden_size", "projection_dim"),
            note="PaliGemma: one placeholder per SigLIP patch"),
    _record(("gemma3", "shieldgemma2"), Layout(_fixed(_mm_tokens, wrap=("boi_token_index", "eoi_token_index"))),
            derive=_gemma3_tokens, note="Gemma3: pooled patches between begin/end-of-image tokens"),
    _record(("aya_vision", "cohere2_vision"),
            Layout(_fixed(_shuffled_tokens(lambda c: 1 / int(c.downsample_factor))), placeholder="image_token_id"),
            note="pixel shuffle by downsample_factor"),
    _record(("internvl", "qianfan_ocr"),
            Layout(_fixed(_shuffled_tokens(lambda c: float(c.downsample_ratio))), placeholder="image_token_id"),
            note="InternVL: CLS cropped, then pixel shuffle by downsample_ratio"),
    _record(("got_ocr2", "pp_chart2table"), Layout(_fixed(_halved_twice)), derive=_sam_windows,
            note="GOT-OCR2: two stride-2 convolutions over the SAM patch grid"),
    _record(("mistral3", "lighton_ocr", "mistral_large4"), Layout(_with_sizes(_spatial_merge)),
            note="Pixtral tower with image sizes, patches merged spatially"),
    _record(("llama4",), Layout(_fixed(_shuffled_tokens(lambda c: float(c.vision_config.pixel_shuffle_ratio)),
                                       wrap=("boi_token_index", "eoi_token_index"))),
            note="Llama4: pixel shuffle in the vision adapter"),
    _record(("deepseek_vl",), Layout(_fixed(_patch_tokens), placeholder="image_token_id"),
            note="DeepSeek-VL: one placeholder per SigLIP patch"),
    _record(("idefics3", "smolvlm"),
            Layout(_tiled(_shuffled_tokens(lambda c: 1 / int(c.scale_factor))), placeholder="image_token_id"),
            note="Idefics3: images per row with a pixel mask, pixel shuffle by scale_factor"),
    ArchRecord(("inkling2",), derive=_text_width("vision_config.text_hidden_size"),
               note="Inkling2: the vision tower projects to the text width itself"),
    ArchRecord(("granite_docling",), derive=_text_width("vision_config.out_hidden_size"),
               note="Granite-Docling: the vision tower projects to the text width itself"),
    ArchRecord(("muse_spark",), derive=_text_width("audio_config.out_hidden_size"),
               note="Muse Spark: audio features are scattered into the text sequence at its width"),
    ArchRecord(("muse_spark_audio",), fixed={"hidden_sizes": [16, 16, 16, 16], "depths": [1, 1, 1, 1]},
               note="Muse Spark's audio tower: its four downsampling stages (per-stage lists), each one narrow block"),
    ArchRecord(("dots3_note",), derive=_text_width("vision_config.adapter_out_dim", "audio_config.adapter_out_dim"),
               note="Dots3 Note: the vision and audio adapters write the text width"),
    ArchRecord(("molmo2",),
               derive=lambda o: {"adapter_config": {**o["adapter_config"], "vision_feature_layer": [-1, 0]}},
               note="Molmo2: the adapter concatenates two tower layers, indexed within the tiny tower"),
    ArchRecord(("nemotron_h_omni",),
               derive=lambda o: {"video_temporal_patch_size": 2,
                                 "vision_config": {**o["vision_config"], "video_temporal_patch_size": 2}},
               note="Nemotron-H Omni: the tower keeps its own copy of the video temporal patch size (both set)"),
    ArchRecord(("ernie4_5_vl_moe",), derive=_text_mrope("ernie4_5_vl_moe", pair_first=True),
               note="ERNIE-4.5-VL: rotary sections for the tiny text heads"),
    ArchRecord(("hunyuan_vl",), derive=_text_mrope("hunyuan_vl", axes=4),
               note="HunYuan-VL: four rotary sections (its default has none, yet the rotary embedding needs them)"),
    ArchRecord(("granite4_vision",), derive=_granite4_vision,
               note="Granite 4 Vision: deepstack and spatial projectors inject into the tiny text model's last layer"),
    ArchRecord(("deepseek_ocr2",), derive=_last_layer_sparse,
               note="DeepSeek-OCR-2: dense MLPs, then MoE at the last layer (the default lists no layer kinds)"),
    ArchRecord(("unlimited_ocr_text",), grouped_kv=False,
               note="Unlimited-OCR's eager attention does not repeat kv heads: as many as query heads"),
    ArchRecord(("deepseek_ocr2_vision", "unlimited_ocr_vision"), derive=_sam_neck,
               note="SAM neck of the OCR towers: two narrow downsampling convolutions into the encoder width"),
    ArchRecord(("step3p7",), derive=lambda o: {"text_config": {**o["text_config"], "sliding_window": 4}},
               note="Step3p7: the text model builds a sliding-window mask whatever its layer kinds; a window of 4"),
    ArchRecord(("pi0",), unsupported=(Gate("", "PI0 is a robot action policy: its forward needs the robot state "
                                               "and predicts flow-matching actions, not text; the harness makes no "
                                               "such inputs", (TASK,)),),
               note="listed by the image-text-to-text mapping, but a vision-language-action model"),
    ArchRecord(("evolla",), unsupported=(Gate("", "Evolla reads protein sequences and structure tokens, not "
                                                  "images: the harness makes no such inputs", (TASK,)),),
               note="listed by the image-text-to-text mapping, but a protein-language model"),
)
