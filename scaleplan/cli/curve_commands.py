"""Training curves: curve fit (Tissue et al. 2024's law from logs) and curve predict (the loss under
learning-rate schedules)."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import ScaleplanError
from ..core.files import write_atomic
from ..present.render import Format, emit_grid
from ..schema import limits
from ..schema.units import (
    parse_positive,
)
from .base import (
    Group,
    app,
    err,
    out,
    plotter_for,
    warn,
)
from .options import (
    FormatOpt,
)

# scaleplan curve: training curves (Tissue et al. 2024 law; Hagele et al. 2024 schedules)

curve_app = typer.Typer(cls=Group, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(curve_app, name="curve")

MAX_OUTPUT_STEPS = 2_000_000  # rows of a per-step schedule file
MAX_PREDICT_STEPS = 2_000_000  # steps of a predicted curve (several per-step arrays per schedule in memory)


@curve_app.callback()
def curve_main():
    """Fit and forecast training curves: the loss at every step under any learning-rate schedule.

    Example: scaleplan curve fit train_log.csv --save curve-law.yaml
    Example: scaleplan curve predict --law curve-law.yaml --steps 20000 --peak-lr 3e-4 --best-cooldown
    """


def _curve_columns(spec: list[str]) -> dict:
    out = {}
    for item in (part for value in spec for part in value.split(",")):
        key, sep, column = item.partition("=")
        if not sep or not key.strip() or not column.strip():
            raise ScaleplanError(f"--columns takes FIELD=COLUMN pairs (fields: step, lr, loss), got {item!r}")
        out[key.strip()] = column.strip()
    return out


def _refuse_existing(path: str, force: bool, inputs=(), suffix: str | None = None) -> None:
    """Before any work: never over an input, never over an existing file without --force."""
    from ..core.files import check_target

    check_target(path, inputs, suffix=suffix, force=force)


def _whole_option(value: int, flag: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ScaleplanError(f"{flag} must be in {low:,}..{high:,}, got {value:,}")
    return value


@curve_app.command("fit")
def curve_fit(
    logs: Annotated[
        list[str],
        typer.Argument(
            metavar="LOG...",
            help="Training logs (.csv, .tsv, .jsonl, .json, .yaml; W&B or TensorBoard CSV exports) with step, learning rate and loss; two or more: fit all but the last, predict the last.",
        ),
    ],
    columns: Annotated[
        list[str], typer.Option("--columns", help="Map fields to your column names, e.g. loss=train/loss,lr=lr-AdamW.")
    ] = [],
    warmup: Annotated[
        Optional[int],
        typer.Option("--warmup", help="Warm-up steps (default: the steps before the learning rate first peaks)."),
    ] = None,
    lr_log: Annotated[
        Optional[str],
        typer.Option(
            "--lr-log",
            help="The learning rate from this second file (a TensorBoard export of the LR scalar: Step, Value); one LOG only.",
        ),
    ] = None,
    from_step: Annotated[
        int,
        typer.Option(
            "--from-step", help="Fit only logged points at or after this step (early steps often follow no power law)."
        ),
    ] = 0,
    robust: Annotated[
        bool,
        typer.Option(
            "--robust",
            help="Huber (delta 1e-3) on log-loss residuals instead of least squares: loss spikes count little.",
        ),
    ] = False,
    holdout: Annotated[
        float, typer.Option("--holdout", help="Fraction of logged points held out for the check (one log).")
    ] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the held-out draw.")] = 0,
    save: Annotated[
        Optional[str],
        typer.Option("--save", help="Write the fitted curve law to this YAML file (for curve predict --law)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --save or --plot file.")] = False,
    plot: Annotated[
        Optional[str],
        typer.Option("--plot", help="Also draw the logged and fitted curves to this PNG file (needs matplotlib)."),
    ] = None,
    fmt: FormatOpt = Format.table,
):
    """Fit L(s) = L0 + A S1^-alpha - C S2 (Tissue et al. 2024) to training logs, with a held-out check.

    Example: scaleplan curve fit train_log.csv
    Example: scaleplan curve fit wandb_export.csv --columns "loss=run-1 - train/loss,lr=run-1 - lr" --save law.yaml
    Example: scaleplan curve fit wsd_run.csv cosine_run.csv
    Example: scaleplan curve fit tb_loss.csv --lr-log tb_lr.csv
    Example: scaleplan curve fit spiky_log.csv --robust --from-step 500
    """
    from ..curves import law as curves

    if len(logs) > 64:
        raise ScaleplanError(f"at most 64 logs at once, got {len(logs)}")
    if lr_log and len(logs) > 1:
        raise ScaleplanError("--lr-log pairs with one LOG; join the learning rate into each log to fit several")
    inputs = logs + ([lr_log] if lr_log else [])
    for target, suffix in ((save, None), (plot, ".png")):
        if target:
            _refuse_existing(target, force, inputs, suffix)
    if plot:
        plotter_for(plot, inputs, force)
    mapping = _curve_columns(columns)
    loaded = [curves.load_log(p, mapping or None, warmup, lr_log) for p in logs]
    result = curves.fit_curves(
        loaded,
        holdout=holdout,
        seed=seed,
        robust=robust,
        from_step=from_step,
        name=Path(save).stem if save else "my-curve-law",
    )
    warn(result.warnings)
    record = result.to_dict()
    if save:
        import yaml

        write_atomic(save, yaml.safe_dump(record, sort_keys=False), inputs=inputs, force=force, what="--save")
        err.print(f"saved {save}: use it with scaleplan curve predict --law {save}", markup=False)
    if plot:
        from ..present import plot_curves

        plot_curves.save_fit_figure(loaded, result.law, plot, inputs=inputs, force=force)
        err.print(f"wrote {plot}", markup=False)
    law, h = result.law, result.holdout
    hl = h.get("law", {})
    rows = [
        [k, f"{v:.5g}", f"{hl[k]:.5g}" if k in hl else "-"]
        for k, v in (("L0", law.L0), ("A", law.A), ("alpha", law.alpha), ("C", law.C))
    ]
    rows += [
        ["points", f"{result.n_points:,} fitted", f"{h['n_points']:,} predicted" if h else "-"],
        ["RMSE", f"{result.rmse:.4g}", f"{h['rmse']:.4g}" if h else "-"],
        ["max error", f"{result.max_rel_error:.2%}", f"{h['max_rel_error']:.2%}" if h else "-"],
        ["R^2", f"{result.r2:.5f}", "-"],
    ]
    caption = (f"Held-out check: {h['how']}. " if h else "") + (
        "S1, S2 summed over every step (LR interpolated between logged steps; warm-up at the peak rate; "
        "lambda 0.999), as defined in arXiv 2505.07796 (secondary)."
    )
    emit_grid(
        out,
        fmt,
        "Curve law: L = L0 + A S1^-alpha - C S2 (Tissue et al. 2024)",
        ["", "all points", "held-out check"],
        rows,
        record,
        caption,
    )


def _schedule(kind, steps, peak_lr, warmup, cooldown, shape, final, milestones, factor):
    from ..curves.law import Schedule

    return Schedule(
        kind,
        steps,
        peak_lr,
        warmup=warmup,
        cooldown=cooldown,
        shape=shape,
        final_fraction=(0.1 if kind == "cosine" else 0.0) if final is None else final,
        milestones=tuple(milestones) or (0.5, 0.75),
        factor=factor,
    )


@curve_app.command("predict")
def curve_predict(
    law_file: Annotated[
        Optional[str],
        typer.Option(
            "--law", help="A curve law from curve fit --save (default: the secondary example law of arXiv 2505.07796)."
        ),
    ] = None,
    steps: Annotated[str, typer.Option("--steps", help="Total training steps, e.g. 20000 or 20K.")] = "20000",
    peak_lr: Annotated[
        Optional[str],
        typer.Option(
            "--peak-lr",
            help="Peak learning rate, in the units of the law's logs (default: the peak of the logs the law was "
            "fitted to; 2e-4 for the example law).",
        ),
    ] = None,
    warmup: Annotated[int, typer.Option("--warmup", help="Linear warm-up steps.")] = 0,
    schedules: Annotated[
        list[str], typer.Option("--schedule", help="Schedule(s) to compare: cosine, wsd, constant, step (repeat it).")
    ] = [],
    cooldown: Annotated[float, typer.Option("--cooldown", help="wsd: fraction of steps spent decaying.")] = 0.2,
    shape: Annotated[str, typer.Option("--shape", help="wsd cooldown shape: linear, 1-sqrt, cosine.")] = "1-sqrt",
    final: Annotated[
        Optional[float],
        typer.Option("--final", help="Last LR as a fraction of the peak (default: cosine 0.1, others 0)."),
    ] = None,
    milestones: Annotated[
        list[float],
        typer.Option(
            "--milestone",
            help="step: fraction of steps after which the LR is multiplied by --factor (repeat; default 0.5, 0.75).",
        ),
    ] = [],
    factor: Annotated[float, typer.Option("--factor", help="step: the factor at each milestone.")] = 0.1,
    best_cooldown: Annotated[
        bool, typer.Option("--best-cooldown", help="Also find the wsd cooldown fraction with the lowest final loss.")
    ] = False,
    target_loss: Annotated[
        Optional[float],
        typer.Option("--target-loss", help="Also find the steps each schedule needs to reach this loss."),
    ] = None,
    rows: Annotated[int, typer.Option("--rows", help="Steps shown in the loss-curve table (2..10000).")] = 11,
    schedule_table: Annotated[
        bool,
        typer.Option(
            "--schedule-table",
            help="Print the first schedule as a per-step (step, lr) table for a trainer, --rows rows.",
        ),
    ] = False,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", help="Write the first schedule's learning rate at every step to this CSV file."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output or --plot file.")] = False,
    plot: Annotated[
        Optional[str],
        typer.Option("--plot", help="Also draw the LR and loss curves to this PNG file (needs matplotlib)."),
    ] = None,
    fmt: FormatOpt = Format.table,
):
    """The loss at every step under learning-rate schedules, from a fitted curve law.

    Example: scaleplan curve predict --steps 20000 --peak-lr 2e-4 --warmup 500
    Example: scaleplan curve predict --law law.yaml --schedule wsd --best-cooldown --target-loss 3.3
    Example: scaleplan curve predict --schedule wsd --cooldown 0.2 --shape 1-sqrt --output lr.csv
    """
    from dataclasses import replace

    import numpy as np

    from ..curves import law as curves

    n_steps = parse_positive(steps, "--steps")
    if not n_steps.is_integer() or n_steps > MAX_PREDICT_STEPS:
        raise ScaleplanError(f"--steps must be a whole number in 1..{MAX_PREDICT_STEPS:,}, got {steps}")
    n_steps = int(n_steps)
    _whole_option(rows, "--rows", 2, limits.MAX_PRINTED_ROWS)
    _whole_option(warmup, "--warmup", 0, n_steps - 1)
    inputs = [law_file] if law_file else []
    if output:
        if n_steps > MAX_OUTPUT_STEPS:
            raise ScaleplanError(
                f"--output writes one row per step: at most {MAX_OUTPUT_STEPS:,} steps, got {n_steps:,}"
            )
        _refuse_existing(output, force, inputs)
    if plot:
        _refuse_existing(plot, force, inputs, ".png")
        plotter_for(plot, inputs, force)
    given_lr = None if peak_lr is None else parse_positive(peak_lr, "--peak-lr")
    law = curves.load_law(law_file) if law_file else curves.example_law()
    warn([f"{law.name}: {w}" for w in law.warnings])  # what the fit behind the law warned, said again
    kinds = list(dict.fromkeys(schedules)) or ["cosine", "wsd", "constant"]
    if len(kinds) > 8:
        raise ScaleplanError("at most 8 schedules at once")
    notes = []
    logged = (
        f"{min(law.peak_lrs):.3g}" + (f"..{max(law.peak_lrs):.3g}" if len(set(law.peak_lrs)) > 1 else "")
        if law.peak_lrs
        else ""
    )
    if given_lr is None:  # the rate the law was fitted at: another peak rate changes S1 and S2 everywhere
        lr_peak = max(law.peak_lrs) if law.peak_lrs else 2e-4
    else:
        lr_peak = given_lr
        if law.peak_lrs and not 0.99 * min(law.peak_lrs) <= lr_peak <= 1.01 * max(law.peak_lrs):
            notes.append(
                f"--peak-lr {lr_peak:g} is outside the peak learning rate of the logs {law.name} was fitted to "
                f"({logged}): the prediction extrapolates the law"
            )
    built = [_schedule(k, n_steps, lr_peak, warmup, cooldown, shape, final, milestones, factor) for k in kinds]
    curves_out = [law.curve(s) for s in built]
    finals = [float(c["loss"][-1]) for c in curves_out]
    lowest = min(float(np.nanmin(c["loss"])) for c in curves_out)
    if lowest <= 0 or not np.isfinite(lowest):
        notes.append(
            f"the predicted loss falls to {lowest:.4g}, below zero and below the law's constant-rate floor L0 = "
            f"{law.L0:.4g}: meaningless; at peak LR {lr_peak:g} the annealing term C*S2 outgrows the range the law "
            f"was fitted on{f' (its logs peaked at {logged})' if logged else ''}"
        )
    elif lowest < law.L0:
        notes.append(
            f"the predicted loss goes below L0 = {law.L0:.4g} (to {lowest:.4g}): the annealing term C*S2 takes it "
            "under the law's constant-rate floor; trust such values only near the schedules the law was fitted on"
        )
    warn(notes)
    record: dict = {"law": law.to_dict(), "schedules": [], "peak_lr": lr_peak, "warnings": notes}
    for s, c, f in zip(built, curves_out, finals):
        entry = {"schedule": s.to_dict(), "describe": s.describe(), "final_loss": f, "final_lr": float(c["lr"][-1])}
        if target_loss is not None:
            entry["steps_to_target"] = curves.steps_to_loss(law, target_loss, s, max_steps=MAX_PREDICT_STEPS)
        record["schedules"].append(entry)
    choice = None
    if best_cooldown:
        base = next(
            (s for s in built if s.kind == "wsd"),
            replace(built[0], kind="wsd", final_fraction=0.0 if final is None else final),
        )
        choice = curves.best_cooldown(law, base)
        record["best_cooldown"] = choice.to_dict()
    first = min(n_steps, max(warmup + 1, round(n_steps / rows)))  # the law says little inside warm-up
    step_rows = np.unique(np.linspace(first, n_steps, min(rows, n_steps - first + 1)).round().astype(int))
    record["curve"] = [
        {"step": int(st), **{f"loss_{s.kind}": float(c["loss"][st - 1]) for s, c in zip(built, curves_out)}}
        for st in step_rows
    ]
    if schedule_table:
        record["schedule_table"] = built[0].table(rows)
    if output:
        lr = built[0].lr()
        text = "step,lr\n" + "".join(f"{i},{v:.9g}\n" for i, v in enumerate(lr, start=1))
        write_atomic(output, text, inputs=inputs, force=force, what="--output")
        err.print(f"wrote {n_steps:,} steps of {built[0].describe()} to {output}", markup=False)
    if plot:
        from ..present import plot_curves

        plot_curves.save_predict_figure(built, curves_out, plot, inputs=inputs, force=force)
        err.print(f"wrote {plot}", markup=False)
    if fmt == Format.csv:  # one row per schedule, as the table
        emit_grid(
            out,
            fmt,
            None,
            [],
            [],
            [
                {
                    "schedule": e["schedule"]["kind"],
                    "final_loss": e["final_loss"],
                    "final_lr": e["final_lr"],
                    "steps_to_target": e.get("steps_to_target"),
                    **{k: v for k, v in e["schedule"].items() if k != "kind"},
                }
                for e in record["schedules"]
            ],
        )
        return
    if fmt != Format.table and fmt != Format.markdown:
        emit_grid(out, fmt, None, [], [], record)
        return
    best = min(finals)
    table = [[s.kind, s.shape_text(), f"{f:.4f}", f"{f - best:+.4f}"] for s, f in zip(built, finals)]
    headers = ["schedule", "shape", "final loss", "vs best"]
    if target_loss is not None:
        headers.append(f"steps to {target_loss:g}")
        table = [
            row + ["not reached" if e["steps_to_target"] is None else f"{e['steps_to_target']:,}"]
            for row, e in zip(table, record["schedules"])
        ]
    emit_grid(
        out,
        fmt,
        f"Predicted final loss after {n_steps:,} steps (peak LR {lr_peak:g})",
        headers,
        table,
        {},
        f"Law: {law.name} (L0 {law.L0:.4g}, A {law.A:.4g}, alpha {law.alpha:.4g}, C {law.C:.4g}).",
    )
    out.print()
    emit_grid(
        out,
        fmt,
        "Predicted loss curve",
        ["step"] + [s.kind for s in built],
        [[f"{r['step']:,}"] + [f"{r[f'loss_{s.kind}']:.4f}" for s in built] for r in record["curve"]],
        {},
    )
    if choice is not None:
        out.print()
        picks = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, choice.best]
        shown = sorted({min(choice.fractions, key=lambda f: abs(f - p)) for p in picks})
        emit_grid(
            out,
            fmt,
            f"Best cooldown: {choice.best:.0%}",
            ["cooldown", "final loss"],
            [[f"{f:.0%}", f"{choice.final_losses[list(choice.fractions).index(f)]:.4f}"] for f in shown],
            {},
            f"wsd, {choice.schedule.shape} cooldown. Hagele et al. 2024: ~20% is enough; 1-sqrt beats linear.",
        )
    if schedule_table:
        out.print()
        emit_grid(
            out,
            fmt,
            "Learning rate by step",
            ["step", "learning rate"],
            [[f"{r['step']:,}", f"{r['lr']:.4g}"] for r in record["schedule_table"]],
            {},
            built[0].describe(),
        )
