"""The checks a standalone reproducer runs: one per property, as plain Python source (torch, transformers and peft
only), each a function ``check(model)`` that raises ``PropertyViolated`` where the property does not hold.

They state the same claims as the oracles (harness/oracles), with the same tolerances (filled in from
harness.oracles.base where the script is written), but on the script's own literal inputs; ``HELPERS`` defines
what they share. A script that fails with any other error than ``PropertyViolated`` or a library's exception
has a bug of its own and never counts as reproducing.
"""

from __future__ import annotations

from typing import Final

#: defined by the script before the checks: base, inputs, labels, gen_inputs, steps, GENERATE (the drawn
#: generate options), CALL (the drawn call's forward flags, cache form, split), IS_SEQ2SEQ, EOS, TASK, LABEL_KIND,
#: TARGETS (the loss targets trainable-set steps on), PAD_ID, SHIFT, LEARNING_RATE
HELPERS: Final = '''
class PropertyViolated(AssertionError):
    """The property this script checks does not hold: a wrong answer, not a crash."""


class Unsupported(Exception):
    """The property is not judged for this case (by design, or the base model itself fails it): exit 0."""


def expect(condition, what):
    if not condition:
        raise PropertyViolated(what)


def main_output(out):
    for name in ("logits", "start_logits", "last_hidden_state"):
        value = getattr(out, name, None)
        if isinstance(value, torch.Tensor):
            return value
    return out[0]


def assert_close(actual, expected, atol, what):
    expect(actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}")
    diff = (actual.float() - expected.float()).abs().nan_to_num(nan=float("inf"))
    worst = float(diff.max()) if diff.numel() else 0.0
    expect(worst <= atol, f"{what}: max |difference| {worst:.3g} > {atol:g}")


def new_tokens(sequences, prompt_length):
    return sequences if IS_SEQ2SEQ else sequences[:, prompt_length:]


def same_tokens(actual, expected, what, margins=None):
    """Row by row up to the first end-of-sequence token; a step whose top-2 logits are within TIE_MARGIN is a tie."""
    for row in range(expected.shape[0]):
        for step in range(min(actual.shape[1], expected.shape[1])):
            a, e = int(actual[row, step]), int(expected[row, step])
            if a != e:
                if margins is not None and step < margins.shape[1] and float(margins[row, step]) < TIE_MARGIN:
                    break
                raise PropertyViolated(f"{what}: row {row} step {step}: token {a} != {e}")
            if e in EOS:
                break
    expect(actual.shape[1] >= expected.shape[1] or EOS, f"{what}: {actual.shape[1]} new tokens, expected "
           f"{expected.shape[1]}")


def seeded_generate(model, positional=False, **options):
    torch.manual_seed(CALL["seed"])
    kwargs = dict(gen_inputs)
    if positional:
        return model.generate(kwargs.pop("input_ids"), **kwargs, **options)
    return model.generate(**kwargs, **options)


def greedy(model, max_new_tokens, **options):
    return model.generate(**gen_inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, **options)


def call_with_past(model, call_inputs, past, positional, **extra):
    """``model(..., past_key_values=past)``; with ``positional``, the cache (and what precedes it) by position."""
    params = [p for p in inspect.signature(model.forward).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in params]
    name = next((n for n in names if n.startswith("past_key_value")), "past_key_values")
    if not positional or name not in names:
        return model(**call_inputs, **{name: past}, **extra)
    merged = {**call_inputs, **extra, name: past}
    return model(*[merged.pop(n, None) for n in names[: names.index(name) + 1]], **merged)


def split_inputs(start, stop):
    length = inputs["input_ids"].shape[1]
    return {k: v[:, start:stop] if v.dim() == 2 and v.shape[1] == length else v
            for k, v in inputs.items() if v.dim() == 1 or start == 0 or (v.dim() == 2 and v.shape[1] == length)}
'''

