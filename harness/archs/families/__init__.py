"""Every architecture record, joined from the family modules, and the lookup by model type (:func:`arch_record`).

Each family module ends in its own ``RECORDS``; a model type has at most one record. The image-text families share
``layout`` (how an image becomes tokens and tensors) and ``derives`` (config fields that follow from others).
"""

from __future__ import annotations

from harness.archs.families import beside_text, composites, llava, patches, projectors, queries, qwen_vl, text, vq
from harness.archs.records import GENERIC, ArchRecord

RECORDS: tuple[ArchRecord, ...] = (
    text.RECORDS + llava.RECORDS + qwen_vl.RECORDS + projectors.RECORDS + queries.RECORDS + patches.RECORDS
    + beside_text.RECORDS + vq.RECORDS + composites.RECORDS
)


def _index(records: tuple[ArchRecord, ...]) -> dict[str, ArchRecord]:
    index: dict[str, ArchRecord] = {}
    for rec in records:
        for mt in rec.model_types:
            if mt in index:
                raise ValueError(f"model type {mt!r} has two records; merge them")
            index[mt] = rec
    return index


_BY_TYPE = _index(RECORDS)


def arch_record(model_type: str | None) -> ArchRecord:
    """The record of ``model_type``, or the generic one."""
    return _BY_TYPE.get(model_type or "", GENERIC)
