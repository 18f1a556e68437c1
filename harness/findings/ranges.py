"""Version ranges from the cells that ran: per package, the PEP 440 specifier as narrow as the cells allow.

The bad versions of a package span [oldest bad, newest bad]. A bound is decided only by a good cell beyond it: the
nearest good version above gives ``<0.13`` (the good cell's release line, when it is a later line than the newest
bad one) or ``<4.45.2`` (the same line), and the nearest one below gives ``>=4.48`` or ``>4.48.1``. A package
without a decided bound is "not run". The range is *exact* when the specifiers together contain every bad cell
and no good one; a grid such as bad 0.11, good 0.12, bad 0.13 has no such range, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

#: the packages a range speaks about (those an expectation may narrow, harness.expectations.VERSIONED)
PACKAGES = ("transformers", "peft", "torch")
NOT_RUN = "not run"
#: cell → package → version
Cells = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Range:
    #: package → (lower bound, upper bound), each a specifier clause or "" when no cell decides it
    bounds: Mapping[str, tuple[str, str]]
    #: the specifiers contain exactly the bad cells among the cells that ran
    exact: bool

    def specifiers(self) -> dict[str, str]:
        """package → specifier (``"<0.13"``, ``">=4.48,<4.50"``) or "not run"."""
        return {p: ",".join(filter(None, bounds)) or NOT_RUN for p, bounds in self.bounds.items()}

    @property
    def lower_decided(self) -> bool:
        return any(lower for lower, _ in self.bounds.values())

    @property
    def upper_decided(self) -> bool:
        return any(upper for _, upper in self.bounds.values())

    def contains(self, versions: Mapping[str, str]) -> bool:
        """Whether a cell with these versions lies inside every decided bound."""
        for package, bounds in self.bounds.items():
            spec = SpecifierSet(",".join(filter(None, bounds)))
            version = _version(versions.get(package, ""))
            if str(spec) and (version is None or not spec.contains(version, prereleases=True)):
                return False
        return True

    def text(self) -> str:
        """``peft<0.13`` style, decided packages only, or a sentence when nothing or not everything is decided."""
        decided = [f"{p}{s}" for p, s in self.specifiers().items() if s != NOT_RUN]
        if not self.exact:
            return "no version range: " + ("good and bad cells interleave" + (f" ({', '.join(decided)} at best)"
                                                                               if decided else ""))
        return ", ".join(decided) or NOT_RUN


def version_range(bad: Cells, good: Cells) -> Range:
    """The range of a finding shown in the ``bad`` cells and passed in the ``good`` ones."""
    bounds = {package: _bounds(_versions(bad, package), _versions(good, package)) for package in PACKAGES}
    draft = Range(bounds, exact=True)
    exact = all(draft.contains(v) for v in bad.values()) and not any(draft.contains(v) for v in good.values())
    return Range(bounds, exact)


def _versions(cells: Cells, package: str) -> list[Version]:
    found = (_version(v.get(package, "")) for v in cells.values())
    return sorted({v for v in found if v is not None})


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _line(version: Version) -> Version:
    return Version(".".join(str(part) for part in (version.release + (0,))[:2]))


def _bounds(bad: list[Version], good: list[Version]) -> tuple[str, str]:
    if not bad:
        return "", ""
    oldest, newest = bad[0], bad[-1]
    below = [g for g in good if g < oldest]
    above = [g for g in good if g > newest]
    lower = upper = ""
    if below:
        nearest = below[-1]
        lower = f">={_line(oldest)}" if _line(nearest) < _line(oldest) else f">{nearest}"
    if above:
        nearest = above[0]
        upper = f"<{_line(nearest)}" if _line(nearest) > _line(newest) else f"<{nearest}"
    return lower, upper
