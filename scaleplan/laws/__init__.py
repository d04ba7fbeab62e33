"""The registry of published scaling laws: data files in `data/`, a few generic forms in `forms.py`.

A law file is YAML with its constants, citation, conventions and fitted range. `get("epoch")` returns a `Law`;
a path to a YAML file in the same schema (e.g. one written by `scaleplan fit --save`) works too. A `Law` delegates
its maths (loss, optimum, tokens for a loss, ...) to its form object, `law.maths`; the fitted-range warnings and
the optimum in the common convention (total parameters, C = 6 N_total D) live here too.
"""

from __future__ import annotations

import difflib
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core import _yaml, solvers
from ..core.errors import ScaleplanError
from ..schema import conventions, limits
from ..schema.units import fmt_number, fmt_sci
from . import forms

DEFAULT_LAW = "epoch"
PARAMS_CONVENTIONS = {
    "total": "all parameters, embeddings included",
    "non_embedding": "non-embedding parameters",
    "non_embedding_with_head": "non-embedding parameters plus the output head (input embedding excluded)",
    "flops_per_token": "non-embedding FLOPs per token M (DeepSeek eq. 2)",
}
SHORT_CONVENTIONS = {
    "total": "counts all parameters",
    "non_embedding": "counts non-embedding parameters",
    "non_embedding_with_head": "counts non-embedding parameters and the head",
    "flops_per_token": "is FLOPs per token (M)",
}
_REQUIRED = {
    "parametric": ("E", "A", "B", "alpha", "beta"),
    "power": ("n_coef", "a"),
}
_KEYS = {
    "name",
    "aliases",
    "title",
    "citation",
    "form",
    "constants",
    "loss",
    "params_convention",
    "flop_convention",
    "fitted_range",
    "model",
    "loss_units",
    "status",
    "notes",
    "intervals",
    "fit",
    "downstream",
    "published_checks",
    "unpublished",
    "why",
}


