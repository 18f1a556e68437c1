"""Signatures group one bug across cases; clean rejections are told from crashes; network attempts are named."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.outcomes import is_clean_rejection, mask, tried_network

names = st.from_regex(r"[A-Z][a-z]{2,8}(ForCausalLM|Model)", fullmatch=True)


@given(name=names, depth=st.integers(1, 4), size=st.integers(1, 4096))
def test_the_1938_message_has_one_signature_whatever_the_model(name: str, depth: int, size: int) -> None:
    """Python prints the callable's repr (a multi-line module tree): the signature must not depend on it."""
    body = "\n".join(f"  (layer{i}): Linear(in_features={size}, out_features={size})" for i in range(depth))
    message = f"{name}(\n{body}\n) got multiple values for keyword argument 'past_key_values'"
    assert mask(message) == "<Model>(…) got multiple values for keyword argument 'past_key_values'"


@given(a=st.integers(0, 10**6), b=st.integers(0, 10**6))
def test_numbers_and_shapes_are_masked(a: int, b: int) -> None:
    assert mask(f"shape '[{a}, {b}]' is invalid for input of size {a * b}") == \
        mask("shape '[2, 3]' is invalid for input of size 6")


def test_clean_rejections_explain_themselves_and_crashes_do_not() -> None:
    assert is_clean_rejection(ValueError("CPTConfig only supports task_type = CAUSAL_LM."))
    assert is_clean_rejection(ValueError("When prompt_tuning_init='TEXT', tokenizer_name_or_path can't be None."))
    assert not is_clean_rejection(TypeError("X() got multiple values for keyword argument 'past_key_values'"))
    assert not is_clean_rejection(ValueError("too many values to unpack (expected 2)"))
    assert not is_clean_rejection(AttributeError("'NoneType' object has no attribute 'shape' is not supported"))


def test_network_attempts_are_recognised() -> None:
    assert tried_network(OSError("We couldn't connect to 'https://huggingface.co' to load this file"))
    assert not tried_network(ValueError("only supports task_type = CAUSAL_LM"))


@given(st.lists(st.from_regex(r"[a-z0-9_.+-]{1,8}", fullmatch=True), min_size=1, max_size=5))
def test_a_signature_does_not_depend_on_where_the_libraries_are_installed(prefix: list[str]) -> None:
    """An unquoted absolute path in a message (ImportError names the module's file) is masked: the same bug has
    the same signature on every machine."""
    here = "/" + "/".join(prefix) + "/site-packages/transformers/__init__.py"
    there = "/opt/venv/lib/python3.11/site-packages/transformers/__init__.py"
    text = "cannot import name 'HybridCache' from 'transformers' ({})"
    assert mask(text.format(here)) == mask(text.format(there)) == mask(text.format("<path>"))
