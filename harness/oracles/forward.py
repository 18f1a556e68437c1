"""Forward-pass properties: the drawn call runs, argument forms agree, a passed cache is honoured."""

from __future__ import annotations

import torch

from harness.caches import FormUnavailable, PrefilledForm, cache_length, empty_forms, prefilled_forms
from harness.oracles.base import (
    PATH_ATOL,
    SAME_ATOL,
    NotApplicable,
    OracleFailure,
    Property,
    Trial,
    assert_close,
    call_with_past,
    has_targets,
    main_output,
)


def _flags(trial: Trial) -> dict[str, object]:
    call = trial.case.call
    flags: dict[str, object] = {}
    if call.use_cache is not None:
        flags["use_cache"] = call.use_cache
    if call.output_attentions:
        flags["output_attentions"] = True
    if call.output_hidden_states:
        flags["output_hidden_states"] = True
    return flags


def _embedded(trial: Trial, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``inputs`` with input_ids replaced by their embeddings (the base model's input embedding table)."""
    out = dict(inputs)
    ids = out.pop("input_ids")
    with torch.no_grad():
        out["inputs_embeds"] = trial.built.model.get_input_embeddings()(ids)
    return out


_ABSENT = object()


def _drawn_past(trial: Trial) -> object:
    """The drawn empty cache for this model, or _ABSENT (not drawn, unsuited, or not available here)."""
    call = trial.case.call
    form = empty_forms().get(call.past)
    is_enc_dec = bool(getattr(trial.built.config, "is_encoder_decoder", False))
    if form is None or form.suits not in ("any", "encoder-decoder" if is_enc_dec else "decoder"):
        return _ABSENT
    try:
        return form.make(trial.built.config, call.batch, 64)
    except FormUnavailable:
        return _ABSENT


def check_forward(trial: Trial) -> None:
    """The drawn call (inputs or embeddings, mask, positions, labels, an empty cache by keyword or position,
    cache and output flags) runs, and the main
    output has one row per input row and only finite values (no tolerance: a shape or a NaN is wrong or not)."""
    call = trial.case.call
    inputs = trial.model_inputs(labels=True)
    if call.embeds:
        inputs = _embedded(trial, inputs)
    past = _drawn_past(trial)
    with torch.no_grad():
        if past is _ABSENT:
            out = trial.model(**inputs, **_flags(trial))
        else:
            out = call_with_past(trial.model, inputs, past, call.past_positional, **_flags(trial))
    main = main_output(out)
    if main.shape[0] != call.batch:
        raise OracleFailure(f"main output has {main.shape[0]} rows for a batch of {call.batch}")
    if not torch.isfinite(main).all():
        raise OracleFailure("main output has non-finite values")
    loss = getattr(out, "loss", None)
    if loss is not None and has_targets(trial) and not torch.isfinite(loss):
        raise OracleFailure(f"loss is {float(loss)}")


def check_empty_cache(trial: Trial) -> None:
    """Passing an empty cache gives the same output as passing none: every empty form the installed transformers
    can make for this model (``None``, an empty DynamicCache, a fresh StaticCache, an empty EncoderDecoderCache, and
    every other cache class it has: HybridCache, SlidingWindowCache, …), by keyword and, where the wrapped forward
    declares the parameter, positionally; only forms the plain base model accepts. Tolerance PATH_ATOL: a static
    cache takes another code path."""
    call = trial.case.call
    is_enc_dec = bool(getattr(trial.built.config, "is_encoder_decoder", False))
    suits = ("any", "encoder-decoder" if is_enc_dec else "decoder")
    inputs = trial.model_inputs()
    with torch.no_grad():
        reference = main_output(trial.model(**inputs))
    base = trial.rebuild_base().model
    base_inputs = {k: v for k, v in inputs.items() if k != "task_ids"}
    with torch.no_grad():
        base_reference = main_output(base(**base_inputs))
    for form in empty_forms().values():
        if form.suits not in suits:
            continue
        for positional in (False, True):
            try:
                past = form.make(trial.built.config, call.batch, 64)
                base_accepts(base, inputs, past, positional, base_reference)
                past = form.make(trial.built.config, call.batch, 64)
            except FormUnavailable:
                break
            with torch.no_grad():
                out = main_output(call_with_past(trial.model, inputs, past, positional))
            how = "positional" if positional else "keyword"
            assert_close(out, reference, PATH_ATOL, f"output with an empty {form.name} cache ({how}) vs no cache")


def check_positional(trial: Trial) -> None:
    """``model(input_ids, ...)`` with the ids positional ≡ ``model(input_ids=ids, ...)`` (SAME_ATOL)."""
    inputs = trial.model_inputs()
    ids = inputs.pop("input_ids")
    with torch.no_grad():
        keyword = main_output(trial.model(input_ids=ids, **inputs))
        positional = main_output(trial.model(ids, **inputs))
    assert_close(positional, keyword, SAME_ATOL, "positional input_ids vs keyword")


def check_prefilled_cache(trial: Trial) -> None:
    """Cached ≡ uncached: a forward over the tail of the input, given the cache a forward over its head returned,
    gives the one-shot forward's logits for the tail (PATH_ATOL: another code path, same arithmetic). Cache forms:
    as returned, as legacy tuples, as a DynamicCache, and every empty cache object the installed transformers can
    make (StaticCache, HybridCache, SlidingWindowCache, …) handed to the head forward and filled there; the tail
    gets it by keyword and positionally. Only forms the plain base model accepts are tried; one that then raises
    decides the outcome (``rejected`` if the refusal explains itself)."""
    call = trial.case.call
    inputs = trial.model_inputs()
    if "input_ids" not in inputs or inputs["input_ids"].shape[1] < 2:
        raise NotApplicable("needs at least two input tokens to split")
    if "decoder_input_ids" in inputs:
        raise NotApplicable("encoder-decoder: the decoder cache is covered by the generate properties")
    length = inputs["input_ids"].shape[1]
    prefix = length - call.length  # image placeholder tokens come before the drawn text: never split them
    if call.length < 2:
        raise NotApplicable("needs at least two text tokens to split")
    k = prefix + min(call.split, call.length - 1)
    with torch.no_grad():
        one_shot = main_output(trial.model(**inputs))
        if one_shot.shape[1] != length:
            raise NotApplicable("the method prepends virtual tokens on every forward; a continuation forward is "
                                "outside its contract (generate covers it)")
        base = trial.rebuild_base().model
        base_one_shot = main_output(base(**{n: v for n, v in inputs.items() if n != "task_ids"}))
        for form in prefilled_forms().values():
            for positional in (False, True):
                try:
                    base_past = _prefill(base, trial, inputs, k, form)
                    base_accepts(base, _tail_inputs(inputs, k), base_past, positional, base_one_shot[:, k:])
                except FormUnavailable:
                    break
                try:  # a fresh head pass per form: caches are mutated in place by the tail pass
                    past = _prefill(trial.model, trial, inputs, k, form, base_model=False)
                except FormUnavailable:
                    break
                held = cache_length(past)
                tail = call_with_past(trial.model, _tail_inputs(inputs, k), past, positional, use_cache=True)
                how = "positional" if positional else "keyword"
                assert_close(main_output(tail), one_shot[:, k:], PATH_ATOL,
                             f"tail logits from a {form.name} cache ({held} positions, {how}) vs one-shot")


def _prefill(model: torch.nn.Module, trial: Trial, inputs: dict[str, torch.Tensor], k: int, form: PrefilledForm,
             base_model: bool = True) -> object:
    """The cache ``model``'s forward over the first ``k`` positions leaves, in ``form``. For the base model any
    refusal makes the form unavailable; for the wrapped model only the conversion may."""
    config, batch = trial.built.config, trial.case.call.batch
    try:
        start = {} if form.start is None else {"past_key_values": form.start.make(config, batch, 64)}
        head = model(**_split(inputs, 0, k), **start, use_cache=True)
    except FormUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - the base model's refusal rules the form out; peft's is an outcome
        if not base_model:
            raise
        raise FormUnavailable(f"the base model refuses it: {type(exc).__name__}: {exc}"[:200]) from exc
    if getattr(head, "past_key_values", None) is None:
        if base_model:
            raise FormUnavailable("the base model returns no cache")
        raise OracleFailure("use_cache=True returned no past_key_values")
    return form.convert(head.past_key_values, config)


def _tail_inputs(inputs: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """The inputs after position ``k``; the attention mask keeps covering the cached positions too."""
    tail = _split(inputs, k, inputs["input_ids"].shape[1])
    if "attention_mask" in inputs:
        tail["attention_mask"] = inputs["attention_mask"]
    return tail


def base_accepts(base: torch.nn.Module, inputs: dict[str, torch.Tensor], past: object,
                 positional: bool = False, expected: torch.Tensor | None = None) -> None:
    """Raise FormUnavailable unless the plain base model runs with this cache and, given ``expected`` (its own
    output without the cache), agrees with it (PATH_ATOL): forms transformers itself no longer takes (legacy tuples
    in recent versions), and special-purpose caches that change the base model's answer by design (an MtpCache
    offsets query positions), are not peft's to honour."""
    base_inputs = {k: v for k, v in inputs.items() if k != "task_ids"}
    try:
        with torch.no_grad():
            out = call_with_past(base, base_inputs, past, positional, use_cache=True)
    except Exception as exc:  # noqa: BLE001 - any refusal by the base model rules the form out
        raise FormUnavailable(f"the base model refuses it: {type(exc).__name__}: {exc}"[:200]) from exc
    if expected is not None:
        try:
            assert_close(main_output(out), expected, PATH_ATOL, "the base model with this cache vs without")
        except OracleFailure as exc:
            raise FormUnavailable(f"not a plain cache for this model: {exc}") from exc


def _split(inputs: dict[str, torch.Tensor], start: int, stop: int) -> dict[str, torch.Tensor]:
    """Per-token inputs (batch, length) cut to [start, stop); per-row inputs (task ids) passed whole; images and
    other per-example tensors only to the head (start 0), which holds their placeholder tokens."""
    length = inputs["input_ids"].shape[1]
    out = {}
    for k, v in inputs.items():
        if v.dim() == 2 and v.shape[1] == length:
            out[k] = v[:, start:stop]
        elif v.dim() == 1 or start == 0:
            out[k] = v
    return out


PROPERTIES = (
    Property("forward", check_forward.__doc__ or "", check_forward),
    Property("empty-cache", check_empty_cache.__doc__ or "", check_empty_cache),
    Property("positional-ids", check_positional.__doc__ or "", check_positional),
    Property("prefilled-cache", check_prefilled_cache.__doc__ or "", check_prefilled_cache),
)
