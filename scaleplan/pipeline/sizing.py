"""The loss constraint of inference-aware sizing and its solvers: D such that L(N, D) = l, the model minimising
training plus weighted serving FLOPs (or dollars) at a loss, and one side's (compute-optimal or inference-aware)
FLOPs and dollars (Sardana et al. 2024, arXiv:2401.00448)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import laws
from ..core import solvers
from ..core.errors import ScaleplanError
from ..core.values import Values, pick, plain
from ..schema import conventions
from .serving_costs import ServingCosts


def tokens_for_loss(law: laws.Law, n, loss):
    """D such that L(N, D) = loss (inf where N alone cannot reach it)."""
    if not law.predicts_loss:
        raise ScaleplanError(
            f"law {law.name!r} gives N_opt(C) only; inference-aware planning needs a law that "
            "predicts loss from (N, D), e.g. epoch, chinchilla, chinchilla-sardana or kaplan"
        )
    return law.tokens_for_loss(n, loss)


def _inference_flops_per_token(law: laws.Law, n, context: float | None):
    """2 N_total (Sardana et al.'s 2N, with N counting every parameter whatever the law's own N counts, as the
    plan's serving cost does), plus attention over `context` tokens (Kaplan et al. 2020 Table 1: 2 n_layer n_ctx
    d_attn) if given."""
    total, non_emb = conventions.split_params(law, np.asarray(n, float))
    if not context:
        return conventions.serving_flops(total, 1.0)
    d_model = conventions.d_model_for(non_emb)
    return conventions.serving_flops(total, 1.0) + 2.0 * (d_model / conventions.ASPECT_RATIO) * context * d_model


def _golden_optimum(law: laws.Law, loss: float, weighted_tokens, context: float | None, per_token=None):
    """Minimise 6 N D(N) + T f(N) over log N by golden-section search (vectorised over T); f is `per_token` (a
    serving cost per token in training FLOPs) where given, else the inference FLOPs per token."""
    t = np.asarray(weighted_tokens, float)
    log_n_min = np.log(law.smallest_params_for_loss(loss))
    f = per_token or (lambda n: _inference_flops_per_token(law, n, context))

    def cost(log_n):
        n = np.exp(log_n)
        return conventions.training_flops(n, law.tokens_for_loss(n, loss)) + t * f(n)

    log_n = solvers.golden_section(
        cost, np.full(t.shape, log_n_min + 1e-9), np.full(t.shape, log_n_min + 40.0), iterations=200, xtol=1e-12
    )
    n = np.exp(log_n)
    return n, law.tokens_for_loss(n, loss)


def optimum_for_loss(law: laws.Law, loss: float, weighted_tokens, context: float | None = None, per_token=None):
    """(N, D) minimising training FLOPs + weighted inference FLOPs at fixed loss; vectorised over tokens.

    `per_token(N)`: the serving cost of a token in training FLOPs (the roofline's dollars over dollars per training
    FLOP), in place of the inference FLOPs per token (then `weighted_tokens` are the tokens themselves)."""
    tokens_for_loss(law, 1.0, loss)  # raises the clear error for laws without a loss
    assert law.irreducible_loss is not None  # a law with a loss has one
    if not loss > law.irreducible_loss:
        raise ScaleplanError(
            f"target loss {loss:g} is not reachable under {law.name}: the irreducible loss is "
            f"E = {law.irreducible_loss:g}; give a loss above it"
        )
    # Sardana et al.'s closed form, where the law has one; it serves at 2N with the law's N, so only where N counts
    # every parameter (elsewhere the search below prices serving at 2 N_total, as the plan's cost does)
    closed = not context and law.params_convention == "total" and per_token is None
    found = law.inference_optimum(loss, weighted_tokens) if closed else None
    return found if found is not None else _golden_optimum(law, loss, weighted_tokens, context, per_token)


def sizing(law: laws.Law, objective: str, costs: ServingCosts):
    """(weight of T, per-token cost function or None) for the objective: FLOPs (Sardana et al.'s 2N per token),
    dollars at fixed MFU (2N weighted by dollars per inference FLOP over dollars per training FLOP), or dollars by
    the serving roofline (each size's designed shape's $ per token, in training FLOPs)."""
    if objective == "flops":
        return 1.0, None
    if costs.fixed_mfu:
        return costs.inference_weight, None
    per_flop = costs.dollars_per_training_flop

    def per_token(n):
        return costs.dollars_per_token(conventions.split_params(law, np.asarray(n, float))[0]) / per_flop

    return 1.0, per_token


# ---------------------------------------------------------------------------------------------------------------
# Plans


@dataclass(frozen=True)
class Side:
    """One model (compute-optimal or inference-aware) with its FLOPs and dollars. Arrays over demand, or floats."""

    params: Values
    tokens: Values
    tokens_per_param: Values
    training_flops: Values
    inference_flops: Values
    total_flops: Values
    training_dollars: Values
    prefill_dollars: Values
    decode_dollars: Values
    total_dollars: Values
    gpu_hours: Values

    def at(self, i: int) -> Side:
        return Side(**{k: pick(v, i) for k, v in self.__dict__.items()})

    def to_dict(self) -> dict:
        return {
            "params": plain(self.params),
            "tokens": plain(self.tokens),
            "tokens_per_param": plain(self.tokens_per_param),
            "flops": plain(self.training_flops),
            "inference_flops": plain(self.inference_flops),
            "total_flops": plain(self.total_flops),
            "cost": {
                "gpu_hours": plain(self.gpu_hours),
                "training_dollars": plain(self.training_dollars),
                "prefill_dollars": plain(self.prefill_dollars),
                "decode_dollars": plain(self.decode_dollars),
                "inference_dollars": plain(np.asarray(self.prefill_dollars) + self.decode_dollars),
                "total_dollars": plain(self.total_dollars),
            },
        }


def costed_side(law, n, d, tokens, costs: ServingCosts, context) -> Side:
    per_token = _inference_flops_per_token(law, n, context)
    train = conventions.training_flops(n, d)
    infer = np.asarray(tokens, float) * per_token
    if costs.fixed_mfu:
        prefill = infer * costs.prompt_share * costs.dollars_per_prefill_flop()
        decode = infer * (1.0 - costs.prompt_share) * costs.dollars_per_decode_flop()
    else:  # the serving roofline at the designed shape of each size
        total = conventions.split_params(law, np.asarray(n, float))[0]
        serve = np.asarray(tokens, float) * costs.dollars_per_token(total)
        share = costs.prefill_fraction(total)
        prefill, decode = serve * share, serve * (1.0 - share)
    train_dollars = train * costs.dollars_per_training_flop
    return Side(
        n,
        d,
        d / n,
        train,
        infer,
        train + infer,
        train_dollars,
        prefill,
        decode,
        train_dollars + prefill + decode,
        train / (costs.train_peak * costs.train_mfu * 3600),
    )
