"""Records for text-only families (decoders, encoders, encoder-decoders, SSM hybrids)."""

from __future__ import annotations

from typing import Any

from harness.archs.records import ArchRecord


def _jamba_attention_everywhere(o: dict[str, Any]) -> dict[str, Any]:
    return {"attn_layer_period": 1, "attn_layer_offset": 0, "expert_layer_period": 1, "expert_layer_offset": 0}


RECORDS: tuple[ArchRecord, ...] = (
    ArchRecord(("jamba",), derive=_jamba_attention_everywhere, note="attention at every layer keeps one in 2"),
)
