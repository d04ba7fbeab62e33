"""Sizing for the loss as served: the model that reaches the target loss once its weights are quantized to fewer
bits (Ouyang et al. 2024's penalty), trained less far than the inference-aware one."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import laws
from ..core.errors import ScaleplanError
from ..core.values import plain
from ..schema.conventions import serving_flops, training_flops
from .inference import InferencePlan
from .sizing import sizing


@dataclass(frozen=True)
class QuantizedServing:
    """The model that reaches the target loss *as served* at `bits` (weight-only quantization, Ouyang et al. 2024):
    its trained loss times (1 + Ouyang's relative penalty at its N, D) equals the target. The penalty grows with
    D/N, so this model is trained less far than the inference-aware one. Relative penalty, as Ouyang's QiD over their
    16-bit loss at the same N, D: their Pythia loss is not this law's, so only the ratio crosses over."""

    bits: float
    params: float
    tokens: float
    tokens_per_param: float
    training_flops: float
    total_flops: float
    penalty_relative: float
    feasible: bool
    note: str

    def to_dict(self) -> dict:
        return {k: (plain(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def quantized_serving(plan: InferencePlan, bits: float, points: int = 400, law=None) -> QuantizedServing:
    """Minimise training + weighted serving FLOPs over N subject to the *served* loss at `bits` reaching the plan's
    target (one demand). A grid over N, and for each N the fewest tokens that reach it (bisection in log D)."""
    from ..core.solvers import bisect
    from . import precision_laws as precision_mod

    law = laws.get(law) if law is not None else plan.law_object()  # the sizing's own law object (a law file included)
    if np.ndim(plan.inference_tokens):
        raise ScaleplanError("quantized serving is judged for one demand; give a single number of inference tokens")
    precision_mod.checked_bits(bits, low=1)  # once here: the search below calls the law on checked values
    target = float(plan.loss)
    weight, per_token = sizing(law, plan.objective, plan.costs)
    t = float(plan.inference_tokens) * weight
    n_ref = float(plan.compute_optimal.params)
    log_n = np.linspace(np.log(n_ref) - np.log(20.0), np.log(n_ref) + np.log(5.0), points)
    n = np.exp(log_n)

    def served(log_d):
        d = np.exp(log_d)
        rel = precision_mod.ouyang_relative_penalty(n, d, bits)
        return law.loss(n, d) * (1.0 + rel), rel

    # the served loss first falls with D (training) then rises (quantization): its minimum on a coarse grid
    grid = np.linspace(np.log(1e6), np.log(1e16), 241)
    with np.errstate(all="ignore"):
        values = np.stack([served(np.full_like(n, g))[0] for g in grid])  # (grid, N)
    best = np.argmin(values, axis=0)
    reachable = values[best, np.arange(n.size)] <= target
    lo = np.full(n.shape, grid[0])
    hi = grid[best]
    with np.errstate(all="ignore"):
        lo, hi = bisect(lambda x: served(x)[0] > target, lo, hi, iterations=60)
    d = np.exp(hi)
    flops = training_flops(n, d) + t * (serving_flops(n, 1.0) if per_token is None else per_token(n))
    flops = np.where(reachable, flops, np.inf)
    i = int(np.argmin(flops))
    if not np.isfinite(flops[i]):
        return QuantizedServing(
            bits,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            False,
            f"no model reaches loss {target:.4g} once served at {bits:g} bits (Ouyang et al.)",
        )
    _, rel = served(np.full_like(n, np.log(d[i])))
    ni, di = float(n[i]), float(d[i])
    return QuantizedServing(
        bits,
        ni,
        di,
        di / ni,
        training_flops(ni, di),
        float(flops[i]),
        float(rel[i]),
        True,
        f"the cheapest model whose loss served at {bits:g} bits is {target:.4g}: trained to "
        f"{di / ni:.3g} tokens per parameter (Ouyang et al. 2024's penalty as a fraction of the loss)",
    )
