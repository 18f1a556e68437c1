"""The import layers (pyproject.toml, [tool.importlinter]) name every module of the harness: a new module must take
its place in them, or the contract would not check it. The contracts inside a package (``containers``) say so
themselves (``exhaustive``)."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import harness

PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"


def _contracts() -> list[dict[str, Any]]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_every_top_level_module_has_a_layer() -> None:
    (contract,) = [c for c in _contracts() if "containers" not in c]
    layered = {name.strip() for layer in contract["layers"] for name in layer.split(":")}
    modules = {f"harness.{m.name}" for m in pkgutil.iter_modules(harness.__path__)}
    assert modules - layered == set(), "add these modules to a layer of [tool.importlinter] in pyproject.toml"
    assert layered - modules == set(), "these layers name modules that are gone"


def test_every_contract_inside_a_package_is_exhaustive() -> None:
    inner = [c for c in _contracts() if "containers" in c]
    assert inner and all(c.get("exhaustive") for c in inner), "set exhaustive = true: every module must have a layer"
