"""The pipeline's model and recipe stages: the network the plan trains (a dense shape in the law's own convention,
a trainer's config, or an integer mixture of experts), every count the plan reports made that network's, then its
vocabulary, learning rate, batch and schedule."""

from __future__ import annotations

from dataclasses import replace

from ..core.errors import ScaleplanError
from ..schema.conventions import DEFAULT_CONTEXT, tokens_for
from .budget import BudgetFieldError
from .context import Context
from .optimal import Plan, context_flops_warning, designed_counts


def model_stage(ctx: Context, result):
    """The designed network (recipe.Design), and every count the plan reports made that network's: tokens
    re-derived so the budget is spent in the law's convention, the loss the law's at the designed N, the law's own
    N and D beside them as `law_params`. A fixed model is the shape designed for the count given (a trainer's
    config is its own shape), every law judging that shape; a MoE is an integer shape of experts
    (scaleplan.recipe.moe_shape)."""
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
    """The given model as a network (a trainer's config is its own shape), its counts made that network's: tokens
    re-derived so that C = 6 N D stays the given budget, every law judging the designed model (each law's N that
    shape's count in its convention); the model as given stays beside them as `law_params`."""
    from ..recipe import design as recipe_mod
    from . import constrained

    if ctx.given is not None:  # a trainer's config: the model is that shape
        design = recipe_mod.Design(ctx.given.to_shape(), None, tuple(ctx.given.warnings), vocab_pinned=True)
    else:
        pins = _pins(ctx)
        design = recipe_mod.design_model(report.params, context=pins.pop("context", None) or DEFAULT_CONTEXT, **pins)
    shape = design.shape
    n = float(shape.total_params)
    chosen = constrained.judging_laws(None if ctx.law_given is None else [ctx.law])
    judged = constrained.judge_fixed(n, tokens_for(float(report.flops), n), report.unique_tokens, chosen, shape=shape)
    law_params = {
        "params": float(report.params),
        "params_convention": "total",
        "tokens": float(report.tokens),
        "note": "the model as given; the plan's counts are its designed shape's, its tokens re-derived so that "
        "C = 6 N D",
    }
    return replace(
        judged,
        name=report.name,
        # the budget's (MFU, precision) first; the laws' judged again at the designed model
        warnings=tuple(dict.fromkeys(ctx.resolved.warnings + judged.warnings)),
        design=design,
        params_non_embedding=float(shape.non_embedding_params),
        law_params=law_params,
    )


def _model_constrained(ctx: Context, plan):
    """Muennighoff et al. count every parameter: the designed total, D = C / 6N, the data-constrained loss there."""
    from ..recipe import design as recipe_mod
    from . import constrained

    pins = _pins(ctx)
    design = recipe_mod.design_model(plan.params, context=pins.pop("context", None) or DEFAULT_CONTEXT, **pins)
    n = float(design.shape.total_params)
    d = tokens_for(float(plan.flops), n)
    loss = float(constrained.constrained_loss(ctx.law, n, d, float(plan.unique_tokens)))
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
    pins = {k: opts.get(k) for k in ("layers", "d_model", "heads") if opts.get(k) is not None}
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
    r = recipe_mod.recipe_from(  # the plan's own tokens, budget and loss: checked where the plan was made
        design,
        float(result.tokens),
        float(result.flops),
        loss=None if loss is None else float(loss),
        law=ctx.options.get("hparams_law"),
        # a DeepSeek plan's budget is M·D by construction; other plans' M comes from the shape
        deepseek_flops=float(result.flops) if getattr(result, "flops_per_token_m", None) is not None else None,
    )
    # the warnings of the numbers the plan uses: shape, vocabulary and the default learning-rate law
    others = {w for row in r.hparams if not row.default for w in row.warnings}
    own = tuple(w for w in r.warnings if w not in others)
    if isinstance(result, Plan):
        own += context_flops_warning(r, float(result.tokens))
    return r, own
