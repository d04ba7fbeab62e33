"""`scaleplan plan FILE --report DIR` and `scaleplan allocate ... --report DIR`: a folder to paste into a design doc.

    DIR/README.md                  the decision first (one line per scenario: model, tokens, GPUs x days, dollars for
                                   training and serving), then each scenario's table under a title that says its mode,
                                   the inference-aware sizing where tokens are served, the figures with a one-line
                                   reading, each warning once and each source once (as footnotes)
    DIR/allocation.png             N_opt(C) and D_opt(C) of every law the plans use, each scenario's budget marked
    DIR/isoflop-<law>-<C>.png      the IsoFLOP valley and its 0.5% band, per distinct (law, budget) that predicts loss
    DIR/inference-<NN>-<name>.png  total cost against N and optimal N against demand, per scenario that serves tokens

Every mode is reported (compute-optimal, inference-aware, data-constrained, a given model, MoE); the figures are drawn
for the plans they apply to, and a section with nothing to say is left out. Everything is computed and drawn in
memory first; then the PNGs are written, README.md last, each through files.write_atomic (never over an input, never
half-written). The folder may not be the budget file's own folder, so a report never lands among its inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ScaleplanError

README = "README.md"


@dataclass(frozen=True)
class Report:
    folder: Path
    files: tuple[Path, ...]  # in the order written; README.md last
    plans: tuple  # one result per scenario, as `scaleplan plan FILE` computes them
    warnings: tuple[str, ...]  # each once, as the report lists them


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return slug[:limit].rstrip("-") or "scenario"


def _budget(plan) -> float:
    """The FLOP budget a scenario gave (a serving plan recommends a model that trains on more)."""
    return float(plan.budget_flops if getattr(plan, "budget_flops", None) is not None else plan.flops)


def _flops_slug(c: float) -> str:
    return f"{c:.3g}".replace("+", "").replace(".", "p")


def check_folder(budget_path, out_dir, force: bool = False) -> Path:
    """The report folder, checked before any work: a new folder (its parent must exist) or an empty one; with
    `force`, a folder with files, of which the report replaces only its own names. Never the input's folder
    (`budget_path` None: a report of flags, whose input files `check_inputs` checks once they are read)."""
    from ..core.files import probe_writable

    text = str(out_dir)
    if not text.strip():
        raise ScaleplanError("--report: empty path; give a folder name")
    out = Path(text)
    shown = f"--report {text}"
    if any(len(part.encode()) > 255 for part in out.parts) or len(text.encode()) > 4000:
        raise ScaleplanError(f"{shown}: folder name too long")
    if out.exists() and not out.is_dir():
        raise ScaleplanError(f"{shown}: exists and is not a folder; give a new or empty folder")
    src = Path(budget_path) if budget_path is not None else None
    if src is not None and src.exists() and out.exists() and out.resolve() == src.resolve().parent:
        raise ScaleplanError(
            f"{shown}: refusing to write the report into the folder of the input file "
            f"{src}; give a folder of its own, e.g. --report {src.stem}-report"
        )
    if out.is_dir():
        entries = sum(1 for _ in out.iterdir())
        if entries and not force:
            raise ScaleplanError(
                f"{shown}: the folder is not empty ({entries} entr{'y' if entries == 1 else 'ies'}); "
                "give a new or empty folder, or --force to replace only the report's own files"
            )
        probe_writable(out, shown)
    else:
        parent = out.parent if str(out.parent) else Path(".")
        if parent.exists() and not parent.is_dir():
            raise ScaleplanError(f"{shown}: {parent} is a file, not a folder")
        if not parent.is_dir():
            raise ScaleplanError(f"{shown}: folder {parent} does not exist")
        probe_writable(parent, shown)
    return out


def check_inputs(out_dir) -> None:
    """Once the budget is read (its law and hardware files too), no input may sit in the report folder: the
    report's own names could be any of them, even with `--force`."""
    from ..core.files import inputs_read

    out = Path(str(out_dir))
    if not out.is_dir():
        return
    folder = out.resolve()
    readme = out / README
    for source in inputs_read():
        if readme.exists() and source.exists() and readme.samefile(source):
            raise ScaleplanError(f"--report {out_dir}: refusing to write over {readme}, the input file {source}")
        if source.parent == folder:
            raise ScaleplanError(
                f"--report {out_dir}: refusing to write the report into the folder of the input file "
                f"{source}; give a folder of its own"
            )


