"""Training curves: learning-rate schedules, the loss at every step under any schedule, fitted from logs.

The law is Tissue, Wang & Wang 2024, "Scaling Law with Learning Rate Annealing" (arXiv 2408.11029, abstract):

    L(s) = L0 + A * S1(s)^(-alpha) - C * S2(s)

with S1 the area under the learning-rate curve ("forward area") and S2 the learning-rate annealing area with
momentum. The sums used here are those of the same first author's later paper (Wang, Tissue, Wang, Li, Zeng,
"Learning Dynamics in Continual Pre-Training for LLMs", arXiv 2505.07796, section 3.1, Eq. 1), because no full
text of 2408.11029's body and no code of its authors in a public repository could be found (the paper's footnote
puts its code on its alphaXiv / Hugging Face discussion pages; searched 2026-11-25: only third-party
re-implementations on GitHub, which use the same recursion):

    S1(s) = sum_{i=1..s} eta_i
    m_i   = lam * m_{i-1} + (eta_{i-1} - eta_i),  m_0 = 0,  eta_0 := eta_1   (so m_1 = 0)
    S2(s) = sum_{i=1..s} m_i,  lam = 0.999

Un-normalised: a sudden drop by d raises S2 towards d / (1 - lam) = 1000 d, not d. Warm-up, whose rising rate
would make S2 negative, is handled as the reference's secondary source says (a student re-implementation
"following the official code"): the warm-up steps count at the peak rate in S1 and S2. Status of all three
(normalisation, eta_0, warm-up): **secondary**, stated again in every fit's `definitions`.

Schedules follow Hagele et al. 2024 (arXiv 2405.18392, section 3, Eq. 1 and the (1-sqrt) cooldown): linear
warm-up from eta_max / W at step 1 to eta_max at step W, then the schedule; a warm-up-stable-decay cooldown over
the last `cooldown` fraction of steps with f(x) = 1 - x (linear), 1 - sqrt(x), or (1 + cos(pi x)) / 2, where
x = (n - (N - N_decay)) / N_decay. Steps are numbered 1..N.

The fit is least squares on the loss by variable projection: for fixed alpha, (L0, A, C) >= 0 are an exact
non-negative linear solve (`scaleplan.fit_vp.nnls3`), so only alpha is searched (a log grid, then a bounded
scalar search); robust=True makes it Huber(1e-3) on log-loss residuals by reweighting. scipy is imported inside
the functions that need it.

Public API (plain floats and numpy arrays; every user mistake raises ScaleplanError):

    Schedule(kind, steps, peak_lr, warmup=0, final_fraction=0, cooldown=0.2, shape="1-sqrt", ...).lr()
    areas(lr, warmup=0, lam=0.999) -> (S1, S2) per step
    load_log(path, columns=None, warmup=None, lr_path=None) -> Curve;  Curve.from_log(steps, loss, lr_steps, lr)
    fit_curves(curves, holdout=0.3, seed=0, robust=False) -> CurveFit (.law is a CurveLaw)
    CurveLaw(L0, A, alpha, C).curve(schedule) / .final_loss(schedule);  load_law(path);  example_law()
    best_cooldown(law, schedule) -> CooldownChoice;  steps_to_loss(law, target, schedule) -> steps or None
    plan_schedule(peak_lr, tokens, batch_tokens) -> PlanSchedule (what a plan's recipe carries)
    cooldown_suite_cost(multiples, cooldown) -> Hagele et al.'s suite saving ratio
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..core.errors import ScaleplanError
from ..recipe.schedules import (  # noqa: F401 (re-exported)
    CONSTANT_FRACTION,
    KINDS,
    MAX_STEPS,
    PLAN_COOLDOWN,
    PLAN_SHAPE,
    SHAPES,
    PlanSchedule,
    Schedule,
    fraction_in,
    plan_schedule,
    plan_warmup,
    whole_number,
)
from .annealing import DEFINITIONS, LAMBDA, CurveLaw, areas, per_step_lr  # noqa: F401 (re-exported)
from .fitting import Curve, CurveFit, fit_curves
from .logs import LOG_ALIASES, LOG_FIELDS, check_path, load_log  # noqa: F401 (re-exported)

__all__ = [
    "KINDS",
    "LAMBDA",
    "MAX_STEPS",
    "SHAPES",
    "CooldownChoice",
    "Curve",
    "CurveFit",
    "CurveLaw",
    "PlanSchedule",
    "Schedule",
    "areas",
    "best_cooldown",
    "cooldown_suite_cost",
    "example_law",
    "fit_curves",
    "load_law",
    "load_log",
    "per_step_lr",
    "plan_schedule",
    "steps_to_loss",
]


def _check_law(law, what: str = "law") -> None:
    if not isinstance(law, CurveLaw):
        raise ScaleplanError(
            f"<{what}> must be a CurveLaw (scaleplan.curves.law.load_law(path), or fit_curves(...).law), "
            f"got {type(law).__name__}"
        )


def _check_schedule(schedule, what: str = "schedule") -> None:
    if not isinstance(schedule, Schedule):
        raise ScaleplanError(
            f"<{what}> must be a Schedule, e.g. Schedule('wsd', 20000, 3e-4), got {type(schedule).__name__}"
        )


# ------------------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class CooldownChoice:
    best: float  # cooldown fraction with the lowest final loss
    best_loss: float
    fractions: np.ndarray
    final_losses: np.ndarray
    schedule: Schedule  # the best schedule

    def to_dict(self) -> dict:
        return {
            "best_cooldown": self.best,
            "final_loss": self.best_loss,
            "schedule": self.schedule.to_dict(),
            "candidates": [
                {"cooldown": float(f), "final_loss": float(v)} for f, v in zip(self.fractions, self.final_losses)
            ],
        }


def best_cooldown(law: CurveLaw, schedule: Schedule, fractions=None) -> CooldownChoice:
    """The wsd cooldown fraction (of `schedule`'s steps, shape and warm-up) with the lowest predicted final loss."""
    _check_law(law)
    _check_schedule(schedule)
    base = replace(schedule, kind="wsd")
    top = (base.steps - base.warmup) / base.steps
    fr = np.linspace(0.0, min(0.6, top), 61) if fractions is None else np.asarray(fractions, float)
    fr = np.unique(np.clip(fr, 0.0, top))
    with np.errstate(all="ignore"):  # a cooldown that leaves no step at a positive rate has no loss (S1 = 0)
        losses = np.array([law.final_loss(replace(base, cooldown=float(f))) for f in fr])
    fine = np.isfinite(losses)
    if not fine.any():
        raise ScaleplanError(f"no cooldown of a {base.steps:,}-step schedule gives a finite loss; give more steps")
    fr, losses = fr[fine], losses[fine]
    j = int(np.argmin(losses))
    return CooldownChoice(
        best=float(fr[j]),
        best_loss=float(losses[j]),
        fractions=fr,
        final_losses=losses,
        schedule=replace(base, cooldown=float(fr[j])),
    )


def steps_to_loss(law: CurveLaw, target: float, schedule: Schedule, max_steps: int = MAX_STEPS) -> int | None:
    """Fewest total steps for which `schedule` (its shape, warm-up and fractions, stretched) ends at <= target.

    None when even `max_steps` does not reach it. Geometric growth then bisection on the final loss (assumed to
    fall with length), to within 0.1% of the step count.
    """
    _check_law(law)
    _check_schedule(schedule)
    if isinstance(target, bool) or not isinstance(target, (int, float, np.number)):
        raise ScaleplanError(f"<target> must be a loss (a number), got {target!r}")
    target = float(target)
    max_steps = whole_number("max steps", max_steps, 2)
    if not math.isfinite(target):
        raise ScaleplanError(f"target loss must be a finite number, got {target!r}")
    if target <= law.L0:
        raise ScaleplanError(
            f"target loss {target:g} is at or below L0 = {law.L0:.4g}, which no run length reaches under this law"
        )

    def final(n: int) -> float:
        return law.final_loss(replace(schedule, steps=n, warmup=min(schedule.warmup, n - 1)))

    lo = max(schedule.warmup + 1, 2)
    if schedule.kind == "wsd" and schedule.cooldown < 1:  # the cooldown must fit after the warm-up
        lo = max(lo, int(math.ceil((schedule.warmup + 1) / (1 - schedule.cooldown))) + 1)
    if lo > max_steps:
        raise ScaleplanError(
            f"the warm-up ({schedule.warmup:,} steps) and cooldown leave no room below {max_steps:,} steps"
        )
    if final(lo) <= target:
        return lo
    hi = max(lo + 1, min(schedule.steps, max_steps))
    while final(hi) > target:  # grow geometrically: cost stays proportional to the answer, not to max_steps
        if hi >= max_steps:
            return None
        lo, hi = hi, min(2 * hi, max_steps)
    while hi - lo > max(1, lo // 1000):
        mid = (lo + hi) // 2
        if final(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


def cooldown_suite_cost(multiples=(10, 15, 20, 25), cooldown: float = 0.1) -> float:
    """Cost of a Chinchilla-style suite of runs at D/N = `multiples` from one run with cooldowns, as a fraction
    of training each from scratch (Hagele et al. 2024, section 5): (M_max + cooldown x sum of the others) / sum.
    With 6ND FLOPs this is 0.4214; the paper prints 2.36e23 / 5.59e23 = 0.4222 from exact FLOPs."""
    m = np.asarray(multiples, float)
    if m.size < 1 or np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ScaleplanError("multiples must be positive numbers")
    cooldown = fraction_in("cooldown", cooldown)
    return float((m.max() + cooldown * (m.sum() - m.max())) / m.sum())


def example_law() -> CurveLaw:
    """The secondary example constants shipped in data/curve_laws.yaml (for demonstrations only)."""
    from ..core import _yaml

    raw = _yaml.read(_yaml.DATA / "curve_laws.yaml")
    return CurveLaw.from_dict(raw["laws"]["tissue-example"], "curve_laws.yaml: tissue-example")


def load_law(path) -> CurveLaw:
    """A curve law from a YAML or JSON file written by `scaleplan curve fit --save` (or by hand: L0, A, alpha, C)."""
    from pathlib import Path

    from ..core import _yaml
    from ..core.files import read_text

    check_path(path)
    path = Path(path)
    try:  # a FIFO, a device, a binary or huge file: one line naming --law
        text = read_text(path, "curve law file", max_bytes=_yaml.MAX_USER_BYTES)
    except ScaleplanError as exc:
        raise ScaleplanError(f"<law>: {exc.template}") from None
    return CurveLaw.from_dict(_yaml.load_user(text, path), str(path))
