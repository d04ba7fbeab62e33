"""Published claims, recomputed: every number a paper or its authors' repository prints, against scaleplan.

The claims are data. Each law file (laws/data/*.yaml), data/recipe.yaml, data/moe.yaml and data/published_runs.yaml
carries a ``published_checks`` list; one entry is

    - id: chinchilla-a1-table3-1b-params        # unique across all files
      claim: "Approach 1 at 1.21e20 FLOPs: 1B parameters"
      where: "Hoffmann et al. 2022, Table 3, row '1 Billion'"
      compute: {kind: allocate, flops: 1.21e+20, output: params}   # what scaleplan recomputes
      published: 1.0e+9
      tolerance: {rel: 0.005}                  # what the printed rounding allows (or {abs: x}); a note says why
      compare: equal                           # or at_least / at_most (a published bound)

``run_checks(name)`` recomputes them (``scaleplan laws check [NAME]``). A claim that needs data scaleplan does not
ship (Epoch's released runs) is skipped unless ``data_dir`` holds the file.
"""

from __future__ import annotations

import difflib
import functools
import math
from dataclasses import dataclass
from pathlib import Path

from . import _yaml
from .errors import ScaleplanError

__all__ = ["Check", "CheckResult", "all_checks", "gopher_params", "groups", "recompute", "run_checks"]

_FIELDS = {"id", "group", "claim", "where", "compute", "published", "tolerance", "compare", "note"}
_COMPARES = ("equal", "at_least", "at_most")


@dataclass(frozen=True)
class Check:
    id: str
    group: str  # the law (law files), the recipe law, 'krajewski', or 'published-runs'
    file: str
    claim: str
    where: str
    compute: dict
    published: float
    tolerance: dict
    compare: str = "equal"
    note: str = ""


@dataclass(frozen=True)
class CheckResult:
    check: Check
    value: float | None  # None when skipped
    difference: float | None  # value / published - 1
    verdict: str  # pass, fail, skipped
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict != "fail"

    def to_dict(self) -> dict:
        c = self.check
        return {
            "id": c.id,
            "group": c.group,
            "file": c.file,
            "claim": c.claim,
            "where": c.where,
            "published": c.published,
            "scaleplan": self.value,
            "difference": self.difference,
            "tolerance": dict(c.tolerance),
            "compare": c.compare,
            "verdict": self.verdict,
            "reason": self.reason,
            "note": c.note,
        }


# ---------------------------------------------------------------------------------------------------------------
# loading


def _parse(raw: list, group: str, file: str) -> list[Check]:
    if not isinstance(raw, list):
        raise ScaleplanError(f"{file}: published_checks must be a list")
    out = []
    for i, entry in enumerate(raw):
        where = f"{file}: published_checks.{i}"
        if not isinstance(entry, dict):
            raise ScaleplanError(f"{where}: must be a mapping")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ScaleplanError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("id", "claim", "where", "compute", "published", "tolerance"):
            if key not in entry:
                raise ScaleplanError(f"{where}: missing {key!r}")
        tol = entry["tolerance"]
        if not isinstance(tol, dict) or len(tol) != 1 or not set(tol) <= {"rel", "abs"}:
            raise ScaleplanError(f"{where}: tolerance must be {{rel: x}} or {{abs: x}}")
        compare = entry.get("compare", "equal")
        if compare not in _COMPARES:
            raise ScaleplanError(f"{where}: compare must be one of {', '.join(_COMPARES)}")
        kind = entry["compute"].get("kind") if isinstance(entry["compute"], dict) else None
        if kind not in _KINDS:
            raise ScaleplanError(f"{where}: compute.kind must be one of {', '.join(sorted(_KINDS))}, got {kind!r}")
        group_here = str(entry.get("group", group))
        out.append(
            Check(
                id=str(entry["id"]),
                group=group_here,
                file=file,
                claim=str(entry["claim"]),
                where=str(entry["where"]),
                compute=dict(entry["compute"]),
                published=float(entry["published"]),
                tolerance={k: float(v) for k, v in tol.items()},
                compare=compare,
                note=" ".join(str(entry.get("note", "")).split()),
            )
        )
    return out


