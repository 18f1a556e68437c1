"""The report's size and cost at a real nightly's shape: synthetic verdicts of N cells (each 6,160 targets × 19
properties × E examples, as transformers 5.23 + peft 0.21 has them), built into a report in this process.

    python benchmarks/report_size.py --cells 1 --examples 10      # one full nightly cell
    python benchmarks/report_size.py --cells 80 --examples 1      # the whole matrix's targets, one case each

Prints the verdicts, the build's wall time and peak memory, and each output's size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report_factory import matrix_cells, nightly  # noqa: E402

from harness.report import cli, model  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1)
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="keep the report here (default: a temporary folder)")
    args = parser.parse_args()
    cells = matrix_cells(args.cells)
    start = time.perf_counter()
    report = model.build(nightly(cells, examples=args.examples, seed=args.seed))
    built = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        written = cli.write_outputs(report, out, diff=None, baseline_problem="")
        rendered = time.perf_counter() - start - built
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = len({key[1:4] for key in report.targets})
        print(f"{args.cells} cell(s) × {rows:,} targets × {args.examples} example(s): {report.verdicts:,} verdicts, "
              f"{len(report.targets):,} (cell, target, property)")
        print(f"build {built:.0f} s, outputs {rendered:.0f} s, peak memory {peak:,.0f} MB")
        for path in written:
            print(f"  {path.name:22} {path.stat().st_size / 1e6:8.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
