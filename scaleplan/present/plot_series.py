"""The figures' data: pure numpy "series" (no matplotlib), frozen dataclasses of arrays that the figures draw and
tests compare with the JSON.

    allocation_series(laws, flops)      N_opt(C), D_opt(C) curves; the user's budgets marked with the numbers of
                                        allocate() (one law) or compare() (several laws, one convention)
    isoflop_series(law, flops)          loss against N at fixed C, its minimum, and the band of N whose loss is
                                        within `within` (0.5%) of the minimum, edges solved to machine precision
    inference_series(plan)              total cost against N at the target loss; optimal N against demand
    fit_series(runs, fit, boot)         runs coloured by FLOP level, the fitted isoFLOP curves, residuals, and the
                                        bootstrap band on N_opt(C)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import laws
from ..core import solvers
from ..core.errors import ScaleplanError
from ..laws import forms
from ..schema.conventions import tokens_for

WITHIN = 0.005  # the loss tolerance of the IsoFLOP band: 0.5% above the optimum


# ---------------------------------------------------------------------------------------------------------------
# Labels


def law_label(law: laws.Law) -> str:
    """'epoch (Besiroglu et al. 2024)': the law's name and citation year, for legends."""
    who = law.short_cite.split(", arXiv")[0].strip()
    return f"{law.name} ({who})" if who else law.name


def _params_axis(convention: str) -> str:
    return {
        "total": "parameters N (total, incl. embeddings)",
        "non_embedding": "parameters N (non-embedding)",
        "non_embedding_with_head": "parameters N (non-embedding + head)",
        "flops_per_token": "parameters N (non-embedding)",
    }.get(convention, "parameters N")


# ---------------------------------------------------------------------------------------------------------------
# Series: numpy only


@dataclass(frozen=True, eq=False)
class AllocationSeries:
    """N_opt(C) and D_opt(C) per law over a grid of budgets, and the user's budgets marked.

    Arrays are (n_laws, points) for curves and (n_laws, n_budgets) for marks. `convention` is "native" (one law,
    the numbers of `allocate`) or "total" (the numbers of `compare`: total parameters, C = 6 N_total D).
    """

    laws: tuple[str, ...]
    labels: tuple[str, ...]
    convention: str
    params_axis: str
    flops: np.ndarray  # (points,) grid of budgets
    params: np.ndarray  # (n_laws, points)
    tokens: np.ndarray  # (n_laws, points)
    in_range: np.ndarray  # (n_laws, points) bool: inside the law's fitted FLOP range
    fitted_flops: tuple  # per law (low, high) or None
    budgets: np.ndarray  # (n_budgets,) the user's budgets
    budget_params: np.ndarray  # (n_laws, n_budgets)
    budget_tokens: np.ndarray  # (n_laws, n_budgets)


