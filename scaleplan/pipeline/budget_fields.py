"""The budget's fields: one name, one parser and one help line each, shared by flags, budget files and Python
(scaleplan.schema.fields parses every value), and the one error type that names a field by its key or its flag."""

from __future__ import annotations

from ..core.errors import ScaleplanError, as_flag
from ..schema import fields as fields_mod
from ..schema.units import parse_fraction, parse_positive, parse_quantity

# The budget's fields (flag = field with dashes, YAML key = field), each parsed by schema.fields and described by
# its HELP: the same parser for flags, files and Python, so "1e21" means the same everywhere.
FIELDS = {
    key: fields_mod.HELP[key]
    for key in (
        "name", "law", "flops", "gpus", "days", "dollars", "price", "hardware", "peak_flops", "mfu",
        "inference_tokens", "inference", "precision", "params", "tokens", "model", "unique_tokens", "moe", "context",
        "vocab", "layers", "d_model", "lr_law", "ci", "hfu", "recompute", "zero", "micro_batch", "hardware_file",
        "serve_bits", "objective", "target_loss", "tp", "pp", "ep", "total_dollars", "arch",
    )
}  # fmt: skip
CLUSTER_FIELDS = ("hfu", "recompute", "zero", "micro_batch", "tp", "pp", "ep")
MOE_FIELDS = {key: fields_mod.HELP[key] for key in ("granularity", "expansion", "total_params", "active_params")}
# one of them sets the budget (or params and tokens)
BUDGET_WAYS = ("flops", "days", "dollars", "target_loss", "total_dollars")
RECIPE_FIELDS = ("context", "vocab", "layers", "d_model", "lr_law", "arch")
FILE_KEYS = set(FIELDS) | {"scenarios", "description"}
# The `inference:` block of a scenario: how serving is priced. The serving roofline (cluster.serving) by default;
# serving_model: fixed-mfu prices it as Sardana et al. 2024 do (prompt_share, decode_mfu, bits are theirs alone).
INFERENCE_FIELDS = {
    "tokens": "tokens to serve (prompt + generated)",
    "serving_model": "roofline (default) or fixed-mfu (Sardana et al. 2024's 2N per token at fixed MFU)",
    "prompt_tokens": "prompt tokens per request (roofline; default 70)",
    "output_tokens": "output tokens per request (roofline; default 215)",
    "kv_bits": "KV-cache bits, 2-16 (roofline; default: the served weight bits)",
    "serve_precision": "serving compute format, bf16, fp8 or fp4 (roofline)",
    "serve_tp": "serving tensor-parallel degree, a power of two (roofline)",
    "latency": "latency target: server, interactive or a time per output token in ms (roofline)",
    "bandwidth_fraction": "achievable share of HBM bandwidth, in (0, 1] (roofline; default 0.65)",
    "memory_fraction": "usable share of device memory, in (0, 1] (roofline; default 0.9)",
    "batch_cap": "largest engine batch in sequences (roofline; default 2048)",
    "prompt_share": "fraction of served tokens that are prompt, in [0, 1] (fixed-mfu)",
    "prefill_mfu": "MFU of prefill, in (0, 1]",
    "decode_mfu": "MFU of decoding, in (0, 1] (fixed-mfu)",
    "hardware": "serving hardware preset",
    "price": "dollars per serving GPU-hour",
    "bits": "weight precision for serving, 16 or 8 (fixed-mfu; the roofline takes serve_bits)",
    "context": "context length for attention FLOPs (fixed-mfu)",
    "objective": "flops or cost",
}


