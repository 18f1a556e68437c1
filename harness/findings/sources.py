"""Verdict files named on a command line: files, or directories standing for their ``*.jsonl``; each file read
once however often it is named, and what cannot be read recorded (by file and line) while the rest is read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from harness.results import BadLine, Verdict, read_verdicts


def expand(paths: Iterable[str | Path], problems: list[BadLine]) -> Iterator[Path]:
    """The verdict files ``paths`` name, in order, without repeats; a missing path or an empty directory is a
    problem, not an error."""
    seen: set[Path] = set()
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(path.glob("*.jsonl"))
            files = [f for f in files if not f.name.endswith(".repro.jsonl")]
            if not files:
                problems.append(BadLine(str(path), 0, "directory holds no *.jsonl verdict files"))
        elif path.exists():
            files = [path]
        else:
            problems.append(BadLine(str(path), 0, "no such file (did a glob match nothing?)"))
            files = []
        for file in files:
            if file.resolve() not in seen:  # the same file twice (overlapping globs) would count its verdicts twice
                seen.add(file.resolve())
                yield file


def verdicts(files: Iterable[Path], problems: list[BadLine]) -> Iterator[Verdict]:
    """Every readable verdict of ``files``; unreadable lines and files go to ``problems``."""
    for file in files:
        try:
            yield from read_verdicts(file, problems)
        except OSError as exc:
            problems.append(BadLine(str(file), 0, f"cannot read: {exc.strerror or exc}"))
