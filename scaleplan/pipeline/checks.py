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

The claims' format and reading are in checks_claims, the recomputing per kind in checks_runners, the constants'
coverage and drift in checks_constants; their public names are re-exported here.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ..core.errors import ScaleplanError
from .checks_claims import Check, CheckResult, all_checks, parse_claims, recompute, recompute_value, verdict
from .checks_constants import (
    Constant,
    clear_caches,
    constants,
    constants_summary,
    coverage_problems,
    drift_caught,
    drifted,
)
from .checks_runners import NeedsData, gopher_params

__all__ = [
    "Check",
    "CheckResult",
    "Constant",
    "all_checks",
    "clear_caches",
    "constants",
    "constants_summary",
    "coverage_problems",
    "drift_caught",
    "drifted",
    "gopher_params",
    "groups",
    "parse_claims",
    "recompute",
    "run_checks",
    "verdict",
]


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


def run_checks(name: str | None = None, data_dir: str | Path | None = None) -> list[CheckResult]:
    """Recompute every published claim (or those of one law / group / check id)."""
    results = []
    for check in _select(name):
        try:
            value = recompute_value(check, data_dir)
        except NeedsData as exc:
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
