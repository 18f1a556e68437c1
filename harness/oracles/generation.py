"""Generation properties: generate agrees with a cache-free greedy loop, with itself without a cache, with itself
split in two, and accepts the drawn generate options.

Generation inputs use the drawn mask when it left-pads (how batches are served), else a full one. Reference
semantics for padded generation are the model's own: where the plain base model's generate does not meet a property
on a padded batch, the case is ``unsupported`` for it (padded-generate covers padding against rows alone).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from harness.oracles.base import (
    PATH_ATOL,
    TIE_MARGIN,
    BaseUnusable,
    NotApplicable,
    OracleFailure,
    Property,
    Trial,
    assert_close,
)
from harness.timeouts import CaseTimeout

GENERATING_TASKS = ("causal-lm", "seq2seq-lm", "image-text-to-text")


def is_seq2seq(trial: Trial) -> bool:
    return bool(getattr(trial.built.config, "is_encoder_decoder", False))


def generate_inputs(trial: Trial) -> dict[str, torch.Tensor]:
    """The case's inputs for generate: ids (or the multimodal tensors), the drawn mask if it left-pads (else a full
    one), task ids; nothing generate derives itself (positions, token types, decoder ids, labels)."""
    inputs = trial.model_inputs()
    for name in ("position_ids", "token_type_ids", "decoder_input_ids", "decoder_attention_mask"):
        inputs.pop(name, None)
    if trial.case.call.mask != "left-pad" or "attention_mask" not in inputs:
        inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    return inputs


def padded(inputs: dict[str, torch.Tensor]) -> bool:
    return not bool(inputs["attention_mask"].all())


def _eos_ids(trial: Trial) -> set[int]:
    eos = getattr(trial.built.model.generation_config, "eos_token_id", None)
    return set(eos if isinstance(eos, list) else [] if eos is None else [eos])


def _new_tokens(trial: Trial, sequences: torch.Tensor, prompt_len: int) -> torch.Tensor:
    return sequences if is_seq2seq(trial) else sequences[:, prompt_len:]


def assert_same_tokens(trial: Trial, actual: torch.Tensor, expected: torch.Tensor, what: str,
                       margins: torch.Tensor | None = None) -> None:
    """Per row, tokens agree up to the first end-of-sequence token (after it, rows are padding). A difference at a
    step whose reference top-2 logit margin is below TIE_MARGIN is a tie, not a failure."""
    eos = _eos_ids(trial)
    steps = min(actual.shape[1], expected.shape[1])
    for row in range(expected.shape[0]):
        for step in range(steps):
            a, e = int(actual[row, step]), int(expected[row, step])
            if a != e:
                if margins is not None and step < margins.shape[1] and float(margins[row, step]) < TIE_MARGIN:
                    break
                raise OracleFailure(f"{what}: row {row} step {step}: token {a} != {e}")
            if e in eos:
                break
    if actual.shape[1] < expected.shape[1] and not eos:
        raise OracleFailure(f"{what}: {actual.shape[1]} new tokens, expected {expected.shape[1]}")


def greedy_loop(trial: Trial, inputs: dict[str, torch.Tensor],
                steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Reference generation: ``steps`` full forwards without a cache, each taking the arg-max token (on a padded
    batch with the positions counted over the mask, as generate counts them, where the model takes positions).
    Returns (tokens (batch, steps [+1 start token for seq2seq]), logits (batch, steps, vocab), top-2 margins)."""
    inputs = dict(inputs)
    batch = inputs["input_ids"].shape[0]
    if is_seq2seq(trial):
        start = trial.built.model.generation_config.decoder_start_token_id
        if start is None:
            start = trial.built.config.decoder_start_token_id
        inputs["decoder_input_ids"] = torch.full((batch, 1), int(start))
        grow = "decoder_input_ids"
    else:
        grow = "input_ids"
    counts_positions = grow == "input_ids" and padded(inputs) and \
        "position_ids" in inspect.signature(trial.built.model.forward).parameters
    new, logits_per_step = [], []
    with torch.no_grad():
        for _ in range(steps):
            if counts_positions:  # as generate does: positions counted over the mask
                inputs["position_ids"] = (inputs["attention_mask"].cumsum(-1) - 1).clamp(min=0)
            logits = trial.model(**inputs, use_cache=False).logits[:, -1].float()
            token = logits.argmax(-1, keepdim=True)
            new.append(token)
            logits_per_step.append(logits)
            inputs[grow] = torch.cat([inputs[grow], token], dim=1)
            if grow == "input_ids":
                inputs["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(token)], dim=1)
    tokens = torch.cat(new, dim=1)
    if is_seq2seq(trial):
        tokens = torch.cat([inputs["decoder_input_ids"][:, :1], tokens], dim=1)
    logits = torch.stack(logits_per_step, dim=1)
    top = logits.topk(2, dim=-1).values
    return tokens, logits, top[..., 0] - top[..., 1]


def _generate(trial: Trial, inputs: dict[str, torch.Tensor], steps: int, **options: Any) -> Any:
    return call_generate(trial, **inputs, max_new_tokens=steps, do_sample=False, num_beams=1, **options)


def call_generate(trial: Trial, *args: Any, **kwargs: Any) -> Any:
    """``trial.model.generate(*args, **kwargs)``. When it raises, a fresh base model gets the same call (without
    peft's ``task_ids``): if that raises too, the call says nothing about peft (:class:`BaseUnusable`)."""
    try:
        with torch.no_grad():
            return trial.model.generate(*args, **kwargs)
    except CaseTimeout:
        raise
    except Exception:
        kwargs.pop("task_ids", None)
        try:
            with torch.no_grad():
                trial.rebuild_base().model.generate(*args, **kwargs)
        except Exception as base_exc:  # noqa: BLE001 - the reason the verdict is a skip
            raise BaseUnusable(f"generate: {type(base_exc).__name__}: {base_exc}".splitlines()[0][:300]) from base_exc
        raise


def _require_generation(trial: Trial) -> None:
    if not hasattr(trial.model, "generate") or trial.task not in GENERATING_TASKS:
        raise NotApplicable(f"{trial.task} models do not generate")


def check_greedy_reference(trial: Trial) -> None:
    """Greedy ``generate`` ≡ a cache-free loop of full forwards through the same peft model: the same tokens
    (ties within TIE_MARGIN excepted) and, up to the first differing token, the same step logits (PATH_ATOL).
    Comparing logits catches a prompt dropped or re-applied during generation even when no arg-max flips. On a
    left-padded batch, only where the plain base model meets the property itself (a forward counts positions over
    the row, generate over the mask: for absolute positions they differ by design)."""
    _require_generation(trial)
    inputs = generate_inputs(trial)
    if padded(inputs):
        base = trial.on_base()
        try:
            _greedy_agrees(base, generate_inputs(base))
        except OracleFailure as exc:
            raise NotApplicable(f"on this left-padded batch the base model's generate differs from a cache-free "
                                f"loop itself: {exc}") from exc
    _greedy_agrees(trial, inputs)


def _greedy_agrees(trial: Trial, inputs: dict[str, torch.Tensor]) -> None:
    steps = trial.case.call.generate.max_new_tokens
    expected, expected_logits, margins = greedy_loop(trial, inputs, steps)
    out = _generate(trial, inputs, steps, return_dict_in_generate=True, output_logits=True)
    actual = _new_tokens(trial, out.sequences, inputs["input_ids"].shape[1])
    offset = int(is_seq2seq(trial))  # seq2seq sequences start with the decoder start token
    if offset:
        margins = torch.cat([torch.full((margins.shape[0], 1), float("inf")), margins], dim=1)
    assert_same_tokens(trial, actual, expected, "generate vs greedy loop", margins)
    step_logits = getattr(out, "logits", None) or out.scores
    agreed = _agreeing_steps(actual[:, offset:], expected[:, offset:])
    if agreed:
        got = torch.stack(list(step_logits[:agreed]), dim=1).float()
        assert_close(got, expected_logits[:, :agreed], PATH_ATOL, f"generate step logits vs greedy loop "
                     f"(first {agreed} steps)")


def _agreeing_steps(actual: torch.Tensor, expected: torch.Tensor) -> int:
    """How many leading steps have the same token in every row."""
    steps = min(actual.shape[1], expected.shape[1])
    same = (actual[:, :steps] == expected[:, :steps]).all(dim=0).tolist()
    return same.index(False) if False in same else steps


def check_cache_on_off(trial: Trial) -> None:
    """Greedy ``generate(use_cache=True)`` ≡ ``generate(use_cache=False)`` (same tokens)."""
    _require_generation(trial)
    steps = trial.case.call.generate.max_new_tokens
    inputs = generate_inputs(trial)
    cached = _generate(trial, inputs, steps, use_cache=True)
    uncached = _generate(trial, inputs, steps, use_cache=False)
    prompt = inputs["input_ids"].shape[1]
    assert_same_tokens(trial, _new_tokens(trial, cached, prompt), _new_tokens(trial, uncached, prompt),
                       "generate with cache vs without")


def check_split_generation(trial: Trial) -> None:
    """Generating n+m tokens ≡ generating n, then m more from the returned cache (same tokens); unpadded rows (the
    plain base model cannot continue a left-padded batch from its cache)."""
    _require_generation(trial)
    if is_seq2seq(trial):
        raise NotApplicable("continuing an encoder-decoder generation from its cache is not a public contract")
    spec = trial.case.call.generate
    total = max(2, spec.max_new_tokens)
    first = min(spec.split, total - 1)
    inputs = dict(generate_inputs(trial))
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])  # the base model cannot continue padded rows
    prompt = inputs["input_ids"].shape[1]
    whole = _generate(trial, inputs, total)
    head = _generate(trial, inputs, first, return_dict_in_generate=True, use_cache=True)
    if getattr(head, "past_key_values", None) is None:
        raise OracleFailure("generate(return_dict_in_generate=True, use_cache=True) returned no past_key_values")
    rest = dict(inputs, input_ids=head.sequences, attention_mask=torch.ones_like(head.sequences))
    tail = _generate(trial, rest, total - first, past_key_values=head.past_key_values)
    assert_same_tokens(trial, tail[:, prompt:], whole[:, prompt:], f"generate {first} then {total - first} "
                       f"from the cache vs {total} at once")


