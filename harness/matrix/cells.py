"""The version matrix: the (python, transformers, peft) cells the harness runs in, and what each profile may spend.

``matrix.yaml`` (top level of the repository) is data; this module reads it and checks every entry on load against
the known releases (``harness/data/releases.yaml``), refusing a bad file with one error that names the file, the
entry and the fix. Every cell is a tox env (``toxfile.py``) and is listed by ``python -m harness matrix``.

Cells come in two kinds:

* a **pairing** ``py311-tf4.45``: one per transformers line, with the peft line given in ``pairings``. The rule: the
  newest peft line whose first release was out on the day the transformers pin was released, installed at that
  line's newest patch (no peft release 0.11-0.21 bounds transformers in its requirements, so the dates decide). A
  pairing that breaks the rule must say why (``{peft: "0.19", reason: "..."}``).
* a **cross** ``py311-tf4.45-peft0.11``: the nightly product of ``crosses.transformers`` x ``crosses.peft`` minus
  ``exclusions``. A cross equal to a pairing is that pairing (its long name is an alias of it).
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from packaging.version import InvalidVersion, Version

from harness.datafile import DataFileError, Reader, load_yaml, near
from harness.matrix.releases import REFRESH_COMMAND, Releases, line_of, load_releases

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "matrix.yaml"
PROFILE_NAMES = ("smoke", "default", "nightly")
Kind = Literal["pairing", "cross"]
T = TypeVar("T")


@dataclass(frozen=True)
class Cell:
    """One environment of the matrix; ``name`` is its tox env name and its ``$PEFT_COMPAT_CELL``."""

    name: str
    python: str
    torch: str
    transformers: str
    peft: str
    kind: Kind
    #: why this peft goes with this transformers
    reason: str
    #: cross names that fall on this pairing (``py311-tf5.23-peft0.21``): they run this cell
    aliases: tuple[str, ...] = ()

    def requirements(self) -> tuple[str, ...]:
        return f"torch=={self.torch}", f"transformers=={self.transformers}", f"peft=={self.peft}"


@dataclass(frozen=True)
class Profile:
    """A run budget: examples per (arch, method) target, the per-case time limit, shrinking, and a target cap."""

    name: str
    max_examples: int
    case_timeout_s: float
    shrink: bool
    #: at most this many targets (None: all), chosen by ``pick``
    max_targets: int | None

    def pick(self, targets: Sequence[T], key: Callable[[T], str] = str, group: Callable[[T], str] = lambda _: "",
             features: Callable[[T], frozenset[str]] | None = None) -> list[T]:
        """At most ``max_targets`` of ``targets``, in their order (see ``choose``)."""
        return [targets[i] for i in sorted(self.choose(targets, key, group, features))]

    def choose(self, targets: Sequence[T], key: Callable[[T], str] = str, group: Callable[[T], str] = lambda _: "",
               features: Callable[[T], frozenset[str]] | None = None) -> dict[int, str]:
        """The indices of at most ``max_targets`` of ``targets``, each with why it was picked; the same choice on
        every run and machine. First every feature (``features``: code paths, see ``harness.archs.paths``) is
        covered: greedily, the target that covers most features not yet covered, ties to the group picked least so
        far, then to the hash of the key. Then the rest are taken round-robin from their groups (e.g. one per
        (task, method)), each group in the order of a hash of the targets' keys, so a cap spreads over every group
        instead of the head of the list."""
        if self.max_targets is None or len(targets) <= self.max_targets:
            return dict.fromkeys(range(len(targets)), "every target")
        rank = {i: hashlib.sha256(key(t).encode()).hexdigest() for i, t in enumerate(targets)}
        chosen: dict[int, str] = {}
        if features is not None:
            chosen = self._cover(targets, group, [features(t) for t in targets], rank)
        groups: dict[str, list[int]] = {}
        for i, target in enumerate(targets):
            groups.setdefault(group(target), []).append(i)
        for members in groups.values():
            members.sort(key=rank.__getitem__)
        rounds = itertools.zip_longest(*(groups[g] for g in sorted(groups)))
        fill = [i for batch in rounds for i in batch if i is not None and i not in chosen]
        chosen.update((i, "by hash") for i in fill[: self.max_targets - len(chosen)])
        return chosen

    def _cover(self, targets: Sequence[T], group: Callable[[T], str], found: list[frozenset[str]],
               rank: Mapping[int, str]) -> dict[int, str]:
        assert self.max_targets is not None
        uncovered = set().union(*found)
        picks: dict[str, int] = {}
        chosen: dict[int, str] = {}
        order = sorted(range(len(targets)), key=rank.__getitem__)
        while uncovered and len(chosen) < self.max_targets:
            best = max(order, key=lambda i: (len(found[i] & uncovered), -picks.get(group(targets[i]), 0)))
            gain = found[best] & uncovered
            if not gain:
                break
            chosen[best] = "covers " + ", ".join(sorted(gain))
            uncovered -= gain
            picks[group(targets[best])] = picks.get(group(targets[best]), 0) + 1
        return chosen


@dataclass(frozen=True)
class JobBudget:
    """What one CI job may spend (``matrix.yaml`` ``jobs``), and the default costs ``harness.matrix.jobplan`` plans
    with when no earlier verdicts say better."""

    #: a job's wall-clock limit, set-up included (the workflow's timeout; GitHub stops a job at 360)
    minutes: float
    #: what a job spends besides cases: venv, caches, the run's imports, the upload
    setup_minutes: float
    #: workers per runner (`run -j`)
    cores: int
    #: jobs at most in one workflow's matrix (GitHub: 256)
    max_jobs: int
    #: targets in a cell when no verdict file says (a profile's max_targets caps it)
    targets: int
    #: profile name -> worker-seconds per target when no verdict file says
    target_seconds: Mapping[str, float]
    #: worker time per case over its verdicts' duration_s (drawing, hypothesis, events: measured by harness bench)
    harness_factor: float

    @property
    def case_seconds(self) -> float:
        """Worker-seconds one job has for cases."""
        return (self.minutes - self.setup_minutes) * 60 * self.cores


@dataclass(frozen=True)
class Matrix:
    path: Path
    torch: str
    #: where the torch wheel comes from, for people (README, "Where torch comes from")
    torch_source: str
    #: package ("transformers", "peft") → release line → exact pin
    axes: Mapping[str, Mapping[str, str]]
    cells: tuple[Cell, ...]
    profiles: Mapping[str, Profile]
    #: crosses left out by ``exclusions``: name → the reason
    excluded: Mapping[str, str]
    jobs: JobBudget

    @property
    def pairings(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.kind == "pairing")

    @property
    def crosses(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.kind == "cross")

    @property
    def names(self) -> list[str]:
        """Every name a cell answers to: its own and its aliases, excluded crosses too (their import verdicts)."""
        return [n for c in self.cells for n in (c.name, *c.aliases)] + list(self.excluded)

    def cell(self, name: str) -> Cell:
        """The cell called ``name`` (or one of its aliases); a clear error lists near matches."""
        for cell in self.cells:
            if name == cell.name or name in cell.aliases:
                return cell
        names = [n for c in self.cells for n in (c.name, *c.aliases)]
        raise LookupError(f"{self.path}: no cell {name!r}{near(name, names)}; `python -m harness matrix --nightly` "
                       "lists them all")

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            raise LookupError(f"{self.path}: no profile {name!r}{near(name, self.profiles)}; the profiles are "
                           f"{', '.join(self.profiles)}") from None


def cell_name(python: str, transformers_line: str, peft_line: str | None = None) -> str:
    """``py311-tf4.45`` for a pairing, ``py311-tf4.45-peft0.11`` for a cross."""
    name = f"py{python.replace('.', '')}-tf{transformers_line}"
    return f"{name}-peft{peft_line}" if peft_line else name


def updates(matrix: Matrix, releases: Releases) -> list[str]:
    """What the known releases say matrix.yaml lacks: a pin that is not its line's newest patch, and a line newer
    than the axis's oldest that the axis does not list."""
    found = []
    for package, axis in matrix.axes.items():
        oldest = min((Version(line) for line in axis), default=None)
        for line in releases.lines(package):
            newest = releases.of_line(package, line)[-1]
            if line in axis and axis[line] != newest:
                found.append(f"{package} {line}: pinned {axis[line]}, the newest patch is {newest}")
            elif line not in axis and oldest is not None and Version(line) > oldest:
                found.append(f"{package} {line} (out {releases.first_day(package, line)}) is not in {matrix.path.name}")
    return found


