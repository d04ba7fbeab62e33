"""`scaleplan cluster` on the pipeline: a run of a given model, a given MoE or a FLOPs budget on the user's cluster,
answered as the plan's cluster block (memory per device, layout, MFU and HFU, cost and energy) with the plan's
common keys beside it."""

from __future__ import annotations

from dataclasses import replace

from ..core.values import CONTRACT_KEYS
from .budget import Budget, BudgetFieldError
from .stages import plan_budget


def plan_run(
    budget: Budget, run: dict, heads: int | None = None, days: float | None = None, dollars: float | None = None
):
    """The run the budget trains on its cluster (a scaleplan.cluster.run.ClusterPlan carrying the plan's common keys).

    A fixed model or a given MoE is that model; a FLOPs budget is the compute-optimal model its law recommends,
    whose memory and layout the cluster must hold. `days` (with the budget's GPUs) or `dollars` (at its price) are
    the time the work must fit: they imply the MFU, as a fixed model's <days> do (Budget.implied_utilisation), so
    they cannot come with <mfu> or <hfu>. `run` is the cluster's energy, owned-hardware and flash-attention options
    (plan_cluster's keywords); `heads` pins the attention heads of the designed shape.
    """
    label = None
    if days is not None or dollars is not None:
        budget, label = _implied(budget, days, dollars)
    plan = plan_budget(budget, run=run, heads=heads)
    c = plan.cluster
    assert c is not None  # `run` makes the cluster stage run
    if label is not None:
        label = label if days is not None else f"{label} at ${c.cost.price:.2f}/h"
        c = replace(c, utilisation_source=label)
    d = plan.to_dict()  # the plan's warnings hold the cluster's (cluster_stage) and the law's range, ...
    return replace(c, plan={k: d.get(k) for k in CONTRACT_KEYS}, warnings=tuple(plan.warnings))


def _implied(budget: Budget, days: float | None, dollars: float | None) -> tuple[Budget, str]:
    """The FLOPs budget at the MFU that finishes its work in `days` on its GPUs (or for `dollars`), and where that
    MFU comes from, as the plan's cluster block says it."""
    given = "mfu" if budget.mfu is not None else "hfu" if budget.hfu is not None else None
    if given is not None:
        raise BudgetFieldError(given, f"<days> or <dollars> with <flops> imply the utilisation; drop <{given}>")
    if days is not None and dollars is not None:
        raise BudgetFieldError(
            "dollars",
            "give the run's time (<gpus> and <days>) or its money (<dollars>), not both: either implies the MFU",
        )
    implied = replace(budget, days=days, dollars=dollars).implied_utilisation()
    label = (
        f"implied by {int(budget.gpus or 0):,} GPUs x {days:g} days"
        if days is not None
        else f"implied by ${dollars:,.0f}"
    )
    return replace(budget, mfu=implied.mfu), label