class BudgetFieldError(ScaleplanError):
    """A bad field. `path` locates it ('mfu', 'scenarios.0.mfu', 'inference.tokens'); the message names fields as
    <field> marks, shown as the plain key (files, Python) or as the flag (`for_flags()`, the CLI)."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self)

    def for_flags(self) -> str:
        text = super().for_flags()
        own = as_flag(self.path.split(".")[-1] if self.path.startswith("scenarios.") else self.path)
        return text if "--" in text else f"{own}: {text}"


def parse_field(key: str, value, flag: str):
    """One field of a budget, by the one parser every command and the library share (scaleplan.schema.fields)."""
    if key == "inference":
        return _parse_inference(value, flag)
    if key == "moe":
        return _parse_moe(value, flag)
    return fields_mod.parse(key, value, flag)


def _parse_moe(raw, where: str) -> dict | None:
    """`moe: true`, or a mapping of granularity and expansion (flags: --moe, --granularity, --expansion)."""
    if raw is True:
        return {}
    if raw is False:
        return None
    if not isinstance(raw, dict):
        raise ScaleplanError(f"{where} must be true or a mapping of {', '.join(MOE_FIELDS)}")
    unknown = set(raw) - set(MOE_FIELDS)
    if unknown:
        key = sorted(unknown, key=str)[0]
        raise BudgetFieldError(f"{where}.{key}", f"{where}.{key}: unknown key; allowed: {', '.join(MOE_FIELDS)}")
    out = {}
    for key, value in raw.items():
        if value is None:
            continue
        label = f"--{key}" if where.startswith("--") else f"{where}.{key}"  # flags: --granularity, --expansion
        try:
            x = fields_mod.parse(key, value, label) if key in ("total_params", "active_params") else None
            x = parse_quantity(value, label) if x is None else x
        except ScaleplanError as exc:
            raise BudgetFieldError(f"{where}.{key}", exc.template) from None
        if key == "granularity" and not 1 <= x <= 1024:
            raise BudgetFieldError(f"{where}.{key}", f"{label} must be from 1 to 1,024, got {value!r}")
        if key == "expansion" and x not in (16, 64):
            raise BudgetFieldError(
                f"{where}.{key}", f"{label} must be 64 or 16 (Krajewski et al. fit those), got {value!r}"
            )
        out[key] = x
    return out


def _parse_inference(raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ScaleplanError(f"{where} must be a mapping of {', '.join(INFERENCE_FIELDS)}")
    unknown = set(raw) - set(INFERENCE_FIELDS)
    if unknown:
        key = sorted(unknown, key=str)[0]
        if key == "target_loss":  # one name per field: the quality is a top-level key, as the flag --target-loss
            raise BudgetFieldError(
                f"{where}.{key}",
                f"{where}.{key}: target_loss is a top-level key (beside inference_tokens), not "
                "part of the inference block",
            )
        raise BudgetFieldError(f"{where}.{key}", f"{where}.{key}: unknown key; allowed: {', '.join(INFERENCE_FIELDS)}")
    out = {}
    for key, value in raw.items():
        label = f"{where}.{key}"
        try:
            if key in ("hardware", "objective"):
                out[key] = parse_field("hardware", value, label)
                if key == "objective" and out[key] not in ("flops", "cost"):
                    raise ScaleplanError(f"{label} must be 'flops' or 'cost', got {value!r}")
            elif key in fields_mod.SERVING:  # the serving roofline's options: one parser each (scaleplan.schema.fields)
                out[key] = fields_mod.parse(key, value, label)
            elif key == "decode_mfu":
                out[key] = parse_fraction(value, label)
            elif key == "prompt_share":
                out[key] = parse_fraction(value, label, low_open=False)
            elif key == "tokens":
                out[key] = parse_field("inference_tokens", value, label)
            elif key == "bits":
                out[key] = int(parse_positive(value, label))
                if out[key] not in (16, 8):
                    raise ScaleplanError(f"{label} must be 16 or 8, got {value!r}")
            else:
                out[key] = parse_positive(value, label)
        except ScaleplanError as exc:
            raise BudgetFieldError(label, exc.template) from None
    return out


def line_index(node, path: str = "", out: dict | None = None) -> dict:
    """Map 'scenarios.0.mfu' -> 1-based line, from the composed YAML tree (walked with a stack, not recursion: a
    hostile file may nest thousands of levels deep)."""
    out = {} if out is None else out
    import yaml  # the node tree was composed by PyYAML (scaleplan.core._yaml), so it is loaded already

    stack = [(node, path)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = f"{path}{key_node.value}"
                out[key] = key_node.start_mark.line + 1
                stack.append((value_node, key + "."))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                out[f"{path}{i}"] = item.start_mark.line + 1
                stack.append((item, f"{path}{i}."))
    return out
