"""The full drift sweep: change every constant of every bundled data file by 1%, one at a time and in-process, and
confirm `scaleplan laws check` then fails (issue 25). Constants marked `unpublished` are exempt and listed.

Usage: python benchmarks/bench_drift.py [--factor 1.01] [--file hardware.yaml]

Whole numbers move to the nearest other whole number (8 -> 9). For each constant the claims that read it run first
and the search stops at the first failure, which is the verdict `laws check` would give; a constant whose drift no
claim catches is printed and the exit status is 1. The suite runs a fixed-seed sample of the same (tests/
test_constants.py); this runs them all (a few minutes on a small machine).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scaleplan.pipeline import checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, default=1.01)
    parser.add_argument("--file", help="only this data file (e.g. hardware.yaml)")
    args = parser.parse_args()
    table = [k for k in checks.constants() if not args.file or k.file == args.file]
    start = time.perf_counter()
    missed, exempt = [], []
    for k in table:
        if k.unpublished:
            exempt.append(k)
            continue
        caught, _by = checks.drift_caught(k.file, k.path, args.factor)
        if not caught:
            missed.append(k)
            print(f"NOT CAUGHT  {k.file}: {k.path} = {k.value:g}", flush=True)
    seconds = time.perf_counter() - start
    print(
        f"{len(table)} constants: {len(table) - len(exempt) - len(missed)} drifts caught, {len(missed)} not caught, "
        f"{len(exempt)} exempt (no published value) in {seconds:.1f} s"
    )
    for k in exempt:
        print(f"  exempt  {k.file}: {k.path}: {k.unpublished}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
