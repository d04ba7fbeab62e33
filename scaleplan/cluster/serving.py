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

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered, plain
from ..schema.conventions import DEFAULT_CONTEXT
from .hardware import Hardware
from .roofline import arch_arrays, critical_batch, decode_step_time, dollars_per_million, evaluate, roofline
from .serving_inputs import (
    MAX_BATCH,
    MAX_DEGREE,
    Device,
    Efficiency,
    ServedModel,
    Workload,
    compute_format,
    device,
    efficiency,
    kv_bytes_per_token,
    positive,
    whole,
    workload,
)

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
        rate = positive("demand", tokens_per_s)
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
        tp = whole("serve_tp", tp, 1, MAX_DEGREE)
        if tp & (tp - 1):
            raise ScaleplanError(f"<serve_tp> must be a power of two, got {tp}")
    if batch is not None:
        batch = whole("batch", batch, 1, MAX_BATCH)
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
        gpus = gpus_for(positive("demand", demand), rate, tp)
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
    arch = arch_arrays(model)
    precision = compute_format(dev, wl.weight_bits, wl.precision)
    top = evaluate(arch, dev, wl, eff, tp, precision)
    b_max = float(min(top["max_batch"][0], eff.batch_cap))
    if batches is None:
        batches = np.unique(np.round(np.geomspace(1, max(b_max, 1), 48)))
    keys = ("batch", "tokens_per_s_per_gpu", "dollars_per_million", "time_per_output_token_s")
    rows: dict[str, list] = {k: [] for k in keys}
    for b in batches:
        out = evaluate(arch, dev, wl, eff, tp, precision, batch=float(b))
        if not out["fits"][0]:
            continue
        rate = float(out["tokens_per_s_per_gpu"][0])
        rows["batch"].append(int(b))
        rows["tokens_per_s_per_gpu"].append(rate)
        rows["dollars_per_million"].append(None if dev.price is None else float(dollars_per_million(rate, dev.price)))
        rows["time_per_output_token_s"].append(float(out["time_per_output_token_s"][0]))
    return rows


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
    context: int = DEFAULT_CONTEXT,
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
    kv = None if kv_heads is None else whole("kv_heads", kv_heads, 1, 1_000_000)
    if explicit:
        assert layers is not None and d_model is not None and heads is not None and vocab is not None
        h = whole("heads", heads, 1, 1_000_000)
        d = whole("d_model", d_model, 1, 1_000_000)
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
        n = positive("params", params)
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