def check_count(count: int, what: str, out_dir) -> None:
    from ..schema import limits

    if count > limits.MAX_REPORT_SCENARIOS:
        raise ScaleplanError(
            f"--report {out_dir}: {what} has {count} scenarios; a report draws figures for at "
            f"most {limits.MAX_REPORT_SCENARIOS} (split the file, or run plan without --report)"
        )


def write_report(
    budget_path,
    out_dir,
    law: str | None = None,
    *,
    figures: bool = True,
    points: int = 150,
    force: bool = False,
    overrides=None,
) -> Report:
    """Plan every scenario of a budget file and write the report folder. Returns what was written.

    `law` overrides every scenario's law (as `scaleplan plan FILE --law`), `overrides` (a Budget) its other fields;
    `figures=False` writes the markdown only (no matplotlib needed). All files are written or none: a failure
    removes what this call created.
    """
    from ..core.files import command

    with command():  # the hardware and law files the budget names are inputs too: never written over
        from ..pipeline.budget import load_budget_file

        src = Path(budget_path)
        check_folder(src, out_dir, force=force)
        budgets = load_budget_file(src, law, overrides)
        check_count(len(budgets), str(src), out_dir)
        return _write(budgets, out_dir, law, figures, points, force, src.name, f"scaleplan plan {src.name}", [src])


def write_plan_report(
    budget,
    out_dir,
    *,
    figures: bool = True,
    points: int = 150,
    force: bool = False,
    title: str = "allocate",
    result=None,
) -> Report:
    """The report of one budget given as flags or in Python (`scaleplan allocate ... --report DIR`); `result` is
    its plan when already computed (`scaleplan.plan_budget(budget)`)."""
    from ..core.files import command

    with command():
        check_folder(None, out_dir, force=force)
        results = None if result is None else [result]
        return _write([budget], out_dir, None, figures, points, force, title, "scaleplan allocate", (), results)


def _write(budgets, out_dir, law, figures, points, force, title, command, inputs=(), results=None) -> Report:
    from ..core.files import inputs_read, write_files
    from ..pipeline.stages import plan_budget

    out = Path(str(out_dir))
    if results is None:
        results = [plan_budget(b, law) for b in budgets]
    chosen = [b.law_spec(law) for b in budgets]
    check_inputs(out_dir)  # after planning: every law and hardware file a scenario names has been read
    inputs = [*inputs, *inputs_read()]
    images, figure_text = _figures(results, chosen, points) if figures else ({}, "")
    text = report_markdown(title, command, budgets, results, figure_text)

    created = not out.exists()
    out.mkdir(exist_ok=True)
    items: dict[Path, str | bytes] = {out / name: data for name, data in images.items()}
    items[out / README] = text  # last, so a reader never finds a README pointing at missing figures
    try:
        written = write_files(items, inputs, force=force, what="--report")
    except BaseException:
        if created:
            try:
                out.rmdir()
            except OSError:
                pass
        raise
    return Report(folder=out, files=tuple(written), plans=tuple(results), warnings=tuple(merged_warnings(results)))


# ---------------------------------------------------------------------------------------------------------------
# What each scenario is


def _serves(plan) -> bool:
    import numpy as np

    inf = getattr(plan, "inference", None)
    return inf is not None and bool(np.any(np.asarray(inf.inference_tokens, dtype=float) > 0))


def mode_title(budget, result) -> str:
    """The question a scenario asked, in words: the title of its section."""
    from ..schema.units import fmt_sci

    mode = budget.mode
    if mode == "compute-optimal":
        if getattr(result, "total_budget", None) is not None:
            return "training and serving within one budget"
        if _serves(result):
            inf = result.inference
            what = "FLOPs" if inf.objective == "flops" else "dollars"
            served = f"{fmt_sci(float(inf.inference_tokens))} tokens served"
            if inf.flops is None:
                return f"inference-aware, quality as a loss: least total {what} with {served}"
            return f"inference-aware: least total {what} with {served}"
        return "compute-optimal"
    return {
        "data-constrained": "data-constrained: limited unique data, repeated",
        "fixed": "a given model, judged by the laws",
        "moe": "compute-optimal mixture of experts",
        "fixed-moe": "a given mixture of experts",
    }.get(mode, mode)


