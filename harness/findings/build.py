"""Bad verdicts of many cells grouped into findings (see :mod:`harness.findings.identity` for what is one).

The unit of counting is one (cell, case, property): re-runs of it (``repetition > 0``) are not counted again, and
a unit whose verdicts disagree is flaky. A finding whose every unit is flaky is of kind *flaky*. A deprecation
notice raised with peft on the stack is a finding of kind *deprecation*, whatever the verdict's outcome: not a
failure, but a forecast with a version range of its own. Everything here is independent of the order the verdicts
come in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from typing import Any, Literal

from harness.expectations import Expectation, explaining
from harness.findings.identity import Identity, identify, notice_identity
from harness.findings.ranges import Range, version_range
from harness.results import BAD_OUTCOMES, OUTCOMES, Deprecation, Verdict

Kind = Literal["regression", "long-standing", "fixed", "flaky", "harness gap", "deprecation"]
#: every listing is ordered by kind: what needs a maintainer first
KINDS: tuple[Kind, ...] = ("regression", "long-standing", "fixed", "flaky", "harness gap", "deprecation")
#: kinds that claim no wrong behaviour of the pair, so no script can reproduce one
UNSCRIPTED: tuple[Kind, ...] = ("harness gap", "deprecation")
#: what each kind means, for listings and the report
MEANINGS: dict[str, str] = {
    "regression": "an older transformers or peft passes the same targets",
    "long-standing": "it fails in every cell that ran its targets",
    "fixed": "a newer transformers or peft passes the same targets",
    "flaky": "every case that showed it ended differently when judged again",
    "harness gap": "the harness's own set-up or comparison code failed; not a failure of the pair",
    "deprecation": "peft calls an API its libraries announce they will remove; not a failure, what breaks next",
}
#: (cell, case id, property): one judgement, however often it was re-run
Unit = tuple[str, str, str]
#: (arch, task, method, property): what a finding is shown on, in any cell
TargetKey = tuple[str, str, str, str]
#: a unit whose judgements disagree (``Judgements``)
DISAGREE = "~"
#: in ``Judgements``: a property not judged for a case, and the character of OUTCOMES[0] (the others follow)
_UNJUDGED, _FIRST = " ", ord("a")


@dataclass
class Finding:
    identity: Identity
    #: cell → the versions it ran
    cells_bad: dict[str, dict[str, str]] = field(default_factory=dict)
    cells_good: dict[str, dict[str, str]] = field(default_factory=dict)
    targets: set[TargetKey] = field(default_factory=set)
    units: set[Unit] = field(default_factory=set)
    flaky_units: set[Unit] = field(default_factory=set)
    outcomes: Counter[str] = field(default_factory=Counter)
    #: expectation id → units it explains
    known: Counter[str] = field(default_factory=Counter)
    #: the smallest case that shows it (fewest model parameters, then the shortest call)
    example: Verdict | None = None
    range: Range = field(default_factory=lambda: version_range({}, {}))
    kind: Kind = "long-standing"
    #: the notice itself, for a deprecation finding (the least of its sightings: frame, message, category, removal)
    notice: Deprecation | None = None

    @property
    def id(self) -> str:
        return self.identity.id

    @property
    def text(self) -> str:
        return self.identity.text

    @property
    def standing(self) -> str:
        """"known" (expectations explain every unit), "partly known" or "new"."""
        explained = sum(self.known.values())
        return "new" if not explained else "known" if explained >= len(self.units) else "partly known"

    def spread(self, part: int) -> list[str]:
        """The distinct archs (0), tasks (1), methods (2) or properties (3) of its targets, sorted."""
        return sorted({target[part] for target in self.targets})

    def reach(self) -> str:
        return (f"{len(self.targets)} target(s), {len(self.spread(0))} arch(s), {len(self.spread(3))} "
                f"propert{'y' if len(self.spread(3)) == 1 else 'ies'}, {len(self.cells_bad)} cell(s)")


def example_size(verdict: Verdict) -> tuple[int, int, str]:
    """Sort key of a case: its model's size fields, then its call's length and features, then its id."""
    case: dict[str, Any] = verdict.case
    arch = case.get("arch", {}) if isinstance(case.get("arch"), dict) else {}
    size = _size_fields(arch.get("overrides", {}))
    call = case.get("call", {}) if isinstance(case.get("call"), dict) else {}
    generate = call.get("generate", {}) if isinstance(call.get("generate"), dict) else {}
    features = sum(1 for k, v in call.items() if v not in (None, False, "absent", 0) and k not in ("generate", "seed"))
    length = int(call.get("batch", 1) or 1) * int(call.get("length", 1) or 1) + int(generate.get("max_new_tokens", 0))
    return size, features + length, verdict.case_id


def _size_fields(value: Any, name: str = "") -> int:
    """The sum of a config's integer fields (sub-configs included), token ids left out: a proxy of its size."""
    if isinstance(value, dict):
        return sum(_size_fields(v, k) for k, v in value.items())
    if isinstance(value, list):
        return sum(_size_fields(v, name) for v in value)
    return value if type(value) is int and not name.endswith(("_id", "_ids")) else 0


