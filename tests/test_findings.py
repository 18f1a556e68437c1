"""Findings: grouping does not depend on verdict order or on the run, ranges contain exactly the failing cells (or
say they cannot), kinds follow from the grid, harness gaps are told from bugs of the pair by their frames, and
the gate fails exactly the findings it should. Pure Python: no torch, transformers or peft."""

from __future__ import annotations

import random
from itertools import product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from harness.expectations import Expectation, load_expectations
from harness.findings import export
from harness.findings.build import Finding, group
from harness.findings.expect_cli import entry_for
from harness.findings.frames import harness_gap_frame
from harness.findings.gate import failing
from harness.findings.ranges import PACKAGES, version_range
from harness.findings.summary import lines
from harness.results import Deprecation, ErrorInfo, Verdict, ledger

SITE = "/venv/lib/python3.11/site-packages"
HARNESS = "/src/peft-compat/harness"


def traceback_of(*frames: str, error: str = "TypeError: boom") -> str:
    """A formatted traceback through ``frames`` (paths relative to SITE, or harness/... for the harness)."""
    rows = ["Traceback (most recent call last):"]
    for frame in frames:
        path, _, function = frame.partition(":")
        root = HARNESS.rsplit("/", 1)[0] if path.startswith("harness/") else SITE
        rows += [f'  File "{root}/{path}", line 1, in {function}', "    call()"]
    return "\n".join([*rows, error]) + "\n"


PAIR_CRASH = ErrorInfo(
    "TypeError", "GPT2LMHeadModel(…) got multiple values for keyword argument 'past_key_values'",
    "peft/peft_model.py:forward",
    traceback_of("harness/oracles/forward.py:check_empty_cache", "harness/oracles/base.py:call_with_past",
                 "torch/nn/modules/module.py:_call_impl", "peft/peft_model.py:forward"))
#: the harness built a StaticCache from a composite config: transformers raises, but peft is nowhere in the stack
GAP_CRASH = ErrorInfo(
    "AttributeError", "'LlavaConfig' object has no attribute 'hidden_size'",
    "transformers/configuration_utils.py:__getattribute__",
    traceback_of("harness/oracles/forward.py:check_empty_cache", "harness/caches.py:empty_static",
                 "transformers/cache_utils.py:__init__", "transformers/configuration_utils.py:__getattribute__",
                 error="AttributeError: 'LlavaConfig' object has no attribute 'hidden_size'"))
#: peft's seq2seq generate takes no positional ids: Python refuses the harness's call, in the harness's frame
BINDING_CRASH = ErrorInfo(
    "TypeError", "PeftModelForSeq2SeqLM.generate() takes 1 positional argument but 2 were given", "",
    traceback_of("harness/oracles/generation.py:_call_generate",
                 error="TypeError: PeftModelForSeq2SeqLM.generate() takes 1 positional argument but 2 were given"))
#: transformers 4.45's notice to peft's prefix tuning (peft <= 0.13 then broke on 4.48)
NOTICE = Deprecation("logger", "Passing a tuple of `past_key_values` is deprecated and will be removed in v4.47.",
                     "peft/peft_model.py:forward", "transformers 4.47")
#: the same notice in other numbers (one finding: the message is masked), so which one a finding keeps may not
#: depend on the order the verdicts come in
LAYERS = Deprecation("FutureWarning", "a cache of 2 layers is deprecated", "peft/peft_model.py:forward")
RENUMBERED = Deprecation("FutureWarning", "a cache of 3 layers is deprecated", "peft/peft_model.py:forward")
OTHER_NOTICE = Deprecation("FutureWarning", "`seen_tokens` is deprecated", "peft/peft_model.py:generate")
WRONG = ErrorInfo("OracleFailure", "generate vs greedy loop: row 1 step 2: token 5 != 9", "", "")

CELLS = {  # cell → (transformers, peft)
    "tf4.45-peft0.11": ("4.45.2", "0.11.1"), "tf4.45-peft0.12": ("4.45.2", "0.12.0"), "tf4.45": ("4.45.2", "0.13.2"),
    "tf4.57": ("4.57.6", "0.18.1"), "tf5.23": ("5.23.0", "0.21.2"), "tf5.23-peft0.11": ("5.23.0", "0.11.1"),
}


