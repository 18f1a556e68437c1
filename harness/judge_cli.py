"""Judge verdict files by what they hold: the summary and exit status a run that wrote them ends with.

Counts are per unique (case, property); flake re-runs show as re-runs and flaky cases are not counted as
regressions. Exit 0 when every steady bad verdict is explained by expectations.yaml and no expectation is stale,
1 otherwise (and when a line cannot be read), 2 for bad arguments or an unusable expectations file.
"""

from __future__ import annotations

import argparse
import sys

from harness.arguments import existing_file
from harness.datafile import DataFileError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=existing_file, help="verdict files (JSONL, schema 1 or 2)")
    parser.add_argument("--expectations", type=existing_file, help="known failures (default: expectations.yaml)")
    add_gate_options(parser)


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """--fail-on and --baseline: which findings fail a judgement (``harness.findings.gate``)."""
    parser.add_argument("--fail-on", choices=("new", "regressions"), default="new",
                        help="new (default): every finding no expectation explains fails; regressions: only "
                             "regressions, and findings the --baseline lacks")
    parser.add_argument("--baseline", type=existing_file, metavar="COMPAT_JSON",
                        help="compat.json of an earlier report: its finding ids are not new")


def main(args: argparse.Namespace) -> int:
    from harness.findings.gate import baseline_ids
    from harness.judging import expectations_for, judge_files, summary

    try:
        baseline = baseline_ids(args.baseline) if args.baseline else None
        judged = judge_files(args.files, expectations_for(args.expectations), args.fail_on, baseline)
    except (DataFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary(judged)), file=sys.stderr)
    return judged.exit_code

