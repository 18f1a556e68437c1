"""A target whose first case does not wrap is recorded once; the examples it leaves go to targets that wrap, in an
order that depends on the verdicts alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.run.plan import Target, top_up
from harness.results import Verdict

OUTCOMES = ("pass", "crash", "rejected", "skip")


def _wrap(target: Target, case: str, outcome: str) -> Verdict:
    return Verdict(case_id=case, cell="c", versions={}, arch=target.arch, task=target.task, method=target.method,
                   property="wrap", outcome=outcome,  # type: ignore[arg-type]
                   signature="" if outcome in ("pass", "skip") else f"{outcome}: E", case={"arch": {}})


@st.composite
def _runs(draw: st.DrawFn) -> tuple[list[Target], list[Verdict], int]:
    examples = draw(st.integers(1, 10))
    targets = [Target("causal-lm", f"a{i}", "PREFIX_TUNING") for i in range(draw(st.integers(1, 12)))]
    verdicts = []
    for t in targets:
        if draw(st.booleans()):  # ended at its first case
            verdicts.append(_wrap(t, f"{t.arch}-0", draw(st.sampled_from(("crash", "rejected")))))
        else:
            verdicts += [_wrap(t, f"{t.arch}-{i}", draw(st.sampled_from(OUTCOMES)))
                         for i in range(draw(st.integers(1, examples)))]
    return targets, draw(st.permutations(verdicts)), examples


@given(_runs())
def test_spare_examples_go_to_targets_that_wrapped_all_of_them_stably(run: tuple[list[Target], list[Verdict], int]
                                                                       ) -> None:
    targets, verdicts, examples = run
    extra = top_up(targets, verdicts, examples)
    mine = {t.arch: [v for v in verdicts if v.arch == t.arch] for t in targets}
    ended = {a for a, vs in mine.items() if len(vs) == 1 and vs[0].outcome in ("crash", "rejected")}
    wrapped = {v.arch for v in verdicts if v.outcome == "pass"}
    assert {t.arch for t, _ in extra} <= wrapped
    assert sum(n for _, n in extra) == ((examples - 1) * len(ended) if wrapped else 0)
    if extra:
        assert max(n for _, n in extra) - min(n for _, n in extra) <= 1
    assert top_up(targets, list(reversed(verdicts)), examples) == extra


@given(_runs(), st.data())
def test_the_top_up_is_known_once_every_target_still_running_has_wrapped(run: tuple[list[Target], list[Verdict],
                                                                                  int], data: st.DataObject) -> None:
    """What lets the supervisor ask for the top-up before its pass ends: stop any target after a case that wrapped
    (it is still running) or let it finish; the verdicts so far give the top-up all of them give."""
    targets, verdicts, examples = run
    so_far = []
    for t in targets:
        mine = [v for v in verdicts if v.arch == t.arch]
        wrapped_at = [i for i, v in enumerate(mine) if v.outcome == "pass"]
        stop = data.draw(st.sampled_from([len(mine)] + [i + 1 for i in wrapped_at]), label=f"stop {t.arch}")
        so_far += mine[:stop]
    assert top_up(targets, so_far, examples) == top_up(targets, verdicts, examples)
