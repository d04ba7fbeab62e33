"""The tables of a fit: the fitted constants, the implied allocation and its bootstrap intervals, isoFLOP minima."""

from __future__ import annotations

from rich.console import Console

from ..schema.units import (
    fmt_count,
    fmt_number,
    fmt_sci,
)
from .tables import Format, emit_grid, gap


def _constant_rows(fit, boot) -> tuple[list[str], list[list[str]]]:
    """The fitted constants with their bootstrap intervals, as (headers, rows)."""
    rows = []
    for key in ("E", "A", "B", "alpha", "beta", "a", "b"):
        row = [key, f"{getattr(fit, key):.5g}"]
        if boot is not None:
            row += [f"{lo:.4g} .. {hi:.4g}" for lo, hi in boot.intervals[key].values()]
        rows.append(row)
    return ["constant", "estimate"] + ([f"{k} interval" for k in boot.intervals["E"]] if boot else []), rows


def _or_dash(value, fmt) -> str:
    """A number as `fmt` writes it, or '-' where there is none (a fit that implies no allocation)."""
    import math

    return "-" if value is None or not math.isfinite(value) else fmt(value)


def _allocation_tables(console: Console, fmt: Format, allocation: list[dict], boot) -> None:
    """The implied compute-optimal allocation of a fitted law, and its bootstrap intervals."""
    gap(console, fmt)
    emit_grid(
        console,
        fmt,
        "Implied compute-optimal allocation",
        ["budget", "params", "tokens", "tokens/param", "loss"],
        [
            [
                fmt_sci(a["flops"]),
                _or_dash(a["params"], fmt_count),
                _or_dash(a["tokens"], fmt_count),
                _or_dash(a["tokens_per_param"], fmt_number),
                _or_dash(a["loss"], lambda v: f"{v:.3f}"),
            ]
            for a in allocation
        ],
        {},
    )
    if boot is None:
        return
    gap(console, fmt)
    rows = []
    for row in boot.to_dict()["allocation"]:
        for level, (lo, hi) in row["intervals"]["params"].items():
            t_lo, t_hi = row["intervals"]["tokens"][level]
            rows.append(
                [
                    fmt_sci(row["flops"]),
                    level,
                    f"{_or_dash(lo, fmt_count)} .. {_or_dash(hi, fmt_count)}",
                    f"{_or_dash(t_lo, fmt_count)} .. {_or_dash(t_hi, fmt_count)}",
                ]
            )
    emit_grid(
        console,
        fmt,
        f"Bootstrap intervals ({boot.n} resamples)",
        ["budget", "level", "params", "tokens"],
        rows,
        {},
        f"Intervals are {boot.to_dict()['interval']} of the refits; {boot.to_dict()['interval_why']}.",
    )


def emit_fit(console: Console, fmt: Format, runs, parametric, boot, iso, bias=None, budgets=(1e21, 1e23, 1e25)) -> None:
    """`scaleplan fit` (Huber on log loss): the constants, the implied allocation, the isoFLOP minima."""
    if runs is not None:
        caption = f"{runs.summary().get('n_runs', len(runs))} runs from {runs.source}"
    else:  # a fit rendered by itself (ParametricFit.to_table): its residuals count the runs
        caption = f"{len(parametric.residuals) if parametric is not None else 0} runs"
    if parametric is not None:
        headers, rows = _constant_rows(parametric, boot)
        r = parametric.residuals
        emit_grid(
            console,
            fmt,
            "Fitted law: L = E + A/N^alpha + B/D^beta (Huber, delta 1e-3, on log loss)",
            headers,
            rows,
            {},
            f"{caption}; residual RMS {float((r * r).mean() ** 0.5):.4f} in log loss; "
            f"objective {parametric.objective:.6g}. Method: Hoffmann et al. 2022 App. D.2, Besiroglu et al. 2024.",
        )
        budgets = [a["flops"] for a in boot.to_dict()["allocation"]] if boot else budgets
        _allocation_tables(console, fmt, parametric.allocation(budgets), boot)
    if iso is not None:
        if parametric is not None:
            gap(console, fmt)
        rows = [
            [fmt_sci(lv.flops), fmt_count(lv.params_opt), fmt_count(lv.tokens_opt), str(lv.n_runs)] for lv in iso.levels
        ]
        emit_grid(
            console,
            fmt,
            "IsoFLOP minima (Approach 2)",
            ["FLOPs", "params", "tokens", "runs"],
            rows,
            {},
            f"N_opt = {iso.n_coef:.4g} C^{iso.a:.4f}; D_opt = {iso.d_coef:.4g} C^{iso.b:.4f}",
        )
        if bias is not None:
            gap(console, fmt)
            emit_grid(
                console,
                fmt,
                "Approach 2 against the parametric fit",
                ["budget", "tokens (A2)", "tokens (A3)", "A2 / A3"],
                [
                    [
                        fmt_sci(b["flops"]),
                        fmt_count(b["tokens_isoflop"]),
                        fmt_count(b["tokens_parametric"]),
                        f"{b['tokens_ratio']:.2f}",
                    ]
                    for b in bias
                ],
                {},
                "Czech (Open-Athena) finds Approach 2 over-estimating compute-optimal tokens (58-75% on Llama 3's "
                "isoFLOP data).",
            )


def emit_fit_vp(console: Console, fmt: Format, runs, vp, boot, allocation: list[dict]) -> None:
    """`scaleplan fit --method vp` (least squares on the loss): the constants and the implied allocation."""
    import numpy as np

    headers, rows = _constant_rows(vp, boot)
    pad = [""] * (len(headers) - 2)
    rows += [
        ["RSS", f"{vp.rss:.6g}", *pad],
        ["residual RMS", f"{float(np.sqrt(np.mean(vp.residuals**2))):.4f}", *pad],
        ["rows fitted", f"{len(runs) if runs is not None else len(vp.residuals):,}", *pad],
    ]
    emit_grid(
        console,
        fmt,
        "Fitted law, least squares on the loss",
        headers,
        rows,
        {},
        "L = E + A/N^alpha + B/D^beta by variable projection (E. Czech, Open-Athena)"
        + (f"; {boot.n} bootstrap refits" if boot else "")
        + ".",
    )
    _allocation_tables(console, fmt, allocation, boot)


def emit_fit_alone(console: Console, fmt: Format, fit) -> None:
    """A parametric fit by itself: its constants and implied allocation (the CLI's `fit` adds the runs, bootstrap
    and isoFLOP tables)."""
    if fmt in (Format.json, Format.csv):
        return emit_grid(console, fmt, None, [], [], fit.to_dict())
    if fit.estimator == "vp":  # the one ParametricFit type: a least-squares fit has its own table
        return emit_fit_vp(console, fmt, None, fit, None, fit.allocation((1e21, 1e23, 1e25)))
    emit_fit(console, fmt, None, fit, None, None)


def emit_isoflop(console: Console, fmt: Format, iso) -> None:
    """Approach 2 by itself: the minimum of each FLOP level and the power laws through them."""
    rows = [
        [fmt_sci(lv.flops), fmt_count(lv.params_opt), fmt_count(lv.tokens_opt), str(lv.n_runs)] for lv in iso.levels
    ]
    emit_grid(
        console,
        fmt,
        "IsoFLOP minima (Approach 2)",
        ["FLOPs", "params", "tokens", "runs"],
        rows,
        iso.to_dict() if fmt is Format.json else [dict(vars(lv)) for lv in iso.levels],
        f"N_opt = {iso.n_coef:.4g} C^{iso.a:.4f}; D_opt = {iso.d_coef:.4g} C^{iso.b:.4f}",
    )
