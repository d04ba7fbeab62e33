"""Hardware presets (data/hardware.yaml, plus a user's own file) and the cost of a number of FLOPs on them.

One definition of utilisation throughout: model FLOPs are the plan's training FLOPs (6·N·D in the law's convention);
MFU = model FLOPs / (devices × time × dense peak at the training precision); hardware FLOPs add the work that
activation recompute repeats; HFU = hardware FLOPs / the same denominator.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.values import Rendered, check_positive, check_settings, plain
from ..schema.fields import PRECISIONS, RECOMPUTE
from ..schema.fields import parse as parse_field
from ..schema.units import fmt_sci
from .hardware import (
    DEFAULT_HARDWARE,
    GIB,
    PRICE_GIVEN,
    Hardware,
    check_hardware_spec,
    check_precision,
    get_hardware,
    presets,
    price_label,
    user_hardware_file,
    with_given_price,
)

# the hardware presets (scaleplan.cluster.hardware) are named here too: cost and hardware are read together
__all__ = [
    "DEFAULT_GPUS",
    "DEFAULT_HARDWARE",
    "DEFAULT_MFU",
    "GIB",
    "HIGHEST_REPORTED_MFU",
    "LOWEST_SENSIBLE_MFU",
    "PRECISIONS",
    "PRICE_GIVEN",
    "RECOMPUTE",
    "SECONDS_PER_HOUR",
    "CostBreakdown",
    "Energy",
    "Hardware",
    "Implied",
    "Owned",
    "check_hardware_spec",
    "check_precision",
    "cost_breakdown",
    "cost_model",
    "default_mfu",
    "get_hardware",
    "gpu_hours_for",
    "implied_speedup",
    "implied_utilisation",
    "precision_speedup",
    "precision_warnings",
    "presets",
    "price_label",
    "recompute_ratio",
    "training_cost",
    "user_hardware_file",
    "utilisation_warnings",
    "with_given_price",
]

DEFAULT_MFU = 0.4
DEFAULT_GPUS = 1024
# The highest model FLOPs utilisation reported publicly for large-scale training: MegaScale (Jiang et al. 2024,
# arXiv 2402.15627), 55.2% for a 175B model on 12,288 GPUs. PaLM reached 46.2% (arXiv 2204.02311).
HIGHEST_REPORTED_MFU = 0.552
LOWEST_SENSIBLE_MFU = 0.10
SECONDS_PER_HOUR = 3600.0


# ---------------------------------------------------------------------------------------------------------------
# Recompute: hardware FLOPs over model FLOPs


def recompute_ratio(recompute: str = "none", *, context=None, d_model=None, layers=None, vocab=None) -> float:
    """Hardware FLOPs / model FLOPs for an activation-recompute policy.

    none: 1. full: one extra forward pass, (6ND + 2ND) / 6ND = 4/3 (the 8ND convention of the BLOOM repository).
    selective: Korthikanti et al. 2022 (arXiv 2205.05198) App. A, eq. 8 over eq. 7:
    (1 + s/(3h) + V/(12hL)) / (1 + s/(6h) + V/(12hL)); it needs the shape (context s, d_model h, layers L, vocab V).
    """
    r = parse_field("recompute", recompute)
    if r == "none":
        return 1.0
    if r == "full":
        return 4.0 / 3.0
    if None in (context, d_model, layers, vocab):
        raise ScaleplanError("selective recompute needs the model's shape (context, d_model, layers, vocab)")
    s, h, n_layers, v = float(context), float(d_model), float(layers), float(vocab)
    logits = v / (12.0 * h * n_layers)
    return (1.0 + s / (3.0 * h) + logits) / (1.0 + s / (6.0 * h) + logits)


# ---------------------------------------------------------------------------------------------------------------
# Energy (Epoch AI's method)


@functools.cache
def cost_model() -> dict:
    return _yaml.read(_yaml.DATA / "cost_model.yaml")


@dataclass(frozen=True)
class Energy:
    """Facility energy: board power × server multiple × average draw (fraction of TDP) × PUE, and its price.

    Defaults (Epoch AI, Cottier et al. 2024 App. A.4): the preset's server multiple (H100 1.82, A100 2.03, TPU 1.56;
    else 1.8), 0.75 of TDP for GPUs and 0.43 for TPUs, PUE 1.25 (1.1 with hyperscale=True), $0.0771/kWh (EIA 2024).
    """

    server_power_x: float | None = None
    tdp_fraction: float | None = None
    pue: float | None = None
    hyperscale: bool = False
    dollars_per_kwh: float | None = None

    def resolved(self, hw: Hardware) -> dict:
        e = cost_model()["energy"]
        for name, value in (
            ("<server_power_x> (server power multiple)", self.server_power_x),
            ("<pue>", self.pue),
            ("<dollars_per_kwh> ($ per kWh)", self.dollars_per_kwh),
        ):
            if value is not None and not (math.isfinite(value) and 0 < value <= 100):
                raise ScaleplanError(f"{name} must be a positive number (at most 100), got {value!r}")
        if self.tdp_fraction is not None and not 0 < self.tdp_fraction <= 1.5:
            raise ScaleplanError(
                f"<tdp_fraction> (average draw as a fraction of TDP) must be in (0, 1.5], got {self.tdp_fraction!r}"
            )
        if self.pue is not None and self.pue < 1:
            raise ScaleplanError(f"<pue> is at least 1 (facility power / IT power), got {self.pue!r}")
        mean, board = hw.mean_power_w, hw.power_w
        measured = self.tdp_fraction is None and mean is not None and board is not None
        if self.server_power_x is not None:
            basis = "given"
        elif hw.server_power_x is not None:
            basis = hw.server_power_basis or "the preset's"
        else:
            basis = f"Epoch AI's default {e['server_power_x_default']:g} (the chip is not in Epoch's code)"
        return {
            "server_power_x": self.server_power_x or hw.server_power_x or e["server_power_x_default"],
            "server_power_basis": basis,
            # a measured mean draw (TPU v4: 170 W of a 192 W measured maximum) instead of Epoch's fraction of TDP
            "tdp_fraction": (
                mean / board  # type: ignore[operator]
                if measured
                else self.tdp_fraction or e["tdp_fraction"][hw.kind]
            ),
            "average_draw": (
                f"measured mean {hw.mean_power_w:g} W"
                if measured
                else "given"
                if self.tdp_fraction is not None
                else f"Epoch AI's {e['tdp_fraction'][hw.kind]:g} of TDP ({hw.kind})"
            ),
            "pue": self.pue or e["pue"]["hyperscale" if self.hyperscale else "other"],
            "dollars_per_kwh": self.dollars_per_kwh if self.dollars_per_kwh is not None else e["dollars_per_kwh"],
        }


# ---------------------------------------------------------------------------------------------------------------
# Owned hardware (Epoch AI's amortisation)


@dataclass(frozen=True)
class Owned:
    """Buying the cluster instead of renting: give the price per GPU as part of a server, or the chip's price
    (× Epoch AI's 1.64 server factor) — never both. Interconnect is 19% of the cluster's cost; the value falls
    0.14 orders of magnitude a year, so a run of H hours costs value × H/8760 × 0.14·ln 10 (Cottier et al. 2024,
    sec. 2.2 and App. A.1); `age_years` is how old the hardware is when the run starts (default 0, new)."""

    server_price_per_gpu: float | None = None
    chip_price: float | None = None
    age_years: float = 0.0

    def __post_init__(self):
        if (self.server_price_per_gpu is None) == (self.chip_price is None):
            raise ScaleplanError(
                "owned hardware needs exactly one of a price per GPU as part of a server "
                "or a chip price (which is multiplied by the 1.64 server factor), not both"
            )
        for name, v in (("price per GPU", self.server_price_per_gpu), ("chip price", self.chip_price)):
            if v is not None and not (math.isfinite(v) and 0 < v <= 1e8):
                raise ScaleplanError(f"{name} must be positive dollars (at most $100M), got {v!r}")
        if not (math.isfinite(self.age_years) and 0 <= self.age_years <= 30):
            raise ScaleplanError(f"hardware age must be 0 to 30 years, got {self.age_years!r}")

    def cluster_value(self, gpus: float) -> dict:
        o = cost_model()["owned"]
        per_gpu = (
            self.server_price_per_gpu if self.server_price_per_gpu is not None else self.chip_price * o["server_factor"]
        )
        acquisition = per_gpu * gpus / (1.0 - o["interconnect_fraction"])
        value = acquisition * 10.0 ** (-o["depreciation_ooms_per_year"] * self.age_years)
        return {
            "per_gpu_in_server": per_gpu,
            "acquisition": acquisition,
            "value_at_start": value,
            "amortisation_per_year": o["depreciation_ooms_per_year"] * math.log(10.0),
        }


# ---------------------------------------------------------------------------------------------------------------
# The cost of a run


@dataclass(frozen=True, repr=False)
class CostBreakdown(Rendered):
    """What training `flops` costs on `gpus` accelerators at utilisation `mfu` and `price` dollars per GPU-hour."""

    hardware: str
    peak_flops: float
    mfu: float
    price: float | None
    gpus: float
    gpu_hours: float
    days: float
    dollars: float | None
    kwh: float | None
    power_w: float | None
    inference_flops: float | None = None
    inference_dollars: float | None = None
    total_dollars: float | None = None
    precision: str = "bf16"
    recompute: str = "none"
    hfu: float | None = None
    hardware_flops: float | None = None
    price_label: str | None = None
    kwh_facility: float | None = None
    energy_dollars: float | None = None
    energy_assumptions: dict | None = None
    energy_note: str | None = None
    owned_dollars: float | None = None
    owned_assumptions: dict | None = None
    inference_price_label: str | None = None  # the serving price and what it is, when serving is priced
    speedup_over_bf16: float | None = None  # throughput over a BF16 run at the default BF16 MFU (FP8/FP4 only)

    def to_dict(self) -> dict:
        return {k: (v if isinstance(v, dict) else plain(v)) for k, v in self.__dict__.items()}


def gpu_hours_for(flops, hw: Hardware, mfu: float, precision: str = "bf16"):
    return np.asarray(flops, float) / (hw.peak(precision) * mfu * SECONDS_PER_HOUR)


def training_cost(
    flops,
    hw: Hardware,
    mfu: float,
    price: float | None,
    gpus: float,
    inference_flops=None,
    inference_dollars=None,
    *,
    precision: str = "bf16",
    recompute: str = "none",
    hardware_ratio: float | None = None,
    energy: Energy | None = None,
    owned: Owned | None = None,
) -> CostBreakdown:
    """Cost breakdown, vectorised over `flops` (model FLOPs). `kwh` is board power only; `kwh_facility` adds the
    server, average draw and PUE (see Energy). `hardware_ratio` is hardware/model FLOPs (default: from `recompute`,
    which for selective recompute needs the shape: pass recompute_ratio(...) instead). Price None: no dollars.

    Serving is priced by the caller (scaleplan.pipeline.inference prices prefill and decode at their own utilisation).
    `hw` is a Hardware or a preset's name ('h100').
    """
    if isinstance(hw, str):
        try:
            hw = get_hardware(hw)
        except ScaleplanError as exc:
            raise ScaleplanError(f"<hw>: {exc.template.removesuffix('; or give <peak_flops>)')}") from None
    elif not isinstance(hw, Hardware):
        raise ScaleplanError(f"<hw> must be a Hardware (scaleplan.get_hardware('h100')) or a preset name, got {hw!r}")
    check_positive(flops, "<flops>")
    check_settings(mfu=mfu, price=price, gpus=gpus)
    precision = check_precision(precision)
    ratio = recompute_ratio(recompute) if hardware_ratio is None else float(hardware_ratio)
    return cost_breakdown(
        flops, hw, mfu, price, gpus, inference_flops, inference_dollars, precision=precision, recompute=recompute,
        hardware_ratio=ratio, energy=energy, owned=owned,
    )  # fmt: skip


def cost_breakdown(
    flops,
    hw: Hardware,
    mfu: float,
    price: float | None,
    gpus: float,
    inference_flops=None,
    inference_dollars=None,
    *,
    precision: str = "bf16",
    recompute: str = "none",
    hardware_ratio: float = 1.0,
    energy: Energy | None = None,
    owned: Owned | None = None,
) -> CostBreakdown:
    """``training_cost`` on arguments already checked (`hw` a Hardware, `precision` a parsed name, `hardware_ratio`
    the recompute's hardware/model FLOPs): the pipeline's cost stage and plan_cluster price with it what the budget
    (or plan_cluster's entry) checked once."""
    peak = hw.peak(precision)
    hours = np.asarray(flops, float) / (peak * mfu * SECONDS_PER_HOUR)  # gpu_hours_for
    kwh = hours * hw.power_w / 1000.0 if hw.power_w else None
    kwh_fac, energy_dollars, assumptions, note = _facility_energy(kwh, hw, energy)
    dollars = None if price is None else hours * price
    inf_dollars = total = None
    if inference_dollars is not None:
        inf_dollars = inference_dollars
        total = None if dollars is None else dollars + inf_dollars
    owned_dollars, owned_info = _owned_cost(owned, gpus, hours, energy_dollars)
    return CostBreakdown(
        hw.key,
        peak,
        mfu,
        price,
        float(gpus),
        _num(hours),
        _num(hours / gpus / 24.0),
        _num(dollars),
        _num(kwh),
        hw.power_w,
        _num(inference_flops),
        _num(inf_dollars),
        _num(total),
        precision=precision,
        recompute=str(recompute).strip().lower(),
        hfu=mfu * hardware_ratio,
        hardware_flops=_num(np.asarray(flops, float) * hardware_ratio),
        price_label=price_label(hw, price),
        kwh_facility=_num(kwh_fac),
        energy_dollars=_num(energy_dollars),
        energy_assumptions=assumptions,
        energy_note=note,
        owned_dollars=_num(owned_dollars),
        owned_assumptions=owned_info,
        speedup_over_bf16=None if precision == "bf16" else implied_speedup(mfu, precision, hw),
    )


# ---------------------------------------------------------------------------------------------------------------
# The default MFU at a training precision (cost_model.yaml precision_mfu: published FP8/FP4-vs-BF16 comparisons)


def precision_speedup(precision: str, hw: Hardware) -> float:
    """The end-to-end speed-up over BF16 that the default MFU assumes at `precision` on `hw`: FP8 realises 0.34 of
    its extra peak (1.34x at 2x the BF16 peak, the low end of published dense comparisons at scale); FP4 adds the
    published NVFP4-over-FP8 1.35x. 1 for BF16 and wherever the chip's peak at the precision is its BF16 peak."""
    precision = check_precision(precision)
    if precision == "bf16":
        return 1.0
    data = cost_model()["precision_mfu"]
    fp8_ratio = (hw.fp8_flops or hw.peak_flops) / hw.peak_flops
    fp8 = 1.0 + data["fp8"]["realised"] * max(fp8_ratio - 1.0, 0.0)
    if precision == "fp8":
        return fp8
    fp4_ratio = hw.peak("fp4") / (hw.fp8_flops or hw.peak_flops)
    return fp8 * (data["fp4"]["speedup_over_fp8"] if fp4_ratio > 1.0 else 1.0)


def default_mfu(precision: str = "bf16", hw: Hardware | None = None) -> float:
    """The MFU a plan assumes when none is given, against the dense peak at `precision`: DEFAULT_MFU (0.40) at BF16;
    at FP8/FP4, 0.40 x the published speed-up over BF16 x BF16 peak / peak(precision) (H100 FP8: 0.40 x 1.34 / 2 =
    26.8%), so a default FP8 plan runs 1.34x faster than a BF16 one, not twice as fast."""
    precision = check_precision(precision)
    if precision == "bf16" or hw is None:
        return DEFAULT_MFU
    return DEFAULT_MFU * precision_speedup(precision, hw) * hw.peak_flops / hw.peak(precision)


def implied_speedup(mfu: float, precision: str, hw: Hardware) -> float:
    """Throughput at `mfu` of the `precision` peak over a BF16 run at the default BF16 MFU (0.40)."""
    return float(mfu) * hw.peak(precision) / (DEFAULT_MFU * hw.peak_flops)


def precision_warnings(mfu: float, precision: str, hw: Hardware, *, moe: bool = False) -> list[str]:
    """An MFU at FP8/FP4 that implies more throughput than the best published at that precision (dense), or, for a
    mixture of experts at FP8, more than published MoE FP8 runs reached (17.3%: DeepSeek-V3)."""
    precision = check_precision(precision)
    if precision == "bf16":
        return []
    data = cost_model()["precision_mfu"][precision]
    out = []
    if mfu > data["best_published_mfu"] * (1 + 1e-9):
        out.append(
            f"MFU {mfu:.1%} of the dense {precision.upper()} peak ({implied_speedup(mfu, precision, hw):.2f}x a BF16 "
            f"run at {DEFAULT_MFU:.0%}) is above the best published {precision.upper()} training run: "
            f"{data['best_published_mfu']:.1%}, {data['best_published']}"
        )
    if moe and precision == "fp8" and mfu > data["moe_published_mfu"] * (1 + 1e-9):
        out.append(
            f"MFU {mfu:.1%} of the dense FP8 peak for a mixture of experts: published MoE FP8 runs reached "
            f"{data['moe_published_mfu']:.1%} ({data['moe_published']}); give --mfu 0.173 to plan at that"
        )
    return out


def utilisation_warnings(mfu: float) -> list[str]:
    """Only training MFU is judged: below 10% or above MegaScale's 55.2%."""
    if mfu > HIGHEST_REPORTED_MFU:
        return [
            f"MFU {mfu:.1%} is above the highest reported for large-scale training "
            f"({HIGHEST_REPORTED_MFU:.1%}, MegaScale 2024)"
        ]
    if mfu < LOWEST_SENSIBLE_MFU:
        return [f"MFU {mfu:.1%} is below {LOWEST_SENSIBLE_MFU:.0%}: the plan leaves most of the hardware idle"]
    return []


@dataclass(frozen=True)
class Implied:
    """The utilisation a plan needs: model FLOPs on `gpus` devices in `days` (or a number of device-hours)."""

    flops: float
    hardware: str
    precision: str
    peak_flops: float
    gpu_hours: float
    mfu: float
    hfu: float
    recompute: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else plain(v)) for k, v in self.__dict__.items()}


def implied_utilisation(
    flops: float,
    hw: Hardware,
    *,
    gpus: float | None = None,
    days: float | None = None,
    gpu_hours: float | None = None,
    dollars: float | None = None,
    price: float | None = None,
    precision: str = "bf16",
    recompute: str = "none",
    hardware_ratio: float | None = None,
) -> Implied:
    """MFU = model FLOPs / (devices × time × dense peak at the precision); HFU adds the recomputed work.

    Time is gpus × days, or device-hours directly, or dollars / price.
    """
    precision = check_precision(precision)
    peak = hw.peak(precision)
    ways = [
        w
        for w, ok in (
            ("gpus and days", gpus is not None and days is not None),
            ("gpu_hours", gpu_hours is not None),
            ("dollars", dollars is not None),
        )
        if ok
    ]
    if len(ways) != 1:
        raise ScaleplanError(
            "the implied MFU needs the time one way: gpus with days, device-hours, or dollars (with a price)"
        )
    if dollars is not None:
        if price is None:
            raise ScaleplanError(f"<dollars> needs <price> here: {price_label(hw, None)}")
        gpu_hours = dollars / price
    elif gpu_hours is None:
        assert gpus is not None and days is not None  # the one way left
        gpu_hours = gpus * days * 24.0
    for name, v in (("flops", flops), ("device-hours", gpu_hours)):
        if not (math.isfinite(v) and v > 0):
            raise ScaleplanError(f"{name} must be positive and finite, got {v!r}")
    ratio = recompute_ratio(recompute) if hardware_ratio is None else float(hardware_ratio)
    mfu = float(flops) / (gpu_hours * SECONDS_PER_HOUR * peak)
    if not mfu >= 1e-9:  # the time the user gave is absurdly long: name it, not an MFU they never typed
        given = "<days>" if days is not None else ("<dollars>" if dollars is not None else "<gpu_hours>")
        raise ScaleplanError(
            f"{given}: {fmt_sci(gpu_hours)} device-hours for {fmt_sci(flops)} FLOPs would use under 1e-9 of the "
            "peak (the implied MFU); check the units"
        )
    return Implied(
        float(flops),
        hw.key,
        precision,
        peak,
        float(gpu_hours),
        mfu,
        mfu * ratio,
        str(recompute).strip().lower(),
        tuple(utilisation_warnings(mfu)),
    )


def _num(v):
    if v is None:
        return None
    arr = np.asarray(v, float)
    return float(arr) if arr.ndim == 0 else arr


def _facility_energy(kwh, hw: Hardware, energy: Energy | None):
    """(facility kWh, energy dollars, the assumptions, a note): the board's kWh × server multiple × average draw ×
    PUE (see Energy); without the board's power, Nones and the note saying why."""
    if not hw.power_w:
        return None, None, None, f"board power of {hw.key}: {hw.why_missing('power_w')}"
    assumptions = (energy or Energy()).resolved(hw)
    kwh_fac = kwh * assumptions["server_power_x"] * assumptions["tdp_fraction"] * assumptions["pue"]
    return kwh_fac, kwh_fac * assumptions["dollars_per_kwh"], assumptions, None


def _owned_cost(owned: Owned | None, gpus, hours, energy_dollars):
    """(dollars, assumptions) of owning the cluster for the run (amortised value, plus energy when priced)."""
    if owned is None:
        return None, None
    owned_info = owned.cluster_value(float(gpus))
    run_hours = hours / gpus
    owned_dollars = owned_info["value_at_start"] * run_hours / 8760.0 * owned_info["amortisation_per_year"]
    if energy_dollars is not None:
        owned_dollars = owned_dollars + energy_dollars
    return owned_dollars, {**owned_info, "age_years": owned.age_years, "includes_energy": energy_dollars is not None}
