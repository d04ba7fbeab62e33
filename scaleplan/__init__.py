"""scaleplan: plan LLM pre-training compute with the published scaling laws.

>>> import scaleplan
>>> plan = scaleplan.allocate(1e21, law="epoch")
>>> f"{plan.params:.3g} params, {plan.tokens:.3g} tokens"
'2.78e+09 params, 6e+10 tokens'

The planner core is imported eagerly; the rest (inference-aware sizing, recipes, fitting, plots) loads on first use,
so `import scaleplan` and `scaleplan allocate` stay fast.
"""

from .core import startup

with startup.paused():  # no garbage collection while the modules load (scaleplan.core.startup)
    from .cluster.cost import CostBreakdown, Hardware, get_hardware, training_cost
    from .core import values as _values
    from .core.errors import ScaleplanError, checked
    from .laws import DEFAULT_LAW, Law
    from .laws import get as get_law
    from .laws import names as law_names
    from .pipeline.budget import Budget, load_budget_file
    from .pipeline.optimal import Comparison, Plan, allocate, compare, with_recipe
    from .pipeline.stages import plan, plan_budget

_FunctionType = type(checked)
# the eager entry points check their arguments too
allocate, compare, plan, plan_budget, with_recipe = map(checked, (allocate, compare, plan, plan_budget, with_recipe))
load_budget_file, get_hardware, training_cost, get_law = map(
    checked, (load_budget_file, get_hardware, training_cost, get_law)
)


def _table(result, fmt: str, width: int | None) -> str:
    from .present.render import render_result  # the present part, above every result: loaded when a table is asked

    return render_result(result, fmt, width)


def _summary(result) -> str:
    from .present.answer import summary

    return summary(result)


_values.RENDERERS.update(table=_table, summary=_summary)  # results render themselves (values.Rendered)

_LAZY = {
    "inference_aware": "pipeline.inference",
    "serving_costs": "pipeline.inference",
    "InferencePlan": "pipeline.inference",
    "optimal_vocab": "recipe.vocab",
    "hyperparameters": "recipe.hparams",
    "design_shape": "recipe.sizing",
    "flops_per_token": "recipe.shape",
    "Shape": "recipe.shape",
    "load_runs": "fit.parametric",
    "fit_parametric": "fit.parametric",
    "fit_isoflop": "fit.isoflop",
    "bootstrap": "fit.resample",
    "design_sweep": "fit.sweep",
    "data_constrained_allocation": "pipeline.constrained",
    "fixed_allocation": "pipeline.constrained",
    "moe_allocation": "pipeline.moe",
    "precision_report": "pipeline.precision",
    "plan_penalties": "pipeline.precision_plan",
    "cost_optimal_precision": "pipeline.precision_search",
    "training_penalty": "pipeline.precision_search",
    "quantization_report": "pipeline.precision",
    "plan_cluster": "cluster.run",
    "plan_layout": "cluster.memory",
    "device_memory": "cluster.memory",
    "ModelSpec": "cluster.memory",
    "implied_utilisation": "cluster.cost",
    "plan_intervals": "pipeline.intervals",
    "fit_vp": "fit.vp",
    "load_checkpoints": "fit.checkpoints",
    # the results the planners return (each renders itself: to_table, str, a notebook's markdown)
    "ConstrainedPlan": "pipeline.constrained",
    "OvertrainReport": "pipeline.constrained",
    "MoePlan": "pipeline.moe",
    "FixedMoePlan": "pipeline.moe",
    "PrecisionReport": "pipeline.precision",
    "ClusterPlan": "cluster.run",
    "Serving": "cluster.serving",
    "ParametricFit": "fit.result",
    "VPFit": "fit.vp",
    "Sweep": "fit.sweep",
    "VocabResult": "recipe.tao",
    "IsoflopFit": "fit.isoflop",
    "LayoutPlan": "cluster.memory",
    "Schedule": "curves.law",
    "CurveLaw": "curves.annealing",
    "CurveFit": "curves.fitting",
    "fit_curves": "curves.fitting",
    "load_log": "curves.logs",
    "best_cooldown": "curves.law",
    "steps_to_loss": "curves.law",
}

# scaleplan.<name> for modules users reach by attribute (scaleplan.plot.* and the like); the parts (recipe, fit,
# cluster, curves, ...) are packages of their own
_SUBMODULES = {
    "inference": "pipeline.inference",
    "constrained": "pipeline.constrained",
    "moe": "pipeline.moe",
    "plot": "present.plot",
    "report": "present.report",
    "precision": "pipeline.precision",
    "memory": "cluster.memory",
    "checkpoints": "fit.checkpoints",
    "intervals": "pipeline.intervals",
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

        module = importlib.import_module(f".{_LAZY.get(name) or _SUBMODULES[name]}", __name__)
        if name in _SUBMODULES:
            return module
        value = getattr(module, name)
        if isinstance(value, _FunctionType):  # an entry point checks its arguments (scaleplan.core.errors.checked)
            value = checked(value)
        return value
    raise AttributeError(f"module 'scaleplan' has no attribute {name!r}")


def __dir__() -> list[str]:  # the lazy names too, for help() and tab completion
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


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
