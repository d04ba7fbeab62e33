"""Hugging Face: a Llama-family (or GPT-2) ``config.json`` and the ``training.yaml`` beside it."""

from __future__ import annotations

from .export_plan import (
    RMS_NORM_EPS,
    ROPE_THETA,
    ExportPlan,
    number,
    plan_header,
)


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
        *plan_header(p, source),
        f"parameters: {p.params_total}  # exact, embeddings included",
        f"parameters_non_embedding: {p.params_non_embedding}",
        f"tokens: {round(p.tokens)}",
        f"tokens_per_parameter: {number(p.tokens / p.params_total, 4) if p.params_total else 'null'}",
        f"sequence_length: {p.sequence_length}",
        f"global_batch_sequences: {p.batch_sequences}",
        f"global_batch_tokens: {p.batch_tokens}",
        f"steps: {p.steps}",
        f"precision: {p.precision}",
        "learning_rate:",
        "  schedule: wsd  # linear warm-up, constant, then a cool-down (Hagele et al. 2024, arXiv:2405.18392)",
        f"  peak: {number(p.peak_lr, 4)}",
        f"  warmup_steps: {p.warmup_steps}",
        f"  stable_steps: {p.stable_steps}",
        f"  decay_steps: {p.decay_steps}",
        f"  decay_shape: {p.decay_shape}",
        f"  min_lr: {number(p.min_lr, 4)}",
        f"  cosine_peak: {number(p.cosine_peak_lr, 4)}  # the peak to use instead with a cosine schedule",
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
