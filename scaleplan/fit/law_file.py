"""A fit as a law file: `law_dict(fit, boot, runs, name)` is the mapping `scaleplan fit --save FILE` writes (with
yaml.safe_dump) and `scaleplan.laws.law_from_dict` reads, for a parametric fit of either estimator (form: parametric)
or an isoFLOP fit (form: power).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from ..schema.runs import Runs
from .isoflop import IsoflopFit
from .result import THETA, Bootstrap, ParametricFit

__all__ = ["METHOD_SOURCES", "law_dict"]


def _plain(x):
    """numpy -> plain Python, tuples -> lists (yaml.safe_dump and json.dumps accept the result)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    return x


METHOD_SOURCES = {
    "huber": "Hoffmann et al. 2022 (arXiv 2203.15556); Besiroglu et al. 2024 (arXiv 2404.10102)",
    "vp": (
        "variable projection: E. Czech, Open-Athena/scaling-law-analysis "
        "(paper.tex, section 'Variable Projection (VPNLS)')"
    ),
}


def _parametric_info(fit: ParametricFit) -> dict:
    """The `fit` block of a parametric fit's law file: what was minimised and how well."""
    info: dict = {"estimator": fit.estimator}
    if fit.estimator == "huber":
        info.update({"delta": fit.delta, "objective": fit.objective, "starts": fit.n_starts, "refined": fit.n_refined})
    else:
        info.update({"objective": "sum of squared loss residuals", "rss": fit.objective, "bounds": fit.bounds})
    info.update({"converged": fit.converged, "a": fit.a, "b": fit.b, "residuals": fit.residual_summary(values=False)})
    return info


def _bootstrap_info(boot: Bootstrap) -> dict:
    return {
        "n": boot.n,
        "seed": boot.seed,
        "n_unconverged": boot.n_unconverged,
        "interval_method": boot.interval_method,
        "se": boot.se,
        "parameters": list(THETA),
        "mean": boot.log_mean,
        "covariance": boot.log_cov,
        "allocation": boot.to_dict()["allocation"],
    }


def _data_block(raw: dict, info: dict, notes: list, runs: Runs) -> None:
    if runs.dropped_rows:
        rows = ", ".join(map(str, runs.dropped_rows))
        notes.append(f"{len(runs.dropped_rows)} highest-loss run(s) left out (rows {rows}).")
    info["data"] = runs.summary()
    raw["fitted_range"] = {
        "params": [float(runs.params.min()), float(runs.params.max())],
        "tokens": [float(runs.tokens.min()), float(runs.tokens.max())],
        "flops": [float(runs.flops.min()), float(runs.flops.max())],
    }


def law_dict(
    fit: ParametricFit | IsoflopFit,
    boot: Bootstrap | None = None,
    runs: Runs | None = None,
    name: str = "my-fit",
    today: _dt.date | None = None,
) -> dict:
    """A law-file mapping for a fit (write it with yaml.safe_dump; `scaleplan.laws.law_from_dict` accepts it).

    A parametric fit (Huber or vp) becomes `form: parametric`; an isoFLOP fit `form: power` (n_coef, a, d_coef, b).
    `intervals` holds bootstrap percentile intervals; `fit` the method, objective, data summary and the
    bootstrap covariance of (ln A, ln B, ln E, alpha, beta) — not the samples, to keep the file small.
    """
    today = today or _dt.date.today()
    src = runs.source if runs is not None else "your runs"
    parametric = isinstance(fit, ParametricFit)
    n_runs = fit.n_runs if isinstance(fit, ParametricFit) else sum(lv.n_runs for lv in fit.levels)
    citation = {
        "authors": "your own fit",
        "short": "Own fit",
        "year": today.year,
        "date": today.isoformat(),
        "title": f"Scaling law fitted to {src}",
        "where": f"scaleplan fit, {today.isoformat()}: {fit.method}",
        "method_source": METHOD_SOURCES[fit.estimator if isinstance(fit, ParametricFit) else "huber"],
    }
    info: dict = {"method": fit.method, "n_runs": n_runs}
    notes = [f"Fitted by scaleplan on {today.isoformat()} to {n_runs} runs from {src}."]
    derived = runs is not None and runs.tokens_from_flops
    if isinstance(fit, ParametricFit):
        constants = fit.constants
        info.update(_parametric_info(fit))
        notes.append(f"a = beta/(alpha+beta) = {fit.a:.4f}; b = {fit.b:.4f}.")
        notes.extend(fit.warnings)
    else:
        constants = {"n_coef": fit.n_coef, "a": fit.a, "d_coef": fit.d_coef, "b": fit.b}
        info["levels"] = [[lv.flops, lv.params_opt, lv.tokens_opt] for lv in fit.levels]
        info["levels_columns"] = ["flops", "params_opt", "tokens_opt"]
    raw = {
        "name": name,
        "title": f"Own fit: {name}",
        "citation": citation,
        "form": "parametric" if parametric else "power",
        "constants": constants,
        "params_convention": "total",
        "flop_convention": "C = 6ND (D derived from C this way)" if derived else "C = 6ND",
        "loss_units": f"as the loss column of {src}",
        "status": "own fit (not published)",
    }
    if runs is not None:
        _data_block(raw, info, notes, runs)
    if boot is not None:
        raw["intervals"] = {k: {lv: list(v) for lv, v in d.items()} for k, d in boot.intervals.items()}
        info["bootstrap"] = _bootstrap_info(boot)
    raw["fit"] = info
    raw["notes"] = notes
    return _plain(raw)
