"""The import layers (pyproject.toml, [tool.importlinter]) name every module of the harness: a new module must take
its place in them, or the contract would not check it."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import harness

PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"


def test_every_top_level_module_has_a_layer() -> None:
    (contract,) = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layered = {name.strip() for layer in contract["layers"] for name in layer.split(":")}
    modules = {f"harness.{m.name}" for m in pkgutil.iter_modules(harness.__path__)}
    assert modules - layered == set(), "add these modules to a layer of [tool.importlinter] in pyproject.toml"
    assert layered - modules == set(), "these layers name modules that are gone"