class Judgements:
    """The outcome of every (cell, case, property) judged, its re-runs folded in (``"~"`` once they disagree). Kept
    per case as one character per property, a few bytes per verdict: a whole nightly has tens of millions."""

    def __init__(self) -> None:
        self._properties: dict[str, int] = {}
        self._cases: dict[tuple[str, str], str] = {}

    def get(self, unit: Unit) -> str | None:
        """The unit's outcome so far (``"~"``: its judgements disagree), None if it was never judged."""
        index = self._properties.get(unit[2])
        codes = self._cases.get(unit[:2], "")
        char = codes[index] if index is not None and index < len(codes) else _UNJUDGED
        return None if char == _UNJUDGED else DISAGREE if char == DISAGREE else OUTCOMES[ord(char) - _FIRST]

    def record(self, unit: Unit, outcome: str) -> str | None:
        """One more judgement of ``unit``; what ``get`` said of it before (None: this is its first)."""
        seen = self.get(unit)
        char = chr(_FIRST + OUTCOMES.index(outcome)) if seen in (None, outcome) else DISAGREE
        index = self._properties.setdefault(unit[2], len(self._properties))
        codes = self._cases.get(unit[:2], "").ljust(index + 1, _UNJUDGED)
        self._cases[unit[:2]] = codes[:index] + char + codes[index + 1:]
        return seen


class Grouping:
    """Findings built verdict by verdict (``add``), so a reader can stream any number of them; ``findings()``
    finishes the cells, ranges and kinds."""

    def __init__(self, expectations: Iterable[Expectation] = ()) -> None:
        self.expectations = list(expectations)
        self._judgements = Judgements()
        #: target → the cells it passes in, as a bit mask over ``self.cells``
        self.passed: dict[TargetKey, int] = {}
        self.cells: dict[str, int] = {}
        self.versions: dict[str, Counter[tuple[tuple[str, str], ...]]] = {}
        self.found: dict[str, Finding] = {}

    def add(self, verdict: Verdict) -> str | None:
        """Count ``verdict`` in; its unit's outcome before it (None: the verdict is the unit's first judgement, else
        a re-run)."""
        unit = (verdict.cell, verdict.case_id, verdict.property)
        before = self._judgements.record(unit, verdict.outcome)
        target = (verdict.arch, verdict.task, verdict.method, verdict.property)
        self.versions.setdefault(verdict.cell, Counter())[tuple(sorted(verdict.versions.items()))] += 1
        if verdict.outcome == "pass":
            bit = 1 << self.cells.setdefault(verdict.cell, len(self.cells))
            self.passed[target] = self.passed.get(target, 0) | bit
        for notice in verdict.deprecations:
            finding, _ = self._count(notice_identity(notice), verdict, unit, target, outcome=False)
            # the same masked message may read differently per verdict: keep one whatever the order they came in
            finding.notice = min(filter(None, (finding.notice, notice)), key=astuple)
        if verdict.outcome in BAD_OUTCOMES:
            finding, first = self._count(identify(verdict), verdict, unit, target)
            if first and (known := explaining(verdict, self.expectations)) is not None:
                finding.known[known.id] += 1
        return before

    def _count(self, identity: Identity, verdict: Verdict, unit: Unit, target: TargetKey,
               outcome: bool = True) -> tuple[Finding, bool]:
        """The finding of ``identity`` with ``verdict`` counted in it, and whether its unit is new to it (a unit is
        counted once, however often it was re-run; ``outcome``: count its bad outcome too, which a notice has
        not)."""
        finding = self.found.get(identity.key) or self.found.setdefault(identity.key, Finding(identity))
        finding.targets.add(target)
        first = unit not in finding.units
        if first:
            finding.units.add(unit)
        if first and outcome:
            finding.outcomes[verdict.outcome] += 1
        finding.cells_bad.setdefault(verdict.cell, {})
        smaller = finding.example is None or example_size(verdict) < example_size(finding.example)
        if "arch" in verdict.case and smaller:
            finding.example = verdict
        return finding, first

    def findings(self) -> list[Finding]:
        """The findings so far, ordered by kind, then by how many targets they reach, then by id."""
        cell_versions = {cell: dict(max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0])
                         for cell, counts in self.versions.items()}
        for finding in self.found.values():
            finding.flaky_units = {u for u in finding.units if self._judgements.get(u) == DISAGREE}
            finding.cells_bad = {cell: cell_versions[cell] for cell in sorted(finding.cells_bad)}
            mask = 0
            for target in finding.targets:
                mask |= self.passed.get(target, 0)
            good = {cell for cell, bit in self.cells.items() if mask >> bit & 1} - set(finding.cells_bad)
            finding.cells_good = {cell: cell_versions[cell] for cell in sorted(good)}
            finding.range = version_range(finding.cells_bad, finding.cells_good)
            finding.kind = kind_of(finding)
        return sorted(self.found.values(), key=lambda f: (KINDS.index(f.kind), -len(f.targets), f.id))


def group(verdicts: Iterable[Verdict], expectations: Iterable[Expectation] = ()) -> list[Finding]:
    """The findings of ``verdicts`` (see :class:`Grouping`)."""
    grouping = Grouping(expectations)
    for verdict in verdicts:
        grouping.add(verdict)
    return grouping.findings()


def kind_of(finding: Finding) -> Kind:
    """Deprecation, harness gap and flaky first (they say the pair is not to blame), then what the good cells
    say."""
    if finding.identity.origin == "notice":
        return "deprecation"
    if finding.identity.origin == "harness":
        return "harness gap"
    if finding.units and finding.flaky_units == finding.units:
        return "flaky"
    if not finding.cells_good:
        return "long-standing"
    if finding.range.exact and finding.range.upper_decided:
        return "fixed"
    # a lower bound, or good and bad cells interleaved: something older passes where it fails now
    return "regression"