def check_generate_options(trial: Trial) -> None:
    """The drawn generate options (greedy / seeded sampling / beams, return sequences, cache implementation, dict
    output with scores, ids by position or keyword) run; there are batch × num_return_sequences rows, each
    beginning with its prompt (decoder-only); scores (when asked) have one entry per new token; the same seed gives
    the same tokens again."""
    _require_generation(trial)
    spec = trial.case.call.generate
    options = spec.options()
    inputs = generate_inputs(trial)
    out = _seeded_generate(trial, inputs, spec.positional, options)
    sequences = out.sequences if spec.return_dict_in_generate else out
    rows = trial.case.call.batch * spec.num_return_sequences
    if sequences.shape[0] != rows:
        raise OracleFailure(f"{sequences.shape[0]} sequences for {rows} expected rows")
    prompt = inputs["input_ids"].repeat_interleave(spec.num_return_sequences, dim=0)
    if not is_seq2seq(trial) and not torch.equal(sequences[:, :prompt.shape[1]], prompt):
        raise OracleFailure("the sequences do not begin with the prompt: generate dropped or replaced the input ids")
    generated = _new_tokens(trial, sequences, inputs["input_ids"].shape[1]).shape[1] - int(is_seq2seq(trial))
    if spec.return_dict_in_generate and spec.output_scores and len(out.scores) != generated:
        raise OracleFailure(f"{len(out.scores)} score entries for {generated} new tokens")
    again = _seeded_generate(trial, inputs, spec.positional, options)
    again_sequences = again.sequences if spec.return_dict_in_generate else again
    if not torch.equal(sequences, again_sequences):
        raise OracleFailure("the same seed gave different tokens the second time")


