"""List the prompt methods of the installed peft (config class, supported tasks, option space), or, with
``--survey``, wrap every (architecture, method) pair once and count the wrap outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from harness.methods.options import option_space, record_for
from harness.methods.registry import Method, prompt_methods

SURVEY_TASKS = ("causal-lm", "seq2seq-lm", "seq-cls")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.add_argument("--survey", action="store_true",
                        help=f"wrap every (arch, method) pair of the zoo ({', '.join(SURVEY_TASKS)} by default)")
    parser.add_argument("--task", action="append", help="survey only this task (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="draw seed for the survey (default 0)")


def describe(m: Method) -> dict[str, Any]:
    """A JSON description of ``m``: config class, task support, option space and the record that refines it."""
    refine = record_for(m)
    return {
        "name": m.name,
        "config_class": f"{m.config_cls.__module__}.{m.config_cls.__qualname__}",
        "supported_tasks": m.supported_tasks,
        "refused_tasks": {t: r for t, r in m.task_support.items() if r is not None},
        "options": {k: repr(v) for k, v in option_space(m).items()},
        "record": (refine.__doc__ or refine.__name__).strip().splitlines()[0] if refine else "generic",
    }


def main(args: argparse.Namespace) -> int:
    if args.survey:
        return _survey(args)
    described = [describe(m) for m in prompt_methods().values()]
    if args.json:
        json.dump(described, sys.stdout, indent=1)
        print()
        return 0
    for d in described:
        print(f"{d['name']}  ({d['config_class']})")
        print(f"  tasks:   {', '.join(d['supported_tasks']) or 'none'}")
        for t, reason in d["refused_tasks"].items():
            print(f"  refuses {t}: {reason[:100]}")
        print(f"  record:  {d['record']}")
        for name, strategy in d["options"].items():
            print(f"  option   {name} = {strategy}")
    return 0


def _survey(args: argparse.Namespace) -> int:
    from harness.methods.survey import wrap_all

    counts: Counter[tuple[str, str, str]] = Counter()
    rows = []
    for row in wrap_all(args.task or list(SURVEY_TASKS), args.seed):
        counts[(row["method"], row["outcome"], row["geometry"])] += 1
        rows.append(row)
        if not args.json and row["outcome"] != "wrapped":
            print(f"{row['task']:<12} {row['arch']:<28} {row['method']:<24} {row['outcome']:<9} {row['reason']}",
                  flush=True)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
        return 0
    print()
    for (name, outcome, geometry), n in sorted(counts.items()):
        print(f"{name:<24} {outcome:<9} geometry {geometry:<8} {n:>5}")
    total = Counter()
    for (_, outcome, _), n in counts.items():
        total[outcome] += n
    print("total: " + ", ".join(f"{n} {o}" for o, n in total.most_common()))
    return 0
