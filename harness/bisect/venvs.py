"""Venvs holding other releases, built with uv and kept for reuse (``python -m harness bisect`` runs cases in them).

A venv is named after its stack (``py311-torch2.13.0-tf4.45.2-peft0.12.0``) under ``$XDG_CACHE_HOME/peft-compat/venvs``
(default ``~/.cache/peft-compat/venvs``). It holds torch, transformers and peft at their pins and the harness's own
dependencies (from pyproject.toml), not the harness: commands run with ``PYTHONPATH`` set to this checkout, so one
venv serves every checkout. uv takes torch from PyPI unless ``UV_FIND_LINKS``, ``UV_INDEX`` or ``UV_TORCH_BACKEND``
says otherwise (README, "Where torch comes from").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peft-compat" / "venvs"


class VenvError(RuntimeError):
    """A venv could not be built; the message says why and what to try."""


@dataclass(frozen=True)
class Stack:
    python: str
    torch: str
    transformers: str
    peft: str

    @property
    def name(self) -> str:
        return f"py{self.python.replace('.', '')}-torch{self.torch}-tf{self.transformers}-peft{self.peft}"

    def requirements(self) -> tuple[str, ...]:
        return f"torch=={self.torch}", f"transformers=={self.transformers}", f"peft=={self.peft}"


def harness_requirements() -> list[str]:
    """The harness's own dependencies, as pyproject.toml lists them."""
    with (REPO / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def ensure(stack: Stack, root: Path) -> tuple[Path, bool]:
    """The Python of ``stack``'s venv under ``root``, and whether it was created now. An existing venv is topped up
    (uv installs what is missing, a no-op when nothing is), so an interrupted build is finished next time."""
    uv = shutil.which("uv")
    if uv is None:
        raise VenvError("uv is not on PATH: install it with `pip install uv`")
    path = root / stack.name
    python = path / "bin" / "python"
    created = not python.exists()
    if created:
        _run([uv, "venv", "--quiet", "--clear", "--python", stack.python, str(path)], path)
    _run([uv, "pip", "install", "--quiet", "--python", str(python), *stack.requirements(), *harness_requirements()],
         path)
    return python, created


def environment() -> dict[str, str]:
    """The environment to run the harness in one of these venvs: this checkout on the path, offline, and no cell
    name inherited from a tox env (the harness derives it from the installed versions)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PEFT_COMPAT_CELL", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def _run(command: list[str], path: Path) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise VenvError(f"uv could not build {path} (`{' '.join(command[:3])} ...` exited {done.returncode}):\n"
                        f"{tail}\nuv takes torch from PyPI unless UV_FIND_LINKS, UV_INDEX or UV_TORCH_BACKEND "
                        "says otherwise (README, \"Where torch comes from\")")
