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
from ..present.curve_tables import emit_curve_fit, emit_curve_predict
from ..present.render import Format
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


LogsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="LOG...",
        help="Training logs (.csv, .tsv, .jsonl, .json, .yaml; W&B or TensorBoard CSV exports) with step, learning rate and loss; two or more: fit all but the last, predict the last.",
    ),
]
CurveColumnsOpt = Annotated[
    list[str], typer.Option("--columns", help="Map fields to your column names, e.g. loss=train/loss,lr=lr-AdamW.")
]
WarmupStepsOpt = Annotated[
    Optional[int],
    typer.Option("--warmup", help="Warm-up steps (default: the steps before the learning rate first peaks)."),
]
LrLogOpt = Annotated[
    Optional[str],
    typer.Option(
        "--lr-log",
        help="The learning rate from this second file (a TensorBoard export of the LR scalar: Step, Value); one LOG only.",
    ),
]
FromStepOpt = Annotated[
    int,
    typer.Option(
        "--from-step", help="Fit only logged points at or after this step (early steps often follow no power law)."
    ),
]
RobustOpt = Annotated[
    bool,
    typer.Option(
        "--robust",
        help="Huber (delta 1e-3) on log-loss residuals instead of least squares: loss spikes count little.",
    ),
]
HoldoutOpt = Annotated[
    float, typer.Option("--holdout", help="Fraction of logged points held out for the check (one log).")
]
HoldoutSeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the held-out draw.")]
CurveSaveOpt = Annotated[
    Optional[str],
    typer.Option("--save", help="Write the fitted curve law to this YAML file (for curve predict --law)."),
]
CurveForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing --save or --plot file.")]
CurveFitPlotOpt = Annotated[
    Optional[str],
    typer.Option("--plot", help="Also draw the logged and fitted curves to this PNG file (needs matplotlib)."),
]


