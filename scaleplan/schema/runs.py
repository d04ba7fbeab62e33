"""Your runs, read: params, tokens (or FLOPs) and loss from CSV, TSV, JSONL, JSON or YAML, with column names
recognised or mapped (`--columns`), bad cells named by file, row and column, and the worst runs dropped on request.

The fitting (fit.parametric) and the checkpoint reader (fit.checkpoints) start from the `Runs` this returns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import ScaleplanError
from . import conventions

__all__ = [
    "ALIASES",
    "FIELDS",
    "MIN_RUNS",
    "Runs",
    "cell_number",
    "check_path",
    "load_runs",
    "parse_records",
    "read_records",
    "read_source",
    "resolve_columns",
]

MIN_RUNS = 5  # five free constants
FIELDS = ("params", "tokens", "flops", "loss")
# Recognised column names, normalised (lower case, no spaces, '_' or '-'); first match wins.
ALIASES = {
    "params": (
        "params",
        "n",
        "parameters",
        "modelsize",
        "nparams",
        "numparams",
        "paramcount",
        "nparameters",
        "totalparams",
        "size",
    ),
    "tokens": ("tokens", "d", "trainingtokens", "ntokens", "numtokens", "datasize", "data"),
    "flops": ("flops", "c", "trainingflop", "trainingflops", "flop", "compute", "trainingcompute", "totalflops"),
    "loss": ("loss", "l", "finalloss", "evalloss", "valloss", "validationloss", "testloss", "trainloss"),
}
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}

# ----------------------------------------------------------------------------------------------- runs


@dataclass(frozen=True, eq=False)
class Runs:
    """Training runs to fit: one entry per run, in base units (parameters, tokens, FLOPs, nats)."""

    params: np.ndarray
    tokens: np.ndarray
    flops: np.ndarray
    loss: np.ndarray
    source: str = "<arrays>"
    rows: np.ndarray | None = None  # 1-based row number of each run in the source
    dropped_rows: tuple[int, ...] = ()  # rows left out by drop_worst
    columns: dict = field(default_factory=dict)  # field -> column name used
    tokens_from_flops: bool = False  # D was derived as C / (6N)
    sha256: str | None = None
    weights: np.ndarray | None = None  # per-row weights (checkpoints: 1 / checkpoints of the row's run)
    run_ids: np.ndarray | None = None  # checkpoints: index of each row's run (bootstrap resamples runs)
    checkpoints: dict | None = None  # checkpoints: how early ones were dropped, counts per run

    def __len__(self) -> int:
        return int(self.loss.size)

    @property
    def n(self) -> int:
        return len(self)

    def summary(self) -> dict:
        """Counts and ranges, as plain floats (used in a saved law's `fit.data`)."""

        def rng(x):
            return [float(np.min(x)), float(np.max(x))]

        out = {
            "source": self.source,
            "n_runs": self.n,
            "n_dropped": len(self.dropped_rows),
            "dropped_rows": [int(r) for r in self.dropped_rows],
            "model_sizes": int(np.unique(self.params).size),
            "params": rng(self.params),
            "tokens": rng(self.tokens),
            "flops": rng(self.flops),
            "loss": rng(self.loss),
            "tokens_per_param": rng(self.tokens / self.params),
            "tokens_from": "flops / (6 params)" if self.tokens_from_flops else "tokens column",
            "columns": {k: str(v) for k, v in self.columns.items()},
        }
        if self.sha256:
            out["sha256"] = self.sha256
        if self.checkpoints:  # several rows per run: count runs, and rows (checkpoints) apart
            out["n_runs"] = int(self.checkpoints["runs"])
            out["n_rows"] = self.n
            out["checkpoints"] = dict(self.checkpoints)
        return out

    @classmethod
    def from_arrays(cls, params, loss, tokens=None, flops=None, source: str = "<arrays>", drop_worst: int = 0):
        """Runs from arrays; give tokens or flops (D = C / 6N) or both. Validated like a file."""
        n_ = np.atleast_1d(np.asarray(params, float))
        l_ = np.atleast_1d(np.asarray(loss, float))
        cols = {"params": n_, "loss": l_}
        if tokens is not None:
            cols["tokens"] = np.atleast_1d(np.asarray(tokens, float))
        if flops is not None:
            cols["flops"] = np.atleast_1d(np.asarray(flops, float))
        lens = {k: v.size for k, v in cols.items()}
        if len(set(lens.values())) != 1:
            sizes = ", ".join(f"{k} {v}" for k, v in lens.items())
            raise ScaleplanError(f"{source}: arrays differ in length ({sizes})")
        for key, arr in cols.items():
            bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
            if bad.size:
                i = int(bad[0])
                raise ScaleplanError(f"{source}, row {i + 1}: {key} must be a positive finite number, got {arr[i]!r}")
        return _assemble(cols, source, np.arange(1, l_.size + 1), {k: k for k in cols}, drop_worst, None)


def limit_warnings(runs: Runs) -> list[str]:
    """Runs outside the sizes scaleplan plans for: a unit mistake (parameters in billions, tokens in thousands) fits
    silently into a tiny model, so say how many runs and the extreme value."""
    from . import limits
    from .units import fmt_count, fmt_sci

    out = []
    for key, arr, low, high, unit in (
        ("params", runs.params, limits.MIN_PARAMS, limits.MAX_PARAMS, "parameters"),
        ("tokens", runs.tokens, 1e6, limits.MAX_TOKENS, "tokens"),
        ("flops", runs.flops, 0.0, limits.MAX_FLOPS, "FLOPs"),
    ):
        col = runs.columns.get(key, key)
        small, big = int((arr < low).sum()), int((arr > high).sum())
        if small:
            out.append(
                f"{small:,} of {runs.n:,} runs have fewer than {fmt_count(low)} {unit} (column {col!r}, smallest "
                f"{fmt_count(float(arr.min()))}): check the units (a column in billions or thousands?)"
            )
        if big:
            out.append(
                f"{big:,} of {runs.n:,} runs have more than {fmt_sci(high)} {unit} (column {col!r}, largest "
                f"{fmt_sci(float(arr.max()))}): beyond any plan; check the units"
            )
    return out


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).strip().lower() if ch not in " _-")


