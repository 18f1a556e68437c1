"""A wall-clock guard for one case, so a hang becomes a verdict instead of a stuck run."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class CaseTimeout(Exception):
    """The guarded block ran longer than its limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` inside the block after ``seconds`` (SIGALRM; main thread only, else unguarded).

    Torch kernels are not interrupted mid-call; the alarm lands at the next Python frame, which for tiny models
    is within milliseconds. A hang inside one C call is caught by the process-level guard of the runner.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise CaseTimeout(f"exceeded {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
