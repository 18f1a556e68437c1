"""The supervisor keeps going: a segfault and a hang cost one verdict each, and a killed run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUN = [sys.executable, "-m", "harness", "run", "--arch", "llama", "--task", "causal-lm", "--method",
       "PROMPT_TUNING", "--max-examples", "3", "--no-pinned", "--flake-reruns", "0", "--timeout", "3",
       "--property", "forward", "--property", "positional-ids", "--property", "disable-adapter",
       "--property", "adapter-matters"]


def _run(out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, "--out", str(out), *extra], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def _verdicts(path: Path) -> dict[tuple[str, str], str]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(v["case_id"], v["property"]): v["outcome"] for v in lines}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    out = tmp_path_factory.mktemp("clean") / "v.jsonl"
    _run(out)
    verdicts = _verdicts(out)
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
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert any("SIGSEGV" in v["signature"] for v in lines)
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
