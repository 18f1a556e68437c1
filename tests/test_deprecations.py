"""Deprecations as data: captured per step without printing, only with peft on the stack, and aggregated into the
report's "breaks next" table."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.quiet import capture_deprecations, removal
from harness.report import deprecations
from harness.findings.build import group
from harness.results import Deprecation, read_verdicts
from harness.writer import VerdictWriter
from report_factory import report_cli, verdict, write


def _code_in(package: str, body: str, **names: Any) -> dict[str, Any]:
    """Run ``body`` (defining ``call()``) as if it were module ``package.tuners.fake``: its frames then lie in that
    package's folder."""
    namespace: dict[str, Any] = {"__name__": f"{package}.tuners.fake", "warnings": warnings, "logging": logging,
                                 **names}
    exec(compile(body, f"/site-packages/{package}/tuners/fake.py", "exec"), namespace)  # noqa: S102 - test code
    return namespace


WARNS = """
def call(message, category):
    warnings.warn(message, category)
"""
LOGS = """
def call(message, category):
    logging.getLogger("transformers.models.fake").warning_once(message)
"""
#: peft calling into a transformers function that raises the notice
CALLS = """
def call(message, category):
    library(message, category)
"""


def _through_peft(body: str) -> tuple[Any, Any]:
    """(peft code calling transformers code that runs ``body``, the transformers code called directly)."""
    library = _code_in("transformers", body)["call"]
    return _code_in("peft", CALLS, library=library)["call"], _code_in("elsewhere", CALLS, library=library)["call"]


@pytest.mark.parametrize("body", [WARNS, LOGS], ids=["warnings", "logger"])
def test_notices_raised_inside_peft_are_kept_with_their_frame_and_not_printed(body: str,
                                                                              capsys: pytest.CaptureFixture) -> None:
    message = "passing `past_key_values` as a tuple of tuples is deprecated and will be removed in v4.47"
    inside, outside = _through_peft(body)
    with capture_deprecations() as seen:
        for _ in range(2):  # the same notice twice in a step is one record
            inside(message, FutureWarning)
        outside(message + " (outside)", FutureWarning)
    assert [(d.frame, d.removal) for d in seen] == [("peft/tuners/fake.py:call", "transformers 4.47")]
    assert seen[0].category == ("FutureWarning" if body is WARNS else "logger")
    with capture_deprecations() as again:  # a new step sees a notice again, even a "warn once" one
        inside(message, FutureWarning)
    assert len(again) == 1
    captured = capsys.readouterr()
    assert "deprecated" not in captured.err + captured.out


def test_other_warnings_and_plain_log_lines_are_not_deprecations() -> None:
    (inside_warn, _), (inside_log, _) = _through_peft(WARNS), _through_peft(LOGS)
    with capture_deprecations() as seen:
        inside_warn("this is deprecated", UserWarning)
        inside_log("the model weights are not tied", None)
    assert seen == []


@given(major=st.integers(0, 12), minor=st.integers(0, 60), library=st.sampled_from(["", "transformers ", "PEFT "]),
       phrase=st.sampled_from(["will be removed in {}", "is removed from {}", "will raise an error starting from {}"]),
       prefix=st.sampled_from(["v", "version ", ""]))
def test_removal_reads_the_announced_release(major: int, minor: int, library: str, phrase: str, prefix: str) -> None:
    message = f"`x` is deprecated and {phrase.format(f'{library}{prefix}{major}.{minor}')}. Use `y`."
    assert removal(message, "torch") == f"{library.strip().lower() or 'torch'} {major}.{minor}"


def test_removal_is_empty_when_no_release_is_named() -> None:
    assert removal("`x` is deprecated; use `y` instead", "transformers") == ""


def _note(message: str, frame: str = "peft/peft_model.py:forward", removal_: str = "transformers 4.47") -> Deprecation:
    return Deprecation("logger", message, frame, removal_)


def test_breaks_next_counts_per_frame_and_message_and_names_the_oldest_cell(tmp_path: Path) -> None:
    notice = "tuple of tuples is deprecated and will be removed in v4.47"
    verdicts = [
        verdict(cell="py311-tf4.57-peft0.17", deprecations=(_note(notice),)),
        verdict(cell="py311-tf4.45-peft0.11", deprecations=(_note(notice), _note("other is deprecated", removal_=""))),
        verdict(cell="py311-tf4.45-peft0.17", property="generate", deprecations=(_note(notice),)),
        verdict(cell="py311-tf4.45-peft0.17"),
    ]
    path = tmp_path / "run.jsonl"
    with VerdictWriter(path) as writer:
        for v in verdicts:
            writer.write(v)
    rows = deprecations.notices(group(read_verdicts(path, [])))  # as read back from the file
    assert [(n.message, n.count, n.first_cell, n.removal) for n in rows] == [
        (notice, 3, "py311-tf4.45-peft0.11", "transformers 4.47"),
        ("other is deprecated", 1, "py311-tf4.45-peft0.11", ""),
    ]
    assert rows[0].properties == ("forward_runs", "generate")
    table = "\n".join(deprecations.markdown(rows))
    assert "Breaks next" in table and "transformers 4.47" in table and "py311-tf4.45-peft0.11" in table


def test_the_report_shows_breaks_next(tmp_path: Path) -> None:
    notice = "`x` is deprecated and will be removed in v5.0"
    path = write(tmp_path / "run.jsonl", [verdict(deprecations=(_note(notice, removal_="transformers 5.0"),))])
    out = tmp_path / "out"
    assert report_cli(path, "--out", out) == 0
    assert "Breaks next" in (out / "summary.md").read_text()
    page = (out / "index.html").read_text()
    assert 'id="breaks-next"' in page and "transformers 5.0" in page and "peft/peft_model.py:forward" in page
