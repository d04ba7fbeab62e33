"""Figures for every planning command: pure numpy "series" functions, then matplotlib drawing (Agg, lazy).

Two layers, so tests can check that what is drawn is what the JSON says:

* series functions (numpy only, no matplotlib) return frozen dataclasses of arrays:
      allocation_series(laws, flops)      N_opt(C), D_opt(C) curves; the user's budgets marked with the numbers
                                          of allocate() (one law) or compare() (several laws, one convention)
      isoflop_series(law, flops)          loss against N at fixed C, its minimum, and the band of N whose loss is
                                          within `within` (0.5%) of the minimum, edges solved to machine precision
      inference_series(plan)              total cost against N at the target loss; optimal N against demand
      fit_series(runs, fit, boot)         runs coloured by FLOP level, the fitted isoFLOP curves, residuals, and
                                          the bootstrap band on N_opt(C)
* render_* functions draw a series into PNG bytes (fixed pixel sizes: SIZES), plot_* write them with
  files.write_atomic (never over an input, never half-written), and save_*_figure take the library's results
  (Plan, Comparison, InferencePlan, a fit) for the CLI's --plot FILE.png.

matplotlib is imported inside the render functions only, through its object-oriented API with the Agg canvas
(no pyplot, no global backend switch), so `import scaleplan.present.plot` costs nothing and commands without --plot
stay fast.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import laws
from ..core import solvers
from ..core.errors import ScaleplanError
from ..laws import forms
from ..schema.units import fmt_count, fmt_dollars, fmt_sci

DPI = 100
# Pixel sizes (width, height) of each figure; tests assert them from the PNG header.
SIZES = {
    "allocation": (1600, 800),  # N_opt(C) | D_opt(C)
    "allocation+isoflop": (1600, 1400),  # N_opt(C) | D_opt(C) over the IsoFLOP valley (full width)
    "isoflop": (1400, 800),
    "inference": (1600, 800),  # total cost vs N | optimal N vs demand
    "fit": (1600, 1300),  # runs + isoFLOP curves (full width) over residuals | N_opt band
}
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


def _pct(x: float) -> str:
    return f"{100 * x:+.0f}%"


def _tidy(text: str) -> str:
    """'3.00B' -> '3B', '2.50B' -> '2.5B', '$1.50M' -> '$1.5M': tick labels without padded zeros."""
    return re.sub(r"\.?0+(?=[KMBTP]$)", "", text) if "." in text else text


def _title(text: str, width: int = 110) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) if len(text) > width else text


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
    return law.loss(n, flops / (6.0 * n))


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
        tokens=c[:, None] / (6.0 * n),
        loss=law.loss(n, c[:, None] / (6.0 * n)),
        params_opt=n_opt,
        tokens_opt=c / (6.0 * n_opt),
        loss_opt=loss_opt,
        plan_params=np.asarray(plan.params, float),
        plan_tokens=np.asarray(plan.tokens, float),
        plan_loss=np.asarray(plan.loss, float),
        band_params=band,
        band_tokens=c[:, None] / (6.0 * band),
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
    from ..fit.isoflop import group_levels

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
    from ..fit.result import level_label

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
    curve_loss = fit.loss(curve_n, level_flops[:, None] / (6.0 * curve_n))
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


# ---------------------------------------------------------------------------------------------------------------
# Drawing: matplotlib imported here only


_RC: dict[Any, Any] = {  # matplotlib types rc keys as Literals
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "figure.titlesize": 16,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.framealpha": 0.9,
}


def _figure(kind: str):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is an optional extra
        raise ScaleplanError("--plot needs matplotlib: pip install 'scaleplan[plot]'") from None
    w, h = SIZES[kind]
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas, without pyplot's global state
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _draw(kind: str, body) -> bytes:
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = _figure(kind)
        body(fig)
        return _png(fig)


def _ticks(axis, fmt) -> None:
    """Label a log axis with `fmt` (1B, 10B), and its 2x/5x (and 3x) minor ticks when it spans under 2.5 decades."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: _tidy(fmt(v)) if v > 0 else ""))

    def minor(v, _):
        lo, hi = sorted(axis.get_view_interval())
        if v <= 0 or lo <= 0 or hi / lo > 300:
            return ""
        m = v / 10 ** np.floor(np.log10(v) + 1e-9)
        shown = (2, 3, 5) if hi / lo < 30 else (2, 5)
        return _tidy(fmt(v)) if abs(m - round(m)) < 1e-6 and round(m) in shown else ""

    axis.set_minor_formatter(FuncFormatter(minor))


