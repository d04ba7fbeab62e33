"""`scaleplan precision --plot`: loss penalty against bits and against tokens per parameter.

A numpy series first (what is drawn, testable without matplotlib), then the drawing (matplotlib's object-oriented API
on the Agg canvas, imported inside `render`). Each curve stays in its own law's loss, named in the legend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..pipeline import precision
from ..schema.units import fmt_count

SIZE = (1600, 800)
DPI = 100


@dataclass(frozen=True)
class PenaltySeries:
    params: float
    tokens: float
    bits: np.ndarray  # 2..16
    sun_penalty: np.ndarray  # Sun, best layout per bit width, vs BF16 at (params, tokens)
    ouyang_bits: np.ndarray  # 2..8
    ouyang_qid: np.ndarray  # Ouyang QiD at (params, tokens)
    tokens_per_param: np.ndarray  # x axis of the right panel
    sun_by_ratio: dict  # format name -> Sun penalty along tokens_per_param at fixed params
    critical_ratio: dict  # format name -> critical D / N
    ouyang_by_ratio: dict  # bits -> Ouyang QiD along tokens_per_param


def penalty_series(params: float, tokens: float, points: int = 121) -> PenaltySeries:
    """The curves for one model (N, D): penalties against bits at D, and against D/N at N."""
    bits = np.arange(2, 17)
    sun = np.array([precision.training_penalty(params, tokens, f"fp{b}").penalty for b in bits])
    obits = np.arange(2, 9)
    qid = np.asarray(precision.ouyang_qid(params, tokens, obits))
    ratio = np.logspace(0, 4, points)
    d = np.clip(ratio * params, 1.0, precision.MAX_TOKENS)
    sun_by, crit = {}, {}
    for name in ("fp8", "fp6", "fp4"):
        t = precision.training_penalty(params, d, name)
        sun_by[name] = np.asarray(t.penalty)
        crit[name] = float(precision.training_penalty(params, tokens, name).critical_tokens) / params
    by = {b: np.asarray(precision.ouyang_qid(params, d, b)) for b in (4, 3)}
    return PenaltySeries(float(params), float(tokens), bits, sun, obits, qid, ratio, sun_by, crit, by)


def render(s: PenaltySeries) -> bytes:
    """PNG bytes (1600x800): penalty against bits | penalty against tokens per parameter."""
    import io

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.size": 12, "axes.grid": True, "grid.alpha": 0.3}):
        fig = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        left, right = fig.subplots(1, 2)
        left.plot(
            s.bits,
            s.sun_penalty,
            "o-",
            color="C0",
            label="Sun et al. 2025: training in FP (best layout) vs BF16, Dolma loss",
        )
        left.plot(
            s.ouyang_bits,
            s.ouyang_qid,
            "s-",
            color="C3",
            label="Ouyang et al. 2024: GPTQ weight quantization of the trained model, Pythia loss",
        )
        left.set_yscale("symlog", linthresh=1e-3)
        left.set_xlabel("bits")
        left.set_ylabel("loss penalty (nats/token, each law's own loss)")
        left.set_title(f"Penalty against bits at N = {fmt_count(s.params)}, D = {fmt_count(s.tokens)}")
        left.legend(loc="upper right", fontsize=10)
        for i, (name, pen) in enumerate(s.sun_by_ratio.items()):
            right.plot(s.tokens_per_param, pen, color=f"C{i}", label=f"Sun: train in {name}")
            right.axvline(
                s.critical_ratio[name],
                color=f"C{i}",
                ls=":",
                lw=1.5,
                label=f"{name} critical D/N = {s.critical_ratio[name]:.3g}",
            )
        for j, (b, qid) in enumerate(s.ouyang_by_ratio.items()):
            right.plot(s.tokens_per_param, qid, color=f"C{3 + j}", ls="--", label=f"Ouyang: serve at {b} bits")
        right.axvline(s.tokens / s.params, color="0.3", lw=2, label=f"this model: D/N = {s.tokens / s.params:.3g}")
        right.set_xscale("log")
        right.set_yscale("log")
        right.set_xlabel("training tokens per parameter D/N")
        right.set_ylabel("loss penalty (nats/token, each law's own loss)")
        right.set_title(f"Penalty against tokens per parameter at N = {fmt_count(s.params)}")
        right.legend(loc="upper left", fontsize=10)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
        return buf.getvalue()


def save(params: float, tokens: float, path, force: bool = False) -> Path:
    """Draw the figure for (N, D) to a new .png file (an existing file only with force)."""
    from ..core.files import check_target, write_atomic

    target = check_target(path, suffix=".png", force=force, what="--plot")
    return write_atomic(target, render(penalty_series(params, tokens)), force=force, what="--plot")