def _names(results) -> list[str]:
    """Each scenario's name; an unnamed one is 'the plan' when alone, else 'scenario N'."""
    if len(results) == 1:
        return [results[0].name or "the plan"]
    return [p.name or f"scenario {i + 1}" for i, p in enumerate(results)]


def over_budget(results) -> list[str]:
    """What breaks the budget or a limit, per scenario (the answer's first lines, scaleplan.present.answer)."""
    from .answer import sort_warnings

    return [f"{name}: {w}" for name, p in zip(_names(results), results) for w in sort_warnings(p.warnings).breaks]


def _plan_words(budget, result, record: dict) -> str:
    """'compute-optimal, epoch': the mode and the law it planned with (a given MoE is priced, not planned by one)."""
    law = record.get("law") or getattr(result, "law", "")
    mode = _short_mode(budget, result)
    return mode if budget.mode == "fixed-moe" or not law else f"{mode}, {law}"


def _short_mode(budget, result) -> str:
    title = mode_title(budget, result)
    return title.split(":")[0]


def summary_rows(budgets, results) -> tuple[list[str], list[list[str]]]:
    """One line per scenario: what to train, on what, for how long, for how much."""
    from ..schema.units import fmt_count, fmt_dollars, fmt_duration, fmt_number

    headers = ["scenario", "plan", "model", "tokens", "run", "training", "serving", "total"]
    rows = []
    for i, (b, p) in enumerate(zip(budgets, results)):
        d = p.to_dict()
        c = d.get("cost") or {}
        shape = d.get("shape") or {}
        if d.get("params_active") is not None:
            model = f"{fmt_count(d['params_active'])} active of {fmt_count(d['params_total'])}"
        else:
            model = fmt_count(d.get("params_total") or d["params"])
        if shape.get("layers") and shape.get("d_model"):
            model += f" ({shape['layers']} x {fmt_number(shape['d_model'])})"
        gpus, days = c.get("gpus"), c.get("days")
        hardware = c.get("hardware", "")
        run = "-" if gpus is None or days is None else f"{fmt_number(gpus)} {hardware} x {fmt_duration(days)}"
        training, serving = c.get("dollars"), c.get("inference_dollars")
        total = c.get("total_dollars") if serving is not None else training
        rows.append(
            [
                _names(results)[i],
                _plan_words(b, p, d),
                model,
                fmt_count(d["tokens"]),
                run,
                "-" if training is None else fmt_dollars(training),
                "-" if serving is None else fmt_dollars(serving),
                "-" if total is None else fmt_dollars(total),
            ]
        )
    return headers, rows


# ---------------------------------------------------------------------------------------------------------------
# Warnings once, sources once


def merged_warnings(results) -> list[str]:
    """Each warning once: every extrapolation in one line (each law and quantity at its largest factor), the rest
    named by the scenarios they concern; what breaks the budget is said in the decision instead."""
    from .answer import scenario_warnings

    return scenario_warnings(results, answered=True)


