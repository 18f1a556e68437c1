"""The JUnit writer, ``repro`` and ``zoo`` as their users call them."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.run.execute import run_case
from harness.junit import write_junit
from harness.oracles import properties_named
from harness.results import BAD_OUTCOMES, OUTCOMES, Verdict
from harness.writer import VerdictWriter
from report_factory import verdict
from test_oracles import ADAPTION, TIMEOUT_S

verdicts = st.lists(st.builds(
    verdict, case_id=st.sampled_from(["c1", "c2", "c3"]), arch=st.sampled_from(["llama", "gpt2"]),
    method=st.sampled_from(["PREFIX_TUNING", "PROMPT_TUNING"]), property=st.sampled_from(["forward", "save-load"]),
    outcome=st.sampled_from(sorted(OUTCOMES)), reason=st.sampled_from(["", "not applicable here"]),
    duration_s=st.floats(0, 5)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(verdicts)
def test_junit_has_one_case_per_target_and_property_failed_by_any_bad_verdict(tmp_path_factory: pytest.TempPathFactory,
                                                                             vs: list[Verdict]) -> None:
    path = tmp_path_factory.mktemp("junit") / "out.xml"
    write_junit(vs, path, "py311-tf4.45")
    root = ET.parse(path).getroot()
    expected: dict[tuple[str, str], list[Verdict]] = defaultdict(list)
    for v in vs:
        expected[(f"{v.task}.{v.arch}.{v.method}", v.property)].append(v)
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert set(cases) == set(expected) and root.get("tests") == str(len(expected))
    bad = {key for key, group in expected.items() if any(v.outcome in BAD_OUTCOMES for v in group)}
    assert {key for key, c in cases.items() if c.find("failure") is not None} == bad
    assert root.get("failures") == str(len(bad))
    skipped = {key for key, group in expected.items() if all(v.outcome in ("skip", "unsupported") for v in group)}
    assert {key for key, c in cases.items() if c.find("skipped") is not None} == skipped


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A verdict file holding one real case (the oracle tests' llama × adaption prompt), judged on two properties."""
    path = tmp_path_factory.mktemp("repro") / "cell.jsonl"
    with VerdictWriter(path) as writer:
        for v in run_case(ADAPTION, properties_named(["forward", "positional-ids"]), TIMEOUT_S):
            writer.write(v)
    return path, ADAPTION.id


def test_repro_replays_a_case_and_writes_a_script_that_runs(recorded: tuple[Path, str], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path, case_id = recorded
    script = tmp_path / "repro.py"
    again = tmp_path / "again.jsonl"
    status = main(["repro", case_id, "--from", str(path), "--property", "forward", "--script", str(script),
                   "--out", str(again)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.startswith(f"case {case_id}: causal-lm llama × ADAPTION_PROMPT")
    assert [line.split()[:2] for line in out.splitlines()[1:3]] == [["wrap", "pass"], ["forward", "pass"]]
    assert again.is_file() and script.is_file()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "does not show the bug" in done.stdout, done.stderr[-2000:]


def test_repro_says_what_to_do_with_an_id_it_cannot_find(recorded: tuple[Path, str],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = recorded
    assert main(["repro", "0123456789ab", "--from", str(path)]) == 2
    assert f"case '0123456789ab' is in none of {path}" in capsys.readouterr().err
    assert main(["repro", "F00000000", "--from", str(path)]) == 2
    assert "no finding 'F00000000'" in capsys.readouterr().err


def test_zoo_lists_each_architecture_of_a_task_with_its_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", "--task", "causal-lm", "--arch", "llama", "--arch", "gpt2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["model_type"] for r in rows) == ["gpt2", "llama"]
    assert all(r["status"] == "ok" and r["n_params"] > 0 and r["task"] == "causal-lm" for r in rows), rows
    assert main(["zoo", "--task", "causal-lm", "--arch", "llama"]) == 0
    text = capsys.readouterr().out
    assert "llama" in text and "causal-lm" in text and "1/1" in text
