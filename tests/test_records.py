"""Verdict files: what is written is read back whole, a torn tail loses nothing on resume, nothing is written twice,
schema-1 files stay readable, and counts are per unique (case, property) with re-runs apart."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.results import (
    KINDS,
    OUTCOMES,
    Deprecation,
    ErrorInfo,
    Verdict,
    VerdictReader,
    ledger,
    read_verdicts,
)
from harness.writer import VerdictWriter, repair_tail

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
errors = st.builds(ErrorInfo, TEXT, TEXT, TEXT, TEXT)
deprecations = st.builds(Deprecation, st.sampled_from(["FutureWarning", "DeprecationWarning", "logger"]), TEXT,
                         TEXT, st.sampled_from(["", "4.47", "5.0"]))


@st.composite
def verdicts(draw: st.DrawFn, cases: int = 4) -> Verdict:
    """A verdict of one of a few cases (so that case records are shared), every field drawn."""
    case = draw(st.integers(0, cases - 1))
    return Verdict(
        case_id=f"case{case}", cell=draw(st.sampled_from(["py311-tf4.45", "py311-tf5.23"])),
        versions={"peft": draw(st.sampled_from(["0.13.2", "0.21.2"])), "transformers": "4.45.2"},
        arch=f"arch{case}", task="causal-lm", method="PREFIX_TUNING",
        property=draw(st.sampled_from(["wrap", "forward", "generate-greedy"])),
        outcome=draw(st.sampled_from(OUTCOMES)), signature=draw(TEXT), error=draw(st.none() | errors),
        case={"arch": {"model_type": f"arch{case}"}, "n": case}, duration_s=draw(st.floats(0, 100, width=32)),
        reason=draw(TEXT), kind=draw(st.sampled_from(KINDS)), repetition=draw(st.integers(0, 2)),
        deprecations=tuple(draw(st.lists(deprecations, max_size=2))),
    )


def _unique(drawn: list[Verdict]) -> list[Verdict]:
    """One verdict per (cell, case, property, repetition), each case with one kind and one case JSON (as a run
    writes them)."""
    kinds: dict[str, str] = {}
    out: dict[tuple[str, str, str, int], Verdict] = {}
    for v in drawn:
        v = replace(v, kind=kinds.setdefault(v.case_id, v.kind))
        out.setdefault((*v.key, v.repetition), v)
    return list(out.values())


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.lists(verdicts(), max_size=25))
def test_what_is_written_is_read_back_whole(tmp_path: Path, drawn: list[Verdict]) -> None:
    path = tmp_path / "v.jsonl"
    expected = _unique(drawn)
    with VerdictWriter(path, fresh=True) as writer:
        assert all(writer.write(v) for v in expected)
        assert not any(writer.write(v) for v in expected), "a verdict already in the file was written again"
    assert list(read_verdicts(path)) == expected


@SETTINGS
@given(st.lists(verdicts(), min_size=1, max_size=25), st.data())
def test_a_torn_tail_is_cut_back_and_a_resume_writes_each_verdict_once(tmp_path: Path, drawn: list[Verdict],
                                                                       data: st.DataObject) -> None:
    """SIGKILL leaves a prefix of the bytes an unkilled writer would have written: cut at any byte, resume, write
    everything again: the file then holds every verdict exactly once and reads without a bad line."""
    path = tmp_path / "v.jsonl"
    expected = _unique(drawn)
    with VerdictWriter(path, fresh=True) as writer:
        for v in expected:
            writer.write(v)
    whole = path.read_bytes()
    cut = data.draw(st.integers(0, len(whole)), label="cut")
    path.write_bytes(whole[:cut])
    with VerdictWriter(path) as writer:
        survived = len(list(read_verdicts(path)))
        written = [v for v in expected if writer.write(v)]
    problems: list[object] = []
    assert list(read_verdicts(path, problems)) == expected[:survived] + written and not problems
    assert sorted(map(repr, read_verdicts(path))) == sorted(map(repr, expected))


def test_a_torn_line_that_is_whole_json_keeps_its_verdict(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    with VerdictWriter(path, fresh=True) as writer:
        writer.write(Verdict("c", "cell", {}, "gpt2", "causal-lm", "PROMPT_TUNING", "wrap", "pass"))
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert repair_tail(path) == 0 and path.read_bytes().endswith(b"\n")
    assert len(list(read_verdicts(path))) == 1


def test_schema_1_files_are_read_and_a_newer_schema_is_refused_by_name(tmp_path: Path) -> None:
    old = {"case_id": "c1", "cell": "py311-tf4.45", "versions": {"peft": "0.13.2"}, "arch": "gpt2",
           "task": "causal-lm", "method": "PREFIX_TUNING", "property": "forward", "outcome": "crash",
           "signature": "TypeError: x", "error": {"type": "TypeError", "message": "x", "frame": "", "traceback": ""},
           "case": {"arch": {}}, "duration_s": 0.5, "reason": "", "pinned": True, "schema": 1}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n" + json.dumps({**old, "pinned": False, "case": {"target": {}}}) + "\n")
    first, second = read_verdicts(path)
    assert first.kind == "pinned" and first.pinned and first.error == ErrorInfo("TypeError", "x", "", "")
    assert second.kind == "target"
    newer = tmp_path / "new.jsonl"
    newer.write_text(json.dumps({"record": "run", "schema": 3, "cell": "c", "versions": {}}) + "\n")
    with pytest.raises(ValueError, match="schema 3; this harness reads schemas 1, 2"):
        list(read_verdicts(newer))


def test_a_verdict_without_its_case_record_is_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps({"record": "verdict", "case_id": "nowhere", "property": "wrap", "outcome": "pass"})
                    + "\n")
    problems: list[object] = []
    assert list(read_verdicts(path, problems)) == []
    assert "no earlier case record" in str(problems[0])


@settings(max_examples=100, deadline=None)
@given(st.lists(verdicts(cases=3), max_size=30))
def test_the_ledger_counts_each_case_and_property_once_and_flags_disagreeing_reruns(drawn: list[Verdict]) -> None:
    first_of: dict[tuple[str, str, str], Verdict] = {}
    for v in drawn:
        first_of.setdefault(v.key, v)
    book = ledger(drawn)
    assert list(book.verdicts) == list(first_of.values())
    assert sum(len(again) for again in book.reruns.values()) == len(drawn) - len(first_of)
    outcomes: dict[tuple[str, str, str], set[str]] = {}
    for v in drawn:
        outcomes.setdefault(v.key, set()).add(v.outcome)
    assert book.flaky == {k for k, seen in outcomes.items() if len(seen) > 1}
    assert {v.key for v in book.steady} == set(first_of) - book.flaky


@SETTINGS
@given(st.lists(verdicts(), max_size=25), st.lists(st.integers(0, 25), max_size=3))
def test_a_file_read_in_steps_reads_as_a_whole(tmp_path: Path, drawn: list[Verdict], cuts: list[int]) -> None:
    """A reader that reads, then reads what was appended since (as a run judges its re-runs), sees what one read
    of the finished file sees."""
    path = tmp_path / "v.jsonl"
    expected = _unique(drawn)
    reader = VerdictReader(path)
    seen: list[Verdict] = []
    with VerdictWriter(path, fresh=True) as writer:
        start = 0
        for end in [*sorted(cuts), len(expected)]:
            for v in expected[start:end]:
                writer.write(v)
            start = max(start, end)
            seen += reader.read()
    assert seen == list(read_verdicts(path)) == expected


@SETTINGS
@given(st.lists(verdicts(), max_size=25))
def test_what_a_writer_knows_after_writing_is_what_a_resume_reads(tmp_path: Path, drawn: list[Verdict]) -> None:
    """One writer serves a whole run, so what it keeps must stay what reading the file would tell it."""
    path = tmp_path / "v.jsonl"
    with VerdictWriter(path, fresh=True) as writer:
        for v in _unique(drawn):
            writer.write(v)
    with VerdictWriter(path) as resumed:
        assert (resumed.steps, resumed.targets, resumed.wraps) == (writer.steps, writer.targets, writer.wraps)
        assert resumed.wraps == [v for v in read_verdicts(path) if v.property == "wrap" and not v.repetition]
