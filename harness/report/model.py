"""Verdicts aggregated into what a report shows: targets, the version grid, failure signatures and flaky cases.

A *target* is one (cell, arch, task, method, property); every verdict of every drawn case for it adds to its counts.
The task is part of the key because an arch is tested once per task: a causal-LM llama that passes and a seq-cls
llama that fails are two targets, not one flaky one. A *case* (case_id) has more than one verdict when it was
re-run; a case whose verdicts disagree is flaky, and so is its target. Different cases of one target that end
differently are not flaky: those are inputs on which the target fails, and the target fails.
"""

from __future__ import annotations

import functools
import hashlib
import shlex
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from packaging.version import InvalidVersion, Version

from harness.expectations import Expectation, explaining
from harness.findings import reproduce, sources
from harness.findings.build import DISAGREE, Finding, Grouping
from harness.results import BAD_OUTCOMES, BadLine, ErrorInfo, Verdict

FLAKY = "flaky"
#: target statuses, most in need of attention first: a wrong answer before a crash, and a pass before the outcomes
#: that only say a combination was not exercised (a pass tells more)
STATUSES: tuple[str, ...] = ("fail", "crash", "timeout", FLAKY, "pass", "rejected", "unsupported", "skip")
#: a symbol per status, so that colour is not the only cue
SYMBOLS = {"fail": "✗", "crash": "!", "timeout": "◔", "flaky": "~", "pass": "✓", "rejected": "⊘",
           "unsupported": "–", "skip": "○"}
#: example cases kept per signature and failing case ids kept per target: the page stays small at any run size
EXAMPLES = 3
#: shown in the grid when a verdict does not say which version it ran on
UNKNOWN = "?"


class Key(NamedTuple):
    cell: str
    arch: str
    task: str
    method: str
    property: str


#: key part → its distinct values, sorted; and key part → value → its index there
Names = dict[str, list[str]]
Index = dict[str, dict[str, int]]


def key_names(keys: Iterable[Key]) -> tuple[Names, Index]:
    """Each key part's distinct values, sorted, and their positions: what the page's and the details file's index
    arrays point into."""
    names = {part: sorted({getattr(key, part) for key in keys}) for part in Key._fields}
    return names, {part: {value: i for i, value in enumerate(values)} for part, values in names.items()}


def health(status: str) -> str:
    """What a status means for a diff: "bad", "flaky", "good" (it passes) or "neutral" (nothing was exercised)."""
    if status in BAD_OUTCOMES:
        return "bad"
    if status == FLAKY:
        return "flaky"
    return "good" if status == "pass" else "neutral"


def worst(statuses: Iterable[str]) -> str:
    """The status among ``statuses`` that needs the most attention ("skip" for none)."""
    present = set(statuses)
    return next((s for s in STATUSES if s in present), "skip")


def repro(cell: str, case_id: str) -> str:
    """The command that replays one case in its cell, quoted for a POSIX shell."""
    return f"tox -e {shlex.quote(cell)} -- repro {shlex.quote(case_id)}"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters in the verdict file]"


def describe(bad: BadLine) -> str:
    """``file:line: problem``, or ``file: problem`` when the line is not known (line 0)."""
    return str(bad) if bad.line else f"{bad.path}: {bad.problem}"


def version_order(version: str) -> tuple[int, Version | str]:
    """Sort key: release order for PEP 440 versions, then anything else alphabetically."""
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


@dataclass(slots=True)
class TargetRow:
    """One (cell, arch, task, method, property), small enough to keep millions: counts, and cases only where they
    matter (a few failing ones, and the re-run ones)."""

    key: Key
    #: outcome → verdicts (first judgements: one per case)
    counts: Counter[str] = field(default_factory=Counter)
    #: signature → bad verdicts
    signatures: Counter[str] = field(default_factory=Counter)
    #: up to EXAMPLES case ids with a bad outcome, in the order first seen
    bad: list[str] = field(default_factory=list)
    #: case_id → outcome → verdicts, for each case that was re-run (its first judgement included)
    reruns: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        """Cases judged: each has one first judgement."""
        return sum(self.counts.values())

    @property
    def flaky_cases(self) -> dict[str, Counter[str]]:
        return {case: outcomes for case, outcomes in self.reruns.items() if len(outcomes) > 1}

    @property
    def status(self) -> str:
        return FLAKY if any(len(outcomes) > 1 for outcomes in self.reruns.values()) else worst(self.counts)

    def ranked_signatures(self) -> list[str]:
        """Its signatures, most bad verdicts first."""
        return [text for text, _ in self.signatures.most_common()] if self.signatures else []

    def example_case(self) -> str:
        """A case worth replaying: a flaky one, else a failing one ("" when it has neither)."""
        return next(iter([*self.flaky_cases, *self.bad]), "")


