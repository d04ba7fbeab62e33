"""`scaleplan serve --plot`: tokens/s per GPU and $ per million tokens against the decode batch.

The series are cluster.serving.batch_sweep's (numpy, testable without matplotlib); the drawing uses matplotlib's
object-oriented API on the Agg canvas, imported inside `render`.
"""

from __future__ import annotations

from pathlib import Path

SIZE = (1600, 800)
DPI = 100


def render(curves: list[tuple[str, dict, int]]) -> bytes:
    """PNG bytes (1600x800): throughput against batch | $/M against batch; one line per (label, sweep, batch run)."""
    import io

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.size": 12, "axes.grid": True, "grid.alpha": 0.3}):
        fig = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        left, right = fig.subplots(1, 2)
        priced = False
        for i, (label, sweep, batch) in enumerate(curves):
            color = f"C{i % 10}"
            left.plot(sweep["batch"], sweep["tokens_per_s_per_gpu"], "-", color=color, label=label)
            if batch in sweep["batch"]:
                j = sweep["batch"].index(batch)
                left.plot([batch], [sweep["tokens_per_s_per_gpu"][j]], "o", color=color)
            dollars = [(b, d) for b, d in zip(sweep["batch"], sweep["dollars_per_million"]) if d is not None]
            if dollars:
                priced = True
                right.plot([b for b, _ in dollars], [d for _, d in dollars], "-", color=color, label=label)
                if batch in sweep["batch"]:
                    j = sweep["batch"].index(batch)
                    if sweep["dollars_per_million"][j] is not None:
                        right.plot([batch], [sweep["dollars_per_million"][j]], "o", color=color)
        for ax in (left, right):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("decode batch (sequences per replica)")
        left.set_ylabel("tokens/s per GPU (prompt + output)")
        left.set_title("Throughput against batch (dot: the batch run)")
        left.legend(loc="lower right", fontsize=10)
        right.set_ylabel("$ per million tokens (prompt + output)")
        right.set_title("Cost against batch" if priced else "Cost against batch (no price: give --price)")
        if priced:
            right.legend(loc="upper right", fontsize=10)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
        return buf.getvalue()


def save(curves: list[tuple[str, dict, int]], path, inputs=(), force: bool = False) -> Path:
    """Draw the figure to a new .png file (an existing file only with force; never an input)."""
    from ..core.files import check_target, write_atomic

    target = check_target(path, inputs, suffix=".png", force=force, what="--plot")
    return write_atomic(target, render(curves), inputs=inputs, force=force, what="--plot")
