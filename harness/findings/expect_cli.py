"""Record findings in expectations.yaml: ``expect ID --reason "..." [--link URL]`` appends one entry whose scope
is the finding's (its methods and tasks, its arch when it has one, its version range, a signature that matches
its verdicts); ``expect --limitations`` records every new long-standing finding as a known limitation. Each entry
is checked as the loader checks it before the file is written (a bad one leaves the file as it was).
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
from pathlib import Path
from typing import Any

from harness.expectations import DEFAULT_PATH, ENTRY_KINDS, DataFileError, append_entry
from harness.findings.build import Finding
from harness.findings.cli import find, load
from harness.findings.ranges import NOT_RUN
from harness.results import BadLine


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("finding", nargs="?", help="the finding id (`python -m harness findings FILES` lists them)")
    parser.add_argument("--limitations", action="store_true",
                        help="record every new long-standing finding as a limitation (instead of one ID)")
    parser.add_argument("--reason", help="what is broken, in one sentence (required for one ID)")
    parser.add_argument("--link", help="the upstream issue or pull request (required for a bug)")
    parser.add_argument("--kind", choices=ENTRY_KINDS, help="bug (default for one ID) or limitation")
    parser.add_argument("--from", dest="sources", action="append", metavar="VERDICTS",
                        help="verdict files or directories (default: reports/raw/*.jsonl)")
    parser.add_argument("--expectations", type=Path, default=DEFAULT_PATH, metavar="YAML",
                        help="the file to append to (default: the repository's expectations.yaml)")


def signature_entry(finding: Finding) -> dict[str, str]:
    """A ``signature``/``signature_regex`` that matches the failure text of every verdict of ``finding``."""
    example = finding.example
    if example is not None and example.outcome == "timeout":
        return {"signature": "timeout"}
    if example is None or example.outcome == "fail" or example.error is None:
        return {"signature": finding.text}
    masked = re.escape(example.signature.split(" @ ")[0]).replace("\\ ", " ")
    pattern = re.sub(r"PeftModelFor[A-Z]\w*", r"PeftModelFor\\w+", masked)
    return {"signature_regex": pattern}


def entry_for(finding: Finding, reason: str, link: str | None, kind: str) -> dict[str, Any]:
    """The expectations.yaml entry for ``finding``: its targets' methods and tasks (and arch, when it has one
    arch: a limitation of that architecture), the decided bounds of its range, its signature."""
    entry: dict[str, Any] = {"id": f"{kind}-{finding.id}", "kind": kind, "cell": "*"}
    for name, part in (("arch", 0), ("task", 1), ("method", 2)):
        values = finding.spread(part)
        if name != "arch" or len(values) == 1:
            entry[name] = values[0] if len(values) == 1 else values
    entry.update({p: s for p, s in finding.range.specifiers().items() if s != NOT_RUN and finding.range.exact})
    entry.update(signature_entry(finding))
    entry["reason"] = reason
    if link:
        entry["link"] = link
    return entry


def main(args: argparse.Namespace) -> int:
    if bool(args.finding) == args.limitations:
        print("error: name one finding ID, or pass --limitations (not both)", file=sys.stderr)
        return 2
    if args.finding and not args.reason:
        print("error: --reason is required: say in one sentence what is broken", file=sys.stderr)
        return 2
    problems: list[BadLine] = []
    inputs = args.sources or sorted(glob.glob("reports/raw/*.jsonl"))
    if not inputs:
        print("error: no verdict files: pass --from FILE, or run where reports/raw/ is", file=sys.stderr)
        return 2
    try:
        found, _ = load(inputs, args.expectations, problems)
        if args.limitations:
            chosen = [f for f in found if f.kind == "long-standing" and f.standing == "new"]
        else:
            chosen = [find(found, args.finding)]
            if chosen[0].kind == "deprecation":
                raise LookupError(f"{args.finding} is a deprecation notice, not a failure: no expectation is needed "
                                  "(it never fails a run)")
        for finding in chosen:
            kind = args.kind or ("limitation" if args.limitations else "bug")
            reason = args.reason or f"Long-standing: {finding.text}"
            added = append_entry(entry_for(finding, reason, args.link, kind), args.expectations)
            print(f"added {added.id} ({added.kind}) to {args.expectations}: {finding.range.text()} · "
                  f"{finding.reach()}")
    except (DataFileError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limitations and not chosen:
        print("no new long-standing finding to record")
    return 0
