"""Reading trainers' model configurations back: a Hugging Face config.json, a Megatron-LM argument file, a nanotron
or litgpt YAML, a torchtitan module or a nanoGPT config, each to the shape block a plan carries.

Every file comes in through scaleplan.core.files.read_text (and YAML through scaleplan.core._yaml's checked loader). The
result is a `ModelConfig`: the `shape` block with the plan's keys (arch, layers, d_model, heads, kv_heads,
head_dim, d_ff, vocab, context, tied_embeddings), what the file says about training (tokens, batch, learning rate,
parallel layout) where it says anything, and warnings where the file builds a model scaleplan counts differently.
Counting is not done here: `ModelConfig.to_shape()` hands the block to recipe.Shape, the one parameter counter.

Formats and the keys read (../shared/reference/trainer-configs.md gives each framework's source and commit):

- ``hf``: ``config.json`` of the Llama family (``model_type`` llama or mistral) or GPT-2 (``gpt2``).
- ``megatron``: ``--flag value`` arguments, in a shell script (simple ``NAME=value`` variables are expanded, as
  Megatron's own examples use them) or a file of arguments; also the ``--flag: value`` YAML of its functional tests.
- ``nanotron``: ``model.model_config`` with ``tokens``, ``optimizer.learning_rate_scheduler`` and ``parallelism``.
- ``litgpt``: a pretrain YAML with a full ``model_config`` and ``train``.
- ``torchtitan``: the module ``scaleplan export torchtitan`` writes (literal keyword arguments, read with ``ast``).
- ``nanogpt``: a ``config/train_*.py`` of literal assignments (read with ``ast``, never run).
"""

from __future__ import annotations

import ast
import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.files import read_text
from ..schema import limits

__all__ = [
    "FORMATS",
    "ModelConfig",
    "megatron_padded_vocab",
    "read_config",
    "torchtitan_ffn_dim",
]

FORMATS = ("hf", "megatron", "nanotron", "litgpt", "torchtitan", "nanogpt")
MAX_CONFIG_BYTES = 1024 * 1024  # a trainer's config is a few kB; Megatron's example scripts ~6 kB
SHAPE_KEYS = (
    "arch",
    "layers",
    "d_model",
    "heads",
    "kv_heads",
    "head_dim",
    "d_ff",
    "vocab",
    "context",
    "tied_embeddings",
)

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


def megatron_padded_vocab(vocab: int, divisible_by: int = 128, tp: int = 1) -> int:
    """The vocabulary Megatron-LM builds: `vocab` padded up to a multiple of divisible_by x TP
    (megatron/training/vocab_utils.py:58 at d98e8a64)."""
    multiple = divisible_by * tp
    return int(math.ceil(vocab / multiple) * multiple)


@dataclass(frozen=True)
class ModelConfig:
    """A trainer's model configuration: the plan's shape block, what it says about training, and warnings."""

    path: str
    format: str
    shape: dict
    training: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_shape(self):
        """The shape as recipe.Shape, the one parameter counter."""
        from .shape import Shape

        return Shape(**self.shape)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "format": self.format,
            "shape": dict(self.shape),
            "training": dict(self.training),
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------------------------


class _Source:
    """Where values come from: messages name the file and the key ('config.json: num_attention_heads ...')."""

    def __init__(self, path, fmt: str):
        self.path, self.fmt = str(path), fmt

    def fail(self, message: str) -> ScaleplanError:
        return ScaleplanError(f"{self.path}: {message}")

    def whole(self, key: str, value, cap: int = limits.MAX_SHAPE, *, low: int = 1) -> int:
        if isinstance(value, str):
            try:
                value = float(value.replace("_", "")) if re.fullmatch(r"[-+0-9._eE]+", value.strip()) else value
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(f"{key} must be a whole number, got {value!r}")
        if value != int(value) or not low <= value <= cap:
            raise self.fail(f"{key} must be a whole number from {low:,} to {cap:,}, got {value!r}")
        return int(value)

    def number(self, key: str, value) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise self.fail(f"{key} must be a number of 0 or more, got {value!r}")
        return float(value)

    def flag(self, key: str, value) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise self.fail(f"{key} must be true or false, got {value!r}")


def _shape(src: _Source, **values) -> dict:
    """The shape block, checked: heads divide into KV groups, head_dim x heads is the attention width."""
    s = {k: values[k] for k in SHAPE_KEYS}
    if s["layers"] > limits.MAX_LAYERS:
        raise src.fail(
            f"{s['layers']:,} layers is more than {limits.MAX_LAYERS:,}: far deeper than any published model"
        )
    if s["heads"] % s["kv_heads"]:
        raise src.fail(f"{s['kv_heads']} key-value heads do not divide {s['heads']} attention heads")
    if s["context"] > limits.MAX_CONTEXT:
        raise src.fail(f"context {s['context']:,} is longer than {limits.MAX_CONTEXT:,} tokens")
    return s


