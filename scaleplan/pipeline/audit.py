"""Checking an existing model against the laws: `scaleplan check CONFIG --tokens 2T`.

The model is a trainer's config read back (scaleplan.recipe.trainer_configs), counted exactly by recipe.Shape. The plan
pipeline judges it as a fixed model (every law's loss, its tokens per parameter against the compute-optimal one,
its cost on the given hardware); this module adds what the config itself chose against what the recipe laws
recommend: the learning rate and batch (given as arguments or read from the config), the vocabulary (Tao et al.
2024), and, with tokens to serve, the inference-aware model of the same loss (Sardana et al. 2024).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..core.errors import ScaleplanError
from ..core.values import plain

__all__ = ["ModelCheck", "check_model"]


@dataclass(frozen=True)
class ModelCheck:
    """A given model judged by the laws: the fixed-model report and the config's choices against the recipe laws."""

    config: Any  # trainer_configs.ModelConfig
    report: Any  # constrained.OvertrainReport, priced, with the given shape's recipe
    tokens_source: str
    learning_rate: float | None  # the rate the user or the config gives
    learning_rate_source: str | None
    batch_tokens: float | None
    batch_source: str | None
    vocab_optimal: Any  # recipe.VocabResult for the model's non-vocabulary parameters and width
    law: str = ""  # the law whose compute-optimal and inference-aware choices the model is compared with
    inference: Any = None  # inference.InferencePlan at this model's loss (with tokens to serve)
    warnings: tuple[str, ...] = field(default=())

    @property
    def shape(self):
        return self.report.recipe.shape

    def hparams_rows(self) -> list[dict]:
        """Each recipe law's learning rate and batch, and the given values as multiples of them."""
        out = []
        for h in self.report.recipe.hparams:
            lr_ratio = (
                self.learning_rate / h.learning_rate if self.learning_rate is not None and h.learning_rate else None
            )
            batch_ratio = self.batch_tokens / h.batch_tokens if self.batch_tokens is not None else None
            out.append(
                {
                    "law": h.law,
                    "learning_rate": h.learning_rate,
                    "batch_tokens": h.batch_tokens,
                    "given_lr_ratio": lr_ratio,
                    "given_batch_ratio": batch_ratio,
                    "default": h.default,
                }
            )
        return out

    def to_dict(self) -> dict:
        s = self.shape
        f = self.report.recipe.flops
        d = self.report.to_dict()
        ia = None
        if self.inference is not None:
            side = self.inference.inference_aware
            ia = {
                "law": self.inference.law,
                "loss": plain(self.inference.loss),
                "inference_tokens": plain(self.inference.inference_tokens),
                "params": plain(side.params),
                "tokens": plain(side.tokens),
                "tokens_per_param": plain(float(side.tokens) / float(side.params)),
            }
        return {
            "config": self.config.path,
            "law": self.law,
            "format": self.config.format,
            "params_total": s.total_params,
            "params_non_embedding": s.non_embedding_params,
            "params_embedding": s.embedding_params,
            "flops_per_token": f.flops_per_token,
            "six_n": f.six_n,
            "tokens": d["tokens"],
            "tokens_source": self.tokens_source,
            "tokens_per_param": d["tokens_per_param"],
            "flops": d["flops"],
            "flops_exact": f.flops_per_token * d["tokens"],
            "rows": d["rows"],
            "inference_aware": ia,
            "learning_rate_given": self.learning_rate,
            "learning_rate_source": self.learning_rate_source,
            "batch_tokens_given": self.batch_tokens,
            "batch_source": self.batch_source,
            "hparams": self.hparams_rows(),
            "vocab": s.vocab,
            "vocab_optimal": self.vocab_optimal.vocab,
            "vocab_detail": self.vocab_optimal.to_dict(),
            "shape": s.to_dict(),
            "training": dict(self.config.training),
            "cost": None if self.report.cost is None else self.report.cost.to_dict(),
            "cluster": d.get("cluster"),
            "warnings": list(self.warnings),
        }


def check_model(budget, *, learning_rate: float | None = None, batch_tokens: float | None = None) -> ModelCheck:
    """Judge the model of `budget.model` (a trainer's config) on `budget.tokens` (else the tokens the config trains
    on): the fixed-model plan of the pipeline, plus the config's learning rate, batch and vocabulary against the
    recipe laws, and with `budget.inference_tokens` the inference-aware model of the same loss."""
    from ..recipe import design as recipe
    from .stages import plan_budget

    config = budget.given_model()
    if config is None:
        raise ScaleplanError("check_model needs a budget naming a <model> config")
    tokens_source = "given" if budget.tokens is not None else "the config's training steps x batch"
    report = plan_budget(budget)
    s = report.recipe.shape
    given = config.training
    lr_source = batch_source = None
    if learning_rate is not None:
        lr_source = "given"
    elif given.get("learning_rate"):
        learning_rate, lr_source = float(given["learning_rate"]), "the config"
    if batch_tokens is not None:
        batch_source = "given"
    elif given.get("batch_sequences"):
        batch_tokens = float(given["batch_sequences"]) * float(given.get("sequence_length", s.context))
        batch_source = "the config"
    vocab = recipe.optimal_vocab(
        non_vocab_params=float(s.non_vocab_params), d_model=s.d_model, tied_embeddings=s.tied_embeddings
    )
    warnings = list(report.warnings)
    inference = None
    spec = budget.serving_spec()
    if spec is not None and spec.get("tokens"):
        from .. import laws
        from .inference import inference_aware

        law = budget.law_spec()
        if law.predicts_loss:
            loss = report.row(law.name).loss
            inference = inference_aware(spec["tokens"], target_loss=loss, law=law)
            warnings += [w for w in inference.warnings if w not in warnings]
        else:
            warnings.append(f"{laws.get(law).name} predicts no loss: no inference-aware model to compare with")
    if lr_source == "the config" and given.get("schedule") not in (None, "cosine"):
        warnings.append(
            f"the config's learning rate is the peak of a {given['schedule']} schedule; the recipe laws' rates are "
            "cosine peaks (a WSD run at the same loss uses about half: Hagele et al. 2024, sec. 5)"
        )
    return ModelCheck(
        config=config,
        report=replace(report, warnings=()),
        tokens_source=tokens_source,
        learning_rate=learning_rate,
        learning_rate_source=lr_source,
        batch_tokens=batch_tokens,
        batch_source=batch_source,
        vocab_optimal=vocab,
        law=budget.law_spec().name,
        inference=inference,
        warnings=tuple(dict.fromkeys(warnings)),
    )
