"""A plan written as the configuration a trainer reads: `scaleplan export FORMAT ...`.

Each writer renders the plan's JSON (the contract of ../DESIGN.md: `Plan.to_dict()`, or a PLAN.json file written by
`--format json`) as text files; the CLI checks the paths and writes them through scaleplan.core.files. Nothing here
counts parameters: the counts in the files' comments are the plan's (recipe.Shape's).

Formats (../shared/reference/trainer-configs.md gives each one's keys and sources):

- ``hf``: a Llama-family ``config.json`` (GPT-2's for ``--arch gpt``) beside ``training.yaml`` (tokens, batch,
  schedule and steps, which config.json cannot hold).
- ``megatron``: a bash array of Megatron-LM arguments for ``pretrain_gpt.py`` (WSD with the 1-sqrt cool-down as
  ``--lr-decay-style WSD --lr-wsd-decay-style minus_sqrt``), refused in one line when the layout breaks one of
  Megatron's divisibility rules.
- ``nanotron``: its YAML; global batch = micro x accumulation x dp x sequence length exactly.
- ``torchtitan``: a Python module with a function returning ``Trainer.Config``, for torchtitan at commit
  ``TORCHTITAN_COMMIT`` (after its 2026-02 config refactor); the SwiGLU width through ``ffn_dim_multiplier`` and
  ``multiple_of``, WSD as ``decay_type="sqrt"`` with ``decay_ratio``.
- ``litgpt``: a pretrain YAML with a full Llama-style ``model_config``; litgpt schedules cosine only, so the cosine
  peak is exported (the file says so).
- ``nanogpt``: a ``config/train_*.py`` for GPT-2-style plans (cosine only, like litgpt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.errors import ScaleplanError
from ..recipe.trainer_configs import megatron_padded_vocab, torchtitan_ffn_dim

__all__ = ["EXPORT_FORMATS", "MAX_PLAN_BYTES", "SUFFIXES", "ExportPlan", "export_files", "plan_view"]

EXPORT_FORMATS = ("hf", "megatron", "nanotron", "torchtitan", "litgpt", "nanogpt")
# the file names each single-file format's --output may have
SUFFIXES: dict[str, tuple[str, ...]] = {
    "megatron": (".sh",),
    "nanotron": (".yaml", ".yml"),
    "torchtitan": (".py",),
    "litgpt": (".yaml", ".yml"),
    "nanogpt": (".py",),
}
# The torchtitan version the module is written for: b5bcd76c (2026-08-21), after the 2026-02 refactor to Python
# configs ("[BC Breaking] Config System Refactor: TOML to Python Dataclass Registry", #2386); every name the module
# uses exists at this commit (tests/data/torchtitan-b5bcd76c-fields.json, checked by the tests).
TORCHTITAN_COMMIT = "b5bcd76c66d0acb1a08b176d9639425bc55e0b2a"
MEGATRON_COMMIT = "d98e8a64"  # NVIDIA/Megatron-LM, where the divisibility rules below were read
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
    writers = {
        "megatron": ("megatron_args.sh", megatron_args),
        "nanotron": ("nanotron.yaml", nanotron_yaml),
        "torchtitan": ("scaleplan_torchtitan.py", torchtitan_module),
        "litgpt": ("litgpt_pretrain.yaml", litgpt_yaml),
        "nanogpt": ("train_scaleplan.py", nanogpt_config),
    }
    if fmt not in writers:
        raise ScaleplanError(f"<format> must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    name, writer = writers[fmt]
    return {name: writer(p, source)}


# ---------------------------------------------------------------------------------------------------------------
# the parallel layout: every trainer's divisibility rules, checked before anything is written
# ---------------------------------------------------------------------------------------------------------------


def _llama_only(p: ExportPlan, trainer: str) -> None:
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


def _layout_note(p: ExportPlan, comment: str = "#") -> str:
    if p.gpus:
        return (
            f"{comment} Layout: {p.gpus:,} GPUs as TP {p.tp} x PP {p.pp} x DP {p.dp}, micro-batch {p.micro_batch} "
            f"(the plan's suggested layout)"
        )
    return f"{comment} Layout: one data-parallel rank (plan with <gpus> for a layout); accumulation makes the batch"


# ---------------------------------------------------------------------------------------------------------------
# Megatron-LM
# ---------------------------------------------------------------------------------------------------------------


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
            f"--norm-epsilon {_float(RMS_NORM_EPS)}",
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
        f"--lr {_float(p.peak_lr, 4)}",
        f"--min-lr {_float(p.min_lr, 4)}",
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
        *_header(p, source),
        _layout_note(p),
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


# ---------------------------------------------------------------------------------------------------------------
# nanotron
# ---------------------------------------------------------------------------------------------------------------


def nanotron_yaml(p: ExportPlan, source: str) -> str:
    """nanotron's YAML, laid out as its examples (config_tiny_llama.yaml, SmolLM's configs); data and tokenizer
    paths are placeholders to fill."""
    _llama_only(p, "nanotron")
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
        *_header(p, source),
        _layout_note(p),
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
        "model:",
        "  ddp_bucket_cap_mb: 25",
        "  dtype: bfloat16",
        "  init_method:",
        f"    std: {_float(s['d_model'] ** -0.5, 4)}  # 1/sqrt(hidden_size), as SmolLM",
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
        f"    rms_norm_eps: {_float(RMS_NORM_EPS)}",
        "    rope_scaling: null",
        f"    rope_theta: {_float(ROPE_THETA)}",
        f"    tie_word_embeddings: {'true' if s['tied_embeddings'] else 'false'}",
        "    use_cache: true",
        f"    vocab_size: {s['vocab']}",
        "optimizer:",
        "  accumulate_grad_in_fp32: true",
        "  clip_grad: 1.0",
        "  learning_rate_scheduler:",
        f"    learning_rate: {_float(p.peak_lr, 4)}",
        f"    lr_decay_starting_step: {p.warmup_steps + p.stable_steps}",
        f"    lr_decay_steps: {p.decay_steps}",
        "    lr_decay_style: 1-sqrt",
        f"    lr_warmup_steps: {p.warmup_steps}",
        "    lr_warmup_style: linear",
        f"    min_decay_lr: {_float(p.min_lr, 4)}",
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
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# torchtitan
# ---------------------------------------------------------------------------------------------------------------


def torchtitan_ffn_args(dim: int, d_ff: int) -> tuple[int, float]:
    """(multiple_of, ffn_dim_multiplier) with which torchtitan's compute_ffn_hidden_dim builds exactly `d_ff`:
    the largest power-of-two multiple dividing d_ff, and the shortest decimal multiplier that reaches it."""
    base = int(2 * 4 * dim / 3)
    for multiple_of in (1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1):
        if d_ff % multiple_of:
            continue
        for digits in range(1, 9):
            m = round(d_ff / base, digits)
            if m > 0 and torchtitan_ffn_dim(dim, multiple_of, m) == d_ff:
                return multiple_of, m
    raise ScaleplanError(f"no ffn_dim_multiplier makes torchtitan build d_ff {d_ff:,} at dim {dim:,}")


def torchtitan_module(p: ExportPlan, source: str) -> str:
    """A Python module for torchtitan's --module/--config: the model as a llama3 flavor and a Trainer.Config."""
    _llama_only(p, "torchtitan")
    check_layout(p, "torchtitan")
    s = p.shape
    multiple_of, multiplier = torchtitan_ffn_args(s["d_model"], s["d_ff"])
    model = {
        "dim": s["d_model"],
        "n_layers": s["layers"],
        "n_heads": s["heads"],
        "n_kv_heads": s["kv_heads"],
        "vocab_size": s["vocab"],
        "ffn_dim_multiplier": multiplier,
        "multiple_of": multiple_of,
        "max_context_length": s["context"],
        "rope_theta": ROPE_THETA,
        "enable_weight_tying": s["tied_embeddings"],
    }
    model_text = "MODEL = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in model.items()) + "}"
    fp8 = p.precision == "fp8"
    converters = "converters=[Float8LinearConverter.Config(model_compile_enabled=True)]" if fp8 else "converters=None"
    # float8 wants torch.compile to fuse its casts (torchtitan/components/quantization/float8.md, as llama3_8b_mxfp8)
    compile_line = '\n        compile=CompileConfig(enable=True, components=["model"]),' if fp8 else ""
    header = [
        '"""torchtitan configuration written by scaleplan.',
        "",
        f"For torchtitan at commit {TORCHTITAN_COMMIT[:8]} ({TORCHTITAN_COMMIT}, 2026-08-21), after its",
        "2026-02 config refactor (Python configs returning Trainer.Config); every name used here exists there.",
        "Run it with torchtitan's --module and --config (torchtitan/config/README.md), e.g.",
        "    NGPU=8 MODULE=scaleplan_torchtitan CONFIG=scaleplan_config ./run_train.sh",
        *(line.lstrip("# ") for line in _header(p, source)),
        _layout_note(p, "").strip(),
        f"SwiGLU width {s['d_ff']:,} = compute_ffn_hidden_dim({s['d_model']}, multiple_of={multiple_of}, "
        f"ffn_dim_multiplier={multiplier}).",
        "Schedule: WSD, warm-up then constant then a 1-sqrt cool-down over the last decay_ratio of the steps.",
        '"""',
    ]
    body = f'''
from torchtitan.components.data import ConcatThenSplitPackingConfig, GrainDataLoader
from torchtitan.components.loss import ChunkedLossWrapper, CrossEntropyLoss
from torchtitan.components.optimizer import LRSchedulersContainer, default_adamw
from torchtitan.components.quantization import Float8LinearConverter
from torchtitan.config import CompileConfig, ParallelismConfig, TrainingConfig
from torchtitan.distributed.activation_checkpoint import SelectiveAC
from torchtitan.hf_datasets.text_datasets import DATASETS
from torchtitan.models import llama3
from torchtitan.models.common import ComplexRoPE, Embedding, Linear, RMSNorm, compute_ffn_hidden_dim
from torchtitan.models.common.config_utils import decoder_vocab_size
from torchtitan.models.llama3 import Llama3Model
from torchtitan.trainer import Trainer

{model_text}


def scaleplan_model(attn_backend: str = "flex", tp_gemm_backend: str = "default") -> Llama3Model.Config:
    """The planned model as a llama3 flavor, built as torchtitan builds its own (llama3/__init__.py)."""
    dim, n_heads, vocab_size = MODEL["dim"], MODEL["n_heads"], MODEL["vocab_size"]
    return Llama3Model.Config(
        dim=dim,
        vocab_size=vocab_size,
        enable_weight_tying=MODEL["enable_weight_tying"],
        tok_embeddings=Embedding.Config(
            num_embeddings=vocab_size, embedding_dim=dim, param_init=llama3._EMBEDDING_INIT
        ),
        norm=RMSNorm.Config(normalized_shape=dim, param_init=llama3._NORM_INIT),
        lm_head=Linear.Config(
            in_features=dim, out_features=vocab_size, param_init=llama3._output_linear_init(dim)
        ),
        layers=llama3._build_llama3_layers(
            fuse_qkv=True,
            n_layers=MODEL["n_layers"],
            dim=dim,
            n_heads=n_heads,
            n_kv_heads=MODEL["n_kv_heads"],
            hidden_dim=compute_ffn_hidden_dim(
                dim, multiple_of=MODEL["multiple_of"], ffn_dim_multiplier=MODEL["ffn_dim_multiplier"]
            ),
            rope=ComplexRoPE.Config(
                dim=dim // n_heads,
                max_context_length=MODEL["max_context_length"],
                theta=MODEL["rope_theta"],
                scaling="none",
            ),
            attn_backend=attn_backend,
            tp_gemm_backend=tp_gemm_backend,
        ),
    )


def scaleplan_config() -> Trainer.Config:
    """The plan's run: model, WSD schedule, batch, steps and layout."""
    llama3.llama3_configs["scaleplan"] = scaleplan_model
    model_spec = llama3.model_registry("scaleplan", {converters})
    return Trainer.Config(
        loss=ChunkedLossWrapper.Config(
            loss_fn=CrossEntropyLoss.Config(global_vocab_size=decoder_vocab_size(model_spec)),
        ),
        hf_assets_path="./assets/hf/CHANGE-ME",  # your tokenizer: its vocabulary must have vocab_size entries
        model_spec=model_spec,
        optimizer=default_adamw(lr={_float(p.peak_lr, 4)}),
        lr_scheduler=LRSchedulersContainer.Config(
            warmup_steps={p.warmup_steps},
            decay_ratio={p.decay_steps / p.steps!r},
            decay_type="sqrt",
            min_lr_factor={_float(p.min_lr / p.peak_lr if p.peak_lr else 0.0, 4)},
        ),
        training=TrainingConfig(
            num_tokens_per_microbatch_per_dp_rank={p.micro_batch * s["context"]},
            num_tokens_per_train_step={p.batch_sequences * s["context"]},
            max_context_length={s["context"]},
            steps={p.steps},
        ),
        dataloader=GrainDataLoader.Config(
            dataset=ConcatThenSplitPackingConfig(dataset=DATASETS["c4"]),  # your data
        ),
        parallelism=ParallelismConfig(
            data_parallel_replicate_degree=1,
            data_parallel_shard_degree={p.dp},
            tensor_parallel_degree={p.tp},
            pipeline_parallel_degree={p.pp},
        ),
        activation_checkpoint=SelectiveAC.Config(),{compile_line}
    )
'''
    return "\n".join(header) + "\n" + body


