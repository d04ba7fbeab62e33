"""Learning-rate schedules: constant, cosine, warm-up-stable-decay (linear, 1-sqrt or cosine cooldown) and step, as
per-step arrays (Hagele et al. 2024, arXiv 2405.18392, section 3 and the authors' epfml/schedules-and-scaling), and
the schedule a plan carries. Training-curve laws over these schedules live in scaleplan.curves.law.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..schema.units import fmt_sci

MAX_STEPS = 5_000_000  # cap on any step count (a schedule is a float array of this length: 40 MB)
KINDS = ("constant", "cosine", "wsd", "step")
SHAPES = ("linear", "1-sqrt", "cosine")


def whole_number(name: str, v, low: int = 0, high: int = MAX_STEPS) -> int:
    """`v` as an int in [low, high] (a float that is whole is accepted), or a ScaleplanError naming `name`."""
    if isinstance(v, bool) or (not isinstance(v, (int, np.integer)) and not (isinstance(v, float) and v.is_integer())):
        raise ScaleplanError(f"{name} must be a whole number, got {v!r}")
    v = int(v)
    if not low <= v <= high:
        raise ScaleplanError(f"{name} must be in {low:,}..{high:,}, got {v:,}")
    return v


def fraction_in(name: str, v, low: float = 0.0, high: float = 1.0) -> float:
    """`v` as a float in [low, high], or a ScaleplanError naming `name`."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(v, bool) or not (math.isfinite(x) and low <= x <= high):
        raise ScaleplanError(f"{name} must be a number in [{low:g}, {high:g}], got {v!r}")
    return x


