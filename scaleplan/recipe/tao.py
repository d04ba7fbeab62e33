"""Tao et al. 2024's vocabulary laws: N_v from N_nv (approach 2), the IsoFLOPs allocation (approach 1), the
authors' width table, and the ``VocabResult`` a plan carries."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.values import Rendered
from .tables import constants


@dataclass(frozen=True, repr=False)
class VocabResult(Rendered):
    """Tao et al. 2024's compute-optimal vocabulary for a model: V, its parameters N_v and the approach used."""

    vocab: int  # rounded to ``multiple``
    vocab_exact: float  # N_v / d_model before rounding
    multiple: int
    vocab_params: float  # Tao's N_v = V·d_model (one matrix), optimal
    non_vocab_params: float  # Tao's N_nv
    d_model: int
    approach: str  # 'approach2-derivative' or 'approach1-isoflops'
    law: str
    citation: str
    alternatives: tuple[tuple[str, int], ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "vocab": self.vocab,
            "vocab_exact": self.vocab_exact,
            "multiple": self.multiple,
            "vocab_params": self.vocab_params,
            "non_vocab_params": self.non_vocab_params,
            "d_model": self.d_model,
            "approach": self.approach,
            "law": self.law,
            "citation": self.citation,
            "alternatives": dict(self.alternatives),
            "warnings": list(self.warnings),
        }


def tao_nv(nnv: float) -> float:
    a2 = constants()["vocab"]["approach2"]
    return a2["nv_ref"] * (nnv / a2["nnv_ref"]) ** a2["gamma"]


def tao_approach1(flops: float) -> tuple[float, float]:
    """(N_nv, N_v) at the compute-optimal allocation for FLOPs C = 6 (N_nv + N_v) D."""
    a1 = constants()["vocab"]["approach1"]
    return math.exp(a1["k_nnv"]) * flops ** a1["e_nnv"], math.exp(a1["k_nv"]) * flops ** a1["e_nv"]


def tao_d_model(nnv: float) -> int:
    for bound, d in constants()["vocab"]["d_model_table"]:
        if nnv <= bound:
            return int(d)
    return int(constants()["vocab"]["d_model_table"][-1][1])  # pragma: no cover
