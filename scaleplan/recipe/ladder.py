"""The unpinned shape: a monotone ladder in the law's own parameter convention, and the grids a trainer lays a
shape out on (widths, heads, KV heads, d_ff, whole layers)."""

from __future__ import annotations

import functools
import math

from .shape import Shape, measure
from .tables import constants, round_multiple
from .tao import tao_nv


def target_aspect(params: float) -> float:
    anchors = constants()["shape"]["aspect_anchors"]
    xs = [math.log(a[0]) for a in anchors]
    ys = [math.log(a[1] / a[2]) for a in anchors]
    x = math.log(params)
    if x <= xs[0]:
        return math.exp(ys[0])
    if x >= xs[-1]:
        return math.exp(ys[-1])
    for i in range(1, len(xs)):
        if x <= xs[i]:
            t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return math.exp(ys[i - 1] + t * (ys[i] - ys[i - 1]))
    return math.exp(ys[-1])  # pragma: no cover


def heads_for(d: int, heads, head_dim, conv) -> tuple[int, int] | None:
    if heads is not None:
        return (heads, d // heads) if d % heads == 0 else None
    if head_dim is not None:
        return (d // head_dim, head_dim) if d % head_dim == 0 else None
    return default_heads(d, conv)


def default_heads(d: int, conv) -> tuple[int, int]:
    """(heads, head_dim) at width d: 128-wide heads where d is a multiple of 1,024 from 2,048 up (then the heads
    are a multiple of 8), else 64-wide (on the designed widths: a multiple of 8 heads from d 1,536, of 2 below);
    a width no 64 divides gets one head."""
    hd = int(conv["head_dim_large"]) if d >= 2048 and d % 1024 == 0 else int(conv["head_dim_small"])
    if d % hd:
        hd = 64 if d % 64 == 0 else d
    return d // hd, hd


def default_kv_heads(heads: int, d: int, arch: str) -> int:
    """Key/value heads: every head its own (gpt); 8 from d_model 1,536 up, where the heads are a multiple of 8
    (Llama 3: 8 KV heads at 8B, 70B and 405B), else the largest divisor of the heads that is at most a quarter of
    them (Llama 3 8B's group of 4), at least 1."""
    if arch == "gpt":
        return heads
    if d >= 1536 and heads % 8 == 0:
        return 8
    return max(k for k in range(1, max(1, heads // 4) + 1) if heads % k == 0)


def _ff_multiple(d: int) -> int:
    """d_ff rounds to a multiple of 256 (as Llama 2 and 3 do) from d_model 1,536, of 128/64/32 below, so that
    one step of d_ff stays under ~1/6 of d_model and rounding it costs at most ~2 % of a layer."""
    return next(q for q in (256, 128, 64, 32) if q * 6 <= d or q == 32)


def ff_range(d: int, conv, arch: str = "llama") -> tuple[int, int, int]:
    """(lowest, highest, multiple) d_ff allowed at width d: multiples within ff_min..ff_max × d_model (llama);
    exactly 4·d_model for gpt (GPT-2 and nanoGPT fix the MLP at 4·n_embd, so layers and width absorb the rest)."""
    if arch == "gpt":
        ff = int(round(float(conv["ffw_ratio"]) * d))
        return ff, ff, ff
    q = _ff_multiple(d)
    lo = -(-int(math.ceil(float(conv["ff_min_ratio"]) * d)) // q) * q
    hi = int(float(conv["ff_max_ratio"]) * d) // q * q
    return lo, max(lo, hi), q


def default_d_ff(d: int, arch: str, conv) -> int:
    """The d_ff a width starts from: 3.25 d_model for SwiGLU (llama), exactly 4 d_model for GELU (gpt)."""
    ratio = float(conv["glu_ffw_ratio"] if arch == "llama" else conv["ffw_ratio"])
    lo, hi, q = ff_range(d, conv, arch)
    if arch == "gpt":
        return lo
    return min(max(q * round(ratio * d / q), lo), hi)


def size_terms(d, h, hd, kv, v, context, tied, arch, convention) -> tuple[float, float, float, float]:
    """(E, a, b, c): the shape's size in ``convention`` is E + c·(vocab − v) + layers·(a + b·d_ff), exactly.

    Every count is linear in the layers, in d_ff and in the vocabulary, so four exact measurements give it.
    """

    def m(layers, ff, vocab):
        return measure(Shape(layers, d, h, hd, ff, context, vocab, tied, kv, arch), convention)

    s11 = m(1, 256, v)
    b = (m(1, 512, v) - s11) / 256.0
    per = m(2, 256, v) - s11
    c = (m(1, 256, v + 128) - s11) / 128.0
    return s11 - per, per - b * 256.0, b, c


@functools.lru_cache(maxsize=512)
def smooth_size(target: float, convention: str, context: int, vocab, tied: bool) -> tuple[float, float, float]:
    """(N_nv, d_model, N_v) of the smooth model that has ``target`` in ``convention`` at the Table A9 aspect ratio.

    Every quantity here increases with the target, which is what makes the designed ladder monotone: the width is
    this d_model rounded, the layers this N_nv divided by the per-layer size, Tao's N_v this N_v.
    """
    k = 1 if tied else 2

    def parts(nnv):
        nv = tao_nv(nnv)
        aim = target_aspect(nnv + k * nv)
        d = (nnv * aim / 12.0) ** (1.0 / 3.0)
        emb = nv if vocab is None else vocab * d
        if convention == "total":
            size = nnv + k * emb
        elif convention == "non_embedding":
            size = nnv
        elif convention == "non_embedding_with_head":
            size = nnv + emb
        else:  # DeepSeek eq. 2: M = 6 N_nv + 12 n_layer d l_seq with n_layer = N_nv / (12 d^2)
            size = 6.0 * nnv + nnv * context / d
        return size, d, emb

    from ..core.solvers import bisect

    # bisection in log N_nv (size(N_nv) increases strictly) to ~1e-18 of the log range
    lo, hi = bisect(
        lambda x: parts(math.exp(float(x)))[0] < target, math.log(1.0), math.log(max(target, 2.0)), iterations=64
    )
    nnv = math.exp(0.5 * (float(lo) + float(hi)))
    _, d, emb = parts(nnv)
    return nnv, d, emb


def _on_width_grid(x: float, rounding) -> int:
    """``x`` rounded onto the widths a design may take: multiples of 128 (at least 128), of 512 from ~1,536 (so
    that 64-wide heads come in multiples of 8), of 1,024 from ~4,096 (128-wide heads, a multiple of 8). Each
    switch sits where both grids agree, so the rounding stays monotone in ``x`` and the width never falls."""
    if rounding is math.floor:
        grid = 128 if x < 1536 else 512 if x < 4096 else 1024
    else:
        grid = 128 if x < 1472 else 512 if x < 3840 else 1024
    return max(128, int(grid * rounding(x / grid)))


def _round_layers(y: float, rounding=round) -> int:
    """Whole layers from a real count: a multiple of 4 from 32 up (so pipeline degrees 2 and 4 divide them; every
    design of ~20B parameters and more is that deep), else whole. Monotone in ``y``."""
    if rounding is round:
        return max(1, round(y)) if y < 31.5 else 4 * round(y / 4)
    n = max(1, math.ceil(y - 1e-9))
    return n if n < 32 else 4 * math.ceil(n / 4)


_FF_SHARE = 0.15  # the part of a layer the d_ff range can move either way (llama: 3.25 d within 2.6..4 d)


def _min_layers(convention: str, context: int, tol: float, arch: str = "llama") -> int:
    """Fewest whole layers whose rounding the d_ff range absorbs, at the narrowest width (128, the worst case).

    d_ff moves a layer's weights by about s = 0.15 either way; in DeepSeek's M the attention term 12 l_seq d does
    not move, so s shrinks by 72 d / (72 d + 12 l_seq). Rounding to whole layers is off by up to 1/(2L);
    L >= 1 / (2 (s + tol/2)) leaves at most half the tolerance for the rest (d_ff's own rounding). gpt's d_ff does
    not move (s = 0), so L >= 1 / tol.
    """
    d = 128.0
    s = 0.0 if arch == "gpt" else _FF_SHARE
    if convention == "flops_per_token":
        s = s * 72.0 * d / (72.0 * d + 12.0 * context)
    return max(1, math.ceil(1.0 / (2.0 * (s + tol / 2.0)) - 1e-9))


def ladder_shape(target: float, convention: str, vocab, context: int, tied: bool, arch: str) -> Shape:
    """The unpinned design: width from the smooth size, whole layers from it at that width, d_ff absorbs the rest.

    d_model = the smooth width rounded onto the width grid (``_on_width_grid``), so it never falls as the target
    grows; heads, head_dim and KV heads follow from the width; layers = the smooth size at that width over the
    per-layer size at the default d_ff, rounded (to a multiple of 4 from 32 layers), so at one width they never
    fall; Tao's N_v is the smooth model's (never falls) and V = N_v / d_model rounded to 128 (it may step down
    where the width steps up); d_ff moves within 2.6-4 d_model, in multiples of 256 (finer below d_model 1,536),
    to hit the target (llama). gpt keeps d_ff = 4 d_model exactly (GPT-2; nanoGPT hard-codes it): the nearest whole
    layers at that width, at least 16 where the width allows, hit the target within 6.5 % (gpt_shape_tolerance).
    """
    conv = constants()["conventions"]
    mult = int(conv["vocab_multiple"])
    tol = default_tolerance(arch)
    nnv, d_smooth, emb = smooth_size(target, convention, context, vocab, tied)
    # Few layers cannot be rounded within tolerance by d_ff alone: keep at least l_min (the width where the
    # smooth model has l_min layers also rises with the target, so the minimum of the two widths does too).
    l_min = _min_layers(convention, context, tol, arch)
    if convention == "flops_per_token":  # 72 L d^2 + 12 L l_seq d = M at L = l_min
        bq = 12.0 * l_min * context
        d_l = (-bq + math.sqrt(bq * bq + 4.0 * 72.0 * l_min * target)) / (2.0 * 72.0 * l_min)
    else:
        d_l = math.sqrt(nnv / (12.0 * l_min))
    d = max(128, min(_on_width_grid(d_smooth, round), _on_width_grid(d_l, math.floor)))
    h, hd = default_heads(d, conv)
    kv = default_kv_heads(h, d, arch)
    v = vocab if vocab is not None else max(mult, round_multiple(emb / d, mult))
    ff0 = default_d_ff(d, arch, conv)
    ff_lo, ff_hi, q = ff_range(d, conv, arch)
    e_real, a, b, c = size_terms(d, h, hd, kv, v, context, tied, arch, convention)
    # whole layers from the smooth (unrounded) vocabulary, so the count depends on the target only through
    # quantities that increase with it
    e_smooth = e_real + (0.0 if vocab is not None else c * (emb / d - v))
    y = (target - e_smooth) / (a + b * ff0)
    n_layers = max(_round_layers(y), 1)
    if arch != "gpt":  # gpt's MLP is fixed at 4 d_model: the nearest whole layers are its best
        y_top = (target - e_smooth) / (a + b * ff_hi) * (1.0 - tol / 2.0)  # fewest layers the widest MLP allows
        n_layers = max(n_layers, _round_layers(y_top, math.ceil))
    want = ((target - e_real) / n_layers - a) / b
    ff = min(max(q * round(want / q), ff_lo), ff_hi)
    return Shape(n_layers, d, h, hd, ff, context, v, tied, kv, arch)


def default_tolerance(arch: str) -> float:
    """3 % (llama, whose d_ff absorbs the rounding), 6.5 % for gpt (d_ff fixed at 4 d_model, as nanoGPT has it)."""
    conv = constants()["conventions"]
    return float(conv["gpt_shape_tolerance"] if arch == "gpt" else conv["shape_tolerance"])
