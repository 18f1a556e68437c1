"""Standalone reproducer scripts: a case written as plain Python that imports only torch, transformers and peft.

The script rebuilds the tiny model from its config, wraps it with the case's peft config, applies the same
perturbation, feeds the same input tensors (as literals) and replays the calls of the chosen properties with plain
asserts. It exits non-zero (with the library's own traceback) where the bug is, and 0 where it is fixed.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import torch

from harness.archs.build import make_config
from harness.archs.tasks import model_class, task
from harness.calls import forward_inputs
from harness.cases import Case
from harness.methods.registry import method
from harness.methods.wrap import PERTURB_SCALE

#: property → the calls that replay it, decoder-style (``model``, ``base``, ``inputs``, ``labels``, ``steps`` are
#: defined by the script's preamble)
SNIPPETS: dict[str, str] = {
    "forward": """
        out = model(**inputs, **labels)
        assert torch.isfinite(out[0] if isinstance(out, tuple) else next(iter(out.values()))).all()
    """,
    "empty-cache": """
        reference = model(**inputs).logits
        for past in (None, transformers.DynamicCache()):
            out = model(**inputs, past_key_values=past).logits
            assert torch.allclose(out, reference, atol=1e-4), f"empty {type(past).__name__} cache changes logits"
    """,
    "positional-ids": """
        rest = {k: v for k, v in inputs.items() if k != "input_ids"}
        keyword = model(input_ids=inputs["input_ids"], **rest).logits
        positional = model(inputs["input_ids"], **rest).logits
        assert torch.allclose(positional, keyword, atol=1e-5), "positional input_ids differ from keyword"
    """,
    "generate-positional": """
        rest = {k: v for k, v in inputs.items() if k != "input_ids"}
        keyword = model.generate(input_ids=inputs["input_ids"], **rest, max_new_tokens=steps, do_sample=False)
        positional = model.generate(inputs["input_ids"], **rest, max_new_tokens=steps, do_sample=False)
        assert torch.equal(positional, keyword), f"generate(ids) {positional.tolist()} != {keyword.tolist()}"
    """,
    "generate-cache": """
        cached = model.generate(**inputs, max_new_tokens=steps, do_sample=False, use_cache=True)
        uncached = model.generate(**inputs, max_new_tokens=steps, do_sample=False, use_cache=False)
        assert torch.equal(cached, uncached), f"with cache {cached.tolist()} != without {uncached.tolist()}"
    """,
    "generate-greedy": """
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        for _ in range(steps):
            token = model(input_ids=ids, attention_mask=mask, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            ids, mask = torch.cat([ids, token], 1), torch.cat([mask, torch.ones_like(token)], 1)
        generated = model.generate(**inputs, max_new_tokens=steps, do_sample=False)
        assert torch.equal(generated[:, : ids.shape[1]], ids), f"generate {generated.tolist()} != loop {ids.tolist()}"
    """,
    "disable-adapter": """
        with model.disable_adapter():
            disabled = model(**inputs).logits
        reference = base(**inputs).logits
        assert torch.allclose(disabled, reference, atol=1e-5), "disable_adapter() does not give the base model"
    """,
    "save-load": """
        import tempfile
        expected = model(**inputs).logits
        with tempfile.TemporaryDirectory() as folder:
            model.save_pretrained(folder, safe_serialization=True)
            loaded = peft.PeftModel.from_pretrained(base, folder).eval()
            assert torch.allclose(loaded(**inputs).logits, expected, atol=1e-5), "save/load changes the output"
    """,
}

_TOKENIZER = """
    def tokenizer_dir(vocab):
        import tempfile
        from tokenizers import Tokenizer, models, pre_tokenizers
        core = Tokenizer(models.WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0"))
        core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        folder = tempfile.mkdtemp()
        transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="t0", pad_token="t0").save_pretrained(folder)
        return folder
"""


def supported(properties: list[str]) -> list[str]:
    return [p for p in properties if p in SNIPPETS]


def _literal(tensor: torch.Tensor) -> str:
    return f"torch.tensor({tensor.tolist()!r})"


def render(case: Case, properties: list[str]) -> str:
    """The script text for ``case`` replaying ``properties`` (those without a snippet fall back to ``forward``)."""
    chosen = supported(properties) or ["forward"]
    model_cls = model_class(case.arch.task, case.arch.model_type)
    config_cls = make_config(case.arch).__class__
    peft_cls = method(case.method.method).config_cls
    config = make_config(case.arch)
    inputs = forward_inputs(case.call, case.arch, config)
    label_keys = ("labels", "start_positions", "end_positions")
    options = dict(case.method.options)
    vocab = options.pop("tokenizer_vocab", None)
    body = [
        f'"""Reproducer for peft-compat case {case.id}: {case.arch.task} {case.arch.model_type} x '
        f'{case.method.method}, properties {", ".join(chosen)}.\n\nGenerated by `python -m harness repro '
        f'{case.id} --script`; needs only torch, transformers and peft. Exits 0 where the bug is fixed."""',
        "import json\n\nimport peft\nimport torch\nimport transformers\n",
        f"CASE = json.loads({json.dumps(json.dumps(case.to_json(), sort_keys=True))})  # the harness's case",
        f"OVERRIDES = {case.arch.overrides!r}",
        f"OPTIONS = {options!r}",
        "",
        "def build():",
        f"    config = transformers.{config_cls.__name__}(**OVERRIDES, attn_implementation='eager')",
        f"    torch.manual_seed({case.arch.seed})",
        f"    return transformers.{model_cls.__name__}(config).eval()",
        "",
    ]
    if vocab is not None:
        body += [textwrap.dedent(_TOKENIZER).strip(), "", f"OPTIONS['tokenizer_name_or_path'] = tokenizer_dir({vocab})"]
    body += [
        "base = build()",
        "model = build()",
        "base_ids = {id(p) for p in model.parameters()}",
        f"peft_config = peft.{peft_cls.__name__}(task_type={task(case.arch.task).peft_task_type!r}, "
        f"inference_mode={case.method.inference_mode!r}, **OPTIONS)",
        "model = peft.get_peft_model(model, peft_config).eval()",
    ]
    if case.method.perturb:
        body += [
            f"generator = torch.Generator().manual_seed({case.method.perturb_seed})",
            "with torch.no_grad():  # the harness perturbs adapters so that zero-initialised ones matter",
            "    for name, p in model.named_parameters():",
            "        if id(p) not in base_ids:",
            f"            p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * {PERTURB_SCALE})",
        ]
    body += [
        "inputs = {",
        *[f"    {k!r}: {_literal(v)}," for k, v in inputs.items() if k not in label_keys],
        "}",
        "labels = {",
        *[f"    {k!r}: {_literal(v)}," for k, v in inputs.items() if k in label_keys],
        "}",
        f"steps = {case.call.generate.max_new_tokens}",
        "with torch.no_grad():",
    ]
    for prop in chosen:
        body.append(f"    # {prop}")
        body.append(textwrap.indent(textwrap.dedent(SNIPPETS[prop]).strip(), "    "))
    body.append('print("no failure: this environment does not show the bug")')
    return "\n".join(body) + "\n"


def write_script(case: Case, path: Path, properties: list[str]) -> None:
    path.write_text(render(case, properties), encoding="utf-8")
