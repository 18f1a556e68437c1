"""The work queue: everything pushed comes out once, handed-back items first, unseen groups next (in push order),
then the longest expected."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.schedule import LongestFirst

#: an item: (its name, its group, its examples)
items = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 10)), max_size=30).map(
    lambda pairs: [(f"item{i}", group, examples) for i, (group, examples) in enumerate(pairs)])


def _queue(pushed: list[tuple[str, int, int]]) -> LongestFirst[tuple[str, int, int]]:
    return LongestFirst(pushed, group=lambda item: item[1], examples=lambda item: item[2])


def _drain(queue: LongestFirst[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    return [queue.pop() for _ in range(len(queue))]


@given(items)
def test_before_anything_finished_the_order_is_the_push_order(pushed: list[tuple[str, int, int]]) -> None:
    assert _drain(_queue(pushed)) == pushed


@given(items, st.dictionaries(st.integers(0, 3), st.floats(0.01, 100), min_size=4))
def test_once_every_group_is_learnt_the_longest_expected_comes_first(pushed: list[tuple[str, int, int]],
                                                                    seconds: dict[int, float]) -> None:
    queue = _queue(pushed)
    for group, spent in seconds.items():
        queue.finished(("done", group, 2), spent)
    expected = [seconds[group] / 2 * examples for _, group, examples in _drain(queue)]
    assert expected == sorted(expected, reverse=True)


@given(items, items.map(lambda more: [(f"again{i}", g, e) for i, (_, g, e) in enumerate(more)]),
       st.lists(st.integers(0, 3), max_size=4))
def test_each_item_comes_out_once_handed_back_ones_first_unseen_groups_before_seen(
        pushed: list[tuple[str, int, int]], handed_back: list[tuple[str, int, int]], learnt: list[int]) -> None:
    queue = _queue(pushed)
    for group in learnt:
        queue.finished(("done", group, 1), 1.0)
    for item in handed_back:
        queue.again(item)
    out = _drain(queue)
    assert sorted(out) == sorted(pushed + handed_back)
    assert out[:len(handed_back)] == handed_back
    rest = [item[1] in learnt for item in out[len(handed_back):]]
    assert rest == sorted(rest), "an item of a group with nothing finished comes before every learnt one"
