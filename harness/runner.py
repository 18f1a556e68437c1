"""The supervisor: hands work items to worker processes, writes every verdict as it arrives, survives workers that
hang or die, resumes a killed run, and shows progress.

A worker that dies (segfault, out of memory) or overruns the hard limit costs exactly one step: the step in flight
becomes a ``crash`` or ``timeout`` verdict, the rest of that case ``skip``, and the worker is replaced.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from harness import zygote
from harness.matrix import Profile
from harness.plan import TOP_UP_SALT, Target, wrap_broken
from harness.results import (
    ErrorInfo,
    Outcome,
    Verdict,
    VerdictWriter,
    case_id,
    case_verdict,
    target_verdict,
)
from harness.versions import cell_name

def hard_limit(step_timeout_s: float) -> float:
    """Seconds a step may run before the supervisor kills its worker: twice the in-process limit (which fires at
    the next Python frame) plus 5 s, so only a hang inside native code reaches it."""
    return 2 * step_timeout_s + 5


@dataclass
class Item:
    """A unit of work: a target to explore, or one fixed case (pinned example, repro, flake re-run)."""

    target: Target | None = None
    case: dict[str, Any] | None = None
    pinned: bool = False
    #: a target's top-up: this many examples (instead of the profile's), drawn from its top-up seed
    top_up: int = 0
    #: case id → the steps (wrap, properties) the file already holds for it: only the rest is judged
    done: dict[str, set[str]] = field(default_factory=dict)
    #: case ids whose wrap verdict on file ends their target (``plan.wrap_broken``)
    broken: set[str] = field(default_factory=set)

    @property
    def case_id(self) -> str:
        """The id of this item's one case, or of the whole-target record that stands for a target not run."""
        return case_id(self.case) if self.case is not None else target_record_id(self.target)

    @property
    def done_key(self) -> str:
        """What a ``done`` record of this target item names: its key, and whether it is the target's top-up."""
        assert self.target is not None
        return self.target.key + (TOP_UP_SALT if self.top_up else "")

    def command(self, seed: int, budget: Profile, properties: list[str], database: str | None) -> dict[str, Any]:
        done = {case: sorted(steps) for case, steps in self.done.items()}
        if self.target is not None:
            if self.top_up:
                budget = replace(budget, max_examples=self.top_up)
            target_seed = self.target.seed(seed, TOP_UP_SALT if self.top_up else "")
            return {"kind": "target", "target": self.target.to_json(), "seed": target_seed,
                    "budget": budget.__dict__, "properties": properties, "done": done,
                    "broken": sorted(self.broken), "database": database}
        return {"kind": "case", "case": self.case, "properties": properties, "timeout_s": budget.case_timeout_s,
                "pinned": self.pinned, "done": done.get(self.case_id, [])}


def target_record_id(target: Target | None) -> str:
    """The case id of the record that stands for a whole target (refused, unbuildable, undrawable)."""
    assert target is not None
    return case_id({"target": target.to_json()})


@dataclass
class WorkerTimes:
    """When one worker started, was ready and began its first case, and how long it held work items (monotonic
    seconds): what ``harness bench`` reports."""

    spawned: float
    ready: float | None = None
    first_case: float | None = None
    busy_s: float = 0.0


#: every worker this process started, in order
WORKER_TIMES: list[WorkerTimes] = []


