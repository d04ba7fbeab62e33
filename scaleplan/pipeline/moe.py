"""Compute-optimal fine-grained mixture of experts (Krajewski et al. 2024, arXiv:2402.07871).

The law (eq. 9, constants in data/moe.yaml):

    L(N, D, G) = c + (g / G^gamma + a) / N^alpha + b / D^beta

with N the total non-embedding parameters, D tokens and G the granularity d_ff / d_expert (G = 1: experts as large as
the dense feed-forward layer). The budget counts the router (eqs. 10-11):

    F = (12 d_model^2 c_f + d_model E G c_r) D n_blocks,  N = d_model^2 (8E + 4) n_blocks,  d_model = 64 n_blocks

so for a given G one free variable (d_model) remains; as in the paper we search it numerically and take the best G on
a grid of powers of two (Table 2 reports powers of two). The plan sits next to the paper's dense fit on the same data,
with the loss difference and how much more compute the dense model needs for the same loss (their Fig. 1b).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.solvers import minimise_log
from ..core.values import PerBudget, Rendered, check_positive, contract, plain
from ..laws import forms
from ..schema.conventions import tokens_for, training_flops
from ..schema.units import fmt_number, fmt_sci

if TYPE_CHECKING:
    from ..cluster.cost import CostBreakdown
    from ..cluster.run import ClusterPlan
    from ..recipe.moe_shape import MoeRecipe


@functools.cache
def constants() -> dict:
    """data/moe.yaml: the fits per expansion rate, the dense fit, FLOP conventions, fitted range, citation."""
    raw = _yaml.read(_yaml.DATA / "moe.yaml")
    raw["fits"] = {float(k): v for k, v in raw["fits"].items()}
    return raw


def citation() -> str:
    c = constants()["citation"]
    return f"Krajewski et al. {c['year']}, arXiv:{c['arxiv']}, {c['where']}"


def _fit(expansion) -> tuple[float, dict]:
    fits = constants()["fits"]
    e = float(constants()["default_expansion"] if expansion is None else expansion)
    if e not in fits:
        allowed = ", ".join(fmt_number(k) for k in sorted(fits))
        raise ScaleplanError(
            f"expansion rate must be one of {allowed} (the rates Krajewski et al. 2024 fitted), got {expansion!r}"
        )
    return e, fits[e]


def _check_granularity(granularity) -> np.ndarray:
    g = np.asarray(granularity, float)
    bad = ~np.isfinite(g) | (g < 1)
    if g.size == 0 or bad.any():
        value = g[bad].flat[0] if g.size else granularity
        raise ScaleplanError(
            f"granularity must be at least 1 (G = d_ff / d_expert; 1 is a standard MoE with experts "
            f"as large as the feed-forward layer), got {value!r}"
        )
    return g


def moe_loss(total_params, tokens, granularity, expansion=None):
    """Krajewski et al. 2024 eq. (9): c + (g / G^gamma + a) / N^alpha + b / D^beta, N total non-embedding params."""
    _, f = _fit(expansion)
    n = check_positive(total_params, "total params")
    d = check_positive(tokens, "tokens")
    return _loss(f, n, d, _check_granularity(granularity))


def _loss(f: dict, n, d, g):
    """Eq. (9) on validated arrays: c + (g / G^gamma + a) / N^alpha + b / D^beta."""
    return f["c"] + (f["g"] / g ** f["gamma"] + f["a"]) / n ** f["alpha"] + f["b"] / d ** f["beta"]


def shape_params(d_model, expansion=None):
    """(active, total) non-embedding parameters of the paper's model family at width d_model (Sec. 6.1)."""
    e, _ = _fit(expansion)
    d = np.asarray(d_model, float)
    blocks = d / constants()["conventions"]["d_model_per_block"]
    return 12.0 * d * d * blocks, d * d * (8.0 * e + 4.0) * blocks


