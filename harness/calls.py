"""Call strategies: forward and generate arguments drawn swarm-style (each optional feature present or absent).

A :class:`CallSpec` is JSON; :func:`forward_inputs` turns it into tensors for a built model. Oracles decide which
parts of a call they use (a cache-agreement oracle ignores ``labels``, a training oracle needs them).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

import torch
from hypothesis import strategies as st

from harness.archs.build import sample_inputs
from harness.archs.spec import ArchSpec
from harness.archs.tasks import LabelKind, task
from harness.caches import cache_implementations, empty_forms

Mask = Literal["absent", "ones", "left-pad", "right-pad", "holes"]
T = TypeVar("T")
#: a flag's options, in the order ``opened`` rotates
FLAGS = (False, True)
GenMode = Literal["greedy", "sample", "beam"]
GEN_MODES: tuple[GenMode, ...] = ("greedy", "sample", "beam")


@dataclass(frozen=True)
class GenerateSpec:
    max_new_tokens: int = 3
    min_new_tokens: int = 0
    mode: GenMode = "greedy"
    num_beams: int = 1
    num_return_sequences: int = 1
    cache_implementation: str | None = None
    return_dict_in_generate: bool = False
    output_scores: bool = False
    #: generate(ids) instead of generate(input_ids=ids)
    positional: bool = False
    #: split point for "n, then m more from the returned cache"
    split: int = 1

    def options(self) -> dict[str, Any]:
        """The keyword arguments of the drawn ``generate`` call (the ids go apart: by keyword or by position)."""
        options: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens, "min_new_tokens": self.min_new_tokens,
            "do_sample": self.mode == "sample", "num_beams": self.num_beams,
            "num_return_sequences": self.num_return_sequences,
            "return_dict_in_generate": self.return_dict_in_generate, "output_scores": self.output_scores,
        }
        if self.cache_implementation:
            options["cache_implementation"] = self.cache_implementation
        return options


@dataclass(frozen=True)
class CallSpec:
    batch: int = 2
    length: int = 5
    embeds: bool = False
    mask: Mask = "ones"
    position_ids: bool = False
    token_type_ids: bool = False
    labels: bool = False
    use_cache: bool | None = None
    output_attentions: bool = False
    output_hidden_states: bool = False
    #: "absent" or a key of harness.caches.empty_forms()
    past: str = "absent"
    past_positional: bool = False
    #: multitask prompt tuning: one task id per row
    task_ids: list[int] | None = None
    #: forward position that splits the input for prefilled-cache oracles
    split: int = 1
    generate: GenerateSpec = field(default_factory=GenerateSpec)
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallSpec:
        return cls(**{**data, "generate": GenerateSpec(**data.get("generate", {}))})


def opened(options: Sequence[T], opening: int, slot: str) -> st.SearchStrategy[T]:
    """One of ``options``; the first one, which hypothesis tries first and shrinks towards, is chosen by ``opening``
    (a number per target) and ``slot`` (the field). So a target's first example is not always the trivial call
    (batch 1, length 1, no mask, no cache), and the first examples of a run's targets differ from each other."""
    digest = hashlib.sha256(f"{opening}:{slot}".encode()).digest()
    start = int.from_bytes(digest[:4], "big") % len(options)
    return st.sampled_from((*options[start:], *options[:start]))


@functools.lru_cache(maxsize=64)  # openings differ per target: keep the recent ones
def generate_spec(opening: int = 0) -> st.SearchStrategy[GenerateSpec]:
    """generate() arguments; ``opening`` picks the first example (``opened``). Cached: one strategy per opening,
    reused by every example of a target."""
    modes = opened(GEN_MODES, opening, "generate.mode")
    max_news = opened(range(1, 5), opening, "generate.max_new_tokens")
    caches = opened((None, None, *cache_implementations()), opening, "generate.cache")
    flags = {name: opened(FLAGS, opening, f"generate.{slot}") for name, slot in
             (("return_dict_in_generate", "return_dict"), ("output_scores", "output_scores"),
              ("positional", "positional"))}

    @st.composite
    def spec(draw: st.DrawFn) -> GenerateSpec:
        mode = draw(modes)
        beams = draw(st.integers(2, 3)) if mode == "beam" else 1
        max_new = draw(max_news)
        return GenerateSpec(
            max_new_tokens=max_new,
            min_new_tokens=draw(st.integers(0, max_new)),
            mode=mode,
            num_beams=beams,
            num_return_sequences=draw(st.integers(1, beams)),
            cache_implementation=draw(caches),
            return_dict_in_generate=draw(flags["return_dict_in_generate"]),
            output_scores=draw(flags["output_scores"]),
            positional=draw(flags["positional"]),
            split=draw(st.integers(1, max(1, max_new - 1))),
        )

    return spec()


def _choices() -> dict[str, tuple[Any, ...]]:
    """The call fields drawn from a fixed set of options (``opened``), in drawing order; the cache forms are those
    the installed transformers has (``caches.empty_forms``)."""
    return {
        "embeds": FLAGS, "mask": ("absent", "ones", "left-pad", "right-pad", "holes"), "position_ids": FLAGS,
        "token_type_ids": FLAGS, "labels": FLAGS, "use_cache": (None, True, False), "output_attentions": FLAGS,
        "output_hidden_states": FLAGS, "past": ("absent", *empty_forms()), "past_positional": FLAGS,
    }


