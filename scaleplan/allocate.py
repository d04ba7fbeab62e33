"""Compute-optimal allocation: how many parameters and tokens for a training budget, under a chosen law."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import conventions, laws, limits
from .budget import Budget
from .cost import DEFAULT_GPUS, DEFAULT_MFU, CostBreakdown, get_hardware, training_cost
from .errors import ScaleplanError
from .laws import common_convention_optimum, range_warnings  # re-exported: they live with the laws
from .units import fmt_sci
from .values import PerBudget, check_positive, pick, plain


@dataclass(frozen=True)
class Plan(PerBudget):
    """A compute-optimal plan. Numeric fields are floats, or arrays shaped like the budgets given."""

    _per_budget = ("flops", "params", "params_total", "params_non_embedding", "tokens", "tokens_per_param", "loss",
                   "flops_per_token_m")

    law: str
    flops: float
    params: float
    params_total: float
    params_non_embedding: float
    tokens: float
    tokens_per_param: float
    loss: float | None
    cost: CostBreakdown
    citation: str
    params_convention: str
    warnings: tuple[str, ...] = ()
    name: str | None = None
    flops_per_token_m: float | None = None
    recipe: object | None = None  # a recipe.Recipe once with_recipe() has designed the network
    inference: object | None = None  # an inference.InferencePlan when the budget says what will be served
    intervals: dict | None = None  # {"level": 0.8, "params": [lo, hi], ...} from a fitted law's bootstrap

    def at(self, i: int) -> Plan:
        """The plan for budget i, its cost included."""
        cost = CostBreakdown(**{k: pick(v, i) for k, v in self.cost.__dict__.items()})
        return replace(super().at(i), cost=cost)

    def to_dict(self) -> dict:
        """The JSON contract of ../DESIGN.md: base units, plain numbers, the same names in every command."""
        out = {"name": self.name} if self.name else {}
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
            r = self.recipe.to_dict()
            out.update(vocab=r["vocab"], learning_rate=r["learning_rate"], batch_tokens=r["batch_tokens"],
                       batch_sequences=r["batch_sequences"], shape=r["shape"], flops_per_token=r["flops_per_token"],
                       flops_exact=r["flops_per_token"] * float(self.tokens),
                       recipe={k: r[k] for k in ("hparams_law", "hparams", "vocab_detail", "flops")})
        out["cost"] = self.cost.to_dict()
        if self.intervals is not None:
            out["intervals"] = self.intervals
        if self.inference is not None:
            out["inference_aware"] = self.inference.to_dict()
        out["warnings"] = list(self.warnings)
        out["citation"] = self.citation
        return out




check_budgets = check_positive  # the name the planner's callers know


def allocate(flops, law: str | laws.Law = laws.DEFAULT_LAW, *, hardware: str | None = None, mfu: float | None = None,
             price: float | None = None, gpus: float | None = None, peak_flops: float | None = None,
             inference_tokens: float | None = None, serving=None, name: str | None = None,
             extra_warnings: tuple[str, ...] = (), precision: str = "bf16") -> Plan:
    """The compute-optimal N and D for `flops` (a number or an array of budgets) under `law`.

    >>> plan = allocate(1e21, law="chinchilla")
    >>> round(plan.params / 1e9, 2), round(plan.tokens / 1e9, 1)
    (1.82, 91.4)
    """
    law = laws.get(law)
    c = check_positive(flops)
    n_native, d = law.optimum(c)
    total, non_emb = conventions.split_params(law, n_native)
    m = None
    if law.params_convention == "flops_per_token":
        m, params = n_native, non_emb  # DeepSeek allocates FLOPs per token; report parameters next to it
    else:
        params = n_native
    loss = law.loss(n_native, d)
    hw = get_hardware(hardware, peak_flops)
    mfu = DEFAULT_MFU if mfu is None else mfu
    price = hw.price_per_hour if price is None else price  # None: no published price, no dollars
    inference_flops = inference_dollars = None
    if inference_tokens is not None:
        inference_flops = 2.0 * total * inference_tokens
        if price is not None or serving is not None:
            from .inference import serving_costs  # prefill and decode priced at their own utilisation

            serving = serving or serving_costs(hw.key if hw.key != "custom" else None, mfu, price,
                                               peak_flops=peak_flops)
            inference_dollars = inference_flops * serving.dollars_per_inference_flop
    cost = training_cost(c, hw, mfu, price, DEFAULT_GPUS if gpus is None else gpus, inference_flops,
                         inference_dollars, precision=precision)
    shape_of = (lambda v: float(v) if np.ndim(c) == 0 else np.broadcast_to(v, c.shape).astype(float))
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
    r = recipe_mod.recipe(plan.params_total, plan.tokens, plan.flops, loss=plan.loss, law=hparams_law,
                          context=recipe_mod.constants()["conventions"]["context"] if context is None else context,
                          **pins)
    # Show the warnings of the numbers the plan uses: shape, vocabulary and the default learning-rate law.
    others = {w for row in r.hparams if not row.default for w in row.warnings}
    own = tuple(w for w in r.warnings if w not in others)
    if r.flops.ratio > limits.CONTEXT_FLOPS_RATIO:
        own += (f"at context {r.shape.context:,} the exact FLOPs per token (App. F) are {r.flops.ratio:.3g}x 6N: "
                "the cost, on the model FLOPs 6ND, understates the work "
                + (f"{r.flops.ratio:.3g}-fold " if r.flops.ratio >= 2 else f"by {1 - 1 / r.flops.ratio:.0%} ")
                +
                f"(exact: {fmt_sci(r.flops.flops_per_token * float(plan.tokens))} FLOPs)",)
    return replace(plan, recipe=r, warnings=plan.warnings + own)


def law_intervals(law: laws.Law, flops: float, level: float, draws: int = 4000, seed: int = 0) -> dict:
    """Intervals on N, D and loss at a budget from a fitted law's bootstrap covariance (scaleplan fit --save).

    Draws (ln A, ln B, ln E, alpha, beta) from the normal with the bootstrap mean and covariance, as Epoch AI did
    for their Fig. 5, and takes central percentile intervals of the resulting optima.
    """
    if not 0 < level < 1:
        raise ScaleplanError(f"--ci must be in (0, 1), e.g. 0.8, got {level!r}")
    boot = (law.fit or {}).get("bootstrap") or {}
    if not law.is_parametric or "covariance" not in boot:
        raise ScaleplanError(f"--ci needs a law with bootstrap uncertainty; {law.name} has none (fit one with "
                             "scaleplan fit RUNS --bootstrap 1000 --save FILE)")
    rng = np.random.default_rng(seed)
    theta = rng.multivariate_normal(np.asarray(boot["mean"], float), np.asarray(boot["covariance"], float), draws)
    theta = theta[(theta[:, 3] > 0) & (theta[:, 4] > 0)]
    c = {"A": np.exp(theta[:, 0]), "B": np.exp(theta[:, 1]), "E": np.exp(theta[:, 2]), "alpha": theta[:, 3],
         "beta": theta[:, 4]}
    from .laws import forms

    n, d = forms.parametric_optimum(c, flops)
    loss = forms.parametric_loss(c, n, d)
    q = [50 * (1 - level), 50 * (1 + level)]
    return {"level": level, "draws": int(theta.shape[0]), "params": np.percentile(n, q).tolist(),
            "tokens": np.percentile(d, q).tolist(), "loss": np.percentile(loss, q).tolist()}


def plan_budget(budget: Budget, law: str | None = None, recipe: bool = True, ci: float | None = None,
                **recipe_options) -> Plan:
    """The plan for one validated budget (a CLI call or one scenario of a file), with its recipe."""
    resolved = budget.resolve(law)
    law = budget.law_spec(law)
    serving = inference_spec = None
    if budget.serving_spec() is not None:
        from . import inference

        inference_spec = budget.serving_spec()
        serving = inference.serving_costs(
            budget.hardware, resolved.mfu, resolved.price, inference_spec.get("hardware"),
            inference_spec.get("price"), inference_spec.get("prefill_mfu"), inference_spec.get("decode_mfu"),
            inference_spec.get("prompt_share"), inference_spec.get("bits"), peak_flops=budget.peak_flops)
    plan = allocate(
        resolved.flops, law, hardware=resolved.hardware.key if resolved.hardware.key != "custom" else None,
        peak_flops=budget.peak_flops, mfu=resolved.mfu, price=resolved.price, gpus=resolved.gpus,
        inference_tokens=None if inference_spec is None else inference_spec["tokens"], serving=serving,
        name=budget.name, extra_warnings=resolved.warnings, precision=resolved.precision,
    )
    if inference_spec is not None and not laws.get(law).predicts_loss:
        plan = replace(plan, warnings=plan.warnings + (
            f"{laws.get(law).name} predicts no loss, so the serving plan is costed but not sized inference-aware; "
            "use a law such as epoch or chinchilla for that",))
    elif inference_spec is not None:
        sized = inference.inference_aware(inference_spec["tokens"], flops=resolved.flops, law=law,
                                          objective=inference_spec.get("objective", "flops"),
                                          context=inference_spec.get("context"), costs=serving)
        plan = replace(plan, inference=sized, warnings=plan.warnings + tuple(w for w in sized.warnings
                                                                             if w not in plan.warnings))
    if ci is not None:
        plan = replace(plan, intervals=law_intervals(laws.get(law), resolved.flops, ci))
    return with_recipe(plan, **recipe_options) if recipe else plan


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
            rows.append({
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
            })
    return Comparison(conventions.CONVENTION_NOTE, tuple(rows), tuple(warnings))
