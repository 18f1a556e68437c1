"""Padding and positions: a padded batch answers each row as that row alone does, and passing the positions a model
would derive itself changes nothing.

The base model defines the contract: where the plain base model is not padding-invariant itself (absolute positions
without position ids, a classifier that cannot find padding in embeddings), the case is ``unsupported`` with that
reason; where peft announces that it ignores position ids, that announcement is the reason.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Literal

import torch

from harness.archs.tasks import task
from harness.oracles.base import CHANGE_MIN, PATH_ATOL, SAME_ATOL, BaseUnusable, NotApplicable, OracleFailure, Property
from harness.oracles.base import Trial
from harness.oracles.base import assert_close, main_output
from harness.oracles.generation import GENERATING_TASKS, assert_same_tokens, call_generate, is_seq2seq
from harness.quiet import peft_warned

Side = Literal["left", "right"]
#: how peft says it drops position ids ("Position ids are not supported for parameter efficient tuning. Ignoring …")
_IGNORES_POSITIONS = re.compile(r"position ids.*(?:not supported|ignor)", re.IGNORECASE)
#: inputs these properties know how to pad or pass through; anything else (images, audio) is out of scope
_TEXT_INPUTS = ("input_ids", "attention_mask", "task_ids", "decoder_input_ids")
#: added to every position for "explicit positions are not ignored"
SHIFT = 3


@dataclass(frozen=True)
class Batch:
    """A padded batch and, per row, its real tokens alone."""

    padded: dict[str, torch.Tensor]
    rows: list[dict[str, torch.Tensor]]
    lengths: list[int]
    side: Side


def _text_inputs(trial: Trial) -> dict[str, torch.Tensor]:
    inputs = trial.model_inputs()
    extra = sorted(set(inputs) - {*_TEXT_INPUTS, "position_ids", "token_type_ids"})
    if extra:
        raise NotApplicable(f"padding a batch with {', '.join(extra)} is outside these properties (text only)")
    return {k: v for k, v in inputs.items() if k in _TEXT_INPUTS}


def padded_batch(trial: Trial, side: Side) -> Batch:
    """The case's ids as a batch padded on ``side``: row r keeps its first length - pad_r tokens, pad_r drawn from
    the call's seed (at least one row padded); the rows alone are those tokens, unpadded."""
    inputs = _text_inputs(trial)
    ids = inputs["input_ids"]
    batch, length = ids.shape
    if length < 2:
        raise NotApplicable("needs at least two tokens to pad")
    pads = [(trial.case.call.seed + r) % length for r in range(batch)]
    pads[-1] = pads[-1] or 1
    pad_id = getattr(trial.built.config, "pad_token_id", None)
    pad_id = pad_id if isinstance(pad_id, int) else 0
    padded_ids = torch.full_like(ids, pad_id)
    mask = torch.zeros_like(ids)
    rows, lengths = [], []
    for r, pad in enumerate(pads):
        n = length - pad
        where = slice(pad, length) if side == "left" else slice(0, n)
        padded_ids[r, where], mask[r, where] = ids[r, :n], 1
        row = {"input_ids": ids[r:r + 1, :n], "attention_mask": torch.ones(1, n, dtype=mask.dtype)}
        row.update({k: inputs[k][r:r + 1] for k in ("task_ids", "decoder_input_ids") if k in inputs})
        rows.append(row)
        lengths.append(n)
    padded = {**{k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")},
              "input_ids": padded_ids, "attention_mask": mask}
    return Batch(padded, rows, lengths, side)


def derived_positions(mask: torch.Tensor) -> torch.Tensor:
    """The positions a model derives from a mask: 0…n-1 over the attended tokens (the cumulative sum less one;
    padding gets 0)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def _takes_positions(model: torch.nn.Module) -> bool:
    return "position_ids" in inspect.signature(model.forward).parameters


def _row_output(trial: Trial, out: torch.Tensor, row: int, n: int, side: Side, length: int) -> torch.Tensor:
    """Row ``row``'s output at its ``n`` real positions (the whole row for a per-sequence head; all decoder positions
    for seq2seq; virtual-token positions in front are left out)."""
    if task(trial.task).labels == "class" or out.dim() < 2 or is_seq2seq(trial):
        return out[row:row + 1]
    text = out[row:row + 1, out.shape[1] - length:]
    return text[:, length - n:] if side == "left" else text[:, :n]


def _forward(model: torch.nn.Module, inputs: dict[str, torch.Tensor], embeds: bool = False) -> torch.Tensor:
    """The main output of ``model`` on ``inputs`` (the ids as embeddings when asked, as prompt methods pass them)."""
    args = {k: v for k, v in inputs.items() if k != "task_ids" or hasattr(model, "peft_config")}
    if embeds:
        args["inputs_embeds"] = model.get_input_embeddings()(args.pop("input_ids"))
    with torch.no_grad():
        return main_output(model(**args))


def _padding_mismatch(trial: Trial, model: torch.nn.Module, batch: Batch, embeds: bool = False) -> str:
    """"" when every row of the padded batch gets its lone output (PATH_ATOL), else what differed."""
    inputs = dict(batch.padded)
    if batch.side == "left" and _takes_positions(trial.built.model):
        inputs["position_ids"] = derived_positions(inputs["attention_mask"])
    out = _forward(model, inputs, embeds)
    length = inputs["input_ids"].shape[1]
    for r, (row, n) in enumerate(zip(batch.rows, batch.lengths, strict=True)):
        alone = _forward(model, row, embeds)
        try:
            assert_close(_row_output(trial, out, r, n, batch.side, length),
                         _row_output(trial, alone, 0, n, "right", n), PATH_ATOL,
                         f"row {r} ({n} tokens) {batch.side}-padded in a batch vs alone")
        except OracleFailure as exc:
            return str(exc)
    return ""


def _pad_leak(trial: Trial, model: torch.nn.Module, batch: Batch) -> str:
    """"" when what fills the padded slots does not reach the real positions, else by how much (SAME_ATOL: the
    same computation, only masked ids differ). A base model with tiny random weights can leak padding by less than
    PATH_ATOL (transformers 4.45's bert-generation decoder sees later tokens); this tells that from peft's leak.
    Not asked of a per-sequence head: it may find the last real token by the pad id, so its padding is read."""
    if task(trial.task).labels == "class":
        return ""
    inputs = dict(batch.padded)
    if batch.side == "left" and _takes_positions(trial.built.model):
        inputs["position_ids"] = derived_positions(inputs["attention_mask"])
    real = inputs["attention_mask"].bool()
    ids = inputs["input_ids"]
    refilled = dict(inputs, input_ids=torch.where(real, ids, ids[real].max()))
    out, other = _forward(model, inputs), _forward(model, refilled)
    length = ids.shape[1]
    try:
        for r, n in enumerate(batch.lengths):
            assert_close(_row_output(trial, other, r, n, batch.side, length),
                         _row_output(trial, out, r, n, batch.side, length), SAME_ATOL,
                         f"row {r}: other ids in its padding")
    except OracleFailure as exc:
        return str(exc)
    return ""


def check_padding_invariance(trial: Trial) -> None:
    """On a left- and on a right-padded batch (left: with the positions the mask implies, where the model takes
    position ids), each row's real positions get the logits that row gets alone, unpadded (PATH_ATOL: masked
    attention over padding is another code path, same arithmetic). Unsupported where the plain base model is not
    invariant itself (or its real positions see what fills the padding, SAME_ATOL), where the base model given
    embeddings (as prompt methods pass them) is not invariant either,
    and on the left where peft announces that it ignores the position ids or puts virtual tokens in front of the
    padding (see _left_padding_excuse)."""
    base = trial.rebuild_base().model
    for side in ("right", "left"):
        batch = padded_batch(trial, side)
        try:
            base_problem = _padding_mismatch(trial, base, batch)
        except Exception as exc:  # noqa: BLE001 - the reason the verdict is a skip
            raise BaseUnusable(f"padded batch: {type(exc).__name__}: {exc}"[:300]) from exc
        base_problem = base_problem or _pad_leak(trial, base, batch)
        if base_problem:
            raise NotApplicable(f"the base model is not padding-invariant itself: {base_problem}")
        try:
            problem = _padding_mismatch(trial, trial.model, batch)
        except Exception as exc:
            _unless_base_embeds_fail(trial, base, batch, exc)
            raise
        if not problem:
            continue
        excuse = _left_padding_excuse(trial) if side == "left" else ""
        if excuse:
            raise NotApplicable(f"{excuse}: {problem}")
        if _padding_mismatch(trial, base, batch, embeds=True):
            raise NotApplicable(f"the base model given embeddings (as peft passes them) is not padding-invariant "
                                f"either: {problem}")
        raise OracleFailure(problem)


def _unless_base_embeds_fail(trial: Trial, base: torch.nn.Module, batch: Batch, exc: Exception) -> None:
    """Raise BaseUnusable when the base model, given embeddings as peft passes them, refuses the padded batch too
    (a classifier that needs end-of-sequence tokens among the ids, say): then ``exc`` says nothing about peft."""
    try:
        _padding_mismatch(trial, base, batch, embeds=True)
    except Exception as base_exc:  # noqa: BLE001 - the reason the verdict is a skip
        raise BaseUnusable(f"padded batch as embeddings: {type(base_exc).__name__}: {base_exc}"[:300]) from exc


def _left_padding_excuse(trial: Trial) -> str:
    """Why left padding may change this wrapped model's answer by design ("" if nothing excuses it): peft announced
    that it ignores the position ids, or it puts virtual tokens in front of the padding (the pad count then changes
    their distance to the text under relative positions, and what a sliding window holds)."""
    ignored = peft_warned(_IGNORES_POSITIONS)
    if ignored:
        return f"peft ignores position ids for this method ({ignored!r})"
    config = getattr(trial.model, "active_peft_config", None)
    if getattr(config, "num_virtual_tokens", 0):
        return "peft puts its virtual tokens in front of the left padding, so the pad count moves them against the text"
    return ""


def check_padded_generation(trial: Trial) -> None:
    """Greedy ``generate`` on a left-padded batch gives each row the tokens it gets alone (ties, where the lone
    run's top-2 logit margin is below TIE_MARGIN, excepted). Unsupported where the plain base model does not
    generate padding-invariantly itself, and where a difference is excused by design (see _left_padding_excuse)."""
    if not hasattr(trial.model, "generate") or trial.task not in GENERATING_TASKS:
        raise NotApplicable(f"{trial.task} models do not generate")
    batch = padded_batch(trial, "left")
    steps = trial.case.call.generate.max_new_tokens
    try:
        _generation_mismatch(trial.on_base(), batch, steps)
    except OracleFailure as exc:
        raise NotApplicable(f"the base model does not generate padding-invariantly itself: {exc}") from exc
    try:
        _generation_mismatch(trial, batch, steps)
    except OracleFailure as exc:
        excuse = _left_padding_excuse(trial)
        if excuse:
            raise NotApplicable(f"{excuse}: {exc}") from exc
        raise


def _generation_mismatch(trial: Trial, batch: Batch, steps: int) -> None:
    def generate(inputs: dict[str, torch.Tensor], **options: object) -> object:
        if not hasattr(trial.model, "peft_config"):
            inputs = {k: v for k, v in inputs.items() if k != "task_ids"}
        return call_generate(trial, **inputs, max_new_tokens=steps, min_new_tokens=steps, do_sample=False,
                              num_beams=1, **options)

    offset = int(is_seq2seq(trial))
    together = generate(batch.padded)
    prompt = batch.padded["input_ids"].shape[1]
    for r, (row, n) in enumerate(zip(batch.rows, batch.lengths, strict=True)):
        alone = generate(row, return_dict_in_generate=True, output_logits=True)
        logits = torch.stack(list(getattr(alone, "logits", None) or alone.scores), dim=1).float()
        top = logits.topk(2, dim=-1).values
        margins = top[..., 0] - top[..., 1]
        if offset:
            margins = torch.cat([torch.full((1, 1), float("inf")), margins], dim=1)
        new_together = together[r:r + 1] if offset else together[r:r + 1, prompt:]
        new_alone = alone.sequences if offset else alone.sequences[:, n:]
        assert_same_tokens(trial, new_together, new_alone, f"row {r} ({n} tokens) left-padded in a batch vs alone",
                           margins)


def _real(out: torch.Tensor, trial: Trial, mask: torch.Tensor | None) -> torch.Tensor:
    """``out`` at the attended text positions (padding and virtual tokens left out; per-sequence heads whole)."""
    if task(trial.task).labels == "class" or out.dim() < 3 or is_seq2seq(trial):
        return out
    text = out[:, out.shape[1] - (mask.shape[1] if mask is not None else out.shape[1]):]
    return text if mask is None else text * mask[..., None].to(text.dtype)


def _candidate_positions(mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """Positions a model may derive itself, in the order tried: 0…n-1 over the whole row (what a forward without a
    cache counts), then counted over the mask (what generate and mask-aware models count)."""
    return {"0…n-1 over the row": torch.arange(mask.shape[1]).expand_as(mask), "counted over the mask":
            derived_positions(mask)}


def check_explicit_positions(trial: Trial) -> None:
    """Passing the position ids the model derives itself gives the output of passing none (PATH_ATOL, attended
    positions), with or without virtual tokens before the text. The derived ones are the first of 0…n-1 per row and
    the mask's count that the plain base model agrees with (for an unpadded row they are the same; relative
    encodings accept both, and then 0…n-1, what a forward counts, is used). And where the base model's output
    depends on absolute positions (shifting them by SHIFT moves it by more than CHANGE_MIN), shifted positions move
    the wrapped model's output too, unless peft announces it ignores them (then unsupported, with peft's words)."""
    inputs = _text_inputs(trial)
    if not _takes_positions(trial.built.model):
        raise NotApplicable("the model takes no position_ids")
    mask = inputs.get("attention_mask")
    base = trial.rebuild_base().model
    reference = _real(_forward(base, inputs), trial, mask)
    positions = None
    for candidate in _candidate_positions(mask if mask is not None else torch.ones_like(inputs["input_ids"])).values():
        out = _real(_forward(base, {**inputs, "position_ids": candidate}), trial, mask)
        if float((out - reference).abs().max()) <= PATH_ATOL:
            positions = candidate
            break
    if positions is None:
        raise NotApplicable("the base model derives positions neither as 0…n-1 nor from the mask")
    without = _real(_forward(trial.model, inputs), trial, mask)
    explicit = _real(_forward(trial.model, {**inputs, "position_ids": positions}), trial, mask)
    assert_close(explicit, without, PATH_ATOL, "output with the derived position ids passed vs none")
    shifted = {**inputs, "position_ids": positions + SHIFT}
    base_moves = float((_real(_forward(base, shifted), trial, mask) - reference).abs().max()) > CHANGE_MIN
    if base_moves and float((_real(_forward(trial.model, shifted), trial, mask) - explicit).abs().max()) <= CHANGE_MIN:
        ignored = peft_warned(_IGNORES_POSITIONS)
        if ignored:
            raise NotApplicable(f"peft ignores position ids for this method: {ignored!r}")
        raise OracleFailure(f"positions shifted by {SHIFT} move the base model's output but not the wrapped "
                            f"model's: the explicit position ids are ignored")


PROPERTIES = (
    Property("padding-invariance", check_padding_invariance.__doc__ or "", check_padding_invariance),
    Property("padded-generate", check_padded_generation.__doc__ or "", check_padded_generation, GENERATING_TASKS),
    Property("explicit-positions", check_explicit_positions.__doc__ or "", check_explicit_positions),
)
