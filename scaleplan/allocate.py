"""Compute-optimal allocation: how many parameters and tokens for a training budget, under a chosen law."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import conventions, laws, limits
from .budget import Budget, BudgetFieldError
from .cost import DEFAULT_GPUS, CostBreakdown, Hardware, default_mfu, get_hardware, price_label, training_cost
from .errors import ScaleplanError
from .laws import common_convention_optimum, range_warnings  # re-exported: they live with the laws
from .units import fmt_count, fmt_sci
from .values import PerBudget, Values, check_positive, check_settings, pick, plain

if TYPE_CHECKING:  # the result types the plan carries (imported lazily at run time)
    from .cluster import ClusterPlan
    from .inference import InferencePlan, QuantizedServing
    from .precision import PenaltyBlock
    from .recipe import Recipe


@dataclass(frozen=True, eq=False)  # PerBudget's __eq__: arrays compare without raising
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
    cost: CostBreakdown
    citation: str
    params_convention: str
    warnings: tuple[str, ...] = ()
    name: str | None = None
    flops_per_token_m: Values | None = None
    recipe: Recipe | None = None  # once with_recipe() has designed the network
    inference: InferencePlan | None = None  # when the budget says what will be served
    intervals: dict | None = None  # scaleplan.intervals.plan_intervals: {"level": 0.8, "params": [lo, hi], ...}
    cluster: ClusterPlan | None = None  # when the budget names a cluster (memory, layout, HFU)
    precision: PenaltyBlock | None = None  # low-precision training or serving bits (each law's own loss)
    quantized: QuantizedServing | None = None  # the model that reaches the loss as served
    budget_flops: Values | None = None  # serving plans: the budget whose compute-optimal loss sets the quality
    compute_optimal: Plan | None = None  # serving plans: the compute-optimal Plan of that budget, for comparison
    serving: Any = None  # scaleplan.serving.Serving: how the designed model serves (the roofline), when it serves
    total_budget: Any = None  # scaleplan.inference.TotalBudget: training + serving within one sum of money

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
        out["flops_6nd"] = plain(6.0 * np.asarray(self.params_total) * self.tokens)
        if self.recipe is not None:
            out.update(self.recipe.plan_fields())
        out["cost"] = self.cost.to_dict()
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
                "cost": co.cost.to_dict(),
            }
        if self.serving is not None:
            out["serving"] = self.serving.to_dict()
        if self.total_budget is not None:
            out["total_budget"] = self.total_budget.to_dict()
        if self.inference is not None:
            out["inference_aware"] = self.inference.to_dict()
        out["warnings"] = list(self.warnings)
        out["citation"] = self.citation
        return out


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
    total, non_emb = conventions.split_params(law, n_native)
    m = None
    if law.params_convention == "flops_per_token":
        m, params = n_native, non_emb  # DeepSeek allocates FLOPs per token; report parameters next to it
    else:
        params = n_native
    loss = law.loss(n_native, d)
    hw = get_hardware(hardware, peak_flops)
    mfu = default_mfu(precision, hw) if mfu is None else mfu
    price = hw.price_per_hour if price is None else price  # None: no published price, no dollars
    inference_flops = inference_dollars = None
    if inference_tokens is not None:
        inference_flops = 2.0 * total * inference_tokens
        if price is not None or serving is not None:
            from .inference import serving_costs  # prefill and decode priced at their own utilisation

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
        cost=cost,
        citation=law.cite,
        # DeepSeek allocates FLOPs per token M (reported as flops_per_token_m); `params` is then its non-embedding N
        params_convention="non_embedding" if m is not None else law.params_convention,
        warnings=tuple(extra_warnings) + tuple(range_warnings(law, c)),
        name=name,
        flops_per_token_m=None if m is None else shape_of(m),
    )


def with_recipe(plan: Plan, context: int | None = None, hparams_law: str | None = None, **pins) -> Plan:
    """The plan with its training recipe: vocabulary, learning rate, batch size, shape and exact FLOPs per token.

    Recipes are per plan (a network is designed for it), so this takes a scalar plan. `pins` are recipe.recipe()'s
    vocab, layers, d_model, heads, head_dim, d_ff; the rest adapt.
    """
    from . import recipe as recipe_mod  # keeps `import scaleplan` and vectorised sweeps free of the recipe tables

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
    own = tuple(w for w in r.warnings if w not in others)
    if r.flops.ratio > limits.CONTEXT_FLOPS_RATIO:
        own += (
            f"at context {r.shape.context:,} the exact FLOPs per token (App. F) are {r.flops.ratio:.3g}x 6N: "
            "the cost, on the model FLOPs 6ND, understates the work "
            + (f"{r.flops.ratio:.3g}-fold " if r.flops.ratio >= 2 else f"by {1 - 1 / r.flops.ratio:.0%} ")
            + f"(exact: {fmt_sci(r.flops.flops_per_token * float(plan.tokens))} FLOPs)",
        )
    return replace(plan, recipe=r, warnings=plan.warnings + own)


def plan_budget(budget: Budget, law: str | None = None, recipe: bool = True, ci: float | None = None, **recipe_options):
    """The plan for one validated budget (a CLI call, one scenario of a file, or Python), priced and, where a
    dense network is designed, with its recipe.

    The budget's mode picks the question: a fixed model (params and tokens: an OvertrainReport judged by every law,
    or by `law`), a mixture of experts (a MoePlan), limited unique data (a ConstrainedPlan), or the compute-optimal
    plan (a Plan, inference-aware sizing included when the budget serves tokens). Every result carries `cost`.
    `recipe_options` (context, vocab, layers, d_model, lr_law / hparams_law) override the budget's.
    """
    if budget.hfu is not None and budget.recompute == "selective" and budget.on_cluster:
        return _from_hfu(budget, law, recipe, ci, **recipe_options)
    options = {**budget.recipe_options(), **{k: v for k, v in recipe_options.items() if v is not None}}
    if "lr_law" in options:
        options["hparams_law"] = options.pop("lr_law")
    ci = budget.ci if ci is None else ci
    if budget.total_dollars is not None:
        budget._check_mode()  # a total budget with a fixed model, MoE or limited data says so
    if budget.mode != "compute-optimal":
        return _plan_special(budget, law, recipe, options)
    recipe_options = options
    if budget.total_dollars is not None:
        return _plan_total(budget, law, recipe, options)
    resolved = budget.resolve(law)
    law_obj = budget.law_spec(law)
    inference_spec, serving = _serving(budget, resolved)
    if budget.target_loss is not None:  # quality as a loss: the inference-aware model reaching it
        assert inference_spec is not None and serving is not None  # Budget._check_mode: a target loss serves tokens
        return _plan_target_loss(budget, resolved, law_obj, inference_spec, serving, recipe, options)
    if inference_spec is not None:
        from . import inference
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
    plan = with_recipe(plan, **recipe_options) if recipe else plan
    if serving is not None and inference_spec is not None:
        plan = with_serving(plan, serving, inference_spec["tokens"])
    if budget.on_cluster:
        plan = _on_cluster(plan, budget, resolved, float(plan.params_total), float(plan.tokens))
    if resolved.precision != "bf16" or budget.serve_bits is not None:
        plan = _with_precision(plan, budget, resolved)
    if ci is not None:  # each bootstrap draw's N, D through the same loss, recipe and cost (scaleplan.intervals)
        from .intervals import plan_intervals

        plan = replace(
            plan,
            intervals=plan_intervals(
                law_obj,
                resolved.flops,
                ci,
                hardware=resolved.hardware,
                mfu=resolved.mfu,
                price=resolved.price,
                gpus=resolved.gpus,
                precision=resolved.precision,
                serving=serving,
                inference_tokens=None if inference_spec is None else inference_spec["tokens"],
                **recipe_options,
            ),
        )
    return plan


def _plan_total(budget: Budget, law, recipe: bool, options: dict) -> Plan:
    """`total_dollars` with tokens to serve: the lowest-loss model whose training plus serving cost is within it
    (scaleplan.inference.within_total), as a complete plan with the split."""
    from .inference import within_total
    from .units import fmt_dollars

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
    """The plan with how its designed model serves (the serving roofline, scaleplan.serving) and its serving cost at
    that shape: `cost.inference_dollars` is `tokens` at the block's $ per million. Fixed-MFU pricing (Sardana et
    al.) and plans without a designed shape are left as they are."""
    if costs.fixed_mfu or plan.recipe is None or np.ndim(plan.flops):
        return plan
    from .serving import ServedModel

    served = costs.serve(ServedModel.from_shape(plan.recipe.shape))
    if not served.fits or served.dollars_per_million is None:
        return replace(plan, serving=served, warnings=plan.warnings + served.notes)
    dollars = float(tokens) * served.dollars_per_million / 1e6
    c = plan.cost
    cost = replace(c, inference_dollars=dollars, total_dollars=None if c.dollars is None else c.dollars + dollars)
    return replace(plan, serving=served, cost=cost, warnings=plan.warnings + served.notes)


def _serving(budget: Budget, resolved):
    """The budget's serving block and what serving costs (scaleplan.inference.serving_costs), or (None, None) when
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


