"""Planning commands: allocate (the flags' budget), plan (a budget file's scenarios) and compare (laws side by
side)."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import laws as laws_mod
from ..core.errors import ScaleplanError
from ..pipeline.budget import load_budget_file
from ..pipeline.optimal import compare as compare_laws
from ..pipeline.stages import plan_budget
from ..present.render import Format, emit_comparison
from ..schema import limits
from ..schema.units import parse_budgets
from .base import app, err, flag_budget, out, plotter_for, points_flag, show_result, warn
from .options import OUTPUT, ForceOpt, FormatOpt, PlotOpt, QuietOpt, budget_options


def _report_option(help: str):
    return typer.Option("--report", metavar="DIR", help=help, rich_help_panel=OUTPUT)


@app.command()
@budget_options()
def allocate(
    flags: dict,
    plot: PlotOpt = None,
    report: Annotated[
        Optional[str],
        _report_option(
            "Also write a report folder (decision summary, markdown tables, PNG figures) here: a new or empty folder."
        ),
    ] = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
):
    """The model to train for a budget, with its recipe and cost: compute-optimal, or inference-aware with tokens to
    serve; a given model judged by every law.

    Example: scaleplan allocate --flops 1e21
    Example: scaleplan allocate --flops 1e23 --inference-tokens 2e12
    Example: scaleplan allocate --total-dollars 2M --inference-tokens 5e12
    Example: scaleplan allocate --target-loss 2.1 --inference-tokens 1e13 --objective cost
    Example: scaleplan allocate --gpus 1024 --days 30 --hardware h100 --mfu 0.4 --law chinchilla-approach1
    Example: scaleplan allocate --flops 1e23 --unique-tokens 5e11
    Example: scaleplan allocate --params 7e9 --tokens 2e12
    Example: scaleplan allocate --params 70B --tokens 2T --hardware a100-80gb --gpus 2048 --days 35
    Example: scaleplan allocate --model config.json --tokens 2T
    Example: scaleplan allocate --flops 1e23 --gpus 512 --recompute selective --zero 1
    Example: scaleplan allocate --flops 1e23 --moe
    Example: scaleplan allocate --dollars 2M --hardware h100 --gpus 512 --report my-plan/
    Example: scaleplan allocate --moe --total-params 671B --active-params 37B --tokens 14.8T --hardware h800 --precision fp8
    """
    budget = flag_budget(flags)
    if plot and budget.mode != "compute-optimal":
        raise ScaleplanError(
            "--plot draws the compute-optimal plan; it does not combine with --params/--tokens, "
            "--unique-tokens or --moe yet"
        )
    plotter = plotter_for(plot, force=force)
    if report is not None:
        from ..present.report import check_folder

        check_folder(None, report, force=force)  # refuse a bad folder before any work
    result = plan_budget(budget)
    show_result(result, fmt, quiet)
    if plotter:
        plotter.save_plan_figure(result, plot, law=budget.law_spec(), force=force)
        err.print(f"wrote {plot}", markup=False)
    if report is not None:
        from ..present.report import write_plan_report

        written = write_plan_report(budget, report, figures=_report_figures(), force=force, result=result)
        _wrote(written)


@app.command()
def compare(
    law_names: Annotated[
        list[str], typer.Argument(metavar="LAW...", help="Laws to compare, e.g. chinchilla kaplan epoch.")
    ],
    flops: Annotated[list[str], typer.Option("--flops", help="Budget(s): repeat it, or give a range 1e18..1e25.")] = [
        "1e21"
    ],
    points: Annotated[int, typer.Option("--points", help="Budgets per range, log-spaced.")] = 8,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
):
    """Compare laws side by side at each budget, in one parameter/FLOP convention.

    Example: scaleplan compare chinchilla kaplan --flops 1e21
    Example: scaleplan compare epoch chinchilla kaplan porian deepseek --flops 1e18..1e25 --points 8
    """
    budgets = parse_budgets(flops, "--flops", points_flag(points), max_values=limits.MAX_OUTPUT_ROWS)
    limits.check_rows(budgets.size * len(law_names), f"{len(law_names)} law(s) x {budgets.size} budget(s)")
    for name in law_names:
        limits.check_flops(budgets, "--flops", laws_mod.get(name))
    plotter = plotter_for(plot, force=force)
    comparison = compare_laws(law_names, budgets)
    warn(comparison.warnings)
    emit_comparison(out, fmt, comparison)
    if plotter:
        plotter.save_comparison_figure(comparison, plot, law_specs=law_names, force=force)
        err.print(f"wrote {plot}", markup=False)


@app.command()
@budget_options()
def plan(
    path: Annotated[str, typer.Argument(metavar="FILE", help="A YAML budget file (see configs/).")],
    flags: dict,
    report: Annotated[
        Optional[str],
        _report_option("Also write a report folder (markdown tables and PNG figures) here: a new or empty folder."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Let --report write into a folder that has files (it replaces only its own file names).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
):
    """The full plan for every scenario in a YAML budget file; planning flags (those of allocate) override the
    file's values in every scenario.

    Example: scaleplan plan configs/lab-1e23-h100.yaml
    Example: scaleplan plan configs/limited-data.yaml --mfu 0.5
    Example: scaleplan plan configs/serving-2t-tokens.yaml --report design-doc/
    """
    law = flags.pop("law")  # the file's scenarios may name their own; --law overrides them all
    overrides = flag_budget(flags)
    if report is not None:
        from ..present.report import check_folder

        check_folder(path, report, force=force)  # refuse a bad folder before any work
    budgets = load_budget_file(path, law, overrides)
    if report is not None:
        from ..present.report import check_count, check_inputs

        check_inputs(report)
        check_count(len(budgets), path, report)
    from ..present.answer import scenario_warnings
    from ..present.render import print_answer

    results = [plan_budget(b, law) for b in budgets]
    human = fmt in (Format.table, Format.markdown)
    for i, p in enumerate(results):  # the answer first: each scenario's model and run, what breaks its budget
        print_answer(out, fmt, p, title=(p.name or f"scenario {i + 1}") if len(results) > 1 else None)
    if not quiet:
        warn(scenario_warnings(results, answered=human))
    if not (quiet and human):  # --quiet: the answers alone
        _emit_scenarios(results, fmt, f"Plans for {path}")
    if report is not None:
        from ..present.report import write_report

        _wrote(write_report(path, report, law=law, figures=_report_figures(), force=force, overrides=overrides))


def _emit_scenarios(results: list, fmt: Format, title: str) -> None:
    """A budget file's plans: compute-optimal ones side by side in one table, each other mode's its own, then each
    inference-aware sizing; JSON and CSV carry every plan whole."""
    from ..pipeline.optimal import Plan
    from ..present.render import emit, emit_grid, emit_inference, emit_plans

    plans = [p for p in results if isinstance(p, Plan)]  # compute-optimal: side by side in one table
    others = [p for p in results if not isinstance(p, Plan)]  # other modes: each its own table
    if fmt in (Format.json, Format.csv) and others:
        records = [p.to_dict() for p in results]
        machine = records[0] if len(records) == 1 else {"plans": records}  # as for compute-optimal plans
        emit_grid(out, fmt, None, [], [], records if fmt is Format.csv else machine)
        return
    if plans:
        emit_plans(out, fmt, plans, title=title)
    for p in others:
        out.print() if plans or p is not others[0] else None
        emit(out, fmt, p)  # one plan of any mode, by its own table (as `result.to_table()` renders it)
    if fmt in (Format.table, Format.markdown):  # the machine formats carry it inside each plan
        from ..pipeline.inference import describe_break_even

        for p in plans:
            if p.inference is not None:
                out.print()
                sizing = f"Inference-aware sizing: {p.name}"
                emit_inference(out, fmt, p.inference, describe_break_even(p.inference), title=sizing)


def _wrote(written) -> None:
    n = len(written.files)
    err.print(f"wrote {n} file{'s' if n != 1 else ''} to {written.folder}", markup=False)


def _report_figures() -> bool:
    """A report draws its figures when matplotlib is there; without it, the tables and a warning."""
    try:
        import matplotlib  # noqa: F401

        return True
    except ImportError:
        warn(["matplotlib is not installed, so the report has tables but no figures (pip install 'scaleplan[plot]')"])
        return False
