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
from .optimal import Plan, context_flops_warning, designed_counts, law_plan


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
    layers, d_model, lr_law / hparams_law) override the budget's; `recipe=False` skips the model and recipe stages
    (the law's own counts).
    """
    if budget.hfu is not None and budget.recompute == "selective" and budget.on_cluster:
        return _from_hfu(budget, law, recipe, ci, **recipe_options)
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
    # the mode's law, resolved once: a data-constrained plan's own default is Muennighoff et al.'s
    law_obj = budget.law_spec(law or ("muennighoff" if budget.mode == "data-constrained" and not budget.law else None))
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
# Allocation: the mode (the law's model, not yet designed or priced)


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
    from .inference import inference_aware

    spec = ctx.serving_spec
    assert spec is not None  # allocation_stage: something is served
    base = _allocate_compute_optimal(ctx)
    sized = inference_aware(
        spec["tokens"],
        flops=ctx.resolved.flops,
        law=ctx.law,
        objective=spec.get("objective", "flops"),
        context=spec.get("context"),
        costs=ctx.serving,
    )
    return _sized_plan(ctx, sized, base, ctx.resolved.flops, base.warnings)


def _sized_plan(ctx: Context, sized, base: Plan, budget_flops, warnings: tuple[str, ...]) -> Plan:
    """The inference-aware model of `sized` (one demand) as a law plan, `base` (priced) beside it; `warnings` first."""
    n, d = float(np.asarray(sized.inference_aware.params)), float(np.asarray(sized.inference_aware.tokens))
    plan = law_plan(ctx.law, 6.0 * n * d, n, d, name=ctx.budget.name)
    warnings = tuple(dict.fromkeys(warnings + plan.warnings + tuple(sized.warnings)))
    return replace(
        plan, inference=sized, budget_flops=budget_flops, compute_optimal=_priced(ctx, base), warnings=warnings
    )


def _allocate_target_loss(ctx: Context) -> Plan:
    """Quality as a loss (Sardana et al.'s formulation): the inference-aware model reaching `target_loss`, as
    `scaleplan inference-aware --target-loss` sizes it."""
    from .inference import inference_aware

    law, spec = ctx.law, ctx.serving_spec
    assert spec is not None  # Budget._check_mode: a target loss serves tokens
    if not law.predicts_loss:
        raise BudgetFieldError(
            "target_loss", f"{law.name} predicts no loss, so no model can be sized for a target loss under it"
        )
    try:
        sized = inference_aware(
            spec["tokens"],
            target_loss=ctx.budget.target_loss,
            law=law,
            objective=spec.get("objective", "flops"),
            context=spec.get("context"),
            costs=ctx.serving,
        )
    except ScaleplanError as exc:
        raise BudgetFieldError("target_loss", exc.template) from None
    n0, d0 = float(sized.compute_optimal.params), float(sized.compute_optimal.tokens)
    base = law_plan(law, 6.0 * n0 * d0, n0, d0)
    budget_flops = sized.flops if sized.flops is not None else base.flops
    return _sized_plan(ctx, sized, base, budget_flops, ctx.resolved.warnings)


def _allocate_total(ctx: Context) -> Plan:
    """`total_dollars` with tokens to serve: the lowest-loss model whose training plus serving cost is within it
    (scaleplan.pipeline.inference.within_total), with the split."""
    from .inference import within_total

    spec = ctx.serving_spec
    assert spec is not None and ctx.serving is not None  # Budget._check_mode: total_dollars serves tokens
    try:
        split = within_total(ctx.law, float(ctx.budget.total_dollars or 0.0), float(spec["tokens"]), ctx.serving)
    except ScaleplanError as exc:
        raise BudgetFieldError("total_dollars", exc.template) from None
    n, d = split.params, split.tokens
    plan = law_plan(ctx.law, 6.0 * n * d, n, d, name=ctx.budget.name, warnings=ctx.resolved.warnings)
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


# ---------------------------------------------------------------------------------------------------------------
# The model: the network the plan trains, and its counts


def model_stage(ctx: Context, result):
    """The designed network (recipe.Design), and every count the plan reports made that network's: tokens
    re-derived so the budget is spent in the law's convention, the loss the law's at the designed N, the law's own
    N and D beside them as `law_params`. A fixed model keeps the counts given (a trainer's config is its own
    shape); a MoE is an integer shape of experts (scaleplan.recipe.moe_shape)."""
    if not ctx.recipe:
        return result
    return _MODELS.get(ctx.budget.mode, _model_dense)(ctx, result)


def _pins(ctx: Context) -> dict:
    """The recipe options that pin the shape (context, vocab, layers, d_model, arch ...)."""
    return {k: v for k, v in ctx.options.items() if k != "hparams_law" and v is not None}


def _model_dense(ctx: Context, plan: Plan) -> Plan:
    from ..recipe import design as recipe_mod
    from ..schema import conventions

    pins = _pins(ctx)
    context = pins.pop("context", None) or DEFAULT_CONTEXT
    if plan.flops_per_token_m is not None and context != DEFAULT_CONTEXT:
        plan = conventions.recontext_plan(plan, context)  # DeepSeek's M -> N at the recipe's context
    # The shape is designed in the law's own count (DeepSeek's M, Kaplan's non-embedding N, ...), not a total
    # converted with another vocabulary.
    target, convention = (
        (plan.flops_per_token_m, "flops_per_token")
        if plan.flops_per_token_m is not None
        else (plan.params, plan.params_convention)
    )
    design = recipe_mod.design_model(target, convention=convention, context=context, **pins)
    return designed_counts(replace(plan, design=design), ctx.law)


def _model_fixed(ctx: Context, report):
    from ..recipe import design as recipe_mod

    if ctx.given is not None:  # a trainer's config: the model is that shape
        design = recipe_mod.Design(ctx.given.to_shape(), None, tuple(ctx.given.warnings), vocab_pinned=True)
    else:
        pins = _pins(ctx)
        design = recipe_mod.design_model(report.params, context=pins.pop("context", None) or DEFAULT_CONTEXT, **pins)
    return replace(report, design=design)


def _model_constrained(ctx: Context, plan):
    """Muennighoff et al. count every parameter: the designed total, D = C / 6N, the data-constrained loss there."""
    from ..recipe import design as recipe_mod
    from . import constrained

    pins = _pins(ctx)
    design = recipe_mod.design_model(plan.params, context=pins.pop("context", None) or DEFAULT_CONTEXT, **pins)
    n = float(design.shape.total_params)
    d = float(plan.flops) / (6.0 * n)
    loss = float(constrained.data_constrained_loss(n, d, float(plan.unique_tokens), ctx.law))
    law_params = {
        "params": float(plan.params),
        "params_convention": plan.params_convention,
        "tokens": float(plan.tokens),
        "loss": float(plan.loss),
        "note": (
            "the law's own optimum; the plan's counts are the designed shape's, its tokens re-derived so that C = 6 N D"
        ),
    }
    return replace(
        plan,
        design=design,
        params=n,
        tokens=d,
        tokens_per_param=d / n,
        epochs=d / float(plan.unique_tokens),
        loss=loss,
        loss_penalty=loss - float(plan.unconstrained_loss),
        law_params=law_params,
    )


def _model_moe(ctx: Context, plan):
    """Krajewski et al.'s family as whole layers, heads and experts (counts within 3% of the law's): the plan's
    counts become the shape's (scaleplan.pipeline.moe.designed)."""
    from ..recipe import design as recipe_mod
    from ..recipe import moe_shape
    from . import moe as moe_mod

    vocab = ctx.options.get("vocab")
    shape, warnings = moe_shape.design_law_moe(
        float(plan.active_params),
        float(plan.total_params),
        float(plan.d_model),
        float(plan.granularity),
        float(plan.expansion),
        context=ctx.options.get("context") or DEFAULT_CONTEXT,
        vocab=vocab,
    )
    design = recipe_mod.Design(shape, None, tuple(warnings), vocab_pinned=vocab is not None)
    return moe_mod.designed(plan, design)


def _model_fixed_moe(ctx: Context, given):
    """The given MoE as an integer model (total and active within 1%: moe_shape.design_given_moe); its counts
    become the plan's."""
    from ..recipe import design as recipe_mod
    from ..recipe import moe_shape
    from . import moe as moe_mod

    opts = ctx.options
    vocab = opts.get("vocab")
    pins = {k: opts.get(k) for k in ("layers", "d_model") if opts.get(k) is not None}
    try:
        shape = moe_shape.design_given_moe(
            given.total_params,
            given.active_params,
            context=opts.get("context") or DEFAULT_CONTEXT,
            vocab=vocab,
            **pins,
        )
    except ScaleplanError as exc:
        raise BudgetFieldError("moe", exc.template) from None
    return moe_mod.designed_fixed(given, recipe_mod.Design(shape, None, (), vocab_pinned=vocab is not None))


_MODELS = {
    "fixed": _model_fixed,
    "data-constrained": _model_constrained,
    "moe": _model_moe,
    "fixed-moe": _model_fixed_moe,
}


# ---------------------------------------------------------------------------------------------------------------
# The recipe: vocabulary, learning rate, batch, schedule of the designed network


def recipe_stage(ctx: Context, result):
    """The designed network's recipe: its vocabulary, the learning-rate and batch laws' values at its tokens and
    budget (the default law's, or the budget's lr_law), its schedule. A MoE's is extrapolated from dense fits
    (scaleplan.recipe.moe_shape.moe_recipe)."""
    design = getattr(result, "design", None)
    if design is None:
        return result
    moe = ctx.budget.mode in ("moe", "fixed-moe")
    r, own = (_moe_recipe if moe else _dense_recipe)(ctx, result, design)
    warnings = tuple(result.warnings) + tuple(w for w in own if w not in result.warnings)
    return replace(result, recipe=r, warnings=warnings)


def _moe_recipe(ctx: Context, result, design):
    from ..recipe import moe_shape

    law_convention = ctx.budget.mode == "moe"
    r = moe_shape.moe_recipe(
        design.shape, float(result.tokens), vocab_pinned=design.vocab_pinned, law_convention=law_convention
    )
    r = replace(r, warnings=tuple(dict.fromkeys(design.warnings + r.warnings)))
    return r, r.warnings


def _dense_recipe(ctx: Context, result, design):
    from ..recipe import design as recipe_mod

    loss = getattr(result, "loss", None)
    r = recipe_mod.recipe_of(
        design,
        float(result.tokens),
        float(result.flops),
        loss=None if loss is None else float(loss),
        law=ctx.options.get("hparams_law"),
        # a DeepSeek plan's budget is M·D by construction; other plans' M comes from the shape
        deepseek_flops=result.flops if getattr(result, "flops_per_token_m", None) is not None else None,
    )
    # the warnings of the numbers the plan uses: shape, vocabulary and the default learning-rate law
    others = {w for row in r.hparams if not row.default for w in row.warnings}
    own = tuple(w for w in r.warnings if w not in others)
    if isinstance(result, Plan):
        own += context_flops_warning(r, float(result.tokens))
    return r, own


# ---------------------------------------------------------------------------------------------------------------
# The cost: training and serving


def price(ctx: Context, flops, serve_params, stored=None):
    """Training `flops` on the budget's hardware, MFU, price and GPUs, and with tokens to serve, 2 `serve_params`
    FLOPs per served token priced by the serving model (a mixture of experts: FLOPs from the active parameters,
    bytes from the `stored` ones). The one place a plan's cost is assembled."""
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


def cost_stage(ctx: Context, result):
    """The plan's cost: its training FLOPs, and its served tokens at 2 N per token of the model it reports (the
    designed one; a MoE's active parameters, every expert held in memory)."""
    total, active, _tokens = _counts(result)
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


# ---------------------------------------------------------------------------------------------------------------
# The stages after the cost: the same for every mode


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
