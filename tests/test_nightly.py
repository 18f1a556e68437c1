"""The local nightly: at most -j cells at a time, each finished with its exit status and log, nothing left running
when it is interrupted, and the previous report kept as the baseline."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from harness import cli
from harness.nightly_cli import Job, _fresh, _report, schedule
from harness.results import Verdict
from harness.writer import VerdictWriter


def _job(tmp_path: Path, name: str, seconds: float, code: int = 0) -> Job:
    """A job that records when it ran (and its pid), prints its name and exits with ``code``."""
    script = (f"import os, sys, time; open({str(tmp_path / name)!r} + '.pid', 'w').write(str(os.getpid())); "
              f"start = time.monotonic(); time.sleep({seconds}); "
              f"open({str(tmp_path / name)!r} + '.span', 'w').write(f'{{start}} {{time.monotonic()}}'); "
              f"print({name!r}); sys.exit({code})")
    return Job(name, (sys.executable, "-c", script), tmp_path / "logs" / f"{name}.log")


@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_jobs_run_at_most_n_at_a_time_and_each_finishes_with_its_status(tmp_path: Path, parallel: int) -> None:
    jobs = [_job(tmp_path, f"cell{i}", 0.3, code=i % 2) for i in range(5)]
    events = list(schedule(jobs, parallel, tmp_path, heartbeat_s=0.1, poll_s=0.02))
    finished = {e.jobs[0][0].name: e.returncode for e in events if e.kind == "finished"}
    assert finished == {f"cell{i}": i % 2 for i in range(5)}
    kinds = [(e.kind, e.jobs[0][0].name) for e in events if e.kind != "running"]
    for job in jobs:
        assert kinds.index(("started", job.name)) < kinds.index(("finished", job.name))
        assert job.log.read_text().strip() == job.name
    in_flight = [sum((k == "started") - (k == "finished") for k, _ in kinds[:i + 1]) for i in range(len(kinds))]
    assert max(in_flight) == min(parallel, len(jobs))  # as many as allowed start at once, never more
    spans = [tuple(map(float, (tmp_path / f"{j.name}.span").read_text().split())) for j in jobs]
    assert max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans) <= parallel  # measured by the jobs
    beats = [e for e in events if e.kind == "running"]
    assert beats and all(0 < len(e.jobs) <= parallel for e in beats)


def test_an_interrupted_nightly_leaves_no_cell_running(tmp_path: Path) -> None:
    events = schedule([_job(tmp_path, "slow", 60)], 1, tmp_path, poll_s=0.02)
    assert next(events).kind == "started"
    pid_file = tmp_path / "slow.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    events.close()  # what Ctrl-C in the consumer's loop does
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["nightly", "--cells", "py311-tf4.4"]) == 2
    assert "matches no cell" in capsys.readouterr().err
    assert cli.main(["nightly", "--profile", "nighty"]) == 2
    assert "did you mean 'nightly'" in capsys.readouterr().err
    assert cli.main(["nightly", "--cells", "py311-tf4.45", "-j", "0"]) == 2


def test_the_previous_report_becomes_the_baseline(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "py311-tf4.45.jsonl"
    with VerdictWriter(raw) as writer:
        writer.write(Verdict("c1", "py311-tf4.45", {"peft": "0.13.2"}, "gpt2", "causal-lm", "PREFIX_TUNING",
                             "wrap", "pass"))
    out = tmp_path / "report"
    assert _report([raw], out, None) == 0
    first = json.loads((out / "compat.json").read_text())
    assert not (out / "compat.previous.json").exists()
    assert _report([raw], out, None) == 0
    assert json.loads((out / "compat.previous.json").read_text()) == first
    assert (out / "compat.json").exists() and (out / "index.html").exists() and (out / "summary.md").exists()


def test_a_verdict_file_older_than_the_run_is_not_taken_for_its_result(tmp_path: Path) -> None:
    """A cell whose env fails to build writes nothing: the file an earlier run left must not be reported."""
    since = time.time()
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old.write_text("")
    os.utime(old, (since - 3600, since - 3600))
    new.write_text("")
    assert not _fresh(old, since) and _fresh(new, since) and not _fresh(tmp_path / "missing.jsonl", since)
