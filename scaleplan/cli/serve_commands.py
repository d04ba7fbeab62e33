"""Serving commands: serve (a roofline of how a model serves) and inference-aware (how much smaller and longer
to train a model that will serve many tokens)."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..core.errors import ScaleplanError, as_flag
from ..pipeline.budget import Budget, load_budget_file
from ..pipeline.stages import plan_budget
from ..present.render import Format, emit_grid, emit_inference, emit_plans
from ..schema import fields, limits
from ..schema.conventions import DEFAULT_CONTEXT
from ..schema.units import (
    fmt_count,
    fmt_sci,
    parse_budgets,
    parse_fraction,
    parse_positive,
)
from .base import (
    app,
    err,
    law_flag,
    model_size,
    out,
    plotter_for,
    points_flag,
    roofline_flags,
    show_result,
    warn,
)
from .options import (
    ForceOpt,
    FormatOpt,
    HardwareOpt,
    LawOpt,
    MfuOpt,
    ObjectiveOpt,
    PeakOpt,
    PlotOpt,
    PrecisionOpt,
    PriceOpt,
    QuietOpt,
    ServeBitsOpt,
    budget_options,
    option,
)


def _serving_price(text: str) -> float:
    """--inference-price: dollars per serving GPU-hour, capped as --price is (scaleplan.cluster.serving)."""
    price = parse_positive(text, "--inference-price")
    if not price <= 1e6:
        raise ScaleplanError(f"--inference-price must be positive dollars per GPU-hour (at most 1e6), got {text!r}")
    return price


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
    size = None if params is None else model_size(params, "--params")
    for key, value in {**shape_flags, "kv_heads": kv_heads, "vocab": vocab}.items():  # an explicit shape's flags
        if value is not None:
            fields.whole(value, as_flag(key), 1, limits.MAX_SHAPE)
    model = serving.model_for(size, kv_heads=kv_heads, vocab=vocab, context=context or DEFAULT_CONTEXT, **shape_flags)
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
                    context=shape.get("context", DEFAULT_CONTEXT),
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


ServedFileArg = Annotated[
    Optional[str],
    typer.Argument(metavar="[FILE]", help="A budget file (its scenarios' designed models) or a plan's JSON."),
]
ScenarioOpt = Annotated[Optional[str], typer.Option("--scenario", help="Only this scenario of FILE.")]
ServedParamsOpt = Annotated[
    Optional[str], typer.Option("--params", help="Model size, e.g. 8B: the shape the recipe designs.")
]
ShapeLayersOpt = Annotated[Optional[int], typer.Option("--layers", help="An explicit shape: layers.")]
ShapeDModelOpt = Annotated[Optional[int], typer.Option("--d-model", help="An explicit shape: width.")]
ShapeHeadsOpt = Annotated[Optional[int], typer.Option("--heads", help="An explicit shape: query heads.")]
KvHeadsOpt = Annotated[
    Optional[int], typer.Option("--kv-heads", help="Key/value heads (GQA; default: as many as --heads).")
]
HeadDimOpt = Annotated[Optional[int], typer.Option("--head-dim", help="Per-head width (default d_model/heads).")]
DFfOpt = Annotated[Optional[int], typer.Option("--d-ff", help="Feed-forward width (default 4 x d_model).")]
ShapeVocabOpt = Annotated[Optional[int], typer.Option("--vocab", help="An explicit shape: vocabulary size.")]
ServeHardwareOpt = Annotated[
    Optional[list[str]],
    typer.Option("--hardware", help="Serving hardware preset (default h100); repeat it to compare side by side."),
]
ServePriceOpt = Annotated[
    Optional[list[str]],
    typer.Option("--price", help="Dollars per GPU-hour of the serving hardware (one, or one per --hardware)."),
]
BatchOpt = Annotated[Optional[str], typer.Option("--batch", help="Run at this batch instead of the largest.")]
DemandOpt = Annotated[
    Optional[str], typer.Option("--demand", help="Tokens per second to serve (prompt + output): GPUs needed.")
]


# The serving roofline's flags (fields.SERVING): serve's model is given, not priced by fixed MFU; inference-aware
# has its own --prefill-mfu (for either serving model)
SERVE_FLAGS = ("hardware_file", *(key for key in fields.SERVING if key != "serving_model"))
ROOFLINE_FLAGS = tuple(key for key in fields.SERVING if key != "prefill_mfu")
INFERENCE_AWARE_FLAGS = ("hardware_file", *ROOFLINE_FLAGS)


@app.command()
@budget_options(*SERVE_FLAGS)
def serve(
    path: ServedFileArg = None,
    scenario: ScenarioOpt = None,
    params: ServedParamsOpt = None,
    layers: ShapeLayersOpt = None,
    d_model: ShapeDModelOpt = None,
    heads: ShapeHeadsOpt = None,
    kv_heads: KvHeadsOpt = None,
    head_dim: HeadDimOpt = None,
    d_ff: DFfOpt = None,
    vocab: ShapeVocabOpt = None,
    hardware: ServeHardwareOpt = None,
    price: ServePriceOpt = None,
    serve_bits: ServeBitsListOpt = None,
    batch: BatchOpt = None,
    demand: DemandOpt = None,
    law: LawOpt = None,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    *,
    flags: dict,
):
    """How a model serves: the batch that fits and what bounds it, tokens/s per GPU, latency and $ per million
    tokens, from HBM bandwidth, memory, KV heads, bits and tensor parallelism (a roofline).

    Example: scaleplan serve --params 8B --hardware h100 --hardware h200 --serve-bits 16 --serve-bits 8
    Example: scaleplan serve --layers 80 --d-model 8192 --heads 64 --kv-heads 8 --d-ff 28672 --vocab 128256 --serve-bits 8 --serve-tp 2 --prompt-tokens 1000 --output-tokens 1000
    Example: scaleplan serve configs/lab-1e23-h100.yaml --latency interactive --plot serving.png
    """
    from ..cluster import serving
    from ..present.render import emit_serving

    if plot is not None:
        plotter_for(plot, [path] if path else [], force)  # matplotlib present and the path writable, before any work
    chips: list[str | None] = [*hardware] if hardware else [None]
    prices = [parse_positive(p, "--price") for p in price or []]
    if len(prices) > 1 and len(prices) != len(chips):
        raise ScaleplanError(f"--price given {len(prices)} times for {len(chips)} --hardware; give one, or one each")
    if len(chips) > 8 or len(serve_bits or []) > 15:
        raise ScaleplanError("compare at most 8 --hardware and 15 --serve-bits at once")
    bits_list = [fields.parse("serve_bits", b) for b in serve_bits or ["16"]]
    hardware_file = flags.pop("hardware_file")
    opts = roofline_flags(**flags)
    kw = dict(
        opts,
        precision=opts.pop("serve_precision"),
        tp=opts.pop("serve_tp"),
        batch=_whole_flag(batch, "--batch", 1, serving.MAX_BATCH),
        demand=None if demand is None else parse_positive(demand, "--demand"),
    )
    models = _serve_models(path, scenario, params, layers, d_model, heads, kv_heads, head_dim, d_ff, vocab, None, law)
    rows, curves = _serve_rows(models, chips, prices, bits_list, kw, hardware_file, plot is not None)
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


def _serve_rows(models, chips, prices, bits_list, kw, hardware_file, with_curves: bool):
    """(label, Serving) for each model x hardware x served bits, and, for --plot, each fitting one's batch sweep."""
    from ..cluster import serving

    rows = []
    curves = []
    for label, model in models:
        for i, chip in enumerate(chips):
            chip_price = prices[0] if len(prices) == 1 else prices[i] if prices else None
            dev = serving.device(chip, price=chip_price, hardware_file=hardware_file)
            for bits in bits_list:
                s = serving.serve(model, dev, serve_bits=bits, **kw)
                rows.append((label, s))
                if with_curves and s.fits:
                    wl = serving.workload(
                        prompt_tokens=kw["prompt_tokens"],
                        output_tokens=kw["output_tokens"],
                        serve_bits=bits,
                        kv_bits=kw["kv_bits"],
                        precision=kw["precision"],
                    )
                    sweep = serving.batch_sweep(model, dev, wl, s.efficiency, s.tp)
                    tag = f"{s.hardware} {bits}/{s.kv_bits}-bit TP{s.tp}"
                    curves.append((f"{label}: {tag}" if len(models) > 1 else tag, sweep, s.batch))
    return rows, curves


