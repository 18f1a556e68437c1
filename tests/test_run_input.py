"""Bad input gets a clear error before anything heavy is imported, and an environment whose peft cannot be imported
is a verdict, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.datafile import DataFileError
from harness.matrix.cells import DEFAULT_PATH, load_matrix
from harness.run.pinned import load_pinned
from harness.results import Verdict, read_verdicts
from harness.writer import VerdictWriter

#: runs the harness's command line in a fresh interpreter and says its exit status and whether torch got imported
PROBE = """
import json, sys
from harness import cli
try:
    rc = cli.main(sys.argv[1:])
except SystemExit as exc:
    rc = exc.code
print(json.dumps([rc, "torch" in sys.modules]))
"""


def _probe(*argv: str, cwd: Path | None = None) -> tuple[int, bool, str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    rc, torch_imported = json.loads(done.stdout.strip().splitlines()[-1])
    return rc, torch_imported, done.stderr


@pytest.fixture(scope="module")
def bad_regex(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "expectations.yaml"
    path.write_text("expectations:\n  - {id: x, cell: '*', signature_regex: '(unclosed', reason: r, "
                    "link: 'https://example.org'}\n")
    return path


@pytest.mark.parametrize("argv, says", [
    (["run", "--max-examples", "-1"], "at least 1"),
    (["run", "-j", "0"], "at least 1 worker"),
    (["run", "--timeout", "0"], "above 0"),
    (["run", "--flake-reruns", "-2"], "at least 0"),
    (["run", "--profile", "smokey"], "no profile 'smokey' (did you mean 'smoke'?)"),
    (["repro", "abc123", "--from", "missing.jsonl"], "missing.jsonl: no such file"),
    (["judge", "missing.jsonl"], "missing.jsonl: no such file"),
    (["run", "--expectations", "BAD_REGEX"], "not a regular expression"),
])
def test_bad_arguments_are_refused_before_torch_is_imported(argv: list[str], says: str, bad_regex: Path) -> None:
    rc, torch_imported, err = _probe(*[str(bad_regex) if a == "BAD_REGEX" else a for a in argv])
    assert rc == 2 and says in err, err
    assert "Traceback" not in err and not torch_imported


def test_a_non_utf8_data_file_is_refused_with_its_line(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_bytes()
    broken = tmp_path / "matrix.yaml"
    broken.write_bytes(text.replace(b"python:", b"# caf\xe9\npython:", 1))
    line = text[: text.index(b"python:")].count(b"\n") + 1
    with pytest.raises(DataFileError, match=rf"line {line}: not UTF-8 text \(byte 0xe9\); save the file as UTF-8"):
        load_matrix(broken)


def test_a_misspelled_cell_pattern_fails_the_judgement(tmp_path: Path) -> None:
    verdicts = tmp_path / "py311-tf4.45.jsonl"
    with VerdictWriter(verdicts, fresh=True) as writer:
        writer.write(Verdict("c", "py311-tf4.45", {}, "gpt2", "causal-lm", "PROMPT_TUNING", "wrap", "pass"))
    rules = tmp_path / "expectations.yaml"
    rules.write_text("expectations:\n  - {id: x, cell: 'py311-tf4.4S', signature: s, reason: r, "
                     "link: 'https://example.org'}\n")
    rc, _, err = _probe("judge", str(verdicts), "--expectations", str(rules))
    assert rc == 2 and "'py311-tf4.4S' matches no cell of the matrix (did you mean" in err


def test_pinned_examples_answer_to_the_method_spelled_as_the_planner_takes_it() -> None:
    pinned = load_pinned()
    assert pinned, "the repository ships pinned examples"
    example = pinned[0]
    method = example.case["method"]["method"]
    for spelling in (method, method.lower(), method.lower().replace("_", "-")):
        assert example.matches(None, None, [spelling]), spelling
    assert not example.matches(None, None, ["NOT_A_METHOD"])


def test_a_peft_that_cannot_be_imported_is_the_cells_verdict(tmp_path: Path) -> None:
    """As peft 0.16/0.17 on transformers 5: the run writes one ``import`` crash with the error's signature, says
    so, and exits 1; judging the file says the same."""
    fake = tmp_path / "site" / "peft"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"cannot import name 'HybridCache' from 'transformers'\")\n")
    out = tmp_path / "cell.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(Path(__file__).parents[1])])}
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--cell", "py311-tf5.0-peft0.17", "--out",
                           str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "importing the libraries failed" in done.stderr
    (verdict,) = read_verdicts(out)
    assert (verdict.kind, verdict.property, verdict.outcome) == ("import", "import", "crash")
    assert "HybridCache" in verdict.signature and verdict.cell == "py311-tf5.0-peft0.17"
    judged = subprocess.run([sys.executable, "-m", "harness", "judge", str(out)], capture_output=True, text=True,
                            timeout=300)
    assert judged.returncode == 1 and "1 new failure(s)" in judged.stderr
