"""Judging verdict files: their contents decide the summary and the exit status, whoever appended to them.

A file is counted per unique (cell, case, property) (``results.ledger``): flake re-runs are counted as re-runs of
their cases, and a (case, property) whose re-runs disagree is flaky, which the exit status does not count. The
status is 1 when a steady bad verdict is new (no expectation explains it), an expectation is stale, or a line of a
file cannot be read (a file that is not whole cannot pass); else 0.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.expectations import Expectation, Judgement, judge, load_expectations
from harness.matrix import load_matrix
from harness.results import BAD_OUTCOMES, BadLine, Ledger, Verdict, ledger, read_verdicts


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

    @property
    def exit_code(self) -> int:
        return 1 if self.unreadable else self.judgement.exit_code


def judge_files(paths: Sequence[str | os.PathLike[str]],
                expectations: Callable[[set[str]], Iterable[Expectation]]) -> FileJudgement:
    """The judgement of everything ``paths`` hold, against ``expectations(cells)`` (given the cells the files hold,
    so that a cell pattern can be checked against them); a missing file is an unreadable input, not an exception."""
    problems: list[BadLine] = []
    verdicts: list[Verdict] = []
    for path in paths:
        try:
            verdicts += read_verdicts(path, problems)
        except OSError as exc:
            problems.append(BadLine(str(path), 0, f"cannot read it ({exc.strerror or exc})"))
    book = ledger(verdicts)
    known = expectations({v.cell for v in book.verdicts})
    return FileJudgement(tuple(map(str, paths)), book, judge(book.steady, known), tuple(problems))


def new_failure_cases(judged: FileJudgement, limit: int) -> list[Verdict]:
    """One case per new-failure signature (the most frequent signatures first, at most ``limit``): what a flake
    check re-runs. Whole-target and import records are not cases and are never re-run."""
    by_signature: dict[str, list[Verdict]] = defaultdict(list)
    for v in judged.judgement.new_failures:
        if v.kind in ("generated", "pinned"):
            by_signature[v.signature].append(v)
    ranked = sorted(by_signature.values(), key=len, reverse=True)[:limit]
    return list({group[0].case_id: group[0] for group in ranked}.values())


def summary(judged: FileJudgement) -> list[str]:
    """What a person reads at the end of a run: totals per unique (case, property), re-runs and flakes in cases,
    each bad signature once (new ones first, with how far it reaches, whether expectations.yaml knows it, and a
    case to replay), then the judgement's lines."""
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
    by_signature: dict[str, list[Verdict]] = defaultdict(list)
    for v in book.steady:
        if v.outcome in BAD_OUTCOMES:
            by_signature[v.signature].append(v)
    known = {sig: {e.id: e.link for e in map(judgement.known_as, group) if e} for sig, group in by_signature.items()}
    replay_from = " ".join(f"--from {f}" for f in judged.files)
    for signature, group in sorted(by_signature.items(), key=lambda kv: (len(known[kv[0]]) > 0, -len(kv[1]))):
        targets = {(v.arch, v.method) for v in group}
        example = next((v for v in group if not judgement.known_as(v)), group[0])
        standing = "; ".join(f"known: {ident} ({link})" for ident, link in known[signature].items()) or "NEW"
        out.append(f"\n{example.outcome.upper():<7} {signature}\n        {standing} · {len(group)} verdicts, "
                   f"{len(targets)} (arch, method) targets, e.g. {example.arch} × {example.method} "
                   f"[{example.property}]\n        replay: python -m harness repro {example.case_id} {replay_from}")
    return [*out, "", *judgement.lines()]

