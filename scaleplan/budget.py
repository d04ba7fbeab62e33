"""Budgets and scenarios: validated, with human quantities parsed, from CLI flags or a YAML file.

A budget is FLOPs, or hardware time (gpus x days at an MFU), or money (dollars at a price per GPU-hour). A budget
file holds the same fields; top-level fields are defaults for every entry of an optional `scenarios:` list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

import yaml

from . import _yaml
from . import cost as cost_mod
from .errors import ScaleplanError
from .units import parse_fraction, parse_positive, parse_quantity

# field -> (parser, help); the same parsers serve flags and YAML, so "1e21" means the same everywhere.
_FIELDS = {
    "name": "scenario name",
    "law": "law name or law file",
    "flops": "training budget in FLOPs",
    "gpus": "number of accelerators",
    "days": "wall-clock days",
    "dollars": "money for training",
    "price": "dollars per GPU-hour",
    "hardware": "hardware preset",
    "peak_flops": "peak FLOP/s per accelerator",
    "mfu": "model FLOPs utilisation in (0, 1]",
    "inference_tokens": "tokens to be served over the model's life",
    "inference": "serving plan for inference-aware sizing (a mapping)",
    "precision": "training precision: bf16, fp8 or fp4 (the preset's dense peak at it)",
}
FILE_KEYS = set(_FIELDS) | {"scenarios", "description"}
# The `inference:` block of a scenario: Sardana et al. 2024's serving assumptions.
INFERENCE_FIELDS = {
    "tokens": "tokens to serve (prompt + generated)",
    "prompt_share": "fraction of served tokens that are prompt, in [0, 1]",
    "prefill_mfu": "MFU of prefill, in (0, 1]",
    "decode_mfu": "MFU of decoding, in (0, 1]",
    "hardware": "serving hardware preset",
    "price": "dollars per serving GPU-hour",
    "bits": "weight precision for serving, 16 or 8",
    "context": "context length for attention FLOPs",
    "objective": "flops or cost",
}


@dataclass(frozen=True)
class Budget:
    name: str | None = None
    law: str | None = None
    flops: float | None = None
    gpus: float | None = None
    days: float | None = None
    dollars: float | None = None
    price: float | None = None
    hardware: str | None = None
    peak_flops: float | None = None
    mfu: float | None = None
    inference_tokens: float | None = None
    inference: dict | None = None
    precision: str | None = None

    @classmethod
    def from_mapping(cls, raw: dict, where: str = "", flags: bool = False) -> Budget:
        """Validate a mapping of budget fields.

        Errors name the field as `where` + key (e.g. 'scenarios.0.mfu'), or as a flag ('--mfu') with flags=True.
        """
        unknown = set(raw) - set(_FIELDS)
        if unknown:
            key = sorted(unknown)[0]
            raise BudgetFieldError(where + key, f"{where + key}: unknown key; allowed: {', '.join(_FIELDS)}")
        values = {}
        for key, value in raw.items():
            if value is None:
                continue
            label = "--" + key.replace("_", "-") if flags else where + key
            try:
                values[key] = _parse_field(key, value, label)
            except BudgetFieldError:
                raise
            except ScaleplanError as exc:
                raise BudgetFieldError(where + key, str(exc)) from None
        return cls(**values)

    def merged(self, defaults: Budget) -> Budget:
        """This budget with unset fields taken from `defaults`; `inference:` blocks merge key by key."""
        own = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        if self.inference is not None and defaults.inference is not None:
            own["inference"] = {**defaults.inference, **self.inference}
        return replace(defaults, **own)

    def serving_spec(self) -> dict | None:
        """The `inference:` block, with `inference_tokens` as shorthand for its tokens; None if nothing is served."""
        if self.inference is None and self.inference_tokens is None:
            return None
        spec = dict(self.inference or {})
        if self.inference_tokens is not None:
            spec.setdefault("tokens", self.inference_tokens)
        return spec

    def hardware_spec(self) -> cost_mod.Hardware:
        return cost_mod.get_hardware(self.hardware, self.peak_flops)

    def resolve(self) -> Resolved:
        """Training FLOPs and the cost assumptions, checking the budget is given exactly one way."""
        hw = self.hardware_spec()
        mfu = self.mfu if self.mfu is not None else cost_mod.DEFAULT_MFU
        precision = self.precision or "bf16"
        hw.peak(precision)  # a clear error where the chip has no such path
        price = self.price if self.price is not None else hw.price_per_hour  # None: no published price
        ways = [w for w, given in (("flops", self.flops is not None), ("gpus x days", self.days is not None),
                                   ("dollars", self.dollars is not None)) if given]
        if len(ways) != 1:
            raise ScaleplanError(
                "give the budget one way: --flops, or --gpus with --days, or --dollars"
                + (f" (got {' and '.join(ways)})" if ways else "")
            )
        if self.inference is not None and "tokens" not in self.serving_spec():
            raise ScaleplanError("inference needs tokens: (how many tokens the model will serve)")
        gpus = self.gpus if self.gpus is not None else cost_mod.DEFAULT_GPUS
        if self.flops is not None:
            flops = self.flops
        elif self.days is not None:
            if self.gpus is None:
                raise ScaleplanError("--days needs --gpus: the budget is gpus x days at the given MFU")
            flops = self.gpus * self.days * 86400.0 * hw.peak(precision) * mfu
        else:
            if price is None:
                raise ScaleplanError(f"--dollars needs --price: {cost_mod.price_label(hw, None)}")
            flops = self.dollars / price * cost_mod.SECONDS_PER_HOUR * hw.peak(precision) * mfu
        if flops > 1e35:
            raise ScaleplanError(f"a budget of {flops:.3g} FLOPs is absurd (more than 1e35); check the units")
        warnings = []
        if mfu > cost_mod.HIGHEST_REPORTED_MFU:
            warnings.append(
                f"MFU {mfu:.0%} is above the highest reported for large-scale training "
                f"({cost_mod.HIGHEST_REPORTED_MFU:.1%}, MegaScale 2024)"
            )
        return Resolved(flops=flops, hardware=hw, mfu=mfu, price=price, gpus=gpus, warnings=tuple(warnings),
                        precision=precision)


@dataclass(frozen=True)
class Resolved:
    flops: float
    hardware: cost_mod.Hardware
    mfu: float
    price: float | None
    gpus: float
    warnings: tuple[str, ...]
    precision: str = "bf16"


class BudgetFieldError(ScaleplanError):
    """A bad field; `path` locates it in a file (its message already names it)."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path, self.message = path, message


