"""The `scaleplan` command line: parse, call one library function, render, map errors to exit codes."""

# Annotations stay source text until typer builds the command that runs (see run() and _evaluate_options):
# building all ~150 typer.Option objects at import cost ~2.5 ms of every command's start-up.
from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

from .. import laws as laws_mod
from ..core import startup
from ..core.errors import ScaleplanError, as_flag
from ..core.files import check_target, write_atomic, write_files
from ..pipeline.budget import Budget, load_budget_file
from ..pipeline.optimal import Plan
from ..pipeline.optimal import compare as compare_laws
from ..pipeline.stages import plan_budget
from ..present.render import Format, emit_comparison, emit_grid, emit_inference, emit_plans
from ..schema import fields, limits
from ..schema.conventions import DEFAULT_CONTEXT
from ..schema.units import (
    fmt_count,
    fmt_sci,
    parse_budgets,
    parse_count,
    parse_flops,
    parse_fraction,
    parse_positive,
    parse_quantity,
)
from .options import (
    ActiveParamsOpt,
    ArchOpt,
    BandwidthFractionOpt,
    BatchCapOpt,
    CiOpt,
    ContextOpt,
    DaysOpt,
    DModelOpt,
    DollarsOpt,
    EpOpt,
    ExpansionOpt,
    FlopsOpt,
    ForceOpt,
    FormatOpt,
    GpusOpt,
    GranularityOpt,
    HardwareFileOpt,
    HardwareOpt,
    HeadsOpt,
    HfuOpt,
    InferenceTokensOpt,
    KvBitsOpt,
    LatencyOpt,
    LawOpt,
    LayersOpt,
    LrLawOpt,
    MemoryFractionOpt,
    MfuOpt,
    MicroBatchOpt,
    ModelOpt,
    MoeOpt,
    ObjectiveOpt,
    OutputTokensOpt,
    ParamsOpt,
    PeakOpt,
    PlotOpt,
    PpOpt,
    PrecisionOpt,
    PrefillMfuOpt,
    PriceOpt,
    PromptTokensOpt,
    QuietOpt,
    RecomputeOpt,
    ServeBitsOpt,
    ServePrecisionOpt,
    ServeTpOpt,
    ServingModelOpt,
    TargetLossOpt,
    TokensOpt,
    TotalDollarsOpt,
    TotalParamsOpt,
    TpOpt,
    UniqueTokensOpt,
    VocabOpt,
    ZeroOpt,
    option,
)

