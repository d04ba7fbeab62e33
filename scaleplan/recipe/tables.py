"""The recipe's tables (``scaleplan/data/recipe.yaml``, read once, validated, cached) and the argument checks
every recipe module shares."""

from __future__ import annotations

import difflib
import functools
import math

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..schema.units import fmt_sci

# steplaw-paper (StepLaw with the paper's rounded constants) gives a row only when asked for by name.
HPARAM_LAWS = ("steplaw", "deepseek", "porian", "kaplan-bcrit", "steplaw-paper")


def _num(where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ScaleplanError(f"recipe.yaml: {where} must be a number, got {value!r}")
    return float(value)


_REQUIRED_HPARAMS = {
    "deepseek": ("eta_coef", "eta_exp", "batch_coef", "batch_exp"),
    "steplaw": ("eta_coef", "eta_n_exp", "eta_d_exp", "batch_coef", "batch_d_exp"),
    "steplaw-paper": ("eta_coef", "eta_n_exp", "eta_d_exp", "batch_coef", "batch_d_exp"),
    "porian": ("eta_coef", "n_ref", "eta_exp", "batch_seq_coef", "batch_exp", "batch_context"),
    "kaplan-bcrit": ("b_star", "alpha_b"),
}


@functools.lru_cache(maxsize=1)
def constants() -> dict:
    """The validated contents of ``data/recipe.yaml`` (cached; treat as read-only)."""
    raw = _yaml.read(_yaml.DATA / "recipe.yaml")
    for key in ("conventions", "vocab", "hparams", "shape", "flops"):
        if not isinstance(raw.get(key), dict):
            raise ScaleplanError(f"recipe.yaml: missing section {key!r}")
    conv = raw["conventions"]
    for key in (
        "context",
        "vocab_multiple",
        "batch_sequence_multiple",
        "d_model_multiple",
        "shape_tolerance",
        "gpt_shape_tolerance",
        "ffw_ratio",
        "glu_ffw_ratio",
        "head_dim_small",
        "head_dim_large",
        "ff_min_ratio",
        "ff_max_ratio",
    ):
        _num(f"conventions.{key}", conv.get(key))
    v = raw["vocab"]
    for sub, keys in (("approach2", ("nv_ref", "nnv_ref", "gamma")), ("approach1", ("k_nnv", "e_nnv", "k_nv", "e_nv"))):
        for key in keys:
            _num(f"vocab.{sub}.{key}", v[sub].get(key))
    for row in v["d_model_table"]:
        _num("vocab.d_model_table", row[0]), _num("vocab.d_model_table", row[1])
    hp = raw["hparams"]
    for name, hp_keys in _REQUIRED_HPARAMS.items():
        if name not in hp:
            raise ScaleplanError(f"recipe.yaml: hparams.{name} missing")
        for key in hp_keys:
            _num(f"hparams.{name}.{key}", hp[name].get(key))
        if "citation" not in hp[name]:
            raise ScaleplanError(f"recipe.yaml: hparams.{name}.citation missing")
    if set(hp["default_order"]) != set(HPARAM_LAWS):
        raise ScaleplanError(f"recipe.yaml: hparams.default_order must list {', '.join(HPARAM_LAWS)}")
    for row in raw["shape"]["aspect_anchors"]:
        for x in row:
            _num("shape.aspect_anchors", x)
    return raw


def cite(c: dict) -> str:
    """'DeepSeek-AI 2024, arXiv:2401.02954, eq. (1): ...'."""
    arxiv = f", arXiv:{c['arxiv']}" if c.get("arxiv") else ""
    where = f", {c['where']}" if c.get("where") else ""
    return f"{c.get('short', '')} {c.get('year', '')}{arxiv}{where}".strip()


@functools.cache
def _aliases() -> dict[str, str]:
    hp = constants()["hparams"]
    out = {}
    for name in HPARAM_LAWS:
        out[name] = name
        for alias in hp[name].get("aliases", ()):
            out[str(alias).lower()] = name
    return out


def law_name(law: str) -> str:
    key = str(law).strip().lower()
    table = _aliases()
    if key in table:
        return table[key]
    close = difflib.get_close_matches(key, list(table), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ScaleplanError(f"unknown learning-rate/batch law {law!r}{hint} (allowed: {', '.join(HPARAM_LAWS)})")


# --------------------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------------------


def pos_int(name: str, value) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
        or value < 1
    ):
        raise ScaleplanError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def pos_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ScaleplanError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def round_multiple(x: float, m: int) -> int:
    return max(m, int(m * round(x / m)))


def range_warning(what: str, value: float, rng, law: str) -> list[str]:
    if not rng:
        return []
    lo, hi = float(rng[0]), float(rng[1])
    if lo <= value <= hi:
        return []
    side = "below" if value < lo else "above"
    return [f"{law}: {what} = {fmt_sci(value)} is {side} the fitted range [{fmt_sci(lo)}, {fmt_sci(hi)}]; extrapolated"]