def flops_per_token(d_model, granularity, expansion=None):
    """Training FLOPs per token, router included: (12 d_model^2 c_f + d_model E G c_r) n_blocks (eqs. 10-11)."""
    e, _ = _fit(expansion)
    conv = constants()["conventions"]
    d = np.asarray(d_model, float)
    g = np.asarray(granularity, float)
    return (12.0 * d * d * conv["c_f"] + d * e * g * conv["c_r"]) * d / conv["d_model_per_block"]


def _dense_constants() -> dict:
    c = constants()["dense"]
    return {"E": c["c"], "A": c["a"], "B": c["b"], "alpha": c["alpha"], "beta": c["beta"]}


def _cluster_dict(cluster) -> dict:
    """The cluster block as dense plans carry it: memory and layout (cost and shape are the plan's own)."""
    return {k: v for k, v in cluster.to_dict().items() if k not in ("cost", "shape", "warnings")}


_MOE_NUMBERS = (
    "flops",
    "granularity",
    "expansion",
    "experts",
    "active_params",
    "total_params",
    "tokens",
    "tokens_per_param",
    "loss",
    "d_model",
    "layers",
    "d_expert",
    "dense_params",
    "dense_tokens",
    "dense_loss",
    "loss_difference",
    "dense_flops_for_same_loss",
    "compute_multiplier",
)


@dataclass(frozen=True, eq=False, repr=False)  # PerBudget's __eq__ (arrays compare); repr: the summary
class MoePlan(PerBudget):
    """Compute-optimal fine-grained MoE for a budget, next to the dense model of the same paper and budget.

    Parameter counts are non-embedding. `params` is the active count (what a token passes through, so C ~ 6 params D
    plus the router); the law itself is stated in `total_params`. Floats, or arrays shaped like the budgets.
    """

    _per_budget: ClassVar[tuple[str, ...]] = _MOE_NUMBERS

    flops: float
    granularity: float
    expansion: float
    experts: float  # N_expert = G E (eq. 3)
    active_params: float
    total_params: float
    tokens: float
    tokens_per_param: float  # D / active params
    loss: float
    d_model: float  # continuous optimum; round to a multiple of the head size when designing
    layers: float  # d_model / 64
    d_expert: float  # 4 d_model / G
    dense_params: float
    dense_tokens: float
    dense_loss: float
    loss_difference: float  # loss - dense_loss (negative: the MoE is better)
    dense_flops_for_same_loss: float
    compute_multiplier: float  # dense_flops_for_same_loss / flops (Fig. 1b)
    citation: str
    warnings: tuple[str, ...] = ()
    law: str = "krajewski"
    see_also: tuple[str, ...] = ()
    cost: CostBreakdown | None = None  # of the active parameters, once the pipeline has priced it
    name: str | None = None
    recipe: MoeRecipe | None = None  # the integer model and its recipe (one budget), once with_recipe() ran
    cluster: ClusterPlan | None = None  # memory per device and layout (EP included), when the budget names a cluster
    precision: Any = None  # the pipeline's precision stage (precision.PenaltyBlock), on the total parameters
    precision_report: Any = None  # `scaleplan precision`'s whole report (precision.PrecisionReport), when asked
    law_params: dict | None = None  # the law's own counts, tokens and loss, once the model stage designed the shape
    design: Any = None  # recipe.Design of a moe_shape.MoeShape: the pipeline's model stage's network

    @property
    def params(self):
        return self.active_params

    def with_recipe(self, context: int | None = None, vocab: int | None = None) -> MoePlan:
        """The plan with its integer model (Krajewski et al.'s family, counts within 3% of the law's) and its
        recipe (moe_shape.moe_recipe): one budget at a time."""
        from ..recipe import moe_shape

        if np.ndim(self.flops):
            raise ScaleplanError("a recipe is designed for one budget at a time")
        shape, warnings = moe_shape.design_law_moe(
            float(self.active_params),
            float(self.total_params),
            float(self.d_model),
            float(self.granularity),
            float(self.expansion),
            context=context or moe_shape.DEFAULT_CONTEXT,
            vocab=vocab,
        )
        r = moe_shape.moe_recipe(shape, float(self.tokens), vocab_pinned=vocab is not None, law_convention=True)
        extra = tuple(w for w in (*warnings, *r.warnings) if w not in self.warnings)
        return replace(self, recipe=r, warnings=tuple(self.warnings) + extra)

    def to_dict(self) -> dict:
        p = plain
        out = {
            **({"name": self.name} if self.name else {}),
            "law": self.law,
            "flops": p(self.flops),
            "params": p(self.active_params),
            "params_convention": LAW_CONVENTION,
            **_designed_totals(self.recipe, self.active_params, self.total_params),
            "tokens": p(self.tokens),
            "tokens_per_param": p(self.tokens_per_param),
            "granularity": p(self.granularity),
            "expansion": p(self.expansion),
            "experts": p(self.experts),
            "loss": p(self.loss),
            "law_shape": {  # the law's continuous optimum (Sec. 6.1 family); the integer model is `shape`
                "layers": p(self.layers),
                "d_model": p(self.d_model),
                "d_ff": p(4.0 * np.asarray(self.d_model)),
                "d_expert": p(self.d_expert),
            },
            **(self.recipe.plan_fields() if self.recipe is not None else {}),
            "dense": {
                "law": "krajewski-dense",
                "params": p(self.dense_params),
                "tokens": p(self.dense_tokens),
                "tokens_per_param": p(np.asarray(self.dense_tokens) / self.dense_params),
                "loss": p(self.dense_loss),
                "flops_for_same_loss": p(self.dense_flops_for_same_loss),
            },
            "loss_difference": p(self.loss_difference),
            "compute_multiplier": p(self.compute_multiplier),
            **({"cost": self.cost.to_dict()} if self.cost is not None else {}),
            **({"cluster": _cluster_dict(self.cluster)} if self.cluster is not None else {}),
            **({"precision": self.precision.to_dict()} if self.precision is not None else {}),
            "law_params": self.law_params,
            "warnings": list(self.warnings),
            "citation": self.citation,
            "see_also": list(self.see_also),
        }
        return contract(out)


