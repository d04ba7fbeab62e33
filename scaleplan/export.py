"""A plan written as the configuration a trainer reads: `scaleplan export FORMAT ...`.

Each writer renders the plan's JSON (the contract of ../DESIGN.md: `Plan.to_dict()`, or a PLAN.json file written by
`--format json`) as text files; the CLI checks the paths and writes them through scaleplan.files. Nothing here
counts parameters: the counts in the files' comments are the plan's (recipe.Shape's).

Formats: ``hf`` (a Llama-family ``config.json``, or GPT-2's for ``--arch gpt``, beside ``training.yaml``: tokens,
batch, schedule and steps, which config.json cannot hold).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from .errors import ScaleplanError

__all__ = ["EXPORT_FORMATS", "MAX_PLAN_BYTES", "SUFFIXES", "ExportPlan", "export_files", "plan_view"]

EXPORT_FORMATS = ("hf",)
SUFFIXES: dict[str, tuple[str, ...]] = {}  # the file names each single-file format's --output may have
MAX_PLAN_BYTES = 16 * 1024 * 1024  # a plan's JSON is ~10 kB; 200 scenarios of a budget file ~2 MB

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
        law=str(plan.get("law") or _get(plan, "rows", default=[{}])[0].get("law", "")),
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


def _float(x: float, digits: int = 6) -> str:
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


def _header(p: ExportPlan, source: str, comment: str = "#") -> list[str]:
    return [
        f"{comment} Written by scaleplan from: {source}",
        f"{comment} Plan: law {p.law}; {p.params_total:,} parameters; {_float(p.tokens, 4)} tokens; "
        f"learning rate and batch: {p.hparams_law or 'recipe'} law",
    ]


# ---------------------------------------------------------------------------------------------------------------
# Hugging Face
# ---------------------------------------------------------------------------------------------------------------


def hf_config(p: ExportPlan) -> dict:
    """config.json: LlamaForCausalLM's keys (GPT2LMHeadModel's for a GPT-2-style plan)."""
    s = p.shape
    if s["arch"] == "gpt":
        return {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "n_embd": s["d_model"],
            "n_layer": s["layers"],
            "n_head": s["heads"],
            "n_inner": s["d_ff"],
            "n_positions": s["context"],
            "vocab_size": s["vocab"],
            "activation_function": "gelu_new",
            "layer_norm_epsilon": 1e-05,
            "tie_word_embeddings": s["tied_embeddings"],
            "torch_dtype": "bfloat16",
        }
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": s["d_model"],
        "intermediate_size": s["d_ff"],
        "num_hidden_layers": s["layers"],
        "num_attention_heads": s["heads"],
        "num_key_value_heads": s["kv_heads"],
        "head_dim": s["head_dim"],
        "vocab_size": s["vocab"],
        "max_position_embeddings": s["context"],
        "hidden_act": "silu",
        "rms_norm_eps": RMS_NORM_EPS,
        "rope_theta": ROPE_THETA,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": s["tied_embeddings"],
        "torch_dtype": "bfloat16",
    }


def training_settings(p: ExportPlan, source: str) -> str:
    """training.yaml: what config.json cannot hold (tokens, batch, schedule, steps), as plain YAML."""
    lines = [
        "# Training settings for the model in config.json (which holds the architecture only).",
        *_header(p, source),
        f"parameters: {p.params_total}  # exact, embeddings included",
        f"parameters_non_embedding: {p.params_non_embedding}",
        f"tokens: {round(p.tokens)}",
        f"tokens_per_parameter: {_float(p.tokens / p.params_total, 4) if p.params_total else 'null'}",
        f"sequence_length: {p.sequence_length}",
        f"global_batch_sequences: {p.batch_sequences}",
        f"global_batch_tokens: {p.batch_tokens}",
        f"steps: {p.steps}",
        f"precision: {p.precision}",
        "learning_rate:",
        "  schedule: wsd  # linear warm-up, constant, then a cool-down (Hagele et al. 2024, arXiv:2405.18392)",
        f"  peak: {_float(p.peak_lr, 4)}",
        f"  warmup_steps: {p.warmup_steps}",
        f"  stable_steps: {p.stable_steps}",
        f"  decay_steps: {p.decay_steps}",
        f"  decay_shape: {p.decay_shape}",
        f"  min_lr: {_float(p.min_lr, 4)}",
        f"  cosine_peak: {_float(p.cosine_peak_lr, 4)}  # the peak to use instead with a cosine schedule",
    ]
    if p.gpus:
        lines += [
            "layout:  # the plan's suggested parallel layout",
            f"  gpus: {p.gpus}",
            f"  tensor_parallel: {p.tp}",
            f"  pipeline_parallel: {p.pp}",
            f"  data_parallel: {p.dp}",
            f"  micro_batch: {p.micro_batch}",
        ]
    return "\n".join(lines) + "\n"


def export_files(fmt: str, plan: dict, source: str, where: str = "plan") -> dict[str, str]:
    """{file name: text} of `fmt` for the plan's JSON; `source` (the command or file) goes into the header."""
    p = plan_view(plan, where)
    if fmt == "hf":
        return {
            "config.json": json.dumps(hf_config(p), indent=2) + "\n",
            "training.yaml": training_settings(p, source),
        }
    raise ScaleplanError(f"<format> must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")


def _is_whole(x) -> bool:
    return isinstance(x, int) or (isinstance(x, float) and math.isfinite(x) and x.is_integer())