@functools.cache
def all_checks() -> tuple[Check, ...]:
    """Every published check of every bundled data file, in file order."""
    from . import laws

    checks: list[Check] = []
    for path in sorted((Path(laws.__file__).with_name("data")).glob("*.yaml")):
        raw = _yaml.read(path)
        checks += _parse(raw.get("published_checks") or [], str(raw["name"]), path.name)
    recipe = _yaml.read(_yaml.DATA / "recipe.yaml")
    checks += _parse(recipe.get("published_checks") or [], "recipe", "recipe.yaml")
    moe = _yaml.read(_yaml.DATA / "moe.yaml")
    checks += _parse(moe.get("published_checks") or [], "krajewski", "moe.yaml")
    runs = _yaml.read(_yaml.DATA / "published_runs.yaml")
    checks += _parse(runs.get("published_checks") or [], "published-runs", "published_runs.yaml")
    seen: set[str] = set()
    for c in checks:
        if c.id in seen:
            raise ScaleplanError(f"{c.file}: published check id {c.id!r} is used twice")
        seen.add(c.id)
    return tuple(checks)


def groups() -> list[str]:
    """The group names `laws check NAME` accepts (each law, recipe law, 'krajewski', 'published-runs'); a data
    file's stem (recipe, moe, published_runs) and a check's id work too."""
    return list(dict.fromkeys(c.group for c in all_checks()))


def _select(name: str | None) -> list[Check]:
    checks = list(all_checks())
    if name is None:
        return checks
    key = str(name).strip().lower()
    known = groups()
    if key not in known:
        from . import laws

        try:  # a law's alias (besiroglu -> epoch)
            key = laws.get(key).name
        except ScaleplanError:
            pass
    if key in known:
        return [c for c in checks if c.group == key]
    by_file = [c for c in checks if c.file.removesuffix(".yaml") == key]  # recipe, moe, published_runs
    if by_file:
        return by_file
    by_id = [c for c in checks if c.id == key]
    if by_id:
        return by_id
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ScaleplanError(f"no published checks for {name!r}{hint} (known: {', '.join(known)})")


# ---------------------------------------------------------------------------------------------------------------
# recomputing: one small function per kind of claim


def _f(spec: dict, key: str) -> float:
    if key not in spec:
        raise ScaleplanError(f"published check needs compute.{key}")
    return float(spec[key])


def _attr(obj, path: str) -> float:
    for part in path.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return float(obj)


def _allocate(spec, law):
    from .allocate import allocate

    return _attr(allocate(_f(spec, "flops"), law=law), spec["output"])


def _exponent(spec, law):
    from . import laws

    a, b = laws.get(law).exponents
    return a if spec.get("output", "a") == "a" else b


def _loss(spec, law):
    from . import laws

    return float(laws.get(law).loss(_f(spec, "params"), _f(spec, "tokens")))


def _loss_error_pct(spec, law):
    observed = _f(spec, "observed")
    return 100.0 * abs(_loss(spec, law) - observed) / observed


def _downstream_error_pct(spec, law):
    """Gadre et al.'s top-1 error predicted from the law's predicted loss, relative to an observed error (%)."""
    from .constrained import downstream_error

    observed = _f(spec, "observed")
    predicted = float(downstream_error(_loss(spec, law), law=law, metric=spec.get("metric")))
    return 100.0 * abs(predicted - observed) / observed


def _constrained_loss(spec, law):
    from .constrained import data_constrained_loss

    return float(data_constrained_loss(_f(spec, "params"), _f(spec, "tokens"), _f(spec, "unique_tokens"), law=law))


def _constrained_allocation(spec, law):
    from .constrained import data_constrained_allocation

    return _attr(data_constrained_allocation(_f(spec, "flops"), _f(spec, "unique_tokens"), law=law), spec["output"])


