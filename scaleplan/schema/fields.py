"""One parser per input: every option several commands take (a flag, a budget file's key, a library argument) is
parsed and capped here, once, with one message for one mistake wherever it is made.

`parse(key, value, label)` turns a raw value (text from a flag or a YAML file, or a Python number) into the value
the planner uses, or raises ScaleplanError naming `label`. Labels are `<key>` marks by default, which the CLI
shows as the flag (`--serve-bits`) and Python as the argument (`serve_bits`). The caps are scaleplan.schema.limits'.

The CLI's `Annotated` options (scaleplan.cli.options) take the same help text, from HELP.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..core.errors import ScaleplanError
from . import limits
from .conventions import DEFAULT_CONTEXT
from .units import fmt_count, fmt_sci, parse_count, parse_flops, parse_fraction, parse_positive, parse_quantity

PRECISIONS = ("bf16", "fp8", "fp4")  # training precisions with a dense tensor-core peak in the hardware presets
RECOMPUTE = ("none", "selective", "full")
OBJECTIVES = ("flops", "cost")
ARCHS = ("llama", "gpt")  # scaleplan.recipe.design.ARCHS (recipe is not imported here: it loads its tables)

# field -> help: the flag's help and the budget file's description of the key (one text for both)
HELP = {
    "name": "Scenario name.",
    "law": "Law name or law file (default epoch); see `scaleplan laws`.",
    "flops": "Training budget in FLOPs, e.g. 1e21.",
    "gpus": f"Number of accelerators, a whole number up to {limits.MAX_GPUS:,} (default 1024).",
    "days": "Wall-clock days on --gpus (budget = gpus x days x peak x MFU).",
    "dollars": "Money for training, e.g. 2e6 or 2M (quote '$2M' in a shell); the budget at --price.",
    "price": "Dollars per GPU-hour (default: the preset's).",
    "hardware": "Hardware preset (h100, a100, b200, mi300x, tpu-v5p, ...).",
    "peak_flops": "Peak FLOP/s per accelerator, instead of a preset's.",
    "mfu": "Model FLOPs utilisation in (0, 1] (default 0.4).",
    "inference_tokens": "Tokens to serve: the inference-aware model and its serving cost (2N per token).",
    "inference": "Serving plan for inference-aware sizing (a mapping).",
    "precision": "Training precision: bf16 (default), fp8 or fp4; the preset's dense peak at it.",
    "params": "Judge a fixed choice: parameters (with --tokens).",
    "tokens": "Judge a fixed choice: training tokens (with --params).",
    "model": (
        "A given model: a trainer's config (HF config.json, Megatron arguments, nanotron or litgpt YAML, an export), "
        "with --tokens (else the config's own)."
    ),
    "unique_tokens": "Unique training tokens available: plan epochs with Muennighoff et al. 2023.",
    "moe": "Plan a fine-grained mixture of experts (Krajewski et al. 2024).",
    "context": f"Sequence length, 1 to {limits.MAX_CONTEXT:,} (default {DEFAULT_CONTEXT:,}).",
    "vocab": "Pin the vocabulary size (default: Tao et al. 2024's optimum).",
    "layers": "Pin the number of layers; the rest of the shape adapts.",
    "d_model": "Pin the model width; the rest of the shape adapts.",
    "heads": "Pin the attention heads (tensor parallelism must divide them).",
    "arch": (
        "Architecture of the designed model: llama (SwiGLU, RMSNorm, RoPE, grouped-query attention; the default) "
        "or gpt (GPT-2: GELU MLP, LayerNorm, learned positions, tied embeddings)."
    ),
    "lr_law": "Learning-rate/batch law: steplaw, deepseek, porian, kaplan-bcrit, steplaw-paper.",
    "ci": (
        "Interval level, e.g. 0.8 or 80%: ranges on N, D, loss, learning rate, batch and cost from the law's "
        "bootstrap (epoch, or a law fitted with --bootstrap)."
    ),
    "hfu": "Hardware FLOPs utilisation in (0, 1], instead of --mfu (counts recomputed work).",
    "recompute": "Activation recompute: none, selective or full (HFU beside MFU; memory).",
    "zero": "ZeRO stage 0-3 for the memory model (default 1).",
    "micro_batch": f"Sequences per device per micro-batch, 1 to {limits.MAX_MICRO_BATCH:,} (default 1).",
    "tp": "Pin tensor parallelism (it must divide the heads).",
    "pp": "Pin pipeline parallelism (stages may be uneven, as DeepSeek-V3's 61 layers on 16).",
    "ep": "Pin expert parallelism for a mixture of experts (it divides the data-parallel degree).",
    "hardware_file": "A YAML file of presets adding to or overriding the bundled ones.",
    "serve_bits": (
        f"Weight bits to serve at, a whole number from {limits.SERVE_BITS[0]} to {limits.SERVE_BITS[1]} (8, 4, 3): "
        "the quantization penalty of the trained model."
    ),
    "objective": "With --inference-tokens: minimise total 'flops' (default) or total 'cost' (dollars).",
    "target_loss": (
        "Quality as a loss instead of a budget (with --inference-tokens): the inference-aware model reaching it."
    ),
    "granularity": "MoE granularity G >= 1 (default: the optimum).",
    "expansion": "MoE expansion rate E, 64 or 16 (total/active expert size).",
    "total_params": "A given MoE (with --moe, --active-params, --tokens): all parameters, e.g. 671B.",
    "active_params": "A given MoE: the parameters a token passes through, e.g. 37B.",
}


def _text(key: str) -> Callable:
    def parse(value, label: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ScaleplanError(f"{label} must be a non-empty string, got {value!r}")
        return value.strip()

    return parse


def _choice(options: tuple[str, ...], listed: str) -> Callable:
    def parse(value, label: str) -> str:
        choice = str(value).strip().lower() if not isinstance(value, bool) else ""
        if choice not in options:
            raise ScaleplanError(f"{label} must be {listed}, got {value!r}")
        return choice

    return parse


def whole(value, label: str, low: int, high: int) -> int:
    """A whole number in [low, high] (a flag's text, a YAML value or a Python number), or one message for all."""
    try:
        x = parse_quantity(value, label)
    except ScaleplanError:
        x = math.nan
    if not (math.isfinite(x) and x == math.floor(x) and low <= x <= high):
        shown = (
            f"a {len(str(abs(value)))}-digit number" if isinstance(value, int) and abs(value) > 10**18 else repr(value)
        )
        raise ScaleplanError(f"{label} must be a whole number from {low:,} to {high:,}, got {shown}")
    return int(x)


def _whole(low: int, high: int) -> Callable:
    return lambda value, label: whole(value, label, low, high)


def _context(value, label: str) -> int:
    """A sequence length in tokens. `8K` is refused in a flag and a file alike: 8,000 or 8,192 is a guess."""
    text = value.strip() if isinstance(value, str) else ""
    if text and text[-1:].isalpha() and text[:-1].replace(".", "", 1).replace("_", "").isdigit():
        raise ScaleplanError(
            f"{label} {value!r} is ambiguous (8K is 8,000 or 8,192): give the length in tokens, e.g. 8192"
        )
    return whole(value, label, 1, limits.MAX_CONTEXT)


def _gpus(value, label: str) -> float:
    x = parse_positive(value, label)
    if x != math.floor(x):
        raise ScaleplanError(f"{label} must be a whole number, got {value!r}")
    if x > limits.MAX_GPUS:
        raise ScaleplanError(f"{label} {value!r} is more accelerators than exist; the limit is {limits.MAX_GPUS:,}")
    return x


def _params(value, label: str) -> float:
    x = parse_count(value, label)
    if x > limits.MAX_PARAMS:
        raise ScaleplanError(
            f"{label}: {fmt_count(x)} parameters is beyond any plan (more than {fmt_sci(limits.MAX_PARAMS)}); "
            "check the units"
        )
    return x


def _tokens(value, label: str) -> float:
    x = parse_count(value, label)
    if x > limits.MAX_TOKENS:
        raise ScaleplanError(
            f"{label}: {fmt_sci(x)} tokens is beyond any plan (more than {fmt_sci(limits.MAX_TOKENS)}); check the units"
        )
    if x < 1:  # a fraction of one token trains nothing (and underflows the laws' D^-beta)
        raise ScaleplanError(f"{label}: {x:.3g} tokens is less than one token; check the units")
    return x


def _served(value, label: str) -> float:
    x = parse_quantity(value, label)
    if x < 0:
        raise ScaleplanError(f"{label} must be zero or positive, got {value!r}")
    limits.check_inference_tokens(x, label)
    return x


def _flops(value, label: str) -> float:
    x = parse_flops(value, label, money="<dollars>")
    limits.check_flops(x, label)  # the law's own floor is checked once the law is known
    return x


def _pin(key: str) -> Callable:
    def parse(value, label: str) -> int:
        x = whole(value, label, 1, limits.MAX_SHAPE)
        if key in ("layers", "d_model"):
            limits.check_pin(key, x, label)  # a pin no transformer can have fails here, before any planning
        return x

    return parse


def _zero(value, label: str) -> int:
    x = parse_quantity(value, label)
    if x not in (0, 1, 2, 3):
        raise ScaleplanError(f"{label} must be 0, 1, 2 or 3, got {value!r}")
    return int(x)


def _serve_bits(value, label: str) -> int:
    low, high = limits.SERVE_BITS
    return whole(value, label, low, high)


def _target_loss(value, label: str) -> float:
    try:  # a plain number: a loss has no unit suffix
        x = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        x = math.nan
    if not math.isfinite(x):  # the law judges the rest (below its irreducible loss: not reachable)
        raise ScaleplanError(f"{label} must be a finite number (a loss in the law's units), got {value!r}")
    return x


def _file(value, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScaleplanError(f"{label} must be a file name, got {value!r}")
    return value.strip()


def _latency(value, label: str) -> str:
    """'server', 'interactive' or a time per output token in ms ('40', '40ms'), kept as text for the serving model."""
    text = str(value).strip().lower() if not isinstance(value, bool) else ""
    if text in ("server", "interactive"):
        return text
    try:
        ms = float(text.removesuffix("ms"))
    except ValueError:
        ms = math.nan
    if not (math.isfinite(ms) and 0.01 <= ms <= 1e6):
        raise ScaleplanError(
            f"{label} must be server, interactive or a time per output token in ms (0.01 to 1e6), got {value!r}"
        )
    return f"{ms:g}"


def _power_of_two(value, label: str) -> int:
    x = whole(value, label, 1, limits.MAX_SERVE_TP)
    if x & (x - 1):
        raise ScaleplanError(f"{label} must be a power of two (1, 2, 4, 8, ...), got {value!r}")
    return x


# The serving roofline's options (cluster.serving), the same in every command that prices serving; a budget file
# gives them in its `inference:` block.
SERVING = (
    "serving_model", "kv_bits", "serve_precision", "prompt_tokens", "output_tokens", "serve_tp", "latency",
    "prefill_mfu", "bandwidth_fraction", "memory_fraction", "batch_cap",
)  # fmt: skip
HELP.update(
    {
        "total_dollars": (
            "Money for training and serving together (with --inference-tokens): the lowest-loss model whose "
            "training plus serving cost fits, e.g. 2M."
        ),
        "serving_model": (
            "How serving is priced: roofline (default: batch, memory, bandwidth, KV cache) or fixed-mfu "
            "(Sardana et al.'s 2N per token at fixed prefill and decode MFU)."
        ),
        "kv_bits": "KV-cache bits, a whole number from 2 to 16 (default: the served weight bits).",
        "serve_precision": "Serving compute format: bf16, fp8 or fp4 (default: the weight format the chip has).",
        "prompt_tokens": "Prompt tokens per request (default 70, Sardana et al.'s LMSYS average).",
        "output_tokens": "Output tokens per request (default 215, Sardana et al.'s LMSYS average).",
        "serve_tp": "Serving tensor-parallel degree, a power of two (default: the cheapest up to 8 that fits).",
        "latency": (
            "Latency target: server (MLPerf: 200 ms per output token, 2 s to the first), interactive (40 ms, 450 ms) "
            "or a time per output token in ms."
        ),
        "prefill_mfu": "Prefill MFU in (0, 1] (default 0.5), for either serving model.",
        "bandwidth_fraction": "Achievable share of HBM bandwidth in decode, in (0, 1] (default 0.65).",
        "memory_fraction": "Usable share of device memory for weights and KV cache, in (0, 1] (default 0.9).",
        "batch_cap": f"The serving engine's largest batch, 1 to {limits.MAX_SERVE_BATCH:,} sequences (default 2048).",
    }
)


PARSERS: dict[str, Callable] = {
    "name": _text("name"),
    "law": _text("law"),
    "hardware": _text("hardware"),
    "lr_law": _text("lr_law"),
    "hardware_file": _file,
    "model": _file,
    "flops": _flops,
    "gpus": _gpus,
    "days": parse_positive,
    "dollars": parse_positive,
    "price": parse_positive,
    "peak_flops": parse_positive,
    "mfu": parse_fraction,
    "hfu": parse_fraction,
    "ci": lambda value, label: parse_fraction(value, label, high_open=True),  # '80%' is 0.8
    "precision": _choice(PRECISIONS, "one of " + ", ".join(PRECISIONS)),
    "recompute": _choice(RECOMPUTE, "one of " + ", ".join(RECOMPUTE)),
    "objective": _choice(OBJECTIVES, "'flops' or 'cost'"),
    "arch": _choice(ARCHS, "llama or gpt"),
    "inference_tokens": _served,
    "params": _params,
    "total_params": _params,
    "active_params": _params,
    "tokens": _tokens,
    "unique_tokens": _tokens,
    "context": _context,
    "vocab": _pin("vocab"),
    "layers": _pin("layers"),
    "d_model": _pin("d_model"),
    "heads": _pin("heads"),
    "zero": _zero,
    "micro_batch": _whole(1, limits.MAX_MICRO_BATCH),
    "tp": _whole(1, limits.MAX_GPUS),
    "pp": _whole(1, limits.MAX_GPUS),
    "ep": _whole(1, limits.MAX_GPUS),
    "serve_bits": _serve_bits,
    "target_loss": _target_loss,
    "serving_model": _choice(("roofline", "fixed-mfu"), "roofline or fixed-mfu"),
    "total_dollars": parse_positive,
    "kv_bits": _serve_bits,
    "serve_precision": _choice(PRECISIONS, "one of " + ", ".join(PRECISIONS)),
    "prompt_tokens": _whole(1, limits.MAX_REQUEST_TOKENS),
    "output_tokens": _whole(1, limits.MAX_REQUEST_TOKENS),
    "serve_tp": _power_of_two,
    "latency": _latency,
    "prefill_mfu": parse_fraction,
    "bandwidth_fraction": parse_fraction,
    "memory_fraction": parse_fraction,
    "batch_cap": _whole(1, limits.MAX_SERVE_BATCH),
}


def parse(key: str, value, label: str | None = None):
    """`value` for field `key` as the planner uses it; a ScaleplanError naming `label` (default `<key>`) otherwise.

    >>> parse("serve_bits", "4"), parse("context", "4096"), parse("precision", " FP8 ")
    (4, 4096, 'fp8')
    """
    return PARSERS[key](value, f"<{key}>" if label is None else label)


def optional(key: str, value, label: str | None = None):
    """parse() for a value that may be absent (None stays None)."""
    return None if value is None else parse(key, value, label)
