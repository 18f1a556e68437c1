"""Run the property suite in the current environment and write one verdict per (case, property) as it happens.

The run ends as ``python -m harness judge OUT`` does: the summary and exit status of what the file holds (so a
resumed run is judged on all of it). Exits 0 when no finding fails it (``--fail-on``: by default every new one),
1 on a failing finding, a stale expectation or an unreadable line, 2 on bad arguments. When the installed
libraries cannot be imported, that is the cell's verdict (``import``: crash), written and judged like any other.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from typing import TYPE_CHECKING

from harness.arguments import count, existing_file, jobs, positive_float, positive_int
from harness.judge_cli import add_gate_options
from harness.datafile import DataFileError
from harness.matrix.shards import Shard

if TYPE_CHECKING:
    from harness.judging import Judging
    from harness.matrix.cells import Profile
    from harness.run.plan import Target
    from harness.results import Verdict

#: what a run needs to import; when one fails, that failure is the cell's verdict
LIBRARIES = ("torch", "transformers", "peft", "peft.mapping", "peft.config")
#: at most this many failing cases are re-run (one per signature, most frequent signatures first)
MAX_RERUN_CASES = 20


def configure(parser: argparse.ArgumentParser) -> None:
    pick = parser.add_argument_group("what to run")
    pick.add_argument("--task", action="append", help="only this task (repeatable)")
    pick.add_argument("--arch", action="append", help="only this model_type (repeatable)")
    pick.add_argument("--method", action="append", help="only this peft method, e.g. PREFIX_TUNING (repeatable)")
    pick.add_argument("--property", action="append", help="only this property (repeatable; see --list-properties)")
    pick.add_argument("--no-pinned", action="store_true", help="leave out the pinned regression examples")
    pick.add_argument("--list-properties", action="store_true", help="print the properties and exit")
    pick.add_argument("--shard", type=_shard, metavar="I/N",
                      help="only shard I of N of the targets (after the profile's pick; by a hash of each target)")
    pick.add_argument("--list-targets", action="store_true",
                      help="print the chosen targets (after filters, pick and --shard), one key per line, and exit")
    budget = parser.add_argument_group("budget")
    budget.add_argument("--profile", default="default", help="smoke, default or nightly (matrix.yaml profiles)")
    budget.add_argument("--max-examples", type=positive_int,
                        help="cases per (arch, method) target (overrides the profile)")
    budget.add_argument("--timeout", type=positive_float, help="seconds per case step (overrides the profile)")
    budget.add_argument("--seed", type=int, default=0, help="run seed: same seed, same cases (default 0)")
    budget.add_argument("-j", "--jobs", type=jobs, default="auto",
                        help="worker processes, or 'auto' (default): one per core")
    out = parser.add_argument_group("output")
    out.add_argument("--cell", help="matrix cell name to record (default: derived from the installed versions)")
    out.add_argument("--out", type=Path, help="verdict file (default reports/raw/<cell>.jsonl)")
    out.add_argument("--junit", type=Path, help="also write JUnit XML here")
    out.add_argument("--database", help="hypothesis example database folder (one per cell)")
    out.add_argument("--resume", action="store_true",
                     help="keep the verdicts already in --out and run only what it lacks")
    out.add_argument("--expectations", type=existing_file, help="known failures (default: expectations.yaml)")
    add_gate_options(out)
    out.add_argument("--flake-reruns", type=count, default=2, metavar="N",
                     help="re-run each new failure's case N times in fresh workers before calling it a regression "
                          "(0: off; default 2)")


def _shard(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(args: argparse.Namespace) -> int:
    if args.list_properties:
        from harness.oracles import PROPERTIES

        for prop in PROPERTIES.values():
            print(f"{prop.name:<18} {' '.join(prop.doc.split())}")
        return 0
    if args.cell:
        os.environ["PEFT_COMPAT_CELL"] = args.cell
    from harness.findings.gate import baseline_ids
    from harness.judging import Judging, expectations_for
    from harness.matrix.cells import load_matrix
    from harness.versions import installed_cell

    cell = installed_cell()
    out: Path = args.out or Path("reports/raw") / f"{cell}.jsonl"
    try:  # what needs no library first: a bad profile or expectations file is refused in well under a second
        profile = load_matrix().profile(args.profile)
        expectations = expectations_for(args.expectations)
        expectations({cell})
        baseline = baseline_ids(args.baseline) if args.baseline else None
    except (DataFileError, LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    judging = Judging([out], expectations, args.fail_on, baseline)  # as `python -m harness judge OUT` does
    if args.max_examples is not None:
        profile = replace(profile, max_examples=args.max_examples)
    if args.timeout is not None:
        profile = replace(profile, case_timeout_s=args.timeout)
    if not args.list_targets:
        from harness.run.zygote import start as start_zygote

        start_zygote()  # before the heavy imports: the workers' imports overlap the supervisor's and its planning
    try:
        for module in LIBRARIES:
            importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - whatever importing the libraries raises is this cell's verdict
        return _import_failed(exc, out, args.resume, judging)
    return _run(args, profile, out, judging)


def _run(args: argparse.Namespace, profile: Profile, out: Path, judging: Judging) -> int:
    from harness.judging import new_failure_cases, summary
    from harness.junit import write_junit
    from harness.oracles import properties_named
    from harness.run.pinned import load_pinned
    from harness.run.plan import choose, coverage, pinned_key, targets, top_up
    from harness.quiet import quiet_libraries
    from harness.run.runner import Item, Supervisor
    from harness.versions import installed_cell, installed
    from harness.writer import VerdictWriter

    quiet_libraries()
    try:
        properties = [p.name for p in properties_named(args.property)]
        found = targets(args.task, args.arch, args.method)
        picked = choose(found, profile)
        chosen = list(picked)
        pinned = [] if args.no_pinned else [p for p in load_pinned() if p.matches(args.task, args.arch, args.method)]
        if args.shard is not None:
            chosen = [t for t in chosen if args.shard.holds(t.key)]
            pinned = [p for p in pinned if args.shard.holds(pinned_key(p.case))]
    except (ValueError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list_targets:
        print("\n".join(t.key for t in chosen))
        return 0
    v, cell = installed(), installed_cell()
    print(f"cell {cell}: torch {v['torch']}, transformers {v['transformers']}, peft {v['peft']} · "
          f"{len(chosen)} targets × ≤{profile.max_examples} cases, {len(pinned)} pinned · {len(properties)} "
          f"properties · profile {profile.name} · seed {args.seed} · {args.jobs} worker(s) → {out}", file=sys.stderr)
    if len(chosen) < len(found):
        covered = [t for t in chosen if picked[t] != "by hash"]
        kinds = " · ".join(f"{kind} {have}/{every}" for kind, (have, every) in coverage(chosen, found).items())
        print(f"picked {len(chosen)} of {len(found)} targets: {len(covered)} to cover code paths, the rest by hash · "
              f"coverage {kinds} · why each: {write_picks(out, picked)}", file=sys.stderr)
    items = [Item(case=p.case, pinned=True) for p in pinned] + [Item(target=t) for t in chosen]

    def more(wraps: list[Verdict]) -> list[Item]:
        # the examples of targets whose first case did not wrap go to targets that wrap: decided by the file's
        # verdicts (never by timing), so a resumed run tops up exactly as an uninterrupted one
        extra = top_up(chosen, wraps, profile.max_examples)
        if extra:
            print(f"top-up: {sum(n for _, n in extra)} example(s) of targets that do not wrap, spent on "
                  f"{len(extra)} that do", file=sys.stderr)
        return [Item(target=t, top_up=n) for t, n in extra]

    with VerdictWriter(out, fresh=not args.resume) as writer:
        if writer.torn_bytes:
            print(f"{out}: cut a torn last line ({writer.torn_bytes} bytes, from a run killed mid-write); its "
                  "verdict is judged again", file=sys.stderr)
        Supervisor(writer, args.jobs, profile, properties, args.seed, args.database).run(items, follow_up=more)
        judged = judging.judge()
        if judged.judgement.new_failures and args.flake_reruns > 0:
            cases = new_failure_cases(judged, MAX_RERUN_CASES)
            print(f"\nre-running {len(cases)} case(s), one per new-failure signature, {args.flake_reruns}× in fresh "
                  f"processes ({args.jobs} at a time), to tell regressions from flakes", file=sys.stderr)
            for repetition in range(1, args.flake_reruns + 1):
                reruns = [Item(case=c.case, pinned=c.pinned) for c in cases]
                Supervisor(writer, args.jobs, profile, properties, args.seed, None, repetition=repetition).run(reruns)
            judged = judging.judge()  # what the re-runs appended, added to the judgement above
    if args.junit:
        write_junit(list(judged.ledger.verdicts), args.junit, cell)
    print("\n".join(summary(judged)), file=sys.stderr)
    return judged.exit_code


def write_picks(out: Path, picked: dict[Target, str]) -> Path:
    """The sidecar of a capped run: why each target was picked (``<out>.picks.json``, target key -> reason)."""
    path = out.with_name(out.name + ".picks.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({t.key: why for t, why in picked.items()}, indent=1) + "\n", encoding="utf-8")
    return path


def _import_failed(exc: Exception, out: Path, resume: bool, judging: Judging) -> int:
    """Record that this cell's libraries cannot be imported together (one ``import`` verdict), then judge."""
    from harness.judging import summary
    from harness.outcomes import error_info, signature
    from harness.results import import_verdict
    from harness.writer import VerdictWriter

    info = error_info(exc)
    verdict = import_verdict(info, signature(info))
    with VerdictWriter(out, fresh=not resume) as writer:
        writer.write(verdict)
    print(f"cell {verdict.cell}: importing the libraries failed, so nothing can run here: {info.type}: "
          f"{info.message}", file=sys.stderr)
    judged = judging.judge()
    print("\n".join(summary(judged)), file=sys.stderr)
    return judged.exit_code