def allocation_series(
    law_names, flops, points: int = 200, common: bool | None = None, span: float = 1e3
) -> AllocationSeries:
    """Curves of N_opt and D_opt over budgets from min(flops)/span to max(flops)*span, for every law.

    One law (or common=False): the law's own convention, marks equal `allocate(flops, law).params/.tokens`.
    Several laws (or common=True): total parameters with C = 6 N_total D, marks equal `compare(laws, flops)` rows.
    """
    from ..pipeline.optimal import allocate, check_budgets, common_convention_optimum, compare

    chosen = [laws.get(name) for name in ([law_names] if isinstance(law_names, (str, laws.Law)) else law_names)]
    if not chosen:
        raise ScaleplanError("a plot needs at least one law")
    budgets = np.atleast_1d(check_budgets(flops)).ravel()
    if not (isinstance(points, (int, np.integer)) and points >= 2):
        raise ScaleplanError(f"points must be a whole number >= 2, got {points!r}")
    if not span >= 1:
        raise ScaleplanError(f"span must be at least 1, got {span!r}")
    common = len(chosen) > 1 if common is None else bool(common)
    if not common and len({law.params_convention for law in chosen}) > 1:
        raise ScaleplanError(
            "laws that count parameters differently can only be plotted in one convention (common=True)"
        )
    grid = np.geomspace(budgets.min() / span, budgets.max() * span, int(points))
    params: list[Any] = []  # per law: a curve of totals, or an allocate() result's numbers
    tokens: list[Any] = []
    marks_n: list[Any] = []
    marks_d: list[Any] = []
    if common:
        rows = compare(chosen, budgets).rows  # the JSON rows of `compare`, marked as they are
        by = {(r["law"], r["flops"]): r for r in rows}
        for law in chosen:
            total, d, _ = common_convention_optimum(law, grid)
            params.append(total)
            tokens.append(d)
            marks_n.append([by[(law.name, float(c))]["params"] for c in budgets])
            marks_d.append([by[(law.name, float(c))]["tokens"] for c in budgets])
        axis = _params_axis("total")
    else:
        for law in chosen:
            curve, mark = allocate(grid, law), allocate(budgets, law)
            params.append(curve.params)
            tokens.append(curve.tokens)
            marks_n.append(mark.params)
            marks_d.append(mark.tokens)
        axis = _params_axis(chosen[0].params_convention)
    ranges = tuple(law.fitted_range.get("flops") for law in chosen)
    in_range = np.array([np.ones_like(grid, bool) if r is None else (grid >= r[0]) & (grid <= r[1]) for r in ranges])
    return AllocationSeries(
        laws=tuple(law.name for law in chosen),
        labels=tuple(law_label(law) for law in chosen),
        convention="total" if common else "native",
        params_axis=axis,
        flops=grid,
        params=np.array(params, float),
        tokens=np.array(tokens, float),
        in_range=in_range,
        fitted_flops=ranges,
        budgets=budgets,
        budget_params=np.array(marks_n, float),
        budget_tokens=np.array(marks_d, float),
    )


@dataclass(frozen=True, eq=False)
class IsoflopSeries:
    """Loss against N at fixed budgets C (D = C / 6N), in the law's own convention. Arrays lead with budgets.

    `params_opt` is the minimum of the valley; `plan_params` is what `allocate` answers (the same for parametric
    laws; for Kaplan's frontier it is not the minimum of Kaplan's own L(N, D)). `band_params[:, 0/1]` are the N
    where the loss is exactly (1 + within) * loss_opt; `band_ratio` is band_params / params_opt.
    """

    law: str
    label: str
    params_axis: str
    loss_units: str
    within: float
    flops: np.ndarray  # (k,)
    params: np.ndarray  # (k, points)
    tokens: np.ndarray  # (k, points)
    loss: np.ndarray  # (k, points)
    params_opt: np.ndarray  # (k,)
    tokens_opt: np.ndarray
    loss_opt: np.ndarray
    plan_params: np.ndarray  # (k,) allocate(flops, law).params
    plan_tokens: np.ndarray
    plan_loss: np.ndarray
    band_params: np.ndarray  # (k, 2) low and high edge
    band_tokens: np.ndarray  # (k, 2)
    band_loss: np.ndarray  # (k,) = (1 + within) * loss_opt
    band_ratio: np.ndarray  # (k, 2)


def _isoflop_loss(law: laws.Law, log_n, flops):
    n = np.exp(log_n)
    return law.loss(n, tokens_for(flops, n))


def _band_edge(law: laws.Law, log_n_opt, flops, target, direction: float):
    """ln N on one side of the minimum where the isoFLOP loss equals `target` (bisection; the loss is unimodal)."""

    def below(log_n):
        return _isoflop_loss(law, log_n, flops) < target

    inner, outer = solvers.bracket(below, log_n_opt, direction * 0.05, max_steps=80)
    inner, outer = solvers.bisect(below, inner, outer, rtol=4 * np.finfo(float).eps)  # to a few ulps of ln N
    # the side whose loss is closer to the target (both within an ulp of ln N of it)
    f_in = np.abs(_isoflop_loss(law, inner, flops) - target)
    f_out = np.abs(_isoflop_loss(law, outer, flops) - target)
    return np.where(f_in <= f_out, inner, outer)


