"""Python configs read with ``ast``, never run: the torchtitan module ``scaleplan export torchtitan`` writes, and
nanoGPT's ``config/train_*.py``; torchtitan's SwiGLU width."""

from __future__ import annotations

import ast
from typing import Any

from ..schema import limits
from ..schema.conventions import DEFAULT_CONTEXT
from .config_values import ModelConfig, Source, need, shape_block

# torchtitan's compute_ffn_hidden_dim (torchtitan/models/common/feed_forward.py 18-31 at b5bcd76c):
# hidden = int(2 * 4 * dim / 3); hidden = int(ffn_dim_multiplier * hidden); round up to a multiple of multiple_of.


def torchtitan_ffn_dim(dim: int, multiple_of: int = 1, ffn_dim_multiplier: float | None = None) -> int:
    """The SwiGLU width torchtitan builds for `dim`, as its compute_ffn_hidden_dim computes it.

    >>> torchtitan_ffn_dim(4096, 1024, 1.3), torchtitan_ffn_dim(8192, 4096, 1.3), torchtitan_ffn_dim(16384, 4096, 1.2)
    (14336, 28672, 53248)
    """
    hidden = int(2 * 4 * dim / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def read_nanogpt(src: Source, module: ast.Module) -> ModelConfig:
    values = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = _literal(node.value)
    d = src.whole("n_embd", need(src, values, "n_embd"))
    heads = src.whole("n_head", need(src, values, "n_head"))
    if d % heads:
        raise src.fail(f"n_embd {d} is not a multiple of n_head {heads}")
    warnings = []
    if "vocab_size" not in values:
        warnings.append("no vocab_size: nanoGPT's default 50,304 (train.py, without a dataset meta.pkl) is counted")
    context = src.whole("block_size", values.get("block_size", 1024), limits.MAX_CONTEXT)
    layers = src.whole("n_layer", need(src, values, "n_layer"))
    if not src.flag("bias", values.get("bias", False)):  # train.py's default: bias = False
        warnings.append(
            f"bias = False (nanoGPT's default): its model has no biases in its linear layers and LayerNorms, "
            f"{11 * d * layers + d:,} parameters fewer than the GPT-2 count here"
        )
    shape = shape_block(
        src,
        arch="gpt",
        layers=layers,
        d_model=d,
        heads=heads,
        kv_heads=heads,
        head_dim=d // heads,
        d_ff=4 * d,
        vocab=src.whole("vocab_size", values.get("vocab_size", 50304)),
        context=context,
        tied_embeddings=True,  # model.py: self.transformer.wte.weight = self.lm_head.weight
    )
    training: dict[str, Any] = {"sequence_length": context}
    if all(values.get(k) is not None for k in ("batch_size", "gradient_accumulation_steps")):
        training["batch_sequences"] = src.whole("batch_size", values["batch_size"]) * src.whole(
            "gradient_accumulation_steps", values["gradient_accumulation_steps"]
        )
        if values.get("max_iters") is not None:
            training["steps"] = src.whole("max_iters", values["max_iters"], 10**15)
            training["tokens"] = float(training["steps"]) * training["batch_sequences"] * context
    for key, out in (("learning_rate", "learning_rate"), ("min_lr", "min_lr")):
        if values.get(key) is not None:
            training[out] = src.number(key, values[key])
    if "learning_rate" in training:
        training["schedule"] = "cosine"
    return ModelConfig(src.path, "nanogpt", shape, training, tuple(warnings))


def _call_keywords(module: ast.Module) -> dict[str, Any]:
    """Every literal keyword argument of every call in the module, by name (the last one wins)."""
    out: dict[str, Any] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg is not None:
                    value = _literal(kw.value)
                    if value is not None:
                        out[kw.arg] = value
    return out


def read_torchtitan(src: Source, module: ast.Module) -> ModelConfig:
    """The module `scaleplan export torchtitan` writes: the SCALEPLAN_SHAPE dict literal and keyword arguments."""
    shape_node = next(
        (
            n.value
            for n in module.body
            if isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
            and n.targets[0].id == "MODEL"
        ),
        None,
    )
    model = _literal(shape_node) if shape_node is not None else None
    if not isinstance(model, dict):
        raise src.fail("no MODEL = {...} literal: not a module written by scaleplan export torchtitan")
    dim = src.whole("MODEL['dim']", need(src, model, "dim", "MODEL."))
    heads = src.whole("MODEL['n_heads']", need(src, model, "n_heads", "MODEL."))
    multiple_of = src.whole("MODEL['multiple_of']", need(src, model, "multiple_of", "MODEL."))
    mult = model.get("ffn_dim_multiplier")
    if dim % heads:
        raise src.fail(f"dim {dim} is not a multiple of n_heads {heads}")
    shape = shape_block(
        src,
        arch="llama",
        layers=src.whole("MODEL['n_layers']", need(src, model, "n_layers", "MODEL.")),
        d_model=dim,
        heads=heads,
        kv_heads=src.whole("MODEL['n_kv_heads']", model.get("n_kv_heads", heads)),
        head_dim=dim // heads,
        d_ff=torchtitan_ffn_dim(dim, multiple_of, None if mult is None else src.number("ffn_dim_multiplier", mult)),
        vocab=src.whole("MODEL['vocab_size']", need(src, model, "vocab_size", "MODEL.")),
        context=src.whole(
            "MODEL['max_context_length']", model.get("max_context_length", DEFAULT_CONTEXT), limits.MAX_CONTEXT
        ),
        tied_embeddings=src.flag("MODEL['enable_weight_tying']", model.get("enable_weight_tying", False)),
    )
    kw = _call_keywords(module)
    training: dict[str, Any] = {}
    for key, out in (("steps", "steps"), ("max_context_length", "sequence_length"), ("lr", "learning_rate")):
        if isinstance(kw.get(key), (int, float)) and not isinstance(kw.get(key), bool):
            training[out] = kw[key]
    if isinstance(kw.get("num_tokens_per_train_step"), int) and "steps" in training:
        training["tokens"] = float(kw["num_tokens_per_train_step"]) * training["steps"]
    return ModelConfig(src.path, "torchtitan", shape, training)
