"""scaleplan: plan LLM pre-training compute with the published scaling laws.

>>> import scaleplan
>>> plan = scaleplan.allocate(1e21, law="epoch")
>>> f"{plan.params:.3g} params, {plan.tokens:.3g} tokens"
'2.78e+09 params, 6e+10 tokens'

The planner core is imported eagerly; the rest (inference-aware sizing, recipes, fitting, plots) loads on first use,
so `import scaleplan` and `scaleplan allocate` stay fast.
"""

from . import startup

with startup.paused():  # no garbage collection while the modules load (scaleplan.startup)
    from . import values as _values
    from .allocate import Comparison, Plan, allocate, compare, with_recipe
    from .budget import Budget, load_budget_file
    from .cost import CostBreakdown, Hardware, get_hardware, training_cost
    from .errors import ScaleplanError, checked
    from .laws import DEFAULT_LAW, Law
    from .laws import get as get_law
    from .laws import names as law_names
    from .pipeline import plan, plan_budget

_FunctionType = type(checked)
# the eager entry points check their arguments too
allocate, compare, plan, plan_budget, with_recipe = map(checked, (allocate, compare, plan, plan_budget, with_recipe))
load_budget_file, get_hardware, training_cost, get_law = map(
    checked, (load_budget_file, get_hardware, training_cost, get_law)
)


def _table(result, fmt: str, width: int | None) -> str:
    from .render import render_result  # the present part, above every result: loaded when a table is asked for

    return render_result(result, fmt, width)


def _summary(result) -> str:
    from .answer import summary

    return summary(result)


_values.RENDERERS.update(table=_table, summary=_summary)  # results render themselves (values.Rendered)

_LAZY = {
    "inference_aware": "inference",
    "serving_costs": "inference",
    "InferencePlan": "inference",
    "optimal_vocab": "recipe",
    "hyperparameters": "recipe",
    "design_shape": "recipe",
    "flops_per_token": "recipe",
    "Shape": "recipe",
    "load_runs": "fit",
    "fit_parametric": "fit",
    "fit_isoflop": "fit",
    "bootstrap": "resample",
    "design_sweep": "fit",
    "data_constrained_allocation": "constrained",
    "fixed_allocation": "constrained",
    "moe_allocation": "moe",
    "precision_report": "precision",
    "plan_penalties": "precision",
    "cost_optimal_precision": "precision",
    "training_penalty": "precision",
    "quantization_report": "precision",
    "plan_cluster": "cluster",
    "plan_layout": "memory",
    "device_memory": "memory",
    "ModelSpec": "memory",
    "implied_utilisation": "cost",
    "plan_intervals": "intervals",
    "fit_vp": "fit_vp",
    "load_checkpoints": "checkpoints",
    # the results the planners return (each renders itself: to_table, str, a notebook's markdown)
    "ConstrainedPlan": "constrained",
    "OvertrainReport": "constrained",
    "MoePlan": "moe",
    "FixedMoePlan": "moe",
    "PrecisionReport": "precision",
    "ClusterPlan": "cluster",
    "Serving": "serving",
    "ParametricFit": "fit",
    "VPFit": "fit_vp",
    "Sweep": "sweep",
    "VocabResult": "recipe",
    "Schedule": "curves",
    "CurveLaw": "curves",
    "fit_curves": "curves",
    "load_log": "curves",
    "best_cooldown": "curves",
    "steps_to_loss": "curves",
}

_SUBMODULES = {
    "recipe",
    "inference",
    "fit",
    "constrained",
    "moe",
    "plot",
    "report",
    "precision",
    "memory",
    "cluster",
    "curves",
    "checkpoints",
    "intervals",
}


def __getattr__(name: str):
    if name == "__version__":  # importlib.metadata costs ~30 ms at start-up; read the version only when asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("scaleplan")
        except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
            return "0.0.0"
    if name in _LAZY or name in _SUBMODULES:
        import importlib

        module = importlib.import_module(f".{_LAZY.get(name, name)}", __name__)
        if name in _SUBMODULES:
            return module
        value = getattr(module, name)
        if isinstance(value, _FunctionType):  # an entry point checks its arguments (scaleplan.errors.checked)
            value = checked(value)  # not cached in globals(): `fit_vp` is also a submodule's name
        return value
    raise AttributeError(f"module 'scaleplan' has no attribute {name!r}")


def __dir__() -> list[str]:  # the lazy names too, for help() and tab completion
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = [
    "Budget",
    "Comparison",
    "CostBreakdown",
    "DEFAULT_LAW",
    "Hardware",
    "Law",
    "Plan",
    "ScaleplanError",
    "allocate",
    "compare",
    "get_hardware",
    "get_law",
    "law_names",
    "load_budget_file",
    "plan",
    "plan_budget",
    "training_cost",
    "with_recipe",
    *_LAZY,
]
