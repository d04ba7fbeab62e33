"""The precision block of a plan: what training in a low-precision format and serving at fewer bits do to one
plan's N and D, each penalty in its own law's loss (library only: the planning pipeline shows it next to a plan).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.values import Rendered, plain
from ..schema.units import fmt_count
from .precision_laws import (
    checked_bits,
    checked_params,
    checked_tokens,
    citation,
    kumar_critical_tokens,
    kumar_loss,
    kumar_ptq_delta,
    ouyang_critical_tokens,
    ouyang_loss_16bit,
    ouyang_qid,
)
from .precision_search import TrainingPenalty, training_penalty


@dataclass(frozen=True, repr=False)
class PenaltyBlock(Rendered):
    """What precision does to one plan (N, D): training in a low-precision format (Sun et al., Dolma loss) and
    serving its weights at fewer bits (Ouyang et al., Pythia loss; Kumar et al., Dolma loss). Each penalty is a
    difference in its own law's loss with its relative change there; none is added to the plan's own loss.

    `*_critical_tokens_per_param`: the D/N beyond which training longer and then quantizing to the serving bits
    makes the served model worse (Kumar Eq. 13; Ouyang derived from Figs. 6-7): past it, the smaller, longer-trained
    model that inference-aware sizing recommends loses to quantization what its extra tokens bought.
    """

    params: float
    tokens: float
    tokens_per_param: float
    training: TrainingPenalty | None
    serving_bits: float | None
    qid: float | None
    qid_relative: float | None
    kumar_ptq_delta: float | None
    kumar_relative: float | None
    ouyang_critical_tokens_per_param: float | None
    kumar_critical_tokens_per_param: float | None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = {k: plain(v) for k, v in self.__dict__.items() if k not in ("training", "warnings")}
        d["training"] = None if self.training is None else self.training.to_dict()
        d["warnings"] = list(self.warnings)
        d["citations"] = {law: citation(law) for law in ("sun", "ouyang", "kumar")}
        return d


def plan_penalties(
    params, tokens, training_precision: str | None = None, serving_bits=None, block_size=None
) -> PenaltyBlock:
    """The precision block a plan of N parameters and D tokens would show, for a training format and/or serving
    weight bits (either may be None)."""
    n, d = float(checked_params(params)), float(checked_tokens(tokens))
    warnings = []
    training = None
    if training_precision is not None:
        training = training_penalty(n, d, training_precision, block_size)
        if training.exceeds_critical:
            warnings.append(
                f"{training.format.name}: {fmt_count(d)} tokens exceed Sun et al.'s critical data size "
                f"{fmt_count(training.critical_tokens)} for {fmt_count(n)} parameters; more tokens make "
                f"this run worse"
            )
    qid = qrel = kd = krel = ocrit = kcrit = None
    if serving_bits is not None:
        b = float(checked_bits(serving_bits, "serving bits", low=1))
        qid = float(ouyang_qid(n, d, b))
        qrel = qid / float(ouyang_loss_16bit(n, d))
        kd = float(kumar_ptq_delta(n, d, b))
        krel = kd / float(kumar_loss(n, d, 16))
        ocrit = ouyang_critical_tokens(n, b) / n
        kcrit = float(kumar_critical_tokens(n, b)) / n
        for who, crit in (("Ouyang et al.", ocrit), ("Kumar et al.", kcrit)):
            if d / n > crit:
                warnings.append(
                    f"{d / n:.3g} tokens per parameter is past the {crit:.3g} at which, by {who}, "
                    f"training longer and then serving at {b:g} bits makes the served model worse"
                )
    return PenaltyBlock(
        n,
        d,
        d / n,
        training,
        None if serving_bits is None else float(serving_bits),
        qid,
        qrel,
        kd,
        krel,
        ocrit,
        kcrit,
        tuple(warnings),
    )
