"""tox plugin (loaded by tox from this file): every cell of matrix.yaml is a tox env.

``tox -l`` lists the pairings (the default env list) and then the nightly crosses; the labels ``pairings``,
``crosses`` and ``nightly`` (both) select them, as in ``tox -m nightly``. A cell env installs torch, transformers
and peft at the cell's pins, sets ``PEFT_COMPAT_CELL`` to its name and runs ``python -m harness cell {env_name}
{posargs}``. Everything else (pass_env, HF_HUB_OFFLINE, packaging) comes from ``[testenv]`` in tox.ini.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tox.config.loader.memory import MemoryLoader
from tox.config.types import Command, EnvList
from tox.plugin import impl
from tox.report import HandledError

if TYPE_CHECKING:
    from tox.config.sets import ConfigSet, EnvConfigSet
    from tox.session.state import State

ROOT = Path(__file__).resolve().parent


@functools.cache
def envs() -> dict[str, dict[str, Any]]:
    """tox env name → its settings (description, deps, labels, the cell it runs), from matrix.yaml.

    Empty when PyYAML is missing from the Python running tox: tox then provisions one with it (``requires``)."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        return {}
    sys.path.insert(0, str(ROOT))
    try:
        from harness.datafile import DataFileError
        from harness.matrix.cells import load_matrix

        matrix = load_matrix(ROOT / "matrix.yaml")
    except DataFileError as exc:
        raise HandledError(f"matrix.yaml is not usable: {exc}") from None
    finally:
        sys.path.remove(str(ROOT))
    out = {}
    for cell in matrix.cells:
        pins = f"transformers {cell.transformers} + peft {cell.peft}"
        out[cell.name] = {
            "description": f"{cell.kind} of {pins}: {cell.reason}",
            "deps": "\n".join(cell.requirements()),
            "labels": ["nightly", "pairings" if cell.kind == "pairing" else "crosses"],
        }
        for alias in cell.aliases:
            out[alias] = {**out[cell.name], "description": f"runs {cell.name} ({pins})", "labels": []}
    return out


@impl
def tox_extend_envs() -> list[str]:
    return list(envs())


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    posargs = list(state.conf.pos_args(None) or ())
    for name, settings in envs().items():
        command = Command(["python", "-m", "harness", "cell", name, *posargs])
        state.conf.memory_seed_loaders[name].append(MemoryLoader(commands=[command], **settings))
    pairings = [name for name, settings in envs().items() if "pairings" in settings["labels"]]
    if pairings and not any({"env_list", "envlist"} & loader.found_keys() for loader in core_conf.loaders):
        core_conf.loaders.insert(0, MemoryLoader(env_list=EnvList(pairings)))


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:  # noqa: ARG001 - hook signature
    if env_conf.name in envs():
        env_conf["set_env"].update({"PEFT_COMPAT_CELL": env_conf.name})
