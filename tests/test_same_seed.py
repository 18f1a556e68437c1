"""Speed work changes where the time goes, never a verdict: a filtered run gives, verdict for verdict, what the same
run gave before the warm workers (recorded on 2026-12-01 at commit c605c75, one file per installed version pair)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.versions import installed

RECORDED = Path(__file__).parent / "data" / "same_seed"
#: the recorded run: four families (decoder, decoder with learned positions, two encoder-decoders) x two methods
RUN = ["--arch", "llama", "--arch", "gpt2", "--arch", "t5", "--arch", "bart", "--method", "PREFIX_TUNING",
       "--method", "PROMPT_TUNING", "--max-examples", "2", "--no-pinned", "--flake-reruns", "0", "--seed", "7",
       "-j", "2"]


def _recorded() -> list[list[str]]:
    v = installed()
    path = RECORDED / f"transformers{v['transformers']}-peft{v['peft']}.json.gz"
    if not path.exists():
        pytest.skip(f"no run recorded for transformers {v['transformers']} + peft {v['peft']} in {RECORDED}")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)["verdicts"]


def test_the_same_seed_gives_the_recorded_verdicts(tmp_path: Path) -> None:
    recorded = _recorded()
    out = tmp_path / "v.jsonl"
    subprocess.run([sys.executable, "-m", "harness", "run", *RUN, "--out", str(out)], capture_output=True,
                   text=True, timeout=900)
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    got = sorted([v["case_id"], v["property"], v["outcome"], v["signature"]] for v in lines)
    assert len(got) == len(recorded)
    assert got == recorded