def _solid_and_dashed(ax, x, y, inside, color, label):
    """Solid where `inside`, dashed elsewhere; the two pieces touch at the boundary."""
    y_in = np.where(inside, y, np.nan)
    outside = ~inside
    grow = outside.copy()  # extend the dashed part one point into the solid one so there is no gap
    grow[1:] |= outside[:-1]
    grow[:-1] |= outside[1:]
    ax.plot(x, y_in, color=color, lw=2.4, label=label)
    ax.plot(x, np.where(grow, y, np.nan), color=color, lw=2.0, ls=(0, (5, 3)))


def _allocation_panels(fig, axes, s: AllocationSeries):
    from matplotlib.lines import Line2D

    colors = [f"C{i % 10}" for i in range(len(s.laws))]
    annotate = len(s.laws) * s.budgets.size <= 4
    for ax, curves, marks, what, unit in (
        (axes[0], s.params, s.budget_params, "model size N_opt(C)", s.params_axis),
        (axes[1], s.tokens, s.budget_tokens, "training tokens D_opt(C)", "training tokens D"),
    ):
        for i, label in enumerate(s.labels):
            _solid_and_dashed(ax, s.flops, curves[i], s.in_range[i], colors[i], label)
            ax.scatter(s.budgets, marks[i], s=90, color=colors[i], edgecolor="black", zorder=5)
            if annotate:
                for c, v in zip(s.budgets, marks[i]):
                    ax.annotate(
                        fmt_count(v),
                        (c, v),
                        xytext=(10, -18),
                        textcoords="offset points",
                        fontsize=12,
                        fontweight="bold",
                        color=colors[i],
                    )
        for c in s.budgets:
            ax.axvline(c, color="0.35", ls=":", lw=1.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _ticks(ax.yaxis, fmt_count)
        ax.set_xlabel("training compute C (FLOPs)")
        ax.set_ylabel(unit)
        ax.set_title(f"Compute-optimal {what}")
        handles, labels = ax.get_legend_handles_labels()
        handles += [
            Line2D([], [], color="0.3", lw=2.4),
            Line2D([], [], color="0.3", lw=2.0, ls=(0, (5, 3))),
            Line2D([], [], color="0.35", ls=":", marker="o", markeredgecolor="black", markersize=8),
        ]
        shown = ", ".join(fmt_sci(c) for c in s.budgets[:4]) + (" ..." if s.budgets.size > 4 else "")
        labels += [
            "within fitted FLOP range",
            "extrapolated",
            f"your budget{'s' if s.budgets.size > 1 else ''}: {shown} FLOPs",
        ]
        ax.legend(handles, labels, loc="upper left")


def _isoflop_panel(ax, s: IsoflopSeries, j: int = 0):
    n, loss = s.params[j], s.loss[j]
    lo, hi = s.band_params[j]
    ax.plot(n, loss, color="C0", lw=2.4, label=f"{s.label} at C = {fmt_sci(s.flops[j])} FLOPs")
    ax.axvspan(
        lo,
        hi,
        color="C2",
        alpha=0.18,
        label=(
            f"loss within {100 * s.within:g}% of optimum: N = {fmt_count(lo)} .. {fmt_count(hi)} "
            f"({_pct(s.band_ratio[j, 0] - 1)} / {_pct(s.band_ratio[j, 1] - 1)}), "
            f"D = {fmt_count(s.band_tokens[j, 1])} .. {fmt_count(s.band_tokens[j, 0])}"
        ),
    )
    ax.axhline(
        s.band_loss[j], color="C2", ls="--", lw=1.5, label=f"(1 + {s.within:g}) x optimal loss = {s.band_loss[j]:.4f}"
    )
    ax.scatter(
        [s.params_opt[j]],
        [s.loss_opt[j]],
        marker="*",
        s=320,
        color="C3",
        edgecolor="black",
        zorder=5,
        label=(
            f"minimum: N = {fmt_count(s.params_opt[j])}, D = {fmt_count(s.tokens_opt[j])}, loss {s.loss_opt[j]:.4f}"
        ),
    )
    if not np.isclose(s.plan_params[j], s.params_opt[j], rtol=1e-6):
        ax.scatter(
            [s.plan_params[j]],
            [s.plan_loss[j]],
            marker="D",
            s=90,
            color="C1",
            edgecolor="black",
            zorder=5,
            label=f"{s.law}'s N_opt(C) (allocate): N = {fmt_count(s.plan_params[j])}, loss {s.plan_loss[j]:.4f}",
        )
    ax.set_xscale("log")
    _ticks(ax.xaxis, fmt_count)
    ax.set_xlabel(f"{s.params_axis} (D = C / 6N)")
    ax.set_ylabel("predicted loss (nats/token)")
    ax.set_title(f"IsoFLOP valley: how flat is the optimum? ({s.loss_units})", fontsize=13)
    top = s.loss_opt[j] * (1 + 6.5 * s.within)
    ax.set_ylim(s.loss_opt[j] - (top - s.loss_opt[j]) * 0.08, top)
    ax.legend(loc="upper center", fontsize=11)


def render_allocation(series: AllocationSeries, isoflop: IsoflopSeries | None = None) -> bytes:
    """PNG bytes: N_opt(C) | D_opt(C) (1600x800), with the IsoFLOP valley below at full width (1600x1400)."""

    def body(fig):
        if isoflop is None:
            axes = fig.subplots(1, 2)
        else:
            grid = fig.add_gridspec(2, 2, height_ratios=[1, 0.85])
            axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
            _isoflop_panel(fig.add_subplot(grid[1, :]), isoflop)
        _allocation_panels(fig, axes, series)
        conv = (
            "each law's own parameter count"
            if series.convention == "native"
            else "total parameters, C = 6 N_total D (laws converted to one convention)"
        )
        named = (
            ", ".join(series.labels)
            if len(series.labels) <= 3
            else f"{len(series.labels)} laws compared (named in the legends)"
        )
        fig.suptitle(_title(f"Compute-optimal allocation: {named}") + f"\n{conv}", fontsize=15)

    return _draw("allocation+isoflop" if isoflop is not None else "allocation", body)


def render_isoflop(series: IsoflopSeries) -> bytes:
    """PNG bytes (1400x800): the IsoFLOP valley at the first budget of the series."""

    def body(fig):
        _isoflop_panel(fig.subplots(), series)

    return _draw("isoflop", body)


def _inference_cost_panel(ax, s: InferenceSeries) -> None:
    """Total cost (training + inference) against N at the target loss, the two optima marked."""
    from matplotlib.ticker import FuncFormatter

    money = s.measure == "dollars"
    fmt_cost = fmt_dollars if money else (lambda v: f"{fmt_sci(v)} FLOPs")
    single = s.demand.size == 1
    for j in range(s.demand.size):
        color = "C0" if single else f"C{j % 10}"
        ax.plot(
            s.params[j],
            s.total[j],
            color=color,
            lw=2.6,
            label="total (training + inference)" if single else f"total, {fmt_sci(s.demand[j])} tokens served",
        )
        if single:
            ax.plot(s.params[j], s.training[j], color="C7", lw=1.8, ls="--", label="training")
            ax.plot(s.params[j], s.inference[j], color="C4", lw=1.8, ls=":", label="inference")
        ax.scatter(
            [s.compute_optimal_params[j]],
            [s.compute_optimal_total[j]],
            s=110,
            color="white",
            edgecolor="black",
            lw=1.8,
            zorder=5,
            label=(
                f"compute-optimal: N = {fmt_count(s.compute_optimal_params[j])}, {fmt_cost(s.compute_optimal_total[j])}"
            )
            if single
            else ("compute-optimal model" if j == 0 else None),
        )
        ax.scatter(
            [s.aware_params[j]],
            [s.aware_total[j]],
            marker="*",
            s=320,
            color="C3",
            edgecolor="black",
            zorder=6,
            label=(f"inference-aware: N = {fmt_count(s.aware_params[j])}, {fmt_cost(s.aware_total[j])}")
            if single
            else ("inference-aware optimum" if j == 0 else None),
        )
    ax.set_xscale("log")
    _ticks(ax.xaxis, fmt_count)
    money_tick = (lambda v: _tidy(fmt_dollars(v))) if money else fmt_sci
    if single:
        ax.set_ylim(0, 1.9 * max(s.compute_optimal_total[0], s.aware_total[0]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money_tick(v) if v > 0 else "0"))
    else:
        ax.set_yscale("log")
        _ticks(ax.yaxis, money_tick)
    ax.set_xlabel("parameters N (total)")
    ax.set_ylabel(f"total {'cost (dollars)' if money else 'compute (FLOPs)'}")
    served = f"{fmt_sci(s.demand[0])} tokens served" if single else f"{s.demand.size} demands"
    ax.set_title(f"Total {'cost' if money else 'FLOPs'} at loss {s.loss:.4f}, {served}")
    ax.legend(loc="upper center" if single else "best")


def _inference_demand_panel(right, s: InferenceSeries) -> None:
    """The inference-aware N against demand, with what it saves on a second axis."""
    right.plot(s.sweep_demand, s.sweep_params, color="C3", lw=2.6, label="inference-aware N")
    right.axhline(
        s.compute_optimal_params[0],
        color="0.3",
        ls="--",
        lw=1.8,
        label=f"compute-optimal N = {fmt_count(s.compute_optimal_params[0])}",
    )
    right.scatter(
        s.demand, s.aware_params, marker="*", s=320, color="C3", edgecolor="black", zorder=5, label="your demand"
    )
    if s.break_even:  # None: no demand saves 1%; 0: a frontier law's surface saves with nothing served
        right.axvline(s.break_even, color="C2", ls=":", lw=2, label=f"saves > 1% above {fmt_sci(s.break_even)} tokens")
    right.set_xscale("log")
    right.set_yscale("log")
    _ticks(right.yaxis, fmt_count)
    right.set_xlabel("inference demand (tokens served over the model's life)")
    right.set_ylabel("parameters N (total)")
    right.set_title("Optimal model size against inference demand")
    twin = right.twinx()
    twin.plot(
        s.sweep_demand, 100 * s.sweep_saving, color="C0", lw=1.8, ls="-.", label=f"{s.measure} saved (right axis)"
    )
    twin.set_ylabel(f"{s.measure} saved vs compute-optimal (%)", color="C0")
    twin.tick_params(axis="y", colors="C0")
    twin.grid(False)
    twin.spines["right"].set_visible(True)
    twin.set_ylim(bottom=0)
    h1, l1 = right.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    right.legend(h1 + h2, l1 + l2, loc="lower left")


def render_inference(series: InferenceSeries) -> bytes:
    """PNG bytes (1600x800): total cost against N at the target loss | inference-aware N against demand."""
    s = series

    def body(fig):
        ax, right = fig.subplots(1, 2)
        _inference_cost_panel(ax, s)
        _inference_demand_panel(right, s)
        fig.suptitle(
            _title(
                f"Inference-aware sizing (Sardana et al. 2024) with {s.label}, minimising "
                f"{'dollars' if s.measure == 'dollars' else 'FLOPs'}"
            ),
            fontsize=15,
        )

    return _draw("inference", body)


def _fit_runs_panel(fig, top, s: FitSeries, norm, cmap: str) -> None:
    """The runs coloured by FLOPs, the fitted law along each FLOP level and its optimum per level."""
    import matplotlib

    points = top.scatter(
        s.params,
        s.loss,
        c=s.flops,
        cmap=cmap,
        norm=norm,
        s=30,
        edgecolor="black",
        lw=0.4,
        zorder=3,
        label=f"runs ({s.params.size}), coloured by training FLOPs",
    )
    colormap = matplotlib.colormaps[cmap]
    for j, c in enumerate(s.level_flops):
        top.plot(
            s.curve_params[j],
            s.curve_loss[j],
            color=colormap(norm(c)),
            lw=2.2,
            label="fitted law along each FLOP level (C = 6ND)" if j == 0 else None,
        )
    top.scatter(
        s.curve_opt_params,
        s.curve_opt_loss,
        marker="*",
        s=220,
        color="C3",
        edgecolor="black",
        zorder=4,
        label="fitted optimum per level",
    )
    top.set_xscale("log")
    _ticks(top.xaxis, fmt_count)
    top.set_xlabel("parameters N")
    top.set_ylabel("loss (nats/token)")
    top.set_title(f"Runs from {Path(s.source).name} and the {s.label}")
    top.legend(loc="upper right")
    fig.colorbar(points, ax=top, label="training compute C (FLOPs)", pad=0.01)


def _fit_residuals_panel(resid, s: FitSeries, norm, cmap: str) -> None:
    resid.scatter(s.params, s.residuals, c=s.flops, cmap=cmap, norm=norm, s=24, edgecolor="black", lw=0.3)
    resid.axhline(0.0, color="0.2", lw=1.2)
    resid.set_xscale("log")
    _ticks(resid.xaxis, fmt_count)
    resid.set_xlabel("parameters N")
    resid.set_ylabel("residual ln L_observed - ln L_fitted")
    rms = float(np.sqrt(np.mean(s.residuals**2)))
    resid.set_title(f"Residuals (RMS {rms:.4f} in log loss)")


def _fit_nopt_panel(nopt, s: FitSeries) -> None:
    """N_opt(C) of the fit, its bootstrap bands, and the interval at each of the fit's budgets."""
    nopt.plot(s.flops_grid, s.params_opt, color="C3", lw=2.4, label="N_opt(C), full-data fit")
    shades = sorted(s.band.items(), key=lambda kv: -float(kv[0].rstrip("%")))
    for (label, band), alpha in zip(shades, (0.15, 0.3, 0.45)):
        nopt.fill_between(
            s.flops_grid,
            band[0],
            band[1],
            color="C3",
            alpha=alpha,
            lw=0,
            label=f"{label} bootstrap band ({s.boot_n} resamples)",
        )
    for i, row in enumerate(s.marks):
        level = max(row["intervals"]["params"], key=lambda k: float(k.rstrip("%")))
        lo, hi = row["intervals"]["params"][level]
        nopt.errorbar(
            [row["flops"]],
            [row["params"]],
            yerr=[[row["params"] - lo], [hi - row["params"]]],
            fmt="o",
            color="black",
            capsize=5,
            ms=6,
            zorder=5,
            label=f"N_opt and {level} interval at the fit's budgets" if i == 0 else None,
        )
        nopt.annotate(
            f"{fmt_count(row['params'])}\n({fmt_count(lo)} .. {fmt_count(hi)})",
            (row["flops"], hi),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=10,
        )
    nopt.axvspan(s.flops.min(), s.flops.max(), color="0.5", alpha=0.12, label="FLOPs of the runs")
    nopt.set_xscale("log")
    nopt.set_yscale("log")
    _ticks(nopt.yaxis, fmt_count)
    nopt.set_xlabel("training compute C (FLOPs)")
    nopt.set_ylabel("compute-optimal parameters N_opt")
    nopt.set_title("Compute-optimal N from the fit" + (" with bootstrap band" if s.band else ""))
    nopt.legend(loc="upper left")


def render_fit(series: FitSeries) -> bytes:
    """PNG bytes (1600x1300): runs and fitted isoFLOP curves | residuals | bootstrap band on N_opt(C)."""
    s = series

    def body(fig):
        from matplotlib.colors import LogNorm

        grid = fig.add_gridspec(2, 2, height_ratios=[1.15, 1])
        top, resid, nopt = fig.add_subplot(grid[0, :]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
        norm = LogNorm(s.flops.min(), s.flops.max() * (1.0001 if s.flops.min() == s.flops.max() else 1.0))
        _fit_runs_panel(fig, top, s, norm, "viridis")
        _fit_residuals_panel(resid, s, norm, "viridis")
        _fit_nopt_panel(nopt, s)
        fig.suptitle("Scaling-law fit (Hoffmann et al. 2022 Approach 3, Besiroglu et al. 2024)", fontsize=15)

    return _draw("fit", body)


# ---------------------------------------------------------------------------------------------------------------
# Writing


def _check_png_path(path, inputs=(), force: bool = False) -> Path:
    """Fail before drawing: a .png name, an existing folder, not one of the command's inputs, not an existing
    file unless `force`."""
    from ..core.files import check_target

    return check_target(path, inputs, suffix=".png", force=force, what="--plot")


def _write(path, data: bytes, inputs, force: bool = False) -> Path:
    from ..core.files import write_atomic

    return write_atomic(path, data, inputs=inputs, force=force, what="--plot")


def plot_allocation(
    series: AllocationSeries, path, isoflop: IsoflopSeries | None = None, inputs=(), force: bool = False
) -> Path:
    return _write(_check_png_path(path, inputs, force), render_allocation(series, isoflop), inputs, force)


def plot_isoflop(series: IsoflopSeries, path, inputs=(), force: bool = False) -> Path:
    return _write(_check_png_path(path, inputs, force), render_isoflop(series), inputs, force)


def plot_inference(series: InferenceSeries, path, inputs=(), force: bool = False) -> Path:
    return _write(_check_png_path(path, inputs, force), render_inference(series), inputs, force)


def plot_fit(series: FitSeries, path, inputs=(), force: bool = False) -> Path:
    return _write(_check_png_path(path, inputs, force), render_fit(series), inputs, force)


# ---------------------------------------------------------------------------------------------------------------
# From the library's results (the CLI's --plot FILE.png)


def save_plan_figure(plan, path, law=None, inputs=(), points: int = 200, force: bool = False) -> Path:
    """`allocate --plot`: N_opt/D_opt against C for the plan's law with its budget marked, plus the IsoFLOP
    valley when the law predicts loss. `law` defaults to plan.law (pass the Law for a law file)."""
    path = _check_png_path(path, inputs, force)
    law = laws.get(law if law is not None else plan.law)
    flops = np.atleast_1d(np.asarray(plan.flops, float))
    series = allocation_series([law], flops, points=points)
    iso = isoflop_series(law, flops[:1], points=points) if law.predicts_loss else None
    return _write(path, render_allocation(series, iso), inputs, force)


def save_comparison_figure(comparison, path, inputs=(), points: int = 200, law_specs=None, force: bool = False) -> Path:
    """`compare --plot`: every law's N_opt/D_opt against C in the comparison's convention, its budgets marked.

    `law_specs` are the names as given (needed only for law files, whose rows carry the law's own name)."""
    path = _check_png_path(path, inputs, force)
    names = law_specs or list(dict.fromkeys(r["law"] for r in comparison.rows))
    flops = list(dict.fromkeys(r["flops"] for r in comparison.rows))
    return _write(path, render_allocation(allocation_series(names, flops, points=points, common=True)), inputs, force)


def save_inference_figure(plan, path, law=None, inputs=(), points: int = 200, force: bool = False) -> Path:
    """`inference-aware --plot`: total cost against N (both optima marked) and optimal N against demand."""
    path = _check_png_path(path, inputs, force)
    return _write(path, render_inference(inference_series(plan, law=law, points=points)), inputs, force)


def save_fit_figure(runs, fit, path, boot=None, inputs=(), force: bool = False) -> Path:
    """`fit --plot`: runs coloured by FLOPs with the fitted isoFLOP curves, residuals, N_opt(C) with bootstrap band.

    Pass the runs file in `inputs` so the figure can never replace it."""
    path = _check_png_path(path, inputs, force)
    return _write(path, render_fit(fit_series(runs, fit, boot)), inputs, force)


__all__ = [
    "SIZES",
    "AllocationSeries",
    "FitSeries",
    "InferenceSeries",
    "IsoflopSeries",
    "allocation_series",
    "fit_series",
    "inference_series",
    "isoflop_series",
    "law_label",
    "nopt_band",
    "plot_allocation",
    "plot_fit",
    "plot_inference",
    "plot_isoflop",
    "render_allocation",
    "render_fit",
    "render_inference",
    "render_isoflop",
    "save_comparison_figure",
    "save_fit_figure",
    "save_inference_figure",
    "save_plan_figure",
]
