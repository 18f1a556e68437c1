"""Run the property suite in the current environment and write one verdict line per (case, property) as it
happens. Exits 0 when every verdict matches expectations.yaml, 1 on a new failure or a stale expectation."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from harness.expectations import Judgement
from harness.matrix import Profile
from harness.plan import Shard, Target
from harness.results import BAD_OUTCOMES, Verdict


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
    budget.add_argument("--max-examples", type=int, help="cases per (arch, method) target (overrides the profile)")
    budget.add_argument("--timeout", type=float, help="seconds per case step (overrides the profile)")
    budget.add_argument("--seed", type=int, default=0, help="run seed: same seed, same cases (default 0)")
    budget.add_argument("-j", "--jobs", default="auto", help="worker processes, or 'auto' (default): one per core")
    out = parser.add_argument_group("output")
    out.add_argument("--cell", help="matrix cell name to record (default: derived from the installed versions)")
    out.add_argument("--out", type=Path, help="verdict file (default reports/raw/<cell>.jsonl)")
    out.add_argument("--junit", type=Path, help="also write JUnit XML here")
    out.add_argument("--database", help="hypothesis example database folder (one per cell)")
    out.add_argument("--resume", action="store_true", help="keep the verdicts already in --out and skip their cases")
    out.add_argument("--expectations", type=Path, help="known failures (default: expectations.yaml)")
    out.add_argument("--flake-reruns", type=int, default=2, metavar="N",
                     help="re-run each new failure's case N times in fresh workers before calling it a regression "
                          "(0: off; default 2)")


def _shard(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(args: argparse.Namespace) -> int:
    if not (args.list_properties or args.list_targets):
        from harness.zygote import start as start_zygote

        start_zygote()  # first thing: its imports overlap the supervisor's own imports and planning
    from harness.oracles import PROPERTIES, select

    if args.list_properties:
        for prop in PROPERTIES.values():
            print(f"{prop.name:<18} {' '.join(prop.doc.split())}")
        return 0
    if args.cell:
        os.environ["PEFT_COMPAT_CELL"] = args.cell
    from harness.expectations import judge, load_expectations
    from harness.junit import write_junit
    from harness.matrix import load_matrix
    from harness.pinned import load_pinned
    from harness.plan import choose, coverage, pinned_key, targets
    from harness.quiet import quiet_libraries
    from harness.runner import Item, Supervisor
    from harness.versions import cell_name, installed

    quiet_libraries()
    try:
        profile = load_matrix().profile(args.profile)
        if args.max_examples is not None:
            profile = replace(profile, max_examples=args.max_examples)
        if args.timeout is not None:
            profile = replace(profile, case_timeout_s=args.timeout)
        properties = [p.name for p in select(args.property)]
        found = targets(args.task, args.arch, args.method)
        picked = choose(found, profile)
        chosen = list(picked)
        expectations = load_expectations(args.expectations)
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
    cell = cell_name()
    out = args.out or Path("reports/raw") / f"{cell}.jsonl"
    jobs = (os.cpu_count() or 1) if args.jobs == "auto" else int(args.jobs)
    v = installed()
    print(f"cell {cell}: torch {v['torch']}, transformers {v['transformers']}, peft {v['peft']} · "
          f"{len(chosen)} targets × ≤{profile.max_examples} cases, {len(pinned)} pinned · {len(properties)} "
          f"properties · profile {profile.name} · seed {args.seed} · {jobs} worker(s) → {out}", file=sys.stderr)
    if len(chosen) < len(found):
        covered = [t for t in chosen if picked[t] != "by hash"]
        kinds = " · ".join(f"{kind} {have}/{every}" for kind, (have, every) in coverage(chosen, found).items())
        print(f"picked {len(chosen)} of {len(found)} targets: {len(covered)} to cover code paths, the rest by hash · "
              f"coverage {kinds} · why each: {write_picks(out, picked)}", file=sys.stderr)
    items = [Item(case=p.case, pinned=True) for p in pinned] + [Item(target=t) for t in chosen]
    supervisor = Supervisor(out, jobs, profile, properties, args.seed, args.database, args.resume)
    verdicts = supervisor.run(items)
    verdicts += run_top_up(chosen, verdicts, profile, properties, args, out, jobs)
    judgement = judge(verdicts, expectations)
    flaky: set[tuple[str, str]] = set()
    if judgement.new_failures and args.flake_reruns > 0:
        reruns = rerun_cases(judgement.new_failures, args.flake_reruns, profile, properties, args.seed, out)
        flaky = flaky_keys(verdicts + reruns)
        verdicts += reruns
        judgement = judge([v for v in verdicts if (v.case_id, v.property) not in flaky], expectations)
    if args.junit:
        write_junit(verdicts, args.junit, cell)
    print_summary(verdicts, out, judgement)
    if flaky:
        print(f"\n{len(flaky)} (case, property) verdict(s) flipped on re-run: flaky, not counted as regressions",
              file=sys.stderr)
    for line in judgement.lines():
        print(line, file=sys.stderr)
    return judgement.exit_code


def write_picks(out: Path, picked: dict[Target, str]) -> Path:
    """The sidecar of a capped run: why each target was picked (``<out>.picks.json``, target key -> reason)."""
    path = out.with_name(out.name + ".picks.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({t.key: why for t, why in picked.items()}, indent=1) + "\n", encoding="utf-8")
    return path


def run_top_up(chosen: list[Target], verdicts: list[Verdict], profile: Profile, properties: list[str],
               args: argparse.Namespace, out: Path, jobs: int) -> list[Verdict]:
    """The examples of targets whose first case did not wrap, spent on targets that wrap (``plan.top_up``)."""
    from harness.plan import top_up
    from harness.runner import Item, Supervisor

    extra = top_up(chosen, verdicts, profile.max_examples)
    if not extra:
        return []
    print(f"\ntop-up: {sum(n for _, n in extra)} example(s) of targets that do not wrap, spent on {len(extra)} "
          "that do", file=sys.stderr)
    items = [Item(target=t, top_up=n) for t, n in extra]
    return Supervisor(out, jobs, profile, properties, args.seed, args.database, resume=True).run(items)


#: at most this many failing cases are re-run (one per signature, most frequent signatures first)
MAX_RERUN_CASES = 20


def rerun_cases(failures: tuple[Verdict, ...], times: int, profile: Profile, properties: list[str], seed: int,
                out: Path) -> list[Verdict]:
    """One case per new-failure signature re-run ``times`` times, each time in a fresh worker process (so no state
    of the first run survives); the verdicts are appended to ``out``."""
    from harness.runner import Item, Supervisor

    by_signature: dict[str, list[Verdict]] = defaultdict(list)
    for v in failures:
        if "arch" in v.case:
            by_signature[v.signature].append(v)
    ranked = sorted(by_signature.values(), key=len, reverse=True)[:MAX_RERUN_CASES]
    cases = {group[0].case_id: group[0] for group in ranked}
    print(f"\nre-running {len(cases)} case(s), one per new-failure signature, {times}× in fresh processes, to tell "
          "regressions from flakes", file=sys.stderr)
    verdicts: list[Verdict] = []
    for _ in range(times):
        items = [Item(case=v.case, pinned=v.pinned) for v in cases.values()]
        verdicts += Supervisor(out, 1, profile, properties, seed, None, resume=True).run(items)
    return verdicts


def flaky_keys(verdicts: list[Verdict]) -> set[tuple[str, str]]:
    """(case id, property) pairs whose verdicts disagree: the same case judged twice gave two outcomes."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for v in verdicts:
        seen[(v.case_id, v.property)].add(v.outcome)
    return {key for key, outcomes in seen.items() if len(outcomes) > 1}


