"""Method discovery, option strategies and wrapping: properties over every prompt method of the installed peft."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
from contextlib import redirect_stdout

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from harness.archs.build import build
from harness.archs.spec import ArchSpec
from harness.methods import cli as methods_cli
from harness.methods import registry
from harness.methods.wrap import make_config, method_spec, wrap

LLAMA = ArchSpec("llama", "causal-lm", {
    "hidden_size": 32, "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 16, "num_hidden_layers": 2,
    "intermediate_size": 32, "vocab_size": 128, "max_position_embeddings": 128, "pad_token_id": 0,
    "bos_token_id": 1, "eos_token_id": 2,
}, seed=3, vocab=128)


#: find the first draw that satisfies a predicate, without shrinking it (each try builds and wraps a model)
FIND = settings(max_examples=30, database=None, phases=[Phase.generate], deadline=None)


def _peft_registry() -> dict[str, type]:
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    return {getattr(k, "value", k): v for k, v in PEFT_TYPE_TO_CONFIG_MAPPING.items()}


def test_every_prompt_learning_config_is_discovered_and_listed_as_json() -> None:
    from peft.config import PromptLearningConfig

    expected = {name for name, cls in _peft_registry().items() if issubclass(cls, PromptLearningConfig)}
    expected.add("ADAPTION_PROMPT")
    assert expected <= set(registry.prompt_methods())
    out = io.StringIO()
    with redirect_stdout(out):
        methods_cli.main(argparse.Namespace(json=True, survey=False, task=None, seed=0))
    listed = {m["name"]: m for m in json.loads(out.getvalue())}
    assert set(listed) == set(registry.prompt_methods())
    assert all(m["config_class"] and "causal-lm" in m["supported_tasks"] for m in listed.values())


def test_unknown_method_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no prompt method 'LORAX'.*python -m harness methods"):
        registry.method("LORAX")


@given(data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_drawn_method_config_is_accepted_by_peft(data: st.DataObject) -> None:
    """Options are valid by construction: peft's config constructor accepts every draw, within the stated bounds."""
    name = data.draw(st.sampled_from(sorted(registry.prompt_methods())))
    spec = data.draw(method_spec(name, LLAMA))
    config = make_config(spec, "causal-lm")
    if hasattr(config, "num_virtual_tokens") and name != "ADAPTION_PROMPT":
        assert 1 <= config.num_virtual_tokens <= 16
    if name == "ADAPTION_PROMPT":
        assert 1 <= config.adapter_layers <= 2
    if name == "CPT":
        assert len(config.cpt_token_ids) == len(config.cpt_mask) == len(config.cpt_tokens_type_mask)
        assert all(16 <= t < LLAMA.vocab for t in config.cpt_token_ids)


@pytest.mark.parametrize("name", sorted(registry.prompt_methods()))
def test_every_method_has_a_drawn_config_that_wraps_and_runs(name: str) -> None:
    """Wrapping records an outcome for every draw, and each method has draws peft wraps into a model that runs."""
    from hypothesis import find

    def wraps_and_runs(spec) -> bool:  # type: ignore[no-untyped-def]
        result = wrap(build(LLAMA), spec)
        assert result.outcome in ("wrapped", "rejected", "crashed")
        if result.outcome != "wrapped":
            return False
        assert result.adapter_params, "a wrapped model has adapter parameters"
        ids = torch.randint(16, 128, (2, 5))
        kwargs = {"task_ids": torch.zeros(2, dtype=torch.long)} if "num_tasks" in spec.options else {}
        with torch.no_grad():
            return bool(torch.isfinite(result.model(input_ids=ids, **kwargs).logits).all())

    find(method_spec(name, LLAMA), wraps_and_runs, settings=FIND)


def test_text_init_builds_its_tokenizer_offline_and_wraps() -> None:
    from peft import PromptTuningConfig

    spec = find_text_init()
    assert spec.options["prompt_tuning_init"] == "TEXT"
    config = make_config(spec, "causal-lm")
    assert isinstance(config, PromptTuningConfig) and config.tokenizer_name_or_path
    assert wrap(build(LLAMA), spec).outcome == "wrapped"


def find_text_init():  # type: ignore[no-untyped-def]
    from hypothesis import find

    return find(method_spec("PROMPT_TUNING", LLAMA), lambda s: s.options.get("prompt_tuning_init") == "TEXT",
                settings=FIND)


def test_a_method_registered_at_run_time_is_discovered_drawn_and_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prompt-learning config class peft did not ship: its own fields are drawn by type, and it wraps."""
    from peft import PromptTuningConfig
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    @dataclasses.dataclass
    class MadeUpPromptConfig(PromptTuningConfig):
        made_up_depth: int = 3
        made_up_flag: bool = False

    monkeypatch.setitem(PEFT_TYPE_TO_CONFIG_MAPPING, "MADE_UP_PROMPT", MadeUpPromptConfig)
    registry.prompt_methods.cache_clear()
    try:
        assert "MADE_UP_PROMPT" in registry.prompt_methods()
        from hypothesis import find

        spec = find(method_spec("MADE_UP_PROMPT", LLAMA), lambda s: s.options["made_up_flag"], settings=FIND)
        assert spec.options["prompt_tuning_init"] in ("RANDOM", "SAMPLE_VOCAB", "TEXT")  # prompt tuning's record
        assert 1 <= spec.options["made_up_depth"] <= 4
        result = wrap(build(LLAMA), spec)
        assert result.outcome == "wrapped", result.error
        assert isinstance(result.model.peft_config["default"], MadeUpPromptConfig)
    finally:
        registry.prompt_methods.cache_clear()
