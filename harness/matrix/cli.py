"""Show the version matrix (matrix.yaml): each cell with its pins, its kind and why its peft goes with its
transformers. ``--refresh-releases`` first rewrites harness/data/releases.yaml, the offline record of released
versions the matrix is checked against, from the package index.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from harness.matrix import jobplan
from harness.matrix import releases
from harness.datafile import DataFileError
from harness.matrix.imports import backing
from harness.matrix.cells import JobBudget, Profile, load_matrix, updates
from harness.matrix.slicing import GITHUB_MAX_JOBS, github_matrix, patterns_of, matching_cells


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nightly", action="store_true", help="also the nightly crosses (default: the pairings)")
    parser.add_argument("--json", action="store_true", help="print the cells as a JSON list")
    parser.add_argument("--file", type=Path, help="the matrix file (default: the repository's matrix.yaml)")
    parser.add_argument("--cells", action="append", metavar="PATTERN",
                        help="only the cells matching these fnmatch patterns (comma-separated or repeated)")
    parser.add_argument("--github", action="store_true",
                        help="print a GitHub Actions job matrix, one line of JSON for fromJSON: the cells cut into at "
                             "most --max-jobs balanced jobs")
    parser.add_argument("--max-jobs", type=int,
                        help=f"jobs at most for --github (default: matrix.yaml jobs.max_jobs, {GITHUB_MAX_JOBS} being "
                             "GitHub's limit per matrix)")
    parser.add_argument("--profile", help="the profile the jobs run, for their cost (default: nightly with --nightly, "
                                          "else default)")
    parser.add_argument("--costs", action="append", type=Path, metavar="PATH",
                        help="verdict files or folders of the last run: per-target costs (default: matrix.yaml jobs)")
    parser.add_argument("--cost", action="store_true",
                        help="print the job plan per cell and its runner-hours (the cells cut into shards that fit)")
    parser.add_argument(
        "--refresh-releases",
        action="store_true",
        help="rewrite harness/data/releases.yaml from the package index, then say what matrix.yaml lacks",
    )
    parser.add_argument(
        "--index-url",
        default=os.environ.get("PIP_INDEX_URL", releases.DEFAULT_INDEX),
        help="a PEP 691 (JSON) simple index for --refresh-releases (default: $PIP_INDEX_URL or PyPI)",
    )


def main(args: argparse.Namespace) -> int:
    if args.refresh_releases:
        print(f"wrote {releases.refresh(index_url=args.index_url)}", file=sys.stderr)
    try:
        matrix = load_matrix(args.file)
    except DataFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    cells = matrix.cells if args.nightly else matrix.pairings
    excluded = matrix.excluded if args.nightly else {}
    if args.cells:
        try:
            cells, excluded = tuple(matching_cells(cells, patterns_of(args.cells))), {}
        except LookupError as exc:
            print(f"error: {exc}" + ("" if args.nightly else " (crosses need --nightly)"), file=sys.stderr)
            return 2
    if args.github or args.cost:
        max_jobs = matrix.jobs.max_jobs if args.max_jobs is None else args.max_jobs
        if max_jobs < 1:
            print(f"error: --max-jobs must be at least 1, got {max_jobs}", file=sys.stderr)
            return 2
        try:
            profile = matrix.profile(args.profile or ("nightly" if args.nightly else "default"))
            planned = jobplan.plan(cells, profile, matrix.jobs,
                                   jobplan.measured_costs(args.costs or [], profile, matrix.jobs))
            jobs = github_matrix(cells, max_jobs, {name: count for name, (_, count) in planned.items()})
        except (LookupError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.cost:
            _print_cost(planned, profile, matrix.jobs, len(jobs["include"]))
        else:
            print(json.dumps(jobs, separators=(",", ":")))
            print(f"{len(cells)} cells in {len(jobs['include'])} jobs", file=sys.stderr)
    elif args.json:
        rows = [asdict(c) for c in cells] + [{"name": n, "kind": "excluded", "reason": r, "import_verdict": backing(n)}
                                             for n, r in excluded.items()]
        json.dump(rows, sys.stdout, indent=1)
        print()
    else:
        print(f"torch {matrix.torch} in every cell; from: {matrix.torch_source}")
        for c in cells:
            print(f"{c.name:<24} python {c.python:<5} transformers {c.transformers:<8} peft {c.peft:<7} {c.kind:<8} "
                  f"{c.reason}")
        for name, reason in excluded.items():
            print(f"{name:<24} {'':<53} excluded {reason}\n{'':<24} {'':<53}          {backing(name)}")
    if args.refresh_releases:
        missing = updates(matrix, releases.load_releases())
        for line in missing:
            print(f"matrix.yaml lacks: {line}", file=sys.stderr)
        return 1 if missing else 0
    return 0


def _print_cost(planned: dict[str, tuple[jobplan.CellCost, int]], profile: Profile, budget: JobBudget,
                jobs: int) -> None:
    cap = budget.case_seconds / budget.cores / 3600
    print(f"profile {profile.name}: a job has {budget.minutes:g} min, {budget.setup_minutes:g} of them set-up, so "
          f"{cap:.1f} h of cases on {budget.cores} workers")
    hours = 0.0
    for name, (cost, count) in planned.items():
        cell_hours = jobplan.job_hours(cost, count, budget)
        hours += cell_hours
        longest = max(jobplan.shard_seconds(cost, count)) / budget.cores / 3600
        print(f"{name:<24} {cost.targets:>6} targets  {cost.seconds / 3600:7.1f} worker-h  {count:>2} shard(s), "
              f"longest {longest:4.1f} h  {cell_hours:6.1f} runner-h  ({'measured' if cost.measured else 'defaults'})")
    print(f"{len(planned)} cells in {jobs} jobs: {hours:.0f} runner-hours")