DemandsOpt = Annotated[
    list[str],
    typer.Option(
        "--inference-tokens",
        help="Tokens to serve over the model's life; repeat it or give a range 1e10..1e14 for a sweep.",
    ),
]
QualityFlopsOpt = Annotated[
    Optional[str], option("flops", help="Quality = the loss of the compute-optimal model at this budget.")
]
QualityLossOpt = Annotated[Optional[str], option("target_loss", help="Quality as a loss (the paper's formulation).")]
InferenceHardwareOpt = Annotated[
    Optional[str],
    typer.Option("--inference-hardware", help="Serving hardware preset (default: the training hardware)."),
]
InferencePriceOpt = Annotated[
    Optional[str],
    typer.Option("--inference-price", help="Dollars per serving GPU-hour (default: the training price)."),
]
InferenceBitsOpt = Annotated[
    Optional[int],
    typer.Option("--inference-bits", help="Serving precision, 16 or 8 (8-bit doubles the tensor peak)."),
]
FixedPrefillMfuOpt = Annotated[
    Optional[str], typer.Option("--prefill-mfu", help="MFU of prefill (default 0.5, Sardana et al.'s).")
]
DecodeMfuOpt = Annotated[
    Optional[str], typer.Option("--decode-mfu", help="MFU of decoding (default 0.01, Sardana et al.'s).")
]
PromptShareOpt = Annotated[
    Optional[str],
    typer.Option("--prompt-share", help="Fraction of served tokens that are prompt, in [0, 1] (default 70/285)."),
]
AttentionContextOpt = Annotated[
    Optional[str],
    option("context", help="Add attention FLOPs over this context to the 2N per served token (Kaplan Table 1)."),
]
DemandPointsOpt = Annotated[int, typer.Option("--points", help="Demands per range, log-spaced.")]


