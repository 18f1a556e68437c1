"""Standalone reproducer scripts: a case written as plain Python that imports only torch, transformers and peft.

The script rebuilds the tiny model from its config, wraps it with the case's peft config (with explicit prompt
geometry where peft cannot infer it, as the harness does), applies the same perturbation, feeds the same input
tensors (as literals) and checks one property (:mod:`harness.script_checks`). It exits non-zero where the bug is:
with the library's own traceback for a crash, with ``PropertyViolated`` for a wrong answer; and 0 where it is not.
Run as a module (``import``), it only defines things, so a test can hand ``check`` a stand-in model.
"""

from __future__ import annotations

import enum
import inspect
import json
import textwrap
from pathlib import Path
from typing import Any

import torch

from harness.archs.build import arch_config
from harness.archs.multimodal import language_model
from harness.archs.tasks import model_class, task
from harness.caches import empty_forms
from harness.calls import forward_inputs, labels
from harness.cases import Case
from harness.methods.registry import method
from harness.methods.wrap import PERTURB_SCALE, explicit_geometry
from harness.oracles.base import CHANGE_MIN, PATH_ATOL, SAME_ATOL, TIE_MARGIN
from harness.oracles.generation import GENERATING_TASKS
from harness.oracles.padding import _TEXT_INPUTS, SHIFT
from harness.oracles.trainable import LEARNING_RATE
from harness.script_checks import CHECKS, HELPERS, PADDING, PADDING_HELPERS

#: every property a script can check (the oracles' and ``wrap``)
SCRIPTED = tuple(CHECKS)
_LABEL_KEYS = ("labels", "start_positions", "end_positions")
_GENERATE_DROPS = ("position_ids", "token_type_ids", "decoder_input_ids", "decoder_attention_mask")

_TOKENIZER = '''
def tokenizer_dir(vocab):
    import tempfile
    from tokenizers import Tokenizer, models, pre_tokenizers
    core = Tokenizer(models.WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    folder = tempfile.mkdtemp()
    transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="t0", pad_token="t0").save_pretrained(folder)
    return folder
'''

_SETUP = '''
def make_peft_config(task_type, geometry=None):
    options = dict(OPTIONS)
    if TOKENIZER_VOCAB is not None:
        options["tokenizer_name_or_path"] = tokenizer_dir(TOKENIZER_VOCAB)
    fields = PEFT_CONFIG.__dataclass_fields__
    for name in ENUM_OPTIONS:  # the case passed these as the config's enum members, not strings
        options[name] = type(fields[name].default)(options[name])
    return PEFT_CONFIG(task_type=task_type, inference_mode=INFERENCE_MODE, **options, **(geometry or {}))


def perturb(wrapped, base_ids):
    """Seeded noise on the adapter's parameters, so a zero-initialised adapter changes the output."""
    generator = torch.Generator().manual_seed(PERTURB_SEED)
    with torch.no_grad():
        for _, p in wrapped.named_parameters():
            if PERTURB and id(p) not in base_ids:
                p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * PERTURB_SCALE)


def wrap(model):
    base_ids = {id(p) for p in model.parameters()}
    try:
        wrapped = peft.get_peft_model(model, make_peft_config(TASK_TYPE))
    except ValueError as exc:
        if "Please specify `" not in str(exc):
            raise
        wrapped = peft.get_peft_model(model, make_peft_config(TASK_TYPE, GEOMETRY))
    wrapped.eval()
    perturb(wrapped, base_ids)
    return wrapped, [n for n, p in wrapped.named_parameters() if id(p) not in base_ids]
'''


def supported(properties: list[str]) -> list[str]:
    return [p for p in properties if p in CHECKS]


