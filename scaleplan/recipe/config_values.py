"""What every trainer-config reader shares: the `ModelConfig` it returns, the `Source` that checks a value and names
the file and key in messages, and the checked shape block."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..core.errors import ScaleplanError
from ..schema import limits

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


class Source:
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


def shape_block(src: Source, **values) -> dict:
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


def need(src: Source, mapping: dict, key: str, where: str = ""):
    if key not in mapping or mapping[key] is None:
        raise src.fail(f"no {where}{key}: a {src.fmt} model config needs it")
    return mapping[key]
