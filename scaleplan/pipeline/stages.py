"""The plan pipeline: one budget in, one plan out, through the same stages in every mode.

    Budget (parsed and validated once) -> allocation (the mode) -> model and recipe -> cost -> cluster -> precision
    -> serving -> intervals -> notes

`plan_budget` resolves the budget and its law once (a Context every stage reads), asks the mode's allocation for
the model it recommends (compute-optimal, inference-aware, target loss, fixed, data-constrained, MoE or a given
MoE: each designs its network and prices it), then runs the later stages on the result whatever the mode:

- cluster_stage: memory per device, layout and HFU when the budget names a cluster (gpus, zero, micro_batch,
  recompute, hfu), for every mode (a MoE holds every expert, computes with the active ones);
- precision_stage: the loss penalty of training in FP8/FP4 and of serving at fewer bits (precision laws);
- serving_stage: the serving roofline of the designed model (scaleplan.cluster.serving plugs in here);
- intervals_stage: ranges from the law's bootstrap (compute-optimal plans; other modes refuse <ci> in the schema);
- notes_stage: an option given to a mode whose stage cannot use it is said in `warnings`, never dropped.

Each stage is a function of (Context, plan so far) returning the plan; validation happened at the entry (the CLI,
`plan()`, Budget.from_mapping), not again in the stages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import laws
from ..cluster.cost import price_label, training_cost
from ..core.errors import ScaleplanError
from ..schema import limits
from ..schema.conventions import DEFAULT_CONTEXT
from ..schema.units import fmt_count, fmt_sci
from .budget import Budget, BudgetFieldError, Resolved
from .optimal import Plan, _assemble, allocate, with_recipe


@dataclass(frozen=True)
class Context:
    """What every stage reads: the budget as given, resolved once (FLOPs, hardware, MFU, price, GPUs), its law as
    an object, what is served and at what cost, and the recipe options."""

    budget: Budget
    resolved: Resolved
    law: laws.Law
    law_given: Any  # the law as the caller named it (None: each mode's own default, e.g. muennighoff)
    serving_spec: dict | None
    serving: Any  # inference.ServingCosts, or None when nothing is served
    options: dict
    recipe: bool
    ci: float | None
    given: Any = None  # a trainer's config the budget names (export's `model`): the model is that shape


def plan_budget(budget: Budget, law: str | None = None, recipe: bool = True, ci: float | None = None, **recipe_options):
    """The plan for one validated budget (a CLI call, one scenario of a file, or Python), through the pipeline's
    stages (module docstring).

    The budget's mode picks the allocation: a fixed model (params and tokens: an OvertrainReport judged by every
    law, or by `law`), a mixture of experts (a MoePlan; a given one, a FixedMoePlan), limited unique data (a
    ConstrainedPlan), or the compute-optimal plan (a Plan, inference-aware sizing included when the budget serves
    tokens). Every result carries `cost` and the contract's common JSON keys. `recipe_options` (context, vocab,
    layers, d_model, lr_law / hparams_law) override the budget's.
    """
    if budget.hfu is not None and budget.recompute == "selective" and budget.on_cluster:
        return _from_hfu(budget, law, recipe, ci, **recipe_options)
    if budget.total_dollars is not None:
        budget._check_mode()  # a total budget with a fixed model, MoE or limited data says so
    ctx = _context(budget, law, recipe, ci, recipe_options)
    result = allocation_stage(ctx)
    for stage in STAGES:
        result = stage(ctx, result)
    return result


def _context(budget: Budget, law, recipe: bool, ci, recipe_options: dict) -> Context:
    """The Budget stage: the law resolved once, the budget resolved once (a target loss first sized to its
    compute-optimal budget), what serving costs."""
    options = {**budget.recipe_options(), **{k: v for k, v in recipe_options.items() if v is not None}}
    if "lr_law" in options:
        options["hparams_law"] = options.pop("lr_law")
    law_obj = budget.law_spec(law)
    target_flops = _target_loss_flops(budget, law_obj) if budget.target_loss is not None else None
    resolved = budget.resolve(law, flops=target_flops)
    spec, serving = _serving(budget, resolved)
    given = budget.given_model() if budget.mode not in ("compute-optimal",) else None
    if given is not None:  # a trainer's config: the model is that shape, not a designed one
        budget = budget.with_model(given)
    return Context(
        given=given,
        budget=budget,
        resolved=resolved,
        law=law_obj,
        law_given=law or budget.law,
        serving_spec=spec,
        serving=serving,
        options=options,
        recipe=recipe,
        ci=budget.ci if ci is None else ci,
    )


def _target_loss_flops(budget: Budget, law_obj) -> float:
    """6 N D of the law's compute-optimal model reaching `target_loss` (the budget that sets the quality)."""
    from .inference import inference_aware

    assert budget.target_loss is not None  # called for a target loss only
    budget.resolve(law_obj)  # the budget's own checks first (a target loss serves tokens, ...)
    try:
        sized = inference_aware(0.0, target_loss=budget.target_loss, law=law_obj, break_even=False)
    except ScaleplanError as exc:
        raise BudgetFieldError("target_loss", exc.template) from None
    return 6.0 * float(sized.compute_optimal.params) * float(sized.compute_optimal.tokens)