#: the padding properties, whose scripts also get ``PADDING_HELPERS`` (harness/oracles/padding.py, as script code)
PADDING: Final = ("padding-invariance", "padded-generate", "explicit-positions")
PADDING_HELPERS: Final = '''
import re
import warnings

SAID = []  # every warning the checked calls raised: how peft announces that it ignores position ids
IGNORES_POSITIONS = re.compile(r"position ids.*(?:not supported|ignor)", re.IGNORECASE)


def noted(call):
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            return call()
        finally:
            SAID.extend(str(w.message) for w in said)


def ignores_positions():
    return next((message for message in SAID if IGNORES_POSITIONS.search(message)), "")


def left_padding_excuse(model):
    """Why left padding may change the wrapped model's answer by design ("" if nothing excuses it)."""
    if ignores_positions():
        return f"peft ignores position ids for this method ({ignores_positions()!r})"
    if getattr(getattr(model, "active_peft_config", None), "num_virtual_tokens", 0):
        return "peft puts its virtual tokens in front of the left padding, so the pad count moves them against the text"
    return ""


def text_inputs():
    extra = sorted(set(inputs) - {*TEXT_INPUTS, "position_ids", "token_type_ids"})
    if extra:
        raise Unsupported(f"padding a batch with {', '.join(extra)} is outside these properties (text only)")
    return {k: v for k, v in inputs.items() if k in TEXT_INPUTS}


def padded_batch(side):
    """(padded inputs, each row alone, row lengths): row r keeps its first length - pad_r tokens, as the harness."""
    text = text_inputs()
    ids = text["input_ids"]
    batch, length = ids.shape
    if length < 2:
        raise Unsupported("needs at least two tokens to pad")
    pads = [(CALL["seed"] + r) % length for r in range(batch)]
    pads[-1] = pads[-1] or 1
    padded_ids, mask = torch.full_like(ids, PAD_ID), torch.zeros_like(ids)
    rows, lengths = [], []
    for r, pad in enumerate(pads):
        n = length - pad
        where = slice(pad, length) if side == "left" else slice(0, n)
        padded_ids[r, where], mask[r, where] = ids[r, :n], 1
        row = {"input_ids": ids[r:r + 1, :n], "attention_mask": torch.ones(1, n, dtype=mask.dtype)}
        rows.append({**row, **{k: text[k][r:r + 1] for k in ("task_ids", "decoder_input_ids") if k in text}})
        lengths.append(n)
    rest = {k: v for k, v in text.items() if k not in ("input_ids", "attention_mask")}
    return {**rest, "input_ids": padded_ids, "attention_mask": mask}, rows, lengths


def derived_positions(mask):
    return (mask.cumsum(-1) - 1).clamp(min=0)


def main_of(model, call_inputs, embeds=False):
    """The main output (task ids for a peft model only; the ids as embeddings when asked, as prompt methods pass)."""
    args = {k: v for k, v in call_inputs.items() if k != "task_ids" or hasattr(model, "peft_config")}
    if embeds:
        args["inputs_embeds"] = model.get_input_embeddings()(args.pop("input_ids"))
    return noted(lambda: main_output(model(**args)))


def real(out, mask):
    """``out`` at the attended text positions (padding and virtual tokens left out; per-sequence heads whole)."""
    if LABEL_KIND == "class" or out.dim() < 3 or IS_SEQ2SEQ:
        return out
    text = out[:, out.shape[1] - (mask.shape[1] if mask is not None else out.shape[1]):]
    return text if mask is None else text * mask[..., None].to(text.dtype)


def row_output(out, row, n, side, length):
    if LABEL_KIND == "class" or out.dim() < 2 or IS_SEQ2SEQ:
        return out[row:row + 1]
    text = out[row:row + 1, out.shape[1] - length:]
    return text[:, length - n:] if side == "left" else text[:, :n]


def pad_leak(model, batch, side):
    """"" when what fills the padded slots does not reach the real positions (SAME_ATOL), else by how much; not
    asked of a per-sequence head (it may find the last real token by the pad id)."""
    if LABEL_KIND == "class":
        return ""
    padded, _, lengths = batch
    if side == "left" and "position_ids" in inspect.signature(base.forward).parameters:
        padded = dict(padded, position_ids=derived_positions(padded["attention_mask"]))
    real, ids = padded["attention_mask"].bool(), padded["input_ids"]
    refilled = dict(padded, input_ids=torch.where(real, ids, ids[real].max()))
    out, other, length = main_of(model, padded), main_of(model, refilled), ids.shape[1]
    for r, n in enumerate(lengths):
        try:
            assert_close(row_output(other, r, n, side, length), row_output(out, r, n, side, length), SAME_ATOL,
                         f"row {r}: other ids in its padding")
        except PropertyViolated as exc:
            return str(exc)
    return ""


def padding_mismatch(model, batch, side, embeds=False):
    """"" when every row of the padded batch gets its lone output (PATH_ATOL), else what differed."""
    padded, rows, lengths = batch
    if side == "left" and "position_ids" in inspect.signature(base.forward).parameters:
        padded = dict(padded, position_ids=derived_positions(padded["attention_mask"]))
    out, length = main_of(model, padded, embeds), padded["input_ids"].shape[1]
    for r, (row, n) in enumerate(zip(rows, lengths)):
        try:
            assert_close(row_output(out, r, n, side, length), row_output(main_of(model, row, embeds), 0, n, "right", n),
                         PATH_ATOL, f"row {r} ({n} tokens) {side}-padded in a batch vs alone")
        except PropertyViolated as exc:
            return str(exc)
    return ""
'''

