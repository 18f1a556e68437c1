"""Build the compatibility report from verdict files: index.html (open it in a browser), summary.md (for a CI step
summary or a PR comment), compat.json (machine-readable, aggregated per target and finding; the next run's
--baseline) and compat.details.json (what compat.json aggregates away: per (target, property) and whole findings).

Exit status: 0 when every input line was read; 1 when the report was written but lines, files or the baseline
could not be read (stderr and the report say which); 2 when no report could be written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from harness.expectations import DataFileError, Expectation, load_expectations
from harness.matrix.cells import load_matrix
from harness.report import compat, deprecations, html, markdown, model
from harness.report.diff import Diff, compare

#: unreadable lines echoed on stderr (all of them are in the report)
ECHOED = 20


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="VERDICTS",
                        help="verdict files (reports/raw/<cell>.jsonl) or directories holding them")
    parser.add_argument("--out", type=Path, default=Path("reports"),
                        help="directory for index.html, summary.md, compat.json and compat.details.json "
                             "(default: reports)")
    parser.add_argument("--baseline", type=Path, metavar="COMPAT_JSON",
                        help="compat.json of an earlier run: show new failures, fixes and coverage changes")
    parser.add_argument("--expectations", type=Path, metavar="YAML",
                        help="known failures to mark in the report, with their links (default: expectations.yaml)")


def main(args: argparse.Namespace) -> int:
    expectations: list[Expectation] = []
    expectations_problem = ""
    try:
        expectations = load_expectations(args.expectations)
    except (DataFileError, OSError) as exc:
        expectations_problem = str(exc)
    report = model.read(args.inputs, expectations)
    if not expectations_problem:
        try:  # a cell pattern must name a cell of the matrix or of these verdicts: a misspelling matches nothing
            load_expectations(args.expectations, cells=[*load_matrix().names, *report.cell_squares()])
        except DataFileError as exc:
            expectations_problem = str(exc)
    diff: Diff | None = None
    baseline_problem = ""
    if args.baseline:
        try:
            diff = compare(report.statuses, compat.read_baseline(args.baseline), str(args.baseline))
        except compat.BaselineError as exc:
            baseline_problem = str(exc)
    try:
        written = write_outputs(report, args.out, diff, baseline_problem)
    except OSError as exc:
        print(f"error: cannot write the report to {args.out}: {exc.strerror or exc}; pass a writable --out",
              file=sys.stderr)
        return 2
    print(f"wrote {', '.join(map(str, written))}")
    print(f"{report.verdicts:,} verdicts, {len(report.targets):,} targets, {len(report.cell_squares())} cells: "
          f"{markdown.tally(report.counts) or 'nothing'}; {len(report.signatures)} failure signatures, "
          f"{len(report.flaky_cases)} flaky cases")
    if diff:
        print(f"since {diff.baseline}: {diff.summary()}")
    return _warn(report, baseline_problem, expectations_problem)


def write_outputs(report: model.Report, out: Path, diff: Diff | None, baseline_problem: str) -> list[Path]:
    """The report's files in ``out`` (made if missing), each written whole or not at all; their paths."""
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    notices = deprecations.notices(report.notices)
    outputs = {
        "index.html": html.render(report, diff, baseline_problem, generated, breaks_next=notices),
        "summary.md": "\n".join([markdown.render(report, diff, baseline_problem), *deprecations.markdown(notices)]),
        "compat.json": _compact(compat.to_json(report, diff, generated)),
        compat.DETAILS: _compact(compat.details_json(report, generated)),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, content in outputs.items():
        _write(out / name, content)
    return [out / name for name in outputs]


def _warn(report: model.Report, baseline_problem: str, expectations_problem: str) -> int:
    """Say on stderr what could not be read; the exit status: 1 if anything, else 0."""
    problems = bool(report.unreadable or baseline_problem or expectations_problem or not report.verdicts)
    if report.unreadable:
        print(f"warning: {len(report.unreadable):,} unreadable line(s) skipped; the rest of the report was built:",
              file=sys.stderr)
        for bad in report.unreadable[:ECHOED]:
            print(f"  {model.describe(bad)}", file=sys.stderr)
        if len(report.unreadable) > ECHOED:
            print(f"  … and {len(report.unreadable) - ECHOED:,} more: see 'Unreadable lines' in index.html",
                  file=sys.stderr)
    if baseline_problem:
        print(f"warning: no diff: {baseline_problem}", file=sys.stderr)
    if expectations_problem:
        print(f"warning: no failure is marked known: {expectations_problem}", file=sys.stderr)
    if not report.verdicts:
        print(f"warning: no verdicts in {', '.join(report.inputs) or 'the inputs'}: did the matrix run?",
              file=sys.stderr)
    return 1 if problems else 0


def _compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"


def _write(path: Path, content: str) -> None:
    """Write through a temporary file, so a reader never sees half a report."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(content, encoding="utf-8")
    os.replace(partial, path)