def print_summary(verdicts: list[Verdict], out: Path, judgement: Judgement) -> None:
    """Outcome totals, then each bad signature once, new ones first: how many targets show it, whether
    expectations.yaml knows it (and where it is reported upstream), and a case to replay."""
    totals = Counter(v.outcome for v in verdicts)
    print("\n" + " · ".join(f"{n} {o}" for o, n in totals.most_common()), file=sys.stderr)
    by_signature: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        if v.outcome in BAD_OUTCOMES:
            by_signature[v.signature].append(v)
    known = {sig: {e.id: e.link for e in map(judgement.known_as, group) if e} for sig, group in by_signature.items()}
    for signature, group in sorted(by_signature.items(), key=lambda kv: (len(known[kv[0]]) > 0, -len(kv[1]))):
        targets = {(v.arch, v.method) for v in group}
        example = next((v for v in group if not judgement.known_as(v)), group[0])
        standing = "; ".join(f"known: {ident} ({link})" for ident, link in known[signature].items()) or "NEW"
        print(f"\n{example.outcome.upper():<7} {signature}\n        {standing} · {len(group)} verdicts, "
              f"{len(targets)} (arch, method) targets, e.g. {example.arch} × {example.method} [{example.property}]\n"
              f"        replay: python -m harness repro {example.case_id} --from {out}", file=sys.stderr)
