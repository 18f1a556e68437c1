"""The supervisor keeps going: a segfault and a hang cost one verdict each, and a killed run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.results import read_verdicts

RUN = [sys.executable, "-m", "harness", "run", "--arch", "llama", "--task", "causal-lm", "--method",
       "PROMPT_TUNING", "--max-examples", "3", "--no-pinned", "--flake-reruns", "0", "--timeout", "3",
       "--property", "forward", "--property", "positional-ids", "--property", "disable-adapter",
       "--property", "adapter-matters"]


def _run(out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, "--out", str(out), *extra], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def _verdicts(path: Path) -> dict[tuple[str, str], str]:
    """(case, property) → outcome; a file holding any of them twice fails the test."""
    verdicts = list(read_verdicts(path))
    keys = [(v.case_id, v.property) for v in verdicts]
    assert len(keys) == len(set(keys)), "a (case, property) was judged twice"
    return {(v.case_id, v.property): v.outcome for v in verdicts}


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "v.jsonl"
    assert _run(out).returncode == 0
    return out


@pytest.fixture(scope="module")
def clean(clean_file: Path) -> dict[tuple[str, str], str]:
    verdicts = _verdicts(clean_file)
    assert len(verdicts) >= 10, "the reference run produced too few verdicts to test anything"
    return verdicts


def test_same_seed_same_verdicts(clean: dict[tuple[str, str], str], tmp_path: Path) -> None:
    out = tmp_path / "again.jsonl"
    _run(out)
    assert _verdicts(out) == clean


def test_segfault_and_hang_cost_one_verdict_each(clean: dict[tuple[str, str], str], tmp_path: Path) -> None:
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "segfault@positional-ids").touch()
    (faults / "hang@disable-adapter").touch()
    out = tmp_path / "faulty.jsonl"
    _run(out, env={"PEFT_COMPAT_FAULT_DIR": str(faults)})
    got = _verdicts(out)
    assert not list(faults.iterdir()), "both faults fired"
    crashed = [k for k, o in got.items() if o == "crash" and k[1] == "positional-ids"]
    hung = [k for k, o in got.items() if o == "timeout" and k[1] == "disable-adapter"]
    assert len(crashed) == 1 and len(hung) == 1
    assert any("SIGSEGV" in v.signature for v in read_verdicts(out))
    changed = {k for k in clean if got.get(k) != clean[k]}
    # the two faulted steps change, and so may the steps after them in the same case (skipped): nothing else
    faulted_cases = {crashed[0][0], hung[0][0]}
    assert changed <= {k for k in clean if k[0] in faulted_cases}
    assert set(got) == set(clean)


def test_a_killed_run_resumes_where_it_stopped(clean: dict[tuple[str, str], str], tmp_path: Path) -> None:
    """SIGKILL the whole run while a step hangs (so it is surely mid-way), then --resume: the clean run's verdicts."""
    faults = tmp_path / "faults"
    faults.mkdir()
    armed = faults / "hang@adapter-matters"
    armed.touch()
    out = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([*RUN, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "PEFT_COMPAT_FAULT_DIR": str(faults)})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and armed.exists():
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not armed.exists(), "the hang never fired"
    before = len(out.read_text().splitlines()) if out.exists() else 0
    assert before < len(clean), "the run must be killed mid-way for this test to mean anything"
    _run(out, "--resume")
    assert _verdicts(out) == clean


def _judge(out: Path) -> tuple[int, str]:
    """The exit status and the counting line of ``python -m harness judge OUT``."""
    done = subprocess.run([sys.executable, "-m", "harness", "judge", str(out)], capture_output=True, text=True,
                          timeout=300)
    return done.returncode, done.stderr.splitlines()[0]


def test_a_resume_with_nothing_left_is_judged_on_the_whole_file(tmp_path: Path) -> None:
    """A run whose file holds a new failure (an injected segfault) exits 1; resuming it, with nothing left to run,
    exits 1 too, with the same counts, and writes no verdict."""
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "segfault@forward").touch()
    out = tmp_path / "v.jsonl"
    first = _run(out, env={"PEFT_COMPAT_FAULT_DIR": str(faults)})
    assert first.returncode == 1 and "1 new failure(s)" in first.stderr
    lines = out.read_text()
    again = _run(out, "--resume")
    assert again.returncode == 1 and "1 new failure(s)" in again.stderr
    assert out.read_text().count('"record": "verdict"') == lines.count('"record": "verdict"')
    assert _judge(out)[0] == 1


def test_flake_reruns_are_counted_as_reruns_of_their_cases(clean: dict[tuple[str, str], str], tmp_path: Path) -> None:
    """A crash that does not come back on re-run (the fault fires once) is flaky: the run exits 0, every count is
    per unique (case, property) as in the clean run, and the summary counts the re-run in cases."""
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "segfault@positional-ids").touch()
    out = tmp_path / "v.jsonl"
    done = _run(out, "--flake-reruns", "2", env={"PEFT_COMPAT_FAULT_DIR": str(faults)})
    assert done.returncode == 0, done.stderr
    assert "1 case(s) re-run in fresh processes; 1 flaky" in done.stderr
    verdicts = list(read_verdicts(out))
    assert sorted({v.repetition for v in verdicts}) == [0, 1, 2]
    first = [v for v in verdicts if v.repetition == 0]
    assert len(first) == len(clean) and f"({len(clean)} (case, property) verdicts of" in done.stderr
    assert _judge(out)[0] == 0


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(cuts=st.lists(st.floats(0.05, 0.95), min_size=1, max_size=2))
def test_killed_anywhere_and_resumed_equals_an_uninterrupted_run(clean: dict[tuple[str, str], str],
                                                                 clean_file: Path, cuts: list[float],
                                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    """SIGKILL leaves a prefix of the bytes the run would have written (records are appended, flushed and synced
    in order), possibly ending mid-line. Cut the clean run's file at drawn points, resuming after each cut: the
    file then holds exactly one verdict per (case, property) of the plan, and judges as the clean run does."""
    out = tmp_path_factory.mktemp("cut") / "v.jsonl"
    out.write_bytes(clean_file.read_bytes())
    for cut in cuts:
        data = out.read_bytes()
        out.write_bytes(data[: int(len(data) * cut)])
        assert _run(out, "--resume").returncode == 0
    assert _verdicts(out) == clean
    assert _judge(out) == _judge(clean_file)


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            found |= {int(child)} | _descendants(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_a_supervisor_killed_with_sigkill_leaves_no_process(tmp_path: Path) -> None:
    """Only the supervisor is killed (not its group): the zygote and the workers die with it, at once."""
    faults = tmp_path / "faults"
    faults.mkdir()
    armed = faults / "hang@disable-adapter"
    armed.touch()
    proc = subprocess.Popen([*RUN, "--out", str(tmp_path / "v.jsonl")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PEFT_COMPAT_FAULT_DIR": str(faults)})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and armed.exists():
        time.sleep(0.1)
    assert not armed.exists(), "the hang never fired"
    left = _descendants(proc.pid)
    assert len(left) >= 2, f"expected the zygote and a hanging worker under the supervisor, found {sorted(left)}"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(map(_alive, left)):
        time.sleep(0.05)
    assert not [pid for pid in left if _alive(pid)], "processes outlived their supervisor"
