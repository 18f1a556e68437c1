"""Discovery of the prompt-learning methods of the installed peft.

A method is every config class in peft's method registry that is a prompt-learning config, plus adaption prompt
(which injects learned prompts into attention without subclassing PromptLearningConfig). Nothing is listed by
hand: a method peft adds tomorrow appears here, with the tasks its config accepts.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from harness.archs.tasks import TASKS
from harness.methods.names import method_key

#: peft types that inject prompts without being PromptLearningConfig subclasses
PROMPT_LIKE_TYPES = ("ADAPTION_PROMPT",)


@dataclass(frozen=True)
class Method:
    """One prompt method of the installed peft."""

    name: str
    config_cls: type
    #: harness task → None if the config accepts that task type, else the reason it refuses
    task_support: dict[str, str | None]

    @property
    def supported_tasks(self) -> list[str]:
        return [t for t, reason in self.task_support.items() if reason is None]

    def fields(self) -> list[dataclasses.Field]:
        return list(dataclasses.fields(self.config_cls))


def _registry() -> dict[str, type]:
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    # keys are strings up to peft 0.14 and PeftType members later; both render to the upper-case name
    return {getattr(k, "value", k): v for k, v in PEFT_TYPE_TO_CONFIG_MAPPING.items()}


def is_prompt_method(name: str, config_cls: type) -> bool:
    from peft.config import PromptLearningConfig

    return issubclass(config_cls, PromptLearningConfig) or name in PROMPT_LIKE_TYPES


def _task_support(config_cls: type) -> dict[str, str | None]:
    """Which harness tasks the config accepts: construct it with each task type and keep the refusal message."""
    support: dict[str, str | None] = {}
    for task in TASKS.values():
        try:
            config_cls(task_type=task.peft_task_type)
            support[task.name] = None
        except Exception as exc:  # noqa: BLE001 - the refusal is the data
            support[task.name] = f"{type(exc).__name__}: {exc}"
    return support


@functools.cache
def prompt_methods() -> dict[str, Method]:
    """name → :class:`Method` for every prompt method of the installed peft, in registry order."""
    return {
        name: Method(name, cls, _task_support(cls))
        for name, cls in _registry().items()
        if is_prompt_method(name, cls)
    }


def method(name: str) -> Method:
    """The method called ``name`` (case-insensitive); a clear error lists the installed ones."""
    methods = prompt_methods()
    key = method_key(name)
    if key not in methods:
        import peft

        raise ValueError(
            f"peft {peft.__version__} has no prompt method {name!r}; it has: {', '.join(methods)} "
            "(run `python -m harness methods` for details)"
        )
    return methods[key]
