"""Intervals on a plan's decisions: N, D, loss, learning rate, batch, GPU-hours and dollars, from a law's bootstrap.

A law carries its uncertainty in one of two ways (both under `fit: bootstrap:` of its law file):

* `draws: FILE` — the bootstrap draws themselves, a CSV of (E, A, B, alpha, beta) next to the law file. The
  bundled `epoch` law ships `epoch-bootstrap.csv`: 4,000 nonparametric resamples of Epoch AI's 240 released runs
  (Besiroglu et al. 2024, arXiv 2404.10102, repository epoch-research/analyzing-chinchilla), each refitted with
  scaleplan's own fit (`scaleplan.fit.resample.bootstrap`, seed 0). These are derived numbers, not published ones; the
  file's header says how they were made (method, seed, sha256 of the runs file, date). Regenerate with the
  maintainer's script `python tools/epoch_draws.py ../shared/data/svg_extracted_data.csv --force`.
* `mean` and `covariance` of (ln A, ln B, ln E, alpha, beta) — what `scaleplan fit --bootstrap N --save FILE`
  writes. Draws are then taken from that normal, as Epoch did for their Fig. 5 (notebook: 10,000 draws from
  N(MLE, bootstrap covariance)); here 4,000 with seed 0. These intervals are not `fit --bootstrap`'s: that
  command reports percentiles of the refits themselves, and the normal smooths their skew (NORMAL_WHY); each
  result says which interval it is.

Each draw's compute-optimal N and D go through the plan's own maths: the loss of the law's form, the same
`recipe.recipe` call the plan makes (shape, then the learning-rate and batch laws of `recipe.hyperparameters`),
and `cost.training_cost` for GPU-hours and dollars. Intervals are central percentiles over the draws. The
recipe designs a network per draw (a few ms each), so it runs on the first RECIPE_DRAWS draws only.

At a fixed budget every draw trains on the same FLOPs (6·N·D = C), so GPU-hours and training dollars do not move:
their interval is the point, and the result says so. Serving dollars (2·N·tokens served) move with N.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np

from .. import laws
from ..core.errors import ScaleplanError
from ..core.values import check_positive
from ..schema import conventions

__all__ = ["NORMAL_DRAWS", "RECIPE_DRAWS", "draws_label", "draws_text", "law_draws", "plan_intervals"]

RECIPE_DRAWS = 200  # recipes designed per interval (~4 ms each): the learning rate and batch use these draws
NORMAL_DRAWS = 4000  # draws from a fitted law's bootstrap normal
COLUMNS = ("E", "A", "B", "alpha", "beta")
NAMES = ("params", "tokens", "loss", "learning_rate", "batch_tokens", "gpu_hours", "dollars")
# Why a fitted law's plan intervals are not the intervals `scaleplan fit --bootstrap` printed (issue #26).
NORMAL_WHY = (
    "the law file keeps its bootstrap's mean and covariance, not the refits, so these are percentiles of draws "
    "from that normal; fit --bootstrap reports percentiles of the refits themselves, which the normal smooths, "
    "so the two differ slightly (under 1% on Epoch's runs)"
)


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ScaleplanError(f"ci (the interval level) must lie strictly between 0 and 1, e.g. 0.8, got {level!r}")
    return float(level)


@functools.cache
def _read_draws(path: str) -> tuple[np.ndarray, dict]:
    """(draws (n, 5) in COLUMNS order, header metadata) of a draws file."""
    from ..core import _yaml
    from ..core.files import read_text

    try:  # a FIFO, a device, a binary or huge file: one clear line
        text = read_text(path, "bootstrap draws file")
    except ScaleplanError as exc:
        raise ScaleplanError(f"bootstrap draws: {exc.template}") from None
    head = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    try:
        meta = _yaml.load("\n".join(head)) or {}
        body = [line for line in text.splitlines() if line and not line.startswith("#")]
        if tuple(body[0].split(",")) != COLUMNS:
            raise ValueError(f"columns must be {','.join(COLUMNS)}")
        draws = np.array([line.split(",") for line in body[1:]], dtype=float).reshape(-1, len(COLUMNS))
    except Exception as exc:
        raise ScaleplanError(f"{path}: not a bootstrap draws file ({exc})") from None
    if draws.shape[0] < 2 or draws.shape[1] != 5 or not np.all(np.isfinite(draws)):
        raise ScaleplanError(f"{path}: bootstrap draws must be at least 2 finite rows of {','.join(COLUMNS)}")
    return draws, dict(meta) if isinstance(meta, dict) else {}


def law_draws(law: str | laws.Law) -> tuple[dict, str, dict]:
    """({E, A, B, alpha, beta: arrays}, method, metadata) of a law's bootstrap; ScaleplanError if it has none."""
    law = laws.get(law)
    boot = (law.fit or {}).get("bootstrap") or {}
    if not law.is_parametric or not ("draws" in boot or "covariance" in boot):
        raise ScaleplanError(
            f"an interval needs a law with bootstrap uncertainty; {law.name} has none (the bundled "
            "epoch law ships bootstrap draws; or fit your own: scaleplan fit RUNS --bootstrap 1000 "
            "--save FILE)"
        )
    if "draws" in boot:
        draws, meta = _read_draws(str(laws.law_folder(law) / str(boot["draws"])))
        c = dict(zip(COLUMNS, draws.T))
        method = (
            f"bootstrap percentiles over {len(draws):,} refits of resampled runs (scaleplan.fit.resample.bootstrap, "
            f"seed {meta.get('seed', '?')}; {boot['draws']})"
        )
        return c, method, meta
    rng = np.random.default_rng(0)
    theta = rng.multivariate_normal(
        np.asarray(boot["mean"], float), np.asarray(boot["covariance"], float), NORMAL_DRAWS
    )
    theta = theta[(theta[:, 3] > 0) & (theta[:, 4] > 0)]
    c = {
        "A": np.exp(theta[:, 0]),
        "B": np.exp(theta[:, 1]),
        "E": np.exp(theta[:, 2]),
        "alpha": theta[:, 3],
        "beta": theta[:, 4],
    }
    method = (
        f"percentiles over {len(theta):,} draws from the normal of the bootstrap mean and covariance of "
        "(ln A, ln B, ln E, alpha, beta), as Epoch AI's Fig. 5 (seed 0)"
    )
    return c, method, {"n": boot.get("n"), "seed": boot.get("seed"), "from_normal": True}


