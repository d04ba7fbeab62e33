"""Training logs read into a Curve: CSV, TSV, JSON lines, JSON (a trainer's trainer_state.json too) or YAML, with
step, lr and loss columns recognised or mapped; the learning rate from a second file if the log has none.

    load_log(path, columns=None, warmup=None, lr_path=None) -> Curve
"""

from __future__ import annotations

import math

import numpy as np

from ..core.errors import ScaleplanError
from ..schema import limits
from .fitting import Curve

__all__ = ["LOG_ALIASES", "LOG_FIELDS", "check_path", "load_log"]


def check_path(path, what: str = "path") -> None:
    """A file name (str or Path), or a ScaleplanError naming the argument `what`."""
    import os

    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ScaleplanError(f"<{what}> must be a file name (str or Path), got {path!r} ({type(path).__name__})")


LOG_FIELDS = ("step", "lr", "loss")
# Recognised column names, normalised (lower case, no spaces, '_' or '-'); the part after the last '/' and ' - '
# also counts (W&B: 'run-1 - train/loss', 'trainer/global_step'; TensorBoard CSV export: 'Step', 'Value').
LOG_ALIASES = {
    "step": ("step", "steps", "globalstep", "iteration", "iter", "it", "trainerglobalstep", "_step"),
    "lr": ("lr", "learningrate", "lr0", "lrpg0", "lrgroup0", "learningrategroup0"),
    "loss": ("loss", "trainloss", "valloss", "evalloss", "validationloss", "lmloss", "value"),
}


def _log_norm(name: str) -> str:
    return "".join(ch for ch in str(name).strip().lower() if ch not in " _-")


def _pick_column(path, header, field_name, given):
    if given is not None:
        if given in header:
            return given
        match = [h for h in header if _log_norm(h) == _log_norm(given)]
        if not match:
            raise ScaleplanError(
                f"{path}: no column {given!r} (for {field_name}); columns present: {', '.join(header)}"
            )
        return match[0]
    norms = {h: _log_norm(h) for h in header}
    for alias in LOG_ALIASES[field_name]:
        for h, n in norms.items():
            if n == alias:
                return h
    # W&B exports name columns 'RUN - group/metric': match the metric's own name
    tails = [h for h in header if _log_norm(str(h).split(" - ")[-1].rsplit("/", 1)[-1]) in LOG_ALIASES[field_name]]
    if len(tails) == 1:
        return tails[0]
    return None


def _cell(value) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    s = str(value).strip()
    if not s:
        return math.nan
    try:
        return float(s.replace("_", ""))
    except ValueError:
        return math.inf  # marks text where a number belongs


def _trainer_state(path) -> tuple[list[str], list[tuple[str, dict]]] | None:
    """(header, records) of a Hugging Face Trainer `trainer_state.json` (its `log_history`), else None."""
    import json

    from ..core.files import read_text

    text = read_text(path, "training log")  # a FIFO, a device, a binary or huge file: one clear line
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None  # the general reader gives the message
    if not isinstance(data, dict) or not isinstance(data.get("log_history"), list):
        return None
    recs = [(f"log_history[{i}]", r) for i, r in enumerate(data["log_history"]) if isinstance(r, dict)]
    header = list(dict.fromkeys(str(k) for _, r in recs for k in r))
    return header, recs


def _check_rows(path, n: int) -> None:
    if n > limits.MAX_INPUT_ROWS:
        raise ScaleplanError(f"{path}: {n:,} rows; at most {limits.MAX_INPUT_ROWS:,} are read (thin the log first)")


def _choose_log_columns(path, header, fields, columns: dict, value_is: str | None) -> dict:
    chosen = {}
    for key in fields:
        col = _pick_column(path, header, key, columns.get(key))
        if col is None and key == value_is:
            col = _pick_column(path, header, key, "Value") if any(_log_norm(h) == "value" for h in header) else None
        if col is None:
            raise ScaleplanError(
                f"{path}: no column for {key} (looked for {', '.join(LOG_ALIASES[key][:4])}, ...); "
                f"columns present: {', '.join(header) or 'none'}; map one with <columns> {key}=NAME"
            )
        chosen[key] = col
    return chosen


