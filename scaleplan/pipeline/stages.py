"""The plan pipeline: one budget in, one plan out, through the same stages in every mode.

    Budget (parsed and validated once) -> allocation (the mode) -> model (the designed shape) -> recipe -> cost
    -> cluster -> precision -> serving -> intervals -> warnings

`plan_budget` resolves the budget and its law once (a Context every stage reads) and asks the mode's allocation for
the model the law recommends (compute-optimal, inference-aware, total budget, target loss, fixed, data-constrained,
MoE or a given MoE; an allocation may price candidates with the pure cost and serving functions, as the dollar
objective needs). Then the same stages run whatever the mode, each a function of (Context, plan so far):

- model_stage: the network the plan trains (a dense shape in the law's own convention, a trainer's config, or an
  integer MoE); every count the plan reports becomes the designed model's, tokens re-derived so the budget is
  spent in the law's convention, the loss the law's at the designed N; the law's own N and D stay as `law_params`;
- recipe_stage: vocabulary, learning rate, batch and schedule of that network;
- cost_stage: training (GPU-hours, days, dollars, energy) and serving at 2 N per served token (2 N_active, MoE);
- cluster_stage: memory per device, layout and HFU when the budget names a cluster (gpus, zero, micro_batch,
  recompute, hfu), for every mode (a MoE holds every expert, computes with the active ones);
- precision_stage: the loss penalty of training in FP8/FP4 and of serving at fewer bits (precision laws);
- serving_stage: the serving roofline of the designed model (scaleplan.cluster.serving plugs in here);
- intervals_stage: ranges from the law's bootstrap (compute-optimal plans; other modes refuse <ci> in the schema);
- warnings_stage: an option given to a mode whose stage cannot use it is said in `warnings`, never dropped; a plan
  that costs more than the budget gave says so first.

Validation happened at the entry (the CLI, `plan()`, Budget.from_mapping), not again in the stages.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.errors import ScaleplanError
from ..schema.conventions import DEFAULT_CONTEXT, training_flops
from ..schema.units import fmt_sci
from .budget import Budget
from .context import Context, make_context
from .model import model_stage, recipe_stage
from .modes import allocation_stage
from .optimal import Plan
from .pricing import cost_stage, plan_counts, with_serving


def plan_budget(
    budget: Budget,
    law: str | None = None,
    recipe: bool = True,
    ci: float | None = None,
    run: dict | None = None,
    precision_report: dict | None = None,
    **recipe_options,
):
    """The plan for one validated budget (a CLI call, one scenario of a file, or Python), through the pipeline's
    stages (module docstring).

    The budget's mode picks the allocation: a fixed model (params and tokens: an OvertrainReport judged by every
    law, or by `law`), a mixture of experts (a MoePlan; a given one, a FixedMoePlan), limited unique data (a
    ConstrainedPlan), or the compute-optimal plan (a Plan, inference-aware sizing included when the budget serves
    tokens). Every result carries `cost` and the contract's common JSON keys. `recipe_options` (context, vocab,
    layers, d_model, lr_law / hparams_law) override the budget's; `recipe=False` skips the model and recipe stages
    (the law's own counts). `run` (scaleplan cluster's energy, owned and flash options: plan_cluster's keywords)
    makes the cluster stage run whether or not the budget names a cluster. `precision_report` (scaleplan
    precision's report options: formats, choices, block_size, serve_bits, already validated) makes the precision
    stage add the whole report as the plan's `precision_report`.
    """
    if budget.hfu is not None and budget.recompute == "selective" and (budget.on_cluster or run is not None):
        return _from_hfu(budget, law, recipe, ci, run, precision_report, **recipe_options)
    ctx = make_context(budget, law, recipe, ci, recipe_options, run, precision_report)
    result = allocation_stage(ctx)
    for stage in STAGES:
        result = stage(ctx, result)
    return result


# ---------------------------------------------------------------------------------------------------------------
# The stages after the cost: the same for every mode


def _law_batch_sequences(result) -> float | None:
    """The default law's batch in sequences before rounding (a dense plan's recipe), for the layout to round."""
    rec = getattr(result, "recipe", None)
    if rec is None or not hasattr(rec, "default_hparams") or hasattr(rec.shape, "experts"):
        return None
    return rec.default_hparams.batch_sequences_raw


def _with_layout_batch(result, c):
    """The recipe's batch rounded to a multiple of the suggested layout's DP x micro-batch (layout and batch chosen
    together: scaleplan.cluster.memory.plan_layout); the schedule's steps follow it."""
    rec, lay = getattr(result, "recipe", None), c.layout
    if rec is None or lay is None or lay.batch_sequences is None or _law_batch_sequences(result) is None:
        return result
    h = rec.default_hparams
    if lay.batch_sequences == h.batch_sequences:
        return result
    new = replace(h, batch_sequences=lay.batch_sequences, batch_tokens=lay.batch_sequences * h.context)
    return replace(result, recipe=replace(rec, hparams=tuple(new if r is h else r for r in rec.hparams)))


def cluster_stage(ctx: Context, result):
    """Memory per device, a layout for the budget's GPUs and HFU beside MFU (scaleplan.cluster.run, as `scaleplan
    cluster` computes them), when the budget names a cluster; for a MoE, memory holds every expert."""
    budget = ctx.budget
    fixed_run = budget.mode in ("fixed", "fixed-moe") and (budget.days is not None or budget.dollars is not None)
    if not (budget.on_cluster or fixed_run or ctx.run is not None):
        return result
    from ..cluster.run import cluster_run

    resolved = ctx.resolved
    total, active, tokens = plan_counts(result)
    shape = result.recipe.shape if getattr(result, "recipe", None) is not None else None
    moe_model = shape if hasattr(shape, "experts") else None  # an MoE's integer model (scaleplan.recipe.moe_shape)
    if moe_model is not None:
        total, active = float(moe_model.total_params), float(moe_model.active_params)
    c = cluster_run(  # the budget's values, parsed and checked once (Budget.from_mapping, Budget.resolve)
        resolved.hardware,  # at the budget's price (None: the preset's, labelled with its source)
        params=total,
        tokens=tokens,
        active_params=active,
        moe_model=moe_model,
        tp=budget.tp,
        pp=budget.pp,
        ep=budget.ep,
        shape=shape if moe_model is None else None,  # the designed (or given) dense model itself
        peak_flops=budget.peak_flops,
        gpus=int(resolved.gpus),
        mfu=resolved.mfu,
        precision=resolved.precision,
        recompute=budget.recompute or "none",
        zero=1 if budget.zero is None else budget.zero,
        micro_batch=budget.micro_batch or 1,
        context=shape.context if shape is not None else (budget.context or DEFAULT_CONTEXT),
        layers=None if shape is None else shape.layers,
        d_model=None if shape is None else shape.d_model,
        heads=None if shape is None else shape.heads,
        batch_sequences=_law_batch_sequences(result),
        **(ctx.run or {}),
    )
    c = replace(c, utilisation_source=_utilisation_source(budget, resolved, c.utilisation_source))
    result = _with_layout_batch(result, c)
    # The plan keeps its own cost (its training FLOPs in the law's convention); the cluster adds the recomputed work
    cost = replace(result.cost, recompute=c.cost.recompute, hfu=result.cost.mfu * c.hfu / c.mfu)
    warnings = tuple(dict.fromkeys(tuple(result.warnings) + tuple(c.warnings)))
    return replace(result, cluster=c, cost=cost, warnings=warnings)


def _utilisation_source(budget: Budget, resolved, given: str) -> str:
    """Where the plan's MFU comes from, as `scaleplan cluster` says it: implied by the GPUs and days (or the money at
    the price), the default, or given (the budget resolved the MFU before the cluster stage saw it)."""
    fixed = budget.mode in ("fixed", "fixed-moe")
    if fixed and budget.days is not None:
        return f"implied by {int(resolved.gpus):,} GPUs x {budget.days:g} days"
    if fixed and budget.dollars is not None:
        return f"implied by ${budget.dollars:,.0f} at ${resolved.price:.2f}/h"
    if budget.mfu is None and budget.hfu is None:
        return "default" if resolved.precision == "bf16" else f"default at {resolved.precision}"
    return given


def _non_embedding(plan, total) -> float:
    """N without the embedding and output layers, as Sun, Ouyang and Kumar count it (precision.yaml conventions): the
    plan's own count, else its designed shape's, else `total` (no shape to subtract the vocabulary from)."""
    ne = getattr(plan, "params_non_embedding", None)
    recipe = getattr(plan, "recipe", None)
    if ne is None and recipe is not None:
        ne = getattr(recipe.shape, "non_embedding_params", None)
    return float(total if ne is None else ne)


def precision_stage(ctx: Context, result):
    """What the plan's numeric precision does (scaleplan.pipeline.precision): the loss penalty of training in FP8/FP4
    against BF16 and its critical data size (Sun et al. 2025), the penalty of serving the weights at fewer bits
    (Ouyang et al. 2024; Kumar et al. 2024), each in its own law's loss; for an inference-aware model, the model
    that reaches the loss as served. Asked for the whole report (`scaleplan precision`), it adds it beside
    (_with_precision_report)."""
    budget, resolved = ctx.budget, ctx.resolved
    if ctx.precision_report is not None:
        result = _with_precision_report(ctx, result)
    if resolved.precision == "bf16" and budget.serve_bits is None:
        return result
    from . import precision_plan as precision_mod

    total, _active, tokens = plan_counts(result)
    block = precision_mod.plan_penalties(  # the precision laws' N is non-embedding (precision.yaml)
        _non_embedding(result, total),
        tokens,
        None if resolved.precision == "bf16" else resolved.precision,
        budget.serve_bits,
    )
    result = replace(result, precision=block, warnings=tuple(dict.fromkeys(tuple(result.warnings) + block.warnings)))
    sized = getattr(result, "inference", None)
    if budget.serve_bits is not None and sized is not None and ctx.law.is_parametric:
        from .quantized import quantized_serving  # sizing with the served loss in the objective

        result = replace(result, quantized=quantized_serving(sized, budget.serve_bits, law=ctx.law))
    return result


def _with_precision_report(ctx: Context, result):
    """The plan with `scaleplan precision`'s whole report (scaleplan.pipeline.precision.PrecisionReport): for a given
    model, the precision laws judge the designed model (its non-embedding N, as the plan's precision block counts
    it, and the plan's tokens; its 16-bit budget C = 6 N D); for a budget, each training format at the precision
    laws' own cost-optimal N and D for the budget's FLOPs. The training chip ranks the formats when the budget
    names one."""
    from .precision import report_of

    budget = ctx.budget
    named = budget.hardware is not None or budget.hardware_file is not None or budget.peak_flops is not None
    options = {**(ctx.precision_report or {}), "hardware": ctx.resolved.hardware if named else None}
    if budget.mode in ("fixed", "fixed-moe"):
        total, _active, tokens = plan_counts(result)
        n = _non_embedding(result, total)
        report = report_of(training_flops(n, tokens), n, tokens, **options)
    else:
        report = report_of(float(ctx.resolved.flops), None, None, **options)
    warnings = tuple(dict.fromkeys(tuple(result.warnings) + report.warnings))  # said once, with the plan's
    return replace(result, precision_report=report, warnings=warnings)


def serving_stage(ctx: Context, result):
    """The serving stage: how the designed model serves (batch, bound, tokens/s per GPU, $ per million tokens).

    The plan already prices its served tokens at 2 N FLOPs per token (cost.inference_*); the serving roofline of
    the designed shape (scaleplan.cluster.serving) fills this stage, returning the plan with a `serving`
    block, and prices the served tokens at that shape's $ per million (with_serving); fixed-MFU pricing (Sardana et
    al.) and plans without a designed dense shape keep the 2 N FLOPs per token price.
    """
    if not isinstance(result, Plan) or ctx.serving is None or ctx.serving_spec is None:
        return result
    return with_serving(result, ctx.serving, ctx.serving_spec["tokens"])


def intervals_stage(ctx: Context, result):
    """Ranges on N, D, loss, learning rate, batch and cost from the law's bootstrap draws, each draw through the
    same loss, recipe and cost (scaleplan.pipeline.intervals). Only compute-optimal plans have them; the schema refuses
    <ci> in other modes, naming the mode."""
    if ctx.ci is None:
        return result
    from .intervals import plan_intervals

    resolved, spec = ctx.resolved, ctx.serving_spec
    return replace(
        result,
        intervals=plan_intervals(
            ctx.law,
            resolved.flops,
            ctx.ci,
            hardware=resolved.hardware,
            mfu=resolved.mfu,
            price=resolved.price,
            gpus=resolved.gpus,
            precision=resolved.precision,
            serving=ctx.serving,
            inference_tokens=None if spec is None else spec["tokens"],
            **ctx.options,
        ),
    )


def warnings_stage(ctx: Context, result):
    """Said once, at the end: a plan that costs more than the budget gave (first), and an option the budget gave
    that no stage of this mode used (never dropped)."""
    budget = ctx.budget
    first: tuple[str, ...] = ()
    if isinstance(result, Plan) and result.total_budget is not None:
        first = _over_total(result)
    elif isinstance(result, Plan) and result.compute_optimal is not None and budget.target_loss is None:
        first = _over_budget(budget, result)
    notes = []
    cluster_options = [k for k in ("zero", "micro_batch", "recompute") if getattr(budget, k) is not None]
    if cluster_options and getattr(result, "cluster", None) is None:
        named = ", ".join(cluster_options)
        notes.append(f"{named}: the {budget.mode} plan has no cluster stage to apply them to")
    if first or notes:
        result = replace(result, warnings=tuple(dict.fromkeys(first + tuple(result.warnings) + tuple(notes))))
    return result


STAGES = (
    model_stage,
    recipe_stage,
    cost_stage,
    cluster_stage,
    precision_stage,
    serving_stage,
    intervals_stage,
    warnings_stage,
)


# ---------------------------------------------------------------------------------------------------------------
# Helpers of the stages

OVER_BUDGET = 1.005  # more than half a per cent over: a difference the printed days or dollars show


def _over_budget(budget: Budget, plan: Plan) -> tuple[str, ...]:
    """The inference-aware model trains longer than the compute-optimal one by design (the same loss, cheaper to
    serve): one warning when that takes more time or money than the budget gives."""
    from ..schema.units import fmt_dollars, fmt_duration

    c = plan.cost
    if c is None:
        return ()
    head = f"the inference-aware model trains on {fmt_sci(float(plan.flops))} FLOPs: "
    tail = (
        "it reaches the compute-optimal model's loss and is cheaper to serve, so it trains longer by design; "
        "give more time or money, or fewer tokens to serve"
    )
    if budget.days is not None and float(c.days) > budget.days * OVER_BUDGET:
        return (
            f"{head}{fmt_duration(float(c.days))} on {int(c.gpus):,} GPUs, not the {fmt_duration(budget.days)} "
            f"the budget gives; {tail}",
        )
    if budget.dollars is not None and c.dollars is not None and float(c.dollars) > budget.dollars * OVER_BUDGET:
        return (
            f"{head}{fmt_dollars(float(c.dollars))} to train, not the {fmt_dollars(budget.dollars)} the budget "
            f"gives; {tail}",
        )
    return ()


def _over_total(plan: Plan) -> tuple[str, ...]:
    """A total budget's split prices serving between designed sizes: one warning when the designed model's training
    and serving cost more than the sum given."""
    from ..schema.units import fmt_dollars

    split, total = plan.total_budget, None if plan.cost is None else plan.cost.total_dollars
    if total is None or float(total) <= split.total_dollars * OVER_BUDGET:
        return ()
    return (
        f"training and serving cost {fmt_dollars(float(total))} at the designed shape, above the "
        f"{fmt_dollars(split.total_dollars)} given (the sizing prices serving between designed sizes)",
    )


def plan(budget: Budget | None = None, *, law: str | None = None, **fields):
    """The complete plan for one question, as `scaleplan allocate` and `scaleplan plan FILE` answer it.

    Give a Budget, or its fields as keywords with the same names as the YAML keys (flops, gpus, days, dollars,
    price, hardware, mfu, precision, law, inference_tokens, params, tokens, unique_tokens, moe, context, vocab,
    layers, d_model, lr_law, ci, target_loss, objective, inference); quantities may be numbers or text such as
    '70B'. Every mode carries its cost, serving included when tokens are served (2 N per token; 2 N_active, MoE).

    Arrays of budgets: give any of the quantities in `ARRAY_FIELDS` (flops, dollars, days, gpus, params, tokens,
    unique_tokens, inference_tokens, target_loss) as a list or numpy array and the answer is a list of Plans, one
    per budget, in the order of the arrays broadcast together and flattened (each a full plan: shape, recipe,
    cost; for the allocation alone over millions of budgets, `scaleplan.allocate` is vectorised and far faster).

    >>> p = plan(flops=1e21)
    >>> round(p.params / 1e9, 2), p.recipe.shape.layers > 0, p.cost.gpu_hours > 0
    (2.75, True, True)
    >>> [round(q.params / 1e9, 2) for q in plan(flops=[1e21, 1e23])]
    [2.75, 29.4]
    """
    if budget is None:
        arrays = {k: v for k, v in fields.items() if k in ARRAY_FIELDS and _is_array(v)}
        if arrays:
            return _plan_each(law, arrays, fields)
        budget = Budget.from_mapping({"law": law, **fields})
    elif fields:
        raise ScaleplanError("give a Budget or its fields, not both")
    return plan_budget(budget, law)


# The budget quantities `plan()` takes as arrays (one plan per element).
ARRAY_FIELDS = frozenset(
    ("flops", "dollars", "days", "gpus", "params", "tokens", "unique_tokens", "inference_tokens", "target_loss")
)


def _is_array(value) -> bool:
    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0)