@dataclass(frozen=True)
class Law:
    """A scaling law read from its YAML file: form, constants, conventions, fitted range and citation."""

    name: str
    title: str
    citation: dict
    form: str
    constants: dict
    params_convention: str
    flop_convention: str
    fitted_range: dict
    model: dict
    aliases: tuple[str, ...] = ()
    loss_spec: dict | None = None
    loss_units: str | None = None
    status: str = ""
    notes: tuple[str, ...] = ()
    intervals: dict | None = None
    fit: dict | None = None
    downstream: dict | None = None  # Gadre et al. 2024's top-1 error from loss, where the law has one
    source: str = ""
    why: dict | None = None  # {data, method}: what `compare` says about why this law differs

    @property
    def why_line(self) -> str:
        """One line on why this law differs from the others: what N counts, the data, the fit method or known
        correction, and the fitted range, from the law file ('N all; MassiveText; Approach 3 ...; fitted ...')."""
        parts = [f"N {SHORT_CONVENTIONS[self.params_convention]}"]
        why = self.why or {}
        if why.get("data"):
            parts.append(str(why["data"]))
        if why.get("method"):
            parts.append(str(why["method"]))
        low_high = self.fitted_range.get("flops")
        if low_high:
            parts.append(f"fitted {fmt_sci(low_high[0])}..{fmt_sci(low_high[1])} FLOPs")
        return "; ".join(parts)

    @property
    def cite(self) -> str:
        """Short citation: 'Besiroglu et al. 2024, arXiv:2404.10102, Table 1 (...)'."""
        where = f", {self.citation['where']}" if self.citation.get("where") else ""
        return self.short_cite + where

    @property
    def short_cite(self) -> str:
        """'Besiroglu et al. 2024, arXiv:2404.10102'."""
        c = self.citation
        who = c.get("short") or str(c.get("authors", "")).split(",")[0].split(" et al")[0].strip() + " et al."
        arxiv = f", arXiv:{c['arxiv']}" if c.get("arxiv") else ""
        return f"{who} {c.get('year', '')}{arxiv}"

    @functools.cached_property
    def maths(self):
        """The form object (laws/forms.py) that owns this law's equations; everything below delegates to it."""
        return forms.make(self.form, self.constants, self.loss_spec)

    @property
    def equation(self) -> str:
        """The form's equations as text, for `laws show`."""
        return self.maths.equation

    @property
    def loss_description(self) -> str | None:
        """'kaplan: N_c = ..., ...' for a separate loss law, or None."""
        if self.loss_spec is None:
            return None
        constants = ", ".join(f"{k} = {v:g}" for k, v in self.loss_spec["constants"].items())
        return f"{self.maths.loss_form.name}: {constants}"

    @property
    def predicts_loss(self) -> bool:
        return self.maths.predicts_loss

    @property
    def is_parametric(self) -> bool:
        """L = E + A/N^alpha + B/D^beta with its closed-form optimum (what data-constrained planning modifies)."""
        return isinstance(self.maths, forms.ParametricForm)

    @property
    def frontier_is_loss_minimum(self) -> bool:
        """False for laws (Kaplan) whose published frontier is not the minimum of their own loss law."""
        return self.maths.frontier_is_loss_minimum

    def min_flops(self) -> float:
        """The smallest budget whose compute-optimal model has limits.MIN_PARAMS in total (cached per law)."""
        return min_flops(self)

    def optimum(self, flops):
        """Compute-optimal (N in this law's own convention, D) for training budgets C (scalar or array)."""
        return self.maths.optimum(flops)

    def loss(self, n, d):
        """Predicted loss for N (this law's convention) and D tokens, or None if the law predicts none."""
        return self.maths.loss(n, d)

    def loss_optimum(self, flops):
        """(N, D) minimising the law's loss at 6ND = C (the frontier itself where that is the loss minimum)."""
        return self.maths.loss_optimum(flops)

    def tokens_for_loss(self, n, loss):
        """D such that L(N, D) = loss (inf where N alone cannot reach it)."""
        return self.maths.tokens_for_loss(n, loss)

    def smallest_params_for_loss(self, loss):
        """The N below which no amount of data reaches `loss`."""
        return self.maths.smallest_params_for_loss(loss)

    def inference_optimum(self, loss, weighted_tokens):
        """(N, D) minimising 6ND + 2NT at a fixed loss where the form solves it directly, else None."""
        return self.maths.inference_optimum(loss, weighted_tokens)

    @property
    def irreducible_loss(self) -> float | None:
        """E of the loss law (0 for Kaplan's), or None if the law predicts no loss."""
        return self.maths.irreducible_loss

    @property
    def exponents(self) -> tuple[float, float]:
        """(a, b) with N_opt ~ C^a, D_opt ~ C^b."""
        return self.maths.exponents

    def range_warnings(self, flops) -> list[str]:
        return range_warnings(self, flops)

    def compute_for_loss(self, loss):
        """Training FLOPs (C = 6 N_total D) of the compute-optimal model that reaches `loss`; inf where none does.

        Closed form where the form has one and the law counts all parameters; otherwise a bisection in log C along
        the law's own frontier (Kaplan's frontier is not the minimum of Kaplan's loss: the answer is 'on the
        frontier').
        """
        closed = self.maths.compute_for_loss(loss) if self.params_convention == "total" else None
        if closed is not None:
            return closed
        target = np.atleast_1d(np.asarray(loss, float))

        # The frontier is walked in the law's own budget C' (its optimum is closed form there) and converted to
        # C = 6 N_total D once at the end: the same points as walking C itself, without a fixed point per step.
        def frontier_above(log_native):
            n_native, d = self.optimum(np.exp(log_native))
            return self.loss(n_native, d) > target

        lo, hi = np.full(target.shape, math.log(1e6)), np.full(target.shape, math.log(1e40))
        reachable = ~frontier_above(hi)
        # to 1e-12 of log C' (C' itself to ~1e-12 relative): ~47 halvings of the 78-wide bracket, not all 80
        lo, hi = solvers.bisect(frontier_above, lo, hi, iterations=80, xtol=1e-12)
        n_native, d = self.optimum(np.exp(hi))
        total, _ = conventions.split_params(self, n_native)
        out = np.where(reachable, conventions.training_flops(total, d), np.inf)
        return float(out[0]) if np.ndim(loss) == 0 else out


