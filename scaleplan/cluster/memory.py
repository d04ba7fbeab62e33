"""Does a training plan fit in device memory, on how few devices, and in what tensor × pipeline × data layout?

Model states: Rajbhandari et al. 2020 (ZeRO, arXiv 1910.02054) sec. 3.1 and 5: mixed-precision Adam holds 2Ψ bytes
of 16-bit weights, 2Ψ of 16-bit gradients and KΨ = 12Ψ of FP32 master weights, momentum and variance. Per device,
with data-parallel degree N_d: stage 0 16Ψ; stage 1 (optimizer states partitioned) 4Ψ + 12Ψ/N_d; stage 2 (+ gradients)
2Ψ + 14Ψ/N_d; stage 3 (+ weights) 16Ψ/N_d. Tensor (t) and pipeline (p) parallelism first split Ψ over t·p devices.

Activations: Korthikanti et al. 2022 (arXiv 2205.05198) sec. 4 and Table 2, bytes per layer for sequence s,
micro-batch b, width h, heads a: s·b·h·(34 + 5·a·s/h) without parallelism, where 34 = attention 11 + MLP 19 +
layer norms 4 and 5as/h is the attention-score term. Tensor parallelism divides all but 10 of the 34 by t (all of it
with sequence parallelism) and the score term by t; selective recompute drops the score term; full recompute keeps
only the layer input, 2·s·b·h per layer whatever the tensor and sequence parallelism (Table 2's last row; sec. 5 sets
aside the variant that splits the stored input over t, so at TP 8 the full-recompute memory is 8x the split one's).
Under the 1F1B pipeline schedule the first stage holds L layers' worth (p micro-batches × L/p layers, eq. 5),
whatever p is.

Assumptions (stated in every result, used consistently):
- flash attention (default on) never stores the s × s scores: it removes the 5as/h term, as selective recompute does;
- grouped-query attention with g key/value heads stores K and V at g/a of their size: attention is 7 + 4g/a (11 at
  g = a); the MLP is 3 + 4·d_ff/h for GeLU (19 at d_ff = 4h) and 3 + 6·d_ff/h for SwiGLU (gate, up and their product
  are stored: 19 at d_ff = 8h/3); dropout masks (1 byte) are counted as Korthikanti does;
- full recompute also needs one layer's activations as working memory while it recomputes;
- the embedding, the logits and the pipeline's extra stage memory are not counted (under 0.01% for 22B, sec. 4.2.3);
- 10% of each device's memory is reserved (framework, communication buffers, fragmentation), taken from the bytes the
  device reports (Hardware.memory_bytes: an H100 "80 GB" is 81,559 MiB = 85.52e9 B, so 76.97e9 B are usable);
- tensor parallelism stays within one node's scale-up domain and at most 8 (beyond that its all-reduces dominate);
- a mixture of experts holds every expert: expert parameters (total − active unless given) are split over the
  expert-parallel group (by default the whole data-parallel group); activations follow the active shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema.fields import RECOMPUTE
from .hardware import Hardware

WEIGHT_BYTES, GRAD_BYTES, OPTIMIZER_BYTES = 2.0, 2.0, 12.0  # ZeRO sec. 3.1, mixed-precision Adam (K = 12)
RESERVE_FRACTION = 0.10
MAX_TP = 8
MAX_DEVICES = 10_000_000

ASSUMPTIONS = (
    "model states 2 + 2 + 12 bytes per parameter (mixed-precision Adam, ZeRO sec. 3.1), partitioned per ZeRO stage",
    "activations: Korthikanti et al. 2022 Table 2, 16-bit, with dropout masks; 1F1B: the first stage holds L layers",
    "flash attention removes the 5as/h score term; GQA and SwiGLU change the coefficients (see cluster.memory)",
    "embedding and logits activations not counted; 10% of the device's reported memory reserved",
    "tensor parallel within one node's scale-up domain, at most 8, dividing the heads, the KV heads a multiple or "
    "divisor of it; pipeline parallel dividing the layers (unless pinned); data parallel x micro-batch dividing the "
    "global batch (Megatron-LM's checks)",
)


@dataclass(frozen=True)
class ModelSpec:
    """What the memory model needs: parameters held in memory (all experts), and the shape of one token's path."""

    params: float
    layers: int
    d_model: int
    heads: int
    context: int
    d_ff: int | None = None
    kv_heads: int | None = None
    glu: bool = False
    expert_params: float = 0.0

    def __post_init__(self):
        if not (math.isfinite(self.params) and 0 < self.params <= 1e16):
            raise ScaleplanError(f"params must be positive (at most 1e16), got {self.params!r}")
        for name in ("layers", "d_model", "heads", "context"):
            v = getattr(self, name)
            if int(v) != v or not 0 < v <= 10_000_000:
                raise ScaleplanError(f"{name} must be a positive whole number, got {v!r}")
        if self.kv_heads is not None and (self.kv_heads <= 0 or self.heads % self.kv_heads):
            raise ScaleplanError(f"kv_heads {self.kv_heads!r} must divide heads {self.heads}")
        if not 0 <= self.expert_params < self.params:
            raise ScaleplanError(f"expert parameters must be in [0, params), got {self.expert_params!r}")

    @property
    def ffn(self) -> float:
        return float(self.d_ff if self.d_ff is not None else 4 * self.d_model)

    def layer_coefficients(self) -> tuple[float, float]:
        """(bytes per s·b·h that tensor parallelism divides, bytes it leaves whole without sequence parallelism)."""
        g = (self.kv_heads or self.heads) / self.heads
        attention = 7.0 + 4.0 * g
        mlp = 3.0 + (6.0 if self.glu else 4.0) * self.ffn / self.d_model
        total = attention + mlp + 4.0
        return total - 10.0, 10.0

    @property
    def score_term(self) -> float:
        """5·a·s/h (Korthikanti eq. 1): the attention scores, softmax and its dropout per s·b·h."""
        return 5.0 * self.heads * self.context / self.d_model


