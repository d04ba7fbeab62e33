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

import math
from dataclasses import dataclass
from typing import Any

from ..core.errors import ScaleplanError
from ..schema.conventions import DEFAULT_CONTEXT
from .hparams import HParams, batch_multiple, hparam_rows, hyperparameters, steplaw
from .shape import ARCHS, CONVENTIONS, FlopCount, Shape, check_convention, flops_per_token, measure
from .sizing import check_arch, check_pins, default_shape, design_checked, design_shape, designed, tied_for
from .tables import HPARAM_LAWS, constants, law_name, pos_float
from .tao import VocabResult
from .vocab import optimal_vocab

__all__ = [
    "ARCHS",
    "CONVENTIONS",
    "HPARAM_LAWS",
    "Design",
    "FlopCount",
    "HParams",
    "Recipe",
    "Shape",
    "VocabResult",
    "batch_multiple",
    "constants",
    "default_shape",
    "design_model",
    "design_shape",
    "flops_per_token",
    "hyperparameters",
    "measure",
    "optimal_vocab",
    "recipe",
    "recipe_draws",
    "recipe_for_shape",
    "recipe_from",
    "recipe_of",
    "steplaw",
]


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
    context=DEFAULT_CONTEXT,
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
    total = pos_float("params_total", params_total)
    convention = check_convention(convention)
    if tokens is None:
        if flops is None:
            raise ScaleplanError("recipe needs tokens or flops")
        tokens = pos_float("flops", flops) / ((1.0 if convention == "flops_per_token" else 6.0) * total)
    tokens = pos_float("tokens", tokens)
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


def recipe_draws(
    draws,
    *,
    law=None,
    context=DEFAULT_CONTEXT,
    vocab=None,
    layers=None,
    d_model=None,
    heads=None,
    head_dim=None,
    d_ff=None,
    tied_embeddings: bool | None = None,
    arch: str = "llama",
) -> list[Recipe | None]:
    """``recipe`` of each of a plan's bootstrap draws, ``draws`` an iterable of (total parameters, tokens, FLOPs,
    loss) that the draws made (positive floats): the pins, context and law checked once here, not at every draw;
    None for a draw no shape can reach with the pins (within tolerance) or whose recipe has no such law."""
    tied, arch = tied_for(tied_embeddings, arch), check_arch(arch)
    pins, context, tol = check_pins(vocab, context, layers, d_model, heads, head_dim, d_ff, None, arch)
    chosen = None if law is None else law_name(law)
    out: list[Recipe | None] = []
    for total, tokens, flops, loss in draws:
        if not all(math.isfinite(x) and x > 0 for x in (total, tokens, flops, loss)):
            out.append(None)  # a draw whose law gives no positive size or loss here
            continue
        try:
            shape, vres, warnings = design_checked(total, "total", context, pins, tied, arch, tol)
            design = Design(shape, vres, tuple(warnings), vocab_pinned=vocab is not None)
            out.append(recipe_from(design, tokens, flops, loss=loss, law=chosen))
        except ScaleplanError:
            out.append(None)
    return out


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
    context=DEFAULT_CONTEXT,
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
    shape, vres, warnings = designed(
        params,
        vocab,
        context,
        layers,
        d_model,
        heads,
        head_dim,
        d_ff,
        tied_for(tied_embeddings, arch),
        check_arch(arch),
        None,
        check_convention(convention),
        name="params",
    )
    return Design(shape, vres, tuple(warnings), vocab_pinned=vocab is not None)


def recipe_of(design: Design, tokens, flops=None, *, loss=None, law=None, deepseek_flops=None) -> Recipe:
    """The recipe of a designed model trained on ``tokens``: its exact FLOPs per token and every learning-rate /
    batch law's values (``law`` the default), the design's warnings and the laws' collected."""

    def optional(name, value):
        return None if value is None else pos_float(name, value)

    return recipe_from(
        design,
        pos_float("tokens", tokens),
        optional("flops", flops),
        loss=optional("loss", loss),
        law=law,
        deepseek_flops=optional("deepseek_flops", deepseek_flops),
    )


def recipe_from(design: Design, tokens: float, flops=None, *, loss=None, law=None, deepseek_flops=None) -> Recipe:
    """``recipe_of`` on numbers already checked (positive floats or None): the pipeline's recipe stage, whose
    tokens, budget and loss the plan derived."""
    shape = design.shape
    chosen = None if law is None else law_name(law)
    rows = hparam_rows(shape, tokens, flops, loss, chosen, shape.context, deepseek_flops)
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
    tokens = pos_float("tokens", tokens)
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