def check_path(path) -> Path:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ScaleplanError(f"<path> must be a file name (str or Path), got {path!r} ({type(path).__name__})")
    return Path(path)


def read_source(path: Path, what: str = "runs file") -> tuple[str, str, str]:
    """(kind, text, sha256 of the file) of a runs file or log: csv / tsv / jsonl / json / yaml by its suffix."""
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ScaleplanError(f"{path}: unknown file type {path.suffix!r}; allowed: {', '.join(sorted(_SUFFIXES))}")
    from ..core.files import read_text_and_bytes

    text, raw = read_text_and_bytes(path, what)  # a folder, a device, a FIFO, a binary or huge file: one clear line
    digest = hashlib.sha256(raw if not raw.startswith(b"\xef\xbb\xbf") else raw[3:]).hexdigest()
    return kind, text, digest


def _delimiter(kind: str) -> str:
    return "\t" if kind == "tsv" else ","


def csv_header(path, text: str, kind: str) -> list[str]:
    """The header row of a CSV / TSV text (its first line, as the csv module reads it)."""
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    header = next(csv.reader([first.rstrip("\r")], delimiter=_delimiter(kind)), [])
    header = [h for h in header if h is not None]
    if not any(h.strip() for h in header):
        raise ScaleplanError(f"{path}: empty file; expected a header row with columns such as params, tokens, loss")
    return header


def bulk_columns(path, text: str, kind: str, header: list[str], chosen: dict) -> dict | None:
    """{field: float array} of the chosen columns of a CSV / TSV read in bulk (numpy's C reader), or None when a
    row needs the careful reader (which then names the row and column of what is wrong)."""
    if kind not in ("csv", "tsv") or any(header.count(c) > 1 for c in chosen.values()):
        return None
    from ..core.files import numbers_table

    table = numbers_table(text, _delimiter(kind), [header.index(c) for c in chosen.values()])
    if table is None:
        return None
    return {k: np.ascontiguousarray(table[:, j]) for j, k in enumerate(chosen)}


def read_records(path: Path, what: str = "runs file") -> tuple[list[str], list[tuple[str, dict]], str]:
    """(column names, [(where, record)], sha256 of the file) from csv / tsv / jsonl / json / yaml."""
    kind, text, digest = read_source(path, what)
    header, recs = parse_records(path, kind, text)
    return header, recs, digest