# ---------------------------------------------------------------------------------------------------------------
# Allocation: the mode


def allocation_stage(ctx: Context):
    """The mode's model, designed (its recipe) and priced: one function per mode."""
    mode = ctx.budget.mode
    if mode == "fixed":
        return _allocate_fixed(ctx)
    if mode == "fixed-moe":
        return _allocate_fixed_moe(ctx)
    if mode == "moe":
        return _allocate_moe(ctx)
    if mode == "data-constrained":
        return _allocate_constrained(ctx)
    if ctx.budget.total_dollars is not None:  # training + serving within one sum of money
        return _plan_total(ctx.budget, ctx.law_given, ctx.recipe, ctx.options)
    if ctx.budget.target_loss is not None:  # quality as a loss: the inference-aware model reaching it
        assert ctx.serving_spec is not None  # Budget._check_mode: a target loss serves tokens
        return _plan_target_loss(
            ctx.budget, ctx.resolved, ctx.law, ctx.serving_spec, ctx.serving, ctx.recipe, ctx.options
        )
    return _allocate_compute_optimal(ctx)


def _allocate_compute_optimal(ctx: Context) -> Plan:
    budget, resolved, law_obj = ctx.budget, ctx.resolved, ctx.law
    inference_spec, serving = ctx.serving_spec, ctx.serving
    plan = allocate(
        resolved.flops,
        law_obj,
        hardware=resolved.hardware,  # the preset as resolved: with the budget's hardware file and peak
        peak_flops=None,
        mfu=resolved.mfu,
        price=resolved.price,
        gpus=resolved.gpus,
        inference_tokens=None if inference_spec is None else inference_spec["tokens"],
        serving=serving,
        name=budget.name,
        extra_warnings=resolved.warnings,
        precision=resolved.precision,
    )
    if inference_spec is not None and not law_obj.predicts_loss:
        plan = replace(
            plan,
            warnings=plan.warnings
            + (
                f"{law_obj.name} predicts no loss, so the serving plan is costed but not sized inference-aware; "
                "use a law such as epoch or chinchilla for that",
            ),
        )
    elif inference_spec is not None:
        from . import inference

        sized = inference.inference_aware(
            inference_spec["tokens"],
            flops=resolved.flops,
            law=law_obj,
            objective=inference_spec.get("objective", "flops"),
            context=inference_spec.get("context"),
            costs=serving,
        )
        # The recommendation is the inference-aware model: it reaches the budget's compute-optimal loss and costs
        # least over training and serving. The compute-optimal model stays beside it for comparison.
        n_ia, d_ia = float(np.asarray(sized.inference_aware.params)), float(np.asarray(sized.inference_aware.tokens))
        recommended = _assemble(
            law_obj,
            6.0 * n_ia * d_ia,
            n_ia,
            d_ia,
            hardware=resolved.hardware,  # the preset as resolved: with the budget's hardware file and peak
            peak_flops=None,
            mfu=resolved.mfu,
            price=resolved.price,
            gpus=resolved.gpus,
            inference_tokens=inference_spec["tokens"],
            serving=serving,
            name=budget.name,
            extra_warnings=(),
            precision=resolved.precision,
        )
        warnings = tuple(dict.fromkeys(plan.warnings + recommended.warnings + tuple(sized.warnings)))
        warnings = _over_budget(budget, recommended) + warnings  # said first: the plan costs more than was given
        plan = replace(
            recommended, inference=sized, budget_flops=resolved.flops, compute_optimal=plan, warnings=warnings
        )
    return with_recipe(plan, **ctx.options) if ctx.recipe else plan


