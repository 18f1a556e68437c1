"""Choosing cells by pattern and cutting them into CI jobs: every cell in exactly one job, never more jobs than
GitHub allows, balanced; and `python -m harness matrix --github` needs no torch (the workflow's setup job has none)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import cli
from harness.matrix.cells import DEFAULT_PATH, load_matrix
from harness.matrix.releases import line_of
from harness.matrix.slicing import GITHUB_MAX_JOBS, github_matrix, patterns_of, matching_cells, slices

MATRIX = load_matrix()
RAW = yaml.safe_load(DEFAULT_PATH.read_text())


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=0, max_value=700), most=st.integers(min_value=1, max_value=300))
def test_slices_keep_order_cover_everything_and_are_balanced(n: int, most: int) -> None:
    items = list(range(n))
    parts = slices(items, most)
    assert [i for part in parts for i in part] == items
    assert len(parts) == min(n, most)
    if parts:
        sizes = [len(p) for p in parts]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


def _matrix_of(tmp_path: Path, cells: int) -> Path:
    """A matrix.yaml with exactly ``cells`` cells: every transformers line crossed with every peft line, then as
    many crosses excluded one by one as it takes."""
    data = copy.deepcopy(RAW)
    data["crosses"] = {"transformers": ["*"], "peft": ["*"]}
    data["exclusions"] = []
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    crosses = load_matrix(path).crosses
    surplus = len(load_matrix(path).cells) - cells
    assert 0 <= surplus <= len(crosses), "the shipped axes no longer make enough cells for this test"
    data["exclusions"] = [{"transformers": line_of(c.transformers), "peft": line_of(c.peft), "reason": "test"}
                          for c in crosses[:surplus]]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert len(load_matrix(path).cells) == cells
    return path


def _github(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    assert cli.main(["matrix", "--github", *argv]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1, "one line, for $GITHUB_OUTPUT"
    jobs: list[dict[str, Any]] = json.loads(out)["include"]
    assert err.strip() == f"{sum(int(j['count']) for j in jobs)} cells in {len(jobs)} jobs"
    return jobs


@pytest.mark.parametrize(("max_jobs", "sizes"), [(GITHUB_MAX_JOBS, {1, 2}), (7, {42, 43}), (300, {1}), (1, {300})])
def test_a_matrix_of_300_cells_is_cut_into_balanced_jobs_under_the_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], max_jobs: int, sizes: set[int]) -> None:
    path = _matrix_of(tmp_path, 300)
    jobs = _github(capsys, "--nightly", "--file", str(path), "--max-jobs", str(max_jobs), "--profile", "smoke")
    assert len(jobs) == min(300, max_jobs)
    names = [name for job in jobs for name in str(job["cells"]).split(",")]
    assert names == [c.name for c in load_matrix(path).cells]  # each cell exactly once, in matrix order
    assert {len(str(job["cells"]).split(",")) for job in jobs} == sizes
    assert all(int(job["count"]) == len(str(job["cells"]).split(",")) for job in jobs)
    keys = [str(job["key"]) for job in jobs]
    assert len(set(keys)) == len(keys) and not any("," in k for k in keys)  # artifact names, cache keys


def test_whole_cells_are_one_job_each_when_they_fit() -> None:
    jobs = github_matrix(MATRIX.cells)["include"]
    assert [job["key"] for job in jobs] == [job["cells"] for job in jobs] == [c.name for c in MATRIX.cells]
    assert {job["args"] for job in jobs} == {""}


def test_a_sharded_cell_is_one_job_per_shard_each_with_its_own_outputs() -> None:
    cells = MATRIX.pairings[:3]
    jobs = github_matrix(cells, shards={cells[1].name: 3})["include"]
    assert [job["cells"] for job in jobs] == [cells[0].name, *[cells[1].name] * 3, cells[2].name]
    assert [job["args"].split()[:2] for job in jobs[1:4]] == [["--shard", f"{i}/3"] for i in (1, 2, 3)]
    outs = [job["args"].split()[3] for job in jobs[1:4]]
    assert len(set(outs)) == 3 and all(out.startswith("reports/raw/") for out in outs)
    with pytest.raises(ValueError, match="more than 3 jobs"):
        github_matrix(cells, 3, shards={cells[1].name: 3})


def test_patterns_pick_cells_in_matrix_order_once_each_and_aliases_pick_their_pairing() -> None:
    pairing = next(c for c in MATRIX.pairings if c.aliases)
    chosen = matching_cells(MATRIX.cells, patterns_of([f"{pairing.aliases[0]},{pairing.name}", "*-peft0.11"]))
    assert chosen[0] == pairing and len(chosen) == len(set(chosen))
    assert chosen == [c for c in MATRIX.cells if c in chosen]
    assert {c.name for c in chosen[1:]} == {c.name for c in MATRIX.crosses if c.name.endswith("-peft0.11")}
    assert matching_cells(MATRIX.cells, ["*"]) == list(MATRIX.cells)


def test_a_pattern_that_matches_nothing_is_refused_with_near_matches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(LookupError, match=r"'py311-tf4\.4' matches no cell \(did you mean 'py311-tf4\.45'"):
        matching_cells(MATRIX.cells, ["py311-tf4.45", "py311-tf4.4"])
    assert cli.main(["matrix", "--github", "--cells", "py311-tf4.45-peft0.11"]) == 2
    assert "crosses need --nightly" in capsys.readouterr().err


def test_matrix_github_runs_without_torch() -> None:
    """The workflow's setup job installs the harness without torch: importing torch must not be needed."""
    code = ("import sys; sys.modules['torch'] = None; from harness.cli import main; "
            "sys.exit(main(['matrix', '--nightly', '--github']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=DEFAULT_PATH.parent, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    jobs = json.loads(done.stdout)["include"]
    assert {name for job in jobs for name in job["cells"].split(",")} == {c.name for c in MATRIX.cells}
