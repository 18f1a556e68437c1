"""A case: one drawn (model, method, call) triple, the unit every oracle judges and every repro replays."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness.archs.spec import ArchSpec
from harness.archs.strategies import arch_spec
from harness.calls import CallSpec, call_spec
from harness.methods.wrap import MethodSpec, method_spec
from harness.results import case_id


@dataclass(frozen=True)
class Case:
    arch: ArchSpec
    method: MethodSpec
    call: CallSpec

    @property
    def id(self) -> str:
        return case_id(self.to_json())

    def to_json(self) -> dict[str, Any]:
        return {"arch": self.arch.to_json(), "method": self.method.to_json(), "call": self.call.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        try:
            return cls(ArchSpec.from_json(data["arch"]), MethodSpec.from_json(data["method"]),
                       CallSpec.from_json(data["call"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a case JSON (expected arch, method and call objects): {exc}") from exc


@functools.lru_cache(maxsize=16)  # one target at a time; a requeued target finds its own
def case_strategy(task: str, model_type: str, method_name: str, opening: int = 0) -> st.SearchStrategy[Case]:
    """Cases for one target: a tiny ``model_type`` model for ``task``, wrapped with ``method_name``, and a call whose
    first example ``opening`` chooses (``calls.opened``; the runner passes the target's seed, so each target, seed
    and top-up starts from another call). Built once per (target, opening) and reused by every example (the
    strategies below it are cached too); raises ``Unbuildable`` when the architecture cannot be drawn here."""
    archs = arch_spec(model_type, task)

    @st.composite
    def case(draw: st.DrawFn) -> Case:
        arch = draw(archs)
        method = draw(method_spec(method_name, arch))
        call = draw(call_spec(method.options.get("num_tasks"), opening))
        return Case(arch, method, call)

    return case()
