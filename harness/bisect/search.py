"""Release bisection: the first release in a range where a case's failure appears, or where it is gone.

``bisect(versions, probe)`` is pure: ``probe(version)`` says whether the failure shows at that release (in
``python -m harness bisect`` it runs the case in a venv holding that release). The first release is probed first;
its state (bad or good) gives the direction, and the search then looks for the first release whose state differs,
among the n - 1 later ones or "none": at most ⌈log2 n⌉ + 1 probes for n releases. The answer always rests on two
probed neighbours (the last release like the first and the first one unlike it), never on an assumption about the
end of the range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.version import Version

from harness.datafile import near
from harness.expectations import failure_text
from harness.matrix.releases import REFRESH_COMMAND, Releases
from harness.results import BAD_OUTCOMES, Verdict

AXES = ("transformers", "peft")


@dataclass(frozen=True)
class Probe:
    """What one release showed: ``bad`` when the failure looked for is there, with the verdicts as evidence."""

    version: str
    bad: bool
    verdicts: tuple[Verdict, ...] = ()


@dataclass(frozen=True)
class Bisection:
    versions: tuple[str, ...]
    #: in the order they ran
    probes: tuple[Probe, ...]
    #: index of the first release whose state differs from the first release's; None: the same throughout
    flip: int | None

    @property
    def fixing(self) -> bool:
        """Whether the search was for a fix: the first release of the range shows the failure."""
        return self.probes[0].bad

    def conclusion(self, package: str) -> str:
        first, last = self.versions[0], self.versions[-1]
        if self.flip is None:
            state = "fails" if self.fixing else "passes"
            return (f"no flip: the case {state} at every probed {package} release from {first} to {last} "
                    f"({len(self.probes)} probed)")
        before, after = self.versions[self.flip - 1], self.versions[self.flip]
        if self.fixing:
            return f"first fixed: {package} {after} (the failure shows in {before} and is gone in {after})"
        return f"first bad: {package} {after} (the case passes in {before} and fails in {after})"


def bisect(versions: Sequence[str], probe: Callable[[str], Probe]) -> Bisection:
    """Find the first of ``versions`` (oldest first) whose state differs from ``versions[0]``'s."""
    if len(versions) < 2:
        raise ValueError(f"need at least two releases to bisect, got {list(versions)}")
    probes = [probe(versions[0])]
    start = probes[0].bad
    # the answer lies in [lo, hi]; hi == len(versions) stands for "no release differs"
    lo, hi = 1, len(versions)
    while lo < hi:
        mid = (lo + hi) // 2
        probes.append(probe(versions[mid]))
        if probes[-1].bad != start:
            hi = mid
        else:
            lo = mid + 1
    return Bisection(tuple(versions), tuple(probes), lo if lo < len(versions) else None)


def shows_failure(verdicts: Sequence[Verdict], signature: str | None) -> bool:
    """Whether a fail/crash/timeout is among ``verdicts`` (with ``signature`` in its failure text, if given)."""
    return any(v.outcome in BAD_OUTCOMES and (signature is None or signature in failure_text(v)) for v in verdicts)


@dataclass(frozen=True)
class Plan:
    """Which package is bisected over which releases, and the version the other package is held at."""

    package: str
    versions: tuple[str, ...]
    held: dict[str, str]


def plan(specs: dict[str, str], releases: Releases) -> Plan:
    """From ``{"transformers": "4.45.2", "peft": "0.11.1..0.13.2"}``: exactly one axis is a range ``A..B`` of known
    releases (A older than B), the other one known release. Raises ValueError saying what to write instead."""
    ranged = [package for package in AXES if ".." in specs[package]]
    if len(ranged) != 1:
        raise ValueError("exactly one of --transformers and --peft must be a range A..B (the other is held at one "
                         f"version), got --transformers {specs['transformers']} --peft {specs['peft']}")
    package = ranged[0]
    first, _, last = specs[package].partition("..")
    for name, version in [(package, first), (package, last)] + [(p, specs[p]) for p in AXES if p != package]:
        if not releases.released(name, version):
            raise ValueError(f"{name} {version!r} is not a known release{near(version, releases.dates[name])}; if it "
                             f"is brand new, run `{REFRESH_COMMAND}`")
    if Version(first) >= Version(last):
        raise ValueError(f"--{package} {specs[package]}: a range goes from an older release to a newer one")
    versions = sorted((v for v in releases.dates[package] if Version(first) <= Version(v) <= Version(last)),
                      key=Version)
    return Plan(package, tuple(versions), {p: specs[p] for p in AXES if p != package})