def _literal(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"torch.tensor({value.tolist()!r}, dtype={value.dtype})"
    return repr(value)


def _enum_options(case: Case) -> list[str]:
    """The options the harness passes as enum members (``enums_as_strings`` off and an enum default)."""
    if case.method.enums_as_strings:
        return []
    defaults = {f.name: f.default for f in method(case.method.method).fields()}
    return sorted(k for k in case.method.options if isinstance(defaults.get(k), enum.Enum))


def _language_model_path(case: Case) -> tuple[str, str]:
    """Where the language model sits in the outer model, and the peft task type it is wrapped with."""
    torch.manual_seed(case.arch.seed)
    outer = model_class(case.arch.task, case.arch.model_type)(arch_config(case.arch))
    try:
        lm: Any = language_model(outer)
    except LookupError:
        return "", ""
    name = next(n for n, m in outer.named_modules() if m is lm)
    has_head = lm.get_output_embeddings() is not None
    return name, task("causal-lm" if has_head else "feature-extraction").peft_task_type


def _cache_expression(cache: Any, batch: int) -> str:
    """Source that builds an empty ``cache`` as the installed transformers does (``None`` stays ``None``)."""
    if cache is None:
        return "None"
    cls = type(cache)
    params = inspect.signature(cls.__init__).parameters
    if hasattr(cache, "self_attention_cache"):
        parts = (_cache_expression(cache.self_attention_cache, batch),
                 _cache_expression(cache.cross_attention_cache, batch))
        return f"transformers.{cls.__name__}({', '.join(parts)})"
    args = {"config": "base.config"} if "config" in params else {}
    if "max_cache_len" in params:
        args["max_cache_len"] = "64"
    for name in ("max_batch_size", "batch_size"):
        if name in params and cls.__name__ == "StaticCache":
            args[name] = str(batch)
            break
    return f"transformers.{cls.__name__}({', '.join(f'{k}={v}' for k, v in args.items())})"


def _empty_caches(case: Case, config: Any) -> dict[str, str]:
    """form name → source building it, for every empty form (``harness.caches.empty_forms``) that suits the model and
    the installed transformers can make."""
    suits = ("any", "encoder-decoder" if getattr(config, "is_encoder_decoder", False) else "decoder")
    found = {}
    for name, form in empty_forms().items():
        if form.suits in suits:
            try:
                found[name] = _cache_expression(form.make(config, case.call.batch, 64), case.call.batch)
            except Exception:  # noqa: BLE001 - unavailable here (e.g. a StaticCache from a composite config)
                continue
    return found


def _empty_cache_source(case: Case, config: Any) -> str:
    """``EMPTY_CACHES`` (every form, for empty-cache) and ``empty_cache()`` (the drawn one, or ABSENT where the
    forward gets none: not drawn, unsuited to the model, not available here)."""
    forms = _empty_caches(case, config)
    rows = "".join(f"    {name!r}: lambda: {source},\n" for name, source in forms.items())
    drawn = forms.get(case.call.past, "ABSENT")
    return f"EMPTY_CACHES = {{\n{rows}}}\n\n\ndef empty_cache():\n    return {drawn}"


def _call_facts(case: Case, inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
    call = case.call
    flags: dict[str, Any] = {} if call.use_cache is None else {"use_cache": call.use_cache}
    flags.update((name, True) for name in ("output_attentions", "output_hidden_states") if getattr(call, name))
    text = inputs["input_ids"].shape[1] if "input_ids" in inputs else call.length
    return {"batch": call.batch, "length": call.length, "split": call.split, "seed": call.seed,
            "embeds": call.embeds, "past": call.past, "past_positional": call.past_positional, "flags": flags,
            "prefix": text - call.length}


def _generate_facts(case: Case) -> dict[str, Any]:
    spec = case.call.generate
    return {"options": spec.options(), "positional": spec.positional, "split": spec.split}


def _has_targets(case: Case, inputs: dict[str, torch.Tensor], config: Any) -> bool:
    if not {"labels", "start_positions"} & set(inputs):
        return False
    if task(case.arch.task).labels == "tokens":
        return inputs["labels"].shape[-1] >= 2 or bool(getattr(config, "is_encoder_decoder", False))
    return True


def render(case: Case, prop: str) -> str:
    """The script text for ``case`` checking the one property ``prop``."""
    if prop not in CHECKS:
        raise ValueError(f"no script form for property {prop!r}: choose from {', '.join(CHECKS)}")
    model_cls = model_class(case.arch.task, case.arch.model_type)
    config = arch_config(case.arch)
    inputs = forward_inputs(case.call, case.arch, config)
    options = dict(case.method.options)
    vocab = options.pop("tokenizer_vocab", None)
    outer = prop == "outer-wrapped-lm"
    lm_path, lm_task = _language_model_path(case) if outer else ("", "")
    generates = prop.startswith("generate") or prop == "padded-generate"
    eos = getattr(getattr(model_cls(config), "generation_config", None), "eos_token_id", None) if generates else None
    targets = labels(task(case.arch.task).labels, inputs, config, torch.Generator().manual_seed(case.call.seed))
    pad_id = getattr(config, "pad_token_id", None)
    forward = {k: v for k, v in inputs.items() if k not in _LABEL_KEYS}
    body = [
        f'"""Reproducer for peft-compat case {case.id}: {case.arch.task} {case.arch.model_type} x '
        f'{case.method.method}, property {prop}.\n\nWritten by `python -m harness repro {case.id} --script`; needs '
        'only torch, transformers and peft. Exits 0 where the bug is fixed."""',
        "import inspect\nimport json\n\nimport peft\nimport torch\nimport transformers",
        f"from {type(config).__module__} import {type(config).__name__} as CONFIG",
        "",
        f"CASE = json.loads({json.dumps(json.dumps(case.to_json(), sort_keys=True))})  # the harness's case",
        f"OVERRIDES = {case.arch.overrides!r}",
        f"OPTIONS = {options!r}",
        f"TOKENIZER_VOCAB = {vocab!r}",
        f"ENUM_OPTIONS = {_enum_options(case)!r}",
        f"PEFT_CONFIG = peft.{method(case.method.method).config_cls.__name__}",
        f"TASK_TYPE = {task(case.arch.task).peft_task_type!r}",
        f"INFERENCE_MODE = {case.method.inference_mode!r}",
        f"GEOMETRY = {explicit_geometry(config)!r}",
        f"PERTURB, PERTURB_SEED, PERTURB_SCALE = {case.method.perturb!r}, {case.method.perturb_seed!r}, "
        f"{PERTURB_SCALE!r}",
        f"PATH_ATOL, SAME_ATOL, CHANGE_MIN, TIE_MARGIN = {PATH_ATOL!r}, {SAME_ATOL!r}, {CHANGE_MIN!r}, {TIE_MARGIN!r}",
        f"CALL = {_call_facts(case, inputs)!r}",
        f"GENERATE = {_generate_facts(case)!r}",
        f"HAS_TARGETS = {_has_targets(case, inputs, config)!r}",
        f"LANGUAGE_MODEL, LANGUAGE_MODEL_TASK = {lm_path!r}, {lm_task!r}",
        f"IS_SEQ2SEQ = {bool(getattr(config, 'is_encoder_decoder', False))!r}",
        f"TASK, LABEL_KIND, GENERATING_TASKS = {case.arch.task!r}, {task(case.arch.task).labels!r}, "
        f"{GENERATING_TASKS!r}",
        f"PAD_ID, TEXT_INPUTS, SHIFT = {pad_id if isinstance(pad_id, int) else 0!r}, {_TEXT_INPUTS!r}, {SHIFT!r}",
        f"LEARNING_RATE = {LEARNING_RATE!r}",
        f"EOS = set({eos if isinstance(eos, list) else [] if eos is None else [eos]!r})",
        "inputs = {", *[f"    {k!r}: {_literal(v)}," for k, v in forward.items()], "}",
        "labels = {", *[f"    {k!r}: {_literal(v)}," for k, v in inputs.items() if k in _LABEL_KEYS], "}",
        "TARGETS = {", *[f"    {k!r}: {_literal(v)}," for k, v in targets.items()], "}",
        "gen_inputs = {k: v for k, v in inputs.items() if k not in " + repr(_GENERATE_DROPS) + "}",
        "if 'input_ids' in gen_inputs:",
        "    gen_inputs['attention_mask'] = torch.ones_like(gen_inputs['input_ids'])",
        f"steps = {case.call.generate.max_new_tokens}",
        "",
        "",
        "def build():",
        "    config = CONFIG(**json.loads(json.dumps(OVERRIDES)), attn_implementation='eager')",
        f"    torch.manual_seed({case.arch.seed})",
        f"    return transformers.{model_cls.__name__}(config).eval()",
        "",
        textwrap.dedent(_TOKENIZER).strip() if vocab is not None else "",
        "",
        textwrap.dedent(_SETUP).strip(),
        "",
        "",
        "ABSENT = object()",
        "",
        "",
        _empty_cache_source(case, config),
        "",
        "",
        textwrap.dedent(HELPERS).strip(),
        "\n\n" + textwrap.dedent(PADDING_HELPERS).strip() if prop in PADDING else "",
        "",
        "",
        "def check(model):",
        f'    """{prop}: raises PropertyViolated where it does not hold."""',
        "    with torch.no_grad():",
        textwrap.indent(textwrap.dedent(CHECKS[prop]).strip(), "        "),
        "",
        "",
        "base = build()",
        f"model, ADAPTER = {'(None, [])' if outer else 'wrap(build())'}",
        "",
        'if __name__ == "__main__":',
        "    try:",
        "        check(model)",
        "    except Unsupported as exc:",
        '        print(f"not judged here ({exc}); the harness records this case as unsupported")',
        "    else:",
        '        print("no failure: this environment does not show the bug")',
    ]
    return "\n".join(body) + "\n"


def write_script(case: Case, path: Path, prop: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(case, prop), encoding="utf-8")
    return path