def range_warnings(law: Law, flops) -> list[str]:
    """Say how far outside the law's fitted compute range the budgets are (extrapolation still answers)."""
    low, high = law.fitted_range.get("flops", (0.0, np.inf))
    arr = np.atleast_1d(np.asarray(flops, float))
    out = []
    above, below = arr[arr > high], arr[arr < low]
    if above.size:
        worst = above.max()
        out.append(
            f"{law.name}: {fmt_sci(worst)} FLOPs is {fmt_number(worst / high)}x above the largest budget "
            f"it was fitted on ({fmt_sci(high)}); extrapolating"
        )
    if below.size:
        worst = below.min()
        out.append(
            f"{law.name}: {fmt_sci(worst)} FLOPs is {fmt_number(low / worst)}x below the smallest budget "
            f"it was fitted on ({fmt_sci(low)}); extrapolating"
        )
    return out


def joint_range_warnings(laws: list[Law], flops: float) -> list[str]:
    """One budget judged by several laws: one warning for all the laws it lies above (or below), not one each.

    A single law keeps range_warnings' wording.
    """
    if len(laws) == 1:
        return range_warnings(laws[0], flops)
    c = float(flops)
    above, below = [], []
    for law in laws:
        low, high = law.fitted_range.get("flops", (0.0, np.inf))
        if c > high:
            above.append(f"{law.name} {fmt_number(c / high)}x")
        elif c < low:
            below.append(f"{law.name} {fmt_number(low / c)}x")
    out = []
    if above:
        out.append(f"{fmt_sci(c)} FLOPs is above the largest budget fitted by {', '.join(above)}; extrapolating")
    if below:
        out.append(f"{fmt_sci(c)} FLOPs is below the smallest budget fitted by {', '.join(below)}; extrapolating")
    return out


def common_convention_optimum(law: Law, flops, iterations: int = 60):
    """(N_total, D, N_native) such that 6 N_total D equals `flops`, for a law stated in another convention.

    The law's own budget C' differs from C by the ratio of its parameter count (or M/6) to N_total; that ratio
    varies slowly with scale, so the fixed point C' <- C' * C / (6 N_total D) converges in a few steps.
    """
    c = np.asarray(flops, float)
    native_budget = c.copy()
    for _ in range(iterations):
        n_native, d = law.optimum(native_budget)
        total, _ = conventions.split_params(law, n_native)
        spent = conventions.training_flops(total, d)
        if np.all(np.abs(spent - c) <= 1e-12 * np.abs(c)):  # np.allclose's test, without its ~50 us of set-up
            break
        native_budget = native_budget * c / spent
    return total, d, n_native


def _data_dir() -> Path:
    # Path(__file__), not importlib.resources: the same files, without importing tempfile at start-up.
    return Path(__file__).with_name("data")


