"""Benchmark the planner: CLI start-up against its own imports, and vectorised sweeps.

    python benchmarks/bench.py            # prints a small table of medians
    python benchmarks/bench.py --startup  # only the three start-up rows (quicker, for work on start-up time)
    python benchmarks/bench.py --plan     # only scaleplan.plan() for one budget, after import (issue 19: < 20 ms)

Not a timed test: machines differ. The figures go into issue notes and the README.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

FLOOR = """
import numpy, typer, rich.table
from rich.console import Console
app = typer.Typer()
@app.command()
def allocate(flops: str = "1e21"):
    t = rich.table.Table()
    t.add_column(""); t.add_column("value")
    for i in range(25): t.add_row(f"row {i}", f"{i * 1.5:.3g}")
    Console().print(t)
@app.command()
def other(x: int = 1): pass
app(["allocate"])
"""


# As a user's shell runs it: bytecode cached. (Some sandboxes set PYTHONDONTWRITEBYTECODE, which makes every run
# recompile the project's modules while site-packages keep theirs, an unfair comparison.)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str], runs: int = 21) -> tuple[float, float]:
    return walls([cmd], runs)[0]


def walls(cmds: list[list[str]], runs: int = 21) -> list[tuple[float, float]]:
    """(median, min) seconds of each command, run in turns (a, b, c, a, b, c, ...), so that a change in the
    machine's load during the measurement falls on all of them alike."""
    for cmd in cmds:
        for _ in range(3):  # warm the file cache and write bytecode
            subprocess.run(cmd, capture_output=True, check=True, env=ENV)
    times: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for cmd, own in zip(cmds, times, strict=True):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=ENV)
            own.append(time.perf_counter() - t)
    return [(statistics.median(own), min(own)) for own in times]


# One scaleplan.plan() in a fresh process, timed after `import scaleplan` (the first plan loads the data files and
# designs what it needs), then the same plan again (caches warm); milliseconds on one line.
PLAN = """
import sys, time
import scaleplan
budget = eval(sys.argv[1])
t = time.perf_counter(); scaleplan.plan(**budget); first = time.perf_counter() - t
t = time.perf_counter(); scaleplan.plan(**budget); again = time.perf_counter() - t
print(first * 1e3, again * 1e3)
"""
PLAN_BUDGETS = {
    "flops 1e21": {"flops": 1e21},
    "flops 1e21 on 512 GPUs, ZeRO-3, serving 2T tokens at 4 bits": {
        "flops": 1e21, "gpus": 512, "zero": 3, "serve_bits": 4, "inference_tokens": "2T",
    },
}  # fmt: skip


