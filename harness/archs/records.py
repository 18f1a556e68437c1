"""The record types: what the generic shrink cannot guess about a family, stated as data.

The records themselves live in ``harness.archs.families``, which indexes them (``arch_record``). A model type with
no record gets ``GENERIC`` and is still shrunk, built and run. A record applies at the config level whose
``model_type`` it names, so a record for ``"clip_vision_model"`` also shapes the vision tower of a multimodal model;
its ``inputs`` serve the models whose own config has that ``model_type``. Its ``unsupported`` gates are looked up by
the task mapping's model type (the name the zoo shows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from harness import versions

#: ``derive(overrides) -> more overrides``: fields that follow from the drawn ones (e.g. a pattern of layer kinds)
Derive = Callable[[dict[str, Any]], dict[str, Any]]
#: ``inputs(spec, config, batch, length, generator) -> model inputs`` for families whose inputs are not plain text
MakeInputs = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Gate:
    """A statement that holds only for some transformers versions (PEP 440 specifier; "" means all), and only for
    some tasks when ``tasks`` names them (a model type can head several tasks)."""

    transformers: str
    reason: str
    tasks: tuple[str, ...] = ()

    def applies(self, task: str | None = None) -> bool:
        return versions.matches("transformers", self.transformers) and (not self.tasks or task in self.tasks)


@dataclass(frozen=True)
class ArchRecord:
    """What the harness knows about one architecture family beyond its field names."""

    model_types: tuple[str, ...]
    #: fixed overrides applied after the drawn ones (JSON values)
    fixed: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: overrides computed from the drawn ones
    derive: Derive | None = None
    #: whether the config may take a head_dim that differs from hidden/heads
    explicit_head_dim: bool = True
    #: whether kv-head counts may differ from the head count
    grouped_kv: bool = True
    #: head counts (and kv-head counts) are drawn as multiples of this
    heads_multiple_of: int = 1
    #: the fewest layers the family accepts
    min_layers: int = 1
    #: fields the generic shrink must leave at their defaults
    keep: tuple[str, ...] = ()
    #: sub-config key → model_type, drawn as that type: sub-configs the default leaves out (None), or all of them
    #: for a composite whose config has no defaults
    parts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: version-gated reasons this family cannot be built here (data the zoo and the report show)
    unsupported: tuple[Gate, ...] = ()
    #: model inputs for families that need more than token ids (images, codebooks, …)
    inputs: MakeInputs | None = None
    #: why the record exists, for readers of the zoo table
    note: str = ""

    def unsupported_reason(self, task: str | None = None) -> str | None:
        for gate in self.unsupported:
            if gate.applies(task):
                return gate.reason
        return None


GENERIC = ArchRecord(model_types=())

