"""Convert parameter counts between the conventions the laws use.

Kaplan counts non-embedding parameters, Chinchilla and Epoch all of them, Porian non-embedding plus the output
head, DeepSeek non-embedding FLOPs per token M. Converting needs a width, so we assume the standard block
(N_non_embedding = 12 n_layer d_model^2, Kaplan eq. 2.1) at a fixed aspect ratio d_model / n_layer = 128: Kaplan
et al. 2020 Fig. 5 find loss within a few percent over aspect ratios 20-200, and Chinchilla 70B (8192/80 = 102)
and DeepSeek 7B (4096/30 = 137) sit near it. Everything is closed form or a fixed-count Newton iteration over
numpy arrays, so it vectorises.
"""

from __future__ import annotations

import numpy as np

ASPECT_RATIO = 128.0  # d_model / n_layer
# The plan's one context length: DeepSeek's M -> N here, the recipe's shape and its FLOPs per token all use it
# (scaleplan/data/recipe.yaml conventions.context holds the same number; tests/test_recipe_law.py checks they agree).
DEFAULT_CONTEXT = 2048


# The dense-transformer FLOP conventions, written once: every module that means "C = 6 N D", "D = C / (6 N)" or
# "2 N per served token" calls these (tests/test_architecture.py refuses the inline forms elsewhere). They keep
# the operand order `6.0 * params * tokens`, so a caller's scalar or array result is bit-identical to the inline
# expression it replaced, and return floats for floats and arrays for arrays (no casts).


def training_flops(params, tokens):
    """Training FLOPs C = 6 N D for N parameters trained on D tokens (scalars or arrays, broadcast; ``tokens=1.0``
    gives the FLOPs per training token, 6 N).

    Kaplan et al. 2020 sec. 2.1 (C ~ 6 N per training token: 2 N forward, 4 N backward) and Hoffmann et al. 2022
    (6 FLOPs per parameter per token). For a mixture of experts N is the active parameters per token.
    """
    return 6.0 * params * tokens


def tokens_for(flops, params):
    """Tokens D = C / (6 N) that a training budget of C FLOPs buys with N parameters (the inverse of C = 6 N D)."""
    return flops / (6.0 * params)


def params_for(flops, tokens):
    """Parameters N = C / (6 D) that a training budget of C FLOPs buys over D tokens (the inverse of C = 6 N D)."""
    return flops / (6.0 * tokens)


def serving_flops(params, tokens):
    """Serving FLOPs C = 2 N per token times ``tokens`` (forward pass only; Kaplan et al. 2020 sec. 2.1, Table 1).

    ``tokens=1.0`` gives the FLOPs of one served token, 2 N. Attention over the context (2 n_layer n_ctx d_attn per
    token) is left out, as the dense convention does; N is the active parameters for a mixture of experts.
    """
    return 2.0 * params * tokens


def d_model_for(non_embedding, aspect: float = ASPECT_RATIO):
    """Width of a 12 n_layer d_model^2 network with d_model = aspect * n_layer."""
    return np.cbrt(np.asarray(non_embedding, float) * aspect / 12.0)


def _width_from_params(params, embedding_matrices: float, vocab: float, aspect: float = ASPECT_RATIO):
    """Solve 12 d^3 / aspect + k V d = params for d (Cardano: one real root since every term is positive)."""
    p = embedding_matrices * vocab * aspect / 12.0
    q = np.asarray(params, float) * aspect / 12.0
    u = np.cbrt(q / 2.0 + np.sqrt(q * q / 4.0 + p**3 / 27.0))
    # The second Cardano term equals -p / (3u); writing it so avoids cancellation when q >> p.
    return u - p / (3.0 * u)


def _width_from_flops_per_token(m, context: float, aspect: float = ASPECT_RATIO):
    """Solve DeepSeek eq. 2, M = 72 L d^2 + 12 L d l_seq with L = d / aspect, for d by Newton.

    f(d) = 72 d^3 + 12 l d^2 - M aspect is convex and increasing for d > 0; starting right of the root
    (ignoring the attention term) Newton converges monotonically.
    """
    target = np.asarray(m, float) * aspect
    d = np.cbrt(target / 72.0)
    for _ in range(60):
        step = (72 * d**3 + 12 * context * d**2 - target) / (216 * d**2 + 24 * context * d)
        d = d - step
        if np.all(np.abs(step) <= 1e-14 * d):
            break
    return d


def embedding_matrices(law) -> float:
    """How many V x d_model matrices the law's models carry: 1 if input and output embeddings are tied."""
    return 1.0 if law.model.get("tied_embeddings") else 2.0


def recontext_plan(plan, context: float):
    """A DeepSeek plan (``flops_per_token_m`` set) with its M -> N conversion redone at ``context``.

    N_non-embedding = 12 d^3 / aspect with d from M at the new context; the embeddings k V d scale with d, so the
    total follows without the law's vocabulary.
    """
    from dataclasses import replace

    m = np.asarray(plan.flops_per_token_m, float)
    old_ne = np.asarray(plan.params_non_embedding, float)
    d = _width_from_flops_per_token(m, float(context))
    non_emb = 12.0 * d**3 / ASPECT_RATIO
    total = non_emb + (np.asarray(plan.params_total, float) - old_ne) * np.cbrt(non_emb / old_ne)
    as_plan = lambda v: float(v) if np.ndim(plan.flops) == 0 else v
    return replace(
        plan,
        params=as_plan(non_emb),
        params_non_embedding=as_plan(non_emb),
        params_total=as_plan(total),
        tokens_per_param=as_plan(np.asarray(plan.tokens, float) / non_emb),
    )


def split_params(law, n_native, context: float | None = None):
    """(total, non_embedding) parameters for N in the law's own convention.

    ``context`` is the plan's sequence length (default ``DEFAULT_CONTEXT``), used for DeepSeek's M = 72 L d^2 +
    12 L d l_seq; the same length must design the recipe's shape (allocate.with_recipe passes it on).
    """
    vocab = float(law.model.get("vocab", 32000))
    k = embedding_matrices(law)
    conv = law.params_convention
    if conv == "total":
        d = _width_from_params(n_native, k, vocab)
        non_emb = 12.0 * d**3 / ASPECT_RATIO
        return np.asarray(n_native, float), non_emb
    if conv == "non_embedding":
        non_emb = np.asarray(n_native, float)
        d = d_model_for(non_emb)
    elif conv == "non_embedding_with_head":
        d = _width_from_params(n_native, 1.0, vocab)
        non_emb = 12.0 * d**3 / ASPECT_RATIO
    else:  # flops_per_token
        d = _width_from_flops_per_token(n_native, float(DEFAULT_CONTEXT if context is None else context))
        non_emb = 12.0 * d**3 / ASPECT_RATIO
    return non_emb + k * vocab * d, non_emb


CONVENTION_NOTE = (
    "parameters counted with embeddings (total); C = 6 N_total D; conversions assume n_layer = d_model/128, "
    "each law's own vocabulary and DeepSeek's M at a 2,048-token context"
)
