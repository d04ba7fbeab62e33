"""Fit a Chinchilla-form scaling law to your own training runs (reading them: scaleplan.schema.runs; designing them:
scaleplan.fit.sweep, both re-exported here).

The method is Hoffmann et al. 2022 (arXiv 2203.15556) Approach 3 as replicated by Besiroglu et al. 2024
(Epoch AI, arXiv 2404.10102): minimise the *sum* over runs of Huber_delta(LSE(a - alpha ln N, b - beta ln D, e)
- ln L) with delta = 1e-3, where A, B, E = exp(a, b, e), by quasi-Newton descent (L-BFGS there, BFGS here)
from a grid of starts (alpha, beta in {0, .5, ..., 2}, e in {-1, -.5, ..., 1}, a, b in {0, 5, ..., 25}:
4,500 starts), keeping the best.

Public API (all numbers are plain floats or numpy arrays; every user mistake raises `ScaleplanError`):

    load_runs(path, columns=None, drop_worst=0) -> Runs
    Runs.from_arrays(params, loss, tokens=None, flops=None, source="<arrays>", drop_worst=0) -> Runs
    fit_parametric(runs, delta=1e-3, grid="epoch", refine=16) -> ParametricFit
    bootstrap(runs, n=1000, seed=0, budgets=(1e21, 1e23, 1e25), levels=(0.8, 0.95), fit=None, progress=None)
        -> Bootstrap
    fit_isoflop(runs, gap=0.1, min_sizes=3) -> IsoflopFit
    law_dict(fit, boot=None, runs=None, name="my-fit") -> dict      (accepted by scaleplan.laws.law_from_dict)
    design_sweep(target_flops, budget_flops, levels=5, sizes_per_level=7, span=100.0, size_range=16.0,
                 law="epoch") -> Sweep                                (Sweep.csv_text() is ready for `fit`)

How it is fast (the issue's ~85 s loop of L-BFGS-B with numerical gradients takes ~0.3 s here):
  * the objective and its analytic gradient are vectorised over runs (`_objective`);
  * the objective is evaluated at all 4,500 grid starts at once with numpy, and only the `refine` best
    starts (plus the best start of every (alpha, beta) pair of the grid, for diversity) are refined;
    on the Epoch data and on synthetic sets this finds the optimum that refining all 4,500 starts finds;
  * the optimiser sees the Huber sum divided by delta, so its gradient is O(1). Without that scaling the
    default tolerances stop a warm-started refit at once (gradient ~ delta) and bootstrap intervals come
    out ~10x too narrow;
  * bootstrap refits weight the runs by multinomial counts (the same as resampling rows) and start from
    the full-data optimum.
The local optimiser is scipy's BFGS, not L-BFGS-B: with five parameters the limited memory buys nothing,
both reach the same optima, and L-BFGS-B's LAPACK calls ran 10-100x slower on a busy 2-core machine
(OpenBLAS worker threads contending for the cores) while BFGS did not.

scipy is imported inside the fitting functions only, so `import scaleplan` stays light.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema.units import fmt_sci

__all__ = [
    "EPOCH_GRID",
    "MIN_RUNS",
    "Bootstrap",
    "IsoflopFit",
    "IsoflopLevel",
    "ParametricFit",
    "Runs",
    "Sweep",
    "SweepRow",
    "bootstrap",
    "design_sweep",
    "fit_isoflop",
    "fit_parametric",
    "law_dict",
    "load_runs",
]

from ..schema.runs import ALIASES, FIELDS, MIN_RUNS, Runs, _read_records, load_runs  # noqa: F401 (re-exported)
from .sweep import Sweep, SweepRow, design_sweep

_CONSTANTS = ("E", "A", "B", "alpha", "beta")
_THETA = ("log_A", "log_B", "log_E", "alpha", "beta")  # internal order, as in Epoch's code: (a, b, e, alpha, beta)
LAW_TEXT = "L = E + A/N^alpha + B/D^beta"


def no_allocation(constants: dict) -> str | None:
    """Why fitted constants imply no compute-optimal allocation (None if they do): a term that does not fall, an
    exponent <= 0, a constant that is not finite. The allocation (Hoffmann eq. 4) trades A/N^alpha against
    B/D^beta, so it needs both terms."""
    for key in _CONSTANTS:
        v = constants[key]
        if not math.isfinite(v):
            return f"the runs do not follow {LAW_TEXT}: {key} is not finite"
    for key, what in (("A", "model size"), ("B", "training tokens")):
        if constants[key] <= 0:
            return f"the runs do not follow {LAW_TEXT}: {key} = 0, loss does not fall with {what}; no allocation"
    for key, what in (("alpha", "model size"), ("beta", "training tokens")):
        if constants[key] <= 0:
            return (
                f"the runs do not follow {LAW_TEXT}: {key} = {constants[key]:.3g} <= 0, loss does not fall with "
                f"{what}; no allocation"
            )
    return None


def implied_allocation(constants: dict, budgets) -> list[dict]:
    """{flops, params, tokens, tokens_per_param, loss} per budget; None where the constants imply no allocation or
    a number overflows (a fit of noise can put the optimum beyond any float)."""
    from ..laws import forms

    c = np.asarray(budgets, float).ravel()
    blank = [{"flops": float(ci), "params": None, "tokens": None, "tokens_per_param": None, "loss": None} for ci in c]
    if no_allocation(constants) is not None:
        return blank
    with np.errstate(all="ignore"):
        n, d = forms.parametric_optimum(constants, c)
        n, d = np.broadcast_to(n, c.shape), np.broadcast_to(d, c.shape)
        lo = np.broadcast_to(forms.parametric_loss(constants, n, d), c.shape)
        ratio = d / n

    def num(x) -> float | None:
        x = float(x)
        return x if math.isfinite(x) and x > 0 else None

    return [
        {"flops": float(ci), "params": num(ni), "tokens": num(di), "tokens_per_param": num(ri), "loss": num(li)}
        for ci, ni, di, ri, li in zip(c, n, d, ratio, lo)
    ]


def _epoch_grid() -> np.ndarray:
    """The 4,500 starts of Hoffmann App. D.2 / Epoch cell 18, rows (a, b, e, alpha, beta)."""
    alpha = beta = np.arange(0.0, 2.5, 0.5)
    e = np.arange(-1.0, 1.5, 0.5)
    a = b = np.arange(0.0, 30.0, 5.0)
    g = np.stack(np.meshgrid(alpha, beta, e, a, b, indexing="ij"), axis=-1).reshape(-1, 5)
    return np.ascontiguousarray(g[:, [3, 4, 2, 0, 1]])


EPOCH_GRID = _epoch_grid()


# --------------------------------------------------------------------------------------- objective


def _objective(theta, ln_n, ln_d, ln_l, w, delta):
    """Sum of Huber_delta(LSE - ln L) divided by delta, and its gradient, for theta = (a, b, e, alpha, beta).

    Vectorised over runs; `w` are per-run weights (bootstrap counts) or None.
    """
    a, b, e, alpha, beta = theta
    x1 = a - alpha * ln_n
    x2 = b - beta * ln_d
    m = np.maximum(np.maximum(x1, x2), e)
    t1 = np.exp(x1 - m)
    t2 = np.exp(x2 - m)
    t3 = np.exp(e - m)
    s = t1 + t2 + t3
    r = m + np.log(s) - ln_l
    psi = np.clip(r, -delta, delta)  # Huber'(r)
    h = psi * (r - 0.5 * psi)  # = r^2/2 if |r| <= delta else delta (|r| - delta/2)
    q = psi / s
    if w is not None:
        h = h * w
        q = q * w
    g1 = q * t1
    g2 = q * t2
    grad = np.array([g1.sum(), g2.sum(), (q * t3).sum(), -(g1 * ln_n).sum(), -(g2 * ln_d).sum()])
    return h.sum() / delta, grad / delta


def _grid_objective(grid, ln_n, ln_d, ln_l, delta, chunk_elems: int = 2_000_000, w=None) -> np.ndarray:
    """Huber sum at every start of `grid` at once (rows (a, b, e, alpha, beta)), in chunks to bound memory."""
    out = np.empty(len(grid))
    step = max(1, chunk_elems // max(1, ln_n.size))
    for lo in range(0, len(grid), step):
        g = grid[lo : lo + step]
        lse = np.logaddexp(np.logaddexp(g[:, 0:1] - g[:, 3:4] * ln_n, g[:, 1:2] - g[:, 4:5] * ln_d), g[:, 2:3])
        r = lse - ln_l
        psi = np.clip(r, -delta, delta)
        h = psi * (r - 0.5 * psi)
        out[lo : lo + step] = (h if w is None else h * w).sum(axis=1)
    return out


def _minimize(theta0, args, tight: bool):
    """BFGS on the scaled objective (what Epoch used for its bootstrap refits).

    Five parameters need no limited memory; scipy's L-BFGS-B gives the same optima but its LAPACK calls
    ran 10-100x slower on a busy 2-core machine (OpenBLAS threads contending), BFGS does not.
    """
    from scipy.optimize import minimize

    opts = {"maxiter": 2000, "gtol": 1e-10} if tight else {"maxiter": 1000, "gtol": 1e-5}
    res = minimize(_objective, np.asarray(theta0, float), args=args, jac=True, method="BFGS", options=opts)
    # status 2 ("precision loss") is the usual ending at the kinks of the Huber loss: fine if the gradient is ~0
    res.converged = bool(res.success or (res.status == 2 and np.max(np.abs(res.jac)) < 1e-3))
    return res


# ------------------------------------------------------------------------------------ parametric fit


@dataclass(frozen=True, eq=False, repr=False)
class ParametricFit(Rendered):
    """L(N, D) = E + A / N^alpha + B / D^beta fitted to runs (Hoffmann Approach 3)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    objective: float  # sum of Huber_delta over runs (Epoch's data: 0.00101827)
    residuals: np.ndarray  # ln L_observed - ln L_fitted, one per run
    n_runs: int
    delta: float
    method: str
    n_starts: int
    n_refined: int
    converged: bool
    warnings: tuple[str, ...] = ()

    @property
    def a(self) -> float:
        """N_opt ~ C^a, a = beta / (alpha + beta)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """D_opt ~ C^b, b = alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def constants(self) -> dict:
        return {k: float(getattr(self, k)) for k in _CONSTANTS}

    @property
    def theta(self) -> np.ndarray:
        """(ln A, ln B, ln E, alpha, beta): the parameters the optimiser works in."""
        return np.array([math.log(self.A), math.log(self.B), math.log(self.E), self.alpha, self.beta])

    def loss(self, n, d):
        from ..laws import forms

        return forms.parametric_loss(self.constants, n, d)

    def optimum(self, flops):
        """Compute-optimal (N, D) for budgets C = 6ND (Hoffmann eq. 4); scalars or arrays."""
        from ..laws import forms

        return forms.parametric_optimum(self.constants, flops)

    def allocation(self, budgets=(1e21, 1e23, 1e25)) -> list[dict]:
        """The implied compute-optimal allocation per budget (None where the fit implies none)."""
        return implied_allocation(self.constants, budgets)

    def to_dict(self, budgets=(1e21, 1e23, 1e25)) -> dict:
        r = self.residuals
        return {
            **self.constants,
            "a": float(self.a),
            "b": float(self.b),
            "objective": float(self.objective),
            "n_runs": int(self.n_runs),
            "delta": float(self.delta),
            "method": self.method,
            "converged": bool(self.converged),
            "allocation": self.allocation(budgets),
            "residuals": {
                "rms": float(np.sqrt(np.mean(r * r))),
                "mean_abs": float(np.mean(np.abs(r))),
                "max_abs": float(np.max(np.abs(r))),
                "values": [float(x) for x in r],
            },
            "warnings": list(self.warnings),
        }