@dataclass
class Signature:
    """One failure, however many targets it hits: all bad verdicts that share a normalised signature."""

    text: str
    counts: Counter[str] = field(default_factory=Counter)
    targets: set[Key] = field(default_factory=set)
    #: up to EXAMPLES verdicts, each from another (cell, arch) where there is one
    examples: list[Verdict] = field(default_factory=list)
    #: expectation id → bad verdicts it explains (the first expectation that explains a verdict takes it)
    known: Counter[str] = field(default_factory=Counter)

    @property
    def anchor(self) -> str:
        return "sig-" + hashlib.sha1(self.text.encode()).hexdigest()[:10]

    @property
    def verdicts(self) -> int:
        return sum(self.counts.values())

    @property
    def error(self) -> ErrorInfo | None:
        return next((v.error for v in self.examples if v.error), None)

    @property
    def unexplained(self) -> int:
        """Bad verdicts no expectation explains: the ones that make a run exit 1."""
        return self.verdicts - sum(self.known.values())

    @property
    def standing(self) -> str:
        """"known" (an expectation explains every verdict), "partly known" (some) or "new" (none)."""
        if not self.known:
            return "new"
        return "partly known" if self.unexplained else "known"

    def spread(self, part: str) -> list[str]:
        """The distinct values of one key part ("cell", "arch", …) among the targets it hits, sorted."""
        return sorted({getattr(key, part) for key in self.targets})

    def add(self, verdict: Verdict, key: Key, explained_by: Expectation | None = None) -> None:
        self.counts[verdict.outcome] += 1
        self.targets.add(key)
        if explained_by is not None:
            self.known[explained_by.id] += 1
        seen = {(v.cell, v.arch) for v in self.examples}
        if len(self.examples) < EXAMPLES and (verdict.cell, verdict.arch) not in seen:
            self.examples.append(verdict)


@dataclass(frozen=True)
class Failures:
    """One (arch, task, method, property)'s failures over the cells where it fails or is flaky."""

    cells: list[str]
    #: most bad verdicts first
    signatures: list[str]
    #: (cell, case id) worth replaying: up to EXAMPLES, each from another cell
    cases: list[tuple[str, str]]
    flaky_cases: int


def signature_of(verdict: Verdict) -> str:
    """The verdict's signature, or one made from its outcome and error when the writer left it empty."""
    if verdict.signature:
        return verdict.signature
    if verdict.error:
        return f"{verdict.outcome}: {verdict.error.type} at {verdict.error.frame or 'unknown frame'}"
    return f"{verdict.outcome} without an error record"


