"""Hypothesis strategies that draw tiny model configs, valid by construction.

``arch_spec(model_type, task)`` draws an :class:`~harness.archs.spec.ArchSpec`: the config overrides (JSON), the
weight seed and the token range for text inputs. Geometry is drawn first and widths derived from it (head_dim and kv
heads → heads → hidden size), so no draw is filtered away. Every field a role table names (``harness.archs.fields``)
and the config declares is set; fields the config computes from others are left to it; records
(``harness.archs.families``) add what names cannot tell.
"""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st

from harness.archs import fields, introspect, layerlists
from harness.archs.families import arch_record
from harness.archs.introspect import Unbuildable
from harness.archs.records import ArchRecord
from harness.archs.spec import RESERVED_IDS, ArchSpec
from harness.archs.tasks import model_class

__all__ = ["Unbuildable", "arch_spec"]

#: a config's own special tokens take the first half of the band, a composite's outer tokens (image, …) the second
_SLOTS_PER_LEVEL = RESERVED_IDS // 2
#: fields a task sets wherever the config has them: an encoder's causal-LM head runs causally only as a decoder
_TASK_FIELDS: dict[str, dict[str, Any]] = {"causal-lm": {"is_decoder": True}}


def _special_ids(defaults: dict[str, Any], level: int) -> dict[str, Any]:
    """Special-token fields remapped into this level's slots of the reserved low band; equal ids stay equal.

    The band sits at the bottom of the vocabulary, so special ids are also valid indices of every position table
    that reuses the pad id (RoBERTa-style) and of sinusoidal tables offset by it.
    """
    band = range(level * _SLOTS_PER_LEVEL, (level + 1) * _SLOTS_PER_LEVEL)
    slots: dict[int, int] = {}

    def remap(v: int) -> int:
        if v not in slots:
            free = [b for b in band if b not in slots.values()]
            slots[v] = v if v in band and v in free else free[0] if free else band[-1]
        return slots[v]

    out: dict[str, Any] = {}
    for key in sorted(defaults):
        value = defaults[key]
        if not key.endswith(fields.TOKEN_ID_SUFFIXES):
            continue
        if value is None and key == "pad_token_id":  # classification heads need one to find the last token
            out[key] = remap(-1)
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            out[key] = remap(value)
        elif isinstance(value, list) and value and all(isinstance(v, int) and v >= 0 for v in value):
            out[key] = [remap(v) for v in value]
    if defaults.get("is_encoder_decoder") and defaults.get("decoder_start_token_id") is None and "pad_token_id" in out:
        out["decoder_start_token_id"] = out["pad_token_id"]  # T5's convention; generate and shifted labels need one
    return out


@st.composite
def _geometry(draw: st.DrawFn, rec: ArchRecord, has_kv: bool, has_head_dim: bool, min_layers: int) -> dict[str, int]:
    head_dim = draw(st.sampled_from((8, 16)))
    kv_heads = draw(st.sampled_from((1, 2)))
    groups = draw(st.sampled_from((1, 2)))  # 1: MHA; kv_heads 1 and groups 2: MQA; both 2: GQA
    if not (has_kv and rec.grouped_kv):
        kv_heads, groups = kv_heads * groups, 1
    heads = kv_heads * groups * rec.heads_multiple_of
    kv_heads *= rec.heads_multiple_of
    width = head_dim
    if has_head_dim and rec.explicit_head_dim and draw(st.booleans()):
        width = draw(st.sampled_from(tuple(w for w in (4, 8, 12, 16, 24) if w != head_dim)))
    return {
        "layers": draw(st.integers(min_layers, max(min_layers, 2))),
        "heads": heads,
        "kv_heads": kv_heads,
        "head_dim": head_dim,
        "hidden": heads * width,
        "intermediate": draw(st.sampled_from((16, 32, 48, 64))),
    }


def _set_if_used(out: dict[str, Any], defaults: dict[str, Any], names: list[str], value: Any) -> None:
    """Set the fields of ``names`` whose default is not None (None often means "this part is off")."""
    for name in names:
        if defaults.get(name) is not None:
            out[name] = value


