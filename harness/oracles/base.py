"""What every oracle shares: the trial it judges, the property record, and comparisons with stated tolerances."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from harness.archs.build import Built, build
from harness.archs.tasks import task
from harness.calls import forward_inputs
from harness.cases import Case
from harness.methods.wrap import WrapResult, wrap

#: fp32 on CPU: the same computation through another code path (cache vs. no cache, another cache class) differs
#: by accumulated rounding, ~1e-6 for these widths; 1e-4 leaves two orders of margin yet catches any real change
#: (a dropped prefix or a shifted position moves logits by > 1e-2 at these sizes).
PATH_ATOL = 1e-4
#: identical computations (positional vs keyword, save/load, disabled adapter vs base) must agree to rounding
SAME_ATOL = 1e-5
#: an adapter "matters" when it moves some output by more than this (perturbed adapters move them by ~1e-1)
CHANGE_MIN = 1e-4
#: greedy tokens may legitimately differ only where the top two logits are closer than this (a tie)
TIE_MARGIN = 1e-4


class OracleFailure(AssertionError):
    """An oracle disagreed: a wrong answer, not a crash. The message says what differed and by how much."""


class NotApplicable(Exception):
    """The property is meaningless for this case (by design); the message is the reason."""


class NotRun(Exception):
    """The property could not be judged for this case (an earlier step decided it); the message is the reason."""


@dataclass
class Trial:
    """A case set up for judging: the base model's reference output, and the wrapped model."""

    case: Case
    built: Built
    inputs: dict[str, torch.Tensor]
    base_out: Any
    wrapped: WrapResult
    #: what oracles call; a test may swap in a deliberately broken stand-in
    model: Any = None

    @property
    def task(self) -> str:
        return self.case.arch.task

    def model_inputs(self, *, labels: bool = False) -> dict[str, torch.Tensor]:
        """The forward inputs without loss targets (unless asked) and without task ids if the model takes none."""
        drop = set() if labels else {"labels", "start_positions", "end_positions"}
        return {k: v for k, v in self.inputs.items() if k not in drop}

    def rebuild_base(self) -> Built:
        """A fresh base model with the same weights (same spec, same seed)."""
        return build(self.case.arch)

    def on_base(self) -> Trial:
        """The same case judged on a fresh plain base model (no peft inputs such as task ids): where an oracle's
        reference semantics are the model's own, the base model shows whether a case can hold at all."""
        built = self.rebuild_base()
        inputs = {k: v for k, v in self.inputs.items() if k != "task_ids"}
        return Trial(self.case, built, inputs, self.base_out, self.wrapped, model=built.model)


class BaseUnusable(Exception):
    """The base model itself does not build or run here: a zoo gap, not a compatibility verdict."""


def setup(case: Case) -> Trial:
    """Build the base model, record its output on the case's inputs, then wrap it (in place).

    Raises :class:`BaseUnusable` when the base model fails before peft is involved.
    """
    try:
        built = build(case.arch)
        inputs = forward_inputs(case.call, case.arch, built.config)
        base_inputs = {k: v for k, v in inputs.items()
                       if k not in ("labels", "start_positions", "end_positions", "task_ids")}
        with torch.no_grad():
            base_out = built.model(**base_inputs)
    except Exception as exc:  # noqa: BLE001 - reported as the reason the case is skipped
        raise BaseUnusable(f"{type(exc).__name__}: {exc}".splitlines()[0][:300]) from exc
    wrapped = wrap(built, case.method)
    return Trial(case, built, inputs, base_out, wrapped, model=wrapped.model)


@dataclass(frozen=True)
class Property:
    """A named claim about a wrapped model, with its tolerance stated in ``doc``."""

    name: str
    doc: str
    check: Callable[[Trial], None]
    #: tasks the property is meaningful for (None: all)
    tasks: tuple[str, ...] | None = None
    #: the property wraps a model itself, so it runs even when wrapping the whole model failed
    standalone: bool = False


