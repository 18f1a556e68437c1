"""The code paths an architecture takes through peft's prompt-learning code, read without building a model: the cache
classes its modeling code names, its attention kind (multi-head, grouped kv heads, latent), sliding windows, the mix
of its per-layer kinds, encoder-decoder or not, multimodal or not, and the family its code is copied from.

``Profile.pick`` covers every feature once before it fills the budget by hash: a bug that lives in one family shows
whenever that family's code path is in the installed transformers. Everything is read from the installed sources
and config defaults, once per (task, model type).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path
from typing import Any

from harness.archs import fields, introspect, layerlists
from harness.archs.tasks import TASKS, model_types

#: cache classes a modeling module uses: imported from cache_utils, or defined in it
_CACHE_IMPORT = re.compile(r"from \S*cache_utils import (?:\(([^)]*)\)|([^\n]*))")
_CACHE_CLASS = re.compile(r"^class (\w+Cache)\(", re.MULTILINE)
_COPIED_FROM = re.compile(r"(?:Copied from transformers\.models\.|from \.\.)(\w+)\.modeling_")
#: a family is a feature when at least this many architectures copy its code
FAMILY_MIN_COPIES = 3
#: the feature kinds, in the order the coverage line shows them
KINDS = ("cache", "attention", "layers", "structure", "family")


def _module_name(model_type: str) -> str:
    # on first use (start-up time)
    from transformers.models.auto.configuration_auto import model_type_to_module_name

    return str(model_type_to_module_name(model_type))


def _own(model_type: str) -> str:
    """The module folder of ``model_type`` (``deprecated.`` dropped), the name other modules copy it by."""
    return _module_name(model_type).rpartition(".")[2]


@functools.cache
def _sources(model_type: str) -> str:
    """The text of the architecture's modeling module, and of its modular source where the version ships one."""
    import transformers  # on first use (start-up time)

    name = _module_name(model_type)
    models = Path(transformers.__file__).parent / "models"
    folder = next((f for f in (models / name, models / "deprecated" / name) if f.is_dir()), None)
    if folder is None:
        return ""
    paths = [folder / f"{stem}_{name}.py" for stem in ("modeling", "modular")]
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in paths if p.is_file())


def cache_classes(source: str) -> set[str]:
    """The concrete cache classes a modeling source imports from cache_utils or defines."""
    imported = {n.strip() for match in _CACHE_IMPORT.findall(source) for n in "".join(match).split(",")}
    return {n for n in imported | set(_CACHE_CLASS.findall(source)) if n.endswith("Cache") and n != "Cache"}


@functools.cache
def copied_from(model_type: str) -> str:
    """The model family whose code this architecture copies most (itself when it copies none)."""
    own = _own(model_type)
    counts = Counter(m for m in _COPIED_FROM.findall(_sources(model_type)) if m not in (own, "auto"))
    return counts.most_common(1)[0][0] if counts else own


@functools.cache
def families() -> frozenset[str]:
    """Families whose code at least ``FAMILY_MIN_COPIES`` other architectures copy."""
    types = {mt for t in TASKS for mt in model_types(t)}
    counts = Counter(copied_from(mt) for mt in types if copied_from(mt) != _own(mt))
    return frozenset(f for f, n in counts.items() if n >= FAMILY_MIN_COPIES)


def _levels(config_cls: type) -> list[tuple[type, dict[str, Any]]]:
    """The config class and its text or decoder sub-configs, each with its defaults (those that have some)."""
    parts = [c for k, c in introspect.subconfigs(config_cls).items() if "text" in k or "decoder" in k]
    return [(cls, introspect.defaults(cls)) for cls in (config_cls, *parts) if introspect.has_defaults(cls)]


def _attention(cls: type, defaults: dict[str, Any]) -> set[str]:
    present = functools.partial(introspect.present, cls)
    if present(fields.MLA_HEAD_DIMS) or defaults.get("kv_lora_rank"):
        found = {"attention:latent"}
    else:
        found = {"attention:grouped-kv" if present(fields.KV_HEADS) else "attention:multi-head"}
    if any(defaults.get(name) is not None for name in present(fields.WINDOWS)):
        found.add("attention:sliding")
    for name in layerlists.kind_lists(cls):
        kinds = {str(k) for k in defaults.get(name) or []}
        if len(kinds) > 1:
            found.add(f"layers:{'+'.join(sorted(kinds))}")
    return found


@functools.cache
def features(task: str, model_type: str) -> frozenset[str]:
    """``kind:value`` features of (task, model_type), read from its modeling source and config defaults."""
    from transformers import CONFIG_MAPPING  # on first use (start-up time)

    config_cls: type = CONFIG_MAPPING[model_type]
    found = {f"cache:{name}" for name in cache_classes(_sources(model_type))} or {"cache:legacy-tuples"}
    levels = _levels(config_cls)
    for cls, defaults in levels:
        found |= _attention(cls, defaults)
    if TASKS[task].inputs == "seq2seq" or any(d.get("is_encoder_decoder") for _, d in levels):
        found.add("structure:encoder-decoder")
    if TASKS[task].inputs == "image-text" or len(introspect.subconfigs(config_cls)) > 1:
        found.add("structure:multimodal")
    # a family root belongs to its family too
    found |= {f"family:{f}" for f in {_own(model_type), copied_from(model_type)} & families()}
    return frozenset(found)
