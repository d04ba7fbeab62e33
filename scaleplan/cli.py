"""The `scaleplan` command line: parse, call one library function, render, map errors to exit codes."""


import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

import scaleplan

from . import laws as laws_mod
from .allocate import compare as compare_laws, plan_budget
from .budget import Budget, load_budget_file
from .errors import ScaleplanError
from .files import write_atomic
from .render import (Format, emit_comparison, emit_constrained, emit_grid, emit_inference, emit_inference_sweep,
                     emit_moe, emit_overtrain, emit_plans, short_source)
from .units import fmt_count, fmt_number, fmt_sci, parse_budgets, parse_fraction, parse_positive, parse_quantity

# Piped or redirected output gets 100 columns (rich would use 80), so tables stay one line per row in files and CI
# logs; a terminal keeps its own width, and COLUMNS still wins.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 100
out = Console(highlight=False, width=_PIPE_WIDTH)
err = Console(stderr=True, highlight=False)


# click's UsageError (unknown option, missing argument, bad choice), found without importing click by name: typer
# vendors click from 0.26 on.
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class _Group(TyperGroup):
    """Maps user errors to one line on stderr and exit code 2, in one place: the library's ScaleplanError and
    click's usage errors alike."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ScaleplanError as exc:
            err.print(f"scaleplan: error: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except _USAGE_ERROR as exc:
            _usage_error(exc)

    def make_context(self, info_name, args, parent=None, **extra):
        try:  # options of the top level itself are parsed here, before invoke
            return super().make_context(info_name, args, parent=parent, **extra)
        except _USAGE_ERROR as exc:
            _usage_error(exc)


def _usage_error(exc):
    message = exc.format_message()
    if message:  # empty when the help was shown instead (no arguments at all)
        where = exc.ctx.command_path if exc.ctx else "scaleplan"
        err.print(f"scaleplan: error: {message} (see '{where} -h')", markup=False, soft_wrap=True)
    raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    help="Plan LLM pre-training compute with the published scaling laws.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    add_completion=False,
)
laws_app = typer.Typer(cls=_Group, invoke_without_command=True,
                       context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(laws_app, name="laws")


def _version(value: bool):
    if value:
        out.print(f"scaleplan {scaleplan.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
):
    """Plan LLM pre-training compute with the published scaling laws."""


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)]
LawOpt = Annotated[Optional[str], typer.Option("--law", "-l", help=f"Law name or law file (default {laws_mod.DEFAULT_LAW}); see `scaleplan laws`.")]
HardwareOpt = Annotated[Optional[str], typer.Option("--hardware", help="Hardware preset (h100, a100, b200, mi300x, tpu-v5p, ...).")]
MfuOpt = Annotated[Optional[str], typer.Option("--mfu", help="Model FLOPs utilisation in (0, 1] (default 0.4).")]
PriceOpt = Annotated[Optional[str], typer.Option("--price", help="Dollars per GPU-hour (default: the preset's).")]
GpusOpt = Annotated[Optional[str], typer.Option("--gpus", help="Number of accelerators (default 1024).")]
PeakOpt = Annotated[Optional[str], typer.Option("--peak-flops", help="Peak FLOP/s per accelerator, instead of a preset's.")]


PlotOpt = Annotated[Optional[str], typer.Option("--plot", help="Also draw the figure to this PNG file (needs matplotlib: pip install scaleplan[plot]).")]
ContextOpt = Annotated[Optional[int], typer.Option("--context", help="Sequence length (default 2048).")]
VocabOpt = Annotated[Optional[int], typer.Option("--vocab", help="Pin the vocabulary size (default: Tao et al. 2024's optimum).")]
LayersOpt = Annotated[Optional[int], typer.Option("--layers", help="Pin the number of layers; the rest of the shape adapts.")]
DModelOpt = Annotated[Optional[int], typer.Option("--d-model", help="Pin the model width; the rest of the shape adapts.")]
LrLawOpt = Annotated[Optional[str], typer.Option("--lr-law", help="Learning-rate/batch law: steplaw, deepseek, porian, kaplan-bcrit.")]


def _warn(warnings) -> None:
    for w in dict.fromkeys(warnings):
        err.print(f"warning: {w}", markup=False, soft_wrap=True)


@app.command()
def allocate(
    flops: Annotated[Optional[str], typer.Option("--flops", help="Training budget in FLOPs, e.g. 1e21.")] = None,
    gpus: GpusOpt = None,
    days: Annotated[Optional[str], typer.Option("--days", help="Wall-clock days on --gpus (budget = gpus x days x peak x MFU).")] = None,
    dollars: Annotated[Optional[str], typer.Option("--dollars", help="Money for training, e.g. 2e6 or 2M (quote '$2M' in a shell); the budget at --price.")] = None,
    price: PriceOpt = None,
    hardware: HardwareOpt = None,
    peak_flops: PeakOpt = None,
    mfu: MfuOpt = None,
    law: LawOpt = None,
    inference_tokens: Annotated[Optional[str], typer.Option("--inference-tokens", help="Tokens to serve, for the inference cost.")] = None,
    context: ContextOpt = None,
    vocab: VocabOpt = None,
    layers: LayersOpt = None,
    d_model: DModelOpt = None,
    lr_law: LrLawOpt = None,
    ci: Annotated[Optional[float], typer.Option("--ci", help="Interval on N, D and loss, e.g. 0.8, for a law fitted with --bootstrap.")] = None,
    unique_tokens: Annotated[Optional[str], typer.Option("--unique-tokens", help="Unique training tokens available: plan epochs with Muennighoff et al. 2023.")] = None,
    params: Annotated[Optional[str], typer.Option("--params", help="Judge a fixed choice: parameters (with --tokens).")] = None,
    tokens: Annotated[Optional[str], typer.Option("--tokens", help="Judge a fixed choice: training tokens (with --params).")] = None,
    moe: Annotated[bool, typer.Option("--moe", help="Plan a fine-grained mixture of experts (Krajewski et al. 2024).")] = False,
    granularity: Annotated[Optional[float], typer.Option("--granularity", help="MoE granularity G >= 1 (default: the optimum).")] = None,
    expansion: Annotated[Optional[int], typer.Option("--expansion", help="MoE expansion rate E, 64 or 16 (total/active expert size).")] = None,
    plot: PlotOpt = None,
    fmt: FormatOpt = Format.table,
):
    """The compute-optimal model size and training tokens for a budget, with its cost.

    Example: scaleplan allocate --flops 1e21
    Example: scaleplan allocate --gpus 1024 --days 30 --hardware h100 --mfu 0.4 --law chinchilla-approach1
    Example: scaleplan allocate --flops 1e23 --unique-tokens 5e11
    Example: scaleplan allocate --params 7e9 --tokens 2e12
    Example: scaleplan allocate --flops 1e23 --moe
    """
    fixed = params is not None or tokens is not None
    if fixed:
        if params is None or tokens is None:
            raise ScaleplanError("a fixed choice needs both --params and --tokens")
        if flops is not None or days is not None or dollars is not None:
            raise ScaleplanError("--params/--tokens set the budget (6ND); drop --flops, --days and --dollars")
        flops = str(6.0 * parse_positive(params, "--params") * parse_positive(tokens, "--tokens"))
    if moe and (fixed or unique_tokens is not None):
        raise ScaleplanError("--moe plans from a budget alone; it does not combine with --params/--tokens or --unique-tokens")
    if not moe and (granularity is not None or expansion is not None):
        raise ScaleplanError("--granularity and --expansion need --moe")
    budget = Budget.from_mapping({
        "flops": flops, "gpus": gpus, "days": days, "dollars": dollars, "price": price, "hardware": hardware,
        "peak_flops": peak_flops, "mfu": mfu, "law": law, "inference_tokens": inference_tokens,
    }, flags=True)
    for flag, value in (("--context", context), ("--vocab", vocab), ("--layers", layers), ("--d-model", d_model)):
        if value is not None and value < 1:
            raise ScaleplanError(f"{flag} must be a positive whole number, got {value}")
    if fixed or unique_tokens is not None or moe:
        if plot:
            raise ScaleplanError("--plot draws the compute-optimal plan; it does not combine with --params/--tokens, "
                                 "--unique-tokens or --moe yet")
        _allocate_constrained(budget, law, unique_tokens, params, tokens, moe, granularity, expansion, fmt)
        return
    plotter = _plotter(plot)
    plan = plan_budget(budget, ci=ci, context=context, hparams_law=lr_law, vocab=vocab, layers=layers, d_model=d_model)
    _warn(plan.warnings)
    emit_plans(out, fmt, [plan])
    if plotter:
        plotter.save_plan_figure(plan, plot, law=laws_mod.get(law or laws_mod.DEFAULT_LAW))
        err.print(f"wrote {plot}", markup=False)


@app.command()
def compare(
    law_names: Annotated[list[str], typer.Argument(metavar="LAW...", help="Laws to compare, e.g. chinchilla kaplan epoch.")],
    flops: Annotated[list[str], typer.Option("--flops", help="Budget(s): repeat it, or give a range 1e18..1e25.")] = ["1e21"],
    points: Annotated[int, typer.Option("--points", help="Budgets per range, log-spaced.")] = 8,
    plot: PlotOpt = None,
    fmt: FormatOpt = Format.table,
):
    """Compare laws side by side at each budget, in one parameter/FLOP convention.

    Example: scaleplan compare chinchilla kaplan --flops 1e21
    Example: scaleplan compare epoch chinchilla kaplan porian deepseek --flops 1e18..1e25 --points 8
    """
    budgets = parse_budgets(flops, "--flops", points)
    plotter = _plotter(plot)
    comparison = compare_laws(law_names, budgets)
    _warn(comparison.warnings)
    emit_comparison(out, fmt, comparison)
    if plotter:
        plotter.save_comparison_figure(comparison, plot, law_specs=law_names)
        err.print(f"wrote {plot}", markup=False)


@app.command()
def plan(
    path: Annotated[str, typer.Argument(metavar="FILE", help="A YAML budget file (see configs/).")],
    law: LawOpt = None,
    report: Annotated[Optional[str], typer.Option("--report", help="Also write a report folder (markdown tables and PNG figures) here.")] = None,
    fmt: FormatOpt = Format.table,
):
    """The full plan for every scenario in a YAML budget file.

    Example: scaleplan plan configs/lab-1e23-h100.yaml
    Example: scaleplan plan configs/serving-2t-tokens.yaml --report design-doc/
    """
    if report:
        from .report import check_folder

        check_folder(path, report)  # refuse a bad folder before any work
    budgets = load_budget_file(path)
    plans = [plan_budget(b, law) for b in budgets]
    _warn(w if not p.name else f"{p.name}: {w}" for p in plans for w in p.warnings)
    emit_plans(out, fmt, plans, title=f"Plans for {path}")
    if fmt in (Format.table, Format.markdown):  # the machine formats carry it inside each plan
        from .inference import describe_break_even

        for p in plans:
            if p.inference is not None:
                out.print()
                emit_inference(out, fmt, p.inference, describe_break_even(p.inference),
                               title=f"Inference-aware sizing: {p.name}")
    if report:
        from .report import write_report

        try:
            import matplotlib  # noqa: F401
            figures = True
        except ImportError:
            figures = False
            _warn(["matplotlib is not installed, so the report has tables but no figures "
                   "(pip install 'scaleplan[plot]')"])
        written = write_report(path, report, law=law, figures=figures)
        n = len(written.files)
        err.print(f"wrote {n} file{'s' if n != 1 else ''} to {written.folder}", markup=False)


@laws_app.callback()
def laws_list(ctx: typer.Context, fmt: FormatOpt = Format.table):
    """List every bundled law with its citation.

    Example: scaleplan laws
    """
    if ctx.invoked_subcommand is not None:
        return
    records, rows = [], []
    for law in laws_mod.all_laws():
        low, high = law.fitted_range.get("flops", (None, None))
        a, b = law.exponents
        records.append({"law": law.name, "aliases": list(law.aliases), "title": law.title, "form": law.form,
                        "params_convention": law.params_convention, "a": a, "b": b,
                        "fitted_flops": [low, high], "predicts_loss": law.predicts_loss, "citation": law.short_cite,
                        "default": law.name == laws_mod.DEFAULT_LAW})
        who, _, arxiv = law.short_cite.partition(", arXiv:")
        rows.append([law.name + (" *" if law.name == laws_mod.DEFAULT_LAW else ""), f"{a:.3f}",
                     _SHORT_CONVENTION[law.params_convention] + ("" if law.predicts_loss else " (no loss)"),
                     f"{fmt_sci(low)}..{fmt_sci(high)}", who.replace(" et al.", ""), arxiv])
    emit_grid(out, fmt, "Bundled scaling laws", ["law", "a", "N counts", "fitted FLOPs", "source", "arXiv"], rows,
              records, "* the default. a: N_opt ~ C^a. Details: scaleplan laws show NAME")


_SHORT_CONVENTION = {"total": "all", "non_embedding": "non-emb.", "non_embedding_with_head": "non-emb.+head",
                     "flops_per_token": "M (FLOPs/tok)"}


@laws_app.command("show")
def laws_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Law name, alias or law file.")],
    fmt: FormatOpt = Format.table,
):
    """Show one law: form, constants, conventions, fitted range and citation.

    Example: scaleplan laws show epoch
    """
    law = laws_mod.get(name)
    a, b = law.exponents
    form = ("L(N, D) = E + A / N^alpha + B / D^beta; optimum N = G (C/6)^a, D = G^-1 (C/6)^b"
            if law.form == "parametric" else "N_opt = n_coef (f C / unit)^a; D_opt = d_coef (...)^b or C / (6 N)")
    record = {
        "law": law.name, "title": law.title, "aliases": list(law.aliases), "form": law.form, "equation": form,
        "constants": law.constants, "a": a, "b": b, "loss": law.loss_spec, "loss_units": law.loss_units,
        "params_convention": law.params_convention, "flop_convention": law.flop_convention,
        "fitted_range": {k: list(v) for k, v in law.fitted_range.items()}, "model": law.model,
        "citation": law.citation, "status": law.status, "notes": list(law.notes),
    }
    rows = [["title", law.title], ["aliases", ", ".join(law.aliases) or "-"], ["form", form],
            ["constants", ", ".join(f"{k} = {v:g}" for k, v in law.constants.items())],
            ["exponents", f"a = {a:.4f} (N ~ C^a), b = {b:.4f} (D ~ C^b)"]]
    if law.loss_spec:
        rows.append(["loss law", f"{law.loss_spec['form']}: " + ", ".join(f"{k} = {v:g}" for k, v in law.loss_spec["constants"].items())])
    rows += [["loss units", law.loss_units or "predicts no loss"],
             ["N counts", laws_mod.PARAMS_CONVENTIONS[law.params_convention]],
             ["FLOPs", law.flop_convention]]
    rows += [[f"fitted {k}", f"{fmt_sci(v[0])} .. {fmt_sci(v[1])}"] for k, v in law.fitted_range.items()]
    rows += [["citation", f"{law.citation.get('authors')} ({law.citation.get('year')}). {law.citation.get('title')}. "
                          f"arXiv:{law.citation.get('arxiv')}"],
             ["where", str(law.citation.get("where", "-"))], ["status", law.status]]
    rows += [["note", n] for n in law.notes]
    emit_grid(out, fmt, f"Law: {law.name}", ["", "value"], rows, record)


def _allocate_constrained(budget, law, unique_tokens, params, tokens, moe, granularity, expansion, fmt) -> None:
    """allocate's three special cases: limited unique data, a fixed (over-trained) choice, mixture of experts."""
    from . import constrained, moe as moe_mod
    from .cost import training_cost

    resolved = budget.resolve()
    unique = None if unique_tokens is None else parse_positive(unique_tokens, "--unique-tokens")

    def cost_of(flops):
        return training_cost(flops, resolved.hardware, resolved.mfu, resolved.price, resolved.gpus)

    if params is not None:
        report = constrained.fixed_allocation(parse_positive(params, "--params"), parse_positive(tokens, "--tokens"),
                                              unique_tokens=unique, laws=None if law is None else [law])
        _warn(resolved.warnings + tuple(report.warnings))
        emit_overtrain(out, fmt, report, cost_of(report.flops))
    elif moe:
        plan = moe_mod.moe_allocation(resolved.flops, granularity=granularity, expansion=expansion)
        _warn(resolved.warnings + tuple(plan.warnings))
        emit_moe(out, fmt, plan, cost_of(plan.flops))
    else:
        plan = constrained.data_constrained_allocation(resolved.flops, unique, law=law or "muennighoff")
        _warn(resolved.warnings + tuple(plan.warnings))
        emit_constrained(out, fmt, plan, cost_of(plan.flops))