THIN_ABOVE = 4000  # rows; larger sets (checkpoints) are searched on an even subsample of this size


def thin_index(n: int, size: int = THIN_ABOVE) -> np.ndarray | None:
    """Evenly spaced row indices to search on when there are more than `size` rows (None: use them all)."""
    return None if n <= size else np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))


def _check_runs(runs, what: str = "runs") -> None:
    """The runs a fit takes: a Runs, as scaleplan.load_runs(path) gives, not a path, a list or None."""
    if not isinstance(runs, Runs):
        hint = (
            "; read a file with scaleplan.load_runs(path)"
            if isinstance(runs, (str, bytes)) or hasattr(runs, "__fspath__")
            else ""
        )
        raise ScaleplanError(
            f"<{what}> must be a Runs (scaleplan.load_runs(path), or Runs(params=, tokens=, flops=, loss=)), "
            f"got {type(runs).__name__}{hint}"
        )


def _logs(runs: Runs):
    return np.log(runs.params), np.log(runs.tokens), np.log(runs.loss)


def fit_parametric(runs: Runs, delta: float = 1e-3, grid="epoch", refine: int = 16) -> ParametricFit:
    """Fit E, A, B, alpha, beta as Hoffmann Approach 3 / Epoch: Huber(delta) on log loss, BFGS from a grid.

    `grid` is "epoch" (the 4,500 starts) or an array of starts with rows (ln A, ln B, ln E, alpha, beta).
    All starts are scored at once; the `refine` best, plus the best of every (alpha, beta) pair, are refined
    with BFGS (analytic gradient); the best result is polished with tight tolerances.
    Use refine >= len(grid) to refine every start, as Epoch did.
    """
    _check_runs(runs)
    if isinstance(delta, bool) or not (isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0):
        raise ScaleplanError(f"<delta> must be a positive number, got {delta!r}")
    if isinstance(grid, str):
        if grid != "epoch":
            raise ScaleplanError(f"grid must be 'epoch' or an array of starts, got {grid!r}")
        starts = EPOCH_GRID
    else:
        starts = np.asarray(grid, float)
        if starts.ndim != 2 or starts.shape[1] != 5 or not np.all(np.isfinite(starts)) or len(starts) == 0:
            raise ScaleplanError("grid must be an array of shape (k, 5) of finite (ln A, ln B, ln E, alpha, beta)")
    if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 1:
        raise ScaleplanError(f"<refine> must be a whole number of at least 1, got {refine!r}")
    ln_n, ln_d, ln_l = _logs(runs)
    full = (ln_n, ln_d, ln_l, runs.weights, float(delta))
    sel = thin_index(runs.n)  # many checkpoints: search on an even subsample, polish on every row
    sub = (
        full
        if sel is None
        else (ln_n[sel], ln_d[sel], ln_l[sel], None if runs.weights is None else runs.weights[sel], float(delta))
    )
    g = thin_index(runs.n, 1000)  # the grid only ranks starts: 1,000 evenly spaced rows are plenty
    scores = (
        _grid_objective(starts, ln_n, ln_d, ln_l, delta, w=runs.weights)
        if g is None
        else _grid_objective(
            starts, ln_n[g], ln_d[g], ln_l[g], delta, w=None if runs.weights is None else runs.weights[g]
        )
    )
    scores = np.where(np.isfinite(scores), scores, np.inf)
    order = np.argsort(scores, kind="stable")
    pick = list(order[: int(refine)])
    # the best start of each (alpha, beta) pair, so very different exponents are tried too
    seen = set()
    for i in order:
        key = (starts[i, 3], starts[i, 4])
        if key not in seen:
            seen.add(key)
            if i not in pick:
                pick.append(i)
    args = sub
    best = None
    for i in pick:
        res = _minimize(starts[i], args, tight=False)
        if np.all(np.isfinite(res.x)) and np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ScaleplanError(f"{runs.source}: the fit failed from every start; check the runs for gross errors")
    converged = best.converged
    if sel is not None:  # the subsample's optimum, scored and polished on all rows
        best.fun = _objective(best.x, *full)[0]
        args = full
    polished = _minimize(best.x, args, tight=True)
    if np.isfinite(polished.fun) and polished.fun <= best.fun:
        converged = converged or polished.converged
        best = polished
    la, lb, le, alpha, beta = (float(x) for x in best.x)
    if max(la, lb, le) > 700 or max(abs(alpha), abs(beta)) > 100:  # e^700 ~ 1e304: the optimiser ran off
        raise ScaleplanError(
            f"{runs.source}: the runs do not follow {LAW_TEXT}: the best fit runs off to ln A = {la:.3g}, "
            f"ln B = {lb:.3g}, ln E = {le:.3g}, alpha = {alpha:.3g}, beta = {beta:.3g}; check the losses (noise, "
            "mixed units, a wrong column)"
        )
    fitted = np.logaddexp(np.logaddexp(la - alpha * ln_n, lb - beta * ln_d), le)
    warnings = []
    reason = no_allocation({"E": math.exp(le), "A": math.exp(la), "B": math.exp(lb), "alpha": alpha, "beta": beta})
    if reason:
        warnings.append(reason)
    if not converged:
        warnings.append(f"the optimiser did not converge ({best.message})")
    n_refined = len(pick)
    method = (
        f"Hoffmann et al. 2022 Approach 3 / Besiroglu et al. 2024: sum of Huber(delta={delta:g}) on log-loss "
        f"residuals, BFGS with analytic gradient from the best {n_refined} of {len(starts)} grid starts"
    )
    return ParametricFit(
        E=math.exp(le),
        A=math.exp(la),
        B=math.exp(lb),
        alpha=alpha,
        beta=beta,
        objective=float(best.fun * delta),
        residuals=ln_l - fitted,
        n_runs=runs.n,
        delta=float(delta),
        method=method,
        n_starts=len(starts),
        n_refined=n_refined,
        converged=converged,
        warnings=tuple(warnings),
    )


