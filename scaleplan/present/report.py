"""`scaleplan plan FILE --report DIR`: a small folder to paste into a design doc.

    DIR/README.md                  the plan table of every scenario (markdown), warnings, the inference-aware tables,
                                   and the figures below, each with a one-line reading
    DIR/allocation.png             N_opt(C) and D_opt(C) of every law the file uses, each scenario's budget marked
    DIR/isoflop-<law>-<C>.png      the IsoFLOP valley and its 0.5% band, per distinct (law, budget) that predicts loss
    DIR/inference-<NN>-<name>.png  total cost against N and optimal N against demand, per scenario that serves tokens

Everything is computed and drawn in memory first; then the PNGs are written, README.md last, each through
files.write_atomic (never over the budget file, never half-written). The folder may not be the budget file's own
folder, so a report never lands among (or over) its inputs.
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
    plans: tuple  # one Plan per scenario, as `scaleplan plan FILE` computes them
    warnings: tuple[str, ...]  # "scenario: warning", as the CLI prints them


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
    `force`, a folder with files, of which the report replaces only its own names. Never the input's folder."""
    from ..core.files import _probe_writable

    text = str(out_dir)
    if not text.strip():
        raise ScaleplanError("--report: empty path; give a folder name")
    src, out = Path(budget_path), Path(text)
    shown = f"--report {text}"
    if any(len(part.encode()) > 255 for part in out.parts) or len(text.encode()) > 4000:
        raise ScaleplanError(f"{shown}: folder name too long")
    if out.exists() and not out.is_dir():
        raise ScaleplanError(f"{shown}: exists and is not a folder; give a new or empty folder")
    if src.exists() and out.exists() and out.resolve() == src.resolve().parent:
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
        _probe_writable(out, shown)
    else:
        parent = out.parent if str(out.parent) else Path(".")
        if parent.exists() and not parent.is_dir():
            raise ScaleplanError(f"{shown}: {parent} is a file, not a folder")
        if not parent.is_dir():
            raise ScaleplanError(f"{shown}: folder {parent} does not exist")
        _probe_writable(parent, shown)
    return out


