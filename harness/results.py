"""Verdict records: what a run found, one JSONL record per line, written as it happens, read back without trusting it.

Schema 2 (``SCHEMA_VERSION``) writes three kinds of record, each line a JSON object with a ``record`` field:

* ``run``: the cell and installed versions every following verdict ran on (one per writer, and again whenever they
  change);
* ``case``: a case's JSON, its kind (``Kind``) and target, written once per file however many properties judge it;
* ``verdict``: one (case, property) judgement by case id, with fields at their defaults left out; ``repetition``
  counts flake re-runs of the same case (0 is the first judgement);
* ``traceback``: an error's formatted traceback, once per distinct text; an error refers to it by ``traceback_id``
  (the same code path, reached by many cases, is written once);
* ``done``: a target (``task:arch:method``) whose every case has been judged, so a resume need not draw it again.

Schema-1 files (one self-contained verdict per line, the case JSON repeated in each) are still read. A file from a
newer schema is refused line by line with the schema named, and a torn last line is reported. ``harness.writer``
writes them.

In memory every record becomes a whole ``Verdict`` again; ``ledger`` counts them per unique (cell, case, property).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from harness.versions import installed_cell, installed

#: pass: every oracle agreed; fail: an oracle disagreed (a wrong answer); crash: an unexpected exception;
#: rejected: a clean error that explains an unsupported combination; unsupported: meaningless by design;
#: timeout: the case ran past its limit; skip: not run, with the reason.
Outcome = Literal["pass", "fail", "crash", "rejected", "unsupported", "timeout", "skip"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
#: outcomes that mean "broken": the report and the exit status count these
BAD_OUTCOMES: frozenset[str] = frozenset({"fail", "crash", "timeout"})

SCHEMA_VERSION = 2
#: the schemas this harness reads
READABLE_SCHEMAS = (1, 2)


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
    kind: Kind = "generated"
    #: 0 for a case's first judgement; 1, 2, ... for its flake re-runs (same case_id, fresh process)
    repetition: int = 0
    #: deprecation notices seen during this step (not a failure: the report's "breaks next")
    deprecations: tuple[Deprecation, ...] = ()

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def pinned(self) -> bool:
        """A pinned regression example rather than a generated case."""
        return self.kind == "pinned"

    @property
    def key(self) -> tuple[str, str, str]:
        """What a verdict judges: (cell, case, property). Re-runs share it; a file holds one first judgement each."""
        return (self.cell, self.case_id, self.property)

    @property
    def target_key(self) -> str:
        """The ``task:arch:method`` key of the target its case belongs to (``plan.Target.key``)."""
        return f"{self.task}:{self.arch}:{self.method}"

    def to_json(self) -> dict[str, Any]:
        """The schema-1 form: one self-contained object (events between worker and supervisor use it too)."""
        return {**asdict(self), "schema": 1, "pinned": self.pinned}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        """A verdict from its self-contained form (schema 1, or a joined schema-2 record); wrong types are errors."""
        missing = {"case_id", "cell", "arch", "method", "property", "outcome"} - set(data)
        if missing:
            raise ValueError(f"missing field(s): {', '.join(sorted(missing))}")
        values = {k: v for k, v in data.items() if k in _FIELDS}
        _check_types(values)
        if "kind" not in values:  # schema 1 said it with a flag and by the shape of the case
            values["kind"] = "pinned" if data.get("pinned") else "target" if "target" in values.get("case", {}) \
                else "generated"
        if isinstance(values.get("error"), dict):
            values["error"] = ErrorInfo(**{k: v for k, v in values["error"].items() if k in ErrorInfo.__annotations__})
        if "deprecations" in values:
            values["deprecations"] = tuple(_deprecation(d) for d in values["deprecations"])
        values.setdefault("versions", {})
        values.setdefault("task", "")
        return cls(**values)


_FIELDS = frozenset(f.name for f in fields(Verdict))
#: JSON types of the verdict fields a reader relies on
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "case_id": str, "cell": str, "arch": str, "task": str, "method": str, "property": str, "outcome": str,
    "signature": str, "reason": str, "versions": dict, "case": dict, "error": (dict, type(None)),
    "duration_s": (int, float), "kind": str, "repetition": int, "deprecations": (list, tuple),
}


def _check_types(values: dict[str, Any]) -> None:
    wrong = [name for name, kinds in _FIELD_TYPES.items() if name in values and not isinstance(values[name], kinds)]
    if isinstance(values.get("versions"), dict) and not all(isinstance(v, str) for v in values["versions"].values()):
        wrong.append("versions")
    if isinstance(values.get("error"), dict) and not all(isinstance(v, str) for v in values["error"].values()):
        wrong.append("error")
    if isinstance(values.get("deprecations"), (list, tuple)) and \
            not all(isinstance(d, dict) for d in values["deprecations"]):
        wrong.append("deprecations")
    if wrong:
        raise ValueError(f"field(s) of the wrong type: {', '.join(dict.fromkeys(wrong))}")


def _deprecation(data: dict[str, Any]) -> Deprecation:
    known = {k: str(v) for k, v in data.items() if k in Deprecation.__annotations__}
    if not {"category", "message"} <= set(known):
        raise ValueError("a deprecation needs a category and a message")
    return Deprecation(**known)


def case_id(case: dict[str, Any]) -> str:
    """A stable id for a case: the same case JSON gives the same id on any machine and in any cell."""
    canonical = json.dumps(case, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def case_verdict(case: dict[str, Any], prop: str, outcome: Outcome, *, pinned: bool = False,
                 **fields: Any) -> Verdict:
    """A judgement of one step of a case (given as its JSON: arch, method, call), in this process's cell."""
    return Verdict(case_id=case_id(case), cell=installed_cell(), versions=installed(), arch=case["arch"]["model_type"],
                   task=case["arch"]["task"], method=case["method"]["method"], property=prop, outcome=outcome,
                   case=case, kind="pinned" if pinned else "generated", **fields)


