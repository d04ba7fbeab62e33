"""Compute-optimal allocation: how many parameters and tokens for a training budget, under a chosen law."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import laws
from ..cluster.cost import DEFAULT_GPUS, CostBreakdown, Hardware, default_mfu, get_hardware, price_label, training_cost
from ..core.errors import ScaleplanError
from ..core.values import PerBudget, Rendered, Values, check_positive, check_settings, contract, pick, plain
from ..laws import common_convention_optimum, range_warnings  # re-exported: they live with the laws
from ..schema import conventions, limits
from ..schema.units import fmt_sci

if TYPE_CHECKING:  # the result types the plan carries (imported lazily at run time)
    from ..cluster.run import ClusterPlan
    from ..recipe.design import Recipe
    from .inference import InferencePlan
    from .precision_plan import PenaltyBlock
    from .quantized import QuantizedServing


@dataclass(frozen=True, eq=False, repr=False)  # PerBudget's __eq__ (arrays compare); repr: the summary
class Plan(PerBudget):
    """A compute-optimal plan. Numeric fields are floats, or arrays shaped like the budgets given."""

    _per_budget = (
        "flops",
        "params",
        "params_total",
        "params_non_embedding",
        "tokens",
        "tokens_per_param",
        "loss",
        "flops_per_token_m",
    )

    law: str
    flops: Values
    params: Values
    params_total: Values
    params_non_embedding: Values
    tokens: Values
    tokens_per_param: Values
    loss: Values | None
    citation: str
    params_convention: str
    cost: CostBreakdown | None = None  # the cost stage prices it (allocate() too)
    warnings: tuple[str, ...] = ()
    name: str | None = None
    flops_per_token_m: Values | None = None
    recipe: Recipe | None = None  # once with_recipe() has designed the network
    inference: InferencePlan | None = None  # when the budget says what will be served
    intervals: dict | None = (
        None  # scaleplan.pipeline.intervals.plan_intervals: {"level": 0.8, "params": [lo, hi], ...}
    )
    cluster: ClusterPlan | None = None  # when the budget names a cluster (memory, layout, HFU)
    precision: PenaltyBlock | None = None  # low-precision training or serving bits (each law's own loss)
    quantized: QuantizedServing | None = None  # the model that reaches the loss as served
    precision_report: Any = None  # `scaleplan precision`'s whole report (precision.PrecisionReport), when asked
    budget_flops: Values | None = None  # serving plans: the budget whose compute-optimal loss sets the quality
    compute_optimal: Plan | None = None  # serving plans: the compute-optimal Plan of that budget, for comparison
    serving: Any = (
        None  # scaleplan.cluster.serving.Serving: how the designed model serves (the roofline), when it serves
    )
    total_budget: Any = None  # scaleplan.pipeline.inference.TotalBudget: training + serving within one sum of money
    law_params: dict | None = None  # the law's own N, D and loss, once the model stage has designed the network
    design: Any = None  # recipe.Design: the pipeline's model stage's network, before the recipe stage

    def at(self, i: int) -> Plan:
        """The plan for budget i, its cost included."""
        cost = CostBreakdown(**{k: pick(v, i) for k, v in self.cost.__dict__.items()})
        return replace(super().at(i), cost=cost)

    def to_dict(self) -> dict:
        """The JSON contract of ../DESIGN.md: base units, plain numbers, the same names in every command."""
        out: dict[str, Any] = {"name": self.name} if self.name else {}
        out.update(
            law=self.law,
            flops=plain(self.flops),
            params=plain(self.params),
            params_total=plain(self.params_total),
            params_non_embedding=plain(self.params_non_embedding),
            params_convention=self.params_convention,
            tokens=plain(self.tokens),
            tokens_per_param=plain(self.tokens_per_param),
            loss=plain(self.loss),
        )
        if self.flops_per_token_m is not None:
            out["flops_per_token_m"] = plain(self.flops_per_token_m)
        out["flops_6nd"] = plain(conventions.training_flops(np.asarray(self.params_total), self.tokens))
        if self.recipe is not None:
            out.update(self.recipe.plan_fields())
        out["cost"] = None if self.cost is None else self.cost.to_dict()
        if self.intervals is not None:
            out["intervals"] = self.intervals
        if self.cluster is not None:
            out["cluster"] = {k: v for k, v in self.cluster.to_dict().items() if k not in ("cost", "shape", "warnings")}
        if self.precision is not None:
            out["precision"] = self.precision.to_dict()
        if self.quantized is not None:
            out["quantized_serving"] = self.quantized.to_dict()
        if self.budget_flops is not None:
            out["budget_flops"] = plain(self.budget_flops)
        if self.inference is not None and self.inference.flops is None:  # quality given as a loss
            out["target_loss"] = plain(self.inference.loss)
        if self.compute_optimal is not None:
            co = self.compute_optimal
            out["compute_optimal"] = {
                "params": plain(co.params),
                "params_total": plain(co.params_total),
                "tokens": plain(co.tokens),
                "flops": plain(co.flops),
                "loss": plain(co.loss),
                "cost": None if co.cost is None else co.cost.to_dict(),
            }
        if self.serving is not None:
            out["serving"] = self.serving.to_dict()
        if self.total_budget is not None:
            out["total_budget"] = self.total_budget.to_dict()
        if self.inference is not None:
            out["inference_aware"] = self.inference.to_dict()
        out["law_params"] = self.law_params
        out["warnings"] = list(self.warnings)
        out["citation"] = self.citation
        return contract(out)


check_budgets = check_positive  # the name the planner's callers know


def allocate(
    flops,
    law: str | laws.Law = laws.DEFAULT_LAW,
    *,
    hardware: str | Hardware | None = None,
    mfu: float | None = None,
    price: float | None = None,
    gpus: float | None = None,
    peak_flops: float | None = None,
    inference_tokens: float | None = None,
    serving=None,
    name: str | None = None,
    extra_warnings: tuple[str, ...] = (),
    precision: str = "bf16",
) -> Plan:
    """The compute-optimal N and D for `flops` (a number or an array of budgets) under `law`, with its cost.

    The allocation alone, vectorised over budgets; the complete plan the CLI prints (recipe, schedule, inference-aware
    sizing, cluster, precision) is `plan(...)`.

    >>> plan = allocate(1e21, law="chinchilla")
    >>> round(plan.params / 1e9, 2), round(plan.tokens / 1e9, 1)
    (1.82, 91.4)
    """
    law = laws.get(law)
    c = check_positive(flops)
    check_settings(mfu=mfu, price=price, gpus=gpus, peak_flops=peak_flops, inference_tokens=inference_tokens)
    if inference_tokens is not None:
        limits.check_inference_tokens(inference_tokens)
    n_native, d = law.optimum(c)
    return _assemble(
        law,
        c,
        n_native,
        d,
        hardware=hardware,
        mfu=mfu,
        price=price,
        gpus=gpus,
        peak_flops=peak_flops,
        inference_tokens=inference_tokens,
        serving=serving,
        name=name,
        extra_warnings=extra_warnings,
        precision=precision,
    )


def law_plan(law: laws.Law, c, n_native, d, *, name: str | None = None, warnings: tuple[str, ...] = ()) -> Plan:
    """The law's model (N in its own convention, D) trained on C FLOPs, as a Plan not yet priced: the counts in
    every convention, the loss, the fitted-range warnings. Vectorised over budgets."""
    total, non_emb = conventions.split_params(law, n_native)
    m = None
    if law.params_convention == "flops_per_token":
        m, params = n_native, non_emb  # DeepSeek allocates FLOPs per token; report parameters next to it
    else:
        params = n_native
    loss = law.loss(n_native, d)
    c = np.asarray(c, float) if np.ndim(c) else c
    shape_of = lambda v: float(v) if np.ndim(c) == 0 else np.broadcast_to(v, c.shape).astype(float)
    return Plan(
        law=law.name,
        flops=shape_of(c),
        params=shape_of(params),
        params_total=shape_of(total),
        params_non_embedding=shape_of(non_emb),
        tokens=shape_of(d),
        tokens_per_param=shape_of(d / params),
        loss=None if loss is None else shape_of(loss),
        citation=law.cite,
        # DeepSeek allocates FLOPs per token M (reported as flops_per_token_m); `params` is then its non-embedding N
        params_convention="non_embedding" if m is not None else law.params_convention,
        warnings=tuple(warnings) + tuple(range_warnings(law, c)),
        name=name,
        flops_per_token_m=None if m is None else shape_of(m),
    )


def _assemble(
    law: laws.Law,
    c,
    n_native,
    d,
    *,
    hardware,
    mfu,
    price,
    gpus,
    peak_flops,
    inference_tokens,
    serving,
    name,
    extra_warnings,
    precision,
) -> Plan:
    """A Plan for the model (N in the law's convention, D) trained on C FLOPs, priced on the given hardware."""
    plan = law_plan(law, c, n_native, d, name=name, warnings=tuple(extra_warnings))
    total = plan.params_total
    hw = get_hardware(hardware, peak_flops)
    mfu = default_mfu(precision, hw) if mfu is None else mfu
    price = hw.price_per_hour if price is None else price  # None: no published price, no dollars
    inference_flops = inference_dollars = None
    if inference_tokens is not None:
        inference_flops = conventions.serving_flops(total, inference_tokens)
        if price is not None or serving is not None:
            from .serving_costs import serving_costs  # prefill and decode priced at their own utilisation

            serving = serving or serving_costs(
                hw.key if hw.key != "custom" else None, mfu, price, peak_flops=peak_flops
            )
            inference_dollars = np.asarray(inference_tokens, float) * serving.dollars_per_token(total)
    cost = training_cost(
        c,
        hw,
        mfu,
        price,
        DEFAULT_GPUS if gpus is None else gpus,
        inference_flops,
        inference_dollars,
        precision=precision,
    )
    if inference_dollars is not None and serving is not None:  # the serving price, labelled as training's is
        cost = replace(cost, inference_price_label=price_label(serving.inference_hardware, serving.inference_price))
    return replace(plan, cost=cost)


def designed_counts(plan: Plan, law: laws.Law) -> Plan:
    """The plan's counts made the designed model's (`plan.design`, the model stage's shape): the total,
    non-embedding and law-convention parameters the shape has, tokens re-derived so the plan spends its budget
    (C = k N_designed D, with the law's own k = C / (N D): 6 for parameter counts, 1 for DeepSeek's FLOPs per token
    M), and the law's loss at (N_designed, D). The law's own N, D and loss stay beside them as `law_params`. A plan
    without a design is returned unchanged.
    """
    if plan.design is None:
        return plan
    from ..recipe import design as recipe_mod

    shape = plan.design.shape
    convention = "flops_per_token" if plan.flops_per_token_m is not None else plan.params_convention
    n_law = float(plan.flops_per_token_m if plan.flops_per_token_m is not None else plan.params)
    c, d_law = float(plan.flops), float(plan.tokens)
    k = c / (n_law * d_law)  # the law's C = k N D (6, or 1 for M)
    n_native = recipe_mod.measure(shape, convention)
    total, non_emb = float(shape.total_params), float(shape.non_embedding_params)
    d = c / (k * n_native)
    params = non_emb if plan.flops_per_token_m is not None else n_native
    loss = law.loss(n_native, d)
    law_params = {
        "params": plain(plan.params),
        "params_total": plain(plan.params_total),
        "params_non_embedding": plain(plan.params_non_embedding),
        "params_convention": plan.params_convention,
        "tokens": plain(plan.tokens),
        "loss": plain(plan.loss),
        "note": (
            "the law's own optimum; the plan's counts are the designed shape's, its tokens re-derived so that "
            f"C = {k:.3g} N D in the law's convention"
        ),
    }
    if plan.flops_per_token_m is not None:
        law_params["flops_per_token_m"] = plain(plan.flops_per_token_m)
    return replace(
        plan,
        params=params,
        params_total=total,
        params_non_embedding=non_emb,
        tokens=d,
        tokens_per_param=d / params,
        loss=None if loss is None else float(loss),
        flops_per_token_m=None if plan.flops_per_token_m is None else n_native,
        law_params=law_params,
    )


def context_flops_warning(r: Recipe, tokens: float) -> tuple[str, ...]:
    """At a long context the exact FLOPs per token (App. F) exceed 6N: one warning when the cost, on 6ND,
    understates the work by more than limits.CONTEXT_FLOPS_RATIO."""
    if r.flops.ratio <= limits.CONTEXT_FLOPS_RATIO:
        return ()
    return (
        f"at context {r.shape.context:,} the exact FLOPs per token (App. F) are {r.flops.ratio:.3g}x 6N: "
        "the cost, on the model FLOPs 6ND, understates the work "
        + (f"{r.flops.ratio:.3g}-fold " if r.flops.ratio >= 2 else f"by {1 - 1 / r.flops.ratio:.0%} ")
        + f"(exact: {fmt_sci(r.flops.flops_per_token * float(tokens))} FLOPs)",
    )


def with_recipe(plan: Plan, context: int | None = None, hparams_law: str | None = None, **pins) -> Plan:
    """The plan with its training recipe: vocabulary, learning rate, batch size, shape and exact FLOPs per token.

    Recipes are per plan (a network is designed for it), so this takes a scalar plan. `pins` are recipe.recipe()'s
    vocab, layers, d_model, heads, head_dim, d_ff; the rest adapt.
    """
    from ..recipe import (
        design as recipe_mod,  # keeps `import scaleplan` and vectorised sweeps free of the recipe tables
    )

    if np.ndim(plan.flops):
        raise ScaleplanError("a recipe is designed for one budget at a time")
    pins = {k: v for k, v in pins.items() if v is not None}
    context = conventions.DEFAULT_CONTEXT if context is None else context
    if plan.flops_per_token_m is not None and context != conventions.DEFAULT_CONTEXT:
        plan = conventions.recontext_plan(plan, context)  # DeepSeek's M -> N at the recipe's context
    # The shape is designed in the law's own count (DeepSeek's M, Kaplan's non-embedding N, ...), not a total
    # converted with another vocabulary.
    target, convention = (
        (plan.flops_per_token_m, "flops_per_token")
        if plan.flops_per_token_m is not None
        else (plan.params, plan.params_convention)
    )
    r = recipe_mod.recipe(
        target, plan.tokens, plan.flops, loss=plan.loss, law=hparams_law, context=context, convention=convention, **pins
    )
    # Show the warnings of the numbers the plan uses: shape, vocabulary and the default learning-rate law.
    others = {w for row in r.hparams if not row.default for w in row.warnings}
    own = tuple(w for w in r.warnings if w not in others) + context_flops_warning(r, float(plan.tokens))
    return replace(plan, recipe=r, warnings=plan.warnings + own)


# ---------------------------------------------------------------------------------------------------------------
# Comparing laws in one convention


@dataclass(frozen=True, repr=False)
class Comparison(Rendered):
    convention: str
    rows: tuple[dict, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"convention": self.convention, "rows": [dict(r) for r in self.rows], "warnings": list(self.warnings)}


def compare(law_names, flops) -> Comparison:
    """Every law's optimum at every budget, in one convention: total parameters and C = 6 N_total D."""
    if isinstance(law_names, (str, laws.Law)):  # one law, not the characters of its name
        law_names = [law_names]
    chosen = [laws.get(name) for name in law_names]
    if not chosen:
        raise ScaleplanError("compare needs at least one law name")
    c = np.atleast_1d(check_positive(flops))
    per_law, warnings = [], []
    for law in chosen:
        total, d, n_native = common_convention_optimum(law, c)
        loss = law.loss(n_native, d)
        per_law.append((law, total, d, n_native, loss))
        warnings.extend(range_warnings(law, c))
    base_total, base_tokens = per_law[0][1], per_law[0][2]
    rows = []
    for j in range(c.size):
        for law, total, d, n_native, loss in per_law:
            rows.append(
                {
                    "law": law.name,
                    "flops": float(c[j]),
                    "params": float(total[j]),
                    "params_native": float(n_native[j]),
                    "params_convention": law.params_convention,
                    "tokens": float(d[j]),
                    "tokens_per_param": float(d[j] / total[j]),
                    "params_ratio": float(total[j] / base_total[j]),
                    "tokens_ratio": float(d[j] / base_tokens[j]),
                    "loss": None if loss is None else float(loss[j]),
                    "citation": law.short_cite,
                    "why": law.why_line,
                }
            )
    return Comparison(conventions.CONVENTION_NOTE, tuple(rows), tuple(warnings))
