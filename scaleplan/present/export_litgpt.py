"""litgpt: a pretrain YAML with a full Llama-style ``model_config``."""

from __future__ import annotations

from .export_plan import (
    RMS_NORM_EPS,
    ROPE_THETA,
    ExportPlan,
    llama_only,
    number,
    plan_header,
)


def litgpt_yaml(p: ExportPlan, source: str) -> str:
    """litgpt's pretrain YAML with a full Llama-style model_config (its defaults are GPT-NeoX-like)."""
    llama_only(p, "litgpt")
    s = p.shape
    nodes = max(1, (p.gpus or 1) // 8)
    devices = (p.gpus or 1) // nodes
    lines = [
        "# litgpt pretrain config (litgpt pretrain --config this.yaml).",
        *plan_header(p, source),
        "# litgpt schedules cosine only (pretrain.py: linear warm-up, cosine decay), so this file carries the plan's",
        f"# cosine peak {number(p.cosine_peak_lr, 4)}, not its WSD peak {number(p.peak_lr, 4)}; the cosine ends at "
        "min_lr.",
        "# litgpt shards with FSDP over devices x num_nodes (no tensor or pipeline parallelism).",
        "# Set data: and tokenizer_dir: (its vocabulary must match vocab_size) before running.",
        "model_config:",
        "  name: scaleplan",
        f"  block_size: {s['context']}",
        f"  n_layer: {s['layers']}",
        f"  n_embd: {s['d_model']}",
        f"  n_head: {s['heads']}",
        f"  n_query_groups: {s['kv_heads']}",
        f"  head_size: {s['head_dim']}",
        f"  intermediate_size: {s['d_ff']}",
        f"  vocab_size: {s['vocab']}",
        f"  padded_vocab_size: {s['vocab']}",
        "  padding_multiple: 128",
        "  norm_class_name: RMSNorm",
        f"  norm_eps: {number(RMS_NORM_EPS)}",
        "  mlp_class_name: LLaMAMLP",
        "  rotary_percentage: 1.0",
        f"  rope_base: {int(ROPE_THETA)}",
        "  parallel_residual: false",
        "  bias: false",
        "out_dir: out/pretrain/scaleplan",
        "precision: bf16-mixed",
        f"devices: {devices}",
        f"num_nodes: {nodes}",
        "train:",
        f"  global_batch_size: {p.batch_sequences}",
        f"  micro_batch_size: {p.micro_batch}",
        f"  lr_warmup_steps: {p.warmup_steps}",
        f"  max_tokens: {p.steps * p.batch_sequences * s['context']}",
        f"  max_seq_length: {s['context']}",
        f"  tie_embeddings: {'true' if s['tied_embeddings'] else 'false'}",
        "  max_norm: 1.0",
        f"  min_lr: {number(p.cosine_peak_lr * 0.1, 4)}  # cosine to 10% of the peak (Hagele et al. 2024's baseline)",
        "optimizer:",
        "  class_path: torch.optim.AdamW",
        "  init_args:",
        f"    lr: {number(p.cosine_peak_lr, 4)}  # the cosine peak (the plan's WSD peak is half of it)",
        "    weight_decay: 0.1",
        "    betas:",
        "    - 0.9",
        "    - 0.95",
    ]
    return "\n".join(lines) + "\n"
