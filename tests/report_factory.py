"""Verdicts made up for the report's tests: one verdict with sensible defaults, whole runs of any size, hostile text,
and the report command run in-process."""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.report import cli
from harness.results import BAD_OUTCOMES, ErrorInfo, Verdict

#: markup that runs if a page or a summary shows it unescaped (it would set the title to PWNED), and Markdown
HOSTILE = ["<script>document.title='PWNED'</script>", "\"><img src=x onerror=\"document.title='PWNED'\">",
           "</script><script>document.title='PWNED'</script>", "<!--", "a|b`c*d_e[f](g)", "&amp; \u2028"]

CELLS = {  # cell → (transformers, peft)
    "py311-tf4.45-peft0.11": ("4.45.2", "0.11.1"),
    "py311-tf4.45-peft0.17": ("4.45.2", "0.17.1"),
    "py311-tf4.57-peft0.17": ("4.57.6", "0.17.1"),
    "py311-tf5.2": ("5.2.0", "0.18.0"),
}
METHODS = ("prefix_tuning", "prompt_tuning", "p_tuning", "multitask_prompt_tuning", "adaption_prompt", "cpt")
PROPERTIES = ("forward_runs", "generate_matches_greedy", "save_load_roundtrip", "adapter_changes_output",
              "batch_invariance")
TASKS = ("causal-lm", "seq2seq-lm", "seq-cls")


def versions(cell: str) -> dict[str, str]:
    tf, peft = CELLS.get(cell, ("4.45.2", "0.11.1"))
    return {"python": "3.11.9", "torch": "2.13.0", "transformers": tf, "peft": peft}


def verdict(**fields: Any) -> Verdict:
    """A verdict; bad outcomes get an error and a signature unless given."""
    values: dict[str, Any] = {"case_id": "case0", "cell": "py311-tf4.45-peft0.11", "arch": "llama",
                              "task": "causal-lm", "method": "prefix_tuning", "property": "forward_runs",
                              "outcome": "pass", "case": {"arch": "llama", "num_virtual_tokens": 4}}
    values.update(fields)
    values.setdefault("versions", versions(values["cell"]))
    if values["outcome"] in BAD_OUTCOMES:
        values.setdefault("error", ErrorInfo("TypeError", "forward() got an unexpected keyword argument 'past'",
                                             "peft/peft_model.py:forward", "Traceback (most recent call last):\n  …"))
        values.setdefault("signature", f"{values['error'].type} at {values['error'].frame}")
    return Verdict(**values)


def run(n: int, seed: int = 0, archs: int = 120, signatures: int = 30) -> list[Verdict]:
    """``n`` verdicts of a plausible matrix run: mostly passes, a few bugs each hitting many archs in some cells,
    real-sized tracebacks and case JSON, and a few re-runs that disagree."""
    rng = random.Random(seed)
    arch_names = [f"arch{i:03d}" for i in range(archs)]
    bugs = [(f"TypeError at peft/tuners/bug{i}.py:forward", rng.choice(METHODS), rng.choice(PROPERTIES),
             set(rng.sample(arch_names, rng.randint(1, min(40, archs)))),
             set(rng.sample(sorted(CELLS), rng.randint(1, 3))))
            for i in range(signatures)]
    frames = "".join(f'  File "/venv/lib/python3.11/site-packages/peft/module{i}.py", line {i * 7}, in f{i}\n'
                     f"    result = self.model(*args, **kwargs)\n" for i in range(20))
    made = []
    for i in range(n):
        cell, arch = rng.choice(sorted(CELLS)), rng.choice(arch_names)
        method, prop, task = rng.choice(METHODS), rng.choice(PROPERTIES), rng.choice(TASKS)
        case = {"arch": {"model_type": arch, "hidden_size": 16, "num_hidden_layers": 2, "vocab_size": 99},
                "method": {"peft_type": method, "num_virtual_tokens": rng.randint(1, 8)},
                "call": {"batch": rng.randint(1, 3), "length": rng.randint(1, 12)}, "i": i}
        fields: dict[str, Any] = {"case_id": f"{i:012x}", "cell": cell, "arch": arch, "task": task, "method": method,
                                  "property": prop, "case": case,
                                  "outcome": rng.choice(["pass"] * 12 + ["skip", "rejected"])}
        for text, bug_method, bug_prop, bug_archs, bug_cells in bugs:
            if (method, prop) == (bug_method, bug_prop) and arch in bug_archs and cell in bug_cells:
                message = f"forward() got an unexpected keyword argument 'past_key_values' ({arch}, {method})"
                fields.update(outcome=rng.choice(["crash", "crash", "fail", "timeout"]), signature=text,
                              error=ErrorInfo("TypeError", message, text.split(" at ")[1],
                                              f"Traceback (most recent call last):\n{frames}TypeError: {message}"))
                break
        made.append(verdict(**fields))
        if rng.random() < 0.002:  # the flake check re-ran this case and it ended differently
            made.append(verdict(**{**fields, "outcome": "timeout", "signature": "timeout at re-run",
                                   "error": ErrorInfo("TimeoutError", "case ran past 60 s", "", "")}))
    return made


#: a nightly cell's shape, as transformers 5.23 + peft 0.21 has it (`run --list-targets --profile nightly`): 336
#: archs, 880 (arch, task) pairs, 7 methods (6,160 targets), 19 properties, 10 examples per target
NIGHTLY_TASKS = ("causal-lm", "feature-extraction", "image-text-to-text", "question-answering", "seq-cls",
                 "seq2seq-lm", "token-cls")
