"""The figures' house style: pixel sizes, matplotlib settings, an Agg figure drawn to PNG bytes, and the log-axis
ticks and labels every figure shares (matplotlib imported inside the functions)."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np

from ..core.errors import ScaleplanError

DPI = 100
# Pixel sizes (width, height) of each figure; tests assert them from the PNG header.
SIZES = {
    "allocation": (1600, 800),  # N_opt(C) | D_opt(C)
    "allocation+isoflop": (1600, 1400),  # N_opt(C) | D_opt(C) over the IsoFLOP valley (full width)
    "isoflop": (1400, 800),
    "inference": (1600, 800),  # total cost vs N | optimal N vs demand
    "fit": (1600, 1300),  # runs + isoFLOP curves (full width) over residuals | N_opt band
}


def pct(x: float) -> str:
    return f"{100 * x:+.0f}%"


def tidy(text: str) -> str:
    """'3.00B' -> '3B', '2.50B' -> '2.5B', '$1.50M' -> '$1.5M': tick labels without padded zeros."""
    return re.sub(r"\.?0+(?=[KMBTP]$)", "", text) if "." in text else text


def title(text: str, width: int = 110) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) if len(text) > width else text


# ---------------------------------------------------------------------------------------------------------------
# Drawing: matplotlib imported here only


RC: dict[Any, Any] = {  # matplotlib types rc keys as Literals
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


def figure(kind: str):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is an optional extra
        raise ScaleplanError("--plot needs matplotlib: pip install 'scaleplan[plot]'") from None
    w, h = SIZES[kind]
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas, without pyplot's global state
    return fig


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def draw(kind: str, body) -> bytes:
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = figure(kind)
        body(fig)
        return png(fig)


def ticks(axis, fmt) -> None:
    """Label a log axis with `fmt` (1B, 10B), and its 2x/5x (and 3x) minor ticks when it spans under 2.5 decades."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: tidy(fmt(v)) if v > 0 else ""))

    def minor(v, _):
        lo, hi = sorted(axis.get_view_interval())
        if v <= 0 or lo <= 0 or hi / lo > 300:
            return ""
        m = v / 10 ** np.floor(np.log10(v) + 1e-9)
        shown = (2, 3, 5) if hi / lo < 30 else (2, 5)
        return tidy(fmt(v)) if abs(m - round(m)) < 1e-6 and round(m) in shown else ""

    axis.set_minor_formatter(FuncFormatter(minor))


def solid_and_dashed(ax, x, y, inside, color, label):
    """Solid where `inside`, dashed elsewhere; the two pieces touch at the boundary."""
    y_in = np.where(inside, y, np.nan)
    outside = ~inside
    grow = outside.copy()  # extend the dashed part one point into the solid one so there is no gap
    grow[1:] |= outside[:-1]
    grow[:-1] |= outside[1:]
    ax.plot(x, y_in, color=color, lw=2.4, label=label)
    ax.plot(x, np.where(grow, y, np.nan), color=color, lw=2.0, ls=(0, (5, 3)))
