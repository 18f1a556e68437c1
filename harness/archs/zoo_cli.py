"""Build one drawn tiny model per (model_type, task) of the installed transformers and show what happened.

Every architecture of every mapping gets a row: ``ok`` with its size and timings, or the reason it is not usable.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from harness.archs import zoo
from harness.archs.tasks import TASKS
from harness.quiet import quiet_libraries


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", action="append", choices=list(TASKS), help="only this task (repeatable)")
    parser.add_argument("--arch", action="append", help="only this model_type (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="draw seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the rows as a JSON list")


def main(args: argparse.Namespace) -> int:
    quiet_libraries()
    rows = []
    for task in args.task or list(TASKS):
        for model_type in zoo.model_types(task):
            if args.arch and model_type not in args.arch:
                continue
            row = zoo.build_one(model_type, task, args.seed)
            rows.append(row)
            if not args.json:
                _print_row(row)
    if args.json:
        json.dump(zoo.as_json(rows), sys.stdout, indent=1)
        print()
    else:
        _print_totals(rows)
    return 0


def _print_row(row: zoo.ZooRow) -> None:
    size = f"{row.n_params:>8,}" if row.n_params else " " * 8
    timing = f"{row.build_ms:6.1f} ms {row.forward_ms:7.1f} ms" if row.status == "ok" else " " * 20
    print(f"{row.task:<19} {row.model_type:<32} {row.status:<16} {size} {timing} {row.reason}", flush=True)


def _print_totals(rows: list[zoo.ZooRow]) -> None:
    print()
    for task, counts in zoo.totals(rows).items():
        total = sum(counts.values())
        detail = ", ".join(f"{n} {s}" for s, n in counts.most_common() if s != "ok")
        print(f"{task:<19} {counts['ok']:>4}/{total:<4} ok" + (f"   ({detail})" if detail else ""))
    ok = [r for r in rows if r.status == "ok"]
    if ok:
        slowest = max(ok, key=lambda r: r.forward_ms)
        print(f"median build {statistics.median(r.build_ms for r in ok):.1f} ms, slowest forward "
              f"{slowest.forward_ms:.1f} ms ({slowest.model_type}), largest model {max(r.n_params for r in ok):,} "
              "parameters")
