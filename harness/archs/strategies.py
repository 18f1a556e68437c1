"""Hypothesis strategies that draw tiny model configs, valid by construction.

``arch_spec(model_type, task)`` draws an :class:`ArchSpec`: the config overrides (JSON), the weight seed and the
token range for text inputs. Geometry is drawn first and widths derived from it (head_dim and kv heads → heads →
hidden size), so no draw is filtered away. Every field a role table names (``harness.archs.fields``) and the config
declares is set; fields the config computes from others are left to it; records (``harness.archs.records``) add
what names cannot tell.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import asdict, dataclass
from typing import Any

from hypothesis import strategies as st

from harness.archs import fields as F
from harness.archs.records import ArchRecord, record_for
from harness.archs.tasks import model_class

#: token ids at the bottom of the vocabulary reserved for special tokens; text inputs are drawn above them
RESERVED_IDS = 16
#: a config's own special tokens take the first half of the band, a composite's outer tokens (image, …) the second
_SLOTS_PER_LEVEL = RESERVED_IDS // 2
#: fields a task sets wherever the config has them: an encoder's causal-LM head runs causally only as a decoder
_TASK_FIELDS: dict[str, dict[str, Any]] = {"causal-lm": {"is_decoder": True}}


class Unbuildable(Exception):
    """The architecture cannot be drawn in this environment; the message says why (shown as data, not hidden)."""


@dataclass(frozen=True)
class ArchSpec:
    """A drawn tiny model: everything needed to rebuild it without hypothesis."""

    model_type: str
    task: str
    overrides: dict[str, Any]
    seed: int
    #: text token ids are drawn from range(RESERVED_IDS, vocab); ids below are special tokens
    vocab: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArchSpec:
        return cls(**data)


@functools.cache
def _base_keys() -> frozenset[str]:
    from transformers import PretrainedConfig

    return frozenset(PretrainedConfig().to_dict())


@functools.cache
def _defaults(config_cls: type) -> dict[str, Any]:
    try:
        return config_cls().to_dict()
    except Exception as exc:  # noqa: BLE001 - any failure here is a reason to report, not a crash
        raise Unbuildable(f"{config_cls.__name__}() has no usable defaults: {exc}") from exc


@functools.cache
def _params(config_cls: type) -> dict[str, inspect.Parameter]:
    """The named ``__init__`` parameters of ``config_cls``."""
    skip = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    params = inspect.signature(config_cls.__init__).parameters
    return {name: p for name, p in params.items() if name != "self" and p.kind not in skip}


@functools.cache
def _declared(config_cls: type) -> frozenset[str]:
    """Fields the config class takes, after its attribute_map (names it owns, not the base class's)."""
    params = set(_params(config_cls))
    own = (params | set(_defaults(config_cls))) - _base_keys()
    return frozenset(own | {"vocab_size", "pad_token_id", "bos_token_id", "eos_token_id"} & params)


@functools.cache
def _computed(config_cls: type) -> frozenset[str]:
    """Fields the config computes from others when not given, which the strategy leaves to it: those kept without
    an ``__init__`` parameter (per-layer lists aside), and parameters defaulting to None that the default instance
    fills in (e.g. DeepSeek's ``qk_head_dim``), unless their role is one the strategy varies on purpose."""
    params, defaults = _params(config_cls), _defaults(config_cls)
    unnamed = _declared(config_cls) - set(params) - set(F.LAYER_LISTS) if params else frozenset()
    filled = {n for n, p in params.items() if p.default is None and defaults.get(n) is not None}
    return frozenset(unnamed | (filled - F.DRAWN_EVEN_IF_COMPUTED))


@functools.cache
def _settable(config_cls: type) -> frozenset[str]:
    return _declared(config_cls) - _computed(config_cls)


def _present(config_cls: type, names: tuple[str, ...]) -> list[str]:
    """Actual field names of ``config_cls`` among ``names`` (aliases resolved through attribute_map) that the
    strategy may set."""
    amap = getattr(config_cls, "attribute_map", {}) or {}
    settable = _settable(config_cls)
    found = []
    for name in names:
        # the attribute a name maps to, or the name itself where the config takes the alias as its parameter
        actual = next((c for c in (amap.get(name, name), name) if c in settable), None)
        if actual is not None and actual not in found:
            found.append(actual)
    return found


def _distinct(entries: list[Any]) -> list[Any]:
    """The kinds in a per-layer list, in order of first appearance."""
    return list(dict.fromkeys(entries))


def _shrink_layer_list(value: list[Any] | str, layers: int) -> list[Any] | str:
    """The first ``layers`` entries of a per-layer list or pattern string, with every kind of the original kept:
    a kind missing from the head replaces a repeated entry, from the end (``layers`` is at least the kind count)."""
    head = list(value[:layers])
    for kind in _distinct(list(value)):
        if kind in head:
            continue
        repeated = next(i for i in reversed(range(len(head))) if head.count(head[i]) > 1)
        head[repeated] = kind
    return "".join(head) if isinstance(value, str) else head


def _shrink_index_list(value: list[Any] | None, layers: int) -> list[int]:
    """Layer indices below ``layers``; the last layer when none is left of a list that named some, or when the
    default names none (a hybrid's attention layers: prefix tuning needs one)."""
    kept = [i for i in value or () if isinstance(i, int) and 0 <= i < layers]
    return kept or ([layers - 1] if value is None or value else [])


@functools.cache
def _layer_lists(config_cls: type) -> tuple[str, ...]:
    """Per-layer list fields: the named ones, and any list default as long as the default layer count (over 2)."""
    defaults = _defaults(config_cls)
    depth = next((defaults[n] for n in _present(config_cls, F.LAYERS) if isinstance(defaults.get(n), int)), 0)
    found = []
    for name in sorted(_settable(config_cls)):
        value = defaults.get(name)
        if name in F.LAYER_INDEX_LISTS or not isinstance(value, (list, str)) or not value:
            continue
        named = name in F.LAYER_LISTS
        if (named or (isinstance(value, list) and depth > 2 and len(value) == depth)) and _hashable(value):
            found.append(name)
    return tuple(found)


def _hashable(value: list[Any] | str) -> bool:
    return all(isinstance(v, (str, int, float, bool, type(None))) for v in value)


def _kinds(config_cls: type) -> int:
    """The most kinds of layer any per-layer list holds: the fewest layers that keep them all."""
    defaults = _defaults(config_cls)
    return max((len(_distinct(list(defaults[n]))) for n in _layer_lists(config_cls)), default=1)


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
        if not key.endswith(F.TOKEN_ID_SUFFIXES):
            continue
        if value is None and key == "pad_token_id":  # classification heads need one to find the last token
            out[key] = remap(-1)
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            out[key] = remap(value)
        elif isinstance(value, list) and value and all(isinstance(v, int) and v >= 0 for v in value):
            out[key] = [remap(v) for v in value]
    return out


def issubclass_safe(value: Any, base: type) -> bool:
    return isinstance(value, type) and issubclass(value, base)


@functools.cache
def _has_defaults(config_cls: type) -> bool:
    try:
        _defaults(config_cls)
    except Unbuildable:
        return False
    return True


@functools.cache
def _subconfigs(config_cls: type) -> dict[str, type]:
    """Sub-configs (text, vision, encoder, decoder, …) → their config class: those of a default instance, and the
    record's parts (sub-configs a default leaves out, or all of them for a composite without defaults)."""
    from transformers import CONFIG_MAPPING, PretrainedConfig

    parts = record_for(getattr(config_cls, "model_type", "")).parts
    declared = getattr(config_cls, "sub_configs", {}) or {}
    found = {
        key: declared[key] if issubclass_safe(declared.get(key), PretrainedConfig) else CONFIG_MAPPING[model_type]
        for key, model_type in parts.items()
    }
    if _has_defaults(config_cls):
        instance = config_cls()
        found.update(
            (key, type(value)) for key, value in vars(instance).items()
            if isinstance(value, PretrainedConfig) and key in _defaults(config_cls)
        )
    return dict(sorted(found.items()))


def _fallback_widths(config_cls: type, chosen: dict[str, Any], hidden: int) -> dict[str, int]:
    """Large integer widths the role tables do not name, set to the hidden size (a record can override)."""
    defaults = _defaults(config_cls)
    return {
        name: hidden
        for name in sorted(_settable(config_cls) - set(chosen))
        if isinstance(defaults.get(name), int) and not isinstance(defaults[name], bool)
        and defaults[name] >= F.FALLBACK_MIN and name.endswith(F.FALLBACK_WIDTH_SUFFIXES)
        and not name.endswith(F.TOKEN_ID_SUFFIXES)
    }


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
def _own_fields(draw: st.DrawFn, config_cls: type, rec: ArchRecord, vocab: int | None) -> tuple[dict[str, Any], int | None]:
    """Overrides for the fields of one config level (not its sub-configs), and its vocabulary (None without token
    fields): ``vocab`` where the composite has drawn one already."""
    defaults = _defaults(config_cls)
    present = functools.partial(_present, config_cls)
    out: dict[str, Any] = {}
    min_layers = max(rec.min_layers, _kinds(config_cls))
    grouped = bool(present(F.KV_HEADS)) and not present(F.MLA_HEAD_DIMS)  # latent attention expands kv to every head
    g = draw(_geometry(rec, grouped, bool(present(F.HEAD_DIM)), min_layers))
    role_values = (
        (F.LAYERS, g["layers"]), (F.HEADS, g["heads"]), (F.KV_HEADS, g["kv_heads"]), (F.HIDDEN, g["hidden"]),
        (F.HEAD_DIM, g["head_dim"]), (F.INTERMEDIATE, g["intermediate"]), (F.MLA_HEAD_DIMS, g["head_dim"]),
    )
    for names, value in role_values:
        for name in present(names):
            out[name] = value
    if present(F.VOCAB) and vocab is None:
        vocab = draw(st.integers(96, 256))
    for name in present(F.VOCAB):
        out[name] = vocab
    positions = draw(st.sampled_from((64, 128)))
    for name in present(F.POSITIONS):
        out[name] = positions
    for name in present(F.WINDOWS):
        if defaults.get(name) is not None:
            out[name] = draw(st.sampled_from((4, 64)))  # 4 is shorter than most drawn sequences
    experts = draw(st.sampled_from((2, 4)))
    for name in present(F.EXPERTS):
        if defaults.get(name) != 0:  # None: a broken default the family never runs with; 0: MoE switched off
            out[name] = experts
    for name in present(F.TOP_K):
        if defaults.get(name) != 0:
            out[name] = draw(st.integers(1, experts))
    _set_if_used(out, defaults, present(F.DENSE_PREFIX), g["layers"] - 1)
    for name in present(tuple(F.MOE_SMALL)):  # a None here is a broken default, as for the expert counts
        out[name] = F.MOE_SMALL[name]
    for table in (F.SSM_SMALL, F.MLA_SMALL, F.VISION_SMALL):
        for name in present(tuple(table)):
            _set_if_used(out, defaults, [name], table[name])
    ssm_inner = next((out[n] for n in present(F.SSM_EXPAND) if n in out), 2) * g["hidden"]
    _set_if_used(out, defaults, present(F.SSM_HEADS), 2)
    _set_if_used(out, defaults, present(F.SSM_HEAD_DIM), ssm_inner // 2)
    _set_if_used(out, defaults, present(F.SSM_INNER), ssm_inner)
    _set_if_used(out, defaults, present(F.INDEXER_HEAD_DIM), 2 * g["head_dim"])
    for name in _layer_lists(config_cls):  # a per-layer list of a role's value (Gemma3n's widths) repeats it
        out[name] = [out[name]] * g["layers"] if name in out else _shrink_layer_list(defaults[name], g["layers"])
    for name in present(F.LAYER_INDEX_LISTS):
        if isinstance(defaults.get(name), (list, type(None))):
            out[name] = _shrink_index_list(defaults.get(name), g["layers"])
    for name in present(F.ROTARY):
        if isinstance(defaults.get(name), int):
            out[name] = g["head_dim"] // 2
    out.update(_fallback_widths(config_cls, out, g["hidden"]))
    return out, vocab if present(F.VOCAB) else None


@st.composite
def _overrides(
    draw: st.DrawFn, config_cls: type, level: int = 0, vocab: int | None = None
) -> tuple[dict[str, Any], int | None]:
    """Overrides for one config level and the vocabulary its text uses (None for a config without tokens).

    ``vocab`` is the composite's text vocabulary once a part has drawn it: every part with token fields shares it
    (an encoder-decoder's halves, a multimodal model's outer and text configs).
    """
    rec = record_for(getattr(config_cls, "model_type", ""))
    out: dict[str, Any] = {}
    tokens: int | None = None
    subconfigs = _subconfigs(config_cls)
    for key, sub_cls in subconfigs.items():
        sub, sub_vocab = draw(_overrides(sub_cls, level + 1, vocab))
        out[key] = {"model_type": getattr(sub_cls, "model_type", ""), **sub}
        vocab = tokens = vocab if vocab is not None else sub_vocab
    if _has_defaults(config_cls):  # a composite without defaults of its own is only its parts
        own, own_vocab = draw(_own_fields(config_cls, rec, vocab))
        out.update(own)
        tokens = own_vocab if own_vocab is not None else tokens
        if tokens is not None:
            out.update(_special_ids(_defaults(config_cls), level=1 if level == 0 and subconfigs else 0))
    if rec.derive is not None:
        out.update(rec.derive(out))
    out.update(rec.fixed)
    for name in rec.keep:
        out.pop(name, None)
    return out, tokens


def arch_spec(model_type: str, task: str) -> st.SearchStrategy[ArchSpec]:
    """Tiny configs for (model_type, task); raises :class:`Unbuildable` when the family cannot be drawn here."""
    config_cls = model_class(task, model_type).config_class
    reason = record_for(model_type).unsupported_reason()
    if reason:
        raise Unbuildable(reason)
    if not record_for(getattr(config_cls, "model_type", "")).parts:
        _defaults(config_cls)  # fail eagerly, with the reason, when the config has no usable defaults nor parts
    takes = _base_keys() | set(_params(config_cls))
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

