"""Sun et al.'s cost-optimal training precision at a budget and the loss penalty of one training format.

The search for each format's best N and D at C = k P N D, and a chip's dense paths (precision_laws has the maths).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Values, plain
from .precision_laws import (
    MAX_FLOPS,
    FloatFormat,
    as_value,
    best_layout,
    checked,
    checked_block,
    citation,
    constants,
    continuous_layout,
    law_constants,
    parse_format,
    sun_critical_tokens,
    sun_loss,
    sun_optimal_bits,
    sun_term,
)


def sun_best_params(flops: float, exponent_bits, mantissa_bits, bits, block: float, k: float, c: dict):
    """N minimising Sun's loss at C = k P N D for a given layout (a 1-D search in log N), and its loss."""
    from .constrained import minimise_log

    term = sun_term(c, exponent_bits, mantissa_bits, block)

    def loss(log_n):
        n = np.exp(log_n)
        d = flops / (k * bits * n)
        na, db = n ** c["alpha"], d ** c["beta"]
        return c["n"] / na + c["d"] / db + c["epsilon"] + db / na * term

    centre = 0.5 * math.log(flops / (k * bits))
    x, f = minimise_log(loss, [centre], span=20.0)
    n = float(math.exp(x[0]))
    return n, flops / (k * bits * n), float(f[0])


@dataclass(frozen=True)
class TrainingPenalty:
    """Sun et al.'s loss of one training format at N, D, against BF16 (E8M7) at the same N, D and block size.

    `penalty` is in Sun's own loss (nats/token on Dolma); `relative` = penalty / loss_bf16. Arrays broadcast over N, D.
    """

    format: FloatFormat
    params: Values
    tokens: Values
    loss: Values
    loss_bf16: Values
    penalty: Values
    relative: Values
    critical_tokens: Values  # Eq. (41) at this N: beyond it more tokens raise the loss
    exceeds_critical: bool | np.ndarray
    law: str = "sun"

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "format": self.format.to_dict(),
            "params": plain(self.params),
            "tokens": plain(self.tokens),
            "loss": plain(self.loss),
            "loss_bf16": plain(self.loss_bf16),
            "penalty": plain(self.penalty),
            "relative": plain(self.relative),
            "critical_tokens": plain(self.critical_tokens),
            "exceeds_critical": np.asarray(self.exceeds_critical).tolist(),
            "loss_units": constants()["sun"]["conventions"]["loss"],
            "citation": citation("sun"),
        }


def training_penalty(
    params, tokens, fmt: str | FloatFormat = "fp8", block_size=None, constants_: dict | None = None
) -> TrainingPenalty:
    """Sun et al.'s loss penalty of training in `fmt` instead of BF16 at N, D (vectorised), with the critical data
    size."""
    f = fmt if isinstance(fmt, FloatFormat) else parse_format(fmt, block_size)
    loss = sun_loss(params, tokens, f.exponent_bits, f.mantissa_bits, f.block_size, constants_)
    bf16 = sun_loss(params, tokens, 8, 7, f.block_size, constants_)
    crit = sun_critical_tokens(params, f.exponent_bits, f.mantissa_bits, f.block_size, constants_)
    penalty = np.asarray(loss) - np.asarray(bf16)
    exceeds = np.asarray(tokens, float) > np.asarray(crit)
    return TrainingPenalty(
        f,
        as_value(np.asarray(params, float)),
        as_value(np.asarray(tokens, float)),
        loss,
        bf16,
        as_value(penalty),
        as_value(penalty / np.asarray(bf16)),
        crit,
        bool(exceeds) if exceeds.ndim == 0 else exceeds,
    )


@dataclass(frozen=True)
class PrecisionChoice:
    """One hardware precision at a budget: Sun's best N, D at C = k P N D and the loss there.

    On a given chip (`hardware`), a format runs only on a dense path of its width (16: BF16, 8: FP8, 4: FP4); one the
    chip lacks is `available` False with the reason and no N, D or loss. `speedup` is the end-to-end speed-up over BF16
    the cost assumes: without hardware Sun et al.'s 16/P (cost k P N D); on a chip, the published speed-up
    (cost.precision_speedup: FP8 1.34x at twice the BF16 peak), i.e. cost 6 N D / speedup.
    """

    format: FloatFormat
    params: float | None
    tokens: float | None
    loss: float | None
    critical_tokens: float | None
    speedup: float = 1.0
    available: bool = True
    unavailable: str | None = None

    def to_dict(self) -> dict:
        ok = self.params is not None and self.tokens is not None and self.critical_tokens is not None
        return {
            "format": self.format.to_dict(),
            "available": self.available,
            "unavailable": self.unavailable,
            "speedup": self.speedup,
            "params": self.params,
            "tokens": self.tokens,
            "loss": self.loss,
            "tokens_per_param": self.tokens / self.params if ok else None,  # type: ignore[operator]
            "critical_tokens": self.critical_tokens,
            "exceeds_critical": self.tokens > self.critical_tokens if ok else None,  # type: ignore[operator]
        }


