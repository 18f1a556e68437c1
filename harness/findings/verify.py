"""Running a finding's standalone script in a fresh process of this environment, and judging what it shows.

The script reproduces a crash finding when it dies of an exception with the finding's identity (type, masked
message, innermost peft/transformers frame); a wrong-answer finding when its own check raises
``PropertyViolated``; a timeout finding when it runs out of time. Exiting 0, or failing any other way (an error
of the script's own code, another exception), is "does not reproduce", with what it showed instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from harness.findings.build import Finding
from harness.findings.frames import frames, refuses_call
from harness.findings.identity import crash_identity
from harness.findings.reproduce import Reproduction
from harness.results import ErrorInfo

#: characters of the script's output kept in the record
OUTPUT = 4000
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")
_VIOLATED = "PropertyViolated"
#: what Python 3.10+ appends to a printed AttributeError / NameError (not part of ``str(exc)``, which was recorded)
_SUGGESTION = re.compile(r"\. Did you mean: '[^']*'\?$")


def last_exception(output: str) -> ErrorInfo | None:
    """The exception a Python traceback in ``output`` ends with (type, message, library frame, traceback)."""
    start = output.rfind("Traceback (most recent call last):")
    if start < 0:
        return None
    text = output[start:]
    lines = text.splitlines()
    last_frame = max((i for i, row in enumerate(lines) if row.startswith('  File "')), default=0)
    for i in range(last_frame + 1, len(lines)):
        row = lines[i]
        if row.startswith(" ") or not row:
            continue
        match = _EXCEPTION_LINE.match(row)
        if match:
            message = _SUGGESTION.sub("", "\n".join([match.group(2) or "", *lines[i + 1:]]).strip())
            stack = frames(text)
            frame = next((f.where for f in reversed(stack) if f.owner in ("peft", "transformers")), "")
            return ErrorInfo(match.group(1).rsplit(".", 1)[-1], message, frame, text)
    return None


def judge(finding: Finding, exit_code: int | None, output: str) -> tuple[bool, str]:
    """(reproduces, what the script showed) for a script of ``finding`` that exited with ``exit_code`` (None:
    killed at its time limit) after printing ``output``."""
    expected = finding.example.outcome if finding.example else "crash"
    if exit_code is None:
        return expected == "timeout", "timeout"
    if exit_code == 0:
        return False, "exit 0: no failure"
    error = last_exception(output)
    if error is None:
        return False, f"exit {exit_code} without a Python traceback"
    if error.type == _VIOLATED:
        return expected == "fail", f"{_VIOLATED}: {error.message.splitlines()[0][:200] if error.message else ''}"
    shown = crash_identity(error)
    own = not error.frame and not any(f.owner for f in frames(error.traceback))
    if own and not refuses_call(error.type, error.message):
        return False, f"the script's own error: {shown.text}"
    return expected == "crash" and shown.key == finding.identity.key, shown.text


def run_script(script: Path, timeout_s: float) -> tuple[int | None, str]:
    """Run ``script`` with this interpreter in a fresh process: (exit code or None on timeout, its output)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=timeout_s,
                              env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        return None, out.decode(errors="replace") if isinstance(out, bytes) else out
    return done.returncode, done.stdout + done.stderr


def verify(finding: Finding, folder: Path, cell: str, timeout_s: float) -> Reproduction:
    """Write ``finding``'s script into ``folder``, run it here, and record whether it reproduces the finding."""
    from harness.cases import Case
    from harness.script import write_script

    example = finding.example
    if example is None:
        raise ValueError(f"finding {finding.id} has no replayable example case")
    script = write_script(Case.from_json(example.case), folder / f"{finding.id}.py", example.property)
    exit_code, output = run_script(script, timeout_s)
    reproduces, observed = judge(finding, exit_code, output)
    return Reproduction(finding.id, cell, example.case_id, example.property, reproduces, observed,
                        -1 if exit_code is None else exit_code, output[-OUTPUT:], str(script))