def model_state_bytes(params, zero: int = 0, dp=1):
    """Per-device bytes of weights, gradients and Adam states for `params` parameters (ZeRO sec. 5).

    >>> [round(model_state_bytes(7.5e9, s, 64) / 1e9, 1) for s in range(4)]
    [120.0, 31.4, 16.6, 1.9]
    """
    if zero not in (0, 1, 2, 3):
        raise ScaleplanError(f"ZeRO stage must be 0, 1, 2 or 3, got {zero!r}")
    psi, nd = np.asarray(params, float), np.asarray(dp, float)
    if zero == 0:
        out = (WEIGHT_BYTES + GRAD_BYTES + OPTIMIZER_BYTES) * psi
    elif zero == 1:
        out = (WEIGHT_BYTES + GRAD_BYTES) * psi + OPTIMIZER_BYTES * psi / nd
    elif zero == 2:
        out = WEIGHT_BYTES * psi + (GRAD_BYTES + OPTIMIZER_BYTES) * psi / nd
    else:
        out = (WEIGHT_BYTES + GRAD_BYTES + OPTIMIZER_BYTES) * psi / nd
    return float(out) if np.ndim(out) == 0 else out


def activation_bytes_per_layer(
    spec: ModelSpec,
    micro_batch=1,
    tp=1,
    *,
    sequence_parallel: bool | None = None,
    recompute: str = "none",
    flash: bool = True,
):
    """Bytes of one layer's stored activations per device (Korthikanti et al. 2022 Table 2, with the assumptions
    above). `sequence_parallel` defaults to on whenever tp > 1 (Megatron's practice)."""
    if recompute not in RECOMPUTE:
        raise ScaleplanError(f"recompute must be one of {', '.join(RECOMPUTE)}, got {recompute!r}")
    t = np.asarray(tp, float)
    sp = (t > 1) if sequence_parallel is None else np.full(t.shape, bool(sequence_parallel))
    sbh = float(spec.context) * np.asarray(micro_batch, float) * spec.d_model
    if recompute == "full":  # Table 2: 2sbh, with or without sequence parallelism (sec. 5)
        return 2.0 * sbh * np.ones_like(t)
    split, whole = spec.layer_coefficients()
    coef = np.where(sp, (split + whole) / t, whole + split / t)
    if recompute == "none" and not flash:
        coef = coef + spec.score_term / t
    return sbh * coef


