"""Wrapping a built tiny model with a drawn method, and recording how that went.

Outcomes: ``wrapped``; ``rejected`` (peft refused with an explaining error); ``crashed`` (anything else raised).
Separately, ``geometry`` says whether peft inferred the prompt geometry from the model config (``inferred``) or
could not and the wrap was retried with explicit values from our shrink (``explicit``).
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from hypothesis import strategies as st

from harness.archs import fields
from harness.archs.build import Built
from harness.archs.spec import ArchSpec
from harness.archs.tasks import task
from harness.methods.options import Context, option_strategy
from harness.methods.registry import Method, method
from harness.methods.tokenizer import tokenizer_dir
from harness.outcomes import is_clean_rejection

WrapOutcome = Literal["wrapped", "rejected", "crashed"]
Geometry = Literal["inferred", "explicit"]

#: std of the seeded noise added to adapter parameters (large enough that zero-initialised adapters matter)
PERTURB_SCALE = 0.5
#: peft's message when it cannot infer a geometry field from the model config
_NOT_INFERABLE = re.compile(r"Please specify `(num_layers|token_dim|num_attention_heads)`")


@dataclass(frozen=True)
class MethodSpec:
    """A drawn method configuration: everything needed to rebuild it without hypothesis."""

    method: str
    options: dict[str, Any]
    inference_mode: bool = False
    #: pass enum-typed options as plain strings (as many users do) instead of the config's enum members
    enums_as_strings: bool = False
    #: perturb the adapter's parameters after wrapping, so a zero-initialised adapter changes the output
    perturb: bool = True
    perturb_seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MethodSpec:
        return cls(**data)


@dataclass
class WrapResult:
    outcome: WrapOutcome
    geometry: Geometry = "inferred"
    model: Any = None
    error: BaseException | None = None
    #: ids of the parameters the adapter added (everything else belongs to the base model)
    adapter_params: list[str] = field(default_factory=list)
    #: peft's refusal to infer the geometry (``geometry == "explicit"``): what a user without explicit values gets
    inference_error: BaseException | None = None


def drawn_layers(spec: ArchSpec) -> int:
    """The layer count of a drawn model (the text tower's, for composites)."""
    for level in (spec.overrides, *[v for v in spec.overrides.values() if isinstance(v, dict)]):
        for name in fields.LAYERS:
            if isinstance(level.get(name), int):
                return level[name]
    return 1


def method_spec(name: str, arch: ArchSpec) -> st.SearchStrategy[MethodSpec]:
    """Method configurations of method ``name`` for the drawn model ``arch``."""
    return _method_spec(name, Context(vocab=arch.vocab, layers=drawn_layers(arch)))


@functools.cache
def _method_spec(name: str, ctx: Context) -> st.SearchStrategy[MethodSpec]:
    """One strategy per (method, context), reused by every example that draws that vocabulary and depth."""
    m = method(name)
    return st.builds(
        MethodSpec,
        method=st.just(m.name),
        options=option_strategy(m, ctx),
        inference_mode=st.booleans(),
        enums_as_strings=st.booleans(),
        perturb=st.just(True),
        perturb_seed=st.integers(0, 2**31 - 1),
    )


def make_config(spec: MethodSpec, task_name: str, geometry: dict[str, int] | None = None) -> Any:
    """The peft config of ``spec`` for ``task_name``, with explicit geometry when given."""
    options = dict(spec.options)
    vocab = options.pop("tokenizer_vocab", None)
    if vocab is not None:
        options["tokenizer_name_or_path"] = tokenizer_dir(vocab)
    m = method(spec.method)
    if not spec.enums_as_strings:
        options = {k: _as_enum(m, k, v) for k, v in options.items()}
    config_cls = m.config_cls
    return config_cls(
        task_type=task(task_name).peft_task_type, inference_mode=spec.inference_mode, **options, **(geometry or {})
    )


def _as_enum(m: Method, name: str, value: Any) -> Any:
    """``value`` as a member of the enum the field's default belongs to (unchanged when the default is no enum)."""
    default = next((f.default for f in m.fields() if f.name == name), None)
    return type(default)(value) if isinstance(default, enum.Enum) and isinstance(value, str) else value


def explicit_geometry(model_config: Any) -> dict[str, int]:
    """num_layers / token_dim / num_attention_heads read off the (text) config through the role tables."""
    text = model_config.get_text_config() if hasattr(model_config, "get_text_config") else model_config
    values = text.to_dict()

    def first(names: tuple[str, ...]) -> int | None:
        return next((values[n] for n in names if isinstance(values.get(n), int)), None)

    found = {"num_layers": first(fields.LAYERS), "token_dim": first(fields.HIDDEN),
             "num_attention_heads": first(fields.HEADS)}
    return {k: v for k, v in found.items() if v is not None}


def wrap(built: Built, spec: MethodSpec) -> WrapResult:
    """``built.model`` wrapped with ``spec`` (in place: peft takes the base model), perturbed when asked."""
    from peft import get_peft_model

    base_ids = {id(p) for p in built.model.parameters()}
    geometry: Geometry = "inferred"
    refusal: ValueError | None = None
    try:
        try:
            model = get_peft_model(built.model, make_config(spec, built.spec.task))
        except ValueError as exc:
            if not _NOT_INFERABLE.search(str(exc)):
                raise
            geometry, refusal = "explicit", exc
            config = make_config(spec, built.spec.task, explicit_geometry(built.config))
            model = get_peft_model(built.model, config)
    except Exception as exc:  # noqa: BLE001 - every failure is an outcome
        return WrapResult("rejected" if is_clean_rejection(exc) else "crashed", geometry, error=exc,
                          inference_error=refusal)
    model.eval()
    adapter = [n for n, p in model.named_parameters() if id(p) not in base_ids]
    if spec.perturb:
        perturb(model, adapter, spec.perturb_seed)
    return WrapResult("wrapped", geometry, model, adapter_params=adapter, inference_error=refusal)


def perturb(model: torch.nn.Module, names: list[str], seed: int, scale: float = PERTURB_SCALE) -> None:
    """Add seeded Gaussian noise (std ``scale``) to the named parameters, so zero-initialised adapters (adaption
    prompt's gate, zero-init options) change the output."""
    gen = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in names:
            p = params[name]
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)
