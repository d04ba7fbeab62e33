"""What every trainer-config writer shares: the `ExportPlan` read once from a plan's JSON, numbers every parser
reads alike, the header, and the parallel layout checked against the trainers' divisibility rules."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import ScaleplanError

MEGATRON_COMMIT = "d98e8a64"  # NVIDIA/Megatron-LM, where the divisibility rules below were read

# Llama 3's RoPE base and RMSNorm epsilon (Dubey et al. 2024, arXiv:2407.21783, sec. 3.2 "we increase the RoPE base
# frequency hyperparameter to 500,000"; meta-llama/Meta-Llama-3-8B config.json rms_norm_eps 1e-05).
ROPE_THETA = 500000.0
RMS_NORM_EPS = 1e-05


@dataclass(frozen=True)
class ExportPlan:
    """What a writer needs from a plan, read once from its JSON and checked."""

    shape: dict  # arch, layers, d_model, heads, kv_heads, head_dim, d_ff, vocab, context, tied_embeddings
    params_total: int
    params_non_embedding: int
    tokens: float
    batch_sequences: int
    batch_tokens: int
    steps: int
    peak_lr: float  # the recommended (WSD) schedule's peak
    cosine_peak_lr: float
    warmup_steps: int
    decay_steps: int
    min_lr: float
    decay_shape: str
    precision: str
    law: str
    hparams_law: str
    tp: int = 1
    pp: int = 1
    dp: int = 1
    micro_batch: int = 1
    gpus: int | None = None

    @property
    def stable_steps(self) -> int:
        return self.steps - self.warmup_steps - self.decay_steps

    @property
    def sequence_length(self) -> int:
        return int(self.shape["context"])


def _get(plan: dict, *keys, default=None, where: str = "plan"):
    node = plan
    for key in keys:
        if not isinstance(node, dict) or key not in node or node[key] is None:
            return default
        node = node[key]
    return node


def plan_view(plan: dict, where: str = "plan") -> ExportPlan:
    """The fields an export needs from a plan's JSON, or one line naming what is missing."""
    if not isinstance(plan, dict):
        raise ScaleplanError(f"{where}: a plan is a JSON object")
    shape = plan.get("shape")
    sched = _get(plan, "recipe", "schedule")
    if not isinstance(shape, dict) or not isinstance(sched, dict):
        raise ScaleplanError(
            f"{where}: no shape and schedule: export needs a dense plan with its recipe (the JSON of scaleplan "
            "allocate or plan --format json)"
        )
    need = ("layers", "d_model", "heads", "head_dim", "d_ff", "vocab", "context")
    missing = [k for k in need if not isinstance(shape.get(k), int) or isinstance(shape.get(k), bool)]
    if missing:
        raise ScaleplanError(f"{where}: shape.{missing[0]} missing or not a whole number")
    block = {k: shape[k] for k in need}
    block["arch"] = shape.get("arch") or ("llama" if shape.get("glu") else "gpt")
    block["kv_heads"] = int(shape.get("kv_heads") or shape["heads"])
    block["tied_embeddings"] = bool(shape.get("tied_embeddings", False))
    steps = int(sched.get("steps") or 0)
    warmup = int(sched.get("warmup_steps", sched.get("warmup", 0)) or 0)
    peak = sched.get("peak_lr")
    if steps < 1 or not isinstance(peak, (int, float)):
        raise ScaleplanError(f"{where}: recipe.schedule has no steps or peak_lr")
    decay = sched.get("decay_steps")
    if decay is None:
        decay = round(float(sched.get("cooldown", 0.2)) * steps)
    min_lr = sched.get("min_lr")
    if min_lr is None:
        min_lr = float(peak) * float(sched.get("final_fraction", 0.0))
    layout = _get(plan, "cluster", "memory", "suggested") or {}
    batch_seq = int(plan.get("batch_sequences") or 0)
    if batch_seq < 1:
        raise ScaleplanError(f"{where}: no batch_sequences")
    return ExportPlan(
        shape=block,
        params_total=int(shape.get("params_total") or 0),
        params_non_embedding=int(shape.get("params_non_embedding") or 0),
        tokens=float(plan.get("tokens") or 0.0),
        batch_sequences=batch_seq,
        batch_tokens=int(plan.get("batch_tokens") or batch_seq * block["context"]),
        steps=steps,
        peak_lr=float(peak),
        cosine_peak_lr=float(sched.get("cosine_peak_lr") or plan.get("cosine_peak_lr") or peak),
        warmup_steps=warmup,
        decay_steps=int(decay),
        min_lr=float(min_lr),
        decay_shape=str(sched.get("shape", "1-sqrt")),
        precision=str(_get(plan, "cost", "precision", default="bf16")),
        law=str(plan.get("law") or "none (a given model, judged by every law)"),
        hparams_law=str(_get(plan, "recipe", "hparams_law", default="")),
        tp=int(layout.get("tp", 1)),
        pp=int(layout.get("pp", 1)),
        dp=int(layout.get("dp", 1)),
        micro_batch=int(layout.get("micro_batch", 1)),
        gpus=int(layout["devices"]) if layout.get("devices") else None,
    )