@dataclass(frozen=True)
class DeviceMemory:
    """Memory per device of one layout: model states + activations against the device's usable memory."""

    tp: int
    pp: int
    dp: int
    ep: int
    zero: int
    micro_batch: int
    recompute: str
    states_bytes: float
    activation_bytes: float
    total_bytes: float
    capacity_bytes: float
    usable_bytes: float
    stage_layers: int = 0  # layers on the fullest pipeline stage (ceil(layers / pp): stages may be uneven)
    layers: int = 0

    @property
    def uneven(self) -> bool:
        """Pipeline stages of unequal depth (e.g. DeepSeek-V3's 61 layers on 16 stages: 13 of 4, 3 of 3)."""
        return bool(self.layers) and self.layers % self.pp != 0

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.dp

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.usable_bytes

    @property
    def shortfall_bytes(self) -> float:
        return max(0.0, self.total_bytes - self.usable_bytes)

    def to_dict(self) -> dict:
        d = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in self.__dict__.items()}
        return {
            **d,
            "reserve_fraction": RESERVE_FRACTION,
            "devices": self.devices,
            "fits": self.fits,
            "shortfall_bytes": self.shortfall_bytes,
        }


def _capacity(hw: Hardware) -> float:
    if hw.memory_bytes is None:
        raise ScaleplanError(f"{hw.key} has no memory figure ({hw.why_missing('memory')}); memory cannot be judged")
    return hw.memory_bytes


def _grid(spec: ModelSpec, tp, pp, dp, ep, zero, micro_batch, recompute, flash, sequence_parallel):
    """Per-device bytes (states, activations) for arrays of tp, pp, dp (broadcast together)."""
    tp, pp, dp = (np.asarray(x, float) for x in (tp, pp, dp))
    ep = np.asarray(default_ep(spec, dp) if ep is None else ep, float)
    stage_share = np.ceil(spec.layers / pp) / spec.layers  # the fullest pipeline stage
    dense = (spec.params - spec.expert_params) * stage_share / tp
    experts = spec.expert_params * stage_share / (tp * ep)
    states = model_state_bytes(dense, zero, dp) + (
        model_state_bytes(experts, zero, np.maximum(dp / ep, 1.0)) if spec.expert_params else 0.0
    )
    per_layer = activation_bytes_per_layer(
        spec, micro_batch, tp, sequence_parallel=sequence_parallel, recompute=recompute, flash=flash
    )
    acts = per_layer * spec.layers
    if recompute == "full":  # one layer rebuilt in full while its backward runs
        acts = acts + activation_bytes_per_layer(
            spec, micro_batch, tp, sequence_parallel=sequence_parallel, recompute="none", flash=flash
        )
    return np.asarray(states, float) * np.ones_like(tp * pp * dp), np.asarray(acts, float) * np.ones_like(tp * pp * dp)


def default_ep(spec: ModelSpec, dp):
    """Expert parallelism when not pinned: the whole data-parallel group for an MoE (every device of a pipeline stage
    holds its own experts), 1 for a dense model (no experts to split)."""
    return dp if spec.expert_params else np.ones_like(np.asarray(dp, float))


def _result(spec, tp, pp, dp, ep, zero, micro_batch, recompute, states, acts, cap) -> DeviceMemory:
    return DeviceMemory(
        int(tp),
        int(pp),
        int(dp),
        int(ep),
        zero,
        int(micro_batch),
        recompute,
        float(states),
        float(acts),
        float(states + acts),
        cap,
        cap * (1 - RESERVE_FRACTION),
        stage_layers=math.ceil(spec.layers / int(pp)),
        layers=spec.layers,
    )