def target_verdict(target: dict[str, Any], outcome: Outcome, reason: str, **fields: Any) -> Verdict:
    """The one verdict standing for a whole target (its ``task``, ``arch``, ``method``) that is not run: the
    method refuses the task, the arch cannot be built or drawn, or its worker died before the first case."""
    return Verdict(case_id=case_id({"target": target}), cell=installed_cell(), versions=installed(),
                   arch=target["arch"], task=target["task"], method=target["method"], property="wrap",
                   outcome=outcome, reason=reason, case={"target": target}, kind="target", **fields)


def import_verdict(error: ErrorInfo, signature: str) -> Verdict:
    """The verdict of a cell whose libraries cannot be imported together: nothing else can run there."""
    cell = installed_cell()
    return Verdict(case_id=case_id({"import": cell}), cell=cell, versions=installed(), arch="", task="", method="",
                   property="import", outcome="crash", signature=signature, error=error, kind="import",
                   reason="the installed transformers and peft cannot be imported together: no case can run")


#: verdict fields a schema-2 verdict record carries (the rest comes from its run and case records), with the
#: defaults it leaves out
VERDICT_DEFAULTS: dict[str, Any] = {"signature": "", "error": None, "duration_s": 0.0, "reason": "",
                                     "repetition": 0, "deprecations": ()}
#: verdict fields a case record carries
CASE_FIELDS = ("case_id", "kind", "arch", "task", "method", "case")


@dataclass(frozen=True)
class BadLine:
    """A line of a results file that could not be read; the rest of the file still is."""

    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


@dataclass
class FileIndex:
    """What a reader learns from a file's records besides its verdicts."""

    #: (cell, target key) of every ``done`` record
    done: set[tuple[str, str]] = field(default_factory=set)
    #: traceback id → text
    tracebacks: dict[str, str] = field(default_factory=dict)


def traceback_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Joiner:
    """Turns a file's records back into whole verdicts: run and case records are remembered, verdicts joined."""

    def __init__(self, index: FileIndex) -> None:
        self.run: dict[str, Any] = {"cell": "", "versions": {}}
        self.cases: dict[str, dict[str, Any]] = {}
        self.index = index

    def feed(self, data: dict[str, Any]) -> Verdict | None:
        record = data.get("record")
        if record is None:  # schema 1: a self-contained verdict
            if data.get("schema", 1) != 1:
                raise ValueError(_schema_problem(data.get("schema")))
            return Verdict.from_json(data)
        if record == "run":
            if data.get("schema") not in READABLE_SCHEMAS:
                raise ValueError(_schema_problem(data.get("schema")))
            if not isinstance(data.get("cell"), str) or not isinstance(data.get("versions"), dict):
                raise ValueError("a run record needs a cell (string) and versions (object)")
            self.run = {"cell": data["cell"], "versions": data["versions"]}
            return None
        if record == "case":
            if not isinstance(data.get("case_id"), str):
                raise ValueError("a case record needs a case_id")
            self.cases[data["case_id"]] = {k: data[k] for k in CASE_FIELDS if k in data}
            return None
        if record == "verdict":
            case = self.cases.get(data.get("case_id", ""))
            if case is None:
                raise ValueError(f"verdict for case {data.get('case_id')!r}, which no earlier case record describes")
            joined = {**VERDICT_DEFAULTS, **self.run, **case, **data}
            joined.pop("record")
            error = joined.get("error")
            if isinstance(error, dict) and "traceback_id" in error:
                text = self.index.tracebacks.get(error["traceback_id"])
                if text is None:
                    raise ValueError(f"error refers to traceback {error['traceback_id']!r}, which no earlier "
                                     "traceback record holds")
                joined["error"] = {**{k: v for k, v in error.items() if k != "traceback_id"}, "traceback": text}
            return Verdict.from_json(joined)
        if record == "traceback":
            if not isinstance(data.get("id"), str) or not isinstance(data.get("text"), str):
                raise ValueError("a traceback record needs an id and a text (strings)")
            self.index.tracebacks[data["id"]] = data["text"]
            return None
        if record == "done":
            if not isinstance(data.get("cell"), str) or not isinstance(data.get("target"), str):
                raise ValueError("a done record needs a cell and a target (strings)")
            self.index.done.add((data["cell"], data["target"]))
            return None
        raise ValueError(f"unknown record {record!r} (expected run, case, verdict, traceback or done)")


