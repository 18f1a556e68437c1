"""Reading a config class: the fields it declares, the ones it computes itself, its sub-configs.

Everything here is derived from the installed transformers (signatures, defaults, ``attribute_map``,
``sub_configs``) and cached per class, so the strategies spend no time re-reading configs.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from harness.archs import fields
from harness.archs.families import arch_record


class Unbuildable(Exception):
    """The architecture cannot be drawn in this environment; the message says why (shown as data, not hidden)."""


@functools.cache
def base_keys() -> frozenset[str]:
    """Fields every config has (those of ``PretrainedConfig`` itself)."""
    from transformers import PretrainedConfig  # on first use (start-up time)

    return frozenset(PretrainedConfig().to_dict())


@functools.cache
def defaults(config_cls: type) -> dict[str, Any]:
    """The default instance as a dict; :class:`Unbuildable` (with the reason) when there is none."""
    try:
        return config_cls().to_dict()
    except Exception as exc:  # noqa: BLE001 - any failure here is a reason to report, not a crash
        raise Unbuildable(f"{config_cls.__name__}() has no usable defaults: {exc}") from exc


@functools.cache
def has_defaults(config_cls: type) -> bool:
    try:
        defaults(config_cls)
    except Unbuildable:
        return False
    return True


@functools.cache
def params(config_cls: type) -> dict[str, inspect.Parameter]:
    """The named ``__init__`` parameters of ``config_cls``."""
    skip = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    found = inspect.signature(config_cls.__init__).parameters
    return {name: p for name, p in found.items() if name != "self" and p.kind not in skip}


@functools.cache
def declared(config_cls: type) -> frozenset[str]:
    """Fields the config class owns (not the base class's, token ids and vocabulary aside)."""
    named = set(params(config_cls))
    own = (named | set(defaults(config_cls))) - base_keys()
    return frozenset(own | {"vocab_size", "pad_token_id", "bos_token_id", "eos_token_id"} & named)


@functools.cache
def computed(config_cls: type) -> frozenset[str]:
    """Fields the config computes from others when not given, which the strategy leaves to it: those kept without
    an ``__init__`` parameter (per-layer lists aside), and parameters defaulting to None that the default instance
    fills in (e.g. DeepSeek's ``qk_head_dim``), unless their role is one the strategy varies on purpose."""
    named, default = params(config_cls), defaults(config_cls)
    unnamed = declared(config_cls) - set(named) - set(fields.LAYER_LISTS) if named else frozenset()
    filled = {n for n, p in named.items() if p.default is None and default.get(n) is not None}
    return frozenset(unnamed | (filled - fields.DRAWN_EVEN_IF_COMPUTED))


@functools.cache
def settable(config_cls: type) -> frozenset[str]:
    """Fields the strategy may set."""
    return declared(config_cls) - computed(config_cls)


def present(config_cls: type, names: tuple[str, ...]) -> list[str]:
    """The settable fields of ``config_cls`` among ``names``: each name's attribute_map target, or the name itself
    where the config takes the alias as its parameter (5.x dataclass configs)."""
    amap = getattr(config_cls, "attribute_map", {}) or {}
    allowed = settable(config_cls)
    found = []
    for name in names:
        actual = next((c for c in (amap.get(name, name), name) if c in allowed), None)
        if actual is not None and actual not in found:
            found.append(actual)
    return found


@functools.cache
def subconfigs(config_cls: type) -> dict[str, type]:
    """Sub-configs (text, vision, encoder, decoder, …) → their config class: those of a default instance, and the
    record's parts (sub-configs a default leaves out, or all of them for a composite without defaults)."""
    from transformers import CONFIG_MAPPING, PretrainedConfig  # on first use (start-up time)

    parts = arch_record(getattr(config_cls, "model_type", "")).parts
    own = getattr(config_cls, "sub_configs", {}) or {}

    def part_class(key: str, model_type: str) -> type:
        cls = own.get(key)
        return cls if isinstance(cls, type) and issubclass(cls, PretrainedConfig) else CONFIG_MAPPING[model_type]

    found = {key: part_class(key, model_type) for key, model_type in parts.items()}
    if has_defaults(config_cls):
        found.update(
            (key, type(value)) for key, value in vars(config_cls()).items()
            if isinstance(value, PretrainedConfig) and key in defaults(config_cls)
        )
    return dict(sorted(found.items()))


def fallback_widths(config_cls: type, chosen: dict[str, Any], hidden: int) -> dict[str, int]:
    """Large integer widths the role tables do not name, set to the hidden size (a record can override)."""
    default = defaults(config_cls)
    return {
        name: hidden
        for name in sorted(settable(config_cls) - set(chosen))
        if isinstance(default.get(name), int) and not isinstance(default[name], bool)
        and default[name] >= fields.FALLBACK_MIN and name.endswith(fields.FALLBACK_WIDTH_SUFFIXES)
        and not name.endswith(fields.TOKEN_ID_SUFFIXES)
    }