# ---------------------------------------------------------------------------------------------------------------
# litgpt
# ---------------------------------------------------------------------------------------------------------------


def litgpt_yaml(p: ExportPlan, source: str) -> str:
    """litgpt's pretrain YAML with a full Llama-style model_config (its defaults are GPT-NeoX-like)."""
    _llama_only(p, "litgpt")
    s = p.shape
    nodes = max(1, (p.gpus or 1) // 8)
    devices = (p.gpus or 1) // nodes
    lines = [
        "# litgpt pretrain config (litgpt pretrain --config this.yaml).",
        *_header(p, source),
        "# litgpt schedules cosine only (pretrain.py: linear warm-up, cosine decay), so this file carries the plan's",
        f"# cosine peak {_float(p.cosine_peak_lr, 4)}, not its WSD peak {_float(p.peak_lr, 4)}; the cosine ends at "
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
        f"  norm_eps: {_float(RMS_NORM_EPS)}",
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
        f"  min_lr: {_float(p.cosine_peak_lr * 0.1, 4)}  # cosine to 10% of the peak (Hagele et al. 2024's baseline)",
        "optimizer:",
        "  class_path: torch.optim.AdamW",
        "  init_args:",
        f"    lr: {_float(p.cosine_peak_lr, 4)}  # the cosine peak (the plan's WSD peak is half of it)",
        "    weight_decay: 0.1",
        "    betas:",
        "    - 0.9",
        "    - 0.95",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# nanoGPT
# ---------------------------------------------------------------------------------------------------------------


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
        *_header(p, source),
        "# nanoGPT schedules cosine only (train.py get_lr), so this file carries the plan's cosine peak "
        f"{_float(p.cosine_peak_lr, 4)},",
        f"# not its WSD peak {_float(p.peak_lr, 4)}; the cosine ends at min_lr = peak / 10 (nanoGPT's default ratio).",
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
        f"learning_rate = {_float(p.cosine_peak_lr, 4)}",
        f"min_lr = {_float(p.cosine_peak_lr / 10, 4)}",
        "decay_lr = True",
        "weight_decay = 0.1",
        "beta1 = 0.9",
        "beta2 = 0.95",
        "grad_clip = 1.0",
        "dtype = 'bfloat16'",
    ]
    return "\n".join(lines) + "\n"
