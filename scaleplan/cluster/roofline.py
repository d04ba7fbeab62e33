"""The batched serving roofline (raw quantities, vectorised over candidate models): decode step, prefill, the
largest batch that fits or meets a latency target, and the cheapest tensor-parallel degree."""

from __future__ import annotations

import numpy as np

from ..schema.conventions import serving_flops
from .serving_inputs import (
    MAX_DEGREE,
    Device,
    Efficiency,
    ServedModel,
    Workload,
    compute_format,
    defaults,
    kv_bytes_per_token,
)

TP_DEGREES = (1, 2, 4, 8)
BOUNDS = ("compute", "bandwidth", "memory", "latency", "communication")
COMM_BOUND_SHARE = 0.3  # serving.md §6.2 step 9


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


def evaluate(arch: dict, dev: Device, wl: Workload, eff: Efficiency, t: int, precision: str, batch=None) -> dict:
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
    flops_tok = serving_flops(arch["active_params"], 1.0) + 4.0 * L * d_attn * s_bar
    comp_rate = flops_tok / (t * eff.compute_fraction * peak)  # seconds per sequence in the batch
    kv_rate = s_bar * kv_tok / bw
    t_w = weight_bytes / bw
    c0, c1 = _communication(arch, dev, eff, t)
    t_pre = (serving_flops(arch["active_params"], p_len) + 2.0 * L * d_attn * p_len * p_len) / (
        t * eff.prefill_mfu * peak
    )
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
    out_rate = o_len / (t * (t_pre + o_len * step / b))  # each request costs its replica T_pre + O·T_step/B
    latency_set = np.isfinite(b_lat) & (b_lat <= cap) & (batch is None)
    return {
        "tp": np.full(L.shape, t),
        "fits": fits,
        "batch": b,
        "max_batch": b_max,
        "bound": _bound(latency_set, t_comm, step, t_comp, t_w, b, b_max),
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
        "tokens_per_s_per_gpu": out_rate * (p_len + o_len) / o_len,
        "decode_mfu": serving_flops(arch["active_params"], b) / (step * t * peak),
        "bandwidth_utilisation": (weight_bytes + b * s_bar * kv_tok) / (step * t * dev.bandwidth),
    }


def _communication(arch: dict, dev: Device, eff: Efficiency, t: int):
    """(c0, c1): the all-reduces' time per decode step is c0 + c1·B (latency, and bytes over the link); 0 at t = 1."""
    L = arch["layers"]
    if t <= 1:
        return np.zeros_like(L), np.zeros_like(L)
    tp = min(t, dev.max_tp)
    link = eff.link_bytes_per_s or dev.link or 0.0
    alpha = nccl_latency(tp) if eff.allreduce_latency is None else eff.allreduce_latency
    c0 = eff.allreduces_per_layer * L * alpha
    c1 = (
        eff.allreduces_per_layer * L * 2.0 * (tp - 1) / tp * arch["d_model"] * eff.activation_bytes / link
        if link
        else np.zeros_like(L)
    )
    return c0, c1


def _bound(latency_set, t_comm, step, t_comp, t_w, b, b_max):
    """What sets the batch: a latency target, communication (over COMM_BOUND_SHARE of the step), compute (past
    the critical batch), memory (the largest batch that fits) or bandwidth."""
    return np.where(
        latency_set,
        "latency",
        np.where(
            t_comm > COMM_BOUND_SHARE * step,
            "communication",
            # past the critical batch the weight matmuls are compute-bound: throughput no longer grows with batch
            np.where(t_comp >= t_w, "compute", np.where(b >= b_max, "memory", "bandwidth")),
        ),
    )


def arch_arrays(models) -> dict:
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
    arch = arch_arrays(models)
    precision = compute_format(dev, wl.weight_bits, wl.precision)
    if tp is not None:
        out = evaluate(arch, dev, wl, eff, int(tp), precision, batch)
        out["precision"] = precision
        return out
    best: dict = {}
    best_score = np.zeros(0)
    degrees = [t for t in TP_DEGREES if t <= max(1, dev.max_tp)]
    t = degrees[-1]
    while True:
        for t in degrees:
            out = evaluate(arch, dev, wl, eff, t, precision, batch)
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
