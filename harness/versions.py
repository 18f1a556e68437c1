"""The versions of the stack this process runs on, and version gates written as data."""

from __future__ import annotations

import functools
import platform
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import Version

PACKAGES = ("torch", "transformers", "peft")


@functools.cache
def installed() -> dict[str, str]:
    """{python, torch, transformers, peft} → version string ("" when a package is absent)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = ""
    return found


def matches(package: str, spec: str) -> bool:
    """Whether the installed ``package`` satisfies a PEP 440 specifier such as ``">=4.50,<5"`` ("" matches all)."""
    if not spec:
        return True
    version = installed()[package]
    return bool(version) and Version(version).base_version in SpecifierSet(spec)


def installed_cell() -> str:
    """The matrix cell this process belongs to: ``$PEFT_COMPAT_CELL`` (set by tox), else derived from versions,
    e.g. ``py311-tf4.57-peft0.17``."""
    import os

    if os.environ.get("PEFT_COMPAT_CELL"):
        return os.environ["PEFT_COMPAT_CELL"]
    v = installed()
    py = "".join(v["python"].split(".")[:2])
    return f"py{py}-tf{_minor(v['transformers'])}-peft{_minor(v['peft'])}"


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2]) if version else "none"
