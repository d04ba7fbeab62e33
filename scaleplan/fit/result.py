"""The one result of a parametric fit, whatever its estimator (Huber on log loss: scaleplan.fit.parametric; least
squares on the loss by variable projection: scaleplan.fit.vp), and the one bootstrap's result (scaleplan.fit.resample),
with the checks and the implied allocation they share.

    ParametricFit: E, A, B, alpha, beta, objective, residuals, ...; .estimator "huber" or "vp"; .to_dict(budgets)
    Bootstrap: percentile intervals of the refits, standard errors, the mean and covariance of (ln A, ln B, ln E,
        alpha, beta); .to_dict() says which interval it is (bootstrap percentiles) and why a plan's differ
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema.runs import Runs

__all__ = [
    "CONSTANTS",
    "LAW_TEXT",
    "THETA",
    "Bootstrap",
    "ParametricFit",
    "check_budgets",
    "check_levels",
    "check_runs",
    "implied_allocation",
    "level_label",
    "log_data",
    "no_allocation",
    "percentile_intervals",
    "thin_index",
]

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


# ------------------------------------------------------------------------------------ the result


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


@dataclass(frozen=True, eq=False, repr=False)
class Bootstrap(Rendered):
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
