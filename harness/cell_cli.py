"""Run inside one matrix cell: what ``tox -e <cell>`` calls.

``cell NAME`` runs the property suite with the default profile, writing reports/raw/NAME.jsonl and NAME.xml and
keeping the hypothesis database in reports/hypothesis/NAME; arguments after NAME are appended to that ``run``
command (``--method PREFIX_TUNING``, ``--profile smoke``: the last value of an option wins). If they start with a
harness command (``zoo``, ``repro``, ...), that command runs instead. The installed versions must be the cell's.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness import cli, versions
from harness.datafile import DataFileError
from harness.matrix import Cell, load_matrix


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
    return cli.main(command_for(cell.name, args.args))


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
