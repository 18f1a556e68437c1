"""Judging verdict files: their contents decide the summary and the exit status, whoever appended to them.

A file is counted per unique (cell, case, property) (``results.ledger``): flake re-runs are counted as re-runs of
their cases, and a (case, property) whose re-runs disagree is flaky. Bad verdicts add up to findings
(``harness.findings``). The status is 1 when a finding fails the run (by default: a new one, no expectation
explains it; never a harness gap, a flake or a deprecation notice), an expectation is stale, or a line of a file
cannot be read (a file that is not whole cannot pass); else 0.
"""

from __future__ import annotations

import os
import shlex
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.expectations import Expectation, Judgement, judge, load_expectations
from harness.findings.build import KINDS, Finding, Grouping
from harness.findings.gate import FailOn, failing
from harness.findings.summary import lines_of
from harness.matrix.cells import load_matrix
from harness.results import BadLine, Ledger, Verdict, VerdictReader, ledger


#: expectations.yaml read and checked against the cells the judged files hold
ExpectationLoader = Callable[[set[str]], list[Expectation]]


def expectations_for(path: Path | None) -> ExpectationLoader:
    """A loader of ``path`` (default expectations.yaml) whose cell patterns must match a cell of the matrix or one
    of the judged cells: a misspelled pattern is an error, not an entry that silently matches nothing."""
    matrix_cells = load_matrix().names
    return lambda cells: load_expectations(path, cells=[*matrix_cells, *sorted(cells)])


@dataclass(frozen=True)
class FileJudgement:
    files: tuple[str, ...]
    ledger: Ledger
    judgement: Judgement
    unreadable: tuple[BadLine, ...]
    #: the root causes the bad verdicts add up to (``harness.findings``), re-runs included (for flakiness)
    findings: tuple[Finding, ...]
    #: the findings that fail the run (``findings.gate``: by default every new one; never a harness gap or a flake)
    failing: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        return 1 if self.unreadable or self.failing or self.judgement.stale else 0


def judge_files(paths: Sequence[str | os.PathLike[str]], expectations: ExpectationLoader, fail_on: FailOn = "new",
                baseline: Collection[str] | None = None) -> FileJudgement:
    """The judgement of everything ``paths`` hold, against ``expectations(cells)`` (given the cells the files hold,
    so that a cell pattern can be checked against them); a missing file is an unreadable input, not an exception.
    ``fail_on`` and ``baseline`` (finding ids of an earlier run) choose the findings that fail it."""
    return Judging(paths, expectations, fail_on, baseline).judge()


class Judging:
    """Verdict files judged as they grow: each ``judge`` reads only what the files gained since the last one and
    adds it to what was read (a run judges its file once, then adds its flake re-runs' verdicts). The findings of
    an earlier judgement are updated in place: it is superseded."""

    def __init__(self, paths: Sequence[str | os.PathLike[str]], expectations: ExpectationLoader,
                 fail_on: FailOn = "new", baseline: Collection[str] | None = None) -> None:
        self.paths = tuple(map(str, paths))
        self._readers = [VerdictReader(path) for path in paths]
        self._expectations, self._fail_on, self._baseline = expectations, fail_on, baseline
        self._known: list[Expectation] | None = None
        self._grouping: Grouping | None = None
        self._verdicts: list[Verdict] = []
        self._problems: list[BadLine] = []

    def judge(self) -> FileJudgement:
        added: list[Verdict] = []
        for reader in self._readers:
            try:
                added += reader.read(self._problems)
            except OSError as exc:
                problem = BadLine(str(reader.path), 0, f"cannot read it ({exc.strerror or exc})")
                if problem not in self._problems:
                    self._problems.append(problem)
        self._verdicts += added
        book = ledger(self._verdicts)
        if self._known is None or self._grouping is None:  # the expectations are checked against the first cells
            self._known = list(self._expectations({v.cell for v in book.verdicts}))
            self._grouping = Grouping(self._known)
        for verdict in added:
            self._grouping.add(verdict)
        found = tuple(self._grouping.findings())
        return FileJudgement(self.paths, book, judge(book.steady, self._known), tuple(self._problems), found,
                             tuple(failing(found, self._fail_on, self._baseline)))


def new_failure_cases(judged: FileJudgement, limit: int) -> list[Verdict]:
    """One case per new-failure signature (the most frequent signatures first, at most ``limit``): what a flake
    check re-runs. Whole-target and import records are not cases and are never re-run. Chosen by the verdicts
    alone, never by their order in the file (which the order workers finished in decides): the same seed re-runs
    the same cases."""
    by_signature: dict[str, list[Verdict]] = defaultdict(list)
    for v in judged.judgement.new_failures:
        if v.kind in ("generated", "pinned"):
            by_signature[v.signature].append(v)
    ranked = sorted(by_signature.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]
    chosen = (min(group, key=lambda v: (v.case_id, v.property)) for _, group in ranked)
    return list({v.case_id: v for v in chosen}.values())


def summary(judged: FileJudgement) -> list[str]:
    """What a person reads at the end of a run: totals per unique (case, property), re-runs and flakes in cases,
    one line per finding (kind, range, reach, standing, repro command), then what fails the run."""
    book, judgement = judged.ledger, judged.judgement
    totals = Counter(v.outcome for v in book.verdicts)
    cases = {(v.cell, v.case_id) for v in book.verdicts if v.kind in ("generated", "pinned")}
    out = [" · ".join(f"{n} {o}" for o, n in totals.most_common()) +
           f"  ({len(book.verdicts)} (case, property) verdicts of {len(cases)} cases)"]
    flaky = book.flaky
    if book.reruns:
        flaky_cases = {key[:2] for key in flaky}
        out.append(f"{len(book.rerun_cases())} case(s) re-run in fresh processes; {len(flaky_cases)} flaky "
                   f"({len(flaky)} (case, property) verdicts flipped: not counted as regressions)")
    out += [f"unreadable: {bad}" for bad in judged.unreadable]
    # by kind (regressions first), and within a kind the findings no expectation explains first; deprecations
    # are a forecast, not a failure: counted here, listed by `findings --kind deprecation`
    ranked = sorted(judged.findings, key=lambda f: (KINDS.index(f.kind), f.standing == "known"))
    out += ["", *lines_of([f for f in ranked if f.kind != "deprecation"])]
    notices = sum(f.kind == "deprecation" for f in ranked)
    if notices:
        files = " ".join(shlex.quote(path) for path in judged.files)
        out.append(f"{notices} deprecation notice(s) raised through peft (not failures): "
                   f"python -m harness findings {files} --kind deprecation")
    counts, *_ = judgement.lines()
    stale = [f"STALE {e.id}: every verdict in its scope passed; narrow or remove it ({e.link})"
             for e in judgement.stale]
    fail = f"{len(judged.failing)} finding(s) fail this run" + \
        (": " + ", ".join(f.id for f in judged.failing) if judged.failing else "")
    return [*out, "", counts, *stale, fail]
