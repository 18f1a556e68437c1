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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from harness.run import zygote
from harness.matrix.cells import Profile
from harness.run.plan import TOP_UP_SALT, Target, pinned_key, wrap_broken
from harness.results import ErrorInfo, Outcome, Verdict, case_id, case_verdict, target_verdict
from harness.schedule import LongestFirst
from harness.versions import installed_cell
from harness.writer import VerdictWriter

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

    @property
    def case_id(self) -> str:
        """The id of this item's one case, or of the whole-target record that stands for a target not run."""
        return case_id(self.case) if self.case is not None else target_record_id(self.target)

    @property
    def target_key(self) -> str:
        """The key of the target this item explores, or that its one case belongs to."""
        return self.target.key if self.target is not None else pinned_key(self.case or {})

    @property
    def done_key(self) -> str:
        """What a ``done`` record of this target item names: its key, and whether it is the target's top-up."""
        assert self.target is not None
        return self.target.key + (TOP_UP_SALT if self.top_up else "")

    def examples(self, budget: Profile) -> int:
        """How many cases this item may judge."""
        return 1 if self.target is None else self.top_up or budget.max_examples

    def command(self, seed: int, budget: Profile, properties: list[str], database: str | None,
                done: dict[str, set[str]], broken: set[str]) -> dict[str, Any]:
        """The worker's command. ``done``: case id → the steps the file holds for it (only the rest is judged), of
        this item's target; ``broken``: those of its case ids whose wrap verdict ends their target."""
        if self.target is not None:
            if self.top_up:
                budget = replace(budget, max_examples=self.top_up)
            target_seed = self.target.seed(seed, TOP_UP_SALT if self.top_up else "")
            return {"kind": "target", "target": self.target.to_json(), "seed": target_seed,
                    "budget": budget.__dict__, "properties": properties,
                    "done": {case: sorted(steps) for case, steps in done.items()},
                    "broken": sorted(broken & done.keys()), "database": database}
        return {"kind": "case", "case": self.case, "properties": properties, "timeout_s": budget.case_timeout_s,
                "pinned": self.pinned, "done": sorted(done.get(self.case_id, ()))}


def _cost_group(item: Item) -> tuple[str, str]:
    """Items that cost alike per example (``harness.schedule``): those of one (task, method)."""
    task, _, method = item.target_key.split(":")
    return task, method


def target_record_id(target: Target | None) -> str:
    """The case id of the record that stands for a whole target (refused, unbuildable, undrawable)."""
    assert target is not None
    return case_id({"target": target.to_json()})


@dataclass
class WorkerTimes:
    """When one worker was asked for, forked, ready, began its first case and exited, and how long it held work
    items (monotonic seconds): what ``harness bench`` reports. ``repetition``: of the pass it served (1, 2, ...:
    flake re-runs)."""

    spawned: float
    repetition: int = 0
    forked: float | None = None
    ready: float | None = None
    first_case: float | None = None
    exited: float | None = None
    busy_s: float = 0.0


#: every worker this process started, in order
WORKER_TIMES: list[WorkerTimes] = []


class Worker:
    """One worker process (forked warm by the zygote, see ``harness.run.zygote``) and what it is doing."""

    def __init__(self, repetition: int = 0) -> None:
        self.times = WorkerTimes(time.monotonic(), repetition)
        WORKER_TIMES.append(self.times)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PEFT_COMPAT_CELL": installed_cell(), "OMP_NUM_THREADS": "1"}
        self.process, self.commands, self.events = zygote.shared().spawn(env)
        self.times.forked = time.monotonic()
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

    def verdict(self, data: dict[str, Any]) -> Verdict:
        """A verdict event's verdict; one of a case comes without the case (``worker.case_event``), which the
        case event before it carried."""
        if "case" not in data and self.case is not None:
            data = {**data, "case": self.case}
        return Verdict.from_json(data)

    def kill(self) -> None:
        if self.item is not None:  # killed mid-item: it was busy until now
            self.times.busy_s += time.monotonic() - self.sent
        self.process.kill()
        self.process.wait()
        self.times.exited = time.monotonic()
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


#: items a run adds once its items so far have settled which targets wrap: given the cell's first wrap verdicts
#: (the run's top-up, ``plan.top_up``)
FollowUp = Callable[[list[Verdict]], list[Item]]


