"""`scaleplan precision` on the pipeline: the precision report of a budget's plan, with the plan's common keys
beside it (as `scaleplan cluster` answers with the plan's cluster block: scaleplan.pipeline.run_plan)."""

from __future__ import annotations

from dataclasses import replace

from ..core.values import CONTRACT_KEYS
from .budget import Budget
from .stages import plan_budget


def plan_precision(budget: Budget, options: dict):
    """`scaleplan precision`: the precision report (scaleplan.pipeline.precision.PrecisionReport) of the budget's
    plan, carrying the plan's common keys (output contract) and its warnings (the report's among them, said once).

    The budget (validated at the entry) is planned through every stage as `allocate` plans it: a fixed model
    (params, tokens), whose designed shape the precision laws judge at its non-embedding count, or a compute-optimal
    budget, beside which each training format keeps the precision laws' own N and D. `options` are the report's
    (formats, choices, block_size, serve_bits), validated at the entry too.
    """
    plan = plan_budget(budget, precision_report=options)
    report = plan.precision_report
    assert report is not None  # `precision_report` makes the precision stage add it
    d = plan.to_dict()
    return replace(report, plan={k: d.get(k) for k in CONTRACT_KEYS}, warnings=tuple(plan.warnings))
