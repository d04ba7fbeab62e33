"""Hoffmann et al. 2022 Approach 2 on your runs: a parabola of loss in ln N per FLOP level, then least squares of
ln N_opt and ln D_opt on ln C (scaleplan fit --approach isoflop).

    fit_isoflop(runs, gap=0.1, min_sizes=3) -> IsoflopFit
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema.conventions import tokens_for
from ..schema.runs import Runs
from ..schema.units import fmt_sci
from .result import check_runs

__all__ = ["IsoflopFit", "IsoflopLevel", "fit_isoflop", "group_levels"]


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
                tokens_opt=tokens_for(c, n_opt),
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
