"""nanotron and litgpt YAML configs read back."""

from __future__ import annotations

import math
from typing import Any

from ..schema import limits
from .config_values import ModelConfig, Source, need, shape_block


def _mapping(src: Source, node, where: str) -> dict:
    if not isinstance(node, dict):
        raise src.fail(f"{where} must be a mapping")
    return node


def read_nanotron(src: Source, raw: dict) -> ModelConfig:
    mc = _mapping(src, raw["model"]["model_config"], "model.model_config")
    w = "model.model_config."
    d = src.whole(w + "hidden_size", need(src, mc, "hidden_size", w))
    heads = src.whole(w + "num_attention_heads", need(src, mc, "num_attention_heads", w))
    if d % heads:
        raise src.fail(f"hidden_size {d} is not a multiple of num_attention_heads {heads}")
    kv = mc.get("num_key_value_heads")
    tokens = _mapping(src, raw.get("tokens") or {}, "tokens")
    seq = tokens.get("sequence_length")
    context = mc.get("max_position_embeddings", seq)
    vocab = src.whole(w + "vocab_size", need(src, mc, "vocab_size", w))
    divisible = (raw.get("model") or {}).get("make_vocab_size_divisible_by", 1)
    warnings = []
    padded = int(math.ceil(vocab / src.whole("model.make_vocab_size_divisible_by", divisible)) * divisible)
    if padded != vocab:
        warnings.append(f"nanotron pads vocab_size {vocab:,} to {padded:,} (make_vocab_size_divisible_by {divisible})")
    shape = shape_block(
        src,
        arch="llama",
        layers=src.whole(w + "num_hidden_layers", need(src, mc, "num_hidden_layers", w)),
        d_model=d,
        heads=heads,
        kv_heads=heads if kv is None else src.whole(w + "num_key_value_heads", kv),
        head_dim=d // heads,
        d_ff=src.whole(w + "intermediate_size", need(src, mc, "intermediate_size", w)),
        vocab=padded,
        context=src.whole(w + "max_position_embeddings", need(src, {"c": context}, "c", w), limits.MAX_CONTEXT),
        tied_embeddings=src.flag(w + "tie_word_embeddings", mc.get("tie_word_embeddings", False)),
    )
    training: dict[str, Any] = {}
    par = _mapping(src, raw.get("parallelism") or {}, "parallelism")
    for key in ("dp", "tp", "pp"):
        if key in par:
            training[key] = src.whole(f"parallelism.{key}", par[key])
    if seq is not None:
        training["sequence_length"] = src.whole("tokens.sequence_length", seq, limits.MAX_CONTEXT)
        micro = tokens.get("micro_batch_size")
        accum = tokens.get("batch_accumulation_per_replica", 1)
        if micro is not None:
            training["micro_batch"] = src.whole("tokens.micro_batch_size", micro)
            seqs = training["micro_batch"] * src.whole("tokens.batch_accumulation_per_replica", accum)
            training["batch_sequences"] = seqs * training.get("dp", 1)
            if "train_steps" in tokens:
                steps = src.whole("tokens.train_steps", tokens["train_steps"], 10**15)
                training["steps"] = steps
                training["tokens"] = float(steps) * training["batch_sequences"] * training["sequence_length"]
    sched = ((raw.get("optimizer") or {}).get("learning_rate_scheduler")) or {}
    if isinstance(sched, dict):
        if "learning_rate" in sched:
            training["learning_rate"] = src.number("learning_rate_scheduler.learning_rate", sched["learning_rate"])
        if "min_decay_lr" in sched and sched["min_decay_lr"] is not None:
            training["min_lr"] = src.number("learning_rate_scheduler.min_decay_lr", sched["min_decay_lr"])
        if "lr_decay_style" in sched:
            training["schedule"] = str(sched["lr_decay_style"])
    return ModelConfig(src.path, "nanotron", shape, training, tuple(warnings))


def read_litgpt(src: Source, raw: dict) -> ModelConfig:
    mc = _mapping(src, raw["model_config"], "model_config")
    w = "model_config."
    d = src.whole(w + "n_embd", need(src, mc, "n_embd", w))
    heads = src.whole(w + "n_head", need(src, mc, "n_head", w))
    mlp = mc.get("mlp_class_name", "GptNeoxMLP")
    train = _mapping(src, raw.get("train") or {}, "train")
    if mlp != "LLaMAMLP":
        raise src.fail(
            f"{w}mlp_class_name {mlp!r}: scaleplan counts litgpt's Llama-style models (LLaMAMLP); its GPT-NeoX-like "
            "defaults use rotary positions with a LayerNorm, which neither of scaleplan's architectures is"
        )
    arch = "llama"
    for key, want in (
        ("norm_class_name", "RMSNorm"),
        ("bias", False),
        ("parallel_residual", False),
        ("rotary_percentage", 1.0),
    ):
        if mc.get(key) != want:
            raise src.fail(
                f"{w}{key} is {mc.get(key)!r} (litgpt's default is GPT-NeoX-like); a Llama-style model_config "
                f"needs {key}: {want}"
            )
    d_ff = src.whole(w + "intermediate_size", need(src, mc, "intermediate_size", w))
    vocab = src.whole(w + "vocab_size", need(src, mc, "vocab_size", w))
    padded = mc.get("padded_vocab_size")
    if padded is None:  # litgpt/config.py: padded_vocab_size = find_multiple(vocab_size, padding_multiple)
        multiple = src.whole(w + "padding_multiple", mc.get("padding_multiple", 512))
        padded = int(math.ceil(vocab / multiple) * multiple)
    padded = src.whole(w + "padded_vocab_size", padded)
    warnings = []
    if padded != vocab:
        warnings.append(f"litgpt pads vocab_size {vocab:,} to {padded:,}; the padded vocabulary is counted")
    kv = mc.get("n_query_groups")
    head_size = mc.get("head_size")
    shape = shape_block(
        src,
        arch=arch,
        layers=src.whole(w + "n_layer", need(src, mc, "n_layer", w)),
        d_model=d,
        heads=heads,
        kv_heads=heads if kv is None else src.whole(w + "n_query_groups", kv),
        head_dim=d // heads if head_size is None else src.whole(w + "head_size", head_size),
        d_ff=d_ff,
        vocab=padded,
        context=src.whole(w + "block_size", mc.get("block_size", 4096), limits.MAX_CONTEXT),
        tied_embeddings=src.flag("train.tie_embeddings", train.get("tie_embeddings") or False),
    )
    training: dict[str, Any] = {}
    seq = train.get("max_seq_length")
    if seq is not None:
        training["sequence_length"] = src.whole("train.max_seq_length", seq, limits.MAX_CONTEXT)
    if "global_batch_size" in train:
        training["batch_sequences"] = src.whole("train.global_batch_size", train["global_batch_size"])
    if "micro_batch_size" in train:
        training["micro_batch"] = src.whole("train.micro_batch_size", train["micro_batch_size"])
    if train.get("max_tokens") is not None:
        training["tokens"] = src.number("train.max_tokens", train["max_tokens"])
    if train.get("min_lr") is not None:
        training["min_lr"] = src.number("train.min_lr", train["min_lr"])
    lr = (
        (((raw.get("optimizer") or {}).get("init_args")) or {}).get("lr")
        if isinstance(raw.get("optimizer"), dict)
        else None
    )
    if lr is not None:
        training["learning_rate"] = src.number("optimizer.init_args.lr", lr)
        training["schedule"] = "cosine"
    return ModelConfig(src.path, "litgpt", shape, training, tuple(warnings))
