"""Published claims as data: the claim format (see checks.py), reading every bundled file's claims, recomputing
one claim (by its kind's runner) and the verdict on the value."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..core import _yaml
from ..core.errors import ScaleplanError
from .checks_runners import KINDS, NeedsData, claim_target, data_files, refit

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
    return tuple(claim_target(x, file) for x in raw)


def parse_claims(raw: list, group: str, file: str) -> list[Check]:
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
            target = claim_target(entry["compute"]["path"], file)  # case kept: kumar's B and b are two constants
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
        if kind not in KINDS:
            raise ScaleplanError(f"{where}: compute.kind must be one of {', '.join(sorted(KINDS))}, got {kind!r}")
        covers = _covers(entry.get("covers"), file, where)
        if kind == "constant":
            target = claim_target(entry["compute"]["path"], file)
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
                out += parse_claims([one], law, file)
    return out


def _default_group(raw: dict, path: Path) -> str:
    if isinstance(raw.get("name"), str):  # a law file, moe.yaml (krajewski)
        return raw["name"]
    return str(raw.get("checks_group") or path.stem.replace("_", "-"))


@functools.cache
def all_checks() -> tuple[Check, ...]:
    """Every published check of every bundled data file, in file order."""
    checks: list[Check] = []
    for path in data_files():
        raw = _yaml.read(path)
        if not isinstance(raw, dict):
            continue
        if path.name == "precision.yaml":
            checks += _precision_checks(raw, path.name)
        checks += parse_claims(raw.get("published_checks") or [], _default_group(raw, path), path.name)
    seen: set[str] = set()
    for c in checks:
        if c.id in seen:
            raise ScaleplanError(f"{c.file}: published check id {c.id!r} is used twice")
        seen.add(c.id)
    return tuple(checks)


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


def _law_of(check: Check) -> str:
    return str(check.compute.get("law", check.group))


def recompute(check: Check, data_dir: str | Path | None = None) -> float:
    """scaleplan's own value for one claim (raises ScaleplanError if it needs data that is not there)."""
    try:
        return recompute_value(check, data_dir)
    except NeedsData as exc:
        raise ScaleplanError(f"{check.id}: {exc}") from None


def recompute_value(check: Check, data_dir) -> float:
    if check.compute["kind"] == "refit":
        return refit(check.compute, _law_of(check), data_dir)
    return float(KINDS[check.compute["kind"]](check.compute, _law_of(check)))
