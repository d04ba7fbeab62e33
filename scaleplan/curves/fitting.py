"""Fitting the annealing law to logged curves (scaleplan.curves.law's docstring has the method and its sources):
least squares on the loss by variable projection (an exact NNLS of L0, A, C for each alpha, a log grid of alpha then
a bounded scalar search), or Huber(1e-3) on log-loss residuals by reweighting; a held-out check.

    fit_curves(curves, holdout=0.3, seed=0, robust=False) -> CurveFit (.law is a CurveLaw)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..recipe.schedules import (
    MAX_STEPS,
    fraction_in,
    whole_number,
)
from .annealing import LAMBDA, CurveLaw, areas, per_step_lr

__all__ = ["Curve", "CurveFit", "fit_curves"]


@dataclass(frozen=True, eq=False)
class Curve:
    """One logged training curve: losses (and learning rates) at logged steps, in increasing step order."""

    steps: np.ndarray  # logged steps with a loss
    loss: np.ndarray
    lr: np.ndarray  # per-step rates for steps 1..steps.max() (interpolated between logged rates)
    warmup: int  # steps counted at the peak rate; fitted points start after them
    source: str = "<arrays>"

    @classmethod
    def from_log(cls, steps, loss, lr_steps, lr, warmup: int | None = None, source: str = "<arrays>") -> Curve:
        """From logged (step, loss) and (step, lr) pairs. warmup=None: up to the first step at the peak rate."""
        steps = np.asarray(steps, float)
        loss = np.asarray(loss, float)
        lr_steps = np.asarray(lr_steps, float)
        lr = np.asarray(lr, float)
        for name, a in (("steps", steps), ("loss", loss), ("lr steps", lr_steps), ("lr", lr)):
            if a.size == 0:
                raise ScaleplanError(f"{source}: no {name} values")
            if not np.all(np.isfinite(a)):
                raise ScaleplanError(f"{source}: {name} must be finite numbers")
        if np.any(steps < 0) or np.any(lr_steps < 0) or np.any(steps != np.round(steps)):
            raise ScaleplanError(f"{source}: steps must be whole numbers >= 0")
        first = steps >= 1  # a loss logged at step 0 comes before any update: nothing to fit
        if not first.any():
            raise ScaleplanError(f"{source}: no loss logged after step 0")
        steps, loss = steps[first], loss[first]
        if steps.max() > MAX_STEPS:
            raise ScaleplanError(f"{source}: steps go up to {steps.max():,.0f}; at most {MAX_STEPS:,} are supported")
        if np.any(lr < 0):
            raise ScaleplanError(f"{source}: learning rates must be >= 0")
        if np.any(loss <= 0):
            raise ScaleplanError(f"{source}: losses must be positive")
        o = np.argsort(steps, kind="stable")
        steps, loss = steps[o], loss[o]
        if np.any(np.diff(steps) == 0):
            raise ScaleplanError(
                f"{source}: step {int(steps[np.flatnonzero(np.diff(steps) == 0)[0]]):,} is logged twice"
            )
        o = np.argsort(lr_steps, kind="stable")
        rates = per_step_lr(lr_steps[o], lr[o], int(steps.max()))
        if rates.max() <= 0:
            raise ScaleplanError(f"{source}: every learning rate is 0")
        if warmup is None:
            warmup = int(np.argmax(rates >= rates.max() * (1 - 1e-9)))  # steps before the first peak
        warmup = whole_number("warmup", warmup, 0, rates.size)
        return cls(steps=steps.astype(np.int64), loss=loss, lr=rates, warmup=warmup, source=source)

    def areas(self, lam: float = LAMBDA):
        s1, s2 = areas(self.lr, self.warmup, lam)
        i = self.steps - 1
        return s1[i], s2[i]


@dataclass(frozen=True, eq=False, repr=False)
class CurveFit(Rendered):  # renders itself (to_table, str, a notebook's markdown) as `curve fit` prints it
    law: CurveLaw
    n_points: int
    rmse: float
    r2: float
    max_rel_error: float
    holdout: dict  # how, n_points, rmse, mean_rel_error, max_rel_error, (law)
    curves: tuple[dict, ...]  # per curve: source, points, warmup, steps
    warnings: tuple[str, ...] = ()
    robust: bool = False

    def to_dict(self) -> dict:
        objective = (
            "Huber(1e-3) on log-loss residuals by iteratively reweighted least squares"
            if self.robust
            else "least squares on the loss"
        )
        return {
            **self.law.to_dict(),
            "n_points": self.n_points,
            "rmse": self.rmse,
            "r2": self.r2,
            "max_rel_error": self.max_rel_error,
            "holdout": self.holdout,
            "curves": list(self.curves),
            "method": f"{objective}; (L0, A, C) >= 0 by exact NNLS for each alpha (variable projection), alpha "
            "by a log grid on [0.01, 3] then a bounded scalar search",
            "warnings": list(self.warnings),
        }


def _solve(s1, s2, y, alphas, w=None):
    """Best (coef (k,3), rss (k,)) for each alpha: columns [1, S1^-alpha, -S2]; `w` per-point weights."""
    from ..fit.vp import nnls3

    alphas = np.atleast_1d(np.asarray(alphas, float))
    ln1 = np.log(s1)
    X = np.empty((alphas.size, y.size, 3))
    X[..., 0] = 1.0
    X[..., 1] = np.exp(-alphas[:, None] * ln1[None, :])
    X[..., 2] = -s2[None, :]
    return nnls3(X, y, w)


GRAM_ABOVE = 50_000  # points: above, the alpha search scores each alpha from sums (no design matrix)


def _gram_rss(s1, s2, y, w):
    """rss(alpha) of the NNLS on columns [1, S1^-alpha, -S2] from weighted sums: one pass for S1^-alpha and four
    dot products per alpha (the sums of the other columns are computed once). numpy's own loops (einsum), as BLAS
    threads spin on a busy machine."""
    from ..fit.vp import nnls3_gram

    def dot(a, b):
        return float(np.einsum("i,i->", a, b))

    ln1 = np.log(s1)
    wv = np.ones_like(y) if w is None else np.asarray(w, float)
    ws2 = wv * s2
    sw, sws2, sws2s2, swy, sws2y = float(wv.sum()), float(ws2.sum()), dot(ws2, s2), dot(wv, y), dot(ws2, y)
    swyy = dot(wv * y, y)

    def rss(alpha: float) -> float:
        t = np.exp(-alpha * ln1)
        wt = wv * t
        swt, swtt, swts2, swty = float(wt.sum()), dot(wt, t), dot(wt, s2), dot(wt, y)
        G = np.array([[sw, swt, -sws2], [swt, swtt, -swts2], [-sws2, -swts2, sws2s2]])
        scale = np.sqrt(np.maximum(np.diagonal(G), 1e-300))
        h = np.array([swy, swty, -sws2y]) / scale
        return float(nnls3_gram((G / np.outer(scale, scale))[None], h[None], np.array([swyy]))[1][0])

    return rss


def _fit_weighted(s1, s2, y, w=None, lo: float = 0.01, hi: float = 3.0):
    from scipy.optimize import minimize_scalar

    # grid on a thinned copy for long logs (the grid only brackets alpha), the bounded search on all points
    thin = max(1, y.size // 5000)
    grid = np.geomspace(lo, hi, 48)
    _, rss = _solve(s1[::thin], s2[::thin], y[::thin], grid, None if w is None else w[::thin])
    j = int(np.argmin(rss))
    a_lo, a_hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    rss_of = _gram_rss(s1, s2, y, w) if y.size > GRAM_ABOVE else (lambda a: float(_solve(s1, s2, y, a, w)[1][0]))
    res = minimize_scalar(rss_of, bounds=(a_lo, a_hi), method="bounded", options={"xatol": 1e-9})
    alpha = float(res.x)
    coef, rss = _solve(s1, s2, y, alpha, w)
    return alpha, coef[0], float(rss[0])


ROBUST_SEARCH_POINTS = 20_000  # --robust on a longer log reweights on this many evenly spaced points first


def _huber_weights(s1, s2, y, alpha, coef):
    """IRLS weights of Huber(HUBER_DELTA) on log-loss residuals for the raw-loss design; None if a prediction <= 0."""
    pred = coef[0] + coef[1] * s1**-alpha - coef[2] * s2
    if np.any(pred <= 0):
        return None
    r = np.abs(np.log(y) - np.log(pred))
    return np.where(r <= HUBER_DELTA, 1.0, HUBER_DELTA / np.maximum(r, 1e-300)) / (y * y)


HUBER_DELTA = 1e-3  # on log-loss residuals, as Hoffmann et al. / Epoch, and the re-implementations of Tissue et al.


def _fit_arrays(s1, s2, y, robust: bool = False):
    """(alpha, (L0, A, C), rss). robust: Huber(1e-3) on log-loss residuals by iteratively reweighted least squares
    (weight psi(r)/r on each log residual r, divided by L^2 for the raw-loss design), so loss spikes count little."""
    if robust and y.size > ROBUST_SEARCH_POINTS:
        # a long log: reweight on evenly spaced points, then one weighted fit on every point from those weights
        idx = np.unique(np.linspace(0, y.size - 1, ROBUST_SEARCH_POINTS).round().astype(np.int64))
        alpha, coef, _ = _fit_arrays(s1[idx], s2[idx], y[idx], robust=True)
        w = _huber_weights(s1, s2, y, alpha, coef)
        if w is None:
            return _fit_weighted(s1, s2, y)
        return _fit_weighted(s1, s2, y, w / w.mean())
    alpha, coef, rss = _fit_weighted(s1, s2, y)
    if not robust:
        return alpha, coef, rss
    for _ in range(30):
        pred = coef[0] + coef[1] * s1**-alpha - coef[2] * s2
        if np.any(pred <= 0):
            break
        r = np.abs(np.log(y) - np.log(pred))
        w = np.where(r <= HUBER_DELTA, 1.0, HUBER_DELTA / np.maximum(r, 1e-300)) / (y * y)
        new_alpha, coef, rss = _fit_weighted(s1, s2, y, w / w.mean())
        done = abs(new_alpha - alpha) < 1e-8
        alpha = new_alpha
        if done:
            break
    return alpha, coef, rss


def _quality(pred, y) -> dict:
    r = y - pred
    return {
        "n_points": int(y.size),
        "rmse": float(np.sqrt(np.mean(r * r))),
        "mean_rel_error": float(np.mean(np.abs(r) / y)),
        "max_rel_error": float(np.max(np.abs(r) / y)),
    }


def _check_curves(curves) -> list:
    if isinstance(curves, Curve):
        curves = [curves]
    if isinstance(curves, (str, bytes)) or not hasattr(curves, "__iter__"):
        raise ScaleplanError(f"<curves> must be Curves (scaleplan.load_log(path)), got {type(curves).__name__}")
    curves = list(curves)
    if not curves:
        raise ScaleplanError("no curves to fit")
    for c in curves:
        if not isinstance(c, Curve):
            raise ScaleplanError(f"<curves> must be Curves (scaleplan.load_log(path)), got {type(c).__name__}")
    return curves


def _fitted_points(c: Curve, lam: float, from_step: int) -> tuple[tuple, dict]:
    """((S1, S2, loss) of a curve's points after its warm-up and from `from_step`, a summary of the curve)."""
    s1, s2 = c.areas(lam)
    keep = (c.steps > c.warmup) & (c.steps >= from_step) & (s1 > 0)
    if keep.sum() < 5:
        raise ScaleplanError(
            f"{c.source}: {int(keep.sum())} logged point(s) after the {c.warmup:,} warm-up steps"
            f"{f' and from step {from_step:,}' if from_step else ''}; the fit needs at least 5"
        )
    info = {
        "source": c.source,
        "points": int(keep.sum()),
        "warmup": int(c.warmup),
        "from_step": from_step,
        "steps": int(c.steps.max()),
        "peak_lr": float(c.lr.max()),
        "final_lr": float(c.lr[-1]),
    }
    return (s1[keep], s2[keep], c.loss[keep]), info


def _fit_warnings(s2, c_: float, alpha: float) -> list[str]:
    out = []
    if np.max(s2) < 1e-12:
        out.append(
            "the learning rate never falls in the fitted steps, so C (the annealing term) cannot be "
            "fitted; predictions for decaying schedules are not meaningful"
        )
    if c_ == 0 and np.max(s2) >= 1e-12:
        out.append("C = 0: the loss did not fall faster when the learning rate decayed in these steps")
    if min(abs(alpha - 0.01), abs(alpha - 3.0)) < 1e-6:
        out.append(f"alpha = {alpha:.3g} sits on the search bound [0.01, 3]")
    return out


def _held_out(parts: list, info: list, lam: float, holdout: float, seed: int, robust: bool) -> dict:
    """The held-out check: with two or more curves, fit all but the last and predict it; with one, refit on a
    random (1 - holdout) of its points and score the rest ({} when there is nothing to hold out)."""

    def refit(s1, s2, y):
        h_alpha, h_coef, _ = _fit_arrays(s1, s2, y, robust)
        return CurveLaw(float(h_coef[0]), float(h_coef[1]), h_alpha, float(h_coef[2]), lam)

    if len(parts) >= 2:
        h = refit(*(np.concatenate([p[k] for p in parts[:-1]]) for k in range(3)))
        how = f"fit on the other {len(parts) - 1} curve(s), predict {info[-1]['source']}"
        quality = _quality(h.loss_at(parts[-1][0], parts[-1][1]), parts[-1][2])
    else:
        s1, s2, y = parts[0]
        if holdout <= 0:
            return {}
        test = np.zeros(y.size, bool)
        picked = np.random.default_rng(seed).choice(y.size, size=max(1, int(round(holdout * y.size))), replace=False)
        test[picked] = True
        if (~test).sum() < 5:
            return {}
        h = refit(s1[~test], s2[~test], y[~test])
        how = f"random {holdout:.0%} of logged points held out (seed {seed})"
        quality = _quality(h.loss_at(s1[test], s2[test]), y[test])
    return {"how": how, **quality, "law": {k: float(v) for k, v in h.constants.items()}}


def fit_curves(
    curves,
    lam: float = LAMBDA,
    holdout: float = 0.3,
    seed: int = 0,
    name: str = "my-curve-law",
    robust: bool = False,
    from_step: int = 0,
) -> CurveFit:
    """Fit L0, A, alpha, C to one or more logged curves (points after each curve's warm-up, and at or after
    `from_step`: the first few hundred steps of a real run often follow no power law in S1): least squares on the
    loss, or with robust=True Huber(1e-3) on log-loss residuals (loss spikes count little).

    Held-out check: with one curve, refit on a random (1 - holdout) of its points and score the rest; with two or
    more, fit all but the last curve and predict the last (a cut in time would leave no annealing to fit C).
    """
    curves = _check_curves(curves)
    holdout = fraction_in("holdout", holdout, 0.0, 0.9)
    lam = fraction_in("lambda", lam, 0.0, 1.0 - 1e-12)
    from_step = whole_number("from step", from_step, 0)
    seed = whole_number("seed", seed, 0, 2**63 - 1)
    parts, info = zip(*(_fitted_points(c, lam, from_step) for c in curves))
    s1, s2, y = (np.concatenate([p[k] for p in parts]) for k in range(3))
    alpha, coef, _rss = _fit_arrays(s1, s2, y, robust)
    l0, a, c_ = (float(v) for v in coef)
    law = CurveLaw(
        L0=l0,
        A=a,
        alpha=alpha,
        C=c_,
        lam=lam,
        name=name,
        source="fitted by scaleplan: " + ", ".join(i["source"] for i in info),
        peak_lrs=tuple(i["peak_lr"] for i in info),
    )
    r = y - law.loss_at(s1, s2)
    sst = float(np.sum((y - y.mean()) ** 2))
    return CurveFit(
        law=law,
        n_points=int(y.size),
        rmse=float(np.sqrt(np.mean(r * r))),
        robust=bool(robust),
        r2=float(1 - np.sum(r * r) / sst) if sst > 0 else math.nan,
        max_rel_error=float(np.max(np.abs(r) / y)),
        holdout=_held_out(list(parts), list(info), lam, holdout, seed, robust),
        curves=tuple(info),
        warnings=tuple(_fit_warnings(s2, c_, alpha)),
    )
