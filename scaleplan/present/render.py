"""The one rendering path: any result to its table in any format (`emit`, which the CLI calls, and
`render_result`, which `result.to_table()` calls), the answer first (`print_answer`) and the warnings grouped
(`print_warnings`).

The tables live by job in this part: tables (the grid and the machine formats), plan_rows (a plan's rows),
plan_tables (the planning modes), run_tables (precision, cluster, serving), reference_tables (laws, hardware,
checks, recipe helpers) and fit_tables; their names are re-exported here, the part's one entry for its callers.
Data goes to stdout; warnings go to stderr, so `--format json | jq` always works.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.text import Text

from .curve_tables import emit_curve_fit
from .fit_tables import emit_fit, emit_fit_alone, emit_fit_vp, emit_isoflop
from .plan_rows import (
    SHORT_CONVENTION,
    cluster_lines,
    cost_lines,
    interval_lines,
    loss_text,
    lr_lines,
    moe_cost_lines,
    moe_recipe_caption,
    moe_recipe_lines,
    plan_lines,
    precision_lines,
    recipe_lines,
    serving_assumptions,
    serving_lines,
)
from .plan_tables import (
    emit_comparison,
    emit_constrained,
    emit_fixed_moe,
    emit_inference,
    emit_inference_sweep,
    emit_moe,
    emit_overtrain,
    emit_plans,
    inference_caption,
    inference_rows,
)
from .reference_tables import (
    check_lines,
    emit_check,
    emit_checks,
    emit_entry,
    emit_flops,
    emit_hardware,
    emit_hparams,
    emit_law,
    emit_laws,
    emit_sweep,
    emit_vocab,
)
from .run_tables import (
    emit_cluster,
    emit_cost,
    emit_layout,
    emit_precision,
    emit_serving,
    memory_table,
    precision_records,
    serving_rows,
)
from .tables import (
    Format,
    csv_cell,
    emit_grid,
    fits_whole_words,
    flatten,
    gap,
    grid_table,
    nulled_warning,
    printable,
    short_source,
    stacked,
    to_csv,
    to_json,
    to_markdown,
    write_raw,
)

# ---------------------------------------------------------------------------------------------------------------
# Results render themselves: the one path from any result to its table, for the CLI and for `result.to_table()`


def _emit_each(emit_one):
    """An emitter of one scalar result applied to each budget of a vectorised one, a blank line between."""

    def emit_all(console: Console, fmt: Format, result) -> None:
        for i, one in enumerate(result if np.ndim(result.flops) else [result]):
            if i:
                gap(console, fmt)
            emit_one(console, fmt, one)

    return emit_all


def _emit_inference_plan(console: Console, fmt: Format, plan) -> None:
    from ..pipeline.inference import describe_break_even

    if np.ndim(plan.inference_tokens):
        emit_inference_sweep(console, fmt, list(plan), describe_break_even(plan))
    else:
        emit_inference(console, fmt, plan, describe_break_even(plan))


_EMITTERS = {
    "Plan": lambda console, fmt, plan: emit_plans(console, fmt, list(plan)),
    "ConstrainedPlan": _emit_each(lambda console, fmt, p: emit_constrained(console, fmt, p, p.cost)),
    "MoePlan": _emit_each(lambda console, fmt, p: emit_moe(console, fmt, p, p.cost)),
    "OvertrainReport": lambda console, fmt, r: emit_overtrain(console, fmt, r, r.cost),
    "FixedMoePlan": emit_fixed_moe,
    "InferencePlan": _emit_inference_plan,
    "PrecisionReport": emit_precision,
    "ClusterPlan": emit_cluster,
    "Serving": lambda console, fmt, s: emit_serving(console, fmt, [("model", s)], "Serving"),
    "Comparison": emit_comparison,
    "ParametricFit": emit_fit_alone,  # either estimator (scaleplan.VPFit is the same type)
    "Sweep": emit_sweep,
    "VocabResult": emit_vocab,
    "IsoflopFit": emit_isoflop,
    "CostBreakdown": emit_cost,
    "LayoutPlan": emit_layout,
    "CurveFit": lambda console, fmt, r: emit_curve_fit(console, fmt, r, r.to_dict()),
}


def emit(console: Console, fmt: Format, result) -> None:
    """Any result in `fmt`, by its own table: what the CLI prints and `result.to_table()` returns."""
    emitter = _EMITTERS.get(type(result).__name__)
    if emitter is None:  # a plan of another type with the Plan's fields
        emitter = _EMITTERS["Plan"] if hasattr(result, "params_convention") else None
    if emitter is None and hasattr(result, "to_dict"):
        emitter = emit_fields  # a result with no table of its own: its JSON fields, one row each
    if emitter is None:
        from ..core.errors import ScaleplanError

        raise ScaleplanError(f"no table for a {type(result).__name__}")
    emitter(console, fmt, result)


def field_rows(record: dict, prefix: str = "") -> list[list[str]]:
    """(field, value) rows of a result's JSON form: nested blocks as dotted names, lists as JSON text."""
    import json

    rows: list[list[str]] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += field_rows(value, name + ".")
        elif isinstance(value, float):
            rows.append([name, f"{value:.6g}"])
        elif isinstance(value, int) and not isinstance(value, bool):
            rows.append([name, f"{value:,}"])
        elif isinstance(value, (list, tuple)):
            rows.append([name, json.dumps(value, default=str)])
        else:
            rows.append([name, str(value)])
    return rows


