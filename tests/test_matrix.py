"""The version matrix: the shipped matrix.yaml is complete and current, bad files are refused with one clear error,
tox lists exactly its cells, and the cell entry point runs the right command in the right environment."""

from __future__ import annotations

import copy
import re
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from harness import cli, versions
from harness.cell_cli import command_for, mismatches
from harness.datafile import DataFileError
from harness.matrix.cells import DEFAULT_PATH, Profile, cell_name, load_matrix, updates
from harness.matrix.releases import first_upload_days, line_of, load_releases

ROOT = DEFAULT_PATH.parent
MATRIX = load_matrix()
RELEASES = load_releases()
RAW = yaml.safe_load(DEFAULT_PATH.read_text())
TEXT = DEFAULT_PATH.read_text()


# --- the shipped matrix ------------------------------------------------------------------------------------------


def test_the_matrix_lists_every_line_since_its_oldest_at_its_newest_patch() -> None:
    """Nothing released is missing: a refresh of releases.yaml that brings a new line or patch fails here."""
    assert updates(MATRIX, RELEASES) == []


def test_every_transformers_line_has_exactly_one_pairing_named_after_it() -> None:
    lines = [line_of(c.transformers) for c in MATRIX.pairings]
    assert sorted(lines) == sorted(MATRIX.axes["transformers"]) and len(set(lines)) == len(lines)
    for cell in MATRIX.pairings:
        assert cell.name == cell_name(cell.python, line_of(cell.transformers))


def test_pairings_follow_the_release_date_rule() -> None:
    """The paired peft line was out when the transformers pin came out, and no newer peft line of the axis was."""
    for cell in MATRIX.pairings:  # the shipped file overrides no pairing
        day = RELEASES.released_on("transformers", cell.transformers)
        out = [p for p in MATRIX.axes["peft"] if RELEASES.first_day("peft", p) <= day]
        assert line_of(cell.peft) == max(out, key=Version)
        assert str(day) in cell.reason


@pytest.mark.parametrize("name", ["py311-tf4.45-peft0.11", "py311-tf4.57-peft0.17", "py311-tf5.23-peft0.21"])
def test_the_nightly_crosses_the_project_relies_on_exist(name: str) -> None:
    cell = MATRIX.cell(name)
    assert (cell.transformers, cell.peft) == (
        MATRIX.axes["transformers"][name.split("-")[1][2:]],
        MATRIX.axes["peft"][name.split("-")[2][4:]],
    )


def test_names_are_unique_and_spell_their_pins() -> None:
    names = [n for c in MATRIX.cells for n in (c.name, *c.aliases)]
    assert len(names) == len(set(names))
    for cell in MATRIX.crosses:
        assert cell.name == cell_name(cell.python, line_of(cell.transformers), line_of(cell.peft))
    for cell in MATRIX.pairings:
        assert all(a == cell_name(cell.python, line_of(cell.transformers), line_of(cell.peft)) for a in cell.aliases)


def test_an_unknown_cell_is_refused_with_near_matches() -> None:
    with pytest.raises(LookupError, match=r"no cell 'py311-tf4\.45-peft0\.1l'.*did you mean 'py311-tf4\.45-peft0\.11'"):
        MATRIX.cell("py311-tf4.45-peft0.1l")


# --- crosses, as a property over the crosses section ---------------------------------------------------------------

TF_LINES, PEFT_LINES = list(MATRIX.axes["transformers"]), list(MATRIX.axes["peft"])


@settings(max_examples=25, deadline=None)
@given(tf=st.lists(st.sampled_from(TF_LINES), min_size=1, max_size=4, unique=True),
       peft=st.lists(st.sampled_from(PEFT_LINES), min_size=1, max_size=4, unique=True))
def test_crosses_are_the_product_minus_the_pairings(tmp_path_factory: pytest.TempPathFactory, tf: list[str],
                                                    peft: list[str]) -> None:
    data = copy.deepcopy(RAW)
    data["crosses"] = {"transformers": tf, "peft": peft}
    data["exclusions"] = []
    matrix = load_matrix(_write(tmp_path_factory.mktemp("m"), data))
    paired = {(line_of(c.transformers), line_of(c.peft)) for c in matrix.pairings}
    product = {(t, p) for t in tf for p in peft}
    assert {(line_of(c.transformers), line_of(c.peft)) for c in matrix.crosses} == product - paired
    aliases = {a for c in matrix.pairings for a in c.aliases}
    assert aliases == {cell_name("3.11", t, p) for t, p in product & paired}
    assert all(matrix.cell(a).kind == "pairing" for a in aliases)