@app.command()
def hardware(fmt: FormatOpt = Format.table):
    """List the hardware presets: peak dense BF16 FLOP/s, board power, memory, default price and source.

    Example: scaleplan hardware
    """
    from .cost import presets

    chosen = list({hw.key: hw for hw in presets().values()}.values())
    rows = [[hw.key, hw.name, fmt_sci(hw.peak_flops), "-" if hw.power_w is None else f"{hw.power_w:g} W",
             "-" if hw.memory_gb is None else f"{hw.memory_gb:g} GB",
             "-" if hw.price_per_hour is None else f"${hw.price_per_hour:.2f}"] for hw in chosen]
    records = [dict(hw.__dict__) for hw in chosen]
    emit_grid(out, fmt, "Hardware presets (peak dense BF16; price per GPU-hour is a default, set --price)",
              ["preset", "name", "peak FLOP/s", "power", "memory", "$/hour"], rows, records,
              "Sources: scaleplan/data/hardware.yaml (vendor data sheets; scaleplan hardware -f json lists them)")


def _plotter(path: str | None, inputs=()):
    """The plot module if --plot was given, checked before any work: matplotlib present, a writable .png path."""
    if path is None:
        return None
    from .files import check_target

    check_target(path, inputs, suffix=".png")
    try:
        import matplotlib  # noqa: F401  (only to give a clear message when it is missing)
    except ImportError:
        raise ScaleplanError("--plot needs matplotlib: pip install 'scaleplan[plot]'") from None
    from . import plot

    return plot


