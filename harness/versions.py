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
