"""Re-run exactly one case in the current environment and print each verdict with its traceback.

CASE is a finding id (``F6bda7531``: its smallest example case, judged on the property that shows it), a case id
from a verdict file (both looked up in --from files, default reports/raw/*.jsonl) or the path of a case JSON file
(a verdict line's ``case`` object, or a pinned example). ``--script FILE`` also writes a standalone Python file
(importing only torch, transformers and peft) that checks one property of the case; ``--pdb`` runs that script
under the debugger, which stops at the failing call.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.arguments import existing_file
from harness.results import BAD_OUTCOMES, BadLine, read_verdicts
from harness.writer import VerdictWriter

#: what a finding id looks like (harness.findings.identity)
FINDING_ID = re.compile(r"F[0-9a-f]{8}")


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


def _files(sources: list[Path] | None, ref: str) -> list[Path]:
    files = sources or [Path(p) for p in sorted(glob.glob("reports/raw/*.jsonl")) if not p.endswith(".repro.jsonl")]
    if not files:
        raise ValueError(f"no verdict files to look {ref!r} up in: pass --from FILE, or run from the folder that "
                         "holds reports/raw/")
    return files


def find_case(ref: str, sources: list[Path] | None) -> dict[str, Any]:
    """The case JSON for ``ref``: a file path, or a finding or case id found in the verdict files."""
    return locate(ref, sources)[0]


def locate(ref: str, sources: list[Path] | None) -> tuple[dict[str, Any], list[str]]:
    """The case JSON for ``ref`` (a file path, a finding id or a case id found in the verdict files), and the
    properties to judge (a finding's one property; none said for a case)."""
    path = Path(ref)
    if path.suffix == ".json" or path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read a case JSON ({exc})") from exc
        return data.get("case", data), []
    files = _files(sources, ref)
    if FINDING_ID.fullmatch(ref):
        from harness.findings.cli import find, load

        problems: list[BadLine] = []
        try:
            example = find(load([str(f) for f in files], None, problems)[0], ref).example
        except LookupError as exc:
            raise ValueError(str(exc)) from exc
        if example is None:
            raise ValueError(f"finding {ref} has no replayable example case")
        return example.case, [example.property]
    problems = []
    for file in files:
        for verdict in read_verdicts(file, problems):
            if verdict.case_id == ref and "arch" in verdict.case:
                return verdict.case, []
    raise ValueError(f"case {ref!r} is in none of {', '.join(map(str, files))}")


def debug(script: Path) -> int:
    """Run ``script`` under pdb in this terminal: ``continue`` at once, stop post-mortem where it raises."""
    import subprocess

    print(f"running {script} under pdb: it stops at the failing call (`q` quits)")
    return subprocess.call([sys.executable, "-m", "pdb", "-c", "continue", str(script)])


def main(args: argparse.Namespace) -> int:
    from harness.cases import Case
    from harness.execute import run_case
    from harness.oracles import select
    from harness.quiet import quiet_libraries
    from harness.versions import cell_name, installed

    try:
        case_json, chosen = locate(args.case, args.sources)
        case = Case.from_json(case_json)
        properties = select(args.property or chosen)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet_libraries()
    v = installed()
    print(f"case {case.id}: {case.arch.task} {case.arch.model_type} × {case.method.method} in {cell_name()} "
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
