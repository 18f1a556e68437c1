"""Run inside one matrix cell: what ``tox -e <cell>`` calls.

``cell NAME`` runs the property suite with the default profile, writing reports/raw/NAME.jsonl and NAME.xml and
keeping the hypothesis database in reports/hypothesis/NAME; arguments after NAME are appended to that ``run``
command (``--method PREFIX_TUNING``, ``--profile smoke``: the last value of an option wins). If they start with a
harness command (``zoo``, ``repro``, ...), that command runs instead. The installed versions must be the cell's.

After a run, each new finding's standalone script is run here, in a fresh process, and whether it reproduces the
finding is recorded beside the verdict file (NAME.repro.jsonl; ``findings`` reads it). ``--verify all`` verifies
known findings too, ``--verify none`` skips this (both may come anywhere after NAME).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness import cli, versions
from harness.datafile import DataFileError
from harness.matrix.cells import Cell, load_matrix


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the cell, e.g. py311-tf4.45 (`python -m harness matrix --nightly` lists them)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="a harness command, or more arguments for `run`")


def main(args: argparse.Namespace) -> int:
    try:
        cell = load_matrix().cell(args.name)
    except (DataFileError, LookupError) as exc:
        print(exc, file=sys.stderr)
        return 2
    wrong = mismatches(cell, versions.installed())
    if wrong:
        print(f"this environment is not cell {cell.name}: {'; '.join(wrong)}. Run it as `tox -e {cell.name}` "
              f"(`tox -r -e {cell.name}` rebuilds the env)", file=sys.stderr)
        return 2
    os.environ["PEFT_COMPAT_CELL"] = cell.name
    scope, rest = verify_scope(args.args)
    command = command_for(cell.name, rest)
    if command[0] == "run" and "--resume" not in command:
        from harness.findings.reproduce import sidecar

        sidecar(option(command, "--out")).unlink(missing_ok=True)  # its verdicts are about to be rewritten
    status = cli.main(command)
    if command[0] == "run" and scope != "none":
        verify_findings(Path(option(command, "--out")), cell.name, scope)
    return status


#: which findings a cell verifies after its run: new ones (no expectation explains them), all, or none
VERIFY_SCOPES = ("new", "all", "none")
#: seconds a reproducer script may run (it pays the imports once more)
SCRIPT_TIMEOUT_S = 300.0


def verify_scope(args: list[str]) -> tuple[str, list[str]]:
    """The ``--verify`` value in ``args`` (default "new"), and the other arguments."""
    rest, scope = list(args), "new"
    while "--verify" in rest:
        at = rest.index("--verify")
        value = rest[at + 1] if at + 1 < len(rest) else ""
        if value not in VERIFY_SCOPES:
            raise SystemExit(f"error: --verify {value!r}: choose one of {', '.join(VERIFY_SCOPES)}")
        scope = value
        del rest[at:at + 2]
    return scope, rest


def option(command: list[str], name: str) -> str:
    """The last value of ``name`` in a command line (the last one wins, as argparse reads it)."""
    return [command[i + 1] for i, word in enumerate(command[:-1]) if word == name][-1]


def verify_findings(verdict_file: Path, cell: str, scope: str) -> None:
    """Run the script of each finding of ``verdict_file`` (in ``scope``, not a harness gap, not yet verified in
    this cell) in a fresh process; print and record whether it reproduces."""
    from harness.expectations import load_expectations
    from harness.findings import reproduce
    from harness.findings.build import UNSCRIPTED, group
    from harness.findings.summary import verification
    from harness.findings.verify import verify
    from harness.results import read_verdicts

    if not verdict_file.is_file():
        return
    done = reproduce.read([verdict_file])
    found = [f for f in group(read_verdicts(verdict_file, []), load_expectations())
             if f.kind not in UNSCRIPTED and f.example is not None and (scope == "all" or f.standing != "known")
             and cell not in done.get(f.id, {})]
    if found:
        print(f"\nverifying {len(found)} finding(s): each one's script in a fresh process", file=sys.stderr)
    folder = verdict_file.parent.parent / "repro" / cell
    for finding in found:
        record = verify(finding, folder, cell, SCRIPT_TIMEOUT_S)
        reproduce.write([record], verdict_file)
        print(f"  {finding.id} {verification(finding, {cell: record})} · python {record.script}", file=sys.stderr)


def command_for(name: str, args: list[str]) -> list[str]:
    """The harness command line a cell runs: ``args`` itself when it names a command, else ``run`` for the cell."""
    if args and args[0] in cli.COMMANDS and args[0] != "cell":
        return list(args)
    raw = f"reports/raw/{name}"
    return ["run", "--cell", name, "--profile", "default", "--out", f"{raw}.jsonl", "--junit", f"{raw}.xml",
            "--database", f"reports/hypothesis/{name}", *args]


def mismatches(cell: Cell, installed: dict[str, str]) -> list[str]:
    """How ``installed`` (``versions.installed()``) differs from the cell's pins, one phrase per package."""
    wanted = {"python": cell.python, "torch": cell.torch, "transformers": cell.transformers, "peft": cell.peft}
    found = []
    for package, pin in wanted.items():
        have = installed.get(package, "")
        # python: compare the minor version; torch: ignore a local build tag such as +cpu
        have = ".".join(have.split(".")[:2]) if package == "python" else have.split("+")[0]
        if have != pin:
            found.append(f"{package} is {have or 'not installed'}, the cell pins {pin}")
    return found
