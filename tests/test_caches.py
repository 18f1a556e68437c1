"""Cache forms discovered from the installed transformers: every class and implementation that runs here, sized by
the text config of composite models, and measured whatever their container."""

from __future__ import annotations

import inspect

import torch
import transformers.cache_utils as cache_utils
from hypothesis import given
from hypothesis import strategies as st

from harness.caches import cache_implementations, cache_length, empty_forms, prefilled_forms, runs_here


def test_every_cache_class_that_runs_here_has_an_empty_and_a_filled_form() -> None:
    classes = {name for name, cls in vars(cache_utils).items()
               if inspect.isclass(cls) and issubclass(cls, cache_utils.Cache) and cls is not cache_utils.Cache}
    named = {"DynamicCache": "dynamic-empty", "StaticCache": "static", "EncoderDecoderCache": "encoder-decoder-empty"}
    # left out by design, and only these: caches that offset the queries (multi-token / speculative decoding)
    offsetting = {name for name in classes if "get_query_offset" in vars(getattr(cache_utils, name))}
    expected = {named.get(name, name) for name in classes - offsetting if runs_here(name)}
    assert expected <= set(empty_forms())
    assert not offsetting & set(empty_forms())
    decoder_forms = {name for name, form in empty_forms().items() if form.suits == "decoder"}
    assert {f"{name}-filled" for name in decoder_forms} <= set(prefilled_forms())


def test_cache_implementations_are_the_installed_list_less_what_this_machine_lacks() -> None:
    from transformers.generation import configuration_utils as gen_config

    installed = tuple(dict.fromkeys(gen_config.ALL_CACHE_IMPLEMENTATIONS))
    assert cache_implementations() == tuple(n for n in installed if runs_here(n))
    assert "static" in cache_implementations()
    if not torch.cuda.is_available():
        assert not any("offloaded" in n for n in cache_implementations())


def test_a_static_cache_for_a_composite_model_is_sized_by_its_text_config() -> None:
    """StaticCache(config=LlavaConfig) has no hidden_size to size itself by on some releases: the text config
    must be used (a harness false alarm otherwise)."""
    from transformers import LlamaConfig, LlavaConfig

    text = LlamaConfig(hidden_size=32, num_attention_heads=2, num_key_value_heads=2, num_hidden_layers=3,
                       intermediate_size=32, vocab_size=128)
    cache = empty_forms()["static"].make(LlavaConfig(text_config=text.to_dict()), 2, 16)
    layers = getattr(cache, "layers", None) or getattr(cache, "key_cache", None)
    assert len(layers) == 3


@given(layers=st.integers(1, 4), batch=st.integers(1, 3), heads=st.integers(1, 2), length=st.integers(0, 6),
       container=st.sampled_from([tuple, list]))
def test_cache_length_reads_legacy_tuples_and_lists(layers: int, batch: int, heads: int, length: int,
                                                     container: type) -> None:
    pair = (torch.zeros(batch, heads, length, 4), torch.zeros(batch, heads, length, 4))
    assert cache_length(container(container(pair) for _ in range(layers))) == length
