"""Argument types for the command line, checked by argparse before any heavy library is imported: a bad value is
refused at once with what to do, not after a minute of imports or a run that cannot mean anything."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def positive_int(text: str) -> int:
    """A whole number ≥ 1 (an example budget)."""
    return _whole(text, 1, "give a whole number of at least 1")


def count(text: str) -> int:
    """A whole number ≥ 0 (a re-run count: 0 turns re-runs off)."""
    return _whole(text, 0, "give a whole number of at least 0")


def jobs(text: str) -> int:
    """Worker processes: a whole number ≥ 1, or ``auto`` for one per core."""
    if text == "auto":
        return os.cpu_count() or 1
    return _whole(text, 1, "give at least 1 worker, or 'auto' for one per core")


def positive_float(text: str) -> float:
    """Seconds above 0 (a time limit)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0")
    return value


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file" + (" (it is a directory)" if path.is_dir() else ""))
    return path


def _whole(text: str, minimum: int, fix: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r}: {fix}")
    return value
