"""Re-run exactly one case in the current environment and print each verdict with its traceback.

CASE is a finding id (``F6bda7531``: its smallest example case, judged on the property that shows it), a case id
from a verdict file (both looked up in --from files, default reports/raw/*.jsonl) or the path of a case JSON file
(a verdict line's ``case`` object, or a pinned example). ``--script FILE`` also writes a standalone Python file
(importing only torch, transformers and peft) that checks one property of the case; ``--pdb`` runs that script
under the debugger, which stops at the failing call.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness.arguments import existing_file
from harness.results import BAD_OUTCOMES
from harness.run.lookup import locate
from harness.writer import VerdictWriter

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case", help="a finding id (F6bda7531), a case id (e79c2df48465) or a case JSON file")
    parser.add_argument("--from", dest="sources", action="append", type=existing_file,
                        help="verdict file(s) to look the id up in (default: reports/raw/*.jsonl)")
    parser.add_argument("--property", action="append", help="judge only this property (repeatable)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per step (default 120)")
    parser.add_argument("--script", type=Path, help="also write a standalone reproducer script here")
    parser.add_argument("--out", type=Path, help="also append the verdicts to this JSONL file, as `run` writes them")
    parser.add_argument("--pdb", action="store_true",
                        help="run the standalone script under pdb: it stops at the failing call (post-mortem)")


def debug(script: Path) -> int:
    """Run ``script`` under pdb in this terminal: ``continue`` at once, stop post-mortem where it raises."""
    import subprocess

    print(f"running {script} under pdb: it stops at the failing call (`q` quits)")
    return subprocess.call([sys.executable, "-m", "pdb", "-c", "continue", str(script)])


def main(args: argparse.Namespace) -> int:
    from harness.cases import Case
    from harness.run.execute import run_case
    from harness.oracles import properties_named
    from harness.quiet import quiet_libraries
    from harness.versions import installed_cell, installed

    try:
        case_json, chosen = locate(args.case, args.sources)
        case = Case.from_json(case_json)
        properties = properties_named(args.property or chosen)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet_libraries()
    v = installed()
    print(f"case {case.id}: {case.arch.task} {case.arch.model_type} × {case.method.method} in {installed_cell()} "
          f"(transformers {v['transformers']}, peft {v['peft']})")
    bad: list[str] = []
    writer = VerdictWriter(args.out) if args.out else None
    for verdict in run_case(case, properties, args.timeout):
        if writer:
            writer.write(verdict)
        print(f"{verdict.property:<18} {verdict.outcome:<11} {verdict.signature or verdict.reason}")
        if verdict.outcome in BAD_OUTCOMES:
            bad.append(verdict.property)
            if verdict.error and verdict.error.traceback:
                print("    " + verdict.error.traceback.rstrip().replace("\n", "\n    "))
    if writer:
        writer.close()
    if args.script or args.pdb:
        from harness.script import write_script

        prop = next(iter([*(args.property or chosen), *bad, "forward"]))
        script = write_script(case, args.script or Path(tempfile.mkdtemp()) / f"repro_{case.id}.py", prop)
        print(f"wrote {script} (checks {prop}): run it with `python {script}`")
        if args.pdb:
            return debug(script)
    return 1 if bad else 0
