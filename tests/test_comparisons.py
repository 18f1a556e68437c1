"""assert_changed on outputs of different shapes: a verdict (pass or OracleFailure), never a crash."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from harness.oracles.base import CHANGE_MIN, OracleFailure, assert_changed


@given(batch=st.integers(1, 3), length=st.integers(1, 6), extra=st.integers(1, 4), width=st.sampled_from([0, 5]),
       moved=st.booleans())
def test_outputs_with_virtual_positions_compare_over_their_common_tail(batch: int, length: int, extra: int,
                                                                       width: int, moved: bool) -> None:
    """A longer output (virtual tokens kept in front) is compared over the reference's positions, the last ones;
    span logits (batch, seq) as well as (batch, seq, vocab)."""
    shape = (batch, length, width) if width else (batch, length)
    reference = torch.zeros(shape)
    longer = torch.cat([torch.full((batch, extra, *shape[2:]), 9.0), reference + (10 * CHANGE_MIN if moved else 0)],
                       dim=1)
    if moved:
        assert_changed(longer, reference, "outputs")
    else:
        with pytest.raises(OracleFailure, match="no effect"):
            assert_changed(longer, reference, "outputs")


def test_shapes_that_differ_beyond_the_length_fail_with_both_shapes() -> None:
    with pytest.raises(OracleFailure, match=r"\(2, 3, 4\) cannot be compared with \(2, 3, 5\)"):
        assert_changed(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5), "outputs")
