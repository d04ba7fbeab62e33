"""A Hugging Face ``config.json`` read back: the Llama family (``model_type`` llama or mistral) or GPT-2."""

from __future__ import annotations

from ..schema import limits
from .config_values import ModelConfig, Source, need, shape_block

HF_LLAMA_TYPES = ("llama", "mistral")  # the same weights: Q, K, V, O, gate, up, down, two RMSNorms a layer
# transformers' own defaults for the keys a config.json may leave out, which the library fills in when it loads one:
# LlamaConfig max_position_embeddings = 2048 (src/transformers/models/llama/configuration_llama.py), MistralConfig
# max_position_embeddings = 4096 * 32 and num_key_value_heads = 8 (models/mistral/configuration_mistral.py; Llama's
# None means one KV head per query head); both tie_word_embeddings = False. Not scaleplan's DEFAULT_CONTEXT.
HF_DEFAULT_CONTEXT = {"llama": 2048, "mistral": 4096 * 32}
HF_DEFAULT_KV_HEADS = {"llama": None, "mistral": 8}
GPT2_DEFAULT_CONTEXT = 1024  # GPT2Config n_positions (models/gpt2/configuration_gpt2.py)


def read_hf(src: Source, raw: dict) -> ModelConfig:
    kind = raw.get("model_type")
    if kind == "gpt2":
        return read_hf_gpt2(src, raw)
    if kind not in HF_LLAMA_TYPES:
        raise src.fail(
            f"model_type {kind!r} is not one scaleplan counts; give a Llama-family config (model_type "
            f"{' or '.join(HF_LLAMA_TYPES)}) or GPT-2 (gpt2)"
        )
    for key in ("attention_bias", "mlp_bias"):
        if raw.get(key):
            raise src.fail(f"{key} is true: scaleplan counts Llama-style models without biases")
    d = src.whole("hidden_size", need(src, raw, "hidden_size"))
    heads = src.whole("num_attention_heads", need(src, raw, "num_attention_heads"))
    kv = raw.get("num_key_value_heads", HF_DEFAULT_KV_HEADS[kind])
    head_dim = raw.get("head_dim")
    if head_dim is None and d % heads:
        raise src.fail(f"hidden_size {d} is not a multiple of num_attention_heads {heads} (and no head_dim is given)")
    shape = shape_block(
        src,
        arch="llama",
        layers=src.whole("num_hidden_layers", need(src, raw, "num_hidden_layers")),
        d_model=d,
        heads=heads,
        kv_heads=heads if kv is None else src.whole("num_key_value_heads", kv),
        head_dim=d // heads if head_dim is None else src.whole("head_dim", head_dim),
        d_ff=src.whole("intermediate_size", need(src, raw, "intermediate_size")),
        vocab=src.whole("vocab_size", need(src, raw, "vocab_size")),
        context=src.whole(
            "max_position_embeddings", raw.get("max_position_embeddings", HF_DEFAULT_CONTEXT[kind]), limits.MAX_CONTEXT
        ),
        tied_embeddings=src.flag("tie_word_embeddings", raw.get("tie_word_embeddings", False)),
    )
    training = {}
    if raw.get("torch_dtype") or raw.get("dtype"):
        training["dtype"] = str(raw.get("torch_dtype") or raw.get("dtype"))
    return ModelConfig(src.path, "hf", shape, training)


def read_hf_gpt2(src: Source, raw: dict) -> ModelConfig:
    d = src.whole("n_embd", need(src, raw, "n_embd"))
    inner = raw.get("n_inner")
    heads = src.whole("n_head", need(src, raw, "n_head"))
    if d % heads:
        raise src.fail(f"n_embd {d} is not a multiple of n_head {heads}")
    shape = shape_block(
        src,
        arch="gpt",
        layers=src.whole("n_layer", need(src, raw, "n_layer")),
        d_model=d,
        heads=heads,
        kv_heads=heads,
        head_dim=d // heads,
        d_ff=4 * d if inner is None else src.whole("n_inner", inner),
        vocab=src.whole("vocab_size", need(src, raw, "vocab_size")),
        context=src.whole("n_positions", raw.get("n_positions", GPT2_DEFAULT_CONTEXT), limits.MAX_CONTEXT),
        tied_embeddings=src.flag("tie_word_embeddings", raw.get("tie_word_embeddings", True)),
    )
    return ModelConfig(src.path, "hf", shape, {})