def _need(src: _Source, mapping: dict, key: str, where: str = ""):
    if key not in mapping or mapping[key] is None:
        raise src.fail(f"no {where}{key}: a {src.fmt} model config needs it")
    return mapping[key]


# ---------------------------------------------------------------------------------------------------------------
# Hugging Face config.json
# ---------------------------------------------------------------------------------------------------------------

HF_LLAMA_TYPES = ("llama", "mistral")  # the same weights: Q, K, V, O, gate, up, down, two RMSNorms a layer


def _read_hf(src: _Source, raw: dict) -> ModelConfig:
    kind = raw.get("model_type")
    if kind == "gpt2":
        return _read_hf_gpt2(src, raw)
    if kind not in HF_LLAMA_TYPES:
        raise src.fail(
            f"model_type {kind!r} is not one scaleplan counts; give a Llama-family config (model_type "
            f"{' or '.join(HF_LLAMA_TYPES)}) or GPT-2 (gpt2)"
        )
    for key in ("attention_bias", "mlp_bias"):
        if raw.get(key):
            raise src.fail(f"{key} is true: scaleplan counts Llama-style models without biases")
    d = src.whole("hidden_size", _need(src, raw, "hidden_size"))
    heads = src.whole("num_attention_heads", _need(src, raw, "num_attention_heads"))
    kv = raw.get("num_key_value_heads")
    head_dim = raw.get("head_dim")
    if head_dim is None and d % heads:
        raise src.fail(f"hidden_size {d} is not a multiple of num_attention_heads {heads} (and no head_dim is given)")
    shape = _shape(
        src,
        arch="llama",
        layers=src.whole("num_hidden_layers", _need(src, raw, "num_hidden_layers")),
        d_model=d,
        heads=heads,
        kv_heads=heads if kv is None else src.whole("num_key_value_heads", kv),
        head_dim=d // heads if head_dim is None else src.whole("head_dim", head_dim),
        d_ff=src.whole("intermediate_size", _need(src, raw, "intermediate_size")),
        vocab=src.whole("vocab_size", _need(src, raw, "vocab_size")),
        # LlamaConfig's default max_position_embeddings is 2048 and tie_word_embeddings False
        context=src.whole("max_position_embeddings", raw.get("max_position_embeddings", 2048), limits.MAX_CONTEXT),
        tied_embeddings=src.flag("tie_word_embeddings", raw.get("tie_word_embeddings", False)),
    )
    training = {}
    if raw.get("torch_dtype") or raw.get("dtype"):
        training["dtype"] = str(raw.get("torch_dtype") or raw.get("dtype"))
    return ModelConfig(src.path, "hf", shape, training)


def _read_hf_gpt2(src: _Source, raw: dict) -> ModelConfig:
    d = src.whole("n_embd", _need(src, raw, "n_embd"))
    inner = raw.get("n_inner")
    heads = src.whole("n_head", _need(src, raw, "n_head"))
    if d % heads:
        raise src.fail(f"n_embd {d} is not a multiple of n_head {heads}")
    shape = _shape(
        src,
        arch="gpt",
        layers=src.whole("n_layer", _need(src, raw, "n_layer")),
        d_model=d,
        heads=heads,
        kv_heads=heads,
        head_dim=d // heads,
        d_ff=4 * d if inner is None else src.whole("n_inner", inner),
        vocab=src.whole("vocab_size", _need(src, raw, "vocab_size")),
        context=src.whole("n_positions", raw.get("n_positions", 1024), limits.MAX_CONTEXT),
        tied_embeddings=src.flag("tie_word_embeddings", raw.get("tie_word_embeddings", True)),
    )
    return ModelConfig(src.path, "hf", shape, {})


# ---------------------------------------------------------------------------------------------------------------
# Megatron-LM arguments
# ---------------------------------------------------------------------------------------------------------------