def load_matrix(path: str | os.PathLike[str] | None = None, releases: Releases | None = None) -> Matrix:
    """Read and check ``matrix.yaml`` (default: the repository's); raises DataFileError on the first bad entry."""
    path = Path(path or DEFAULT_PATH)
    return _Parser(Reader(path), releases or load_releases()).parse(load_yaml(path))


class _Parser:
    def __init__(self, reader: Reader, releases: Releases) -> None:
        self.r, self.releases = reader, releases

    def parse(self, raw: Any) -> Matrix:
        top = self.r.mapping(raw, "", required=("python", "torch", "transformers", "peft", "pairings", "crosses",
                                                 "profiles", "jobs"), optional=("exclusions",))
        pythons = self.r.strings(top["python"], "python")
        for i, py in enumerate(pythons):
            if not _is_version(py) or py.count(".") != 1:
                raise self.r.error(f"python[{i}]", f"expected a Python minor version like \"3.11\", got {py!r}")
        torch = self.r.mapping(top["torch"], "torch", required=("pin", "source"))
        torch_pin = self._exact(torch["pin"], "torch.pin")
        tf = self._axis(top["transformers"], "transformers")
        peft = self._axis(top["peft"], "peft")
        paired = self._pairings(top["pairings"], tf, peft)
        crossed, aliased, excluded = self._crosses(top["crosses"], top.get("exclusions", []), tf, peft, paired)
        cells = [
            Cell(cell_name(py, tl), py, torch_pin, tf[tl], peft[pl], "pairing", why,
                 (cell_name(py, tl, pl),) if (tl, pl) in aliased else ())
            for py in pythons
            for (tl, pl), why in paired.items()
        ] + [
            Cell(cell_name(py, tl, pl), py, torch_pin, tf[tl], peft[pl], "cross", why)
            for py in pythons
            for (tl, pl), why in crossed.items()
        ]
        profiles = self._profiles(top["profiles"])
        return Matrix(self.r.path, torch_pin, self.r.string(torch["source"], "torch.source"),
                      {"transformers": tf, "peft": peft}, tuple(cells), profiles,
                      {cell_name(py, tl, pl): why for py in pythons for (tl, pl), why in excluded.items()},
                      self._jobs(top["jobs"], profiles))

    def _exact(self, value: Any, where: str) -> str:
        pin = self.r.string(value, where)
        if not _is_version(pin):
            raise self.r.error(where, f"{pin!r} is not an exact version", "write a release such as \"2.13.0\"")
        return pin

    def _axis(self, value: Any, package: str) -> dict[str, str]:
        """line → exact pin, each pin a known release of its line."""
        entries = self.r.mapping(value, package)
        if not entries:
            raise self.r.error(package, "lists no release line", "add at least one")
        axis = {}
        for line, pin in entries.items():
            where = f"{package}[{line!r}]"
            pin = self._exact(pin, where)
            if line_of(pin) != line:
                raise self.r.error(where, f"pin {pin} is not a release of line {line}",
                                   f"write a {line}.x release or key it \"{line_of(pin)}\"")
            if not self.releases.released(package, pin):
                known = ", ".join(self.releases.of_line(package, line)) or "none"
                raise self.r.error(where, f"{package} {pin} was never released (known {line} releases: {known})",
                                   f"pick a released version; if it is brand new, run `{REFRESH_COMMAND}`")
            axis[line] = pin
        return axis

    def _pairings(self, value: Any, tf: dict[str, str], peft: dict[str, str]) -> dict[tuple[str, str], str]:
        entries = self.r.mapping(value, "pairings")
        for line in tf:
            if line not in entries:
                raise self.r.error("pairings", f"transformers line {line!r} has no pairing",
                                   f"add \"{line}\": \"{self._rule(tf[line], peft) or 'X.Y'}\"")
        paired = {}
        for line, entry in entries.items():
            where = f"pairings[{line!r}]"
            if line not in tf:
                raise self.r.error(where, f"{line!r} is not a transformers line of this matrix{near(line, tf)}",
                                   "add it to `transformers` or remove this pairing")
            override = isinstance(entry, Mapping)
            if override:
                entry = self.r.mapping(entry, where, required=("peft", "reason"))
            peft_line = self.r.string(entry["peft"] if override else entry, f"{where}.peft" if override else where)
            if peft_line not in peft:
                raise self.r.error(where, f"peft line {peft_line!r} is not in the peft axis{near(peft_line, peft)}",
                                   f"use one of {', '.join(peft)}")
            expected = self._rule(tf[line], peft)
            came_out = f"transformers {tf[line]} came out {self.releases.released_on('transformers', tf[line])}"
            if override:
                if peft_line == expected:
                    raise self.r.error(where, f"the reason restates the pairing rule (peft {expected})",
                                       f"write just \"{expected}\"")
                paired[(line, peft_line)] = self.r.string(entry["reason"], f"{where}.reason")
            elif peft_line != expected:
                raise self.r.error(
                    where,
                    f"peft {peft_line} breaks the pairing rule, which gives {expected or 'no peft line'} "
                    f"({came_out})",
                    f"write \"{expected}\", or keep {peft_line} as {{peft: \"{peft_line}\", reason: \"why\"}}",
                )
            else:
                paired[(line, peft_line)] = (
                    f"peft {peft_line} (out {self.releases.first_day('peft', peft_line)}) was the newest peft line "
                    f"when {came_out}"
                )
        return paired

    def _rule(self, tf_pin: str, peft: dict[str, str]) -> str | None:
        """The newest peft line of the axis whose first release was out on the day ``tf_pin`` was released."""
        day = self.releases.released_on("transformers", tf_pin)
        out = [line for line in peft if self.releases.first_day("peft", line) <= day]
        return max(out, key=Version) if out else None

    def _crosses(
        self,
        value: Any,
        exclusions: Any,
        tf: dict[str, str],
        peft: dict[str, str],
        paired: Mapping[tuple[str, str], str],
    ) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]], dict[tuple[str, str], str]]:
        """The crosses (line pair → reason), the pairs of the product that are pairings (their aliases), and the
        excluded pairs (→ the exclusion's reason)."""
        spec = self.r.mapping(value, "crosses", required=("transformers", "peft"))
        lines = {axis: self._select(spec[axis], f"crosses.{axis}", axes) for axis, axes in
                 (("transformers", tf), ("peft", peft))}
        every = [(t, p) for t in lines["transformers"] for p in lines["peft"]]
        product = [pair for pair in every if pair not in paired]
        if not isinstance(exclusions, list):
            raise self.r.error("exclusions", f"expected a list, got {exclusions!r}")
        excluded: dict[tuple[str, str], str] = {}
        for i, raw in enumerate(exclusions):
            where = f"exclusions[{i}]"
            entry = self.r.mapping(raw, where, required=("transformers", "peft", "reason"))
            reason = self.r.string(entry["reason"], f"{where}.reason")
            tf_patterns = self.r.strings(entry["transformers"], f"{where}.transformers")
            peft_patterns = self.r.strings(entry["peft"], f"{where}.peft")
            hit = {(t, p) for t, p in product if _matches(t, tf_patterns) and _matches(p, peft_patterns)}
            if not hit:
                raise self.r.error(where, f"excludes no cross ({reason[:60]})", "fix its patterns or remove it")
            product = [pair for pair in product if pair not in hit]
            excluded.update(dict.fromkeys(hit, reason))
        crosses = dict.fromkeys(product, "nightly, from crosses.transformers x crosses.peft")
        return crosses, {pair for pair in every if pair in paired}, excluded

    def _select(self, value: Any, where: str, axis: Mapping[str, str]) -> list[str]:
        """The axis lines the fnmatch patterns pick, in axis order; a pattern that picks nothing is an error."""
        patterns = self.r.strings(value, where)
        for i, pattern in enumerate(patterns):
            if not any(_matches(line, [pattern]) for line in axis):
                raise self.r.error(f"{where}[{i}]", f"{pattern!r} matches no line{near(pattern, axis)}",
                                   f"the lines are {', '.join(axis)}")
        return [line for line in axis if _matches(line, patterns)]

    def _profiles(self, value: Any) -> dict[str, Profile]:
        entries = self.r.mapping(value, "profiles")
        for name in PROFILE_NAMES:
            if name not in entries:
                raise self.r.error("profiles", f"missing profile {name!r}", f"define {', '.join(PROFILE_NAMES)}")
        profiles = {}
        for name, raw in entries.items():
            where = f"profiles.{name}"
            entry = self.r.mapping(raw, where, required=("max_examples", "case_timeout_s", "shrink", "max_targets"))
            cap = entry["max_targets"]
            profiles[name] = Profile(
                name,
                self.r.integer(entry["max_examples"], f"{where}.max_examples", minimum=1),
                self.r.number(entry["case_timeout_s"], f"{where}.case_timeout_s"),
                self.r.boolean(entry["shrink"], f"{where}.shrink"),
                None if cap is None else self.r.integer(cap, f"{where}.max_targets", minimum=1),
            )
        return profiles


    def _jobs(self, value: Any, profiles: Mapping[str, Profile]) -> JobBudget:
        keys = ("minutes", "setup_minutes", "cores", "max_jobs", "targets", "target_seconds", "harness_factor")
        entry = self.r.mapping(value, "jobs", required=keys)
        seconds = self.r.mapping(entry["target_seconds"], "jobs.target_seconds", required=tuple(profiles))
        minutes = self.r.number(entry["minutes"], "jobs.minutes")
        setup = self.r.number(entry["setup_minutes"], "jobs.setup_minutes")
        if not 0 <= setup < minutes <= 360:
            raise self.r.error("jobs", f"need 0 <= setup_minutes ({setup}) < minutes ({minutes}) <= 360",
                               "GitHub stops a job at 360 minutes; leave room for the cases")
        return JobBudget(
            minutes, setup, self.r.integer(entry["cores"], "jobs.cores", minimum=1),
            self.r.integer(entry["max_jobs"], "jobs.max_jobs", minimum=1),
            self.r.integer(entry["targets"], "jobs.targets", minimum=1),
            {name: self.r.number(seconds[name], f"jobs.target_seconds.{name}") for name in profiles},
            self.r.number(entry["harness_factor"], "jobs.harness_factor"),
        )


def _is_version(text: str) -> bool:
    try:
        return str(Version(text)) == text and not Version(text).is_prerelease
    except InvalidVersion:
        return False


def _matches(line: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(line, p) for p in patterns)



__all__ = ["Cell", "DataFileError", "JobBudget", "Matrix", "Profile", "cell_name", "load_matrix"]