def _inference(spec, law):
    from . import laws
    from .inference import inference_aware, serving_costs

    if "baseline_params" in spec:  # the loss of the compute-optimal model of this size (Sardana Fig. 1)
        c = laws.get(law).constants
        loss = c["E"] + c["A"] * (c["alpha"] / c["beta"] + 1) / _f(spec, "baseline_params") ** c["alpha"]
    else:
        loss = _f(spec, "target_loss")
    costs = serving_costs(**spec["costs"]) if "costs" in spec else None
    plan = inference_aware(
        _f(spec, "inference_tokens"), target_loss=loss, law=law, objective=spec.get("objective", "flops"), costs=costs
    )
    pa, pb = (
        [_attr(plan, f"{side}.{key}") for key in ("params", "tokens", "total_flops")]
        for side in ("compute_optimal", "inference_aware")
    )
    derived = {
        "params_pct": 100 * pb[0] / pa[0],
        "tokens_pct": 100 * pb[1] / pa[1],
        "flops_pct": 100 * pb[2] / pa[2],
        "saved_flops": pa[2] - pb[2],
    }
    out = spec["output"]
    return float(derived[out]) if out in derived else _attr(plan, out)


def _moe(spec, law):
    from .moe import moe_allocation

    return _attr(moe_allocation(_f(spec, "flops")), spec["output"])


def _vocab(spec, law):
    from .recipe import optimal_vocab

    d_model = int(spec["d_model"]) if "d_model" in spec else None
    return _attr(optimal_vocab(non_vocab_params=_f(spec, "non_vocab_params"), d_model=d_model), spec["output"])


def _steplaw(spec, law):
    from .recipe import steplaw

    lr, batch = steplaw(_f(spec, "params"), _f(spec, "tokens"), law=spec.get("law", "steplaw"))
    return {"learning_rate": lr, "batch_tokens": batch}[spec["output"]]


