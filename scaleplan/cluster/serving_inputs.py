"""What serving is computed from: the device (from a hardware preset), the workload, the achievable efficiencies
(scaleplan/data/serving.yaml) and the served model; each input checked."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.values import plain
from .hardware import Hardware, get_hardware

MAX_DEGREE = 4096  # GPUs in one serving replica, beyond the node: pipeline stages
MAX_TOKENS_PER_REQUEST = 10_000_000
MAX_BATCH = 1_000_000


@functools.cache
def defaults() -> dict:
    """scaleplan/data/serving.yaml: every default with its source."""
    return _yaml.read(_yaml.DATA / "serving.yaml")


def default(section: str, key: str) -> Any:
    return defaults()[section][key]["value"]


# ---------------------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Efficiency:
    """Achievable fractions and engine settings (defaults: scaleplan/data/serving.yaml, with sources)."""

    bandwidth_fraction: float
    prefill_mfu: float
    compute_fraction: float
    memory_fraction: float
    batch_cap: int
    allreduce_latency: float | None  # seconds per all-reduce; None: NCCL's LL model at the degree (nccl_latency)
    allreduces_per_layer: int
    link_bytes_per_s: float | None  # per direction; None: the device's
    activation_bytes: float

    def to_dict(self) -> dict:
        return {k: (plain(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def efficiency(
    *,
    bandwidth_fraction=None,
    prefill_mfu=None,
    compute_fraction=None,
    memory_fraction=None,
    batch_cap=None,
    allreduce_latency=None,
    link_bytes_per_s=None,
) -> Efficiency:
    """The serving defaults, with any given figure in place of its default (each checked)."""

    def frac(name, value, key):
        if value is None:
            return float(default("efficiency", key))
        v = number(name, value)
        if not 0 < v <= 1:
            raise ScaleplanError(f"<{name}> must be in (0, 1], got {value!r}")
        return v

    cap = default("efficiency", "batch_cap") if batch_cap is None else whole("batch_cap", batch_cap, 1, MAX_BATCH)
    lat = None
    if allreduce_latency is not None:
        lat = number("allreduce_latency", allreduce_latency)
        if not 0 <= lat <= 1:
            raise ScaleplanError(f"<allreduce_latency> must be from 0 to 1 second, got {allreduce_latency!r}")
    link = None
    if link_bytes_per_s is not None:
        link = number("link_bytes_per_s", link_bytes_per_s)
        if not 0 < link <= 1e15:
            raise ScaleplanError(f"<link_bytes_per_s> must be positive (bytes per second), got {link_bytes_per_s!r}")
    return Efficiency(
        frac("bandwidth_fraction", bandwidth_fraction, "bandwidth_fraction"),
        frac("prefill_mfu", prefill_mfu, "prefill_mfu"),
        frac("compute_fraction", compute_fraction, "compute_fraction"),
        frac("memory_fraction", memory_fraction, "memory_fraction"),
        int(cap),
        lat,
        int(default("efficiency", "allreduces_per_layer")),
        link,
        float(default("efficiency", "activation_bytes")),
    )


def _memory_bytes(hw: Hardware) -> float | None:
    """Device memory in bytes through the Hardware object's own accessor (whichever the presets provide)."""
    value = getattr(hw, "memory_bytes", None)
    if callable(value):
        value = value()
    if value is not None:
        return float(value)
    return None if hw.memory_gb is None else float(hw.memory_gb) * 1e9


@dataclass(frozen=True)
class Device:
    """The serving chip: HBM bandwidth (B/s) and capacity (bytes), dense peaks by compute format, link per direction
    (B/s), price per GPU-hour, and the largest tensor-parallel group (its scale-up domain)."""

    key: str
    bandwidth: float
    memory: float
    peaks: tuple[tuple[str, float], ...]
    link: float | None = None
    price: float | None = None
    price_source: str | None = None
    max_tp: int = 8

    def peak(self, precision: str) -> float:
        found = dict(self.peaks).get(precision)
        if found is None:
            have = ", ".join(p for p, _ in self.peaks)
            raise ScaleplanError(
                f"{self.key} has no dense {precision.upper()} path (it has {have}); choose another <serve_precision>"
            )
        return float(found)

    def has(self, precision: str) -> bool:
        return precision in dict(self.peaks)

    def to_dict(self) -> dict:
        return {
            "hardware": self.key,
            "bandwidth": self.bandwidth,
            "memory": self.memory,
            "peaks": dict(self.peaks),
            "link": self.link,
            "price": self.price,
            "price_source": self.price_source,
        }


