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
from harness.plan import TOP_UP_SALT, Target
from harness.results import ErrorInfo, Verdict, VerdictWriter, case_id, read_verdicts
from harness.versions import cell_name, installed

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
    skip: set[str] = field(default_factory=set)
    #: a target's top-up: this many examples (instead of the profile's), drawn from its top-up seed
    top_up: int = 0

    def command(self, seed: int, budget: Profile, properties: list[str], database: str | None) -> dict[str, Any]:
        if self.target is not None:
            if self.top_up:
                budget = replace(budget, max_examples=self.top_up)
            target_seed = self.target.seed(seed, TOP_UP_SALT if self.top_up else "")
            return {"kind": "target", "target": self.target.to_json(), "seed": target_seed,
                    "budget": budget.__dict__, "properties": properties, "skip": sorted(self.skip),
                    "database": database}
        return {"kind": "case", "case": self.case, "properties": properties, "timeout_s": budget.case_timeout_s,
                "pinned": self.pinned}


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


def completed_cases(path: Path, properties: list[str]) -> set[str]:
    """Case ids in ``path`` that have a verdict for every step (so a resumed run need not repeat them)."""
    if not path.exists():
        return set()
    steps: dict[str, set[str]] = {}
    whole_targets: set[str] = set()  # verdicts that stand for a target that is not run
    problems: list[Any] = []
    for verdict in read_verdicts(path, problems):
        steps.setdefault(verdict.case_id, set()).add(verdict.property)
        if "target" in verdict.case:
            whole_targets.add(verdict.case_id)
    needed = {"wrap", *properties}
    return {cid for cid, seen in steps.items() if needed <= seen} | whole_targets


class Supervisor:
    def __init__(self, out: Path, jobs: int, budget: Profile, properties: list[str], seed: int,
                 database: str | None, resume: bool, stream: TextIO = sys.stderr) -> None:
        self.out, self.jobs, self.budget, self.properties = out, max(1, jobs), budget, properties
        self.seed, self.database = seed, database
        self.done = completed_cases(out, properties) if resume else set()
        if not resume and out.exists():
            out.unlink()
        self.writer = VerdictWriter(out)
        self.stream = stream
        self.verdicts: list[Verdict] = []

    def run(self, items: list[Item]) -> list[Verdict]:
        """Run every item; returns this run's verdicts (all are also in the output file already)."""
        queue = [self._with_skips(i) for i in items]
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
        return self.verdicts

    @staticmethod
    def _item_verdict(item: Item, outcome: str, what: str) -> Verdict:
        from harness.worker import target_verdict

        if item.target is not None:
            verdict = target_verdict(item.target, outcome, "")
        else:
            case = item.case or {}
            verdict = Verdict(case_id=case_id(case), cell=cell_name(), versions=installed(),
                              arch=case["arch"]["model_type"], task=case["arch"]["task"],
                              method=case["method"]["method"], property="wrap", outcome=outcome,  # type: ignore
                              case=case, pinned=item.pinned)
        return replace(verdict, signature=what, error=ErrorInfo(type="WorkerDied", message=what))

    def _with_skips(self, item: Item) -> Item:
        item.skip |= self.done
        return item

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
            worker.item, worker.step, worker.case = None, "", None
            progress.items_done += 1

    def _record(self, verdict: Verdict, progress: Progress) -> None:
        self.writer.write(verdict)
        self.verdicts.append(verdict)
        progress.outcomes[verdict.outcome] += 1

    def _lost(self, worker: Worker, what: str, outcome: str, queue: list[Item], progress: Progress) -> None:
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
            if step in worker.done_steps:
                continue
            in_flight = step == worker.step
            self._record(Verdict(
                case_id=worker.case_id, cell=cell_name(), versions=installed(), arch=case["arch"]["model_type"],
                task=case["arch"]["task"], method=case["method"]["method"], property=step,
                outcome=outcome if in_flight else "skip",  # type: ignore[arg-type]
                signature=what if in_flight else "", error=error if in_flight else None, case=case,
                reason="" if in_flight else f"{worker.step} ended the worker earlier in this case",
                pinned=item.pinned,
            ), progress)
        item.skip.add(worker.case_id)
        if item.target is not None:
            queue.insert(0, item)  # carry on with the rest of the target in a fresh worker
        else:
            progress.items_done += 1
