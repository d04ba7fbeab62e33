"""Figures for `scaleplan curve`: learning rate and loss against step (matplotlib, Agg, imported lazily).

As scaleplan.present.plot: the object-oriented API on an Agg canvas (no pyplot state), PNG bytes written atomically and
never over an input.
"""

from __future__ import annotations

import io

import numpy as np

from ..core.errors import ScaleplanError

DPI = 100
SIZE = (1400, 900)
MAX_POINTS = 4000  # points drawn per line (a 10M-step curve is thinned evenly)


def _figure():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is an optional extra
        raise ScaleplanError("--plot needs matplotlib: pip install 'scaleplan[plot]'") from None
    fig = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _thin(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(int))


def _save(fig, path, inputs, force: bool = False) -> None:
    from ..core.files import write_atomic

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    write_atomic(path, buf.getvalue(), inputs=inputs, force=force, what="--plot")


def render_predict(schedules, curves) -> bytes:
    fig = _figure()
    ax_lr, ax_loss = fig.subplots(2, 1, sharex=True, height_ratios=(1, 2))
    for s, c in zip(schedules, curves):
        i = _thin(c["lr"].size)
        ax_lr.plot(i + 1, c["lr"][i], label=s.shape_text())
        ax_loss.plot(i + 1, c["loss"][i], label=f"{s.kind}: final {c['loss'][-1]:.4f}")
    ax_lr.set_ylabel("learning rate")
    ax_lr.legend(fontsize=8)
    ax_loss.set_ylabel("predicted loss")
    ax_loss.set_xlabel("step")
    lo = min(float(np.min(c["loss"])) for c in curves)
    hi = max(float(c["loss"][max(c["loss"].size // 10, s.warmup)]) for s, c in zip(schedules, curves))
    if hi > lo:
        ax_loss.set_ylim(lo - 0.05 * (hi - lo), hi)
    ax_loss.legend(fontsize=8)
    ax_loss.set_title("L(s) = L0 + A S1^-alpha - C S2 (Tissue et al. 2024)", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def save_predict_figure(schedules, curves, path, inputs=(), force: bool = False) -> None:
    from ..core.files import write_atomic

    write_atomic(path, render_predict(schedules, curves), inputs=inputs, force=force, what="--plot")


def save_fit_figure(logs, law, path, inputs=(), force: bool = False) -> None:
    fig = _figure()
    ax_lr, ax_loss = fig.subplots(2, 1, sharex=True, height_ratios=(1, 2))
    for log in logs:
        pred = law.curve(log.lr, warmup=log.warmup)
        i = _thin(log.lr.size)
        ax_lr.plot(i + 1, log.lr[i], label=log.source)
        j = _thin(log.steps.size)
        ax_loss.plot(log.steps[j], log.loss[j], ".", ms=2, alpha=0.5, label=f"{log.source} (logged)")
        ax_loss.plot(i + 1, pred["loss"][i], "-", lw=1.5, label=f"{log.source} (fitted)")
        ax_loss.axvline(log.warmup, color="0.7", lw=0.8)
    ax_lr.set_ylabel("learning rate")
    ax_lr.legend(fontsize=8)
    ax_loss.set_ylabel("loss")
    ax_loss.set_xlabel("step")
    after = np.concatenate([g.loss[g.steps > g.warmup] for g in logs])
    if after.size:
        ax_loss.set_ylim(float(after.min()) - 0.02, float(np.percentile(after, 98)) + 0.02)
    ax_loss.legend(fontsize=8)
    ax_loss.set_title(f"L0 {law.L0:.4g}, A {law.A:.4g}, alpha {law.alpha:.4g}, C {law.C:.4g}", fontsize=10)
    _save(fig, path, inputs, force)
