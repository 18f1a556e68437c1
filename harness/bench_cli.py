"""A benchmark of the run itself, not a timed test: ``run`` in this process (default profile, seed 0, 2 workers),
then where the time went.

Figures, all from timers: wall time; worker-seconds holding work (targets and single cases: drawing, building,
judging) over the worker-seconds available (workers x wall); the part of it inside properties (the verdicts'
``duration_s``: model builds, wraps, forward and generate calls and their comparisons) against harness overhead in
the workers (drawing, hypothesis, events); launch to the first case against one import (the zygote's warm-up);
cases per second; how long each worker took from its start to ready (a flake re-run's worker should take
milliseconds: no import).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import run_cli
from harness.results import Verdict


def configure(parser: argparse.ArgumentParser) -> None:
    run_cli.configure(parser)
    parser.set_defaults(jobs="2")


def main(args: argparse.Namespace) -> int:
    launched = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="peft-compat-bench-") as scratch:
        if args.out is None:
            args.out = Path(scratch) / "bench.jsonl"
        status = run_cli.main(args)
        wall = time.monotonic() - launched
        if status == 2:
            return status
        _print_figures(args.out, int(args.jobs), launched, wall)
    return 0


def _print_figures(out: Path, jobs: int, launched: float, wall: float) -> None:
    from harness import zygote
    from harness.results import read_verdicts
    from harness.runner import WORKER_TIMES

    verdicts = list(read_verdicts(out, []))
    cases = {v.case_id for v in verdicts if "arch" in v.case}
    inside = sum(v.duration_s or 0.0 for v in verdicts)
    busy = sum(t.busy_s for t in WORKER_TIMES)
    available = jobs * wall
    starts = [t.first_case for t in WORKER_TIMES if t.first_case is not None]
    warm = zygote.shared().warm_s or float("nan")
    ready = [t.ready - t.spawned for t in WORKER_TIMES if t.ready is not None]
    lines = [
        f"wall time                      {wall:8.1f} s   ({jobs} workers, {len(WORKER_TIMES)} worker processes)",
        f"worker time holding work       {busy:8.1f} s of {available:.1f} s available = {_share(busy, available)}",
        f"  inside properties            {inside:8.1f} s   = {_share(inside, available)} of available, "
        f"{_share(inside, busy)} of held",
        f"  harness in workers           {busy - inside:8.1f} s   (drawing, hypothesis, events: held - inside)",
        f"launch -> first case           {min(starts) - launched if starts else float('nan'):8.1f} s   "
        f"(one import, the zygote's warm-up: {warm:.1f} s)",
        f"cases per second               {len(cases) / wall:8.2f}     ({len(cases)} cases, {len(verdicts)} verdicts)",
    ]
    lines.append(f"call features covered           {_call_spread(verdicts)}")
    if ready:
        later = ready[1:]
        lines.append(f"worker start -> ready          first {ready[0]:.2f} s, later {len(later)}: "
                     f"median {statistics.median(later) * 1000 if later else 0:.0f} ms, "
                     f"max {max(later, default=0) * 1000:.0f} ms")
    print("\n".join(lines), file=sys.stderr)


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