def _parse_field(key: str, value, flag: str):
    if key in ("name", "law", "hardware"):
        if not isinstance(value, str) or not value.strip():
            raise ScaleplanError(f"{flag} must be a non-empty string, got {value!r}")
        return value.strip()
    if key == "inference":
        return _parse_inference(value, flag)
    if key == "precision":
        if str(value).strip().lower() not in cost_mod.PRECISIONS:
            raise ScaleplanError(f"{flag} must be one of {', '.join(cost_mod.PRECISIONS)}, got {value!r}")
        return str(value).strip().lower()
    if key == "mfu":
        return parse_fraction(value, flag)
    if key == "inference_tokens":
        x = parse_quantity(value, flag)
        if x < 0:
            raise ScaleplanError(f"{flag} must be zero or positive, got {value!r}")
        return x
    if key == "gpus":
        x = parse_positive(value, flag)
        if x != math.floor(x):
            raise ScaleplanError(f"{flag} must be a whole number, got {value!r}")
        return x
    return parse_positive(value, flag)


def _parse_inference(raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ScaleplanError(f"{where} must be a mapping of {', '.join(INFERENCE_FIELDS)}")
    unknown = set(raw) - set(INFERENCE_FIELDS)
    if unknown:
        key = sorted(unknown)[0]
        raise BudgetFieldError(f"{where}.{key}", f"{where}.{key}: unknown key; allowed: {', '.join(INFERENCE_FIELDS)}")
    out = {}
    for key, value in raw.items():
        label = f"{where}.{key}"
        try:
            if key in ("hardware", "objective"):
                out[key] = _parse_field("hardware", value, label)
                if key == "objective" and out[key] not in ("flops", "cost"):
                    raise ScaleplanError(f"{label} must be 'flops' or 'cost', got {value!r}")
            elif key in ("prefill_mfu", "decode_mfu"):
                out[key] = parse_fraction(value, label)
            elif key == "prompt_share":
                out[key] = parse_fraction(value, label, low_open=False)
            elif key == "tokens":
                out[key] = _parse_field("inference_tokens", value, label)
            elif key == "bits":
                out[key] = int(parse_positive(value, label))
                if out[key] not in (16, 8):
                    raise ScaleplanError(f"{label} must be 16 or 8, got {value!r}")
            else:
                out[key] = parse_positive(value, label)
        except ScaleplanError as exc:
            raise BudgetFieldError(label, str(exc)) from None
    return out


# ---------------------------------------------------------------------------------------------------------------
# Budget files


def _line_index(node, path: str = "", out: dict | None = None) -> dict:
    """Map 'scenarios.0.mfu' -> 1-based line, from the composed YAML tree."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{path}{key_node.value}"
            out[key] = key_node.start_mark.line + 1
            _line_index(value_node, key + ".", out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[f"{path}{i}"] = item.start_mark.line + 1
            _line_index(item, f"{path}{i}.", out)
    return out


def load_budget_file(path: str | Path) -> list[Budget]:
    """Scenarios from a YAML budget file; errors name the file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScaleplanError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScaleplanError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        tree = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml.invalid(exc, path) from None
    lines = _line_index(tree) if tree is not None else {}

    def fail(key_path: str, message: str):
        line = lines.get(key_path)
        loc = f"{path}:{line}" if line else str(path)
        if not message.startswith(key_path):
            message = f"{key_path}: {message}"
        raise ScaleplanError(f"{loc}: {message}")

    if not isinstance(raw, dict):
        raise ScaleplanError(f"{path}: a budget file must be a mapping of fields (flops:, scenarios:, ...)")
    unknown = set(raw) - FILE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        fail(key, f"unknown key {key!r}; allowed: {', '.join(sorted(FILE_KEYS))}")
    top = {k: v for k, v in raw.items() if k in _FIELDS}
    try:
        defaults = Budget.from_mapping(top)
    except BudgetFieldError as exc:
        fail(exc.path, exc.message)
    scenarios = raw.get("scenarios")
    if scenarios is None:
        entries = [defaults if defaults.name else replace(defaults, name=path.stem)]
    else:
        if not isinstance(scenarios, list) or not scenarios:
            fail("scenarios", "must be a non-empty list of scenarios")
        entries = []
        for i, item in enumerate(scenarios):
            if not isinstance(item, dict):
                fail(f"scenarios.{i}", "each scenario must be a mapping of fields")
            try:
                entry = Budget.from_mapping(item, where=f"scenarios.{i}.")
            except BudgetFieldError as exc:
                fail(exc.path, exc.message)
            entry = entry.merged(defaults)
            entries.append(entry if entry.name else replace(entry, name=f"scenario {i + 1}"))
    for i, entry in enumerate(entries):
        try:
            entry.resolve()
        except ScaleplanError as exc:
            key = f"scenarios.{i}" if scenarios is not None else next(iter(raw), "")
            fail(key, str(exc))
    return entries
