"""Benchmark the serving roofline (scaleplan.cluster.serving) and the `serve` command.

    python benchmarks/bench_serving.py

Targets (issue 23): `scaleplan serve` for one model under 0.5 s end to end; in the library, serving costs for 200
candidate models (each its designed shape) and a 2,000-demand sweep under 0.5 s. Not a timed test: machines differ.
The figures go into the README ("Speed").
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def wall(cmd: list[str], runs: int = 11) -> tuple[float, float]:
    for _ in range(2):
        subprocess.run(cmd, capture_output=True, check=True, env=ENV)
    own = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=ENV)
        own.append(time.perf_counter() - t)
    return statistics.median(own), min(own)


def main() -> None:
    from scaleplan.cluster import serving
    from scaleplan.recipe import design as recipe

    exe = shutil.which("scaleplan", path=os.path.dirname(sys.executable)) or shutil.which("scaleplan")
    cli = [exe] if exe else [sys.executable, "-m", "scaleplan"]
    rows = []
    rows.append(
        ("scaleplan serve --params 70B --serve-bits 8", *wall(cli + ["serve", "--params", "70B", "--serve-bits", "8"]))
    )
    rows.append(
        (
            "scaleplan serve --params 8B, 2 chips x 2 bits",
            *wall(cli + ["serve", "--params", "8B", "--hardware", "h100", "--hardware", "h200", "--serve-bits", "16",
                         "--serve-bits", "8"]),
        )
    )  # fmt: skip
    sizes = np.geomspace(1e8, 1e12, 200)
    dev = serving.device("h100", price=2.0)
    wl, eff = serving.workload(), serving.efficiency()

    def candidates():
        models = [serving.ServedModel.from_shape(recipe.design_shape(n)) for n in sizes]
        return serving.roofline(models, dev, wl, eff)

    rows.append(("200 candidates: designed shapes + roofline, best TP", best_of(candidates), None))
    models = [serving.ServedModel.from_shape(recipe.design_shape(n)) for n in sizes]
    rows.append(
        ("200 candidates: roofline alone, best TP", best_of(lambda: serving.roofline(models, dev, wl, eff)), None)
    )
    one = serving.serve(models[100], dev)
    demands = np.geomspace(1e3, 1e9, 2000)
    rows.append(
        ("GPUs for 2,000 demands", best_of(lambda: serving.gpus_for(demands, one.tokens_per_s_per_gpu, one.tp)), None)
    )
    from scaleplan.pipeline import inference

    def cold_table():
        inference._pricer.cache_clear()
        return inference.serving_costs().dollars_per_token(1e10)

    rows.append(("cost pricing table, cold (81 designed shapes x 4 TP)", best_of(cold_table, repeat=3), None))
    sweep = np.geomspace(1e9, 1e15, 2000)
    rows.append(
        (
            "inference_aware(2,000 demands), objective cost",
            best_of(lambda: inference.inference_aware(sweep, flops=1e23, objective="cost", break_even=False)),
            None,
        )
    )
    from scaleplan.pipeline.inference import within_total

    costs = inference.serving_costs()
    rows.append(("within_total($2M, 5e12 tokens)", best_of(lambda: within_total("epoch", 2e6, 5e12, costs)), None))
    width = max(len(r[0]) for r in rows)
    for name, med, low in rows:
        extra = "" if low is None else f" (min {low * 1e3:.0f} ms)"
        print(f"{name:<{width}}  {med * 1e3:8.1f} ms{extra}")


if __name__ == "__main__":
    main()
