"""Regenerate the epoch law's bootstrap draws (scaleplan/laws/data/epoch-bootstrap.csv) from Epoch's runs.

A maintainer's script, run once when the fit or the bootstrap changes; never at run time:

    python tools/epoch_draws.py ../shared/data/svg_extracted_data.csv [--n 4000] [--seed 0] [--out FILE] [--force]

It loads svg_extracted_data.csv of epoch-research/analyzing-chinchilla (commit 92258837; Besiroglu et al. 2024,
arXiv 2404.10102), drops the 5 highest-loss runs as Epoch did, fits the Huber-sum law and refits `--n` resamples
(scaleplan.fit.resample.bootstrap), and writes the draws with a header saying how they were made (the format
scaleplan.pipeline.intervals reads).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import sys
from pathlib import Path

from scaleplan.fit import parametric as fit, resample
from scaleplan.pipeline import intervals
from scaleplan import laws
from scaleplan.core.errors import ScaleplanError
from scaleplan.core.files import command, read_bytes, write_atomic


def epoch_draws(data_path: str | Path, n: int = 4000, seed: int = 0, today: _dt.date | None = None) -> str:
    """The text of epoch-bootstrap.csv from Epoch's released runs (svg_extracted_data.csv): fit, drop 5, bootstrap."""
    path = Path(data_path)
    digest = hashlib.sha256(read_bytes(path, "runs file")).hexdigest()
    runs = fit.load_runs(path, drop_worst=5)
    full = fit.fit_parametric(runs)
    boot = resample.bootstrap(runs, n=n, seed=seed, fit=full)
    meta = {
        "what": "bootstrap draws of the epoch law's constants, derived by scaleplan (not published numbers)",
        "method": (
            f"scaleplan.fit.resample.bootstrap: {n} nonparametric resamples of the 240 runs kept (the 5 highest-loss "
            "runs dropped, as Epoch did), each refitted by the Huber-sum fit (delta 1e-3) warm-started "
            "from the full-data fit"
        ),
        "n": n,
        "seed": seed,
        "n_unconverged": boot.n_unconverged,
        "full_fit": {k: float(f"{v:.6g}") for k, v in full.constants.items()},
        "data": (
            "svg_extracted_data.csv of epoch-research/analyzing-chinchilla (commit 92258837), "
            "Besiroglu et al. 2024, arXiv 2404.10102"
        ),
        "data_sha256": digest,
        "date": (today or _dt.date.today()).isoformat(),
        "regenerate": "python tools/epoch_draws.py ../shared/data/svg_extracted_data.csv --force",
    }
    return intervals.draws_text(boot.samples, meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/epoch_draws.py",
        description="Regenerate the epoch law's bootstrap draws from Epoch's runs.",
    )
    parser.add_argument("runs", help="svg_extracted_data.csv of epoch-research/analyzing-chinchilla")
    parser.add_argument("--n", type=int, default=4000, help="resamples (Epoch used 4,000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--out", default=str(laws.data_dir() / "epoch-bootstrap.csv"), help="file to write")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    try:
        if not 2 <= args.n <= 100_000:
            raise ScaleplanError(f"<n> must be from 2 to 100,000, got {args.n}")
        with command():
            text = epoch_draws(args.runs, n=args.n, seed=args.seed)
            write_atomic(args.out, text, [args.runs], force=args.force)
    except ScaleplanError as exc:
        print(f"error: {exc.for_flags()}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