def _recipe():
    from . import recipe  # the recipe tables load only for the commands that use them

    return recipe


@app.command()
def vocab(
    params: Annotated[Optional[str], typer.Option("--params", help="Total parameters, e.g. 70e9 or 7B.")] = None,
    non_vocab_params: Annotated[Optional[str], typer.Option("--non-vocab-params", help="Non-vocabulary parameters (Tao et al.'s N_nv).")] = None,
    flops: Annotated[Optional[str], typer.Option("--flops", help="Training FLOPs (Tao et al.'s IsoFLOP approach).")] = None,
    d_model: DModelOpt = None,
    fmt: FormatOpt = Format.table,
):
    """The compute-optimal vocabulary size (Tao et al. 2024), rounded to a multiple of 128.

    Example: scaleplan vocab --params 70e9
    Example: scaleplan vocab --flops 2.3e21
    """
    given = [x for x in (params, non_vocab_params, flops) if x is not None]
    if len(given) != 1:
        raise ScaleplanError("give one of --params, --non-vocab-params or --flops")
    result = _recipe().optimal_vocab(
        non_vocab_params=None if non_vocab_params is None else parse_positive(non_vocab_params, "--non-vocab-params"),
        flops=None if flops is None else parse_positive(flops, "--flops"),
        params_total=None if params is None else parse_positive(params, "--params"), d_model=d_model)
    _warn(result.warnings)
    r = result.to_dict()
    rows = [["vocabulary", f"{r['vocab']:,}"], ["unrounded", fmt_number(r["vocab_exact"])],
            ["rounded to a multiple of", str(r["multiple"])], ["vocabulary params (V x d)", fmt_count(r["vocab_params"])],
            ["non-vocabulary params", fmt_count(r["non_vocab_params"])], ["d_model", f"{r['d_model']:,}"],
            ["approach", r["approach"]]]
    rows += [[f"also: {k}", f"{v:,}"] for k, v in r["alternatives"].items()]
    emit_grid(out, fmt, "Optimal vocabulary", ["", "value"], rows, r, f"Source: {short_source(r['citation'])}")


@app.command()
def hparams(
    params: Annotated[Optional[str], typer.Option("--params", help="Total parameters, e.g. 7B.")] = None,
    tokens: Annotated[Optional[str], typer.Option("--tokens", help="Training tokens, e.g. 2T.")] = None,
    flops: Annotated[Optional[str], typer.Option("--flops", help="Training FLOPs (DeepSeek's laws use compute).")] = None,
    loss: Annotated[Optional[float], typer.Option("--loss", help="Predicted loss in nats, for Kaplan's critical batch.")] = None,
    law: Annotated[Optional[str], typer.Option("--law", "-l", help="Which law is the default: steplaw, deepseek, porian, kaplan-bcrit.")] = None,
    context: ContextOpt = None,
    fmt: FormatOpt = Format.table,
):
    """Peak learning rate and batch size from every law that applies, side by side.

    Example: scaleplan hparams --params 7B --tokens 2T
    Example: scaleplan hparams --flops 1e21 --law deepseek
    """
    rec = _recipe()
    rows_ = rec.hyperparameters(
        params=None if params is None else parse_positive(params, "--params"),
        tokens=None if tokens is None else parse_positive(tokens, "--tokens"),
        flops=None if flops is None else parse_positive(flops, "--flops"),
        loss=loss, law=law, context=context or rec.constants()["conventions"]["context"])
    _warn(w for row in rows_ for w in row.warnings)
    records = [row.to_dict() for row in rows_]
    rows = [[row.law + (" (default)" if row.default else ""),
             "-" if row.learning_rate is None else fmt_sci(row.learning_rate, always=True),
             fmt_count(row.batch_tokens), f"{row.batch_sequences:,}"] for row in rows_]
    caption = "\n".join(f"{row.law}: {short_source(row.citation)}" for row in rows_)
    emit_grid(out, fmt, f"Learning rate and batch size (sequences of {rows_[0].context:,} tokens)",
              ["law", "learning rate", "batch tokens", "batch seqs"], rows, records, caption)


