"""Judging one case: set it up, run every selected property under a time limit, and turn each into a verdict.

The ``wrap`` verdict comes first: when peft refuses or fails to wrap, every other property is a ``skip`` that
names the wrap outcome, so one wrap bug is one verdict, not one per property.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.cases import Case
from harness.oracles import Property
from harness.oracles.base import BaseUnusable, NotApplicable, NotRun, OracleFailure, Trial, setup
from harness.outcomes import NETWORK_REASON, error_info, is_clean_rejection, mask, signature, tried_network
from harness.quiet import capture_deprecations
from harness.results import Deprecation, Outcome, Verdict, case_verdict
from harness.timeouts import CaseTimeout, time_limit

#: a stand-in hook for the harness's own tests: receives the set-up trial and may swap ``trial.model``
TrialHook = Callable[[Trial], None]


def _verdict(case: Case, prop: str, outcome: Outcome, start: float, **fields: Any) -> Verdict:
    return case_verdict(case.to_json(), prop, outcome, duration_s=round(time.perf_counter() - start, 4), **fields)


def _from_exception(case: Case, prop: str, exc: BaseException, start: float, **fields: Any) -> Verdict:
    if isinstance(exc, NotApplicable):
        return _verdict(case, prop, "unsupported", start, reason=str(exc), **fields)
    if isinstance(exc, NotRun):
        return _verdict(case, prop, "skip", start, reason=str(exc), **fields)
    if isinstance(exc, CaseTimeout):
        return _verdict(case, prop, "timeout", start, signature=f"{prop}: timeout", reason=str(exc), **fields)
    info = error_info(exc)
    if isinstance(exc, OracleFailure):
        return _verdict(case, prop, "fail", start, signature=f"{prop}: {mask(str(exc))}", error=info, **fields)
    if tried_network(exc):
        return _verdict(case, prop, "crash", start, signature=signature(info), error=info, reason=NETWORK_REASON,
                        **fields)
    outcome: Outcome = "rejected" if is_clean_rejection(exc) else "crash"
    return _verdict(case, prop, outcome, start, signature=signature(info), error=info,
                    reason=str(exc)[:300] if outcome == "rejected" else "", **fields)


@contextmanager
def _step(timeout_s: float) -> Iterator[list[Deprecation]]:
    """One judged step: under the time limit, with the deprecation notices it raises collected for its verdict."""
    with capture_deprecations() as notices, time_limit(timeout_s):
        yield notices


def run_case(case: Case, properties: list[Property], timeout_s: float, *, pinned: bool = False,
             judge_wrap: bool = True, hook: TrialHook | None = None,
             starting: Callable[[str], None] | None = None) -> Iterator[Verdict]:
    """Verdicts for ``case``: first ``wrap`` (unless ``judge_wrap`` is False: a resumed case whose wrap verdict is
    on file), then one per property (in order), as each finishes. ``starting(name)`` is told before each step, so a
    supervisor knows what was in flight if the process dies."""
    announce = starting or (lambda name: None)
    announce("wrap")
    for verdict in _judge(case, properties, timeout_s, {"pinned": pinned}, hook, announce):
        if judge_wrap or verdict.property != "wrap":
            yield verdict


def _judge(case: Case, properties: list[Property], timeout_s: float, extra: dict[str, Any],
           hook: TrialHook | None, announce: Callable[[str], None]) -> Iterator[Verdict]:
    start = time.perf_counter()
    notices: list[Deprecation] = []
    try:
        with _step(timeout_s) as notices:
            trial = setup(case)
    except BaseUnusable as exc:
        why = f"the base model fails without peft ({exc}); see `python -m harness zoo --arch {case.arch.model_type}`"
        yield _verdict(case, "wrap", "skip", start, reason=why, deprecations=tuple(notices), **extra)
        yield from _skips(case, properties, "the base model fails without peft", extra)
        return
    except Exception as exc:  # noqa: BLE001 - a setup failure is the wrap verdict
        yield _from_exception(case, "wrap", exc, start, deprecations=tuple(notices), **extra)
        yield from _skips(case, properties, "setup did not finish", extra)
        return
    wrapped = trial.wrapped
    if wrapped.outcome != "wrapped":
        assert wrapped.error is not None
        yield _from_exception(case, "wrap", wrapped.error, start, deprecations=tuple(notices), **extra)
    else:
        reason = "peft inferred the prompt geometry" if wrapped.geometry == "inferred" else \
            "peft could not infer the prompt geometry; wrapped with explicit num_layers/token_dim/num_attention_heads"
        yield _verdict(case, "wrap", "pass", start, reason=reason, deprecations=tuple(notices), **extra)
        if hook is not None:
            hook(trial)
    for prop in properties:
        announce(prop.name)
        start = time.perf_counter()
        if wrapped.outcome != "wrapped" and not prop.standalone:
            yield _verdict(case, prop.name, "skip", start, reason=f"wrap {wrapped.outcome}", **extra)
            continue
        if prop.tasks is not None and case.arch.task not in prop.tasks:
            yield _verdict(case, prop.name, "unsupported", start, reason=f"only for {', '.join(prop.tasks)}", **extra)
            continue
        notices = []
        try:
            with _step(timeout_s) as notices:
                prop.check(trial)
        except BaseUnusable as exc:
            why = f"the base model fails this call without peft ({exc})"
            yield _verdict(case, prop.name, "skip", start, reason=why, deprecations=tuple(notices), **extra)
        except Exception as exc:  # noqa: BLE001 - every exception is an outcome
            yield _from_exception(case, prop.name, exc, start, deprecations=tuple(notices), **extra)
        else:
            yield _verdict(case, prop.name, "pass", start, deprecations=tuple(notices), **extra)


def _skips(case: Case, properties: list[Property], why: str, extra: dict[str, Any]) -> Iterator[Verdict]:
    now = time.perf_counter()
    for prop in properties:
        yield _verdict(case, prop.name, "skip", now, reason=why, **extra)