def verdict(cell: str = "tf4.45-peft0.11", outcome: str = "pass", error: ErrorInfo | None = None,
            case_id: str = "c1", arch: str = "gpt2", prop: str = "forward", repetition: int = 0,
            size: int = 8, notices: tuple[Deprecation, ...] = ()) -> Verdict:
    tf, peft = CELLS[cell]
    signature = f"{prop}: {error.message}" if error and outcome == "fail" else (f"{error.type}: x" if error else "")
    return Verdict(case_id=case_id, cell=cell, versions={"transformers": tf, "peft": peft, "torch": "2.13.0"},
                   arch=arch, task="causal-lm", method="PREFIX_TUNING", property=prop,
                   outcome=outcome, signature=signature, error=error, repetition=repetition,  # type: ignore[arg-type]
                   deprecations=notices,
                   case={"arch": {"overrides": {"hidden_size": size}}, "call": {"batch": 1, "length": 2}})


def summary_of(findings: list[Finding]) -> list[tuple[object, ...]]:
    """Everything a finding says, in a comparable form."""
    return [(f.id, f.kind, f.text, sorted(f.cells_bad), sorted(f.cells_good), f.range.specifiers(),
             f.range.exact, sorted(f.targets), f.example.case_id if f.example else None, sorted(f.units),
             sorted(f.flaky_units), dict(f.outcomes), f.notice) for f in findings]


errors = st.sampled_from([PAIR_CRASH, GAP_CRASH, BINDING_CRASH, WRONG])
verdicts = st.lists(st.builds(
    verdict, cell=st.sampled_from(sorted(CELLS)), outcome=st.sampled_from(["pass", "crash", "fail", "skip"]),
    error=errors, case_id=st.sampled_from(["c1", "c2", "c3"]), arch=st.sampled_from(["gpt2", "llama", "bart"]),
    prop=st.sampled_from(["forward", "empty-cache", "generate-greedy"]), repetition=st.integers(0, 1),
    size=st.integers(1, 64), notices=st.sampled_from([(), (NOTICE, LAYERS), (RENUMBERED,), (NOTICE, OTHER_NOTICE)])),
    max_size=40)


@settings(max_examples=150, deadline=None)
@given(verdicts, st.randoms(use_true_random=False))
def test_grouping_does_not_depend_on_the_order_of_the_verdicts(vs: list[Verdict], rng: random.Random) -> None:
    shuffled = list(vs)
    rng.shuffle(shuffled)
    assert summary_of(group(shuffled)) == summary_of(group(vs))


@settings(max_examples=100, deadline=None)
@given(verdicts, st.sampled_from(["x", "run2-"]), st.sampled_from(["/src/a", "/home/ci/work/peft-compat"]))
def test_a_finding_has_the_same_id_in_another_run_on_another_machine(vs: list[Verdict], prefix: str,
                                                                     root: str) -> None:
    """Other case ids (another seed), other paths in the tracebacks (another machine): the same ids."""
    def elsewhere(v: Verdict) -> Verdict:
        error = v.error and ErrorInfo(v.error.type, v.error.message, v.error.frame,
                                      v.error.traceback.replace("/src/peft-compat", root).replace("/venv", root))
        return Verdict(**{**v.__dict__, "case_id": prefix + v.case_id, "error": error})

    assert [f.id for f in group(map(elsewhere, vs))] == [f.id for f in group(vs)]


def test_one_bug_across_properties_archs_and_cells_is_one_finding_and_different_bugs_are_not() -> None:
    vs = [verdict(cell, "crash", PAIR_CRASH, case_id=f"c-{arch}", arch=arch, prop=prop)
          for cell, arch, prop in product(["tf4.45-peft0.11", "tf4.45-peft0.12"], ["gpt2", "llama"],
                                          ["forward", "empty-cache"])]
    vs += [verdict("tf4.45-peft0.11", "fail", WRONG, prop="generate-greedy"),
           verdict("tf4.45-peft0.11", "fail", ErrorInfo("OracleFailure", "generate vs greedy loop: row 0 step 0: "
                                                        "token 1 != 2"), case_id="c2", prop="generate-greedy")]
    found = group(vs)
    assert len(found) == 2
    crash = next(f for f in found if f.outcomes["crash"])
    assert crash.reach() == "4 target(s), 2 arch(s), 2 properties, 2 cell(s)" and len(crash.units) == 8
    assert next(f for f in found if f.outcomes["fail"]).text == "generate-greedy: generate vs greedy loop"


