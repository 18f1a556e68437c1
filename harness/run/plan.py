"""What a run covers: targets (task, arch, method) after filters, each with its own derived seed, and the shard of
them one job runs (``run --shard I/N``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from harness.archs.tasks import TASKS, model_types
from harness.methods.names import method_key
from harness.methods.registry import prompt_methods, method as lookup_method
from harness.matrix.cells import Profile
from harness.results import Verdict


@dataclass(frozen=True)
class Target:
    task: str
    arch: str
    method: str
    #: why the target is not run at all (the method refuses the task); None: run it
    refused: str | None = None

    @property
    def key(self) -> str:
        return f"{self.task}:{self.arch}:{self.method}"

    def seed(self, run_seed: int, salt: str = "") -> int:
        """A per-target seed: stable across machines, independent of which other targets run (``salt``: another
        stream of cases for the same target, e.g. its top-up examples)."""
        digest = hashlib.sha256(f"{run_seed}:{self.key}{salt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: wrap outcomes after which a target's first case is its only one
WRAP_ENDS_TARGET = frozenset({"crash", "rejected"})
#: the seed salt of top-up examples
TOP_UP_SALT = ":top-up"


def wrap_broken(verdict: Verdict) -> bool:
    """Whether a wrap verdict ends its target: peft crashed or refused with a signature, which later examples of
    the same (task, arch, method) would repeat; their budget goes to targets that wrap (``top_up``)."""
    return verdict.property == "wrap" and verdict.outcome in WRAP_ENDS_TARGET and bool(verdict.signature)


def top_up(chosen: list[Target], verdicts: Iterable[Verdict], examples: int) -> list[tuple[Target, int]]:
    """The examples targets left unused because their first case did not wrap, handed to the targets that wrapped:
    (target, extra examples), round-robin in a stable hash order. Depends on the verdicts alone, never on timing,
    so the same seed gives the same top-up."""
    cases: dict[str, set[str]] = {}
    broken: set[str] = set()
    wrapped: set[str] = set()
    for v in verdicts:
        if v.property != "wrap" or "arch" not in v.case or v.pinned:
            continue
        key = f"{v.task}:{v.arch}:{v.method}"
        cases.setdefault(key, set()).add(v.case_id)
        if wrap_broken(v):
            broken.add(key)
        elif v.outcome == "pass":
            wrapped.add(key)
    spare = sum(examples - 1 for key in broken if len(cases[key]) == 1 and key not in wrapped)
    receivers = sorted((t for t in chosen if t.key in wrapped), key=lambda t: _stable(t.key))
    if not receivers:
        return []
    share, rest = divmod(spare, len(receivers))
    extra = [(t, share + (i < rest)) for i, t in enumerate(receivers)]
    return [(t, n) for t, n in extra if n]


def _stable(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def target_features(target: Target) -> frozenset[str]:
    """The code-path features a target exercises (none when it is not run: its method refuses the task)."""
    from harness.archs.paths import features

    return frozenset() if target.refused else features(target.task, target.arch)


def choose(found: list[Target], profile: Profile) -> dict[Target, str]:
    """The profile's targets among ``found``, in order, each with why it was picked: code-path coverage first when
    the profile caps the targets (``Profile.choose``)."""
    capped = profile.max_targets is not None and len(found) > profile.max_targets
    picked = profile.choose(found, key=lambda t: t.key, group=lambda t: f"{t.task}:{t.method}",
                            features=target_features if capped else None)
    return {found[i]: why for i, why in sorted(picked.items())}


def coverage(chosen: Iterable[Target], found: Iterable[Target]) -> dict[str, tuple[int, int]]:
    """Feature kind (cache, attention, ...) -> (features the chosen targets exercise, features of all targets)."""
    from harness.archs.paths import KINDS

    have = set().union(*map(target_features, chosen))
    every = set().union(*map(target_features, found))
    return {kind: (sum(f.startswith(f"{kind}:") for f in have), sum(f.startswith(f"{kind}:") for f in every))
            for kind in KINDS}


def pinned_key(case: dict[str, Any]) -> str:
    """The key of the target a fixed case (pinned example, replay) belongs to, so that it runs in that shard."""
    return Target(case["arch"]["task"], case["arch"]["model_type"], case["method"]["method"]).key


def _matches(value: str, wanted: list[str] | None) -> bool:
    return not wanted or value in wanted or value.upper() in wanted


def targets(tasks: list[str] | None = None, archs: list[str] | None = None,
            methods: list[str] | None = None) -> list[Target]:
    """Every (task, arch, method) of the installed versions matching the filters, in a stable order."""
    for name in methods or []:
        lookup_method(name)  # unknown method names fail here, with the list of installed ones
    for name in tasks or []:
        if name not in TASKS:
            raise ValueError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}")
    wanted_methods = [method_key(m) for m in methods] if methods else None
    found: list[Target] = []
    for task in tasks or list(TASKS):
        arch_names = [a for a in model_types(task) if _matches(a, archs)]
        for method in prompt_methods().values():
            if not _matches(method.name, wanted_methods):
                continue
            for arch in arch_names:
                found.append(Target(task, arch, method.name, method.task_support.get(task)))
    if archs and not found:
        raise ValueError(f"no architecture named {', '.join(archs)} in the selected tasks; "
                         "run `python -m harness zoo` to list them")
    return found
