"""Deliberately broken stand-ins for a peft model, one per bug class the oracles exist to catch.

``Faithful`` delegates everything and generates greedily with its own cached loop; each subclass breaks one thing
the way a real regression would. An oracle earns its keep when it passes on the real model and on ``Faithful``
and fails on the broken stand-in.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Any

import torch


class Faithful:
    """Delegates to the real peft model; ``generate`` is a greedy loop that reuses the cache, step by step."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner(*args, **kwargs)

    def generate(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                 max_new_tokens: int = 1, return_dict_in_generate: bool = False, **_: Any) -> Any:
        ids = input_ids
        mask = attention_mask if attention_mask is not None else torch.ones_like(ids)
        logits = []
        with torch.no_grad():
            out = self.forward(input_ids=ids, attention_mask=mask, use_cache=True)
            for step in range(max_new_tokens):
                logits.append(out.logits[:, -1])
                token = out.logits[:, -1].argmax(-1, keepdim=True)
                ids = torch.cat([ids, token], dim=1)
                mask = torch.cat([mask, torch.ones_like(token)], dim=1)
                if step + 1 < max_new_tokens:
                    out = self.forward(input_ids=token, attention_mask=mask, past_key_values=out.past_key_values,
                                       use_cache=True)
        return SimpleNamespace(sequences=ids, logits=tuple(logits)) if return_dict_in_generate else ids


class DropsAdapterInGenerate(Faithful):
    """Generation silently runs the base model: the adapter is dropped during generate."""

    def generate(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        with self.inner.disable_adapter():
            return super().generate(*args, **kwargs)


class IgnoresCache(Faithful):
    """A passed cache is silently dropped: each cached step sees only its own tokens."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        past = kwargs.pop("past_key_values", None)
        if past is not None and "attention_mask" in kwargs:
            kwargs["attention_mask"] = kwargs["attention_mask"][:, -kwargs["input_ids"].shape[1]:]
        return self.inner(*args, **kwargs)


class RePrependsVirtualTokens(Faithful):
    """Every continuation step prepends a virtual token again (its embedding: the embedding of token 0)."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("past_key_values") is None:
            return self.inner(*args, **kwargs)
        ids = kwargs.pop("input_ids")
        embed = self.inner.get_input_embeddings()
        virtual = embed(torch.zeros_like(ids[:, :1]))
        kwargs["inputs_embeds"] = torch.cat([virtual, embed(ids)], dim=1)
        mask = kwargs["attention_mask"]
        kwargs["attention_mask"] = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        return self.inner(*args, **kwargs)


class ShiftsPositionalArguments(Faithful):
    """Positional arguments land one parameter too far: the ids arrive as the attention mask."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            kwargs.pop("attention_mask", None)
            return self.inner(None, *args, **kwargs)
        return self.inner(**kwargs)


class SwallowsPositionalIds(Faithful):
    """``generate(ids)`` with positional ids ignores them and generates from a lone start token."""

    def generate(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        if args:
            start = torch.ones_like(args[0][:, :1])
            kwargs["attention_mask"] = torch.ones_like(start)
            return super().generate(start, **{k: v for k, v in kwargs.items() if k != "input_ids"})
        return super().generate(**kwargs)


class RefusesToGenerate(Faithful):
    """``generate`` raises, as a peft bug or a model that cannot generate at all would."""

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("`decoder_start_token_id` or `bos_token_id` has to be defined")


class FreezesHeadCopy(Faithful):
    """The ``modules_to_save`` copy of the classification head is left frozen: training moves the prompt only."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        for name, param in inner.named_parameters():
            if ".modules_to_save." in name:
                param.requires_grad_(False)


class ThawsBaseParameter(Faithful):
    """One base-model parameter (the input embedding table) is left trainable: training leaks into the base."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        inner.get_input_embeddings().weight.requires_grad_(True)


class AttendsPadding(Faithful):
    """The attention mask is dropped on the way in: padding is attended as if it were text."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("attention_mask") is not None:
            kwargs["attention_mask"] = torch.ones_like(kwargs["attention_mask"])
        return self.inner(*args, **kwargs)


class ReversesExplicitPositions(Faithful):
    """Explicit position ids arrive reversed (a mangled offset): the text is read back to front."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("position_ids") is not None:
            kwargs["position_ids"] = kwargs["position_ids"].flip(-1)
        return self.inner(*args, **kwargs)


class SilentlyDropsPositions(Faithful):
    """Explicit position ids are dropped without a word."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("position_ids", None)
        return self.inner(*args, **kwargs)


class ReturnsNaN(Faithful):
    """The forward's main output is all NaN."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        out.logits = torch.full_like(out.logits, float("nan"))
        return out


class ChangesWithEmptyCache(Faithful):
    """Passing an empty cache object (not None) shifts the output."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        if kwargs.get("past_key_values") is not None:
            out.logits = out.logits + 1.0
        return out


class WrongTokensFromCache(Faithful):
    """Generation continued from a returned cache gives other tokens (each new one shifted by one)."""

    def breaks(self, kwargs: dict[str, Any]) -> bool:
        return kwargs.get("past_key_values") is not None

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner.generate(*args, **kwargs)
        if not self.breaks(kwargs):
            return out
        # decoder-only sequences start with the prompt, seq2seq ones with the decoder start token
        seq2seq = getattr(self.inner.config, "is_encoder_decoder", False)
        prompt = 1 if seq2seq else (args[0] if args else kwargs["input_ids"]).shape[1]
        sequences = (out if isinstance(out, torch.Tensor) else out.sequences).clone()
        sequences[:, prompt:] = (sequences[:, prompt:] + 1) % self.inner.get_input_embeddings().num_embeddings
        if isinstance(out, torch.Tensor):
            return sequences
        out.sequences = sequences
        return out


class WrongTokens(WrongTokensFromCache):
    """Every generation gives other tokens than the model's forward chooses."""

    def breaks(self, kwargs: dict[str, Any]) -> bool:
        return True


class CacheChangesGeneration(WrongTokensFromCache):
    """``generate(use_cache=False)`` gives other tokens than with the cache."""

    def breaks(self, kwargs: dict[str, Any]) -> bool:
        return kwargs.get("use_cache") is False


class DropsRows(Faithful):
    """``generate`` returns one sequence for the whole batch."""

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner.generate(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            return out[:1]
        out.sequences = out.sequences[:1]
        return out


class WithoutAdapter(Faithful):
    """Every forward runs the base model: the adapter has no effect."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with self.inner.disable_adapter():
            return self.inner(*args, **kwargs)


class NeverDisables(Faithful):
    """``disable_adapter()`` is a no-op."""

    def disable_adapter(self) -> Any:
        return contextlib.nullcontext()


class OffsetOutput(Faithful):
    """The live model's output is off by a constant, so what is saved and loaded differs from it."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        out.logits = out.logits + 0.1
        return out


class LeaksGradients(Faithful):
    """The training loss also depends on a base-model weight: a step would train the frozen model."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        if out.loss is not None:
            weight = self.inner.get_input_embeddings().weight
            weight.requires_grad_(True)
            out.loss = out.loss + 1e-3 * weight.sum()
        return out
