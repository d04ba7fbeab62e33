"""Laws from checkpoints: runs files with many rows per run (run id, params, tokens seen, loss).

Follows Choshen, Zhang & Andreas 2024, "A Hitchhiker's Guide to Scaling Law Estimation" (arXiv 2410.11840):
fit on intermediate checkpoints, not only final losses (section 6, Fig. 4); drop early checkpoints (section 6.1,
Fig. 5: everything before 10B tokens; scaleplan's default drops each run's first 10% of its tokens instead,
since small sweeps train on far fewer than 10B, and `min_tokens=10e9` gives the guide's absolute cut); need at
least 3 model sizes (the guide uses only families with >= 3 models; 5 is "a safe bet", section 8). Each run weighs
the same: a checkpoint's weight is 1 / (checkpoints kept in its run), so a densely logged run does not outvote
a sparse one, and the bootstrap resamples whole runs.

Public API: load_checkpoints(path, columns=None, run_column=None, drop_fraction=0.1, min_tokens=None) -> Runs
(a `fit.parametric.Runs` with weights, run ids and a `checkpoints` summary; fit it with fit_parametric or fit_vp).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..core.errors import ScaleplanError
from ..schema import limits
from ..schema.conventions import tokens_for, training_flops

__all__ = ["MIN_SIZES", "RUN_ALIASES", "SAFE_SIZES", "find_run_column", "load_any", "load_checkpoints"]

RUN_ALIASES = ("run", "runid", "runname", "run_id", "model", "modelname", "name", "id")
MIN_SIZES = 3  # Choshen et al. section 3: families with at least 3 models
SAFE_SIZES = 5  # Choshen et al. section 8: "5 models is a safe bet"


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).strip().lower() if ch not in " _-")


def find_run_column(header: list[str], given: str | None = None) -> str | None:
    """The run-id column: `given` (by exact or normalised name), else the first recognised name, else None."""
    if given is not None:
        for h in header:
            if h == given or _norm(h) == _norm(given):
                return h
        raise ScaleplanError(f"no run column {given!r}; columns present: {', '.join(header)}")
    norms = {_norm(h): h for h in reversed(header)}
    for alias in RUN_ALIASES:
        if _norm(alias) in norms:
            return norms[_norm(alias)]
    return None


def _cut(drop_fraction, min_tokens) -> tuple[float, float | None]:
    """(fraction, min tokens) of the early cut, checked: min_tokens, if given, replaces the per-run fraction."""
    if min_tokens is not None:
        try:
            cut = float(min_tokens)
        except (TypeError, ValueError):
            cut = math.nan
        if not (math.isfinite(cut) and cut >= 0):
            raise ScaleplanError(f"min_tokens must be a number of tokens >= 0, got {min_tokens!r}")
        return 0.0, cut
    try:
        frac = float(drop_fraction)
    except (TypeError, ValueError):
        frac = math.nan
    if not (math.isfinite(frac) and 0 <= frac < 1):
        raise ScaleplanError(f"drop_fraction must be in [0, 1), got {drop_fraction!r}")
    return frac, None


def _read_table(path: Path, columns: dict | None, run_column: str | None):
    """(run-id column, field -> column, {field: values}, run ids, sha256) of a checkpoints file, every cell checked."""
    from ..schema import runs as runs_mod  # the runs I/O (read, columns, cells)

    header, recs, digest = runs_mod.read_records(path)
    if len(recs) > limits.MAX_INPUT_ROWS:
        raise ScaleplanError(f"{path}: {len(recs):,} rows; at most {limits.MAX_INPUT_ROWS:,} are read")
    run_col = find_run_column(header, run_column)
    if run_col is None:
        raise ScaleplanError(
            f"{path}: no run-id column (looked for {', '.join(RUN_ALIASES[:4])}, ...); name one with <run_column>"
        )
    chosen = runs_mod.resolve_columns(path, [h for h in header if h != run_col], columns)
    cols = {k: np.empty(len(recs)) for k in chosen}
    ids = []
    for i, (where, rec) in enumerate(recs):
        rid = rec.get(run_col)
        if rid is None or str(rid).strip() == "":
            raise ScaleplanError(f"{path}, {where}: empty run id (column {run_col!r})")
        ids.append(str(rid).strip())
        for key, col in chosen.items():
            if col not in rec or rec[col] is None:
                raise ScaleplanError(f"{path}, {where}: missing value for column {col!r} ({key})")
            cols[key][i] = runs_mod.cell_number(path, where, col, rec[col])
    return run_col, chosen, cols, ids, digest


def _one_size_per_run(path, names: np.ndarray, run_idx: np.ndarray, params: np.ndarray) -> None:
    for r in range(names.size):  # a run is one model: its size must not change between checkpoints
        sizes = np.unique(params[run_idx == r])
        if sizes.size > 1:
            raise ScaleplanError(
                f"{path}: run {names[r]!r} has {sizes.size} different params values "
                f"({sizes[0]:.4g}, {sizes[1]:.4g}, ...); one run is one model size"
            )


def _early_cut(tokens, run_idx, n_runs: int, frac: float, cut: float | None) -> tuple[np.ndarray, str]:
    """(which checkpoints stay, the rule in words)."""
    if cut is not None:
        return tokens >= cut, f"checkpoints before {cut:.3g} tokens dropped (Choshen et al. 2024, section 6.1)"
    run_max = np.zeros(n_runs)
    np.maximum.at(run_max, run_idx, tokens)
    how = f"each run's checkpoints at or below {frac:.0%} of its final tokens dropped"
    return tokens > frac * run_max[run_idx], how


def _enough(path, sizes: np.ndarray, kept: int) -> None:
    from ..schema.runs import MIN_RUNS

    if sizes.size < MIN_SIZES:
        raise ScaleplanError(
            f"{path}: {sizes.size} model size(s) left after dropping early checkpoints; a law needs "
            f"at least {MIN_SIZES} (Choshen et al. 2024 use families of >= 3 models; 5 is safer)"
        )
    if kept < MIN_RUNS:
        raise ScaleplanError(f"{path}: {kept} checkpoint(s) left; a fit of five constants needs at least {MIN_RUNS}")


def _summary(run_col: str, rid, sizes, params, keep, how: str, lost: list[str]) -> dict:
    """The `checkpoints` block of the Runs: counts, the rule, the weighting, seed noise and warnings."""
    warnings = []
    if sizes.size < SAFE_SIZES:
        warnings.append(f"only {sizes.size} model sizes: Choshen et al. 2024 (section 8) found 5 a safe bet")
    per_size = np.bincount(np.unique(np.column_stack([np.searchsorted(sizes, params[keep]), rid]), axis=0)[:, 0])
    repeated = int(np.sum(per_size >= 2))  # sizes trained more than once (seeds): resampling runs covers their noise
    if lost:
        warnings.append(
            f"{len(lost)} run(s) had no checkpoint left after the early cut: {', '.join(lost[:5])}"
            + (" ..." if len(lost) > 5 else "")
        )
    return {
        "run_column": run_col,
        "runs": int(rid.max()) + 1,
        "checkpoints": int(keep.sum()),
        "dropped_early": int((~keep).sum()),
        "rule": how,
        "weighting": "each run weighs the same",
        "model_sizes": int(sizes.size),
        "sizes_with_repeated_runs": repeated,
        "seed_noise": (
            "the bootstrap resamples whole runs, so its intervals include the spread between runs of one size (seeds)"
        )
        if repeated
        else "one run per size: no seed noise measured",
        "warnings": warnings,
    }


def load_checkpoints(
    path,
    columns: dict | None = None,
    run_column: str | None = None,
    drop_fraction: float = 0.1,
    min_tokens: float | None = None,
):
    """Checkpoints from a runs file with a run-id column; early checkpoints dropped per run; runs weighted equally.

    drop_fraction: drop checkpoints at or below this fraction of their run's largest token count (default 0.1).
    min_tokens: instead, drop checkpoints below this many tokens (Choshen et al.: 10e9).
    """
    from ..schema import runs as runs_mod  # the runs I/O (read, columns, cells)

    path = runs_mod.check_path(path)
    frac, cut = _cut(drop_fraction, min_tokens)
    run_col, chosen, cols, ids, digest = _read_table(path, columns, run_column)
    params = cols["params"]
    tokens = cols["tokens"] if "tokens" in cols else tokens_for(cols["flops"], params)
    flops = cols["flops"] if "flops" in cols else training_flops(params, tokens)
    names, run_idx = np.unique(np.array(ids), return_inverse=True)
    _one_size_per_run(path, names, run_idx, params)
    keep, how = _early_cut(tokens, run_idx, names.size, frac, cut)
    kept_runs = np.unique(run_idx[keep])
    lost = [str(names[r]) for r in range(names.size) if r not in set(kept_runs.tolist())]
    sizes = np.unique(params[keep])
    _enough(path, sizes, int(keep.sum()))
    # renumber the surviving runs 0..R-1 and weight each run equally (weights sum to R)
    remap = -np.ones(names.size, dtype=np.int64)
    remap[kept_runs] = np.arange(kept_runs.size)
    rid = remap[run_idx[keep]]
    return runs_mod.Runs(
        params=params[keep],
        tokens=tokens[keep],
        flops=flops[keep],
        loss=cols["loss"][keep],
        source=str(path),
        rows=np.arange(1, len(ids) + 1)[keep],
        columns={**chosen, "run": run_col},
        tokens_from_flops="tokens" not in cols,
        sha256=digest,
        weights=1.0 / np.bincount(rid)[rid],
        run_ids=rid,
        checkpoints=_summary(run_col, rid, sizes, params, keep, how, lost),
    )


def load_any(
    path,
    columns: dict | None = None,
    drop_worst: int = 0,
    run_column: str | None = None,
    drop_fraction: float = 0.1,
    min_tokens: float | None = None,
):
    """A runs file as `scaleplan.fit.parametric.load_runs` reads it, or as checkpoints when `run_column` is given or a
    recognised run-id column repeats (several rows per run)."""
    from ..schema import runs as runs_mod  # the runs I/O (read, columns, cells)

    path = Path(path)
    try:
        frac = float(drop_fraction)
    except (TypeError, ValueError):
        frac = math.nan
    if not (math.isfinite(frac) and 0 <= frac < 1):
        raise ScaleplanError(f"drop_fraction must be in [0, 1), got {drop_fraction!r}")
    if run_column is None:
        kind, text, _ = runs_mod.read_source(runs_mod.check_path(path))
        # a CSV without a run-id column is one row per run, whatever its size: no need to read its rows here
        if kind in ("csv", "tsv"):
            header = runs_mod.csv_header(path, text, kind)
        else:
            header = runs_mod.parse_records(path, kind, text)[0]
        col = find_run_column(header)
        repeated = False
        if col is not None:
            recs = runs_mod.parse_records(path, kind, text)[1]
            repeated = len({str(r.get(col)) for _, r in recs}) < len(recs)
        del text
        if not repeated:
            if min_tokens is not None:
                raise ScaleplanError(
                    f"{path}: min_tokens applies to checkpoints (several rows per run, with a run-id column)"
                )
            return runs_mod.load_runs(path, columns, drop_worst)
    if drop_worst:
        raise ScaleplanError("drop_worst applies to one row per run; checkpoints drop early rows instead")
    return load_checkpoints(path, columns, run_column, drop_fraction, min_tokens)
