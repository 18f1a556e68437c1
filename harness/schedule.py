"""The order in which a supervisor hands out work: the longest expected first, so that a pass does not end with one
worker on a long item while the others idle.

What an item will cost is learnt as the run goes: the seconds per example of the items of its group (task, method)
that have finished. An item of a group not seen yet comes first (it is as likely as any to be long, and its cost
teaches the rest), an item handed back after its worker died comes before everything. The order changes only when
work starts, never what it judges: every item draws its cases from its own seed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class LongestFirst(Generic[Item]):
    """A work queue: ``pop`` gives the item expected to take longest (``group`` says which items cost alike,
    ``examples`` how many examples an item holds)."""

    def __init__(self, items: Iterable[Item], group: Callable[[Item], Hashable],
                 examples: Callable[[Item], int]) -> None:
        self._items = list(items)
        self._again: deque[Item] = deque()
        self._group, self._examples = group, examples
        #: group → (seconds, examples) of its finished items
        self._spent: dict[Hashable, tuple[float, int]] = {}

    def __len__(self) -> int:
        return len(self._items) + len(self._again)

    def push(self, items: Iterable[Item]) -> None:
        self._items.extend(items)

    def again(self, item: Item) -> None:
        """Hand ``item`` out before anything else (the rest of a target whose worker died)."""
        self._again.append(item)

    def expected(self, item: Item) -> float:
        """Seconds ``item`` is expected to take (infinite while its group has no finished item)."""
        seconds, examples = self._spent.get(self._group(item), (0.0, 0))
        return seconds / examples * self._examples(item) if examples else float("inf")

    def pop(self) -> Item:
        """The item to start next: handed back first, then the longest expected (the earliest pushed of equals)."""
        if self._again:
            return self._again.popleft()
        best = max(range(len(self._items)), key=lambda i: (self.expected(self._items[i]), -i))
        return self._items.pop(best)

    def finished(self, item: Item, seconds: float) -> None:
        """Learn from an item that took ``seconds``."""
        group = self._group(item)
        spent, examples = self._spent.get(group, (0.0, 0))
        self._spent[group] = (spent + seconds, examples + max(1, self._examples(item)))
