"""Shards of a cell's targets: how a nightly cell is cut into jobs (``run --shard I/N``, ``matrix --github``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``: the targets whose key hashes to it. A target's shard depends on its key
    alone, so shards are disjoint, together cover every target, and keep their targets when others come and go."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/5"`` → Shard(2, 5); a clear error for anything else."""
        index, slash, count = text.partition("/")
        if not (slash and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
            raise ValueError(f"--shard takes I/N with 1 <= I <= N (e.g. 2/5), got {text!r}")
        return cls(int(index), int(count))

    def holds(self, key: str) -> bool:
        digest = hashlib.sha256(f"shard:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
