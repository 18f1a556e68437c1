"""Release bisection: the search finds the flip within ⌈log2 n⌉ + 1 probes and rests its answer on probed
neighbours; ranges are read against the known releases; only the failure looked for makes a release bad."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import cli
from harness.bisect.search import Probe, bisect, plan, shows_failure
from harness.matrix.releases import load_releases
from harness.results import ErrorInfo, Verdict
from harness.bisect.venvs import REPO, Stack, environment

RELEASES = load_releases()
SIGNATURE = "got multiple values for keyword argument 'past_key_values'"


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(min_value=2, max_value=80), starts_bad=st.booleans())
def test_bisect_finds_the_flip_with_few_probes_and_probed_evidence(data: st.DataObject, n: int,
                                                                  starts_bad: bool) -> None:
    versions = [f"1.{i}.0" for i in range(n)]
    flip = data.draw(st.integers(min_value=1, max_value=n), label="flip")  # n: no release flips
    asked: list[str] = []

    def probe(version: str) -> Probe:
        asked.append(version)
        return Probe(version, starts_bad == (versions.index(version) < flip))

    result = bisect(versions, probe)
    assert len(asked) == len(set(asked)) == len(result.probes) <= math.ceil(math.log2(n)) + 1
    assert [p.version for p in result.probes] == asked and result.fixing == starts_bad
    states = {p.version: p.bad for p in result.probes}
    if flip == n:
        assert result.flip is None and states[versions[-1]] == starts_bad
        assert result.conclusion("peft").startswith("no flip")
    else:
        assert result.flip == flip
        assert states[versions[flip - 1]] == starts_bad and states[versions[flip]] != starts_bad
        word = "first fixed" if starts_bad else "first bad"
        assert result.conclusion("peft").startswith(f"{word}: peft {versions[flip]}")


def test_bisect_needs_two_releases() -> None:
    with pytest.raises(ValueError, match="at least two releases"):
        bisect(["1.0"], lambda v: Probe(v, True))


def test_a_probe_error_stops_the_search_and_reaches_the_caller() -> None:
    def probe(version: str) -> Probe:
        if version == "c":
            raise RuntimeError("no venv for c")
        return Probe(version, version == "a")

    with pytest.raises(RuntimeError, match="no venv for c"):
        bisect(["a", "b", "c", "d", "e"], probe)


# --- ranges -----------------------------------------------------------------------------------------------------


def test_a_peft_range_holds_transformers_and_lists_every_known_release_between() -> None:
    the_plan = plan({"transformers": "4.45.2", "peft": "0.11.1..0.13.2"}, RELEASES)
    assert the_plan.package == "peft" and the_plan.held == {"transformers": "4.45.2"}
    assert the_plan.versions == ("0.11.1", "0.12.0", "0.13.0", "0.13.1", "0.13.2")


def test_a_transformers_range_skips_yanked_releases() -> None:
    the_plan = plan({"transformers": "4.45.2..4.46.3", "peft": "0.13.2"}, RELEASES)
    assert the_plan.versions[0] == "4.45.2" and the_plan.versions[-1] == "4.46.3"
    assert "4.46.0" not in the_plan.versions and all(RELEASES.released("transformers", v) for v in the_plan.versions)


@pytest.mark.parametrize(("specs", "fragment"), [
    ({"transformers": "4.45.2", "peft": "0.11.1"}, "exactly one of --transformers and --peft must be a range"),
    ({"transformers": "4.45.2..4.46.3", "peft": "0.11.1..0.13.2"}, "exactly one"),
    ({"transformers": "4.45.2", "peft": "0.11.1..0.13.9"}, "peft '0.13.9' is not a known release (did you mean"),
    ({"transformers": "4.45.9", "peft": "0.11.1..0.13.2"}, "transformers '4.45.9' is not a known release"),
    ({"transformers": "4.45.2", "peft": "0.13.2..0.11.1"}, "from an older release to a newer one"),
])
def test_a_bad_range_is_refused_with_what_to_write(specs: dict[str, str], fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        plan(specs, RELEASES)
    assert fragment in str(caught.value)


def test_the_cli_refuses_a_bad_range_before_building_anything(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"arch": {}, "method": {}, "call": {}}))
    code = cli.main(["bisect", str(case), "--transformers", "4.45.2", "--peft", "0.11.1",
                     "--venvs", str(tmp_path / "venvs")])
    assert code == 2 and "must be a range" in capsys.readouterr().err
    assert not (tmp_path / "venvs").exists()


# --- what counts as bad -------------------------------------------------------------------------------------------


def _verdict(prop: str, outcome: str, message: str = "") -> Verdict:
    error = ErrorInfo("TypeError", message) if message else None
    return Verdict("c", "cell", {}, "gpt2", "causal-lm", "PREFIX_TUNING", prop, outcome,  # type: ignore[arg-type]
                   signature=f"TypeError: {message}" if message else "", error=error)


def test_only_the_failure_looked_for_makes_a_release_bad() -> None:
    other = [_verdict("wrap", "pass"), _verdict("generate-positional", "fail", "tokens differ")]
    ours = [*other, _verdict("empty-cache", "crash", f"GPT2LMHeadModel() {SIGNATURE}")]
    assert shows_failure(other, None) and not shows_failure(other, SIGNATURE)
    assert shows_failure(ours, SIGNATURE)
    rejected = [_verdict("empty-cache", "rejected", SIGNATURE)]
    assert not shows_failure(rejected, SIGNATURE) and not shows_failure(rejected, None)


# --- venvs --------------------------------------------------------------------------------------------------------


def test_a_venv_is_named_after_its_whole_stack() -> None:
    stack = Stack("3.11", "2.13.0", "4.45.2", "0.12.0")
    assert stack.name == "py311-torch2.13.0-tf4.45.2-peft0.12.0"
    assert stack.requirements() == ("torch==2.13.0", "transformers==4.45.2", "peft==0.12.0")


def test_commands_in_a_venv_see_this_checkout_and_no_inherited_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEFT_COMPAT_CELL", "py311-tf4.57")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = environment()
    assert "PEFT_COMPAT_CELL" not in env
    assert env["PYTHONPATH"].split(":")[:2] == [str(REPO), "/elsewhere"]
