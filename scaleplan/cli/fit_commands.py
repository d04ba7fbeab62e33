"""Fitting your own runs: fit (a parametric or isoFLOP law) and sweep (the small runs to fit one)."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import laws as laws_mod
from ..core.errors import ScaleplanError
from ..core.files import check_target, write_atomic
from ..present.render import Format, emit_grid
from ..schema import limits
from ..schema.units import (
    parse_budgets,
    parse_flops,
    parse_quantity,
)
from .base import (
    app,
    err,
    law_flag,
    out,
    plotter_for,
    warn,
)
from .options import (
    ForceOpt,
    FormatOpt,
    LawOpt,
    PlotOpt,
)


def _columns(spec: list[str]) -> dict:
    """'--columns params=Model Size --columns loss=val_loss' (or comma-separated) -> {field: column}."""
    out = {}
    for item in (part for value in spec for part in value.split(",")):
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ScaleplanError(
                f"--columns takes FIELD=COLUMN pairs (fields: params, tokens, flops, loss), got {item!r}"
            )
        out[field.strip()] = column.strip()
    return out


RunsArg = Annotated[str, typer.Argument(metavar="RUNS", help="Your runs: .csv, .tsv, .jsonl, .json or .yaml.")]
ColumnsOpt = Annotated[
    list[str], typer.Option("--columns", help="Map fields to your column names, e.g. loss=val_loss.")
]
DropWorstOpt = Annotated[int, typer.Option("--drop-worst", help="Leave out the K highest-loss runs (Epoch: 5).")]
BootstrapOpt = Annotated[int, typer.Option("--bootstrap", help="Resample the runs N times for confidence intervals.")]
ApproachOpt = Annotated[str, typer.Option("--approach", help="parametric (Approach 3), isoflop (Approach 2) or both.")]
FitBudgetsOpt = Annotated[
    list[str], typer.Option("--budgets", help="Budgets for the implied allocation (default 1e21, 1e23, 1e25).")
]
SaveOpt = Annotated[
    Optional[str], typer.Option("--save", help="Write the fitted law to this YAML file (usable as --law FILE).")
]
LawNameOpt = Annotated[Optional[str], typer.Option("--name", help="Name of the saved law (default: the file's stem).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Bootstrap seed (a whole number >= 0).")]
MethodOpt = Annotated[
    str,
    typer.Option(
        "--method",
        help="huber: Huber on log loss from Epoch's grid (default); vp: least squares on the loss by variable projection.",
    ),
]
MaxFlopsOpt = Annotated[
    Optional[str], typer.Option("--max-flops", help="Fit only the runs below this many FLOPs (after --drop-worst).")
]
RunColumnOpt = Annotated[
    Optional[str],
    typer.Option(
        "--run-column", help="Checkpoints: the run-id column (default: run, run_id, name, ... when ids repeat)."
    ),
]
DropEarlyOpt = Annotated[
    float,
    typer.Option(
        "--drop-early",
        help="Checkpoints: drop each run's checkpoints at or below this fraction of its final tokens.",
    ),
]
MinTokensOpt = Annotated[
    Optional[str],
    typer.Option("--min-tokens", help="Checkpoints: drop those before this many tokens instead (Choshen et al.: 10B)."),
]


@app.command()
def fit(
    path: RunsArg,
    columns: ColumnsOpt = [],
    drop_worst: DropWorstOpt = 0,
    n_bootstrap: BootstrapOpt = 0,
    approach: ApproachOpt = "parametric",
    budgets: FitBudgetsOpt = [],
    save: SaveOpt = None,
    name: LawNameOpt = None,
    seed: SeedOpt = 0,
    method: MethodOpt = "huber",
    max_flops: MaxFlopsOpt = None,
    run_column: RunColumnOpt = None,
    drop_early: DropEarlyOpt = 0.1,
    min_tokens: MinTokensOpt = None,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
):
    """Fit L(N, D) = E + A/N^alpha + B/D^beta to your runs, as Hoffmann et al. and Epoch AI did.

    Example: scaleplan fit runs.csv --drop-worst 5 --bootstrap 1000 --save mylaw.yaml
    Example: scaleplan fit sweep.csv --approach both
    Example: scaleplan fit runs.csv --drop-worst 5 --max-flops 1e21 --method vp
    Example: scaleplan fit checkpoints.csv --run-column run --min-tokens 10B
    """
    from ..fit import parametric as fit_mod

    _check_fit_flags(method, approach, n_bootstrap, plot, seed, drop_worst)
    if save is not None:
        check_target(save, [path], suffix=(".yaml", ".yml"), force=force, what="--save")  # .yaml: --law reads it
    checkpoint_options = (run_column, drop_early, min_tokens)
    if method == "vp":
        fitting = (approach, n_bootstrap, plot, max_flops, budgets)
        return _fit_vp(path, columns, drop_worst, *fitting, save, name, fmt, checkpoint_options, seed, force)
    plotter = plotter_for(plot, inputs=[path], force=force)
    chosen = _budgets(budgets)
    runs = _load_fit_runs(path, columns, drop_worst, checkpoint_options)
    if max_flops is not None:
        from ..fit.vp import below_flops

        runs = below_flops(runs, parse_flops(max_flops, "--max-flops"))
    record, parametric, boot, iso = {"data": runs.summary()}, None, None, None
    if approach in ("parametric", "both"):
        parametric = fit_mod.fit_parametric(runs)
        if save:  # before any warning: a refusal is the command's one line
            _refuse_degenerate_save(save, parametric.constants)
        record["parametric"] = parametric.to_dict(chosen)
        warn(parametric.warnings)
        if n_bootstrap:
            boot = _bootstrap_with_progress(runs, n_bootstrap, seed, chosen, parametric)
            record["bootstrap"] = boot.to_dict()
    if approach != "parametric":
        iso = _fit_isoflop(runs, approach)
        if iso is not None:
            record["isoflop"] = iso.to_dict()
    if iso is not None and parametric is not None:
        from ..fit.vp import approach2_bias

        record["isoflop"]["vs_parametric"] = approach2_bias(iso, parametric, chosen)
    if save:
        fitted = parametric or iso
        assert fitted is not None  # each approach either fits or raises
        _save_law(save, fitted, boot, runs, name, path, force, parametric=parametric is not None)
    if plotter:
        plotter.save_fit_figure(runs, parametric, plot, boot=boot, inputs=[path], force=force)
        err.print(f"wrote {plot}", markup=False)
    if fmt != Format.table and fmt != Format.markdown:
        emit_grid(out, fmt, None, [], [], record)
        return
    from ..present.render import emit_fit

    bias = record.get("isoflop", {}).get("vs_parametric") if iso is not None and parametric is not None else None
    emit_fit(out, fmt, runs, parametric, boot, iso, bias, budgets=chosen)


def _check_fit_flags(method: str, approach: str, n_bootstrap: int, plot, seed: int, drop_worst: int) -> None:
    """fit's choices and counts, refused before any work."""
    if method not in ("huber", "vp"):
        raise ScaleplanError(f"--method must be huber or vp, got {method!r}")
    if approach not in ("parametric", "isoflop", "both"):
        raise ScaleplanError(f"--approach must be parametric, isoflop or both, got {approach!r}")
    if (n_bootstrap or plot) and approach == "isoflop":
        raise ScaleplanError("--bootstrap and --plot apply to the parametric fit; use --approach parametric or both")
    if n_bootstrap != 0 and not 2 <= n_bootstrap <= limits.MAX_BOOTSTRAP:
        raise ScaleplanError(f"--bootstrap must be 0 (none) or from 2 to {limits.MAX_BOOTSTRAP:,}, got {n_bootstrap:,}")
    if not 0 <= seed < 2**63:
        raise ScaleplanError(f"--seed must be a whole number >= 0, got {seed}")
    if drop_worst < 0:
        raise ScaleplanError(f"--drop-worst must be a whole number >= 0, got {drop_worst}")


