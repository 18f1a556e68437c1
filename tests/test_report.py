"""The report: aggregation adds up, the diff finds exactly what changed, nothing unreadable is lost, and text from
verdicts is inert in HTML and Markdown. Browser checks are in test_report_browser.py."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from report_factory import HOSTILE, report_cli, run, verdict, write

from harness.expectations import Expectation, judge
from harness.report import compat, diff, html, markdown, model
from harness.results import BAD_OUTCOMES, OUTCOMES, ErrorInfo, Verdict, ledger

SCHEMA = jsonschema.Draft202012Validator(json.loads(compat.SCHEMA_FILE.read_text()))
DETAILS_SCHEMA = jsonschema.Draft202012Validator(json.loads(compat.DETAILS_SCHEMA_FILE.read_text()))
STATUS_LIST = json.dumps(list(model.STATUSES))


@st.composite
def verdict_sets(draw: st.DrawFn, text: st.SearchStrategy[str] | None = None) -> list[Verdict]:
    """Small verdict sets with many collisions: shared targets, re-run case ids, shared signatures."""
    names = st.sampled_from(["a", "b", "c"]) if text is None else text
    return draw(st.lists(st.builds(
        verdict,
        case_id=st.sampled_from(["c1", "c2", "c3", "c4"]),
        cell=st.sampled_from(["py311-tf4.45", "py311-tf5.2-peft0.18"]),
        arch=names, task=st.sampled_from(["causal-lm", "seq-cls"]), method=names, property=names,
        outcome=st.sampled_from(OUTCOMES), signature=st.one_of(st.just(""), names)), max_size=40))


def test_statuses_rank_every_outcome_and_flaky() -> None:
    assert set(model.STATUSES) == set(OUTCOMES) | {model.FLAKY} and len(model.STATUSES) == len(OUTCOMES) + 1
    assert set(model.SYMBOLS) == set(model.STATUSES)


def test_the_report_package_imports_no_ml_stack() -> None:
    """The report runs in a CI step without torch: importing it must not pull torch, transformers or peft."""
    code = "import sys, harness.report.cli; print(sorted({'torch', 'transformers', 'peft'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[1]).stdout
    assert out.strip() == "[]"


@settings(max_examples=150, deadline=None)
@given(verdict_sets())
def test_counts_add_up_to_the_number_of_unique_case_properties(verdicts: list[Verdict]) -> None:
    """Every count is per unique (cell, case, property): a re-run of one adds to no total."""
    report = model.build(verdicts)
    first = ledger(verdicts).verdicts
    assert report.verdicts == len(first) == len({v.key for v in verdicts})
    assert sum(sum(c.values()) for cells in report.squares.values() for c in cells.values()) == len(first)
    assert sum(sum(t.counts.values()) for t in report.targets.values()) == len(first)
    bad = sum(v.outcome in BAD_OUTCOMES for v in first)
    assert sum(s.verdicts for s in report.signatures.values()) == bad
    assert report.rerun_cases() == len({(cell, case) for cell, case, _ in ledger(verdicts).reruns})
    data = compat.to_json(report, None, "now")
    assert sum(sum(row["counts"].values()) for row in data["grid"]) == len(first)


@settings(max_examples=150, deadline=None)
@given(verdict_sets())
def test_a_report_diffed_against_itself_has_no_new_failures_and_no_fixes(verdicts: list[Verdict]) -> None:
    report = model.build(verdicts)
    statuses = report.statuses
    found = diff.compare(statuses, statuses, "itself")
    for category in ("new_failure", "fixed", "newly_covered", "no_longer_covered"):
        assert found.changes[category] == []
    assert len(found.changes["still_failing"]) == sum(s in BAD_OUTCOMES for s in statuses.values())
    assert len(found.changes["flaky"]) == sum(s == model.FLAKY for s in statuses.values())
    assert sum(map(len, found.changes.values())) + found.unchanged == len(statuses)


@settings(max_examples=40, deadline=None)
@given(now=verdict_sets(), before=verdict_sets())
def test_compat_json_follows_its_schema_and_is_read_back_as_a_baseline(now: list[Verdict], before: list[Verdict],
                                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    report = model.build(now)
    data = compat.to_json(report, diff.compare(report.statuses, model.build(before).statuses, "b"), "now")
    SCHEMA.validate(data)
    DETAILS_SCHEMA.validate(compat.details_json(report, "now"))
    path = tmp_path_factory.mktemp("compat") / "compat.json"
    path.write_text(json.dumps(data))
    assert compat.read_baseline(path) == report.statuses


@settings(max_examples=100, deadline=None)
@given(verdict_sets())
def test_compat_json_has_a_row_per_target_over_the_cells_and_detail_only_where_a_property_fails(
        verdicts: list[Verdict]) -> None:
    """However many cells, cases and verdicts a target has, it is one row; each property's pattern spells its status
    in every cell; failure detail only for properties bad or flaky somewhere; the details file has every (cell,
    target, property)."""
    report = model.build(verdicts)
    data = compat.to_json(report, None, "now")
    assert [(t["arch"], t["task"], t["method"]) for t in data["targets"]] == sorted(
        {key[1:4] for key in report.targets})
    for row in data["targets"]:
        spelled = {prop: data["patterns"][i] for prop, i in zip(data["properties"], row["statuses"], strict=True)}
        for prop, pattern in spelled.items():
            for cell, char in zip(data["cells"], pattern, strict=True):
                target = report.targets.get(model.Key(cell, row["arch"], row["task"], row["method"], prop))
                assert char == ("." if target is None else str(model.STATUSES.index(target.status)))
        failing = {prop for prop, pattern in spelled.items()
                   if {str(model.STATUSES.index(s)) for s in (*BAD_OUTCOMES, model.FLAKY)} & set(pattern)}
        assert set(row.get("bad", {})) == failing
        for detail in row.get("bad", {}).values():
            assert len({case["cell"] for case in detail["cases"]}) == len(detail["cases"]) <= model.EXAMPLES
    details = compat.details_json(report, "now")
    assert len(details["targets"]) == len(report.targets)
    for row in details["targets"]:
        key = model.Key(*(details["names"][part][i] for part, i in zip(model.Key._fields, row, strict=False)))
        assert row[5:7] == [report.targets[key].status, dict(report.targets[key].counts)]


def test_a_schema_2_baseline_is_still_read(tmp_path: Path) -> None:
    """The compat.json of a run before schema 3 (one row per (cell, target), statuses in the order of its
    'properties') diffs as it did."""
    report = model.build(run(300, seed=3))
    properties = sorted({key.property for key in report.targets})
    rows = [{"cell": cell, "arch": arch, "task": task, "method": method, "status": "pass", "cases": 1,
             "statuses": [report.statuses.get(model.Key(cell, arch, task, method, p)) for p in properties]}
            for cell, arch, task, method in sorted({key[:4] for key in report.targets})]
    path = tmp_path / "compat.json"
    path.write_text(json.dumps({"schema": 2, "properties": properties, "targets": rows}))
    assert compat.read_baseline(path) == report.statuses


def test_a_schema_1_baseline_is_still_read(tmp_path: Path) -> None:
    """The compat.json of a run before schema 2 (one row per (cell, target, property)) diffs as it did."""
    report = model.build(run(300, seed=3))
    old = {"schema": 1, "targets": [{**key._asdict(), "status": status} for key, status in report.statuses.items()]}
    path = tmp_path / "compat.json"
    path.write_text(json.dumps(old))
    assert compat.read_baseline(path) == report.statuses


#: known failures for the tests: one by substring and arch, one by regex in one cell (links with Markdown's delimiters)
KNOWN = (Expectation("known-a", {"cell": ("*",), "arch": ("a",)}, {}, "a", "reason <a>", "https://x.org/1?q=(a)|b"),
         Expectation("known-b", {"cell": ("*-peft0.18",)}, {}, re.compile("b|c"), "reason b", "https://x.org/2"))


@settings(max_examples=150, deadline=None)
@given(verdict_sets())
def test_the_report_marks_known_exactly_the_verdicts_the_exit_status_forgives(verdicts: list[Verdict]) -> None:
    """Per signature, known + new verdicts add up, and over the report they are the run's expected / new failures
    (both per unique (case, property): the first judgement of each)."""
    report = model.build(verdicts, KNOWN)
    judged = judge(ledger(verdicts).verdicts, KNOWN)
    assert sum(sum(s.known.values()) for s in report.signatures.values()) == len(judged.expected)
    assert sum(s.unexplained for s in report.signatures.values()) == len(judged.new_failures)
    data = compat.to_json(report, None, "now")
    SCHEMA.validate(data)
    for row in data["signatures"]:
        assert sum(k["verdicts"] for k in row["known"]) <= row["verdicts"]
        assert (row["standing"] == "new") == (not row["known"])


def test_the_summary_and_the_page_link_a_known_signature_and_call_the_other_new(tmp_path: Path) -> None:
    rules = tmp_path / "expectations.yaml"
    rules.write_text("expectations:\n  - {id: known-a, cell: '*', signature: 'bug a', reason: 'Reason A',\n"
                     "     link: 'https://github.com/huggingface/peft/issues/1'}\n")
    verdicts = [verdict(case_id="c1", outcome="crash", signature="bug a", error=ErrorInfo("TypeError", "bug a")),
                verdict(case_id="c2", arch="gpt2", outcome="crash", signature="bug z",
                        error=ErrorInfo("TypeError", "bug z"))]
    assert report_cli(write(tmp_path / "r.jsonl", verdicts), "--out", tmp_path, "--expectations", rules) == 0
    rows = {line.split(" | ")[6]: line for line in (tmp_path / "summary.md").read_text().splitlines()
            if line.startswith("| 1 ") or line.startswith("| 2 ")}
    assert "[known-a](https://github.com/huggingface/peft/issues/1)" in rows["TypeError: bug a"]
    assert "**new**" in rows["TypeError: bug z"] and "known-a" not in rows["TypeError: bug z"]
    page = (tmp_path / "index.html").read_text()
    assert '<a href="https://github.com/huggingface/peft/issues/1" title="Reason A">known-a</a>' in page
    standing = {s["signature"]: s["standing"] for s in json.loads((tmp_path / "compat.json").read_text())["signatures"]}
    assert standing == {"bug a": "known", "bug z": "new"}


def test_a_bad_expectations_file_still_builds_the_report_and_says_why(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "expectations.yaml"
    rules.write_text("expectations:\n  - {id: x, cell: '*'}\n")
    bad = verdict(outcome="crash", signature="bug a")
    assert report_cli(write(tmp_path / "r.jsonl", [bad]), "--out", tmp_path, "--expectations", rules) == 1
    assert f"no failure is marked known: {rules}" in capsys.readouterr().err
    assert json.loads((tmp_path / "compat.json").read_text())["signatures"][0]["standing"] == "new"


def test_a_markdown_link_target_cannot_end_the_link_or_the_column() -> None:
    assert markdown._url("https://x.org/1?q=(a)|b c") == "https://x.org/1?q=%28a%29%7Cb%20c"


def test_the_schema_is_valid_and_names_the_outcomes_statuses_and_categories_the_code_uses() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA.schema)
    jsonschema.Draft202012Validator.check_schema(DETAILS_SCHEMA.schema)
    schema = SCHEMA.schema
    assert schema["properties"]["schema"]["const"] == compat.SCHEMA
    assert schema["$defs"]["counts"]["propertyNames"]["enum"] == list(OUTCOMES)
    assert set(schema["$defs"]["status"]["enum"]) == set(model.STATUSES)
    assert schema["properties"]["diff"]["oneOf"][1]["properties"]["counts"]["required"] == list(diff.CATEGORIES)


def test_one_case_made_to_fail_is_exactly_one_new_failure(tmp_path: Path) -> None:
    verdicts = run(2000, seed=1)
    report = model.build(verdicts)
    runs = Counter(v.case_id for v in verdicts)
    passing = next(i for i, v in enumerate(verdicts)
                   if report.targets[_key(v)].status == "pass" and runs[v.case_id] == 1)
    broken = verdicts.copy()
    broken[passing] = dataclasses.replace(broken[passing], outcome="crash", signature="KeyError at peft:forward",
                                          error=ErrorInfo("KeyError", "'past_key_values'", "peft:forward"))
    write(tmp_path / "old/raw/run.jsonl", verdicts)
    write(tmp_path / "new/raw/run.jsonl", broken)
    assert report_cli(tmp_path / "old/raw", "--out", tmp_path / "old") == 0
    assert report_cli(tmp_path / "new/raw", "--out", tmp_path / "new", "--baseline", tmp_path / "old/compat.json") == 0
    changes = json.loads((tmp_path / "new/compat.json").read_text())["diff"]
    assert changes["counts"]["new_failure"] == 1 and changes["counts"]["fixed"] == 0
    new = [c for c in changes["changes"] if c["category"] == "new_failure"]
    assert [(c["cell"], c["arch"], c["method"], c["before"], c["after"]) for c in new] == [
        (broken[passing].cell, broken[passing].arch, broken[passing].method, "pass", "crash")]
    summary = (tmp_path / "new/summary.md").read_text()
    assert "new failures: 1, fixed: 0" in summary and summary.index("### Changes") < summary.index("### Cells")
    page = (tmp_path / "new/index.html").read_text()
    assert page.index('id="diff"') < page.index('id="cells"') < page.index('id="signatures"')


def _key(v: Verdict) -> model.Key:
    return model.Key(v.cell, v.arch, v.task, v.method, v.property)


def test_a_case_whose_reruns_disagree_is_flaky_and_different_cases_that_differ_are_not() -> None:
    rerun = model.build([verdict(case_id="x"), verdict(case_id="x", outcome="timeout"), verdict(case_id="x")])
    [(key, case, counts)] = rerun.flaky_cases
    assert case == "x" and counts == {"pass": 2, "timeout": 1} and rerun.targets[key].status == model.FLAKY
    same = model.build([verdict(case_id="x", outcome="crash"), verdict(case_id="x", outcome="crash")])
    assert same.flaky_cases == [] and same.statuses == {key: "crash"}
    # one input fails, another passes: a failing target, not a flaky one
    mixed = model.build([verdict(case_id="x"), verdict(case_id="y", outcome="fail")])
    assert mixed.statuses == {key: "fail"} and mixed.flaky_cases == []


def test_one_bug_in_forty_archs_is_one_signature_with_bounded_examples() -> None:
    report = model.build(verdict(case_id=f"c{i}", arch=f"arch{i}", outcome="crash", signature="TypeError at peft:f")
                         for i in range(40))
    [signature] = report.ranked_signatures()
    assert len(signature.targets) == 40 and signature.verdicts == 40 and len(signature.examples) == model.EXAMPLES
    assert len({v.arch for v in signature.examples}) == model.EXAMPLES
    [finding] = report.findings
    assert finding.reach() == "40 target(s), 40 arch(s), 1 property, 1 cell(s)"
    assert markdown.render(report, None, "").count(finding.id) == 2, "one row: its id and its repro command"


@pytest.mark.parametrize(("before", "after", "category"), [
    ("pass", "crash", "new_failure"), ("fail", "pass", "fixed"), ("flaky", "pass", "fixed"),
    ("crash", "fail", "still_failing"), ("pass", "flaky", "flaky"), (None, "flaky", "flaky"),
    (None, "pass", "newly_covered"), ("skip", "fail", "newly_covered"), ("pass", None, "no_longer_covered"),
    ("fail", "unsupported", "no_longer_covered"), ("pass", "pass", None), ("rejected", "skip", None)])
def test_diff_categories(before: str | None, after: str | None, category: str | None) -> None:
    assert diff.category(before, after) == category


def test_baseline_cells_missing_from_this_run_are_counted_not_listed() -> None:
    key = model.Key("py311-tf4.45", "llama", "causal-lm", "prompt_tuning", "forward_runs")
    found = diff.compare({key: "pass"}, {key: "pass", key._replace(cell="py310-tf4.45"): "crash"}, "b")
    assert found.missing_cells == {"py310-tf4.45": 1} and not any(found.changes.values())


def test_unreadable_lines_are_reported_by_file_and_line_and_the_rest_is_built(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = [verdict(case_id=f"c{i}", outcome="crash" if i == 3 else "pass") for i in range(6)]
    lines = [json.dumps(v.to_json()) for v in good]
    lines[2:2] = ["{not json", "[1, 2]", json.dumps({**good[0].to_json(), "outcome": "exploded"}),
                  json.dumps({"case_id": "c9"}), json.dumps({**good[0].to_json(), "case_id": "typed", "arch": ["x"],
                                                           "versions": None, "error": "boom"})]
    path = tmp_path / "raw/py311-tf4.45.jsonl"
    path.parent.mkdir()
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"case_id": "torn", "ce')  # killed mid-write
    missing = tmp_path / "raw/absent.jsonl"
    assert report_cli(path, missing, "--out", tmp_path / "out") == 1
    err = capsys.readouterr().err
    where = [f"{path}:{n}:" for n in (3, 4, 5, 6, 12)] + [
        f"{path}:7: ValueError: field(s) of the wrong type: arch, versions, error", f"{missing}: no such file"]
    for place in where:
        assert place in err
    data = json.loads((tmp_path / "out/compat.json").read_text())
    assert data["totals"]["verdicts"] == len(good)
    assert [(u["line"]) for u in data["unreadable"]] == [3, 4, 5, 6, 7, 12, 0]
    page = (tmp_path / "out/index.html").read_text()
    assert 'id="unreadable"' in page and all(escape(p) in page for p in where)
    assert "7 unreadable line(s) were skipped" in (tmp_path / "out/summary.md").read_text()


@pytest.mark.parametrize("content", [
    "not json", '{"schema": 4, "targets": []}', '{"schema": 1, "targets": [{}]}', '{"schema": 2, "targets": []}',
    '{"schema": 2, "properties": ["p"], "targets": [{"cell": "c", "arch": "a", "task": "t", "method": "m", '
    '"statuses": []}]}',
    '{"schema": 3, "cells": ["c"], "properties": ["p"], "patterns": ["0"], "targets": []}',  # no status codes
    '{"schema": 3, "cells": ["c"], "properties": ["p"], "patterns": ["07"], "statuses": %s, "targets": []}'
    % STATUS_LIST,
    '{"schema": 3, "cells": ["c"], "properties": ["p"], "patterns": ["0"], "statuses": %s, "targets": [{"arch": "a", '
    '"task": "t", "method": "m", "statuses": [1]}]}' % STATUS_LIST,
    '{"schema": 3, "cells": ["c"], "properties": ["p"], "patterns": ["0"], "statuses": %s, "targets": [{}]}'
    % STATUS_LIST])
def test_an_unusable_baseline_still_builds_the_report_and_says_why(tmp_path: Path, content: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "old.json"
    baseline.write_text(content)
    assert report_cli(write(tmp_path / "r.jsonl", [verdict()]), "--out", tmp_path, "--baseline", baseline) == 1
    err = capsys.readouterr().err
    assert f"no diff: baseline {baseline}" in err and "compat.json" in err
    assert f"No diff: baseline {baseline}" in (tmp_path / "index.html").read_text()
    assert json.loads((tmp_path / "compat.json").read_text())["diff"] is None


def test_an_unwritable_out_directory_is_exit_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert report_cli(write(tmp_path / "r.jsonl", [verdict()]), "--out", blocker / "sub") == 2
    assert "pass a writable --out" in capsys.readouterr().err


def test_no_verdicts_at_all_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "raw").mkdir()
    assert report_cli(tmp_path / "raw", "--out", tmp_path / "out") == 1
    assert "holds no *.jsonl" in capsys.readouterr().err


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(), inner, max_size=3), max_leaves=10))
def test_embedded_json_cannot_close_its_script_and_reads_back_unchanged(data: object) -> None:
    embedded = str(html.embed_json(data))
    assert "<" not in embedded and ">" not in embedded and "\u2028" not in embedded
    assert json.loads(embedded) == data


@settings(max_examples=40, deadline=None)
@given(verdict_sets(text=st.text(min_size=1, max_size=30) | st.sampled_from(HOSTILE)))
def test_text_from_verdicts_is_inert_in_the_page(verdicts: list[Verdict]) -> None:
    report = model.build(verdicts)
    page = html.render(report, diff.compare(report.statuses, {}, "b"), "", "now").lower()
    assert page.count("<script") == 2 and page.count("</script") == 2 and "<!--" not in page
    assert "<img" not in page


@settings(max_examples=40, deadline=None)
@given(verdict_sets(text=st.text(min_size=1, max_size=30) | st.sampled_from(HOSTILE)))
def test_text_from_verdicts_is_inert_in_the_summary(verdicts: list[Verdict]) -> None:
    report = model.build(verdicts)
    summary = markdown.render(report, diff.compare(report.statuses, {}, "b"), "")
    assert not re.search(r"<(?!br>)", summary), "only our own <br> may be raw HTML"
    for block in summary.split("\n\n"):  # every table row has as many unescaped column bars as its header
        rows = [line for line in block.splitlines() if line.startswith("|")]
        bars = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(bars) <= 1, block


def test_the_summary_stays_under_the_pr_comment_limit_at_any_size() -> None:
    huge = "<x>|" * 5000
    verdicts = [verdict(case_id=f"c{i}", cell=f"cell{i % 30}-{huge}", arch=huge + str(i), method=huge,
                        property=huge, outcome="crash", signature=f"{huge}{i}",
                        versions={"transformers": f"4.{i % 15}.0", "peft": f"0.{i % 10}.0"}) for i in range(3000)]
    report = model.build(verdicts)
    assert len(markdown.render(report, diff.compare(report.statuses, {}, "b"), "")) < 65_536


@given(st.text(), st.text())
def test_the_repro_command_is_one_shell_word_per_part(cell: str, case: str) -> None:
    assert shlex.split(model.repro(cell, case)) == ["tox", "-e", cell, "--", "repro", case]


def test_the_report_command_is_registered() -> None:
    from harness.cli import COMMANDS

    assert COMMANDS["report"][0] == "harness.report.cli"


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="no node on PATH")
@settings(max_examples=20, deadline=None)
@given(st.lists(st.text(max_size=12) | st.sampled_from(HOSTILE), min_size=1, max_size=20))
def test_the_page_quotes_a_repro_command_as_the_report_does(words: list[str]) -> None:
    """The page writes failing cases' repro commands from their ids (its data holds ids, not commands): its quoting
    must be ``shlex.quote``'s, or a copied command breaks on a hostile cell name."""
    script = (html.HERE / "report.js").read_text(encoding="utf-8")
    quote = re.search(r"  function quote\(word\) \{.*?\n  \}", script, re.DOTALL)
    assert quote is not None, "report.js has no quote function"
    program = quote.group(0) + "\nconsole.log(JSON.stringify(JSON.parse(process.argv[1]).map(quote)));"
    out = subprocess.run([NODE, "-e", program, json.dumps(words)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [shlex.quote(w) for w in words]