def test_an_exclusion_removes_exactly_the_crosses_it_matches_and_keeps_its_reason(tmp_path: Path) -> None:
    data = copy.deepcopy(RAW)
    data["exclusions"] = []
    before = {c.name for c in load_matrix(_write(tmp_path, data)).crosses}
    data["exclusions"] = [{"transformers": "5.*", "peft": ["0.11", "0.12"], "reason": "measured: cannot import"}]
    matrix = load_matrix(_write(tmp_path, data))
    after = {c.name for c in matrix.crosses}
    assert after <= before
    assert before - after == {"py311-tf5.0-peft0.11", "py311-tf5.0-peft0.12", "py311-tf5.23-peft0.11",
                              "py311-tf5.23-peft0.12"}
    assert dict(matrix.excluded) == dict.fromkeys(before - after, "measured: cannot import")


# --- validation: one clear error per kind of mistake ---------------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


# (id, change to the parsed file, fragments the one error must contain: the entry, the problem, the fix)
DATA_MISTAKES = [
    ("unknown top-level key", _set(("profile",), {}),
     ["top level", "unknown key 'profile'", "did you mean 'profiles'"]),
    ("unknown profile key", _set(("profiles", "smoke", "max_example"), 3),
     ["profiles.smoke", "unknown key 'max_example'", "did you mean 'max_examples'"]),
    ("missing key", _drop(("profiles", "nightly", "shrink")), ["profiles.nightly", "missing key 'shrink'"]),
    ("never released", _set(("transformers", "4.45"), "4.45.9"),
     ["transformers['4.45']", "4.45.9 was never released", "4.45.0, 4.45.1, 4.45.2", "--refresh-releases"]),
    ("pin outside its line", _set(("transformers", "4.45"), "4.46.3"),
     ["transformers['4.45']", "not a release of line 4.45", 'key it "4.46"']),
    ("pairing breaks the rule", _set(("pairings", "4.45"), "0.11"),
     ["pairings['4.45']", "breaks the pairing rule, which gives 0.13", 'reason: "why"']),
    ("override restating the rule", _set(("pairings", "4.45"), {"peft": "0.13", "reason": "because"}),
     ["pairings['4.45']", "restates the pairing rule", 'write just "0.13"']),
    ("pairing to an unknown peft line", _set(("pairings", "4.45"), "0.9"),
     ["pairings['4.45']", "peft line '0.9' is not in the peft axis"]),
    ("missing pairing", _drop(("pairings", "5.24")), ["pairings", "'5.24' has no pairing", 'add "5.24": "0.21"']),
    ("duplicate python", _set(("python",), ["3.11", "3.11"]), ["python[1]", "'3.11' is listed twice", "keep one"]),
    ("cross pattern matching nothing", _set(("crosses", "transformers"), ["4.45", "4.4"]),
     ["crosses.transformers[1]", "'4.4' matches no line"]),
    ("exclusion that excludes nothing",
     _set(("exclusions",), [{"transformers": "4.46", "peft": "0.11", "reason": "x"}]),
     ["exclusions[0]", "excludes no cross", "remove it"]),
    ("missing profile", _drop(("profiles", "smoke")), ["profiles", "missing profile 'smoke'"]),
    ("zero examples", _set(("profiles", "default", "max_examples"), 0),
     ["profiles.default.max_examples", "integer >= 1"]),
    ("string for a bool", _set(("profiles", "default", "shrink"), "yes"), ["profiles.default.shrink", "true or false"]),
    ("range as torch pin", _set(("torch", "pin"), ">=2.13"), ["torch.pin", "not an exact version"]),
    ("number as a pin", _set(("peft", "0.12"), 0.12), ["peft['0.12']", "expected a string", "quotes"]),
]