def _check_number(where: str, key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScaleplanError(f"{where}: constant {key} must be a finite number, got {value!r}")
    return float(value)


def _check_downstream(source: str, block) -> None:
    """Optional `downstream` block: Err(L) = epsilon - k exp(-gamma L) per metric (Gadre et al. 2024 eq. 5).

    Read by scaleplan.pipeline.constrained; validated here so a bad law file fails when it is loaded.
    """
    if block is None:
        return
    if not isinstance(block, dict) or block.get("form") != "exponential":
        raise ScaleplanError(f"{source}: downstream must be a mapping with form: exponential")
    metrics = block.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        raise ScaleplanError(f"{source}: downstream.metrics must map metric names to epsilon, k, gamma")
    for name, m in metrics.items():
        if not isinstance(m, dict) or any(k not in m for k in ("epsilon", "k", "gamma")):
            raise ScaleplanError(f"{source}: downstream.metrics.{name} needs epsilon, k and gamma")
        for k in ("epsilon", "k", "gamma"):
            _check_number(source, f"downstream.metrics.{name}.{k}", m[k])
    if block.get("default", next(iter(metrics))) not in metrics:
        raise ScaleplanError(f"{source}: downstream.default must be one of {', '.join(metrics)}")


def law_from_dict(raw: object, source: str = "<dict>") -> Law:
    """Validate a law file's contents; every bundled file passes through here once."""
    if not isinstance(raw, dict):
        raise ScaleplanError(f"{source}: a law file must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ScaleplanError(
            f"{source}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_KEYS))}"
        )
    for key in ("name", "form", "constants", "citation"):
        if key not in raw:
            raise ScaleplanError(f"{source}: missing required key {key!r}")
    form = raw["form"]
    if form not in _REQUIRED:
        raise ScaleplanError(f"{source}: form must be one of {', '.join(_REQUIRED)}, got {form!r}")
    consts = _check_constants(source, form, raw["constants"])
    _check_sections(source, raw)
    conv = raw.get("params_convention", "total")
    if conv not in PARAMS_CONVENTIONS:
        raise ScaleplanError(
            f"{source}: params_convention must be one of {', '.join(PARAMS_CONVENTIONS)}, got {conv!r}"
        )
    loss_spec = _check_loss(source, raw.get("loss"))
    _check_downstream(source, raw.get("downstream"))
    return Law(
        name=str(raw["name"]),
        title=str(raw.get("title", raw["name"])),
        citation=dict(raw["citation"]),
        form=form,
        constants=consts,
        params_convention=conv,
        flop_convention=str(raw.get("flop_convention", "C = 6ND")),
        fitted_range={k: tuple(float(x) for x in v) for k, v in (raw.get("fitted_range") or {}).items()},
        model=dict(raw.get("model") or {}),
        aliases=tuple(raw.get("aliases") or ()),
        loss_spec=loss_spec,
        loss_units=raw.get("loss_units"),
        status=str(raw.get("status", "")),
        notes=tuple(raw.get("notes") or ()),
        intervals=raw.get("intervals"),
        fit=raw.get("fit"),
        downstream=raw.get("downstream"),
        source=source,
        why=_check_why(source, raw.get("why")),
    )


def _check_constants(source: str, form: str, consts) -> dict:
    """The form's constants, each a number (those the form needs positive, E excepted)."""
    if not isinstance(consts, dict):
        raise ScaleplanError(f"{source}: constants must be a mapping")
    missing = [k for k in _REQUIRED[form] if k not in consts]
    if missing:
        raise ScaleplanError(f"{source}: form {form!r} needs constants {', '.join(missing)}")
    consts = {k: _check_number(source, k, v) for k, v in consts.items()}
    for key in _REQUIRED[form]:
        if key != "E" and consts[key] <= 0:
            raise ScaleplanError(f"{source}: constant {key} must be positive, got {consts[key]:g}")
    return consts


def _check_sections(source: str, raw: dict) -> None:
    """Each optional section of its type; every fitted range [low, high] with 0 < low < high."""
    for key, kind in (
        ("citation", dict),
        ("model", dict),
        ("fitted_range", dict),
        ("loss", dict),
        ("aliases", list),
        ("notes", list),
        ("intervals", dict),
        ("fit", dict),
    ):
        if raw.get(key) is not None and not isinstance(raw[key], kind):
            raise ScaleplanError(f"{source}: {key} must be a {'mapping' if kind is dict else 'list'}")
    for key, pair in (raw.get("fitted_range") or {}).items():
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in pair)
            or not 0 < pair[0] < pair[1]
        ):
            raise ScaleplanError(f"{source}: fitted_range.{key} must be [low, high] with 0 < low < high")


