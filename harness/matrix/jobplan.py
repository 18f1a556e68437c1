"""How long each cell runs at a profile, and how many shards (``run --shard I/N``) it needs so that every CI job
fits the job budget of ``matrix.yaml`` (``jobs``).

A cell's cost is worker-seconds: per target, the verdicts' ``duration_s`` of its cases (the last run's verdict files,
when given) scaled to the profile's examples and by the harness overhead, or ``jobs.target_seconds`` of the profile
when no verdict of the cell is at hand. A target whose wrap never passed costs one case: the run records it once.
Shards are assigned by the hash of each target key (``harness.matrix.shards.Shard``), so with measured costs the planner
checks every shard's own cost, not an average.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.matrix.cells import Cell, JobBudget, Profile
from harness.matrix.shards import Shard


@dataclass(frozen=True)
class CellCost:
    cell: str
    targets: int
    #: worker-seconds of the cell's targets at the profile
    seconds: float
    #: target key -> worker-seconds, when measured (empty: the defaults were used)
    per_target: Mapping[str, float] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return bool(self.per_target)


def measured_costs(paths: Iterable[Path], profile: Profile, budget: JobBudget) -> dict[str, dict[str, float]]:
    """cell -> target key -> worker-seconds at ``profile``, from verdict files (or folders of them)."""
    from harness.results import read_verdicts

    seconds: dict[tuple[str, str], float] = defaultdict(float)
    cases: dict[tuple[str, str], set[str]] = defaultdict(set)
    wrapped: set[tuple[str, str]] = set()
    for path in _verdict_files(paths):
        for v in read_verdicts(path, []):
            target = (v.cell, f"{v.task}:{v.arch}:{v.method}")
            seconds[target] += v.duration_s or 0.0
            cases[target].add(v.case_id)
            if v.property == "wrap" and v.outcome == "pass":
                wrapped.add(target)
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for (cell, key), total in seconds.items():
        examples = profile.max_examples if (cell, key) in wrapped else 1
        per_case = total / len(cases[(cell, key)]) * budget.harness_factor
        found[cell][key] = per_case * examples
    return dict(found)


def _verdict_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return files


def cell_cost(cell: Cell, profile: Profile, budget: JobBudget, measured: Mapping[str, Mapping[str, float]]) -> CellCost:
    """The cell's cost at ``profile``: measured when ``measured`` has it, else the budget's defaults."""
    per_target = next((measured[n] for n in (cell.name, *cell.aliases) if n in measured), {})
    if per_target:
        return CellCost(cell.name, len(per_target), sum(per_target.values()), per_target)
    targets = budget.targets if profile.max_targets is None else min(profile.max_targets, budget.targets)
    return CellCost(cell.name, targets, targets * budget.target_seconds[profile.name])


def shards_needed(cost: CellCost, budget: JobBudget) -> int:
    """The fewest shards whose every one fits a job; raises ValueError when a single target does not."""
    cap = budget.case_seconds
    if not cost.measured:
        return max(1, math.ceil(cost.seconds / cap))
    biggest = max(cost.per_target.values())
    if biggest > cap:
        raise ValueError(f"{cost.cell}: one target alone needs {biggest / 60:.0f} worker-minutes, more than a job's "
                         f"{cap / 60:.0f}: raise jobs.minutes or jobs.cores in matrix.yaml, or lower the profile")
    count = max(1, math.ceil(cost.seconds / cap))
    while max(shard_seconds(cost, count)) > cap:
        count += 1
    return count


def shard_seconds(cost: CellCost, count: int) -> list[float]:
    """Worker-seconds of each of ``count`` shards of the cell (even split when not measured)."""
    if not cost.measured:
        return [cost.seconds / count] * count
    out = [0.0] * count
    for key, seconds in cost.per_target.items():
        index = next(i for i in range(count) if Shard(i + 1, count).holds(key))
        out[index] += seconds
    return out


def job_hours(cost: CellCost, count: int, budget: JobBudget) -> float:
    """Runner-hours of the cell's jobs: each job's set-up plus its shard on ``budget.cores`` workers."""
    return sum(budget.setup_minutes / 60 + s / budget.cores / 3600 for s in shard_seconds(cost, count))


def plan(cells: Sequence[Cell], profile: Profile, budget: JobBudget,
         measured: Mapping[str, Mapping[str, float]]) -> dict[str, tuple[CellCost, int]]:
    """cell name -> (its cost, its shard count), in matrix order."""
    out = {}
    for cell in cells:
        cost = cell_cost(cell, profile, budget, measured)
        out[cell.name] = (cost, shards_needed(cost, budget))
    return out