@app.command()
def flops(
    layers: Annotated[int, typer.Option("--layers", help="Number of transformer layers.")],
    d_model: Annotated[int, typer.Option("--d-model", help="Model width.")],
    heads: Annotated[int, typer.Option("--heads", help="Attention heads.")],
    vocab: Annotated[int, typer.Option("--vocab", help="Vocabulary size.")],
    d_ff: Annotated[Optional[int], typer.Option("--d-ff", help="Feed-forward width (default 4 x d_model).")] = None,
    head_dim: Annotated[Optional[int], typer.Option("--head-dim", help="Per-head width (default d_model / heads).")] = None,
    context: Annotated[int, typer.Option("--context", help="Sequence length.")] = 2048,
    fmt: FormatOpt = Format.table,
):
    """Training FLOPs per token of a network, counted as in Chinchilla's Appendix F, next to 6N.

    Example: scaleplan flops --layers 80 --d-model 8192 --heads 64 --d-ff 32768 --vocab 32000 --context 2048
    """
    rec = _recipe()
    if head_dim is None:
        if heads <= 0 or d_model % heads:
            raise ScaleplanError(f"--heads {heads} must divide --d-model {d_model} (or give --head-dim)")
        head_dim = d_model // heads
    shape = rec.Shape(layers=layers, d_model=d_model, heads=heads, head_dim=head_dim,
                      d_ff=4 * d_model if d_ff is None else d_ff, context=context, vocab=vocab)
    count = rec.flops_per_token(shape)
    record = {"shape": shape.to_dict(), **count.to_dict()}
    rows = [[k.replace("_", " "), fmt_sci(v)] for k, v in count.to_dict()["breakdown"].items()]
    rows += [["forward, per token", fmt_sci(count.forward)], ["training (3 x forward)", fmt_sci(count.flops_per_token)],
             ["parameters N", fmt_count(count.params)], ["6N", fmt_sci(count.six_n)], ["ratio to 6N", f"{count.ratio:.4f}"],
             ["DeepSeek M", fmt_sci(count.deepseek_m)]]
    emit_grid(out, fmt, "FLOPs per token (training = forward + backward)", ["term", "FLOPs/token"], rows, record,
              f"Source: {short_source(count.citation)}")


@app.command("inference-aware")
def inference_aware_cmd(
    inference_tokens: Annotated[list[str], typer.Option("--inference-tokens", help="Tokens to serve over the model's life; repeat it or give a range 1e10..1e14 for a sweep.")],
    flops: Annotated[Optional[str], typer.Option("--flops", help="Quality = the loss of the compute-optimal model at this budget.")] = None,
    target_loss: Annotated[Optional[float], typer.Option("--target-loss", help="Quality as a loss (the paper's formulation).")] = None,
    law: LawOpt = None,
    objective: Annotated[str, typer.Option("--objective", help="Minimise total 'flops' or total 'cost' (dollars).")] = "flops",
    hardware: HardwareOpt = None,
    mfu: MfuOpt = None,
    price: PriceOpt = None,
    peak_flops: PeakOpt = None,
    inference_hardware: Annotated[Optional[str], typer.Option("--inference-hardware", help="Serving hardware preset (default: the training hardware).")] = None,
    inference_price: Annotated[Optional[str], typer.Option("--inference-price", help="Dollars per serving GPU-hour (default: the training price).")] = None,
    inference_bits: Annotated[Optional[int], typer.Option("--inference-bits", help="Serving precision, 16 or 8 (8-bit doubles the tensor peak).")] = None,
    prefill_mfu: Annotated[Optional[str], typer.Option("--prefill-mfu", help="MFU of prefill (default 0.5, Sardana et al.'s).")] = None,
    decode_mfu: Annotated[Optional[str], typer.Option("--decode-mfu", help="MFU of decoding (default 0.01, Sardana et al.'s).")] = None,
    prompt_share: Annotated[Optional[str], typer.Option("--prompt-share", help="Fraction of served tokens that are prompt, in [0, 1] (default 70/285).")] = None,
    context: Annotated[Optional[str], typer.Option("--context", help="Add attention FLOPs over this context to the 2N per served token (Kaplan Table 1).")] = None,
    points: Annotated[int, typer.Option("--points", help="Demands per range, log-spaced.")] = 8,
    plot: PlotOpt = None,
    fmt: FormatOpt = Format.table,
):
    """A model that will serve many tokens: how much smaller to make it and how much longer to train it (Sardana et al. 2024).

    Example: scaleplan inference-aware --flops 1e23 --inference-tokens 2e12
    Example: scaleplan inference-aware --target-loss 2.1 --inference-tokens 1e13 --objective cost --decode-mfu 0.1
    Example: scaleplan inference-aware --flops 1e23 --inference-tokens 1e10..1e15 --points 6
    """
    from . import inference  # noqa: PLC0415 - serving model loads only for this command

    tokens = parse_budgets(inference_tokens, "--inference-tokens", points, allow_zero=True)
    plotter = _plotter(plot)
    fraction = lambda v, name, low_open=True: None if v is None else parse_fraction(v, name, low_open)  # noqa: E731
    costs = inference.serving_costs(
        hardware, fraction(mfu, "--mfu"), None if price is None else parse_positive(price, "--price"),
        inference_hardware, None if inference_price is None else parse_positive(inference_price, "--inference-price"),
        fraction(prefill_mfu, "--prefill-mfu"), fraction(decode_mfu, "--decode-mfu"),
        fraction(prompt_share, "--prompt-share", False), inference_bits,
        peak_flops=None if peak_flops is None else parse_positive(peak_flops, "--peak-flops"))
    plan = inference.inference_aware(
        tokens if tokens.size > 1 else tokens[0], flops=None if flops is None else parse_positive(flops, "--flops"),
        target_loss=target_loss, law=law or laws_mod.DEFAULT_LAW, objective=objective,
        context=None if context is None else parse_positive(context, "--context"), costs=costs)
    _warn(plan.warnings)
    break_even = inference.describe_break_even(plan)
    if tokens.size > 1:
        emit_inference_sweep(out, fmt, list(plan), break_even)
    else:
        emit_inference(out, fmt, plan, break_even)
    if plotter:
        plotter.save_inference_figure(plan, plot, law=laws_mod.get(law or laws_mod.DEFAULT_LAW))
        err.print(f"wrote {plot}", markup=False)


def _columns(spec: list[str]) -> dict:
    """'--columns params=Model Size --columns loss=val_loss' (or comma-separated) -> {field: column}."""
    out = {}
    for item in (part for value in spec for part in value.split(",")):
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ScaleplanError(f"--columns takes FIELD=COLUMN pairs (fields: params, tokens, flops, loss), got {item!r}")
        out[field.strip()] = column.strip()
    return out