def _budgets(budgets: list[str]) -> tuple:
    """--budgets: the budgets of the implied allocation (default 1e21, 1e23, 1e25)."""
    chosen = tuple(parse_budgets(budgets, "--budgets", max_values=100)) if budgets else (1e21, 1e23, 1e25)
    limits.check_flops(chosen, "--budgets")
    return chosen


def _fit_isoflop(runs, approach: str):
    """The isoFLOP fit (Approach 2); beside the parametric one (--approach both), a failure is a warning."""
    from ..fit import parametric as fit_mod

    if approach == "isoflop":
        return fit_mod.fit_isoflop(runs)
    try:
        return fit_mod.fit_isoflop(runs)
    except ScaleplanError as exc:  # the parametric fit stands; say why the isoFLOP one is missing
        warn([f"no isoFLOP fit: {exc}"])
        return None


def _save_law(save: str, fitted, boot, runs, name: str | None, path: str, force: bool, parametric: bool) -> None:
    """--save: the fitted law as a law file --law reads (a parametric law refused when it implies no allocation)."""
    import yaml

    from ..fit import parametric as fit_mod

    if parametric:
        _refuse_degenerate_save(save, fitted.constants)
    law = fit_mod.law_dict(fitted, boot, runs, name=name or Path(save).stem)
    laws_mod.law_from_dict(law, save)  # what we write must load
    write_atomic(save, yaml.safe_dump(law, sort_keys=False), inputs=[path], force=force, what="--save")
    err.print(f"saved {save}: use it with --law {save}", markup=False)


def _refuse_degenerate_save(save: str, constants: dict) -> None:
    from ..fit.parametric import no_allocation

    reason = no_allocation(constants)
    if reason:
        raise ScaleplanError(f"--save {save}: {reason}; no law written")


