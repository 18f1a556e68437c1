"""What training reaches: exactly the parameters peft promises to train, and every one of them moves."""

from __future__ import annotations

import torch

from harness.archs.tasks import task
from harness.calls import labels
from harness.oracles.base import NotApplicable, OracleFailure, Property, Trial

#: Adam's first step moves every parameter with a non-zero gradient by about the learning rate, whatever the
#: gradient's size: 1e-2 is far above fp32 rounding of these weights (~1e-7), so "changed" is exact inequality
LEARNING_RATE = 1e-2


def promised_heads(trial: Trial) -> dict[str, list[str]]:
    """Module path → its parameters' relative names, for the base-model modules peft promises to train besides the
    prompt: the names in the wrapped model's own ``modules_to_save`` (its configs' lists, which peft extends with
    the task's default head names), matched to module paths as peft matches them (the path or its last parts)."""
    names = getattr(trial.model, "modules_to_save", None) or ()
    base = trial.rebuild_base().model
    heads: dict[str, list[str]] = {}
    for path, module in base.named_modules():
        if path and any(path == name or path.endswith(f".{name}") for name in names):
            if not any(path.startswith(f"{outer}.") for outer in heads):
                heads[path] = [rel for rel, _ in module.named_parameters()]
    return heads


def _under(name: str, module_path: str, relative: str) -> bool:
    """Whether wrapped parameter ``name`` is a copy of ``module_path``'s parameter ``relative``: the module's path
    parts appear in order, and the name ends with the relative name (peft may insert wrapper parts in between)."""
    parts, module, rel = name.split("."), module_path.split("."), relative.split(".")
    for i in range(len(parts) - len(module) - len(rel) + 1):
        if parts[i:i + len(module)] == module and parts[-len(rel):] == rel:
            return True
    return False


def check_trainable_set(trial: Trial) -> None:
    """The parameters with ``requires_grad`` are exactly what peft promises: adapter parameters only (none of the
    base model's own), including a trainable copy of every parameter of each ``modules_to_save`` module (for
    classification, peft's default head names). One Adam step (lr LEARNING_RATE) on the task's loss changes every
    trainable parameter that got a gradient, and no frozen parameter at all (exact comparison). Some trainable
    parameters get no gradient by design: a span head's bias (a constant added to every position's logit leaves the
    softmax unchanged), any head on a one-token span, rows of tasks a batch does not use, virtual tokens outside a
    sliding window; whether the adapter matters at all is adapter-matters' and train-step's claim."""
    if trial.case.method.inference_mode:
        raise NotApplicable("inference_mode freezes the adapter")
    targets = labels(task(trial.task).labels, trial.inputs, trial.built.config,
                     torch.Generator().manual_seed(trial.case.call.seed))
    if not targets or (task(trial.task).labels == "tokens" and trial.inputs["input_ids"].shape[-1] < 2
                       and not getattr(trial.built.config, "is_encoder_decoder", False)):
        raise NotApplicable(f"{trial.task} has no loss for this call")
    model = trial.model
    params = dict(model.named_parameters())
    trainable = {n for n, p in params.items() if p.requires_grad}
    adapter = set(trial.wrapped.adapter_params)
    if not trainable:
        raise OracleFailure("nothing is trainable outside inference_mode")
    if trainable - adapter:
        leaked = sorted(trainable - adapter)
        raise OracleFailure(f"{len(leaked)} base-model parameter(s) are trainable, e.g. {leaked[0]}")
    for path, relatives in promised_heads(trial).items():
        missing = [rel for rel in relatives if not any(_under(n, path, rel) for n in trainable)]
        if missing:
            raise OracleFailure(f"modules_to_save promises {path} trainable, but no trainable copy of its "
                                f"{missing[0]} exists (the head would stay frozen)")
    before = {n: p.detach().clone() for n, p in params.items()}
    try:
        _one_step(trial, model, [params[n] for n in sorted(trainable)], targets)
        changed = {n for n, p in params.items() if not torch.equal(p.detach(), before[n])}
        graded = {n for n, p in params.items() if p.grad is not None and bool(p.grad.abs().sum() > 0)}
    finally:
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(before[n])
        model.zero_grad(set_to_none=True)
        model.eval()
    moved_frozen = sorted(changed - trainable)
    if moved_frozen:
        raise OracleFailure(f"one step changed {len(moved_frozen)} frozen parameter(s), e.g. {moved_frozen[0]}")
    still = sorted((trainable & graded) - changed)
    if still:
        raise OracleFailure(f"one step left {len(still)} parameter(s) with a gradient unchanged, e.g. {still[0]}")


def _one_step(trial: Trial, model: torch.nn.Module, trainable: list[torch.nn.Parameter],
              targets: dict[str, torch.Tensor]) -> None:
    model.train()
    optimiser = torch.optim.Adam(trainable, lr=LEARNING_RATE)
    optimiser.zero_grad(set_to_none=True)
    loss = model(**trial.model_inputs(), **targets).loss
    if loss is None or not torch.isfinite(loss):
        raise OracleFailure(f"training loss is {loss}")
    loss.backward()
    optimiser.step()


PROPERTIES = (
    Property("trainable-set", check_trainable_set.__doc__ or "", check_trainable_set),
)