def parse_records(path: Path, kind: str, text: str) -> tuple[list[str], list[tuple[str, dict]]]:
    """(column names, [(where, record)]) of a text read as `kind`, row by row (every cell checked later)."""
    if kind in ("csv", "tsv"):
        return _table_records(path, kind, text)
    recs = _jsonl_records(path, text) if kind == "jsonl" else _list_records(path, kind, text)
    header = []
    for _, rec in recs:
        for k in rec:
            if str(k) not in header:
                header.append(str(k))
    return header, recs


def _table_records(path: Path, kind: str, text: str) -> tuple[list[str], list[tuple[str, dict]]]:
    """A CSV or TSV with a header row; blank lines skipped."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(kind))
    header = [h for h in (reader.fieldnames or []) if h is not None]
    if not header:
        raise ScaleplanError(f"{path}: empty file; expected a header row with columns such as params, tokens, loss")
    recs = []
    for i, rec in enumerate(reader, start=1):
        if not any((v or "").strip() for k, v in rec.items() if k is not None):
            continue  # blank line
        recs.append((f"row {i} (line {reader.line_num})", rec))
    return header, recs


def _jsonl_records(path: Path, text: str) -> list[tuple[str, dict]]:
    """One JSON object a line; blank lines skipped."""
    recs = []
    for ln, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScaleplanError(f"{path}, line {ln}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise ScaleplanError(f"{path}, line {ln}: nested too deeply") from None
        if not isinstance(rec, dict):
            raise ScaleplanError(f"{path}, line {ln}: each line must be a JSON object, got {type(rec).__name__}")
        recs.append((f"line {ln}", rec))
    return recs


def _list_records(path: Path, kind: str, text: str) -> list[tuple[str, dict]]:
    """A JSON or YAML list of runs (or a mapping with a 'runs' list)."""
    if kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScaleplanError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise ScaleplanError(f"{path}: nested too deeply to be a runs file") from None
    else:
        from ..core import _yaml

        data = _yaml.load_user(text, path)
    if isinstance(data, dict) and "runs" in data:
        data = data["runs"]
    if not isinstance(data, list):
        raise ScaleplanError(f"{path}: expected a list of runs (or a mapping with a 'runs' list)")
    recs = []
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise ScaleplanError(f"{path}, runs[{i}]: each run must be a mapping, got {type(rec).__name__}")
        recs.append((f"runs[{i}]", rec))
    return recs


def resolve_columns(path, header: list[str], columns: dict | None) -> dict:
    """field -> column name in the file."""
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(_norm(h), h)
    chosen = {}
    for key, col in (columns or {}).items():
        if key not in FIELDS:
            raise ScaleplanError(f"columns: unknown field {key!r}; allowed: {', '.join(FIELDS)}")
        if col not in header:
            match = by_norm.get(_norm(col))
            if match is None:
                raise ScaleplanError(f"{path}: no column {col!r} (for {key}); columns present: {', '.join(header)}")
            col = match
        chosen[key] = col
    for key in FIELDS:
        if key in chosen:
            continue
        matches = [h for h in header if _norm(h) in ALIASES[key] and h not in chosen.values()]
        names = list(dict.fromkeys(matches))
        if len(names) > 1:
            raise ScaleplanError(
                f"{path}: {len(names)} columns match {key}: {', '.join(names)}; pick one with <columns> {key}=NAME"
            )
        if names:
            chosen[key] = names[0]
    for key, col in chosen.items():
        if header.count(col) > 1:
            raise ScaleplanError(
                f"{path}: {header.count(col)} columns are named {col!r} (for {key}); rename one so the file says "
                "which to use"
            )
    present = ", ".join(header) or "none"
    semicolons = (
        "; the header looks ';'-separated: save the file with commas (or tabs, as .tsv)"
        if any(";" in h for h in header)
        else ""
    )
    for key in ("params", "loss"):
        if key not in chosen:
            raise ScaleplanError(
                f"{path}: missing column for {key} (looked for {', '.join(ALIASES[key][:6])}, ...); "
                f"columns present: {present}; map one with <columns> {key}=NAME{semicolons}"
            )
    if "tokens" not in chosen and "flops" not in chosen:
        raise ScaleplanError(
            f"{path}: missing column for tokens or flops (looked for {', '.join(ALIASES['tokens'][:4])}, "
            f"{', '.join(ALIASES['flops'][:4])}, ...); columns present: {present}; "
            f"map one with <columns> tokens=NAME or <columns> flops=NAME{semicolons}"
        )
    return chosen


def cell_number(path, where: str, col: str, value) -> float:
    if isinstance(value, bool):
        x = math.nan
    elif isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        s = value.strip()
        if not s:
            raise ScaleplanError(f"{path}, {where}: column {col!r} is empty (fill in every run, or delete the row)")
        try:
            x = float(s.replace("_", ""))
        except ValueError:
            x = math.nan
    else:
        x = math.nan
    if not math.isfinite(x) or x <= 0:
        raise ScaleplanError(
            f"{path}, {where}: column {col!r} must be a positive finite number (e.g. 1.4e9), got {value!r}"
        )
    return x


def load_runs(path: str | Path, columns: dict | None = None, drop_worst: int = 0) -> Runs:
    """Read runs from .csv/.tsv/.jsonl/.json/.yaml.

    Columns are recognised by common names (params / N / "Model Size", tokens / D, flops / "Training FLOP",
    loss); `columns` maps a field (params, tokens, flops, loss) to another column name. With flops but no
    tokens, D = C / (6N); with tokens but no flops, C = 6ND. `drop_worst` leaves out the K highest-loss runs
    (Epoch dropped 5). Values may be numbers or numeric strings.
    """
    path = check_path(path)
    kind, text, digest = read_source(path)
    if kind in ("csv", "tsv"):  # the common case, at any size: numbers read in bulk
        header = csv_header(path, text, kind)
        chosen = resolve_columns(path, header, columns)
        bulk = bulk_columns(path, text, kind, header, chosen)
        if bulk is not None and all(np.all(np.isfinite(v) & (v > 0)) for v in bulk.values()):
            rows = np.arange(1, len(bulk["loss"]) + 1)
            return _assemble(bulk, str(path), rows, chosen, drop_worst, digest)
    header, recs = parse_records(path, kind, text)
    del text
    chosen = resolve_columns(path, header, columns)
    cols = {k: np.empty(len(recs)) for k in chosen}
    for i, (where, rec) in enumerate(recs):
        for key, col in chosen.items():
            if col not in rec or rec[col] is None:
                raise ScaleplanError(f"{path}, {where}: missing value for column {col!r} ({key})")
            cols[key][i] = cell_number(path, where, col, rec[col])
    rows = np.arange(1, len(recs) + 1)
    return _assemble(cols, str(path), rows, chosen, drop_worst, digest)


def _assemble(cols: dict, source: str, rows: np.ndarray, chosen: dict, drop_worst, digest) -> Runs:
    if isinstance(drop_worst, bool) or not isinstance(drop_worst, (int, np.integer)) or drop_worst < 0:
        raise ScaleplanError(f"drop_worst must be a whole number >= 0, got {drop_worst!r}")
    n = cols["params"]
    from_flops = "tokens" not in cols
    d = conventions.tokens_for(cols["flops"], n) if from_flops else cols["tokens"]
    c = cols["flops"] if "flops" in cols else conventions.training_flops(n, d)
    loss = cols["loss"]
    total = loss.size
    if total - drop_worst < MIN_RUNS:
        left = f" after dropping the {drop_worst} worst" if drop_worst else ""
        raise ScaleplanError(
            f"{source}: {total} run(s){left} leaves {max(total - drop_worst, 0)}; "
            f"a fit of five constants needs at least {MIN_RUNS} runs"
        )
    order = np.argsort(-loss, kind="stable")
    worst = np.sort(order[:drop_worst])
    keep = np.sort(order[drop_worst:])
    runs = Runs(
        params=n[keep],
        tokens=d[keep],
        flops=c[keep],
        loss=loss[keep],
        source=source,
        rows=rows[keep],
        dropped_rows=tuple(int(r) for r in rows[worst]),
        columns=dict(chosen),
        tokens_from_flops=from_flops,
        sha256=digest,
    )
    if np.ptp(runs.loss) <= 1e-12 * np.abs(runs.loss).max():
        raise ScaleplanError(
            f"{source}: every run has the same loss ({runs.loss[0]:.4g}); a law cannot be fitted "
            "to losses that do not vary"
        )
    for key, arr in (("params", runs.params), ("tokens", runs.tokens)):
        if np.unique(arr).size < 2:
            col = chosen.get(key, chosen.get("flops", key))
            raise ScaleplanError(
                f"{source}: every run has the same {key} ({arr[0]:.4g}, column {col!r}); "
                f"the fit needs at least 2 different values of {key}, better 5 or more"
            )
    return runs
