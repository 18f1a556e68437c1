"""Writing a verdict file (the records of ``harness.results``), append-only: a killed run leaves every finished
line intact, a torn last line is cut back on resume (and said so), and no (case, property, repetition) is written
twice."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.results import (
    CASE_FIELDS,
    SCHEMA_VERSION,
    VERDICT_DEFAULTS,
    FileIndex,
    Verdict,
    read_verdicts,
    traceback_id,
)


def repair_tail(path: Path) -> int:
    """Cut a torn last line (no newline: the writer was killed mid-write) back to the last newline; a tail that is
    a whole JSON object only lacking its newline gets the newline instead. Returns the bytes cut."""
    if not path.exists():
        return 0
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        file.seek(max(0, size - (1 << 20)))
        tail = file.read()
        if tail.endswith(b"\n"):
            return 0
        cut = tail.rfind(b"\n") + 1
        fragment = tail[cut:]
        try:
            if isinstance(json.loads(fragment), dict):
                file.write(b"\n")
                return 0
        except ValueError:
            pass
        file.truncate(size - len(fragment))
        return len(fragment)


#: seconds between syncs to disk. Every line is flushed at once (a killed run keeps all it wrote); syncing every
#: line too stalled the supervisor for milliseconds a line while its workers waited
SYNC_S = 1.0

class VerdictWriter:
    """Appends records to a JSONL file, flushed line by line so a killed run keeps what it found, and synced to disk
    at each ``done`` record, at close and when ``SYNC_S`` has passed since the last sync (what an OS crash may lose).

    A case's record is written before its first verdict, once per file; a (cell, case, property, repetition) already
    in the file is not written again (``write`` returns False). ``fresh`` starts the file anew; otherwise a torn tail
    is cut back first (``torn_bytes`` says how much) and what the file holds is remembered. What it remembers is kept
    up to date by every write, so one writer serves a whole run (its passes read nothing back).
    """

    def __init__(self, path: str | os.PathLike[str], *, fresh: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fresh and self.path.exists():
            self.path.unlink()
        self.torn_bytes = repair_tail(self.path)
        self.cases: set[str] = set()
        #: (cell, repetition) → case id → the steps (wrap, properties) the file holds
        self.steps: dict[tuple[str, int], dict[str, set[str]]] = {}
        #: target key → the ids of its cases in the file
        self.targets: dict[str, set[str]] = {}
        #: what the file says besides its verdicts: complete targets, tracebacks written
        self.index = FileIndex()
        #: the file's first wrap verdicts: what a resumed target needs to know of the cases it has judged, and what
        #: decides a run's top-up
        self.wraps: list[Verdict] = []
        if self.path.exists():
            for verdict in read_verdicts(self.path, problems=[], index=self.index):
                self.cases.add(verdict.case_id)
                self._note(verdict)
        self._file = self.path.open("a", encoding="utf-8")
        self._run: tuple[str, str] | None = None
        self._synced = time.monotonic()

    def judged(self, cell: str, repetition: int) -> dict[str, set[str]]:
        """Case id → the steps the file holds for ``cell`` at ``repetition``: a live view, every write adds to it."""
        return self.steps.setdefault((cell, repetition), {})

    def _note(self, verdict: Verdict) -> None:
        self.judged(verdict.cell, verdict.repetition).setdefault(verdict.case_id, set()).add(verdict.property)
        self.targets.setdefault(verdict.target_key, set()).add(verdict.case_id)
        if verdict.property == "wrap" and verdict.repetition == 0:
            self.wraps.append(verdict)

    def write(self, verdict: Verdict) -> bool:
        """Append ``verdict`` (and its run and case records where needed); False if the file already holds it."""
        if verdict.property in self.judged(verdict.cell, verdict.repetition).get(verdict.case_id, ()):
            return False
        lines = []
        run = (verdict.cell, json.dumps(verdict.versions, sort_keys=True))
        if run != self._run:
            lines.append({"record": "run", "schema": SCHEMA_VERSION, "cell": verdict.cell,
                          "versions": verdict.versions})
            self._run = run
        data = asdict(verdict)
        if verdict.case_id not in self.cases:
            lines.append({"record": "case", **{name: data[name] for name in CASE_FIELDS}})
            self.cases.add(verdict.case_id)
        record = {"record": "verdict", "case_id": verdict.case_id, "property": verdict.property,
                  "outcome": verdict.outcome}
        record.update({name: data[name] for name, default in VERDICT_DEFAULTS.items() if data[name] != default})
        if verdict.error is not None and verdict.error.traceback:
            text = verdict.error.traceback
            ident = traceback_id(text)
            if ident not in self.index.tracebacks:
                lines.append({"record": "traceback", "id": ident, "text": text})
                self.index.tracebacks[ident] = text
            record["error"] = {**record["error"], "traceback_id": ident}
            del record["error"]["traceback"]
        lines.append(record)
        self._append(lines)
        self._note(verdict)
        return True

    @property
    def done(self) -> set[tuple[str, str]]:
        return self.index.done

    def mark_done(self, cell: str, target: str) -> None:
        """Record that every case of ``target`` in ``cell`` has been judged."""
        if (cell, target) not in self.done:
            self._append([{"record": "done", "cell": cell, "target": target}], sync=True)
            self.done.add((cell, target))

    def _append(self, lines: list[dict[str, Any]], sync: bool = False) -> None:
        self._file.write("".join(json.dumps(line, sort_keys=True, default=str) + "\n" for line in lines))
        self._file.flush()
        if sync or time.monotonic() - self._synced >= SYNC_S:
            self._sync()

    def _sync(self) -> None:
        os.fsync(self._file.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        if not self._file.closed:
            self._sync()
            self._file.close()

    def __enter__(self) -> VerdictWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