class _Notes:
    """Footnotes: each source or note once, numbered in order of first use."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}

    def ref(self, text: str) -> str:
        text = text.strip()
        number = self.texts.setdefault(text, len(self.texts) + 1)
        return f"[^{number}]"

    def markdown(self) -> str:
        return "\n".join(f"[^{n}]: {t}" for t, n in self.texts.items()) + "\n"


_ASSUMED = re.compile(r", assumed: ([^;|\n]+?)(?=;| \||\n|$)")
_NOTE_LINE = re.compile(r"^(Source|See also|Recipe|Sources?): (.+)$")


def _footnoted(chunk: str, notes: _Notes) -> tuple[str, str]:
    """A rendered markdown table with its caption, each source turned into a footnote: the price's source in a
    cell or caption ('$2.00/h, assumed: <source>'), and the 'Source:' / 'See also:' / 'Recipe:' lines. Returns the
    text and the references to put in its heading."""
    lines, refs = [], []
    for line in chunk.strip("\n").splitlines():
        line = line.removesuffix("  ")
        m = _NOTE_LINE.match(line)
        if m:
            refs.append(notes.ref(f"{m.group(1)}: {m.group(2)}"))
            continue
        lines.append(_ASSUMED.sub(lambda a: f", assumed {notes.ref('Price: ' + a.group(1))}", line))
    while lines and not lines[-1].strip():
        lines.pop()
    for k in range(len(lines) - 1):  # consecutive caption lines: a markdown line break between them
        if lines[k] and lines[k + 1] and not lines[k].startswith("|") and not lines[k + 1].startswith("|"):
            lines[k] += "  "
    return "\n".join(lines) + "\n", " ".join(dict.fromkeys(refs))


def _drop_empty_rows(headers, rows):
    """Rows whose every value is '-' say nothing (a side-by-side table fills rows one plan lacks)."""
    return [r for r in rows if any(str(v).strip() not in ("-", "") for v in r[1:])]


# ---------------------------------------------------------------------------------------------------------------
# The tables


def _plans_markdown(plans, names) -> tuple[str, str]:
    """Compute-optimal and inference-aware plans side by side: one column each, the same rows."""
    from .render import plan_lines, to_markdown

    with_inference = any(p.cost.inference_flops is not None and _serves(p) for p in plans)
    all_rows = len(plans) > 1
    columns = [plan_lines(p, with_inference, all_rows=all_rows) for p in plans]
    labels = [label for label, _ in columns[0]]
    headers = ["", *names]
    rows = _drop_empty_rows(headers, [[label] + [col[i][1] for col in columns] for i, label in enumerate(labels)])
    cites = "\n".join(f"Source: {c}" for c in dict.fromkeys(p.citation for p in plans))
    return to_markdown(headers, rows), cites


def _result_markdown(result) -> str:
    """Any other mode's table, as the result renders itself (`result.to_table("markdown")`, the CLI's markdown),
    without its title: the report's heading says the mode."""
    return re.sub(r"^\*\*[^\n]*\*\*\n\n", "", result.to_table("markdown"))


def report_markdown(title: str, command: str, budgets, results, figure_text: str = "") -> str:
    """The report's README.md: the decision, then each scenario's table, figures, warnings and sources."""
    from ..pipeline.inference import describe_break_even
    from ..pipeline.optimal import Plan
    from .render import inference_caption, inference_rows, to_markdown

    notes = _Notes()
    names = _names(results)
    modes = [mode_title(b, p) for b, p in zip(budgets, results)]
    short = [_short_mode(b, p) for b, p in zip(budgets, results)]
    counts = ", ".join(f"{short.count(m)} {m}" for m in dict.fromkeys(short))
    s = "s" if len(results) != 1 else ""
    parts = [
        f"# Training plan: {title}\n",
        f"Written by `{command} --report`: {len(results)} scenario{s} ({counts}). Each number is in its law's own "
        "conventions; sources and notes are footnotes.\n",
        "## Decision\n",
        to_markdown(*summary_rows(budgets, results)),
        "Model: the parameters (a mixture of experts: active of total) and shape (layers x width); run: GPUs x "
        "wall-clock; training, serving and total in dollars at each scenario's price (see its table).\n",
    ]
    over = over_budget(results)
    if over:
        parts.append("\n".join(f"**Over budget:** {line}  " for line in over).rstrip() + "\n")
    # Plans of the same mode side by side (they compare row by row); every other result its own table.
    groups: dict[str, list[int]] = {}
    for i, (p, m) in enumerate(zip(results, modes)):
        key = m if isinstance(p, Plan) and not _serves(p) else f"{i}"
        groups.setdefault(key, []).append(i)
    for members in groups.values():
        first = results[members[0]]
        heading = modes[members[0]] if len(members) > 1 else f"{names[members[0]]}: {modes[members[0]]}"
        if isinstance(first, Plan):
            table, cites = _plans_markdown([results[i] for i in members], [names[i] for i in members])
            body, refs = _footnoted(table + "\n" + cites, notes)
        else:
            body, refs = _footnoted(_result_markdown(first), notes)
        if len(members) > 1:
            heading = heading[0].upper() + heading[1:]
        parts.append(f"## {heading}{(' ' + refs) if refs else ''}\n")
        parts.append(body)
        inf = getattr(first, "inference", None)
        if len(members) == 1 and isinstance(first, Plan) and inf is not None and _serves(first):
            heads, inf_rows = inference_rows(inf)
            caption = inference_caption(inf, describe_break_even(inf))
            body, refs = _footnoted(to_markdown(heads, inf_rows) + "\n" + caption, notes)
            parts.append(f"**Inference-aware sizing against the compute-optimal model** {refs}\n".replace(" \n", "\n"))
            parts.append(body)
    if figure_text:
        parts.append(figure_text)
    warnings = merged_warnings(results)
    if warnings:
        parts.append("## Warnings\n")
        parts.append("\n".join(f"- {w}" for w in warnings) + "\n")
    if notes.texts:
        parts.append("## Sources and notes\n")
        parts.append(notes.markdown())
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# The figures