def device_memory(
    spec: ModelSpec,
    hw: Hardware,
    tp: int = 1,
    pp: int = 1,
    dp: int = 1,
    *,
    ep: int | None = None,
    zero: int = 0,
    micro_batch: int = 1,
    recompute: str = "none",
    flash: bool = True,
    sequence_parallel: bool | None = None,
) -> DeviceMemory:
    """Memory per device of one given layout (e.g. a published one)."""
    for name, v in (
        ("tensor parallel", tp),
        ("pipeline parallel", pp),
        ("data parallel", dp),
        ("micro-batch", micro_batch),
    ):
        if int(v) != v or not 0 < v <= MAX_DEVICES:
            raise ScaleplanError(f"{name} must be a positive whole number, got {v!r}")
    if pp > spec.layers:
        raise ScaleplanError(f"pipeline parallel {pp} exceeds the {spec.layers} layers")
    if ep is not None and (int(ep) != ep or ep < 1 or dp % ep):
        raise ScaleplanError(f"expert parallel {ep} must divide data parallel {dp}")
    states, acts = _grid(spec, tp, pp, dp, ep, zero, micro_batch, recompute, flash, sequence_parallel)
    ep_used = int(default_ep(spec, dp)) if ep is None else int(ep)
    return _result(spec, tp, pp, dp, ep_used, zero, micro_batch, recompute, states, acts, _capacity(hw))


def _check_pins(spec: ModelSpec, hw: Hardware, gpus, tp, pp, ep) -> None:
    """Pinned degrees: whole numbers that the model and the device count allow."""
    for name, v in (("tensor parallel", tp), ("pipeline parallel", pp), ("expert parallel", ep)):
        if v is not None and (isinstance(v, bool) or int(v) != v or not 0 < v <= MAX_DEVICES):
            raise ScaleplanError(f"{name} must be a positive whole number, got {v!r}")
    if tp is not None and spec.heads % tp:
        raise ScaleplanError(f"tensor parallel {tp} must divide the {spec.heads} attention heads")
    kv = spec.kv_heads or spec.heads
    if tp is not None and kv % tp and tp % kv:
        raise ScaleplanError(f"tensor parallel {tp} must be a multiple or divisor of the {kv} KV heads")
    if pp is not None and pp > spec.layers:
        raise ScaleplanError(f"pipeline parallel {pp} exceeds the {spec.layers} layers")
    if ep is not None and ep > 1 and not spec.expert_params:
        raise ScaleplanError(f"expert parallel {ep} needs a mixture of experts (give its active parameters)")
    if gpus is not None:
        fixed = (tp or 1) * (pp or 1) * (ep or 1)
        if gpus % fixed:
            raise ScaleplanError(
                f"the pinned degrees (TP {tp or 1} x PP {pp or 1} x EP {ep or 1} = {fixed:,}) must divide "
                f"the {int(gpus):,} GPUs (EP divides the data-parallel degree)"
            )


def tp_choices(spec: ModelSpec, hw: Hardware) -> list[int]:
    """Tensor-parallel degrees Megatron-LM accepts for the shape (transformer_config.py: heads % TP == 0, the query
    groups a multiple or divisor of TP), within one node's scale-up domain and at most 8."""
    limit = min(MAX_TP, hw.scaleup_devices or 1)
    kv = spec.kv_heads or spec.heads
    return [t for t in (1, 2, 4, 8) if t <= limit and spec.heads % t == 0 and (kv % t == 0 or t % kv == 0)]


def pp_choices(spec: ModelSpec) -> list[int]:
    """Pipeline degrees with equal stages: the divisors of the layer count (Megatron-LM's num_layers % PP == 0)."""
    return [p for p in range(1, spec.layers + 1) if spec.layers % p == 0]


def round_batch(sequences: float, multiple: int) -> int:
    """The global batch in sequences rounded to the nearest multiple of `multiple` (data parallel x micro-batch),
    at least one multiple."""
    return max(int(multiple), int(multiple) * round(float(sequences) / int(multiple)))


@dataclass(frozen=True, repr=False)
class LayoutPlan(Rendered):
    """The fewest devices that hold the plan, and a layout for the devices given (if any)."""

    hardware: str
    zero: int
    micro_batch: int
    recompute: str
    flash: bool
    fewest: DeviceMemory | None
    suggested: DeviceMemory | None
    gpus: int | None
    note: str
    assumptions: tuple[str, ...] = ASSUMPTIONS
    batch_sequences: int | None = None  # the global batch rounded to a multiple of the suggested DP x micro-batch
    batch_sequences_law: float | None = None  # the batch asked for (the law's, before that rounding)
    context: int | None = None

    @property
    def tokens_per_step(self) -> int | None:
        return None if self.batch_sequences is None or self.context is None else self.batch_sequences * self.context

    def to_dict(self) -> dict:
        return {
            "hardware": self.hardware,
            "zero": self.zero,
            "micro_batch": self.micro_batch,
            "recompute": self.recompute,
            "flash_attention": self.flash,
            "gpus": self.gpus,
            "fewest": None if self.fewest is None else self.fewest.to_dict(),
            "suggested": None if self.suggested is None else self.suggested.to_dict(),
            "note": self.note,
            "batch_sequences": self.batch_sequences,
            "batch_sequences_law": self.batch_sequences_law,
            "tokens_per_step": self.tokens_per_step,
            "assumptions": list(self.assumptions),
        }


