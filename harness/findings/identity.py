"""What makes two bad verdicts one finding, and the finding's stable id.

* a crash: its error type, masked message and innermost peft/transformers frame, whatever the property, arch,
  method or cell (one bug reached through 40 architectures and 7 properties is one finding); a harness gap is
  keyed by the harness frame it came from instead, so one set-up bug is one finding too;
* a wrong answer: the property and what differed (the oracle's message up to its numbers: "generate vs greedy
  loop", not which row or step);
* a timeout: the architecture that ran out of time (one slow model, whichever method wraps it);
* a deprecation notice (not a failure): the peft frame that raised it and its masked message.

The id is a hash of that key, so the same bug has the same id in every run, cell and machine.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final, Literal

from harness.findings.frames import harness_gap_frame
from harness.outcomes import mask
from harness.results import Deprecation, ErrorInfo, Verdict

#: who a finding speaks about: the pair (a bug), the harness (its own set-up), or a notice (a forecast)
Origin = Literal["pair", "harness", "notice"]
#: where an oracle's message stops saying what differed and starts saying by how much
#: peft's task wrappers (PeftModelForCausalLM, …ForSequenceClassification): one peft bug shows through all of them
_PEFT_WRAPPER: Final = re.compile(r"\bPeftModelFor[A-Z]\w*")
_MEASURE: Final = re.compile(r":\s*(?:max \|difference\||row N\b|N new tokens|shape\b)|,\s*e\.g\.\s")


@dataclass(frozen=True)
class Identity:
    """The grouping key of a bad verdict, and whether the pair or the harness is to blame."""

    key: str
    origin: Origin
    #: what a maintainer reads: the masked error (``Type: message @ frame``) or ``property: what differed``
    text: str

    @property
    def id(self) -> str:
        return "F" + hashlib.sha256(self.key.encode()).hexdigest()[:8]


def identify(verdict: Verdict) -> Identity:
    """The identity of a bad verdict (fail, crash or timeout)."""
    if verdict.outcome == "timeout":
        return Identity(f"timeout|{verdict.arch}", "pair", f"timeout: {verdict.arch} ran past its time limit")
    if verdict.outcome == "fail":
        what = _what_differed(verdict.error.message if verdict.error else verdict.signature)
        return Identity(f"fail|{verdict.property}|{what}", "pair", f"{verdict.property}: {what}")
    return crash_identity(verdict.error or ErrorInfo(verdict.signature.split(":")[0] or "Error", verdict.signature))


def crash_identity(error: ErrorInfo) -> Identity:
    """The identity of an exception (type, message, library frame and traceback), however it was recorded."""
    message = _PEFT_WRAPPER.sub("PeftModelFor<Task>", mask(error.message))
    gap = harness_gap_frame(error.traceback, error.type, error.message)
    if gap:
        return Identity(f"harness|{error.type}|{message}|{gap}", "harness", f"{error.type}: {message} @ {gap}")
    where = f" @ {error.frame}" if error.frame else ""
    return Identity(f"crash|{error.type}|{message}|{error.frame}", "pair", f"{error.type}: {message}{where}")


def notice_identity(notice: Deprecation) -> Identity:
    """The identity of a deprecation notice: where peft called the deprecated API, and what the notice says."""
    message = mask(notice.message)
    removal = f"removal in {notice.removal}" if notice.removal else "no removal announced"
    return Identity(f"deprecation|{notice.frame}|{message}", "notice",
                    f"{notice.frame or 'no peft frame'} ({removal}) · {notice.category}: {message}")


def _what_differed(message: str) -> str:
    masked = mask(message)
    return _MEASURE.split(masked, maxsplit=1)[0].strip()
