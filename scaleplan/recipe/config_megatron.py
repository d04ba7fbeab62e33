"""A Megatron-LM argument file or shell script read back (``--flag value``; simple ``NAME=value`` variables
expanded), and the vocabulary padding Megatron builds."""

from __future__ import annotations

import math
import re
import shlex
from typing import Any

from ..schema import limits
from .config_values import ModelConfig, Source, shape_block


def megatron_padded_vocab(vocab: int, divisible_by: int = 128, tp: int = 1) -> int:
    """The vocabulary Megatron-LM builds: `vocab` padded up to a multiple of divisible_by x TP
    (megatron/training/vocab_utils.py:58 at d98e8a64)."""
    multiple = divisible_by * tp
    return int(math.ceil(vocab / multiple) * multiple)


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


def read_megatron(src: Source, text: str) -> ModelConfig:
    a = megatron_arguments(text, src.path)
    if "--num-layers" not in a or "--hidden-size" not in a:
        needed = "--num-layers and --hidden-size"  # Megatron's argument names (the file's keys), not scaleplan flags
        raise src.fail(f"no {needed}: not a Megatron-LM argument file")

    def whole(flag, default=None, cap=limits.MAX_SHAPE):
        return _whole(src, a, flag, default, cap)

    d = whole("--hidden-size")
    heads = whole("--num-attention-heads")
    swiglu = a.get("--swiglu") is True
    warnings: list[str] = []
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
    arch = _architecture(src, a, swiglu, warnings)
    seq = whole("--seq-length", cap=limits.MAX_CONTEXT)
    shape = shape_block(
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
    return ModelConfig(src.path, "megatron", shape, _training(src, a, seq, tp), tuple(warnings))


def _whole(src: Source, a: dict, flag: str, default=None, cap=limits.MAX_SHAPE) -> int:
    """A flag's whole-number value (``default`` when absent): refused when missing or given without a value."""
    value = a.get(flag, default)
    if value is None:
        raise src.fail(f"no {flag}: scaleplan needs it to count the model")
    if value is True:
        raise src.fail(f"{flag} has no value")
    return src.whole(flag, value, cap)


def _architecture(src: Source, a: dict, swiglu: bool, warnings: list[str]) -> str:
    """llama (--swiglu, rope, --disable-bias-linear) or gpt (none of the three); a mix is refused. A llama file
    without --normalization RMSNorm gets a warning (appended to ``warnings``)."""
    rope = a.get("--position-embedding-type", "learned_absolute") == "rope"
    no_bias = a.get("--disable-bias-linear") is True
    norm = a.get("--normalization", "LayerNorm")
    if swiglu and rope and no_bias:
        if norm != "RMSNorm":
            warnings.append(
                f"normalization {norm} (Megatron's default; the file does not give --normalization RMSNorm) adds a "
                "bias to each norm; scaleplan counts the Llama architecture's RMSNorm, without them"
            )
        return "llama"
    if not swiglu and not rope and not no_bias:
        return "gpt"
    raise src.fail(
        "the arguments mix architectures: scaleplan counts Llama-style models (--swiglu, --position-embedding-"
        "type rope, --disable-bias-linear) or GPT-2-style ones (none of the three)"
    )


def _training(src: Source, a: dict, seq: int, tp: int) -> dict[str, Any]:
    """What the arguments say about training: sequence length, batches, tokens, learning rates, schedule, layout
    and precision."""
    training: dict[str, Any] = {"sequence_length": seq}
    micro = a.get("--micro-batch-size")
    if micro is not None:
        training["micro_batch"] = _whole(src, a, "--micro-batch-size")
    if "--global-batch-size" in a:
        training["batch_sequences"] = _whole(src, a, "--global-batch-size")
    if "--train-samples" in a:
        training["tokens"] = float(_whole(src, a, "--train-samples", cap=10**18)) * seq
    elif "--train-iters" in a and "batch_sequences" in training:
        training["tokens"] = float(_whole(src, a, "--train-iters", cap=10**18)) * training["batch_sequences"] * seq
    for flag, key in (("--lr", "learning_rate"), ("--min-lr", "min_lr")):
        if flag in a and a[flag] is not True:
            training[key] = src.number(flag, a[flag])
    style = a.get("--lr-decay-style")
    if isinstance(style, str):
        training["schedule"] = style if style != "WSD" else f"wsd ({a.get('--lr-wsd-decay-style', 'exponential')})"
    training["tp"] = tp
    training["pp"] = _whole(src, a, "--pipeline-model-parallel-size", 1)
    training["precision"] = "fp8" if "--fp8-format" in a else ("bf16" if a.get("--bf16") is True else "fp32")
    return training
