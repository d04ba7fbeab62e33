"""The one bootstrap of a parametric fit, whatever its estimator (Huber on log loss, or variable projection).

Resample the runs with replacement `n` times (checkpoints: whole runs, each keeping its weights) as multinomial run
weights, refit every resample at once from the full-data fit (vectorised across resamples, as the grid search is
across starts: `fit.parametric.huber_refits`, `scaleplan.fit_vp.vp_refits`), and summarise the refits: percentile
intervals on E, A, B, alpha, beta, a, b and on the compute-optimal N, D and D/N at budgets (through
`scaleplan.laws.forms.parametric_optimum`, which takes arrays of draws). Epoch (arXiv 2404.10102) used 4,000
resamples.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.errors import ScaleplanError
from ..schema import limits
from ..schema.runs import Runs
from .parametric import fit_parametric, huber_refits
from .result import (
    CONSTANTS,
    LAW_TEXT,
    Bootstrap,
    ParametricFit,
    check_budgets,
    check_levels,
    check_runs,
    implied_allocation,
    log_data,
    percentile_intervals,
)

__all__ = ["MAX_RESAMPLES", "bootstrap", "resample_weights", "summarise"]

MAX_RESAMPLES = limits.MAX_BOOTSTRAP  # the one cap (schema.limits), under the name this module's callers know
CHUNK_ELEMS = 65_536  # resamples x rows refitted together: ~270 of 240 runs, the fastest batch (cache-sized)


def resample_weights(runs: Runs, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, rows) run weights of `n` resamples with replacement: multinomial counts of the rows (the same as
    resampling them), or for checkpoints counts of whole runs times each row's weight. The draws are those of n
    successive `rng.multinomial(m, p)` calls."""
    m = runs.n if runs.run_ids is None else int(runs.run_ids.max()) + 1
    counts = rng.multinomial(m, np.full(m, 1.0 / m), size=n).astype(float)
    if runs.run_ids is not None:
        counts = counts[:, runs.run_ids]
    return counts if runs.weights is None else counts * runs.weights


def _check(runs, n, seed, levels, budgets, fit) -> tuple[tuple[float, ...], tuple[float, ...]]:
    check_runs(runs)
    if fit is not None and not isinstance(fit, ParametricFit):
        raise ScaleplanError(
            f"<fit> must be a ParametricFit from scaleplan.fit_parametric(runs) or scaleplan.fit_vp(runs), got {fit!r}"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_RESAMPLES:
        raise ScaleplanError(f"bootstrap needs a whole number of resamples in 2..{MAX_RESAMPLES:,}, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScaleplanError(f"seed must be a whole number >= 0, got {seed!r}")
    return check_levels(levels), check_budgets(budgets)


def _refit(runs: Runs, fit: ParametricFit, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(samples (B, 5) as E, A, B, alpha, beta; converged (B,)) of the resamples weighted by `weights`."""
    if fit.estimator == "vp":
        from .vp import vp_refits

        return vp_refits(runs, fit, weights)
    ln_n, ln_d, ln_l = log_data(runs)
    theta, converged = huber_refits(fit.theta, weights, ln_n, ln_d, ln_l, float(fit.delta or 1e-3))
    with np.errstate(over="ignore"):
        samples = np.column_stack(
            [np.exp(theta[:, 2]), np.exp(theta[:, 0]), np.exp(theta[:, 1]), theta[:, 3], theta[:, 4]]
        )
    return samples, converged


def bootstrap(
    runs: Runs,
    n: int = 1000,
    seed: int = 0,
    budgets=(1e21, 1e23, 1e25),
    levels=(0.8, 0.95),
    fit: ParametricFit | None = None,
    progress=None,
) -> Bootstrap:
    """Resample the runs with replacement `n` times and refit them all (warm-started from the full-data fit).

    `fit` is the full-data fit of either estimator (default: `fit_parametric(runs)`, Huber); the refits use its
    estimator. Percentile intervals at `levels` for E, A, B, alpha, beta, a, b and for N_opt, D_opt and D/N at
    `budgets`. `progress(done, n)` is called after each batch of refits.
    """
    levels, budgets = _check(runs, n, seed, levels, budgets, fit)
    if fit is None:
        fit = fit_parametric(runs)
    rng = np.random.default_rng(seed)
    weights = resample_weights(runs, int(n), rng)
    batch = max(1, CHUNK_ELEMS // max(1, runs.n))
    parts, converged = [], []
    for lo in range(0, int(n), batch):
        s, c = _refit(runs, fit, weights[lo : lo + batch])
        parts.append(s)
        converged.append(c)
        if progress is not None:
            progress(min(int(n), lo + batch), int(n))
    return summarise(
        fit, np.concatenate(parts), int(n), int(seed), levels, budgets, int((~np.concatenate(converged)).sum()), runs
    )


def summarise(
    fit: ParametricFit,
    samples: np.ndarray,
    n: int,
    seed: int,
    levels: tuple[float, ...],
    budgets: tuple[float, ...],
    n_unconverged: int,
    runs: Runs,
) -> Bootstrap:
    """The Bootstrap of refits `samples` (rows E, A, B, alpha, beta): refits that failed or ran off (ln of a
    constant over 700, an exponent over 100 in size) are left out of the intervals."""
    from ..laws import forms

    with np.errstate(all="ignore"):
        logs = np.log(np.maximum(samples[:, :3], np.finfo(float).tiny))
        keep = np.all(np.isfinite(samples), axis=1) & (np.max(logs, axis=1) <= 700)
        keep &= np.max(np.abs(samples[:, 3:]), axis=1) <= 100
    if keep.sum() < 2:
        raise ScaleplanError(f"{runs.source}: the bootstrap refits ran off (the runs do not follow {LAW_TEXT})")
    samples = samples[keep]
    named = {k: samples[:, j] for j, k in enumerate(CONSTANTS)}
    named["a"] = named["beta"] / (named["alpha"] + named["beta"])
    named["b"] = named["alpha"] / (named["alpha"] + named["beta"])
    thetas = np.column_stack([logs[keep][:, 1], logs[keep][:, 2], logs[keep][:, 0], named["alpha"], named["beta"]])
    alloc = []
    for c, point_row in zip(budgets, implied_allocation(fit.constants, budgets)):
        with np.errstate(all="ignore"):  # a resample that implies no allocation gives NaN, left out of intervals
            n_s, d_s = forms.parametric_optimum(named, c)
            ratio = d_s / n_s
        fine = np.isfinite(n_s) & np.isfinite(d_s) & (n_s > 0)
        alloc.append(
            {
                **{k: (math.nan if v is None else v) for k, v in point_row.items() if k != "loss"},
                "intervals": {
                    "params": percentile_intervals(n_s[fine], levels),
                    "tokens": percentile_intervals(d_s[fine], levels),
                    "tokens_per_param": percentile_intervals(ratio[fine], levels),
                },
            }
        )
    return Bootstrap(
        n=n,
        seed=seed,
        levels=levels,
        budgets=budgets,
        samples=samples,
        point={**fit.constants, "a": fit.a, "b": fit.b},
        se={k: float(np.std(v, ddof=1)) for k, v in named.items()},
        intervals={k: percentile_intervals(v, levels) for k, v in named.items()},
        allocation=tuple(alloc),
        log_mean=thetas.mean(axis=0),
        log_cov=np.cov(thetas, rowvar=False),
        n_unconverged=n_unconverged,
        estimator=fit.estimator,
    )