BATCH_TOLERANCE = 0.05  # a layout whose DP x micro-batch moves the global batch more than this is a last resort


def _pick(spec, hw, tps, pps, dps, zero, micro_batch, recompute, flash, ep=None, batch=None):
    """Among candidate (tp, pp, dp) arrays: the fitting one with the least model parallelism (then the larger tp),
    else the one with the least memory per device. ``ep`` pins expert parallelism (it must divide each dp). With
    ``batch`` (sequences), fitting layouts whose DP x micro-batch keeps the rounded batch within BATCH_TOLERANCE of
    it come first."""
    states, acts = _grid(spec, tps, pps, dps, ep, zero, micro_batch, recompute, flash, None)
    total = states + acts
    usable = _capacity(hw) * (1 - RESERVE_FRACTION)
    fits = total <= usable
    if fits.any():
        idx = np.flatnonzero(fits)
        far = np.zeros(len(idx), bool)
        if batch is not None:
            m = dps[idx] * micro_batch
            far = np.abs(np.maximum(m, m * np.round(batch / m)) - batch) > BATCH_TOLERANCE * batch
        order = np.lexsort((-tps[idx], tps[idx] * pps[idx] * dps[idx], tps[idx] * pps[idx], far))
        i = idx[order[0]]
    else:
        i = int(np.argmin(total))
    ep_used = int(default_ep(spec, dps[i])) if ep is None else int(ep)
    return _result(
        spec, tps[i], pps[i], dps[i], ep_used, zero, micro_batch, recompute, states[i], acts[i], _capacity(hw)
    )


def plan_layout(
    spec: ModelSpec,
    hw: Hardware,
    gpus: int | None = None,
    *,
    zero: int = 1,
    micro_batch: int = 1,
    recompute: str = "none",
    flash: bool = True,
    tp: int | None = None,
    pp: int | None = None,
    ep: int | None = None,
    batch: float | None = None,
) -> LayoutPlan:
    """The fewest devices that hold `spec` (any tensor × pipeline × data layout) and, for `gpus` devices, the
    layout with the least model parallelism that fits (tensor parallel first, within the node).

    `tp`, `pp` and `ep` pin the degrees (to check a published layout, e.g. DeepSeek-V3's PP 16 x EP 64 with no
    TP); a pinned pipeline may have uneven stages (the fullest stage holds ceil(layers / pp) layers). Expert
    parallelism splits the routed experts and divides the data-parallel degree; unpinned it is the whole
    data-parallel group for an MoE.

    Unpinned degrees are the ones trainers accept: TP dividing the heads with the KV heads a multiple or divisor of
    it (tp_choices), PP dividing the layers (pp_choices). With `batch` (the global batch in sequences, e.g. the
    law's) and `gpus`, the batch is rounded to the nearest multiple of the suggested layout's DP x micro-batch
    (round_batch): layout and batch are chosen together, and `batch_sequences` / `tokens_per_step` carry them."""
    if batch is not None and not (math.isfinite(batch) and 0 < batch <= 1e12):
        raise ScaleplanError(f"the global batch must be a positive number of sequences, got {batch!r}")
    if gpus is not None and (int(gpus) != gpus or not 0 < gpus <= MAX_DEVICES):
        raise ScaleplanError(f"gpus must be a whole number from 1 to {MAX_DEVICES:,}, got {gpus!r}")
    if int(micro_batch) != micro_batch or not 0 < micro_batch <= 1_000_000:
        raise ScaleplanError(f"micro-batch must be a positive whole number, got {micro_batch!r}")
    _check_pins(spec, hw, gpus, tp, pp, ep)
    tps = tp_choices(spec, hw) if tp is None else [int(tp)]
    fewest, most_dp = _fewest(spec, hw, tps, pp, ep, zero, micro_batch, recompute, flash)
    suggested, note = None, ""
    if gpus is not None:
        suggested, note = _suggest(spec, hw, gpus, tps, pp, ep, zero, micro_batch, recompute, flash, batch)
    if fewest is None:
        note = (note + "; " if note else "") + (
            f"no layout of up to {int(most_dp * spec.layers * max(tps)):,} "
            f"{hw.key} holds it at ZeRO-{zero} (try ZeRO-3 or activation recomputation)"
        )
    rounded = None
    if batch is not None and suggested is not None:
        rounded = round_batch(batch, suggested.dp * int(micro_batch))
        if abs(rounded - batch) > BATCH_TOLERANCE * batch:
            note += (
                f"; the global batch moves from {batch:,.0f} to {rounded:,} sequences (a multiple of DP "
                f"{suggested.dp:,} x micro-batch {int(micro_batch)}): fewer GPUs or more model parallelism keep it"
            )
    return LayoutPlan(
        hw.key,
        zero,
        int(micro_batch),
        recompute,
        flash,
        fewest,
        suggested,
        None if gpus is None else int(gpus),
        note,
        batch_sequences=rounded,
        batch_sequences_law=None if batch is None else float(batch),
        context=spec.context,
    )