def _load_fit_runs(path, columns, drop_worst, checkpoint_options):
    """Runs for `fit`: one row per run, or checkpoints (several rows per run, early ones dropped, runs weighted equally)."""
    from ..fit.checkpoints import load_any

    run_column, drop_early, min_tokens = checkpoint_options
    runs = load_any(
        path,
        _columns(columns) or None,
        drop_worst,
        run_column,
        drop_early,
        None if min_tokens is None else parse_quantity(min_tokens, "--min-tokens"),
    )
    from ..schema.runs import limit_warnings

    warn(limit_warnings(runs))
    if runs.checkpoints:
        info = runs.checkpoints
        warn(info["warnings"])
        err.print(
            f"{info['checkpoints']:,} checkpoints of {info['runs']} runs ({info['model_sizes']} model sizes); "
            f"{info['dropped_early']:,} early ones dropped: {info['rule']}; each run weighs the same",
            markup=False,
            soft_wrap=True,
        )
    return runs


def _fit_vp(
    path,
    columns,
    drop_worst,
    approach,
    n_bootstrap,
    plot,
    max_flops,
    budgets,
    save,
    name,
    fmt,
    checkpoint_options=(None, 0.1, None),
    seed=0,
    force: bool = False,
) -> None:
    """fit --method vp: least squares on the loss by variable projection (Czech / Open-Athena)."""
    from ..fit import vp as fit_vp

    if approach != "parametric" or plot:
        raise ScaleplanError("--method vp fits the parametric law alone: drop --approach and --plot")
    if not 0 <= n_bootstrap <= 100_000:
        raise ScaleplanError(f"--bootstrap must be in 0..100,000, got {n_bootstrap:,}")
    chosen = _budgets(budgets)
    runs = _load_fit_runs(path, columns, drop_worst, checkpoint_options)
    if max_flops is not None:
        runs = fit_vp.below_flops(runs, parse_flops(max_flops, "--max-flops"))
    vp = fit_vp.fit_vp(runs)
    if save:  # before any warning: a refusal is the command's one line
        _refuse_degenerate_save(save, vp.constants)
    warn(vp.warnings)
    boot = _bootstrap_with_progress(runs, n_bootstrap, seed, chosen, vp) if n_bootstrap else None
    alloc = vp.allocation(chosen)
    if save:
        _save_law(save, vp, boot, runs, name, path, force, parametric=True)
    record = {"data": runs.summary(), "vp": vp.to_dict(chosen)}
    if boot is not None:
        record["bootstrap"] = boot.to_dict()
    if fmt not in (Format.table, Format.markdown):
        emit_grid(out, fmt, None, [], [], record)
        return
    from ..present.render import emit_fit_vp

    emit_fit_vp(out, fmt, runs, vp, boot, alloc)


def _bootstrap_with_progress(runs, n, seed, budgets, parametric):
    from rich.progress import Progress

    from ..fit.resample import bootstrap

    with Progress(console=err, transient=True, disable=n < 200) as progress:
        task = progress.add_task(f"bootstrap ({n} refits)", total=n)
        return bootstrap(
            runs,
            n=n,
            seed=seed,
            budgets=budgets,
            fit=parametric,
            progress=lambda i, total: progress.update(task, completed=i),
        )


@app.command()
def sweep(
    target_flops: Annotated[str, typer.Option("--target-flops", help="The big run the sweep should predict.")],
    budget_flops: Annotated[str, typer.Option("--budget-flops", help="Total FLOPs you can spend on the sweep.")],
    levels: Annotated[int, typer.Option("--levels", help="IsoFLOP levels.")] = 5,
    sizes: Annotated[int, typer.Option("--sizes", help="Model sizes per level.")] = 7,
    law: LawOpt = None,
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Write the runs as a new CSV file to fill in with losses.")
    ] = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
):
    """Design the small runs (IsoFLOP levels x model sizes) to fit your own law before a big run.

    Example: scaleplan sweep --target-flops 1e23 --budget-flops 1e20 --output sweep.csv
    """
    from ..fit import parametric as fit_mod

    law_obj = law_flag(law)
    target = float(limits.check_flops(parse_flops(target_flops, "--target-flops"), "--target-flops", law_obj))
    spend = float(limits.check_flops(parse_flops(budget_flops, "--budget-flops"), "--budget-flops", law_obj))
    for flag, value in (("--levels", levels), ("--sizes", sizes)):
        if not 1 <= value <= limits.MAX_OUTPUT_ROWS:
            raise ScaleplanError(f"{flag} must be a whole number from 1 to {limits.MAX_OUTPUT_ROWS:,}, got {value:,}")
    limits.check_rows(levels * sizes, f"--levels {levels} x --sizes {sizes}")
    law_inputs = [law_obj.source] if str(law_obj.source).endswith((".yaml", ".yml")) else []
    if output is not None:
        check_target(output, law_inputs, suffix=".csv", force=force, what="--output")  # .csv: fit reads it
    design = fit_mod.design_sweep(target, spend, levels=levels, sizes_per_level=sizes, law=law_obj)
    warn(design.warnings)
    if output is not None:
        write_atomic(output, design.csv_text(), law_inputs, force=force, what="--output")
        err.print(
            f"wrote {len(design.rows)} runs to {output}: train them, fill in the loss column, then "
            f"scaleplan fit {output}",
            markup=False,
        )
    from ..present.render import emit_sweep

    emit_sweep(out, fmt, design)