def isoflop_series(law, flops, within: float = WITHIN, points: int = 200) -> IsoflopSeries:
    """The IsoFLOP valley at each budget: loss against N with 6ND = C, its optimum and the flat band.

    The curve spans a little beyond where the loss is 6 * within above the optimum (and always includes the
    `allocate` answer), so the band fills the middle of the panel.
    """
    from ..pipeline.optimal import allocate, check_budgets

    law = laws.get(law)
    if not law.predicts_loss:
        raise ScaleplanError(
            f"law {law.name!r} gives N_opt(C) only, no loss, so it has no IsoFLOP curve; "
            "use a law that predicts loss, e.g. epoch, chinchilla or kaplan"
        )
    if not (isinstance(within, (int, float)) and 0 < within < 1):
        raise ScaleplanError(f"within must be a fraction in (0, 1), e.g. 0.005, got {within!r}")
    c = np.atleast_1d(check_budgets(flops)).ravel()
    plan = allocate(c, law)
    log_opt = np.log(law.loss_optimum(c)[0])
    loss_opt = _isoflop_loss(law, log_opt, c)
    target = (1.0 + within) * loss_opt
    edges = np.stack([_band_edge(law, log_opt, c, target, -1.0), _band_edge(law, log_opt, c, target, 1.0)], axis=1)
    view = (1.0 + 6.0 * within) * loss_opt
    lo = np.minimum(_band_edge(law, log_opt, c, view, -1.0), np.log(plan.params)) - 0.1
    hi = np.maximum(_band_edge(law, log_opt, c, view, 1.0), np.log(plan.params)) + 0.1
    log_n = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, int(points))[None, :]
    n = np.exp(log_n)
    n_opt, band = np.exp(log_opt), np.exp(edges)
    return IsoflopSeries(
        law=law.name,
        label=law_label(law),
        params_axis=_params_axis(law.params_convention),
        loss_units=law.loss_units or "nats/token",
        within=float(within),
        flops=c,
        params=n,
        tokens=tokens_for(c[:, None], n),
        loss=law.loss(n, tokens_for(c[:, None], n)),
        params_opt=n_opt,
        tokens_opt=tokens_for(c, n_opt),
        loss_opt=loss_opt,
        plan_params=np.asarray(plan.params, float),
        plan_tokens=np.asarray(plan.tokens, float),
        plan_loss=np.asarray(plan.loss, float),
        band_params=band,
        band_tokens=tokens_for(c[:, None], band),
        band_loss=target,
        band_ratio=band / n_opt[:, None],
    )


@dataclass(frozen=True, eq=False)
class InferenceSeries:
    """Total cost (training + inference) against N at the target loss, and the optimal N against demand.

    `measure` is "FLOPs" or "dollars" (the plan's objective). Curves are (k, points) for k demands; the marks are
    the plan's own numbers (compute_optimal / inference_aware sides of its JSON).
    """

    law: str
    label: str
    loss: float
    objective: str
    measure: str
    demand: np.ndarray  # (k,) tokens served
    params: np.ndarray  # (k, points)
    tokens: np.ndarray  # (k, points) training tokens reaching the loss
    training: np.ndarray  # (k, points) in `measure`
    inference: np.ndarray  # (k, points)
    total: np.ndarray  # (k, points)
    compute_optimal_params: np.ndarray  # (k,)
    compute_optimal_total: np.ndarray
    aware_params: np.ndarray
    aware_total: np.ndarray
    sweep_demand: np.ndarray  # (m,)
    sweep_params: np.ndarray  # (m,) inference-aware N at each demand
    sweep_saving: np.ndarray  # (m,) fraction of `measure` saved vs the compute-optimal model
    break_even: float | None
    citation: str