def _shape(spec):
    from .recipe import Shape

    d = int(spec["d_model"])
    head_dim = int(spec.get("head_dim", 128))
    return Shape(
        int(spec["layers"]),
        d,
        int(spec.get("heads", d // head_dim)),
        head_dim,
        int(spec.get("d_ff", 4 * d)),
        int(spec.get("context", 2048)),
        int(spec.get("vocab", 32000)),
        arch="gpt",  # the papers' blocks: an MLP of two matrices, multi-head attention
    )


def _hparams(spec, law):
    from .recipe import hyperparameters

    shape = _shape(spec) if "layers" in spec else None
    rows = hyperparameters(
        tokens=spec.get("tokens"), flops=spec.get("flops"), loss=spec.get("loss"), law=spec["law"], shape=shape
    )
    (row,) = [r for r in rows if r.default]
    return _attr(row, spec["output"])


def _flops_per_token(spec, law):
    from .recipe import flops_per_token

    return _attr(flops_per_token(_shape(spec)), spec["output"])


def gopher_params(layers: int, d_model: int, d_ff: int, vocab: int = 32000) -> int:
    """Chinchilla/Gopher parameter count as Karpathy reconstructed it (nanoGPT scaling_laws.ipynb,
    chinchilla_params): QKV with biases, relative-position weights, output projection, FFN with biases, layer norms
    and ONE d x V matrix."""
    d, f = d_model, d_ff
    per_layer = (3 * d * d + 3 * d) + (d * d + 2 * d) + (d * d + d) + (d * f + f) + (f * d + d) + 4 * d
    return layers * per_layer + 2 * d + d * vocab


def _table_a4_ratio(spec, law):
    """Chinchilla Table A4 'FLOP Ratio (Ours/6ND)': App. F layer terms (no embeddings, no final logits) over 6N."""
    from .recipe import flops_per_token

    s = _shape(spec)
    return 3 * flops_per_token(s).transformer_blocks / (6 * gopher_params(s.layers, s.d_model, s.d_ff, s.vocab))


def _training_run(spec, law):
    from .cost import get_hardware, gpu_hours_for

    flops = _f(spec, "flops") if "flops" in spec else 6 * _f(spec, "params") * _f(spec, "tokens")
    hours = float(gpu_hours_for(flops, get_hardware(spec["hardware"]), _f(spec, "mfu")))
    out = spec["output"]
    if out == "gpu_hours":
        return hours
    if out == "days":
        return hours / _f(spec, "gpus") / 24.0
    raise ScaleplanError(f"training_run output must be gpu_hours or days, got {out!r}")


def _constant(spec, law):
    """A constant scaleplan uses, by path: 'constants.alpha' / 'loss.constants.N_c' of a law, or 'recipe:...'."""
    from . import laws

    path = str(spec["path"])
    if path.startswith("recipe:"):
        from .recipe import constants

        return _attr(constants(), path.removeprefix("recipe:"))
    if path.startswith("moe:"):
        from .moe import constants as moe_constants

        return _attr(moe_constants(), path.removeprefix("moe:"))
    law_ = laws.get(law)
    root = {"constants": law_.constants, "loss": law_.loss_spec or {}}
    return _attr(root, path)


class _NeedsData(Exception):
    pass


def _refit(spec, law, data_dir=None):
    if data_dir is None:
        raise _NeedsData(f"needs {spec['data']} (the authors' released runs): pass --data-dir")
    path = Path(data_dir) / spec["data"]
    if not path.is_file():
        raise ScaleplanError(f"data folder {data_dir} has no {spec['data']} (the authors' released runs)")
    return float(getattr(_refit_cached(str(path.resolve()), int(spec.get("drop_worst", 0))), spec["output"]))


@functools.lru_cache(maxsize=4)
def _refit_cached(path: str, drop_worst: int):
    from . import fit

    return fit.fit_parametric(fit.load_runs(path, drop_worst=drop_worst))


_KINDS = {
    "allocate": _allocate,
    "exponent": _exponent,
    "loss": _loss,
    "loss_error_pct": _loss_error_pct,
    "downstream_error_pct": _downstream_error_pct,
    "constrained_loss": _constrained_loss,
    "constrained_allocation": _constrained_allocation,
    "inference": _inference,
    "moe": _moe,
    "vocab": _vocab,
    "steplaw": _steplaw,
    "hparams": _hparams,
    "flops_per_token": _flops_per_token,
    "table_a4_ratio": _table_a4_ratio,
    "training_run": _training_run,
    "refit": _refit,
    "constant": _constant,
}


def _law_of(check: Check) -> str:
    return str(check.compute.get("law", check.group))


def recompute(check: Check, data_dir: str | Path | None = None) -> float:
    """scaleplan's own value for one claim (raises ScaleplanError if it needs data that is not there)."""
    try:
        return _recompute(check, data_dir)
    except _NeedsData as exc:
        raise ScaleplanError(f"{check.id}: {exc}") from None


def _recompute(check: Check, data_dir) -> float:
    if check.compute["kind"] == "refit":
        return _refit(check.compute, _law_of(check), data_dir)
    return float(_KINDS[check.compute["kind"]](check.compute, _law_of(check)))


def verdict(check: Check, value: float) -> tuple[float, bool]:
    """(relative difference, within tolerance) for a recomputed value."""
    p = check.published
    tol = check.tolerance["abs"] if "abs" in check.tolerance else check.tolerance["rel"] * abs(p)
    diff = value / p - 1.0 if p else value
    if not math.isfinite(value):
        return diff, False
    match check.compare:
        case "at_least":
            ok = value >= p - tol
        case "at_most":
            ok = value <= p + tol
        case _:
            ok = abs(value - p) <= tol
    return diff, ok


def run_checks(name: str | None = None, data_dir: str | Path | None = None) -> list[CheckResult]:
    """Recompute every published claim (or those of one law / group / check id)."""
    results = []
    for check in _select(name):
        try:
            value = _recompute(check, data_dir)
        except _NeedsData as exc:
            results.append(CheckResult(check, None, None, "skipped", str(exc)))
            continue
        diff, ok = verdict(check, value)
        results.append(CheckResult(check, value, diff, "pass" if ok else "fail"))
    return results