_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*(?:#.*)?$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_YAML_ARG = re.compile(r"^\s*(--[a-z0-9][a-z0-9-]*)\s*:\s*(.*?)\s*$")


def megatron_arguments(text: str, path="arguments") -> dict[str, Any]:
    """{'--num-layers': '32', '--swiglu': True, ...} from a shell script or argument file.

    Simple `NAME=value` variables (and `${NAME:-default}`) are expanded; comments and line continuations are
    followed; a quoted "--flag value" is split. A flag given twice keeps its last value, as argparse does.
    """
    variables: dict[str, str] = {}
    tokens: list[str] = []
    logical = re.sub(r"\\\n", " ", text)
    for line in logical.splitlines():
        m = _YAML_ARG.match(line)
        if m:  # the `--flag: value` YAML of Megatron's functional tests
            value = m.group(2).strip().strip("\"'")
            tokens.extend([m.group(1)] + ([value] if value not in ("", "true", "True") else []))
            continue
        m = _ASSIGN.match(line)
        if m:
            variables[m.group(1)] = _expand(m.group(2).strip("\"'"), variables)
            continue
        try:
            words = shlex.split(_expand(line, variables), comments=True)
        except ValueError:  # an unbalanced quote: this line is not arguments
            continue
        for word in words:
            tokens.extend(word.split() if word.startswith("--") and " " in word else [word])
    args: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("--") and len(tok) > 2:
            key, eq, inline = tok.partition("=")
            if eq:
                args[key] = inline
            elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--") and tokens[i + 1] not in (")", "("):
                args[key] = tokens[i + 1]
                i += 1
            else:
                args[key] = True
        i += 1
    return args


def _expand(text: str, variables: dict[str, str]) -> str:
    def sub(m):
        name = m.group(1) or m.group(3)
        if name in variables:
            return variables[name]
        return m.group(2) if m.group(2) is not None else m.group(0)

    return _VAR.sub(sub, text)


def _read_megatron(src: _Source, text: str) -> ModelConfig:
    a = megatron_arguments(text, src.path)
    if "--num-layers" not in a or "--hidden-size" not in a:
        needed = "--num-layers and --hidden-size"  # Megatron's argument names (the file's keys), not scaleplan flags
        raise src.fail(f"no {needed}: not a Megatron-LM argument file")

    def whole(flag, default=None, cap=limits.MAX_SHAPE):
        value = a.get(flag, default)
        if value is None:
            raise src.fail(f"no {flag}: scaleplan needs it to count the model")
        if value is True:
            raise src.fail(f"{flag} has no value")
        return src.whole(flag, value, cap)

    d = whole("--hidden-size")
    heads = whole("--num-attention-heads")
    swiglu = a.get("--swiglu") is True
    warnings = []
    if "--ffn-hidden-size" in a:
        d_ff = whole("--ffn-hidden-size")
    elif swiglu:  # megatron/training/arguments.py: int((4 * hidden_size * 2 / 3) / 64) * 64
        d_ff = int((4 * d * 2 / 3) / 64) * 64
    else:
        d_ff = 4 * d
    groups = whole("--num-query-groups") if a.get("--group-query-attention") is True else heads
    tp = whole("--tensor-model-parallel-size", 1)
    vocab_given = whole("--vocab-size")
    divisible = whole("--make-vocab-size-divisible-by", 128)
    vocab = megatron_padded_vocab(vocab_given, divisible, tp)
    if vocab != vocab_given:
        warnings.append(
            f"Megatron pads --vocab-size {vocab_given:,} to {vocab:,} (a multiple of --make-vocab-size-divisible-by "
            f"{divisible} x TP {tp}); the padded vocabulary is counted"
        )
    rope = a.get("--position-embedding-type", "learned_absolute") == "rope"
    no_bias = a.get("--disable-bias-linear") is True
    norm = a.get("--normalization", "LayerNorm")
    if swiglu and rope and no_bias:
        arch = "llama"
        if norm != "RMSNorm":
            warnings.append(
                f"normalization {norm} (Megatron's default; the file does not give --normalization RMSNorm) adds a "
                "bias to each norm; scaleplan counts the Llama architecture's RMSNorm, without them"
            )
    elif not swiglu and not rope and not no_bias:
        arch = "gpt"
    else:
        raise src.fail(
            "the arguments mix architectures: scaleplan counts Llama-style models (--swiglu, --position-embedding-"
            "type rope, --disable-bias-linear) or GPT-2-style ones (none of the three)"
        )
    seq = whole("--seq-length", cap=limits.MAX_CONTEXT)
    shape = _shape(
        src,
        arch=arch,
        layers=whole("--num-layers", cap=limits.MAX_SHAPE),
        d_model=d,
        heads=heads,
        kv_heads=groups,
        head_dim=whole("--kv-channels", d // heads if d % heads == 0 else None),
        d_ff=d_ff,
        vocab=vocab,
        context=seq,
        tied_embeddings=a.get("--untie-embeddings-and-output-weights") is not True,
    )
    training: dict[str, Any] = {"sequence_length": seq}
    micro = a.get("--micro-batch-size")
    if micro is not None:
        training["micro_batch"] = whole("--micro-batch-size")
    if "--global-batch-size" in a:
        training["batch_sequences"] = whole("--global-batch-size")
    if "--train-samples" in a:
        training["tokens"] = float(whole("--train-samples", cap=10**18)) * seq
    elif "--train-iters" in a and "batch_sequences" in training:
        training["tokens"] = float(whole("--train-iters", cap=10**18)) * training["batch_sequences"] * seq
    for flag, key in (("--lr", "learning_rate"), ("--min-lr", "min_lr")):
        if flag in a and a[flag] is not True:
            training[key] = src.number(flag, a[flag])
    style = a.get("--lr-decay-style")
    if isinstance(style, str):
        training["schedule"] = style if style != "WSD" else f"wsd ({a.get('--lr-wsd-decay-style', 'exponential')})"
    training["tp"] = tp
    training["pp"] = whole("--pipeline-model-parallel-size", 1)
    training["precision"] = "fp8" if "--fp8-format" in a else ("bf16" if a.get("--bf16") is True else "fp32")
    return ModelConfig(src.path, "megatron", shape, training, tuple(warnings))


# ---------------------------------------------------------------------------------------------------------------
# nanotron and litgpt YAML
# ---------------------------------------------------------------------------------------------------------------


def _mapping(src: _Source, node, where: str) -> dict:
    if not isinstance(node, dict):
        raise src.fail(f"{where} must be a mapping")
    return node


def _read_nanotron(src: _Source, raw: dict) -> ModelConfig:
    mc = _mapping(src, raw["model"]["model_config"], "model.model_config")
    w = "model.model_config."
    d = src.whole(w + "hidden_size", _need(src, mc, "hidden_size", w))
    heads = src.whole(w + "num_attention_heads", _need(src, mc, "num_attention_heads", w))
    if d % heads:
        raise src.fail(f"hidden_size {d} is not a multiple of num_attention_heads {heads}")
    kv = mc.get("num_key_value_heads")
    tokens = _mapping(src, raw.get("tokens") or {}, "tokens")
    seq = tokens.get("sequence_length")
    context = mc.get("max_position_embeddings", seq)
    vocab = src.whole(w + "vocab_size", _need(src, mc, "vocab_size", w))
    divisible = (raw.get("model") or {}).get("make_vocab_size_divisible_by", 1)
    warnings = []
    padded = int(math.ceil(vocab / src.whole("model.make_vocab_size_divisible_by", divisible)) * divisible)
    if padded != vocab:
        warnings.append(f"nanotron pads vocab_size {vocab:,} to {padded:,} (make_vocab_size_divisible_by {divisible})")
    shape = _shape(
        src,
        arch="llama",
        layers=src.whole(w + "num_hidden_layers", _need(src, mc, "num_hidden_layers", w)),
        d_model=d,
        heads=heads,
        kv_heads=heads if kv is None else src.whole(w + "num_key_value_heads", kv),
        head_dim=d // heads,
        d_ff=src.whole(w + "intermediate_size", _need(src, mc, "intermediate_size", w)),
        vocab=padded,
        context=src.whole(w + "max_position_embeddings", _need(src, {"c": context}, "c", w), limits.MAX_CONTEXT),
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


def _read_litgpt(src: _Source, raw: dict) -> ModelConfig:
    mc = _mapping(src, raw["model_config"], "model_config")
    w = "model_config."
    d = src.whole(w + "n_embd", _need(src, mc, "n_embd", w))
    heads = src.whole(w + "n_head", _need(src, mc, "n_head", w))
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
    d_ff = src.whole(w + "intermediate_size", _need(src, mc, "intermediate_size", w))
    vocab = src.whole(w + "vocab_size", _need(src, mc, "vocab_size", w))
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
    shape = _shape(
        src,
        arch=arch,
        layers=src.whole(w + "n_layer", _need(src, mc, "n_layer", w)),
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


# ---------------------------------------------------------------------------------------------------------------
# Python: torchtitan modules and nanoGPT configs (read with ast, never run)
# ---------------------------------------------------------------------------------------------------------------


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _read_nanogpt(src: _Source, module: ast.Module) -> ModelConfig:
    values = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = _literal(node.value)
    d = src.whole("n_embd", _need(src, values, "n_embd"))
    heads = src.whole("n_head", _need(src, values, "n_head"))
    if d % heads:
        raise src.fail(f"n_embd {d} is not a multiple of n_head {heads}")
    warnings = []
    if "vocab_size" not in values:
        warnings.append("no vocab_size: nanoGPT's default 50,304 (train.py, without a dataset meta.pkl) is counted")
    context = src.whole("block_size", values.get("block_size", 1024), limits.MAX_CONTEXT)
    layers = src.whole("n_layer", _need(src, values, "n_layer"))
    if not src.flag("bias", values.get("bias", False)):  # train.py's default: bias = False
        warnings.append(
            f"bias = False (nanoGPT's default): its model has no biases in its linear layers and LayerNorms, "
            f"{11 * d * layers + d:,} parameters fewer than the GPT-2 count here"
        )
    shape = _shape(
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


def _read_torchtitan(src: _Source, module: ast.Module) -> ModelConfig:
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
    dim = src.whole("MODEL['dim']", _need(src, model, "dim", "MODEL."))
    heads = src.whole("MODEL['n_heads']", _need(src, model, "n_heads", "MODEL."))
    multiple_of = src.whole("MODEL['multiple_of']", _need(src, model, "multiple_of", "MODEL."))
    mult = model.get("ffn_dim_multiplier")
    if dim % heads:
        raise src.fail(f"dim {dim} is not a multiple of n_heads {heads}")
    shape = _shape(
        src,
        arch="llama",
        layers=src.whole("MODEL['n_layers']", _need(src, model, "n_layers", "MODEL.")),
        d_model=dim,
        heads=heads,
        kv_heads=src.whole("MODEL['n_kv_heads']", model.get("n_kv_heads", heads)),
        head_dim=dim // heads,
        d_ff=torchtitan_ffn_dim(dim, multiple_of, None if mult is None else src.number("ffn_dim_multiplier", mult)),
        vocab=src.whole("MODEL['vocab_size']", _need(src, model, "vocab_size", "MODEL.")),
        context=src.whole("MODEL['max_context_length']", model.get("max_context_length", 2048), limits.MAX_CONTEXT),
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


# ---------------------------------------------------------------------------------------------------------------
# the one entry point
# ---------------------------------------------------------------------------------------------------------------


def detect(path, text: str) -> str:
    """The format of a config file, from its name and content."""
    suffix = Path(str(path)).suffix.lower()
    stripped = text.lstrip()
    if suffix == ".json" or stripped.startswith("{"):
        return "hf"
    if suffix == ".py":
        return "torchtitan" if re.search(r"^MODEL\s*=", text, re.M) else "nanogpt"
    if re.search(r"^\s*(?:[\"']?--num-layers\b)|\s--num-layers\b", text, re.M):
        return "megatron"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise ScaleplanError(
        f"{path}: not a model config scaleplan reads (a Hugging Face config.json, a Megatron-LM argument file, a "
        "nanotron or litgpt YAML, a torchtitan module from scaleplan export, or a nanoGPT config .py)"
    )


def read_config(path, fmt: str | None = None) -> ModelConfig:
    """A trainer's model config from `path`: the format from its name and content unless `fmt` names it."""
    text = read_text(path, "model config", max_bytes=MAX_CONFIG_BYTES)
    kind = detect(path, text) if fmt is None else fmt
    if kind not in (*FORMATS, "yaml"):
        raise ScaleplanError(f"<format> must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if kind == "hf":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScaleplanError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise ScaleplanError(f"{path}: nested too deeply to be a model config") from None
        if not isinstance(raw, dict):
            raise ScaleplanError(f"{path}: a config.json holds one JSON object")
        return _read_hf(_Source(path, "Hugging Face"), raw)
    if kind == "megatron":
        return _read_megatron(_Source(path, "Megatron-LM"), text)
    if kind in ("torchtitan", "nanogpt"):
        try:
            module = ast.parse(text, filename=str(path))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise ScaleplanError(f"{path}: not valid Python ({getattr(exc, 'msg', exc)})") from None
        if kind == "torchtitan":
            return _read_torchtitan(_Source(path, "torchtitan"), module)
        return _read_nanogpt(_Source(path, "nanoGPT"), module)
    raw = _yaml.load_user(text, path)
    if not isinstance(raw, dict):
        raise ScaleplanError(f"{path}: a model config holds a mapping of keys")
    if isinstance(raw.get("model"), dict) and "model_config" in raw["model"] and kind in ("yaml", "nanotron"):
        return _read_nanotron(_Source(path, "nanotron"), raw)
    if "model_config" in raw and kind in ("yaml", "litgpt"):
        return _read_litgpt(_Source(path, "litgpt"), raw)
    raise ScaleplanError(
        f"{path}: a YAML without model.model_config (nanotron) or model_config (litgpt); scaleplan reads those"
    )