def _plan_each(law, arrays: dict, fields: dict) -> list:
    """One plan per element of the array-valued budget fields, broadcast together (numpy's rules)."""
    values = {}
    for key, value in arrays.items():
        if np.size(np.asarray(value, dtype=object)) == 0:
            raise ScaleplanError(f"{key}: an empty list; give at least one budget")
        values[key] = np.asarray(value, dtype=object)
    try:
        grid = np.broadcast_arrays(*values.values())
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in values.items())
        raise ScaleplanError(f"arrays of budgets that do not broadcast together: {shapes}") from None
    flat = {k: list(np.ravel(g)) for k, g in zip(values, grid)}
    count = len(next(iter(flat.values())))
    return [
        plan_budget(Budget.from_mapping({"law": law, **fields, **{k: flat[k][i] for k in flat}}), law)
        for i in range(count)
    ]


def _from_hfu(budget: Budget, law, recipe: bool, ci, run, precision_report, **recipe_options):
    """A plan from an HFU with selective recompute: MFU = HFU / (hardware / model FLOPs), the ratio of Korthikanti et
    al. 2022 eq. 8 over eq. 7 for the designed shape (cost.recompute_ratio, as `scaleplan cluster` uses it). The
    shape depends on the plan, so the MFU is solved for: a FLOPs budget settles in two rounds, a time or money budget
    (whose FLOPs follow the MFU) in a few."""
    assert budget.hfu is not None
    ratio, result = 1.0, None
    for _ in range(6):
        result = plan_budget(
            replace(budget, mfu=budget.hfu / ratio, hfu=None), law, recipe, ci, run, precision_report, **recipe_options
        )
        c = getattr(result, "cluster", None)
        if c is None:
            break
        new = float(c.hfu) / float(c.mfu)
        done = abs(new - ratio) <= 1e-9 * new
        ratio = new
        if done:
            break
    c = getattr(result, "cluster", None)
    if result is not None and c is not None:
        source = (
            f"from HFU {budget.hfu:.1%} with selective recompute (hardware/model FLOPs {ratio:.4f}: Korthikanti "
            "et al. 2022 eq. 8 / eq. 7 for the designed shape)"
        )
        result = replace(result, cluster=replace(c, utilisation_source=source))
    return result