def _cost_of(ctx: Context, flops, serve_params, stored=None):
    """Training `flops`, and with tokens to serve, 2 `serve_params` FLOPs per served token (as allocate's), priced
    by the serving model (a mixture of experts: FLOPs from active, bytes from `stored` parameters)."""
    resolved, spec, serving = ctx.resolved, ctx.serving_spec, ctx.serving
    inference_flops = inference_dollars = None
    if spec is not None:
        inference_flops = 2.0 * float(serve_params) * spec["tokens"]
        per_token = serving.dollars_per_token(float(serve_params), stored=stored)
        inference_dollars = float(spec["tokens"]) * float(per_token)
    cost = training_cost(
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


def _designed(ctx: Context, result, params, tokens, loss=None):
    """The model stage of a dense mode: the network designed for (params, tokens), its recipe on the plan."""
    if not ctx.recipe:
        return result
    from ..recipe import design as recipe_mod

    opts = dict(ctx.options)
    opts.setdefault("context", recipe_mod.constants()["conventions"]["context"])
    if ctx.given is not None:
        r = recipe_mod.recipe_for_shape(
            ctx.given.to_shape(), tokens, 6.0 * params * tokens, loss=loss, law=opts.get("hparams_law")
        )
        r = replace(r, warnings=tuple(ctx.given.warnings) + r.warnings)
    else:
        r = recipe_mod.recipe(
            params, tokens, 6.0 * params * tokens, loss=loss, law=opts.pop("hparams_law", None), **opts
        )
    others = {w for row in r.hparams if not row.default for w in row.warnings}
    return replace(
        result,
        recipe=r,
        warnings=tuple(result.warnings) + tuple(w for w in r.warnings if w not in others and w not in result.warnings),
    )


def _allocate_fixed(ctx: Context):
    from . import constrained

    budget, law = ctx.budget, ctx.law_given
    assert budget.params is not None and budget.tokens is not None  # the mode says so (Budget._check_mode)
    if budget.unique_tokens is not None:
        limits.check_epochs(budget.tokens / budget.unique_tokens)
    report = constrained.fixed_allocation(
        budget.params, budget.tokens, unique_tokens=budget.unique_tokens, laws=None if law is None else [ctx.law]
    )
    report = replace(
        report,
        cost=_cost_of(ctx, report.flops, budget.params),
        name=budget.name,
        warnings=ctx.resolved.warnings + tuple(report.warnings),
    )
    return _designed(ctx, report, budget.params, budget.tokens)


def _moe_note(ctx: Context, active) -> tuple[str, ...]:
    """A token's forward pass touches only the active experts: serving costs 2 N_active FLOPs per token."""
    if ctx.serving_spec is None:
        return ()
    return (
        f"serving {fmt_sci(ctx.serving_spec['tokens'])} tokens is priced at 2 x {fmt_count(float(active))} active "
        "parameters per token: a forward pass touches only the active experts (all of them stay in memory)",
    )


def _allocate_fixed_moe(ctx: Context):
    from . import moe as moe_mod

    budget = ctx.budget
    spec = budget.moe or {}
    assert budget.tokens is not None  # the mode says so (Budget._check_mode)
    given = moe_mod.fixed_moe(spec["total_params"], spec["active_params"], budget.tokens)
    given = replace(
        given,
        cost=_cost_of(ctx, given.flops, given.active_params, given.total_params),
        name=budget.name,
        warnings=ctx.resolved.warnings + _moe_note(ctx, given.active_params),
    )
    if not ctx.recipe:
        return given
    try:  # the integer model with these counts (within 1%) and its recipe
        return given.with_recipe(
            ctx.options.get("context"),
            ctx.options.get("vocab"),
            layers=ctx.options.get("layers"),
            d_model=ctx.options.get("d_model"),
        )
    except ScaleplanError as exc:
        raise BudgetFieldError("moe", exc.template) from None


def _allocate_moe(ctx: Context):
    from . import moe as moe_mod

    budget = ctx.budget
    moe_plan = moe_mod.moe_allocation(
        ctx.resolved.flops,
        granularity=(budget.moe or {}).get("granularity"),
        expansion=(budget.moe or {}).get("expansion"),
    )
    moe_plan = replace(
        moe_plan,
        cost=_cost_of(ctx, moe_plan.flops, moe_plan.active_params, moe_plan.total_params),
        name=budget.name,
        warnings=ctx.resolved.warnings + tuple(moe_plan.warnings) + _moe_note(ctx, moe_plan.active_params),
    )
    # the integer model (counts within 3% of the law's) and its recipe
    return moe_plan.with_recipe(ctx.options.get("context"), ctx.options.get("vocab")) if ctx.recipe else moe_plan


def _allocate_constrained(ctx: Context):
    from . import constrained

    budget, spec = ctx.budget, ctx.serving_spec
    plan = constrained.data_constrained_allocation(
        ctx.resolved.flops, budget.unique_tokens, law=ctx.law_given or "muennighoff"
    )
    limits.check_epochs(plan.epochs, plan.law)
    unsized = (
        ()
        if spec is None
        else (
            f"serving {fmt_sci(spec['tokens'])} tokens is priced, but the data-constrained model is not sized for it "
            "(inference-aware sizing assumes unlimited unique data)",
        )
    )
    plan = replace(
        plan,
        cost=_cost_of(ctx, plan.flops, plan.params),
        name=budget.name,
        warnings=ctx.resolved.warnings + tuple(plan.warnings) + unsized,
    )
    return _designed(ctx, plan, float(plan.params), float(plan.tokens), float(plan.loss))


# ---------------------------------------------------------------------------------------------------------------
# The stages after the allocation: the same for every mode


def model_stage(ctx: Context, result):
    """Every count the plan reports is the designed model's (allocate.designed_counts): the shape's parameters,
    tokens re-derived to spend the budget in the law's convention, the loss at (N_designed, D); the law's own N and
    D stay beside them as `law_params`. A data-constrained plan's loss is its law's at the designed N; a fixed
    model is the one given; a MoE's counts are the law's until an integer MoE shape exists (said in its JSON)."""
    from .optimal import designed_counts

    if isinstance(result, Plan):
        designed = designed_counts(result, ctx.law)
        if ctx.serving_spec is not None and designed is not result and designed.serving is None:  # at its size
            per_token = ctx.serving.dollars_per_token(float(designed.params_total))
            dollars = float(ctx.serving_spec["tokens"]) * float(per_token)
            c = designed.cost
            total = None if c.dollars is None else float(c.dollars) + dollars
            designed = replace(designed, cost=replace(c, inference_dollars=dollars, total_dollars=total))
        return designed
    recipe = getattr(result, "recipe", None)
    if recipe is None or ctx.budget.mode != "data-constrained":
        return result
    from . import constrained

    n_law, d_law = float(result.params), float(result.tokens)
    n = float(recipe.shape.total_params)  # Muennighoff et al. count every parameter
    d = float(result.flops) / (6.0 * n)
    loss = float(constrained.data_constrained_loss(n, d, float(result.unique_tokens), ctx.law_given or "muennighoff"))
    law_params = {
        "params": n_law,
        "params_convention": result.params_convention,
        "tokens": d_law,
        "loss": float(result.loss),
        "note": (
            "the law's own optimum; the plan's counts are the designed shape's, its tokens re-derived so that C = 6 N D"
        ),
    }
    return replace(
        result,
        params=n,
        tokens=d,
        tokens_per_param=d / n,
        epochs=d / float(result.unique_tokens),
        loss=loss,
        loss_penalty=loss - float(result.unconstrained_loss),
        law_params=law_params,
        cost=_cost_of(ctx, result.flops, n),  # serving at 2 N per token: the designed model's
    )


def _counts(result) -> tuple[float, float | None, float]:
    """(total parameters, active parameters or None for a dense model, training tokens) of a plan of any mode."""
    total = getattr(result, "params_total", None)
    if total is None:
        total = getattr(result, "total_params", None)
    if total is None:
        total = result.params
    active = getattr(result, "active_params", None)
    return float(np.asarray(total)), None if active is None else float(np.asarray(active)), float(result.tokens)


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
    fixed_run = budget.mode == "fixed" and (budget.days is not None or budget.dollars is not None)
    if not (budget.on_cluster or fixed_run):
        return result
    from ..cluster.run import plan_cluster

    resolved = ctx.resolved
    total, active, tokens = _counts(result)
    shape = result.recipe.shape if getattr(result, "recipe", None) is not None else None
    moe_model = shape if hasattr(shape, "experts") else None  # an MoE's integer model (scaleplan.recipe.moe_shape)
    if moe_model is not None:
        total, active = float(moe_model.total_params), float(moe_model.active_params)
    c = plan_cluster(
        params=total,
        tokens=tokens,
        active_params=active,
        moe_model=moe_model,
        tp=budget.tp,
        pp=budget.pp,
        ep=budget.ep,
        shape=shape if ctx.given is not None and moe_model is None else None,
        hardware=resolved.hardware.key if resolved.hardware.key != "custom" else None,
        hardware_file=budget.hardware_file,
        peak_flops=budget.peak_flops,
        gpus=int(resolved.gpus),
        mfu=resolved.mfu,
        price=resolved.price,
        precision=resolved.precision,
        recompute=budget.recompute or "none",
        zero=1 if budget.zero is None else budget.zero,
        micro_batch=budget.micro_batch or 1,
        context=shape.context if shape is not None else (budget.context or DEFAULT_CONTEXT),
        layers=None if shape is None else shape.layers,
        d_model=None if shape is None else shape.d_model,
        heads=None if shape is None else shape.heads,
        batch_sequences=_law_batch_sequences(result),
    )
    result = _with_layout_batch(result, c)
    # The plan keeps its own cost (its training FLOPs in the law's convention); the cluster adds the recomputed work
    cost = replace(result.cost, recompute=c.cost.recompute, hfu=result.cost.mfu * c.hfu / c.mfu)
    warnings = tuple(dict.fromkeys(tuple(result.warnings) + tuple(c.warnings)))
    return replace(result, cluster=c, cost=cost, warnings=warnings)


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
    that reaches the loss as served."""
    budget, resolved = ctx.budget, ctx.resolved
    if resolved.precision == "bf16" and budget.serve_bits is None:
        return result
    from . import precision as precision_mod

    total, _active, tokens = _counts(result)
    block = precision_mod.plan_penalties(  # the precision laws' N is non-embedding (precision.yaml)
        _non_embedding(result, total),
        tokens,
        None if resolved.precision == "bf16" else resolved.precision,
        budget.serve_bits,
    )
    result = replace(result, precision=block, warnings=tuple(dict.fromkeys(tuple(result.warnings) + block.warnings)))
    sized = getattr(result, "inference", None)
    if budget.serve_bits is not None and sized is not None and ctx.law.is_parametric:
        from .inference import quantized_serving  # sizing with the served loss in the objective

        result = replace(result, quantized=quantized_serving(sized, budget.serve_bits, law=ctx.law))
    return result


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


def notes_stage(ctx: Context, result):
    """An option the budget gave that no stage of this mode used is said once in `warnings`, never dropped."""
    budget = ctx.budget
    notes = []
    cluster_options = [k for k in ("zero", "micro_batch", "recompute") if getattr(budget, k) is not None]
    if cluster_options and getattr(result, "cluster", None) is None:
        named = ", ".join(cluster_options)
        notes.append(f"{named}: the {budget.mode} plan has no cluster stage to apply them to")
    if notes:
        result = replace(result, warnings=tuple(dict.fromkeys(tuple(result.warnings) + tuple(notes))))
    return result


STAGES = (model_stage, cluster_stage, precision_stage, serving_stage, intervals_stage, notes_stage)


# ---------------------------------------------------------------------------------------------------------------
# Helpers of the modes


def _plan_total(budget: Budget, law, recipe: bool, options: dict) -> Plan:
    """`total_dollars` with tokens to serve: the lowest-loss model whose training plus serving cost is within it
    (scaleplan.pipeline.inference.within_total), as a complete plan with the split."""
    from ..schema.units import fmt_dollars
    from .inference import within_total

    budget._check_mode()  # one way to give the budget, and tokens to serve
    law_obj = budget.law_spec(law)
    # the hardware, MFU, price and GPUs as the budget gives them (any budget resolves them; the FLOPs come after)
    resolved = budget.resolve(law)  # its flops are a placeholder: the split below sets them
    spec, serving = _serving(budget, resolved)
    assert spec is not None and serving is not None  # Budget._check_mode: total_dollars serves tokens
    try:
        split = within_total(law_obj, float(budget.total_dollars or 0.0), float(spec["tokens"]), serving)
    except ScaleplanError as exc:
        raise BudgetFieldError("total_dollars", exc.template) from None
    plan = _assemble(
        law_obj,
        6.0 * split.params * split.tokens,
        split.params,
        split.tokens,
        hardware=resolved.hardware,
        peak_flops=None,
        mfu=resolved.mfu,
        price=resolved.price,
        gpus=resolved.gpus,
        inference_tokens=spec["tokens"],
        serving=serving,
        name=budget.name,
        extra_warnings=resolved.warnings,
        precision=resolved.precision,
    )
    plan = replace(plan, total_budget=split)
    plan = with_recipe(plan, **options) if recipe else plan
    plan = with_serving(plan, serving, spec["tokens"])
    total = plan.cost.total_dollars
    if total is not None and float(total) > split.total_dollars * OVER_BUDGET:
        plan = replace(
            plan,
            warnings=(
                f"training and serving cost {fmt_dollars(float(total))} at the designed shape, above the "
                f"{fmt_dollars(split.total_dollars)} given (the sizing prices serving between designed sizes)",
                *plan.warnings,
            ),
        )
    return plan


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
    cost = replace(c, inference_dollars=dollars, total_dollars=None if c.dollars is None else c.dollars + dollars)
    return replace(plan, serving=served, cost=cost, warnings=plan.warnings + served.notes)


def _serving(budget: Budget, resolved):
    """The budget's serving block and what serving costs (pipeline.inference.serving_costs), or (None, None) when
    nothing is served."""
    spec = budget.serving_spec()
    if spec is None:
        return None, None
    from .inference import serving_costs

    return spec, serving_costs(
        resolved.hardware,  # as resolved: with the budget's hardware file, peak and price (if given)
        resolved.mfu,
        budget.price,  # None: the preset's, labelled with its source
        spec.get("hardware"),
        spec.get("price"),
        spec.get("prefill_mfu"),
        spec.get("decode_mfu"),
        spec.get("prompt_share"),
        spec.get("bits"),
        precision=resolved.precision,
        hardware_file=budget.hardware_file,
        serve_bits=None if spec.get("serving_model") == "fixed-mfu" else budget.serve_bits,
        **{k: spec.get(k) for k in SERVING_KEYS},
    )


# the roofline's keys of a budget's serving block (scaleplan.pipeline.inference.serving_costs' keyword arguments)
SERVING_KEYS = (
    "serving_model",
    "kv_bits",
    "serve_precision",
    "prompt_tokens",
    "output_tokens",
    "serve_tp",
    "latency",
    "bandwidth_fraction",
    "memory_fraction",
    "batch_cap",
)


OVER_BUDGET = 1.005  # more than half a per cent over: a difference the printed days or dollars show


def _over_budget(budget: Budget, plan: Plan) -> tuple[str, ...]:
    """The inference-aware model trains longer than the compute-optimal one by design (the same loss, cheaper to
    serve): one warning when that takes more time or money than the budget gives."""
    from ..schema.units import fmt_dollars, fmt_duration

    c = plan.cost
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


def _plan_target_loss(budget: Budget, resolved, law_obj, spec: dict, serving, recipe: bool, options: dict) -> Plan:
    """Quality as a loss (Sardana et al.'s formulation): the inference-aware model reaching `target_loss`, as
    `scaleplan inference-aware --target-loss` sizes it, with its recipe and cost."""
    from .inference import inference_aware

    if not law_obj.predicts_loss:
        raise BudgetFieldError(
            "target_loss", f"{law_obj.name} predicts no loss, so no model can be sized for a target loss under it"
        )
    try:
        sized = inference_aware(
            spec["tokens"],
            target_loss=budget.target_loss,
            law=law_obj,
            objective=spec.get("objective", "flops"),
            context=spec.get("context"),
            costs=serving,
        )
    except ScaleplanError as exc:
        raise BudgetFieldError("target_loss", exc.template) from None
    plan = recommended_plan(sized, gpus=resolved.gpus, name=budget.name, recipe=recipe, law=law_obj, **options)
    return replace(plan, warnings=tuple(dict.fromkeys(resolved.warnings + plan.warnings)))


def recommended_plan(
    sized,
    *,
    gpus: float | None = None,
    precision: str = "bf16",
    name: str | None = None,
    recipe: bool = True,
    serve_bits: int | None = None,
    law=None,
    **recipe_options,
) -> Plan:
    """The inference-aware model of an InferencePlan (one demand) as a complete Plan: its recipe and its cost of
    training and serving, on the training hardware, MFU and price the sizing used.

    >>> from scaleplan.pipeline.inference import inference_aware
    >>> p = recommended_plan(inference_aware(2e12, flops=1e23))
    >>> round(p.params / 1e9, 1), round(p.budget_flops / 1e23, 2), p.recipe is not None
    (16.7, 1.0, True)
    """
    if np.ndim(sized.inference_tokens):
        raise ScaleplanError("a recommended plan is for one demand; give a single number of inference tokens")
    law = laws.get(law) if law is not None else sized.law_object()  # the sizing's own law object (a law file included)
    c = sized.costs
    n, d = float(sized.inference_aware.params), float(sized.inference_aware.tokens)
    hw = c.train_hardware
    precision = c.train_precision
    rec = _assemble(
        law,
        6.0 * n * d,
        n,
        d,
        hardware=hw,  # the serving plan's own preset (a hardware file's price and source included)
        peak_flops=None,
        mfu=c.train_mfu,
        price=c.train_price,
        gpus=gpus,
        inference_tokens=float(sized.inference_tokens),
        serving=c,
        name=name,
        extra_warnings=(),
        precision=precision,
    )
    base_n, base_d = float(sized.compute_optimal.params), float(sized.compute_optimal.tokens)
    base = _assemble(
        law,
        6.0 * base_n * base_d,
        base_n,
        base_d,
        hardware=hw,  # the serving plan's own preset (a hardware file's price and source included)
        peak_flops=None,
        mfu=c.train_mfu,
        price=c.train_price,
        gpus=gpus,
        inference_tokens=float(sized.inference_tokens),
        serving=c,
        name=None,
        extra_warnings=(),
        precision=precision,
    )
    rec = replace(
        rec,
        inference=sized,
        budget_flops=sized.flops if sized.flops is not None else base.flops,
        compute_optimal=base,
        warnings=tuple(dict.fromkeys(rec.warnings + tuple(sized.warnings))),
    )
    rec = with_recipe(rec, **recipe_options) if recipe else rec
    rec = with_serving(rec, c, float(sized.inference_tokens))
    if serve_bits is not None or precision != "bf16":  # what low-precision training or serving does to the model
        from . import precision as precision_mod

        block = precision_mod.plan_penalties(  # the precision laws' N is non-embedding (precision.yaml)
            _non_embedding(rec, rec.params_total),
            float(rec.tokens),
            None if precision == "bf16" else precision,
            serve_bits,
        )
        rec = replace(rec, precision=block, warnings=tuple(dict.fromkeys(rec.warnings + tuple(block.warnings))))
    if serve_bits is not None and law.is_parametric:  # sizing with the served loss in the objective
        from .inference import quantized_serving

        rec = replace(rec, quantized=quantized_serving(sized, serve_bits))
    return rec


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


def _from_hfu(budget: Budget, law, recipe: bool, ci, **recipe_options):
    """A plan from an HFU with selective recompute: MFU = HFU / (hardware / model FLOPs), the ratio of Korthikanti et
    al. 2022 eq. 8 over eq. 7 for the designed shape (cost.recompute_ratio, as `scaleplan cluster` uses it). The
    shape depends on the plan, so the MFU is solved for: a FLOPs budget settles in two rounds, a time or money budget
    (whose FLOPs follow the MFU) in a few."""
    assert budget.hfu is not None
    ratio, result = 1.0, None
    for _ in range(6):
        result = plan_budget(replace(budget, mfu=budget.hfu / ratio, hfu=None), law, recipe, ci, **recipe_options)
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
