"""Training recipe for a plan: vocabulary, learning rate, batch size, network shape and exact FLOPs per token.

Constants and citations live in ``scaleplan/data/recipe.yaml`` (read once, validated, cached). Results are frozen
dataclasses with plain fields; ``to_dict()`` gives JSON-ready values.

Public API
----------
``Shape(layers, d_model, heads, head_dim, d_ff, context, vocab, tied_embeddings=False, kv_heads=None,
arch="llama")``
    A decoder-only transformer, llama (SwiGLU, RMSNorm, RoPE, grouped-query attention) or gpt (GPT-2), counted
    exactly as the framework counts it: ``total_params``, ``non_embedding_params`` (all but token embedding,
    output head and learned positions), ``matrix_params`` (the layers' weight matrices alone),
    ``embedding_params`` (V·d_model, ×2 unless ``tied_embeddings``), ``vocab_params`` (Tao et al.'s N_v =
    V·d_model, one matrix), ``non_vocab_params`` (Tao et al.'s N_nv = total − embedding_params), ``aspect_ratio``
    (d_model / layers); ``to_dict()`` gives arch, layers, d_model, heads, kv_heads, head_dim, d_ff, vocab, context,
    tied_embeddings and the counts. This is the one parameter counter.
``flops_per_token(shape) -> FlopCount``
    Hoffmann et al. 2022 Appendix F training FLOPs per token (3 × forward) with the per-term breakdown, next to
    6·N (N = ``shape.total_params``) and the ratio; also DeepSeek's M (non-embedding FLOPs/token, eq. 2).
``design_shape(params_total, *, vocab=None, context=2048, layers=None, d_model=None, heads=None, head_dim=None,
d_ff=None, tied_embeddings=None, arch="llama", tolerance=None, convention="total") -> Shape``
    A shape a trainer can lay out (heads, KV heads, d_ff and layers on the grids trainers use; see the function)
    whose size in the law's
    ``convention`` (total, non_embedding, non_embedding_with_head, or flops_per_token = DeepSeek's M at
    ``context``) is ``params_total`` within ``tolerance`` (3 %), near the aspect ratio of Chinchilla's Table A9
    shapes. Unpinned, a monotone ladder: width and Tao's N_v never fall as the target grows, layers fall only
    where the width rises. Pinned values are kept, the rest adapt. Impossible pins raise ``ScaleplanError``.
``measure(shape, convention="total") -> float``
    The shape's size in a law's convention.
``optimal_vocab(non_vocab_params=None, *, flops=None, params_total=None, d_model=None, tied_embeddings=False)
-> VocabResult``
    Tao et al. 2024: approach 2 (derivative-based power law N_v ∝ N_nv^0.835) from non-vocabulary parameters (or
    from total parameters, split consistently and with the width a plan of that size gets), approach 1 (IsoFLOPs)
    from a FLOP budget; V = N_v / d_model
    rounded to a multiple of 128.
``hyperparameters(params=None, tokens=None, flops=None, *, loss=None, law=None, context=2048, shape=None)
-> list[HParams]``
    One row per applicable law: StepLaw (needs N, D), DeepSeek eq. 1 (needs C), Porian et al. (needs N), Kaplan's
    B_crit (needs a loss). ``params`` is total parameters (converted through ``design_shape``) unless ``shape`` is
    given. Exactly one row has ``default=True``: ``law`` if given, else the first applicable of
    steplaw, deepseek, porian, kaplan-bcrit (steplaw-paper, the paper's rounded StepLaw constants, only by name).
``recipe(params_total, tokens=None, flops=None, *, loss=None, law=None, context=2048, vocab=None, layers=None,
d_model=None, heads=None, head_dim=None, d_ff=None, tied_embeddings=None, arch="llama", convention="total")
-> Recipe``
    All of the above for one plan; warnings collected, never printed.

Conventions: parameters, FLOPs and tokens are plain floats; batch sizes are reported in tokens and in sequences of
``context`` tokens (default 2,048), sequences rounded to a power-of-two multiple (batch_multiple); vocabularies to a
multiple of 128.
"""

from __future__ import annotations

import difflib
import functools
import math
from dataclasses import dataclass, replace
from typing import Any

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema import fields, limits
from ..schema.units import fmt_sci

__all__ = [
    "HPARAM_LAWS",
    "FlopCount",
    "HParams",
    "Recipe",
    "Shape",
    "VocabResult",
    "constants",
    "design_shape",
    "flops_per_token",
    "hyperparameters",
    "measure",
    "optimal_vocab",
    "recipe",
    "recipe_for_shape",
    "steplaw",
]

# steplaw-paper (StepLaw with the paper's rounded constants) gives a row only when asked for by name.
HPARAM_LAWS = ("steplaw", "deepseek", "porian", "kaplan-bcrit", "steplaw-paper")


# --------------------------------------------------------------------------------------------------------------
# data file
# --------------------------------------------------------------------------------------------------------------