def check_modes(budgets, out_dir) -> None:
    """A report draws compute-optimal plans (with their inference-aware sizing); other modes print as tables. And,
    once the budget file is loaded (its law and hardware files read too), no input may sit in the report folder:
    the report's own names could be any of them, even with `--force`."""
    from ..core.files import inputs_read

    out = Path(str(out_dir))
    if out.is_dir():
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
    other = next((b for b in budgets if b.mode != "compute-optimal"), None)
    if other is not None:
        raise ScaleplanError(
            f"--report {out_dir}: scenario {other.name!r} is a {other.mode} plan; a report covers "
            "compute-optimal scenarios (run plan without --report for the others)"
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
    `figures=False` writes the markdown
    only (no matplotlib needed). All files are written or none: a failure removes what this call created.
    """
    from ..core.files import command

    with command():  # the hardware and law files the budget names are inputs too: never written over
        return _write_report(budget_path, out_dir, law, figures, points, force, overrides)


def _write_report(budget_path, out_dir, law, figures, points, force, overrides) -> Report:
    from ..core.files import write_files
    from ..pipeline.budget import load_budget_file
    from ..pipeline.stages import plan_budget
    from ..schema import limits

    src = Path(budget_path)
    out = check_folder(src, out_dir, force=force)
    budgets = load_budget_file(src, law, overrides)
    if figures and len(budgets) > limits.MAX_REPORT_SCENARIOS:
        raise ScaleplanError(
            f"--report {out_dir}: {src} has {len(budgets)} scenarios; a report draws figures for at "
            f"most {limits.MAX_REPORT_SCENARIOS} (split the file, or run plan without --report)"
        )
    check_modes(budgets, out_dir)
    plans = [plan_budget(b, law) for b in budgets]
    chosen = [b.law_spec(law) for b in budgets]
    inputs = [src] + [Path(lw.source) for lw in chosen if str(lw.source).endswith((".yaml", ".yml"))]
    warnings = tuple(f"{p.name}: {w}" if p.name else w for p in plans for w in p.warnings)

    images: dict[str, bytes] = {}
    iso_of: dict[int, tuple[str, object]] = {}  # scenario index -> (file name, IsoflopSeries)
    inference_of: dict[int, str] = {}
    allocation_png = None
    if figures:
        from . import plot

        unique_laws = list({lw.name: lw for lw in chosen}.values())
        budgets_c = sorted({_budget(p) for p in plans})
        allocation_png = "allocation.png"
        images[allocation_png] = plot.render_allocation(plot.allocation_series(unique_laws, budgets_c, points=points))
        seen: dict[tuple[str, float], tuple[str, object]] = {}
        for i, (p, lw) in enumerate(zip(plans, chosen)):
            if lw.predicts_loss:
                key = (lw.name, _budget(p))
                if key not in seen:
                    series = plot.isoflop_series(lw, _budget(p), points=points)
                    name = f"isoflop-{_slug(lw.name)}-{_flops_slug(_budget(p))}.png"
                    images[name] = plot.render_isoflop(series)
                    seen[key] = (name, series)
                iso_of[i] = seen[key]
            if p.inference is not None:
                name = f"inference-{i + 1:02d}-{_slug(p.name or 'scenario')}.png"
                images[name] = plot.render_inference(plot.inference_series(p.inference, law=lw, points=points))
                inference_of[i] = name
    text = report_markdown(src, plans, chosen, warnings, allocation_png, iso_of, inference_of)

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
    return Report(folder=out, files=tuple(written), plans=tuple(plans), warnings=warnings)


def report_markdown(src: Path, plans, chosen, warnings, allocation_png, iso_of, inference_of) -> str:
    """The report's README.md: tables rendered from the same Plan values as the CLI's markdown output."""
    from ..pipeline.inference import describe_break_even
    from ..schema.units import fmt_count, fmt_sci
    from .render import inference_caption, inference_rows, plan_lines, to_markdown

    with_inference = any(p.cost.inference_flops is not None for p in plans)
    columns = [plan_lines(p, with_inference, all_rows=len({p.params_convention for p in plans}) > 1) for p in plans]
    labels = [label for label, _ in columns[0]]
    headers = [""] + [p.name or f"plan {i + 1}" for i, p in enumerate(plans)]
    rows = [[label] + [col[i][1] for col in columns] for i, label in enumerate(labels)]
    parts = [
        f"# Training plan: {src.name}\n",
        f"Written by `scaleplan plan {src.name} --report`: {len(plans)} scenario(s), compute-optimal "
        "allocation under each scenario's scaling law, with the recipe and cost.\n",
        "## Plans\n",
        to_markdown(headers, rows),
    ]
    parts.append("\n".join(f"Source: {c}  " for c in dict.fromkeys(p.citation for p in plans)) + "\n")
    if warnings:
        parts.append("## Warnings\n")
        parts.append("\n".join(f"- {w}" for w in warnings) + "\n")
    if allocation_png:
        parts += [
            "## Compute-optimal allocation\n",
            f"![N_opt(C) and D_opt(C)]({allocation_png})\n",
            "N_opt and D_opt against training compute for "
            + ", ".join(dict.fromkeys(lw.name for lw in chosen))
            + "; dots mark the scenarios' budgets. Solid lines lie within each law's fitted compute range, "
            "dashed lines extrapolate."
            + (
                " Several laws: parameters are converted to one convention (total, C = 6 N_total D)."
                if len({lw.name for lw in chosen}) > 1
                else ""
            )
            + "\n",
        ]
    for i, p in enumerate(plans):
        name = p.name or f"plan {i + 1}"
        if i not in iso_of and i not in inference_of:
            continue
        parts.append(f"## {name}\n")
        if i in iso_of:
            png, s = iso_of[i]
            lo, hi = s.band_params[0]
            r_lo, r_hi = s.band_ratio[0]
            parts.append(f"![IsoFLOP valley of {name}]({png})\n")
            parts.append(
                f"How flat the optimum is at {fmt_sci(_budget(p))} FLOPs under {s.law}: any N from {fmt_count(lo)} to "
                f"{fmt_count(hi)} ({100 * (r_lo - 1):+.0f}% / {100 * (r_hi - 1):+.0f}% of the optimal "
                f"{fmt_count(s.params_opt[0])}), trained on D = C / 6N tokens, predicts a loss within "
                f"{100 * s.within:g}% of the optimum ({s.loss_opt[0]:.4f} -> {s.band_loss[0]:.4f}).\n"
            )
        if p.inference is not None:
            heads, inf_rows = inference_rows(p.inference)
            parts.append(f"**Inference-aware sizing** ({p.inference.objective})\n")
            parts.append(to_markdown(heads, inf_rows))
            parts.append(inference_caption(p.inference, describe_break_even(p.inference)).replace("\n", "  \n") + "\n")
            if i in inference_of:
                parts.append(f"![Inference-aware sizing of {name}]({inference_of[i]})\n")
    return "\n".join(parts)


__all__ = ["README", "Report", "check_folder", "check_modes", "report_markdown", "write_report"]
