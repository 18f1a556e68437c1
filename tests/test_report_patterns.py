"""The status patterns page and compat.json are written in: lossless, one pattern per distinct string of statuses,
and invalid encodings refused with the place that is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.report import patterns
from harness.report.model import STATUSES, Key

NAMES = st.sampled_from(["a", "b", "c", "d"])
KEYS = st.builds(Key, NAMES, NAMES, NAMES, NAMES, NAMES)


@given(st.dictionaries(KEYS, st.sampled_from(STATUSES), max_size=60))
def test_decoding_an_encoding_gives_the_statuses_back_and_each_pattern_is_stored_once(
        statuses: dict[Key, str]) -> None:
    table = patterns.encode(statuses)
    assert patterns.decode(table.cells, table.properties, table.patterns, table.rows, table.indices) == statuses
    assert len(set(table.patterns)) == len(table.patterns)
    assert table.rows == tuple(sorted({key[1:4] for key in statuses}))
    assert all(len(pattern) == len(table.cells) for pattern in table.patterns)


def test_the_given_cell_order_comes_first_and_unseen_cells_are_absent() -> None:
    table = patterns.encode({Key("c2", "a", "t", "m", "p"): "crash"}, cells=["c9", "c2"])
    assert table.cells == ("c9", "c2") and table.patterns == (f"{patterns.ABSENT}{STATUSES.index('crash')}",)


@pytest.mark.parametrize(("encoding", "says"), [
    ((["c"], ["p"], ["00"], [("a", "t", "m")], [[0]]), "patterns[0] is not 1 characters"),
    ((["c"], ["p"], ["x"], [("a", "t", "m")], [[0]]), "patterns[0] is not 1 characters"),
    ((["c"], ["p"], ["0"], [("a", "t", "m")], [[1]]), "rows[0] needs 1 pattern indices below 1"),
    ((["c"], ["p"], ["0"], [("a", "t", "m")], [[0, 0]]), "rows[0] needs 1 pattern indices"),
    ((["c"], ["p"], ["0"], [("a", "t", "m")], []), "1 rows but 0 lists"),
])
def test_an_invalid_encoding_is_refused_naming_what_is_wrong(encoding: tuple, says: str) -> None:
    with pytest.raises(patterns.PatternError, match=says.replace("[", r"\[").replace("]", r"\]")):
        patterns.decode(*encoding)