#: property → the body of ``def check(model):`` (indented by the writer)
CHECKS: Final[dict[str, str]] = {
    "wrap": '''
        pass  # get_peft_model above is the call under test
    ''',
    "forward": '''
        call_inputs = {**inputs, **labels}
        if CALL["embeds"]:
            call_inputs["inputs_embeds"] = base.get_input_embeddings()(call_inputs.pop("input_ids"))
        past = empty_cache()  # the drawn empty cache form, or ABSENT
        if past is ABSENT:
            out = model(**call_inputs, **CALL["flags"])
        else:
            out = call_with_past(model, call_inputs, past, CALL["past_positional"], **CALL["flags"])
        main = main_output(out)
        expect(main.shape[0] == CALL["batch"], f"main output has {main.shape[0]} rows for a batch of {CALL['batch']}")
        expect(bool(torch.isfinite(main).all()), "main output has non-finite values")
        loss = getattr(out, "loss", None)
        if loss is not None and HAS_TARGETS:
            expect(bool(torch.isfinite(loss)), f"loss is {float(loss)}")
    ''',
    "empty-cache": '''
        reference = main_output(model(**inputs))
        base_inputs = {k: v for k, v in inputs.items() if k != "task_ids"}
        for name, make in EMPTY_CACHES.items():
            for positional in (False, True):
                try:  # a form the plain model refuses is not peft's to honour
                    call_with_past(base, base_inputs, make(), positional, use_cache=True)
                except Exception:
                    break
                out = main_output(call_with_past(model, inputs, make(), positional))
                how = "positional" if positional else "keyword"
                assert_close(out, reference, PATH_ATOL, f"output with an empty {name} cache ({how}) vs no cache")
    ''',
    "positional-ids": '''
        rest = {k: v for k, v in inputs.items() if k != "input_ids"}
        keyword = main_output(model(input_ids=inputs["input_ids"], **rest))
        positional = main_output(model(inputs["input_ids"], **rest))
        assert_close(positional, keyword, SAME_ATOL, "positional input_ids vs keyword")
    ''',
    "prefilled-cache": '''
        k = CALL["prefix"] + min(CALL["split"], CALL["length"] - 1)
        one_shot = main_output(model(**inputs))
        head = model(**split_inputs(0, k), use_cache=True)
        expect(getattr(head, "past_key_values", None) is not None, "use_cache=True returned no past_key_values")
        tail_inputs = split_inputs(k, inputs["input_ids"].shape[1])
        if "attention_mask" in inputs:
            tail_inputs["attention_mask"] = inputs["attention_mask"]
        tail = model(**tail_inputs, past_key_values=head.past_key_values, use_cache=True)
        assert_close(main_output(tail), one_shot[:, k:], PATH_ATOL, "tail logits from the returned cache vs one-shot")
    ''',
    "generate-greedy": '''
        loop = dict(gen_inputs)
        grow = "input_ids"
        if IS_SEQ2SEQ:
            start = base.generation_config.decoder_start_token_id
            start = base.config.decoder_start_token_id if start is None else start
            loop["decoder_input_ids"] = torch.full((loop["input_ids"].shape[0], 1), int(start))
            grow = "decoder_input_ids"
        tokens, logits = [], []
        for _ in range(steps):
            step = model(**loop, use_cache=False).logits[:, -1].float()
            token = step.argmax(-1, keepdim=True)
            tokens.append(token)
            logits.append(step)
            loop[grow] = torch.cat([loop[grow], token], dim=1)
            if grow == "input_ids":
                loop["attention_mask"] = torch.cat([loop["attention_mask"], torch.ones_like(token)], dim=1)
        expected, expected_logits = torch.cat(tokens, dim=1), torch.stack(logits, dim=1)
        top = expected_logits.topk(2, dim=-1).values
        margins = top[..., 0] - top[..., 1]
        out = greedy(model, steps, return_dict_in_generate=True, output_logits=True)
        actual = new_tokens(out.sequences, gen_inputs["input_ids"].shape[1])[:, int(IS_SEQ2SEQ):]
        same_tokens(actual, expected, "generate vs greedy loop", margins)
        step_logits = getattr(out, "logits", None) or out.scores
        agreed = next((i for i in range(min(actual.shape[1], steps))
                       if not bool((actual[:, i] == expected[:, i]).all())), min(actual.shape[1], steps))
        if agreed:
            assert_close(torch.stack(list(step_logits[:agreed]), dim=1).float(), expected_logits[:, :agreed],
                         PATH_ATOL, f"generate step logits vs greedy loop (first {agreed} steps)")
    ''',
    "generate-cache": '''
        prompt = gen_inputs["input_ids"].shape[1]
        cached = new_tokens(greedy(model, steps, use_cache=True), prompt)
        uncached = new_tokens(greedy(model, steps, use_cache=False), prompt)
        same_tokens(cached, uncached, "generate with cache vs without")
    ''',
    "generate-split": '''
        total = max(2, steps)
        first = min(GENERATE["split"], total - 1)
        prompt = gen_inputs["input_ids"].shape[1]
        whole = greedy(model, total)
        head = greedy(model, first, return_dict_in_generate=True, use_cache=True)
        expect(getattr(head, "past_key_values", None) is not None, "generate returned no past_key_values")
        rest = dict(gen_inputs, input_ids=head.sequences, attention_mask=torch.ones_like(head.sequences))
        tail = model.generate(**rest, max_new_tokens=total - first, do_sample=False, num_beams=1,
                              past_key_values=head.past_key_values)
        same_tokens(tail[:, prompt:], whole[:, prompt:], f"generate {first} then {total - first} from the cache "
                    f"vs {total} at once")
    ''',
    "generate-options": '''
        options = dict(GENERATE["options"])
        out = seeded_generate(model, GENERATE["positional"], **options)
        sequences = out.sequences if options["return_dict_in_generate"] else out
        rows = CALL["batch"] * options["num_return_sequences"]
        expect(sequences.shape[0] == rows, f"{sequences.shape[0]} sequences for {rows} expected rows")
        prompt = gen_inputs["input_ids"].repeat_interleave(options["num_return_sequences"], dim=0)
        expect(IS_SEQ2SEQ or torch.equal(sequences[:, :prompt.shape[1]], prompt),
               "the sequences do not begin with the prompt: generate dropped or replaced the input ids")
        generated = new_tokens(sequences, gen_inputs["input_ids"].shape[1]).shape[1] - int(IS_SEQ2SEQ)
        if options["return_dict_in_generate"] and options["output_scores"]:
            expect(len(out.scores) == generated, f"{len(out.scores)} score entries for {generated} new tokens")
        again = seeded_generate(model, GENERATE["positional"], **options)
        again = again.sequences if options["return_dict_in_generate"] else again
        expect(torch.equal(sequences, again), "the same seed gave different tokens the second time")
    ''',
    "generate-positional": '''
        options = {"max_new_tokens": steps, "do_sample": False, "num_beams": 1}
        keyword = seeded_generate(model, False, **options)
        positional = seeded_generate(model, True, **options)
        expect(positional.shape == keyword.shape and torch.equal(positional, keyword),
               f"generate(ids) returned {positional.tolist()}, generate(input_ids=ids) {keyword.tolist()}")
    ''',
    "adapter-matters": '''
        reference = main_output(base(**inputs))
        adapted = main_output(model(**inputs))
        if adapted.dim() >= 3:
            adapted = adapted[:, -reference.shape[1]:]
        diff = float((adapted.float() - reference.float()).abs().max())
        expect(diff > CHANGE_MIN, f"adapted vs base output: max |difference| {diff:.3g} <= {CHANGE_MIN:g}; the "
               "adapter had no effect")
    ''',
    "disable-adapter": '''
        adapted = main_output(model(**inputs))
        with model.disable_adapter():
            disabled = main_output(model(**inputs))
        assert_close(disabled, main_output(base(**inputs)), SAME_ATOL, "output with the adapter disabled vs base")
        assert_close(main_output(model(**inputs)), adapted, SAME_ATOL, "output after disable_adapter() vs before")
    ''',
    "save-load": '''
        import tempfile
        expected = main_output(model(**inputs))
        with tempfile.TemporaryDirectory() as folder:
            model.save_pretrained(folder, safe_serialization=True)
            loaded = peft.PeftModel.from_pretrained(build(), folder).eval()
            assert_close(main_output(loaded(**inputs)), expected, SAME_ATOL, "output after save/load vs before")
    ''',
    "train-step": '''
        model.train()
        with torch.enable_grad():
            loss = model(**inputs, **labels).loss
            expect(loss is not None and bool(torch.isfinite(loss)), f"training loss is {loss}")
            loss.backward()
        model.eval()
        grads = {n: p.grad for n, p in model.named_parameters()}
        leaked = sorted(n for n, g in grads.items() if n not in ADAPTER and g is not None and g.abs().sum() > 0)
        expect(not leaked, f"gradients reached {len(leaked)} base parameter(s), e.g. {leaked[:1]}")
        expect(any(grads.get(n) is not None and grads[n].abs().sum() > 0 for n in ADAPTER),
               "no adapter parameter received a gradient")
    ''',
    "outer-wrapped-lm": '''
        outer = build()
        parent_name, _, attribute = LANGUAGE_MODEL.rpartition(".")
        parent = outer.get_submodule(parent_name) if parent_name else outer
        lm = getattr(parent, attribute)
        lm_ids = {id(p) for p in lm.parameters()}
        wrapped = peft.get_peft_model(lm, make_peft_config(LANGUAGE_MODEL_TASK)).eval()
        perturb(wrapped, lm_ids)
        setattr(parent, attribute, wrapped)
        call_inputs = {k: v for k, v in inputs.items() if k != "task_ids"}
        reference = main_output(base(**call_inputs))
        out = main_output(outer(**call_inputs))
        expect(bool(torch.isfinite(out).all()), "the outer model's output has non-finite values")
        diff = float((out[:, -reference.shape[1]:].float() - reference.float()).abs().max())
        expect(diff > CHANGE_MIN, f"outer output with a wrapped LM vs base: max |difference| {diff:.3g}")
        with wrapped.disable_adapter():
            disabled = main_output(outer(**call_inputs))
        assert_close(disabled, reference, SAME_ATOL, "outer output with the LM's adapter disabled vs base")
    ''',
    "geometry-inferred": '''
        peft.get_peft_model(build(), make_peft_config(TASK_TYPE))  # no geometry given: peft infers it, or refuses
    ''',
    "trainable-set": '''
        if INFERENCE_MODE:
            raise Unsupported("inference_mode freezes the adapter")
        if not TARGETS or (LABEL_KIND == "tokens" and inputs["input_ids"].shape[-1] < 2 and not IS_SEQ2SEQ):
            raise Unsupported(f"{TASK} has no loss for this call")
        params = dict(model.named_parameters())
        trainable = {n for n, p in params.items() if p.requires_grad}
        expect(trainable, "nothing is trainable outside inference_mode")
        leaked = sorted(trainable - set(ADAPTER))
        expect(not leaked, f"{len(leaked)} base-model parameter(s) are trainable, e.g. {leaked[:1]}")
        names, heads = getattr(model, "modules_to_save", None) or (), {}
        for path, module in build().named_modules():  # the promised heads, matched as peft matches them
            if path and any(path == m or path.endswith(f".{m}") for m in names) and not any(
                    path.startswith(f"{outer}.") for outer in heads):
                heads[path] = [rel for rel, _ in module.named_parameters()]

        def copied(name, path, rel):  # name holds path's parts in order and ends with rel
            parts, module, rel = name.split("."), path.split("."), rel.split(".")
            return parts[-len(rel):] == rel and any(parts[i:i + len(module)] == module
                                                    for i in range(len(parts) - len(module) - len(rel) + 1))

        for path, relatives in heads.items():
            missing = [rel for rel in relatives if not any(copied(n, path, rel) for n in trainable)]
            expect(not missing, f"modules_to_save promises {path} trainable, but no trainable copy of its "
                   f"{missing[:1]} exists (the head would stay frozen)")
        before = {n: p.detach().clone() for n, p in params.items()}
        model.train()
        with torch.enable_grad():
            optimiser = torch.optim.Adam([params[n] for n in sorted(trainable)], lr=LEARNING_RATE)
            optimiser.zero_grad(set_to_none=True)
            loss = model(**inputs, **TARGETS).loss
            expect(loss is not None and bool(torch.isfinite(loss)), f"training loss is {loss}")
            loss.backward()
            optimiser.step()
        model.eval()
        changed = {n for n, p in params.items() if not torch.equal(p.detach(), before[n])}
        graded = {n for n, p in params.items() if p.grad is not None and bool(p.grad.abs().sum() > 0)}
        for n, p in params.items():
            p.copy_(before[n])
        model.zero_grad(set_to_none=True)
        moved = sorted(changed - trainable)
        expect(not moved, f"one step changed {len(moved)} frozen parameter(s), e.g. {moved[:1]}")
        still = sorted((trainable & graded) - changed)
        expect(not still, f"one step left {len(still)} parameter(s) with a gradient unchanged, e.g. {still[:1]}")
    ''',
    "padding-invariance": '''
        for side in ("right", "left"):
            batch = padded_batch(side)
            try:
                problem = padding_mismatch(base, batch, side)
            except Exception as exc:
                raise Unsupported(f"the base model refuses the padded batch: {type(exc).__name__}: {exc}") from exc
            problem = problem or pad_leak(base, batch, side)
            if problem:
                raise Unsupported(f"the base model is not padding-invariant itself: {problem}")
            try:
                problem = padding_mismatch(model, batch, side)
            except Exception as exc:
                try:
                    padding_mismatch(base, batch, side, embeds=True)
                except Exception as base_exc:
                    raise Unsupported(f"the base model refuses the padded batch as embeddings: {base_exc}") from exc
                raise
            if problem and side == "left" and left_padding_excuse(model):
                raise Unsupported(f"{left_padding_excuse(model)}: {problem}")
            if problem and padding_mismatch(base, batch, side, embeds=True):
                raise Unsupported(f"the base model given embeddings (as peft passes them) is not padding-invariant "
                                  f"either: {problem}")
            expect(not problem, problem)
    ''',
    "padded-generate": '''
        if not hasattr(model, "generate") or TASK not in GENERATING_TASKS:
            raise Unsupported(f"{TASK} models do not generate")
        padded, rows, lengths = padded_batch("left")

        def mismatch(generator):  # raises PropertyViolated where a row's tokens differ in the batch and alone
            def generate(call_inputs, **options):
                if not hasattr(generator, "peft_config"):
                    call_inputs = {k: v for k, v in call_inputs.items() if k != "task_ids"}
                return noted(lambda: generator.generate(**call_inputs, max_new_tokens=steps, min_new_tokens=steps,
                                                        do_sample=False, num_beams=1, **options))

            together = generate(padded)
            for r, (row, n) in enumerate(zip(rows, lengths)):
                alone = generate(row, return_dict_in_generate=True, output_logits=True)
                top = torch.stack(list(getattr(alone, "logits", None) or alone.scores), dim=1).float().topk(2, dim=-1)
                margins = top.values[..., 0] - top.values[..., 1]
                if IS_SEQ2SEQ:
                    margins = torch.cat([torch.full((1, 1), float("inf")), margins], dim=1)
                same_tokens(new_tokens(together[r:r + 1], padded["input_ids"].shape[1]), new_tokens(alone.sequences, n),
                            f"row {r} ({n} tokens) left-padded in a batch vs alone", margins)

        try:
            mismatch(base)
        except PropertyViolated as exc:
            raise Unsupported(f"the base model does not generate padding-invariantly itself: {exc}") from exc
        except Exception as exc:
            raise Unsupported(f"the base model cannot generate this batch: {type(exc).__name__}: {exc}") from exc
        try:
            mismatch(model)
        except PropertyViolated as exc:
            if left_padding_excuse(model):
                raise Unsupported(f"{left_padding_excuse(model)}: {exc}") from exc
            raise
    ''',
    "explicit-positions": '''
        text = text_inputs()
        if "position_ids" not in inspect.signature(base.forward).parameters:
            raise Unsupported("the model takes no position_ids")
        mask = text.get("attention_mask")
        counted = mask if mask is not None else torch.ones_like(text["input_ids"])
        reference = real(main_of(base, text), mask)
        positions = next((p for p in (torch.arange(counted.shape[1]).expand_as(counted), derived_positions(counted))
                          if float((real(main_of(base, {**text, "position_ids": p}), mask) - reference).abs().max())
                          <= PATH_ATOL), None)
        if positions is None:
            raise Unsupported("the base model derives positions neither as 0…n-1 nor from the mask")
        explicit = real(main_of(model, {**text, "position_ids": positions}), mask)
        assert_close(explicit, real(main_of(model, text), mask), PATH_ATOL,
                     "output with the derived position ids passed vs none")
        shifted = {**text, "position_ids": positions + SHIFT}
        base_moves = float((real(main_of(base, shifted), mask) - reference).abs().max()) > CHANGE_MIN
        if base_moves and float((real(main_of(model, shifted), mask) - explicit).abs().max()) <= CHANGE_MIN:
            if ignores_positions():
                raise Unsupported(f"peft ignores position ids for this method: {ignores_positions()!r}")
            raise PropertyViolated(f"positions shifted by {SHIFT} move the base model's output but not the wrapped "
                                   "model's: the explicit position ids are ignored")
    ''',
}
