"""Fit a Chinchilla-form scaling law to your own training runs (reading them: scaleplan.schema.runs; designing them:
scaleplan.fit.sweep, both re-exported here; the bootstrap: scaleplan.fit.resample).

One result type for every parametric fit, `ParametricFit`, whatever the estimator:

* "huber" (here, the default): Hoffmann et al. 2022 (arXiv 2203.15556) Approach 3 as replicated by Besiroglu
  et al. 2024 (Epoch AI, arXiv 2404.10102): minimise the *sum* over runs of Huber_delta(LSE(a - alpha ln N,
  b - beta ln D, e) - ln L) with delta = 1e-3, where A, B, E = exp(a, b, e), by quasi-Newton descent (L-BFGS
  there, BFGS here) from a grid of starts (alpha, beta in {0, .5, ..., 2}, e in {-1, -.5, ..., 1}, a, b in
  {0, 5, ..., 25}: 4,500 starts), keeping the best;
* "vp" (scaleplan.fit_vp): least squares on the loss by variable projection.

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
    "check_budgets",
    "check_levels",
    "check_runs",
    "design_sweep",
    "fit_isoflop",
    "fit_parametric",
    "huber_refits",
    "law_dict",
    "load_runs",
    "percentile_intervals",
]

from ..schema.runs import ALIASES, FIELDS, MIN_RUNS, Runs, load_runs  # noqa: F401 (re-exported)
from .sweep import Sweep, SweepRow, design_sweep

CONSTANTS = ("E", "A", "B", "alpha", "beta")
THETA = ("log_A", "log_B", "log_E", "alpha", "beta")  # internal order, as in Epoch's code: (a, b, e, alpha, beta)
LAW_TEXT = "L = E + A/N^alpha + B/D^beta"
ESTIMATORS = ("huber", "vp")


def no_allocation(constants: dict) -> str | None:
    """Why fitted constants imply no compute-optimal allocation (None if they do): a term that does not fall, an
    exponent <= 0, a constant that is not finite. The allocation (Hoffmann eq. 4) trades A/N^alpha against
    B/D^beta, so it needs both terms."""
    for key in CONSTANTS:
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


# ------------------------------------------------------------------------------------ parametric fit


@dataclass(frozen=True, eq=False, repr=False)
class ParametricFit(Rendered):
    """L(N, D) = E + A / N^alpha + B / D^beta fitted to runs, by either estimator.

    `estimator` "huber": Hoffmann Approach 3 (Huber on log loss; `objective` is the Huber sum, Epoch's data
    0.00101827; `residuals` are ln L_observed - ln L_fitted). "vp": least squares on the loss by variable
    projection (scaleplan.fit_vp; `objective` is the RSS, Epoch's 217 runs below 1e21 FLOPs 0.062414;
    `residuals` are L_observed - L_fitted; `bounds` bound the exponents' search).
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    objective: float
    residuals: np.ndarray  # one per run, in the estimator's space (see `residuals_of`)
    n_runs: int
    delta: float | None  # Huber's delta (None for vp)
    method: str
    n_starts: int
    n_refined: int
    converged: bool
    warnings: tuple[str, ...] = ()
    estimator: str = "huber"
    bounds: tuple[float, float] | None = None  # vp: the exponents' search interval

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
        return {k: float(getattr(self, k)) for k in CONSTANTS}

    @property
    def theta(self) -> np.ndarray:
        """(ln A, ln B, ln E, alpha, beta): the parameters the Huber optimiser works in."""
        tiny = np.finfo(float).tiny
        return np.array([math.log(max(v, tiny)) for v in (self.A, self.B, self.E)] + [self.alpha, self.beta])

    @property
    def rss(self) -> float | None:
        """The sum of squared loss residuals of a least-squares (vp) fit; None for a Huber fit."""
        return float(self.objective) if self.estimator == "vp" else None

    @property
    def residuals_of(self) -> str:
        return "ln L" if self.estimator == "huber" else "L"

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

    def residual_summary(self, values: bool = True) -> dict:
        r = self.residuals
        out = {
            "of": self.residuals_of,
            "rms": float(np.sqrt(np.mean(r * r))),
            "mean_abs": float(np.mean(np.abs(r))),
            "max_abs": float(np.max(np.abs(r))),
        }
        return {**out, "values": [float(x) for x in r]} if values else out

    def to_dict(self, budgets=(1e21, 1e23, 1e25)) -> dict:
        out = {
            **self.constants,
            "a": float(self.a),
            "b": float(self.b),
            "estimator": self.estimator,
            "objective": float(self.objective),
            "n_runs": int(self.n_runs),
            "method": self.method,
            "converged": bool(self.converged),
            "allocation": self.allocation(budgets),
            "residuals": self.residual_summary(),
            "warnings": list(self.warnings),
        }
        if self.estimator == "huber":
            out["delta"] = float(self.delta or 0.0)
        else:
            out["rss"] = float(self.objective)
            out["bounds"] = [float(x) for x in self.bounds or ()]
        return out


THIN_ABOVE = 4000  # rows; larger sets (checkpoints) are searched on an even subsample of this size


def thin_index(n: int, size: int = THIN_ABOVE) -> np.ndarray | None:
    """Evenly spaced row indices to search on when there are more than `size` rows (None: use them all)."""
    return None if n <= size else np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))