@curve_app.command("fit")
def curve_fit(
    logs: LogsArg,
    columns: CurveColumnsOpt = [],
    warmup: WarmupStepsOpt = None,
    lr_log: LrLogOpt = None,
    from_step: FromStepOpt = 0,
    robust: RobustOpt = False,
    holdout: HoldoutOpt = 0.3,
    seed: HoldoutSeedOpt = 0,
    save: CurveSaveOpt = None,
    force: CurveForceOpt = False,
    plot: CurveFitPlotOpt = None,
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
    emit_curve_fit(out, fmt, result, record)


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


CurveLawOpt = Annotated[
    Optional[str],
    typer.Option(
        "--law", help="A curve law from curve fit --save (default: the secondary example law of arXiv 2505.07796)."
    ),
]
StepsOpt = Annotated[str, typer.Option("--steps", help="Total training steps, e.g. 20000 or 20K.")]
PeakLrOpt = Annotated[
    Optional[str],
    typer.Option(
        "--peak-lr",
        help="Peak learning rate, in the units of the law's logs (default: the peak of the logs the law was "
        "fitted to; 2e-4 for the example law).",
    ),
]
WarmupOpt = Annotated[int, typer.Option("--warmup", help="Linear warm-up steps.")]
SchedulesOpt = Annotated[
    list[str], typer.Option("--schedule", help="Schedule(s) to compare: cosine, wsd, constant, step (repeat it).")
]
CooldownOpt = Annotated[float, typer.Option("--cooldown", help="wsd: fraction of steps spent decaying.")]
ShapeOpt = Annotated[str, typer.Option("--shape", help="wsd cooldown shape: linear, 1-sqrt, cosine.")]
FinalOpt = Annotated[
    Optional[float],
    typer.Option("--final", help="Last LR as a fraction of the peak (default: cosine 0.1, others 0)."),
]
MilestonesOpt = Annotated[
    list[float],
    typer.Option(
        "--milestone",
        help="step: fraction of steps after which the LR is multiplied by --factor (repeat; default 0.5, 0.75).",
    ),
]
FactorOpt = Annotated[float, typer.Option("--factor", help="step: the factor at each milestone.")]
BestCooldownOpt = Annotated[
    bool, typer.Option("--best-cooldown", help="Also find the wsd cooldown fraction with the lowest final loss.")
]
CurveTargetLossOpt = Annotated[
    Optional[float],
    typer.Option("--target-loss", help="Also find the steps each schedule needs to reach this loss."),
]
RowsOpt = Annotated[int, typer.Option("--rows", help="Steps shown in the loss-curve table (2..10000).")]
ScheduleTableOpt = Annotated[
    bool,
    typer.Option(
        "--schedule-table",
        help="Print the first schedule as a per-step (step, lr) table for a trainer, --rows rows.",
    ),
]
OutputCsvOpt = Annotated[
    Optional[str],
    typer.Option("--output", "-o", help="Write the first schedule's learning rate at every step to this CSV file."),
]
PredictForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing --output or --plot file.")]
PredictPlotOpt = Annotated[
    Optional[str],
    typer.Option("--plot", help="Also draw the LR and loss curves to this PNG file (needs matplotlib)."),
]


@curve_app.command("predict")
def curve_predict(
    law_file: CurveLawOpt = None,
    steps: StepsOpt = "20000",
    peak_lr: PeakLrOpt = None,
    warmup: WarmupOpt = 0,
    schedules: SchedulesOpt = [],
    cooldown: CooldownOpt = 0.2,
    shape: ShapeOpt = "1-sqrt",
    final: FinalOpt = None,
    milestones: MilestonesOpt = [],
    factor: FactorOpt = 0.1,
    best_cooldown: BestCooldownOpt = False,
    target_loss: CurveTargetLossOpt = None,
    rows: RowsOpt = 11,
    schedule_table: ScheduleTableOpt = False,
    output: OutputCsvOpt = None,
    force: PredictForceOpt = False,
    plot: PredictPlotOpt = None,
    fmt: FormatOpt = Format.table,
):
    """The loss at every step under learning-rate schedules, from a fitted curve law.

    Example: scaleplan curve predict --steps 20000 --peak-lr 2e-4 --warmup 500
    Example: scaleplan curve predict --law law.yaml --schedule wsd --best-cooldown --target-loss 3.3
    Example: scaleplan curve predict --schedule wsd --cooldown 0.2 --shape 1-sqrt --output lr.csv
    """
    import numpy as np

    from ..curves import law as curves

    n_steps = _steps(steps)
    _whole_option(rows, "--rows", 2, limits.MAX_PRINTED_ROWS)
    _whole_option(warmup, "--warmup", 0, n_steps - 1)
    inputs = [law_file] if law_file else []
    _check_outputs(output, plot, n_steps, inputs, force)
    given_lr = None if peak_lr is None else parse_positive(peak_lr, "--peak-lr")
    law = curves.load_law(law_file) if law_file else curves.example_law()
    warn([f"{law.name}: {w}" for w in law.warnings])  # what the fit behind the law warned, said again
    kinds = list(dict.fromkeys(schedules)) or ["cosine", "wsd", "constant"]
    if len(kinds) > 8:
        raise ScaleplanError("at most 8 schedules at once")
    lr_peak, notes = _peak_lr(law, given_lr)
    built = [_schedule(k, n_steps, lr_peak, warmup, cooldown, shape, final, milestones, factor) for k in kinds]
    curves_out = [law.curve(s) for s in built]
    finals = [float(c["loss"][-1]) for c in curves_out]
    notes += _floor_notes(law, curves_out, lr_peak)
    warn(notes)
    record, choice = _predict_record(law, built, curves_out, notes, lr_peak, target_loss, best_cooldown, final)
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
    emit_curve_predict(out, fmt, record, built, finals, n_steps, lr_peak, law, target_loss, choice)


def _steps(steps: str) -> int:
    n_steps = parse_positive(steps, "--steps")
    if not n_steps.is_integer() or n_steps > MAX_PREDICT_STEPS:
        raise ScaleplanError(f"--steps must be a whole number in 1..{MAX_PREDICT_STEPS:,}, got {steps}")
    return int(n_steps)


def _check_outputs(output: str | None, plot: str | None, n_steps: int, inputs: list, force: bool) -> None:
    """--output and --plot, refused before any work: never over an input, an existing file only with --force."""
    if output:
        if n_steps > MAX_OUTPUT_STEPS:
            raise ScaleplanError(
                f"--output writes one row per step: at most {MAX_OUTPUT_STEPS:,} steps, got {n_steps:,}"
            )
        _refuse_existing(output, force, inputs)
    if plot:
        _refuse_existing(plot, force, inputs, ".png")
        plotter_for(plot, inputs, force)


def _logged_peaks(law) -> str:
    """The peak learning rates of the logs the law was fitted to, as text ('' when the law does not say)."""
    if not law.peak_lrs:
        return ""
    return f"{min(law.peak_lrs):.3g}" + (f"..{max(law.peak_lrs):.3g}" if len(set(law.peak_lrs)) > 1 else "")


def _peak_lr(law, given_lr: float | None) -> tuple[float, list[str]]:
    """The peak LR to predict at (the law's own when not given: another rate changes S1 and S2 everywhere) and a
    note when a given one lies outside the rates the law was fitted at."""
    if given_lr is None:
        return (max(law.peak_lrs) if law.peak_lrs else 2e-4), []
    if law.peak_lrs and not 0.99 * min(law.peak_lrs) <= given_lr <= 1.01 * max(law.peak_lrs):
        return given_lr, [
            f"--peak-lr {given_lr:g} is outside the peak learning rate of the logs {law.name} was fitted to "
            f"({_logged_peaks(law)}): the prediction extrapolates the law"
        ]
    return given_lr, []


def _floor_notes(law, curves_out: list, lr_peak: float) -> list[str]:
    """A note when a predicted loss falls below the law's constant-rate floor L0 (or below zero)."""
    import numpy as np

    lowest = min(float(np.nanmin(c["loss"])) for c in curves_out)
    logged = _logged_peaks(law)
    if lowest <= 0 or not np.isfinite(lowest):
        return [
            f"the predicted loss falls to {lowest:.4g}, below zero and below the law's constant-rate floor L0 = "
            f"{law.L0:.4g}: meaningless; at peak LR {lr_peak:g} the annealing term C*S2 outgrows the range the law "
            f"was fitted on{f' (its logs peaked at {logged})' if logged else ''}"
        ]
    if lowest < law.L0:
        return [
            f"the predicted loss goes below L0 = {law.L0:.4g} (to {lowest:.4g}): the annealing term C*S2 takes it "
            "under the law's constant-rate floor; trust such values only near the schedules the law was fitted on"
        ]
    return []


def _predict_record(law, built, curves_out, notes, lr_peak, target_loss, best_cooldown: bool, final):
    """(the JSON record of the predictions, the best cooldown found or None)."""
    from dataclasses import replace

    from ..curves import law as curves

    record: dict = {"law": law.to_dict(), "schedules": [], "peak_lr": lr_peak, "warnings": notes}
    for s, c in zip(built, curves_out):
        final_loss = float(c["loss"][-1])
        entry = {"schedule": s.to_dict(), "describe": s.describe(), "final_loss": final_loss}
        entry["final_lr"] = float(c["lr"][-1])
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
    return record, choice