def _fewest(spec: ModelSpec, hw: Hardware, tps, pp, ep, zero, micro_batch, recompute, flash):
    """(the layout of the fewest devices that hold `spec`, or None; the largest data-parallel degree tried)."""
    pps = np.array(pp_choices(spec) if pp is None else [int(pp)])
    dps = np.unique(np.concatenate([np.arange(1, 129), 2.0 ** np.arange(7, 24)])).astype(float)
    if ep is not None:
        dps = np.unique(np.concatenate([dps[dps % ep == 0], [float(ep)]]))
    t, p, d = (a.ravel() for a in np.meshgrid(np.array(tps, float), pps.astype(float), dps, indexing="ij"))
    states, acts = _grid(spec, t, p, d, ep, zero, micro_batch, recompute, flash, None)
    usable = _capacity(hw) * (1 - RESERVE_FRACTION)
    ok = states + acts <= usable
    fewest = None
    if ok.any():
        idx = np.flatnonzero(ok)
        n = t[idx] * p[idx] * d[idx]
        i = idx[np.lexsort((-t[idx], n))[0]]
        ep_used = int(default_ep(spec, d[i])) if ep is None else int(ep)
        fewest = _result(
            spec, t[i], p[i], d[i], ep_used, zero, micro_batch, recompute, states[i], acts[i], _capacity(hw)
        )
    return fewest, dps[-1]


def _suggest(spec: ModelSpec, hw: Hardware, gpus, tps, pp, ep, zero, micro_batch, recompute, flash, batch):
    """(the layout of `gpus` devices with the least model parallelism that fits, and what it says)."""
    cand = [
        (tt, pp_, gpus // (tt * pp_))
        for tt in tps
        for pp_ in (pp_choices(spec) if pp is None else [int(pp)])
        if gpus % (tt * pp_) == 0 and (ep is None or (gpus // (tt * pp_)) % ep == 0)
    ]
    if not cand:
        raise ScaleplanError(
            f"no layout of {gpus:,} GPUs has TP in {tps}, PP dividing the {spec.layers} layers"
            + ("" if ep is None else f" and EP {ep} dividing DP")
            + " (give a GPU count with more factors of two, or pin <pp>)"
        )
    arr = np.array(cand, float)
    suggested = _pick(spec, hw, arr[:, 0], arr[:, 1], arr[:, 2], zero, micro_batch, recompute, flash, ep, batch)
    if suggested.fits:
        return suggested, f"fits on {gpus:,} x {hw.key}"
    return suggested, (
        f"does not fit on {gpus:,} x {hw.key}: {suggested.total_bytes / 1e9:,.1f} GB per device against "
        f"{suggested.usable_bytes / 1e9:,.1f} GB usable, {suggested.shortfall_bytes / 1e9:,.1f} GB short"
    )