def check_positional_generate(trial: Trial) -> None:
    """Greedy ``generate(ids, ...)`` with the ids positional ≡ ``generate(input_ids=ids, ...)`` (same tokens,
    prompt included)."""
    _require_generation(trial)
    inputs = generate_inputs(trial)
    options = {"max_new_tokens": trial.case.call.generate.max_new_tokens, "do_sample": False, "num_beams": 1}
    keyword = _seeded_generate(trial, inputs, False, options)
    positional = _seeded_generate(trial, inputs, True, options)
    if positional.shape != keyword.shape or not torch.equal(positional, keyword):
        raise OracleFailure(f"generate(ids) returned {tuple(positional.shape)} tokens {positional[0].tolist()}, "
                            f"generate(input_ids=ids) {tuple(keyword.shape)} tokens {keyword[0].tolist()} (row 0)")


def _seeded_generate(trial: Trial, inputs: dict[str, torch.Tensor], positional: bool,
                     options: dict[str, Any]) -> Any:
    torch.manual_seed(trial.case.call.seed)
    args = dict(inputs)
    if positional:
        return call_generate(trial, args.pop("input_ids"), **args, **options)
    return call_generate(trial, **args, **options)


PROPERTIES = (
    Property("generate-greedy", check_greedy_reference.__doc__ or "", check_greedy_reference, GENERATING_TASKS),
    Property("generate-cache", check_cache_on_off.__doc__ or "", check_cache_on_off, GENERATING_TASKS),
    Property("generate-split", check_split_generation.__doc__ or "", check_split_generation, GENERATING_TASKS),
    Property("generate-options", check_generate_options.__doc__ or "", check_generate_options, GENERATING_TASKS),
    Property("generate-positional", check_positional_generate.__doc__ or "", check_positional_generate,
             GENERATING_TASKS),
)