def check_runs(runs, what: str = "runs") -> None:
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


def log_data(runs: Runs):
    """(ln N, ln D, ln L) of the runs: the Huber fit's data."""
    return np.log(runs.params), np.log(runs.tokens), np.log(runs.loss)


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


# ------------------------------------------------------------------------------ bootstrap results


def level_label(level: float) -> str:
    return f"{level * 100:g}%"


def percentile_intervals(x, levels) -> dict:
    """{"80%": (lo, hi), ...}: the central percentile interval of the finite values of x at each level."""
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


# What a fit's intervals are, and why a plan's --ci for a law saved from the fit gives others (issue #26; the
# plan's side says the same in scaleplan.pipeline.intervals.NORMAL_WHY).
PERCENTILE_KIND = "bootstrap percentiles"
PERCENTILE_WHY = (
    "a law saved from this fit keeps only their mean and covariance of (ln A, ln B, ln E, alpha, beta), so a plan "
    "with it (allocate --ci) takes percentiles of draws from that normal, which differ slightly (under 1% on "
    "Epoch's runs)"
)


@dataclass(frozen=True, eq=False)
class Bootstrap:
    """Nonparametric bootstrap of a parametric fit (either estimator): percentile intervals and standard errors."""

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
    estimator: str = "huber"

    @property
    def interval_method(self) -> str:
        return (
            f"{PERCENTILE_KIND}: the central interval of {self.n:,} refits of the runs resampled with replacement "
            f"(seed {self.seed})"
        )

    def to_dict(self) -> dict:
        def iv(d):
            return {k: [float(v[0]), float(v[1])] for k, v in d.items()}

        return {
            "n": self.n,
            "seed": self.seed,
            "estimator": self.estimator,
            "levels": [float(x) for x in self.levels],
            "interval": PERCENTILE_KIND,
            "interval_method": self.interval_method,
            "interval_why": PERCENTILE_WHY,
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


def check_levels(levels) -> tuple[float, ...]:
    out = _floats(levels, "levels")
    for lv in out:
        if not 0 < lv < 1:
            raise ScaleplanError(f"confidence <levels> must lie strictly between 0 and 1 (e.g. 0.8, 0.95), got {lv!r}")
    return out


def check_budgets(budgets) -> tuple[float, ...]:
    out = _floats(budgets, "budgets")
    for c in out:
        if not (math.isfinite(c) and c > 0):
            raise ScaleplanError(f"<budgets> must be positive FLOP counts, got {c!r}")
    return out


# ---------------------------------------------------------------------------------- isoFLOP fit


@dataclass(frozen=True)
class IsoflopLevel:
    flops: float  # geometric mean of the level's budgets
    n_runs: int
    params_opt: float  # minimum of the parabola of loss against ln N
    tokens_opt: float  # flops / (6 params_opt)
    loss_opt: float
    curvature: float  # second-order coefficient of the parabola in ln N


@dataclass(frozen=True, repr=False)
class IsoflopFit(Rendered):
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
    check_runs(runs)
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


METHOD_SOURCES = {
    "huber": "Hoffmann et al. 2022 (arXiv 2203.15556); Besiroglu et al. 2024 (arXiv 2404.10102)",
    "vp": (
        "variable projection: E. Czech, Open-Athena/scaling-law-analysis "
        "(paper.tex, section 'Variable Projection (VPNLS)')"
    ),
}


def _parametric_info(fit: ParametricFit) -> dict:
    """The `fit` block of a parametric fit's law file: what was minimised and how well."""
    info: dict = {"estimator": fit.estimator}
    if fit.estimator == "huber":
        info.update({"delta": fit.delta, "objective": fit.objective, "starts": fit.n_starts, "refined": fit.n_refined})
    else:
        info.update({"objective": "sum of squared loss residuals", "rss": fit.objective, "bounds": fit.bounds})
    info.update({"converged": fit.converged, "a": fit.a, "b": fit.b, "residuals": fit.residual_summary(values=False)})
    return info


def _bootstrap_info(boot: Bootstrap) -> dict:
    return {
        "n": boot.n,
        "seed": boot.seed,
        "n_unconverged": boot.n_unconverged,
        "interval_method": boot.interval_method,
        "se": boot.se,
        "parameters": list(THETA),
        "mean": boot.log_mean,
        "covariance": boot.log_cov,
        "allocation": boot.to_dict()["allocation"],
    }


def _data_block(raw: dict, info: dict, notes: list, runs: Runs) -> None:
    if runs.dropped_rows:
        rows = ", ".join(map(str, runs.dropped_rows))
        notes.append(f"{len(runs.dropped_rows)} highest-loss run(s) left out (rows {rows}).")
    info["data"] = runs.summary()
    raw["fitted_range"] = {
        "params": [float(runs.params.min()), float(runs.params.max())],
        "tokens": [float(runs.tokens.min()), float(runs.tokens.max())],
        "flops": [float(runs.flops.min()), float(runs.flops.max())],
    }


def law_dict(
    fit: ParametricFit | IsoflopFit,
    boot: Bootstrap | None = None,
    runs: Runs | None = None,
    name: str = "my-fit",
    today: _dt.date | None = None,
) -> dict:
    """A law-file mapping for a fit (write it with yaml.safe_dump; `scaleplan.laws.law_from_dict` accepts it).

    A parametric fit (Huber or vp) becomes `form: parametric`; an isoFLOP fit `form: power` (n_coef, a, d_coef, b).
    `intervals` holds bootstrap percentile intervals; `fit` the method, objective, data summary and the
    bootstrap covariance of (ln A, ln B, ln E, alpha, beta) — not the samples, to keep the file small.
    """
    today = today or _dt.date.today()
    src = runs.source if runs is not None else "your runs"
    parametric = isinstance(fit, ParametricFit)
    n_runs = fit.n_runs if isinstance(fit, ParametricFit) else sum(lv.n_runs for lv in fit.levels)
    citation = {
        "authors": "your own fit",
        "short": "Own fit",
        "year": today.year,
        "date": today.isoformat(),
        "title": f"Scaling law fitted to {src}",
        "where": f"scaleplan fit, {today.isoformat()}: {fit.method}",
        "method_source": METHOD_SOURCES[fit.estimator if isinstance(fit, ParametricFit) else "huber"],
    }
    info: dict = {"method": fit.method, "n_runs": n_runs}
    notes = [f"Fitted by scaleplan on {today.isoformat()} to {n_runs} runs from {src}."]
    derived = runs is not None and runs.tokens_from_flops
    if isinstance(fit, ParametricFit):
        constants = fit.constants
        info.update(_parametric_info(fit))
        notes.append(f"a = beta/(alpha+beta) = {fit.a:.4f}; b = {fit.b:.4f}.")
        notes.extend(fit.warnings)
    else:
        constants = {"n_coef": fit.n_coef, "a": fit.a, "d_coef": fit.d_coef, "b": fit.b}
        info["levels"] = [[lv.flops, lv.params_opt, lv.tokens_opt] for lv in fit.levels]
        info["levels_columns"] = ["flops", "params_opt", "tokens_opt"]
    raw = {
        "name": name,
        "title": f"Own fit: {name}",
        "citation": citation,
        "form": "parametric" if parametric else "power",
        "constants": constants,
        "params_convention": "total",
        "flop_convention": "C = 6ND (D derived from C this way)" if derived else "C = 6ND",
        "loss_units": f"as the loss column of {src}",
        "status": "own fit (not published)",
    }
    if runs is not None:
        _data_block(raw, info, notes, runs)
    if boot is not None:
        raw["intervals"] = {k: {lv: list(v) for lv, v in d.items()} for k, d in boot.intervals.items()}
        info["bootstrap"] = _bootstrap_info(boot)
    raw["fit"] = info
    raw["notes"] = notes
    return _plain(raw)
