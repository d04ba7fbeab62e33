"""The pipeline's cost stage: a plan's training and serving cost, assembled in one place (`price`), and the serving
roofline's price of the designed model (`with_serving`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..cluster.cost import cost_breakdown, price_label
from ..schema.conventions import serving_flops
from ..schema.units import fmt_count, fmt_sci
from .context import Context
from .optimal import Plan


def price(ctx: Context, flops, serve_params, stored=None):
    """Training `flops` on the budget's hardware, MFU, price and GPUs, and with tokens to serve, 2 `serve_params`
    FLOPs per served token priced by the serving model (a mixture of experts: FLOPs from the active parameters,
    bytes from the `stored` ones). The one place a plan's cost is assembled."""
    resolved, spec, serving = ctx.resolved, ctx.serving_spec, ctx.serving
    inference_flops = inference_dollars = None
    if spec is not None:
        inference_flops = serving_flops(float(serve_params), spec["tokens"])
        per_token = serving.dollars_per_token(float(serve_params), stored=stored)
        inference_dollars = float(spec["tokens"]) * float(per_token)
    cost = cost_breakdown(  # the budget resolved (and checked) hardware, MFU, price, GPUs and precision once
        flops,
        resolved.hardware,
        resolved.mfu,
        resolved.price,
        resolved.gpus,
        inference_flops,
        inference_dollars,
        precision=resolved.precision,
    )
    if spec is not None:  # the serving price, labelled as training's is
        label = price_label(serving.inference_hardware, serving.inference_price)
        cost = replace(cost, inference_price_label=label)
    return cost


def cost_stage(ctx: Context, result):
    """The plan's cost: its training FLOPs, and its served tokens at 2 N per token of the model it reports (the
    designed one; a MoE's active parameters, every expert held in memory)."""
    total, active, _tokens = plan_counts(result)
    if active is None:
        return replace(result, cost=price(ctx, result.flops, total))
    shape = result.recipe.shape if getattr(result, "recipe", None) is not None else None
    if shape is not None:  # every parameter a token touches, and every one memory holds
        active, total = float(shape.active_params), float(shape.total_params)
    return replace(
        result, cost=price(ctx, result.flops, active, total), warnings=result.warnings + _moe_note(ctx, active)
    )


def _moe_note(ctx: Context, active) -> tuple[str, ...]:
    """A token's forward pass touches only the active experts: serving costs 2 N_active FLOPs per token."""
    if ctx.serving_spec is None:
        return ()
    return (
        f"serving {fmt_sci(ctx.serving_spec['tokens'])} tokens is priced at 2 x {fmt_count(float(active))} active "
        "parameters per token: a forward pass touches only the active experts (all of them stay in memory)",
    )


def plan_counts(result) -> tuple[float, float | None, float]:
    """(total parameters, active parameters or None for a dense model, training tokens) of a plan of any mode."""
    total = getattr(result, "params_total", None)
    if total is None:
        total = getattr(result, "total_params", None)
    if total is None:
        total = result.params
    active = getattr(result, "active_params", None)
    return float(np.asarray(total)), None if active is None else float(np.asarray(active)), float(result.tokens)


def with_serving(plan: Plan, costs, tokens) -> Plan:
    """The plan with how its designed model serves (the serving roofline, cluster.serving) and its serving cost at
    that shape: `cost.inference_dollars` is `tokens` at the block's $ per million. Fixed-MFU pricing (Sardana et
    al.) and plans without a designed shape are left as they are."""
    if costs.fixed_mfu or plan.recipe is None or np.ndim(plan.flops):
        return plan
    from ..cluster.serving import ServedModel

    served = costs.serve(ServedModel.from_shape(plan.recipe.shape))
    if not served.fits or served.dollars_per_million is None:
        return replace(plan, serving=served, warnings=plan.warnings + served.notes)
    dollars = float(tokens) * served.dollars_per_million / 1e6
    c = plan.cost
    assert c is not None  # the cost stage ran before the serving stage
    cost = replace(c, inference_dollars=dollars, total_dollars=None if c.dollars is None else c.dollars + dollars)
    return replace(plan, serving=served, cost=cost, warnings=plan.warnings + served.notes)