def test_peft_1938_on_three_cells_is_one_fixed_finding_below_0_13() -> None:
    vs = [verdict(cell, "crash", PAIR_CRASH) for cell in ("tf4.45-peft0.11", "tf4.45-peft0.12")]
    vs.append(verdict("tf4.45", "pass"))
    (finding,) = group(vs)
    assert (finding.kind, finding.range.specifiers()) == ("fixed", {"transformers": "not run", "peft": "<0.13",
                                                                   "torch": "not run"})
    assert list(finding.cells_good) == ["tf4.45"]


@pytest.mark.parametrize(("bad", "good", "kind"), [
    (["tf4.57"], ["tf4.45"], "regression"),
    (["tf4.45"], ["tf4.57"], "fixed"),
    (["tf4.45", "tf4.57"], [], "long-standing"),
    (["tf4.45-peft0.11", "tf4.45"], ["tf4.45-peft0.12"], "regression"),  # interleaved: no range, conservatively
])
def test_the_kind_follows_from_the_cells(bad: list[str], good: list[str], kind: str) -> None:
    vs = [verdict(c, "crash", PAIR_CRASH) for c in bad] + [verdict(c, "pass") for c in good]
    assert group(vs)[0].kind == kind


def test_a_case_that_ends_differently_when_judged_again_is_flaky() -> None:
    vs = [verdict("tf4.45", "crash", PAIR_CRASH), verdict("tf4.45", "pass", repetition=1)]
    (finding,) = group(vs)
    assert finding.kind == "flaky" and finding.flaky_units == finding.units
    steady = group([*vs, verdict("tf4.45", "crash", PAIR_CRASH, case_id="c2")])[0]
    assert steady.kind == "long-standing", "a finding with one steady case is not flaky"


def test_the_smallest_case_is_the_example() -> None:
    vs = [verdict("tf4.45", "crash", PAIR_CRASH, case_id=f"c{size}", size=size) for size in (32, 4, 16)]
    assert group(vs)[0].example.case_id == "c4"


# --- harness gaps ------------------------------------------------------------------------------------------------


def test_an_error_in_the_harness_set_up_is_a_harness_gap_keyed_by_its_harness_frame() -> None:
    (finding,) = group([verdict("tf4.45", "crash", GAP_CRASH), verdict("tf4.57", "pass")])
    assert finding.kind == "harness gap" and finding.text.endswith("@ harness/caches.py:empty_static")
    assert not failing([finding]), "a harness gap never fails the run"


@pytest.mark.parametrize(("error", "gap"), [
    (PAIR_CRASH, ""),
    (GAP_CRASH, "harness/caches.py:empty_static"),
    (BINDING_CRASH, ""),
    # a comparison helper crashing inside torch (two shapes that do not broadcast): the harness's own bug
    (ErrorInfo("RuntimeError", "The size of tensor a (3) must match", "", traceback_of(
        "harness/oracles/adapter.py:check_adapter_matters", "harness/oracles/base.py:assert_changed",
        "torch/_tensor.py:__sub__", error="RuntimeError: The size of tensor a (3) must match")),
     "harness/oracles/base.py:assert_changed"),
    # the harness's cache helper given what peft returned (a list): raised in the harness itself
    (ErrorInfo("AttributeError", "'list' object has no attribute 'get_seq_length'", "", traceback_of(
        "harness/oracles/forward.py:check_prefilled_cache", "harness/caches.py:cache_length",
        error="AttributeError: 'list' object has no attribute 'get_seq_length'")), "harness/caches.py:cache_length"),
    # inside disable_adapter() peft swaps in the base model's forward, which refuses task_ids: the pair's, although
    # no peft frame is on the stack
    (ErrorInfo("TypeError", "Gemma2ForCausalLM.forward() got an unexpected keyword argument 'task_ids'",
               "", traceback_of("harness/oracles/forward.py:check_prefilled_cache",
                                "torch/nn/modules/module.py:_call_impl",
                                error="TypeError: Gemma2ForCausalLM.forward() got an unexpected keyword")), ""),
    # a chained exception: the frames of the last one decide
    (ErrorInfo("TypeError", "boom", "peft/peft_model.py:forward",
               traceback_of("harness/caches.py:to_dynamic") + "\nDuring handling of the above exception, another "
               "exception occurred:\n\n" + traceback_of("harness/oracles/base.py:call_with_past",
                                                        "peft/peft_model.py:forward")), ""),
])
def test_frames_tell_a_harness_gap_from_a_bug_of_the_pair(error: ErrorInfo, gap: str) -> None:
    assert harness_gap_frame(error.traceback, error.type, error.message) == gap