# ---------------------------------------------------------------------------------------------------------------
# value formatting: numbers every parser reads the same way (YAML 1.1 reads 1e-05 as text, so exponents get a dot)
# ---------------------------------------------------------------------------------------------------------------


def number(x: float, digits: int = 6) -> str:
    """A float as YAML 1.1, JSON and Python all read it: '0.0003', '1.5e-05' -> '1.5e-05' with a dot."""
    text = f"{float(x):.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        if "." not in mant:
            mant += ".0"
        text = f"{mant}e{exp}"
    elif "." not in text and "inf" not in text and "nan" not in text:
        text += ".0"
    return text


def plan_header(p: ExportPlan, source: str, comment: str = "#") -> list[str]:
    return [
        f"{comment} Written by scaleplan from: {source}",
        f"{comment} Plan: law {p.law}; {p.params_total:,} parameters; {number(p.tokens, 4)} tokens; "
        f"learning rate and batch: {p.hparams_law or 'recipe'} law",
    ]


# ---------------------------------------------------------------------------------------------------------------
# the parallel layout: every trainer's divisibility rules, checked before anything is written
# ---------------------------------------------------------------------------------------------------------------


def llama_only(p: ExportPlan, trainer: str) -> None:
    if p.shape["arch"] != "llama":
        raise ScaleplanError(
            f"{trainer} trains Llama-style models (SwiGLU, RMSNorm, RoPE); this plan is GPT-2-style: plan it with "
            "<arch> llama, or export it as hf or nanogpt"
        )
    if p.shape["heads"] * p.shape["head_dim"] != p.shape["d_model"]:
        raise ScaleplanError(f"{trainer} needs heads x head_dim = d_model; the plan's shape does not have it")


def check_layout(p: ExportPlan, trainer: str = "Megatron-LM") -> None:
    """Megatron-LM's four divisibility rules (at MEGATRON_COMMIT), which nanotron and torchtitan share; a layout
    that breaks one is refused in one line naming it."""
    s = p.shape
    rules = [
        (
            s["heads"] % p.tp == 0,
            f"attention heads ({s['heads']}) must be a multiple of the tensor-parallel size ({p.tp}) "
            "(megatron/core/transformer/transformer_config.py:1446)",
        ),
        (
            s["kv_heads"] % p.tp == 0 or p.tp % s["kv_heads"] == 0,
            f"key-value heads ({s['kv_heads']}) must be a multiple or a divisor of the tensor-parallel size ({p.tp}) "
            "(megatron/core/transformer/transformer_config.py:1462)",
        ),
        (
            s["layers"] % p.pp == 0,
            f"layers ({s['layers']}) must divide evenly into {p.pp} pipeline stages "
            "(megatron/core/transformer/transformer_block.py:158)",
        ),
        (
            p.batch_sequences % (p.micro_batch * p.dp) == 0,
            f"the global batch ({p.batch_sequences:,} sequences) must be a multiple of micro-batch x data-parallel "
            f"({p.micro_batch} x {p.dp}) (megatron/core/num_microbatches_calculator.py:381)",
        ),
    ]
    for holds, rule in rules:
        if not holds:
            raise ScaleplanError(f"cannot export to {trainer}: {rule}")


def layout_note(p: ExportPlan, comment: str = "#") -> str:
    if p.gpus:
        return (
            f"{comment} Layout: {p.gpus:,} GPUs as TP {p.tp} x PP {p.pp} x DP {p.dp}, micro-batch {p.micro_batch} "
            f"(the plan's suggested layout)"
        )
    return f"{comment} Layout: one data-parallel rank (plan with <gpus> for a layout); accumulation makes the batch"