LAW_CONVENTION = "active non-embedding parameters, router and norms excluded (Krajewski et al. 2024, Sec. 6.1)"


def _designed_totals(recipe, active, total) -> dict:
    """params_active, params_total and params_non_embedding: every parameter of the designed shape (embeddings,
    router and norms included) once there is one, else the law's non-embedding counts."""
    if recipe is None:
        return {"params_active": plain(active), "params_total": plain(total), "params_non_embedding": plain(total)}
    shape = recipe.shape
    return {
        "params_active": shape.active_params,
        "params_total": shape.total_params,
        "params_non_embedding": shape.non_embedding_params,
    }


def law_flops_per_token(shape) -> float:
    """Training FLOPs per token of an integer MoE shape in Krajewski et al.'s convention (eqs. 10-11): c_f per
    active non-embedding weight (router and norms excluded) plus c_r per routing weight (d_model x experts in each
    MoE layer)."""
    conv = constants()["conventions"]
    active, _total = shape.law_counts
    return conv["c_f"] * active + conv["c_r"] * shape.moe_layers * shape.d_model * shape.experts


def designed(plan: MoePlan, design) -> MoePlan:
    """The plan's counts made its designed shape's (`design.shape`, a moe_shape.MoeShape): active and total in the
    law's convention, tokens re-derived so the budget is spent (C = D x law_flops_per_token, eqs. 10-11: 6 N_active D
    plus the router's c_r share), the loss of eq. (9) at (N_total, D, G). The law's own optimum stays as
    `law_params`."""
    shape = design.shape
    active, total = (float(v) for v in shape.law_counts)
    c = float(plan.flops)
    tokens = c / law_flops_per_token(shape)
    _, f = _fit(plan.expansion)
    loss = float(_loss(f, total, tokens, float(plan.granularity)))
    dense_c = float(forms.ParametricForm(_dense_constants()).compute_for_loss(loss))
    law_params = {
        "params": plain(plan.active_params),
        "params_active": plain(plan.active_params),
        "params_total": plain(plan.total_params),
        "params_convention": LAW_CONVENTION,
        "tokens": plain(plan.tokens),
        "loss": plain(plan.loss),
        "note": (
            "the law's own optimum (a continuous d_model); the plan's counts are the designed shape's, its tokens "
            "re-derived so that C = (6 N_active + 14 N_router) D (Krajewski et al. 2024, eqs. 10-11)"
        ),
    }
    return replace(
        plan,
        design=design,
        active_params=active,
        total_params=total,
        tokens=tokens,
        tokens_per_param=tokens / active,
        loss=loss,
        loss_difference=loss - float(plan.dense_loss),
        dense_flops_for_same_loss=dense_c,
        compute_multiplier=dense_c / c,
        law_params=law_params,
    )


