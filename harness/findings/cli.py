"""Findings of verdict files: one line per root cause (kind, id, range, reach, standing, replay command), or
``--json`` (one object per finding), or ``--markdown ID`` (an issue body for one finding); ``--kind`` narrows
the listing (``--kind deprecation``: what peft calls that its libraries will remove).

Verifications written by ``cell`` (``NAME.repro.jsonl`` beside ``NAME.jsonl``) fill in whether each finding's
script reproduces it. Exit status: 0, or 1 when lines could not be read, 2 when ``--markdown`` names no finding.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.expectations import DataFileError, load_expectations
from harness.findings import export, reproduce, sources, summary
from harness.findings.build import KINDS, Finding, group
from harness.results import BadLine


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="VERDICTS",
                        help="verdict files (reports/raw/<cell>.jsonl) or directories holding them")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="one JSON object per finding, as a list")
    shape.add_argument("--markdown", metavar="ID", help="an issue body for finding ID (e.g. F6bda7531)")
    parser.add_argument("--expectations", type=Path, metavar="YAML", help="known failures (default: expectations.yaml)")
    parser.add_argument("--kind", action="append", choices=KINDS, metavar="KIND",
                        help=f"only findings of this kind (repeatable): {', '.join(KINDS)}")


def load(inputs: list[str], expectations_path: Path | None,
         problems: list[BadLine]) -> tuple[list[Finding], dict[str, dict[str, reproduce.Reproduction]]]:
    """The findings of the verdict files ``inputs`` and their verifications; what cannot be read goes to
    ``problems`` (an unreadable expectations file is an error: without it nothing can be called new)."""
    files = list(sources.expand(inputs, problems))
    found = group(sources.verdicts(files, problems), load_expectations(expectations_path))
    return found, reproduce.read(files)


def find(found: list[Finding], ident: str) -> Finding:
    match = [f for f in found if f.id == ident]
    if not match:
        near = ", ".join(f.id for f in found[:10])
        raise LookupError(f"no finding {ident!r} in these verdicts" + (f"; they have {near}" if near else ""))
    return match[0]


def main(args: argparse.Namespace) -> int:
    problems: list[BadLine] = []
    try:
        found, records = load(args.inputs, args.expectations, problems)
    except DataFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.kind:
        found = [f for f in found if f.kind in args.kind]
    if args.markdown:
        try:
            print(export.issue_body(find(found, args.markdown), records.get(args.markdown)))
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    elif args.json:
        print(json.dumps([export.to_json(f, records.get(f.id)) for f in found], indent=1, ensure_ascii=False))
    else:
        print("\n".join(summary.lines_of(found, records)))
    for bad in problems[:20]:
        print(f"warning: {bad}", file=sys.stderr)
    return 1 if problems else 0
