"""The annealing law of a training curve (Tissue, Wang & Wang 2024, arXiv 2408.11029): L(s) = L0 + A S1(s)^-alpha
- C S2(s), with S1 and S2 the learning-rate areas of Wang et al. 2025 (arXiv 2505.07796, section 3.1, Eq. 1). The
sources, conventions and status are in scaleplan.curves.law's docstring; this module holds the areas and CurveLaw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import ScaleplanError
from ..recipe.schedules import (
    Schedule,
    fraction_in,
    whole_number,
)

__all__ = ["DEFINITIONS", "LAMBDA", "CurveLaw", "areas", "per_step_lr"]

LAMBDA = 0.999  # 2505.07796 section 3.1: "decay factor" of the annealing momentum

DEFINITIONS = {
    "S1": "sum of the learning rate over steps 1..s (warm-up steps counted at the peak rate)",
    "S2": "sum of m_i, m_i = lambda m_(i-1) + (eta_(i-1) - eta_i), m_0 = 0, eta_0 = eta_1, not normalised",
    "lambda": LAMBDA,
    "warmup": "counted at the peak rate (secondary: re-implementation said to follow the authors' code)",
    "source": "Tissue et al. 2024 (arXiv 2408.11029) law; sums from Wang, Tissue et al. 2025 (arXiv 2505.07796) "
    "section 3.1 Eq. 1 (secondary: the authors' code was not found in a public repository)",
}


# --------------------------------------------------------------------------------------------- areas


def _momentum(d: np.ndarray, lam: float) -> np.ndarray:
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -lam], d)


def areas(lr, warmup: int = 0, lam: float = LAMBDA) -> tuple[np.ndarray, np.ndarray]:
    """(S1, S2) after every step for per-step rates `lr` (eta_1..eta_T); the first `warmup` steps count at max(lr)."""
    eta = np.array(lr, dtype=float, copy=True).ravel()
    if eta.size == 0 or not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ScaleplanError("learning rates must be finite and >= 0 (and at least one step)")
    lam = fraction_in("lambda", lam, 0.0, 1.0 - 1e-12)
    w = whole_number("warmup", warmup, 0, eta.size)
    if w:
        eta[:w] = eta.max()
    d = np.empty_like(eta)
    d[0] = 0.0
    np.subtract(eta[:-1], eta[1:], out=d[1:])
    return np.cumsum(eta), np.cumsum(_momentum(d, lam))


def per_step_lr(steps, lr, last: int | None = None) -> np.ndarray:
    """Per-step rates for steps 1..last from rates logged at some steps (linear interpolation; flat outside)."""
    steps = np.asarray(steps, float)
    lr = np.asarray(lr, float)
    last = int(steps.max()) if last is None else int(last)
    return np.interp(np.arange(1, last + 1, dtype=float), steps, lr)


@dataclass(frozen=True)
class CurveLaw:
    """L(s) = L0 + A S1^-alpha - C S2 (Tissue et al. 2024), S1, S2 in raw learning-rate units."""

    L0: float
    A: float
    alpha: float
    C: float
    lam: float = LAMBDA
    name: str = "curve law"
    source: str = ""
    warnings: tuple[str, ...] = ()  # what the fit that made it warned (e.g. fitted only on the stable phase)
    peak_lrs: tuple[float, ...] = ()  # the peak learning rates of the logs it was fitted to (empty: not recorded)

    def loss_at(self, s1, s2):
        s1 = np.asarray(s1, float)
        return self.L0 + self.A * s1**-self.alpha - self.C * np.asarray(s2, float)

    def curve(self, schedule: Schedule | np.ndarray, warmup: int | None = None) -> dict:
        """Per-step arrays lr, s1, s2, loss under a schedule (or an array of per-step rates)."""
        if isinstance(schedule, Schedule):
            lr, w = schedule.lr(), schedule.warmup if warmup is None else warmup
        else:
            lr, w = np.asarray(schedule, float), warmup or 0
        s1, s2 = areas(lr, w, self.lam)
        return {"lr": lr, "s1": s1, "s2": s2, "loss": self.loss_at(s1, s2)}

    def final_loss(self, schedule: Schedule) -> float:
        return float(self.curve(schedule)["loss"][-1])

    @property
    def constants(self) -> dict:
        return {"L0": self.L0, "A": self.A, "alpha": self.alpha, "C": self.C, "lambda": self.lam}

    def to_dict(self) -> dict:
        out = {
            "name": self.name,
            "form": "tissue-2024",
            **{k: float(v) for k, v in self.constants.items()},
            "definitions": dict(DEFINITIONS),
            "source": self.source,
            **({"warnings": list(self.warnings)} if self.warnings else {}),
        }
        if self.peak_lrs:
            out["logged_peak_lr"] = [float(x) for x in self.peak_lrs]
        return out

    @classmethod
    def from_dict(cls, raw: dict, where: str = "law") -> CurveLaw:
        if not isinstance(raw, dict) or ("L0" not in raw and "L0" not in (raw.get("constants") or {})):
            raise ScaleplanError(
                f"{where}: not a curve law (expected L0, A, alpha, C; write one with "
                "scaleplan curve fit LOG --save FILE)"
            )
        vals = {}
        for key in ("L0", "A", "alpha", "C"):
            v: Any = raw.get(key, raw.get("constants", {}).get(key) if isinstance(raw.get("constants"), dict) else None)
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise ScaleplanError(f"{where}: {key} must be a number, got {v!r}") from None
            if not math.isfinite(x) or (key != "L0" and x < 0):
                raise ScaleplanError(
                    f"{where}: {key} must be a finite number{'' if key == 'L0' else ' >= 0'}, got {v!r}"
                )
            vals[key] = x
        lam = fraction_in(f"{where}: lambda", raw.get("lambda", LAMBDA), 0.0, 1.0 - 1e-12)
        warned = raw.get("warnings") or []
        if not isinstance(warned, list) or not all(isinstance(w, str) for w in warned) or len(warned) > 100:
            raise ScaleplanError(f"{where}: warnings must be a list of texts (what the fit warned)")
        logged = raw.get("logged_peak_lr")
        if logged is None and isinstance(raw.get("curves"), list):  # a law saved by curve fit: its logs' peaks
            logged = [c.get("peak_lr") for c in raw["curves"] if isinstance(c, dict)]
        peaks = []
        for v in logged if isinstance(logged, list) else ([] if logged is None else [logged]):
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise ScaleplanError(f"{where}: logged_peak_lr must be positive numbers, got {v!r}") from None
            if not (math.isfinite(x) and x > 0):
                raise ScaleplanError(f"{where}: logged_peak_lr must be positive numbers, got {v!r}")
            peaks.append(x)
        return cls(
            **vals,
            lam=lam,
            name=str(raw.get("name", "curve law")),
            source=str(raw.get("source", "")),
            warnings=tuple(w[:1000] for w in warned),
            peak_lrs=tuple(peaks),
        )