def designed_fixed(given: FixedMoePlan, design) -> FixedMoePlan:
    """A given MoE's counts made its designed shape's (within 1% of the given ones: moe_shape.design_given_moe):
    every parameter, active and total, tokens re-derived so that C = 6 N_active D stays the given budget."""
    shape = design.shape
    active, total = float(shape.active_params), float(shape.total_params)
    law_params = {
        "params": given.active_params,
        "params_active": given.active_params,
        "params_total": given.total_params,
        "params_convention": "active parameters",
        "tokens": given.tokens,
        "note": "the counts and tokens given; the plan's are the designed shape's, its tokens re-derived so that "
        "C = 6 N_active D",
    }
    return replace(
        given,
        design=design,
        active_params=active,
        total_params=total,
        tokens=tokens_for(given.flops, active),
        law_params=law_params,
    )


def _best_width(flops, granularity, expansion):
    """For each (budget, G) pair: the d_model minimising the loss with D = F / FLOPs-per-token. Returns (d, loss)."""
    e, f = _fit(expansion)
    per_block = constants()["conventions"]["d_model_per_block"]

    def fun(log_d):
        d = np.exp(log_d)
        g = granularity[:, None]
        tokens = flops[:, None] / flops_per_token(d, g, e)
        total = d * d * (8.0 * e + 4.0) * d / per_block
        return _loss(f, total, tokens, g)

    # d_model from 64 (one block) to 1e6; the grid step is 2% in d_model before refinement.
    low, high = math.log(per_block), math.log(1e6)
    log_d, loss = minimise_log(fun, np.full(flops.shape, (low + high) / 2), span=(high - low) / 2)
    return np.exp(log_d), loss


