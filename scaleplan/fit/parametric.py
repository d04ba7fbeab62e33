"""Fit a Chinchilla-form scaling law to your own training runs with Huber on log loss: the default estimator.

The fit part, by job: the one result type `ParametricFit` and the bootstrap's `Bootstrap` (scaleplan.fit.result),
this estimator ("huber") and variable projection ("vp", scaleplan.fit.vp), the one bootstrap for both
(scaleplan.fit.resample), Approach 2 (scaleplan.fit.isoflop), the law file (scaleplan.fit.law_file), sweep design
(scaleplan.fit.sweep) and checkpoints (scaleplan.fit.checkpoints); the runs reader is scaleplan.schema.runs. Their
public names are re-exported here, as this module had them before the part was split.

"huber": Hoffmann et al. 2022 (arXiv 2203.15556) Approach 3 as replicated by Besiroglu et al. 2024 (Epoch AI, arXiv
2404.10102): minimise the *sum* over runs of Huber_delta(LSE(a - alpha ln N, b - beta ln D, e) - ln L) with
delta = 1e-3, where A, B, E = exp(a, b, e), by quasi-Newton descent (L-BFGS there, BFGS here) from a grid of starts
(alpha, beta in {0, .5, ..., 2}, e in {-1, -.5, ..., 1}, a, b in {0, 5, ..., 25}: 4,500 starts), keeping the best.

Public API (all numbers are plain floats or numpy arrays; every user mistake raises `ScaleplanError`):

    load_runs(path, columns=None, drop_worst=0) -> Runs
    Runs.from_arrays(params, loss, tokens=None, flops=None, source="<arrays>", drop_worst=0) -> Runs
    fit_parametric(runs, delta=1e-3, grid="epoch", refine=16) -> ParametricFit
    fit_isoflop(runs, gap=0.1, min_sizes=3) -> IsoflopFit
    law_dict(fit, boot=None, runs=None, name="my-fit") -> dict      (accepted by scaleplan.laws.law_from_dict)
    design_sweep(target_flops, budget_flops, levels=5, sizes_per_level=7, span=100.0, size_range=16.0,
                 law="epoch") -> Sweep                                (Sweep.csv_text() is ready for `fit`)
    scaleplan.fit.resample.bootstrap(runs, n=1000, seed=0, budgets=(1e21, 1e23, 1e25), levels=(0.8, 0.95), fit=None)
        -> Bootstrap                                                  (either estimator's fit)

How it is fast (the issue's ~85 s loop of L-BFGS-B with numerical gradients takes ~0.3 s here):
  * the objective and its analytic gradient are vectorised over runs (`huber_objective`);
  * the objective is evaluated at all 4,500 grid starts at once with numpy, and only the `refine` best
    starts (plus the best start of every (alpha, beta) pair of the grid, for diversity) are refined;
    on the Epoch data and on synthetic sets this finds the optimum that refining all 4,500 starts finds;
  * the optimiser sees the Huber sum divided by delta, so its gradient is O(1). Without that scaling the
    default tolerances stop a warm-started refit at once (gradient ~ delta) and bootstrap intervals come
    out ~10x too narrow;
  * bootstrap refits (`huber_refits`) weight the runs by multinomial counts (the same as resampling rows), start
    from the full-data optimum and are refitted together: a damped Newton iteration with the analytic Hessian,
    vectorised across resamples (1,000 of Epoch's runs in ~0.5 s; they reach the optima of one BFGS per
    resample to ~1e-6).
The local optimiser of the fit is scipy's BFGS, not L-BFGS-B: with five parameters the limited memory buys nothing,
both reach the same optima, and L-BFGS-B's LAPACK calls ran 10-100x slower on a busy 2-core machine
(OpenBLAS worker threads contending for the cores) while BFGS did not.

scipy is imported inside the fitting functions only, so `import scaleplan` stays light.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.errors import ScaleplanError

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
    "check_budgets",
    "check_levels",
    "check_runs",
    "design_sweep",
    "fit_isoflop",
    "fit_parametric",
    "grid_objective",
    "huber_objective",
    "huber_refits",
    "law_dict",
    "load_runs",
    "percentile_intervals",
]

# The Huber estimator is this module's own; the rest of the fit part is re-exported so `scaleplan.fit.parametric`
# keeps answering for the names it had before the part was split by job (result, isoflop, law_file, sweep).
from ..schema.runs import ALIASES, FIELDS, MIN_RUNS, Runs, load_runs  # noqa: F401 (re-exported)
from .isoflop import IsoflopFit, IsoflopLevel, fit_isoflop, group_levels  # noqa: F401 (re-exported)
from .law_file import law_dict
from .result import (  # noqa: F401 (re-exported)
    CONSTANTS,
    LAW_TEXT,
    THETA,
    Bootstrap,
    ParametricFit,
    check_budgets,
    check_levels,
    check_runs,
    implied_allocation,
    level_label,
    log_data,
    no_allocation,
    percentile_intervals,
    thin_index,
)
from .sweep import Sweep, SweepRow, design_sweep


def _epoch_grid() -> np.ndarray:
    """The 4,500 starts of Hoffmann App. D.2 / Epoch cell 18, rows (a, b, e, alpha, beta)."""
    alpha = beta = np.arange(0.0, 2.5, 0.5)
    e = np.arange(-1.0, 1.5, 0.5)
    a = b = np.arange(0.0, 30.0, 5.0)
    g = np.stack(np.meshgrid(alpha, beta, e, a, b, indexing="ij"), axis=-1).reshape(-1, 5)
    return np.ascontiguousarray(g[:, [3, 4, 2, 0, 1]])


EPOCH_GRID = _epoch_grid()


# --------------------------------------------------------------------------------------- objective


def huber_objective(theta, ln_n, ln_d, ln_l, w, delta):
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


def grid_objective(grid, ln_n, ln_d, ln_l, delta, chunk_elems: int = 2_000_000, w=None) -> np.ndarray:
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
    res = minimize(huber_objective, np.asarray(theta0, float), args=args, jac=True, method="BFGS", options=opts)
    # status 2 ("precision loss") is the usual ending at the kinks of the Huber loss: fine if the gradient is ~0
    res.converged = bool(res.success or (res.status == 2 and np.max(np.abs(res.jac)) < 1e-3))
    return res


# ------------------------------------------------------------------- refits of many resamples at once


def _batch_state(theta, W, ln_n, ln_d, ln_l, delta, derivatives: bool = True):
    """The scaled Huber sum of each row of theta (B, 5) with the run weights of the same row of W (B, m), and
    (if `derivatives`) its gradient (B, 5) and Hessian (B, 5, 5).

    With r = LSE(x) - ln L, x = (a - alpha ln N, b - beta ln D, e) = J theta and p = softmax(x): grad r = J^T p and
    hess r = J^T (diag p - p p^T) J. The scaled Huber sum has gradient sum w psi grad r / delta and Hessian
    sum w (psi' grad r grad r^T + psi hess r) / delta, psi' = 1 inside |r| < delta, 0 outside.
    """
    x1 = theta[:, :1] - theta[:, 3:4] * ln_n
    x2 = theta[:, 1:2] - theta[:, 4:5] * ln_d
    x3 = theta[:, 2:3]
    m = np.maximum(np.maximum(x1, x2), x3)
    t1, t2, t3 = np.exp(x1 - m), np.exp(x2 - m), np.exp(x3 - m)
    s = t1 + t2 + t3
    r = m + np.log(s) - ln_l
    psi = np.clip(r, -delta, delta)
    value = np.einsum("bm,bm->b", W, psi * (r - 0.5 * psi)) / delta
    if not derivatives:
        return value, None, None
    p1, p2, p3 = t1 / s, t2 / s, t3 / s
    q = W * psi / delta
    v = np.stack([p1, p2, p3, -p1 * ln_n, -p2 * ln_d], axis=-1)  # grad r, (B, m, 5)
    grad = np.einsum("bm,bmi->bi", q, v)
    inside = (np.abs(r) < delta) * W / delta
    hess = np.matmul(v.transpose(0, 2, 1), v * (inside - q)[..., None])
    qp1, qp2 = q * p1, q * p2  # + sum q J^T diag(p) J: nonzero on (a, a), (b, b), (e, e), (a, alpha), (b, beta)...
    for (i, j), term in (
        ((0, 0), qp1),
        ((1, 1), qp2),
        ((2, 2), q * p3),
        ((0, 3), -qp1 * ln_n),
        ((3, 3), qp1 * ln_n * ln_n),
        ((1, 4), -qp2 * ln_d),
        ((4, 4), qp2 * ln_d * ln_d),
    ):
        total = term.sum(axis=1)
        hess[:, i, j] += total
        if i != j:
            hess[:, j, i] += total
    return value, grad, hess


def _newton_steps(grad, hess):
    """Newton steps with the Hessian's eigenvalues taken by absolute value (a descent direction where the Huber
    sum is not convex) and floored relative to the largest."""
    lam, vec = np.linalg.eigh(hess)
    lam = np.abs(lam)
    lam = np.maximum(lam, 1e-10 * lam.max(axis=1, keepdims=True) + 1e-300)
    return -np.einsum("bij,bj->bi", vec, np.einsum("bji,bj->bi", vec, grad) / lam)


def _line_search(theta, value, step, slope, W, data):
    """Backtracking (Armijo) along each row's step from t = 1/2 (the caller tried t = 1), vectorised over the rows
    still looking. Returns (new theta, new value, found) where rows without a decrease in 40 halvings keep theirs."""
    ln_n, ln_d, ln_l, delta = data
    t = np.full(len(theta), 0.5)
    theta, value = theta.copy(), value.copy()
    todo = np.ones(len(theta), bool)
    for _ in range(40):
        j = np.flatnonzero(todo)
        if not j.size:
            break
        cand = theta[j] + t[j, None] * step[j]
        f = _batch_state(cand, W[j], ln_n, ln_d, ln_l, delta, derivatives=False)[0]
        ok = np.isfinite(f) & (f <= value[j] + 1e-4 * t[j] * slope[j])
        theta[j[ok]], value[j[ok]] = cand[ok], f[ok]
        todo[j[ok]] = False
        t[j[~ok]] *= 0.5
    return theta, value, ~todo


def huber_refits(theta0, W, ln_n, ln_d, ln_l, delta: float, gtol: float = 1e-5, max_iter: int = 100):
    """Minimise the scaled Huber sum for every row of run weights W (B, m) at once, from theta0 (the full-data fit).

    Damped Newton, vectorised across the rows (as the grid search is across starts): Newton steps, backtracking,
    rows leaving once their gradient is below `gtol` (BFGS's default, on the scaled sum) or no step decreases the
    sum. Returns (theta (B, 5) as (ln A, ln B, ln E, alpha, beta), converged (B,)): a row counts as converged at
    gtol, or stalled at a kink of the Huber loss with gradient < 1e-3 (as `_minimize` accepts BFGS's ending).
    """
    data = (ln_n, ln_d, ln_l, float(delta))
    theta = np.tile(np.asarray(theta0, float), (W.shape[0], 1))
    value, grad, hess = _batch_state(theta, W, *data)
    active = np.ones(len(theta), bool)
    stalled = np.zeros(len(theta), bool)
    for _ in range(max_iter):
        active &= np.max(np.abs(grad), axis=1) > gtol
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        step = _newton_steps(grad[idx], hess[idx])
        slope = np.einsum("bi,bi->b", grad[idx], step)
        full = theta[idx] + step  # the full step first, with its derivatives: most rows take it
        f, g, h = _batch_state(full, W[idx], *data)
        took = np.isfinite(f) & (f <= value[idx] + 1e-4 * slope)
        rest = idx[~took]
        new, value[rest], moved = _line_search(theta[rest], value[rest], step[~took], slope[~took], W[rest], data)
        tiny = np.max(np.abs(new - theta[rest]), axis=1) < 1e-12
        theta[idx[took]], value[idx[took]], grad[idx[took]], hess[idx[took]] = full[took], f[took], g[took], h[took]
        theta[rest] = new
        stalled[rest[~moved | tiny]] = True
        stalled[idx[took][np.max(np.abs(step[took]), axis=1) < 1e-12]] = True
        active &= ~stalled
        if moved.any():
            _, grad[rest[moved]], hess[rest[moved]] = _batch_state(theta[rest[moved]], W[rest[moved]], *data)
    g = np.max(np.abs(grad), axis=1)
    return theta, (g <= gtol) | (stalled & (g < 1e-3))


def _check_fit_options(delta, grid, refine) -> np.ndarray:
    """The starts of fit_parametric's grid, after checking its options."""
    if isinstance(delta, bool) or not (isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0):
        raise ScaleplanError(f"<delta> must be a positive number, got {delta!r}")
    if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 1:
        raise ScaleplanError(f"<refine> must be a whole number of at least 1, got {refine!r}")
    if isinstance(grid, str):
        if grid != "epoch":
            raise ScaleplanError(f"grid must be 'epoch' or an array of starts, got {grid!r}")
        return EPOCH_GRID
    starts = np.asarray(grid, float)
    if starts.ndim != 2 or starts.shape[1] != 5 or not np.all(np.isfinite(starts)) or len(starts) == 0:
        raise ScaleplanError("grid must be an array of shape (k, 5) of finite (ln A, ln B, ln E, alpha, beta)")
    return starts


def _rows(data: tuple, idx):
    """The Huber fit's data (ln N, ln D, ln L, weights, delta) on the rows `idx` (None: all)."""
    ln_n, ln_d, ln_l, w, delta = data
    return data if idx is None else (ln_n[idx], ln_d[idx], ln_l[idx], None if w is None else w[idx], delta)


def _pick_starts(starts: np.ndarray, full: tuple, n: int, refine: int) -> list[int]:
    """The `refine` best starts of the grid, plus the best start of each (alpha, beta) pair, so very different
    exponents are tried too. The grid only ranks starts: 1,000 evenly spaced rows are plenty."""
    ln_n, ln_d, ln_l, w, delta = _rows(full, thin_index(n, 1000))
    scores = grid_objective(starts, ln_n, ln_d, ln_l, delta, w=w)
    order = np.argsort(np.where(np.isfinite(scores), scores, np.inf), kind="stable")
    pick = list(order[: int(refine)])
    seen = set()
    for i in order:
        key = (starts[i, 3], starts[i, 4])
        if key not in seen:
            seen.add(key)
            if i not in pick:
                pick.append(i)
    return pick


def _refine(starts, pick, full: tuple, n: int, source: str):
    """BFGS from each picked start (many checkpoints: on an even subsample), then the best polished on every row
    with tight tolerances. Returns (result, converged)."""
    sel = thin_index(n)
    args = _rows(full, sel)
    best = None
    for i in pick:
        res = _minimize(starts[i], args, tight=False)
        if np.all(np.isfinite(res.x)) and np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ScaleplanError(f"{source}: the fit failed from every start; check the runs for gross errors")
    converged = best.converged
    if sel is not None:  # the subsample's optimum, scored and polished on all rows
        best.fun = huber_objective(best.x, *full)[0]
    polished = _minimize(best.x, full, tight=True)
    if np.isfinite(polished.fun) and polished.fun <= best.fun:
        converged = converged or polished.converged
        best = polished
    return best, converged


def fit_parametric(runs: Runs, delta: float = 1e-3, grid="epoch", refine: int = 16) -> ParametricFit:
    """Fit E, A, B, alpha, beta as Hoffmann Approach 3 / Epoch: Huber(delta) on log loss, BFGS from a grid.

    `grid` is "epoch" (the 4,500 starts) or an array of starts with rows (ln A, ln B, ln E, alpha, beta).
    All starts are scored at once; the `refine` best, plus the best of every (alpha, beta) pair, are refined
    with BFGS (analytic gradient); the best result is polished with tight tolerances.
    Use refine >= len(grid) to refine every start, as Epoch did.
    """
    check_runs(runs)
    starts = _check_fit_options(delta, grid, refine)
    ln_n, ln_d, ln_l = log_data(runs)
    full = (ln_n, ln_d, ln_l, runs.weights, float(delta))
    pick = _pick_starts(starts, full, runs.n, refine)
    best, converged = _refine(starts, pick, full, runs.n, runs.source)
    la, lb, le, alpha, beta = (float(x) for x in best.x)
    if max(la, lb, le) > 700 or max(abs(alpha), abs(beta)) > 100:  # e^700 ~ 1e304: the optimiser ran off
        raise ScaleplanError(
            f"{runs.source}: the runs do not follow {LAW_TEXT}: the best fit runs off to ln A = {la:.3g}, "
            f"ln B = {lb:.3g}, ln E = {le:.3g}, alpha = {alpha:.3g}, beta = {beta:.3g}; check the losses (noise, "
            "mixed units, a wrong column)"
        )
    fitted = np.logaddexp(np.logaddexp(la - alpha * ln_n, lb - beta * ln_d), le)
    constants = {"E": math.exp(le), "A": math.exp(la), "B": math.exp(lb), "alpha": alpha, "beta": beta}
    reason = no_allocation(constants)
    warnings = [reason] if reason else []
    if not converged:
        warnings.append(f"the optimiser did not converge ({best.message})")
    return ParametricFit(
        E=constants["E"],
        A=constants["A"],
        B=constants["B"],
        alpha=alpha,
        beta=beta,
        objective=float(best.fun * delta),
        residuals=ln_l - fitted,
        n_runs=runs.n,
        delta=float(delta),
        method=(
            f"Hoffmann et al. 2022 Approach 3 / Besiroglu et al. 2024: sum of Huber(delta={delta:g}) on log-loss "
            f"residuals, BFGS with analytic gradient from the best {len(pick)} of {len(starts)} grid starts"
        ),
        n_starts=len(starts),
        n_refined=len(pick),
        converged=converged,
        warnings=tuple(warnings),
    )
