"""The nightly on one machine, for contributors without CI: run matrix cells in parallel, then build their report.

Each chosen cell runs as ``tox -e <cell> -- --profile P -j W [RUN_ARGS]`` (at most -j cells at a time, each with W =
cores / -j workers; output in <out>/logs/<cell>.log) and writes reports/raw/<cell>.jsonl in the repository. Then
``python -m harness report`` builds <out>/index.html, summary.md and compat.json from those files, diffed against
--baseline or else the compat.json an earlier run left in <out> (kept as compat.previous.json). Exit status: 0 when
every cell and the report exit 0; 1 when a cell has new failures, stale expectations or did not finish, or the report
warned; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from harness.datafile import DataFileError
from harness.matrix.cells import DEFAULT_PATH, load_matrix
from harness.results import BadLine, read_verdicts
from harness.matrix.slicing import patterns_of, matching_cells

#: the repository: tox.ini and matrix.yaml; cells write reports/raw/ here
REPO = DEFAULT_PATH.parent
#: seconds between "still running" lines
HEARTBEAT_S = 60.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cells", action="append", metavar="PATTERN",
                        help="fnmatch patterns over cell names, comma-separated or repeated (default: every cell, "
                             "pairings and crosses; `python -m harness matrix --nightly` lists them)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="cells at a time (default 1)")
    parser.add_argument("--profile", default="nightly", help="run budget from matrix.yaml (default nightly)")
    parser.add_argument("--out", type=Path, default=Path("reports"),
                        help="folder for the report and the cells' logs (default reports)")
    parser.add_argument("--baseline", type=Path, metavar="COMPAT_JSON",
                        help="diff against this compat.json (default: the one an earlier run left in --out)")
    parser.add_argument("run_args", nargs=argparse.REMAINDER, metavar="-- RUN_ARGS",
                        help="more `run` options for every cell, e.g. -- --method PREFIX_TUNING")


@dataclass(frozen=True)
class Job:
    name: str
    command: tuple[str, ...]
    log: Path


@dataclass(frozen=True)
class Event:
    """A job ``started`` or ``finished`` (with its ``returncode``), or a heartbeat: the jobs still ``running``."""

    kind: Literal["started", "finished", "running"]
    elapsed_s: float
    #: the job (started, finished) or every job still running, each with the seconds it has run
    jobs: tuple[tuple[Job, float], ...]
    returncode: int | None = None


def schedule(jobs: Sequence[Job], parallel: int, cwd: Path, heartbeat_s: float = HEARTBEAT_S,
             poll_s: float = 0.5) -> Generator[Event, None, None]:
    """Run ``jobs`` in order, at most ``parallel`` at a time, each writing to its log; yield what happens. If the
    consumer stops early (Ctrl-C), the jobs still running are ended with their whole process group."""
    if parallel < 1:
        raise ValueError(f"-j must be at least 1, got {parallel}")
    begin = last_beat = time.monotonic()
    waiting = list(jobs)
    running: dict[subprocess.Popen[bytes], tuple[Job, float]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < parallel:
                job = waiting.pop(0)
                job.log.parent.mkdir(parents=True, exist_ok=True)
                with job.log.open("wb") as log:
                    process = subprocess.Popen(job.command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                               start_new_session=True)
                running[process] = (job, time.monotonic())
                yield Event("started", time.monotonic() - begin, ((job, 0.0),))
            time.sleep(poll_s)
            now = time.monotonic()
            for process, (job, started) in list(running.items()):
                if process.poll() is not None:
                    del running[process]
                    yield Event("finished", now - begin, ((job, now - started),), process.returncode)
            if running and now - last_beat >= heartbeat_s:
                last_beat = now
                yield Event("running", now - begin, tuple((job, now - started) for job, started in running.values()))
    finally:
        for process in running:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()


def main(args: argparse.Namespace) -> int:
    try:
        matrix = load_matrix()
        matrix.profile(args.profile)
        cells = matching_cells(matrix.cells, patterns_of(args.cells or ["*"]))
    except (DataFileError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tox = shutil.which("tox")
    if tox is None:
        print("error: tox is not on PATH: install it with `pip install tox tox-uv`", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"error: -j must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    run_args = args.run_args[1:] if args.run_args[:1] == ["--"] else args.run_args
    logs = args.out / "logs"
    # the cores are shared: each cell gets its part as `run` workers (a -j in RUN_ARGS comes later and wins)
    workers = max(1, (os.cpu_count() or 1) // args.jobs)
    cell_args = ("--profile", args.profile, "-j", str(workers), *run_args)
    jobs = [Job(c.name, (tox, "-c", str(REPO / "tox.ini"), "-e", c.name, "--", *cell_args), logs / f"{c.name}.log")
            for c in cells]
    print(f"nightly: {len(jobs)} cells, {args.jobs} at a time, each `tox -e <cell> -- {' '.join(cell_args)}`; "
          f"logs in {logs}", flush=True)
    since = time.time()
    codes: dict[str, int] = {}
    took: dict[str, float] = {}
    started = 0
    with contextlib.closing(schedule(jobs, args.jobs, REPO)) as events:
        for event in events:
            clock = _clock(event.elapsed_s)
            job, seconds = event.jobs[0]
            if event.kind == "started":
                started += 1
                print(f"[{clock}] started  {job.name} ({started}/{len(jobs)})", flush=True)
            elif event.kind == "finished":
                assert event.returncode is not None
                codes[job.name], took[job.name] = event.returncode, seconds
                print(f"[{clock}] finished {job.name} in {_clock(seconds)}: exit {event.returncode}, "
                      f"{_tally(job.name, since)} ({len(codes)}/{len(jobs)} done)", flush=True)
            else:
                names = ", ".join(f"{j.name} ({_clock(s)})" for j, s in event.jobs)
                print(f"[{clock}] running  {names}; {len(jobs) - started} waiting, {len(codes)} done", flush=True)
    _summarise(jobs, codes, took, since)
    fresh = [_raw(c.name) for c in cells if _fresh(_raw(c.name), since)]
    report = _report(fresh, args.out, args.baseline)
    return 0 if report == 0 and not any(codes.values()) else 1


def _raw(name: str) -> Path:
    return REPO / "reports" / "raw" / f"{name}.jsonl"


#: file times come from the kernel's coarse clock, a few milliseconds behind ``time.time()``: a file written just
#: after the run began can carry an earlier time (measured: 6 ms); an earlier run's file is minutes or days older
CLOCK_SLACK_S = 1.0


def _fresh(path: Path, since: float) -> bool:
    """Whether ``path`` was written by this run (a cell whose env failed to build leaves an older file behind)."""
    return path.exists() and path.stat().st_mtime >= since - CLOCK_SLACK_S


def _tally(name: str, since: float) -> str:
    """``480 pass · 2 crash`` for a cell's verdict file of this run, or why there is none."""
    path = _raw(name)
    if not _fresh(path, since):
        return f"no verdicts from this run ({path} is {'older' if path.exists() else 'missing'})"
    problems: list[BadLine] = []
    counts = Counter(v.outcome for v in read_verdicts(path, problems))
    text = " · ".join(f"{n} {o}" for o, n in counts.most_common()) or "no verdicts"
    return text + (f" · {len(problems)} unreadable lines" if problems else "")


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


