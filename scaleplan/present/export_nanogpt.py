"""nanoGPT: a ``config/train_*.py`` for GPT-2-style plans."""

from __future__ import annotations

from ..core.errors import ScaleplanError
from .export_plan import (
    ExportPlan,
    check_layout,
    number,
    plan_header,
)


def nanogpt_config(p: ExportPlan, source: str) -> str:
    """config/train_*.py for nanoGPT's train.py: GPT-2-style models only (4 x n_embd GELU MLP, no GQA)."""
    s = p.shape
    if s["arch"] != "gpt":
        raise ScaleplanError(
            "nanoGPT trains GPT-2-style models (a 4 x n_embd GELU MLP, multi-head attention); this plan is "
            "Llama-style: plan it with <arch> gpt, or export it as hf, megatron, nanotron, torchtitan or litgpt"
        )
    if s["d_ff"] != 4 * s["d_model"]:
        raise ScaleplanError(
            f"nanoGPT's MLP is 4 x n_embd = {4 * s['d_model']:,} wide (model.py), the plan's d_ff is {s['d_ff']:,}: "
            "export it as hf or megatron, which take any width"
        )
    if s["kv_heads"] != s["heads"] or s["heads"] * s["head_dim"] != s["d_model"]:
        raise ScaleplanError("nanoGPT builds multi-head attention with n_embd / n_head per head; the plan's differs")
    world = p.dp * p.tp * p.pp
    if p.batch_sequences % (p.micro_batch * p.dp):
        check_layout(p, "nanoGPT")
    lines = [
        "# nanoGPT config: python train.py config/train_scaleplan.py (or torchrun --nproc_per_node=8 train.py ...)",
        *plan_header(p, source),
        "# nanoGPT schedules cosine only (train.py get_lr), so this file carries the plan's cosine peak "
        f"{number(p.cosine_peak_lr, 4)},",
        f"# not its WSD peak {number(p.peak_lr, 4)}; the cosine ends at min_lr = peak / 10 (nanoGPT's default ratio).",
        f"# train.py divides gradient_accumulation_steps by the number of processes ({world} here).",
        f"n_layer = {s['layers']}",
        f"n_head = {s['heads']}",
        f"n_embd = {s['d_model']}",
        f"block_size = {s['context']}",
        "bias = True  # GPT-2's biases (scaleplan counts them)",
        "dropout = 0.0",
        f"vocab_size = {s['vocab']}  # not read by train.py: it takes data/<dataset>/meta.pkl (else 50,304); match it",
        f"batch_size = {p.micro_batch}",
        f"gradient_accumulation_steps = {p.batch_sequences // p.micro_batch}  # x batch_size = "
        f"{p.batch_sequences:,} sequences per step",
        f"max_iters = {p.steps}",
        f"lr_decay_iters = {p.steps}",
        f"warmup_iters = {p.warmup_steps}",
        f"learning_rate = {number(p.cosine_peak_lr, 4)}",
        f"min_lr = {number(p.cosine_peak_lr / 10, 4)}",
        "decay_lr = True",
        "weight_decay = 0.1",
        "beta1 = 0.9",
        "beta2 = 0.95",
        "grad_clip = 1.0",
        "dtype = 'bfloat16'",
    ]
    return "\n".join(lines) + "\n"
