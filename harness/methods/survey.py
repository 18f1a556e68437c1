"""The wrap survey: every (architecture, method) pair of some tasks, wrapped once, with its outcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.archs.build import build
from harness.archs.strategies import arch_spec
from harness.archs.tasks import model_types
from harness.draw import draw
from harness.methods.registry import prompt_methods
from harness.methods.wrap import method_spec, wrap
from harness.outcomes import error_info, signature


def wrap_all(tasks: list[str], seed: int = 0) -> Iterator[dict[str, Any]]:
    """One row per (task, arch, method): outcome (wrapped / rejected / crashed / arch-unusable), geometry, reason."""
    methods = list(prompt_methods())
    for task in tasks:
        for arch in model_types(task):
            try:
                spec = draw(arch_spec(arch, task), seed)
                build(spec)
            except Exception as exc:  # noqa: BLE001 - the zoo reports why (Unbuildable or a build error): one row
                why = str(exc).splitlines()[0][:120] if str(exc) else ""
                for name in methods:
                    yield _row(task, arch, name, "arch-unusable", "", why)
                continue
            for name in methods:
                mspec = draw(method_spec(name, spec), seed)
                result = wrap(build(spec), mspec)
                reason = signature(error_info(result.error)) if result.error is not None else ""
                yield _row(task, arch, name, result.outcome, result.geometry, reason)


def _row(task: str, arch: str, method: str, outcome: str, geometry: str, reason: str) -> dict[str, Any]:
    return {"task": task, "arch": arch, "method": method, "outcome": outcome, "geometry": geometry, "reason": reason}
