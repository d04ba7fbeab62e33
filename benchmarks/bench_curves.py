"""Time the curve-law fit on a 100,000-step synthetic log and the variable-projection fit on Epoch's runs.

Usage: python benchmarks/bench_curves.py [--steps 100000] [--repeat 5]

Library time only: scipy is imported before the clock starts. Targets (issue 15): curve fit < 1 s on a
100,000-step log; variable-projection fit < 0.2 s on Epoch's runs (5 worst dropped, C < 1e21: 217 points);
a checkpoint fit of 100,000 rows < 2 s (here: reading the CSV, dropping each run's first 10% of tokens, fitting).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scaleplan.curves import law as curves
from scaleplan.fit import checkpoints, resample
from scaleplan.fit import parametric as fit
from scaleplan.fit import vp as fit_vp

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "svg_extracted_data.csv"


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    import scipy.optimize
    import scipy.signal  # noqa: F401

    law = curves.CurveLaw(3.057, 0.490, 0.497, 0.299)  # arXiv 2505.07796 Fig. 3 example constants
    sched = curves.Schedule("wsd", args.steps, 2e-4, warmup=1000, cooldown=0.2)
    c = law.curve(sched)
    steps = np.arange(1, args.steps + 1)
    loss = c["loss"] + np.random.default_rng(0).normal(0, 0.01, steps.size)

    def curve_fit():
        log = curves.Curve.from_log(steps, loss, steps, c["lr"])
        return curves.fit_curves([log])

    t, res = timed(curve_fit, args.repeat)
    print(
        f"curve fit, {args.steps:,}-step log (every step logged, 30% held-out refit included): {t * 1e3:.0f} ms "
        f"(alpha {res.law.alpha:.4f}, C {res.law.C:.4f})"
    )
    log = curves.Curve.from_log(steps, loss, steps, c["lr"])
    t, res = timed(lambda: curves.fit_curves([log], robust=True), args.repeat)
    print(
        f"  --robust (Huber on log loss, reweighted): {t * 1e3:.0f} ms (alpha {res.law.alpha:.4f}, C {res.law.C:.4f})"
    )
    if DATA.exists():
        runs = fit_vp.below_flops(fit.load_runs(DATA, drop_worst=5), 1e21)
        t, vp = timed(lambda: fit_vp.fit_vp(runs), args.repeat)
        print(
            f"variable-projection fit, Epoch's runs ({len(runs)} points): {t * 1e3:.0f} ms "
            f"(E {vp.E:.4f}, alpha {vp.alpha:.4f}, beta {vp.beta:.4f}, RSS {vp.rss:.6f})"
        )
        t, boot = timed(lambda: resample.bootstrap(runs, n=1000, fit=vp), args.repeat)
        lo, hi = boot.intervals["alpha"]["95%"]
        print(f"  + 1,000 bootstrap refits (all at once): {t * 1e3:.0f} ms (alpha 95% {lo:.4f} .. {hi:.4f})")
    else:
        print(f"Epoch data not found at {DATA}: VP fit skipped")

    # 100,000 checkpoint rows: 10 model sizes x 10,000 checkpoints each, Chinchilla's constants plus noise
    import tempfile

    rng = np.random.default_rng(0)
    sizes = np.geomspace(5e7, 2e9, 10)
    lines = ["run,params,tokens,loss"]
    for k, n in enumerate(sizes):
        d = np.geomspace(0.2 * n, 20 * n, 10_000)
        loss = 1.69337 + 406.401 / n**0.33917 + 410.723 / d**0.28491 + rng.normal(0, 0.002, d.size)
        lines += [f"run-{k},{n:.6g},{di:.6g},{li:.6f}" for di, li in zip(d, loss)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoints.csv"
        path.write_text("\n".join(lines) + "\n")
        t, runs = timed(lambda: checkpoints.load_checkpoints(path), args.repeat)
        print(
            f"read 100,000 checkpoint rows, drop early ones ({runs.checkpoints['checkpoints']:,} kept): "
            f"{t * 1e3:.0f} ms"
        )
        t, vp = timed(lambda: fit_vp.fit_vp(runs), args.repeat)
        print(f"  variable-projection fit: {t * 1e3:.0f} ms (alpha {vp.alpha:.4f}, beta {vp.beta:.4f})")
        t, hub = timed(lambda: fit.fit_parametric(runs), args.repeat)
        print(f"  Huber fit (Epoch's grid): {t * 1e3:.0f} ms (alpha {hub.alpha:.4f}, beta {hub.beta:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
