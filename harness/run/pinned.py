"""Pinned regression examples: known bugs as fixed case JSON files (``harness/data/pinned/*.json``).

They run before the generated cases unless ``--no-pinned``, so the suite's bug-finding power can be measured from
generated cases alone. Each file: ``{"name", "link", "note", "case": {arch, method, call}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.methods.names import method_key

PINNED_DIR = Path(__file__).parents[1] / "data" / "pinned"


@dataclass(frozen=True)
class Pinned:
    name: str
    link: str
    note: str
    case: dict[str, Any]

    def matches(self, tasks: list[str] | None, archs: list[str] | None, methods: list[str] | None) -> bool:
        arch = self.case["arch"]
        return ((not tasks or arch["task"] in tasks) and (not archs or arch["model_type"] in archs)
                and (not methods or self.case["method"]["method"] in {method_key(m) for m in methods}))


def load_pinned(folder: Path = PINNED_DIR) -> list[Pinned]:
    """Every pinned example; a malformed file is an error naming it."""
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append(Pinned(data["name"], data["link"], data.get("note", ""), data["case"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a pinned example ({type(exc).__name__}: {exc}); it needs name, link "
                             "and case") from exc
    return found
