"""A worker process: runs targets or single cases sent by the supervisor (``harness.run.runner``), one at a time.

Workers are forked warm by ``harness.run.zygote``. Commands arrive as JSON lines on a pipe; events go out as JSON lines
on another (libraries may print to stdout). Before each case and each property the worker says what it starts, so
when it dies (segfault, out of memory, hard timeout) the supervisor can record exactly that step as the verdict.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from harness.archs.strategies import Unbuildable
from harness.cases import Case, case_strategy
from harness.run.execute import run_case
from harness.oracles import properties_named
from harness.matrix.cells import Profile
from harness.run.plan import Target, wrap_broken
from harness.results import BAD_OUTCOMES, Verdict, target_verdict



class Events:
    """The event stream to the supervisor. ``emit`` sends an event at once; ``hold`` writes one that may wait for
    the next (a verdict, when the next step's announcement follows at once): they go in one write, one wake-up of
    the supervisor instead of two. Every announcement, and the end of every case, sends what is held."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def hold(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(event, default=str) + "\n")

    def emit(self, event: dict[str, Any]) -> None:
        self.hold(event)
        self.flush()

    def flush(self) -> None:
        self.stream.flush()


#: fault injection for the harness's own tests: a folder holding files named ``<fault>@<property>``; the first
#: worker to start that property deletes the file and commits the fault (once per file, across processes)
FAULT_DIR_ENV = "PEFT_COMPAT_FAULT_DIR"


def _inject_fault(step: str) -> None:
    folder = os.environ.get(FAULT_DIR_ENV)
    if not folder:
        return
    for fault in ("segfault", "hang"):
        armed = os.path.join(folder, f"{fault}@{step}")
        try:
            os.remove(armed)
        except FileNotFoundError:
            continue
        if fault == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # a hang no in-process guard can break
        while True:
            time.sleep(60)


def _starting(events: Events) -> Callable[[str], None]:
    def announce(step: str) -> None:
        events.emit({"event": "property", "name": step})
        _inject_fault(step)

    return announce


class _Shrinkable(Exception):
    """Raised inside hypothesis on a bad verdict so that it shrinks the case (only with ``shrink`` budgets)."""


class _WrapBroken(Exception):
    """Raised inside hypothesis when a target's first case does not wrap: the rest of its budget goes elsewhere."""


def run_target(target: Target, seed: int, budget: Profile, properties: list[str], done: dict[str, set[str]],
               broken: set[str],
               database: str | None, events: Events) -> None:
    """Draw up to ``budget.max_examples`` cases for ``target`` through hypothesis and judge each; of a case that
    ``done`` lists, only the steps it lacks. When the first case does not wrap (``plan.wrap_broken``; ``broken``:
    case ids whose wrap verdict on file says so), the target ends there."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.control import current_build_context
    from hypothesis.database import DirectoryBasedExampleDatabase

    if target.refused:
        verdict = target_verdict(target.to_json(), "unsupported", target.refused)
        events.emit({"event": "verdict", "verdict": verdict.to_json()})
        return
    try:
        strategy = case_strategy(target.task, target.arch, target.method, seed)
    except Unbuildable as exc:
        events.emit({"event": "verdict", "verdict": target_verdict(target.to_json(), "skip", f"zoo: {exc}").to_json()})
        return
    props = properties_named(properties)
    failing = {"found": False}
    ending: dict[str, Any] = {"cases": 0, "broken": None}

    def end_if_broken(case: Case, first: bool, verdicts: list[Verdict]) -> None:
        if first and (case.id in broken or (verdicts and wrap_broken(verdicts[0]))):
            ending["broken"] = case.id
            raise _WrapBroken(case.id)

    def judge(case: Case) -> None:
        if ending["broken"] is not None:  # the target is over: replay its ending for hypothesis, run nothing else
            if case.id == ending["broken"]:
                raise _WrapBroken(case.id)
            return
        judged = done.get(case.id, set())
        if {"wrap", *properties} <= judged:
            ending["cases"] += 1
            end_if_broken(case, ending["cases"] == 1, [])
            return
        final = current_build_context().is_final
        if failing["found"] and not final:
            verdicts = list(run_case(case, props, budget.case_timeout_s))  # a shrink step: not recorded
        else:
            events.emit({"event": "case", "case_id": case.id, "case": case.to_json()})
            verdicts = []
            for verdict in run_case(case, [p for p in props if p.name not in judged], budget.case_timeout_s,
                                    judge_wrap="wrap" not in judged, starting=_starting(events)):
                verdicts.append(verdict)
                events.hold(case_verdict_event(verdict))
            events.flush()
            ending["cases"] += 1
            end_if_broken(case, ending["cases"] == 1, verdicts)
        if budget.shrink and any(v.outcome in BAD_OUTCOMES for v in verdicts):
            failing["found"] = True
            raise _Shrinkable(case.id)

    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if budget.shrink else [])
    test = settings(
        max_examples=budget.max_examples, deadline=None, suppress_health_check=list(HealthCheck),
        database=DirectoryBasedExampleDatabase(database) if database else None, phases=phases,
        report_multiple_bugs=False,
    )(hypothesis_seed(seed)(given(strategy)(judge)))
    try:
        test()
    except (_Shrinkable, _WrapBroken):
        pass
    except Exception as exc:  # noqa: BLE001 - drawing a case failed: a zoo gap of this version, reported as data
        reason = f"zoo: could not draw a case ({type(exc).__name__}: {exc})".splitlines()[0][:300]
        events.emit({"event": "verdict", "verdict": target_verdict(target.to_json(), "skip", reason).to_json()})


def run_single(case_json: dict[str, Any], properties: list[str], timeout_s: float, pinned: bool,
               done: list[str], events: Events) -> None:
    case = Case.from_json(case_json)
    events.emit({"event": "case", "case_id": case.id, "case": case.to_json()})
    steps = [p for p in properties_named(properties) if p.name not in done]
    for verdict in run_case(case, steps, timeout_s, pinned=pinned,
                            judge_wrap="wrap" not in done, starting=_starting(events)):
        events.hold(case_verdict_event(verdict))
    events.flush()


def case_verdict_event(verdict: Verdict) -> dict[str, Any]:
    """A case's verdict as an event, without the case: the case event before it carried that once (the supervisor
    joins them, ``runner.Worker.verdict``)."""
    data = replace(verdict, case={}).to_json()
    del data["case"]
    return {"event": "verdict", "verdict": data}


def warm_up() -> None:
    """Import what the libraries otherwise import lazily mid-case: a time limit firing inside an import leaves a
    half-initialised module behind (seen: ``torch._dynamo`` without ``decorators``) and poisons later cases. Then
    run one trivial hypothesis test, so that hypothesis's once-per-process set-up (a full garbage collection when
    it first registers its random generator, lazy imports) is done before the zygote forks, not in every worker."""
    import importlib

    from hypothesis import given, settings
    from hypothesis import strategies as st

    for name in ("torch._dynamo", "transformers.generation", "transformers.cache_utils", "peft"):
        importlib.import_module(name)
    settings(max_examples=1, database=None)(given(st.none())(lambda _: None))()


def serve(commands: TextIO, stream: TextIO) -> None:
    """Run each command read from ``commands`` until it ends, writing events to ``stream``. The process is warm
    already (``harness.run.zygote`` forked it after ``warm_up``)."""
    events = Events(stream)
    events.emit({"event": "ready"})
    for line in commands:
        command = json.loads(line)
        if command["kind"] == "target":
            done = {case: set(steps) for case, steps in command["done"].items()}
            run_target(Target(**command["target"]), command["seed"], Profile(**command["budget"]),
                       command["properties"], done, set(command["broken"]), command.get("database"), events)
        else:
            run_single(command["case"], command["properties"], command["timeout_s"], command["pinned"],
                       command["done"], events)
        events.emit({"event": "done"})
