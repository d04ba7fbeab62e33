"""Figures for every planning command: matplotlib drawing (Agg, lazy) of the series in plot_series.

The series (numpy only) are what is drawn and what tests compare with the JSON; render_* functions draw a series
into PNG bytes (fixed pixel sizes: SIZES), plot_* write them with files.write_atomic (never over an input, never
half-written), and save_*figure take the library's results (Plan, Comparison, InferencePlan, a fit) for the CLI's
--plot FILE.png. The series' names are re-exported here (scaleplan.plot.allocation_series and the like).

matplotlib is imported inside the render functions only, through its object-oriented API with the Agg canvas
(no pyplot, no global backend switch), so `import scaleplan.present.plot` costs nothing and commands without --plot
stay fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import laws
from ..schema.units import fmt_count, fmt_dollars, fmt_sci
from .plot_series import (
    WITHIN,
    AllocationSeries,
    FitSeries,
    InferenceSeries,
    IsoflopSeries,
    allocation_series,
    fit_series,
    inference_series,
    isoflop_series,
    law_label,
    nopt_band,
)
from .plot_style import SIZES, draw, pct, solid_and_dashed, ticks, tidy, title


def _allocation_panels(fig, axes, s: AllocationSeries):
    from matplotlib.lines import Line2D

    colors = [f"C{i % 10}" for i in range(len(s.laws))]
    annotate = len(s.laws) * s.budgets.size <= 4
    for ax, curves, marks, what, unit in (
        (axes[0], s.params, s.budget_params, "model size N_opt(C)", s.params_axis),
        (axes[1], s.tokens, s.budget_tokens, "training tokens D_opt(C)", "training tokens D"),
    ):
        for i, label in enumerate(s.labels):
            solid_and_dashed(ax, s.flops, curves[i], s.in_range[i], colors[i], label)
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
        ticks(ax.yaxis, fmt_count)
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
            f"({pct(s.band_ratio[j, 0] - 1)} / {pct(s.band_ratio[j, 1] - 1)}), "
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
    ticks(ax.xaxis, fmt_count)
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
        fig.suptitle(title(f"Compute-optimal allocation: {named}") + f"\n{conv}", fontsize=15)

    return draw("allocation+isoflop" if isoflop is not None else "allocation", body)


def render_isoflop(series: IsoflopSeries) -> bytes:
    """PNG bytes (1400x800): the IsoFLOP valley at the first budget of the series."""

    def body(fig):
        _isoflop_panel(fig.subplots(), series)

    return draw("isoflop", body)


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
    ticks(ax.xaxis, fmt_count)
    money_tick = (lambda v: tidy(fmt_dollars(v))) if money else fmt_sci
    if single:
        ax.set_ylim(0, 1.9 * max(s.compute_optimal_total[0], s.aware_total[0]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money_tick(v) if v > 0 else "0"))
    else:
        ax.set_yscale("log")
        ticks(ax.yaxis, money_tick)
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
    ticks(right.yaxis, fmt_count)
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
            title(
                f"Inference-aware sizing (Sardana et al. 2024) with {s.label}, minimising "
                f"{'dollars' if s.measure == 'dollars' else 'FLOPs'}"
            ),
            fontsize=15,
        )

    return draw("inference", body)


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
    ticks(top.xaxis, fmt_count)
    top.set_xlabel("parameters N")
    top.set_ylabel("loss (nats/token)")
    top.set_title(f"Runs from {Path(s.source).name} and the {s.label}")
    top.legend(loc="upper right")
    fig.colorbar(points, ax=top, label="training compute C (FLOPs)", pad=0.01)


def _fit_residuals_panel(resid, s: FitSeries, norm, cmap: str) -> None:
    resid.scatter(s.params, s.residuals, c=s.flops, cmap=cmap, norm=norm, s=24, edgecolor="black", lw=0.3)
    resid.axhline(0.0, color="0.2", lw=1.2)
    resid.set_xscale("log")
    ticks(resid.xaxis, fmt_count)
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
    ticks(nopt.yaxis, fmt_count)
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

    return draw("fit", body)


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
    "WITHIN",
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
