"""Library chatter: silenced on the terminal, but deprecation notices that concern peft are kept as data.

:func:`quiet_libraries` routes transformers/peft/torch warnings away from the terminal. :func:`capture_deprecations`
records, without printing, every ``FutureWarning`` / ``DeprecationWarning`` and every transformers or peft logger
deprecation notice raised while a peft frame is on the stack: what the installed peft calls that its libraries
announce they will remove.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from types import FrameType
from typing import Any

from harness.results import Deprecation

#: loggers whose notices count (the libraries' root loggers; their modules' loggers propagate to them)
LOGGERS = ("transformers", "peft")
#: a logger message is a deprecation notice when it says so
_NOTICE = re.compile(r"deprecat|will be removed|no longer be supported|will stop supporting", re.IGNORECASE)
#: "will be removed in v4.47", "removed in transformers 5.0", "raise an error starting from PEFT v0.18.0"
_REMOVAL = re.compile(
    r"(?:removed|an error|unsupported)\s+(?:in|from|starting (?:from|with)|after)\s+"
    r"(?:(?P<library>transformers|peft|torch)\s+)?(?:version\s+|v)?(?P<version>\d+(?:\.\d+){0,2})",
    re.IGNORECASE,
)
#: notices kept per step (a loop that warns on every call must not grow a verdict without bound)
MAX_PER_STEP = 50


def quiet_libraries() -> None:
    """Route transformers/peft/torch warnings away from the terminal; one torch thread per process."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    for name in ("transformers", "peft", "torch"):
        logging.getLogger(name).setLevel(logging.ERROR)


def removal(message: str, issuer: str) -> str:
    """The release ``message`` announces the removal in, as "library version" (``issuer`` when the message names no
    library); "" when it names none."""
    found = _REMOVAL.search(message)
    if not found:
        return ""
    return " ".join(part for part in ((found["library"] or issuer).lower(), found["version"]) if part)


def peft_frame(frame: FrameType | None) -> str:
    """The innermost frame inside the peft package, as ``peft/peft_model.py:forward`` ("" if peft is not on the
    stack)."""
    while frame is not None:
        parts = PurePath(frame.f_code.co_filename).parts
        if "peft" in parts:
            start = len(parts) - 1 - parts[::-1].index("peft")
            return f"{'/'.join(parts[start:])}:{frame.f_code.co_name}"
        frame = frame.f_back
    return ""


def _package(frame: FrameType | None) -> str:
    """The top-level package of the first frame outside the warnings and logging machinery."""
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in ("warnings", "logging"):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "").split(".")[0] if frame is not None else ""


class _Recorder(logging.Handler):
    """A logging handler (and a ``warnings.showwarning``) that keeps deprecation notices with a peft frame."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: dict[tuple[str, str, str], Deprecation] = {}
        #: every other warning message raised with a peft frame on the stack (peft saying what it ignores)
        self.said: set[str] = set()

    def keep(self, category: str, message: str, issuer: str) -> None:
        frame = peft_frame(sys._getframe(1))
        key = (category, message, frame)
        if frame and key not in self.seen and len(self.seen) < MAX_PER_STEP:
            self.seen[key] = Deprecation(category, message[:500], frame, removal(message, issuer))

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if _NOTICE.search(message):
            self.keep("logger", message, record.name.split(".")[0])

    def showwarning(self, message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        if issubclass(category, (FutureWarning, DeprecationWarning)):
            self.keep(category.__name__, str(message), _package(sys._getframe(1)))
        elif len(self.said) < MAX_PER_STEP and peft_frame(sys._getframe(1)):
            self.said.add(str(message))


#: the captures in progress, innermost last
_ACTIVE: list[_Recorder] = []


def peft_warned(pattern: re.Pattern[str]) -> str:
    """The first warning raised through peft so far in the current capture that matches ``pattern`` ("" if none,
    or outside a capture): how an oracle learns that peft announced it ignores an argument."""
    said = sorted(_ACTIVE[-1].said) if _ACTIVE else []
    return next((message for message in said if pattern.search(message)), "")


@contextmanager
def capture_deprecations() -> Iterator[list[Deprecation]]:
    """Inside the block, deprecation notices raised with peft on the stack are collected (not printed) into the
    yielded list, which is filled when the block ends. transformers' "warn once" memory is cleared first, so every
    step sees the notices its own calls raise."""
    recorder = _Recorder()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(lg.level, lg.handlers[:], lg.propagate) for lg in loggers]
    _clear_warn_once()
    found: list[Deprecation] = []
    _ACTIVE.append(recorder)
    try:
        for lg in loggers:
            lg.handlers, lg.propagate = [recorder], False
            lg.setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = recorder.showwarning
            yield found
    finally:
        for lg, (level, handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
            lg.setLevel(level)
        _ACTIVE.remove(recorder)
        found.extend(recorder.seen.values())


def _clear_warn_once() -> None:
    """Forget the notices transformers' ``logger.warning_once`` has already shown (absent: nothing to forget)."""
    clear = getattr(getattr(logging.Logger, "warning_once", None), "cache_clear", None)
    if clear is not None:
        clear()
