"""Tao et al. 2024's compute-optimal vocabulary for a plan (``optimal_vocab``)."""

from __future__ import annotations

import math

from ..core.errors import ScaleplanError
from ..schema import fields, limits
from .ladder import ladder_shape, smooth_size
from .tables import cite, constants, pos_float, range_warning, round_multiple
from .tao import VocabResult, tao_approach1, tao_d_model, tao_nv


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
    if flops is not None:
        nnv, nv = tao_approach1(pos_float("flops", flops))
        return _vocab_result(nnv, nv, _width(d_model, nnv), "approach1-isoflops")
    if params_total is not None and d_model is None:
        return vocab_for_total(pos_float("params_total", params_total), bool(tied_embeddings))
    if params_total is not None:
        total = pos_float("params_total", params_total)
        k = 1 if tied_embeddings else 2
        nnv = total * 0.9
        for _ in range(60):  # fixed point of nnv = total - k * N_v(nnv); contraction since N_v grows sublinearly
            new = total - k * tao_nv(nnv)
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
        nnv = pos_float("non_vocab_params", non_vocab_params)
    return vocab_at(nnv, _width(d_model, nnv))


def vocab_for_total(total: float, tied: bool) -> VocabResult:
    """``optimal_vocab(params_total=total)`` for a size already checked, the same path as a plan of this many
    parameters (the designed shape's width and smooth split): what the pinned shape search calls for its target."""
    if total < 1e5:
        raise ScaleplanError(
            f"params_total = {total:.4g} is too small to split into vocabulary and "
            f"non-vocabulary parameters (Tao et al.'s fit starts at 33M)"
        )
    shape = ladder_shape(total, "total", None, int(constants()["conventions"]["context"]), tied, "llama")
    nnv, _d, _nv = smooth_size(total, "total", shape.context, None, tied)
    return vocab_at(nnv, shape.d_model)


def vocab_at(non_vocab_params: float, d_model: int) -> VocabResult:
    """``optimal_vocab(non_vocab_params=..., d_model=...)`` for values already checked (Tao et al.'s approach 2 at a
    width): what the shape designer calls for the widths it chose, without checking them again."""
    nnv = float(non_vocab_params)
    return _vocab_result(nnv, tao_nv(nnv), d_model, "approach2-derivative")


def _width(d_model, nnv: float) -> int:
    """A given width by the schema's one rule (the shape designer's minimum of one 64-wide head), else Tao et al.'s
    width for N_nv."""
    if d_model is None:
        return tao_d_model(nnv)
    return fields.whole(d_model, "d_model", limits.MIN_D_MODEL, limits.MAX_SHAPE)


def _vocab_result(nnv: float, nv: float, d, approach: str) -> VocabResult:
    """V = N_v / d rounded to the multiple, with the other approach's answer beside it and the fitted-range warning."""
    cv = constants()["vocab"]
    mult = int(constants()["conventions"]["vocab_multiple"])
    exact = nv / d
    vocab = round_multiple(exact, mult)
    if approach == "approach2-derivative":
        c1 = (nnv / math.exp(cv["approach1"]["k_nnv"])) ** (1.0 / cv["approach1"]["e_nnv"])  # approach 1's C for N_nv
        alternatives = [("approach1-isoflops", round_multiple(tao_approach1(c1)[1] / d, mult))]
    else:
        alternatives = [("approach2-derivative", round_multiple(tao_nv(nnv) / d, mult))]
    warnings = range_warning("non-vocabulary parameters", nnv, cv["fitted_range"]["non_vocab_params"], "tao2024")
    return VocabResult(
        vocab=vocab,
        vocab_exact=exact,
        multiple=mult,
        vocab_params=nv,
        non_vocab_params=nnv,
        d_model=d,
        approach=approach,
        law=cv["name"],
        citation=cite(cv["citation"]),
        alternatives=tuple(alternatives),
        warnings=tuple(warnings),
    )
