"""Training curves: learning-rate schedules, the loss at every step under any schedule, fitted from logs.

The law is Tissue, Wang & Wang 2024, "Scaling Law with Learning Rate Annealing" (arXiv 2408.11029, abstract):

    L(s) = L0 + A * S1(s)^(-alpha) - C * S2(s)

with S1 the area under the learning-rate curve ("forward area") and S2 the learning-rate annealing area with
momentum. The sums used here are those of the same first author's later paper (Wang, Tissue, Wang, Li, Zeng,
"Learning Dynamics in Continual Pre-Training for LLMs", arXiv 2505.07796, section 3.1, Eq. 1), because no full
text of 2408.11029's body and no code of its authors in a public repository could be found (the paper's footnote
puts its code on its alphaXiv / Hugging Face discussion pages; searched 2026-11-25: only third-party
re-implementations on GitHub, which use the same recursion):

    S1(s) = sum_{i=1..s} eta_i
    m_i   = lam * m_{i-1} + (eta_{i-1} - eta_i),  m_0 = 0,  eta_0 := eta_1   (so m_1 = 0)
    S2(s) = sum_{i=1..s} m_i,  lam = 0.999

Un-normalised: a sudden drop by d raises S2 towards d / (1 - lam) = 1000 d, not d. Warm-up, whose rising rate
would make S2 negative, is handled as the reference's secondary source says (a student re-implementation
"following the official code"): the warm-up steps count at the peak rate in S1 and S2. Status of all three
(normalisation, eta_0, warm-up): **secondary**, stated again in every fit's `definitions`.

Schedules follow Hagele et al. 2024 (arXiv 2405.18392, section 3, Eq. 1 and the (1-sqrt) cooldown): linear
warm-up from eta_max / W at step 1 to eta_max at step W, then the schedule; a warm-up-stable-decay cooldown over
the last `cooldown` fraction of steps with f(x) = 1 - x (linear), 1 - sqrt(x), or (1 + cos(pi x)) / 2, where
x = (n - (N - N_decay)) / N_decay. Steps are numbered 1..N.

The fit is least squares on the loss by variable projection: for fixed alpha, (L0, A, C) >= 0 are an exact
non-negative linear solve (`scaleplan.fit_vp.nnls3`), so only alpha is searched (a log grid, then a bounded
scalar search); robust=True makes it Huber(1e-3) on log-loss residuals by reweighting. scipy is imported inside
the functions that need it.

Public API (plain floats and numpy arrays; every user mistake raises ScaleplanError):

    Schedule(kind, steps, peak_lr, warmup=0, final_fraction=0, cooldown=0.2, shape="1-sqrt", ...).lr()
    areas(lr, warmup=0, lam=0.999) -> (S1, S2) per step
    load_log(path, columns=None, warmup=None, lr_path=None) -> Curve;  Curve.from_log(steps, loss, lr_steps, lr)
    fit_curves(curves, holdout=0.3, seed=0, robust=False) -> CurveFit (.law is a CurveLaw)
    CurveLaw(L0, A, alpha, C).curve(schedule) / .final_loss(schedule);  load_law(path);  example_law()
    best_cooldown(law, schedule) -> CooldownChoice;  steps_to_loss(law, target, schedule) -> steps or None
    plan_schedule(peak_lr, tokens, batch_tokens) -> PlanSchedule (what a plan's recipe carries)
    cooldown_suite_cost(multiples, cooldown) -> Hagele et al.'s suite saving ratio
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..core.errors import ScaleplanError
from ..recipe.schedules import (  # noqa: F401 (re-exported)
    CONSTANT_FRACTION,
    KINDS,
    MAX_STEPS,
    PLAN_COOLDOWN,
    PLAN_SHAPE,
    SHAPES,
    PlanSchedule,
    Schedule,
    fraction_in,
    plan_schedule,
    plan_warmup,
    whole_number,
)
from ..schema import limits

__all__ = [
    "KINDS",
    "LAMBDA",
    "MAX_STEPS",
    "SHAPES",
    "CooldownChoice",
    "Curve",
    "CurveFit",
    "CurveLaw",
    "PlanSchedule",
    "Schedule",
    "areas",
    "best_cooldown",
    "cooldown_suite_cost",
    "example_law",
    "fit_curves",
    "load_law",
    "load_log",
    "per_step_lr",
    "plan_schedule",
    "steps_to_loss",
]

LAMBDA = 0.999  # 2505.07796 section 3.1: "decay factor" of the annealing momentum

DEFINITIONS = {
    "S1": "sum of the learning rate over steps 1..s (warm-up steps counted at the peak rate)",
    "S2": "sum of m_i, m_i = lambda m_(i-1) + (eta_(i-1) - eta_i), m_0 = 0, eta_0 = eta_1, not normalised",
    "lambda": LAMBDA,
    "warmup": "counted at the peak rate (secondary: re-implementation said to follow the authors' code)",
    "source": "Tissue et al. 2024 (arXiv 2408.11029) law; sums from Wang, Tissue et al. 2025 (arXiv 2505.07796) "
    "section 3.1 Eq. 1 (secondary: the authors' code was not found in a public repository)",
}


# --------------------------------------------------------------------------------------------- areas


def _momentum(d: np.ndarray, lam: float) -> np.ndarray:
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -lam], d)


def areas(lr, warmup: int = 0, lam: float = LAMBDA) -> tuple[np.ndarray, np.ndarray]:
    """(S1, S2) after every step for per-step rates `lr` (eta_1..eta_T); the first `warmup` steps count at max(lr)."""
    eta = np.array(lr, dtype=float, copy=True).ravel()
    if eta.size == 0 or not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ScaleplanError("learning rates must be finite and >= 0 (and at least one step)")
    lam = fraction_in("lambda", lam, 0.0, 1.0 - 1e-12)
    w = whole_number("warmup", warmup, 0, eta.size)
    if w:
        eta[:w] = eta.max()
    d = np.empty_like(eta)
    d[0] = 0.0
    np.subtract(eta[:-1], eta[1:], out=d[1:])
    return np.cumsum(eta), np.cumsum(_momentum(d, lam))


def per_step_lr(steps, lr, last: int | None = None) -> np.ndarray:
    """Per-step rates for steps 1..last from rates logged at some steps (linear interpolation; flat outside)."""
    steps = np.asarray(steps, float)
    lr = np.asarray(lr, float)
    last = int(steps.max()) if last is None else int(last)
    return np.interp(np.arange(1, last + 1, dtype=float), steps, lr)


# ------------------------------------------------------------------------------------------------ law


@dataclass(frozen=True)
class CurveLaw:
    """L(s) = L0 + A S1^-alpha - C S2 (Tissue et al. 2024), S1, S2 in raw learning-rate units."""

    L0: float
    A: float
    alpha: float
    C: float
    lam: float = LAMBDA
    name: str = "curve law"
    source: str = ""
    warnings: tuple[str, ...] = ()  # what the fit that made it warned (e.g. fitted only on the stable phase)
    peak_lrs: tuple[float, ...] = ()  # the peak learning rates of the logs it was fitted to (empty: not recorded)

    def loss_at(self, s1, s2):
        s1 = np.asarray(s1, float)
        return self.L0 + self.A * s1**-self.alpha - self.C * np.asarray(s2, float)

    def curve(self, schedule: Schedule | np.ndarray, warmup: int | None = None) -> dict:
        """Per-step arrays lr, s1, s2, loss under a schedule (or an array of per-step rates)."""
        if isinstance(schedule, Schedule):
            lr, w = schedule.lr(), schedule.warmup if warmup is None else warmup
        else:
            lr, w = np.asarray(schedule, float), warmup or 0
        s1, s2 = areas(lr, w, self.lam)
        return {"lr": lr, "s1": s1, "s2": s2, "loss": self.loss_at(s1, s2)}

    def final_loss(self, schedule: Schedule) -> float:
        return float(self.curve(schedule)["loss"][-1])

    @property
    def constants(self) -> dict:
        return {"L0": self.L0, "A": self.A, "alpha": self.alpha, "C": self.C, "lambda": self.lam}

    def to_dict(self) -> dict:
        out = {
            "name": self.name,
            "form": "tissue-2024",
            **{k: float(v) for k, v in self.constants.items()},
            "definitions": dict(DEFINITIONS),
            "source": self.source,
            **({"warnings": list(self.warnings)} if self.warnings else {}),
        }
        if self.peak_lrs:
            out["logged_peak_lr"] = [float(x) for x in self.peak_lrs]
        return out

    @classmethod
    def from_dict(cls, raw: dict, where: str = "law") -> CurveLaw:
        if not isinstance(raw, dict) or ("L0" not in raw and "L0" not in (raw.get("constants") or {})):
            raise ScaleplanError(
                f"{where}: not a curve law (expected L0, A, alpha, C; write one with "
                "scaleplan curve fit LOG --save FILE)"
            )
        vals = {}
        for key in ("L0", "A", "alpha", "C"):
            v: Any = raw.get(key, raw.get("constants", {}).get(key) if isinstance(raw.get("constants"), dict) else None)
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise ScaleplanError(f"{where}: {key} must be a number, got {v!r}") from None
            if not math.isfinite(x) or (key != "L0" and x < 0):
                raise ScaleplanError(
                    f"{where}: {key} must be a finite number{'' if key == 'L0' else ' >= 0'}, got {v!r}"
                )
            vals[key] = x
        lam = fraction_in(f"{where}: lambda", raw.get("lambda", LAMBDA), 0.0, 1.0 - 1e-12)
        warned = raw.get("warnings") or []
        if not isinstance(warned, list) or not all(isinstance(w, str) for w in warned) or len(warned) > 100:
            raise ScaleplanError(f"{where}: warnings must be a list of texts (what the fit warned)")
        logged = raw.get("logged_peak_lr")
        if logged is None and isinstance(raw.get("curves"), list):  # a law saved by curve fit: its logs' peaks
            logged = [c.get("peak_lr") for c in raw["curves"] if isinstance(c, dict)]
        peaks = []
        for v in logged if isinstance(logged, list) else ([] if logged is None else [logged]):
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise ScaleplanError(f"{where}: logged_peak_lr must be positive numbers, got {v!r}") from None
            if not (math.isfinite(x) and x > 0):
                raise ScaleplanError(f"{where}: logged_peak_lr must be positive numbers, got {v!r}")
            peaks.append(x)
        return cls(
            **vals,
            lam=lam,
            name=str(raw.get("name", "curve law")),
            source=str(raw.get("source", "")),
            warnings=tuple(w[:1000] for w in warned),
            peak_lrs=tuple(peaks),
        )


def _check_law(law, what: str = "law") -> None:
    if not isinstance(law, CurveLaw):
        raise ScaleplanError(
            f"<{what}> must be a CurveLaw (scaleplan.curves.law.load_law(path), or fit_curves(...).law), "
            f"got {type(law).__name__}"
        )


def _check_schedule(schedule, what: str = "schedule") -> None:
    if not isinstance(schedule, Schedule):
        raise ScaleplanError(
            f"<{what}> must be a Schedule, e.g. Schedule('wsd', 20000, 3e-4), got {type(schedule).__name__}"
        )


def _check_path(path, what: str = "path") -> None:
    import os

    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ScaleplanError(f"<{what}> must be a file name (str or Path), got {path!r} ({type(path).__name__})")


# ---------------------------------------------------------------------------------------------- fitting


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


@dataclass(frozen=True, eq=False)
class CurveFit:
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


# ------------------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class CooldownChoice:
    best: float  # cooldown fraction with the lowest final loss
    best_loss: float
    fractions: np.ndarray
    final_losses: np.ndarray
    schedule: Schedule  # the best schedule

    def to_dict(self) -> dict:
        return {
            "best_cooldown": self.best,
            "final_loss": self.best_loss,
            "schedule": self.schedule.to_dict(),
            "candidates": [
                {"cooldown": float(f), "final_loss": float(v)} for f, v in zip(self.fractions, self.final_losses)
            ],
        }


def best_cooldown(law: CurveLaw, schedule: Schedule, fractions=None) -> CooldownChoice:
    """The wsd cooldown fraction (of `schedule`'s steps, shape and warm-up) with the lowest predicted final loss."""
    _check_law(law)
    _check_schedule(schedule)
    base = replace(schedule, kind="wsd")
    top = (base.steps - base.warmup) / base.steps
    fr = np.linspace(0.0, min(0.6, top), 61) if fractions is None else np.asarray(fractions, float)
    fr = np.unique(np.clip(fr, 0.0, top))
    with np.errstate(all="ignore"):  # a cooldown that leaves no step at a positive rate has no loss (S1 = 0)
        losses = np.array([law.final_loss(replace(base, cooldown=float(f))) for f in fr])
    fine = np.isfinite(losses)
    if not fine.any():
        raise ScaleplanError(f"no cooldown of a {base.steps:,}-step schedule gives a finite loss; give more steps")
    fr, losses = fr[fine], losses[fine]
    j = int(np.argmin(losses))
    return CooldownChoice(
        best=float(fr[j]),
        best_loss=float(losses[j]),
        fractions=fr,
        final_losses=losses,
        schedule=replace(base, cooldown=float(fr[j])),
    )


def steps_to_loss(law: CurveLaw, target: float, schedule: Schedule, max_steps: int = MAX_STEPS) -> int | None:
    """Fewest total steps for which `schedule` (its shape, warm-up and fractions, stretched) ends at <= target.

    None when even `max_steps` does not reach it. Geometric growth then bisection on the final loss (assumed to
    fall with length), to within 0.1% of the step count.
    """
    _check_law(law)
    _check_schedule(schedule)
    if isinstance(target, bool) or not isinstance(target, (int, float, np.number)):
        raise ScaleplanError(f"<target> must be a loss (a number), got {target!r}")
    target = float(target)
    max_steps = whole_number("max steps", max_steps, 2)
    if not math.isfinite(target):
        raise ScaleplanError(f"target loss must be a finite number, got {target!r}")
    if target <= law.L0:
        raise ScaleplanError(
            f"target loss {target:g} is at or below L0 = {law.L0:.4g}, which no run length reaches under this law"
        )

    def final(n: int) -> float:
        return law.final_loss(replace(schedule, steps=n, warmup=min(schedule.warmup, n - 1)))

    lo = max(schedule.warmup + 1, 2)
    if schedule.kind == "wsd" and schedule.cooldown < 1:  # the cooldown must fit after the warm-up
        lo = max(lo, int(math.ceil((schedule.warmup + 1) / (1 - schedule.cooldown))) + 1)
    if lo > max_steps:
        raise ScaleplanError(
            f"the warm-up ({schedule.warmup:,} steps) and cooldown leave no room below {max_steps:,} steps"
        )
    if final(lo) <= target:
        return lo
    hi = max(lo + 1, min(schedule.steps, max_steps))
    while final(hi) > target:  # grow geometrically: cost stays proportional to the answer, not to max_steps
        if hi >= max_steps:
            return None
        lo, hi = hi, min(2 * hi, max_steps)
    while hi - lo > max(1, lo // 1000):
        mid = (lo + hi) // 2
        if final(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


def cooldown_suite_cost(multiples=(10, 15, 20, 25), cooldown: float = 0.1) -> float:
    """Cost of a Chinchilla-style suite of runs at D/N = `multiples` from one run with cooldowns, as a fraction
    of training each from scratch (Hagele et al. 2024, section 5): (M_max + cooldown x sum of the others) / sum.
    With 6ND FLOPs this is 0.4214; the paper prints 2.36e23 / 5.59e23 = 0.4222 from exact FLOPs."""
    m = np.asarray(multiples, float)
    if m.size < 1 or np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ScaleplanError("multiples must be positive numbers")
    cooldown = fraction_in("cooldown", cooldown)
    return float((m.max() + cooldown * (m.sum() - m.max())) / m.sum())


# ------------------------------------------------------------------------------------------------ logs

LOG_FIELDS = ("step", "lr", "loss")
# Recognised column names, normalised (lower case, no spaces, '_' or '-'); the part after the last '/' and ' - '
# also counts (W&B: 'run-1 - train/loss', 'trainer/global_step'; TensorBoard CSV export: 'Step', 'Value').
LOG_ALIASES = {
    "step": ("step", "steps", "globalstep", "iteration", "iter", "it", "trainerglobalstep", "_step"),
    "lr": ("lr", "learningrate", "lr0", "lrpg0", "lrgroup0", "learningrategroup0"),
    "loss": ("loss", "trainloss", "valloss", "evalloss", "validationloss", "lmloss", "value"),
}


def _log_norm(name: str) -> str:
    return "".join(ch for ch in str(name).strip().lower() if ch not in " _-")


def _pick_column(path, header, field_name, given):
    if given is not None:
        if given in header:
            return given
        match = [h for h in header if _log_norm(h) == _log_norm(given)]
        if not match:
            raise ScaleplanError(
                f"{path}: no column {given!r} (for {field_name}); columns present: {', '.join(header)}"
            )
        return match[0]
    norms = {h: _log_norm(h) for h in header}
    for alias in LOG_ALIASES[field_name]:
        for h, n in norms.items():
            if n == alias:
                return h
    # W&B exports name columns 'RUN - group/metric': match the metric's own name
    tails = [h for h in header if _log_norm(str(h).split(" - ")[-1].rsplit("/", 1)[-1]) in LOG_ALIASES[field_name]]
    if len(tails) == 1:
        return tails[0]
    return None


def _cell(value) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    s = str(value).strip()
    if not s:
        return math.nan
    try:
        return float(s.replace("_", ""))
    except ValueError:
        return math.inf  # marks text where a number belongs


def _trainer_state(path) -> tuple[list[str], list[tuple[str, dict]]] | None:
    """(header, records) of a Hugging Face Trainer `trainer_state.json` (its `log_history`), else None."""
    import json

    from ..core.files import read_text

    text = read_text(path, "training log")  # a FIFO, a device, a binary or huge file: one clear line
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None  # the general reader gives the message
    if not isinstance(data, dict) or not isinstance(data.get("log_history"), list):
        return None
    recs = [(f"log_history[{i}]", r) for i, r in enumerate(data["log_history"]) if isinstance(r, dict)]
    header = list(dict.fromkeys(str(k) for _, r in recs for k in r))
    return header, recs


def _check_rows(path, n: int) -> None:
    if n > limits.MAX_INPUT_ROWS:
        raise ScaleplanError(f"{path}: {n:,} rows; at most {limits.MAX_INPUT_ROWS:,} are read (thin the log first)")


def _choose_log_columns(path, header, fields, columns: dict, value_is: str | None) -> dict:
    chosen = {}
    for key in fields:
        col = _pick_column(path, header, key, columns.get(key))
        if col is None and key == value_is:
            col = _pick_column(path, header, key, "Value") if any(_log_norm(h) == "value" for h in header) else None
        if col is None:
            raise ScaleplanError(
                f"{path}: no column for {key} (looked for {', '.join(LOG_ALIASES[key][:4])}, ...); "
                f"columns present: {', '.join(header) or 'none'}; map one with <columns> {key}=NAME"
            )
        chosen[key] = col
    return chosen


def _read_fields(path, fields, columns: dict, value_is: str | None = None) -> dict:
    """{field: float array (NaN where blank)} for `fields` of a log; 'Value' (a TensorBoard export) counts as
    `value_is`."""
    from pathlib import Path

    from ..schema import runs as runs_mod

    path = Path(path)
    state = _trainer_state(path) if path.suffix.lower() == ".json" else None
    kind: str | None = None
    text: str | None = None
    recs: list | None
    if state is not None:
        header, recs = state
    else:
        kind, text, _ = runs_mod.read_source(path, "training log")
        if kind in ("csv", "tsv"):  # the header alone picks the columns; the numbers are read in bulk if they can be
            header, recs = runs_mod.csv_header(path, text, kind), None
        else:
            header, recs = runs_mod.parse_records(path, kind, text)
    chosen = _choose_log_columns(path, header, fields, columns, value_is)
    if recs is None:
        assert text is not None and kind is not None
        bulk = runs_mod.bulk_columns(path, text, kind, header, chosen)
        if bulk is not None and not any(np.isinf(v).any() for v in bulk.values()):
            _check_rows(path, len(bulk[fields[0]]))
            return bulk
        header, recs = runs_mod.parse_records(path, kind, text)
    del text
    _check_rows(path, len(recs))
    data = {k: np.array([_cell(rec.get(col)) for _, rec in recs]) for k, col in chosen.items()}
    for key, arr in data.items():
        bad = np.flatnonzero(np.isinf(arr))
        if bad.size:
            where, rec = recs[int(bad[0])]
            raise ScaleplanError(
                f"{path}, {where}: column {chosen[key]!r} must be a number, got {rec.get(chosen[key])!r}"
            )
    return data


def load_log(path, columns: dict | None = None, warmup: int | None = None, lr_path=None) -> Curve:
    """A training curve from a .csv / .tsv / .jsonl / .json / .yaml log with step, learning rate and loss columns,
    or a Hugging Face Trainer `trainer_state.json` (its log_history: step, learning_rate, loss).

    `columns` maps a field (step, lr, loss) to a column name, e.g. {"loss": "run-1 - train/loss"} for a W&B export.
    Rows without a loss (a W&B export logs metrics at different steps) are skipped; the learning rate is
    interpolated between the rows that have one. A TensorBoard scalar export (Wall time, Step, Value) holds one
    metric: give the loss export as `path` and the learning-rate export as `lr_path`.
    """
    _check_path(path)
    if lr_path is not None:
        _check_path(lr_path, "lr_path")
    if columns is not None and not isinstance(columns, dict):
        raise ScaleplanError(f"<columns> must be a mapping of field to column name, got {columns!r}")
    columns = dict(columns or {})
    for key in columns:
        if key not in LOG_FIELDS:
            raise ScaleplanError(f"columns: unknown field {key!r}; allowed: {', '.join(LOG_FIELDS)}")
    if lr_path is None:
        data = _read_fields(path, LOG_FIELDS, columns)
        lr_data = data
    else:
        data = _read_fields(path, ("step", "loss"), columns)
        lr_data = _read_fields(lr_path, ("step", "lr"), {k: v for k, v in columns.items() if k != "loss"}, "lr")
    with_loss = np.isfinite(data["step"]) & np.isfinite(data["loss"])
    with_lr = np.isfinite(lr_data["step"]) & np.isfinite(lr_data["lr"])
    if with_loss.sum() == 0:
        raise ScaleplanError(f"{path}: no row has both a step and a loss")
    if with_lr.sum() == 0:
        raise ScaleplanError(f"{lr_path or path}: no row has both a step and a learning rate")
    lr_steps, first = np.unique(lr_data["step"][with_lr], return_index=True)
    return Curve.from_log(
        data["step"][with_loss],
        data["loss"][with_loss],
        lr_steps,
        lr_data["lr"][with_lr][first],
        warmup=warmup,
        source=str(path),
    )


def example_law() -> CurveLaw:
    """The secondary example constants shipped in data/curve_laws.yaml (for demonstrations only)."""
    from ..core import _yaml

    raw = _yaml.read(_yaml.DATA / "curve_laws.yaml")
    return CurveLaw.from_dict(raw["laws"]["tissue-example"], "curve_laws.yaml: tissue-example")


def load_law(path) -> CurveLaw:
    """A curve law from a YAML or JSON file written by `scaleplan curve fit --save` (or by hand: L0, A, alpha, C)."""
    from pathlib import Path

    from ..core import _yaml
    from ..core.files import read_text

    _check_path(path)
    path = Path(path)
    try:  # a FIFO, a device, a binary or huge file: one line naming --law
        text = read_text(path, "curve law file", max_bytes=_yaml.MAX_USER_BYTES)
    except ScaleplanError as exc:
        raise ScaleplanError(f"<law>: {exc.template}") from None
    return CurveLaw.from_dict(_yaml.load_user(text, path), str(path))
