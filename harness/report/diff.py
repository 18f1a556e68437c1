"""What changed since a previous run: every target's status now against its status in the baseline compat.json."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.report.model import Key, health

#: category → heading, in the order a maintainer reads them
CATEGORIES: dict[str, str] = {
    "new_failure": "New failures",
    "fixed": "Fixed",
    "flaky": "Flaky",
    "still_failing": "Still failing",
    "newly_covered": "Newly covered",
    "no_longer_covered": "No longer covered",
}
#: what each category means, for the page and the summary
MEANINGS: dict[str, str] = {
    "new_failure": "passed in the baseline, fails now",
    "fixed": "failed (or was flaky) in the baseline, passes now",
    "flaky": "a re-run of one case disagreed with its first run in this run",
    "still_failing": "failed in the baseline and fails now",
    "newly_covered": "not exercised in the baseline (absent, skipped, rejected or unsupported), now passes or fails",
    "no_longer_covered": "exercised in the baseline, now absent, skipped, rejected or unsupported",
}
#: (health in the baseline, health now) → category; "absent" when the target has no verdicts; unlisted: unchanged
_RULES: dict[tuple[str, str], str] = {
    **{(before, "flaky"): "flaky" for before in ("absent", "neutral", "good", "bad", "flaky")},
    ("good", "bad"): "new_failure",
    ("bad", "bad"): "still_failing",
    ("flaky", "bad"): "still_failing",
    ("bad", "good"): "fixed",
    ("flaky", "good"): "fixed",
    **{(before, now): "newly_covered" for before in ("absent", "neutral") for now in ("good", "bad")},
    **{(before, now): "no_longer_covered" for before in ("good", "bad", "flaky") for now in ("absent", "neutral")},
}


@dataclass(frozen=True)
class Change:
    key: Key
    #: status in the baseline, None when the target was not in it
    before: str | None
    #: status now, None when this run has no verdicts for the target
    after: str | None


@dataclass
class Diff:
    baseline: str
    changes: dict[str, list[Change]] = field(default_factory=lambda: {c: [] for c in CATEGORIES})
    unchanged: int = 0
    #: baseline cells this run has no verdicts for (a partial matrix) → their targets, which are not listed
    missing_cells: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line: every category with its count, then the cells this run did not cover."""
        line = ", ".join(f"{heading.lower()}: {len(self.changes[c])}" for c, heading in CATEGORIES.items())
        if self.missing_cells:
            line += f" (baseline cells not in this run: {', '.join(sorted(self.missing_cells))})"
        return line


def category(before: str | None, after: str | None) -> str | None:
    """The diff category of a target with status ``before`` in the baseline and ``after`` now (None: unchanged)."""
    return _RULES.get((health(before) if before else "absent", health(after) if after else "absent"))


def compare(current: dict[Key, str], baseline: dict[Key, str], baseline_name: str) -> Diff:
    """The diff of two {target: status} maps. Targets of baseline cells missing from this run are counted per cell
    instead of listed: running part of the matrix is not a loss of coverage."""
    diff = Diff(baseline_name)
    cells_now = {key.cell for key in current}
    for key in sorted(current.keys() | baseline.keys()):
        if key.cell not in cells_now:
            diff.missing_cells[key.cell] += 1
            continue
        found = category(baseline.get(key), current.get(key))
        if found is None:
            diff.unchanged += 1
        else:
            diff.changes[found].append(Change(key, baseline.get(key), current.get(key)))
    return diff