def moe_allocation(flops, granularity=None, expansion=None) -> MoePlan:
    """Compute-optimal active/total parameters, tokens and granularity for `flops` (a number or array of budgets).

    granularity: None searches the powers of two 1..1024 (as Table 2 reports); a number fixes G (>= 1).
    expansion: the expansion rate E (total / active parameters of an MoE layer); Krajewski et al. fitted E = 64
    (default, Table 1) and E = 16 (Table 8). Number of experts = G E.

    >>> plan = moe_allocation(1.93e20)   # Table 2: 64 x 1B active, 28.94B tokens, G = 16
    >>> int(plan.granularity), round(plan.active_params / 1e9, 2), round(plan.tokens / 1e9, 1)
    (16, 1.02, 28.3)
    """

    e, _fit_constants = _fit(expansion)
    c = check_positive(flops, "flops")
    c_flat = c.reshape(-1).astype(float)
    if granularity is None:
        grid = np.asarray(constants()["conventions"]["granularity_grid"], float)
    else:
        if np.ndim(granularity):
            raise ScaleplanError("give one granularity (or none to search the best)")
        grid = np.atleast_1d(_check_granularity(granularity))
    pairs_c = np.repeat(c_flat, grid.size)
    pairs_g = np.tile(grid, c_flat.size)
    widths, losses = _best_width(pairs_c, pairs_g, e)
    widths, losses = widths.reshape(c_flat.size, grid.size), losses.reshape(c_flat.size, grid.size)
    best = np.argmin(losses, axis=1)
    rows = np.arange(c_flat.size)
    g_best, d_model, loss = grid[best], widths[rows, best], losses[rows, best]
    active, total = shape_params(d_model, e)
    tokens = c_flat / flops_per_token(d_model, g_best, e)

    dense = forms.ParametricForm(_dense_constants())
    dense_n, dense_d = dense.optimum(c_flat)
    dense_loss = dense.loss(dense_n, dense_d)
    dense_c = dense.compute_for_loss(loss)

    warnings = _warnings(c_flat, g_best, d_model, e)

    def out(v):
        v = np.asarray(v, float).reshape(c.shape)
        return float(v) if c.ndim == 0 else v

    return MoePlan(
        flops=out(c_flat),
        granularity=out(g_best),
        expansion=out(np.full(c_flat.shape, e)),
        experts=out(g_best * e),
        active_params=out(active),
        total_params=out(total),
        tokens=out(tokens),
        tokens_per_param=out(tokens / active),
        loss=out(loss),
        d_model=out(d_model),
        layers=out(d_model / constants()["conventions"]["d_model_per_block"]),
        d_expert=out(4.0 * d_model / g_best),
        dense_params=out(dense_n),
        dense_tokens=out(dense_d),
        dense_loss=out(dense_loss),
        loss_difference=out(loss - dense_loss),
        dense_flops_for_same_loss=out(dense_c),
        compute_multiplier=out(dense_c / c_flat),
        citation=citation(),
        warnings=tuple(warnings),
        see_also=tuple(f"{r['citation']}: {' '.join(r['note'].split())}" for r in constants().get("related", ())),
    )


def _warnings(flops, g, d_model, expansion) -> list[str]:
    rng = constants()["fitted_range"]
    out = []
    low, high = rng["flops"]
    if flops.max() > high:
        out.append(
            f"krajewski: {fmt_sci(flops.max())} FLOPs is {fmt_number(flops.max() / high)}x above the largest "
            f"runs it was fitted on (about {fmt_sci(high)}); extrapolating (the paper's own Table 2 goes to 5e25)"
        )
    if flops.min() < low:
        out.append(
            f"krajewski: {fmt_sci(flops.min())} FLOPs is below the smallest runs it was fitted on "
            f"(about {fmt_sci(low)}); extrapolating"
        )
    prefix = (lambda i: f"[{i}] ") if flops.size > 1 else (lambda i: "")
    g_high = rng["granularity"][1]
    for i in range(flops.size):
        if g[i] > g_high:
            out.append(
                f"{prefix(i)}krajewski: granularity {fmt_number(g[i])} is beyond the granularities fitted "
                f"(1 to {fmt_number(g_high)}); the paper extrapolates the same way in Table 2"
            )
        # Sec. 7: performance declines when the router (d_model x G E weights) outweighs the active experts (8 d^2).
        if expansion * g[i] > 8.0 * d_model[i]:
            out.append(
                f"{prefix(i)}krajewski: the router ({fmt_number(expansion * g[i])} experts of width "
                f"{fmt_number(4 * d_model[i] / g[i])}) has more parameters than the active experts; the paper "
                "(Sec. 7) sees performance decline at such extreme granularity"
            )
        if d_model[i] <= constants()["conventions"]["d_model_per_block"] * 1.0001:
            out.append(
                f"{prefix(i)}krajewski: the budget is too small for the model family (d_model = 64 n_blocks "
                "needs at least one block of width 64)"
            )
    if expansion != float(constants()["default_expansion"]):
        out.append(
            f"krajewski: expansion rate {fmt_number(expansion)} uses the paper's App. D fit (Table 8), made "
            "from fewer and shorter runs than the main E = 64 fit; its intervals are wider"
        )
    return out


