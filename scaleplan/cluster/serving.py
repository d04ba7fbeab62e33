"""Serving as it really runs: a batched roofline for decoder-only inference, and the dollars per token it implies.

Conventions and sources: ../shared/reference/serving.md (§1; formulas from the JAX scaling book, kipply's
"Transformer Inference Arithmetic", llm-analysis, the vLLM paper; defaults in scaleplan/data/serving.yaml).

Per replica of t GPUs (tensor-parallel degree t), weights at b_w bytes, KV cache at b_kv bytes:

* KV bytes per token per sequence: kv_tok = 2 · L · n_kv · d_h · b_kv (KV heads sharded by TP, at least one per
  GPU: llm-analysis);
* the largest batch that fits: B_max = ⌊(u · M · t − N_stored · b_w) / ((P + O) · kv_tok)⌋, capped by the engine;
* decode step at batch B, mean context S̄ = P + O/2 (the JAX book's general form):
  T_step = B·S̄·kv_tok / (t·η_bw·BW)  +  max(N_stored·b_w / (t·η_bw·BW),  B·(2·N_active + 4·L·d_attn·S̄) / (t·η_f·peak))
           + n_ar · L · (α + 2(t−1)/t · B·d·b_a / link)      (t > 1);
* prefill per request, compute-bound: T_pre = (2·N_active·P + 2·L·d_attn·P²) / (t · MFU_p · peak);
* each request costs its replica T_pre + O·T_step/B seconds, so output tokens/s per GPU = O / (t·(T_pre + O·T_step/B));
  with prefill interleaved the time per output token stretches to T_step + B·T_pre/O (§1.9);
* a latency target (time per output token, time to first token) caps B; the batch run is the largest allowed;
* $ per million tokens = price · 1e6 / (3600 · tokens/s per GPU).

MoE: FLOPs from active parameters, weight bytes from stored (at decode batches of ~16 and more every expert is read:
Erdil 2025's notebook). Without a given degree, t is the power of two up to 8 (the chip's scale-up domain) whose
cost per token is lowest among those that fit; a model that fits on none is served across more GPUs (pipeline stages
beyond the node, priced as if perfectly overlapped), and says so.

Everything is vectorised over candidate models (arrays of shapes), for the cost objective that sizes with it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.values import Rendered, plain
from .cost import Hardware, get_hardware

TP_DEGREES = (1, 2, 4, 8)
MAX_DEGREE = 4096  # GPUs in one serving replica, beyond the node: pipeline stages
BOUNDS = ("compute", "bandwidth", "memory", "latency", "communication")
COMM_BOUND_SHARE = 0.3  # serving.md §6.2 step 9
MAX_TOKENS_PER_REQUEST = 10_000_000
MAX_BATCH = 1_000_000


@functools.cache
def defaults() -> dict:
    """scaleplan/data/serving.yaml: every default with its source."""
    return _yaml.read(_yaml.DATA / "serving.yaml")


def _default(section: str, key: str) -> Any:
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
            return float(_default("efficiency", key))
        v = _number(name, value)
        if not 0 < v <= 1:
            raise ScaleplanError(f"<{name}> must be in (0, 1], got {value!r}")
        return v

    cap = _default("efficiency", "batch_cap") if batch_cap is None else _whole("batch_cap", batch_cap, 1, MAX_BATCH)
    lat = None
    if allreduce_latency is not None:
        lat = _number("allreduce_latency", allreduce_latency)
        if not 0 <= lat <= 1:
            raise ScaleplanError(f"<allreduce_latency> must be from 0 to 1 second, got {allreduce_latency!r}")
    link = None
    if link_bytes_per_s is not None:
        link = _number("link_bytes_per_s", link_bytes_per_s)
        if not 0 < link <= 1e15:
            raise ScaleplanError(f"<link_bytes_per_s> must be positive (bytes per second), got {link_bytes_per_s!r}")
    return Efficiency(
        frac("bandwidth_fraction", bandwidth_fraction, "bandwidth_fraction"),
        frac("prefill_mfu", prefill_mfu, "prefill_mfu"),
        frac("compute_fraction", compute_fraction, "compute_fraction"),
        frac("memory_fraction", memory_fraction, "memory_fraction"),
        int(cap),
        lat,
        int(_default("efficiency", "allreduces_per_layer")),
        link,
        float(_default("efficiency", "activation_bytes")),
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
        link_share = float(_default("efficiency", "link_fraction_of_scaleup"))
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
        p = _number("price", price)
        if not 0 < p <= 1e6:
            raise ScaleplanError(f"<price> must be positive dollars per GPU-hour, got {price!r}")
        dev = replace(dev, price=p, price_source="given")
    if bandwidth is not None:
        dev = replace(dev, bandwidth=_positive("bandwidth", bandwidth))
    if memory is not None:
        dev = replace(dev, memory=_positive("memory", memory))
    if peak_flops is not None:
        p = _positive("peak_flops", peak_flops)
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
            object.__setattr__(self, name, _whole(name, getattr(self, name), 1, 10_000_000))
        if self.heads % self.kv_heads:
            raise ScaleplanError(f"<kv_heads> = {self.kv_heads} must divide <heads> = {self.heads}")
        for name in ("params", "active_params"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
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
        ms = _number("latency", latency)
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
    p = _default("workload", "prompt_tokens") if prompt_tokens is None else prompt_tokens
    o = _default("workload", "output_tokens") if output_tokens is None else output_tokens
    p = _whole("prompt_tokens", p, 1, MAX_TOKENS_PER_REQUEST)
    o = _whole("output_tokens", o, 1, MAX_TOKENS_PER_REQUEST)
    wb = 16 if serve_bits is None else _whole("serve_bits", serve_bits, 2, 16)
    kb = wb if kv_bits is None else _whole("kv_bits", kv_bits, 2, 16)
    if precision is not None:
        precision = str(precision).strip().lower()
        if precision not in ("bf16", "fp8", "fp4"):
            raise ScaleplanError(f"<serve_precision> must be bf16, fp8 or fp4, got {precision!r}")
    t_pot, t_tft, name = latency_targets(latency)
    if tpot is not None:
        t_pot = _positive("tpot", tpot)
        name = name or f"{t_pot * 1e3:g} ms"
    if ttft is not None:
        t_tft = _positive("ttft", ttft)
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
# The roofline (raw quantities; vectorised)


def decode_step_time(batch, weight_bytes, kv_bytes_per_sequence, flops_per_token, bandwidth, peak, comm=0.0):
    """The JAX book's general decode step: KV read + max(weight read, matmul compute) + communication.

    `bandwidth` and `peak` are the replica's achievable totals (B/s, FLOP/s); `kv_bytes_per_sequence` is the KV
    cache one sequence reads per step (its context × KV bytes per token)."""
    b = np.asarray(batch, float)
    kv = b * np.asarray(kv_bytes_per_sequence, float) / bandwidth
    weights = np.asarray(weight_bytes, float) / bandwidth
    compute = b * np.asarray(flops_per_token, float) / peak
    return kv + np.maximum(weights, compute) + comm


def critical_batch(peak: float, bandwidth: float, weight_bits: float = 16) -> float:
    """The batch above which the weight matmuls are compute-bound: peak · b_w / (2 · BW) (serving.md §1.4)."""
    return peak * (weight_bits / 8.0) / (2.0 * bandwidth)


def nccl_latency(ranks: int) -> float:
    """Seconds per small all-reduce across `ranks` GPUs in one node: NCCL's low-latency protocol as Erdil's
    inference-economics notebook models it, 6.8 µs + 2 (n − 1) · 0.6 µs (8.0 µs at 2 GPUs: kipply's and
    llm-analysis's 8 µs)."""
    a = defaults()["efficiency"]["allreduce_latency_s"]
    return float(a["base"] + 2.0 * (ranks - 1) * a["per_rank"])


def dollars_per_million(tokens_per_s_per_gpu, price_per_hour: float):
    """$ per million tokens from a throughput per GPU and a price per GPU-hour."""
    return price_per_hour * 1e6 / (3600.0 * np.asarray(tokens_per_s_per_gpu, float))


def _evaluate(arch: dict, dev: Device, wl: Workload, eff: Efficiency, t: int, precision: str, batch=None) -> dict:
    """Every output at tensor-parallel degree t, as arrays over candidate models (`arch`: arrays of layers, d_model,
    heads, kv_heads, head_dim, params, active_params)."""
    L = arch["layers"]
    p_len, o_len = float(wl.prompt_tokens), float(wl.output_tokens)
    peak = dev.peak(precision)
    d_attn = arch["heads"] * arch["head_dim"]
    kv_heads_group = np.maximum(arch["kv_heads"], float(t))  # KV heads sharded, at least one per GPU (llm-analysis)
    kv_tok = kv_bytes_per_token(L, kv_heads_group, arch["head_dim"], wl.kv_bits)
    kv_tok_model = kv_bytes_per_token(L, arch["kv_heads"], arch["head_dim"], wl.kv_bits)
    weight_bytes = arch["params"] * wl.weight_bits / 8.0
    free = eff.memory_fraction * dev.memory * t - weight_bytes
    with np.errstate(divide="ignore", invalid="ignore"):
        b_max = np.floor(np.maximum(free, 0.0) / ((p_len + o_len) * kv_tok))
    s_bar = p_len + o_len / 2.0
    bw = t * eff.bandwidth_fraction * dev.bandwidth
    flops_tok = 2.0 * arch["active_params"] + 4.0 * L * d_attn * s_bar
    comp_rate = flops_tok / (t * eff.compute_fraction * peak)  # seconds per sequence in the batch
    kv_rate = s_bar * kv_tok / bw
    t_w = weight_bytes / bw
    if t > 1:
        tp = min(t, dev.max_tp)
        link = eff.link_bytes_per_s or dev.link or 0.0
        alpha = nccl_latency(tp) if eff.allreduce_latency is None else eff.allreduce_latency
        c0 = eff.allreduces_per_layer * L * alpha
        c1 = (
            eff.allreduces_per_layer * L * 2.0 * (tp - 1) / tp * arch["d_model"] * eff.activation_bytes / link
            if link
            else np.zeros_like(L)
        )
    else:
        c0, c1 = np.zeros_like(L), np.zeros_like(L)
    t_pre = (2.0 * arch["active_params"] * p_len + 2.0 * L * d_attn * p_len * p_len) / (t * eff.prefill_mfu * peak)
    stretch = t_pre / o_len  # time per output token added per sequence by interleaved prefill
    cap = np.minimum(b_max, float(eff.batch_cap))
    b_lat = np.full(L.shape, np.inf)
    if wl.tpot is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            weight_piece = (wl.tpot - c0 - t_w) / (kv_rate + c1 + stretch)
            compute_piece = (wl.tpot - c0) / (kv_rate + comp_rate + c1 + stretch)
        b_lat = np.floor(np.minimum(weight_piece, compute_piece))
    if batch is not None:
        b = np.full(L.shape, float(batch))
        fits = (b <= b_max) & (b >= 1)
    else:
        b = np.minimum(cap, b_lat)
        fits = b >= 1
    if wl.ttft is not None:
        fits &= t_pre <= wl.ttft
    b = np.maximum(b, 1.0)
    t_kv = b * kv_rate
    t_comp = b * comp_rate
    t_comm = c0 + c1 * b
    step = t_kv + np.maximum(t_w, t_comp) + t_comm
    per_request = t_pre + o_len * step / b
    out_rate = o_len / (t * per_request)
    total_rate = out_rate * (p_len + o_len) / o_len
    latency_set = np.isfinite(b_lat) & (b_lat <= cap) & (batch is None)
    bound = np.where(
        latency_set,
        "latency",
        np.where(
            t_comm > COMM_BOUND_SHARE * step,
            "communication",
            # past the critical batch the weight matmuls are compute-bound: throughput no longer grows with batch
            np.where(t_comp >= t_w, "compute", np.where(b >= b_max, "memory", "bandwidth")),
        ),
    )
    return {
        "tp": np.full(L.shape, t),
        "fits": fits,
        "batch": b,
        "max_batch": b_max,
        "bound": bound,
        "kv_bytes_per_token": kv_tok_model,
        "weight_bytes": weight_bytes,
        "decode_step_s": step,
        "kv_read_s": t_kv,
        "weight_read_s": t_w + 0.0 * b,
        "compute_s": t_comp,
        "communication_s": t_comm + 0.0 * b,
        "prefill_s": t_pre + 0.0 * b,
        "time_to_first_token_s": t_pre + 0.0 * b,
        "time_per_output_token_s": step + b * stretch,
        "output_tokens_per_s_per_gpu": out_rate,
        "tokens_per_s_per_gpu": total_rate,
        "decode_mfu": b * 2.0 * arch["active_params"] / (step * t * peak),
        "bandwidth_utilisation": (weight_bytes + b * s_bar * kv_tok) / (step * t * dev.bandwidth),
    }


def _arch(models) -> dict:
    keys = ("layers", "d_model", "heads", "kv_heads", "head_dim", "params", "active_params")
    if isinstance(models, ServedModel):
        models = [models]
    if isinstance(models, dict):
        arrays = {k: np.atleast_1d(np.asarray(models[k], float)) for k in keys}
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
        return {k: np.broadcast_to(a, shape).astype(float) for k, a in arrays.items()}
    return {k: np.array([float(getattr(m, k)) for m in models]) for k in keys}


def roofline(models, dev: Device, wl: Workload, eff: Efficiency, tp=None, batch=None) -> dict:
    """Every output as arrays over `models` (ServedModels, or a dict of arrays), at the given degree `tp` or at the
    cheapest fitting power of two up to the chip's scale-up domain (8), else the smallest larger one that fits."""
    arch = _arch(models)
    precision = compute_format(dev, wl.weight_bits, wl.precision)
    if tp is not None:
        out = _evaluate(arch, dev, wl, eff, int(tp), precision, batch)
        out["precision"] = precision
        return out
    best: dict = {}
    best_score = np.zeros(0)
    degrees = [t for t in TP_DEGREES if t <= max(1, dev.max_tp)]
    t = degrees[-1]
    while True:
        for t in degrees:
            out = _evaluate(arch, dev, wl, eff, t, precision, batch)
            score = np.where(out["fits"], out["tokens_per_s_per_gpu"], -np.inf)
            if not best:
                best, best_score = out, score
                continue
            better = score > best_score * (1 + 1e-12)
            best = {k: np.where(better, out[k], best[k]) for k in best}
            best_score = np.where(better, score, best_score)
        if np.all(best["fits"]) or t >= MAX_DEGREE:
            break
        degrees = [2 * t]  # nothing fits in the node: more GPUs per replica (pipeline stages)
    best["precision"] = precision
    return best


# ---------------------------------------------------------------------------------------------------------------
# One model: the result


@dataclass(frozen=True, repr=False)
class Serving(Rendered):
    """How one model serves on one chip: the batch it runs at and what sets it, times, throughput and cost."""

    hardware: str
    precision: str
    weight_bits: int
    kv_bits: int
    prompt_tokens: int
    output_tokens: int
    tp: int
    fits: bool
    batch: int
    max_batch: int
    bound: str
    kv_bytes_per_token: float
    weight_bytes: float
    decode_step_s: float
    kv_read_s: float
    weight_read_s: float
    compute_s: float
    communication_s: float
    prefill_s: float
    time_to_first_token_s: float
    time_per_output_token_s: float
    output_tokens_per_s_per_gpu: float
    tokens_per_s_per_gpu: float
    decode_mfu: float
    bandwidth_utilisation: float
    price: float | None
    price_source: str | None
    dollars_per_million: float | None
    dollars_per_million_output: float | None
    latency: str | None
    efficiency: Efficiency
    gpus_for_demand: int | None = None
    demand_tokens_per_s: float | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        d = {}
        for k, v in self.__dict__.items():
            if k == "efficiency":
                d[k] = v.to_dict()
            elif k == "notes":
                d[k] = list(v)
            else:
                d[k] = plain(v) if isinstance(v, float) else v
        return d

    def gpus_for(self, tokens_per_s: float) -> int:
        """GPUs to serve a demand of `tokens_per_s` (prompt + output) at this batch, in whole replicas."""
        rate = _positive("demand", tokens_per_s)
        return gpus_for(rate, self.tokens_per_s_per_gpu, self.tp)


def gpus_for(tokens_per_s, tokens_per_s_per_gpu, tp):
    """Whole replicas of `tp` GPUs for a demand (vectorised over demands)."""
    need = np.asarray(tokens_per_s, float) / (np.asarray(tokens_per_s_per_gpu, float) * tp)
    replicas = np.ceil(need * (1 - 1e-12))
    out = replicas * tp
    return int(out) if np.ndim(out) == 0 else out.astype(int)


def serve(
    model: ServedModel,
    hardware: str | Hardware | Device | None = None,
    *,
    price=None,
    prompt_tokens=None,
    output_tokens=None,
    serve_bits=None,
    kv_bits=None,
    precision=None,
    latency=None,
    tpot=None,
    ttft=None,
    tp=None,
    batch=None,
    demand=None,
    bandwidth_fraction=None,
    prefill_mfu=None,
    compute_fraction=None,
    memory_fraction=None,
    batch_cap=None,
    allreduce_latency=None,
    link_bytes_per_s=None,
    hardware_file=None,
) -> Serving:
    """Serve `model` on `hardware` (a preset, default the training default chip): the batch, what bounds it, the
    step and prefill times, tokens/s per GPU and $ per million tokens (prompt + output) and per million output.

    >>> m = ServedModel(layers=40, d_model=5120, heads=40, kv_heads=40, head_dim=128, params=13e9, active_params=13e9)
    >>> int(m.kv_bytes_per_token(16))  # the vLLM paper's 800 KB for OPT-13B
    819200
    """
    if not isinstance(model, ServedModel):
        raise ScaleplanError(f"<model> must be a ServedModel (or use ServedModel.from_shape), got {model!r}")
    dev = (
        hardware
        if isinstance(hardware, Device) and price is None
        else device(hardware, price=price, hardware_file=hardware_file)
    )
    wl = workload(
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        serve_bits=serve_bits,
        kv_bits=kv_bits,
        precision=precision,
        latency=latency,
        tpot=tpot,
        ttft=ttft,
    )
    eff = efficiency(
        bandwidth_fraction=bandwidth_fraction,
        prefill_mfu=prefill_mfu,
        compute_fraction=compute_fraction,
        memory_fraction=memory_fraction,
        batch_cap=batch_cap,
        allreduce_latency=allreduce_latency,
        link_bytes_per_s=link_bytes_per_s,
    )
    if tp is not None:
        tp = _whole("serve_tp", tp, 1, MAX_DEGREE)
        if tp & (tp - 1):
            raise ScaleplanError(f"<serve_tp> must be a power of two, got {tp}")
    if batch is not None:
        batch = _whole("batch", batch, 1, MAX_BATCH)
    return _result(roofline(model, dev, wl, eff, tp, batch), 0, dev, wl, eff, demand)


def _result(out: dict, i: int, dev: Device, wl: Workload, eff: Efficiency, demand=None) -> Serving:
    def f(k):
        return float(np.asarray(out[k])[i])

    fits = bool(np.asarray(out["fits"])[i])
    tp = int(f("tp"))
    notes = []
    if not fits:
        if wl.ttft is not None and f("prefill_s") > wl.ttft:
            notes.append(
                f"prefill takes {f('prefill_s') * 1e3:.0f} ms, above the {wl.ttft * 1e3:.0f} ms time-to-first-token "
                f"target at {tp} GPU(s)"
            )
        elif wl.tpot is not None and f("max_batch") >= 1:
            notes.append(f"no batch meets the {wl.tpot * 1e3:g} ms per output token target at {tp} GPU(s)")
        else:
            notes.append(f"the weights and one sequence's KV cache do not fit in {tp} GPU(s)")
    elif tp > dev.max_tp:
        notes.append(
            f"the model needs {tp} GPUs per replica, beyond one {dev.max_tp}-GPU node: priced as pipeline stages "
            "across nodes, assumed perfectly overlapped"
        )
    price = dev.price
    per_m = per_m_out = None
    rate, out_rate = f("tokens_per_s_per_gpu"), f("output_tokens_per_s_per_gpu")
    if price is not None and fits:
        per_m = float(dollars_per_million(rate, price))
        per_m_out = float(dollars_per_million(out_rate, price))
    gpus = None
    if demand is not None and fits:
        gpus = gpus_for(_positive("demand", demand), rate, tp)
    nan = math.nan
    timed = (
        "decode_step_s", "kv_read_s", "weight_read_s", "compute_s", "communication_s", "prefill_s",
        "time_to_first_token_s", "time_per_output_token_s", "output_tokens_per_s_per_gpu", "tokens_per_s_per_gpu",
        "decode_mfu", "bandwidth_utilisation",
    )  # fmt: skip
    return Serving(
        hardware=dev.key,
        precision=str(out["precision"]),
        weight_bits=wl.weight_bits,
        kv_bits=wl.kv_bits,
        prompt_tokens=wl.prompt_tokens,
        output_tokens=wl.output_tokens,
        tp=tp,
        fits=fits,
        batch=int(f("batch")) if fits else 0,
        max_batch=int(min(f("max_batch"), 1e12)),
        bound=str(np.asarray(out["bound"])[i]) if fits else "memory" if f("max_batch") < 1 else "latency",
        kv_bytes_per_token=f("kv_bytes_per_token"),
        weight_bytes=f("weight_bytes"),
        price=price,
        price_source=dev.price_source,
        dollars_per_million=per_m,
        dollars_per_million_output=per_m_out,
        latency=wl.latency,
        efficiency=eff,
        gpus_for_demand=gpus,
        demand_tokens_per_s=None if demand is None else float(demand),
        notes=tuple(notes),
        **{k: (f(k) if fits else nan) for k in timed},
    )


def batch_sweep(
    model: ServedModel,
    dev: Device,
    wl: Workload,
    eff: Efficiency,
    tp: int,
    batches=None,
) -> dict:
    """Throughput and $/M against batch at one degree (for the plot): batches 1 .. the largest that fits."""
    arch = _arch(model)
    precision = compute_format(dev, wl.weight_bits, wl.precision)
    top = _evaluate(arch, dev, wl, eff, tp, precision)
    b_max = float(min(top["max_batch"][0], eff.batch_cap))
    if batches is None:
        batches = np.unique(np.round(np.geomspace(1, max(b_max, 1), 48)))
    keys = ("batch", "tokens_per_s_per_gpu", "dollars_per_million", "time_per_output_token_s")
    rows: dict[str, list] = {k: [] for k in keys}
    for b in batches:
        out = _evaluate(arch, dev, wl, eff, tp, precision, batch=float(b))
        if not out["fits"][0]:
            continue
        rate = float(out["tokens_per_s_per_gpu"][0])
        rows["batch"].append(int(b))
        rows["tokens_per_s_per_gpu"].append(rate)
        rows["dollars_per_million"].append(None if dev.price is None else float(dollars_per_million(rate, dev.price)))
        rows["time_per_output_token_s"].append(float(out["time_per_output_token_s"][0]))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Checks


def _number(name: str, value) -> float:
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float, np.number)):
        hint = " (parse text with scaleplan.schema.units.parse_quantity)" if isinstance(value, str) else ""
        raise ScaleplanError(f"<{name}> must be a number, got {value!r}{hint}")
    v = float(value)
    if not math.isfinite(v):
        raise ScaleplanError(f"<{name}> must be finite, got {value!r}")
    return v


