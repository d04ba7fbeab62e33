"""Every constant of the bundled data files, the claims that read each (the coverage rule), and drifting one
constant in-process to see that `laws check` catches it."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import math
from dataclasses import dataclass

from ..core import _yaml
from ..core.errors import ScaleplanError
from .checks_claims import all_checks, recompute_value, verdict
from .checks_runners import data_files, mapping_key

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
    for path in data_files():
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
    for path in data_files():
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
    files = {p.name: p for p in data_files()}
    if file not in files:
        raise ScaleplanError(f"no bundled data file {file!r}")
    raw = _yaml.read(files[file])
    parts = path.split(".")
    node = raw
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part if part in node else mapping_key(node, part)]
    last: object = parts[-1]
    if isinstance(node, list):
        last = int(parts[-1])
    elif parts[-1] not in node:
        last = mapping_key(node, parts[-1])
    old = node[last]
    if isinstance(old, int):
        new = round(old * factor)
        new = new if new != old else old + 1
    else:
        new = old * factor
    node[last] = new
    try:
        with _yaml.overridden(files[file], raw):
            clear_caches()
            yield old, new
    finally:
        clear_caches()  # after the override is gone: the next reads are the bundled file's


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
                    value = recompute_value(check, None)
                except ScaleplanError as exc:
                    return True, f"{check.id}: {exc}"
                _, ok = verdict(check, value)
                if not ok:
                    return True, check.id
        except ScaleplanError as exc:  # the drifted file no longer loads: laws check stops with an error
            return True, f"refused: {exc}"
    return False, ""