NIGHTLY_METHODS = ("ADAPTION_PROMPT", "CARTRIDGE", "CPT", "MULTITASK_PROMPT_TUNING", "PREFIX_TUNING",
                   "PROMPT_TUNING", "P_TUNING")
NIGHTLY_PROPERTIES = tuple(f"property-{i:02d}" for i in range(19))


def matrix_cells(count: int) -> dict[str, tuple[str, str]]:
    """``count`` cells over a spread of (transformers, peft) pairs, oldest first: the nightly's matrix shape."""
    tfs = [f"4.{minor}.0" for minor in range(45, 58)] + [f"5.{minor}.0" for minor in range(0, 24)]
    pefts = [f"0.{minor}.0" for minor in range(13, 22)]
    pairs = sorted({(tfs[i * len(tfs) // count], pefts[(i * 7) % len(pefts)]) for i in range(count)})
    while len(pairs) < count:  # the same pair on another Python
        pairs.append(pairs[len(pairs) % len(pairs)])
    return {f"py3{10 + i % 4}-tf{tf}-peft{peft}-{i:02d}": (tf, peft) for i, (tf, peft) in enumerate(pairs[:count])}


def nightly(cells: dict[str, tuple[str, str]], examples: int = 10, seed: int = 0, archs: int = 336,
            signatures: int = 60) -> Iterator[Verdict]:
    """The verdicts of nightly cells at a real cell's shape, streamed (a cell is ~1.2M verdicts at 10 examples).

    Newer transformers have more archs (a cell has the first ~60-100 % of them); a property does not apply to some
    tasks (unsupported); some (arch, method) pairs are rejected; each bug crashes or fails one (method, property)
    on some archs over a run of consecutive cells; one case per bug and cell is re-run, and now and then the re-run
    disagrees."""
    rng = random.Random(seed)
    names = [f"arch-{i:03d}" for i in range(archs)]
    tasks = {arch: [t for i, t in enumerate(NIGHTLY_TASKS) if i == 0 or rng.random() < 0.27] for arch in names}
    unsupported = {(t, p) for t in NIGHTLY_TASKS for p in NIGHTLY_PROPERTIES if t != "causal-lm" and rng.random() < .3}
    rejected = {(a, m) for a in names for m in NIGHTLY_METHODS if rng.random() < 0.05}
    order = sorted(cells)
    bugs = []
    for i in range(signatures):
        start = rng.randrange(len(order))
        bugs.append((f"TypeError at peft/tuners/bug{i}.py:forward", rng.choice(NIGHTLY_METHODS),
                     rng.choice(NIGHTLY_PROPERTIES), set(rng.sample(names, rng.randint(1, min(60, archs)))),
                     set(order[start:start + rng.randint(1, len(order))]), rng.choice(["crash", "fail"])))
    frames = "".join(f'  File "/venv/lib/python3.11/site-packages/peft/module{i}.py", line {i * 7}, in f{i}\n'
                     for i in range(20))
    for c, cell in enumerate(order):
        tf, peft = cells[cell]
        present = names[:int(archs * (0.6 + 0.4 * (c + 1) / len(order)))]
        cell_versions = {"python": "3.11.9", "torch": "2.13.0", "transformers": tf, "peft": peft}
        for arch in present:
            for task in tasks[arch]:
                for method in NIGHTLY_METHODS:
                    hits = {prop: (text, outcome) for text, m, prop, bug_archs, bug_cells, outcome in bugs
                            if m == method and arch in bug_archs and cell in bug_cells}
                    for e in range(examples):
                        case_id = (f"{c:02x}{names.index(arch):03x}{NIGHTLY_TASKS.index(task)}"
                                   f"{NIGHTLY_METHODS.index(method)}{e:02x}")
                        case = {"arch": {"model_type": arch, "overrides": {"hidden_size": 16, "num_hidden_layers": 2}},
                                "method": {"method": method, "options": {"num_virtual_tokens": 1 + e % 8}},
                                "call": {"batch": 1 + e % 3, "length": 1 + e}}
                        for prop in NIGHTLY_PROPERTIES:
                            fields: dict[str, Any] = {"case_id": case_id, "cell": cell, "versions": cell_versions,
                                                      "arch": arch, "task": task, "method": method, "property": prop,
                                                      "case": case, "outcome": "pass"}
                            if (arch, method) in rejected:
                                fields.update(outcome="rejected", reason="peft refuses this method here")
                            elif (task, prop) in unsupported:
                                fields.update(outcome="unsupported", reason="the property does not apply")
                            elif prop in hits:
                                text, outcome = hits[prop]
                                message = f"forward() got an unexpected keyword argument 'past_key_values' ({arch})"
                                fields.update(outcome=outcome, signature=text, error=ErrorInfo(
                                    "TypeError", message, text.split(" at ")[1],
                                    f"Traceback (most recent call last):\n{frames}TypeError: {message}"))
                            elif rng.random() < 0.05:
                                fields.update(outcome="skip", reason="the drawn call does not exercise it")
                            yield verdict(**fields)
                            if e == 0 and prop in hits:  # the flake check re-ran this case
                                again = fields if rng.random() < 0.9 else {**fields, "outcome": "pass",
                                                                           "signature": "", "error": None}
                                yield verdict(**again, repetition=1)


def write(path: Path, verdicts: list[Verdict], extra: str = "") -> Path:
    """A verdict file, as the harness writes one (``extra``: raw text appended after the lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(v.to_json()) + "\n" for v in verdicts) + extra, encoding="utf-8")
    return path


def report_cli(*argv: str | Path) -> int:
    """``python -m harness report ARGV`` in this process; its exit status."""
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return cli.main(parser.parse_args([str(a) for a in argv]))