@app.command("inference-aware")
@budget_options(*INFERENCE_AWARE_FLAGS)
def inference_aware_cmd(
    inference_tokens: DemandsOpt,
    flops: QualityFlopsOpt = None,
    target_loss: QualityLossOpt = None,
    law: LawOpt = None,
    objective: ObjectiveOpt = None,
    hardware: HardwareOpt = None,
    mfu: MfuOpt = None,
    price: PriceOpt = None,
    peak_flops: PeakOpt = None,
    inference_hardware: InferenceHardwareOpt = None,
    inference_price: InferencePriceOpt = None,
    inference_bits: InferenceBitsOpt = None,
    prefill_mfu: FixedPrefillMfuOpt = None,
    decode_mfu: DecodeMfuOpt = None,
    prompt_share: PromptShareOpt = None,
    context: AttentionContextOpt = None,
    points: DemandPointsOpt = 8,
    precision: PrecisionOpt = None,
    serve_bits: ServeBitsOpt = None,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    *,
    flags: dict,
):
    """A model that will serve many tokens: how much smaller to make it and how much longer to train it (Sardana et al. 2024).

    Example: scaleplan inference-aware --flops 1e23 --inference-tokens 2e12
    Example: scaleplan inference-aware --target-loss 2.1 --inference-tokens 1e13 --objective cost --serve-bits 8
    Example: scaleplan inference-aware --flops 1e23 --inference-tokens 1e10..1e15 --points 6
    """
    from ..pipeline import inference

    tokens = _demands(inference_tokens, points)
    hardware_file = flags.pop("hardware_file")
    law_obj = law_flag(law)
    budget, loss = _quality(flops, target_loss, law_obj)
    ctx = fields.optional("context", context)
    bits = fields.optional("serve_bits", serve_bits)
    goal = fields.optional("objective", objective) or "flops"
    plotter = plotter_for(plot, force=force)
    train = dict(hardware=hardware, mfu=fields.optional("mfu", mfu), price=fields.optional("price", price))
    train |= dict(peak_flops=fields.optional("peak_flops", peak_flops), hardware_file=hardware_file)
    train["precision"] = fields.optional("precision", precision) or "bf16"
    own = dict(hardware=inference_hardware, price=inference_price, bits=inference_bits, prefill_mfu=prefill_mfu)
    serving = _serving_block(own, decode_mfu, prompt_share, ctx, flags)
    if tokens.size > 1:  # a sweep over demands: the sizing alone, one row per demand
        costs = _sweep_costs(train, serving, bits)
        sweep = inference.inference_aware(
            tokens, flops=budget, target_loss=loss, law=law_obj, objective=goal, context=ctx, costs=costs
        )
        show_result(sweep, fmt, quiet)
        if plotter:
            plotter.save_inference_figure(sweep, plot, law=law_obj, force=force)
            err.print(f"wrote {plot}", markup=False)
        return
    # One demand: the plan pipeline, as `allocate --inference-tokens` plans it (the law, a law file included, used
    # throughout): the sizing, then the recommended model in full, its recipe and cost.
    if not law_obj.predicts_loss:
        inference.tokens_for_loss(law_obj, 1.0, 1.0)  # the planner's own clear error for a law without a loss
    block = {k: v for k, v in serving.items() if v is not None} or None
    request = Budget(
        law=law,
        flops=budget,
        target_loss=loss,
        inference_tokens=float(tokens[0]),
        objective=goal,
        serve_bits=bits,
        context=ctx,
        inference=block,
        **train,
    )
    recommended = plan_budget(request)
    _show_recommended(recommended, fmt, quiet)
    if plotter:
        assert recommended.inference is not None  # a law with a loss sizes the model inference-aware
        plotter.save_inference_figure(recommended.inference, plot, law=law_obj, force=force)
        err.print(f"wrote {plot}", markup=False)