def inference_series(
    plan, law=None, points: int = 200, demand_points: int = 60, demand_span: float = 1e3
) -> InferenceSeries:
    """Series for an `inference.inference_aware` plan (one demand or a sweep). `law` defaults to plan.law;
    pass the Law for a law loaded from a file."""
    from ..pipeline import inference as inf

    law = laws.get(law if law is not None else plan.law)
    key = "total_flops" if plan.objective == "flops" else "total_dollars"
    demand = np.atleast_1d(np.asarray(plan.inference_tokens, float))
    base = np.atleast_1d(np.asarray(plan.compute_optimal.params, float))
    aware = np.atleast_1d(np.asarray(plan.inference_aware.params, float))
    n_min = law.smallest_params_for_loss(plan.loss)
    lo = np.maximum(np.minimum(base, aware) / 4.0, n_min * 1.05)
    hi = np.maximum(base, aware) * 4.0
    n = np.exp(np.log(lo)[:, None] + np.log(hi / lo)[:, None] * np.linspace(0.0, 1.0, int(points))[None, :])
    d = inf.tokens_for_loss(law, n, plan.loss)
    side = inf.costed_side(law, n, d, demand[:, None], plan.costs, plan.context)
    if plan.objective == "flops":
        training, inference = side.training_flops, side.inference_flops
    else:
        training, inference = side.training_dollars, np.asarray(side.prefill_dollars) + side.decode_dollars
    positive = demand[demand > 0]
    centre = positive if positive.size else np.array([1e12])
    grid = np.geomspace(centre.min() / demand_span, centre.max() * demand_span, int(demand_points))
    sweep = inf.inference_aware(
        grid,
        target_loss=plan.loss,
        law=law,
        objective=plan.objective,
        context=plan.context,
        costs=plan.costs,
        break_even=False,
    )
    saving = sweep.flops_saving if plan.objective == "flops" else sweep.dollars_saving
    return InferenceSeries(
        law=law.name,
        label=law_label(law),
        loss=float(plan.loss),
        objective=plan.objective,
        measure="FLOPs" if plan.objective == "flops" else "dollars",
        demand=demand,
        params=n,
        tokens=d,
        training=np.asarray(training, float),
        inference=np.asarray(inference, float),
        total=np.asarray(getattr(side, key), float),
        compute_optimal_params=base,
        compute_optimal_total=np.atleast_1d(np.asarray(getattr(plan.compute_optimal, key), float)),
        aware_params=aware,
        aware_total=np.atleast_1d(np.asarray(getattr(plan.inference_aware, key), float)),
        sweep_demand=grid,
        sweep_params=np.asarray(sweep.inference_aware.params, float),
        sweep_saving=np.asarray(saving, float),
        break_even=plan.break_even_tokens,
        citation=plan.citation,
    )


@dataclass(frozen=True, eq=False)
class FitSeries:
    """A parametric fit drawn over its runs: points, isoFLOP curves per FLOP level, residuals, N_opt(C) band."""

    source: str
    label: str
    params: np.ndarray  # (n_runs,)
    tokens: np.ndarray
    flops: np.ndarray
    loss: np.ndarray
    residuals: np.ndarray  # fit.residuals: ln L_observed - ln L_fitted
    level: np.ndarray  # (n_runs,) index of each run's FLOP level
    level_flops: np.ndarray  # (k,) geometric mean budget of each level
    curve_params: np.ndarray  # (k, points)
    curve_loss: np.ndarray  # (k, points) fit.loss(N, C/6N)
    curve_opt_params: np.ndarray  # (k,) fit.optimum(C)
    curve_opt_loss: np.ndarray
    flops_grid: np.ndarray  # (p,)
    params_opt: np.ndarray  # (p,) point estimate N_opt(C)
    band: dict  # "80%" -> (2, p) percentile band of N_opt(C) over bootstrap samples
    boot_n: int
    marks: tuple  # bootstrap allocation rows (the JSON's): flops, params, intervals


