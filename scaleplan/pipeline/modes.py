"""The pipeline's allocation stage: the model the mode's law recommends (compute-optimal, inference-aware, a total
budget, a target loss, a fixed model, limited unique data, a mixture of experts, a given one), not yet designed or
priced. An allocation may price candidates with the pure cost and serving functions (the dollar objective)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.errors import ScaleplanError
from ..schema import limits
from ..schema.conventions import training_flops
from ..schema.units import fmt_sci
from .budget import BudgetFieldError
from .context import Context
from .optimal import Plan, law_plan
from .pricing import price


def allocation_stage(ctx: Context):
    """The mode's model as its law recommends it: one function per mode."""
    mode = ctx.budget.mode
    if mode in _MODES:
        return _MODES[mode](ctx)
    if ctx.budget.total_dollars is not None:  # training + serving within one sum of money
        return _allocate_total(ctx)
    if ctx.budget.target_loss is not None:  # quality as a loss: the inference-aware model reaching it
        return _allocate_target_loss(ctx)
    if ctx.serving_spec is not None and ctx.law.predicts_loss:  # the same loss, cheaper to serve
        return _allocate_inference_aware(ctx)
    return _allocate_compute_optimal(ctx)


def _allocate_compute_optimal(ctx: Context) -> Plan:
    law, flops = ctx.law, ctx.resolved.flops
    n, d = law.optimum(flops)
    plan = law_plan(law, flops, n, d, name=ctx.budget.name, warnings=ctx.resolved.warnings)
    if ctx.serving_spec is not None and not law.predicts_loss:
        note = (
            f"{law.name} predicts no loss, so the serving plan is costed but not sized inference-aware; "
            "use a law such as epoch or chinchilla for that"
        )
        plan = replace(plan, warnings=(*plan.warnings, note))
    return plan


def _priced(ctx: Context, plan: Plan) -> Plan:
    """A law plan priced as it stands (the compute-optimal model an inference-aware plan is compared with)."""
    return replace(plan, cost=price(ctx, plan.flops, plan.params_total))


def _allocate_inference_aware(ctx: Context) -> Plan:
    """The model that reaches the budget's compute-optimal loss and costs least over training and serving
    (scaleplan.pipeline.inference.inference_aware); the compute-optimal model stays beside it for comparison."""
    from .inference import sized_for_demand

    spec = ctx.serving_spec
    assert spec is not None and ctx.serving is not None  # allocation_stage: something is served
    base = _allocate_compute_optimal(ctx)
    sized = sized_for_demand(  # the budget's demand, FLOPs and serving costs, checked once
        ctx.law,
        np.asarray(spec["tokens"], float),
        ctx.serving,
        flops=ctx.resolved.flops,
        objective=spec.get("objective", "flops"),
        context=spec.get("context"),
    )
    return _sized_plan(ctx, sized, base, ctx.resolved.flops, base.warnings)


def _sized_plan(ctx: Context, sized, base: Plan, budget_flops, warnings: tuple[str, ...]) -> Plan:
    """The inference-aware model of `sized` (one demand) as a law plan, `base` (priced) beside it; `warnings` first."""
    n, d = float(np.asarray(sized.inference_aware.params)), float(np.asarray(sized.inference_aware.tokens))
    plan = law_plan(ctx.law, training_flops(n, d), n, d, name=ctx.budget.name)
    warnings = tuple(dict.fromkeys(warnings + plan.warnings + tuple(sized.warnings)))
    return replace(
        plan, inference=sized, budget_flops=budget_flops, compute_optimal=_priced(ctx, base), warnings=warnings
    )


