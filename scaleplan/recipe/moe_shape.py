"""Mixtures of experts as real models: an integer shape, its exact parameter counts, and its recipe.

A ``MoeShape`` is a dense ``recipe.Shape`` (attention, embeddings and the feed-forward width of any dense layers:
the one dense counter) with its feed-forward layers replaced, in ``moe_layers`` of its layers (the last ones; the
first ``dense_layers`` stay dense, as DeepSeek-V3's first three), by ``experts`` routed experts of width
``expert_d_ff`` of which a token uses ``top_k``, plus ``shared_experts`` every token uses. Counted exactly:

- attention as the dense Shape counts it (Q, K, V, O; grouped-query K/V where the Shape has KV heads), or
  DeepSeek's multi-head latent attention (``Mla``: its down/up projections and their RMSNorms), with optional
  QK-norm weights (OLMoE);
- experts with the dense Shape's feed-forward form (2 matrices, 3 with SwiGLU);
- the router (d_model x experts, plus DeepSeek-V3's per-expert bias), counted as active: every token passes it;
- RMSNorm weights (two per layer and a final one), which the dense Shape leaves out;
- embeddings as the dense Shape counts them (input and output, tied or not).

Not modelled: biases other than the router's, DeepSeek-V3's multi-token-prediction module (its 14B of the 685B on
Hugging Face; the 671B the paper names excludes it), expert capacity factors, token dropping and the
load-balancing losses (no parameters). Active parameters are those one token's forward pass touches: attention,
top_k routed and every shared expert, the router, norms and both embedding matrices (Mixtral's "13B active"
convention; DeepSeek's "37B activated" matches the same count without the input-embedding lookup).

The recipe of an MoE plan is an extrapolation from dense fits, labelled so: vocabulary from Tao et al. 2024's
approach 2 at the active non-vocabulary parameters, and learning rate and batch from DeepSeek's eq. (1) with
C = M_active D (M_active: DeepSeek's eq. (2) on the active parameters). No MoE-specific law with printed constants
is bundled (see the README's MoE section for what published MoE runs used).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from ..core.errors import ScaleplanError
from ..schema import conventions
from .hparams import HParams, hyperparameters
from .shape import Shape
from .sizing import design_shape
from .tao import VocabResult
from .vocab import vocab_at

__all__ = ["Mla", "MoeRecipe", "MoeShape", "design_given_moe", "design_law_moe", "moe_recipe"]

DEFAULT_CONTEXT = conventions.DEFAULT_CONTEXT
GIVEN_TOLERANCE = 0.01  # a given MoE's shape matches its total and active counts within 1%
LAW_TOLERANCE = 0.03  # an optimal MoE's shape matches the law's active and total counts within 3%
PREFERRED_TOP_K = 8  # a given MoE's default routing: DeepSeek-V3, OLMoE and Qwen3 route each token to 8 experts


@dataclass(frozen=True)
class Mla:
    """DeepSeek's multi-head latent attention (DeepSeek-V2, arXiv:2405.04434, Sec. 2.1): low-rank query and
    key-value projections. ``q_lora_rank`` None: a full query projection (DeepSeek-V2-Lite)."""

    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None

    def params(self, d_model: int, heads: int) -> int:
        qk = self.qk_nope_head_dim + self.qk_rope_head_dim
        if self.q_lora_rank is None:
            q = d_model * heads * qk
        else:
            q = d_model * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * heads * qk  # W_DQ, its norm, W_UQ
        kv = d_model * (self.kv_lora_rank + self.qk_rope_head_dim) + self.kv_lora_rank  # W_DKV + W_KR, its norm
        kv += self.kv_lora_rank * heads * (self.qk_nope_head_dim + self.v_head_dim)  # W_UK, W_UV
        return q + kv + heads * self.v_head_dim * d_model  # + W_O

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class MoeShape:
    """An integer mixture-of-experts transformer, counted exactly (see the module docstring for what is counted).

    ``base`` is the dense Shape whose attention, embeddings and (for the ``dense_layers``) feed-forward width
    ``d_ff`` the MoE keeps. Serving reads ``experts``, ``top_k``, ``active_params`` (what a token passes through)
    and ``total_params`` (what memory holds).
    """

    base: Shape
    experts: int  # routed experts per MoE layer
    top_k: int  # routed experts per token
    expert_d_ff: int
    shared_experts: int = 0  # experts every token passes through, each of width expert_d_ff
    moe_layers: int | None = None  # None: every layer; otherwise the last moe_layers layers
    norms: bool = True  # count RMSNorm weights (2 per layer + final) where the dense Shape counts none
    qk_norm: bool = False  # RMSNorm on queries and keys (OLMoE)
    router_bias: bool = False  # a per-expert bias in the router (DeepSeek-V3's load-balancing bias)
    mla: Mla | None = None  # multi-head latent attention instead of the Shape's attention

    def __post_init__(self):
        for name in ("experts", "top_k", "expert_d_ff"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ScaleplanError(f"{name} must be a positive whole number, got {v!r}")
            object.__setattr__(self, name, int(v))
        if int(self.shared_experts) != self.shared_experts or self.shared_experts < 0:
            raise ScaleplanError(f"shared_experts must be a whole number >= 0, got {self.shared_experts!r}")
        object.__setattr__(self, "shared_experts", int(self.shared_experts))
        if self.top_k > self.experts:
            raise ScaleplanError(f"top_k ({self.top_k}) cannot exceed the experts ({self.experts})")
        moe = self.base.layers if self.moe_layers is None else self.moe_layers
        if int(moe) != moe or not 1 <= moe <= self.base.layers:
            raise ScaleplanError(f"moe_layers must be in 1..{self.base.layers}, got {self.moe_layers!r}")
        object.__setattr__(self, "moe_layers", int(moe))

    # -- the dense parts, from the one dense counter ----------------------------------------------------------
    @property
    def layers(self) -> int:
        return self.base.layers

    @property
    def d_model(self) -> int:
        return self.base.d_model

    @property
    def heads(self) -> int:
        return self.base.heads

    @property
    def kv_heads(self) -> int:
        return int(getattr(self.base, "kv_heads", None) or self.base.heads)

    @property
    def head_dim(self) -> int:
        return self.base.head_dim

    @property
    def context(self) -> int:
        return self.base.context

    @property
    def vocab(self) -> int:
        return self.base.vocab

    @property
    def glu(self) -> bool:
        return self.base.glu

    @property
    def dense_layers(self) -> int:
        assert self.moe_layers is not None  # set in __post_init__
        return self.base.layers - self.moe_layers

    @property
    def ffn_matrices(self) -> int:
        return self.base.ffn_matrices

    @property
    def dense_ffn_params(self) -> int:
        """One dense layer's feed-forward weights (the Shape's d_ff)."""
        return self.ffn_matrices * self.d_model * self.base.d_ff

    @property
    def _attention_matrices(self) -> int:
        """Q, K, V, O of the dense Shape (grouped-query K and V where it has KV heads)."""
        d, b = self.d_model, self.base
        return 2 * d * b.heads * b.head_dim + 2 * d * self.kv_heads * b.head_dim

    @property
    def _layer_extras(self) -> int:
        """What the dense Shape counts in a layer besides its matrices (norm weights, biases); 0 if it counts none."""
        return self.base.layer_params - self._attention_matrices - self.dense_ffn_params

    @property
    def attention_params(self) -> int:
        """One layer's attention weights: the dense Shape's Q, K, V, O, or MLA's; QK-norm weights if any."""
        qk = 2 * self.d_model if self.qk_norm else 0
        if self.mla is not None:
            return self.mla.params(self.d_model, self.heads) + qk
        return self._attention_matrices + qk

    # -- the experts ----------------------------------------------------------------------------------------
    @property
    def expert_params(self) -> int:
        """One expert's weights."""
        return self.ffn_matrices * self.d_model * self.expert_d_ff

    @property
    def router_params(self) -> int:
        """One MoE layer's router: d_model x experts (+ a bias per expert)."""
        return self.d_model * self.experts + (self.experts if self.router_bias else 0)

    @property
    def routed_expert_params(self) -> int:
        """Every routed expert of every MoE layer: what expert parallelism splits."""
        assert self.moe_layers is not None
        return self.moe_layers * self.experts * self.expert_params

    @property
    def norm_params(self) -> int:
        """Norm weights (and any other per-layer extras the dense Shape counts) plus learned positions: the
        Shape's own count where it has one, else RMSNorm's 2 per layer and a final one (with ``norms``)."""
        b = self.base
        own = self.layers * self._layer_extras + (b.non_embedding_params - b.layers * b.layer_params)
        own += b.total_params - b.non_embedding_params - b.embedding_params  # learned positions, if any
        if own == 0 and self.norms:
            return (2 * self.layers + 1) * self.d_model
        return own

    def _non_embedding(self, routed: int) -> int:
        assert self.moe_layers is not None
        moe_ffn = (routed + self.shared_experts) * self.expert_params + self.router_params
        return (
            self.layers * self.attention_params
            + self.dense_layers * self.dense_ffn_params
            + self.moe_layers * moe_ffn
            + self.norm_params
        )

    @property
    def non_embedding_params(self) -> int:
        """Every weight but the embeddings: all experts."""
        return self._non_embedding(self.experts)

    @property
    def active_non_embedding_params(self) -> int:
        """The weights one token passes through, embeddings excluded: top_k routed and the shared experts."""
        return self._non_embedding(self.top_k)

    @property
    def embedding_params(self) -> int:
        return self.base.embedding_params

    @property
    def total_params(self) -> int:
        """Every parameter held in memory (all experts)."""
        return self.non_embedding_params + self.embedding_params

    @property
    def active_params(self) -> int:
        """Parameters one token's forward pass touches (both embedding matrices counted, as Mixtral's 12.9B)."""
        return self.active_non_embedding_params + self.embedding_params

    @property
    def active_ffn_width(self) -> int:
        """The feed-forward width a token passes through in an MoE layer: (top_k + shared) x expert_d_ff."""
        return (self.top_k + self.shared_experts) * self.expert_d_ff

    @property
    def law_counts(self) -> tuple[int, int]:
        """(active, total) non-embedding weights without router and norms: Krajewski et al.'s convention."""
        assert self.moe_layers is not None
        attn = self.layers * self.attention_params + self.dense_layers * self.dense_ffn_params
        routed = self.moe_layers * self.expert_params
        shared = self.moe_layers * self.shared_experts * self.expert_params
        return attn + shared + self.top_k * routed, attn + shared + self.experts * routed

    @property
    def active_flops_per_token(self) -> float:
        """DeepSeek's M (eq. 2) on the active parameters: 6 N_active,non-embedding + 12 n_layer d_attn l_seq."""
        attn_dim = self.heads * (self.mla.v_head_dim if self.mla is not None else self.head_dim)
        return 6.0 * self.active_non_embedding_params + 12.0 * self.layers * attn_dim * self.context

    def to_dict(self) -> dict:
        base = self.base.to_dict()
        for key in ("params_total", "params_non_embedding", "params_embedding"):
            base.pop(key, None)
        return {
            **base,
            "kv_heads": self.kv_heads,
            "experts": self.experts,
            "top_k": self.top_k,
            "expert_d_ff": self.expert_d_ff,
            "shared_experts": self.shared_experts,
            "moe_layers": self.moe_layers,
            "dense_layers": self.dense_layers,
            "attention": "mla" if self.mla is not None else "mha" if self.kv_heads == self.heads else "gqa",
            **({"mla": self.mla.to_dict()} if self.mla is not None else {}),
            "params_total": self.total_params,
            "params_active": self.active_params,
            "params_non_embedding": self.non_embedding_params,
            "params_active_non_embedding": self.active_non_embedding_params,
            "params_embedding": self.embedding_params,
            "params_routed_experts": self.routed_expert_params,
        }