@functools.lru_cache(maxsize=64)  # as generate_spec
def call_spec(num_tasks: int | None = None, opening: int = 0) -> st.SearchStrategy[CallSpec]:
    """Calls for a drawn model; ``num_tasks`` for multitask prompt tuning; ``opening`` picks the first example
    (``opened``). Cached: one strategy per (num_tasks, opening), reused by every example."""
    batches = opened(range(1, 4), opening, "batch")
    lengths = opened(range(1, 9), opening, "length")
    choices = {name: opened(options, opening, name) for name, options in _choices().items()}
    generates = generate_spec(opening)

    @st.composite
    def spec(draw: st.DrawFn) -> CallSpec:
        batch = draw(batches)
        length = draw(lengths)
        fields = {name: draw(strategy) for name, strategy in choices.items()}
        return CallSpec(
            batch=batch,
            length=length,
            **fields,
            task_ids=draw(st.lists(st.integers(0, num_tasks - 1), min_size=batch, max_size=batch))
            if num_tasks else None,
            split=draw(st.integers(1, max(1, length - 1))),
            generate=draw(generates),
            seed=draw(st.integers(0, 2**31 - 1)),
        )

    return spec()


def call_features(call: CallSpec) -> frozenset[str]:
    """What a call exercises, field by field: a flag when set, a choice by its value, a count as one or many; the
    run's spread of cases is measured in these (``harness bench``)."""
    found = set()
    for prefix, values in (("", asdict(call)), ("generate.", asdict(call.generate))):
        for name, value in values.items():
            if name in ("seed", "generate", "task_ids"):
                continue
            if isinstance(value, bool):
                found |= {f"{prefix}{name}"} if value else set()
            elif isinstance(value, int):
                found.add(f"{prefix}{name}={'1' if value == 1 else 'many' if value > 1 else value}")
            else:
                found.add(f"{prefix}{name}={value}")
    return frozenset(found)


def attention_mask(call: CallSpec, length: int, gen: torch.Generator) -> torch.Tensor | None:
    """The drawn mask over the last ``call.length`` positions (the text; earlier positions, such as image tokens,
    stay attended). Padding never covers a row's last real token, holes never its first or last."""
    if call.mask == "absent":
        return None
    mask = torch.ones(call.batch, length, dtype=torch.long)
    text = mask[:, length - call.length:]
    for row in range(call.batch):
        pad = int(torch.randint(0, call.length, (1,), generator=gen))
        if call.mask == "left-pad" and pad:
            text[row, :pad] = 0
        elif call.mask == "right-pad" and pad:
            text[row, call.length - pad:] = 0
        elif call.mask == "holes" and call.length > 2:
            holes = torch.rand(call.length - 2, generator=gen) < 0.3
            text[row, 1:-1][holes] = 0
    return mask


def forward_inputs(call: CallSpec, arch: ArchSpec, config: Any) -> dict[str, torch.Tensor]:
    """Keyword tensors for one forward: the model's own inputs, with the drawn mask, positions, types and labels.

    ``past_key_values``, ``use_cache`` and output flags are left to the oracles, which know what they compare.
    """
    gen = torch.Generator().manual_seed(call.seed)
    inputs = dict(sample_inputs(arch, config, call.batch, call.length, call.seed))
    mask = attention_mask(call, inputs["input_ids"].shape[1], gen)
    pad = getattr(config, "pad_token_id", None)
    if mask is not None:
        inputs["attention_mask"] = mask
        if isinstance(pad, int):
            inputs["input_ids"] = inputs["input_ids"].masked_fill(mask == 0, pad)
    else:
        inputs.pop("attention_mask", None)
    length = inputs["input_ids"].shape[1]
    if call.position_ids:
        base = torch.arange(length).expand(call.batch, -1)
        inputs["position_ids"] = base if mask is None else (mask.cumsum(-1) - 1).clamp(min=0)
    if call.token_type_ids and getattr(config, "type_vocab_size", 0):
        inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
    if call.labels:
        inputs.update(labels(task(arch.task).labels, inputs, config, gen))
    if call.task_ids is not None:
        inputs["task_ids"] = torch.tensor(call.task_ids)
    return inputs


def labels(kind: LabelKind, inputs: dict[str, torch.Tensor], config: Any, gen: torch.Generator) -> dict[str, Any]:
    """Loss targets of the task's kind for ``inputs`` (empty for tasks without a loss)."""
    ids = inputs.get("decoder_input_ids", inputs["input_ids"])
    batch, length = ids.shape[0], ids.shape[-1]
    num_labels = int(getattr(config, "num_labels", 2))
    if kind == "tokens":
        return {"labels": ids.clone()}
    if kind == "class":
        return {"labels": torch.randint(0, num_labels, (batch,), generator=gen)}
    if kind == "token-class":
        return {"labels": torch.randint(0, num_labels, (batch, length), generator=gen)}
    if kind == "span":
        return {name: torch.randint(0, length, (batch,), generator=gen)
                for name in ("start_positions", "end_positions")}
    return {}