# Piped or redirected output gets 100 columns (rich would use 80), so tables stay one line per row in files and CI
# logs; a terminal keeps its own width, and COLUMNS still wins.
# markup=False, emoji=False: text prints as it is (a scenario named "x[/]" or "run:100:" is not rich markup or an
# emoji code), and rich's table of emoji codes (~2 ms to import) stays unloaded.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 100
out = Console(highlight=False, width=_PIPE_WIDTH, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


# click's UsageError (unknown option, missing argument, bad choice), found without importing click by name: typer
# vendors click from 0.26 on.
_USAGE_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class _Group(TyperGroup):
    """Maps user errors to one line on stderr and exit code 2, in one place: the library's ScaleplanError and
    click's usage errors alike."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _evaluate_options(app)  # built without run() (tests, `app([...])`): keep the values for the next build

    def invoke(self, ctx):
        import warnings

        import numpy as np

        from ..core.files import command

        try:  # numpy's and scipy's raw warnings (overflow, divide by zero) never reach the user: results say it
            with warnings.catch_warnings(), np.errstate(all="ignore"), command():
                warnings.simplefilter("ignore")
                return super().invoke(ctx)
        except ScaleplanError as exc:  # the library names arguments; the CLI shows them as flags
            _fail(exc.for_flags())
        except _USAGE_ERROR as exc:
            _usage_error(exc)

    def resolve_command(self, ctx, args):
        name, cmd, rest = super().resolve_command(ctx, args)
        if cmd is not None:
            _refuse_repeats(cmd, rest)
        return name, cmd, rest

    def make_context(self, info_name, args, parent=None, **extra):
        try:  # options of the top level itself are parsed here, before invoke
            return super().make_context(info_name, args, parent=parent, **extra)
        except _USAGE_ERROR as exc:
            _usage_error(exc)


def _fail(message: str):
    """One line on stderr, exit 2: the single way a user's mistake ends a command."""
    err.print(f"scaleplan: error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(2)


def _refuse_repeats(cmd, args) -> None:
    """A single-value option given twice is a mistake, not 'the last one wins' (click's default)."""
    single = {}
    for param in cmd.params:
        if param.param_type_name == "option" and not (param.multiple or param.count or param.is_flag):
            single.update(dict.fromkeys(param.opts, param))
    seen: dict[str, str] = {}
    for arg in args:
        if arg == "--":
            break
        opt = arg.split("=", 1)[0] if arg.startswith("--") else arg
        param = single.get(opt)
        if param is None:
            continue
        if param.name in seen:
            _fail(f"{opt} given twice; give it once (see '{cmd.name} -h')")
        seen[param.name] = opt


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
laws_app = typer.Typer(
    cls=_Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
app.add_typer(laws_app, name="laws")


def _version(value: bool):
    if value:
        from .._version import VERSION

        out.print(f"scaleplan {VERSION}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
):
    """Plan LLM pre-training compute with the published scaling laws."""


def _warn(warnings, quiet: bool = False, answered: bool = False) -> None:
    """Each warning once on stderr, every extrapolation in one line, coloured where the terminal allows; none under
    --quiet. `answered`: the answer at the top already said what breaks the budget or a limit."""
    if quiet:
        return
    from ..present.render import print_warnings

    print_warnings(err, warnings, with_breaks=not answered)


def _show(result, fmt: Format, quiet: bool = False) -> None:
    """A planning command's result: the answer first (what breaks the budget or a limit, the model, the run), the
    warnings grouped on stderr, then the full table. --quiet keeps the answer alone (JSON and CSV are the answer:
    they print as ever, every warning in their data)."""
    from ..present.render import emit, print_answer

    human = fmt in (Format.table, Format.markdown)
    print_answer(out, fmt, result)
    _warn(result.warnings, quiet, answered=human)
    if not (quiet and human):
        emit(out, fmt, result)


def _flag_budget(*, moe: bool, granularity, expansion, total_params, active_params, serving=None, **fields) -> Budget:
    """The planning flags as a Budget (the schema a budget file also fills): the same parser and names. The serving
    roofline's flags (`serving`, parsed) are the budget's `inference:` block keys of the same names."""
    if not moe and any(v is not None for v in (granularity, expansion, total_params, active_params)):
        raise ScaleplanError("--granularity, --expansion, --total-params and --active-params need --moe")
    moe_spec = (
        {
            "granularity": granularity,
            "expansion": expansion,
            "total_params": total_params,
            "active_params": active_params,
        }
        if moe
        else None
    )
    block = {k: v for k, v in (serving or {}).items() if v is not None}
    return Budget.from_mapping({**fields, "moe": moe_spec, "inference": block or None}, flags=True)


@app.command()
def allocate(
    flops: FlopsOpt = None,
    gpus: GpusOpt = None,
    days: DaysOpt = None,
    dollars: DollarsOpt = None,
    price: PriceOpt = None,
    hardware: HardwareOpt = None,
    peak_flops: PeakOpt = None,
    mfu: MfuOpt = None,
    precision: PrecisionOpt = None,
    law: LawOpt = None,
    inference_tokens: InferenceTokensOpt = None,
    objective: ObjectiveOpt = None,
    target_loss: TargetLossOpt = None,
    context: ContextOpt = None,
    vocab: VocabOpt = None,
    layers: LayersOpt = None,
    d_model: DModelOpt = None,
    arch: ArchOpt = None,
    lr_law: LrLawOpt = None,
    ci: CiOpt = None,
    unique_tokens: UniqueTokensOpt = None,
    params: ParamsOpt = None,
    tokens: TokensOpt = None,
    model: ModelOpt = None,
    moe: MoeOpt = False,
    granularity: GranularityOpt = None,
    expansion: ExpansionOpt = None,
    hfu: HfuOpt = None,
    recompute: RecomputeOpt = None,
    zero: ZeroOpt = None,
    micro_batch: MicroBatchOpt = None,
    tp: TpOpt = None,
    pp: PpOpt = None,
    ep: EpOpt = None,
    hardware_file: HardwareFileOpt = None,
    serve_bits: ServeBitsOpt = None,
    total_params: TotalParamsOpt = None,
    active_params: ActiveParamsOpt = None,
    total_dollars: TotalDollarsOpt = None,
    serving_model: ServingModelOpt = None,
    kv_bits: KvBitsOpt = None,
    serve_precision: ServePrecisionOpt = None,
    prompt_tokens: PromptTokensOpt = None,
    output_tokens: OutputTokensOpt = None,
    serve_tp: ServeTpOpt = None,
    latency: LatencyOpt = None,
    prefill_mfu: PrefillMfuOpt = None,
    bandwidth_fraction: BandwidthFractionOpt = None,
    memory_fraction: MemoryFractionOpt = None,
    batch_cap: BatchCapOpt = None,
    plot: PlotOpt = None,
    report: Annotated[
        Optional[str],
        typer.Option(
            "--report",
            help="Also write a report folder (decision summary, markdown tables, PNG figures) here: a new or empty folder.",
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
    budget = _flag_budget(
        flops=flops,
        gpus=gpus,
        days=days,
        dollars=dollars,
        price=price,
        hardware=hardware,
        peak_flops=peak_flops,
        mfu=mfu,
        law=law,
        inference_tokens=inference_tokens,
        objective=objective,
        target_loss=target_loss,
        precision=precision,
        params=params,
        tokens=tokens,
        model=model,
        unique_tokens=unique_tokens,
        moe=moe,
        granularity=granularity,
        expansion=expansion,
        total_params=total_params,
        active_params=active_params,
        context=context,
        vocab=vocab,
        layers=layers,
        d_model=d_model,
        arch=arch,
        lr_law=lr_law,
        ci=ci,
        hfu=hfu,
        recompute=recompute,
        zero=zero,
        micro_batch=micro_batch,
        tp=tp,
        pp=pp,
        ep=ep,
        hardware_file=hardware_file,
        serve_bits=serve_bits,
        total_dollars=total_dollars,
        serving=_roofline_flags(
            serving_model=serving_model,
            kv_bits=kv_bits,
            serve_precision=serve_precision,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            serve_tp=serve_tp,
            latency=latency,
            prefill_mfu=prefill_mfu,
            bandwidth_fraction=bandwidth_fraction,
            memory_fraction=memory_fraction,
            batch_cap=batch_cap,
        ),
    )
    if plot and budget.mode != "compute-optimal":
        raise ScaleplanError(
            "--plot draws the compute-optimal plan; it does not combine with --params/--tokens, "
            "--unique-tokens or --moe yet"
        )
    plotter = _plotter(plot, force=force)
    if report is not None:
        from ..present.report import check_folder

        check_folder(None, report, force=force)  # refuse a bad folder before any work
    result = plan_budget(budget)
    _show(result, fmt, quiet)
    if plotter:
        plotter.save_plan_figure(result, plot, law=budget.law_spec(), force=force)
        err.print(f"wrote {plot}", markup=False)
    if report is not None:
        from ..present.report import write_plan_report

        written = write_plan_report(budget, report, figures=_report_figures(), force=force, result=result)
        n = len(written.files)
        err.print(f"wrote {n} file{'s' if n != 1 else ''} to {written.folder}", markup=False)


def _emit_result(result, fmt) -> None:
    """One plan of any mode, rendered by its own table (render.emit: as `result.to_table()` renders it)."""
    from ..present.render import emit

    emit(out, fmt, result)


def _points(points: int) -> int:
    if not 2 <= points <= limits.MAX_OUTPUT_ROWS:
        raise ScaleplanError(f"--points must be from 2 to {limits.MAX_OUTPUT_ROWS:,}, got {points:,}")
    return points


def _serving_price(text: str) -> float:
    """--inference-price: dollars per serving GPU-hour, capped as --price is (scaleplan.cluster.serving)."""
    price = parse_positive(text, "--inference-price")
    if not price <= 1e6:
        raise ScaleplanError(f"--inference-price must be positive dollars per GPU-hour (at most 1e6), got {text!r}")
    return price


def _law_flag(law: str | None):
    """The law of --law (a name or a law file), an error naming --law."""
    try:
        return laws_mod.get(law or laws_mod.DEFAULT_LAW)
    except ScaleplanError as exc:
        text = exc.for_flags()
        raise ScaleplanError(text if text.startswith("--law") else f"--law: {text}") from None


def _sizes(**values) -> list[int | None]:
    """Shape and context sizes by their one parser (scaleplan.schema.fields): whole numbers under the caps of
    scaleplan.schema.limits; None stays None."""
    return [fields.optional(key, value) for key, value in values.items()]


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
    budgets = parse_budgets(flops, "--flops", _points(points), max_values=limits.MAX_OUTPUT_ROWS)
    limits.check_rows(budgets.size * len(law_names), f"{len(law_names)} law(s) x {budgets.size} budget(s)")
    for name in law_names:
        limits.check_flops(budgets, "--flops", laws_mod.get(name))
    plotter = _plotter(plot, force=force)
    comparison = compare_laws(law_names, budgets)
    _warn(comparison.warnings)
    emit_comparison(out, fmt, comparison)
    if plotter:
        plotter.save_comparison_figure(comparison, plot, law_specs=law_names, force=force)
        err.print(f"wrote {plot}", markup=False)


@app.command()
def plan(
    path: Annotated[str, typer.Argument(metavar="FILE", help="A YAML budget file (see configs/).")],
    law: LawOpt = None,
    flops: FlopsOpt = None,
    gpus: GpusOpt = None,
    days: DaysOpt = None,
    dollars: DollarsOpt = None,
    price: PriceOpt = None,
    hardware: HardwareOpt = None,
    peak_flops: PeakOpt = None,
    mfu: MfuOpt = None,
    precision: PrecisionOpt = None,
    inference_tokens: InferenceTokensOpt = None,
    objective: ObjectiveOpt = None,
    target_loss: TargetLossOpt = None,
    context: ContextOpt = None,
    vocab: VocabOpt = None,
    layers: LayersOpt = None,
    d_model: DModelOpt = None,
    arch: ArchOpt = None,
    lr_law: LrLawOpt = None,
    ci: CiOpt = None,
    unique_tokens: UniqueTokensOpt = None,
    params: ParamsOpt = None,
    tokens: TokensOpt = None,
    model: ModelOpt = None,
    moe: MoeOpt = False,
    granularity: GranularityOpt = None,
    expansion: ExpansionOpt = None,
    hfu: HfuOpt = None,
    recompute: RecomputeOpt = None,
    zero: ZeroOpt = None,
    micro_batch: MicroBatchOpt = None,
    tp: TpOpt = None,
    pp: PpOpt = None,
    ep: EpOpt = None,
    hardware_file: HardwareFileOpt = None,
    serve_bits: ServeBitsOpt = None,
    total_params: TotalParamsOpt = None,
    active_params: ActiveParamsOpt = None,
    total_dollars: TotalDollarsOpt = None,
    serving_model: ServingModelOpt = None,
    kv_bits: KvBitsOpt = None,
    serve_precision: ServePrecisionOpt = None,
    prompt_tokens: PromptTokensOpt = None,
    output_tokens: OutputTokensOpt = None,
    serve_tp: ServeTpOpt = None,
    latency: LatencyOpt = None,
    prefill_mfu: PrefillMfuOpt = None,
    bandwidth_fraction: BandwidthFractionOpt = None,
    memory_fraction: MemoryFractionOpt = None,
    batch_cap: BatchCapOpt = None,
    report: Annotated[
        Optional[str],
        typer.Option(
            "--report", help="Also write a report folder (markdown tables and PNG figures) here: a new or empty folder."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Let --report write into a folder that has files (it replaces only its own file names)."
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
    overrides = _flag_budget(
        flops=flops,
        gpus=gpus,
        days=days,
        dollars=dollars,
        price=price,
        hardware=hardware,
        peak_flops=peak_flops,
        mfu=mfu,
        inference_tokens=inference_tokens,
        objective=objective,
        target_loss=target_loss,
        precision=precision,
        params=params,
        tokens=tokens,
        model=model,
        unique_tokens=unique_tokens,
        moe=moe,
        granularity=granularity,
        expansion=expansion,
        total_params=total_params,
        active_params=active_params,
        context=context,
        vocab=vocab,
        layers=layers,
        d_model=d_model,
        arch=arch,
        lr_law=lr_law,
        ci=ci,
        hfu=hfu,
        recompute=recompute,
        zero=zero,
        micro_batch=micro_batch,
        tp=tp,
        pp=pp,
        ep=ep,
        hardware_file=hardware_file,
        serve_bits=serve_bits,
        total_dollars=total_dollars,
        serving=_roofline_flags(
            serving_model=serving_model,
            kv_bits=kv_bits,
            serve_precision=serve_precision,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            serve_tp=serve_tp,
            latency=latency,
            prefill_mfu=prefill_mfu,
            bandwidth_fraction=bandwidth_fraction,
            memory_fraction=memory_fraction,
            batch_cap=batch_cap,
        ),
    )
    if report is not None:
        from ..present.report import check_folder

        check_folder(path, report, force=force)  # refuse a bad folder before any work
    budgets = load_budget_file(path, law, overrides)
    if report is not None:
        from ..present.report import check_count, check_inputs

        check_inputs(report)
        check_count(len(budgets), path, report)
    results = [plan_budget(b, law) for b in budgets]
    human = fmt in (Format.table, Format.markdown)
    from ..present.render import print_answer

    for i, p in enumerate(results):  # the answer first: each scenario's model and run, what breaks its budget
        print_answer(out, fmt, p, title=(p.name or f"scenario {i + 1}") if len(results) > 1 else None)
    if not quiet:
        from ..present.answer import scenario_warnings

        _warn(scenario_warnings(results, answered=human))
    if quiet and human:
        results = []  # --quiet: the answers alone
    plans = [p for p in results if isinstance(p, Plan)]  # compute-optimal: side by side in one table
    others = [p for p in results if not isinstance(p, Plan)]  # other modes: each its own table
    if fmt in (Format.json, Format.csv) and others:
        records = [p.to_dict() for p in results]
        machine = records[0] if len(records) == 1 else {"plans": records}  # as for compute-optimal plans
        emit_grid(out, fmt, None, [], [], records if fmt is Format.csv else machine)
    else:
        if plans:
            emit_plans(out, fmt, plans, title=f"Plans for {path}")
        for p in others:
            out.print() if plans or p is not others[0] else None
            _emit_result(p, fmt)
    if fmt in (Format.table, Format.markdown):  # the machine formats carry it inside each plan
        from ..pipeline.inference import describe_break_even

        for p in plans:
            if p.inference is not None:
                out.print()
                emit_inference(
                    out, fmt, p.inference, describe_break_even(p.inference), title=f"Inference-aware sizing: {p.name}"
                )
    if report is not None:
        from ..present.report import write_report

        written = write_report(path, report, law=law, figures=_report_figures(), force=force, overrides=overrides)
        n = len(written.files)
        err.print(f"wrote {n} file{'s' if n != 1 else ''} to {written.folder}", markup=False)


def _report_figures() -> bool:
    """A report draws its figures when matplotlib is there; without it, the tables and a warning."""
    try:
        import matplotlib  # noqa: F401

        return True
    except ImportError:
        _warn(["matplotlib is not installed, so the report has tables but no figures (pip install 'scaleplan[plot]')"])
        return False


@laws_app.callback()
def laws_list(ctx: typer.Context, fmt: FormatOpt = Format.table):
    """List every bundled law, grouped by kind (allocation, recipe, MoE, precision, training curves, serving
    defaults), with its source, arXiv id and status.

    Example: scaleplan laws
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..laws import catalogue
    from ..present.render import emit_laws

    emit_laws(out, fmt, list(catalogue.entries()), laws_mod.DEFAULT_LAW)


@laws_app.command("show")
def laws_show(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Any bundled law (see `scaleplan laws`), an alias, or a law file.")
    ],
    fmt: FormatOpt = Format.table,
):
    """Show one law: form, constants, conventions, fitted range, citation and status. Any bundled law: allocation,
    recipe (tao2024, steplaw, deepseek-lr-batch, porian-lr-batch, kaplan-bcrit), MoE (krajewski), precision (sun,
    ouyang, kumar), training curves (tissue), serving defaults (serving); or a law file.

    Example: scaleplan laws show epoch

    Example: scaleplan laws show steplaw
    """
    from ..laws import catalogue
    from ..present.render import emit_entry, emit_law

    if str(name).strip().endswith((".yaml", ".yml")):
        emit_law(out, fmt, laws_mod.get(name), laws_mod.PARAMS_CONVENTIONS)
        return
    entry = catalogue.get(name)
    if entry.law is not None:
        emit_law(out, fmt, entry.law, laws_mod.PARAMS_CONVENTIONS)
    else:
        emit_entry(out, fmt, entry)


@app.command()
def hardware(
    hardware_file: Annotated[
        Optional[str],
        typer.Option(
            "--hardware-file",
            help="A YAML file of presets that adds to or overrides the bundled ones (default: scaleplan/hardware.yaml in $XDG_CONFIG_HOME, if present).",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
):
    """List the hardware presets: dense peak FLOP/s per precision, HBM, bandwidth, power, links, price.

    Example: scaleplan hardware
    Example: scaleplan hardware -f json
    """
    from ..cluster.cost import presets
    from ..present.render import emit_hardware

    emit_hardware(out, fmt, list({hw.key: hw for hw in presets(hardware_file).values()}.values()))


def _plotter(path: str | None, inputs=(), force: bool = False):
    """The plot module if --plot was given, checked before any work: matplotlib present, a writable .png path."""
    if path is None:
        return None
    check_target(path, inputs, suffix=".png", force=force, what="--plot")
    try:
        import matplotlib  # noqa: F401  (only to give a clear message when it is missing)
    except ImportError:
        raise ScaleplanError("--plot needs matplotlib: pip install 'scaleplan[plot]'") from None
    from ..present import plot

    return plot


def _model_size(value, key: str = "params") -> float | None:
    """A parameter count from a flag, inside scaleplan's limits (None when not given)."""
    if value is None:
        return None
    x = fields.parse("params", value, f"<{key}>")
    limits.check_params(x, f"<{key}>")
    return x


def _flops(value) -> float | None:
    """A FLOP budget from a flag, inside scaleplan's limits for the default law (None when not given)."""
    if value is None:
        return None
    return float(limits.check_flops(fields.parse("flops", value), "<flops>", laws_mod.get(laws_mod.DEFAULT_LAW)))


def _recipe():
    from ..recipe import design as recipe  # the recipe tables load only for the commands that use them

    return recipe


@app.command()
def vocab(
    params: Annotated[Optional[str], option("params", help="Total parameters, e.g. 70e9 or 7B.")] = None,
    non_vocab_params: Annotated[
        Optional[str], typer.Option("--non-vocab-params", help="Non-vocabulary parameters (Tao et al.'s N_nv).")
    ] = None,
    flops: Annotated[Optional[str], option("flops", help="Training FLOPs (Tao et al.'s IsoFLOP approach).")] = None,
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
    (width,) = _sizes(d_model=d_model)
    result = _recipe().optimal_vocab(
        non_vocab_params=_model_size(non_vocab_params, "non_vocab_params"),
        flops=_flops(flops),
        params_total=_model_size(params),
        d_model=width,
    )
    _warn(result.warnings)
    from ..present.render import emit_vocab

    emit_vocab(out, fmt, result)


@app.command()
def hparams(
    params: Annotated[Optional[str], option("params", help="Total parameters, e.g. 7B.")] = None,
    tokens: Annotated[Optional[str], option("tokens", help="Training tokens, e.g. 2T.")] = None,
    flops: Annotated[Optional[str], option("flops", help="Training FLOPs (DeepSeek's laws use compute).")] = None,
    loss: Annotated[
        Optional[float], typer.Option("--loss", help="Predicted loss in nats, for Kaplan's critical batch.")
    ] = None,
    law: Annotated[
        Optional[str],
        typer.Option(
            "--law", "-l", help="Which law is the default: steplaw, deepseek, porian, kaplan-bcrit, steplaw-paper."
        ),
    ] = None,
    context: ContextOpt = None,
    fmt: FormatOpt = Format.table,
):
    """Peak learning rate and batch size from every law that applies, side by side.

    Example: scaleplan hparams --params 7B --tokens 2T
    Example: scaleplan hparams --flops 1e21 --law deepseek
    """
    rec = _recipe()
    (ctx,) = _sizes(context=context)
    if loss is not None and not (math.isfinite(loss) and 0.1 <= loss <= 20):
        # ln(1e6) = 13.8 nats is the loss of guessing uniformly over a million-token vocabulary; published
        # language-model losses stay above 1 nat
        raise ScaleplanError(f"--loss must be a positive number of nats from 0.1 to 20, got {loss:g}")
    rows_ = rec.hyperparameters(
        params=_model_size(params),
        tokens=fields.optional("tokens", tokens),
        flops=_flops(flops),
        loss=loss,
        law=law,
        context=ctx or DEFAULT_CONTEXT,
    )
    _warn(w for row in rows_ for w in row.warnings)
    from ..present.render import emit_hparams

    emit_hparams(out, fmt, rows_)


@app.command()
def flops(
    layers: Annotated[int, typer.Option("--layers", help="Number of transformer layers.")],
    d_model: Annotated[int, typer.Option("--d-model", help="Model width.")],
    heads: Annotated[int, typer.Option("--heads", help="Attention heads.")],
    vocab: Annotated[int, typer.Option("--vocab", help="Vocabulary size.")],
    d_ff: Annotated[Optional[int], typer.Option("--d-ff", help="Feed-forward width (default 4 x d_model).")] = None,
    head_dim: Annotated[
        Optional[int], typer.Option("--head-dim", help="Per-head width (default d_model / heads).")
    ] = None,
    context: ContextOpt = None,
    fmt: FormatOpt = Format.table,
):
    """Training FLOPs per token of a network, counted as in Chinchilla's Appendix F, next to 6N.

    Example: scaleplan flops --layers 80 --d-model 8192 --heads 64 --d-ff 32768 --vocab 32000 --context 2048
    """
    given = {"--layers": layers, "--d-model": d_model, "--heads": heads, "--vocab": vocab}
    for flag, size in {**given, "--d-ff": d_ff, "--head-dim": head_dim}.items():
        if size is not None:  # sizes of a given network, not pins of a designed one
            fields.whole(size, flag, 1, limits.MAX_SHAPE)
    seq: int = fields.optional("context", context) or DEFAULT_CONTEXT
    rec = _recipe()
    if head_dim is None:
        if heads <= 0 or d_model % heads:
            raise ScaleplanError(f"--heads {heads} must divide --d-model {d_model} (or give --head-dim)")
        head_dim = d_model // heads
    shape = rec.Shape(
        layers=layers,
        d_model=d_model,
        heads=heads,
        head_dim=head_dim,
        d_ff=4 * d_model if d_ff is None else d_ff,
        context=seq,
        vocab=vocab,
        arch="gpt",  # Chinchilla's App. F block: an MLP of two matrices, every head its own K and V
    )
    from ..present.render import emit_flops

    emit_flops(out, fmt, shape, rec.flops_per_token(shape))


# The serving model's options, the same in every command that prices serving
ServeBitsListOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--serve-bits",
        help="Served weight bits, an integer 2-16 (default 16); repeat it to compare side by side.",
    ),
]


def _whole_flag(value, flag: str, lo: int, hi: int) -> int | None:
    return None if value is None else fields.whole(value, flag, lo, hi)


def _roofline_flags(**flags) -> dict:
    """The serving roofline's flags (scaleplan.schema.fields.SERVING), each by its one parser; None where not given."""
    return {k: fields.optional(k, v) for k, v in flags.items()}


def _serve_models(path, scenario, params, layers, d_model, heads, kv_heads, head_dim, d_ff, vocab, context, law):
    """(label, ServedModel) for each model `serve` is asked about: a plan JSON or budget file's designed shapes, a
    size the recipe designs, or an explicit shape."""
    from ..cluster import serving

    shape_flags = {"layers": layers, "d_model": d_model, "heads": heads, "head_dim": head_dim, "d_ff": d_ff}
    if path is not None:
        if params is not None or any(v is not None for v in shape_flags.values()):
            raise ScaleplanError("give FILE, --params or a shape (--layers --d-model --heads --vocab), not several")
        return _file_models(path, scenario, kv_heads, law)
    if scenario is not None:
        raise ScaleplanError("--scenario names a scenario of FILE; give FILE")
    size = None if params is None else _model_size(params, "--params")
    for key, value in {**shape_flags, "kv_heads": kv_heads, "vocab": vocab}.items():  # an explicit shape's flags
        if value is not None:
            fields.whole(value, as_flag(key), 1, limits.MAX_SHAPE)
    model = serving.model_for(size, kv_heads=kv_heads, vocab=vocab, context=context or 2048, **shape_flags)
    label = fmt_count(model.params) + (f" ({layers}x{d_model})" if params is None else "")
    return [(label, model)]


def _file_models(path, scenario, kv_heads, law):
    from ..cluster import serving

    if str(path).lower().endswith(".json"):
        from ..core.files import read_json

        data = read_json(path, "plan file")  # a FIFO, a huge file, bad JSON: one line naming the file (and line)
        records = data.get("plans", [data]) if isinstance(data, dict) else []
        out = []
        for i, r in enumerate(records):
            shape = r.get("shape") if isinstance(r, dict) else None
            if not isinstance(shape, dict):
                raise ScaleplanError(f"{path}: plan {i + 1} has no shape block (write it with --format json)")
            try:
                model = serving.model_for(
                    layers=shape["layers"],
                    d_model=shape["d_model"],
                    heads=shape["heads"],
                    head_dim=shape.get("head_dim"),
                    d_ff=shape.get("d_ff"),
                    vocab=shape["vocab"],
                    kv_heads=kv_heads or shape.get("kv_heads"),
                    context=shape.get("context", 2048),
                )
            except KeyError as exc:
                raise ScaleplanError(f"{path}: plan {i + 1}'s shape has no {exc.args[0]}") from None
            out.append((r.get("name") or fmt_count(model.params), model))
        if not out:
            raise ScaleplanError(f"{path}: no plan in it (give the JSON of allocate or plan)")
        return out
    budgets = load_budget_file(path, law, None)
    if scenario is not None:
        chosen = [b for b in budgets if getattr(b, "name", None) == scenario]
        if not chosen:
            names = ", ".join(str(getattr(b, "name", None)) for b in budgets)
            raise ScaleplanError(f"--scenario {scenario!r} is not in {path} (its scenarios: {names})")
        budgets = chosen
    out = []
    for b in budgets:
        p = plan_budget(b, law)
        recipe = getattr(p, "recipe", None)
        shape = getattr(recipe, "shape", None)
        if shape is None:
            raise ScaleplanError(f"{path}: scenario {getattr(p, 'name', '')!r} has no designed shape to serve")
        model = serving.ServedModel.from_shape(shape)
        if kv_heads is not None:
            model = serving.model_for(
                **{k: getattr(shape, k) for k in ("layers", "d_model", "heads", "head_dim", "d_ff", "vocab")},
                kv_heads=kv_heads,
            )
        out.append((getattr(p, "name", None) or fmt_count(model.params), model))
    return out


@app.command()
def serve(
    path: Annotated[
        Optional[str],
        typer.Argument(metavar="[FILE]", help="A budget file (its scenarios' designed models) or a plan's JSON."),
    ] = None,
    scenario: Annotated[Optional[str], typer.Option("--scenario", help="Only this scenario of FILE.")] = None,
    params: Annotated[
        Optional[str], typer.Option("--params", help="Model size, e.g. 8B: the shape the recipe designs.")
    ] = None,
    layers: Annotated[Optional[int], typer.Option("--layers", help="An explicit shape: layers.")] = None,
    d_model: Annotated[Optional[int], typer.Option("--d-model", help="An explicit shape: width.")] = None,
    heads: Annotated[Optional[int], typer.Option("--heads", help="An explicit shape: query heads.")] = None,
    kv_heads: Annotated[
        Optional[int], typer.Option("--kv-heads", help="Key/value heads (GQA; default: as many as --heads).")
    ] = None,
    head_dim: Annotated[
        Optional[int], typer.Option("--head-dim", help="Per-head width (default d_model/heads).")
    ] = None,
    d_ff: Annotated[Optional[int], typer.Option("--d-ff", help="Feed-forward width (default 4 x d_model).")] = None,
    vocab: Annotated[Optional[int], typer.Option("--vocab", help="An explicit shape: vocabulary size.")] = None,
    hardware: Annotated[
        Optional[list[str]],
        typer.Option("--hardware", help="Serving hardware preset (default h100); repeat it to compare side by side."),
    ] = None,
    price: Annotated[
        Optional[list[str]],
        typer.Option("--price", help="Dollars per GPU-hour of the serving hardware (one, or one per --hardware)."),
    ] = None,
    hardware_file: HardwareFileOpt = None,
    serve_bits: ServeBitsListOpt = None,
    kv_bits: KvBitsOpt = None,
    serve_precision: ServePrecisionOpt = None,
    prompt_tokens: PromptTokensOpt = None,
    output_tokens: OutputTokensOpt = None,
    serve_tp: ServeTpOpt = None,
    latency: LatencyOpt = None,
    bandwidth_fraction: BandwidthFractionOpt = None,
    prefill_mfu: PrefillMfuOpt = None,
    memory_fraction: MemoryFractionOpt = None,
    batch_cap: BatchCapOpt = None,
    batch: Annotated[Optional[str], typer.Option("--batch", help="Run at this batch instead of the largest.")] = None,
    demand: Annotated[
        Optional[str], typer.Option("--demand", help="Tokens per second to serve (prompt + output): GPUs needed.")
    ] = None,
    law: LawOpt = None,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
):
    """How a model serves: the batch that fits and what bounds it, tokens/s per GPU, latency and $ per million
    tokens, from HBM bandwidth, memory, KV heads, bits and tensor parallelism (a roofline).

    Example: scaleplan serve --params 8B --hardware h100 --hardware h200 --serve-bits 16 --serve-bits 8
    Example: scaleplan serve --layers 80 --d-model 8192 --heads 64 --kv-heads 8 --d-ff 28672 --vocab 128256 --serve-bits 8 --serve-tp 2 --prompt-tokens 1000 --output-tokens 1000
    Example: scaleplan serve configs/lab-1e23-h100.yaml --latency interactive --plot serving.png
    """
    from ..cluster import serving
    from ..present.render import emit_serving

    plotter = None
    if plot is not None:
        plotter = _plotter(plot, [path] if path else [], force)
    chips: list[str | None] = [*hardware] if hardware else [None]
    prices = [parse_positive(p, "--price") for p in price or []]
    if len(prices) > 1 and len(prices) != len(chips):
        raise ScaleplanError(f"--price given {len(prices)} times for {len(chips)} --hardware; give one, or one each")
    if len(chips) > 8 or len(serve_bits or []) > 15:
        raise ScaleplanError("compare at most 8 --hardware and 15 --serve-bits at once")
    bits_list = [fields.parse("serve_bits", b) for b in serve_bits or ["16"]]
    opts = _roofline_flags(
        kv_bits=kv_bits,
        serve_precision=serve_precision,
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        serve_tp=serve_tp,
        latency=latency,
        bandwidth_fraction=bandwidth_fraction,
        prefill_mfu=prefill_mfu,
        memory_fraction=memory_fraction,
        batch_cap=batch_cap,
    )
    kw = dict(
        opts,
        precision=opts.pop("serve_precision"),
        tp=opts.pop("serve_tp"),
        batch=_whole_flag(batch, "--batch", 1, serving.MAX_BATCH),
        demand=None if demand is None else parse_positive(demand, "--demand"),
    )
    models = _serve_models(path, scenario, params, layers, d_model, heads, kv_heads, head_dim, d_ff, vocab, None, law)
    rows = []
    curves = []
    for label, model in models:
        for i, chip in enumerate(chips):
            chip_price = prices[0] if len(prices) == 1 else prices[i] if prices else None
            dev = serving.device(chip, price=chip_price, hardware_file=hardware_file)
            for bits in bits_list:
                s = serving.serve(model, dev, serve_bits=bits, **kw)
                rows.append((label, s))
                if plotter is not None and s.fits:
                    wl = serving.workload(
                        prompt_tokens=kw["prompt_tokens"],
                        output_tokens=kw["output_tokens"],
                        serve_bits=bits,
                        kv_bits=kw["kv_bits"],
                        precision=serve_precision,
                    )
                    sweep = serving.batch_sweep(model, dev, wl, s.efficiency, s.tp)
                    tag = f"{s.hardware} {bits}/{s.kv_bits}-bit TP{s.tp}"
                    curves.append((f"{label}: {tag}" if len(models) > 1 else tag, sweep, s.batch))
    title = "Serving" + (f": {path}" if path else "")
    from ..present.answer import serving_answer
    from ..present.render import print_answer

    print_answer(out, fmt, serving_answer(rows))
    if not (quiet and fmt in (Format.table, Format.markdown)):
        emit_serving(out, fmt, rows, title)
    if plot is not None:
        from ..present import serving_plot

        if not curves:
            raise ScaleplanError("--plot: no model fits, so there is nothing to draw")
        serving_plot.save(curves, plot, [path] if path else [], force)
        err.print(f"wrote {plot}", markup=False)


@app.command("inference-aware")
def inference_aware_cmd(
    inference_tokens: Annotated[
        list[str],
        typer.Option(
            "--inference-tokens",
            help="Tokens to serve over the model's life; repeat it or give a range 1e10..1e14 for a sweep.",
        ),
    ],
    flops: Annotated[
        Optional[str], option("flops", help="Quality = the loss of the compute-optimal model at this budget.")
    ] = None,
    target_loss: Annotated[
        Optional[str], option("target_loss", help="Quality as a loss (the paper's formulation).")
    ] = None,
    law: LawOpt = None,
    objective: ObjectiveOpt = None,
    hardware: HardwareOpt = None,
    mfu: MfuOpt = None,
    price: PriceOpt = None,
    peak_flops: PeakOpt = None,
    inference_hardware: Annotated[
        Optional[str],
        typer.Option("--inference-hardware", help="Serving hardware preset (default: the training hardware)."),
    ] = None,
    inference_price: Annotated[
        Optional[str],
        typer.Option("--inference-price", help="Dollars per serving GPU-hour (default: the training price)."),
    ] = None,
    inference_bits: Annotated[
        Optional[int],
        typer.Option("--inference-bits", help="Serving precision, 16 or 8 (8-bit doubles the tensor peak)."),
    ] = None,
    prefill_mfu: Annotated[
        Optional[str], typer.Option("--prefill-mfu", help="MFU of prefill (default 0.5, Sardana et al.'s).")
    ] = None,
    decode_mfu: Annotated[
        Optional[str], typer.Option("--decode-mfu", help="MFU of decoding (default 0.01, Sardana et al.'s).")
    ] = None,
    prompt_share: Annotated[
        Optional[str],
        typer.Option("--prompt-share", help="Fraction of served tokens that are prompt, in [0, 1] (default 70/285)."),
    ] = None,
    context: Annotated[
        Optional[str],
        option("context", help="Add attention FLOPs over this context to the 2N per served token (Kaplan Table 1)."),
    ] = None,
    points: Annotated[int, typer.Option("--points", help="Demands per range, log-spaced.")] = 8,
    precision: PrecisionOpt = None,
    hardware_file: HardwareFileOpt = None,
    serve_bits: ServeBitsOpt = None,
    serving_model: ServingModelOpt = None,
    kv_bits: KvBitsOpt = None,
    serve_precision: ServePrecisionOpt = None,
    prompt_tokens: PromptTokensOpt = None,
    output_tokens: OutputTokensOpt = None,
    serve_tp: ServeTpOpt = None,
    latency: LatencyOpt = None,
    bandwidth_fraction: BandwidthFractionOpt = None,
    memory_fraction: MemoryFractionOpt = None,
    batch_cap: BatchCapOpt = None,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
):
    """A model that will serve many tokens: how much smaller to make it and how much longer to train it (Sardana et al. 2024).

    Example: scaleplan inference-aware --flops 1e23 --inference-tokens 2e12
    Example: scaleplan inference-aware --target-loss 2.1 --inference-tokens 1e13 --objective cost --serve-bits 8
    Example: scaleplan inference-aware --flops 1e23 --inference-tokens 1e10..1e15 --points 6
    """
    from ..pipeline import inference

    tokens = parse_budgets(
        inference_tokens,
        "--inference-tokens",
        _points(points),
        allow_zero=True,
        max_values=limits.MAX_OUTPUT_ROWS,
        flops=False,
    )
    if tokens.max() > limits.MAX_TOKENS:
        raise ScaleplanError(
            f"--inference-tokens: {fmt_sci(tokens.max())} tokens is beyond any plan (more than "
            f"{fmt_sci(limits.MAX_TOKENS)}); check the units"
        )
    law_obj = _law_flag(law)
    if (flops is None) == (target_loss is None):
        raise ScaleplanError(
            "give the quality one way: --flops (the loss its compute-optimal model reaches) or --target-loss"
        )
    budget = fields.optional("flops", flops)
    if budget is not None:
        limits.check_flops(budget, "<flops>", law_obj)
    loss = fields.optional("target_loss", target_loss)
    ctx = fields.optional("context", context)
    bits = fields.optional("serve_bits", serve_bits)
    train_precision = fields.optional("precision", precision) or "bf16"
    goal = fields.optional("objective", objective) or "flops"
    plotter = _plotter(plot, force=force)
    fraction = lambda v, name, low_open=True: None if v is None else parse_fraction(v, name, low_open)
    serving = {  # the budget's `inference:` block, each value parsed under its own flag
        "hardware": inference_hardware,
        "price": None if inference_price is None else _serving_price(inference_price),
        "bits": inference_bits,
        "prefill_mfu": fraction(prefill_mfu, "--prefill-mfu"),
        "decode_mfu": fraction(decode_mfu, "--decode-mfu"),
        "prompt_share": fraction(prompt_share, "--prompt-share", False),
        "context": ctx,
        **_roofline_flags(
            serving_model=serving_model,
            kv_bits=kv_bits,
            serve_precision=serve_precision,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            serve_tp=serve_tp,
            latency=latency,
            bandwidth_fraction=bandwidth_fraction,
            memory_fraction=memory_fraction,
            batch_cap=batch_cap,
        ),
    }
    roofline = {
        k: serving[k]
        for k in (
            "serving_model",
            "kv_bits",
            "serve_precision",
            "prompt_tokens",
            "output_tokens",
            "serve_tp",
            "latency",
            "bandwidth_fraction",
            "memory_fraction",
            "batch_cap",
        )
    }
    if tokens.size > 1:  # a sweep over demands: the sizing alone, one row per demand
        costs = inference.serving_costs(
            hardware,
            fields.optional("mfu", mfu),
            fields.optional("price", price),
            inference_hardware,
            serving["price"],
            serving["prefill_mfu"],
            serving["decode_mfu"],
            serving["prompt_share"],
            inference_bits,
            peak_flops=fields.optional("peak_flops", peak_flops),
            precision=train_precision,
            hardware_file=hardware_file,
            serve_bits=None if roofline["serving_model"] == "fixed-mfu" else bits,
            **roofline,
        )
        sweep = inference.inference_aware(
            tokens, flops=budget, target_loss=loss, law=law_obj, objective=goal, context=ctx, costs=costs
        )
        _show(sweep, fmt, quiet)
        if plotter:
            plotter.save_inference_figure(sweep, plot, law=law_obj, force=force)
            err.print(f"wrote {plot}", markup=False)
        return
    # One demand: the plan pipeline, as `allocate --inference-tokens` plans it (the law, a law file included, used
    # throughout): the sizing, then the recommended model in full, its recipe and cost.
    if not law_obj.predicts_loss:
        inference.tokens_for_loss(law_obj, 1.0, 1.0)  # the planner's own clear error for a law without a loss
    request = Budget(
        law=law,
        flops=budget,
        target_loss=loss,
        inference_tokens=float(tokens[0]),
        objective=goal,
        hardware=hardware,
        mfu=fields.optional("mfu", mfu),
        price=fields.optional("price", price),
        peak_flops=fields.optional("peak_flops", peak_flops),
        precision=train_precision,
        hardware_file=hardware_file,
        serve_bits=bits,
        context=ctx,
        inference={k: v for k, v in serving.items() if v is not None} or None,
    )
    recommended = plan_budget(request)
    plan = recommended.inference
    assert plan is not None  # a law with a loss sizes the model inference-aware
    from ..present.render import print_answer

    print_answer(out, fmt, recommended)
    _warn(recommended.warnings, quiet, answered=fmt in (Format.table, Format.markdown))
    if fmt in (Format.json, Format.csv):
        emit_grid(out, fmt, None, [], [], {**plan.to_dict(), "recommended": recommended.to_dict()})
    elif not quiet:
        emit_inference(out, fmt, plan, inference.describe_break_even(plan))
        out.print() if fmt is Format.table else out.out("")
        emit_plans(out, fmt, [recommended], title="The recommended model: recipe and cost")
    if plotter:
        plotter.save_inference_figure(plan, plot, law=law_obj, force=force)
        err.print(f"wrote {plot}", markup=False)


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


@app.command()
def fit(
    path: Annotated[str, typer.Argument(metavar="RUNS", help="Your runs: .csv, .tsv, .jsonl, .json or .yaml.")],
    columns: Annotated[
        list[str], typer.Option("--columns", help="Map fields to your column names, e.g. loss=val_loss.")
    ] = [],
    drop_worst: Annotated[int, typer.Option("--drop-worst", help="Leave out the K highest-loss runs (Epoch: 5).")] = 0,
    n_bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Resample the runs N times for confidence intervals.")
    ] = 0,
    approach: Annotated[
        str, typer.Option("--approach", help="parametric (Approach 3), isoflop (Approach 2) or both.")
    ] = "parametric",
    budgets: Annotated[
        list[str], typer.Option("--budgets", help="Budgets for the implied allocation (default 1e21, 1e23, 1e25).")
    ] = [],
    save: Annotated[
        Optional[str], typer.Option("--save", help="Write the fitted law to this YAML file (usable as --law FILE).")
    ] = None,
    name: Annotated[
        Optional[str], typer.Option("--name", help="Name of the saved law (default: the file's stem).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed (a whole number >= 0).")] = 0,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="huber: Huber on log loss from Epoch's grid (default); vp: least squares on the loss by variable projection.",
        ),
    ] = "huber",
    max_flops: Annotated[
        Optional[str], typer.Option("--max-flops", help="Fit only the runs below this many FLOPs (after --drop-worst).")
    ] = None,
    run_column: Annotated[
        Optional[str],
        typer.Option(
            "--run-column", help="Checkpoints: the run-id column (default: run, run_id, name, ... when ids repeat)."
        ),
    ] = None,
    drop_early: Annotated[
        float,
        typer.Option(
            "--drop-early",
            help="Checkpoints: drop each run's checkpoints at or below this fraction of its final tokens.",
        ),
    ] = 0.1,
    min_tokens: Annotated[
        Optional[str],
        typer.Option(
            "--min-tokens", help="Checkpoints: drop those before this many tokens instead (Choshen et al.: 10B)."
        ),
    ] = None,
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
    if save is not None:
        check_target(save, [path], suffix=(".yaml", ".yml"), force=force, what="--save")  # .yaml: --law reads it
    if method == "vp":
        _fit_vp(
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
            (run_column, drop_early, min_tokens),
            seed,
            force,
        )
        return
    plotter = _plotter(plot, inputs=[path], force=force)
    chosen = tuple(parse_budgets(budgets, "--budgets", max_values=100)) if budgets else (1e21, 1e23, 1e25)
    limits.check_flops(chosen, "--budgets")
    runs = _load_fit_runs(path, columns, drop_worst, (run_column, drop_early, min_tokens))
    if max_flops is not None:
        from ..fit.vp import below_flops

        runs = below_flops(runs, parse_flops(max_flops, "--max-flops"))
    record, parametric, boot, iso = {"data": runs.summary()}, None, None, None
    if approach in ("parametric", "both"):
        parametric = fit_mod.fit_parametric(runs)
        if save:  # before any warning: a refusal is the command's one line
            _refuse_degenerate_save(save, parametric.constants)
        record["parametric"] = parametric.to_dict(chosen)
        _warn(parametric.warnings)
        if n_bootstrap:
            boot = _bootstrap_with_progress(runs, n_bootstrap, seed, chosen, parametric)
            record["bootstrap"] = boot.to_dict()
    if approach == "isoflop":
        iso = fit_mod.fit_isoflop(runs)
        record["isoflop"] = iso.to_dict()
    elif approach == "both":
        try:
            iso = fit_mod.fit_isoflop(runs)
            record["isoflop"] = iso.to_dict()
        except ScaleplanError as exc:  # the parametric fit stands; say why the isoFLOP one is missing
            _warn([f"no isoFLOP fit: {exc}"])
    if iso is not None and parametric is not None:
        from ..fit.vp import approach2_bias

        record["isoflop"]["vs_parametric"] = approach2_bias(iso, parametric, chosen)
    if save:
        import yaml

        fitted = parametric or iso
        assert fitted is not None  # each approach either fits or raises
        if parametric is not None:
            _refuse_degenerate_save(save, parametric.constants)
        law = fit_mod.law_dict(fitted, boot, runs, name=name or Path(save).stem)
        laws_mod.law_from_dict(law, save)  # what we write must load
        write_atomic(save, yaml.safe_dump(law, sort_keys=False), inputs=[path], force=force, what="--save")
        err.print(f"saved {save}: use it with --law {save}", markup=False)
    if plotter:
        plotter.save_fit_figure(runs, parametric, plot, boot=boot, inputs=[path], force=force)
        err.print(f"wrote {plot}", markup=False)
    if fmt != Format.table and fmt != Format.markdown:
        emit_grid(out, fmt, None, [], [], record)
        return
    from ..present.render import emit_fit

    bias = record.get("isoflop", {}).get("vs_parametric") if iso is not None and parametric is not None else None
    emit_fit(out, fmt, runs, parametric, boot, iso, bias, budgets=chosen)


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

    _warn(limit_warnings(runs))
    if runs.checkpoints:
        info = runs.checkpoints
        _warn(info["warnings"])
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
    from ..fit import parametric as fit_mod
    from ..fit import vp as fit_vp

    if approach != "parametric" or plot:
        raise ScaleplanError("--method vp fits the parametric law alone: drop --approach and --plot")
    if not 0 <= n_bootstrap <= 100_000:
        raise ScaleplanError(f"--bootstrap must be in 0..100,000, got {n_bootstrap:,}")
    chosen = tuple(parse_budgets(budgets, "--budgets", max_values=100)) if budgets else (1e21, 1e23, 1e25)
    limits.check_flops(chosen, "--budgets")
    runs = _load_fit_runs(path, columns, drop_worst, checkpoint_options)
    if max_flops is not None:
        runs = fit_vp.below_flops(runs, parse_flops(max_flops, "--max-flops"))
    vp = fit_vp.fit_vp(runs)
    if save:  # before any warning: a refusal is the command's one line
        _refuse_degenerate_save(save, vp.constants)
    _warn(vp.warnings)
    boot = _bootstrap_with_progress(runs, n_bootstrap, seed, chosen, vp) if n_bootstrap else None
    alloc = vp.allocation(chosen)
    if save:
        import yaml

        _refuse_degenerate_save(save, vp.constants)
        law = fit_mod.law_dict(vp, boot, runs, name=name or Path(save).stem)
        laws_mod.law_from_dict(law, save)
        write_atomic(save, yaml.safe_dump(law, sort_keys=False), inputs=[path], force=force, what="--save")
        err.print(f"saved {save}: use it with --law {save}", markup=False)
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

    law_obj = _law_flag(law)
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
    _warn(design.warnings)
    if output is not None:
        write_atomic(output, design.csv_text(), law_inputs, force=force, what="--output")
        err.print(
            f"wrote {len(design.rows)} runs to {output}: train them, fill in the loss column, then "
            f"scaleplan fit {output}",
            markup=False,
        )
    from ..present.render import emit_sweep

    emit_sweep(out, fmt, design)


# ---------------------------------------------------------------------------------------------------------------
# scaleplan precision: training precision for a budget (Sun, Kumar); serving bits for a trained model (Ouyang)


@app.command("precision")
def precision_cmd(
    flops: Annotated[
        Optional[str], option("flops", help="Budget in FLOPs at 16 bits (6ND); lower precision costs (6/16) P N D.")
    ] = None,
    params: Annotated[
        Optional[str],
        option("params", help="A model's parameters (with --tokens): its budget is 6ND and serving bits are shown."),
    ] = None,
    tokens: Annotated[Optional[str], option("tokens", help="The model's training tokens (with --params).")] = None,
    train: Annotated[
        Optional[list[str]],
        typer.Option(
            "--train-precision",
            help="Training formats to compare (repeat): bf16, fp8, fp6, fp4, mxfp4, nvfp4, e5m2, fpN (default bf16 fp8 fp6 fp4).",
        ),
    ] = None,
    hardware_precision: Annotated[
        Optional[list[str]],
        typer.Option(
            "--hardware-precision",
            help="Precisions your hardware runs, for the best-of comparison (repeat; default bf16 fp8 fp4).",
        ),
    ] = None,
    block_size: Annotated[
        Optional[int],
        typer.Option(
            "--block-size", help="Elements per scaling factor (default 128 as in Sun et al.; MX formats 32, NVFP4 16)."
        ),
    ] = None,
    serve_bits: Annotated[
        Optional[list[str]],
        option(
            "serve_bits",
            help="Weight bits to serve the trained model at (for a budget: the best choice's model), 2 to 16 "
            "(repeat; default 8 4 3 2).",
        ),
    ] = None,
    hardware: Annotated[
        Optional[str],
        option(
            "hardware",
            help="Rank only the formats this chip has a dense path for, at its published speed-up over BF16.",
        ),
    ] = None,
    plot: Annotated[
        Optional[str],
        typer.Option(
            "--plot", help="Also draw the penalty against bits and against tokens per parameter to this PNG file."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --plot file.")] = False,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
):
    """Precision-aware planning: the cost-optimal training precision (Sun et al. 2025), the compute-optimal
    precision (Kumar et al. 2024), the critical data size per precision, and, for a trained model, the loss after
    quantizing its weights to each bit width (Ouyang et al. 2024, GPTQ). Each law's penalty is shown in its own loss.

    Example: scaleplan precision --flops 1e23
    Example: scaleplan precision --params 7B --tokens 2T --serve-bits 4 --serve-bits 3
    Example: scaleplan precision --flops 1e24 --hardware-precision bf16 --hardware-precision fp8
    """
    from ..pipeline import precision as prec

    if flops is not None and (params is not None or tokens is not None):
        raise ScaleplanError("give --flops, or --params and --tokens, not both")
    if flops is None and (params is None or tokens is None):
        raise ScaleplanError("give --flops (a budget), or --params and --tokens (a model)")
    if block_size is not None and not 2 <= block_size <= prec.MAX_BLOCK:
        raise ScaleplanError(f"--block-size must be from 2 to {prec.MAX_BLOCK:g}, got {block_size}")
    bits = [fields.parse("serve_bits", b) for b in serve_bits or ()]
    names = list(train or ("bf16", "fp8", "fp6", "fp4"))
    choices = list(hardware_precision or ("bf16", "fp8", "fp4"))
    if max(len(names), len(choices), len(serve_bits or ())) > 16:
        raise ScaleplanError("give at most 16 values of --train-precision, --hardware-precision and --serve-bits")
    for flag, values in (("--train-precision", names), ("--hardware-precision", choices)):
        for name in values:
            try:
                prec.parse_format(name, block_size)
            except ScaleplanError as exc:
                raise ScaleplanError(f"{flag}: {exc.template}") from None
    n, d, c = _model_size(params), fields.optional("tokens", tokens), _flops(flops)
    if plot is not None:
        _plotter(plot, force=force)  # matplotlib present and the path writable, before any work
    report = prec.precision_report(
        flops=c,
        params=n,
        tokens=d,
        block_size=block_size,
        formats=names,
        serve_bits=tuple(bits) if bits else ((8, 4, 3, 2) if n is not None else ()),  # a budget: only if asked
        choices=choices,
        hardware=None if hardware is None else _precision_hardware(hardware),
    )
    _show(report, fmt, quiet)
    if plot is not None:
        from ..present import precision_plot

        # a bare budget: draw at the first available hardware precision's best N, D
        first = next(ch for ch in report.cost_optimal.choices if ch.available)
        pn, pd = (n, d) if n is not None and d is not None else (first.params, first.tokens)
        assert pn is not None and pd is not None  # an available choice has its N and D
        precision_plot.save(pn, pd, plot, force=force)
        err.print(f"wrote {plot}", markup=False)


def _precision_hardware(name: str):
    from ..cluster import cost as cost_mod

    try:
        return cost_mod.get_hardware(fields.parse("hardware", name))
    except ScaleplanError as exc:
        raise ScaleplanError(f"--hardware: {exc.template.removesuffix('; or give <peak_flops>)') + ')'}") from None


@app.command()
def cluster(
    params: Annotated[Optional[str], option("params", help="Total parameters (all experts for MoE), e.g. 70B.")] = None,
    tokens: Annotated[Optional[str], option("tokens", help="Training tokens, e.g. 2T.")] = None,
    flops: Annotated[
        Optional[str], option("flops", help="Training FLOPs instead of --params/--tokens (no memory model).")
    ] = None,
    active_params: Annotated[
        Optional[str],
        option("active_params", help="MoE: active parameters per token (FLOPs use these; memory holds every expert)."),
    ] = None,
    hardware: HardwareOpt = None,
    hardware_file: HardwareFileOpt = None,
    peak_flops: PeakOpt = None,
    gpus: GpusOpt = None,
    days: Annotated[
        Optional[str], option("days", help="Wall-clock days on --gpus: answers the MFU the plan needs.")
    ] = None,
    dollars: Annotated[
        Optional[str], option("dollars", help="Money at --price: answers the MFU the plan needs.")
    ] = None,
    price: PriceOpt = None,
    mfu: MfuOpt = None,
    hfu: HfuOpt = None,
    precision: PrecisionOpt = None,
    recompute: RecomputeOpt = None,
    zero: ZeroOpt = None,
    micro_batch: MicroBatchOpt = None,
    context: ContextOpt = None,
    flash: Annotated[bool, typer.Option("--flash/--no-flash", help="Flash attention (no s x s scores stored).")] = True,
    layers: LayersOpt = None,
    d_model: DModelOpt = None,
    heads: HeadsOpt = None,
    tp: TpOpt = None,
    pp: PpOpt = None,
    ep: EpOpt = None,
    pue: Annotated[
        Optional[float], typer.Option("--pue", help="Power usage effectiveness (default 1.25; 1.1 with --hyperscale).")
    ] = None,
    hyperscale: Annotated[bool, typer.Option("--hyperscale", help="A hyperscaler's data centre (PUE 1.1).")] = False,
    kwh_price: Annotated[
        Optional[float], typer.Option("--kwh-price", help="Dollars per kWh (default 0.0771, EIA 2024).")
    ] = None,
    server_power: Annotated[
        Optional[float],
        typer.Option("--server-power", help="Server power per chip over chip TDP (default: the preset's, else 1.8)."),
    ] = None,
    tdp_fraction: Annotated[
        Optional[float],
        typer.Option("--tdp-fraction", help="Average draw as a fraction of TDP (default 0.75 GPUs, 0.43 TPUs)."),
    ] = None,
    gpu_price: Annotated[
        Optional[str], typer.Option("--gpu-price", help="Owned: dollars per GPU as part of a server.")
    ] = None,
    chip_price: Annotated[
        Optional[str], typer.Option("--chip-price", help="Owned: dollars per chip (x 1.64 server factor).")
    ] = None,
    age: Annotated[float, typer.Option("--age", help="Owned: hardware age in years at the start of the run.")] = 0.0,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
):
    """A run on your cluster: MFU/HFU (given or implied), cost, energy, memory per device and a layout.

    Example: scaleplan cluster --params 70B --tokens 2T --hardware a100 --gpus 2048 --days 35 --d-model 8192 --heads 64
    Example: scaleplan cluster --params 176B --tokens 366B --hardware a100 --gpus 384 --hfu 0.48 --recompute full
    Example: scaleplan cluster --params 671B --active-params 37B --tokens 14.8T --hardware h800 --gpus 2048 --days 54 --precision fp8
    Example: scaleplan cluster --params 671B --active-params 37B --tokens 14.8T --hardware h800 --gpus 2048 --precision fp8 --layers 61 --d-model 7168 --heads 128 --context 4096 --tp 1 --pp 16 --ep 64
    Example: scaleplan cluster --flops 1e24 --hardware h100 --gpus 1024 --chip-price 25000
    """
    from ..cluster import cost as cost_mod
    from ..cluster.run import plan_cluster

    def pos(value, flag):
        return None if value is None else parse_positive(value, flag)

    opt = fields.optional
    ctx, n_layers, width, n_heads = _sizes(context=context, layers=layers, d_model=d_model, heads=heads)
    n = _model_size(params)
    n_active = _model_size(active_params, "active_params")
    budget_flops = opt("flops", flops)
    n_tp, n_pp, n_ep = opt("tp", tp), opt("pp", pp), opt("ep", ep)

    owned = None
    if age and gpu_price is None and chip_price is None:
        raise ScaleplanError("--age needs --gpu-price or --chip-price (owned hardware)")
    if gpu_price is not None or chip_price is not None:
        owned = cost_mod.Owned(
            server_price_per_gpu=pos(gpu_price, "--gpu-price"),
            chip_price=pos(chip_price, "--chip-price"),
            age_years=age,
        )
    result = plan_cluster(
        params=n,
        tokens=opt("tokens", tokens),
        flops=budget_flops,
        active_params=n_active,
        hardware=hardware,
        hardware_file=hardware_file,
        peak_flops=opt("peak_flops", peak_flops),
        gpus=opt("gpus", gpus),
        days=opt("days", days),
        dollars=opt("dollars", dollars),
        price=opt("price", price),
        mfu=opt("mfu", mfu),
        hfu=opt("hfu", hfu),
        precision=opt("precision", precision) or "bf16",
        recompute=opt("recompute", recompute) or "none",
        zero=1 if zero is None else opt("zero", zero),
        micro_batch=opt("micro_batch", micro_batch) or 1,
        context=ctx or DEFAULT_CONTEXT,
        flash=flash,
        layers=n_layers,
        d_model=width,
        heads=n_heads,
        tp=n_tp,
        pp=n_pp,
        ep=n_ep,
        energy=cost_mod.Energy(
            server_power_x=server_power,
            tdp_fraction=tdp_fraction,
            pue=pue,
            hyperscale=hyperscale,
            dollars_per_kwh=kwh_price,
        ),
        owned=owned,
    )
    _show(result, fmt, quiet)


@laws_app.command("check")
def laws_check(
    name: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[NAME]",
            help="A law (or alias), a recipe law (tao2024, steplaw, deepseek, porian, kaplan-bcrit, chinchilla-flops), krajewski, sun, ouyang, kumar, tissue, hagele, memory, serving, hardware, published-runs, a data file (recipe, moe, precision, ...) or one check's id; all when omitted.",
        ),
    ] = None,
    data_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--data-dir",
            help="Folder with the authors' released runs (svg_extracted_data.csv) for the refit checks; skipped without it.",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
):
    """Recompute every published number the bundled laws, recipe and hardware presets must reproduce.

    Prints claim | source | published | scaleplan | difference | verdict; exits 1 if any claim fails.

    Example: scaleplan laws check

    Example: scaleplan laws check epoch --data-dir ../shared/data
    """
    from ..pipeline import checks
    from ..present.render import emit_checks

    results = checks.run_checks(name, data_dir=data_dir)
    emit_checks(out, fmt, results, checks.constants_summary() if name is None else "")
    if any(r.verdict == "fail" for r in results):
        raise typer.Exit(1)


@app.command()
def init(
    folder: Annotated[
        str, typer.Argument(metavar="[DIR]", help="Folder to write the example budget files into (created if missing).")
    ] = "configs",
    example: Annotated[
        Optional[list[str]],
        typer.Option("--example", "-e", help="Write only this example (repeatable); all when omitted."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite example files that already exist.")] = False,
    list_only: Annotated[bool, typer.Option("--list", help="List the bundled examples and write nothing.")] = False,
):
    """Write the bundled example budget files, e.g. for the README's `scaleplan plan configs/...` examples.

    Example: scaleplan init

    Example: scaleplan init my-budgets --example academic-1e21
    """
    from ..schema.examples import example_names, write_examples

    if list_only:
        for name in example_names():
            out.print(name, markup=False)
        return
    written = write_examples(folder, names=example, force=force)
    budgets = [p for p in written if p.parent.name != "laws" and p.suffix == ".yaml"]
    law_files = sum(p.parent.name == "laws" for p in written)
    data = sum(p.suffix == ".csv" for p in written)  # a training log, a runs file (their SOURCES.md comes along)
    err.print(
        f"wrote {len(budgets)} example{'s' if len(budgets) != 1 else ''}"
        + (f", {law_files} law file{'s' if law_files != 1 else ''}" if law_files else "")
        + (f" and {data} data file{'s' if data != 1 else ''} with their sources" if data else "")
        + f" to {folder}: "
        + ", ".join(p.name for p in written)
        + f". Try: scaleplan plan {written[0]}",
        markup=False,
        soft_wrap=True,
    )


# scaleplan curve: training curves (Tissue et al. 2024 law; Hagele et al. 2024 schedules)

curve_app = typer.Typer(cls=_Group, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
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
        _plotter(plot, inputs, force)
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
    _warn(result.warnings)
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
        _plotter(plot, inputs, force)
    given_lr = None if peak_lr is None else parse_positive(peak_lr, "--peak-lr")
    law = curves.load_law(law_file) if law_file else curves.example_law()
    _warn([f"{law.name}: {w}" for w in law.warnings])  # what the fit behind the law warned, said again
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
    _warn(notes)
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


# ---------------------------------------------------------------------------------------------------------------
# A model given as a trainer's config: checked against the laws; a plan written as one


@app.command()
def check(
    path: Annotated[
        str,
        typer.Argument(
            metavar="CONFIG",
            help="A trainer's model config: HF config.json, Megatron arguments, nanotron or litgpt YAML, or an export.",
        ),
    ],
    tokens: Annotated[
        Optional[str], typer.Option("--tokens", help="Training tokens, e.g. 2T (default: the config's own).")
    ] = None,
    lr: Annotated[
        Optional[str], typer.Option("--lr", help="The peak learning rate to check (default: the config's).")
    ] = None,
    batch: Annotated[
        Optional[str],
        typer.Option("--batch", help="The global batch in tokens to check, e.g. 4M (default: the config's)."),
    ] = None,
    law: LawOpt = None,
    lr_law: LrLawOpt = None,
    inference_tokens: InferenceTokensOpt = None,
    hardware: HardwareOpt = None,
    hardware_file: HardwareFileOpt = None,
    gpus: GpusOpt = None,
    mfu: MfuOpt = None,
    price: PriceOpt = None,
    precision: PrecisionOpt = None,
    fmt: FormatOpt = Format.table,
):
    """An existing model against the laws: its exact parameters and FLOPs per token, tokens per parameter against
    the compute-optimal (and, with --inference-tokens, the inference-aware) choice, each law's loss, its learning
    rate, batch and vocabulary against the recipe laws, and its cost.

    Example: scaleplan check config.json --tokens 2T
    Example: scaleplan check config_smollm1_135M.yaml --hardware h100 --gpus 64
    Example: scaleplan check train_llama3_8b.sh --tokens 15T --lr 3e-4 --batch 16M --inference-tokens 1e13
    """
    from ..pipeline.audit import check_model
    from ..present.render import emit_check

    learning_rate = None if lr is None else parse_positive(lr, "--lr")
    if learning_rate is not None and learning_rate >= 10:
        raise ScaleplanError(f"--lr must be below 10, got {lr!r}")
    batch_tokens = None if batch is None else parse_count(batch, "--batch")
    if batch_tokens is not None and not 1 <= batch_tokens <= 1e12:
        raise ScaleplanError(f"--batch must be from 1 to 1e12 tokens, got {batch!r}")
    try:  # the config is the CONFIG argument here, not the --model flag of allocate and plan
        budget = _flag_budget(
            moe=False,
            granularity=None,
            expansion=None,
            total_params=None,
            active_params=None,
            model=path,
            tokens=tokens,
            law=law,
            lr_law=lr_law,
            inference_tokens=inference_tokens,
            hardware=hardware,
            hardware_file=hardware_file,
            gpus=gpus,
            mfu=mfu,
            price=price,
            precision=precision,
        )
        result = check_model(budget, learning_rate=learning_rate, batch_tokens=batch_tokens)
    except ScaleplanError as exc:
        text = exc.for_flags()
        if "--model" not in text:
            raise
        raise ScaleplanError(text.replace("--model: ", "CONFIG ", 1).replace("--model", "CONFIG")) from None
    _warn(result.warnings)
    emit_check(out, fmt, result)


def _export_targets(kind: str, output: str, inputs: list, force: bool) -> tuple[dict, Path | None]:
    """The files an export writes, checked before any work: ({name: path}, folder to create or None).

    hf writes a folder (config.json beside training.yaml, as a model folder holds them); other formats one file."""
    from ..present.export import SUFFIXES

    if output == "-":
        return {}, None
    if kind != "hf":
        return {"": check_target(output, inputs, SUFFIXES.get(kind), force=force, what="--output")}, None
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise ScaleplanError(f"--output {output}: a file; the hf export writes a folder (config.json, training.yaml)")
    create = None
    if not folder.exists():
        check_target(folder, inputs, what="--output")  # the parent exists and is writable
        create = folder
    names = ("config.json", "training.yaml")
    paths = {n: folder / n for n in names}
    if create is None:
        for p in paths.values():
            check_target(p, inputs, force=force, what="--output")
    return paths, create


@app.command()
def export(
    kind: Annotated[
        str, typer.Argument(metavar="FORMAT", help="Trainer format: hf (Hugging Face config.json + training.yaml).")
    ],
    source: Annotated[
        Optional[str],
        typer.Argument(metavar="[BUDGET.yaml|PLAN.json]", help="A budget file, or a plan from --format json."),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", help="Where to write: a folder for hf, a file otherwise; - prints it."),
    ] = None,
    scenario: Annotated[
        Optional[str], typer.Option("--scenario", help="The scenario of a budget file or plan with several.")
    ] = None,
    force: ForceOpt = False,
    flops: FlopsOpt = None,
    gpus: GpusOpt = None,
    days: DaysOpt = None,
    dollars: DollarsOpt = None,
    price: PriceOpt = None,
    hardware: HardwareOpt = None,
    peak_flops: PeakOpt = None,
    mfu: MfuOpt = None,
    precision: PrecisionOpt = None,
    law: LawOpt = None,
    inference_tokens: InferenceTokensOpt = None,
    objective: ObjectiveOpt = None,
    target_loss: TargetLossOpt = None,
    context: ContextOpt = None,
    vocab: VocabOpt = None,
    layers: LayersOpt = None,
    d_model: DModelOpt = None,
    lr_law: LrLawOpt = None,
    params: ParamsOpt = None,
    tokens: TokensOpt = None,
    model: ModelOpt = None,
    recompute: RecomputeOpt = None,
    zero: ZeroOpt = None,
    micro_batch: MicroBatchOpt = None,
    hardware_file: HardwareFileOpt = None,
    arch: ArchOpt = None,
):
    """Write a plan as the configuration a trainer reads: the plan of the budget flags, of a budget file's scenario,
    or of a plan saved with --format json.

    Example: scaleplan export hf --flops 1e21 --output my-model/
    Example: scaleplan export hf configs/lab-1e23-h100.yaml --scenario baseline --output my-model/
    Example: scaleplan allocate --flops 1e22 --format json > plan.json && scaleplan export hf plan.json -o model/
    """
    from ..present.export import EXPORT_FORMATS, export_files

    kind = kind.strip().lower()
    if kind not in EXPORT_FORMATS:
        raise ScaleplanError(f"FORMAT must be one of {', '.join(EXPORT_FORMATS)}, got {kind!r}")
    if output is None:
        raise ScaleplanError("give --output: a folder for hf, a file otherwise, or - to print")
    flags = dict(
        flops=flops,
        gpus=gpus,
        days=days,
        dollars=dollars,
        price=price,
        hardware=hardware,
        peak_flops=peak_flops,
        mfu=mfu,
        precision=precision,
        law=law,
        inference_tokens=inference_tokens,
        objective=objective,
        target_loss=target_loss,
        context=context,
        vocab=vocab,
        layers=layers,
        d_model=d_model,
        lr_law=lr_law,
        params=params,
        tokens=tokens,
        model=model,
        recompute=recompute,
        zero=zero,
        micro_batch=micro_batch,
        hardware_file=hardware_file,
        arch=arch,
    )
    given = {k: v for k, v in flags.items() if v is not None}
    inputs = [x for x in (source, hardware_file, model) if x]
    targets, create = _export_targets(kind, output, inputs, force)
    plan_dict, described = _plan_to_export(kind, source, scenario, given, law)
    files = export_files(kind, plan_dict, described, where=source or "plan")
    if output == "-":
        for i, (name, text) in enumerate(files.items()):
            if len(files) > 1:
                out.file.write(("\n" if i else "") + f"==> {name} <==\n")
            out.file.write(text)
        out.file.flush()
        return
    items = {targets.get(name, targets.get("")): text for name, text in files.items()}
    if create is not None:
        try:
            create.mkdir()
        except OSError as exc:
            raise ScaleplanError(f"--output {output}: cannot create the folder ({exc.strerror or exc})") from None
    try:
        written = write_files(items, inputs, force=force, what="--output")
    except BaseException:
        if create is not None:
            try:
                create.rmdir()
            except OSError:
                pass
        raise
    err.print("wrote " + ", ".join(str(p) for p in written), markup=False, soft_wrap=True)


def _plan_to_export(kind: str, source, scenario, flags: dict, law) -> tuple[dict, str]:
    """(the plan's JSON, what it came from) for export: a PLAN.json, a budget file's scenario, or the flags."""
    import json

    from ..present.export import MAX_PLAN_BYTES

    if source is not None and source.lower().endswith(".json"):
        if flags:
            raise ScaleplanError(
                f"{source} is a finished plan; planning flags (--{next(iter(flags)).replace('_', '-')}) "
                "do not change it: export the budget instead"
            )
        from ..core.files import read_text

        try:
            plan = json.loads(read_text(source, "plan file", max_bytes=MAX_PLAN_BYTES))
        except json.JSONDecodeError as exc:
            raise ScaleplanError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise ScaleplanError(f"{source}: nested too deeply to be a plan") from None
        if isinstance(plan, dict) and isinstance(plan.get("plans"), list):
            names = [p.get("name") for p in plan["plans"] if isinstance(p, dict)]
            if scenario is None:
                raise ScaleplanError(
                    f"{source} holds {len(names)} plans; name one with --scenario ({', '.join(map(str, names))})"
                )
            if scenario not in names:
                raise ScaleplanError(f"--scenario {scenario!r} is not in {source} ({', '.join(map(str, names))})")
            plan = plan["plans"][names.index(scenario)]
        elif scenario is not None and isinstance(plan, dict) and plan.get("name") != scenario:
            raise ScaleplanError(f"--scenario {scenario!r}: {source} holds one plan, named {plan.get('name')!r}")
        return plan, source + (f" (scenario {scenario})" if scenario else "")
    budget_flags = {k: v for k, v in flags.items() if k != "law"}
    overrides = _flag_budget(
        moe=False, granularity=None, expansion=None, total_params=None, active_params=None, **budget_flags
    )
    if source is not None:
        budgets = load_budget_file(source, law, overrides)
        names = [b.name for b in budgets]
        if scenario is None and len(budgets) > 1:
            raise ScaleplanError(
                f"{source} has {len(budgets)} scenarios; name one with --scenario ({', '.join(map(str, names))})"
            )
        if scenario is not None and scenario not in names:
            raise ScaleplanError(f"--scenario {scenario!r} is not in {source} ({', '.join(map(str, names))})")
        budget = budgets[0 if scenario is None else names.index(scenario)]
        described = source + (f" (scenario {scenario})" if scenario else "")
    else:
        if scenario is not None:
            raise ScaleplanError("--scenario names a scenario of a budget file or plan; give the file")
        budget = _flag_budget(
            moe=False, granularity=None, expansion=None, total_params=None, active_params=None, **flags
        )
        described = f"scaleplan export {kind} " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in flags.items())
    result = plan_budget(budget, law)
    _warn(result.warnings)
    if getattr(result, "recipe", None) is None:
        raise ScaleplanError("export writes a dense model's recipe; this plan has none (a mixture of experts?)")
    return result.to_dict(), described


# ---------------------------------------------------------------------------------------------------------------
# Entry point: build only the command that runs


def _command_name(info) -> str:
    return info.name or info.callback.__name__.replace("_", "-")


def _evaluate_options(typer_app: typer.Typer) -> None:
    """Evaluate the commands' annotations (typer.Option(...) source text) once, in one eval per command, and keep
    the values: typer evaluates each string twice per build (inspect.signature and get_type_hints)."""
    infos = [*typer_app.registered_commands, typer_app.registered_callback, typer_app.info]
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _evaluate_options(group.typer_instance)
    for callback in (getattr(info, "callback", None) for info in infos):
        notes: dict = getattr(callback, "__annotations__", None) or {}
        names = [k for k, v in notes.items() if isinstance(v, str)]
        if callback is not None and names:
            values = eval("(" + ", ".join(notes[k] for k in names) + ",)", callback.__globals__)  # our own source
            notes.update(zip(names, values, strict=True))


def run() -> None:
    """`scaleplan ...`: typer builds every command's options up front (~15 ms for all of them), so register only
    the command named on the line; help, --version and unknown names get the whole app."""
    argv = sys.argv[1:]
    name = next((a for a in argv if not a.startswith("-")), None)
    commands = [c for c in app.registered_commands if _command_name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if (commands or groups) and not any(a in ("-h", "--help", "--version") for a in argv[:1]):
        app.registered_commands, app.registered_groups = commands, groups
    _evaluate_options(app)
    startup.settle()  # what loaded stays out of the garbage collector's scans (scaleplan.core.startup)
    app(prog_name="scaleplan")