# ---------------------------------------------------------------------------------------------------------------
# designing a shape


def _base(
    layers: int,
    d_model: int,
    heads: int,
    head_dim: int,
    d_ff: int,
    context: int,
    vocab: int,
    glu: bool,
    kv_heads: int | None = None,
    tied: bool = False,
) -> Shape:
    """A dense Shape, with KV heads where the Shape has them (recipe.Shape grows kv_heads in another branch)."""
    names = {f.name for f in fields(Shape)}
    extra: dict = {"kv_heads": kv_heads} if kv_heads is not None and "kv_heads" in names else {}
    # the gated (SwiGLU) feed-forward: a `glu` flag, or the llama architecture where the Shape names architectures
    extra.update({"arch": "llama" if glu else "gpt"} if "arch" in names else {"glu": glu})
    return Shape(layers, d_model, heads, head_dim, d_ff, context, vocab, tied_embeddings=tied, **extra)


def design_law_moe(
    active: float,
    total: float,
    d_model: float,
    granularity: float,
    expansion: float,
    *,
    context: int = DEFAULT_CONTEXT,
    vocab: int | None = None,
) -> tuple[MoeShape, list[str]]:
    """The integer shape of a Krajewski et al. 2024 plan: their model family (Sec. 6.1: every layer an MoE layer
    of G E experts of width 4 d_model / G, G of them per token, no shared experts, 2-matrix experts, multi-head
    attention, d_model = 64 layers) with d_model = heads x head_dim (heads a multiple of 8 from 1e9 active
    parameters, else of 2) and whole layers, whose active and total counts in the law's convention (non-embedding,
    router excluded) are within 3% of the plan's, nearest the family's d_model / layers = 64."""
    warnings: list[str] = []
    top_k = max(1, round(granularity))
    if abs(top_k - granularity) > 1e-9:
        warnings.append(
            f"moe shape: granularity {granularity:g} is not whole; a token uses {top_k} experts (G rounded)"
        )
    experts = max(top_k, round(expansion * top_k))
    best = None
    for head_dim in (64, 128):
        step = head_dim * (8 if active >= 1e9 else 2)
        lo, hi = max(1, int(d_model * 0.6 / step)), int(d_model * 1.6 / step) + 1
        for m in range(lo, hi + 1):
            d = m * step
            ff = max(1, round(4 * d / top_k))
            per_layer_active = 4 * d * d + top_k * 2 * d * ff
            centre = active / per_layer_active
            for n_layers in {max(1, math.floor(centre)), max(1, math.ceil(centre))}:
                a = n_layers * per_layer_active
                t = n_layers * (4 * d * d + experts * 2 * d * ff)
                err = max(abs(a / active - 1), abs(t / total - 1))
                score = (err > LAW_TOLERANCE, abs(math.log(d / n_layers / 64.0)) + 4 * err)
                if best is None or score < best[0]:
                    best = (score, d, n_layers, head_dim, ff, err)
    assert best is not None
    _, d, n_layers, head_dim, ff, err = best
    if err > LAW_TOLERANCE:
        warnings.append(f"moe shape: the closest whole shape is {err:.1%} from the law's counts")
    v = vocab or 128  # set from the active count below
    shape = MoeShape(
        _base(n_layers, d, d // head_dim, head_dim, 4 * d, context, v, False), experts, top_k, ff, norms=True
    )
    if vocab is None:
        vres = vocab_at(shape.active_non_embedding_params, d)
        shape = replace(shape, base=replace(shape.base, vocab=vres.vocab))
    return shape, warnings


def design_given_moe(
    total: float,
    active: float,
    *,
    context: int = DEFAULT_CONTEXT,
    vocab: int | None = None,
    layers: int | None = None,
    d_model: int | None = None,
    heads: int | None = None,
    top_k: int | None = None,
) -> MoeShape:
    """An integer MoE (SwiGLU experts, every layer an MoE layer, no shared experts) with ``total`` and ``active``
    parameters (embeddings included, both matrices) within 1%: attention, width, depth and vocabulary from the
    dense designer at the active size; then the top-k (``top_k``, else 8 where it fits, else the nearest that does),
    the experts and their width so that both counts match."""
    total, active = float(total), float(active)
    if not 0 < active <= total:
        raise ScaleplanError(f"active parameters ({active:.4g}) must be positive and at most the total ({total:.4g})")
    if layers is not None and d_model is not None:  # a published shape: take it as it is
        h = heads if heads is not None else (d_model // 128 if d_model % 128 == 0 else max(1, d_model // 64))
        if d_model % h:
            raise ScaleplanError(f"heads ({h}) must divide d_model ({d_model})")
        dense = _base(layers, d_model, h, d_model // h, 4 * d_model, context, vocab or 128, True)
    else:
        dense = design_shape(
            active, context=context, vocab=vocab, layers=layers, d_model=d_model, heads=heads, arch="llama"
        )
    d, n_layers = dense.d_model, dense.layers
    kv = getattr(dense, "kv_heads", None)
    v = vocab if vocab is not None else dense.vocab
    if vocab is None:  # Tao's vocabulary at the active non-vocabulary parameters
        for _ in range(4):
            v = vocab_at(max(active - 2 * v * d, 1e6), d).vocab
    base = _base(n_layers, d, dense.heads, dense.head_dim, dense.d_ff, context, v, True, kv)
    probe = MoeShape(base, 1, 1, 1)
    fixed = probe.embedding_params + probe.norm_params + n_layers * probe.attention_params
    ffn_active = (active - fixed) / n_layers  # per layer: top_k experts + router
    ffn_total = (total - fixed) / n_layers
    if ffn_active <= 0:
        raise ScaleplanError(
            f"{active:.4g} active parameters leave nothing for experts: attention and embeddings of "
            f"{n_layers} layers x {d} take {fixed:.4g}; give more active parameters or pin a smaller shape"
        )
    candidates = [top_k] if top_k is not None else range(1, 65)
    best = None
    for k in candidates:
        # per layer, with e = one expert's weights: active A = k e + d n (router), total T = n e + d n; so
        # d n^2 - (A + d k) n + k T = 0, and the smaller root keeps the experts widest
        disc = (ffn_active + d * k) ** 2 - 4.0 * d * k * ffn_total
        if disc < 0:
            continue
        n0 = ((ffn_active + d * k) - math.sqrt(disc)) / (2.0 * d)
        for n in {max(k, math.floor(n0)), max(k, math.ceil(n0))}:
            for multiple in (64, 8, 1):
                # ffn_active = k 3 d f + d n (router): solve for f
                f = (ffn_active - d * n) / (k * base.ffn_matrices * d)
                if f < 1:
                    break
                f = max(multiple, multiple * round(f / multiple))
                s = MoeShape(base, n, k, f)
                err = max(abs(s.total_params / total - 1), abs(s.active_params / active - 1))
                if err <= GIVEN_TOLERANCE:
                    score = (abs(math.log2(k / PREFERRED_TOP_K)), -multiple, err)
                    if best is None or score < best[0]:
                        best = (score, s)
                    break
    if best is None:
        raise ScaleplanError(
            f"no mixture of experts with {layers or n_layers} layers x {d} has {total:.4g} total and {active:.4g} "
            f"active parameters within 1%"
            + (f" at top-k {top_k}" if top_k is not None else "")
            + ": the experts' router (d_model per expert, every token) would outweigh the active experts, or "
            "whole experts are too coarse; give closer total and active counts, or a larger model"
        )
    return best[1]


# ---------------------------------------------------------------------------------------------------------------
# the recipe


@dataclass(frozen=True)
class MoeRecipe:
    """An MoE plan's model and recipe: integer shape, Tao vocabulary, DeepSeek learning rate and batch."""

    shape: MoeShape
    vocab: VocabResult | None  # None when pinned
    hparams: HParams
    tokens: float
    basis: str
    warnings: tuple[str, ...] = ()
    law_convention: bool = False  # designed for a law's counts (Krajewski: non-embedding, no router or norms)

    @property
    def cosine_peak_lr(self) -> float | None:
        """The LR law's peak (fitted under cosine schedules)."""
        return self.hparams.learning_rate

    @property
    def learning_rate(self) -> float | None:
        """The learning rate to use: the recommended (WSD) schedule's peak, half the cosine peak."""
        sched = self.schedule
        return self.cosine_peak_lr if sched is None else sched.schedule.peak_lr

    @property
    def batch_tokens(self) -> int:
        return self.hparams.batch_tokens

    @property
    def schedule(self):
        from .schedules import plan_schedule

        return plan_schedule(self.cosine_peak_lr, self.tokens, self.batch_tokens)

    def plan_fields(self) -> dict:
        """The recipe as a plan's JSON carries it, under the dense plans' names."""
        sched = self.schedule
        return {
            "vocab": self.shape.vocab,
            "learning_rate": self.learning_rate,  # the WSD schedule's peak == recipe.schedule.peak_lr
            "cosine_peak_lr": self.cosine_peak_lr,
            "batch_tokens": self.batch_tokens,
            "batch_sequences": self.hparams.batch_sequences,
            "shape": self.shape.to_dict(),
            "flops_per_token_m_active": self.shape.active_flops_per_token,
            **(
                {
                    "params_law_convention": {
                        "active": self.shape.law_counts[0],
                        "total": self.shape.law_counts[1],
                        "convention": "non-embedding, router and norms excluded (Krajewski et al. 2024, Sec. 6.1)",
                    }
                }
                if self.law_convention
                else {}
            ),
            "recipe": {
                "hparams_law": self.hparams.law,
                "cosine_peak_lr": self.cosine_peak_lr,
                "basis": self.basis,
                "hparams": [self.hparams.to_dict()],
                "vocab_detail": None if self.vocab is None else self.vocab.to_dict(),
                "schedule": None if sched is None else sched.to_dict(),
            },
        }


RECIPE_BASIS = (
    "extrapolated from dense fits: vocabulary from Tao et al. 2024 (approach 2) at the active non-vocabulary "
    "parameters; learning rate and batch from DeepSeek's eq. (1) with C = M_active D (M_active: eq. 2 on the "
    "active parameters); no MoE-specific law with printed constants is bundled"
)


def moe_recipe(
    shape: MoeShape, tokens: float, *, vocab_pinned: bool = False, law_convention: bool = False
) -> MoeRecipe:
    """The recipe of an MoE shape trained on ``tokens``: the vocabulary Tao's law gives its active non-vocabulary
    parameters (the shape's own vocabulary is kept; ``vocab_pinned`` reports none) and DeepSeek eq. (1) at
    C = M_active D."""
    tokens = float(tokens)
    m = shape.active_flops_per_token
    rows = hyperparameters(flops=m * tokens, context=shape.context, law="deepseek")
    row = next(r for r in rows if r.default)
    row = replace(
        row,
        basis=f"C = M_active x D = {m:.4g} x {tokens:.4g} = {m * tokens:.4g} (M_active: DeepSeek eq. 2 "
        "on the active parameters); extrapolated from DeepSeek's dense fits",
    )
    vres = None
    if not vocab_pinned:
        vres = vocab_at(shape.active_non_embedding_params, shape.d_model)
    warnings = tuple(row.warnings) + (() if vres is None else tuple(vres.warnings))
    return MoeRecipe(shape, vres, row, tokens, RECIPE_BASIS, warnings, law_convention)