def _check_loss(source: str, loss_spec) -> dict | None:
    """The law's loss section (a loss form and its constants), its constants checked as numbers."""
    if loss_spec is None:
        return None
    if not isinstance(loss_spec.get("constants"), dict):
        raise ScaleplanError(f"{source}: loss needs a constants mapping")
    if loss_spec.get("form") not in forms.LOSS_FORMS:
        raise ScaleplanError(f"{source}: loss.form must be one of {', '.join(forms.LOSS_FORMS)}")
    return dict(loss_spec, constants={k: _check_number(source, k, v) for k, v in loss_spec["constants"].items()})


def _check_why(source: str, why) -> dict | None:
    if why is None:
        return None
    if not isinstance(why, dict) or set(why) - {"data", "method"} or not all(isinstance(v, str) for v in why.values()):
        raise ScaleplanError(f"{source}: why must map data and method to a line of text each")
    return dict(why)


@functools.cache
def _load_bundled(filename: str) -> Law:
    return law_from_dict(_yaml.read(_data_dir() / filename), filename)


@functools.cache
def _bundled() -> dict[str, Law]:
    files = sorted(p.name for p in _data_dir().iterdir() if p.name.endswith(".yaml"))
    return {law.name: law for law in map(_load_bundled, files)}


def data_dir() -> Path:
    """The folder of the bundled law files and the files they name (e.g. epoch-bootstrap.csv)."""
    return _data_dir()


def law_folder(law: Law) -> Path:
    """The folder a law's relative file names (its bootstrap draws) resolve against: the bundled data folder for a
    bundled law, the law file's own folder for one read from a path."""
    return _data_dir() if _bundled().get(law.name) is law else Path(law.source).parent


@functools.cache
def _index() -> dict[str, str]:
    index = {}
    for law in _bundled().values():
        for key in (law.name, *law.aliases):
            index[key.lower()] = law.name
    return index


def names() -> list[str]:
    """Names of the bundled laws."""
    return list(_bundled())


def all_laws() -> list[Law]:
    return list(_bundled().values())


def load_file(path: str | Path) -> Law:
    raw, _tree = _yaml.read_user(path, "law file")
    return law_from_dict(raw, str(path))


def get(name: str | Law) -> Law:
    """Look up a bundled law by name or alias (case-insensitive), or load a law file by path."""
    if isinstance(name, Law):
        return name
    key = str(name).strip()
    if key.endswith((".yaml", ".yml")):
        return load_file(key)
    direct = _data_dir() / f"{key.lower()}.yaml"
    if direct.is_file():  # the common case: read one small file, not the whole registry
        return _load_bundled(direct.name)
    index = _index()
    if key.lower() in index:
        return _bundled()[index[key.lower()]]
    close = difflib.get_close_matches(key.lower(), list(index), n=1, cutoff=0.5)
    hint = f"; did you mean {index[close[0]]!r}?" if close else ""
    raise ScaleplanError(f"unknown law {key!r}{hint} (known: {', '.join(names())})")


_MIN_FLOPS: dict[tuple[str, str], float] = {}


def min_flops(law) -> float:
    """The smallest budget whose compute-optimal model under `law` (a Law or a name) has MIN_PARAMS in total."""
    law = get(law)
    key = (law.name, law.source)
    if key not in _MIN_FLOPS:
        grid = np.geomspace(1.0, 1e24, 481)  # 20 points a decade; laws are monotone in C
        n_native, _ = law.optimum(grid)
        total, _ = conventions.split_params(law, n_native)
        above = np.nonzero(np.asarray(total) >= limits.MIN_PARAMS)[0]
        c = float(grid[above[0]]) if above.size else float(grid[-1])
        _MIN_FLOPS[key] = float(f"{c:.2g}")
    return _MIN_FLOPS[key]