def draws_label(draws: int, recipe_draws: int, meta: dict) -> str:
    """What the draws are, in a few words: '4,000 bootstrap refits (200 for the recipe)' for a law that ships its
    draws; for a fitted law file, '4,000 draws from the normal of a 1,000-resample bootstrap (200 for the recipe)'."""
    recipe = f" ({recipe_draws:,} for the recipe)"
    if meta.get("from_normal"):
        n = meta.get("n")
        of = f"a {int(n):,}-resample bootstrap" if isinstance(n, (int, float)) and n else "the bootstrap"
        return f"{draws:,} draws from the normal of {of}{recipe}"
    return f"{draws:,} bootstrap refits{recipe}"


def _span(x, level: float, method: Literal["linear", "nearest"] = "linear") -> list[float] | None:
    """The central `level` percentile interval of the finite values of x (nearest: values that occur, e.g. batches)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    lo, hi = np.percentile(x, [50 * (1 - level), 50 * (1 + level)], method=method)
    return [float(lo), float(hi)]


def _check_budget(flops, recipe_draws) -> float:
    """The one budget an interval is for, and a sane number of recipe draws (one clear error otherwise)."""
    if isinstance(flops, (bool, str, bytes)) or not isinstance(flops, (int, float, np.number)):
        raise ScaleplanError(
            f"flops must be one number of FLOPs (intervals are for one budget at a time), got {flops!r}"
        )
    c = float(check_positive(flops))
    if isinstance(recipe_draws, bool) or not isinstance(recipe_draws, (int, np.integer)) or recipe_draws < 1:
        raise ScaleplanError(f"recipe_draws must be a whole number >= 1, got {recipe_draws!r}")
    return c


def _draw_bill(trained, total, hardware, mfu, price, gpus, precision, inference_tokens, serving):
    """cost.training_cost of every draw (and its serving when `inference_tokens` are given), and the price used."""
    from ..cluster import cost

    hw = cost.get_hardware(hardware) if hardware is None or isinstance(hardware, str) else hardware
    mfu = cost.DEFAULT_MFU if mfu is None else mfu
    price = hw.price_per_hour if price is None else price
    inf_flops = inf_dollars = None
    if inference_tokens is not None:
        inf_flops = conventions.serving_flops(total, float(inference_tokens))
        if serving is not None:
            inf_dollars = float(inference_tokens) * serving.dollars_per_token(total)
    gpus = cost.DEFAULT_GPUS if gpus is None else gpus
    return cost.training_cost(trained, hw, mfu, price, gpus, inf_flops, inf_dollars, precision=precision), price


def _draw_recipes(total, d, trained, loss, recipe_draws, context, hparams_law, pins) -> tuple[list, list, int, int]:
    """(learning rates, batch tokens, draws tried, draws that could not hold the pinned shape) of the first
    `recipe_draws` draws' recipes."""
    from ..recipe import design as recipe_mod

    k = max(1, min(int(recipe_draws), total.size))
    ctx = recipe_mod.constants()["conventions"]["context"] if context is None else context
    pins = {key: v for key, v in pins.items() if v is not None}
    draws = [(float(total[i]), float(d[i]), float(trained[i]), float(loss[i])) for i in range(k)]
    recipes = recipe_mod.recipe_draws(draws, law=hparams_law, context=ctx, **pins)  # None: no pinned shape reaches it
    lr = [np.nan if r.learning_rate is None else r.learning_rate for r in recipes if r is not None]
    batch = [r.batch_tokens for r in recipes if r is not None]
    failed = sum(r is None for r in recipes)
    return lr, batch, k, failed