def has_targets(trial: Trial) -> bool:
    """Whether the call's loss has at least one target: next-token losses need two tokens (the shift leaves
    length - 1 targets; a mean over none is NaN by definition, not a bug)."""
    inputs = trial.model_inputs(labels=True)
    if not {"labels", "start_positions"} & set(inputs):
        return False
    if task(trial.task).labels == "tokens":
        return inputs["labels"].shape[-1] >= 2 or bool(getattr(trial.built.config, "is_encoder_decoder", False))
    return True


def main_output(out: Any) -> torch.Tensor:
    """The tensor a head produces: logits, start logits, or the last hidden state."""
    for name in ("logits", "start_logits", "last_hidden_state"):
        value = getattr(out, name, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(out, tuple) and isinstance(out[0], torch.Tensor):
        return out[0]
    raise OracleFailure(f"output {type(out).__name__} has no logits, start_logits or last_hidden_state")


def last_positions(tensor: torch.Tensor, n: int) -> torch.Tensor:
    """The last ``n`` sequence positions of a (batch, seq, ...) tensor; a (batch, classes) tensor unchanged."""
    return tensor if tensor.dim() < 3 else tensor[:, -n:]


def assert_close(actual: torch.Tensor, expected: torch.Tensor, atol: float, what: str) -> None:
    """Fail with the largest difference and where it is, unless ``actual`` ≈ ``expected`` within ``atol``."""
    if actual.shape != expected.shape:
        raise OracleFailure(f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}")
    diff = (actual.float() - expected.float()).abs()
    if not torch.isfinite(actual).all() and torch.isfinite(expected).all():
        raise OracleFailure(f"{what}: non-finite values where the reference is finite")
    worst = float(torch.nan_to_num(diff, nan=float("inf")).max()) if diff.numel() else 0.0
    if worst > atol:
        where = tuple(int(i) for i in torch.nonzero(diff == diff.max())[0]) if torch.isfinite(diff).all() else "?"
        raise OracleFailure(f"{what}: max |difference| {worst:.3g} > {atol:g} at {where}")


def _all_but_length(tensor: torch.Tensor) -> tuple[int, ...]:
    """The shape of a (batch, seq, ...) tensor (span logits: (batch, seq)) without its sequence length."""
    return (tensor.shape[0], *tensor.shape[2:])


def assert_changed(actual: torch.Tensor, reference: torch.Tensor, what: str) -> None:
    """Fail unless some value of ``actual`` differs from ``reference`` by more than CHANGE_MIN. Outputs whose lengths
    differ (virtual tokens kept in the output) are compared over the positions both have, the last ones; any other
    shape difference fails with both shapes."""
    if actual.shape != reference.shape:
        if not (actual.dim() == reference.dim() >= 2 and _all_but_length(actual) == _all_but_length(reference)):
            raise OracleFailure(f"{what}: shape {tuple(actual.shape)} cannot be compared with "
                                f"{tuple(reference.shape)}")
        common = min(actual.shape[1], reference.shape[1])
        actual, reference = actual[:, -common:], reference[:, -common:]
    diff = float((actual.float() - reference.float()).abs().max())
    if diff <= CHANGE_MIN:
        raise OracleFailure(f"{what}: max |difference| {diff:.3g} <= {CHANGE_MIN:g}; the adapter had no effect")


def past_parameter(model: Any) -> tuple[str, int | None]:
    """The name under which ``model``'s forward takes a cache, and its positional index (None: keyword only)."""
    params = list(inspect.signature(model.forward).parameters.values())
    for i, p in enumerate(params):
        if p.name.startswith("past_key_value"):
            positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            return p.name, (i if positional else None)
    return "past_key_values", None


def call_with_past(model: Any, inputs: dict[str, Any], past: Any, positional: bool, **extra: Any) -> Any:
    """``model(**inputs, past_key_values=past)``, or with the cache in its declared position when ``positional``."""
    name, index = past_parameter(model)
    if not positional or index is None:
        return model(**inputs, **{name: past}, **extra)
    params = list(inspect.signature(model.forward).parameters)
    merged = {**inputs, **extra, name: past}
    args = [merged.pop(p, None) for p in params[: index + 1]]
    return model(*args, **merged)