class Worker:
    """One worker process (forked warm by the zygote, see ``harness.zygote``) and what it is doing."""

    def __init__(self) -> None:
        self.times = WorkerTimes(time.monotonic())
        WORKER_TIMES.append(self.times)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PEFT_COMPAT_CELL": cell_name(), "OMP_NUM_THREADS": "1"}
        self.process, self.commands, self.events = zygote.shared().spawn(env)
        self.buffer = ""
        self.item: Item | None = None
        self.sent = 0.0
        self.case: dict[str, Any] | None = None
        self.case_id = ""
        self.step = ""
        self.step_started = time.monotonic()
        self.done_steps: set[str] = set()

    def send(self, item: Item, command: dict[str, Any]) -> None:
        self.item, self.sent = item, time.monotonic()
        self.commands.write(json.dumps(command) + "\n")
        self.commands.flush()

    def read_events(self) -> list[dict[str, Any]] | None:
        """Complete events available now; None at end of stream (the worker exited)."""
        chunk = os.read(self.events.fileno(), 1 << 16).decode("utf-8", errors="replace")
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split("\n")
        events = [json.loads(line) for line in lines if line.strip()]
        self._clock(events)
        return events

    def _clock(self, events: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        for event in events:
            if event["event"] == "ready":
                self.times.ready = now
            elif event["event"] == "case" and self.times.first_case is None:
                self.times.first_case = now
            elif event["event"] == "done":
                self.times.busy_s += now - self.sent

    def kill(self) -> None:
        if self.item is not None:  # killed mid-item: it was busy until now
            self.times.busy_s += time.monotonic() - self.sent
        self.process.kill()
        self.process.wait()
        self.events.close()
        try:
            self.commands.close()
        except BrokenPipeError:  # it died with a command unread
            pass

    def death(self) -> str:
        code = self.process.wait()
        if code < 0:
            return f"worker died: {signal.Signals(-code).name}"
        return f"worker exited with status {code}"


@dataclass
class Progress:
    """Counts so far, and a line a person can read at a glance."""

    total_items: int
    stream: TextIO = sys.stderr
    started: float = field(default_factory=time.monotonic)
    items_done: int = 0
    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    last_print: float = 0.0

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.items_done / elapsed if elapsed > 0 else 0
        left = (self.total_items - self.items_done) / rate if rate else float("nan")
        counts = " ".join(f"{n} {o}" for o, n in self.outcomes.most_common())
        eta = _clock(left) if left == left else "?"
        return (f"[{self.items_done}/{self.total_items} targets] {self.cases} cases · {counts or 'no verdicts'} · "
                f"{_clock(elapsed)} elapsed, ~{eta} left")

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        interactive = self.stream.isatty()
        if not force and now - self.last_print < (0.5 if interactive else 15.0):
            return
        self.last_print = now
        end = "\r" if interactive and not force else "\n"
        print(self.line().ljust(100 if interactive else 0), end=end, file=self.stream, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class Supervisor:
    """Runs items in worker processes and writes their verdicts to ``out``. With ``resume``, the file's verdicts
    stand: a torn tail is cut back, and only the (case, step) judgements it lacks are run. ``repetition`` marks
    every verdict written (0: first judgements; 1, 2, ...: flake re-runs of the same cases)."""

    def __init__(self, out: Path, jobs: int, budget: Profile, properties: list[str], seed: int,
                 database: str | None, resume: bool, stream: TextIO = sys.stderr, repetition: int = 0) -> None:
        self.out, self.jobs, self.budget, self.properties = out, max(1, jobs), budget, properties
        self.seed, self.database, self.repetition = seed, database, repetition
        self.writer = VerdictWriter(out, fresh=not resume)
        if self.writer.torn_bytes:
            print(f"{out}: cut a torn last line ({self.writer.torn_bytes} bytes, from a run killed mid-write); "
                  "its verdict is judged again", file=stream)
        self.stream = stream
        cell = cell_name()
        self.done: dict[str, set[str]] = {}
        for judged_cell, case, step, repetition in self.writer.judged:
            if judged_cell == cell and repetition == self.repetition:
                self.done.setdefault(case, set()).add(step)
        self.broken = {v.case_id for v in self.writer.wraps if v.cell == cell and wrap_broken(v)}

    def _complete(self, item: Item) -> bool:
        return self.repetition == 0 and (cell_name(), item.done_key) in self.writer.done

    def _pending(self, items: list[Item]) -> list[Item]:
        """``items`` less what the file already holds: complete cases, targets the file marks done and targets
        with a whole-target record go; partly judged cases keep only their missing steps."""
        steps = {"wrap", *self.properties}
        pending = []
        for item in items:
            if item.target is None and steps <= self.done.get(item.case_id, set()):
                continue
            if item.target is not None and (item.case_id in self.done or self._complete(item)):
                continue
            item.done, item.broken = self.done, self.broken
            pending.append(item)
        return pending

    def run(self, items: list[Item]) -> None:
        """Run every item, writing each verdict to the output file as it arrives (``judging`` reads them back)."""
        queue = self._pending(items)
        skipped = len(items) - len(queue)
        if skipped:
            print(f"resuming {self.out}: {skipped} of {len(items)} item(s) are complete there", file=self.stream)
        progress = Progress(len(queue), self.stream)
        workers: list[Worker] = []
        selector = selectors.DefaultSelector()
        try:
            while queue or any(w.item for w in workers):
                while queue and len([w for w in workers if w.item]) < self.jobs:
                    idle = next((w for w in workers if not w.item), None)
                    if idle is None:
                        idle = Worker()
                        workers.append(idle)
                        selector.register(idle.events, selectors.EVENT_READ, idle)
                    item = queue.pop(0)
                    idle.send(item, item.command(self.seed, self.budget, self.properties, self.database))
                for key, _ in selector.select(timeout=0.5):
                    worker: Worker = key.data
                    events = worker.read_events()
                    if events is None:
                        selector.unregister(worker.events)
                        workers.remove(worker)
                        self._lost(worker, worker.death(), "crash", queue, progress)
                        worker.kill()
                        continue
                    for event in events:
                        self._handle(worker, event, progress)
                for worker in [w for w in workers if w.item and self._overran(w)]:
                    selector.unregister(worker.events)
                    workers.remove(worker)
                    worker.kill()
                    limit = hard_limit(self.budget.case_timeout_s)
                    self._lost(worker, f"{worker.step}: timeout (worker killed after {limit:g} s)", "timeout",
                               queue, progress)
                progress.show()
        finally:
            for worker in workers:
                worker.kill()
            self.writer.close()
        progress.show(force=True)

    @staticmethod
    def _item_verdict(item: Item, outcome: Outcome, what: str) -> Verdict:
        """The verdict of an item whose worker died before its first case."""
        error = ErrorInfo(type="WorkerDied", message=what)
        if item.target is not None:
            return target_verdict(item.target.to_json(), outcome, "", signature=what, error=error)
        return case_verdict(item.case or {}, "wrap", outcome, pinned=item.pinned, signature=what, error=error)

    def _overran(self, worker: Worker) -> bool:
        return bool(worker.step) and time.monotonic() - worker.step_started > hard_limit(self.budget.case_timeout_s)

    def _handle(self, worker: Worker, event: dict[str, Any], progress: Progress) -> None:
        kind = event["event"]
        if kind == "case":
            worker.case, worker.case_id, worker.done_steps = event["case"], event["case_id"], set()
            progress.cases += 1
        elif kind == "property":
            worker.step, worker.step_started = event["name"], time.monotonic()
        elif kind == "verdict":
            verdict = Verdict.from_json(event["verdict"])
            worker.done_steps.add(verdict.property)
            if verdict.property == worker.step:
                worker.step = ""  # idle until the next step starts: drawing the next case is not a hang
            self._record(verdict, progress)
        elif kind == "done":
            if worker.item is not None and worker.item.target is not None and self.repetition == 0:
                self.writer.mark_done(cell_name(), worker.item.done_key)
            worker.item, worker.step, worker.case = None, "", None
            progress.items_done += 1

    def _record(self, verdict: Verdict, progress: Progress) -> None:
        verdict = replace(verdict, repetition=self.repetition)
        if self.writer.write(verdict):
            progress.outcomes[verdict.outcome] += 1

    def _lost(self, worker: Worker, what: str, outcome: Outcome, queue: list[Item], progress: Progress) -> None:
        """Record the step in flight on a worker that died or was killed, skip the rest of its case, and requeue
        the rest of its target."""
        item = worker.item
        if item is None:
            return
        if worker.case is None:  # died before its first case: the item itself is the casualty
            self._record(self._item_verdict(item, outcome, what), progress)
            progress.items_done += 1
            return
        case = worker.case
        error = ErrorInfo(type="WorkerDied" if outcome == "crash" else "HardTimeout", message=what)
        for step in ["wrap", *self.properties]:
            if step in worker.done_steps or step in item.done.get(worker.case_id, ()):
                continue
            in_flight = step == worker.step
            if in_flight:
                verdict = case_verdict(case, step, outcome, pinned=item.pinned, signature=what, error=error)
            else:
                verdict = case_verdict(case, step, "skip", pinned=item.pinned,
                                       reason=f"{worker.step} ended the worker earlier in this case")
            self._record(verdict, progress)
        item.done = {**item.done, worker.case_id: {"wrap", *self.properties}}
        if item.target is not None:
            queue.insert(0, item)  # carry on with the rest of the target in a fresh worker
        else:
            progress.items_done += 1
