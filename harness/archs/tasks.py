"""Tasks and architecture discovery from the installed transformers' auto mappings.

No architecture is listed here: a task names the auto mappings it reads, and every model type in them is an
architecture of that task for the installed version.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

InputKind = Literal["text", "seq2seq", "image-text"]
#: what the task's loss takes: next tokens, one class per row, one class per token, answer spans, or nothing
LabelKind = Literal["tokens", "class", "token-class", "span", "none"]


@dataclass(frozen=True)
class Task:
    """One model head family, with the auto mappings that list its classes and the peft task type it pairs with."""

    name: str
    mappings: tuple[str, ...]
    peft_task_type: str
    inputs: InputKind = "text"
    labels: LabelKind = "tokens"
    #: the base-model mapping lists vision/audio/speech models too: keep only types that some text task lists
    text_types_only: bool = False


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("causal-lm", ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",), "CAUSAL_LM"),
        Task("seq2seq-lm", ("MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES",), "SEQ_2_SEQ_LM", inputs="seq2seq"),
        Task("seq-cls", ("MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",), "SEQ_CLS", labels="class"),
        Task("token-cls", ("MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES",), "TOKEN_CLS", labels="token-class"),
        Task("question-answering", ("MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES",), "QUESTION_ANS", labels="span"),
        Task("feature-extraction", ("MODEL_MAPPING_NAMES",), "FEATURE_EXTRACTION", labels="none",
             text_types_only=True),
        Task(
            "image-text-to-text",
            ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES"),
            "CAUSAL_LM",
            inputs="image-text",
        ),
    )
}


def task(name: str) -> Task:
    """The task called ``name``; a clear error lists the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}") from None


def _mapping(name: str) -> dict[str, str]:
    from transformers.models.auto import modeling_auto  # on first use (start-up time)

    raw = getattr(modeling_auto, name, None) or {}
    # a few entries map to a tuple of class names; the first is the canonical one
    return {mt: (cn if isinstance(cn, str) else cn[0]) for mt, cn in raw.items()}


@functools.cache
def _text_types() -> frozenset[str]:
    return frozenset(
        mt for t in TASKS.values() if t.inputs != "image-text" and not t.text_types_only
        for m in t.mappings for mt in _mapping(m)
    )


@functools.cache
def model_types(task_name: str) -> dict[str, str]:
    """model_type → model class name for every architecture of ``task_name`` in the installed transformers."""
    t = task(task_name)
    found: dict[str, str] = {}
    for m in t.mappings:
        for mt, cn in _mapping(m).items():
            found.setdefault(mt, cn)
    if t.text_types_only:
        found = {mt: cn for mt, cn in found.items() if mt in _text_types()}
    return dict(sorted(found.items()))


def model_class(task_name: str, model_type: str) -> type:
    """The model class of (task, model_type); a clear error when the installed transformers has none."""
    import transformers  # on first use (start-up time)

    types = model_types(task_name)
    if model_type not in types:
        raise ValueError(
            f"{model_type!r} is not a {task_name} architecture in transformers {transformers.__version__}; "
            f"run `python -m harness zoo --task {task_name}` to list the ones it has"
        )
    cls = getattr(transformers, types[model_type], None)
    if cls is None:
        raise LookupError(f"transformers lists {types[model_type]} for {model_type!r} but does not export it")
    return cls