# ----------------------------------------------------------------------------------------- bootstrap


def level_label(level: float) -> str:
    return f"{level * 100:g}%"


def _intervals(x: np.ndarray, levels) -> dict:
    out = {}
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    for lv in levels:
        if x.size == 0:
            out[level_label(lv)] = (math.nan, math.nan)
            continue
        lo, hi = np.percentile(x, [50 * (1 - lv), 50 * (1 + lv)])
        out[level_label(lv)] = (float(lo), float(hi))
    return out


@dataclass(frozen=True, eq=False)
class Bootstrap:
    """Nonparametric bootstrap of the parametric fit: percentile intervals and standard errors."""

    n: int
    seed: int
    levels: tuple[float, ...]
    budgets: tuple[float, ...]
    samples: np.ndarray  # (n, 5) columns E, A, B, alpha, beta
    point: dict  # full-data estimates
    se: dict  # bootstrap standard deviations
    intervals: dict  # name -> {"95%": (lo, hi), ...} for E, A, B, alpha, beta, a, b
    allocation: tuple[dict, ...]  # per budget: flops, params, tokens, tokens_per_param, intervals
    log_mean: np.ndarray  # mean of (ln A, ln B, ln E, alpha, beta) over samples
    log_cov: np.ndarray  # their 5x5 covariance
    n_unconverged: int

    def to_dict(self) -> dict:
        def iv(d):
            return {k: [float(v[0]), float(v[1])] for k, v in d.items()}

        return {
            "n": self.n,
            "seed": self.seed,
            "levels": [float(x) for x in self.levels],
            "point": {k: float(v) for k, v in self.point.items()},
            "se": {k: float(v) for k, v in self.se.items()},
            "intervals": {k: iv(v) for k, v in self.intervals.items()},
            "allocation": [
                {
                    **{k: float(v) for k, v in row.items() if k != "intervals"},
                    "intervals": {k: iv(v) for k, v in row["intervals"].items()},
                }
                for row in self.allocation
            ],
            "n_unconverged": self.n_unconverged,
        }