@st.composite
def _experts(draw: st.DrawFn, config_cls: type, layers: int) -> dict[str, Any]:
    """MoE fields: few experts, top-k at most their count, MoE from the last layer on, one routing group."""
    defaults, present = introspect.defaults(config_cls), functools.partial(introspect.present, config_cls)
    out: dict[str, Any] = {}
    experts = draw(st.sampled_from((2, 4)))
    for name in present(fields.EXPERTS):
        if defaults.get(name) != 0:  # None: a broken default the family never runs with; 0: MoE switched off
            out[name] = experts
    for name in present(fields.TOP_K):
        if defaults.get(name) != 0:
            out[name] = draw(st.integers(1, experts))
    _set_if_used(out, defaults, present(fields.DENSE_PREFIX), layers - 1)
    for name in present(tuple(fields.MOE_SMALL)):  # a None here is a broken default, as for the expert counts
        out[name] = fields.MOE_SMALL[name]
    return out


def _small_parts(config_cls: type, g: dict[str, int]) -> dict[str, Any]:
    """SSM, latent-attention and vision fields: small constants, and the SSM head width derived from the drawn
    width (Mamba-2 style heads x head width = expand x hidden)."""
    defaults, present = introspect.defaults(config_cls), functools.partial(introspect.present, config_cls)
    out: dict[str, Any] = {}
    for table in (fields.SSM_SMALL, fields.MLA_SMALL, fields.VISION_SMALL):
        out.update((name, table[name]) for name in present(tuple(table)) if defaults.get(name) is not None)
    ssm_inner = next((out[n] for n in present(fields.SSM_EXPAND) if n in out), 2) * g["hidden"]
    _set_if_used(out, defaults, present(fields.SSM_HEADS), 2)
    _set_if_used(out, defaults, present(fields.SSM_HEAD_DIM), ssm_inner // 2)
    _set_if_used(out, defaults, present(fields.SSM_INNER), ssm_inner)
    _set_if_used(out, defaults, present(fields.INDEXER_HEAD_DIM), 2 * g["head_dim"])
    for name in present(fields.ROTARY):
        if isinstance(defaults.get(name), int):
            out[name] = g["head_dim"] // 2
    return out


def _per_layer(config_cls: type, chosen: dict[str, Any], layers: int) -> dict[str, Any]:
    """Per-layer lists at the drawn depth; a per-layer list of a role's value (Gemma3n's widths) repeats it."""
    defaults = introspect.defaults(config_cls)
    out: dict[str, Any] = {}
    for name in layerlists.kind_lists(config_cls):
        if name in chosen:
            value = chosen[name]
            out[name] = [value[0] if isinstance(value, list) else value] * layers
        else:
            out[name] = layerlists.shrink_kinds(defaults[name], layers)
    for name in introspect.present(config_cls, fields.LAYER_INDEX_LISTS):
        if isinstance(defaults.get(name), (list, type(None))):
            out[name] = layerlists.shrink_indices(defaults.get(name), layers)
    return out


@functools.cache
def _own_fields(config_cls: type, vocab: int | None) -> st.SearchStrategy[tuple[dict[str, Any], int | None]]:
    """Overrides for the fields of one config level (not its sub-configs), and its vocabulary (None without token
    fields): ``vocab`` where the composite has drawn one already. One strategy per (class, vocab): hypothesis
    validates a strategy instance on its first draw, so every example after the first reuses that work."""
    return _own_fields_drawn(config_cls, arch_record(getattr(config_cls, "model_type", "")), vocab)


@st.composite
def _own_fields_drawn(
    draw: st.DrawFn, config_cls: type, rec: ArchRecord, vocab: int | None
) -> tuple[dict[str, Any], int | None]:
    defaults, present = introspect.defaults(config_cls), functools.partial(introspect.present, config_cls)
    min_layers = max(rec.min_layers, layerlists.fewest_layers(config_cls))
    # latent attention expands kv to every head
    grouped = bool(present(fields.KV_HEADS)) and not present(fields.MLA_HEAD_DIMS)
    g = draw(_geometry(rec, grouped, bool(present(fields.HEAD_DIM)), min_layers))
    out: dict[str, Any] = {}
    role_values = (
        (fields.LAYERS, g["layers"]), (fields.HEADS, g["heads"]), (fields.KV_HEADS, g["kv_heads"]),
        (fields.HIDDEN, g["hidden"]), (fields.HEAD_DIM, g["head_dim"]), (fields.INTERMEDIATE, g["intermediate"]),
    )
    for names, value in role_values:
        for name in present(names):  # a role field kept as a list (one width per expert kind) stays a list
            out[name] = [value] * len(defaults[name]) if isinstance(defaults.get(name), list) else value
    for name in present(fields.MLA_HEAD_DIMS):
        if defaults.get(name):  # 0: that part is switched off (no rotary part: NoPE)
            out[name] = g["head_dim"]
    if present(fields.VOCAB) and vocab is None:
        vocab = draw(st.integers(96, 256))
    out.update((name, vocab) for name in present(fields.VOCAB))
    positions = draw(st.sampled_from((64, 128)))
    out.update((name, positions) for name in present(fields.POSITIONS))
    for name in present(fields.WINDOWS):
        if defaults.get(name) is not None:
            out[name] = draw(st.sampled_from((4, 64)))  # 4 is shorter than most drawn sequences
    out.update(draw(_experts(config_cls, g["layers"])))
    out.update(_small_parts(config_cls, g))
    out.update(_per_layer(config_cls, out, g["layers"]))
    out.update(introspect.fallback_widths(config_cls, out, g["hidden"]))
    return out, vocab if present(fields.VOCAB) else None


@functools.cache
def _overrides(
    config_cls: type, level: int = 0, vocab: int | None = None
) -> st.SearchStrategy[tuple[dict[str, Any], int | None]]:
    """Overrides for one config level and the vocabulary its text uses (None for a config without tokens).

    ``vocab`` is the composite's text vocabulary once a part has drawn it: every part with token fields shares it
    (an encoder-decoder's halves, a multimodal model's outer and text configs). One strategy per arguments, reused
    by every example (as ``_own_fields``).
    """
    return _overrides_drawn(config_cls, level, vocab)


@st.composite
def _overrides_drawn(
    draw: st.DrawFn, config_cls: type, level: int, vocab: int | None
) -> tuple[dict[str, Any], int | None]:
    rec = arch_record(getattr(config_cls, "model_type", ""))
    out: dict[str, Any] = {}
    tokens: int | None = None
    subconfigs = introspect.subconfigs(config_cls)
    for key, sub_cls in subconfigs.items():
        sub, sub_vocab = draw(_overrides(sub_cls, level + 1, vocab))
        out[key] = {"model_type": getattr(sub_cls, "model_type", ""), **sub}
        tokens = tokens if tokens is not None else sub_vocab
        vocab = vocab if vocab is not None else sub_vocab
    if introspect.has_defaults(config_cls):  # a composite without defaults of its own is only its parts
        own, own_vocab = draw(_own_fields(config_cls, vocab))
        out.update(own)
        tokens = own_vocab if own_vocab is not None else tokens
        if tokens is not None:
            out.update(_special_ids(introspect.defaults(config_cls), level=1 if level == 0 and subconfigs else 0))
    if rec.derive is not None:
        out.update(rec.derive(out))
    out.update(rec.fixed)
    for name in rec.keep:
        out.pop(name, None)
    return out, tokens


@functools.cache
def arch_spec(model_type: str, task: str) -> st.SearchStrategy[ArchSpec]:
    """Tiny configs for (model_type, task); raises :class:`Unbuildable` when the family cannot be drawn here. One
    strategy per (model_type, task), reused by every example."""
    config_cls = model_class(task, model_type).config_class
    reason = arch_record(model_type).unsupported_reason(task)
    if reason:
        raise Unbuildable(reason)
    if not arch_record(getattr(config_cls, "model_type", "")).parts:
        # fail eagerly, with the reason, when the config has no usable defaults nor parts
        introspect.defaults(config_cls)
    takes = introspect.base_keys() | set(introspect.params(config_cls))
    task_fields = {k: v for k, v in _TASK_FIELDS.get(task, {}).items() if k in takes}

    @st.composite
    def spec(draw: st.DrawFn) -> ArchSpec:
        overrides, vocab = draw(_overrides(config_cls))
        return ArchSpec(
            model_type=model_type,
            task=task,
            overrides={**overrides, **task_fields},
            seed=draw(st.integers(0, 2**31 - 1)),
            vocab=vocab or RESERVED_IDS * 2,
        )

    return spec()
