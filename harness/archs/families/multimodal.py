"""Records for multimodal families (LLaVA and kin): tiny images and the token layout that goes with them."""

from __future__ import annotations

from harness.archs.records import ArchRecord

RECORDS: tuple[ArchRecord, ...] = ()
