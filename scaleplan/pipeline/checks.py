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

import contextlib
import difflib
import fnmatch
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..core import _yaml
from ..core.errors import ScaleplanError

__all__ = ["Check", "CheckResult", "all_checks", "gopher_params", "groups", "recompute", "run_checks"]

_FIELDS = {"id", "group", "claim", "where", "compute", "published", "tolerance", "compare", "note", "covers"}
_FIELDS |= {"constant"}  # shorthand for compute: {kind: constant, path: ...}
_COMPARES = ("equal", "at_least", "at_most")
EXACT = {"rel": 1.0e-9}  # a stored constant that is the printed number itself: equal up to float rounding


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
    covers: tuple[tuple[str, str], ...] = ()  # (data file, constant path or glob) whose drift this claim catches


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


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", str(text).lower()))


def _covers(raw, file: str, where: str) -> tuple[tuple[str, str], ...]:
    """'constants.A' (in the claim's own file) or 'hardware.yaml:h100.peak_flops' (another bundled file)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise ScaleplanError(f"{where}: covers must be a list of constant paths")
    return tuple(_target(x, file) for x in raw)


def _target(path: str, file: str) -> tuple[str, str]:
    """(file, dotted path) of a constant named 'path' (own file), 'FILE.yaml:path', or the old 'recipe:'/'moe:'."""
    path = str(path).strip()
    head, sep, rest = path.partition(":")
    if sep and head.endswith(".yaml"):
        return head, rest
    if sep and head in ("recipe", "moe"):
        return f"{head}.yaml", rest
    return file, path


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
        entry = dict(entry)
        if "constant" in entry:  # shorthand: a stored constant against the number its source prints
            if "compute" in entry:
                raise ScaleplanError(f"{where}: give constant or compute, not both")
            entry["compute"] = {"kind": "constant", "path": str(entry.pop("constant"))}
            entry.setdefault("tolerance", dict(EXACT))
            target = _target(entry["compute"]["path"], file)  # case kept: kumar's B and b are two constants
            entry.setdefault("id", f"{target[0].removesuffix('.yaml')}:{target[1]}")
            words = " ".join(target[1].replace("_", " ").split("."))  # wraps between words in a narrow table
            entry.setdefault("claim", f"{target[0]}: {words} as printed, {float(entry.get('published', 0)):g}")
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
        covers = _covers(entry.get("covers"), file, where)
        if kind == "constant":
            target = _target(entry["compute"]["path"], file)
            entry["compute"] = dict(entry["compute"], path=f"{target[0]}:{target[1]}")
            covers = (target, *covers)
        out.append(
            Check(
                id=str(entry["id"]),
                group=str(entry.get("group", group)),
                file=file,
                claim=str(entry["claim"]),
                where=str(entry["where"]),
                compute=dict(entry["compute"]),
                published=float(entry["published"]),
                tolerance={k: float(v) for k, v in tol.items()},
                compare=compare,
                note=" ".join(str(entry.get("note", "")).split()),
                covers=covers,
            )
        )
    return out


def _precision_checks(raw: dict, file: str) -> list[Check]:
    """precision.yaml keeps its own check format (quantity, inputs, value, compare: relative | equal | within |
    greater); each entry becomes one claim per printed number."""
    out = []
    for law, section in raw.items():
        if not isinstance(section, dict):
            continue
        for i, entry in enumerate(section.get("published_checks") or []):
            value, compare = entry["value"], entry.get("compare", "relative")
            base = {
                "group": law,
                "claim": entry["claim"],
                "where": f"{section['citation']['authors'].split(',')[0]} et al. {section['citation']['year']} "
                f"(arXiv:{section['citation']['arxiv']}), {entry['where']}",
            }
            ident = entry.get("id") or f"{law}-{_slug(entry['claim'])[:40].rsplit('-', 1)[0]}"
            compute = {"kind": "precision", "quantity": entry["quantity"], "inputs": dict(entry.get("inputs") or {})}
            covers = entry.get("covers")
            if compare == "relative":
                rows = [(ident, compute, float(value), {"rel": float(entry["tolerance"])}, "equal")]
            elif compare == "equal":
                rows = [
                    (f"{ident}-{j}", dict(compute, index=j), float(v), {"abs": 0.0}, "equal")
                    for j, v in enumerate(value)
                ]
            elif compare == "within":  # every computed value inside [low, high]: the farthest from the middle
                low, high = map(float, value)
                half = (high - low) / 2
                rows = [(ident, dict(compute, within=[low, high]), low + half, {"abs": half}, "equal")]
            elif compare == "greater":
                rows = [(ident, compute, float(value), {"abs": 0.0}, "at_least")]
            else:
                raise ScaleplanError(f"{file}: {law}.published_checks.{i}: unknown compare {compare!r}")
            note = {
                "relative": "precision.yaml's tolerance: half a unit of the last printed digit, or how closely the "
                "printed law reproduces its own table (the law's status says which)",
                "within": "a printed range: every value inside it passes",
            }.get(compare, "")
            for id_, comp, published, tol, cmp in rows:
                one = dict(base, id=id_, compute=comp, published=published, tolerance=tol, compare=cmp, note=note)
                if covers is not None:
                    one["covers"] = covers
                out += _parse([one], law, file)
    return out


def _data_files() -> list[Path]:
    """Every bundled data file: the law files, then scaleplan/data/*.yaml (not the example budgets in configs/)."""
    from .. import laws

    return sorted(Path(laws.__file__).with_name("data").glob("*.yaml")) + sorted(_yaml.DATA.glob("*.yaml"))


def _default_group(raw: dict, path: Path) -> str:
    if isinstance(raw.get("name"), str):  # a law file, moe.yaml (krajewski)
        return raw["name"]
    return str(raw.get("checks_group") or path.stem.replace("_", "-"))


@functools.cache
def all_checks() -> tuple[Check, ...]:
    """Every published check of every bundled data file, in file order."""
    checks: list[Check] = []
    for path in _data_files():
        raw = _yaml.read(path)
        if not isinstance(raw, dict):
            continue
        if path.name == "precision.yaml":
            checks += _precision_checks(raw, path.name)
        checks += _parse(raw.get("published_checks") or [], _default_group(raw, path), path.name)
    seen: set[str] = set()
    for c in checks:
        if c.id in seen:
            raise ScaleplanError(f"{c.file}: published check id {c.id!r} is used twice")
        seen.add(c.id)
    return tuple(checks)


# ---------------------------------------------------------------------------------------------------------------
# constants: every number a bundled data file gives that scaleplan computes with, and the claims that read each

# Keys whose values are not constants, at any depth of any bundled file (with why); 'year' and keys ending in '_year'
# (not '_per_year') are dates.
NOT_CONSTANTS = {
    "published_checks": "claims: printed values scaleplan is checked against",
    "checks": "claims: printed values scaleplan is checked against (curve_laws.yaml)",
    "table_1": "claims: Ouyang et al.'s printed Table 1, each cell a published check",
    "citation": "bibliography (the year)",
    "fitted_range": "where the authors fitted: it decides warnings, not a number scaleplan computes",
    "range": "the plausible range a default's sources span (serving.yaml): documentation, not computed with",
    "single_factor_fits": "printed exponents of one-variable fits, shipped for reference, not computed with",
    "fit": "how the bundled bootstrap draws were made (their count and seed)",
    "schema": "the file format's version",
    "unpublished": "markings",
    "missing": "markings",
}


@dataclass(frozen=True)
class Constant:
    """One number a bundled data file gives, with the claims that catch its drift or why none can."""

    file: str
    path: str
    value: float
    claims: tuple[str, ...] = ()
    unpublished: str = ""  # the file's reason it has no published value

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _numbers(node, path: str, marks: dict, file: str):
    """(path, value) of every numeric leaf under node, collecting `unpublished: {relative path: why}` marks."""
    if isinstance(node, dict):
        marked = node.get("unpublished")
        if marked is not None:
            if not isinstance(marked, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in marked.items()
            ):
                raise ScaleplanError(
                    f"{file}: {path or 'top level'}: unpublished must map a key to why it has no published value"
                )
            for key, why in marked.items():
                marks[f"{path}.{key}" if path else key] = " ".join(why.split())
        for key, value in node.items():
            key = str(key)
            if key in NOT_CONSTANTS or key == "year" or (key.endswith("_year") and not key.endswith("per_year")):
                continue
            yield from _numbers(value, f"{path}.{key}" if path else key, marks, file)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers(value, f"{path}.{i}", marks, file)
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and math.isfinite(node):
        yield path, float(node)  # (.inf closes a table's last row: a sentinel, not a constant)


def _match(pattern: str, path: str) -> bool:
    return path == pattern or fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern + ".")


@functools.cache
def constants() -> tuple[Constant, ...]:
    """Every constant of every bundled data file, with the ids of the claims that read it (`covers`, or a
    `constant:` claim on it) and the file's reason where it has no published value (`unpublished`)."""
    claims = all_checks()
    out = []
    for path in _data_files():
        raw = _yaml.read(path)
        marks: dict[str, str] = {}
        numbers = list(_numbers(raw, "", marks, path.name))
        for key, value in numbers:
            ids = tuple(c.id for c in claims for f, pat in c.covers if f == path.name and _match(pat, key))
            why = next((w for pat, w in marks.items() if _match(pat, key)), "")
            out.append(Constant(path.name, key, value, ids, why))
    return tuple(out)


def coverage_problems() -> list[str]:
    """What the coverage rule refuses: a constant no claim reads and no mark exempts, a mark on a constant a claim
    reads (it has a published value after all), a mark or a `covers` entry that names no constant."""
    problems = []
    table = constants()
    printed = {c.id for c in all_checks() if c.compute["kind"] == "constant"}
    for k in table:
        if not k.claims and not k.unpublished:
            problems.append(f"{k.file}: {k.path} = {k.value:g}: no claim reads it and it is not marked unpublished")
        elif k.unpublished and any(i in printed for i in k.claims):
            problems.append(f"{k.file}: {k.path}: marked unpublished, but {k.claims[0]} compares it to a printed value")
    names: dict[str, list[str]] = {}
    for k in table:
        names.setdefault(k.file, []).append(k.path)
    for c in all_checks():
        for f, pat in c.covers:
            if not any(_match(pat, p) for p in names.get(f, [])):
                problems.append(f"{c.file}: {c.id} covers {f}:{pat}, which is no constant")
    for path in _data_files():
        marks: dict[str, str] = {}
        list(_numbers(_yaml.read(path), "", marks, path.name))
        for pat in marks:
            if not any(_match(pat, p) for p in names.get(path.name, [])):
                problems.append(f"{path.name}: unpublished names {pat}, which is no constant")
    return problems


def constants_summary() -> str:
    """'412 constants in the bundled files: 380 read by a claim, 32 with no published value (marked with why; a
    claim may still read them loosely, as the serving benchmarks read the fitted bandwidth fraction).'"""
    table = constants()
    marked = sum(bool(k.unpublished) for k in table)
    read = sum(bool(k.claims) and not k.unpublished for k in table)
    rest = len(table) - read - marked
    tail = f", {rest} neither (a bug: see coverage_problems)" if rest else ""
    return (
        f"{len(table)} constants in the bundled data files: {read} read by a claim, {marked} with no published "
        f"value (marked in their files with why){tail}."
    )


@contextlib.contextmanager
def drifted(file: str, path: str, factor: float = 1.01):
    """Bundled data with one constant changed, in-process: `laws check` must then fail. Whole numbers move to the
    nearest other whole number (8 -> 9), others by `factor`. Restores the data and clears every cache on exit."""
    files = {p.name: p for p in _data_files()}
    if file not in files:
        raise ScaleplanError(f"no bundled data file {file!r}")
    raw = _yaml.read(files[file])
    parts = path.split(".")
    node = raw
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part if part in node else _key(node, part)]
    last: object = parts[-1]
    if isinstance(node, list):
        last = int(parts[-1])
    elif parts[-1] not in node:
        last = _key(node, parts[-1])
    old = node[last]
    if isinstance(old, int):
        new = round(old * factor)
        new = new if new != old else old + 1
    else:
        new = old * factor
    node[last] = new
    key = str(files[file].resolve())
    _yaml._OVERRIDES[key] = raw
    clear_caches()
    try:
        yield old, new
    finally:
        del _yaml._OVERRIDES[key]
        clear_caches()


def clear_caches() -> None:
    """Forget every cached read of the bundled data (all functools caches of scaleplan's modules)."""
    import sys

    for name, module in list(sys.modules.items()):
        if name == "scaleplan" or name.startswith("scaleplan."):
            for obj in list(vars(module).values()):
                if callable(getattr(obj, "cache_clear", None)) and getattr(obj, "__module__", "") == name:
                    obj.cache_clear()


def drift_caught(file: str, path: str, factor: float = 1.01) -> tuple[bool, str]:
    """(caught, by what): does `laws check` fail with this one constant drifted? The claims that read it run
    first and the search stops at the first failure (the same verdict as running every claim)."""
    with drifted(file, path, factor):
        try:
            claims = all_checks()
            reading = {c.id for c in claims for f, pat in c.covers if f == file and _match(pat, path)}
            ordered = sorted(claims, key=lambda c: c.id not in reading)
            for check in ordered:
                if check.compute["kind"] == "refit":
                    continue
                try:
                    value = _recompute(check, None)
                except ScaleplanError as exc:
                    return True, f"{check.id}: {exc}"
                _, ok = verdict(check, value)
                if not ok:
                    return True, check.id
        except ScaleplanError as exc:  # the drifted file no longer loads: laws check stops with an error
            return True, f"refused: {exc}"
    return False, ""


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
        from .. import laws

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
        if isinstance(obj, dict):
            obj = obj[part] if part in obj else obj[_key(obj, part)]
        elif isinstance(obj, list):
            obj = obj[int(part)]
        else:
            obj = getattr(obj, part)
    if isinstance(obj, bool) or not isinstance(obj, (int, float)):
        raise TypeError(f"not a number at {path!r}")
    return float(obj)


def _key(mapping: dict, part: str):
    """A YAML key that is a number (moe.yaml's fits: 64, 16) named in a dotted path."""
    for k in mapping:
        if str(k) == part:
            return k
    raise KeyError(part)


def _allocate(spec, law):
    from .optimal import allocate

    return _attr(allocate(_f(spec, "flops"), law=law), spec["output"])


def _exponent(spec, law):
    from .. import laws

    a, b = laws.get(law).exponents
    return a if spec.get("output", "a") == "a" else b


def _loss(spec, law):
    from .. import laws

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
    from .. import laws
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
    from ..recipe.design import optimal_vocab

    d_model = int(spec["d_model"]) if "d_model" in spec else None
    return _attr(optimal_vocab(non_vocab_params=_f(spec, "non_vocab_params"), d_model=d_model), spec["output"])


def _steplaw(spec, law):
    from ..recipe.design import steplaw

    lr, batch = steplaw(_f(spec, "params"), _f(spec, "tokens"), law=spec.get("law", "steplaw"))
    return {"learning_rate": lr, "batch_tokens": batch}[spec["output"]]


def _shape(spec):
    from ..recipe.design import Shape

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
    from ..recipe.design import hyperparameters

    shape = _shape(spec) if "layers" in spec else None
    rows = hyperparameters(
        tokens=spec.get("tokens"), flops=spec.get("flops"), loss=spec.get("loss"), law=spec["law"], shape=shape
    )
    (row,) = [r for r in rows if r.default]
    return _attr(row, spec["output"])


def _flops_per_token(spec, law):
    from ..recipe.design import flops_per_token

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
    from ..recipe.design import flops_per_token

    s = _shape(spec)
    return 3 * flops_per_token(s).transformer_blocks / (6 * gopher_params(s.layers, s.d_model, s.d_ff, s.vocab))


def _training_run(spec, law):
    from ..cluster.cost import get_hardware, gpu_hours_for

    flops = _f(spec, "flops") if "flops" in spec else 6 * _f(spec, "params") * _f(spec, "tokens")
    hours = float(gpu_hours_for(flops, get_hardware(spec["hardware"]), _f(spec, "mfu")))
    out = spec["output"]
    if out == "gpu_hours":
        return hours
    if out == "days":
        return hours / _f(spec, "gpus") / 24.0
    raise ScaleplanError(f"training_run output must be gpu_hours or days, got {out!r}")


def _constant(spec, law):
    """A stored constant, read from its bundled file by path ('epoch.yaml:constants.A', 'hardware.yaml:h100.memory')."""
    file, path = _target(spec["path"], "")
    try:
        return _attr(_raw(file), path)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError):
        raise ScaleplanError(f"{file} has no number at {path!r}") from None


def _precision(spec, law):
    """A precision law's quantity (precision.yaml's own check format): one element of a list, or the value farthest
    from the middle of a printed range ('within')."""
    import numpy as np

    from .precision import published_quantity

    got = published_quantity(spec["quantity"], dict(spec.get("inputs") or {}))
    if "index" in spec:
        return float(list(got)[int(spec["index"])])
    if "within" in spec:
        low, high = spec["within"]
        values = np.atleast_1d(np.asarray(got, float))
        return float(values[np.argmax(np.abs(values - low - (high - low) / 2))])
    return float(np.asarray(got, float))


def _zero_states(spec, law):
    """Per-device model-state memory in GB (1e9 B) under ZeRO stage `stage` over `dp` data-parallel ranks."""
    from ..cluster.memory import model_state_bytes

    return model_state_bytes(_f(spec, "params"), int(spec["stage"]), _f(spec, "dp")) / 1e9


def _activations(spec, law):
    """One layer's stored activations per device, in units of s*b*h (Korthikanti et al. 2022 Table 2)."""
    from ..cluster.memory import ModelSpec, activation_bytes_per_layer

    m = ModelSpec(
        _f(spec, "params"), int(spec["layers"]), int(spec["d_model"]), int(spec["heads"]), int(spec["context"])
    )
    sbh = float(m.context) * _f(spec, "micro_batch") * m.d_model
    per = activation_bytes_per_layer(
        m,
        _f(spec, "micro_batch"),
        int(spec["tp"]),
        sequence_parallel=bool(spec.get("sequence_parallel", False)),
        recompute=spec.get("recompute", "none"),
        flash=bool(spec.get("flash", False)),
    )
    if spec.get("output") == "saving":  # 1 - selective / none, the saving Korthikanti sec. 5 prints
        full = activation_bytes_per_layer(
            m,
            _f(spec, "micro_batch"),
            int(spec["tp"]),
            sequence_parallel=bool(spec.get("sequence_parallel", False)),
            flash=False,
        )
        return 1.0 - float(per) / float(full)
    return float(per) / sbh


def _recompute_ratio(spec, law):
    """Hardware over model FLOPs with recomputation (Korthikanti et al. 2022 Table 5's HFU / MFU)."""
    from ..cluster.cost import recompute_ratio

    keys = ("context", "d_model", "layers", "vocab")
    return recompute_ratio(spec.get("recompute", "selective"), **{k: int(spec[k]) for k in keys if k in spec})


def _curve_areas(spec, law):
    """S1 or S2 (Tissue et al. 2024) at the last step of a schedule, lambda from the bundled curve law."""
    from ..curves.law import Schedule, areas, example_law

    sched = Schedule(
        spec["schedule"],
        int(spec["steps"]),
        _f(spec, "peak_lr"),
        warmup=int(spec.get("warmup", 0)),
        cooldown=float(spec.get("cooldown", 0.2)),
        shape=spec.get("shape", "1-sqrt"),
    )
    s1, s2 = areas(sched.lr(), sched.warmup, example_law().lam)
    return float({"S1": s1, "S2": s2}[spec["output"]][-1])


def _schedule_lr(spec, law):
    """The learning rate of a schedule at one step, as a fraction of the peak (Hagele et al.'s wsd_schedule)."""
    from ..curves.law import Schedule

    sched = Schedule(
        spec["schedule"],
        int(spec["steps"]),
        1.0,
        warmup=int(spec.get("warmup", 0)),
        cooldown=float(spec.get("cooldown", 0.2)),
        shape=spec.get("shape", "1-sqrt"),
    )
    return float(sched.lr()[int(spec["step"]) - 1])


def _cooldown_suite(spec, law):
    from ..curves.law import cooldown_suite_cost

    return cooldown_suite_cost(tuple(spec["multiples"]), _f(spec, "cooldown"))


def _curve_loss(spec, law):
    """The bundled example curve law's loss at the end of a schedule."""
    from ..curves.law import Schedule, example_law

    sched = Schedule(
        spec["schedule"],
        int(spec["steps"]),
        _f(spec, "peak_lr"),
        cooldown=float(spec.get("cooldown", 0.2)),
        shape=spec.get("shape", "1-sqrt"),
    )
    return example_law().final_loss(sched)


def _serving(spec, law):
    """The serving roofline (cluster.serving) on one published case: `what` picks the function, `scale` converts
    the output (1000: seconds to ms; tp: per GPU to the whole tensor-parallel group)."""
    from ..cluster import serving

    what = spec["what"]
    if what == "kv_bytes_per_token":
        value = serving.kv_bytes_per_token(
            int(spec["layers"]), int(spec["kv_heads"]), int(spec["head_dim"]), _f(spec, "kv_bits")
        )
    elif what == "critical_batch":
        value = serving.critical_batch(_f(spec, "peak"), _f(spec, "bandwidth"), _f(spec, "weight_bits"))
    elif what == "decode_step":
        value = serving.decode_step_time(
            _f(spec, "batch"),
            _f(spec, "weight_bytes"),
            _f(spec, "kv_bytes_per_sequence"),
            _f(spec, "flops_per_token"),
            _f(spec, "bandwidth"),
            _f(spec, "peak"),
        )
        if spec.get("output") == "tokens_per_s":
            value = _f(spec, "batch") / float(value)
    elif what == "serve":
        m = spec["model"]
        model = serving.ServedModel(
            layers=int(m["layers"]),
            d_model=int(m["d_model"]),
            heads=int(m["heads"]),
            kv_heads=int(m["kv_heads"]),
            head_dim=int(m["head_dim"]),
            params=float(m["params"]),
            active_params=float(m["params"]),
        )
        keys = ("tp", "prompt_tokens", "output_tokens", "serve_bits", "kv_bits", "batch")
        result = serving.serve(model, spec["hardware"], **{k: int(spec[k]) for k in keys if k in spec})
        value = _attr(result, spec["output"])
    else:
        raise ScaleplanError(f"serving check: unknown what {what!r}")
    return float(value) * float(spec.get("scale", 1.0))


@functools.cache
def _raw(file: str):
    """A bundled data file as stored (read once; treat as read-only)."""
    files = {p.name: p for p in _data_files()}
    if file not in files:
        raise ScaleplanError(f"no bundled data file {file!r}")
    return _yaml.read(files[file])


class _NeedsData(Exception):
    pass


def _refit(spec, law, data_dir=None):
    if data_dir is None:
        raise _NeedsData(f"needs {spec['data']} (the authors' released runs): scaleplan laws check --data-dir DIR")
    path = Path(data_dir) / spec["data"]
    if not path.is_file():
        raise ScaleplanError(f"data folder {data_dir} has no {spec['data']} (the authors' released runs)")
    return float(getattr(_refit_cached(str(path.resolve()), int(spec.get("drop_worst", 0))), spec["output"]))


@functools.lru_cache(maxsize=4)
def _refit_cached(path: str, drop_worst: int):
    from ..fit import parametric as fit

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
    "precision": _precision,
    "zero_states": _zero_states,
    "activations": _activations,
    "recompute_ratio": _recompute_ratio,
    "curve_areas": _curve_areas,
    "schedule_lr": _schedule_lr,
    "cooldown_suite": _cooldown_suite,
    "curve_loss": _curve_loss,
    "serving": _serving,
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
        except ScaleplanError as exc:
            if check.compute["kind"] == "refit":  # the user's --data-dir is wrong: say so, exit 2
                raise
            results.append(CheckResult(check, None, None, "fail", str(exc)))  # scaleplan cannot reproduce it
            continue
        diff, ok = verdict(check, value)
        results.append(CheckResult(check, value, diff, "pass" if ok else "fail"))
    return results
