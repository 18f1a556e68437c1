"""Verdicts made up for the report's tests: one verdict with sensible defaults, whole runs of any size, hostile text,
and the report command run in-process."""

from __future__ import annotations

import argparse
import json
import random
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


if __name__ == "__main__":  # the synthetic nightly the report's sizes are measured on (README, "report")
    import sys

    count, out = int(sys.argv[1]), Path(sys.argv[2])
    write(out, run(count))
    print(f"{count:,} verdicts -> {out} ({out.stat().st_size / 1e6:.0f} MB)")