def _schema_problem(schema: Any) -> str:
    return (f"written with verdict schema {schema!r}; this harness reads schemas "
            f"{', '.join(map(str, READABLE_SCHEMAS))}: read it with the peft-compat that wrote it, or re-run")


def read_verdicts(path: str | os.PathLike[str], problems: list[BadLine] | None = None,
                  index: FileIndex | None = None) -> Iterator[Verdict]:
    """The verdicts of a JSONL file (schema 1 or 2). Unreadable lines are appended to ``problems`` (or raise when
    it is None); what the other records say goes into ``index`` when given."""
    return VerdictReader(path, index).read(problems)


class VerdictReader:
    """A verdict file read in steps: each ``read`` yields the verdicts of the lines appended since the last one
    (a run reads its file once, then only what its flake re-runs appended)."""

    def __init__(self, path: str | os.PathLike[str], index: FileIndex | None = None) -> None:
        self.path = Path(path)
        self._joiner = _Joiner(FileIndex() if index is None else index)
        self._offset = 0
        self._lines = 0

    def read(self, problems: list[BadLine] | None = None) -> Iterator[Verdict]:
        """The verdicts of the lines not read yet; see ``read_verdicts`` for ``problems``."""
        with self.path.open("rb") as lines:
            lines.seek(self._offset)
            for raw in lines:
                self._offset += len(raw)
                self._lines += 1
                line = raw.decode("utf-8", errors="replace")
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    if not isinstance(data, dict):
                        raise ValueError("not a JSON object")
                    verdict = self._joiner.feed(data)
                except (ValueError, TypeError) as exc:
                    torn = "" if line.endswith("\n") else " (a torn last line: the writer was killed mid-line)"
                    bad = BadLine(str(self.path), self._lines, f"{type(exc).__name__}: {exc}"[:200] + torn)
                    if problems is None:
                        raise ValueError(f"{bad}; fix or delete that line") from exc
                    problems.append(bad)
                    continue
                if verdict is not None:
                    yield verdict


@dataclass(frozen=True)
class Ledger:
    """Verdicts counted per unique (cell, case, property): the first judgement of each, and its re-runs apart."""

    #: the first judgement of each key, in file order
    verdicts: tuple[Verdict, ...]
    #: key → later judgements of it (flake re-runs; in schema-1 files, any repeated line)
    reruns: dict[tuple[str, str, str], tuple[Verdict, ...]]

    @property
    def flaky(self) -> frozenset[tuple[str, str, str]]:
        """Keys whose judgements disagree: the same case, judged again in a fresh process, ended differently."""
        first = {v.key: v.outcome for v in self.verdicts}
        return frozenset(k for k, again in self.reruns.items() if any(v.outcome != first[k] for v in again))

    @property
    def steady(self) -> tuple[Verdict, ...]:
        """The first judgements that no re-run contradicts: what an exit status may count."""
        flaky = self.flaky
        return tuple(v for v in self.verdicts if v.key not in flaky)

    def rerun_cases(self) -> set[tuple[str, str]]:
        """(cell, case) pairs that were re-run."""
        return {(cell, case) for cell, case, _ in self.reruns}


def ledger(verdicts: Iterable[Verdict]) -> Ledger:
    """The ledger of ``verdicts`` (any order of files; within a file, first seen is first judged)."""
    first: dict[tuple[str, str, str], Verdict] = {}
    again: dict[tuple[str, str, str], list[Verdict]] = {}
    for verdict in verdicts:
        if verdict.key in first:
            again.setdefault(verdict.key, []).append(verdict)
        else:
            first[verdict.key] = verdict
    return Ledger(tuple(first.values()), {k: tuple(v) for k, v in again.items()})