# --- ranges --------------------------------------------------------------------------------------------------------

TF = ["4.45.2", "4.48.3", "4.57.6", "5.23.0"]
PEFT = ["0.11.1", "0.12.0", "0.13.2", "0.14.0", "0.18.1"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TF), st.sampled_from(PEFT), st.booleans()), min_size=1, max_size=12,
                unique_by=lambda c: c[:2]))
def test_a_range_contains_exactly_the_failing_cells_or_says_it_cannot(grid: list[tuple[str, str, bool]]) -> None:
    cells = {f"{tf}/{peft}": {"transformers": tf, "peft": peft, "torch": "2.13.0"} for tf, peft, _ in grid}
    bad = {name: v for (name, v), (_, _, fails) in zip(cells.items(), grid, strict=True) if fails}
    good = {name: v for name, v in cells.items() if name not in bad}
    found = version_range(bad, good)
    if not bad:
        return
    box = {p: (min(Version(v[p]) for v in bad.values()), max(Version(v[p]) for v in bad.values())) for p in PACKAGES}
    separable = not any(all(box[p][0] <= Version(v[p]) <= box[p][1] for p in PACKAGES) for v in good.values())
    assert found.exact is separable, "a range exists exactly when no passing cell lies among the failing ones"
    if found.exact:
        assert all(found.contains(v) for v in bad.values())
        assert not any(found.contains(v) for v in good.values())
    else:
        assert found.text().startswith("no version range")


def test_bounds_are_release_lines_where_the_cells_allow_and_not_run_where_none_decides() -> None:
    def spec(bad: list[str], good: list[str]) -> str:
        return version_range({b: {"peft": b} for b in bad}, {g: {"peft": g} for g in good}).specifiers()["peft"]

    assert spec(["0.11.1", "0.12.0"], ["0.13.2"]) == "<0.13"
    assert spec(["0.13.2"], ["0.11.1", "0.18.1"]) == ">=0.13,<0.18"
    assert spec(["0.13.2"], ["0.13.1"]) == ">0.13.1"
    assert spec(["0.13.0"], ["0.13.2"]) == "<0.13.2"
    assert spec(["0.11.1", "0.18.1"], []) == "not run"


# --- the gate, the summary, the exports ------------------------------------------------------------------------------


def test_by_default_a_new_finding_fails_and_with_regressions_only_regressions_and_news_since_the_baseline() -> None:
    regression = group([verdict("tf4.57", "crash", PAIR_CRASH), verdict("tf4.45", "pass")])[0]
    standing = group([verdict("tf4.57", "fail", WRONG)])[0]
    assert failing([regression, standing]) == [regression, standing]
    assert failing([regression, standing], "regressions") == [regression]
    assert failing([regression, standing], "regressions", baseline={regression.id}) == [regression, standing]
    assert failing([regression, standing], "regressions", baseline={regression.id, standing.id}) == [regression]
    known = Expectation("e", {"cell": ("*",)}, {}, "multiple values", "r", "https://example.org/1")
    assert failing(group([verdict("tf4.57", "crash", PAIR_CRASH)], [known])) == []
    with pytest.raises(ValueError, match="choose one of"):
        failing([], "everything")  # type: ignore[arg-type]


def test_the_summary_has_one_line_per_finding_with_kind_range_reach_and_repro() -> None:
    vs = [verdict(cell, "crash", PAIR_CRASH, prop=p) for cell in ("tf4.45-peft0.11", "tf4.45-peft0.12")
          for p in ("forward", "empty-cache")] + [verdict("tf4.45", "pass"), verdict("tf4.45", "crash", GAP_CRASH)]
    head, *rows = lines(vs)
    assert head == "2 finding(s): 1 fixed, 1 harness gap" and len(rows) == 2
    assert rows[0].startswith("FIXED") and "peft<0.13" in rows[0] and "2 cell(s)" in rows[0]
    assert "tox -e tf4.45-peft0.11 -- repro F" in rows[0]


