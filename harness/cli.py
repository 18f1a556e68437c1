"""Command line: ``python -m harness COMMAND``. Each command lives in the module of its concern; this only routes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

#: command → (module with ``configure(parser)`` and ``main(args) -> int``, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "zoo": ("harness.archs.zoo_cli", "build one tiny model per architecture and show its status"),
    "methods": ("harness.methods.cli", "list the prompt methods of the installed peft, or survey wrapping them"),
    "run": ("harness.run_cli", "run the property suite here and write a verdict per (case, property)"),
    "repro": ("harness.repro_cli", "re-run one case here and print its verdicts and tracebacks"),
    "matrix": ("harness.matrix_cli", "show the version matrix (cells, pins, pairings); refresh the known releases"),
    "cell": ("harness.cell_cli", "run inside one matrix cell (what `tox -e <cell>` calls)"),
    "report": ("harness.report.cli", "build index.html, summary.md and compat.json from verdict files"),
}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = modules[name] = importlib.import_module(module_name)
        module.configure(sub.add_parser(name, help=help_text, description=module.__doc__))
    args = parser.parse_args(argv)
    try:
        return int(modules[args.command].main(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
