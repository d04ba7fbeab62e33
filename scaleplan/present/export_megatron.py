"""Megatron-LM: a bash array of ``pretrain_gpt.py`` arguments."""

from __future__ import annotations

from ..recipe.config_megatron import megatron_padded_vocab
from .export_plan import (
    MEGATRON_COMMIT,
    RMS_NORM_EPS,
    ROPE_THETA,
    ExportPlan,
    check_layout,
    layout_note,
    number,
    plan_header,
)


def _vocab_divisor(vocab: int, tp: int) -> int | None:
    """--make-vocab-size-divisible-by so that Megatron pads nothing: the largest m <= 128 with m x TP dividing the
    vocabulary (megatron/training/vocab_utils.py:58 pads to a multiple of m x TP); None if none exists."""
    for m in range(128, 0, -1):
        if vocab % (m * tp) == 0:
            return m
    return None


def megatron_args(p: ExportPlan, source: str) -> str:
    """A bash array of pretrain_gpt.py arguments: shape, training, schedule, layout, precision."""
    check_layout(p, "Megatron-LM")
    s = p.shape
    llama = s["arch"] == "llama"
    divisor = _vocab_divisor(s["vocab"], p.tp)
    padded = megatron_padded_vocab(s["vocab"], divisor or 128, p.tp)
    shape = [
        f"--num-layers {s['layers']}",
        f"--hidden-size {s['d_model']}",
        f"--ffn-hidden-size {s['d_ff']}",
        f"--num-attention-heads {s['heads']}",
    ]
    if s["kv_heads"] != s["heads"]:
        shape += ["--group-query-attention", f"--num-query-groups {s['kv_heads']}"]
    shape += [
        f"--kv-channels {s['head_dim']}",
        f"--seq-length {s['context']}",
        f"--max-position-embeddings {s['context']}",
    ]
    if llama:
        shape += [
            "--swiglu",
            "--normalization RMSNorm",
            f"--norm-epsilon {number(RMS_NORM_EPS)}",
            "--position-embedding-type rope",
            f"--rotary-base {int(ROPE_THETA)}",
            "--disable-bias-linear",
        ]
    else:
        shape += ["--normalization LayerNorm", "--position-embedding-type learned_absolute"]
    if not s["tied_embeddings"]:
        shape.append("--untie-embeddings-and-output-weights")
    shape += [f"--vocab-size {s['vocab']}", f"--make-vocab-size-divisible-by {divisor or 128}"]
    samples = p.steps * p.batch_sequences
    training = [
        f"--micro-batch-size {p.micro_batch}",
        f"--global-batch-size {p.batch_sequences}",
        f"--train-samples {samples}",
        f"--lr {number(p.peak_lr, 4)}",
        f"--min-lr {number(p.min_lr, 4)}",
        f"--lr-warmup-samples {p.warmup_steps * p.batch_sequences}",
        "--lr-decay-style WSD",
        f"--lr-decay-samples {samples}",
        "--lr-wsd-decay-style minus_sqrt" if p.decay_shape == "1-sqrt" else f"--lr-wsd-decay-style {p.decay_shape}",
        f"--lr-wsd-decay-samples {p.decay_steps * p.batch_sequences}",
        "--clip-grad 1.0",
        "--weight-decay 0.1",
        "--adam-beta1 0.9",
        "--adam-beta2 0.95",
    ]
    layout = [f"--tensor-model-parallel-size {p.tp}", f"--pipeline-model-parallel-size {p.pp}"]
    if p.tp > 1:
        layout.append("--sequence-parallel")
    layout.append("--use-distributed-optimizer")
    precision = ["--bf16"]
    if p.precision == "fp8":
        precision += ["--fp8-format hybrid", "--fp8-amax-history-len 1024", "--fp8-amax-compute-algo max"]
    elif p.precision == "fp4":
        precision += ["--fp4-format e2m1", "--fp4-recipe nvfp4"]
    lines = [
        "# Megatron-LM arguments for pretrain_gpt.py, as a bash array.",
        *plan_header(p, source),
        layout_note(p),
        f"# Checked against Megatron-LM's divisibility rules (read at {MEGATRON_COMMIT}): heads and key-value heads",
        "# against TP, layers against PP, the global batch against micro-batch x DP.",
        "# The schedule is WSD: warm-up, constant, then a 1-sqrt cool-down (Hagele et al. 2024); Megatron's default",
        "# WSD cool-down is exponential, so minus_sqrt is set explicitly.",
    ]
    if padded != s["vocab"]:
        lines.append(f"# Megatron pads the vocabulary to {padded:,} at TP {p.tp}: that many embedding rows.")
    lines += [
        "# Use:  source this file, then",
        '#   torchrun ... pretrain_gpt.py "${SCALEPLAN_ARGS[@]}" --data-path ... --tokenizer-type ... --save ...',
        "SCALEPLAN_ARGS=(",
        *(f"    {a}" for a in shape + training + layout + precision),
        ")",
    ]
    return "\n".join(lines) + "\n"