def test_a_deprecation_notice_is_a_finding_of_its_own_kind_with_a_range_that_never_fails_a_run() -> None:
    from harness.expectations import judge
    from harness.judging import FileJudgement, summary

    vs = [verdict("tf4.45", notices=(NOTICE,)), verdict("tf4.45", notices=(NOTICE,), repetition=1),
          verdict("tf4.45", "crash", PAIR_CRASH, case_id="c2", notices=(NOTICE,)), verdict("tf4.57", "pass")]
    found = group(vs)
    (notice,) = [f for f in found if f.kind == "deprecation"]
    (crash,) = [f for f in found if f.kind != "deprecation"]
    assert crash.units == {("tf4.45", "c2", "forward")}  # the notice does not change what the crash is
    assert notice.units == {("tf4.45", "c1", "forward"), ("tf4.45", "c2", "forward")}  # a re-run counts once
    assert notice.notice == NOTICE and "transformers 4.47" in notice.text and "peft_model.py:forward" in notice.text
    assert notice.range.specifiers()["transformers"] == "<4.57"  # the same target ran on 4.57 without it
    assert failing(found) == [crash] and failing([notice], "regressions", baseline=set()) == []
    judged = FileJudgement(("raw.jsonl",), ledger(vs), judge(vs, []), (), tuple(found), tuple(failing(found)))
    lines = summary(judged)
    assert not any(line.startswith("DEPRECATION") for line in lines)  # a forecast: counted, not listed
    assert "1 deprecation notice(s) raised through peft (not failures): python -m harness findings raw.jsonl " \
           "--kind deprecation" in lines
    assert export.issue_body(notice).startswith("# peft calls a deprecated API at `peft/peft_model.py:forward`")


def test_the_same_notice_from_another_frame_is_another_finding() -> None:
    elsewhere = Deprecation(NOTICE.category, NOTICE.message, "peft/peft_model.py:generate", NOTICE.removal)
    kinds = [f.kind for f in group([verdict(notices=(NOTICE,)), verdict(case_id="c2", notices=(elsewhere,))])]
    assert kinds == ["deprecation", "deprecation"]


def test_the_expectation_written_for_a_finding_explains_all_its_verdicts(tmp_path: Path) -> None:
    from harness.expectations import append_entry

    vs = [verdict(c, "crash", ErrorInfo("TypeError", f"PeftModelFor{t}.add_adapter() got an unexpected keyword "
                                         "argument 'low_cpu_mem_usage'", "peft/peft_model.py:__init__"))
          for c, t in (("tf4.45", "CausalLM"), ("tf4.45", "SequenceClassification"))]
    vs = [Verdict(**{**v.__dict__, "signature": f"TypeError: {v.error.message} @ {v.error.frame}"}) for v in vs]
    vs.append(verdict("tf4.57", "pass"))
    (finding,) = group(vs)
    path = tmp_path / "expectations.yaml"
    path.write_text("# known\nexpectations: []\n", encoding="utf-8")
    added = append_entry(entry_for(finding, "peft 0.13 passes low_cpu_mem_usage", None, "limitation"), path)
    assert added.kind == "limitation" and path.read_text().startswith("# known\n")
    (regrouped,) = group(vs, load_expectations(path))
    assert regrouped.standing == "known"
    with pytest.raises(ValueError, match="already used"):
        append_entry(entry_for(finding, "again", None, "limitation"), path)
    with pytest.raises(ValueError, match="missing key 'link'"):
        append_entry(entry_for(finding, "a bug needs a link", None, "bug"), path)
    assert len(load_expectations(path)) == 1, "a refused entry leaves the file as it was"


def test_the_json_of_a_finding_has_the_fields_the_issue_lists() -> None:
    (finding,) = group([verdict("tf4.45-peft0.11", "crash", PAIR_CRASH), verdict("tf4.45", "pass")])
    data = export.to_json(finding)
    assert {"id", "kind", "signature", "cells_bad", "cells_good", "range", "targets", "example_case", "script",
            "reproduces"} <= set(data)
    assert data["range"]["peft"] == "<0.13" and data["reproduces"] is None
    body = export.issue_body(finding)
    assert body.startswith("# TypeError") and "## Versions" in body and "`<0.13`" in body


# --- judging a reproducer's run ------------------------------------------------------------------------------------