def _summarise(jobs: Sequence[Job], codes: dict[str, int], took: dict[str, float], since: float) -> None:
    width = max(len(j.name) for j in jobs)
    print(f"\n{'cell':<{width}}  exit  {'time':>8}  verdicts")
    for job in jobs:
        print(f"{job.name:<{width}}  {codes[job.name]:>4}  {_clock(took[job.name]):>8}  {_tally(job.name, since)}")
    failed = [j for j in jobs if codes[j.name]]
    if failed:
        print(f"{len(failed)} of {len(jobs)} cells exited non-zero (1: new failures or stale expectations; other: the "
              f"cell did not finish); each cell's output is in {failed[0].log.parent}/<cell>.log")


def _report(files: Sequence[Path], out: Path, baseline: Path | None) -> int:
    """Build the report from the cells' verdict files; unless ``baseline`` is given, the compat.json already in
    ``out`` becomes compat.previous.json and the baseline."""
    from harness import cli

    inputs = [str(f) for f in files]
    if not inputs:
        print("no verdict files: no report", file=sys.stderr)
        return 2
    previous = out / "compat.json"
    if baseline is None and previous.exists():
        baseline = previous.replace(out / "compat.previous.json")
    print(f"\npython -m harness report {len(inputs)} files --out {out}" +
          (f" --baseline {baseline}" if baseline else ""), flush=True)
    return cli.main(["report", *inputs, "--out", str(out), *(["--baseline", str(baseline)] if baseline else [])])