@dataclass(frozen=True)
class CostOptimalPrecision:
    """Sun et al.'s cost-optimal training precision at a budget C (cost k P N D, k = 6/16: 16 bits costs 6ND).

    `bits` is the paper's continuous optimum (Eq. 54, joint over N, D, P with the continuous layout of Eq. 31);
    `choices` are the precisions hardware has (default 16/8/4 with their best layouts), each at its own best N and D;
    `best` is the name of the lowest-loss choice.
    """

    flops: float
    block_size: float
    cost_k: float
    bits: float
    exponent_bits: float
    mantissa_bits: float
    nearest_layout: str
    params: float
    tokens: float
    loss: float
    choices: tuple[PrecisionChoice, ...]
    best: str
    hardware: str | None = None

    def to_dict(self) -> dict:
        return {
            "law": "sun",
            "hardware": self.hardware,
            "flops": self.flops,
            "block_size": self.block_size,
            "cost_k": self.cost_k,
            "bits": self.bits,
            "exponent_bits": self.exponent_bits,
            "mantissa_bits": self.mantissa_bits,
            "nearest_layout": self.nearest_layout,
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens / self.params,
            "loss": self.loss,
            "choices": [ch.to_dict() for ch in self.choices],
            "best": self.best,
            "loss_units": constants()["sun"]["conventions"]["loss"],
            "citation": citation("sun"),
        }


_PATHS = {16: "bf16", 8: "fp8", 4: "fp4"}  # format width -> the dense hardware path it runs on


def hardware_path(fmt: FloatFormat, hardware) -> tuple[str | None, str | None]:
    """(the chip's precision path for this format, None) or (None, why it has none)."""
    path = _PATHS.get(fmt.bits)
    if path is None:
        return None, f"{hardware.key} has no dense {fmt.bits}-bit path (only 16, 8 and 4 bits are modelled)"
    try:
        hardware.peak(path)
    except ScaleplanError:
        field = {"bf16": "peak_flops", "fp8": "fp8_flops", "fp4": "fp4_flops"}[path]
        return None, f"{hardware.key} has no dense {path.upper()} path ({hardware.why_missing(field)})"
    return path, None


def cost_optimal_precision(
    flops,
    block_size=None,
    choices=("bf16", "fp8", "fp4"),
    cost_k=None,
    constants_: dict | None = None,
    hardware=None,
) -> CostOptimalPrecision:
    """Sun et al.'s cost-optimal precision for one budget: the continuous optimum and the best of `choices`.

    With `hardware` (a cost.Hardware), only the formats the chip has a dense path for are ranked, each at the
    published end-to-end speed-up over BF16 on that chip (cost 6 N D / speed-up) instead of Sun's 16/P; the others
    are listed as unavailable. `best` is the lowest-loss available format."""
    c = law_constants("sun", constants_)
    conv = constants()["sun"]["conventions"]
    k = conv["cost_k"] if cost_k is None else float(checked(cost_k, "cost k", 1e3))
    cc = float(checked(flops, "flops", MAX_FLOPS))
    block = float(conv["default_block"] if block_size is None else checked_block(block_size))
    p = float(sun_optimal_bits(cc, block, k, constants_))
    e, m = continuous_layout(p, constants_)
    n, d, loss = sun_best_params(cc, e, m, p, block, k, c)
    nearest = best_layout(int(round(p)))
    rows = []
    for name in choices:
        f = parse_format(name, block)
        speedup, cost_bits = 16.0 / f.bits, float(f.bits)
        if hardware is not None:
            from ..cluster.cost import precision_speedup

            path, why = hardware_path(f, hardware)
            if path is None:
                rows.append(PrecisionChoice(f, None, None, None, None, 1.0, False, why))
                continue
            speedup = precision_speedup(path, hardware)
            cost_bits = 16.0 / speedup  # k (16 / s) N D = 6 N D / s
        fn, fd, fl = sun_best_params(cc, f.exponent_bits, f.mantissa_bits, cost_bits, block, k, c)
        rows.append(
            PrecisionChoice(
                f,
                fn,
                fd,
                fl,
                float(sun_critical_tokens(fn, f.exponent_bits, f.mantissa_bits, block, constants_)),
                speedup,
            )
        )
    ranked = [r for r in rows if r.available and r.loss is not None]
    best = min(ranked, key=lambda r: r.loss).format.name if ranked else ""  # type: ignore[arg-type, return-value]
    return CostOptimalPrecision(
        cc,
        block,
        k,
        p,
        float(e),
        float(m),
        f"E{nearest[0]}M{nearest[1]}",
        n,
        d,
        loss,
        tuple(rows),
        best,
        None if hardware is None else hardware.key,
    )
