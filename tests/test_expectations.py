"""Expectations: bad files are refused clearly, and judging partitions bad verdicts into new and expected failures
and flags an expectation whose scope now passes everywhere."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from harness.datafile import DataFileError
from harness.expectations import DEFAULT_PATH, Expectation, judge, load_expectations
from harness.matrix.cells import load_matrix
from harness.results import BAD_OUTCOMES, OUTCOMES, ErrorInfo, Verdict

CELL_NAMES = [n for c in load_matrix().cells for n in (c.name, *c.aliases)]
RAW = yaml.safe_load(DEFAULT_PATH.read_text())
PAST_KV = "TypeError: forward() got multiple values for keyword argument 'past_key_values'"


def verdict(outcome: str = "pass", cell: str = "py311-tf4.45-peft0.11", peft: str = "0.11.1", arch: str = "gpt2",
            method: str = "PREFIX_TUNING", prop: str = "forward", message: str = "") -> Verdict:
    error = ErrorInfo(*message.split(": ", 1)) if message else None
    return Verdict(case_id="c", cell=cell, versions={"peft": peft, "transformers": "4.45.2"}, arch=arch,
                   task="causal-lm", method=method, property=prop, outcome=outcome, error=error)  # type: ignore[arg-type]


def expectation(signature: str = "multiple values", **patterns: tuple[str, ...]) -> Expectation:
    return Expectation("e", {"cell": ("*",), **patterns}, {}, signature, "r", "https://example.org/1")


# --- the shipped file ------------------------------------------------------------------------------------------------


def test_the_shipped_expectations_load_and_name_cells_of_the_matrix() -> None:
    assert load_expectations(cells=CELL_NAMES)


@pytest.mark.parametrize(("cell", "peft", "expected"), [
    ("py311-tf4.45-peft0.11", "0.11.1", True),
    ("py311-tf4.57-peft0.12", "0.12.0", True),
    ("py311-tf4.45", "0.13.2", False),  # the pairing of 4.45 has the fix
    ("py311-tf5.23-peft0.21", "0.21.2", False),
])
def test_peft_1938_is_expected_exactly_where_peft_predates_the_fix(cell: str, peft: str, expected: bool) -> None:
    failing = verdict("crash", cell=cell, peft=peft, message=PAST_KV)
    result = judge([failing], load_expectations())
    assert (result.new_failures == ()) is expected
    assert len(result.expected) == int(expected)


LOW_CPU = "TypeError: PeftModelForSequenceClassification.add_adapter() got an unexpected keyword argument " \
          "'low_cpu_mem_usage'"


@pytest.mark.parametrize(("peft", "task", "expected"), [
    ("0.13.2", "seq-cls", True),
    ("0.13.0", "question-answering", True),
    ("0.14.0", "seq-cls", False),  # fixed by peft#2156
    ("0.13.2", "causal-lm", False),  # the causal-LM wrapper takes the argument: this would be another bug
])
def test_peft_2246_is_expected_for_classification_in_peft_0_13_only(peft: str, task: str, expected: bool) -> None:
    failing = dataclasses.replace(verdict("crash", cell="py311-tf4.45", peft=peft, method="PROMPT_TUNING", prop="wrap",
                                          message=LOW_CPU), task=task)
    assert bool(judge([failing], load_expectations()).expected) is expected


# --- validation ------------------------------------------------------------------------------------------------------


def _entry(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        entry = data["expectations"][0]
        for key, value in changes.items():
            if value is None:
                del entry[key]
            else:
                entry[key] = value

    return mutate


def _duplicate(data: dict[str, Any]) -> None:
    data["expectations"].append(copy.deepcopy(data["expectations"][0]))


MISTAKES = [
    ("unknown key", _entry(methd="PREFIX_TUNING"), ["expectations[0]", "unknown key 'methd'", "did you mean 'method'"]),
    ("missing reason", _entry(reason=None), ["missing key 'reason'"]),
    ("no signature", _entry(signature=None), ["exactly one of 'signature'", "signature:"]),
    ("two signatures", _entry(signature_regex="x"), ["exactly one of 'signature'"]),
    ("bad regex", _entry(signature=None, signature_regex="got (multiple"),
     ["signature_regex", "not a regular expression"]),
    ("bad specifier", _entry(peft="0.13-"), [".peft", "'0.13-' is not a version specifier", '"<0.13"']),
    ("link not a URL", _entry(link="peft#1938"), [".link", "is not a URL"]),
    ("cell matching nothing", _entry(cell="py311-tf4.45-peft0.1"), [".cell", "matches no cell",
                                                                     "did you mean 'py311-tf4.45-peft0.11'"]),
    ("empty pattern list", _entry(arch=[]), [".arch", "non-empty list"]),
    ("duplicate id", _duplicate, [f"expectations[{len(RAW['expectations'])}]", "is used twice"]),
    ("not a list", lambda d: d.update(expectations={"id": "x"}), ["expectations", "expected a list"]),
]


@pytest.mark.parametrize(("mutate", "fragments"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_a_bad_expectations_file_is_refused_with_the_file_the_entry_and_the_fix(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], fragments: list[str]
) -> None:
    data = copy.deepcopy(RAW)
    mutate(data)
    path = tmp_path / "expectations.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(DataFileError) as caught:
        load_expectations(path, cells=CELL_NAMES)
    assert str(caught.value).startswith(str(path))
    for fragment in fragments:
        assert fragment in str(caught.value)


# --- judging, as properties ------------------------------------------------------------------------------------------

verdicts = st.lists(
    st.builds(
        verdict,
        # passes and skips often, so that whole scopes of them (stale or not) are common
        outcome=st.sampled_from(OUTCOMES) | st.sampled_from(["pass", "skip"]),
        cell=st.sampled_from(["py311-tf4.45", "py311-tf4.45-peft0.11", "py311-tf5.23"]),
        peft=st.sampled_from(["0.11.1", "0.13.2"]),
        arch=st.sampled_from(["gpt2", "llama", "t5"]),
        method=st.sampled_from(["PREFIX_TUNING", "PROMPT_TUNING"]),
        prop=st.sampled_from(["forward", "generate"]),
        message=st.sampled_from(["", PAST_KV, "ValueError: shapes differ"]),
    ),
    max_size=20,
)
expectations = st.lists(
    st.builds(
        Expectation,
        id=st.just("e"),
        patterns=st.fixed_dictionaries(
            {"cell": st.sampled_from([("*",), ("*-peft0.11",), ("py311-tf5.*",)])},
            optional={"arch": st.sampled_from([("gpt2",), ("l*", "t*")]), "method": st.just(("PREFIX_TUNING",))},
        ),
        versions=st.sampled_from([{}, {"peft": SpecifierSet("<0.13")}]),
        signature=st.sampled_from(["multiple values", re.compile(r"shapes? differ"), "never seen"]),
        reason=st.just("r"),
        link=st.just("https://example.org/1"),
    ),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(verdicts, expectations)
def test_bad_verdicts_are_either_new_or_expected_and_nothing_else(vs: list[Verdict], es: list[Expectation]) -> None:
    result = judge(vs, es)
    new = [id(v) for v in result.new_failures]
    expected = [id(v) for v, _ in result.expected]
    assert sorted(new + expected) == sorted(id(v) for v in vs if v.outcome in BAD_OUTCOMES)
    for v, e in result.expected:
        assert e.explains(v)
    for v in result.new_failures:
        assert not any(e.explains(v) for e in es)
    assert (result.exit_code == 0) == (not result.new_failures and not result.stale)


@settings(max_examples=200, deadline=None)
@given(verdicts, expectations)
def test_the_summary_names_each_new_failure_target_once_and_knows_what_explains_the_rest(
        vs: list[Verdict], es: list[Expectation]) -> None:
    result = judge(vs, es)
    new_lines = [line for line in result.lines() if line.startswith("NEW ")]
    targets = {(v.cell, v.arch, v.method, v.property, v.outcome, v.signature) for v in result.new_failures}
    assert len(new_lines) == len(targets)
    counted = sum(int(m.group(1)) if (m := re.search(r"\((\d+) verdicts\)$", line)) else 1 for line in new_lines)
    assert counted == len(result.new_failures)
    for v in vs:
        known = result.known_as(v)
        assert known is None if v.outcome not in BAD_OUTCOMES or v in result.new_failures else known.explains(v)


@settings(max_examples=200, deadline=None)
@given(verdicts, expectations)
def test_stale_means_scope_ran_and_every_run_in_it_passed(vs: list[Verdict], es: list[Expectation]) -> None:
    result = judge(vs, es)
    for e in es:
        ran = [v for v in vs if e.scopes(v) and v.outcome != "skip"]
        assert (e in result.stale) == (bool(ran) and all(v.outcome == "pass" for v in ran))


@settings(max_examples=100, deadline=None)
@given(verdicts)
def test_without_expectations_every_bad_verdict_is_new(vs: list[Verdict]) -> None:
    result = judge(vs, [])
    assert list(result.new_failures) == [v for v in vs if v.outcome in BAD_OUTCOMES]
    assert result.stale == () and result.expected == ()


def test_an_expectation_that_still_fails_somewhere_is_not_stale() -> None:
    e = expectation()
    passing = [verdict("pass", arch=a) for a in ("gpt2", "llama")]
    assert judge(passing, [e]).stale == (e,)
    result = judge([*passing, verdict("crash", arch="t5", message=PAST_KV)], [e])
    assert result.stale == () and result.ok


def test_skips_neither_make_nor_prevent_staleness_and_out_of_scope_passes_do_not_count() -> None:
    e = expectation(method=("PREFIX_TUNING",))
    assert judge([verdict("skip")], [e]).ok
    assert judge([verdict("skip"), verdict("pass")], [e]).stale == (e,)
    assert judge([verdict("pass", method="PROMPT_TUNING")], [e]).ok


def test_a_different_failure_in_scope_is_new_even_with_an_expectation() -> None:
    result = judge([verdict("fail", message="ValueError: shapes differ")], [expectation()])
    assert len(result.new_failures) == 1 and result.exit_code == 1


def test_the_run_summary_lists_one_line_per_finding_new_ones_first_and_names_what_fails() -> None:
    from harness.findings.build import group
    from harness.findings.gate import failing
    from harness.judging import FileJudgement, summary
    from harness.results import ledger

    known = [verdict("crash", message=PAST_KV, arch=f"arch{i}") for i in range(3)]  # the most verdicts, yet last
    new = verdict("fail", message="ValueError: shapes differ", arch="gpt2")
    known = [dataclasses.replace(v, signature="multiple values for past_key_values", case_id=f"c{i}")
             for i, v in enumerate(known)]
    new = dataclasses.replace(new, signature="shapes differ")
    rule = Expectation("peft-1938", {"cell": ("*",)}, {}, "multiple values", "r", "https://example.org/1938")
    found = tuple(group([*known, new], [rule]))
    judged = FileJudgement(("raw.jsonl",), ledger([*known, new]), judge([*known, new], [rule]), (), found,
                           tuple(failing(found)))
    lines = summary(judged)
    (new_line,) = [line for line in lines if "shapes differ" in line]
    (known_line,) = [line for line in lines if "multiple values for keyword argument" in line]
    assert lines.index(new_line) < lines.index(known_line)
    assert "· NEW ·" in new_line and "known: peft-1938" in known_line and "3 target(s)" in known_line
    (new_finding,) = [f for f in found if f.standing == "new"]
    assert lines[-1] == f"1 finding(s) fail this run: {new_finding.id}"