def _floats(values, what: str) -> tuple[float, ...]:
    """A number or a sequence of numbers as floats, or a ScaleplanError naming the argument."""
    if isinstance(values, (str, bytes)) or values is None:
        raise ScaleplanError(f"<{what}> must be a number or a list of numbers, got {values!r}")
    try:
        arr = np.atleast_1d(np.asarray(values, float))
    except (TypeError, ValueError):
        raise ScaleplanError(f"<{what}> must be a number or a list of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ScaleplanError(f"<{what}> must be a number or a non-empty list of numbers, got {values!r}")
    return tuple(float(x) for x in arr)


def _check_levels(levels) -> tuple[float, ...]:
    out = _floats(levels, "levels")
    for lv in out:
        if not 0 < lv < 1:
            raise ScaleplanError(f"confidence <levels> must lie strictly between 0 and 1 (e.g. 0.8, 0.95), got {lv!r}")
    return out


def _check_budgets(budgets) -> tuple[float, ...]:
    out = _floats(budgets, "budgets")
    for c in out:
        if not (math.isfinite(c) and c > 0):
            raise ScaleplanError(f"<budgets> must be positive FLOP counts, got {c!r}")
    return out


def bootstrap(
    runs: Runs,
    n: int = 1000,
    seed: int = 0,
    budgets=(1e21, 1e23, 1e25),
    levels=(0.8, 0.95),
    fit: ParametricFit | None = None,
    progress=None,
) -> Bootstrap:
    """Resample the runs with replacement `n` times and refit each (warm-started from the full-data fit).

    Percentile intervals at `levels` for E, A, B, alpha, beta, a, b and for N_opt, D_opt and D/N at
    `budgets`. `progress(i, n)` is called after each refit. Epoch (2404.10102) used 4,000 resamples.
    """
    _check_runs(runs)
    if fit is not None and not isinstance(fit, ParametricFit):
        raise ScaleplanError(f"<fit> must be a ParametricFit from scaleplan.fit_parametric(runs), got {fit!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ScaleplanError(f"bootstrap needs a whole number of resamples >= 2, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScaleplanError(f"seed must be a whole number >= 0, got {seed!r}")
    levels = _check_levels(levels)
    budgets = _check_budgets(budgets)
    if fit is None:
        fit = fit_parametric(runs)
    ln_n, ln_d, ln_l = _logs(runs)
    rng = np.random.default_rng(seed)
    m = runs.n
    p = np.full(m, 1.0 / m)
    theta0 = fit.theta
    thetas = np.empty((n, 5))
    unconverged = 0
    clusters = runs.run_ids is not None  # checkpoints: resample whole runs, keep each run's weights
    if runs.run_ids is not None:
        m = int(runs.run_ids.max()) + 1
        p = np.full(m, 1.0 / m)
    for i in range(n):
        w = rng.multinomial(m, p).astype(float)
        if clusters:
            w = w[runs.run_ids] * runs.weights
        res = _minimize(theta0, (ln_n, ln_d, ln_l, w, fit.delta), tight=False)
        x = res.x
        if not np.all(np.isfinite(x)):  # pragma: no cover - a resample too degenerate to fit
            x = np.full(5, np.nan)
        unconverged += not res.converged
        thetas[i] = x
        if progress is not None:
            progress(i + 1, n)
    thetas = thetas[np.all(np.isfinite(thetas), axis=1)]
    if len(thetas) < 2:  # pragma: no cover
        raise ScaleplanError(f"{runs.source}: the bootstrap refits all failed")
    thetas = thetas[(np.max(thetas[:, :3], axis=1) <= 700) & (np.max(np.abs(thetas[:, 3:]), axis=1) <= 100)]
    if len(thetas) < 2:
        raise ScaleplanError(f"{runs.source}: the bootstrap refits ran off (the runs do not follow {LAW_TEXT})")
    samples = np.column_stack(
        [np.exp(thetas[:, 2]), np.exp(thetas[:, 0]), np.exp(thetas[:, 1]), thetas[:, 3], thetas[:, 4]]
    )
    named = {k: samples[:, j] for j, k in enumerate(_CONSTANTS)}
    s = named["alpha"] + named["beta"]
    named["a"] = named["beta"] / s
    named["b"] = named["alpha"] / s
    point = {**fit.constants, "a": fit.a, "b": fit.b}
    alloc = []
    with np.errstate(all="ignore"):  # a resample of degenerate runs may imply no allocation: its numbers are NaN
        g = (named["alpha"] * named["A"] / (named["beta"] * named["B"])) ** (1.0 / s)
        for c, point_row in zip(budgets, implied_allocation(fit.constants, budgets)):
            x = c / 6.0
            n_s = g * x ** named["a"]
            d_s = x ** named["b"] / g
            alloc.append(
                {
                    **{k: (math.nan if v is None else v) for k, v in point_row.items() if k != "loss"},
                    "intervals": {
                        "params": _intervals(n_s, levels),
                        "tokens": _intervals(d_s, levels),
                        "tokens_per_param": _intervals(d_s / n_s, levels),
                    },
                }
            )
    return Bootstrap(
        n=int(n),
        seed=int(seed),
        levels=levels,
        budgets=budgets,
        samples=samples,
        point=point,
        se={k: float(np.std(v, ddof=1)) for k, v in named.items()},
        intervals={k: _intervals(v, levels) for k, v in named.items()},
        allocation=tuple(alloc),
        log_mean=thetas.mean(axis=0),
        log_cov=np.cov(thetas, rowvar=False),
        n_unconverged=int(unconverged),
    )


# ---------------------------------------------------------------------------------- isoFLOP fit


@dataclass(frozen=True)
class IsoflopLevel:
    flops: float  # geometric mean of the level's budgets
    n_runs: int
    params_opt: float  # minimum of the parabola of loss against ln N
    tokens_opt: float  # flops / (6 params_opt)
    loss_opt: float
    curvature: float  # second-order coefficient of the parabola in ln N


@dataclass(frozen=True)
class IsoflopFit:
    """Hoffmann Approach 2: N_opt = n_coef C^a and D_opt = d_coef C^b from isoFLOP minima."""

    levels: tuple[IsoflopLevel, ...]
    skipped: tuple[tuple[float, str], ...]  # (flops, reason) of levels left out
    a: float
    b: float
    n_coef: float
    d_coef: float
    method: str

    def optimum(self, flops):
        c = np.asarray(flops, float)
        return self.n_coef * c**self.a, self.d_coef * c**self.b

    def to_dict(self) -> dict:
        return {
            "a": float(self.a),
            "b": float(self.b),
            "n_coef": float(self.n_coef),
            "d_coef": float(self.d_coef),
            "method": self.method,
            "levels": [{k: (int(v) if k == "n_runs" else float(v)) for k, v in vars(lv).items()} for lv in self.levels],
            "skipped": [{"flops": float(c), "reason": r} for c, r in self.skipped],
        }


def group_levels(log_c: np.ndarray, gap: float) -> list[np.ndarray]:
    order = np.argsort(log_c, kind="stable")
    groups, cur = [], [order[0]]
    for prev, i in zip(order[:-1], order[1:]):
        if log_c[i] - log_c[prev] > gap:
            groups.append(np.array(cur))
            cur = []
        cur.append(i)
    groups.append(np.array(cur))
    return groups


def fit_isoflop(runs: Runs, gap: float = 0.1, min_sizes: int = 3) -> IsoflopFit:
    """Hoffmann Approach 2. Runs are grouped into FLOP levels (a new level starts where sorted log10 C
    jumps by more than `gap`); per level a parabola of loss against ln N gives N_opt (levels with fewer than
    `min_sizes` model sizes, no upward curvature, or a minimum outside the sizes tried are skipped);
    then least squares of ln N_opt and ln D_opt on ln C give a and b.
    """
    _check_runs(runs)
    if isinstance(gap, (bool, str)) or not isinstance(gap, (int, float, np.number)) or not (gap > 0):
        raise ScaleplanError(f"<gap> must be a positive number of decades, got {gap!r}")
    if isinstance(min_sizes, bool) or not isinstance(min_sizes, (int, np.integer)) or min_sizes < 3:
        raise ScaleplanError(
            f"<min_sizes> must be a whole number of at least 3 (a parabola has three coefficients), got {min_sizes!r}"
        )
    log10_c = np.log10(runs.flops)
    levels, skipped = [], []
    groups = group_levels(log10_c, gap)
    spread = [float(np.ptp(log10_c[idx])) for idx in groups]
    if max(spread) > 3 * gap:  # gaps chained runs across decades: these are not isoFLOP levels
        widest = groups[int(np.argmax(spread))]
        raise ScaleplanError(
            f"{runs.source}: the runs do not sit on distinct FLOP levels: grouping where sorted log10 C jumps by more "
            f"than {gap:g} found {len(groups)} group(s), and one holds {widest.size} of {len(runs)} runs spread over "
            f"{fmt_sci(10 ** log10_c[widest].min())}..{fmt_sci(10 ** log10_c[widest].max())} FLOPs; an isoFLOP "
            "fit (Approach 2) needs runs trained at a few fixed budgets (see scaleplan sweep); use the parametric fit"
        )
    for idx in groups:
        c = float(10 ** log10_c[idx].mean())
        x = np.log(runs.params[idx])
        y = runs.loss[idx]
        if np.unique(x).size < min_sizes:
            skipped.append((c, f"{np.unique(x).size} model size(s); needs {min_sizes}"))
            continue
        k2, k1, k0 = np.polyfit(x, y, 2)
        if not k2 > 0:
            skipped.append((c, "loss has no minimum in ln N (parabola opens downward)"))
            continue
        x_opt = -k1 / (2 * k2)
        if not x.min() <= x_opt <= x.max():
            skipped.append(
                (
                    c,
                    f"minimum at N = {math.exp(x_opt):.3g} lies outside the sizes tried "
                    f"({math.exp(x.min()):.3g} .. {math.exp(x.max()):.3g})",
                )
            )
            continue
        n_opt = math.exp(x_opt)
        levels.append(
            IsoflopLevel(
                flops=c,
                n_runs=int(idx.size),
                params_opt=n_opt,
                tokens_opt=c / (6 * n_opt),
                loss_opt=float(k0 + k1 * x_opt + k2 * x_opt**2),
                curvature=float(k2),
            )
        )
    if len(levels) < 2:
        why = "; ".join(f"{c:.3g} FLOPs: {r}" for c, r in skipped) or "all runs share one FLOP level"
        raise ScaleplanError(
            f"{runs.source}: isoFLOP fit needs at least 2 FLOP levels with a clear loss minimum, found "
            f"{len(levels)} ({why}); design runs with `design_sweep` / `scaleplan sweep`"
        )
    lc = np.log([lv.flops for lv in levels])
    a, ln_kn = np.polyfit(lc, np.log([lv.params_opt for lv in levels]), 1)
    b, ln_kd = np.polyfit(lc, np.log([lv.tokens_opt for lv in levels]), 1)
    return IsoflopFit(
        levels=tuple(levels),
        skipped=tuple(skipped),
        a=float(a),
        b=float(b),
        n_coef=math.exp(ln_kn),
        d_coef=math.exp(ln_kd),
        method=(
            f"Hoffmann et al. 2022 Approach 2: parabola of loss in ln N per FLOP level ({len(levels)} levels), "
            "least squares of ln N_opt, ln D_opt on ln C"
        ),
    )


# ---------------------------------------------------------------------------------- law file


def _plain(x):
    """numpy -> plain Python, tuples -> lists (yaml.safe_dump and json.dumps accept the result)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    return x


def law_dict(
    fit: ParametricFit | IsoflopFit,
    boot: Bootstrap | None = None,
    runs: Runs | None = None,
    name: str = "my-fit",
    today: _dt.date | None = None,
) -> dict:
    """A law-file mapping for a fit (write it with yaml.safe_dump; `scaleplan.laws.law_from_dict` accepts it).

    A parametric fit becomes `form: parametric`; an isoFLOP fit `form: power` (n_coef, a, d_coef, b).
    `intervals` holds bootstrap percentile intervals; `fit` the method, objective, data summary and the
    bootstrap covariance of (ln A, ln B, ln E, alpha, beta) — not the samples, to keep the file small.
    """
    today = today or _dt.date.today()
    src = runs.source if runs is not None else "your runs"
    n_runs = fit.n_runs if isinstance(fit, ParametricFit) else sum(lv.n_runs for lv in fit.levels)
    citation = {
        "authors": "your own fit",
        "short": "Own fit",
        "year": today.year,
        "date": today.isoformat(),
        "title": f"Scaling law fitted to {src}",
        "where": f"scaleplan fit, {today.isoformat()}: {fit.method}",
        "method_source": "Hoffmann et al. 2022 (arXiv 2203.15556); Besiroglu et al. 2024 (arXiv 2404.10102)",
    }
    info: dict = {"method": fit.method, "n_runs": n_runs}
    notes = [f"Fitted by scaleplan on {today.isoformat()} to {n_runs} runs from {src}."]
    derived = runs is not None and runs.tokens_from_flops
    if isinstance(fit, ParametricFit):
        form = "parametric"
        constants = fit.constants
        r = fit.residuals
        info.update(
            {
                "delta": fit.delta,
                "objective": fit.objective,
                "starts": fit.n_starts,
                "refined": fit.n_refined,
                "converged": fit.converged,
                "a": fit.a,
                "b": fit.b,
                "residuals": {"rms": float(np.sqrt(np.mean(r * r))), "max_abs": float(np.max(np.abs(r)))},
            }
        )
        notes.append(f"a = beta/(alpha+beta) = {fit.a:.4f}; b = {fit.b:.4f}.")
        notes.extend(fit.warnings)
    else:
        form = "power"
        constants = {"n_coef": fit.n_coef, "a": fit.a, "d_coef": fit.d_coef, "b": fit.b}
        info["levels"] = [[lv.flops, lv.params_opt, lv.tokens_opt] for lv in fit.levels]
        info["levels_columns"] = ["flops", "params_opt", "tokens_opt"]
    raw = {
        "name": name,
        "title": f"Own fit: {name}",
        "citation": citation,
        "form": form,
        "constants": constants,
        "params_convention": "total",
        "flop_convention": "C = 6ND (D derived from C this way)" if derived else "C = 6ND",
        "loss_units": f"as the loss column of {src}",
        "status": "own fit (not published)",
    }
    if runs is not None:
        if runs.dropped_rows:
            rows = ", ".join(map(str, runs.dropped_rows))
            notes.append(f"{len(runs.dropped_rows)} highest-loss run(s) left out (rows {rows}).")
        info["data"] = runs.summary()
        raw["fitted_range"] = {
            "params": [float(runs.params.min()), float(runs.params.max())],
            "tokens": [float(runs.tokens.min()), float(runs.tokens.max())],
            "flops": [float(runs.flops.min()), float(runs.flops.max())],
        }
    if boot is not None:
        raw["intervals"] = {k: {lv: list(v) for lv, v in d.items()} for k, d in boot.intervals.items()}
        info["bootstrap"] = {
            "n": boot.n,
            "seed": boot.seed,
            "n_unconverged": boot.n_unconverged,
            "se": boot.se,
            "parameters": list(_THETA),
            "mean": boot.log_mean,
            "covariance": boot.log_cov,
            "allocation": boot.to_dict()["allocation"],
        }
    raw["fit"] = info
    raw["notes"] = notes
    return _plain(raw)