# the roofline's keys of a budget's serving block (scaleplan.inference.serving_costs' keyword arguments)
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
    from .units import fmt_dollars, fmt_duration

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
    plan = recommended_plan(
        sized,
        gpus=resolved.gpus,
        name=budget.name,
        recipe=recipe,
        serve_bits=budget.serve_bits,
        **options,
    )
    plan = replace(plan, warnings=tuple(dict.fromkeys(resolved.warnings + plan.warnings)))
    if budget.on_cluster:
        plan = _on_cluster(plan, budget, resolved, float(plan.params_total), float(plan.tokens))
    return plan


def recommended_plan(
    sized,
    *,
    gpus: float | None = None,
    precision: str = "bf16",
    name: str | None = None,
    recipe: bool = True,
    serve_bits: float | None = None,
    **recipe_options,
) -> Plan:
    """The inference-aware model of an InferencePlan (one demand) as a complete Plan: its recipe and its cost of
    training and serving, on the training hardware, MFU and price the sizing used.

    >>> from scaleplan.inference import inference_aware
    >>> p = recommended_plan(inference_aware(2e12, flops=1e23))
    >>> round(p.params / 1e9, 1), round(p.budget_flops / 1e23, 2), p.recipe is not None
    (16.7, 1.0, True)
    """
    if np.ndim(sized.inference_tokens):
        raise ScaleplanError("a recommended plan is for one demand; give a single number of inference tokens")
    law = laws.get(sized.law)
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

        block = precision_mod.plan_penalties(
            float(rec.params_total), float(rec.tokens), None if precision == "bf16" else precision, serve_bits
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

    >>> p = plan(flops=1e21)
    >>> round(p.params / 1e9, 2), p.recipe.shape.layers > 0, p.cost.gpu_hours > 0
    (2.78, True, True)
    """
    if budget is None:
        budget = Budget.from_mapping({"law": law, **fields})
    elif fields:
        raise ScaleplanError("give a Budget or its fields, not both")
    return plan_budget(budget, law)


def _with_precision(plan, budget: Budget, resolved, params: float | None = None, tokens: float | None = None):
    """What the plan's numeric precision does (scaleplan.precision): the loss penalty of training in FP8/FP4 against
    BF16 and its critical data size (Sun et al. 2025), the penalty of serving the weights at fewer bits (Ouyang et
    al. 2024; Kumar et al. 2024), each in its own law's loss; and the hours the faster tensor cores save."""
    from . import precision as precision_mod

    n = float(plan.params_total) if params is None else float(params)
    block = precision_mod.plan_penalties(
        n,
        float(plan.tokens if tokens is None else tokens),
        None if resolved.precision == "bf16" else resolved.precision,
        budget.serve_bits,
    )
    warnings = tuple(dict.fromkeys(plan.warnings + tuple(block.warnings)))
    plan = replace(plan, precision=block, warnings=warnings)
    sized = getattr(plan, "inference", None)
    if budget.serve_bits is not None and sized is not None and laws.get(sized.law).is_parametric:
        from .inference import quantized_serving  # sizing with the served loss in the objective

        plan = replace(plan, quantized=quantized_serving(sized, budget.serve_bits))
    return plan


def _law_batch_sequences(result) -> float | None:
    """The default law's batch in sequences before rounding (a dense plan's recipe), for the layout to round."""
    rec = getattr(result, "recipe", None)
    if rec is None or not hasattr(rec, "default_hparams") or hasattr(rec.shape, "experts"):
        return None
    h = rec.default_hparams
    return h.batch_tokens_raw / h.context


def _with_layout_batch(result, c):
    """The recipe's batch rounded to a multiple of the suggested layout's DP x micro-batch (layout and batch chosen
    together: scaleplan.memory.plan_layout); the schedule's steps follow it."""
    rec = getattr(result, "recipe", None)
    lay = c.layout
    if lay is None or lay.batch_sequences is None or _law_batch_sequences(result) is None:
        return result
    h = rec.default_hparams
    if lay.batch_sequences == h.batch_sequences:
        return result
    new = replace(h, batch_sequences=lay.batch_sequences, batch_tokens=lay.batch_sequences * h.context)
    rows = tuple(new if r is h else r for r in rec.hparams)
    return replace(result, recipe=replace(rec, hparams=rows))


def _on_cluster(result, budget: Budget, resolved, params_total: float, tokens: float, exact_shape: bool = False):
    """The plan on the budget's cluster: memory per device and a layout for its GPUs, HFU beside MFU, the cost with
    the recomputed work (scaleplan.cluster, as `scaleplan cluster` computes it)."""
    from .cluster import plan_cluster

    shape = result.recipe.shape if getattr(result, "recipe", None) is not None else None
    moe_model = shape if hasattr(shape, "experts") else None  # an MoE's integer model (scaleplan.moe_shape)
    c = plan_cluster(
        params=params_total,
        tokens=tokens,
        active_params=None if moe_model is None else float(moe_model.active_params),
        moe_model=moe_model,
        tp=budget.tp,
        pp=budget.pp,
        ep=budget.ep,
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
        context=shape.context if shape is not None else 2048,
        layers=None if shape is None else shape.layers,
        d_model=None if shape is None else shape.d_model,
        heads=None if shape is None else shape.heads,
        shape=shape if exact_shape else None,
        batch_sequences=_law_batch_sequences(result),
    )
    result = _with_layout_batch(result, c)
    # The plan keeps its own cost (its training FLOPs in the law's convention); the cluster adds the recomputed work
    cost = replace(result.cost, recompute=c.cost.recompute, hfu=result.cost.mfu * c.hfu / c.mfu)
    warnings = tuple(dict.fromkeys(tuple(result.warnings) + tuple(c.warnings)))
    return replace(result, cluster=c, cost=cost, warnings=warnings)


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


def _plan_special(budget: Budget, law, recipe: bool, options: dict):
    """A fixed model, a mixture of experts or limited unique data: the mode's own result, priced (and for dense
    models, with the recipe of the model it recommends)."""
    from . import constrained
    from . import moe as moe_mod

    resolved = budget.resolve(law)
    law = law or budget.law
    spec, serving = _serving(budget, resolved)

    def cost_of(flops, serve_params, stored=None):
        """Training `flops`, and with tokens to serve, 2 `serve_params` FLOPs per served token (as _assemble),
        priced by the serving model (a mixture of experts: FLOPs from active, bytes from `stored` parameters)."""
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

    given = budget.given_model()  # a trainer's config: the model is that shape, not a designed one
    if given is not None:
        budget = budget.with_model(given)

    def designed(result, params, tokens, loss=None):
        if not recipe:
            return result
        from . import recipe as recipe_mod

        opts = dict(options)
        opts.setdefault("context", recipe_mod.constants()["conventions"]["context"])
        if given is not None:
            r = recipe_mod.recipe_for_shape(
                given.to_shape(), tokens, 6.0 * params * tokens, loss=loss, law=opts.get("hparams_law")
            )
            r = replace(r, warnings=tuple(given.warnings) + r.warnings)
        else:
            r = recipe_mod.recipe(
                params, tokens, 6.0 * params * tokens, loss=loss, law=opts.pop("hparams_law", None), **opts
            )
        others = {w for row in r.hparams if not row.default for w in row.warnings}
        return replace(
            result,
            recipe=r,
            warnings=tuple(result.warnings)
            + tuple(w for w in r.warnings if w not in others and w not in result.warnings),
        )

    if budget.mode == "fixed":
        assert budget.params is not None and budget.tokens is not None  # the mode says so (Budget._check_mode)
        if budget.unique_tokens is not None:
            limits.check_epochs(budget.tokens / budget.unique_tokens)
        report = constrained.fixed_allocation(
            budget.params, budget.tokens, unique_tokens=budget.unique_tokens, laws=None if law is None else [law]
        )
        report = replace(
            report,
            cost=cost_of(report.flops, budget.params),
            name=budget.name,
            warnings=resolved.warnings + tuple(report.warnings),
        )
        report = designed(report, budget.params, budget.tokens)
        if budget.on_cluster or budget.days is not None or budget.dollars is not None:
            report = _on_cluster(report, budget, resolved, budget.params, budget.tokens, exact_shape=given is not None)
        if resolved.precision != "bf16" or budget.serve_bits is not None:
            report = _with_precision(report, budget, resolved, budget.params, budget.tokens)
        return report

    def moe_note(active) -> tuple[str, ...]:
        """A token's forward pass touches only the active experts: serving costs 2 N_active FLOPs per token."""
        if spec is None:
            return ()
        return (
            f"serving {fmt_sci(spec['tokens'])} tokens is priced at 2 x {fmt_count(float(active))} active "
            "parameters per token: a forward pass touches only the active experts (all of them stay in memory)",
        )

    if budget.mode == "fixed-moe":
        moe = budget.moe or {}
        assert budget.tokens is not None  # the mode says so (Budget._check_mode)
        given = moe_mod.fixed_moe(moe["total_params"], moe["active_params"], budget.tokens)
        given = replace(
            given,
            cost=cost_of(given.flops, given.active_params, given.total_params),
            name=budget.name,
            warnings=resolved.warnings + moe_note(given.active_params),
        )
        if not recipe:
            return given
        try:  # the integer model with these counts (within 1%) and its recipe
            given = given.with_recipe(
                options.get("context"),
                options.get("vocab"),
                layers=options.get("layers"),
                d_model=options.get("d_model"),
            )
        except ScaleplanError as exc:
            raise BudgetFieldError("moe", exc.template) from None
        if budget.on_cluster:  # memory per device and a layout (EP included) for the integer model
            given = _on_cluster(given, budget, resolved, given.total_params, given.tokens)
        return given
    if budget.mode == "moe":
        moe_plan = moe_mod.moe_allocation(
            resolved.flops,
            granularity=(budget.moe or {}).get("granularity"),
            expansion=(budget.moe or {}).get("expansion"),
        )
        moe_plan = replace(
            moe_plan,
            cost=cost_of(moe_plan.flops, moe_plan.active_params, moe_plan.total_params),
            name=budget.name,
            warnings=resolved.warnings + tuple(moe_plan.warnings) + moe_note(moe_plan.active_params),
        )
        # the integer model (counts within 3% of the law's) and its recipe
        if not recipe:
            return moe_plan
        moe_plan = moe_plan.with_recipe(options.get("context"), options.get("vocab"))
        if budget.on_cluster:  # memory per device and a layout (EP included) for the integer model
            assert moe_plan.recipe is not None
            model = moe_plan.recipe.shape
            moe_plan = _on_cluster(moe_plan, budget, resolved, float(model.total_params), float(moe_plan.tokens))
        return moe_plan
    plan = constrained.data_constrained_allocation(resolved.flops, budget.unique_tokens, law=law or "muennighoff")
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
        cost=cost_of(plan.flops, plan.params),
        name=budget.name,
        warnings=resolved.warnings + tuple(plan.warnings) + unsized,
    )
    return designed(plan, float(plan.params), float(plan.tokens), float(plan.loss))


# ---------------------------------------------------------------------------------------------------------------
# Comparing laws in one convention


@dataclass(frozen=True)
class Comparison:
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
