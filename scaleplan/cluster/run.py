"""A training run on a real cluster: utilisation (given or implied), recompute, cost, energy, memory and layout.

One library call for `scaleplan cluster`: model FLOPs are 6·N·D (N the active parameters for a mixture of experts);
MFU = model FLOPs / (devices × time × dense peak at the training precision); HFU adds the recomputed work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import ScaleplanError
from ..core.values import Rendered, check_positive, check_settings, plain
from ..schema import fields
from ..schema.conventions import DEFAULT_CONTEXT, training_flops
from ..schema.units import fmt_sci
from . import cost as cost_mod

if TYPE_CHECKING:
    from .memory import LayoutPlan


@dataclass(frozen=True, repr=False)
class ClusterPlan(Rendered):
    flops: float
    params: float | None
    params_active: float | None
    tokens: float | None
    shape: dict | None
    mfu: float
    hfu: float
    utilisation_source: str
    cost: cost_mod.CostBreakdown
    layout: LayoutPlan | None
    warnings: tuple[str, ...]
    plan: dict | None = None  # `scaleplan cluster`: the common keys of the plan this run trains (output contract)

    def to_dict(self) -> dict:
        own = {
            "flops": plain(self.flops),
            "params": plain(self.params),
            "params_active": plain(self.params_active),
            "tokens": plain(self.tokens),
            "shape": self.shape,
            "mfu": plain(self.mfu),
            "hfu": plain(self.hfu),
            "utilisation": self.utilisation_source,
            "cost": self.cost.to_dict(),
            "memory": None if self.layout is None else self.layout.to_dict(),
            "warnings": list(self.warnings),
        }
        return own if self.plan is None else {**self.plan, **own}


def plan_cluster(
    *,
    params: float | None = None,
    tokens: float | None = None,
    flops: float | None = None,
    active_params: float | None = None,
    hardware: str | None = None,
    hardware_file=None,
    peak_flops: float | None = None,
    gpus: int | None = None,
    days: float | None = None,
    dollars: float | None = None,
    price: float | None = None,
    mfu: float | None = None,
    hfu: float | None = None,
    precision: str = "bf16",
    recompute: str = "none",
    zero: int = 1,
    micro_batch: int = 1,
    context: int = DEFAULT_CONTEXT,
    flash: bool = True,
    layers: int | None = None,
    d_model: int | None = None,
    heads: int | None = None,
    energy: cost_mod.Energy | None = None,
    owned: cost_mod.Owned | None = None,
    tp: int | None = None,
    pp: int | None = None,
    ep: int | None = None,
    shape=None,
    moe_model=None,
    batch_sequences: float | None = None,
) -> ClusterPlan:
    """Cost, utilisation, energy and memory of one run. Give params and tokens (a shape is designed for the memory
    model and selective recompute) or flops alone (no memory model: `scaleplan cluster --flops` plans the model first,
    scaleplan.pipeline.run_plan). Utilisation is --mfu or --hfu, or implied by
    gpus × days (or dollars at a price); otherwise the default MFU 0.4. With <active_params> the model is an integer
    mixture of experts with both counts within 1% (scaleplan.recipe.moe_shape); `tp`, `pp`, `ep` pin the layout. A given
    dense `shape` (recipe.Shape, e.g. a trainer's config read back) is used as it is instead of a designed one.
    `batch_sequences` is the global batch the layout rounds to a multiple of its DP x micro-batch (default for a
    dense model: the default learning-rate/batch law's, before rounding, as `allocate` has it)."""
    check_settings(mfu=mfu, price=price)
    hw = cost_mod.with_given_price(cost_mod.get_hardware(hardware, peak_flops, hardware_file=hardware_file), price)
    precision = cost_mod.check_precision(precision)
    hw.peak(precision)  # a clear error where the chip has no such path
    for name, value in (
        ("<params>", params),
        ("<active_params>", active_params),
        ("<tokens>", tokens),
        ("<flops>", flops),
    ):
        if value is not None:
            check_positive(value, name)
    _check_sizes(params, tokens, flops, active_params)
    zero = fields.parse("zero", zero)  # the one parser and cap of each, as flags and budget files have them
    micro_batch, context = fields.parse("micro_batch", micro_batch), fields.parse("context", context)
    gpus = fields.optional("gpus", gpus)
    return cluster_run(
        hw, params=params, tokens=tokens, flops=flops, active_params=active_params, peak_flops=peak_flops,
        gpus=None if gpus is None else int(gpus), days=days, dollars=dollars, mfu=mfu, hfu=hfu, precision=precision,
        recompute=recompute, zero=zero, micro_batch=micro_batch, context=context, flash=flash, layers=layers,
        d_model=d_model, heads=heads, energy=energy, owned=owned, tp=tp, pp=pp, ep=ep, shape=shape,
        moe_model=moe_model, batch_sequences=batch_sequences,
    )  # fmt: skip


def cluster_run(
    hw: cost_mod.Hardware,
    *,
    params: float | None = None,
    tokens: float | None = None,
    flops: float | None = None,
    active_params: float | None = None,
    peak_flops: float | None = None,
    gpus: int | None = None,
    days: float | None = None,
    dollars: float | None = None,
    mfu: float | None = None,
    hfu: float | None = None,
    precision: str = "bf16",
    recompute: str = "none",
    zero: int = 1,
    micro_batch: int = 1,
    context: int = DEFAULT_CONTEXT,
    flash: bool = True,
    layers: int | None = None,
    d_model: int | None = None,
    heads: int | None = None,
    energy: cost_mod.Energy | None = None,
    owned: cost_mod.Owned | None = None,
    tp: int | None = None,
    pp: int | None = None,
    ep: int | None = None,
    shape=None,
    moe_model=None,
    batch_sequences: float | None = None,
) -> ClusterPlan:
    """``plan_cluster`` once its arguments are parsed: `hw` the Hardware at its price, `precision` its parsed name,
    `zero`, `micro_batch`, `context` and `gpus` whole numbers within their caps, the sizes given one way (the cluster
    stage calls it with the budget's resolved values). What depends on the model is still refused here: pins or a
    layout without one, selective recompute without a shape, a utilisation above the peak."""
    active = params if active_params is None else active_params
    model_flops = _model_flops(params, active, tokens, flops, (layers, d_model, heads))
    _check_degrees(params, active_params, tp, pp, ep)
    shape, spec, shape_dict, batch_sequences = _model(
        params, active, active_params, tokens, shape, moe_model, context, (layers, d_model, heads), batch_sequences
    )
    if recompute == "selective" and shape is None:
        raise ScaleplanError("<recompute> selective needs the model's shape: give <params> and <tokens>")
    ratio = _hardware_ratio(shape, recompute)
    _check_utilisation(mfu, hfu, gpus, days, dollars)
    price = hw.price_per_hour
    gpus_used = cost_mod.DEFAULT_GPUS if gpus is None else int(gpus)
    mfu_used, source = _utilisation(
        model_flops, hw, precision, recompute, ratio, mfu=mfu, hfu=hfu, gpus=gpus, days=days, dollars=dollars,
        price=price,
    )  # fmt: skip
    warnings = list(cost_mod.utilisation_warnings(mfu_used))
    warnings += cost_mod.precision_warnings(mfu_used, precision, hw, moe=active_params is not None)
    c = cost_mod.cost_breakdown(
        model_flops, hw, mfu_used, price, gpus_used, precision=precision, recompute=recompute, hardware_ratio=ratio,
        energy=energy, owned=owned,
    )  # fmt: skip
    if peak_flops is not None:
        warnings.append(f"peak {peak_flops:.3g} FLOP/s given; memory, power and links are {hw.key}'s")
    layout = None
    if spec is not None and hw.memory_bytes is not None:
        layout = _layout(spec, hw, gpus, zero, micro_batch, recompute, flash, (tp, pp, ep), batch_sequences, warnings)
    return ClusterPlan(
        model_flops, params, active_params, tokens, None if shape is None else shape_dict, mfu_used, mfu_used * ratio,
        source, c, layout, tuple(warnings),
    )  # fmt: skip


def _check_sizes(params, tokens, flops, active_params) -> None:
    """params with tokens, or flops alone; active parameters within the total."""
    if (params is None) != (tokens is None):
        raise ScaleplanError("give <params> with <tokens> (or <flops> alone)")
    if params is not None and flops is not None:
        raise ScaleplanError("<params>/<tokens> set the FLOPs (6ND); drop <flops>")
    if params is None and flops is None:
        raise ScaleplanError("give <params> and <tokens>, or <flops>")
    if active_params is not None:
        if params is None:
            raise ScaleplanError("<active_params> needs <params> (the total, all experts) and <tokens>")
        if not 0 < active_params <= params:
            raise ScaleplanError(f"<active_params> must be in (0, <params>], got {active_params:g}")


def _model(params, active, active_params, tokens, given_shape, moe_model, context, pins, batch):
    """(shape, memory.ModelSpec, the shape's dict, global batch in sequences) of the model the run trains: an integer
    mixture of experts, the given dense shape, or one designed from the active parameters (whose default batch law
    gives the batch when none is given); Nones without a model (FLOPs alone)."""
    if params is None or active is None:
        return None, None, None, batch
    from ..recipe import design as recipe
    from . import memory

    layers, d_model, heads = pins
    if active_params is not None and active_params < params:
        from ..recipe import moe_shape

        moe = moe_model or moe_shape.design_given_moe(
            params, active, context=context, layers=layers, d_model=d_model, heads=heads
        )
        spec = memory.ModelSpec(
            params,
            moe.layers,
            moe.d_model,
            moe.heads,
            moe.context,
            d_ff=moe.active_ffn_width,  # activations follow the experts a token passes through
            kv_heads=moe.kv_heads,
            glu=moe.glu,
            expert_params=min(float(moe.routed_expert_params), 0.999 * params),
        )
        return moe.base, spec, moe.to_dict(), batch
    shape = given_shape or recipe.design_shape(active, context=context, layers=layers, d_model=d_model, heads=heads)
    spec = memory.ModelSpec(
        params,
        shape.layers,
        shape.d_model,
        shape.heads,
        shape.context,
        d_ff=shape.d_ff,
        kv_heads=shape.kv_heads,
        glu=shape.glu,
        expert_params=0.0,
    )
    if batch is None:
        try:
            row = next(h for h in recipe.hyperparameters(tokens=tokens, shape=shape) if h.default)
            batch = row.batch_tokens_raw / shape.context
        except (ScaleplanError, StopIteration):
            batch = None  # no batch law applies: the layout alone
    return shape, spec, shape.to_dict(), batch


def _check_utilisation(mfu, hfu, gpus, days, dollars) -> None:
    """The utilisation (<mfu> or <hfu>) or the time (<days> with <gpus>, or <dollars>), one way only."""
    timed = days is not None or dollars is not None
    for name, share in (("<mfu>", mfu), ("<hfu>", hfu)):
        if share is not None and not 0 < share <= 1:
            raise ScaleplanError(f"{name} must be in (0, 1], got {share!r}")
    if timed and (mfu is not None or hfu is not None):
        raise ScaleplanError(
            "give the utilisation (<mfu> or <hfu>) or the time (<days> or <dollars>), not both: "
            "the time implies the utilisation"
        )
    if mfu is not None and hfu is not None:
        raise ScaleplanError("give <mfu> or <hfu>, not both")
    if days is not None and gpus is None:
        raise ScaleplanError("<days> needs <gpus>")
    if days is not None and dollars is not None:
        raise ScaleplanError("give <days> or <dollars>, not both")


def _utilisation(model_flops, hw, precision, recompute, ratio, *, mfu, hfu, gpus, days, dollars, price):
    """(MFU, where it comes from): implied by the time, from the HFU, given, or the default at the precision;
    refused above the peak."""
    if days is not None or dollars is not None:
        implied = cost_mod.implied_utilisation(
            model_flops,
            hw,
            gpus=gpus,
            days=days,
            dollars=dollars,
            price=price,
            precision=precision,
            recompute=recompute,
            hardware_ratio=ratio,
        )
        mfu_used, source = (
            implied.mfu,
            (
                "implied by "
                + (f"{gpus:,} GPUs x {days:g} days" if days is not None else f"${dollars:,.0f} at ${price:.2f}/h")
            ),
        )
    elif hfu is not None:
        mfu_used, source = hfu / ratio, f"from HFU {hfu:.1%} with {recompute} recompute"
    else:
        mfu_used, source = (
            (cost_mod.default_mfu(precision, hw), "default" if precision == "bf16" else f"default at {precision}")
            if mfu is None
            else (mfu, "given")
        )
    if mfu_used * ratio > 1:
        pct = lambda x: f"{x:.0%}" if x < 100 else f"{fmt_sci(x * 100)}%"
        given = "<days>" if days is not None else "<dollars>" if dollars is not None else "<mfu>"
        given = "<hfu>" if hfu is not None else given
        raise ScaleplanError(
            f"{given}: the plan needs HFU {pct(mfu_used * ratio)} (MFU {pct(mfu_used)}): above the peak; "
            "more GPUs or more days"
        )
    return mfu_used, source


def _model_flops(params, active, tokens, flops, pins) -> float:
    """6·N·D (N the active parameters), or the FLOPs given alone; refused past 1e35 (and shape pins without
    <params> first)."""
    if params is None and any(v is not None for v in pins):
        raise ScaleplanError("<layers>, <d_model> and <heads> pin the shape designed from <params>")
    if active is not None and tokens is not None:
        model_flops = training_flops(active, tokens)
    else:
        assert flops is not None  # given alone (checked above)
        model_flops = float(flops)
    if model_flops > 1e35:
        raise ScaleplanError(f"{model_flops:.3g} FLOPs is absurd (more than 1e35); check the units")
    return model_flops


def _layout(spec, hw, gpus, zero, micro_batch, recompute, flash, degrees, batch_sequences, warnings: list[str]):
    """The memory model and layout (memory.plan_layout); a layout that does not fit, or a global batch it moves, is
    appended to ``warnings``."""
    from . import memory

    tp, pp, ep = degrees
    layout = memory.plan_layout(
        spec,
        hw,
        gpus,
        zero=zero,
        micro_batch=micro_batch,
        recompute=recompute,
        flash=flash,
        tp=tp,
        pp=pp,
        ep=ep,
        batch=batch_sequences if gpus is not None else None,
    )
    if gpus is not None and layout.suggested is not None and not layout.suggested.fits:
        warnings.append(layout.note)
    elif "global batch moves" in layout.note:
        warnings.append(layout.note.split("; ", 1)[-1])
    return layout


def _check_degrees(params, active_params, tp, pp, ep) -> None:
    """Pinned degrees need a model (and expert parallelism a mixture of experts)."""
    if (tp, pp, ep) != (None, None, None) and params is None:
        raise ScaleplanError("<tp>, <pp> and <ep> pin the layout of a model: give <params> and <tokens>")
    if ep is not None and ep > 1 and active_params is None:
        raise ScaleplanError("<ep> splits the experts of a mixture of experts: give <active_params> too")


def _hardware_ratio(shape, recompute: str) -> float:
    """Hardware over model FLOPs for the recompute policy (selective recompute from the shape)."""
    if shape is not None and recompute == "selective":
        return cost_mod.recompute_ratio(
            recompute, context=shape.context, d_model=shape.d_model, layers=shape.layers, vocab=shape.vocab
        )
    return cost_mod.recompute_ratio(recompute)