@app.command()
def fit(
    path: Annotated[str, typer.Argument(metavar="RUNS", help="Your runs: .csv, .tsv, .jsonl, .json or .yaml.")],
    columns: Annotated[list[str], typer.Option("--columns", help="Map fields to your column names, e.g. loss=val_loss.")] = [],
    drop_worst: Annotated[int, typer.Option("--drop-worst", help="Leave out the K highest-loss runs (Epoch: 5).")] = 0,
    n_bootstrap: Annotated[int, typer.Option("--bootstrap", help="Resample the runs N times for confidence intervals.")] = 0,
    approach: Annotated[str, typer.Option("--approach", help="parametric (Approach 3), isoflop (Approach 2) or both.")] = "parametric",
    budgets: Annotated[list[str], typer.Option("--budgets", help="Budgets for the implied allocation (default 1e21, 1e23, 1e25).")] = [],
    save: Annotated[Optional[str], typer.Option("--save", help="Write the fitted law to this YAML file (usable as --law FILE).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Name of the saved law (default: the file's stem).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    method: Annotated[str, typer.Option("--method", help="huber: Huber on log loss from Epoch's grid (default); vp: least squares on the loss by variable projection.")] = "huber",
    max_flops: Annotated[Optional[str], typer.Option("--max-flops", help="Fit only the runs below this many FLOPs (after --drop-worst).")] = None,
    run_column: Annotated[Optional[str], typer.Option("--run-column", help="Checkpoints: the run-id column (default: run, run_id, name, ... when ids repeat).")] = None,
    drop_early: Annotated[float, typer.Option("--drop-early", help="Checkpoints: drop each run's checkpoints at or below this fraction of its final tokens.")] = 0.1,
    min_tokens: Annotated[Optional[str], typer.Option("--min-tokens", help="Checkpoints: drop those before this many tokens instead (Choshen et al.: 10B).")] = None,
    plot: PlotOpt = None,
    fmt: FormatOpt = Format.table,
):
    """Fit L(N, D) = E + A/N^alpha + B/D^beta to your runs, as Hoffmann et al. and Epoch AI did.

    Example: scaleplan fit runs.csv --drop-worst 5 --bootstrap 1000 --save mylaw.yaml
    Example: scaleplan fit sweep.csv --approach both
    Example: scaleplan fit runs.csv --drop-worst 5 --max-flops 1e21 --method vp
    Example: scaleplan fit checkpoints.csv --run-column run --min-tokens 10B
    """
    from . import fit as fit_mod

    if method not in ("huber", "vp"):
        raise ScaleplanError(f"--method must be huber or vp, got {method!r}")
    if method == "vp":
        _fit_vp(path, columns, drop_worst, approach, n_bootstrap, plot, max_flops, budgets, save, name, fmt,
                (run_column, drop_early, min_tokens), seed)
        return
    if approach not in ("parametric", "isoflop", "both"):
        raise ScaleplanError(f"--approach must be parametric, isoflop or both, got {approach!r}")
    if (n_bootstrap or plot) and approach == "isoflop":
        raise ScaleplanError("--bootstrap and --plot apply to the parametric fit; use --approach parametric or both")
    plotter = _plotter(plot, inputs=[path])
    runs = _load_fit_runs(path, columns, drop_worst, (run_column, drop_early, min_tokens))
    if max_flops is not None:
        from .fit_vp import below_flops

        runs = below_flops(runs, parse_positive(max_flops, "--max-flops"))
    chosen = tuple(parse_budgets(budgets, "--budgets")) if budgets else (1e21, 1e23, 1e25)
    record, parametric, boot, iso = {"data": runs.summary()}, None, None, None
    if approach in ("parametric", "both"):
        parametric = fit_mod.fit_parametric(runs)
        record["parametric"] = parametric.to_dict(chosen)
        _warn(parametric.warnings)
        if n_bootstrap:
            boot = _bootstrap_with_progress(fit_mod, runs, n_bootstrap, seed, chosen, parametric)
            record["bootstrap"] = boot.to_dict()
    if approach in ("isoflop", "both"):
        iso = fit_mod.fit_isoflop(runs)
        record["isoflop"] = iso.to_dict()
        if parametric is not None:
            from .fit_vp import approach2_bias

            record["isoflop"]["vs_parametric"] = approach2_bias(iso, parametric, chosen)
    if save:
        import yaml

        law = fit_mod.law_dict(parametric or iso, boot, runs, name=name or Path(save).stem)
        laws_mod.law_from_dict(law, save)  # what we write must load
        write_atomic(save, yaml.safe_dump(law, sort_keys=False), inputs=[path])
        err.print(f"saved {save}: use it with --law {save}", markup=False)
    if plotter:
        plotter.save_fit_figure(runs, parametric, plot, boot=boot, inputs=[path])
        err.print(f"wrote {plot}", markup=False)
    if fmt != Format.table and fmt != Format.markdown:
        emit_grid(out, fmt, None, [], [], record)
        return
    _emit_fit_tables(fmt, runs, parametric, boot, iso)


def _load_fit_runs(path, columns, drop_worst, checkpoint_options):
    """Runs for `fit`: one row per run, or checkpoints (several rows per run, early ones dropped, runs weighted equally)."""
    from .checkpoints import load_any

    run_column, drop_early, min_tokens = checkpoint_options
    runs = load_any(path, _columns(columns) or None, drop_worst, run_column, drop_early,
                    None if min_tokens is None else parse_quantity(min_tokens, "--min-tokens"))
    if runs.checkpoints:
        info = runs.checkpoints
        _warn(info["warnings"])
        err.print(f"{info['checkpoints']:,} checkpoints of {info['runs']} runs ({info['model_sizes']} model sizes); "
                  f"{info['dropped_early']:,} early ones dropped: {info['rule']}; each run weighs the same",
                  markup=False, soft_wrap=True)
    return runs


def _fit_vp(path, columns, drop_worst, approach, n_bootstrap, plot, max_flops, budgets, save, name, fmt,
            checkpoint_options=(None, 0.1, None), seed=0) -> None:
    """fit --method vp: least squares on the loss by variable projection (Czech / Open-Athena)."""
    import numpy as np

    from . import fit_vp

    if approach != "parametric" or plot:
        raise ScaleplanError("--method vp fits the parametric law alone: drop --approach and --plot")
    if not 0 <= n_bootstrap <= 100_000:
        raise ScaleplanError(f"--bootstrap must be in 0..100,000, got {n_bootstrap:,}")
    runs = _load_fit_runs(path, columns, drop_worst, checkpoint_options)
    if max_flops is not None:
        runs = fit_vp.below_flops(runs, parse_positive(max_flops, "--max-flops"))
    vp = fit_vp.fit_vp(runs)
    _warn(vp.warnings)
    chosen = tuple(parse_budgets(budgets, "--budgets")) if budgets else (1e21, 1e23, 1e25)
    boot = fit_vp.bootstrap_vp(runs, vp, n=n_bootstrap, seed=seed, budgets=chosen) if n_bootstrap else None
    n_opt, d_opt = vp.optimum(np.asarray(chosen))
    alloc = [{"flops": c, "params": float(n_), "tokens": float(d_), "tokens_per_param": float(d_ / n_),
              "loss": float(vp.loss(n_, d_))} for c, n_, d_ in zip(chosen, n_opt, d_opt)]
    if save:
        import yaml

        law = fit_vp.law_dict(vp, runs, name=name or Path(save).stem, boot=boot)
        laws_mod.law_from_dict(law, save)
        write_atomic(save, yaml.safe_dump(law, sort_keys=False), inputs=[path])
        err.print(f"saved {save}: use it with --law {save}", markup=False)
    record = {"data": runs.summary(), "vp": {**vp.to_dict(), "allocation": alloc}}
    if boot is not None:
        record["bootstrap"] = boot.to_dict()
    if fmt not in (Format.table, Format.markdown):
        emit_grid(out, fmt, None, [], [], record)
        return
    rows = []
    for k in ("E", "A", "B", "alpha", "beta", "a", "b"):
        row = [k, f"{getattr(vp, k):.5g}"]
        if boot is not None:
            row += [f"{lo:.4g} .. {hi:.4g}" for lo, hi in boot.intervals[k].values()]
        rows.append(row)
    headers = ["constant", "estimate"] + ([f"{k} interval" for k in boot.intervals["E"]] if boot else [])
    pad = [""] * (len(headers) - 2)
    rows += [["RSS", f"{vp.rss:.6g}", *pad], ["residual RMS", f"{float(np.sqrt(np.mean(vp.residuals ** 2))):.4f}", *pad],
             ["rows fitted", f"{len(runs):,}", *pad]]
    emit_grid(out, fmt, "Fitted law, least squares on the loss", headers, rows, {},
              "L = E + A/N^alpha + B/D^beta by variable projection (E. Czech, Open-Athena)"
              + (f"; {boot.n} bootstrap refits" if boot else "") + ".")
    out.print()
    emit_grid(out, fmt, "Implied compute-optimal allocation", ["budget", "params", "tokens", "tokens/param", "loss"],
              [[fmt_sci(a["flops"]), fmt_count(a["params"]), fmt_count(a["tokens"]), fmt_number(a["tokens_per_param"]),
                f"{a['loss']:.3f}"] for a in alloc], {})
    if boot is not None:
        out.print()
        b_rows = []
        for row in boot.to_dict()["allocation"]:
            for level, (lo, hi) in row["intervals"]["params"].items():
                t_lo, t_hi = row["intervals"]["tokens"][level]
                b_rows.append([fmt_sci(row["flops"]), level, f"{fmt_count(lo)} .. {fmt_count(hi)}",
                               f"{fmt_count(t_lo)} .. {fmt_count(t_hi)}"])
        emit_grid(out, fmt, f"Bootstrap intervals ({boot.n} resamples)", ["budget", "level", "params", "tokens"],
                  b_rows, {})


def _bootstrap_with_progress(fit_mod, runs, n, seed, budgets, parametric):
    from rich.progress import Progress

    with Progress(console=err, transient=True, disable=n < 200) as progress:
        task = progress.add_task(f"bootstrap ({n} refits)", total=n)
        return fit_mod.bootstrap(runs, n=n, seed=seed, budgets=budgets, fit=parametric,
                                 progress=lambda i, total: progress.update(task, completed=i))


def _emit_fit_tables(fmt, runs, parametric, boot, iso) -> None:
    summary = runs.summary()
    caption = f"{summary.get('n_runs', len(runs))} runs from {runs.source}"
    if parametric is not None:
        rows = []
        for key in ("E", "A", "B", "alpha", "beta", "a", "b"):
            value = getattr(parametric, key)
            row = [key, f"{value:.5g}"]
            if boot is not None:
                row += [f"{lo:.4g} .. {hi:.4g}" for lo, hi in boot.intervals[key].values()]
            rows.append(row)
        headers = ["constant", "estimate"] + ([f"{k} interval" for k in boot.intervals["E"]] if boot else [])
        r = parametric.residuals
        emit_grid(out, fmt, "Fitted law: L = E + A/N^alpha + B/D^beta (Huber, delta 1e-3, on log loss)", headers,
                  rows, {}, f"{caption}; residual RMS {float((r * r).mean() ** 0.5):.4f} in log loss; "
                  f"objective {parametric.objective:.6g}. Method: Hoffmann et al. 2022 App. D.2, Besiroglu et al. 2024.")
        out.print()
        alloc_rows = [[fmt_sci(a["flops"]), fmt_count(a["params"]), fmt_count(a["tokens"]),
                       fmt_number(a["tokens_per_param"]), f"{a['loss']:.3f}"] for a in parametric.allocation(
                           [a["flops"] for a in boot.to_dict()["allocation"]] if boot else (1e21, 1e23, 1e25))]
        emit_grid(out, fmt, "Implied compute-optimal allocation", ["budget", "params", "tokens", "tokens/param", "loss"],
                  alloc_rows, {})
        if boot is not None:
            out.print()
            b_rows = []
            for row in boot.to_dict()["allocation"]:
                for level, (lo, hi) in row["intervals"]["params"].items():
                    t_lo, t_hi = row["intervals"]["tokens"][level]
                    b_rows.append([fmt_sci(row["flops"]), level, f"{fmt_count(lo)} .. {fmt_count(hi)}",
                                   f"{fmt_count(t_lo)} .. {fmt_count(t_hi)}"])
            emit_grid(out, fmt, f"Bootstrap intervals ({boot.n} resamples)", ["budget", "level", "params", "tokens"],
                      b_rows, {})
    if iso is not None:
        if parametric is not None:
            out.print()
        rows = [[fmt_sci(lv.flops), fmt_count(lv.params_opt), fmt_count(lv.tokens_opt), str(lv.n_runs)]
                for lv in iso.levels]
        emit_grid(out, fmt, "IsoFLOP minima (Approach 2)", ["FLOPs", "params", "tokens", "runs"], rows, {},
                  f"N_opt = {iso.n_coef:.4g} C^{iso.a:.4f}; D_opt = {iso.d_coef:.4g} C^{iso.b:.4f}")
        if parametric is not None:
            from .fit_vp import approach2_bias

            out.print()
            bias = approach2_bias(iso, parametric, [a["flops"] for a in parametric.allocation()])
            emit_grid(out, fmt, "Approach 2 against the parametric fit", ["budget", "tokens (A2)", "tokens (A3)",
                      "A2 / A3"], [[fmt_sci(b["flops"]), fmt_count(b["tokens_isoflop"]), fmt_count(b["tokens_parametric"]),
                                    f"{b['tokens_ratio']:.2f}"] for b in bias], {},
                      "Czech (Open-Athena) finds Approach 2 over-estimating compute-optimal tokens (58-75% on Llama 3's "
                      "isoFLOP data).")


@app.command()
def sweep(
    target_flops: Annotated[str, typer.Option("--target-flops", help="The big run the sweep should predict.")],
    budget_flops: Annotated[str, typer.Option("--budget-flops", help="Total FLOPs you can spend on the sweep.")],
    levels: Annotated[int, typer.Option("--levels", help="IsoFLOP levels.")] = 5,
    sizes: Annotated[int, typer.Option("--sizes", help="Model sizes per level.")] = 7,
    law: LawOpt = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Write the runs as a CSV to fill in with losses.")] = None,
    fmt: FormatOpt = Format.table,
):
    """Design the small runs (IsoFLOP levels x model sizes) to fit your own law before a big run.

    Example: scaleplan sweep --target-flops 1e23 --budget-flops 1e20 --output sweep.csv
    """
    from . import fit as fit_mod

    design = fit_mod.design_sweep(parse_positive(target_flops, "--target-flops"),
                                  parse_positive(budget_flops, "--budget-flops"), levels=levels,
                                  sizes_per_level=sizes, law=law or laws_mod.DEFAULT_LAW)
    _warn(design.warnings)
    if output:
        write_atomic(output, design.csv_text())
        err.print(f"wrote {len(design.rows)} runs to {output}: train them, fill in the loss column, then "
                  f"scaleplan fit {output}", markup=False)
    rows = [[str(r.level), fmt_sci(r.flops), fmt_count(r.params), fmt_count(r.tokens), fmt_number(r.tokens / r.params)]
            for r in design.rows]
    emit_grid(out, fmt, "IsoFLOP sweep design", ["level", "FLOPs", "params", "tokens", "tokens/param"], rows,
              design.to_dict(), f"Total {fmt_sci(design.total_flops)} FLOPs of a {fmt_sci(design.budget_flops)} budget; "
              f"target {fmt_sci(design.target_flops)} is {fmt_number(design.extrapolation)}x the largest level. "
              f"Sizes centred on {design.law}'s optimum.")


# ---------------------------------------------------------------------------------------------------------------
# scaleplan curve: training curves (Tissue et al. 2024 law; Hagele et al. 2024 schedules)

curve_app = typer.Typer(cls=_Group, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(curve_app, name="curve")

MAX_ROWS = 10_000           # rows of any printed table
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
    from .files import check_target

    target = check_target(path, inputs, suffix=suffix)
    if target.exists() and not force:
        raise ScaleplanError(f"{path} exists; add --force to overwrite it")


def _whole_option(value: int, flag: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ScaleplanError(f"{flag} must be in {low:,}..{high:,}, got {value:,}")
    return value


@curve_app.command("fit")
def curve_fit(
    logs: Annotated[list[str], typer.Argument(metavar="LOG...", help="Training logs (.csv, .tsv, .jsonl, .json, .yaml; W&B or TensorBoard CSV exports) with step, learning rate and loss; two or more: fit all but the last, predict the last.")],
    columns: Annotated[list[str], typer.Option("--columns", help="Map fields to your column names, e.g. loss=train/loss,lr=lr-AdamW.")] = [],
    warmup: Annotated[Optional[int], typer.Option("--warmup", help="Warm-up steps (default: the steps before the learning rate first peaks).")] = None,
    lr_log: Annotated[Optional[str], typer.Option("--lr-log", help="The learning rate from this second file (a TensorBoard export of the LR scalar: Step, Value); one LOG only.")] = None,
    from_step: Annotated[int, typer.Option("--from-step", help="Fit only logged points at or after this step (early steps often follow no power law).")] = 0,
    robust: Annotated[bool, typer.Option("--robust", help="Huber (delta 1e-3) on log-loss residuals instead of least squares: loss spikes count little.")] = False,
    holdout: Annotated[float, typer.Option("--holdout", help="Fraction of logged points held out for the check (one log).")] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the held-out draw.")] = 0,
    save: Annotated[Optional[str], typer.Option("--save", help="Write the fitted curve law to this YAML file (for curve predict --law).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --save or --plot file.")] = False,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Also draw the logged and fitted curves to this PNG file (needs matplotlib).")] = None,
    fmt: FormatOpt = Format.table,
):
    """Fit L(s) = L0 + A S1^-alpha - C S2 (Tissue et al. 2024) to training logs, with a held-out check.

    Example: scaleplan curve fit train_log.csv
    Example: scaleplan curve fit wandb_export.csv --columns "loss=run-1 - train/loss,lr=run-1 - lr" --save law.yaml
    Example: scaleplan curve fit wsd_run.csv cosine_run.csv
    Example: scaleplan curve fit tb_loss.csv --lr-log tb_lr.csv
    Example: scaleplan curve fit spiky_log.csv --robust --from-step 500
    """
    from . import curves

    if len(logs) > 64:
        raise ScaleplanError(f"at most 64 logs at once, got {len(logs)}")
    if lr_log and len(logs) > 1:
        raise ScaleplanError("--lr-log pairs with one LOG; join the learning rate into each log to fit several")
    inputs = logs + ([lr_log] if lr_log else [])
    for target, suffix in ((save, None), (plot, ".png")):
        if target:
            _refuse_existing(target, force, inputs, suffix)
    if plot:
        _plotter(plot, inputs)
    mapping = _curve_columns(columns)
    loaded = [curves.load_log(p, mapping or None, warmup, lr_log) for p in logs]
    result = curves.fit_curves(loaded, holdout=holdout, seed=seed, robust=robust, from_step=from_step,
                               name=Path(save).stem if save else "my-curve-law")
    _warn(result.warnings)
    record = result.to_dict()
    if save:
        import yaml

        write_atomic(save, yaml.safe_dump(record, sort_keys=False), inputs=inputs)
        err.print(f"saved {save}: use it with scaleplan curve predict --law {save}", markup=False)
    if plot:
        from . import plot_curves

        plot_curves.save_fit_figure(loaded, result.law, plot, inputs=inputs)
        err.print(f"wrote {plot}", markup=False)
    law, h = result.law, result.holdout
    hl = h.get("law", {})
    rows = [[k, f"{v:.5g}", f"{hl[k]:.5g}" if k in hl else "-"] for k, v in
            (("L0", law.L0), ("A", law.A), ("alpha", law.alpha), ("C", law.C))]
    rows += [["points", f"{result.n_points:,} fitted", f"{h['n_points']:,} predicted" if h else "-"],
             ["RMSE", f"{result.rmse:.4g}", f"{h['rmse']:.4g}" if h else "-"],
             ["max error", f"{result.max_rel_error:.2%}", f"{h['max_rel_error']:.2%}" if h else "-"],
             ["R^2", f"{result.r2:.5f}", "-"]]
    caption = (f"Held-out check: {h['how']}. " if h else "") + (
        "S1, S2 summed over every step (LR interpolated between logged steps; warm-up at the peak rate; "
        "lambda 0.999), as defined in arXiv 2505.07796 (secondary).")
    emit_grid(out, fmt, "Curve law: L = L0 + A S1^-alpha - C S2 (Tissue et al. 2024)",
              ["", "all points", "held-out check"], rows, record, caption)


def _schedule(kind, steps, peak_lr, warmup, cooldown, shape, final, milestones, factor):
    from .curves import Schedule

    return Schedule(kind, steps, peak_lr, warmup=warmup, cooldown=cooldown, shape=shape,
                    final_fraction=(0.1 if kind == "cosine" else 0.0) if final is None else final,
                    milestones=tuple(milestones) or (0.5, 0.75), factor=factor)


@curve_app.command("predict")
def curve_predict(
    law_file: Annotated[Optional[str], typer.Option("--law", help="A curve law from curve fit --save (default: the secondary example law of arXiv 2505.07796).")] = None,
    steps: Annotated[str, typer.Option("--steps", help="Total training steps, e.g. 20000 or 20K.")] = "20000",
    peak_lr: Annotated[str, typer.Option("--peak-lr", help="Peak learning rate, in the units of the law's logs.")] = "2e-4",
    warmup: Annotated[int, typer.Option("--warmup", help="Linear warm-up steps.")] = 0,
    schedules: Annotated[list[str], typer.Option("--schedule", help="Schedule(s) to compare: cosine, wsd, constant, step (repeat it).")] = [],
    cooldown: Annotated[float, typer.Option("--cooldown", help="wsd: fraction of steps spent decaying.")] = 0.2,
    shape: Annotated[str, typer.Option("--shape", help="wsd cooldown shape: linear, 1-sqrt, cosine.")] = "1-sqrt",
    final: Annotated[Optional[float], typer.Option("--final", help="Last LR as a fraction of the peak (default: cosine 0.1, others 0).")] = None,
    milestones: Annotated[list[float], typer.Option("--milestone", help="step: fraction of steps after which the LR is multiplied by --factor (repeat; default 0.5, 0.75).")] = [],
    factor: Annotated[float, typer.Option("--factor", help="step: the factor at each milestone.")] = 0.1,
    best_cooldown: Annotated[bool, typer.Option("--best-cooldown", help="Also find the wsd cooldown fraction with the lowest final loss.")] = False,
    target_loss: Annotated[Optional[float], typer.Option("--target-loss", help="Also find the steps each schedule needs to reach this loss.")] = None,
    rows: Annotated[int, typer.Option("--rows", help="Steps shown in the loss-curve table (2..10000).")] = 11,
    schedule_table: Annotated[bool, typer.Option("--schedule-table", help="Print the first schedule as a per-step (step, lr) table for a trainer, --rows rows.")] = False,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Write the first schedule's learning rate at every step to this CSV file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output or --plot file.")] = False,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Also draw the LR and loss curves to this PNG file (needs matplotlib).")] = None,
    fmt: FormatOpt = Format.table,
):
    """The loss at every step under learning-rate schedules, from a fitted curve law.

    Example: scaleplan curve predict --steps 20000 --peak-lr 2e-4 --warmup 500
    Example: scaleplan curve predict --law law.yaml --schedule wsd --best-cooldown --target-loss 3.3
    Example: scaleplan curve predict --schedule wsd --cooldown 0.2 --shape 1-sqrt --output lr.csv
    """
    from dataclasses import replace

    import numpy as np

    from . import curves

    n_steps = parse_positive(steps, "--steps")
    if not n_steps.is_integer() or n_steps > MAX_PREDICT_STEPS:
        raise ScaleplanError(f"--steps must be a whole number in 1..{MAX_PREDICT_STEPS:,}, got {steps}")
    n_steps = int(n_steps)
    _whole_option(rows, "--rows", 2, MAX_ROWS)
    _whole_option(warmup, "--warmup", 0, n_steps - 1)
    inputs = [law_file] if law_file else []
    if output:
        if n_steps > MAX_OUTPUT_STEPS:
            raise ScaleplanError(f"--output writes one row per step: at most {MAX_OUTPUT_STEPS:,} steps, got {n_steps:,}")
        _refuse_existing(output, force, inputs)
    if plot:
        _refuse_existing(plot, force, inputs, ".png")
        _plotter(plot, inputs)
    law = curves.load_law(law_file) if law_file else curves.example_law()
    kinds = list(dict.fromkeys(schedules)) or ["cosine", "wsd", "constant"]
    if len(kinds) > 8:
        raise ScaleplanError("at most 8 schedules at once")
    lr_peak = parse_positive(peak_lr, "--peak-lr")
    built = [_schedule(k, n_steps, lr_peak, warmup, cooldown, shape, final, milestones, factor) for k in kinds]
    curves_out = [law.curve(s) for s in built]
    finals = [float(c["loss"][-1]) for c in curves_out]
    record: dict = {"law": law.to_dict(), "schedules": []}
    for s, c, f in zip(built, curves_out, finals):
        entry = {"schedule": s.to_dict(), "describe": s.describe(), "final_loss": f, "final_lr": float(c["lr"][-1])}
        if target_loss is not None:
            entry["steps_to_target"] = curves.steps_to_loss(law, target_loss, s, max_steps=MAX_PREDICT_STEPS)
        record["schedules"].append(entry)
    choice = None
    if best_cooldown:
        base = next((s for s in built if s.kind == "wsd"),
                    replace(built[0], kind="wsd", final_fraction=0.0 if final is None else final))
        choice = curves.best_cooldown(law, base)
        record["best_cooldown"] = choice.to_dict()
    first = min(n_steps, max(warmup + 1, round(n_steps / rows)))  # the law says little inside warm-up
    step_rows = np.unique(np.linspace(first, n_steps, min(rows, n_steps - first + 1)).round().astype(int))
    record["curve"] = [{"step": int(st), **{f"loss_{s.kind}": float(c["loss"][st - 1]) for s, c in zip(built, curves_out)}}
                       for st in step_rows]
    if schedule_table:
        record["schedule_table"] = built[0].table(rows)
    if output:
        lr = built[0].lr()
        text = "step,lr\n" + "".join(f"{i},{v:.9g}\n" for i, v in enumerate(lr, start=1))
        write_atomic(output, text, inputs=inputs)
        err.print(f"wrote {n_steps:,} steps of {built[0].describe()} to {output}", markup=False)
    if plot:
        from . import plot_curves

        plot_curves.save_predict_figure(built, curves_out, plot, inputs=inputs)
        err.print(f"wrote {plot}", markup=False)
    if fmt == Format.csv:  # one row per schedule, as the table
        emit_grid(out, fmt, None, [], [], [{"schedule": e["schedule"]["kind"], "final_loss": e["final_loss"],
                                            "final_lr": e["final_lr"], "steps_to_target": e.get("steps_to_target"),
                                            **{k: v for k, v in e["schedule"].items() if k != "kind"}}
                                           for e in record["schedules"]])
        return
    if fmt != Format.table and fmt != Format.markdown:
        emit_grid(out, fmt, None, [], [], record)
        return
    best = min(finals)
    table = [[s.kind, s.shape_text(), f"{f:.4f}", f"{f - best:+.4f}"] for s, f in zip(built, finals)]
    headers = ["schedule", "shape", "final loss", "vs best"]
    if target_loss is not None:
        headers.append(f"steps to {target_loss:g}")
        table = [row + ["not reached" if e["steps_to_target"] is None else f"{e['steps_to_target']:,}"]
                 for row, e in zip(table, record["schedules"])]
    emit_grid(out, fmt, f"Predicted final loss after {n_steps:,} steps (peak LR {lr_peak:g})", headers, table, {},
              f"Law: {law.name} (L0 {law.L0:.4g}, A {law.A:.4g}, alpha {law.alpha:.4g}, C {law.C:.4g}).")
    out.print()
    emit_grid(out, fmt, "Predicted loss curve", ["step"] + [s.kind for s in built],
              [[f"{r['step']:,}"] + [f"{r[f'loss_{s.kind}']:.4f}" for s in built] for r in record["curve"]], {})
    if choice is not None:
        out.print()
        picks = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, choice.best]
        shown = sorted({min(choice.fractions, key=lambda f: abs(f - p)) for p in picks})
        emit_grid(out, fmt, f"Best cooldown: {choice.best:.0%}",
                  ["cooldown", "final loss"],
                  [[f"{f:.0%}", f"{choice.final_losses[list(choice.fractions).index(f)]:.4f}"] for f in shown], {},
                  f"wsd, {choice.schedule.shape} cooldown. Hagele et al. 2024: ~20% is enough; 1-sqrt beats linear.")
    if schedule_table:
        out.print()
        emit_grid(out, fmt, "Learning rate by step", ["step", "learning rate"],
                  [[f"{r['step']:,}", f"{r['lr']:.4g}"] for r in record["schedule_table"]], {}, built[0].describe())