def _quality(flops, target_loss, law_obj):
    """(FLOPs, target loss): the quality asked for, one way: the loss of the compute-optimal model at --flops, or
    --target-loss."""
    if (flops is None) == (target_loss is None):
        raise ScaleplanError(
            "give the quality one way: --flops (the loss its compute-optimal model reaches) or --target-loss"
        )
    budget = fields.optional("flops", flops)
    if budget is not None:
        limits.check_flops(budget, "<flops>", law_obj)
    return budget, fields.optional("target_loss", target_loss)


def _serving_block(own: dict, decode_mfu, prompt_share, ctx, flags: dict) -> dict:
    """The budget's `inference:` block from inference-aware's flags, each value parsed under its own flag."""
    fraction = lambda v, name, low_open=True: None if v is None else parse_fraction(v, name, low_open)
    return {
        "hardware": own["hardware"],
        "price": None if own["price"] is None else _serving_price(own["price"]),
        "bits": own["bits"],
        "prefill_mfu": fraction(own["prefill_mfu"], "--prefill-mfu"),
        "decode_mfu": fraction(decode_mfu, "--decode-mfu"),
        "prompt_share": fraction(prompt_share, "--prompt-share", False),
        "context": ctx,
        **roofline_flags(**flags),
    }


def _sweep_costs(train: dict, serving: dict, bits):
    """The serving costs a sweep over demands prices every size with: training's and serving's hardware and price."""
    from ..pipeline import inference

    roofline = {key: serving[key] for key in ROOFLINE_FLAGS}
    return inference.serving_costs(
        train["hardware"],
        train["mfu"],
        train["price"],
        serving["hardware"],
        serving["price"],
        serving["prefill_mfu"],
        serving["decode_mfu"],
        serving["prompt_share"],
        serving["bits"],
        peak_flops=train["peak_flops"],
        precision=train["precision"],
        hardware_file=train["hardware_file"],
        serve_bits=None if roofline["serving_model"] == "fixed-mfu" else bits,
        **roofline,
    )


def _demands(inference_tokens: list[str], points: int):
    """--inference-tokens: one demand, several, or a range of `points` demands; each at most MAX_TOKENS."""
    tokens = parse_budgets(
        inference_tokens,
        "--inference-tokens",
        points_flag(points),
        allow_zero=True,
        max_values=limits.MAX_OUTPUT_ROWS,
        flops=False,
    )
    if tokens.max() > limits.MAX_TOKENS:
        raise ScaleplanError(
            f"--inference-tokens: {fmt_sci(tokens.max())} tokens is beyond any plan (more than "
            f"{fmt_sci(limits.MAX_TOKENS)}); check the units"
        )
    return tokens


def _show_recommended(recommended, fmt: Format, quiet: bool) -> None:
    """One demand's answer: the sizing (how much smaller, how much longer), then the recommended model in full."""
    from ..pipeline import inference
    from ..present.render import print_answer

    plan = recommended.inference
    assert plan is not None  # a law with a loss sizes the model inference-aware
    print_answer(out, fmt, recommended)
    warn(recommended.warnings, quiet, answered=fmt in (Format.table, Format.markdown))
    if fmt in (Format.json, Format.csv):
        emit_grid(out, fmt, None, [], [], {**plan.to_dict(), "recommended": recommended.to_dict()})
    elif not quiet:
        emit_inference(out, fmt, plan, inference.describe_break_even(plan))
        out.print() if fmt is Format.table else out.out("")
        emit_plans(out, fmt, [recommended], title="The recommended model: recipe and cost")