@dataclass(frozen=True, repr=False)
class FixedMoePlan(Rendered):
    """A given mixture of experts (total and active parameters, training tokens), priced from its active
    parameters: a token passes through the active ones only, so C = 6 N_active D (router FLOPs neglected).

    Every expert is held in memory (scaleplan cluster --active-params sizes that); Krajewski et al.'s loss needs the
    granularity, which a total/active pair does not give, so no loss is predicted.
    """

    total_params: float
    active_params: float
    tokens: float
    flops: float
    warnings: tuple[str, ...] = ()
    cost: CostBreakdown | None = None
    name: str | None = None
    recipe: MoeRecipe | None = None  # an integer model with these counts (within 1%) and its recipe
    cluster: ClusterPlan | None = None  # memory per device and layout (EP included), when the budget names a cluster
    precision: Any = None  # the pipeline's precision stage (precision.PenaltyBlock), on the total parameters
    precision_report: Any = None  # `scaleplan precision`'s whole report (precision.PrecisionReport), when asked
    law_params: dict | None = None  # the given counts and tokens, once the model stage designed the shape
    design: Any = None  # recipe.Design of a moe_shape.MoeShape: the pipeline's model stage's network
    law: str = "fixed MoE"
    citation: str = (
        "C = 6 N_active D: Kaplan et al. 2020, arXiv:2001.08361, Sec. 2.1, applied to the active "
        "parameters as in Krajewski et al. 2024, arXiv:2402.07871, Sec. 6"
    )

    @property
    def params(self) -> float:
        return self.active_params

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.active_params

    def with_recipe(self, context: int | None = None, vocab: int | None = None, **pins) -> FixedMoePlan:
        """The given MoE as an integer model (moe_shape.design_given_moe: total and active within 1%) with its
        recipe. ``pins``: layers, d_model, heads, top_k."""
        from ..recipe import moe_shape

        shape = moe_shape.design_given_moe(
            self.total_params,
            self.active_params,
            context=context or moe_shape.DEFAULT_CONTEXT,
            vocab=vocab,
            **{k: v for k, v in pins.items() if v is not None},
        )
        r = moe_shape.moe_recipe(shape, self.tokens, vocab_pinned=vocab is not None)
        extra = tuple(w for w in r.warnings if w not in self.warnings)
        return replace(self, recipe=r, warnings=tuple(self.warnings) + extra)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name} if self.name else {}
        out.update(
            {
                "law": self.law,
                "flops": plain(self.flops),
                "params": plain(self.active_params),
                "params_convention": "active parameters",
                "params_active": plain(self.active_params),
                "params_total": plain(self.total_params),
                "params_non_embedding": None if self.recipe is None else self.recipe.shape.non_embedding_params,
                "tokens": plain(self.tokens),
                "tokens_per_param": plain(self.tokens_per_param),
                "loss": None,
            }
        )
        if self.recipe is not None:
            out.update(self.recipe.plan_fields())
        if self.cost is not None:
            out["cost"] = self.cost.to_dict()
        if self.cluster is not None:
            out["cluster"] = _cluster_dict(self.cluster)
        if self.precision is not None:
            out["precision"] = self.precision.to_dict()
        out["law_params"] = self.law_params
        out["warnings"] = list(self.warnings)
        out["citation"] = self.citation
        return contract(out)


def fixed_moe(total_params: float, active_params: float, tokens: float) -> FixedMoePlan:
    """A given MoE, e.g. DeepSeek-V3 (671B total, 37B active, 14.8T tokens: 6 x 37e9 x 14.8e12 = 3.29e24 FLOPs).

    >>> round(fixed_moe(671e9, 37e9, 14.8e12).flops / 1e24, 2)
    3.29
    """
    n_total = float(check_positive(total_params, "total_params"))
    n_active = float(check_positive(active_params, "active_params"))
    d = float(check_positive(tokens, "tokens"))
    if n_active > n_total:
        raise ScaleplanError(f"active_params ({n_active:.4g}) cannot exceed total_params ({n_total:.4g})")
    return FixedMoePlan(total_params=n_total, active_params=n_active, tokens=d, flops=training_flops(n_active, d))