class Supervisor:
    """Runs items in worker processes and writes their verdicts through ``writer``, which may hold verdicts
    already (a resumed file, an earlier pass): those stand, and only the (case, step) judgements the file lacks
    are run. ``repetition`` marks every verdict written (0: first judgements; 1, 2, ...: flake re-runs of the same
    cases). The caller closes the writer."""

    def __init__(self, writer: VerdictWriter, jobs: int, budget: Profile, properties: list[str], seed: int,
                 database: str | None, stream: TextIO = sys.stderr, repetition: int = 0) -> None:
        self.writer, self.jobs, self.budget, self.properties = writer, max(1, jobs), budget, properties
        self.seed, self.database, self.repetition = seed, database, repetition
        self.stream = stream
        self.cell = installed_cell()
        #: case id → steps on file for this cell and repetition (the writer keeps it current)
        self.done = writer.judged(self.cell, repetition)
        self.broken: set[str] = set()
        #: targets with a first case that wrapped (``plan.top_up``'s receivers)
        self.wrapped: set[str] = set()
        for verdict in writer.wraps:
            self._wrap_seen(verdict)

    def _wrap_seen(self, verdict: Verdict) -> None:
        if verdict.cell != self.cell or verdict.property != "wrap" or verdict.repetition:
            return
        if wrap_broken(verdict):
            self.broken.add(verdict.case_id)
        elif verdict.outcome == "pass" and verdict.kind == "generated":
            self.wrapped.add(verdict.target_key)

    def _complete(self, item: Item) -> bool:
        return self.repetition == 0 and (self.cell, item.done_key) in self.writer.done

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
            pending.append(item)
        return pending

    def _command(self, item: Item) -> dict[str, Any]:
        cases = self.writer.targets.get(item.target_key, set()) if item.target is not None else {item.case_id}
        own = {case: self.done[case] for case in cases if case in self.done}
        return item.command(self.seed, self.budget, self.properties, self.database, own, self.broken)

    def run(self, items: list[Item], follow_up: FollowUp | None = None) -> None:
        """Run every item, longest expected first (``harness.schedule``), writing each verdict as it arrives.
        ``follow_up`` is asked once, as soon as every item has started and every target still running has wrapped
        (so that no verdict still to come can change which targets wrap); its items join the queue."""
        pending = self._pending(items)
        skipped = len(items) - len(pending)
        if skipped:
            print(f"resuming {self.writer.path}: {skipped} of {len(items)} item(s) are complete there",
                  file=self.stream)
        queue = LongestFirst(pending, group=_cost_group, examples=lambda i: i.examples(self.budget))
        progress = Progress(len(queue), self.stream)
        workers: list[Worker] = []
        selector = selectors.DefaultSelector()
        try:
            while True:
                if follow_up is not None and self._settled(queue, workers):
                    more = self._pending(follow_up([v for v in self.writer.wraps if v.cell == self.cell]))
                    follow_up = None
                    queue.push(more)
                    progress.total_items += len(more)
                if not (queue or any(w.item for w in workers)):
                    break
                while queue and len([w for w in workers if w.item]) < self.jobs:
                    idle = next((w for w in workers if not w.item), None)
                    if idle is None:
                        idle = Worker(self.repetition)
                        workers.append(idle)
                        selector.register(idle.events, selectors.EVENT_READ, idle)
                    item = queue.pop()
                    idle.send(item, self._command(item))
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
                        self._handle(worker, event, queue, progress)
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
        progress.show(force=True)

    def _settled(self, queue: LongestFirst[Item], workers: list[Worker]) -> bool:
        """Every item has started, and every target item still running has a case that wrapped."""
        running = [w.item.target.key for w in workers if w.item is not None and w.item.target is not None]
        return not queue and all(key in self.wrapped for key in running)

    @staticmethod
    def _item_verdict(item: Item, outcome: Outcome, what: str) -> Verdict:
        """The verdict of an item whose worker died before its first case."""
        error = ErrorInfo(type="WorkerDied", message=what)
        if item.target is not None:
            return target_verdict(item.target.to_json(), outcome, "", signature=what, error=error)
        return case_verdict(item.case or {}, "wrap", outcome, pinned=item.pinned, signature=what, error=error)

    def _overran(self, worker: Worker) -> bool:
        return bool(worker.step) and time.monotonic() - worker.step_started > hard_limit(self.budget.case_timeout_s)

    def _handle(self, worker: Worker, event: dict[str, Any], queue: LongestFirst[Item], progress: Progress) -> None:
        kind = event["event"]
        if kind == "case":
            worker.case, worker.case_id, worker.done_steps = event["case"], event["case_id"], set()
            progress.cases += 1
        elif kind == "property":
            worker.step, worker.step_started = event["name"], time.monotonic()
        elif kind == "verdict":
            verdict = worker.verdict(event["verdict"])
            worker.done_steps.add(verdict.property)
            if verdict.property == worker.step:
                worker.step = ""  # idle until the next step starts: drawing the next case is not a hang
            self._record(verdict, progress)
        elif kind == "done":
            if worker.item is not None:
                if worker.item.target is not None and self.repetition == 0:
                    self.writer.mark_done(self.cell, worker.item.done_key)
                queue.finished(worker.item, time.monotonic() - worker.sent)
            worker.item, worker.step, worker.case = None, "", None
            progress.items_done += 1

    def _record(self, verdict: Verdict, progress: Progress) -> None:
        verdict = replace(verdict, repetition=self.repetition)
        if self.writer.write(verdict):
            progress.outcomes[verdict.outcome] += 1
            self._wrap_seen(verdict)

    def _lost(self, worker: Worker, what: str, outcome: Outcome, queue: LongestFirst[Item],
              progress: Progress) -> None:
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
        judged = self.done.get(worker.case_id, set())
        for step in ["wrap", *self.properties]:
            if step in worker.done_steps or step in judged:
                continue
            in_flight = step == worker.step
            if in_flight:
                verdict = case_verdict(case, step, outcome, pinned=item.pinned, signature=what, error=error)
            else:
                verdict = case_verdict(case, step, "skip", pinned=item.pinned,
                                       reason=f"{worker.step} ended the worker earlier in this case")
            self._record(verdict, progress)
        if item.target is not None:
            queue.again(item)  # carry on with the rest of the target in a fresh worker: its case is on file now
        else:
            progress.items_done += 1