@pytest.mark.parametrize(("mutate", "fragments"), [m[1:] for m in DATA_MISTAKES], ids=[m[0] for m in DATA_MISTAKES])
def test_a_bad_matrix_is_refused_with_the_file_the_entry_and_the_fix(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], fragments: list[str]
) -> None:
    data = copy.deepcopy(RAW)
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(DataFileError) as caught:
        load_matrix(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message


# mistakes only the text shows: YAML reads them before the checks see the data
TEXT_MISTAKES = [
    ("duplicate key", lambda t: t.replace('  "4.45": "4.45.2"\n', '  "4.45": "4.45.2"\n  "4.45": "4.45.1"\n', 1),
     ["key '4.45' appears twice", "keep one"]),
    ("unquoted line", lambda t: t.replace('  "4.50": "4.50.3"', '  4.50: "4.50.3"', 1),
     ["transformers", "key 4.5 is the float", "quotes", "number 4.5"]),
    ("not YAML", lambda t: t + "\n  - [unclosed\n", ["not valid YAML"]),
]


@pytest.mark.parametrize(("edit", "fragments"), [m[1:] for m in TEXT_MISTAKES], ids=[m[0] for m in TEXT_MISTAKES])
def test_mistakes_in_the_text_are_refused_too(tmp_path: Path, edit: Callable[[str], str], fragments: list[str]) -> None:
    changed = edit(TEXT)
    assert changed != TEXT
    path = tmp_path / "matrix.yaml"
    path.write_text(changed)
    with pytest.raises(DataFileError) as caught:
        load_matrix(path)
    assert str(caught.value).startswith(str(path))
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_a_missing_matrix_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"nowhere\.yaml: cannot read it"):
        load_matrix(tmp_path / "nowhere.yaml")


# --- profiles --------------------------------------------------------------------------------------------------------


def test_every_profile_the_runner_needs_is_defined() -> None:
    assert {"smoke", "default", "nightly"} <= set(MATRIX.profiles)
    assert MATRIX.profile("smoke").max_examples <= MATRIX.profile("default").max_examples
    assert MATRIX.profile("default").max_examples <= MATRIX.profile("nightly").max_examples
    with pytest.raises(LookupError, match="did you mean 'nightly'"):
        MATRIX.profile("nighty")


@settings(max_examples=100, deadline=None)
@given(targets=st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=30),
       cap=st.none() | st.integers(min_value=1, max_value=40))
def test_pick_is_a_deterministic_order_keeping_subset(targets: list[str], cap: int | None) -> None:
    profile = Profile("p", 1, 1.0, False, cap)
    picked = profile.pick(targets)
    assert len(picked) == (len(targets) if cap is None else min(cap, len(targets)))
    assert picked == [t for t in targets if t in set(picked)]
    assert set(profile.pick(list(reversed(targets)))) == set(picked)


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6), cap=st.integers(min_value=1, max_value=40))
def test_pick_spreads_a_cap_over_every_group(sizes: list[int], cap: int) -> None:
    targets = [(g, i) for g, size in enumerate(sizes) for i in range(size)]
    picked = Profile("p", 1, 1.0, False, cap).pick(targets, key=repr, group=lambda t: str(t[0]))
    share = cap // len(sizes)
    for g, size in enumerate(sizes):
        assert sum(1 for t in picked if t[0] == g) >= min(size, share)
    assert len(picked) == min(cap, len(targets))


# --- releases.yaml ------------------------------------------------------------------------------------------------


def test_releases_keep_final_unyanked_versions_with_their_first_day() -> None:
    files = [
        {"filename": "pkg-1.0.0-py3-none-any.whl", "upload-time": "2024-01-02T10:00:00Z"},
        {"filename": "pkg-1.0.0.tar.gz", "upload-time": "2024-01-01T23:59:00Z", "yanked": True},
        {"filename": "pkg-1.1.0.tar.gz", "upload-time": "2024-02-01T00:00:00Z", "yanked": "broken"},
        {"filename": "pkg-1.2.0rc1.tar.gz", "upload-time": "2024-03-01T00:00:00Z"},
        {"filename": "pkg-1.2.0.tar.gz", "upload-time": "2024-03-05T00:00:00Z"},
    ]
    assert first_upload_days(files) == {"1.2.0": date(2024, 3, 5), "1.0.0": date(2024, 1, 1)}


def test_the_shipped_releases_know_the_cells_pins() -> None:
    for cell in MATRIX.cells:
        assert RELEASES.released("transformers", cell.transformers) and RELEASES.released("peft", cell.peft)
    assert not RELEASES.released("transformers", "4.46.0")  # yanked upstream


def test_a_hand_edited_release_date_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "releases.yaml"
    path.write_text("transformers:\n  4.45.2: 2024-10-07\npeft: {}\n")
    with pytest.raises(DataFileError, match=r"transformers\['4\.45\.2'\].*--refresh-releases"):
        load_releases(path)


