"""Time `scaleplan fit` on the Epoch data: the full 4,500-start grid fit plus 1,000 bootstrap refits.

Usage: python benchmarks/bench_fit.py [--data PATH] [--boot 1000] [--repeat 3] [--exhaustive] [--one-by-one]

The issue's baseline (a plain loop of scipy L-BFGS-B with numerical gradients over all 4,500 starts) takes
~85 s on the 2-core dev machine; the target for grid fit + 1,000 bootstrap refits is under 10 s.
`--exhaustive` also refines every one of the 4,500 starts (Epoch's procedure) to check that the fast path
finds the same optimum. `--one-by-one` also times the bootstrap as it was before its refits were vectorised (one
scipy BFGS per resample, over the same resamples) and compares the intervals.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scaleplan.fit import parametric as fit
from scaleplan.fit import resample

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "svg_extracted_data.csv"
EPOCH_CELL_18 = {"E": 1.81724, "A": 477.84, "B": 2143.86, "alpha": 0.34731, "beta": 0.36718}


def one_by_one(runs, f, boot, n: int) -> None:
    """The bootstrap before issue #20: the same resamples, each refitted by its own scipy BFGS."""
    import numpy as np

    t0 = time.perf_counter()
    weights = resample.resample_weights(runs, n, np.random.default_rng(0))
    data = fit.log_data(runs)
    thetas = np.array([fit._minimize(f.theta, (*data, w, f.delta), tight=False).x for w in weights])
    elapsed = time.perf_counter() - t0
    samples = np.column_stack([np.exp(thetas[:, 2]), np.exp(thetas[:, 0]), np.exp(thetas[:, 1]), thetas[:, 3:]])
    worst = float(np.max(np.abs(samples - boot.samples) / np.abs(samples)))
    print(
        f"\none BFGS per resample (the bootstrap before): {elapsed:.3f} s for {n}; "
        f"largest relative difference of a refit from the vectorised one: {worst:.1e}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--exhaustive", action="store_true")
    ap.add_argument("--one-by-one", action="store_true", help="also time one BFGS per resample (the old bootstrap)")
    args = ap.parse_args()
    if not args.data.exists():
        print(f"data not found: {args.data}", file=sys.stderr)
        return 2

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    import scipy.optimize  # noqa: F401  (timed separately so the first fit is not charged for it)

    t_scipy = time.perf_counter() - t0

    totals = []
    for rep in range(args.repeat):
        t0 = time.perf_counter()
        runs = fit.load_runs(args.data, drop_worst=5)
        t1 = time.perf_counter()
        f = fit.fit_parametric(runs)
        t2 = time.perf_counter()
        boot = resample.bootstrap(runs, n=args.boot, seed=0, fit=f)
        t3 = time.perf_counter()
        totals.append(t3 - t0)
        print(
            f"run {rep + 1}: load {t1 - t0:6.3f} s | grid fit ({f.n_starts} starts scored, {f.n_refined} refined) "
            f"{t2 - t1:6.3f} s | bootstrap x{args.boot} {t3 - t2:6.3f} s ({(t3 - t2) / args.boot * 1e3:.2f} ms/refit)"
            f" | total {t3 - t0:6.3f} s"
        )
    median = sorted(totals)[len(totals) // 2]
    print(
        f"scipy.optimize import {t_scipy:.3f} s (once); best total {min(totals):.3f} s, median {median:.3f} s"
        " (target < 10 s; baseline ~85 s for the grid alone)"
    )

    print("\nconstant   this fit      Epoch cell 18   rel diff   95% CI (bootstrap)")
    for key, ref in EPOCH_CELL_18.items():
        v = getattr(f, key)
        lo, hi = boot.intervals[key]["95%"]
        print(f"{key:<8} {v:12.6g}  {ref:12.6g}   {abs(v - ref) / ref:9.2e}   ({lo:.4g}, {hi:.4g})")
    print(
        f"objective {f.objective:.8g} (Epoch 0.00101827); a = {f.a:.4f}, b = {f.b:.4f}; "
        f"refits not converged: {boot.n_unconverged}"
    )

    if args.one_by_one:
        one_by_one(runs, f, boot, args.boot)
    if args.exhaustive:
        t0 = time.perf_counter()
        full = fit.fit_parametric(runs, refine=len(fit.EPOCH_GRID))
        print(
            f"\nexhaustive (all {full.n_refined} starts refined): {time.perf_counter() - t0:.1f} s, "
            f"objective {full.objective:.10g} vs fast {f.objective:.10g}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