def _figures(results, chosen, points) -> tuple[dict[str, bytes], str]:
    """The PNGs (name -> bytes) and the markdown that shows them, for the plans they apply to."""
    from ..pipeline.optimal import Plan
    from ..schema.units import fmt_count, fmt_sci
    from . import plot

    images: dict[str, bytes] = {}
    text: list[str] = []
    planned = [(i, p, lw) for i, (p, lw) in enumerate(zip(results, chosen)) if isinstance(p, Plan)]
    if not planned:
        return images, ""
    names = _names(results)
    laws_used = list({lw.name: lw for _, _, lw in planned}.values())
    budgets_c = sorted({_budget(p) for _, p, _ in planned})
    images["allocation.png"] = plot.render_allocation(plot.allocation_series(laws_used, budgets_c, points=points))
    several = len(laws_used) > 1
    text += [
        "## Figures\n",
        "![N_opt(C) and D_opt(C)](allocation.png)\n",
        "N_opt and D_opt against training compute for "
        + ", ".join(lw.name for lw in laws_used)
        + "; dots mark the scenarios' budgets. Solid lines lie within each law's fitted compute range, dashed lines "
        "extrapolate."
        + (" Several laws: parameters are converted to one convention (total, C = 6 N_total D)." if several else "")
        + "\n",
    ]
    valleys: dict[tuple[str, float], list[int]] = {}
    for i, p, lw in planned:
        if lw.predicts_loss:
            valleys.setdefault((lw.name, _budget(p)), []).append(i)
    for (law_name, c), members in valleys.items():
        lw = chosen[members[0]]
        s = plot.isoflop_series(lw, c, points=points)
        name = f"isoflop-{_slug(law_name)}-{_flops_slug(c)}.png"
        images[name] = plot.render_isoflop(s)
        lo, hi = s.band_params[0]
        r_lo, r_hi = s.band_ratio[0]
        who = ", ".join(names[i] for i in members)
        text += [
            f"![IsoFLOP valley at {fmt_sci(c)} FLOPs under {law_name}]({name})\n",
            f"How flat the optimum is at {fmt_sci(c)} FLOPs under {s.law} ({who}): any N from {fmt_count(lo)} to "
            f"{fmt_count(hi)} ({100 * (r_lo - 1):+.0f}% / {100 * (r_hi - 1):+.0f}% of the optimal "
            f"{fmt_count(s.params_opt[0])}), trained on D = C / 6N tokens, predicts a loss within "
            f"{100 * s.within:g}% of the optimum ({s.loss_opt[0]:.4f} -> {s.band_loss[0]:.4f}).\n",
        ]
    for i, p, lw in planned:
        if _serves(p):
            name = f"inference-{i + 1:02d}-{_slug(names[i])}.png"
            images[name] = plot.render_inference(plot.inference_series(p.inference, law=lw, points=points))
            text += [
                f"![Inference-aware sizing of {names[i]}]({name})\n",
                f"{names[i]}: total cost against model size at the same loss (both optima marked), and the optimal "
                "size against the tokens served.\n",
            ]
    return images, "\n".join(text)


__all__ = [
    "README",
    "Report",
    "check_count",
    "check_folder",
    "check_inputs",
    "merged_warnings",
    "mode_title",
    "over_budget",
    "report_markdown",
    "summary_rows",
    "write_plan_report",
    "write_report",
]
