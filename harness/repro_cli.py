"""Re-run exactly one case in the current environment and print each verdict with its traceback.

CASE is a case id from a verdict file (looked up in --from files, default reports/raw/*.jsonl) or the path of a
case JSON file (a verdict line's ``case`` object, or a pinned example). ``--script FILE`` also writes a standalone
Python file (importing only torch, transformers and peft) that replays the case's calls.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path
from typing import Any

from harness.arguments import existing_file
from harness.results import BAD_OUTCOMES, BadLine, VerdictWriter, read_verdicts


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case", help="a case id (e.g. e79c2df48465) or a case JSON file")
    parser.add_argument("--from", dest="sources", action="append", type=existing_file,
                        help="verdict file(s) to look the id up in (default: reports/raw/*.jsonl)")
    parser.add_argument("--property", action="append", help="judge only this property (repeatable)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per step (default 120)")
    parser.add_argument("--script", type=Path, help="also write a standalone reproducer script here")
    parser.add_argument("--out", type=Path, help="also append the verdicts to this JSONL file, as `run` writes them")


def find_case(ref: str, sources: list[Path] | None) -> dict[str, Any]:
    """The case JSON for ``ref``: a file path, or a case id found in the verdict files."""
    path = Path(ref)
    if path.suffix == ".json" or path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read a case JSON ({exc})") from exc
        return data.get("case", data)
    files = sources or [Path(p) for p in sorted(glob.glob("reports/raw/*.jsonl"))]
    if not files:
        raise ValueError(f"no verdict files to look {ref!r} up in: pass --from FILE, or run from the folder that "
                         "holds reports/raw/")
    problems: list[BadLine] = []
    for file in files:
        for verdict in read_verdicts(file, problems):
            if verdict.case_id == ref and "arch" in verdict.case:
                return verdict.case
    raise ValueError(f"case {ref!r} is in none of {', '.join(map(str, files))}")


def main(args: argparse.Namespace) -> int:
    from harness.cases import Case
    from harness.execute import run_case
    from harness.oracles import select
    from harness.quiet import quiet_libraries
    from harness.versions import cell_name, installed

    try:
        case = Case.from_json(find_case(args.case, args.sources))
        properties = select(args.property)
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
    if args.script:
        from harness.script import supported, write_script

        chosen = args.property or bad
        write_script(case, args.script, chosen)
        left = sorted(set(chosen) - set(supported(chosen)))
        print(f"wrote {args.script}" + (f" (no script form yet for {', '.join(left)}; it replays the forward)"
                                          if left else "") + f": run it with `python {args.script}`")
    return 1 if bad else 0
