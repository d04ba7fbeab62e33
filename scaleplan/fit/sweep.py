"""Design the small runs that fit your own law before a big run: IsoFLOP levels x model sizes around a law's
optimum (`scaleplan sweep`), written as a runs file that `scaleplan fit` reads once the losses are filled in.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema.conventions import training_flops
from ..schema.units import fmt_number, fmt_sci

__all__ = ["Sweep", "SweepRow", "design_sweep"]


# ---------------------------------------------------------------------------------- sweep design


@dataclass(frozen=True)
class SweepRow:
    level: int
    flops: float
    params: int
    tokens: int


@dataclass(frozen=True, repr=False)
class Sweep(Rendered):
    """IsoFLOP runs to train (Hoffmann Approach 2 design) so you can fit your own law."""

    rows: tuple[SweepRow, ...]
    target_flops: float
    budget_flops: float
    total_flops: float  # sum of 6 N D over rows, <= budget_flops
    levels: tuple[float, ...]
    law: str  # the law whose optimum centres the model sizes
    warnings: tuple[str, ...]

    @property
    def extrapolation(self) -> float:
        """target_flops / largest level: how far the fitted law will be extrapolated."""
        return self.target_flops / max(self.levels)

    def to_dict(self) -> dict:
        return {
            "target_flops": self.target_flops,
            "budget_flops": self.budget_flops,
            "total_flops": self.total_flops,
            "levels": list(self.levels),
            "extrapolation": self.extrapolation,
            "law": self.law,
            "rows": [
                {
                    "level": r.level,
                    "flops": r.flops,
                    "params": r.params,
                    "tokens": r.tokens,
                    "tokens_per_param": r.tokens / r.params,
                }
                for r in self.rows
            ],
            "warnings": list(self.warnings),
        }

    def csv_text(self) -> str:
        """CSV with columns level, flops, params, tokens, loss (empty): fill in losses and pass it to `fit`."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["level", "flops", "params", "tokens", "loss"])
        for r in self.rows:
            w.writerow([r.level, f"{r.flops:.6e}", r.params, r.tokens, ""])
        return buf.getvalue()


def _positive(name: str, x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(x, bool) or not (math.isfinite(v) and v > 0):
        raise ScaleplanError(f"<{name}> must be a positive number of FLOPs, got {x!r}")
    return v


def _round_sig(x: float, sig: int = 3) -> int:
    return int(round(x, sig - 1 - int(math.floor(math.log10(x)))))


def design_sweep(
    target_flops,
    budget_flops,
    levels: int = 5,
    sizes_per_level: int = 7,
    span: float = 100.0,
    size_range: float = 16.0,
    law="epoch",
) -> Sweep:
    """IsoFLOP levels and model sizes to train, costing at most `budget_flops` (6ND per run) in total.

    `levels` FLOP levels are spaced geometrically over a factor `span` (Chinchilla: 9 levels, 6e18..3e21);
    the largest is as big as the budget allows. Each level has `sizes_per_level` model sizes spread
    geometrically over a factor `size_range`, centred on `law`'s compute-optimal N; tokens D = C / (6N).
    """
    target = _positive("target_flops", target_flops)
    budget = _positive("budget_flops", budget_flops)
    if budget >= target:
        raise ScaleplanError(
            f"<budget_flops> ({fmt_sci(budget)}) must be smaller than <target_flops> ({fmt_sci(target)}): "
            "the sweep is the small runs you do before the big one"
        )
    for nm, count, lo in (("<levels>", levels, 2), ("sizes_per_level", sizes_per_level, 3)):
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < lo:
            raise ScaleplanError(f"{nm} must be a whole number >= {lo}, got {count!r}")
    for nm, ratio in (("span", span), ("size_range", size_range)):
        if not (isinstance(ratio, (int, float)) and math.isfinite(ratio) and ratio > 1):
            raise ScaleplanError(f"{nm} must be a ratio greater than 1, got {ratio!r}")
    from .. import laws

    ref = laws.get(law)
    rel = float(span) ** (-np.arange(levels - 1, -1, -1) / (levels - 1))  # smallest .. 1
    top = budget / (sizes_per_level * rel.sum())
    level_flops = top * rel
    k = np.arange(sizes_per_level) - (sizes_per_level - 1) / 2
    spread = float(size_range) ** (k / (sizes_per_level - 1))
    rows = []
    for j, c in enumerate(level_flops):
        n_opt, _ = ref.optimum(c)
        for f in spread:
            n = max(_round_sig(float(n_opt) * f), 1)
            d = int(c // training_flops(n, 1.0))  # whole tokens: C floor-divided by 6N FLOPs a token
            rows.append(SweepRow(level=j + 1, flops=float(c), params=n, tokens=d))
    total = float(sum(training_flops(r.params, r.tokens) for r in rows))
    warnings = []
    if total > budget:  # pragma: no cover - guarded by floor() above
        raise AssertionError("sweep exceeds budget")
    if target / top > 1e4:
        warnings.append(
            f"the target is {fmt_number(target / top)}x the largest sweep level: the fitted law will be extrapolated "
            f"over {math.log10(target / top):.1f} decades of compute"
        )
    if level_flops[0] < 1e17:
        warnings.append(
            f"the smallest level is {fmt_sci(level_flops[0])} FLOPs: at very small scale embedding and head FLOPs make "
            "6ND inaccurate and losses noisy (Porian et al. 2024)"
        )
    if min(r.tokens for r in rows) < 1:
        warnings.append("some runs get less than one token: raise the budget or reduce levels/sizes")
    return Sweep(
        rows=tuple(rows),
        target_flops=target,
        budget_flops=budget,
        total_flops=total,
        levels=tuple(float(c) for c in level_flops),
        law=ref.name,
        warnings=tuple(warnings),
    )
