"""Forms a cache can take, as records discovered from the installed transformers: ``past_key_values`` objects
(empty, or filled by a first forward) and the ``cache_implementation`` names ``generate`` accepts.

Every form is built from the same content, so results obtained through different forms must agree wherever the
model accepts both. A form the installed version cannot make is reported as unavailable, with the reason.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: cache_utils classes with a form of their own under another name, or not a cache one can pass
_NAMED_ELSEWHERE = ("Cache", "DynamicCache", "StaticCache", "EncoderDecoderCache")


class FormUnavailable(Exception):
    """The installed transformers cannot make this cache form; the message says why."""


def _cache_utils() -> Any:
    import transformers.cache_utils as cache_utils

    return cache_utils


def _cache_class(name: str) -> type:
    cls = getattr(_cache_utils(), name, None)
    if cls is None:
        import transformers

        raise FormUnavailable(f"transformers {transformers.__version__} has no {name}")
    return cls


def text_config(config: Any) -> Any:
    """The config a decoder cache is sized by: the (decoder) text config of a composite model, else ``config``
    (``StaticCache(config=LlavaConfig)`` has no ``hidden_size`` to size itself by)."""
    getter = getattr(config, "get_text_config", None)
    if getter is None:
        return config
    return getter(decoder=True) if "decoder" in inspect.signature(getter).parameters else getter()


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
        return dynamic(ddp_cache_data=[(layer.keys, layer.values) for layer in cache.layers],
                       config=text_config(config) if config is not None else None)
    raise FormUnavailable(f"a DynamicCache cannot be built from a {type(cache).__name__} in this transformers")


def construct(cls: type, config: Any, batch: int, max_len: int) -> Any:
    """An empty ``cls`` for a model with ``config``: every constructor parameter the harness knows a value for
    (the text config, the batch size under its current or older name, the length, CPU, fp32) is passed; a required
    parameter it does not know, or a constructor that raises, makes the form unavailable."""
    import torch

    known: dict[str, Any] = {"config": text_config(config), "max_cache_len": max_len, "batch_size": batch,
                             "device": "cpu", "dtype": torch.float32, "window_length": max_len, "num_sink_tokens": 1}
    params = inspect.signature(cls.__init__).parameters
    kwargs = {name: known[name] for name in params if name in known}
    if "max_batch_size" in params and "batch_size" not in params:
        kwargs["max_batch_size"] = batch  # the name before 4.46
    for name, p in params.items():
        plain = p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        if name != "self" and plain and p.default is p.empty and name not in kwargs:
            raise FormUnavailable(f"{cls.__name__} needs {name!r}, which the harness cannot supply")
    try:
        return cls(**kwargs)
    except Exception as exc:  # noqa: BLE001 - any refusal rules the form out here
        raise FormUnavailable(f"{cls.__name__}(...) refuses: {type(exc).__name__}: {exc}"[:200]) from exc


def empty_encoder_decoder(config: Any, batch: int, max_len: int) -> Any:
    dynamic = _cache_class("DynamicCache")
    return _cache_class("EncoderDecoderCache")(*(construct(dynamic, config, batch, max_len) for _ in range(2)))


@dataclass(frozen=True)
class Requirement:
    """What a family of ``cache_implementation`` names needs from this machine beyond transformers itself."""

    names: re.Pattern[str]
    needs: str
    met: Callable[[], bool]


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False


def _any_module(*names: str) -> Callable[[], bool]:
    return lambda: any(_importable(name) for name in names)


#: offloading streams to a GPU; quantized caches need a quantization backend package
REQUIREMENTS = (
    Requirement(re.compile(r"offloaded", re.I), "a CUDA device", _cuda),
    Requirement(re.compile(r"quantized", re.I), "optimum-quanto, quanto or hqq",
                _any_module("optimum.quanto", "quanto", "hqq")),
)


def runs_here(name: str) -> bool:
    """Whether this machine meets what the cache implementation or class ``name`` needs (REQUIREMENTS)."""
    return all(r.met() for r in REQUIREMENTS if r.names.search(name))


@dataclass(frozen=True)
class EmptyForm:
    """A way to pass "no history yet": each must behave like passing nothing."""

    name: str
    make: Callable[[Any, int, int], Any]
    #: "decoder" forms suit decoder-only models, "encoder-decoder" forms suit seq2seq models
    suits: str = "decoder"


def _class_form(name: str, class_name: str) -> EmptyForm:
    return EmptyForm(name, lambda config, batch, max_len: construct(_cache_class(class_name), config, batch, max_len))


def _offsets_queries(cls: type) -> bool:
    """Whether ``cls`` shifts query positions against its keys (its own ``get_query_offset``)."""
    return "get_query_offset" in vars(cls)


@functools.cache
def empty_forms() -> dict[str, EmptyForm]:
    """Empty starting caches, keyed by the name calls draw: none, the dynamic, static and encoder-decoder caches,
    then one form per further cache class the installed transformers has that runs here (HybridCache,
    SlidingWindowCache, …; named after the class), except caches that offset the queries by design (an MtpCache
    or DFlashCache serves multi-token or speculative decoding: with it, even the base model answers differently)."""
    forms = [
        EmptyForm("none", lambda config, batch, max_len: None, suits="any"),
        _class_form("dynamic-empty", "DynamicCache"),
        _class_form("static", "StaticCache"),
        EmptyForm("encoder-decoder-empty", empty_encoder_decoder, suits="encoder-decoder"),
    ]
    cache_utils = _cache_utils()
    for name, cls in sorted(vars(cache_utils).items()):
        if inspect.isclass(cls) and issubclass(cls, cache_utils.Cache) and name not in _NAMED_ELSEWHERE \
                and runs_here(name) and not _offsets_queries(cls):
            forms.append(_class_form(name, name))
    return {f.name: f for f in forms}


@dataclass(frozen=True)
class PrefilledForm:
    """A cache holding a first forward's positions: the head forward is given ``start`` (None: no cache), and the
    tail forward gets what ``convert`` makes of the cache the head returned."""

    name: str
    convert: Callable[[Any, Any], Any]
    start: EmptyForm | None = None


def prefilled_forms() -> dict[str, PrefilledForm]:
    """The returned cache as it is, as legacy tuples and as a DynamicCache; and every empty decoder cache object
    filled in place by the head forward."""
    forms = [
        PrefilledForm("returned", lambda cache, config: cache),
        PrefilledForm("legacy", lambda cache, config: to_legacy(cache)),
        PrefilledForm("dynamic", to_dynamic),
        *(PrefilledForm(f"{form.name}-filled", lambda cache, config: cache, form)
          for form in empty_forms().values() if form.suits == "decoder"),
    ]
    return {f.name: f for f in forms}


def cache_length(cache: Any) -> int:
    """Number of positions held by ``cache``: a legacy tuple or list of per-layer (key, value) pairs, or a Cache
    object."""
    if cache is None:
        return 0
    if isinstance(cache, (tuple, list)):
        return int(cache[0][0].shape[-2]) if cache else 0
    return int(cache.get_seq_length())


@functools.cache
def cache_implementations() -> tuple[str, ...]:
    """The ``cache_implementation`` names the installed transformers' generate accepts (its own list, deprecated
    aliases included) whose requirements this machine meets; a model that refuses one is the base model's
    business (a skip), not a reason to leave it out here."""
    from transformers.generation import configuration_utils as gen_config

    names = dict.fromkeys(getattr(gen_config, "ALL_CACHE_IMPLEMENTATIONS", ()))
    return tuple(n for n in names if runs_here(n))
