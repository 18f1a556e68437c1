"""Strategies are built once per target and reused by every example: a cached strategy draws exactly what a freshly
built one draws (the caches change the cost of drawing, never the cases)."""

from __future__ import annotations

import pytest

from harness.archs import strategies
from harness.calls import call_spec, generate_spec
from harness.cases import case_strategy
from harness.draw import draw
from harness.methods import wrap

CACHES = (case_strategy, strategies.arch_spec, strategies._overrides, strategies._own_fields, wrap._method_spec,
          call_spec, generate_spec)


def _clear() -> None:
    for cached in CACHES:
        cached.cache_clear()


@pytest.mark.parametrize(("task", "model_type", "method"), [
    ("causal-lm", "llama", "PREFIX_TUNING"), ("seq2seq-lm", "t5", "PROMPT_TUNING"),
    ("causal-lm", "gpt2", "MULTITASK_PROMPT_TUNING"),
])
def test_a_cached_strategy_draws_what_a_fresh_one_draws(task: str, model_type: str, method: str) -> None:
    seeds = range(4)
    _clear()
    fresh = []
    for seed in seeds:
        fresh.append(draw(case_strategy(task, model_type, method, seed), seed))
        _clear()
    warm = [draw(case_strategy(task, model_type, method, seed), seed) for seed in seeds]
    assert warm == fresh
    assert len({c.id for c in warm}) > 1