SCRIPT = "/tmp/repro/F0.py"


def script_output(*frames: str, error: str) -> str:
    rows = ["Traceback (most recent call last):", f'  File "{SCRIPT}", line 90, in <module>', "    check(model)"]
    rows += [f'  File "{SITE}/{f.partition(":")[0]}", line 1, in {f.partition(":")[2]}' for f in frames]
    return "\n".join([*rows, error, ""])


def test_a_script_reproduces_only_by_failing_the_way_the_finding_does() -> None:
    from harness.findings.verify import judge

    crash = group([verdict("tf4.45", "crash", PAIR_CRASH)])[0]
    wrong = group([verdict("tf4.45", "fail", WRONG)])[0]
    binding = group([verdict("tf4.45", "crash", BINDING_CRASH)])[0]
    same = script_output("torch/nn/modules/module.py:_call_impl", "peft/peft_model.py:forward",
                         error="TypeError: GPT2LMHeadModel(\n  (transformer): GPT2Model()\n) got multiple values for "
                               "keyword argument 'past_key_values'")
    assert judge(crash, 1, same) == (True, crash.text)
    assert judge(crash, 0, "no failure") == (False, "exit 0: no failure")
    assert judge(crash, None, "") == (False, "timeout")
    own = judge(crash, 1, script_output(error="KeyError: 'attention_mask'"))
    assert own == (False, "the script's own error: KeyError: 'attention_mask'")
    other = judge(crash, 1, script_output("peft/peft_model.py:generate", error="ValueError: something else"))
    assert other[0] is False and other[1].startswith("ValueError")
    violated = script_output(error="PropertyViolated: generate vs greedy loop: row 0 step 1: token 3 != 4")
    assert judge(wrong, 1, violated)[0] and not judge(crash, 1, violated)[0]
    refused = script_output(error="TypeError: PeftModelForSeq2SeqLM.generate() takes 1 positional argument but 2 "
                                  "were given")
    assert judge(binding, 1, refused) == (True, binding.text), "Python refusing peft's signature is peft's bug"


def test_the_baseline_of_the_gate_is_the_findings_of_an_earlier_compat_json(tmp_path: Path) -> None:
    from harness.findings.gate import baseline_ids

    (tmp_path / "compat.json").write_text('{"findings": [{"id": "F00000001"}, {"id": "F00000002"}]}')
    assert baseline_ids(tmp_path / "compat.json") == {"F00000001", "F00000002"}
    (tmp_path / "old.json").write_text('{"schema": 1, "targets": []}')
    with pytest.raises(ValueError, match="no findings list"):
        baseline_ids(tmp_path / "old.json")


def test_a_cell_verifies_new_findings_unless_told_otherwise_and_the_rest_reaches_run() -> None:
    from harness.cell_cli import command_for, option, verify_scope

    assert verify_scope(["--method", "PREFIX_TUNING"]) == ("new", ["--method", "PREFIX_TUNING"])
    assert verify_scope(["--verify", "all", "-j", "1"]) == ("all", ["-j", "1"])
    with pytest.raises(SystemExit, match="choose one of new, all, none"):
        verify_scope(["--verify", "some"])
    command = command_for("py311-tf4.45", ["--out", "elsewhere.jsonl"])
    assert option(command, "--out") == "elsewhere.jsonl", "the last --out wins, as argparse reads it"


def test_findings_lists_a_kind_on_demand_and_expect_refuses_a_deprecation(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main
    from harness.writer import VerdictWriter

    path = tmp_path / "tf4.45.jsonl"
    with VerdictWriter(path) as writer:
        for v in (verdict("tf4.45", notices=(NOTICE,)), verdict("tf4.45", "crash", PAIR_CRASH, case_id="c2")):
            writer.write(v)
    assert main(["findings", str(path), "--kind", "deprecation"]) == 0
    head, row = capsys.readouterr().out.splitlines()
    assert head == "1 finding(s): 1 deprecation" and row.startswith("DEPRECATION") and "transformers 4.47" in row
    notice_id = row.split()[1]
    expectations = tmp_path / "expectations.yaml"
    expectations.write_text("expectations: []\n")
    assert main(["expect", notice_id, "--reason", "r", "--from", str(path), "--expectations", str(expectations)]) == 2
    assert "a deprecation notice, not a failure" in capsys.readouterr().err