@dataclass
class Report:
    inputs: list[str] = field(default_factory=list)
    unreadable: list[BadLine] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    targets: dict[Key, TargetRow] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)
    #: (transformers, peft) version → cell → outcome → verdicts
    squares: dict[tuple[str, str], dict[str, Counter[str]]] = field(default_factory=dict)
    #: known failures: a signature shows which of its verdicts they explain
    expectations: tuple[Expectation, ...] = ()
    #: (cell, case) pairs with a flake re-run
    reruns: set[tuple[str, str]] = field(default_factory=set)
    #: the findings the verdicts add up to (see harness.findings), and their scripts' verifications
    grouping: Grouping = field(default_factory=Grouping)
    reproductions: dict[str, dict[str, reproduce.Reproduction]] = field(default_factory=dict)

    @functools.cached_property
    def grouped(self) -> list[Finding]:
        """The findings of every verdict added (read once all are in), deprecation notices included."""
        return self.grouping.findings()

    @functools.cached_property
    def findings(self) -> list[Finding]:
        """The root causes of the bad verdicts (every finding but the deprecation notices)."""
        return [f for f in self.grouped if f.kind != "deprecation"]

    @functools.cached_property
    def notices(self) -> list[Finding]:
        """The deprecation notices raised through peft, as findings (the "breaks next" table)."""
        return [f for f in self.grouped if f.kind == "deprecation"]

    def expectation(self, ident: str) -> Expectation:
        return next(e for e in self.expectations if e.id == ident)

    def take(self, verdict: Verdict) -> None:
        """A verdict as files give them: the first of its (cell, case, property) is added, later ones are re-runs.
        Counts are so per unique (case, property), however many times a case was judged."""
        first = self.grouping.add(verdict)
        if first is None:
            self.add(verdict)
        else:
            self.add_rerun(verdict, first)

    def _target(self, verdict: Verdict) -> TargetRow:
        key = Key(verdict.cell, verdict.arch, verdict.task, verdict.method, verdict.property)
        return self.targets.get(key) or self.targets.setdefault(key, TargetRow(key))

    def add_rerun(self, verdict: Verdict, first: str) -> None:
        """A flake re-run of a case judged ``first`` before: it counts toward its case's outcomes (a disagreement
        makes the case flaky), nothing else."""
        target = self._target(verdict)
        if verdict.case_id not in target.reruns:  # its first re-run ("~": the unit's earlier re-runs disagreed)
            target.reruns[verdict.case_id] = Counter() if first == DISAGREE else Counter({first: 1})
        target.reruns[verdict.case_id][verdict.outcome] += 1
        self.reruns.add((verdict.cell, verdict.case_id))

    def add(self, verdict: Verdict) -> None:
        """A first judgement of a (case, property): every count and signature takes it."""
        target = self._target(verdict)
        outcome = verdict.outcome
        self.counts[outcome] += 1
        target.counts[outcome] += 1
        square = (verdict.versions.get("transformers") or UNKNOWN, verdict.versions.get("peft") or UNKNOWN)
        self.squares.setdefault(square, {}).setdefault(verdict.cell, Counter())[outcome] += 1
        if outcome in BAD_OUTCOMES:
            text = signature_of(verdict)
            target.signatures[text] += 1
            if len(target.bad) < EXAMPLES and verdict.case_id not in target.bad:
                target.bad.append(verdict.case_id)
            self.signatures.setdefault(text, Signature(text)).add(verdict, target.key,
                                                                  explaining(verdict, self.expectations))

    @property
    def verdicts(self) -> int:
        return sum(self.counts.values())

    @functools.cached_property
    def statuses(self) -> dict[Key, str]:
        """Each target's status (read once all verdicts are in: the diff, the page and compat.json share it)."""
        return {key: target.status for key, target in self.targets.items()}

    @functools.cached_property
    def failures(self) -> dict[tuple[str, str, str, str], Failures]:
        """(arch, task, method, property) → its failures, for each that fails or is flaky in some cell (read once
        all verdicts are in)."""
        bad: dict[tuple[str, str, str, str], list[TargetRow]] = {}
        for key, status in sorted(self.statuses.items()):
            if health(status) in ("bad", "flaky"):
                bad.setdefault(key[1:], []).append(self.targets[key])
        found = {}
        for row, targets in bad.items():
            signatures: Counter[str] = sum((t.signatures for t in targets), Counter())
            cases = [(t.key.cell, case) for t in targets if (case := t.example_case())]
            found[row] = Failures([t.key.cell for t in targets], [text for text, _ in signatures.most_common()],
                                  cases[:EXAMPLES], sum(len(t.flaky_cases) for t in targets))
        return found

    def ranked_signatures(self) -> list[Signature]:
        """Signatures hitting the most targets first (one bug in 40 archs outranks 40 verdicts of one)."""
        return sorted(self.signatures.values(), key=lambda s: (-len(s.targets), -s.verdicts, s.text))

    def rerun_cases(self) -> int:
        """How many cases the flake check re-ran, counted in (cell, case) pairs, not verdicts."""
        return len(self.reruns)

    @functools.cached_property
    def flaky_cases(self) -> list[tuple[Key, str, Counter[str]]]:
        """(target, case_id, outcome counts) of every case whose verdicts disagree (read once all are in; only the
        targets with a re-run are looked at)."""
        rerun = sorted(key for key, target in self.targets.items() if target.reruns)
        return [(key, case, outcomes) for key in rerun for case, outcomes in self.targets[key].flaky_cases.items()]

    def cell_squares(self) -> dict[str, tuple[str, str]]:
        """Each cell's (transformers, peft) versions: those of most of its verdicts (a cell re-run after an upgrade
        has more than one pair; ``squares`` keeps them apart)."""
        totals: dict[str, Counter[tuple[str, str]]] = {}
        for square, cells in self.squares.items():
            for cell, counts in cells.items():
                totals.setdefault(cell, Counter())[square] = sum(counts.values())
        return {cell: pairs.most_common(1)[0][0] for cell, pairs in sorted(totals.items())}

    def versions(self, package: int) -> list[str]:
        """The grid's transformers (0) or peft (1) versions, oldest first."""
        return sorted({square[package] for square in self.squares}, key=version_order)


def build(verdicts: Iterable[Verdict], expectations: Iterable[Expectation] = ()) -> Report:
    """The report of ``verdicts``, counted per unique (cell, case, property)."""
    expectations = tuple(expectations)
    report = Report(expectations=expectations, grouping=Grouping(expectations))
    for verdict in verdicts:
        report.take(verdict)
    return report


def read(paths: Iterable[str | Path], expectations: Iterable[Expectation] = ()) -> Report:
    """The report of verdict files (a directory stands for its ``*.jsonl``). Missing files and unreadable lines
    land in ``report.unreadable`` and everything else is still read."""
    expectations = tuple(expectations)
    report = Report(expectations=expectations, grouping=Grouping(expectations))
    files = []
    for file in sources.expand(paths, report.unreadable):  # lazily: problems are reported in the order met
        files.append(file)
        report.inputs.append(str(file))
        for verdict in sources.verdicts([file], report.unreadable):
            report.take(verdict)
    report.reproductions = reproduce.read(files)
    return report