def plan_intervals(
    law: str | laws.Law,
    flops: float,
    level: float,
    *,
    hardware=None,
    mfu: float | None = None,
    price: float | None = None,
    gpus: float | None = None,
    precision: str = "bf16",
    inference_tokens: float | None = None,
    serving=None,
    context: int | None = None,
    hparams_law: str | None = None,
    recipe_draws: int = RECIPE_DRAWS,
    **pins,
) -> dict:
    """Central `level` intervals on a compute-optimal plan's N, D, loss, learning rate, batch, GPU-hours, dollars.

    `hardware` is a cost.Hardware or a preset name (default: the default preset); mfu, price, gpus, precision as in the
    plan;
    `serving` a inference.ServingCosts when `inference_tokens` are served (adds serving and total dollars).
    `context`, `hparams_law` and `pins` (vocab, layers, d_model, ...) are the plan's recipe options.
    """
    from ..laws import forms

    level = _check_level(level)
    law = laws.get(law)
    c = _check_budget(flops, recipe_draws)
    consts, method, meta = law_draws(law)
    n_native, d = forms.parametric_optimum(consts, c)
    loss = forms.parametric_loss(consts, n_native, d)
    total, _ = conventions.split_params(law, n_native)
    # Every draw spends the plan's budget (6·N·D = C up to rounding for a law counting total parameters); the plan
    # is costed on its budget, so each draw is too.
    trained = np.full(n_native.shape, c)
    bill, price = _draw_bill(trained, total, hardware, mfu, price, gpus, precision, inference_tokens, serving)
    lr, batch, k, failed = _draw_recipes(total, d, trained, loss, recipe_draws, context, hparams_law, pins)
    out: dict[str, Any] = {
        "level": level,
        "draws": int(n_native.size),
        "recipe_draws": k - failed,
        "draws_label": draws_label(int(n_native.size), k - failed, meta),
        "method": method,
        "interval": "normal draws" if meta.get("from_normal") else "bootstrap percentiles",
        **({"interval_why": NORMAL_WHY} if meta.get("from_normal") else {}),
        "params": _span(n_native, level),
        "tokens": _span(d, level),
        "loss": _span(loss, level),
        "learning_rate": _span(lr, level),
        "batch_tokens": _span(batch, level, "nearest"),
        "gpu_hours": _span(bill.gpu_hours, level),
        "dollars": _span(bill.dollars, level) if price is not None else None,
    }
    if bill.inference_dollars is not None:
        out["serving_dollars"] = _span(bill.inference_dollars, level)
        out["total_dollars"] = _span(bill.total_dollars, level) if bill.total_dollars is not None else None
    notes = [
        f"learning rate and batch from the first {k:,} draws"
        + (f" ({failed} could not hold the pinned shape)" if failed else "")
    ]
    notes.append(
        "the budget fixes the training FLOPs (6ND = C for every draw), so GPU-hours and training dollars do not vary"
    )
    out["note"] = "; ".join(notes)
    if meta.get("data_sha256"):
        out["source"] = {key: meta[key] for key in ("data", "data_sha256", "n", "seed", "date") if key in meta}
    return out


# ---------------------------------------------------------------------------------------------------------------
# Regenerating the epoch law's draws (once, by a maintainer; never at run time)


def draws_text(samples: np.ndarray, meta: dict) -> str:
    """A draws file: `# key: value` header lines (YAML), then the CSV of E, A, B, alpha, beta to 6 digits."""
    import yaml

    head = yaml.safe_dump(meta, sort_keys=False, width=110, allow_unicode=True).splitlines()
    lines = ["# " + line for line in head]
    lines.append(",".join(COLUMNS))
    lines += [",".join(f"{v:.6g}" for v in row) for row in np.asarray(samples, float)]
    return "\n".join(lines) + "\n"