def _num(where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ScaleplanError(f"recipe.yaml: {where} must be a number, got {value!r}")
    return float(value)


_REQUIRED_HPARAMS = {
    "deepseek": ("eta_coef", "eta_exp", "batch_coef", "batch_exp"),
    "steplaw": ("eta_coef", "eta_n_exp", "eta_d_exp", "batch_coef", "batch_d_exp"),
    "steplaw-paper": ("eta_coef", "eta_n_exp", "eta_d_exp", "batch_coef", "batch_d_exp"),
    "porian": ("eta_coef", "n_ref", "eta_exp", "batch_seq_coef", "batch_exp", "batch_context"),
    "kaplan-bcrit": ("b_star", "alpha_b"),
}


@functools.lru_cache(maxsize=1)
def constants() -> dict:
    """The validated contents of ``data/recipe.yaml`` (cached; treat as read-only)."""
    raw = _yaml.read(_yaml.DATA / "recipe.yaml")
    for key in ("conventions", "vocab", "hparams", "shape", "flops"):
        if not isinstance(raw.get(key), dict):
            raise ScaleplanError(f"recipe.yaml: missing section {key!r}")
    conv = raw["conventions"]
    for key in (
        "context",
        "vocab_multiple",
        "batch_sequence_multiple",
        "d_model_multiple",
        "shape_tolerance",
        "gpt_shape_tolerance",
        "ffw_ratio",
        "glu_ffw_ratio",
        "head_dim_small",
        "head_dim_large",
        "ff_min_ratio",
        "ff_max_ratio",
    ):
        _num(f"conventions.{key}", conv.get(key))
    v = raw["vocab"]
    for sub, keys in (("approach2", ("nv_ref", "nnv_ref", "gamma")), ("approach1", ("k_nnv", "e_nnv", "k_nv", "e_nv"))):
        for key in keys:
            _num(f"vocab.{sub}.{key}", v[sub].get(key))
    for row in v["d_model_table"]:
        _num("vocab.d_model_table", row[0]), _num("vocab.d_model_table", row[1])
    hp = raw["hparams"]
    for name, hp_keys in _REQUIRED_HPARAMS.items():
        if name not in hp:
            raise ScaleplanError(f"recipe.yaml: hparams.{name} missing")
        for key in hp_keys:
            _num(f"hparams.{name}.{key}", hp[name].get(key))
        if "citation" not in hp[name]:
            raise ScaleplanError(f"recipe.yaml: hparams.{name}.citation missing")
    if set(hp["default_order"]) != set(HPARAM_LAWS):
        raise ScaleplanError(f"recipe.yaml: hparams.default_order must list {', '.join(HPARAM_LAWS)}")
    for row in raw["shape"]["aspect_anchors"]:
        for x in row:
            _num("shape.aspect_anchors", x)
    return raw


def _cite(c: dict) -> str:
    """'DeepSeek-AI 2024, arXiv:2401.02954, eq. (1): ...'."""
    arxiv = f", arXiv:{c['arxiv']}" if c.get("arxiv") else ""
    where = f", {c['where']}" if c.get("where") else ""
    return f"{c.get('short', '')} {c.get('year', '')}{arxiv}{where}".strip()


@functools.cache
def _aliases() -> dict[str, str]:
    hp = constants()["hparams"]
    out = {}
    for name in HPARAM_LAWS:
        out[name] = name
        for alias in hp[name].get("aliases", ()):
            out[str(alias).lower()] = name
    return out


def _law_name(law: str) -> str:
    key = str(law).strip().lower()
    table = _aliases()
    if key in table:
        return table[key]
    close = difflib.get_close_matches(key, list(table), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ScaleplanError(f"unknown learning-rate/batch law {law!r}{hint} (allowed: {', '.join(HPARAM_LAWS)})")


# --------------------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------------------


def _pos_int(name: str, value) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
        or value < 1
    ):
        raise ScaleplanError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _pos_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ScaleplanError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _round_multiple(x: float, m: int) -> int:
    return max(m, int(m * round(x / m)))


def _range_warning(what: str, value: float, rng, law: str) -> list[str]:
    if not rng:
        return []
    lo, hi = float(rng[0]), float(rng[1])
    if lo <= value <= hi:
        return []
    side = "below" if value < lo else "above"
    return [f"{law}: {what} = {fmt_sci(value)} is {side} the fitted range [{fmt_sci(lo)}, {fmt_sci(hi)}]; extrapolated"]


# --------------------------------------------------------------------------------------------------------------
# shape and FLOPs
# --------------------------------------------------------------------------------------------------------------


ARCHS = ("llama", "gpt")


@dataclass(frozen=True)
class Shape:
    """A decoder-only transformer of one of two architectures, with its exact parameter count.

    ``arch="llama"`` (the default): RMSNorm, rotary positions, SwiGLU MLP (gate, up and down: 3·d·d_ff), grouped-query
    attention with ``kv_heads`` key/value heads (q and o are d × heads·head_dim, k and v d × kv_heads·head_dim), no
    biases; weights of two RMSNorms per layer (2·d) and a final one (d). This is Hugging Face's LlamaForCausalLM.
    ``arch="gpt"``: GPT-2 (Radford et al. 2019; Hugging Face GPT2LMHeadModel): learned positions (context × d),
    LayerNorm with weight and bias (2 per layer, one final: 2·d each), attention with biases (c_attn, c_proj), a GELU
    MLP of 2 matrices with biases. ``tied_embeddings``: the output head is the input embedding (one V × d matrix).
    ``kv_heads`` defaults to ``heads`` (multi-head attention).
    """

    layers: int
    d_model: int
    heads: int
    head_dim: int
    d_ff: int
    context: int
    vocab: int
    tied_embeddings: bool = False
    kv_heads: int | None = None
    arch: str = "llama"

    def __post_init__(self):
        for name in ("layers", "d_model", "heads", "head_dim", "d_ff", "context", "vocab"):
            object.__setattr__(self, name, _pos_int(name, getattr(self, name)))
        kv = self.heads if self.kv_heads is None else _pos_int("kv_heads", self.kv_heads)
        if self.heads % kv:
            raise ScaleplanError(f"kv_heads = {kv} must divide heads = {self.heads}")
        object.__setattr__(self, "kv_heads", kv)
        if self.arch not in ARCHS:
            raise ScaleplanError(f"arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        object.__setattr__(self, "tied_embeddings", bool(self.tied_embeddings))

    @property
    def tied(self) -> bool:
        """The output head is the input embedding (``tied_embeddings``)."""
        return self.tied_embeddings

    @property
    def glu(self) -> bool:
        """A gated (SwiGLU) MLP: the llama architecture."""
        return self.arch == "llama"

    @property
    def attn_dim(self) -> int:
        """key_size × num_heads (= d_model for the usual shapes)."""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """key_size × num_kv_heads: the width of K (and of V)."""
        return int(self.kv_heads or self.heads) * self.head_dim

    @property
    def ffn_matrices(self) -> int:
        return 3 if self.glu else 2

    @property
    def layer_matrix_params(self) -> int:
        """One layer's weight matrices: q, k, v, o and the MLP (no norms, no biases)."""
        d = self.d_model
        return 2 * d * self.attn_dim + 2 * d * self.kv_dim + self.ffn_matrices * d * self.d_ff

    @property
    def layer_params(self) -> int:
        """One layer's parameters, exactly: its matrices plus norm weights (and, for gpt, biases)."""
        d = self.d_model
        if self.arch == "llama":
            return self.layer_matrix_params + 2 * d  # two RMSNorm weights
        biases = (self.attn_dim + 2 * self.kv_dim) + d + self.d_ff + d  # c_attn, attn c_proj, c_fc, mlp c_proj
        return self.layer_matrix_params + biases + 2 * 2 * d  # two LayerNorms (weight and bias)

    @property
    def final_norm_params(self) -> int:
        return self.d_model if self.arch == "llama" else 2 * self.d_model

    @property
    def matrix_params(self) -> int:
        """The layers' weight matrices alone (what 12·L·d² approximates; DeepSeek's eq. 2 counts these)."""
        return self.layers * self.layer_matrix_params

    @property
    def non_embedding_params(self) -> int:
        """Every parameter but the token embedding, the output head and learned positions."""
        return self.layers * self.layer_params + self.final_norm_params

    @property
    def vocab_params(self) -> int:
        """Tao et al.'s N_v = V·d_model: one V × d matrix."""
        return self.vocab * self.d_model

    @property
    def embedding_params(self) -> int:
        """Input embedding plus output head: V·d_model, ×2 unless the two are tied."""
        return self.vocab_params * (1 if self.tied_embeddings else 2)

    @property
    def position_params(self) -> int:
        """Learned position embeddings (gpt: context × d_model); rotary positions (llama) have none."""
        return self.context * self.d_model if self.arch == "gpt" else 0

    @property
    def total_params(self) -> int:
        """Every parameter, exactly as the framework counts them (Hugging Face's num_parameters())."""
        return self.non_embedding_params + self.embedding_params + self.position_params

    @property
    def non_vocab_params(self) -> int:
        """Tao et al.'s N_nv: everything but the vocabulary matrices (total − embedding_params)."""
        return self.total_params - self.embedding_params

    @property
    def aspect_ratio(self) -> float:
        return self.d_model / self.layers

    def to_dict(self) -> dict:
        return {
            "arch": self.arch,
            "layers": self.layers,
            "d_model": self.d_model,
            "heads": self.heads,
            "kv_heads": self.kv_heads,
            "head_dim": self.head_dim,
            "d_ff": self.d_ff,
            "vocab": self.vocab,
            "context": self.context,
            "tied_embeddings": self.tied_embeddings,
            "glu": self.glu,
            "params_total": self.total_params,
            "params_non_embedding": self.non_embedding_params,
            "params_embedding": self.embedding_params,
            "aspect_ratio": self.aspect_ratio,
        }


@dataclass(frozen=True)
class FlopCount:
    """Appendix-F FLOPs per token. Breakdown terms are forward FLOPs per token summed over layers."""

    embeddings: float
    qkv: float
    attention_logits: float
    softmax: float
    attention_values: float
    attention_output: float
    feed_forward: float
    final_logits: float
    forward: float
    flops_per_token: float  # training: forward + backward = 3 × forward
    params: float  # N used for 6·N (shape.total_params)
    six_n: float
    ratio: float  # flops_per_token / six_n
    deepseek_m: float  # DeepSeek eq. 2 M: 6·(layer weight matrices) + 12·n_layer·(k·h)·l_seq
    citation: str = ""

    @property
    def transformer_blocks(self) -> float:
        """Forward FLOPs per token of the layers alone (no embeddings, no final logits)."""
        return self.forward - self.embeddings - self.final_logits

    def to_dict(self) -> dict:
        return {
            "flops_per_token": self.flops_per_token,
            "six_n": self.six_n,
            "ratio": self.ratio,
            "params": self.params,
            "forward": self.forward,
            "deepseek_m": self.deepseek_m,
            "breakdown": {
                k: getattr(self, k)
                for k in (
                    "embeddings",
                    "qkv",
                    "attention_logits",
                    "softmax",
                    "attention_values",
                    "attention_output",
                    "feed_forward",
                    "final_logits",
                )
            },
            "citation": self.citation,
        }


def flops_per_token(shape: Shape) -> FlopCount:
    """Hoffmann et al. 2022 App. F, divided by seq_len: training FLOPs per token = 3 × forward.

    Per token (s = context, kh = heads × head_dim, kv = kv_heads × head_dim, d = d_model, f = d_ff, V = vocab):
    embeddings 2Vd; per layer QKV 2d·(kh + 2kv) (the paper's 6d·kh without grouped-query attention), logits
    2s·kh, softmax 3h·s, values 2s·kh, output 2kh·d, FFN 2(d·f + d·f) (3 matrices for SwiGLU); final logits 2dV.
    No causal-mask discount, as in the paper. Norms and biases are not counted (as in the paper).
    """
    if not isinstance(shape, Shape):
        raise ScaleplanError(f"flops_per_token needs a Shape, got {type(shape).__name__}")
    s, d, kh, h, f, v, n_layers = (
        shape.context,
        shape.d_model,
        shape.attn_dim,
        shape.heads,
        shape.d_ff,
        shape.vocab,
        shape.layers,
    )
    emb = 2.0 * v * d
    qkv = n_layers * 2.0 * d * (kh + 2 * shape.kv_dim)
    logits = n_layers * 2.0 * s * kh
    softmax = n_layers * 3.0 * h * s
    values = n_layers * 2.0 * s * kh
    out = n_layers * 2.0 * kh * d
    ffn = n_layers * 2.0 * shape.ffn_matrices * d * f
    final = 2.0 * d * v
    fwd = emb + qkv + logits + softmax + values + out + ffn + final
    train = 3.0 * fwd
    n = float(shape.total_params)
    m = 6.0 * shape.matrix_params + 12.0 * n_layers * kh * s  # eq. 2 counts the layers' weight matrices
    return FlopCount(
        embeddings=emb,
        qkv=qkv,
        attention_logits=logits,
        softmax=softmax,
        attention_values=values,
        attention_output=out,
        feed_forward=ffn,
        final_logits=final,
        forward=fwd,
        flops_per_token=train,
        params=n,
        six_n=6.0 * n,
        ratio=train / (6.0 * n),
        deepseek_m=m,
        citation=_cite(constants()["flops"]["citation"]),
    )


def _target_aspect(params: float) -> float:
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


def _heads_for(d: int, heads, head_dim, conv) -> tuple[int, int] | None:
    if heads is not None:
        return (heads, d // heads) if d % heads == 0 else None
    if head_dim is not None:
        return (d // head_dim, head_dim) if d % head_dim == 0 else None
    return _default_heads(d, conv)


def _default_heads(d: int, conv) -> tuple[int, int]:
    """(heads, head_dim) at width d: 128-wide heads where d is a multiple of 1,024 from 2,048 up (then the heads
    are a multiple of 8), else 64-wide (on the designed widths: a multiple of 8 heads from d 1,536, of 2 below);
    a width no 64 divides gets one head."""
    hd = int(conv["head_dim_large"]) if d >= 2048 and d % 1024 == 0 else int(conv["head_dim_small"])
    if d % hd:
        hd = 64 if d % 64 == 0 else d
    return d // hd, hd


def _default_kv_heads(heads: int, d: int, arch: str) -> int:
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


def _ff_range(d: int, conv, arch: str = "llama") -> tuple[int, int, int]:
    """(lowest, highest, multiple) d_ff allowed at width d: multiples within ff_min..ff_max × d_model (llama);
    exactly 4·d_model for gpt (GPT-2 and nanoGPT fix the MLP at 4·n_embd, so layers and width absorb the rest)."""
    if arch == "gpt":
        ff = int(round(float(conv["ffw_ratio"]) * d))
        return ff, ff, ff
    q = _ff_multiple(d)
    lo = -(-int(math.ceil(float(conv["ff_min_ratio"]) * d)) // q) * q
    hi = int(float(conv["ff_max_ratio"]) * d) // q * q
    return lo, max(lo, hi), q


def _default_d_ff(d: int, arch: str, conv) -> int:
    """The d_ff a width starts from: 3.25 d_model for SwiGLU (llama), exactly 4 d_model for GELU (gpt)."""
    ratio = float(conv["glu_ffw_ratio"] if arch == "llama" else conv["ffw_ratio"])
    lo, hi, q = _ff_range(d, conv, arch)
    if arch == "gpt":
        return lo
    return min(max(q * round(ratio * d / q), lo), hi)


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


def _size_terms(d, h, hd, kv, v, context, tied, arch, convention) -> tuple[float, float, float, float]:
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


def _fit_shape(
    target: float, vocab, context: int, layers, d_model, heads, head_dim, d_ff, tied: bool, arch: str, tol: float
) -> tuple[Shape | None, tuple | None]:
    """Best shape within tolerance, or (None, closest). ``vocab=None``: Tao's optimum, consistent per candidate."""
    conv = constants()["conventions"]
    step = int(conv["d_model_multiple"])
    mult = int(conv["vocab_multiple"])
    aim = _target_aspect(target)
    v0 = vocab if vocab is not None else optimal_vocab(params_total=target, tied_embeddings=tied).vocab_params
    best = closest = None
    loose = d_ff is not None or heads is not None or head_dim is not None
    for d in _candidates(target, layers, d_model, aim, step, loose):
        hh = _heads_for(d, heads, head_dim, conv)
        if hh is None:
            continue
        h, hd = hh
        kv = _default_kv_heads(h, d, arch)
        ff_lo, ff_hi, q = _ff_range(d, conv, arch)
        ff0 = d_ff if d_ff is not None else _default_d_ff(d, arch, conv)
        ff, v, n_layers = ff0, (vocab if vocab is not None else _round_multiple(v0 / d, mult)), layers
        e0, a, bb, _c = _size_terms(d, h, hd, kv, v, context, tied, arch, "total")
        for _ in range(1 if vocab is not None else 8):
            e0, a, bb, _c = _size_terms(d, h, hd, kv, v, context, tied, arch, "total")
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
            v_new = _round_multiple(_tao_nv_approach2(n_layers * (a + bb * ff)) / d, mult)
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


# --------------------------------------------------------------------------------------------------------------
# the unpinned shape: a monotone ladder in the law's own parameter convention
# --------------------------------------------------------------------------------------------------------------

CONVENTIONS = ("total", "non_embedding", "non_embedding_with_head", "flops_per_token")
_FF_SWING = 0.25  # d_ff may move up to 1/4 from its default to absorb what whole layers cannot


def _check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ScaleplanError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    return convention


def measure(shape: Shape, convention: str = "total") -> float:
    """The shape's size in a law's convention: total, non-embedding, non-embedding + head, or DeepSeek's M."""
    convention = _check_convention(convention)
    if convention == "total":
        return float(shape.total_params)
    if convention == "non_embedding":
        return float(shape.non_embedding_params)
    if convention == "non_embedding_with_head":
        return float(shape.non_embedding_params + shape.vocab_params)
    return float(flops_per_token(shape).deepseek_m)


@functools.lru_cache(maxsize=512)
def _smooth_size(target: float, convention: str, context: int, vocab, tied: bool) -> tuple[float, float, float]:
    """(N_nv, d_model, N_v) of the smooth model that has ``target`` in ``convention`` at the Table A9 aspect ratio.

    Every quantity here increases with the target, which is what makes the designed ladder monotone: the width is
    this d_model rounded, the layers this N_nv divided by the per-layer size, Tao's N_v this N_v.
    """
    k = 1 if tied else 2

    def parts(nnv):
        nv = _tao_nv_approach2(nnv)
        aim = _target_aspect(nnv + k * nv)
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


def _ladder_shape(target: float, convention: str, vocab, context: int, tied: bool, arch: str) -> Shape:
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
    tol = _default_tolerance(arch)
    nnv, d_smooth, emb = _smooth_size(target, convention, context, vocab, tied)
    # Few layers cannot be rounded within tolerance by d_ff alone: keep at least l_min (the width where the
    # smooth model has l_min layers also rises with the target, so the minimum of the two widths does too).
    l_min = _min_layers(convention, context, tol, arch)
    if convention == "flops_per_token":  # 72 L d^2 + 12 L l_seq d = M at L = l_min
        bq = 12.0 * l_min * context
        d_l = (-bq + math.sqrt(bq * bq + 4.0 * 72.0 * l_min * target)) / (2.0 * 72.0 * l_min)
    else:
        d_l = math.sqrt(nnv / (12.0 * l_min))
    d = max(128, min(_on_width_grid(d_smooth, round), _on_width_grid(d_l, math.floor)))
    h, hd = _default_heads(d, conv)
    kv = _default_kv_heads(h, d, arch)
    v = vocab if vocab is not None else max(mult, _round_multiple(emb / d, mult))
    ff0 = _default_d_ff(d, arch, conv)
    ff_lo, ff_hi, q = _ff_range(d, conv, arch)
    e_real, a, b, c = _size_terms(d, h, hd, kv, v, context, tied, arch, convention)
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


def _default_tolerance(arch: str) -> float:
    """3 % (llama, whose d_ff absorbs the rounding), 6.5 % for gpt (d_ff fixed at 4 d_model, as nanoGPT has it)."""
    conv = constants()["conventions"]
    return float(conv["gpt_shape_tolerance"] if arch == "gpt" else conv["shape_tolerance"])


def _check_pins(params_total, vocab, context, layers, d_model, heads, head_dim, d_ff, tolerance, arch="llama"):
    target = _pos_float("params_total", params_total)
    context = _pos_int("context", context)
    vocab = None if vocab is None else _pos_int("vocab", vocab)
    layers = None if layers is None else _pos_int("layers", layers)
    d_model = None if d_model is None else _pos_int("d_model", d_model)
    heads = None if heads is None else _pos_int("heads", heads)
    head_dim = None if head_dim is None else _pos_int("head_dim", head_dim)
    d_ff = None if d_ff is None else _pos_int("d_ff", d_ff)
    tol = _default_tolerance(arch) if tolerance is None else _pos_float("tolerance", tolerance)
    if layers is not None:
        limits.check_pin("layers", layers)
    if d_model is not None:
        limits.check_pin("d_model", d_model, heads_pinned=heads is not None or head_dim is not None)
    if d_model is not None and heads is not None and d_model % heads:
        raise ScaleplanError(f"heads = {heads} must divide d_model = {d_model}")
    if d_model is not None and head_dim is not None and d_model % head_dim:
        raise ScaleplanError(f"head_dim = {head_dim} must divide d_model = {d_model}")
    if heads is not None and head_dim is not None:
        if d_model is not None and heads * head_dim != d_model:
            raise ScaleplanError(f"heads × head_dim = {heads * head_dim} must equal d_model = {d_model}")
        if d_model is None:
            d_model = heads * head_dim
    return target, vocab, context, layers, d_model, heads, head_dim, d_ff, float(tol)


def _pins_text(**pins) -> str:
    given = [f"{k}={v}" for k, v in pins.items() if v is not None]
    return ", ".join(given) if given else "no pins"


def design_shape(
    params_total,
    *,
    vocab=None,
    context=2048,
    layers=None,
    d_model=None,
    heads=None,
    head_dim=None,
    d_ff=None,
    tied_embeddings: bool | None = None,
    arch: str = "llama",
    tolerance=None,
    convention: str = "total",
) -> Shape:
    """Layers, d_model, heads, d_ff whose size in ``convention`` is ``params_total`` within ``tolerance`` (3 %).

    ``convention`` is the law's own count: ``total`` (all parameters), ``non_embedding``, ``non_embedding_with_head``
    (Porian et al.) or ``flops_per_token`` (DeepSeek's M = 6 N_non-embedding + 12 n_layer d l_seq at ``context``).

    ``arch`` is ``llama`` (SwiGLU, RMSNorm, rotary positions, grouped-query attention; untied unless
    ``tied_embeddings``) or ``gpt`` (GPT-2: GELU MLP, LayerNorm and biases, learned positions, multi-head attention;
    tied unless ``tied_embeddings=False``). Sizes are exact parameter counts of that architecture (``Shape``).

    Unpinned (only vocab, context, tied_embeddings, arch given), the shape is a monotone ladder in the target that a
    trainer can lay out: the width is the smooth model's d_model at the d_model/n_layer of Chinchilla's Table A9
    (64 below 250M parameters rising to ~100 at 10B+), rounded to a multiple of 128, of 512 from ~1,536 and of 1,024
    from ~4,096, and never falls as the target grows; d_model = heads × head_dim with head_dim 128 where d_model is
    a multiple of 1,024 (from 2,048), else 64, so the heads are a multiple of 8 from d_model 1,536 (every model of
    1e9 parameters and more) and even below; KV heads 8 from d_model 1,536 (llama), a quarter of the heads or fewer
    below, all of them (gpt). At one width the layer count never falls, so layers drop only where the width steps
    up; layers are a multiple of 4 from 32 up (every design of ~20B parameters and more); at least 3 (9 for M at
    2,048 context). llama's d_ff starts at 3.25·d_model and moves within 2.6-4·d_model, in multiples of 256 (of 128,
    64, 32 below d_model 1,536), to absorb what whole layers cannot; gpt's is exactly 4·d_model (GPT-2, nanoGPT),
    so its default ``tolerance`` is 6.5 % (whole layers absorb the rounding alone). ``vocab=None``:
    V = N_v / d_model with Tao et al.'s N_v for the smooth model's non-vocabulary parameters, a multiple of 128, so
    N_v never falls as the target grows, while V may step down where the width steps up.

    With pins (layers, d_model, heads, head_dim or d_ff) the shape closest to Table A9's ratio among those within
    tolerance of the total parameters is searched; a target in another convention is first converted to total
    parameters through the smooth model.
    """
    shape, _vocab, _warnings = _design(
        params_total,
        vocab,
        context,
        layers,
        d_model,
        heads,
        head_dim,
        d_ff,
        _tied(tied_embeddings, arch),
        _check_arch(arch),
        tolerance,
        convention,
        strict=True,
    )
    return shape


def _check_arch(arch) -> str:
    if arch not in ARCHS:
        raise ScaleplanError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    return str(arch)


def _tied(tied_embeddings, arch) -> bool:
    """Tied input and output embeddings: as given, else gpt ties them (GPT-2) and llama does not."""
    return (_check_arch(arch) == "gpt") if tied_embeddings is None else bool(tied_embeddings)


_CONVENTION_WORDS = {
    "total": "parameters",
    "non_embedding": "non-embedding parameters",
    "non_embedding_with_head": "non-embedding + head parameters",
    "flops_per_token": "non-embedding FLOPs per token (DeepSeek's M)",
}


def _design(
    params_total,
    vocab,
    context,
    layers,
    d_model,
    heads,
    head_dim,
    d_ff,
    tied,
    arch,
    tolerance,
    convention="total",
    strict=False,
):
    """(shape, VocabResult or None, warnings) — the shared engine of design_shape and recipe.

    ``strict`` (design_shape) raises when no shape is within tolerance; a recipe warns instead, so a plan at a
    tiny budget still gets its numbers.
    """
    convention = _check_convention(convention)
    target, vocab, context, layers, d_model, heads, head_dim, d_ff, tol = _check_pins(
        params_total, vocab, context, layers, d_model, heads, head_dim, d_ff, tolerance, arch
    )
    pins = dict(layers=layers, d_model=d_model, heads=heads, head_dim=head_dim, d_ff=d_ff, vocab=vocab)
    warnings: list[str] = []
    vres = None
    if all(v is None for v in (layers, d_model, heads, head_dim, d_ff)):
        shape = _ladder_shape(target, convention, vocab, context, tied, arch)
        k = 1 if tied else 2
        if (
            vocab is not None
            and k * vocab * shape.d_model >= target
            and convention in ("total", "non_embedding_with_head")
        ):
            raise ScaleplanError(
                f"no shape fits {target:.4g} {_CONVENTION_WORDS[convention]} with {_pins_text(**pins)}: the "
                f"embeddings alone ({k * vocab * shape.d_model:.4g} at d_model {shape.d_model}) exceed the target; "
                "pin a smaller vocab or raise params"
            )
        err = measure(shape, convention) / target - 1.0
        if abs(err) > tol:
            layers_text = f"{shape.layers} layer{'s' if shape.layers != 1 else ''} × d_model {shape.d_model}"
            if strict:
                raise ScaleplanError(
                    f"no transformer shape has {target:.4g} {_CONVENTION_WORDS[convention]} within {tol * 100:g}%: the "
                    f"closest ({layers_text}) is {err:+.1%} off; the model is too small to design (give a larger "
                    "budget or model)"
                )
            warnings.append(
                f"shape: {layers_text} has {measure(shape, convention):.4g} {_CONVENTION_WORDS[convention]}, "
                f"{err:+.1%} from the law's {target:.4g}: "
                + (
                    "no transformer is that small"
                    if err > 0 and shape.layers == 1 and shape.d_model == 128
                    else f"whole layers this narrow are too coarse at context {context:,}"
                )
            )
        if vocab is None:
            nnv, _d, _nv = _smooth_size(target, convention, context, None, tied)
            vres = optimal_vocab(non_vocab_params=nnv, d_model=shape.d_model, tied_embeddings=tied)
    else:
        if convention != "total":
            nnv, d_s, emb = _smooth_size(target, convention, context, vocab, tied)
            target = nnv + (1 if tied else 2) * (emb if vocab is None else vocab * d_s)
        fitted, closest = _fit_shape(target, vocab, context, layers, d_model, heads, head_dim, d_ff, tied, arch, tol)
        if fitted is None:
            if closest is None:
                raise ScaleplanError(
                    f"no shape fits params_total = {target:.4g} with {_pins_text(**pins)}: the embeddings alone "
                    f"exceed the target, or heads/head_dim divide no allowed d_model; pin fewer values or raise params"
                )
            err, d, n_layers = closest[:3]
            layers_text = f"{n_layers} layer{'s' if n_layers != 1 else ''} × d_model {d}"
            raise ScaleplanError(
                f"the pinned {_pins_text(**pins)} cannot reach {target:.4g} parameters within {tol * 100:g}%: "
                f"the closest shape ({layers_text}) is {err:.1%} off; pin fewer values or change them"
            )
        shape = fitted
        if shape.layers > limits.MAX_LAYERS:
            pinned = [f"<{k}> {v:,}" for k, v in pins.items() if v is not None and k != "vocab"]
            raise ScaleplanError(
                f"{' with '.join(pinned)}: a model of {fmt_sci(target)} parameters would need {shape.layers:,} layers, "
                f"more than {limits.MAX_LAYERS:,} (Llama 3 405B has 126); pin a wider d_model or plan a smaller model"
            )
        if vocab is None:
            vres = optimal_vocab(non_vocab_params=shape.non_vocab_params, d_model=shape.d_model, tied_embeddings=tied)
    if shape.layers > limits.MAX_LAYERS:  # unpinned: only budgets far beyond any run go this deep (~1e31 FLOPs)
        warnings.append(
            f"shape: {shape.layers:,} layers, more than {limits.MAX_LAYERS:,} and far deeper than any published model "
            "(Llama 3 405B has 126)"
        )
    lo, hi = constants()["shape"]["aspect_range"]
    if not lo <= shape.aspect_ratio <= hi:
        warnings.append(
            f"shape: d_model/layers = {shape.aspect_ratio:.3g} is outside [{lo}, {hi}], the range "
            f"Kaplan et al. 2020 Fig. 5 shows with near-equal loss"
        )
    if d_model is not None and d_model % int(constants()["conventions"]["d_model_multiple"]):
        warnings.append(f"shape: pinned d_model = {d_model} is not a multiple of 128 (slower matrix multiplies)")
    if shape.d_model < 128:
        warnings.append(
            f"shape: d_model = {shape.d_model} is below 128, narrower than any published scaling-law "
            "model (Kaplan et al. 2020's smallest widths)"
        )
    if shape.heads == 1:
        warnings.append("shape: a single attention head; published models of this size use 4 or more")
    if vres is not None:
        warnings.extend(vres.warnings)
    return shape, vres, warnings


# --------------------------------------------------------------------------------------------------------------
# vocabulary (Tao et al. 2024)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class VocabResult(Rendered):
    """Tao et al. 2024's compute-optimal vocabulary for a model: V, its parameters N_v and the approach used."""

    vocab: int  # rounded to ``multiple``
    vocab_exact: float  # N_v / d_model before rounding
    multiple: int
    vocab_params: float  # Tao's N_v = V·d_model (one matrix), optimal
    non_vocab_params: float  # Tao's N_nv
    d_model: int
    approach: str  # 'approach2-derivative' or 'approach1-isoflops'
    law: str
    citation: str
    alternatives: tuple[tuple[str, int], ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "vocab": self.vocab,
            "vocab_exact": self.vocab_exact,
            "multiple": self.multiple,
            "vocab_params": self.vocab_params,
            "non_vocab_params": self.non_vocab_params,
            "d_model": self.d_model,
            "approach": self.approach,
            "law": self.law,
            "citation": self.citation,
            "alternatives": dict(self.alternatives),
            "warnings": list(self.warnings),
        }


def _tao_nv_approach2(nnv: float) -> float:
    a2 = constants()["vocab"]["approach2"]
    return a2["nv_ref"] * (nnv / a2["nnv_ref"]) ** a2["gamma"]


def _tao_approach1(flops: float) -> tuple[float, float]:
    """(N_nv, N_v) at the compute-optimal allocation for FLOPs C = 6 (N_nv + N_v) D."""
    a1 = constants()["vocab"]["approach1"]
    return math.exp(a1["k_nnv"]) * flops ** a1["e_nnv"], math.exp(a1["k_nv"]) * flops ** a1["e_nv"]


def _tao_d_model(nnv: float) -> int:
    for bound, d in constants()["vocab"]["d_model_table"]:
        if nnv <= bound:
            return int(d)
    return int(constants()["vocab"]["d_model_table"][-1][1])  # pragma: no cover


def optimal_vocab(
    non_vocab_params=None, *, flops=None, params_total=None, d_model=None, tied_embeddings: bool = False
) -> VocabResult:
    """Tao et al. 2024 compute-optimal vocabulary, rounded to the nearest multiple of 128.

    Give exactly one of ``non_vocab_params`` (N_nv; approach 2: N_v = 3,145,728·(N_nv/33M)^0.8354),
    ``params_total`` (split as total = N_nv + N_v·(1 if tied else 2), then approach 2), or ``flops`` (approach 1,
    IsoFLOPs: N_v = e^-1.589·C^0.4164 at N_nv = e^-2.485·C^0.5). V = N_v / d_model; ``d_model`` defaults to the
    width ``design_shape`` gives a model of ``params_total`` parameters (so the answer is the vocabulary of a plan
    of that size), else to the authors' lookup table from N_nv (utils.py Nnv_to_d).
    """
    given = [x is not None for x in (non_vocab_params, flops, params_total)]
    if sum(given) != 1:
        raise ScaleplanError("optimal_vocab needs exactly one of non_vocab_params, params_total or flops")
    cv = constants()["vocab"]
    mult = int(constants()["conventions"]["vocab_multiple"])
    if flops is not None:
        c = _pos_float("flops", flops)
        nnv, nv = _tao_approach1(c)
        approach = "approach1-isoflops"
    else:
        if params_total is not None and d_model is None:
            # the same path as a plan of this many parameters: the designed shape's width and smooth split
            total = _pos_float("params_total", params_total)
            if total < 1e5:
                raise ScaleplanError(
                    f"params_total = {total:.4g} is too small to split into vocabulary and "
                    f"non-vocabulary parameters (Tao et al.'s fit starts at 33M)"
                )
            shape = _ladder_shape(
                total, "total", None, int(constants()["conventions"]["context"]), bool(tied_embeddings), "llama"
            )
            nnv, _d, _nv = _smooth_size(total, "total", shape.context, None, bool(tied_embeddings))
            return optimal_vocab(non_vocab_params=nnv, d_model=shape.d_model, tied_embeddings=tied_embeddings)
        if params_total is not None:
            total = _pos_float("params_total", params_total)
            k = 1 if tied_embeddings else 2
            nnv = total * 0.9
            for _ in range(60):  # fixed point of nnv = total - k * N_v(nnv); contraction since N_v grows sublinearly
                new = total - k * _tao_nv_approach2(nnv)
                if new <= 0:
                    raise ScaleplanError(
                        f"params_total = {total:.4g} is too small to split into vocabulary and "
                        f"non-vocabulary parameters (Tao et al.'s fit starts at 33M)"
                    )
                if abs(new - nnv) <= 1e-12 * total:
                    nnv = new
                    break
                nnv = new
        else:
            nnv = _pos_float("non_vocab_params", non_vocab_params)
        nv = _tao_nv_approach2(nnv)
        approach = "approach2-derivative"
        c1 = (nnv / math.exp(cv["approach1"]["k_nnv"])) ** (1.0 / cv["approach1"]["e_nnv"])  # approach 1's C for N_nv
    # a given width by the schema's one rule (the shape designer's minimum of one 64-wide head)
    d = (
        fields.whole(d_model, "d_model", limits.MIN_D_MODEL, limits.MAX_SHAPE)
        if d_model is not None
        else _tao_d_model(nnv)
    )
    exact = nv / d
    vocab = _round_multiple(exact, mult)
    if approach == "approach2-derivative":
        alternatives = [("approach1-isoflops", _round_multiple(_tao_approach1(c1)[1] / d, mult))]
    else:
        alternatives = [("approach2-derivative", _round_multiple(_tao_nv_approach2(nnv) / d, mult))]
    warnings = _range_warning("non-vocabulary parameters", nnv, cv["fitted_range"]["non_vocab_params"], "tao2024")
    return VocabResult(
        vocab=vocab,
        vocab_exact=exact,
        multiple=mult,
        vocab_params=nv,
        non_vocab_params=nnv,
        d_model=d,
        approach=approach,
        law=cv["name"],
        citation=_cite(cv["citation"]),
        alternatives=tuple(alternatives),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------------------------------------------
# learning rate and batch size
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HParams:
    """One learning-rate/batch law's peak learning rate and batch for a model (`default`: the one the plan uses)."""

    law: str
    title: str
    citation: str
    learning_rate: float | None
    batch_tokens: int  # batch_sequences × context
    batch_sequences: int
    batch_tokens_raw: float  # the law's value before rounding
    context: int
    basis: str  # the inputs the law was evaluated at
    status: str
    default: bool = False
    note: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def batch_sequences_raw(self) -> float:
        """The law's batch in sequences before rounding."""
        return self.batch_tokens_raw / self.context

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "title": self.title,
            "citation": self.citation,
            "learning_rate": self.learning_rate,
            "batch_tokens": self.batch_tokens,
            "batch_sequences": self.batch_sequences,
            "batch_tokens_raw": self.batch_tokens_raw,
            "context": self.context,
            "basis": self.basis,
            "status": self.status,
            "default": self.default,
            "note": self.note,
            "warnings": list(self.warnings),
        }


def batch_multiple(sequences: float) -> int:
    """The multiple a law's batch of `sequences` is rounded to without a cluster: the largest power of two at most
    sequences / batch_power_share (16), and at least batch_sequence_multiple (8). So 2^k-way data parallelism up to
    that multiple divides the batch, which stays within 1/32 (3.1 %) of the law's from 128 sequences up
    (2,184 -> 2,176 = 17 x 128)."""
    conv = constants()["conventions"]
    floor, share = int(conv["batch_sequence_multiple"]), float(conv["batch_power_share"])
    if sequences / share < floor:
        return floor
    return max(floor, 2 ** int(math.floor(math.log2(sequences / share))))


def _batch(tokens_raw: float, context: int) -> tuple[int, int]:
    seqs = tokens_raw / context
    mult = batch_multiple(seqs)
    n = max(1, round(seqs)) if seqs < mult else _round_multiple(seqs, mult)
    return n * context, n


def _row(name: str, lr, tokens_raw: float, context: int, basis: str, warnings: list[str]) -> HParams:
    c = constants()["hparams"][name]
    bt, bs = _batch(tokens_raw, context)
    return HParams(
        law=name,
        title=c.get("title", name),
        citation=_cite(c["citation"]),
        learning_rate=None if lr is None else float(lr),
        batch_tokens=bt,
        batch_sequences=bs,
        batch_tokens_raw=float(tokens_raw),
        context=context,
        basis=basis,
        status=str(c.get("status", "")),
        note=" ".join(str(c.get("note", "")).split()),
        warnings=tuple(warnings),
    )


def steplaw(non_embedding_params, tokens, *, law: str = "steplaw") -> tuple[float, float]:
    """StepLaw's learning rate and batch size in tokens: eta = c N^a D^b, B = k D^e (Li et al. 2025).

    ``law`` is ``steplaw`` (the authors' bootstrap-mean constants, as their fit_tool.py uses) or
    ``steplaw-paper`` (the paper's rounded constants).

    >>> lr, batch = steplaw(1.08e9, 1e11)
    >>> f"{lr:.3e}", round(batch)
    ('1.574e-03', 1107467)
    """
    name = _law_name(law)
    if name not in ("steplaw", "steplaw-paper"):
        raise ScaleplanError(f"steplaw: law must be steplaw or steplaw-paper, got {law!r}")
    c = constants()["hparams"][name]
    n, d = _pos_float("non_embedding_params", non_embedding_params), _pos_float("tokens", tokens)
    return (c["eta_coef"] * n ** c["eta_n_exp"] * d ** c["eta_d_exp"], c["batch_coef"] * d ** c["batch_d_exp"])


def hyperparameters(
    params=None,
    tokens=None,
    flops=None,
    *,
    loss=None,
    law=None,
    context=2048,
    shape: Shape | None = None,
    deepseek_flops=None,
) -> list[HParams]:
    """Learning rate and batch size from every law that applies, one marked ``default``.

    ``params`` is total parameters (turned into a shape with ``design_shape`` for the non-embedding count and
    DeepSeek's M) unless ``shape`` is given. DeepSeek's C is ``deepseek_flops`` when given (a DeepSeek plan's own
    M·D), else M·D when the shape and ``tokens`` are known, else ``flops`` as given (read as DeepSeek's M·D).
    Raises ``ScaleplanError`` when nothing applies or ``law`` does not.
    """
    context = _pos_int("context", shape.context if shape is not None else context)
    tokens = None if tokens is None else _pos_float("tokens", tokens)
    flops = None if flops is None else _pos_float("flops", flops)
    loss = None if loss is None else _pos_float("loss", loss)
    chosen = None if law is None else _law_name(law)
    if shape is None and params is not None:
        shape = design_shape(_pos_float("params", params), context=context)
    hp = constants()["hparams"]
    rows: dict[str, HParams] = {}

    if shape is not None and tokens is not None:
        for name in ("steplaw", "steplaw-paper") if chosen == "steplaw-paper" else ("steplaw",):
            n, d = float(shape.non_embedding_params), tokens
            lr, b = steplaw(n, d, law=name)
            rng = hp[name].get("fitted_range", {})
            rows[name] = _row(
                name,
                lr,
                b,
                context,
                f"N_non_embedding={n:.4g}, D={d:.4g}",
                _range_warning("N (non-embedding)", n, rng.get("params"), name)
                + _range_warning("D (tokens)", d, rng.get("tokens"), name),
            )
    c_ds = None
    if deepseek_flops is not None:
        c_ds, basis = _pos_float("deepseek_flops", deepseek_flops), "C = M·D of the DeepSeek plan"
    elif shape is not None and tokens is not None:
        c_ds, basis = flops_per_token(shape).deepseek_m * tokens, "C = M·D (DeepSeek eq. 2 M from the shape)"
    elif flops is not None:
        c_ds, basis = flops, "C = flops as given (read as DeepSeek's M·D)"
    if c_ds is not None:
        c = hp["deepseek"]
        lr = c["eta_coef"] * c_ds ** c["eta_exp"]
        b = c["batch_coef"] * c_ds ** c["batch_exp"]
        rows["deepseek"] = _row(
            "deepseek",
            lr,
            b,
            context,
            f"{basis}, C={c_ds:.4g}",
            _range_warning("C", c_ds, c["fitted_range"]["flops"], "deepseek"),
        )
    if shape is not None:
        c = hp["porian"]
        # non-embedding + output head, as Porian et al. count it: the weight matrices (norms and biases are 0.1 %)
        n = float(shape.matrix_params + shape.vocab_params)
        x = n / c["n_ref"]
        lr = c["eta_coef"] * x ** c["eta_exp"]
        b = c["batch_seq_coef"] * x ** c["batch_exp"] * c["batch_context"]
        rows["porian"] = _row(
            "porian",
            lr,
            b,
            context,
            f"N (non-embedding + head)={n:.4g}",
            _range_warning("N", n, c["fitted_range"]["params"], "porian"),
        )
    if loss is not None:
        c = hp["kaplan-bcrit"]
        b = c["b_star"] / loss ** (1.0 / c["alpha_b"])
        rows["kaplan-bcrit"] = _row("kaplan-bcrit", None, b, context, f"L={loss:.4g} nats/token", [])

    if not rows:
        raise ScaleplanError(
            "hyperparameters needs params and tokens (StepLaw, DeepSeek, Porian), flops "
            "(DeepSeek), params alone (Porian) or a loss (Kaplan B_crit); got none of these"
        )
    if chosen is not None and chosen not in rows:
        needs = {
            "steplaw": "params and tokens",
            "steplaw-paper": "params and tokens",
            "deepseek": "flops, or params and tokens",
            "porian": "params",
            "kaplan-bcrit": "a loss",
        }[chosen]
        raise ScaleplanError(f"law {chosen!r} needs {needs}; applicable here: {', '.join(rows)}")
    default = chosen or next(name for name in hp["default_order"] if name in rows)
    return [replace(rows[name], default=(name == default)) for name in HPARAM_LAWS if name in rows]


# --------------------------------------------------------------------------------------------------------------
# the whole recipe
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """A plan's training recipe: shape, vocabulary, FLOPs per token and the learning-rate/batch laws' values."""

    shape: Shape
    vocab: VocabResult | None  # None when the vocabulary was pinned
    flops: FlopCount
    hparams: tuple[HParams, ...]
    tokens: float
    warnings: tuple[str, ...] = ()
    vocab_pinned: bool = False

    @property
    def default_hparams(self) -> HParams:
        return next(h for h in self.hparams if h.default)

    @property
    def cosine_peak_lr(self) -> float | None:
        """The default LR law's peak: the laws were fitted under cosine schedules."""
        return self.default_hparams.learning_rate

    @property
    def learning_rate(self) -> float | None:
        """The learning rate to use: the peak of the recommended (WSD) schedule, half the cosine peak."""
        sched = self.schedule
        return self.cosine_peak_lr if sched is None else sched.schedule.peak_lr

    @property
    def lr_spread(self) -> tuple[float, float] | None:
        """(lowest, highest) cosine peak LR across the bundled laws that apply, when more than one gives a rate."""
        rates = [h.learning_rate for h in self.hparams if h.learning_rate is not None]
        return (min(rates), max(rates)) if len(rates) > 1 else None

    @property
    def batch_tokens(self) -> int:
        return self.default_hparams.batch_tokens

    @property
    def batch_sequences(self) -> int:
        return self.default_hparams.batch_sequences

    @property
    def schedule(self):
        """The learning-rate schedule (warm-up, wsd cooldown, steps) the plan carries; None without a rate."""
        from .schedules import plan_schedule

        return plan_schedule(self.cosine_peak_lr, self.tokens, self.batch_tokens)

    def to_dict(self) -> dict:
        d = self.default_hparams
        sched = self.schedule
        spread = self.lr_spread
        return {
            "vocab": self.shape.vocab,
            "learning_rate": self.learning_rate,  # the WSD schedule's peak == schedule.peak_lr
            "cosine_peak_lr": d.learning_rate,
            "lr_spread": None if spread is None else list(spread),
            "batch_tokens": d.batch_tokens,
            "batch_sequences": d.batch_sequences,
            "hparams_law": d.law,
            "shape": self.shape.to_dict(),
            "params_total": self.shape.total_params,
            "params_non_embedding": self.shape.non_embedding_params,
            "tokens": self.tokens,
            "flops_per_token": self.flops.flops_per_token,
            "flops": self.flops.to_dict(),
            "vocab_detail": None if self.vocab is None else self.vocab.to_dict(),
            "vocab_pinned": self.vocab_pinned,
            "hparams": [h.to_dict() for h in self.hparams],
            "schedule": None if sched is None else sched.to_dict(),
            "warnings": list(self.warnings),
        }

    def plan_fields(self) -> dict:
        """The recipe as a plan's JSON carries it, under the same names in every mode."""
        r = self.to_dict()
        return {
            **{
                k: r[k]
                for k in ("vocab", "learning_rate", "cosine_peak_lr", "batch_tokens", "batch_sequences", "shape")
            },
            "flops_per_token": r["flops_per_token"],
            "flops_exact": r["flops_per_token"] * float(self.tokens),
            "recipe": {
                k: r[k]
                for k in ("hparams_law", "cosine_peak_lr", "lr_spread", "hparams", "vocab_detail", "flops", "schedule")
            },
        }


def recipe(
    params_total,
    tokens=None,
    flops=None,
    *,
    loss=None,
    law=None,
    context=2048,
    vocab=None,
    layers=None,
    d_model=None,
    heads=None,
    head_dim=None,
    d_ff=None,
    tied_embeddings: bool | None = None,
    arch: str = "llama",
    convention: str = "total",
) -> Recipe:
    """Vocabulary, shape, FLOPs per token and learning rate / batch size for one plan.

    ``params_total`` is the model size in ``convention`` (the allocating law's own count, see ``design_shape``;
    for ``flops_per_token`` it is DeepSeek's M and ``flops`` is read as M·D). ``tokens`` defaults to
    ``flops / (6·params_total)`` (``flops / M`` for M). Pinned values (vocab, layers, d_model, heads, head_dim,
    d_ff, context) are kept and the rest adapt; ``arch`` (llama or gpt) as ``design_shape``. Every warning of
    every part is collected in ``warnings``.
    """
    total = _pos_float("params_total", params_total)
    convention = _check_convention(convention)
    if tokens is None:
        if flops is None:
            raise ScaleplanError("recipe needs tokens or flops")
        tokens = _pos_float("flops", flops) / ((1.0 if convention == "flops_per_token" else 6.0) * total)
    tokens = _pos_float("tokens", tokens)
    design = design_model(
        total,
        convention=convention,
        context=context,
        vocab=vocab,
        layers=layers,
        d_model=d_model,
        heads=heads,
        head_dim=head_dim,
        d_ff=d_ff,
        tied_embeddings=tied_embeddings,
        arch=arch,
    )
    # A DeepSeek plan's budget is M·D by construction; other plans' C = 6 N D is not DeepSeek's C, so M comes
    # from the shape.
    m_flops = flops if convention == "flops_per_token" and flops is not None else None
    return recipe_of(design, tokens, flops, loss=loss, law=law, deepseek_flops=m_flops)


@dataclass(frozen=True)
class Design:
    """A designed model before its recipe: the shape, the vocabulary result (None when pinned) and the design's
    warnings. The pipeline's model stage makes it; its recipe stage adds the learning rate and batch."""

    shape: Any  # a dense Shape, or a moe_shape.MoeShape
    vocab: VocabResult | None = None
    warnings: tuple[str, ...] = ()
    vocab_pinned: bool = False


def design_model(
    params,
    *,
    convention: str = "total",
    context=2048,
    vocab=None,
    layers=None,
    d_model=None,
    heads=None,
    head_dim=None,
    d_ff=None,
    tied_embeddings: bool | None = None,
    arch: str = "llama",
) -> Design:
    """The network a plan trains: a shape whose size in ``convention`` is ``params`` (as ``design_shape``, warning
    rather than refusing when no shape is within tolerance), with its vocabulary."""
    shape, vres, warnings = _design(
        _pos_float("params", params),
        vocab,
        context,
        layers,
        d_model,
        heads,
        head_dim,
        d_ff,
        _tied(tied_embeddings, arch),
        _check_arch(arch),
        None,
        _check_convention(convention),
    )
    return Design(shape, vres, tuple(warnings), vocab_pinned=vocab is not None)


def recipe_of(design: Design, tokens, flops=None, *, loss=None, law=None, deepseek_flops=None) -> Recipe:
    """The recipe of a designed model trained on ``tokens``: its exact FLOPs per token and every learning-rate /
    batch law's values (``law`` the default), the design's warnings and the laws' collected."""
    shape = design.shape
    rows = hyperparameters(
        tokens=_pos_float("tokens", tokens), flops=flops, loss=loss, law=law, shape=shape, deepseek_flops=deepseek_flops
    )
    warnings = list(design.warnings) + [w for row in rows for w in row.warnings]
    return Recipe(
        shape=shape,
        vocab=design.vocab,
        flops=flops_per_token(shape),
        hparams=tuple(rows),
        tokens=float(tokens),
        warnings=tuple(dict.fromkeys(warnings)),
        vocab_pinned=design.vocab_pinned,
    )


def recipe_for_shape(shape: Shape, tokens, flops=None, *, loss=None, law=None) -> Recipe:
    """The recipe of a given model (a trainer's config read back): its own shape and vocabulary, its exact FLOPs
    per token, and every learning-rate/batch law's values for it at ``tokens``."""
    if not isinstance(shape, Shape):
        raise ScaleplanError(f"recipe_for_shape needs a Shape, got {type(shape).__name__}")
    tokens = _pos_float("tokens", tokens)
    rows = hyperparameters(tokens=tokens, flops=flops, loss=loss, law=law, shape=shape)
    warnings = [w for row in rows for w in row.warnings]
    return Recipe(
        shape=shape,
        vocab=None,
        flops=flops_per_token(shape),
        hparams=tuple(rows),
        tokens=tokens,
        warnings=tuple(dict.fromkeys(warnings)),
        vocab_pinned=True,
    )
