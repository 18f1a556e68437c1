"""Which targets a capped profile runs: every code-path feature first, then by hash; and the features read from the
installed transformers (cache classes, attention kind, layer mixes, structure, copied families)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.archs.paths import cache_classes, features
from harness.archs.tasks import model_types
from harness.matrix.cells import Profile

FEATURES = st.frozensets(st.sampled_from([f"k:{i}" for i in range(30)]), max_size=5)


@st.composite
def _targets(draw: st.DrawFn) -> dict[str, frozenset[str]]:
    keys = draw(st.lists(st.text("abcdef", min_size=1, max_size=6), unique=True, min_size=1, max_size=60))
    return {k: draw(FEATURES) for k in keys}


@given(found=_targets(), spare=st.integers(0, 20))
def test_a_cap_as_large_as_the_features_covers_every_feature(found: dict[str, frozenset[str]], spare: int) -> None:
    every = frozenset().union(*found.values())
    cap = len(every) + spare
    profile = Profile("p", 1, 1.0, False, max(1, cap))
    picked = profile.pick(list(found), key=str, group=lambda k: k[0], features=found.__getitem__)
    assert len(picked) == min(max(1, cap), len(found))
    assert frozenset().union(*(found[k] for k in picked)) == every
    assert set(profile.pick(list(reversed(found)), key=str, group=lambda k: k[0], features=found.__getitem__)) \
        == set(picked)


@given(found=_targets(), cap=st.integers(1, 10))
def test_every_pick_has_a_reason_and_covering_picks_name_what_they_cover(found: dict[str, frozenset[str]],
                                                                          cap: int) -> None:
    keys = list(found)
    reasons = Profile("p", 1, 1.0, False, cap).choose(keys, key=str, features=found.__getitem__)
    for i, why in reasons.items():
        assert why in ("by hash", "every target") or set(why.removeprefix("covers ").split(", ")) <= found[keys[i]]


def test_cache_classes_are_the_ones_imported_or_defined() -> None:
    source = ("from ...cache_utils import Cache, DynamicCache\nfrom ...cache_utils import (\n    EncoderDecoderCache,"
              "\n    StaticCache,\n)\nclass MyModelCache(Cache):\n    pass\nx = HybridCache  # only mentioned\n")
    assert cache_classes(source) == {"DynamicCache", "EncoderDecoderCache", "StaticCache", "MyModelCache"}


@pytest.mark.parametrize(("task", "model_type", "expected"), [
    ("causal-lm", "llama", {"attention:grouped-kv", "family:llama"}),
    ("causal-lm", "mistral", {"attention:sliding"}),
    ("seq2seq-lm", "bart", {"structure:encoder-decoder", "family:bart"}),
    ("image-text-to-text", "llava", {"structure:multimodal"}),
    ("causal-lm", "gpt2", {"attention:multi-head"}),
])
def test_features_of_well_known_architectures(task: str, model_type: str, expected: set[str]) -> None:
    if model_type not in model_types(task):
        pytest.skip(f"no {model_type} for {task} in this transformers")
    found = features(task, model_type)
    assert expected <= found
    assert any(f.startswith("cache:") for f in found)