def device(
    hardware: str | Hardware | Device | None = None,
    *,
    price=None,
    bandwidth=None,
    memory=None,
    peak_flops=None,
    hardware_file=None,
) -> Device:
    """A Device from a preset (or a Hardware), with any figure overridden: `bandwidth` in B/s, `memory` in bytes,
    `peak_flops` (every format), `price` per GPU-hour."""
    if isinstance(hardware, Device):
        dev = hardware
    else:
        hw = get_hardware(hardware, hardware_file=hardware_file)
        mem = _memory_bytes(hw)
        if hw.hbm_tb_s is None or mem is None:
            raise ScaleplanError(
                f"{hw.key} has no published HBM bandwidth or memory ({hw.why_missing('hbm_tb_s')}); serving needs "
                "both: choose another <hardware>"
            )
        peaks = [("bf16", float(hw.peak_flops))]
        eight = hw.fp8_flops or hw.int8_flops  # FP8, or INT8 where the chip has no FP8 path (A100)
        if eight:
            peaks.append(("fp8", float(eight)))
        if hw.fp4_flops:
            peaks.append(("fp4", float(hw.fp4_flops)))
        link_share = float(default("efficiency", "link_fraction_of_scaleup"))
        dev = Device(
            hw.key,
            float(hw.hbm_tb_s) * 1e12,
            mem,
            tuple(peaks),
            None if not hw.scaleup_gb_s else float(hw.scaleup_gb_s) * 1e9 * link_share,
            hw.price_per_hour,
            hw.price_source,
            int(hw.scaleup_devices or 8),
        )
    if price is not None:
        p = number("price", price)
        if not 0 < p <= 1e6:
            raise ScaleplanError(f"<price> must be positive dollars per GPU-hour, got {price!r}")
        dev = replace(dev, price=p, price_source="given")
    if bandwidth is not None:
        dev = replace(dev, bandwidth=positive("bandwidth", bandwidth))
    if memory is not None:
        dev = replace(dev, memory=positive("memory", memory))
    if peak_flops is not None:
        p = positive("peak_flops", peak_flops)
        dev = replace(dev, peaks=tuple((name, p) for name, _ in dev.peaks))
    return dev


@dataclass(frozen=True)
class ServedModel:
    """What serving needs of a model: its shape and its stored and active parameters (they differ for MoE)."""

    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    params: float  # stored: weight bytes and memory
    active_params: float  # FLOPs
    d_ff: int | None = None
    vocab: int | None = None
    experts: int | None = None
    top_k: int | None = None

    def __post_init__(self):
        for name in ("layers", "d_model", "heads", "kv_heads", "head_dim"):
            object.__setattr__(self, name, whole(name, getattr(self, name), 1, 10_000_000))
        if self.heads % self.kv_heads:
            raise ScaleplanError(f"<kv_heads> = {self.kv_heads} must divide <heads> = {self.heads}")
        for name in ("params", "active_params"):
            object.__setattr__(self, name, positive(name, getattr(self, name)))
        if self.active_params > self.params * (1 + 1e-9):
            raise ScaleplanError(
                f"<active_params> ({self.active_params:.4g}) cannot exceed the stored parameters ({self.params:.4g})"
            )

    @property
    def attn_dim(self) -> int:
        return self.heads * self.head_dim

    def kv_bytes_per_token(self, kv_bits: float = 16) -> float:
        """2 · L · n_kv · d_h · b_kv bytes per token per sequence (serving.md §1.3)."""
        return kv_bytes_per_token(self.layers, self.kv_heads, self.head_dim, kv_bits)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_shape(cls, shape, *, active_params=None) -> ServedModel:
        """From a recipe Shape: its own parameter count; multi-head attention where it has no KV heads; MoE from its
        experts and top-k (active parameters from the shape's own count when it has one)."""
        kv = getattr(shape, "kv_heads", None) or shape.heads
        total = float(shape.total_params)
        active = active_params
        if active is None:
            active = getattr(shape, "active_params", None)
            active = active() if callable(active) else active
        experts = getattr(shape, "experts", None)
        top_k = getattr(shape, "top_k", None)
        return cls(
            shape.layers,
            shape.d_model,
            shape.heads,
            int(kv),
            shape.head_dim,
            total,
            float(active) if active is not None else total,
            getattr(shape, "d_ff", None),
            getattr(shape, "vocab", None),
            experts,
            top_k,
        )


def kv_bytes_per_token(layers, kv_heads, head_dim, kv_bits: float = 16):
    """KV-cache bytes per token per sequence: 2 (K and V) · L · n_kv · d_h · bytes per element (vectorised)."""
    return 2.0 * np.asarray(layers, float) * np.asarray(kv_heads, float) * np.asarray(head_dim, float) * kv_bits / 8.0