# --- tox ----------------------------------------------------------------------------------------------------------


def _tox(*args: str) -> list[str]:
    tox = shutil.which("tox")
    if tox is None:
        pytest.skip("tox is not on PATH (`.ci/run` installs it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOX_")}
    done = subprocess.run([tox, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()


def test_tox_lists_the_pairings_by_default_and_every_cell_as_nightly() -> None:
    assert _tox("-l") == [c.name for c in MATRIX.pairings]
    assert sorted(_tox("list", "--no-desc", "-m", "nightly")) == sorted(c.name for c in MATRIX.cells)


def test_a_cell_env_installs_its_pins_and_runs_the_cell_command() -> None:
    cell = MATRIX.cell("py311-tf4.45-peft0.11")
    shown = " ".join(_tox("config", "-e", cell.name, "-k", "deps", "commands", "set_env", "--", "--method", "X"))
    for requirement in cell.requirements():
        assert requirement in shown
    assert f"commands = python -m harness cell {cell.name} --method X" in shown
    assert f"PEFT_COMPAT_CELL={cell.name}" in shown and "HF_HUB_OFFLINE=1" in shown


# --- the cell entry point -------------------------------------------------------------------------------------------


def test_a_cell_runs_the_suite_with_its_own_outputs_and_extra_arguments_last() -> None:
    argv = command_for("py311-tf4.45", ["--method", "PREFIX_TUNING"])
    assert argv[:3] == ["run", "--cell", "py311-tf4.45"]
    expected = {"--profile": "default", "--out": "reports/raw/py311-tf4.45.jsonl",
                "--junit": "reports/raw/py311-tf4.45.xml", "--database": "reports/hypothesis/py311-tf4.45"}
    for option, value in expected.items():
        assert argv[argv.index(option) + 1] == value
    assert argv[-2:] == ["--method", "PREFIX_TUNING"]


@pytest.mark.parametrize("command", sorted(set(cli.COMMANDS) - {"cell"}))
def test_a_cell_runs_a_named_command_as_given(command: str) -> None:
    assert command_for("py311-tf4.45", [command, "--x"]) == [command, "--x"]


def test_a_cell_refuses_an_environment_with_other_versions() -> None:
    cell = MATRIX.cell("py311-tf4.45")
    own = {"python": "3.11.7", "torch": f"{cell.torch}+cpu", "transformers": cell.transformers, "peft": cell.peft}
    assert mismatches(cell, own) == []
    for package in own:
        other = {**own, package: "0.0.1"}
        assert [m.split()[0] for m in mismatches(cell, other)] == [package]


def test_the_cell_command_dispatches_inside_the_matching_cell(capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    here = versions.installed()
    cell = next((c for c in MATRIX.cells if not mismatches(c, here)), None)
    if cell is None:
        pytest.skip(f"no cell of the matrix has this environment's versions {here}")
    monkeypatch.setenv("PEFT_COMPAT_CELL", "before")
    assert cli.main(["cell", cell.name, "matrix", "--nightly", "--json"]) == 0
    assert os.environ["PEFT_COMPAT_CELL"] == cell.name
    assert cell.name in capsys.readouterr().out
    assert cli.main(["cell", "py311-tf4.44"]) == 2
    assert "no cell 'py311-tf4.44'" in capsys.readouterr().err


def _write(directory: Path, data: dict[str, Any]) -> Path:
    path = directory / "matrix.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_every_exclusion_is_backed_by_a_recorded_import_verdict() -> None:
    """A cross is left out only where a run in it recorded that its libraries cannot be imported together: an
    ``import`` crash, on exactly the cross's transformers and peft pins."""
    from harness.matrix.imports import recorded

    matrix = load_matrix()
    assert matrix.excluded, "matrix.yaml excludes crosses; this test checks what backs them"
    for name in matrix.excluded:
        tf_line, peft_line = re.fullmatch(r"py\d+-tf([\d.]+)-peft([\d.]+)", name).groups()  # type: ignore[union-attr]
        verdict = recorded(name)
        assert verdict is not None, f"{name}: no harness/data/imports/{name}.jsonl"
        assert (verdict.kind, verdict.outcome) == ("import", "crash")
        assert verdict.versions["transformers"] == matrix.axes["transformers"][tf_line]
        assert verdict.versions["peft"] == matrix.axes["peft"][peft_line]
