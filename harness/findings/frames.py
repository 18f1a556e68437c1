"""Where an exception came from, read from its formatted traceback: the harness's own set-up and comparison code,
or a call into peft or the model.

A crash is a *harness gap* when the innermost harness frame handed control to no peft frame (the error arose in
the harness itself, in torch under a harness comparison, or in a transformers utility the harness called to build
a cache or an input) and the error is not Python refusing the arguments of the harness's call (a ``TypeError``
such as ``PeftModelForSeq2SeqLM.generate() takes 1 positional argument``: the callee's contract). That errs on the
side of the pair: a refusal by a base model the harness called itself is counted against the pair too, rather
than a peft bug behind a swapped-in forward being hidden as a harness gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Final

_FRAME: Final = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)', re.MULTILINE)
#: what separates a chained exception's tracebacks; the last section is the exception that was recorded
_CHAIN: Final = re.compile(r"\n(?:The above exception was the direct cause of the following exception:|"
                           r"During handling of the above exception, another exception occurred:)\n")
#: Python refusing a call's arguments: raised in the caller's (the harness's) frame, but the callee's signature is
#: what it reports. The callee may be named after the base model even when the harness called the peft model (inside
#: ``disable_adapter()`` prompt methods swap in the base model's forward), so it counts as the pair's
_CALL_BINDING: Final = re.compile(r"^[\w.<>]+\(\) (?:takes|got an unexpected|got multiple|missing \d+ required)")
#: top-level packages whose frames say who is involved; anything else (torch, the stdlib) is neutral ground
_OWNERS: Final = ("harness", "peft", "transformers")


@dataclass(frozen=True)
class Frame:
    #: "harness", "peft", "transformers" or "" (torch, the stdlib, a script)
    owner: str
    #: ``package/module.py:function`` for an owned frame, ``file.py:function`` otherwise
    where: str


def frames(traceback_text: str) -> list[Frame]:
    """The frames of the last exception in ``traceback_text``, outermost first."""
    last = _CHAIN.split(traceback_text)[-1]
    return [_frame(path, function) for path, _, function in _FRAME.findall(last)]


def _frame(path: str, function: str) -> Frame:
    parts = PurePath(path).parts
    # the innermost owner component: a venv inside the harness checkout holds peft under .../harness-repo/.tox/...
    found = [(i, part) for i, part in enumerate(parts) if part in _OWNERS]
    if not found or "site-packages" in parts[found[-1][0]:]:
        return Frame("", f"{parts[-1] if parts else path}:{function}")
    start, owner = found[-1]
    return Frame(owner, f"{'/'.join(parts[start:])}:{function}")


def harness_gap_frame(traceback_text: str, error_type: str, message: str) -> str:
    """The harness frame a crash came from (``harness/caches.py:make``) when it is a harness gap, else ``""``."""
    stack = frames(traceback_text)
    innermost = max((i for i, f in enumerate(stack) if f.owner == "harness"), default=None)
    if innermost is None:
        return ""
    if any(f.owner == "peft" for f in stack[innermost + 1:]):
        return ""
    raised_here = innermost == len(stack) - 1 or all(f.owner == "" for f in stack[innermost + 1:])
    if raised_here and refuses_call(error_type, message):
        return ""
    return stack[innermost].where


def refuses_call(error_type: str, message: str) -> bool:
    """Whether the error is Python refusing a call's arguments (the callee's contract, not the caller's code)."""
    return error_type == "TypeError" and bool(_CALL_BINDING.search(message))