# ------------------------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule over steps 1..steps; `lr()` gives the per-step rates as one numpy array.

    kind: constant | cosine (to final_fraction x peak) | wsd (cooldown fraction, shape, to final_fraction x peak)
    | step (multiply by `factor` after each fraction in `milestones`). All start with `warmup` linear steps.
    """

    kind: str
    steps: int
    peak_lr: float
    warmup: int = 0
    final_fraction: float = 0.0  # last LR / peak (cosine: Hagele's baseline uses 0.1)
    cooldown: float = 0.2  # wsd: fraction of all steps spent decaying (Hagele: ~20% is enough)
    shape: str = "1-sqrt"  # wsd decay shape
    milestones: tuple[float, ...] = (0.5, 0.75)
    factor: float = 0.1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ScaleplanError(f"schedule must be one of {', '.join(KINDS)}, got {self.kind!r}")
        object.__setattr__(self, "steps", whole_number("<steps>", self.steps, 1))
        object.__setattr__(self, "warmup", whole_number("<warmup>", self.warmup, 0, self.steps - 1))
        try:
            peak = float(self.peak_lr)
        except (TypeError, ValueError):
            peak = math.nan
        if not (math.isfinite(peak) and 0 < peak < 10):
            raise ScaleplanError(f"<peak_lr> must be a positive number below 10, got {self.peak_lr!r}")
        object.__setattr__(self, "peak_lr", peak)
        object.__setattr__(self, "final_fraction", fraction_in("final fraction", self.final_fraction))
        object.__setattr__(self, "cooldown", fraction_in("<cooldown> (a fraction of the steps)", self.cooldown))
        object.__setattr__(self, "factor", fraction_in("<factor> (the step schedule's)", self.factor))
        if self.shape not in SHAPES:
            raise ScaleplanError(f"<shape> (of the cooldown) must be one of {', '.join(SHAPES)}, got {self.shape!r}")
        ms = tuple(fraction_in("milestone", m, 0.0, 1.0) for m in self.milestones)
        object.__setattr__(self, "milestones", tuple(sorted(ms)))
        if self.kind == "wsd" and round(self.cooldown * self.steps) > self.steps - self.warmup:
            raise ScaleplanError(
                f"cooldown of {self.cooldown:g} x {self.steps:,} steps overlaps the {self.warmup:,} warm-up steps"
            )

    @property
    def decay_steps(self) -> int:
        """wsd: steps in the cooldown (round(cooldown x steps))."""
        return int(round(self.cooldown * self.steps)) if self.kind == "wsd" else 0

    def lr(self) -> np.ndarray:
        n = np.arange(1, self.steps + 1, dtype=float)
        peak, f, w, big_n = self.peak_lr, self.final_fraction, self.warmup, self.steps
        if self.kind == "constant":
            g = np.ones_like(n)
        elif self.kind == "cosine":
            p = np.clip((n - w) / max(big_n - w, 1), 0.0, 1.0)
            g = f + (1 - f) * 0.5 * (1 + np.cos(np.pi * p))
        elif self.kind == "wsd":
            k = self.decay_steps
            x = np.clip((n - (big_n - k)) / max(k, 1), 0.0, 1.0)
            shape = {"linear": 1 - x, "1-sqrt": 1 - np.sqrt(x), "cosine": 0.5 * (1 + np.cos(np.pi * x))}[self.shape]
            g = f + (1 - f) * shape if k else np.ones_like(n)
        else:
            g = self.factor ** np.sum(n[:, None] > np.asarray(self.milestones)[None, :] * big_n, axis=1)
        out = peak * g
        if w:
            out[:w] = peak * n[:w] / w
        return out

    def shape_text(self) -> str:
        """'cosine to 0.1x peak', 'wsd, 1-sqrt cooldown 20%', 'constant', 'step x0.1 at 50%, 75%'."""
        if self.kind == "constant":
            return "constant"
        if self.kind == "cosine":
            return f"cosine to {self.final_fraction:g}x peak"
        if self.kind == "wsd":
            end = f" to {self.final_fraction:g}x" if self.final_fraction else ""
            return f"wsd, {self.shape} cooldown {self.cooldown:.0%}{end}"
        return f"step x{self.factor:g} at {', '.join(f'{m:.0%}' for m in self.milestones)}"

    def describe(self) -> str:
        warm = f", {self.warmup:,} warm-up" if self.warmup else ""
        return f"{self.shape_text()}, peak {self.peak_lr:.3g}, {self.steps:,} steps{warm}"

    def to_dict(self) -> dict:
        out = {
            "kind": self.kind,
            "steps": self.steps,
            "peak_lr": self.peak_lr,
            "warmup": self.warmup,
            "final_fraction": self.final_fraction,
        }
        if self.kind == "wsd":
            out.update(cooldown=self.cooldown, shape=self.shape, decay_steps=self.decay_steps)
        if self.kind == "step":
            out.update(milestones=list(self.milestones), factor=self.factor)
        return out

    def table(self, rows: int = 20) -> list[dict]:
        """At most `rows` (step, lr) rows: evenly spaced steps plus the warm-up end, the cooldown start and the end."""
        rows = whole_number("rows", rows, 2, 10_000)
        lr = self.lr()
        pick = set(np.linspace(1, self.steps, min(rows, self.steps)).round().astype(int).tolist())
        marks = {1, self.steps, self.warmup, self.steps - self.decay_steps}
        pick |= {m for m in marks if 1 <= m <= self.steps}
        chosen = sorted(pick)
        while len(chosen) > rows:  # drop evenly spaced points, never the marks
            inner = [s for s in chosen if s not in marks]
            chosen.remove(inner[len(inner) // 2])
        return [{"step": s, "lr": float(lr[s - 1])} for s in chosen]


# ------------------------------------------------------------------------------------------ plan schedule

CONSTANT_FRACTION = 0.5  # Hagele et al. 2024 section 5: constant LR at half the cosine maximum, 20% cooldown
PLAN_COOLDOWN = 0.2  # Hagele et al. 2024 section 3.2, Fig. 5: benefits plateau at ~20% of steps
PLAN_SHAPE = "1-sqrt"  # Hagele et al. 2024 section 3.2, Fig. 4: 1-sqrt beats linear


def plan_warmup(steps: int) -> int:
    """Hagele et al. 2024 App. A.1: 300 warm-up steps; 1,000-3,000 above 100K steps (here 1% of steps, clipped)."""
    if steps <= 100_000:
        return min(300, max(steps // 10, 0))
    return int(min(3000, max(1000, round(0.01 * steps))))


@dataclass(frozen=True)
class PlanSchedule:
    """The learning-rate schedule a plan carries: warm-up-stable-decay at half the cosine-fitted peak."""

    schedule: Schedule
    cosine_peak_lr: float  # the LR law's value: fitted under cosine schedules (StepLaw, DeepSeek)
    steps: int
    note: str

    def to_dict(self) -> dict:
        s = self.schedule
        return {
            **s.to_dict(),
            "warmup_steps": s.warmup,
            "stable_steps": s.steps - s.warmup - s.decay_steps,
            "decay_steps": s.decay_steps,
            "min_lr": s.peak_lr * s.final_fraction,
            "decay_shape": s.shape,
            "cosine_peak_lr": self.cosine_peak_lr,
            "alternative": {"kind": "cosine", "peak_lr": self.cosine_peak_lr, "final_fraction": 0.1},
            "note": self.note,
        }

    def lines(self) -> list[tuple[str, str]]:
        """Short (label, value) rows for a plan table, after its learning-rate rows."""
        s = self.schedule
        stable = s.steps - s.warmup - s.decay_steps
        return [
            ("LR schedule", f"wsd, {s.steps:,} steps, {s.shape} decay to {fmt_sci(s.peak_lr * s.final_fraction)}"),
            ("warm-up; stable; decay", f"{s.warmup:,}; {stable:,}; {s.decay_steps:,} steps"),
        ]


def plan_schedule(peak_lr, tokens, batch_tokens) -> PlanSchedule | None:
    """The schedule for a plan: steps = tokens / batch, Hagele et al.'s warm-up, a 20% 1-sqrt cooldown, and a
    constant rate of half the LR law's peak (the laws were fitted under cosine; Hagele et al. section 5 ran the
    constant rate at half the cosine maximum). None when the plan has no learning rate."""
    if peak_lr is None or not batch_tokens or not math.isfinite(float(peak_lr)):
        return None
    steps = int(min(MAX_STEPS, max(10, math.ceil(float(tokens) / float(batch_tokens)))))
    sched = Schedule(
        "wsd",
        steps,
        CONSTANT_FRACTION * float(peak_lr),
        warmup=plan_warmup(steps),
        cooldown=PLAN_COOLDOWN,
        shape=PLAN_SHAPE,
    )
    note = (
        "Hagele et al. 2024 (arXiv 2405.18392): constant LR at half the cosine peak with a cooldown matches "
        "cosine (section 5); a 20% cooldown is enough (section 3.2); 1-sqrt beats linear; warm-up as App. A.1. "
        "The LR laws were fitted under cosine: with cosine (to 10%) use cosine_peak_lr."
    )
    return PlanSchedule(schedule=sched, cosine_peak_lr=float(peak_lr), steps=steps, note=note)
