"""Oracles: named properties of a wrapped model, each with a stated tolerance. ``PROPERTIES`` is the registry."""

from __future__ import annotations

from harness.oracles import adapter, forward, generation, multimodal, padding, trainable, wrapping
from harness.oracles.base import Property

#: every property, in the order a case is judged (those that mutate the model — training — last)
PROPERTIES: dict[str, Property] = {
    p.name: p for p in (*wrapping.PROPERTIES, *forward.PROPERTIES, *generation.PROPERTIES, *padding.PROPERTIES,
                        *multimodal.PROPERTIES, *adapter.PROPERTIES, *trainable.PROPERTIES)
}


def properties_named(names: list[str] | None) -> list[Property]:
    """The named properties (all when ``names`` is empty); a clear error lists the known ones."""
    if not names:
        return list(PROPERTIES.values())
    unknown = [n for n in names if n not in PROPERTIES]
    if unknown:
        raise ValueError(f"unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
                         f"choose from {', '.join(PROPERTIES)}")
    return [PROPERTIES[n] for n in names]
