"""Find the release where a case's failure appears or is fixed, by running the case (``repro``) in one venv per
probed release. One axis is a range of releases, the other is held at one version, as in ``bisect e79c2df48465
--transformers 4.45.2 --peft 0.11.1..0.13.2 --property empty-cache --signature "got multiple values"``.

CASE is a case id found in verdict files (--from, default reports/raw/*.jsonl) or a case JSON file. The releases come
from harness/data/releases.yaml. A release counts as bad when a fail/crash/timeout shows (whose text contains
--signature, if given: other failures then do not count); a release where the case cannot be judged (its properties
were skipped) stops the search. Venvs are built with uv and kept (harness.bisect.venvs); each probe's verdicts are
kept in --out. Exit status: 0 when a flip was found, 1 when none was, 2 on a usage error or a probe that could not run.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from harness.bisect.search import Bisection, Plan, Probe, bisect, plan, shows_failure
from harness.datafile import DataFileError
from harness.matrix.releases import load_releases
from harness.run.lookup import find_case
from harness.results import BAD_OUTCOMES, Verdict, case_id, read_verdicts
from harness.bisect.venvs import Stack, VenvError, cache_root, ensure, environment


class ProbeError(RuntimeError):
    """A release where the case could not be run or judged."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case", help="a case id (e.g. e79c2df48465) or a case JSON file")
    parser.add_argument("--from", dest="sources", action="append", type=Path,
                        help="verdict file(s) to look the id up in (default: reports/raw/*.jsonl)")
    parser.add_argument("--transformers", required=True, metavar="VERSION|A..B",
                        help="the transformers release, or a range of releases to bisect")
    parser.add_argument("--peft", required=True, metavar="VERSION|A..B",
                        help="the peft release, or a range of releases to bisect")
    parser.add_argument("--property", action="append", help="judge only this property (repeatable; passed to repro)")
    parser.add_argument("--signature", help="count a release as bad only if a failure's text contains this")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per step of the case (default 120)")
    parser.add_argument("--python", default=f"{sys.version_info.major}.{sys.version_info.minor}",
                        help="Python of the venvs (default: this one's minor version)")
    parser.add_argument("--venvs", type=Path, default=cache_root(),
                        help=f"where venvs are kept (default {cache_root()})")
    parser.add_argument("--out", type=Path, help="folder for each probe's verdicts (default reports/bisect/<case id>)")


def main(args: argparse.Namespace) -> int:
    from harness.matrix.cells import load_matrix

    try:
        case = find_case(args.case, args.sources)
        if not {"arch", "method", "call"} <= set(case):
            raise ValueError(f"{args.case}: not a case (expected arch, method and call objects)")
        the_plan = plan({"transformers": args.transformers, "peft": args.peft}, load_releases())
        torch = load_matrix().torch
    except (ValueError, DataFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ident = case_id(case)
    out = args.out or Path("reports") / "bisect" / ident
    out.mkdir(parents=True, exist_ok=True)
    case_file = out / "case.json"
    case_file.write_text(json.dumps(case, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    n = len(the_plan.versions)
    budget = math.ceil(math.log2(n)) + 1
    held = ", ".join(f"{p} held at {v}" for p, v in the_plan.held.items())
    print(f"bisect case {ident} ({case['arch'].get('task')} {case['arch'].get('model_type')} × "
          f"{case['method'].get('method')}): {the_plan.package} {the_plan.versions[0]}..{the_plan.versions[-1]}, "
          f"{n} releases ({' '.join(the_plan.versions)}); {held}; torch {torch}; python {args.python}")
    looked_for = f"whose text contains {args.signature!r}" if args.signature else "of any kind"
    print(f"bad = a fail, crash or timeout {looked_for} in {', '.join(args.property or ['any property'])}; "
          f"at most {budget} probes; venvs in {args.venvs}; verdicts in {out}", flush=True)
    prober = _Prober(the_plan, Stack(args.python, torch, "", ""), args.venvs, case_file, out, args.property or [],
                     args.signature, args.timeout, budget)
    try:
        result = bisect(the_plan.versions, prober)
    except (ProbeError, VenvError) as exc:
        print(f"\nerror: {exc}\nno conclusion; the probes above are the evidence so far", file=sys.stderr)
        return 2
    _conclude(result, the_plan)
    if result.flip is None and not args.signature:
        print("every failure counted: if another one hides the one you follow, pass --signature (and --property)")
    return 0 if result.flip is not None else 1


@dataclass
class _Prober:
    """``probe(version)`` for ``bisect``: builds (or reuses) the venv, runs ``repro`` there, prints the evidence."""

    plan: Plan
    #: python and torch of every venv (transformers and peft come from the plan)
    base: Stack
    venvs: Path
    case_file: Path
    out: Path
    properties: list[str]
    signature: str | None
    timeout: float
    budget: int
    count: int = 0

    def __call__(self, version: str) -> Probe:
        self.count += 1
        package = self.plan.package
        stack = replace(self.base, **{**self.plan.held, package: version})
        print(f"\n[{self.count}/≤{self.budget}] {package} {version}: ", end="", flush=True)
        start = time.monotonic()
        python, created = ensure(stack, self.venvs)
        print(f"venv {'built' if created else 'reused'} in {time.monotonic() - start:.0f}s; ", end="", flush=True)
        start = time.monotonic()
        verdicts = self._repro(python, stack)
        bad = shows_failure(verdicts, self.signature)
        print(f"repro in {time.monotonic() - start:.0f}s → {'BAD' if bad else 'good'}")
        for v in verdicts:
            print(f"    {v.property:<18} {v.outcome:<11} {v.signature or v.reason}")
        if not bad and any(v.outcome == "skip" for v in verdicts):
            raise ProbeError(f"{package} {version}: the case could not be judged there (properties were skipped: "
                             "see the wrap verdict above), so it is neither bad nor good; narrow the range")
        return Probe(version, bad, tuple(verdicts))

    def _repro(self, python: Path, stack: Stack) -> list[Verdict]:
        file = self.out / f"{stack.name}.jsonl"
        file.unlink(missing_ok=True)
        command = [str(python), "-m", "harness", "repro", str(self.case_file.resolve()), "--out", str(file.resolve()),
                   "--timeout", str(self.timeout)]
        for prop in self.properties:
            command += ["--property", prop]
        done = subprocess.run(command, capture_output=True, text=True, env=environment(), check=False)
        try:
            verdicts = list(read_verdicts(file)) if file.exists() else []
        except ValueError as exc:
            raise ProbeError(f"{file}: {exc}") from None
        if done.returncode not in (0, 1) or not verdicts:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
            raise ProbeError(f"{stack.name}: `python -m harness repro` exited {done.returncode} with "
                             f"{len(verdicts)} verdicts:\n{tail}")
        return verdicts


def _conclude(result: Bisection, the_plan: Plan) -> None:
    probed = {p.version: p for p in result.probes}
    print(f"\n{result.conclusion(the_plan.package)}")
    print(f"evidence ({len(result.probes)} probes, oldest release first):")
    for version in the_plan.versions:
        probe = probed.get(version)
        if probe is None:
            print(f"  {the_plan.package} {version:<10} not probed")
            continue
        bad = sorted({f"{v.property}: {v.outcome} {v.signature}" for v in probe.verdicts if v.outcome in BAD_OUTCOMES})
        print(f"  {the_plan.package} {version:<10} {'BAD ' if probe.bad else 'good'}  {'; '.join(bad) or 'no failure'}")