def _allocate_target_loss(ctx: Context) -> Plan:
    """Quality as a loss (Sardana et al.'s formulation): the inference-aware model reaching `target_loss`, as
    `scaleplan inference-aware --target-loss` sizes it."""
    from .inference import sized_for_demand

    law, spec = ctx.law, ctx.serving_spec
    assert spec is not None and ctx.serving is not None  # Budget._check_mode: a target loss serves tokens
    if not law.predicts_loss:
        raise BudgetFieldError(
            "target_loss", f"{law.name} predicts no loss, so no model can be sized for a target loss under it"
        )
    try:
        sized = sized_for_demand(
            law,
            np.asarray(spec["tokens"], float),
            ctx.serving,
            target_loss=ctx.budget.target_loss,
            objective=spec.get("objective", "flops"),
            context=spec.get("context"),
        )
    except ScaleplanError as exc:
        raise BudgetFieldError("target_loss", exc.template) from None
    n0, d0 = float(sized.compute_optimal.params), float(sized.compute_optimal.tokens)
    base = law_plan(law, training_flops(n0, d0), n0, d0)
    budget_flops = sized.flops if sized.flops is not None else base.flops
    return _sized_plan(ctx, sized, base, budget_flops, ctx.resolved.warnings)


def _allocate_total(ctx: Context) -> Plan:
    """`total_dollars` with tokens to serve: the lowest-loss model whose training plus serving cost is within it
    (scaleplan.pipeline.inference.within_total), with the split."""
    from .total_budget import within_total

    spec = ctx.serving_spec
    assert spec is not None and ctx.serving is not None  # Budget._check_mode: total_dollars serves tokens
    try:
        split = within_total(ctx.law, float(ctx.budget.total_dollars or 0.0), float(spec["tokens"]), ctx.serving)
    except ScaleplanError as exc:
        raise BudgetFieldError("total_dollars", exc.template) from None
    n, d = split.params, split.tokens
    plan = law_plan(ctx.law, training_flops(n, d), n, d, name=ctx.budget.name, warnings=ctx.resolved.warnings)
    return replace(plan, total_budget=split)


def _allocate_fixed(ctx: Context):
    from . import constrained

    budget = ctx.budget
    assert budget.params is not None and budget.tokens is not None  # the mode says so (Budget._check_mode)
    if budget.unique_tokens is not None:
        limits.check_epochs(budget.tokens / budget.unique_tokens)
    report = constrained.fixed_allocation(
        budget.params,
        budget.tokens,
        unique_tokens=budget.unique_tokens,
        laws=None if ctx.law_given is None else [ctx.law],
    )
    return replace(report, name=budget.name, warnings=ctx.resolved.warnings + tuple(report.warnings))


def _allocate_fixed_moe(ctx: Context):
    from . import moe as moe_mod

    budget = ctx.budget
    spec = budget.moe or {}
    assert budget.tokens is not None  # the mode says so (Budget._check_mode)
    given = moe_mod.fixed_moe(spec["total_params"], spec["active_params"], budget.tokens)
    return replace(given, name=budget.name, warnings=ctx.resolved.warnings)


def _allocate_moe(ctx: Context):
    from . import moe as moe_mod

    spec = ctx.budget.moe or {}
    plan = moe_mod.moe_allocation(
        ctx.resolved.flops, granularity=spec.get("granularity"), expansion=spec.get("expansion")
    )
    return replace(plan, name=ctx.budget.name, warnings=ctx.resolved.warnings + tuple(plan.warnings))


def _allocate_constrained(ctx: Context):
    from . import constrained

    spec = ctx.serving_spec
    plan = constrained.data_constrained_allocation(ctx.resolved.flops, ctx.budget.unique_tokens, law=ctx.law)
    limits.check_epochs(plan.epochs, plan.law)
    unsized = (
        ()
        if spec is None
        else (
            f"serving {fmt_sci(spec['tokens'])} tokens is priced, but the data-constrained model is not sized for it "
            "(inference-aware sizing assumes unlimited unique data)",
        )
    )
    return replace(plan, name=ctx.budget.name, warnings=ctx.resolved.warnings + tuple(plan.warnings) + unsized)


_MODES = {
    "fixed": _allocate_fixed,
    "fixed-moe": _allocate_fixed_moe,
    "moe": _allocate_moe,
    "data-constrained": _allocate_constrained,
}