@dataclass(frozen=True)
class Workload:
    """Request lengths, formats and latency targets."""

    prompt_tokens: int
    output_tokens: int
    weight_bits: int
    kv_bits: int
    precision: str | None  # compute format; None: the weight format where the chip has it, else bf16
    tpot: float | None = None  # seconds per output token (target)
    ttft: float | None = None  # seconds to first token (target)
    latency: str | None = None  # the named target ('server', 'interactive') or None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def latency_targets(latency) -> tuple[float | None, float | None, str | None]:
    """(TPOT s, TTFT s, name) for 'server', 'interactive' (MLPerf's llama2-70b limits) or a TPOT in milliseconds."""
    if latency is None:
        return None, None, None
    if isinstance(latency, str):
        key = latency.strip().lower()
        table = defaults()["latency"]
        if key in table:
            return table[key]["tpot_ms"] / 1e3, table[key]["ttft_ms"] / 1e3, key
        try:
            ms = float(key.removesuffix("ms"))
        except ValueError:
            raise ScaleplanError(
                f"<latency> must be server, interactive or a time per output token in ms, got {latency!r}"
            ) from None
    else:
        ms = number("latency", latency)
    if not (math.isfinite(ms) and 0.01 <= ms <= 1e6):
        raise ScaleplanError(f"<latency> must be a time per output token from 0.01 to 1e6 ms, got {latency!r}")
    return ms / 1e3, None, f"{ms:g} ms"


def workload(
    *,
    prompt_tokens=None,
    output_tokens=None,
    serve_bits=None,
    kv_bits=None,
    precision=None,
    latency=None,
    tpot=None,
    ttft=None,
) -> Workload:
    """Defaults: Sardana et al.'s 70 prompt and 215 output tokens, 16-bit weights, KV at the weight bits."""
    p = default("workload", "prompt_tokens") if prompt_tokens is None else prompt_tokens
    o = default("workload", "output_tokens") if output_tokens is None else output_tokens
    p = whole("prompt_tokens", p, 1, MAX_TOKENS_PER_REQUEST)
    o = whole("output_tokens", o, 1, MAX_TOKENS_PER_REQUEST)
    wb = 16 if serve_bits is None else whole("serve_bits", serve_bits, 2, 16)
    kb = wb if kv_bits is None else whole("kv_bits", kv_bits, 2, 16)
    if precision is not None:
        precision = str(precision).strip().lower()
        if precision not in ("bf16", "fp8", "fp4"):
            raise ScaleplanError(f"<serve_precision> must be bf16, fp8 or fp4, got {precision!r}")
    t_pot, t_tft, name = latency_targets(latency)
    if tpot is not None:
        t_pot = positive("tpot", tpot)
        name = name or f"{t_pot * 1e3:g} ms"
    if ttft is not None:
        t_tft = positive("ttft", ttft)
        name = name or f"TTFT {t_tft:g} s"
    return Workload(p, o, wb, kb, precision, t_pot, t_tft, name)


def compute_format(dev: Device, weight_bits: int, precision: str | None = None) -> str:
    """The compute format: given, else the weight format where the chip has it (FP4 at ≤ 4 bits, FP8 or INT8 at
    ≤ 8), else BF16."""
    if precision is not None:
        dev.peak(precision)  # a clear error where the chip lacks it
        return precision
    if weight_bits <= 4 and dev.has("fp4"):
        return "fp4"
    if weight_bits <= 8 and dev.has("fp8"):
        return "fp8"
    return "bf16"


# ---------------------------------------------------------------------------------------------------------------
# Checks


def number(name: str, value) -> float:
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float, np.number)):
        hint = " (parse text with scaleplan.schema.units.parse_quantity)" if isinstance(value, str) else ""
        raise ScaleplanError(f"<{name}> must be a number, got {value!r}{hint}")
    v = float(value)
    if not math.isfinite(v):
        raise ScaleplanError(f"<{name}> must be finite, got {value!r}")
    return v


def positive(name: str, value) -> float:
    v = number(name, value)
    if not v > 0:
        raise ScaleplanError(f"<{name}> must be positive, got {value!r}")
    return v


def whole(name: str, value, lo: int, hi: int) -> int:
    v = number(name, value)
    if v != math.floor(v) or not lo <= v <= hi:
        raise ScaleplanError(f"<{name}> must be a whole number from {lo:,} to {hi:,}, got {value!r}")
    return int(v)
