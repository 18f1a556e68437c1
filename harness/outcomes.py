"""Turning exceptions into outcomes and signatures.

A *signature* names a bug independently of the case that showed it: exception type, the message with numbers,
addresses, shapes and reprs masked, and the innermost frame inside peft or transformers. One bug seen in 40
architectures is one signature.

A *clean rejection* is an exception whose type and message explain that the combination is not supported
(``ValueError: ... only supports task_type = CAUSAL_LM``); anything else raised is a crash.
"""

from __future__ import annotations

import re
import traceback
from pathlib import PurePath
from typing import Final

from harness.results import ErrorInfo

#: exception types a library raises on purpose to refuse an input
REJECTION_TYPES: Final = ("ValueError", "NotImplementedError", "AssertionError")
#: phrases by which a message explains a refusal
REJECTION_PHRASES: Final = re.compile(
    r"not (?:yet )?supported|unsupported|only supports?|is not compatible|incompatible|must (?:be|have|not)|"
    r"please (?:specify|use|set|provide|pass)|requires?|cannot be|can ?not be|can't be|should (?:be|not)|"
    r"is not implemented|does not support|doesn't support|not (?:allowed|possible|implemented)|expected .* to be|"
    r"invalid .*choose one of",
    re.IGNORECASE,
)
#: messages that look explanatory but denote a bug in the caller/callee contract
CRASH_PHRASES: Final = re.compile(r"got multiple values for|unexpected keyword argument|takes \d+ positional", re.I)

#: messages by which the hub client or the socket layer says a case tried to reach the network
NETWORK_PHRASES: Final = re.compile(
    r"HF_HUB_OFFLINE|offline mode|couldn't connect to|Max retries exceeded|Name or service not known|"
    r"Temporary failure in name resolution|Network is unreachable",
    re.IGNORECASE,
)
NETWORK_REASON: Final = ("the case tried to reach the network, which runs never may (HF_HUB_OFFLINE=1): whatever "
                         "it loads must be built in code instead; see the traceback for the call")

_LIBRARIES: Final = ("peft", "transformers")
#: a module repr spanning lines, e.g. "LlamaForCausalLM(\n  (model): ...\n)" as Python prints a callable; the
#: class name goes too, so one bug reached through 40 architectures is one signature
_MODULE_REPR: Final = re.compile(r"\b([A-Z]\w*)\(\n.*\n\)", re.DOTALL)
_MASKS: Final = (
    (re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>"), "<obj>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "0x?"),
    (re.compile(r"(['\"])/[^'\"]*\1"), "'<path>'"),
    (re.compile(r"(?<![\w'\"/])/(?:[^\s/'\"()]+/)+[^\s'\"()]*"), "<path>"),
    (re.compile(r"torch\.Size\(\[[\d, ]*\]\)"), "torch.Size([…])"),
    (re.compile(r"\[[\d, ]+\]"), "[…]"),
    (re.compile(r"\(\s*\d+(?:\s*,\s*\d+)+\s*\)"), "(…)"),
    (re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w])"), "N"),
)


def is_clean_rejection(exc: BaseException) -> bool:
    """Whether ``exc`` is a deliberate, explained refusal rather than a crash."""
    message = str(exc)
    return (
        type(exc).__name__ in REJECTION_TYPES
        and bool(REJECTION_PHRASES.search(message))
        and not CRASH_PHRASES.search(message)
    )


def tried_network(exc: BaseException) -> bool:
    """Whether ``exc`` says the case tried to download something."""
    return bool(NETWORK_PHRASES.search(f"{type(exc).__name__}: {exc}"))


def mask(message: str) -> str:
    """``message`` with case-specific details (numbers, addresses, shapes, paths, reprs) replaced by placeholders."""
    collapsed = _MODULE_REPR.sub("<Model>(…)", message.strip())
    collapsed = re.sub(r"\b[A-Z]\w*\(…\)", "<Model>(…)", collapsed)
    first = collapsed.splitlines()[0] if collapsed else ""
    for pattern, replacement in _MASKS:
        first = pattern.sub(replacement, first)
    return first[:240]


def library_frame(tb: traceback.StackSummary | list[traceback.FrameSummary]) -> str:
    """The innermost frame inside peft or transformers, as ``peft/peft_model.py:forward`` ("" if none)."""
    for frame in reversed(list(tb)):
        parts = PurePath(frame.filename).parts
        for lib in _LIBRARIES:
            if lib in parts:
                start = len(parts) - 1 - parts[::-1].index(lib)
                return f"{'/'.join(parts[start:])}:{frame.name}"
    return ""


def _collapse_module_reprs(message: str) -> str:
    """``LlamaForCausalLM(\n  (model): …\n)`` → ``LlamaForCausalLM(…)``: module trees say nothing about the bug."""
    return _MODULE_REPR.sub(r"\1(…)", message)


def error_info(exc: BaseException) -> ErrorInfo:
    """The error record of ``exc`` (type, full first-line message, library frame, formatted traceback)."""
    tb = traceback.extract_tb(exc.__traceback__)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ErrorInfo(
        type=type(exc).__name__,
        message=_collapse_module_reprs(str(exc))[:2000],
        frame=library_frame(tb),
        traceback=text[-8000:],
    )


def signature(error: ErrorInfo) -> str:
    """``Type: masked message @ frame``; equal for the same bug reached from different cases."""
    where = f" @ {error.frame}" if error.frame else ""
    return f"{error.type}: {mask(error.message)}{where}"
