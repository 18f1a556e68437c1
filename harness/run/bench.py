"""A benchmark of the run itself, not a timed test: ``run`` in this process (default profile, seed 0, 2 workers),
then where the time went.

Figures, all from timers. Worker time is counted against two wholes: the workers' lifetime (each worker process
from its fork to its exit, what the speed issue counted) and workers x wall (the strictest: it also charges the
workers for the launch, while the supervisor and the zygote import the libraries, and for the judging at the end,
when no worker exists). Of it: the part holding work items (drawing, building, judging cases), the part inside
properties (the verdicts' ``duration_s``: model builds, wraps, forward and generate calls and their comparisons),
the harness in the workers (held - inside: hypothesis, drawing, events) and idle (lifetime - held: waiting for the
supervisor or for the pass to end). Then launch (the process start) to the first case against one import (the
zygote's warm-up); cases per second; each worker's start to ready (forked warm: milliseconds, no import), flake
re-run workers apart.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from harness.run import cli as run_cli
from harness.results import Verdict

if TYPE_CHECKING:
    from harness.run.runner import WorkerTimes


def configure(parser: argparse.ArgumentParser) -> None:
    run_cli.configure(parser)
    parser.set_defaults(jobs="2")


def main(args: argparse.Namespace) -> int:
    launched = _process_start()
    with tempfile.TemporaryDirectory(prefix="peft-compat-bench-") as scratch:
        if args.out is None:
            args.out = Path(scratch) / "bench.jsonl"
        status = run_cli.main(args)
        wall = time.monotonic() - launched
        if status == 2:
            return status
        _print_figures(args.out, int(args.jobs), launched, wall)
    return 0


def _process_start() -> float:
    """When this process started, on the ``time.monotonic`` clock (Linux: from ``/proc/self/stat``)."""
    started_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    age = time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks / os.sysconf("SC_CLK_TCK")
    return time.monotonic() - age


def _print_figures(out: Path, jobs: int, launched: float, wall: float) -> None:
    from harness.run import zygote
    from harness.results import read_verdicts
    from harness.run.runner import WORKER_TIMES

    verdicts = list(read_verdicts(out, []))
    cases = {v.case_id for v in verdicts if "arch" in v.case}
    inside = sum(v.duration_s or 0.0 for v in verdicts)
    busy = sum(t.busy_s for t in WORKER_TIMES)
    lifetime = sum((t.exited or launched + wall) - (t.forked or t.spawned) for t in WORKER_TIMES)
    strict = jobs * wall
    forks = [t.forked for t in WORKER_TIMES if t.forked is not None]
    exits = [t.exited for t in WORKER_TIMES if t.exited is not None]
    starts = [t.first_case for t in WORKER_TIMES if t.first_case is not None]
    first_case = min(starts) - launched if starts else float("nan")
    warm = zygote.shared().warm_s or float("nan")
    lines = [
        f"wall time                      {wall:8.1f} s   ({jobs} workers, {len(WORKER_TIMES)} worker processes; "
        f"launch -> first fork {min(forks, default=launched) - launched:.1f} s, last exit -> end "
        f"{launched + wall - max(exits, default=launched + wall):.1f} s)",
        f"worker lifetime                {lifetime:8.1f} s   (fork to exit, summed; {jobs} x wall = {strict:.1f} s)",
        f"  holding work                 {busy:8.1f} s   = {_share(busy, lifetime)} of lifetime, "
        f"{_share(busy, strict)} of {jobs} x wall",
        f"  inside properties            {inside:8.1f} s   = {_share(inside, lifetime)} of lifetime, "
        f"{_share(inside, strict)} of {jobs} x wall, {_share(inside, busy)} of held",
        f"  harness in workers           {busy - inside:8.1f} s   (held - inside: hypothesis, drawing, events)",
        f"  idle in workers              {lifetime - busy:8.1f} s   (lifetime - held: waiting for work)",
        f"launch -> first case           {first_case:8.1f} s   = one import (the zygote's warm-up, {warm:.1f} s) "
        f"{first_case - warm:+.1f} s (start-up before the zygote, forking, drawing the first case)",
        f"cases per second               {len(cases) / wall:8.2f}     ({len(cases)} cases, {len(verdicts)} verdicts)",
        f"call features covered           {_call_spread(verdicts)}",
    ]
    lines += _start_up(WORKER_TIMES)
    print("\n".join(lines), file=sys.stderr)


def _start_up(times: list[WorkerTimes]) -> list[str]:
    """Worker start to ready: the first worker (it waited for the zygote's imports) and the later ones, flake
    re-run workers apart (forked warm, they import nothing)."""
    ready = [(t.repetition, t.ready - t.spawned) for t in times if t.ready is not None]
    if not ready:
        return []
    later = [s for r, s in ready[1:] if r == 0]
    reruns = [s for r, s in ready if r > 0]
    lines = [f"worker start -> ready          first {ready[0][1]:.2f} s (waits for the zygote's imports), "
             f"later {len(later)}: {_ms(later)}"]
    if reruns:
        lines.append(f"flake re-run workers           {len(reruns)}: start -> ready {_ms(reruns)} (no import)")
    return lines


def _ms(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    return f"median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"


def _call_spread(verdicts: list[Verdict]) -> str:
    """Distinct (task, method, call feature) triples over the generated cases, and how many targets began with the
    trivial call."""
    from harness.calls import CallSpec, call_features

    triples: set[tuple[str, str, str]] = set()
    first: dict[tuple[str, str, str], CallSpec] = {}
    for v in verdicts:
        if "call" in v.case and not v.pinned:
            call = CallSpec.from_json(v.case["call"])
            triples |= {(v.task, v.method, f) for f in call_features(call)}
            first.setdefault((v.task, v.arch, v.method), call)
    trivial = sum(call_features(c) <= TRIVIAL for c in first.values())
    return (f"{len(triples)} (task, method, feature) triples, {len({f for *_, f in triples})} features; "
            f"{trivial} of {len(first)} targets began with the trivial call")


#: what hypothesis's simplest call exercises (batch 1, length 1, no mask, no cache, ...): a first example within it
#: taught nothing the trivial call would not
TRIVIAL = frozenset({"batch=1", "length=1", "mask=absent", "use_cache=None", "past=absent", "split=1",
                     "generate.max_new_tokens=1", "generate.min_new_tokens=0", "generate.mode=greedy",
                     "generate.num_beams=1", "generate.num_return_sequences=1", "generate.cache_implementation=None",
                     "generate.split=1"})


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "n/a"
