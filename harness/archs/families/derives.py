"""Derive helpers several image-text families share: widths that follow the text model's, ids from the free
special-token band, rotary settings, and the fields a config class declares.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from harness.archs.families.layout import TASK
from harness.archs.records import Derive
from harness.archs.tasks import model_class


def min_image_tokens(o: dict[str, Any]) -> dict[str, Any]:
    """Releases before 4.47 expand placeholders themselves when fewer than ``image_seq_length`` are given."""
    vision = o.get("vision_config", {})
    return {"image_seq_length": (vision.get("image_size", 32) // vision.get("patch_size", 8)) ** 2}


@functools.cache
def _fields_of(config_cls: type) -> frozenset[str]:
    """The fields a config class takes (its signature and its defaults)."""
    return frozenset(inspect.signature(config_cls.__init__).parameters) | frozenset(config_cls().to_dict())


@functools.cache
def config_class(model_type: str, sub: str | None = None) -> type:
    """The config class of an image-text type, or of one of its sub-configs (read off a default instance: the
    sub-config's own model_type may name another class, or the outer one, in some releases)."""
    outer = model_class(TASK, model_type).config_class
    return outer if sub is None else type(getattr(outer(), sub))


def declared_only(config_cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that ``config_cls`` declares (fields were renamed across releases)."""
    return {k: v for k, v in values.items() if k in _fields_of(config_cls)}


def text_width(*names: str) -> Derive:
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


def chain(*derives: Derive) -> Derive:
    """The derives applied in turn, each seeing what the earlier ones set."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for step in derives:
            out.update(step({**o, **out}))
        return out

    return derive


def free_band_ids(o: dict[str, Any], names: tuple[str, ...]) -> dict[str, int]:
    """Ids from the outer special-token band (8..15) for the ``names`` the shrink did not set, clear of the ids it
    did."""
    used = {v for k, v in o.items() if k.endswith(("_token_id", "_token_index")) and isinstance(v, int)}
    free = (i for i in range(8, 16) if i not in used)
    return {name: next(free) for name in names if name not in o}


def rope_settings(config_cls: type, **settings: Any) -> dict[str, Any]:
    """``settings`` merged into the config class's own rotary settings, under the field its release uses (some
    releases leave them None yet index them)."""
    defaults = config_cls().to_dict()
    key = "rope_parameters" if "rope_parameters" in defaults else "rope_scaling"
    rope = dict(defaults.get(key) or {})
    rope.pop("type", None)  # the legacy spelling of rope_type
    return {key: {**rope, "rope_type": rope.get("rope_type", "default"), **settings}}
