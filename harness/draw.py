"""Drawing one value from a strategy outside a test, deterministically: the same seed gives the same value."""

from __future__ import annotations

from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

T = TypeVar("T")


def draw(strategy: st.SearchStrategy[T], seed: int) -> T:
    """A pseudo-random value of ``strategy`` fixed by ``seed``.

    Hypothesis tries the simplest value first; the second example is the first one the seed shapes.
    """
    found: list[T] = []

    @settings(
        database=None, max_examples=2, phases=[Phase.generate], deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def capture(value: T) -> None:
        found.append(value)

    capture()
    return found[-1]
