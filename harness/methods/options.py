"""Option strategies per method: one record per known method, and a generic record for any other.

The generic record draws each config field from its default's type (bool, int, float, enum) within sane bounds, so
a method peft adds tomorrow is drawn without a code change. Records of known methods narrow or extend that: the
init variants that need a tokenizer, CPT's token lists, MPT's task counts, adaption prompt's layer count.
Geometry fields (token_dim, num_layers, …) are never drawn: peft infers them, and the wrap step retries with
explicit values when it cannot.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness.archs.spec import RESERVED_IDS
from harness.methods.registry import Method

#: fields that are not options: identity, bookkeeping, geometry that peft infers, paths
NOT_OPTIONS = frozenset({
    "base_model_name_or_path", "revision", "peft_type", "task_type", "inference_mode", "auto_mapping",
    "peft_version", "modules_to_save", "token_dim", "num_layers", "num_attention_heads",
    "num_transformer_submodules", "tokenizer_name_or_path", "tokenizer_kwargs", "prompt_tuning_init_text",
    "prompt_tuning_init_state_dict_path", "target_modules", "layers_to_transform", "layers_pattern",
})
VIRTUAL_TOKENS = st.integers(1, 16)


@dataclass(frozen=True)
class Context:
    """What an option strategy may depend on: the drawn model's vocabulary and layer count."""

    vocab: int
    layers: int

    def token_ids(self, min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[list[int]]:
        return st.lists(st.integers(RESERVED_IDS, self.vocab - 1), min_size=min_size, max_size=max_size)


#: a record's option strategy: (method, drawn generic options, context) → strategy of the final options
Refine = Callable[[Method, dict[str, Any], Context], st.SearchStrategy[dict[str, Any]]]


def _generic_value(name: str, default: Any) -> st.SearchStrategy[Any] | None:
    if name == "num_virtual_tokens":
        return VIRTUAL_TOKENS
    if isinstance(default, enum.Enum):
        return st.sampled_from([m.value for m in type(default)])
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(1, 4)
    if isinstance(default, float):
        return st.sampled_from([0.0, 0.1])
    return None


def option_space(method: Method) -> dict[str, st.SearchStrategy[Any]]:
    """Field → strategy for every option of ``method`` whose default has a drawable type (others keep it)."""
    space: dict[str, st.SearchStrategy[Any]] = {}
    for f in method.fields():
        if f.name in NOT_OPTIONS or f.name.startswith("_"):
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        value = _generic_value(f.name, default)
        if value is not None:
            space[f.name] = value
    return space


def generic_options(method: Method) -> st.SearchStrategy[dict[str, Any]]:
    """Every option of ``method`` drawn from :func:`option_space`."""
    return st.fixed_dictionaries(option_space(method))


def _default(method: Method, name: str) -> Any:
    return next(f.default for f in method.fields() if f.name == name)


def _init_text(method: Method, base: dict[str, Any], ctx: Context) -> st.SearchStrategy[dict[str, Any]]:
    """Prompt-tuning inits that need no files: RANDOM, SAMPLE_VOCAB (where peft has it), TEXT with a tiny tokenizer."""
    known = {m.value for m in type(_default(method, "prompt_tuning_init"))}
    inits = [v for v in ("RANDOM", "SAMPLE_VOCAB", "TEXT") if v in known]

    @st.composite
    def options(draw: st.DrawFn) -> dict[str, Any]:
        out = dict(base)
        out["prompt_tuning_init"] = init = draw(st.sampled_from(inits))
        if init == "TEXT":
            out["prompt_tuning_init_text"] = " ".join(f"t{i}" for i in draw(ctx.token_ids()))
            out["tokenizer_vocab"] = ctx.vocab  # wrap builds the tokenizer; see harness.methods.tokenizer
        return out

    return options()


def _multitask(method: Method, base: dict[str, Any], ctx: Context) -> st.SearchStrategy[dict[str, Any]]:
    """Prompt-tuning inits as for PROMPT_TUNING, 1-3 tasks (task_ids are drawn per call), rank 1-2."""
    return _init_text(method, base, ctx).flatmap(
        lambda o: st.builds(lambda tasks, ranks: {**o, "num_tasks": tasks, "num_ranks": ranks},
                            st.integers(1, 3), st.integers(1, 2))
    )


def _prefix(method: Method, base: dict[str, Any], ctx: Context) -> st.SearchStrategy[dict[str, Any]]:
    """Prefix projection on or off, with a drawn encoder hidden size (4-32)."""
    return st.builds(lambda hidden: {**base, "encoder_hidden_size": hidden}, st.sampled_from((4, 8, 16, 32)))


def _p_tuning(method: Method, base: dict[str, Any], ctx: Context) -> st.SearchStrategy[dict[str, Any]]:
    """MLP or LSTM prompt encoder, hidden size 4-32, 1-2 layers, no dropout (outputs must be deterministic)."""
    return st.builds(
        lambda kind, hidden, layers: {**base, "encoder_reparameterization_type": kind, "encoder_hidden_size": hidden,
                                      "encoder_num_layers": layers, "encoder_dropout": 0.0},
        st.sampled_from(("MLP", "LSTM")), st.sampled_from((4, 8, 16, 32)), st.integers(1, 2),
    )


@st.composite
def _cpt(draw: st.DrawFn, method: Method, base: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """1-8 CPT token ids from the text range, a full mask, token types 1-4, loss weighting none or decay."""
    ids = draw(ctx.token_ids())
    n = len(ids)
    types = draw(st.lists(st.sampled_from((1, 2, 3, 4)), min_size=n, max_size=n))
    return {**base, "cpt_token_ids": ids, "cpt_mask": [1] * n, "cpt_tokens_type_mask": types,
            "opt_weighted_loss_type": draw(st.sampled_from(("none", "decay"))), "num_virtual_tokens": n}


@st.composite
def _cartridge(draw: st.DrawFn, method: Method, base: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Frozen tokens 0..num_virtual_tokens."""
    return {**base, "num_frozen_tokens": draw(st.integers(0, base.get("num_virtual_tokens", 1)))}


@st.composite
def _adaption_prompt(draw: st.DrawFn, method: Method, base: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Adapter length 1-8 on 1..(model layers) layers."""
    return {"adapter_len": draw(st.integers(1, 8)), "adapter_layers": draw(st.integers(1, ctx.layers))}


#: method name → how its options refine the generic draw
RECORDS: dict[str, Refine] = {
    "PROMPT_TUNING": _init_text,
    "MULTITASK_PROMPT_TUNING": _multitask,
    "PREFIX_TUNING": _prefix,
    "P_TUNING": _p_tuning,
    "CPT": _cpt,
    "CARTRIDGE": _cartridge,
    "ADAPTION_PROMPT": _adaption_prompt,
}


def record_for(method: Method) -> Refine | None:
    """The method's record; for a method without one, the record of its nearest config ancestor that has one (a
    subclass of PromptTuningConfig is drawn like prompt tuning); None: generic only."""
    if method.name in RECORDS:
        return RECORDS[method.name]
    from harness.methods.registry import prompt_methods

    by_class = {m.config_cls: RECORDS[m.name] for m in prompt_methods().values() if m.name in RECORDS}
    return next((by_class[base] for base in method.config_cls.__mro__[1:] if base in by_class), None)


def option_strategy(method: Method, ctx: Context) -> st.SearchStrategy[dict[str, Any]]:
    """Options for ``method`` in context ``ctx``: the generic draw, refined by the method's record if it has one."""
    refine = record_for(method)
    generic = generic_options(method)
    return generic if refine is None else generic.flatmap(lambda base: refine(method, base, ctx))
