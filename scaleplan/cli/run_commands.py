"""A run on hardware: cluster (MFU, cost, energy, memory and layout) and precision (training formats and serving
bits)."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..core.errors import ScaleplanError
from ..present.render import Format
from ..schema import fields
from ..schema.units import (
    parse_positive,
)
from .base import (
    app,
    err,
    flag_budget,
    model_size,
    plotter_for,
    show_result,
    size_flags,
)
from .options import (
    ContextOpt,
    DModelOpt,
    EpOpt,
    FormatOpt,
    GpusOpt,
    HardwareFileOpt,
    HardwareOpt,
    HeadsOpt,
    HfuOpt,
    LawOpt,
    LayersOpt,
    MfuOpt,
    MicroBatchOpt,
    PeakOpt,
    PpOpt,
    PrecisionOpt,
    PriceOpt,
    QuietOpt,
    RecomputeOpt,
    TpOpt,
    ZeroOpt,
    option,
)

# ---------------------------------------------------------------------------------------------------------------
# scaleplan precision: training precision for a budget (Sun, Kumar); serving bits for a trained model (Ouyang)


PrecisionFlopsOpt = Annotated[
    Optional[str],
    option(
        "flops",
        help="Budget in FLOPs at 16 bits (6ND): allocate's compute-optimal plan, and each format at the precision "
        "laws' own N, D (lower precision costs (6/16) P N D).",
    ),
]
PrecisionParamsOpt = Annotated[
    Optional[str],
    option(
        "params",
        help="A model's parameters (with --tokens), planned as allocate plans it; the precision laws judge its "
        "designed shape's non-embedding count, and serving bits are shown.",
    ),
]
TrainPrecisionOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--train-precision",
        help="Training formats to compare (repeat): bf16, fp8, fp6, fp4, mxfp4, nvfp4, e5m2, fpN (default bf16 fp8 fp6 fp4).",
    ),
]
HardwarePrecisionOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--hardware-precision",
        help="Precisions your hardware runs, for the best-of comparison (repeat; default bf16 fp8 fp4).",
    ),
]
BlockSizeOpt = Annotated[
    Optional[int],
    typer.Option(
        "--block-size", help="Elements per scaling factor (default 128 as in Sun et al.; MX formats 32, NVFP4 16)."
    ),
]
ServeBitsListOpt = Annotated[
    Optional[list[str]],
    option(
        "serve_bits",
        help="Weight bits to serve the trained model at (for a budget: the best choice's model), 2 to 16 "
        "(repeat; default 8 4 3 2).",
    ),
]
ChipOpt = Annotated[
    Optional[str],
    option(
        "hardware",
        help="The training chip: the plan's cost, and only the formats it has a dense path for are ranked, at its "
        "published speed-up over BF16.",
    ),
]
PrecisionPlotOpt = Annotated[
    Optional[str],
    typer.Option(
        "--plot", help="Also draw the penalty against bits and against tokens per parameter to this PNG file."
    ),
]


@app.command("precision")
def precision_cmd(
    flops: PrecisionFlopsOpt = None,
    params: PrecisionParamsOpt = None,
    tokens: Annotated[Optional[str], option("tokens", help="The model's training tokens (with --params).")] = None,
    train: TrainPrecisionOpt = None,
    hardware_precision: HardwarePrecisionOpt = None,
    block_size: BlockSizeOpt = None,
    serve_bits: ServeBitsListOpt = None,
    hardware: ChipOpt = None,
    plot: PrecisionPlotOpt = None,
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
    from ..pipeline.precision_of_plan import plan_precision

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
    if hardware is not None:
        _precision_hardware(hardware)  # named as this command has it (no --peak-flops here)
    # The shared flags as a Budget (allocate's parsers, caps and messages): a model, or a compute-optimal budget
    budget = flag_budget({"flops": flops, "params": params, "tokens": tokens, "hardware": hardware})
    if plot is not None:
        plotter_for(plot, force=force)  # matplotlib present and the path writable, before any work
    options = {
        "formats": names,
        "choices": choices,
        "block_size": block_size,
        "serve_bits": tuple(bits) if bits else ((8, 4, 3, 2) if params is not None else ()),  # a budget: if asked
    }
    report = plan_precision(budget, options)
    show_result(report, fmt, quiet)
    if plot is not None:
        from ..present import precision_plot

        # a model: the N (non-embedding) and D the report judged; a bare budget: the first available hardware
        # precision's best N, D
        first = next(ch for ch in report.cost_optimal.choices if ch.available)
        pn, pd = (report.params, report.tokens) if report.params is not None else (first.params, first.tokens)
        assert pn is not None and pd is not None  # an available choice has its N and D
        precision_plot.save(pn, pd, plot, force=force)
        err.print(f"wrote {plot}", markup=False)


def _precision_hardware(name: str):
    from ..cluster import cost as cost_mod

    try:
        return cost_mod.get_hardware(fields.parse("hardware", name))
    except ScaleplanError as exc:
        raise ScaleplanError(f"--hardware: {exc.template.removesuffix('; or give <peak_flops>)') + ')'}") from None


# cluster's own options: fields with cluster's meaning, its energy model (Epoch AI's) and owned hardware
ClusterFlopsOpt = Annotated[
    Optional[str],
    option("flops", help="Training FLOPs instead of --params/--tokens: the run of the model --law recommends."),
]
ClusterActiveOpt = Annotated[
    Optional[str],
    option("active_params", help="MoE: active parameters per token (FLOPs use these; memory holds every expert)."),
]
ClusterDaysOpt = Annotated[
    Optional[str], option("days", help="Wall-clock days on --gpus: answers the MFU the plan needs.")
]
ClusterDollarsOpt = Annotated[
    Optional[str], option("dollars", help="Money at --price: answers the MFU the plan needs.")
]
PueOpt = Annotated[
    Optional[float], typer.Option("--pue", help="Power usage effectiveness (default 1.25; 1.1 with --hyperscale).")
]
HyperscaleOpt = Annotated[bool, typer.Option("--hyperscale", help="A hyperscaler's data centre (PUE 1.1).")]
KwhPriceOpt = Annotated[
    Optional[float], typer.Option("--kwh-price", help="Dollars per kWh (default 0.0771, EIA 2024).")
]
ServerPowerOpt = Annotated[
    Optional[float],
    typer.Option("--server-power", help="Server power per chip over chip TDP (default: the preset's, else 1.8)."),
]
TdpFractionOpt = Annotated[
    Optional[float],
    typer.Option("--tdp-fraction", help="Average draw as a fraction of TDP (default 0.75 GPUs, 0.43 TPUs)."),
]
GpuPriceOpt = Annotated[
    Optional[str], typer.Option("--gpu-price", metavar="DOLLARS", help="Owned: dollars per GPU as part of a server.")
]
ChipPriceOpt = Annotated[
    Optional[str],
    typer.Option("--chip-price", metavar="DOLLARS", help="Owned: dollars per chip (x 1.64 server factor)."),
]
AgeOpt = Annotated[
    float, typer.Option("--age", metavar="YEARS", help="Owned: hardware age in years at the start of the run.")
]


@app.command()
def cluster(
    params: Annotated[Optional[str], option("params", help="Total parameters (all experts for MoE), e.g. 70B.")] = None,
    tokens: Annotated[Optional[str], option("tokens", help="Training tokens, e.g. 2T.")] = None,
    flops: ClusterFlopsOpt = None,
    active_params: ClusterActiveOpt = None,
    law: LawOpt = None,
    hardware: HardwareOpt = None,
    hardware_file: HardwareFileOpt = None,
    peak_flops: PeakOpt = None,
    gpus: GpusOpt = None,
    days: ClusterDaysOpt = None,
    dollars: ClusterDollarsOpt = None,
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
    pue: PueOpt = None,
    hyperscale: HyperscaleOpt = False,
    kwh_price: KwhPriceOpt = None,
    server_power: ServerPowerOpt = None,
    tdp_fraction: TdpFractionOpt = None,
    gpu_price: GpuPriceOpt = None,
    chip_price: ChipPriceOpt = None,
    age: AgeOpt = 0.0,
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

    # The shared flags as a Budget: the same parsers, caps and messages as `allocate` (a MoE: its given counts)
    budget = _cluster_budget(locals())
    n_heads = size_flags(context=None, layers=None, d_model=None, heads=heads)[3]
    owned = _owned(gpu_price, chip_price, age)
    energy = cost_mod.Energy(
        server_power_x=server_power,
        tdp_fraction=tdp_fraction,
        pue=pue,
        hyperscale=hyperscale,
        dollars_per_kwh=kwh_price,
    )
    run = {"energy": energy, "owned": owned, "flash": flash}
    if flops is None and params is None:
        raise ScaleplanError(
            "give --params and --tokens, or --flops (a model, or the compute-optimal model of a budget)"
        )
    from ..pipeline.run_plan import plan_run

    timed = (
        {} if flops is None else {"days": fields.optional("days", days), "dollars": fields.optional("dollars", dollars)}
    )
    show_result(plan_run(budget, run, n_heads, **timed), fmt, quiet)


def _cluster_budget(flags: dict):
    """`cluster`'s flags as a Budget (scaleplan.cli.base.flag_budget: allocate's parsers, caps and messages): a
    given MoE when --active-params is set (--params is then its total); with --flops, --days and --dollars imply the
    MFU of that work (scaleplan.pipeline.run_plan), so they stay out of the budget."""
    moe, alone = flags["active_params"] is not None, flags["flops"] is not None
    if moe:
        _check_given_moe(flags["params"], flags["active_params"])
    shared: tuple[str, ...] = ("law", "hardware", "hardware_file", "peak_flops", "gpus", "price", "mfu", "hfu")
    shared += ("precision", "recompute", "zero", "micro_batch", "context", "layers", "d_model", "tp", "pp", "ep")
    given = {key: flags[key] for key in (*shared, "tokens", "flops")}
    return flag_budget(
        {
            **given,
            "params": None if moe else flags["params"],
            "moe": moe,
            "total_params": flags["params"] if moe else None,
            "active_params": flags["active_params"],
            "days": None if alone else flags["days"],
            "dollars": None if alone else flags["dollars"],
        }
    )


def _check_given_moe(params, active_params) -> None:
    """The given MoE's counts as this command names them (--params is the total, all experts)."""
    n_total, n_active = model_size(params), model_size(active_params, "active_params")
    if n_total is None:
        raise ScaleplanError("--active-params needs --params (the total, all experts) and --tokens")
    if n_active is None or not 0 < n_active <= n_total:
        raise ScaleplanError(f"--active-params must be in (0, --params], got {active_params}")


def _owned(gpu_price: str | None, chip_price: str | None, age: float):
    """Owned hardware (scaleplan.cluster.cost.Owned) from --gpu-price or --chip-price and --age; None when rented."""
    from ..cluster import cost as cost_mod

    if age and gpu_price is None and chip_price is None:
        raise ScaleplanError("--age needs --gpu-price or --chip-price (owned hardware)")
    if gpu_price is None and chip_price is None:
        return None
    return cost_mod.Owned(
        server_price_per_gpu=None if gpu_price is None else parse_positive(gpu_price, "--gpu-price"),
        chip_price=None if chip_price is None else parse_positive(chip_price, "--chip-price"),
        age_years=age,
    )
