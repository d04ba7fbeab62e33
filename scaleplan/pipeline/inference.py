"""Inference-aware allocation (Sardana, Portes, Doubov & Frankle 2024, arXiv:2401.00448).

A model that will serve T tokens should be smaller and trained longer than compute-optimal. For a target loss l:

    minimise  6 N D  +  w T f(N)      subject to  L(N, D) = l

with f(N) = 2N inference FLOPs per token (or 2N + 2 n_layer n_ctx d_model with attention, Kaplan et al. 2020
Table 1) and w = 1 when the objective is FLOPs. When it is dollars, training and serving are priced by their own
hardware, utilisation and price: w = (dollars per inference FLOP) / (dollars per training FLOP), with prefill and
decode at their own MFU (Sardana et al.'s cost formulation). The compute-optimal plan is the same problem with T = 0.

For the Chinchilla form with f(N) = 2N the optimum solves Sardana et al.'s stationarity equation in D,
    (beta B / alpha + B) D^-beta + (w T beta B / (3 alpha)) D^(-beta-1) + E - l = 0,
whose left side falls monotonically in D, so a bracketed bisection in log D finds it to machine precision; then N
follows from the loss (the parametric form's own maths, laws/forms.py). Other loss forms (Kaplan's) and the attention
term go through a bracketed golden-section
search over log N with D(N) from the loss. Both are vectorised over T (scaleplan/core/solvers.py).

A law whose published compute-optimal frontier is not the minimum of its own loss surface (Kaplan et al. 2020: Table
6's N_opt against eq. 1.5's L(N, D); `Law.frontier_is_loss_minimum`) keeps its frontier as the compute-optimal
column, as every other command answers: the frontier model at the budget (or the one reaching the target loss), its
loss the surface's loss at that (N, D). The inference-aware model is the cheapest on the surface reaching that loss,
and the plan says how much of the saving the surface gives with nothing served (`frontier_vs_surface`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import laws
from ..core import solvers
from ..core.errors import ScaleplanError
from ..core.values import Rendered, check_positive, plain
from ..schema import conventions, limits
from ..schema.units import fmt_count, fmt_sci
from .serving_costs import (
    ServingCosts,
    check_number,
    serving_costs,
)
from .sizing import (
    Side,
    costed_side,
    optimum_for_loss,
    sizing,
    tokens_for_loss,
)

BREAK_EVEN_SAVING = 0.01  # the demand above which the inference-aware model saves more than 1% (break_even_tokens)


@dataclass(frozen=True, repr=False)
class InferencePlan(Rendered):
    law: str
    loss: float
    inference_tokens: Any  # a float, or an array of demands (a sweep)
    objective: str
    compute_optimal: Side
    inference_aware: Side
    costs: ServingCosts
    citation: str
    context: float | None = None
    flops: float | None = None
    break_even_tokens: float | None = None
    warnings: tuple[str, ...] = field(default=())
    frontier: dict | None = None  # for a frontier law (Kaplan): its frontier against its loss surface's minimum
    flop_optimal: dict | None = None  # objective 'cost': the FLOP objective's model, and why the two differ
    law_spec: Any = field(default=None, repr=False, compare=False)  # the Law itself (a law file's, not a name)

    def law_object(self) -> laws.Law:
        """The law the plan was sized with (a law file's own constants, not a bundled law of the same name)."""
        return self.law_spec if self.law_spec is not None else laws.get(self.law)

    @property
    def objective_note(self) -> str | None:
        return None if self.flop_optimal is None else self.flop_optimal.get("note")

    @property
    def flops_saving(self):
        return 1.0 - np.asarray(self.inference_aware.total_flops) / self.compute_optimal.total_flops

    @property
    def dollars_saving(self):
        return 1.0 - np.asarray(self.inference_aware.total_dollars) / self.compute_optimal.total_dollars

    def __iter__(self):
        """One plan per inference demand (a single-demand plan yields itself)."""
        if np.ndim(self.inference_tokens) == 0:
            yield self
            return
        for i in range(np.size(self.inference_tokens)):
            yield replace(
                self,
                inference_tokens=float(self.inference_tokens[i]),
                compute_optimal=self.compute_optimal.at(i),
                inference_aware=self.inference_aware.at(i),
            )

    def to_dict(self) -> dict:
        return (
            {
                "law": self.law,
                "loss": self.loss,
                "flops_budget": self.flops,
                "inference_tokens": plain(self.inference_tokens),
                "objective": self.objective,
                "inference_flops_per_token": "2N" if not self.context else f"2N + 2 n_layer {self.context:g} d_model",
                "compute_optimal": self.compute_optimal.to_dict(),
                "inference_aware": self.inference_aware.to_dict(),
                "flops_saving": plain(self.flops_saving),
                "dollars_saving": plain(self.dollars_saving),
                "break_even_tokens": self.break_even_tokens,
                "assumptions": self.costs.to_dict(),
                "warnings": list(self.warnings),
                "citation": self.citation,
            }
            | ({"frontier_vs_surface": self.frontier} if self.frontier is not None else {})
            | ({"flop_optimal": self.flop_optimal} if self.flop_optimal is not None else {})
        )


SARDANA = "Sardana et al. 2024, arXiv:2401.00448"


def _check_demand(inference_tokens) -> np.ndarray:
    """Tokens to serve (a number or an array): numbers, zero or more, finite, at most limits.MAX_TOKENS."""
    if isinstance(inference_tokens, (str, bytes, bool)) or inference_tokens is None:
        hint = " (parse text with scaleplan.schema.units.parse_quantity)" if isinstance(inference_tokens, str) else ""
        raise ScaleplanError(
            f"<inference_tokens> must be a number or an array of numbers, got {inference_tokens!r}{hint}"
        )
    try:
        tokens = np.asarray(inference_tokens, float)
    except (TypeError, ValueError):
        raise ScaleplanError(
            f"<inference_tokens> must be a number or an array of numbers, got {inference_tokens!r}"
        ) from None
    if tokens.size == 0 or not np.all(np.isfinite(tokens)) or np.any(tokens < 0):
        raise ScaleplanError(
            f"<inference_tokens> must be zero or positive and finite, got {tokens.ravel()[:3].tolist()}"
        )
    limits.check_inference_tokens(tokens)
    return tokens


# Where a frontier law's model for a target loss is searched for (FLOPs): far beyond any plan at both ends.
FRONTIER_SEARCH = (1e-10, 1e45)


def inference_aware(
    inference_tokens,
    *,
    flops: float | None = None,
    target_loss: float | None = None,
    law: str | laws.Law = laws.DEFAULT_LAW,
    objective: str = "flops",
    context: float | None = None,
    costs: ServingCosts | None = None,
    break_even: bool = True,
) -> InferencePlan:
    """Compute-optimal vs inference-aware model for a quality (a FLOP budget's optimal loss, or a target loss).

    `inference_tokens` may be an array (a sweep over demand); the solvers are vectorised over it.

    >>> plan = inference_aware(2e12, target_loss=1.947, law="chinchilla-sardana")
    >>> round(plan.inference_aware.params / 1e9, 2), round(float(plan.flops_saving) * 100, 2)
    (24.18, 4.78)
    """
    law = laws.get(law)
    tokens, costs = _checked_request(inference_tokens, flops, target_loss, objective, context, costs)
    return sized_for_demand(
        law, tokens, costs, flops=flops, target_loss=target_loss, objective=objective, context=context,
        break_even=break_even,
    )  # fmt: skip


def sized_for_demand(
    law: laws.Law,
    tokens: np.ndarray,
    costs: ServingCosts,
    *,
    flops: float | None = None,
    target_loss: float | None = None,
    objective: str = "flops",
    context: float | None = None,
    break_even: bool = True,
) -> InferencePlan:
    """``inference_aware`` on arguments already checked (a Law, the demand as an array of tokens, ServingCosts,
    exactly one of `flops` and `target_loss`): the pipeline's allocation of a budget that serves tokens, whose
    values the budget checked."""
    target_loss, front, warnings = _quality(law, flops, target_loss)
    weight, per_token = sizing(law, objective, costs)
    n_base, d_base, front = _baseline(law, target_loss, tokens, context, front, sized_by_budget=flops is not None)
    n_opt, d_opt = optimum_for_loss(law, target_loss, tokens * weight, context, per_token)
    base = costed_side(law, n_base, d_base, tokens, costs, context)
    best = costed_side(law, n_opt, d_opt, tokens, costs, context)
    warnings += _size_warnings(law, n_opt, d_opt, sized_by_budget=flops is not None)
    frontier = None
    baseline = None
    if not law.frontier_is_loss_minimum:  # a frontier law (Kaplan): its optimum is not its loss surface's minimum
        baseline = (float(front[0]), float(front[1]))
        frontier = _frontier_vs_surface(law, *baseline, target_loss, objective, costs, context, break_even)
        warnings.append(frontier["note"])
    flop_optimal = None
    if objective == "cost":
        n_f, d_f = optimum_for_loss(law, target_loss, tokens, context)
        flop_optimal = _versus_flop_optimal(law, costs, tokens, n_opt, d_opt, n_f, d_f)
    plan = InferencePlan(
        law.name,
        float(target_loss),
        _scalar(tokens),
        objective,
        _squeeze(base),
        _squeeze(best),
        costs,
        f"{SARDANA} (method); {law.cite} (law)",
        context,
        flops,
        None,
        tuple(warnings),
        frontier,
        flop_optimal,
        law_spec=law,
    )
    if break_even:
        plan = replace(
            plan, break_even_tokens=break_even_tokens(law, target_loss, objective, costs, context, baseline=baseline)
        )
    return plan


def _checked_request(inference_tokens, flops, target_loss, objective, context, costs):
    """inference_aware's arguments checked: (the demand as an array, the serving costs)."""
    if costs is not None and not isinstance(costs, ServingCosts):
        raise ScaleplanError(f"<costs> must be a ServingCosts from scaleplan.serving_costs(...), got {costs!r}")
    tokens = _check_demand(inference_tokens)
    if context is not None:
        c = check_number("context", context)
        if not (c == math.floor(c) and 1 <= c <= limits.MAX_CONTEXT):
            raise ScaleplanError(f"<context> must be a whole number from 1 to {limits.MAX_CONTEXT:,}, got {context!r}")
    if target_loss is not None:
        check_number("target_loss", target_loss)
        if not np.isfinite(target_loss):
            raise ScaleplanError(f"<target_loss> must be finite, got {target_loss!r}")
    if objective not in ("flops", "cost"):
        raise ScaleplanError(f"<objective> must be 'flops' or 'cost', got {objective!r}")
    if (flops is None) == (target_loss is None):
        raise ScaleplanError(
            "give the quality one way: <flops> (the loss its compute-optimal model reaches) or <target_loss>"
        )
    if flops is not None:
        check_positive(flops, "<flops>")
    return tokens, costs or serving_costs()


def _quality(law: laws.Law, flops, target_loss):
    """(the target loss, the frontier model (N, D) or None, warnings): a budget's quality is the loss of the law's
    compute-optimal model at C, its published frontier (for Kaplan, Table 6, which is not the minimum of its own
    L(N, D)), the answer `allocate` gives."""
    if flops is None:
        return float(target_loss), None, []
    tokens_for_loss(law, 1.0, 1.0)  # the clear error for laws without a loss, before anything else
    n_front, d_front = law.optimum(flops)
    return float(law.loss(n_front, d_front)), (n_front, d_front), list(law.range_warnings(flops))


def _baseline(law: laws.Law, target_loss: float, tokens, context, front, *, sized_by_budget: bool):
    """(N, D) of the compute-optimal model reaching the loss (one per demand), and the frontier model; a quality
    no plannable budget reaches, or one no model of a parameter or more misses, is refused."""
    with np.errstate(all="ignore"):  # absurd targets are judged below, not left to numpy's warnings
        n_base, d_base = optimum_for_loss(law, target_loss, np.zeros_like(tokens), context)
        if not law.frontier_is_loss_minimum:  # the compute-optimal model is on the frontier, not the surface
            front = front if front is not None else _frontier_for_loss(law, target_loss)
            n_base = np.full(tokens.shape, float(front[0]))
            d_base = np.full(tokens.shape, float(front[1]))
    if not sized_by_budget:  # a quality only a budget beyond any plan reaches is refused, as `allocate` refuses it
        base_flops = float(np.max(conventions.training_flops(np.asarray(n_base, float), np.asarray(d_base, float))))
        if not base_flops <= limits.MAX_FLOPS:
            n_top, d_top = law.optimum(limits.MAX_FLOPS)
            raise ScaleplanError(
                f"<target_loss> {target_loss:g} needs a compute-optimal budget of {fmt_sci(base_flops)} FLOPs, beyond "
                f"any plan (more than {fmt_sci(limits.MAX_FLOPS)}): the lowest plannable loss under {law.name} is "
                f"{math.ceil(float(law.loss(n_top, d_top)) * 1e4) / 1e4:g}"
            )
    if not np.all(np.isfinite(n_base) & (np.asarray(n_base) >= 1.0)):
        n_small, d_small = law.optimum(law.min_flops())
        raise ScaleplanError(
            f"target loss {target_loss:g} is above the loss of any model under {law.name}: a compute-optimal model "
            f"reaching it would have less than one parameter (the smallest model scaleplan plans reaches "
            f"{float(law.loss(n_small, d_small)):.4g})"
        )
    return n_base, d_base, front


def _size_warnings(law: laws.Law, n_opt, d_opt, *, sized_by_budget: bool) -> list[str]:
    """A recommended model smaller than any scaleplan plans, or trained beyond what Sardana et al. validated."""
    warnings = []
    smallest = float(np.min(conventions.split_params(law, np.atleast_1d(np.asarray(n_opt, float)))[0]))
    if smallest < limits.MIN_PARAMS:
        warnings.append(
            f"the inference-aware model has {fmt_count(smallest)} parameters, below the smallest model scaleplan "
            f"plans ({fmt_count(limits.MIN_PARAMS)}) and far below anything published: "
            + (
                "the budget is tiny for this demand"
                if sized_by_budget
                else "the target loss is higher than such tiny models already reach"
            )
            + "; treat the numbers as an extrapolation"
        )
    if np.any(np.asarray(d_opt) / n_opt > 10_000):
        warnings.append(f"more than 10,000 tokens per parameter: beyond what {SARDANA} validated (up to 10,000)")
    return warnings


def _versus_flop_optimal(law, costs: ServingCosts, tokens, n_c, d_c, n_f, d_f) -> dict:
    """How the cost-optimal model differs from the FLOP-optimal one (both at the same loss), and why: what a served
    token costs, in training FLOPs, against the 2N the FLOP objective charges (vectorised over demand; the note for
    one demand)."""
    total_c = conventions.split_params(law, np.asarray(n_c, float))[0]
    per_token = costs.dollars_per_token(total_c)
    in_flops = per_token / costs.dollars_per_training_flop  # a served token's price in training FLOPs
    ratio = np.asarray(n_c, float) / np.asarray(n_f, float)
    out: dict[str, Any] = {
        "params": plain(_scalar(n_f)),
        "tokens": plain(_scalar(d_f)),
        "params_ratio": plain(_scalar(ratio)),
        "serving_dollars_per_million": plain(_scalar(per_token * 1e6)),
        "serving_token_in_training_flops_per_param": plain(_scalar(in_flops / total_c)),
    }
    if np.ndim(tokens) == 0 or np.size(tokens) == 1:
        r, k = float(np.ravel(ratio)[0]), float(np.ravel(in_flops / total_c)[0])
        model = "the serving roofline" if not costs.fixed_mfu else "fixed MFU"
        side = "smaller" if r < 1 else "larger"
        why = (
            "serving costs more than the 2N training FLOPs the FLOP objective charges, so a smaller model "
            "trained longer pays"
            if k > 2
            else "serving costs less than the 2N training FLOPs the FLOP objective charges, so the saving in "
            "serving buys less than the extra training costs"
        )
        out["note"] = (
            f"Cost-optimal {fmt_count(float(np.ravel(n_c)[0]))} parameters on {fmt_count(float(np.ravel(d_c)[0]))} "
            f"tokens vs FLOP-optimal {fmt_count(float(np.ravel(n_f)[0]))} on {fmt_count(float(np.ravel(d_f)[0]))} "
            f"({abs(r - 1):.1%} {side}): by {model} a served token costs "
            f"${float(np.ravel(per_token)[0]) * 1e6:.3g} per million on {costs.inference_hardware.key}, the price "
            f"of {k:.2g}N training FLOPs; {why}."
        )
    return out


def _frontier_for_loss(law: laws.Law, loss: float) -> tuple[float, float]:
    """(N, D) of the law's frontier model whose loss is `loss`: a bisection in log C along the frontier (its loss
    falls as C grows: N and D both grow with C)."""

    def above(log_c):
        n, d = law.optimum(np.exp(log_c))
        return law.loss(n, d) > loss

    lo, hi = np.log(np.array([FRONTIER_SEARCH[0]])), np.log(np.array([FRONTIER_SEARCH[1]]))
    if above(hi)[0]:
        raise ScaleplanError(
            f"target loss {loss:g} is below what {law.name}'s compute-optimal frontier reaches with "
            f"{fmt_sci(FRONTIER_SEARCH[1])} FLOPs; give a higher loss"
        )
    lo, hi = solvers.bisect(above, lo, hi, iterations=200, rtol=1e-15)
    n, d = law.optimum(np.exp(hi))
    return float(n[0]), float(d[0])


def _frontier_vs_surface(
    law: laws.Law, n_front: float, d_front: float, loss: float, objective, costs, context, break_even: bool
) -> dict:
    """How the law's loss surface differs from its published frontier at the frontier model's budget C: the
    surface's minimum at C, and the cheapest model on the surface reaching the frontier model's loss with nothing
    served (the part of the inference-aware saving that is not due to serving)."""
    c = conventions.training_flops(n_front, d_front)
    n_surface, d_surface = (float(x) for x in law.loss_optimum(c))
    n_cheap, d_cheap = (float(np.ravel(x)[0]) for x in optimum_for_loss(law, loss, np.zeros(1)))
    c_cheap = conventions.training_flops(n_cheap, d_cheap)
    ratio = n_surface / n_front
    saving = 1.0 - c_cheap / c
    serving = break_even_tokens(law, loss, objective, costs, context) if break_even else None
    note = (
        f"{law.name}: the compute-optimal column is the law's published frontier ({fmt_count(n_front)} parameters "
        f"on {fmt_count(d_front)} tokens at {fmt_sci(c)} FLOPs, as allocate answers); inference-aware sizing needs "
        f"its loss surface L(N, D), whose minimum at that budget is {fmt_count(n_surface)} parameters "
        f"({abs(ratio - 1):.0%} {'below' if ratio < 1 else 'above'} the frontier) and which reaches the frontier "
        f"model's loss {loss:.4f} with {fmt_sci(c_cheap)} FLOPs ({saving:.1%} less, {fmt_count(n_cheap)} parameters)"
        + (
            " even with no tokens served: that part of the saving is not due to serving"
            if saving > BREAK_EVEN_SAVING
            else " with no tokens served"
        )
    )
    return {
        "flops": c,
        "frontier_params": n_front,
        "frontier_tokens": d_front,
        "frontier_loss": float(loss),
        "surface_params": n_surface,
        "surface_tokens": d_surface,
        "surface_loss": float(law.loss(n_surface, d_surface)),
        "surface_vs_frontier_params": ratio,
        "surface_params_for_frontier_loss": n_cheap,
        "surface_tokens_for_frontier_loss": d_cheap,
        "surface_flops_for_frontier_loss": c_cheap,
        "saving_without_serving": saving,
        "serving_break_even_tokens": serving,
        "note": note,
    }


def _scalar(v):
    arr = np.asarray(v, float)
    return float(arr) if arr.ndim == 0 else arr


def _squeeze(side: Side) -> Side:
    return Side(**{k: _scalar(v) for k, v in side.__dict__.items()})


def savings(law, loss, tokens, objective, costs, context, baseline=None):
    """Fractional saving of the objective's own measure (FLOPs or dollars) against the compute-optimal model: the
    cheapest model on the loss surface with nothing served, or `baseline` (N, D), a frontier law's model."""
    weight, per_token = sizing(law, objective, costs)
    t = np.asarray(tokens, float)
    if baseline is None:
        n_base, d_base = optimum_for_loss(law, loss, np.zeros_like(t), context)
    else:
        n_base, d_base = np.full(t.shape, baseline[0]), np.full(t.shape, baseline[1])
    n_opt, d_opt = optimum_for_loss(law, loss, t * weight, context, per_token)
    base, best = costed_side(law, n_base, d_base, t, costs, context), costed_side(law, n_opt, d_opt, t, costs, context)
    key = "total_flops" if objective == "flops" else "total_dollars"
    return 1.0 - np.asarray(getattr(best, key)) / getattr(base, key)


def break_even_tokens(
    law, loss, objective, costs, context, saving: float = BREAK_EVEN_SAVING, baseline=None
) -> float | None:
    """The inference demand above which the inference-aware model saves more than `saving` (1%); 0.0 where it does
    with nothing served (against a frontier `baseline` the loss surface may reach the same loss more cheaply)."""
    if baseline is not None and savings(law, loss, np.zeros(1), objective, costs, context, baseline)[0] > saving:
        return 0.0
    grid = np.geomspace(1e6, 1e20, 57)
    s = savings(law, loss, grid, objective, costs, context, baseline)
    above = np.nonzero(s > saving)[0]
    if above.size == 0:
        return None
    if above[0] == 0:
        return float(grid[0])
    lo, hi = np.log(grid[above[0] - 1]), np.log(grid[above[0]])
    for _ in range(5):  # vectorised refinement: each round shrinks the bracket 63-fold (to ~1e-9 in log T)
        points = np.linspace(lo, hi, 64)
        first = int(np.argmax(savings(law, loss, np.exp(points), objective, costs, context, baseline) > saving))
        if first == 0:  # the crossing is at the bracket's low end already
            return float(np.exp(points[0]))
        lo, hi = points[first - 1], points[first]
    return float(np.exp(hi))


def describe_break_even(plan: InferencePlan) -> str:
    measure = "FLOPs" if plan.objective == "flops" else "dollars"
    if plan.break_even_tokens is None:
        return f"No demand up to 1e20 tokens saves more than 1% of {measure}"
    if plan.break_even_tokens == 0.0:  # a frontier law: its loss surface beats the frontier with nothing served
        f = plan.frontier or {}
        serving = f.get("serving_break_even_tokens")
        above = (
            f"above {fmt_sci(serving)} inference tokens" if serving is not None else "at no demand up to 1e20 tokens"
        )
        return (
            f"The inference-aware model saves more than 1% of total {measure} at any demand, even none: "
            f"{plan.law}'s loss surface reaches this loss with {f.get('saving_without_serving', 0.0):.1%} fewer "
            f"training FLOPs than its frontier model. Against the surface's cheapest model for this loss, serving "
            f"saves more than 1% {above}"
        )
    return (
        f"Above {fmt_sci(plan.break_even_tokens)} inference tokens the inference-aware model saves more than 1% "
        f"of total {measure}"
    )


__all__ = [
    "InferencePlan",
    "ServingCosts",
    "Side",
    "break_even_tokens",
    "inference_aware",
    "optimum_for_loss",
    "serving_costs",
    "tokens_for_loss",
]
