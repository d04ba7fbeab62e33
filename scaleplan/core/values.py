"""Results are values: plain JSON numbers out of numpy, and one result per budget out of a vectorised one."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

import numpy as np

from .errors import ScaleplanError

# A result's number: a float for one budget, or an array shaped like the budgets given (planners are vectorised).
Values = float | np.ndarray


def plain(v):
    """None, a float, or a list of floats: what json.dumps(allow_nan=False) takes. Non-finite values become None."""
    if v is None or isinstance(v, str):
        return v
    arr = np.asarray(v, float)
    if arr.ndim:
        return [x if math.isfinite(x) else None for x in arr.tolist()]
    x = float(arr)
    return x if math.isfinite(x) else None


def check_positive(values, what: str = "flops") -> np.ndarray:
    """Budgets or counts as a float array, all positive and finite, or a message naming the bad one.

    Strings ('70B') and booleans are refused: the library takes numbers; quantities are parsed at the edge
    (scaleplan.schema.units.parse_quantity).
    """
    if isinstance(values, (str, bytes, bool)) or values is None:
        raise ScaleplanError(
            f"{what} must be a number or an array of numbers, got {values!r}"
            + (" (parse text with scaleplan.schema.units.parse_quantity)" if isinstance(values, str) else "")
        )
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ScaleplanError(f"{what} must be a number or an array of numbers, got {values!r}") from None
    if arr.size == 0:
        raise ScaleplanError(f"{what}: no values given")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        raise ScaleplanError(f"{what} must be positive and finite, got {arr[bad].flat[0]!r}")
    return arr


def pick(v, i: int):
    """Element i of a per-budget field (scalars and None pass through)."""
    return float(np.asarray(v)[i]) if v is not None and np.ndim(v) else v


class Reported(Protocol):
    """A block a result carries and reports in its JSON (for a block computed in a module above the result's)."""

    def to_dict(self) -> dict[str, Any]: ...


# How results render, installed by scaleplan/__init__.py: the tables live in the present part, above every part that
# defines a result, so a result reaches them through this hook rather than by importing upwards.
# "table": (result, fmt, width) -> str; "summary": (result) -> str.
RENDERERS: dict[str, Callable[..., str]] = {}


class Rendered:
    """Mixin of a result that renders itself without a Console: `to_table("text" | "markdown" | "csv" | "json")`,
    a notebook's markdown, and a short summary (the answer: model, run, anything over a budget or a limit) for
    `str()` and `repr()` in place of the dataclass's full repr. A dataclass using it is declared `repr=False`."""

    def to_table(self, fmt: str = "text", width: int | None = None) -> str:
        """The result's table as the CLI prints it: "text" (plain, `width` columns, 100 by default), "markdown",
        "csv" (one row per table row) or "json" (the same numbers as `to_dict()`)."""
        return RENDERERS["table"](self, fmt, width)

    def summary(self) -> str:
        """A few lines a person can act on: the model, the run, and anything over the budget or a limit."""
        return RENDERERS["summary"](self)

    def _repr_markdown_(self) -> str:  # Jupyter and IPython: the summary, then the table
        return RENDERERS["table"](self, "notebook", None)

    def __repr__(self) -> str:
        return self.summary()


class PerBudget(Rendered):
    """Mixin for frozen dataclass results whose numeric fields are floats, or arrays shaped like the budgets.

    `_per_budget` names those fields. Iterating yields one scalar result per budget; a warning that starts with
    '[i]' belongs to budget i alone, any other to all of them.
    """

    _per_budget: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:  # provided by each result dataclass
        flops: Any
        warnings: tuple[str, ...]

        def to_dict(self) -> dict[str, Any]: ...

    def __eq__(self, other) -> bool:
        """Equal when of the same type with the same numbers: compares the JSON form, so array-valued results
        compare as a whole (numpy's elementwise == would make `plan == plan` raise)."""
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    # Defining __eq__ leaves __hash__ None: results hold arrays and dicts, so they are not hashable.

    @property
    def size(self) -> int:
        return int(np.size(self.flops))

    def __iter__(self):
        if np.ndim(self.flops) == 0:
            yield self
            return
        for i in range(self.size):
            yield self.at(i)

    def at(self, i: int):
        warns = tuple(w for w in self.warnings if not w.startswith("[") or w.startswith(f"[{i}]"))
        return replace(cast(Any, self), warnings=warns, **{k: pick(getattr(self, k), i) for k in self._per_budget})


def check_settings(*, mfu=None, price=None, gpus=None, peak_flops=None, inference_tokens=None) -> None:
    """The cost settings a library caller passes, each named by its argument: MFU in (0, 1], a positive price and
    peak, a whole positive number of accelerators, zero or more tokens to serve."""

    def number(name, value):
        if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
            raise ScaleplanError(f"<{name}> must be a finite number, got {value!r}")
        return float(value)

    if mfu is not None and not 0 < number("mfu", mfu) <= 1:
        raise ScaleplanError(f"<mfu> must be in (0, 1], got {mfu!r}")
    for name, value in (("price", price), ("peak_flops", peak_flops)):
        if value is not None and not number(name, value) > 0:
            raise ScaleplanError(f"<{name}> must be positive, got {value!r}")
    if gpus is not None and not (number("gpus", gpus) >= 1 and float(gpus).is_integer()):
        raise ScaleplanError(f"<gpus> must be a whole number of at least 1, got {gpus!r}")
    if inference_tokens is not None:
        if isinstance(inference_tokens, (str, bytes, bool)):
            raise ScaleplanError(f"<inference_tokens> must be a number, got {inference_tokens!r}")
        arr = np.asarray(inference_tokens, float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ScaleplanError(f"<inference_tokens> must be zero or more, got {inference_tokens!r}")


# The output contract of ../DESIGN.md: the keys every plan carries at its top level, in every mode (None where a
# mode has no such number yet); a mode adds its own block (inference_aware, constrained, moe, fixed, intervals).
CONTRACT_KEYS = (
    "law",
    "flops",
    "params",
    "params_total",
    "params_non_embedding",
    "tokens",
    "tokens_per_param",
    "loss",
    "vocab",
    "learning_rate",
    "batch_tokens",
    "shape",
    "law_params",
    "cost",
    "warnings",
    "citation",
)


def stage_blocks(out: dict, result) -> None:
    """The blocks the pipeline's later stages add to a plan of any mode, under one name each: the recipe's fields,
    cost, cluster (memory and layout), precision (training format and serving bits) and quantized serving."""
    recipe = getattr(result, "recipe", None)
    if recipe is not None:
        out.update(recipe.plan_fields())
    cost = getattr(result, "cost", None)
    if cost is not None:
        out["cost"] = cost.to_dict()
    cluster = getattr(result, "cluster", None)
    if cluster is not None:
        out["cluster"] = {k: v for k, v in cluster.to_dict().items() if k not in ("cost", "shape", "warnings")}
    precision = getattr(result, "precision", None)
    if precision is not None:
        out["precision"] = precision.to_dict()
    quantized = getattr(result, "quantized", None)
    if quantized is not None:
        out["quantized_serving"] = quantized.to_dict()


def contract(out: dict) -> dict:
    """`out` with every CONTRACT_KEYS key present (None where the mode has none): the common keys first, the mode's
    own after them, warnings and citation last."""
    tail = ("warnings", "citation")
    head = {"name": out["name"]} if "name" in out else {}
    head.update({k: out.get(k) for k in CONTRACT_KEYS if k not in tail})
    head.update({k: v for k, v in out.items() if k not in head and k not in tail})
    return {**head, "warnings": list(out.get("warnings") or []), "citation": out.get("citation")}
