"""Reading and fitting files at their documented caps (issue 27): a runs file of 50 MB (~1.5M rows) and a training
log of 50 MB (~2M steps), each read and fitted in one process. Prints wall time, CPU time (the machine is shared:
CPU time is what an idle machine would take) and peak resident memory.

    python benchmarks/bench_caps.py            # both files, every fit
    python benchmarks/bench_caps.py --runs     # the runs file only
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CAP = 50_000_000  # bytes: scaleplan.core.files.MAX_TEXT_BYTES


def _write_capped(path: Path, header: str, lines) -> int:
    """Write header + as many lines as fit under CAP; return the number of rows."""
    size, rows = len(header), 0
    with path.open("w") as handle:
        handle.write(header)
        for line in lines:
            if size + len(line) > CAP - 1:
                break
            handle.write(line)
            size += len(line)
            rows += 1
    return rows


def runs_file(folder: Path) -> tuple[Path, int]:
    rng = np.random.default_rng(0)
    n = 1_700_000
    params = 10 ** rng.uniform(7, 10, n)
    tokens = 10 ** rng.uniform(9, 12, n)
    loss = (1.8 + 480 / params**0.35 + 2100 / tokens**0.37) * (1 + 0.01 * rng.standard_normal(n))
    path = folder / "runs.csv"
    rows = _write_capped(
        path, "params,tokens,loss\n", (f"{a:.6g},{b:.6g},{c:.6f}\n" for a, b, c in zip(params, tokens, loss))
    )
    return path, rows


def log_file(folder: Path) -> tuple[Path, int]:
    n = 2_300_000
    steps = np.arange(1, n + 1)
    lr = np.where(
        steps < 2000, 3e-4 * steps / 2000, np.where(steps < 0.8 * n, 3e-4, 3e-4 * (1 - (steps - 0.8 * n) / (0.2 * n)))
    )
    loss = 3.0 + 0.5 * np.cumsum(lr) ** -0.5 + 0.01 * np.random.default_rng(0).standard_normal(n)
    path = folder / "log.csv"
    rows = _write_capped(path, "step,lr,loss\n", (f"{a},{b:.6g},{c:.5f}\n" for a, b, c in zip(steps, lr, loss)))
    return path, rows


def _timed(what: str, call):
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"  {what:<44} {wall:6.2f} s wall  {cpu:6.2f} s CPU  peak {peak:5.0f} MB", flush=True)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", action="store_true", help="the runs file only")
    parser.add_argument("--log", action="store_true", help="the training log only")
    args = parser.parse_args(argv)
    both = not (args.runs or args.log)
    from scaleplan.curves import law as curves
    from scaleplan.fit import parametric as fit
    from scaleplan.fit import vp as fit_vp
    from scaleplan.fit.checkpoints import load_any

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.runs or both:
            path, rows = runs_file(folder)
            print(f"runs file: {path.stat().st_size / 1e6:.1f} MB, {rows:,} rows")
            runs = _timed("read (as `scaleplan fit` does)", lambda: load_any(path))
            _timed("fit, Huber (default)", lambda: fit.fit_parametric(runs))
            _timed("fit --method vp", lambda: fit_vp.fit_vp(runs))
        if args.log or both:
            path, rows = log_file(folder)
            print(f"training log: {path.stat().st_size / 1e6:.1f} MB, {rows:,} steps")
            curve = _timed("read (as `scaleplan curve fit` does)", lambda: curves.load_log(path))
            _timed("curve fit (with the held-out refit)", lambda: curves.fit_curves([curve]))
            _timed("curve fit --robust", lambda: curves.fit_curves([curve], robust=True))


if __name__ == "__main__":
    main(sys.argv[1:])
