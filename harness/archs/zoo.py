"""The zoo survey: one drawn tiny model per (model_type, task), built and run once, with a status for each.

Statuses are data: ``ok`` or the reason a type is not usable here. Nothing is dropped silently.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Literal

from harness.archs.build import TooLarge, arch_config, build, forward, sample_inputs
from harness.archs.strategies import Unbuildable, arch_spec
from harness.archs.tasks import TASKS, model_types, model_class
from harness.draw import draw
from harness.timeouts import CaseTimeout, time_limit

Status = Literal["ok", "unsupported", "missing-package", "config-rejected", "build-error", "forward-error",
                 "too-large", "timeout"]

#: per-type guard: a shrunk model builds in milliseconds; seconds mean a size field escaped the shrink
TIMEOUT_S = 20.0

_MISSING_PACKAGE = re.compile(r"requires? the (\S+) library|No module named '([\w.]+)'|pip install (\S+)")


@dataclass
class ZooRow:
    model_type: str
    task: str
    status: Status
    reason: str = ""
    n_params: int = 0
    build_ms: float = 0.0
    forward_ms: float = 0.0


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from, outermost first."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 8:
        chain.append(chain[-1].__cause__)
    return chain


def _reason(exc: BaseException) -> str:
    """The exception in one line: its first lines (validation errors put the cause on the second) and, for a
    wrapped exception (a lazy import that failed), the root cause; shortened."""
    def text(e: BaseException) -> str:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        return f"{type(e).__name__}: {' '.join(lines[:3])}"

    chain = _causes(exc)
    root = f" (caused by {text(chain[-1])})" if len(chain) > 1 else ""
    return (text(exc)[: 300 - len(root[:150])] + root[:150]).strip()


def missing_package(exc: BaseException) -> str | None:
    """``needs <package>`` when ``exc`` (or what it was raised from) names an optional package that is not
    installed, else None: an import that fails for another reason (a broken package) is an error, not a gap."""
    for e in _causes(exc):
        match = _MISSING_PACKAGE.search(str(e))
        if match:
            return f"needs {next(g for g in match.groups() if g).strip('`.,')}"
        if isinstance(e, ModuleNotFoundError) and e.name:
            return f"needs {e.name.split('.')[0]}"
    return None


def build_one(model_type: str, task: str, seed: int = 0) -> ZooRow:
    """Draw, build and run one tiny model; the row says what happened."""
    row = ZooRow(model_type, task, "ok")
    stage: Status = "config-rejected"
    try:
        model_class(task, model_type)  # imports the modeling module unguarded: an interrupted import breaks it
        with time_limit(TIMEOUT_S):
            spec = draw(arch_spec(model_type, task), seed)
            arch_config(spec)
            stage = "build-error"
            built = build(spec)
            row.n_params, row.build_ms = built.n_params, built.build_s * 1000
            stage = "forward-error"
            inputs = sample_inputs(spec, built.config)
            forward(built, inputs)  # the first call pays one-time lazy imports (e.g. torch._dynamo for caches)
            start = time.perf_counter()
            forward(built, inputs)
            row.forward_ms = (time.perf_counter() - start) * 1000
    except Unbuildable as exc:
        row.status, row.reason = "unsupported", str(exc)
    except TooLarge as exc:
        row.status, row.reason = "too-large", str(exc)
    except CaseTimeout as exc:
        row.status, row.reason = "timeout", f"{stage.split('-')[0]} {exc}"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a row with its reason
        missing = missing_package(exc)
        row.status, row.reason = ("missing-package", missing) if missing else (stage, _reason(exc))
    return row


def build_all(tasks: list[str] | None = None, seed: int = 0) -> list[ZooRow]:
    """A row for every architecture of every task in ``tasks`` (default: all)."""
    return [build_one(mt, t, seed) for t in (tasks or list(TASKS)) for mt in model_types(t)]


def totals(rows: list[ZooRow]) -> dict[str, Counter[str]]:
    """task → status counts."""
    out: dict[str, Counter[str]] = {}
    for row in rows:
        out.setdefault(row.task, Counter())[row.status] += 1
    return out


def as_json(rows: list[ZooRow]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]
