"""Verdict records: one JSON line per (case, property), written as it happens, read back without trusting it.

A verdict line is self-contained: the versions it ran on, what was judged, the outcome with its normalised
signature and error, and the whole case as JSON (enough to replay without hypothesis). Files are append-only
JSONL; a killed run leaves every finished line intact, and a torn last line is reported, not fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

#: pass: every oracle agreed; fail: an oracle disagreed (a wrong answer); crash: an unexpected exception;
#: rejected: a clean error that explains an unsupported combination; unsupported: meaningless by design;
#: timeout: the case ran past its limit; skip: not run, with the reason.
Outcome = Literal["pass", "fail", "crash", "rejected", "unsupported", "timeout", "skip"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
#: outcomes that mean "broken": the report and the exit status count these
BAD_OUTCOMES: frozenset[str] = frozenset({"fail", "crash", "timeout"})

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ErrorInfo:
    type: str
    message: str
    #: innermost frame inside peft or transformers, "package/module.py:function"
    frame: str = ""
    traceback: str = ""


#: what a verdict record stands for: a hypothesis-drawn case, a pinned regression example, a whole target that is
#: not run (refused, unbuildable, undrawable), or a cell whose libraries cannot be imported
Kind = Literal["generated", "pinned", "target", "import"]
KINDS: tuple[str, ...] = get_args(Kind)


@dataclass(frozen=True)
class Deprecation:
    """A deprecation notice raised while peft (or the harness's call into peft) was on the stack."""

    #: FutureWarning, DeprecationWarning, or "logger" for a transformers logger notice
    category: str
    message: str
    #: innermost peft frame on the stack, "peft/module.py:function" ("" if none)
    frame: str = ""
    #: the release the message says the API will be removed in ("" if it names none)
    removal: str = ""


@dataclass(frozen=True)
class Verdict:
    case_id: str
    cell: str
    versions: dict[str, str]
    arch: str
    task: str
    method: str
    property: str
    outcome: Outcome
    signature: str = ""
    error: ErrorInfo | None = None
    #: the drawn arch spec, method config and call, as JSON
    case: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    #: why a rejected / unsupported / skip outcome was given
    reason: str = ""
    #: a pinned regression example rather than a generated case
    pinned: bool = False
    schema: int = SCHEMA_VERSION
    kind: Kind = "generated"
    #: 0 for a case's first judgement; 1, 2, ... for its flake re-runs (same case_id, fresh process)
    repetition: int = 0
    #: deprecation notices seen during this step (not a failure: the report's "breaks next")
    deprecations: tuple[Deprecation, ...] = ()

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        known = {f for f in cls.__dataclass_fields__}
        missing = {"case_id", "cell", "arch", "method", "property", "outcome"} - set(data)
        if missing:
            raise ValueError(f"missing field(s): {', '.join(sorted(missing))}")
        values = {k: v for k, v in data.items() if k in known}
        wrong = [name for name, kinds in _FIELD_TYPES.items() if name in values and not isinstance(values[name], kinds)]
        if isinstance(values.get("versions"), dict) and not all(isinstance(v, str) for v in values["versions"].values()):
            wrong.append("versions")
        if isinstance(values.get("error"), dict) and not all(isinstance(v, str) for v in values["error"].values()):
            wrong.append("error")
        if wrong:
            raise ValueError(f"field(s) of the wrong type: {', '.join(wrong)}")
        if isinstance(values.get("error"), dict):
            values["error"] = ErrorInfo(**{k: v for k, v in values["error"].items() if k in ErrorInfo.__annotations__})
        values.setdefault("versions", {})
        values.setdefault("task", "")
        return cls(**values)


#: JSON types of the verdict fields a reader relies on
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "case_id": str, "cell": str, "arch": str, "task": str, "method": str, "property": str, "outcome": str,
    "signature": str, "reason": str, "versions": dict, "case": dict, "error": (dict, type(None)),
    "duration_s": (int, float), "pinned": bool, "schema": int,
}


def case_id(case: dict[str, Any]) -> str:
    """A stable id for a case: the same case JSON gives the same id on any machine and in any cell."""
    canonical = json.dumps(case, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


class VerdictWriter:
    """Appends verdict lines to a JSONL file, flushed line by line so a killed run keeps what it found."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, verdict: Verdict) -> None:
        self._file.write(json.dumps(verdict.to_json(), sort_keys=True, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> VerdictWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class BadLine:
    """A line of a results file that could not be read; the rest of the file still is."""

    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


def read_verdicts(path: str | os.PathLike[str], problems: list[BadLine] | None = None) -> Iterator[Verdict]:
    """The verdicts of a JSONL file. Unreadable lines are appended to ``problems`` (or raise when it is None)."""
    with Path(path).open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                yield Verdict.from_json(data)
            except (ValueError, TypeError) as exc:
                bad = BadLine(str(path), number, f"{type(exc).__name__}: {exc}"[:200])
                if problems is None:
                    raise ValueError(f"{bad}; fix or delete that line") from exc
                problems.append(bad)