def _flop_levels(log10_c: np.ndarray, max_levels: int = 8) -> np.ndarray:
    """Level index per run: the designed levels of an isoFLOP sweep if there are a few, else equal bins in log C."""
    from ..fit.parametric import group_levels

    groups = group_levels(log10_c, 0.1)
    if 2 <= len(groups) <= 12 and all(g.size >= 3 for g in groups):
        level = np.empty(log10_c.size, int)
        for j, g in enumerate(groups):
            level[g] = j
        return level
    k = max(1, min(max_levels, log10_c.size // 5))
    edges = np.linspace(log10_c.min(), log10_c.max(), k + 1)
    raw = np.clip(np.searchsorted(edges, log10_c, side="right") - 1, 0, k - 1)
    return np.unique(raw, return_inverse=True)[1].ravel()


def nopt_band(samples: np.ndarray, flops, levels=(0.8, 0.95)) -> dict:
    """Percentile bands of N_opt(C) over bootstrap samples (rows E, A, B, alpha, beta), as resample.bootstrap does."""
    from ..fit.parametric import level_label

    s = np.asarray(samples, float)
    constants = {"A": s[:, 1:2], "B": s[:, 2:3], "alpha": s[:, 3:4], "beta": s[:, 4:5]}
    n, _ = forms.parametric_optimum(constants, np.asarray(flops, float)[None, :])
    return {level_label(lv): np.percentile(n, [50 * (1 - lv), 50 * (1 + lv)], axis=0) for lv in levels}


def fit_series(runs, fit, boot=None, points: int = 120, grid_points: int = 120) -> FitSeries:
    """Series for `fit.fit_parametric(runs)` and optionally `resample.bootstrap(runs, ...)`."""
    log10_c = np.log10(runs.flops)
    level = _flop_levels(log10_c)
    k = int(level.max()) + 1
    level_flops = np.array([10 ** log10_c[level == j].mean() for j in range(k)])
    lo = np.array([runs.params[level == j].min() for j in range(k)]) / 1.5
    hi = np.array([runs.params[level == j].max() for j in range(k)]) * 1.5
    curve_n = np.exp(np.log(lo)[:, None] + np.log(hi / lo)[:, None] * np.linspace(0, 1, int(points))[None, :])
    curve_loss = fit.loss(curve_n, tokens_for(level_flops[:, None], curve_n))
    n_opt, d_opt = fit.optimum(level_flops)
    budgets = tuple(boot.budgets) if boot is not None else ()
    top = max([runs.flops.max() * 1e4, *(3.0 * c for c in budgets)])
    grid = np.geomspace(runs.flops.min(), top, int(grid_points))
    band = nopt_band(boot.samples, grid, boot.levels) if boot is not None else {}
    return FitSeries(
        source=runs.source,
        label=f"fit: L = {fit.E:.3g} + {fit.A:.4g}/N^{fit.alpha:.3f} + {fit.B:.4g}/D^{fit.beta:.3f}",
        params=runs.params,
        tokens=runs.tokens,
        flops=runs.flops,
        loss=runs.loss,
        residuals=np.asarray(fit.residuals, float),
        level=level,
        level_flops=level_flops,
        curve_params=curve_n,
        curve_loss=np.asarray(curve_loss, float),
        curve_opt_params=np.asarray(n_opt, float),
        curve_opt_loss=np.asarray(fit.loss(n_opt, d_opt), float),
        flops_grid=grid,
        params_opt=np.asarray(fit.optimum(grid)[0], float),
        band=band,
        boot_n=0 if boot is None else boot.n,
        marks=tuple(boot.to_dict()["allocation"]) if boot is not None else (),
    )