def _positive(name: str, value) -> float:
    v = _number(name, value)
    if not v > 0:
        raise ScaleplanError(f"<{name}> must be positive, got {value!r}")
    return v


def _whole(name: str, value, lo: int, hi: int) -> int:
    v = _number(name, value)
    if v != math.floor(v) or not lo <= v <= hi:
        raise ScaleplanError(f"<{name}> must be a whole number from {lo:,} to {hi:,}, got {value!r}")
    return int(v)


__all__ = [
    "Device",
    "Efficiency",
    "ServedModel",
    "Serving",
    "Workload",
    "batch_sweep",
    "critical_batch",
    "decode_step_time",
    "device",
    "dollars_per_million",
    "efficiency",
    "kv_bytes_per_token",
    "roofline",
    "serve",
    "workload",
]


# ---------------------------------------------------------------------------------------------------------------
# Models from a size or a shape


def model_for(
    params=None,
    *,
    layers=None,
    d_model=None,
    heads=None,
    kv_heads=None,
    head_dim=None,
    d_ff=None,
    vocab=None,
    context: int = 2048,
) -> ServedModel:
    """A model to serve: the shape the recipe designs for `params` (pins allowed), or an explicit shape (layers,
    d_model, heads, vocab; d_ff 4·d_model and head_dim d_model/heads by default; kv_heads = heads, multi-head
    attention, unless given). Parameters are counted by recipe.Shape."""
    from ..recipe import design as recipe

    given = {"layers": layers, "d_model": d_model, "heads": heads, "vocab": vocab}
    explicit = params is None
    if explicit and any(v is None for v in given.values()):
        missing = ", ".join(f"<{k}>" for k, v in given.items() if v is None)
        raise ScaleplanError(f"give <params> (a size the recipe designs) or a whole shape: missing {missing}")
    kv = None if kv_heads is None else _whole("kv_heads", kv_heads, 1, 1_000_000)
    if explicit:
        assert layers is not None and d_model is not None and heads is not None and vocab is not None
        h = _whole("heads", heads, 1, 1_000_000)
        d = _whole("d_model", d_model, 1, 1_000_000)
        if head_dim is None:
            if d % h:
                raise ScaleplanError(f"<heads> {h} must divide <d_model> {d} (or give <head_dim>)")
            head_dim = d // h
        fields = dict(
            layers=layers,
            d_model=d,
            heads=h,
            head_dim=head_dim,
            d_ff=4 * d if d_ff is None else d_ff,
            context=context,
            vocab=vocab,
            arch="gpt",  # a 4·d_model MLP of two matrices, as the docstring says
        )
        shape = _shape_with_kv(recipe, fields, kv)
    else:
        n = _positive("params", params)
        shape = recipe.design_shape(
            n, vocab=vocab, context=context, layers=layers, d_model=d_model, heads=heads, head_dim=head_dim, d_ff=d_ff
        )
        if kv is not None:
            shape = _shape_with_kv(recipe, {k: getattr(shape, k) for k in _SHAPE_FIELDS}, kv)
    return ServedModel.from_shape(shape)


_SHAPE_FIELDS = (
    "layers",
    "d_model",
    "heads",
    "head_dim",
    "d_ff",
    "context",
    "vocab",
    "tied_embeddings",
    "kv_heads",
    "arch",
)


def _shape_with_kv(recipe, fields: dict, kv):
    """A recipe.Shape with `kv` KV heads where Shape counts them; else multi-head attention (kv must equal heads)."""
    takes_kv = "kv_heads" in getattr(recipe.Shape, "__dataclass_fields__", {})
    if kv is not None and kv != fields["heads"]:
        if not takes_kv:
            raise ScaleplanError(
                "<kv_heads> other than <heads> needs grouped-query shapes, which this version of the recipe does not "
                "count yet"
            )
        fields = {**fields, "kv_heads": kv}
    return recipe.Shape(**fields)
