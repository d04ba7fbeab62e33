"""The pipeline's Budget stage: the budget resolved once (FLOPs, hardware, MFU, price, GPUs; a target loss first
sized to its compute-optimal budget), its law as an object, what serving costs and the recipe options, as the one
Context every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import laws
from ..core.errors import ScaleplanError
from ..schema.conventions import training_flops
from .budget import Budget, BudgetFieldError, Resolved


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
    run: dict | None = None  # `scaleplan cluster`'s run options (energy, owned, flash): the cluster stage always runs
    # `scaleplan precision`'s report options (formats, choices, block_size, serve_bits: precision.report_of's
    # keywords): the precision stage adds the whole report (precision.PrecisionReport) to the plan
    precision_report: dict | None = None


def make_context(
    budget: Budget,
    law,
    recipe: bool,
    ci,
    recipe_options: dict,
    run: dict | None = None,
    precision_report: dict | None = None,
) -> Context:
    """The Budget stage: the law resolved once, the budget resolved once (a target loss first sized to its
    compute-optimal budget), what serving costs."""
    options = {**budget.recipe_options(), **{k: v for k, v in recipe_options.items() if v is not None}}
    if "lr_law" in options:
        options["hparams_law"] = options.pop("lr_law")
    # the mode's law, resolved once: a data-constrained plan's own default is Muennighoff et al.'s
    law_obj = budget.law_spec(law or ("muennighoff" if budget.mode == "data-constrained" and not budget.law else None))
    resolved = budget.resolve(law_obj)  # the smallest budget is that law's; a target loss's FLOPs are not yet sized
    if budget.target_loss is not None:  # sized once the budget's own checks passed (a target loss serves tokens, ...)
        target_flops = target_loss_flops(budget, law_obj)
        budget.check_flops(target_flops, "target_loss", law_obj)
        resolved = replace(resolved, flops=target_flops)
    spec, serving = serving_of(budget, resolved)
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
        run=run,
        precision_report=precision_report,
    )


def target_loss_flops(budget: Budget, law_obj) -> float:
    """6 N D of the law's compute-optimal model reaching `target_loss` (the budget that sets the quality)."""
    from .inference import inference_aware

    assert budget.target_loss is not None  # called for a target loss only, after Budget.resolve's checks
    try:
        sized = inference_aware(0.0, target_loss=budget.target_loss, law=law_obj, break_even=False)
    except ScaleplanError as exc:
        raise BudgetFieldError("target_loss", exc.template) from None
    return training_flops(float(sized.compute_optimal.params), float(sized.compute_optimal.tokens))


def serving_of(budget: Budget, resolved):
    """The budget's serving block and what serving costs (pipeline.inference.serving_costs), or (None, None) when
    nothing is served."""
    spec = budget.serving_spec()
    if spec is None:
        return None, None
    from .serving_costs import serving_costs

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
