"""`run --shard I/N`: shards are disjoint, together cover every target, depend on a target's key alone; and
`run --list-targets` over N shards lists exactly the unsharded run's targets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import cli
from harness.matrix.shards import Shard

KEYS = st.lists(st.text(min_size=1, max_size=30), unique=True, max_size=60)


@given(keys=KEYS, count=st.integers(1, 12))
def test_shards_are_disjoint_and_cover_every_target(keys: list[str], count: int) -> None:
    shards = [Shard(i, count) for i in range(1, count + 1)]
    owners = {key: [s for s in shards if s.holds(key)] for key in keys}
    assert all(len(found) == 1 for found in owners.values())


@given(keys=KEYS, others=KEYS, count=st.integers(1, 12), index=st.data())
def test_a_targets_shard_does_not_depend_on_the_other_targets(keys: list[str], others: list[str], count: int,
                                                               index: st.DataObject) -> None:
    shard = Shard(index.draw(st.integers(1, count)), count)
    alone = [k for k in keys if shard.holds(k)]
    among = [k for k in keys + [o for o in others if o not in keys] if shard.holds(k)]
    assert among[: len(alone)] == alone


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", "-1/2", "1/2/3"])
def test_a_bad_shard_is_refused_with_the_form_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match=r"--shard takes I/N"):
        Shard.parse(text)


def test_list_targets_over_the_shards_is_the_unsharded_list(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["run", "--profile", "default", "--list-targets"]
    assert cli.main(base) == 0
    unsharded = capsys.readouterr().out.split()
    assert len(unsharded) > 10
    sharded = []
    for i in range(1, 4):
        assert cli.main([*base, "--shard", f"{i}/3"]) == 0
        sharded += capsys.readouterr().out.split()
    assert sorted(sharded) == sorted(unsharded) and len(set(sharded)) == len(sharded)
