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
    "run": ("harness.run.cli", "run the property suite here and write a verdict per (case, property)"),
    "judge": ("harness.judge_cli", "judge verdict files: the summary and exit status of what they hold"),
    "repro": ("harness.run.repro", "re-run one case here and print its verdicts and tracebacks"),
    "matrix": ("harness.matrix.cli", "show the version matrix (cells, pins, pairings); refresh the known releases"),
    "cell": ("harness.cell_cli", "run inside one matrix cell (what `tox -e <cell>` calls)"),
    "report": ("harness.report.cli", "build index.html, summary.md and compat.json from verdict files"),
    "bisect": ("harness.bisect.cli", "find the release where a case's failure appears or is fixed"),
    "nightly": ("harness.nightly_cli", "run many cells here in parallel (tox), then build their report"),
    "bench": ("harness.run.bench", "run here and print where the time went (wall, worker time in cases, start-up)"),
    "findings": ("harness.findings.cli", "group bad verdicts of many cells into findings: kind, range, reproducer"),
    "expect": ("harness.findings.expect_cli", "record a finding in expectations.yaml as a known bug or limitation"),
}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # only the chosen command's module is imported: `matrix` and `report` run without torch (CI setup jobs)
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if argv[:1] == [name]:
            module = importlib.import_module(module_name)
            command.description = module.__doc__
            module.configure(command)
    args = parser.parse_args(argv)
    try:
        return int(importlib.import_module(COMMANDS[args.command][0]).main(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
