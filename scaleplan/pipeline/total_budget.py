"""Training and serving within one sum of money: the lowest-loss model whose training plus serving cost is the
total given (`within_total`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import laws
from ..core import solvers
from ..core.errors import ScaleplanError
from ..core.values import plain
from ..schema import conventions, limits
from ..schema.units import fmt_count, fmt_dollars, fmt_sci
from .serving_costs import ServingCosts
from .sizing import tokens_for_loss


@dataclass(frozen=True)
class TotalBudget:
    """The lowest-loss model whose training plus serving cost is within a total budget, and the split."""

    total_dollars: float
    inference_tokens: float
    params: float  # in the law's convention
    tokens: float
    loss: float
    training_dollars: float
    serving_dollars: float

    def to_dict(self) -> dict:
        return {k: plain(v) for k, v in self.__dict__.items()}


def within_total(law, total_dollars: float, inference_tokens: float, costs: ServingCosts) -> TotalBudget:
    """Training and serving `inference_tokens` within `total_dollars`: over model sizes N, the tokens the rest of the
    money trains, D(N) = (B - T·p(N)) / (6N · $ per training FLOP), and the N whose L(N, D(N)) is lowest (a grid,
    then a golden-section search between the grid's neighbours; serving priced as `costs` price it)."""
    law = laws.get(law)
    tokens_for_loss(law, 1.0, 1.0)  # the clear error for a law without a loss
    b, t = float(total_dollars), float(inference_tokens)
    per_flop = costs.dollars_per_training_flop

    def split(n):
        serve = t * costs.dollars_per_token(conventions.split_params(law, n)[0])
        d = (b - serve) / (conventions.training_flops(n, 1.0) * per_flop)  # the money left / $ a training token
        return d, serve

    def loss_at(log_n):
        n = np.exp(log_n)
        d, _ = split(n)
        with np.errstate(all="ignore"):
            out = np.where(d >= n, law.loss(n, np.maximum(d, 1.0)), np.inf)  # at least a token per parameter
        return np.where(np.isfinite(out), out, np.inf)

    grid = np.linspace(np.log(limits.MIN_PARAMS), np.log(1e15), 400)
    values = loss_at(grid)
    i = int(np.argmin(values))
    if not np.isfinite(values[i]):
        smallest = float(t * costs.dollars_per_token(conventions.split_params(law, np.array(limits.MIN_PARAMS))[0]))
        raise ScaleplanError(
            f"<total_dollars> {fmt_dollars(b)} does not pay for training any model and serving "
            f"{fmt_sci(t)} tokens (serving them costs {fmt_dollars(smallest)} even for a "
            f"{fmt_count(limits.MIN_PARAMS)}-parameter model); give more money or fewer tokens"
        )
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    best = solvers.golden_section(loss_at, np.array([lo]), np.array([hi]), iterations=100, xtol=1e-10)
    n = float(np.exp(best[0]))
    if not loss_at(np.array([np.log(n)]))[0] <= values[i]:
        n = float(np.exp(grid[i]))
    d, serve = split(np.array([n]))
    return TotalBudget(b, t, n, float(d[0]), float(law.loss(n, float(d[0]))), b - float(serve[0]), float(serve[0]))