def _read_fields(path, fields, columns: dict, value_is: str | None = None) -> dict:
    """{field: float array (NaN where blank)} for `fields` of a log; 'Value' (a TensorBoard export) counts as
    `value_is`."""
    from pathlib import Path

    from ..schema import runs as runs_mod

    path = Path(path)
    state = _trainer_state(path) if path.suffix.lower() == ".json" else None
    kind: str | None = None
    text: str | None = None
    recs: list | None
    if state is not None:
        header, recs = state
    else:
        kind, text, _ = runs_mod.read_source(path, "training log")
        if kind in ("csv", "tsv"):  # the header alone picks the columns; the numbers are read in bulk if they can be
            header, recs = runs_mod.csv_header(path, text, kind), None
        else:
            header, recs = runs_mod.parse_records(path, kind, text)
    chosen = _choose_log_columns(path, header, fields, columns, value_is)
    if recs is None:
        assert text is not None and kind is not None
        bulk = runs_mod.bulk_columns(path, text, kind, header, chosen)
        if bulk is not None and not any(np.isinf(v).any() for v in bulk.values()):
            _check_rows(path, len(bulk[fields[0]]))
            return bulk
        header, recs = runs_mod.parse_records(path, kind, text)
    del text
    _check_rows(path, len(recs))
    data = {k: np.array([_cell(rec.get(col)) for _, rec in recs]) for k, col in chosen.items()}
    for key, arr in data.items():
        bad = np.flatnonzero(np.isinf(arr))
        if bad.size:
            where, rec = recs[int(bad[0])]
            raise ScaleplanError(
                f"{path}, {where}: column {chosen[key]!r} must be a number, got {rec.get(chosen[key])!r}"
            )
    return data


def load_log(path, columns: dict | None = None, warmup: int | None = None, lr_path=None) -> Curve:
    """A training curve from a .csv / .tsv / .jsonl / .json / .yaml log with step, learning rate and loss columns,
    or a Hugging Face Trainer `trainer_state.json` (its log_history: step, learning_rate, loss).

    `columns` maps a field (step, lr, loss) to a column name, e.g. {"loss": "run-1 - train/loss"} for a W&B export.
    Rows without a loss (a W&B export logs metrics at different steps) are skipped; the learning rate is
    interpolated between the rows that have one. A TensorBoard scalar export (Wall time, Step, Value) holds one
    metric: give the loss export as `path` and the learning-rate export as `lr_path`.
    """
    check_path(path)
    if lr_path is not None:
        check_path(lr_path, "lr_path")
    if columns is not None and not isinstance(columns, dict):
        raise ScaleplanError(f"<columns> must be a mapping of field to column name, got {columns!r}")
    columns = dict(columns or {})
    for key in columns:
        if key not in LOG_FIELDS:
            raise ScaleplanError(f"columns: unknown field {key!r}; allowed: {', '.join(LOG_FIELDS)}")
    if lr_path is None:
        data = _read_fields(path, LOG_FIELDS, columns)
        lr_data = data
    else:
        data = _read_fields(path, ("step", "loss"), columns)
        lr_data = _read_fields(lr_path, ("step", "lr"), {k: v for k, v in columns.items() if k != "loss"}, "lr")
    with_loss = np.isfinite(data["step"]) & np.isfinite(data["loss"])
    with_lr = np.isfinite(lr_data["step"]) & np.isfinite(lr_data["lr"])
    if with_loss.sum() == 0:
        raise ScaleplanError(f"{path}: no row has both a step and a loss")
    if with_lr.sum() == 0:
        raise ScaleplanError(f"{lr_path or path}: no row has both a step and a learning rate")
    lr_steps, first = np.unique(lr_data["step"][with_lr], return_index=True)
    return Curve.from_log(
        data["step"][with_loss],
        data["loss"][with_loss],
        lr_steps,
        lr_data["lr"][with_lr][first],
        warmup=warmup,
        source=str(path),
    )