def plan_rows(runs: int = 15) -> list[tuple[str, float, float]]:
    """(what, median, min) seconds of scaleplan.plan() after import, first and again, each budget in fresh processes
    run in turns."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, budget in PLAN_BUDGETS.items():
            out = subprocess.run(
                [sys.executable, "-c", PLAN, repr(budget)], capture_output=True, check=True, env=ENV, text=True
            )
            first, again = (float(x) / 1e3 for x in out.stdout.split())
            samples.setdefault(f"scaleplan.plan({name}), first after import", []).append(first)
            samples.setdefault(f"scaleplan.plan({name}), again", []).append(again)
    return [(k, statistics.median(v), min(v)) for k, v in samples.items()]


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(startup_only: bool = False) -> None:
    import scaleplan

    # the console script of this interpreter's environment (not another one on PATH), as a user runs it
    exe = shutil.which("scaleplan", path=os.path.dirname(sys.executable)) or shutil.which("scaleplan")
    cli = [exe] if exe else [sys.executable, "-m", "scaleplan"]
    # The floor for any typer + rich CLI: build a two-command app and print a 25-row table.
    baseline, floor, (alloc_med, alloc_min) = walls(
        [
            [sys.executable, "-c", "import numpy, typer, rich.table"],
            [sys.executable, "-c", FLOOR],
            cli + ["allocate", "--flops", "1e21"],
        ],
        runs=41,  # ~20 s: on a shared 2-core machine fewer runs move the ratio by +-0.05
    )
    baseline_med = baseline[0]
    rows = [
        ("python -c 'import numpy, typer, rich.table'", *baseline),
        ("minimal typer app printing a rich table", *floor),
        ("scaleplan allocate --flops 1e21", alloc_med, alloc_min),
    ]
    if startup_only:
        report(rows, alloc_med, baseline_med, floor[0])
        return
    million = np.geomspace(1e18, 1e26, 1_000_000)
    thousand = np.geomspace(1e18, 1e26, 1_000)
    scaleplan.allocate(million[:10])
    rows.append(("allocate(1,000,000 budgets), epoch", best_of(lambda: scaleplan.allocate(million)), None))
    rows.append(
        ("allocate(1,000,000 budgets), deepseek", best_of(lambda: scaleplan.allocate(million, law="deepseek")), None)
    )
    laws = ["epoch", "chinchilla", "kaplan", "porian", "deepseek"]
    rows.append(("compare(5 laws x 1,000 budgets)", best_of(lambda: scaleplan.compare(laws, thousand)), None))
    demands = np.geomspace(1e9, 1e16, 10_000)
    rows.append(
        (
            "inference_aware(10,000 demands), epoch",
            best_of(lambda: scaleplan.inference_aware(demands, flops=1e23, law="epoch", break_even=False)),
            None,
        )
    )
    rows.append(
        (
            "inference_aware(10,000 demands), kaplan",
            best_of(lambda: scaleplan.inference_aware(demands, flops=1e23, law="kaplan", break_even=False)),
            None,
        )
    )
    # The CLI's caps (scaleplan.schema.limits): the largest output a user can ask for, in every format.
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        many = os.path.join(tmp, "many.yaml")
        with open(many, "w") as handle:
            handle.write(
                "scenarios:\n"
                + "".join(
                    f"  - {{name: s{i}, flops: {10 ** (18 + i * 6 / 200):.3g}, inference_tokens: 1e12}}\n"
                    for i in range(200)
                )
            )
        for fmt in ("table", "json", "csv"):
            rows.append(
                (
                    f"CLI compare, 2 laws x 1,000 budgets, {fmt}",
                    *wall(
                        cli + ["compare", "epoch", "kaplan", "--flops", "1e18..1e25", "--points", "1000", "-f", fmt],
                        runs=3,
                    ),
                )
            )
            rows.append(
                (
                    f"CLI inference-aware, 2,000 demands, {fmt}",
                    *wall(
                        cli
                        + [
                            "inference-aware",
                            "--flops",
                            "1e22",
                            "--inference-tokens",
                            "1e9..1e15",
                            "--points",
                            "2000",
                            "-f",
                            fmt,
                        ],
                        runs=3,
                    ),
                )
            )
        rows.append(("CLI plan, 200 serving scenarios, json", *wall(cli + ["plan", many, "-f", "json"], runs=3)))
    report(rows, alloc_med, baseline_med, floor[0])


def report(rows, alloc_med: float, baseline_med: float, floor_med: float) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'median':>10}  {'min':>10}")
    for name, med, low in rows:
        print(f"{name:<{width}}  {med * 1e3:>8.1f}ms  {'' if low is None else f'{low * 1e3:>8.1f}ms':>10}")
    print(
        f"allocate start-up / baseline (median): {alloc_med / baseline_med:.2f}x; "
        f"minimal typer app / baseline: {floor_med / baseline_med:.2f}x; "
        f"allocate / minimal typer app: {alloc_med / floor_med:.2f}x"
    )


if __name__ == "__main__":
    if "--plan" in sys.argv[1:]:
        for what, med, low in plan_rows():
            print(f"{what:<96}  {med * 1e3:>8.2f}ms  {low * 1e3:>8.2f}ms")
    else:
        main(startup_only="--startup" in sys.argv[1:])
