"""nanotron: its YAML, laid out as its examples."""

from __future__ import annotations

from .export_plan import (
    RMS_NORM_EPS,
    ROPE_THETA,
    ExportPlan,
    check_layout,
    layout_note,
    llama_only,
    number,
    plan_header,
)


def nanotron_yaml(p: ExportPlan, source: str) -> str:
    """nanotron's YAML, laid out as its examples (config_tiny_llama.yaml, SmolLM's configs); data and tokenizer
    paths are placeholders to fill."""
    llama_only(p, "nanotron")
    check_layout(p, "nanotron")
    s = p.shape
    accumulation = p.batch_sequences // (p.micro_batch * p.dp)
    fp8 = (
        ["# nanotron has no FP8 training key in its config.py: this run trains in bfloat16"]
        if p.precision != "bf16"
        else []
    )
    lines = [
        "# nanotron config.",
        *plan_header(p, source),
        layout_note(p),
        *fp8,
        f"# Global batch = micro_batch_size x batch_accumulation_per_replica x dp x sequence_length = {p.micro_batch}"
        f" x {accumulation} x {p.dp} x {s['context']} = {p.micro_batch * accumulation * p.dp * s['context']:,} tokens",
        "checkpoints:",
        "  checkpoint_interval: 1000",
        "  checkpoints_path: checkpoints",
        "  checkpoints_path_is_shared_file_system: false",
        "  resume_checkpoint_path: null",
        "  save_initial_state: false",
        "data_stages:",
        "- data:",
        "    dataset:",
        "      dataset_folder: datasets/CHANGE-ME  # your tokenized dataset",
        "    num_loading_workers: 1",
        "    seed: 42",
        "  name: training stage",
        "  start_training_step: 1",
        "general:",
        "  project: scaleplan",
        "  run: scaleplan-plan",
        "  seed: 42",
        "logging:",
        "  iteration_step_info_interval: 1",
        "  log_level: info",
        "  log_level_replica: info",
        *_model(p),
        *_training(p, accumulation),
    ]
    return "\n".join(lines) + "\n"


def _model(p: ExportPlan) -> list[str]:
    """The model: section (a Llama config, as nanotron's examples)."""
    s = p.shape
    return [
        "model:",
        "  ddp_bucket_cap_mb: 25",
        "  dtype: bfloat16",
        "  init_method:",
        f"    std: {number(s['d_model'] ** -0.5, 4)}  # 1/sqrt(hidden_size), as SmolLM",
        "  make_vocab_size_divisible_by: 1",
        "  model_config:",
        "    bos_token_id: 0",
        "    eos_token_id: 0",
        "    hidden_act: silu",
        f"    hidden_size: {s['d_model']}",
        "    initializer_range: 0.02",
        f"    intermediate_size: {s['d_ff']}",
        "    is_llama_config: true",
        f"    max_position_embeddings: {s['context']}",
        f"    num_attention_heads: {s['heads']}",
        f"    num_hidden_layers: {s['layers']}",
        f"    num_key_value_heads: {s['kv_heads']}",
        "    pad_token_id: null",
        "    pretraining_tp: 1",
        f"    rms_norm_eps: {number(RMS_NORM_EPS)}",
        "    rope_scaling: null",
        f"    rope_theta: {number(ROPE_THETA)}",
        f"    tie_word_embeddings: {'true' if s['tied_embeddings'] else 'false'}",
        "    use_cache: true",
        f"    vocab_size: {s['vocab']}",
    ]


def _training(p: ExportPlan, accumulation: int) -> list[str]:
    """The optimizer (WSD with the 1-sqrt cool-down), parallelism, tokenizer and tokens sections."""
    s = p.shape
    return [
        "optimizer:",
        "  accumulate_grad_in_fp32: true",
        "  clip_grad: 1.0",
        "  learning_rate_scheduler:",
        f"    learning_rate: {number(p.peak_lr, 4)}",
        f"    lr_decay_starting_step: {p.warmup_steps + p.stable_steps}",
        f"    lr_decay_steps: {p.decay_steps}",
        "    lr_decay_style: 1-sqrt",
        f"    lr_warmup_steps: {p.warmup_steps}",
        "    lr_warmup_style: linear",
        f"    min_decay_lr: {number(p.min_lr, 4)}",
        "  optimizer_factory:",
        "    adam_beta1: 0.9",
        "    adam_beta2: 0.95",
        "    adam_eps: 1.0e-08",
        "    name: adamW",
        "    torch_adam_is_fused: true",
        "  weight_decay: 0.1",
        "  zero_stage: 0",
        "parallelism:",
        f"  dp: {p.dp}",
        "  expert_parallel_size: 1",
        f"  pp: {p.pp}",
        "  pp_engine: 1f1b",
        f"  tp: {p.tp}",
        "  tp_linear_async_communication: true",
        "  tp_mode: REDUCE_SCATTER",
        "tokenizer:",
        "  tokenizer_max_length: null",
        "  tokenizer_name_or_path: CHANGE-ME  # your tokenizer (its vocabulary must match vocab_size)",
        "  tokenizer_revision: null",
        "tokens:",
        f"  batch_accumulation_per_replica: {accumulation}",
        "  limit_test_batches: 0",
        "  limit_val_batches: 0",
        f"  micro_batch_size: {p.micro_batch}",
        f"  sequence_length: {s['context']}",
        f"  train_steps: {p.steps}",
        "  val_check_interval: -1",
    ]
