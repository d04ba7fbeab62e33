"""Training-curve tables: a curve law fitted to logs with its held-out check (`curve fit`), and the losses predicted
under learning-rate schedules (`curve predict`), in every format from the same record."""

from __future__ import annotations

from rich.console import Console

from .tables import Format, emit_grid


def emit_curve_fit(console: Console, fmt: Format, result, record: dict) -> None:
    """The fitted law's constants and its fit on all points beside the held-out check (scaleplan.curves.law)."""
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
        console,
        fmt,
        "Curve law: L = L0 + A S1^-alpha - C S2 (Tissue et al. 2024)",
        ["", "all points", "held-out check"],
        rows,
        record,
        caption,
    )


def emit_curve_predict(
    console: Console, fmt: Format, record: dict, built, finals, n_steps, lr_peak, law, target_loss, choice
) -> None:
    """Predicted final losses per schedule, the loss curve, the best cooldown and the per-step schedule table, or
    the record (JSON; CSV one row per schedule)."""
    if fmt == Format.csv:  # one row per schedule, as the table
        emit_grid(console, fmt, None, [], [], [_schedule_row(e) for e in record["schedules"]])
        return
    if fmt != Format.table and fmt != Format.markdown:
        emit_grid(console, fmt, None, [], [], record)
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
        console,
        fmt,
        f"Predicted final loss after {n_steps:,} steps (peak LR {lr_peak:g})",
        headers,
        table,
        {},
        f"Law: {law.name} (L0 {law.L0:.4g}, A {law.A:.4g}, alpha {law.alpha:.4g}, C {law.C:.4g}).",
    )
    console.print()
    emit_grid(
        console,
        fmt,
        "Predicted loss curve",
        ["step"] + [s.kind for s in built],
        [[f"{r['step']:,}"] + [f"{r[f'loss_{s.kind}']:.4f}" for s in built] for r in record["curve"]],
        {},
    )
    _cooldown_and_schedule(console, fmt, record, built, choice)


def _schedule_row(entry: dict) -> dict:
    """One schedule's CSV row: its kind, final loss and LR, steps to the target and its settings."""
    return {
        "schedule": entry["schedule"]["kind"],
        "final_loss": entry["final_loss"],
        "final_lr": entry["final_lr"],
        "steps_to_target": entry.get("steps_to_target"),
        **{k: v for k, v in entry["schedule"].items() if k != "kind"},
    }


def _cooldown_and_schedule(console: Console, fmt: Format, record: dict, built, choice) -> None:
    """The best wsd cooldown (--best-cooldown) and the first schedule's LR by step (--schedule-table), if asked."""
    if choice is not None:
        console.print()
        picks = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, choice.best]
        shown = sorted({min(choice.fractions, key=lambda f: abs(f - p)) for p in picks})
        emit_grid(
            console,
            fmt,
            f"Best cooldown: {choice.best:.0%}",
            ["cooldown", "final loss"],
            [[f"{f:.0%}", f"{choice.final_losses[list(choice.fractions).index(f)]:.4f}"] for f in shown],
            {},
            f"wsd, {choice.schedule.shape} cooldown. Hagele et al. 2024: ~20% is enough; 1-sqrt beats linear.",
        )
    if "schedule_table" in record:
        console.print()
        emit_grid(
            console,
            fmt,
            "Learning rate by step",
            ["step", "learning rate"],
            [[f"{r['step']:,}", f"{r['lr']:.4g}"] for r in record["schedule_table"]],
            {},
            built[0].describe(),
        )
