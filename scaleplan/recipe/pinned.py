"""A shape with pinned values (layers, d_model, heads, head_dim or d_ff): the search for the shape within tolerance
closest to Chinchilla's Table A9 aspect ratio."""

from __future__ import annotations

import math

from .ladder import default_d_ff, default_kv_heads, ff_range, heads_for, size_terms, target_aspect
from .shape import Shape, measure
from .tables import constants, round_multiple
from .tao import tao_nv
from .vocab import vocab_for_total


def _candidates(target: float, layers, d_model, aim: float, step: int, loose: bool):
    """d_model values to try: a window around the size the target implies (12·L·d² ≈ N), multiples of ``step``.

    Unpinned, d_model ∝ (N·aspect)^(1/3), so a factor 2 either side spans aspect ratios aim/8 .. 8·aim; pinned
    d_ff, heads or head_dim can move the 12 in 12·L·d², hence the wider (``loose``) window.
    """
    if d_model is not None:
        return [d_model]
    spread = 4.0 if loose else 2.0
    if layers is not None:
        centre = math.sqrt(target / (12.0 * layers))
    else:
        centre = (target * aim / 12.0) ** (1.0 / 3.0)
    lo = max(1, int(centre / spread / step))
    hi = max(lo, int(centre * spread / step) + 1)
    return range(lo * step, (hi + 1) * step, step)


def fit_shape(
    target: float, vocab, context: int, layers, d_model, heads, head_dim, d_ff, tied: bool, arch: str, tol: float
) -> tuple[Shape | None, tuple | None]:
    """Best shape within tolerance, or (None, closest). ``vocab=None``: Tao's optimum, consistent per candidate."""
    conv = constants()["conventions"]
    step = int(conv["d_model_multiple"])
    mult = int(conv["vocab_multiple"])
    aim = target_aspect(target)
    v0 = vocab if vocab is not None else vocab_for_total(target, tied).vocab_params
    best = closest = None
    loose = d_ff is not None or heads is not None or head_dim is not None
    for d in _candidates(target, layers, d_model, aim, step, loose):
        hh = heads_for(d, heads, head_dim, conv)
        if hh is None:
            continue
        h, hd = hh
        kv = default_kv_heads(h, d, arch)
        ff_lo, ff_hi, q = ff_range(d, conv, arch)
        ff0 = d_ff if d_ff is not None else default_d_ff(d, arch, conv)
        ff, v, n_layers = ff0, (vocab if vocab is not None else round_multiple(v0 / d, mult)), layers
        e0, a, bb, _c = size_terms(d, h, hd, kv, v, context, tied, arch, "total")
        for _ in range(1 if vocab is not None else 8):
            e0, a, bb, _c = size_terms(d, h, hd, kv, v, context, tied, arch, "total")
            rest = target - e0
            if layers is None:
                if rest <= 0:
                    n_layers = None
                    break
                n_layers = max(1, round(rest / (a + bb * ff0)))
            if d_ff is None:  # absorb the residual in d_ff: a multiple of q within the allowed ratios
                want = (rest / n_layers - a) / bb
                ff = min(max(q * round(want / q), ff_lo), ff_hi)
            if vocab is not None:
                break
            v_new = round_multiple(tao_nv(n_layers * (a + bb * ff)) / d, mult)
            if v_new == v:
                break
            v = v_new
        if n_layers is None:
            continue
        total = measure(Shape(n_layers, d, h, hd, ff, context, v, tied, kv, arch), "total")
        err = abs(total - target) / target
        key = (err, d, n_layers, h, hd, ff, v, kv)
        if closest is None or err < closest[0]:
            closest = key
        if err <= tol:
            score = (abs(math.log(d / n_layers / aim)), err)
            if best is None or score < best[0]:
                best = (score, key)
    if best is None:
        return None, closest
    _, (_, d, n_layers, h, hd, ff, v, kv) = best
    return Shape(n_layers, d, h, hd, ff, context, v, tied, kv, arch), closest
