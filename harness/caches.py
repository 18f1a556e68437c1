"""Forms a ``past_key_values`` argument can take, as records: how to make each from the installed transformers.

Every form is built from the same content, so results obtained through different forms must agree wherever the
model accepts both. A form the installed version cannot make is reported as unavailable, with the reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class FormUnavailable(Exception):
    """The installed transformers cannot make this cache form; the message says why."""


def _cache_class(name: str) -> type:
    import transformers.cache_utils as cache_utils

    cls = getattr(cache_utils, name, None)
    if cls is None:
        import transformers

        raise FormUnavailable(f"transformers {transformers.__version__} has no {name}")
    return cls


def to_legacy(cache: Any) -> tuple[tuple[Any, ...], ...]:
    """The tuple-of-tuples form of ``cache`` (what transformers < 4.36 passed around and 4.36-4.x still accept).

    Transformers 5 dropped the format: there, where DynamicCache no longer converts from it, it is unavailable.
    """
    if not hasattr(_cache_class("DynamicCache"), "from_legacy_cache"):
        import transformers

        raise FormUnavailable(f"transformers {transformers.__version__} no longer accepts legacy tuple caches")
    if isinstance(cache, tuple):
        return cache
    if hasattr(cache, "to_legacy_cache"):
        return cache.to_legacy_cache()
    raise FormUnavailable(f"{type(cache).__name__} has no legacy form")


def to_dynamic(cache: Any, config: Any = None) -> Any:
    """A ``DynamicCache`` holding the content of ``cache``."""
    dynamic = _cache_class("DynamicCache")
    if isinstance(cache, dynamic):
        return cache
    if hasattr(dynamic, "from_legacy_cache"):
        return dynamic.from_legacy_cache(to_legacy(cache))
    if "ddp_cache_data" in inspect.signature(dynamic.__init__).parameters and hasattr(cache, "layers"):
        return dynamic(ddp_cache_data=[(layer.keys, layer.values) for layer in cache.layers], config=config)
    raise FormUnavailable(f"a DynamicCache cannot be built from a {type(cache).__name__} in this transformers")


def empty_dynamic(config: Any) -> Any:
    dynamic = _cache_class("DynamicCache")
    params = inspect.signature(dynamic.__init__).parameters
    return dynamic(config=config) if "config" in params else dynamic()


def empty_static(config: Any, batch: int, max_len: int) -> Any:
    static = _cache_class("StaticCache")
    params = inspect.signature(static.__init__).parameters
    kwargs: dict[str, Any] = {"config": config, "max_cache_len": max_len}
    for name in ("max_batch_size", "batch_size"):
        if name in params:
            kwargs[name] = batch
            break
    return static(**kwargs)


def empty_encoder_decoder(config: Any) -> Any:
    enc_dec = _cache_class("EncoderDecoderCache")
    return enc_dec(empty_dynamic(config), empty_dynamic(config))


@dataclass(frozen=True)
class EmptyForm:
    """A way to pass "no history yet": each must behave like passing nothing."""

    name: str
    make: Callable[[Any, int, int], Any]
    #: "decoder" forms suit decoder-only models, "encoder-decoder" forms suit seq2seq models
    suits: str = "decoder"


#: empty starting caches, keyed by the name calls draw
EMPTY_FORMS: dict[str, EmptyForm] = {
    f.name: f
    for f in (
        EmptyForm("none", lambda config, batch, max_len: None, suits="any"),
        EmptyForm("dynamic-empty", lambda config, batch, max_len: empty_dynamic(config)),
        EmptyForm("static", empty_static),
        EmptyForm("encoder-decoder-empty", lambda config, batch, max_len: empty_encoder_decoder(config),
                  suits="encoder-decoder"),
    )
}

#: prefilled forms: the cache a first forward returned, converted
PREFILLED_FORMS: dict[str, Callable[[Any, Any], Any]] = {
    "returned": lambda cache, config: cache,
    "legacy": lambda cache, config: to_legacy(cache),
    "dynamic": to_dynamic,
}


def cache_length(cache: Any) -> int:
    """Number of positions held by ``cache`` (tuple or Cache object)."""
    if cache is None:
        return 0
    if isinstance(cache, tuple):
        return int(cache[0][0].shape[-2])
    return int(cache.get_seq_length())
