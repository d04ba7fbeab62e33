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
import re
from pathlib import Path

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.files import read_text
from .config_hf import read_hf
from .config_megatron import megatron_padded_vocab, read_megatron
from .config_python import read_nanogpt, read_torchtitan, torchtitan_ffn_dim
from .config_values import ModelConfig, Source
from .config_yaml import read_litgpt, read_nanotron

__all__ = [
    "FORMATS",
    "MAX_CONFIG_BYTES",
    "ModelConfig",
    "detect",
    "megatron_padded_vocab",
    "read_config",
    "torchtitan_ffn_dim",
]

FORMATS = ("hf", "megatron", "nanotron", "litgpt", "torchtitan", "nanogpt")
MAX_CONFIG_BYTES = 1024 * 1024  # a trainer's config is a few kB; Megatron's example scripts ~6 kB


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
        return read_hf(Source(path, "Hugging Face"), raw)
    if kind == "megatron":
        return read_megatron(Source(path, "Megatron-LM"), text)
    if kind in ("torchtitan", "nanogpt"):
        try:
            module = ast.parse(text, filename=str(path))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise ScaleplanError(f"{path}: not valid Python ({getattr(exc, 'msg', exc)})") from None
        if kind == "torchtitan":
            return read_torchtitan(Source(path, "torchtitan"), module)
        return read_nanogpt(Source(path, "nanoGPT"), module)
    raw = _yaml.load_user(text, path)
    if not isinstance(raw, dict):
        raise ScaleplanError(f"{path}: a model config holds a mapping of keys")
    if isinstance(raw.get("model"), dict) and "model_config" in raw["model"] and kind in ("yaml", "nanotron"):
        return read_nanotron(Source(path, "nanotron"), raw)
    if "model_config" in raw and kind in ("yaml", "litgpt"):
        return read_litgpt(Source(path, "litgpt"), raw)
    raise ScaleplanError(
        f"{path}: a YAML without model.model_config (nanotron) or model_config (litgpt); scaleplan reads those"
    )
