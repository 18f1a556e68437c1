"""A drawn tiny model as data (:class:`ArchSpec`), and the band of token ids reserved for special tokens."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: token ids at the bottom of the vocabulary reserved for special tokens; text inputs are drawn above them
RESERVED_IDS = 16


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