def emit_fields(console: Console, fmt: Format, result) -> None:
    """A result's fields as a two-column table (text, markdown, CSV), or its JSON: the same numbers as to_dict()."""
    record = result.to_dict()
    emit_grid(console, fmt, type(result).__name__, ["field", "value"], field_rows(record), record)


TABLE_FORMATS = ("text", "markdown", "csv", "json")


def render_result(result, fmt: str = "text", width: int | None = None) -> str:
    """`result.to_table(fmt, width)`: the CLI's table as text (plain, `width` columns), markdown, CSV or JSON;
    "notebook" is the summary and the markdown table (a notebook's `_repr_markdown_`)."""
    import io

    from ..core.errors import ScaleplanError

    if fmt not in (*TABLE_FORMATS, "notebook"):
        raise ScaleplanError(f"<fmt> must be one of {', '.join(TABLE_FORMATS)}, got {fmt!r}")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or not 40 <= width <= 1000):
        raise ScaleplanError(f"<width> must be a whole number of columns from 40 to 1000, got {width!r}")
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width or 100,
        color_system=None,
        force_terminal=False,
        highlight=False,
        markup=False,
        emoji=False,
    )
    kind = {"text": Format.table, "notebook": Format.markdown}.get(fmt) or Format(fmt)
    if fmt == "notebook":
        print_answer(console, Format.markdown, result)
    emit(console, kind, result)
    text = buf.getvalue()
    return "".join(line.rstrip() + "\n" for line in text.splitlines()) if kind is Format.table else text


# ---------------------------------------------------------------------------------------------------------------
# The answer first, then the warnings grouped (scaleplan.present.answer)


def print_answer(console: Console, fmt: Format, result, title: str | None = None) -> None:
    """The answer's lines at the top of a planning command: what breaks the budget first, then the model and the
    run (table: coloured where the terminal allows; markdown: a list; the machine formats carry it in their data).
    `result` may be the lines themselves (scaleplan.present.answer.Line); `title` names a scenario among several."""
    from .answer import answer

    lines = result if isinstance(result, list) else answer(result)
    if fmt is Format.markdown:
        head = f"**{printable(title)}**\n\n" if title else ""
        write_raw(console, head + "".join(f"- **{x.label}**: {printable(x.text)}\n" for x in lines) + "\n")
    elif fmt is Format.table:
        if title:
            console.print(Text(printable(title), style="bold underline"))
        for line in lines:
            style = "bold red" if line.alert else "bold"
            console.print(Text.assemble((f"{line.label}: ", style), printable(line.text)), soft_wrap=False)
        console.print()


def print_warnings(console: Console, warnings, with_breaks: bool = True) -> None:
    """Each warning once on `console` (stderr): every extrapolation in one line, 'warning:' in yellow where the
    terminal allows. `with_breaks=False` leaves out what the answer already said (over the budget, past a limit)."""
    from .answer import sort_warnings

    for w in sort_warnings(warnings).lines(with_breaks):
        console.print(Text.assemble(("warning: ", "yellow"), printable(w)), soft_wrap=True)


__all__ = [
    "SHORT_CONVENTION",
    "TABLE_FORMATS",
    "Format",
    "check_lines",
    "cluster_lines",
    "cost_lines",
    "csv_cell",
    "emit",
    "emit_check",
    "emit_checks",
    "emit_cluster",
    "emit_comparison",
    "emit_constrained",
    "emit_cost",
    "emit_entry",
    "emit_fit",
    "emit_fit_alone",
    "emit_fit_vp",
    "emit_fixed_moe",
    "emit_flops",
    "emit_grid",
    "emit_hardware",
    "emit_hparams",
    "emit_inference",
    "emit_inference_sweep",
    "emit_isoflop",
    "emit_law",
    "emit_laws",
    "emit_layout",
    "emit_moe",
    "emit_overtrain",
    "emit_plans",
    "emit_precision",
    "emit_serving",
    "emit_sweep",
    "emit_vocab",
    "fits_whole_words",
    "flatten",
    "gap",
    "grid_table",
    "inference_caption",
    "inference_rows",
    "interval_lines",
    "loss_text",
    "lr_lines",
    "memory_table",
    "moe_cost_lines",
    "moe_recipe_caption",
    "moe_recipe_lines",
    "nulled_warning",
    "plan_lines",
    "precision_lines",
    "precision_records",
    "print_answer",
    "print_warnings",
    "printable",
    "recipe_lines",
    "render_result",
    "serving_assumptions",
    "serving_lines",
    "serving_rows",
    "short_source",
    "stacked",
    "to_csv",
    "to_json",
    "to_markdown",
    "write_raw",
]
