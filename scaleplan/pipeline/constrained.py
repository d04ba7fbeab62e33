"""Planning when unique data is limited (Muennighoff et al. 2023) and judging over-trained models (Gadre et al. 2024).

Muennighoff et al. 2023 (arXiv:2305.16264) discount repeated tokens and parameters beyond what the unique data
supports:

    L(N, D, U) = E + A / N'^alpha + B / D'^beta
    D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*)),  R_D = D / U_D - 1,  U_D = min(U, D)
    N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)),  R_N = N / U_N - 1,  U_N = min(N, N_opt(U_D))

with N_opt(U) the compute-optimal model size for U tokens. There is no closed form for the best (N, D) at a budget,
so `data_constrained_allocation` searches log N (D = C / 6N): a log grid, then golden-section refinement, all in numpy
and vectorised over budgets. With unique tokens at or above the plan's D it returns the law's closed-form optimum.

Gadre et al. 2024 (arXiv:2403.08540) write loss as L(C, M) = E + (a M^eta + b M^-eta) C^-eta, with M = D/N, which is
the parametric form with A = a 6^-eta, B = b 6^-eta, alpha = beta = 2 eta (laws/data/gadre.yaml), plus a downstream
law Err(L) = epsilon - k exp(-gamma L). `fixed_allocation` takes a chosen (N, D) - typically over-trained - and reports
what every loss-predicting law says about it.

Everything returns frozen dataclasses of floats with `to_dict()`; warnings travel in the results, never printed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import laws as _laws
from ..core import solvers
from ..core.errors import ScaleplanError
from ..core.solvers import minimise_log  # precision.py imports it from here too
from ..core.values import PerBudget, Rendered, Reported, check_positive, contract, plain, stage_blocks
from ..recipe.shape import measure
from ..schema import conventions
from ..schema.units import fmt_number, fmt_sci

if TYPE_CHECKING:  # blocks the pipeline adds (modules below this one)
    from ..cluster.cost import CostBreakdown
    from ..cluster.run import ClusterPlan
    from ..recipe.design import Recipe

DEFAULT_LAW = "muennighoff"
# Muennighoff et al. 2023, abstract: "up to 4 epochs of repeated data yields negligible changes to loss"; Sec. 6:
# "meaningful gains from repeating data can be made up to around 16 epochs (R_D*) beyond which returns diminish
# extremely fast".
EPOCHS_NEGLIGIBLE = 4.0
EPOCHS_DIMINISHING = 16.0


# ---------------------------------------------------------------------------------------------------------------
# The data-constrained law


def _parametric(law) -> _laws.Law:
    law = _laws.get(law)
    if not law.is_parametric:
        raise ScaleplanError(
            f"data-constrained planning needs a parametric law (L = E + A/N^alpha + B/D^beta); "
            f"{law.name!r} has form {law.form!r} (try muennighoff, epoch, chinchilla)"
        )
    if law.params_convention != "total":
        raise ScaleplanError(
            f"data-constrained planning needs a law that counts all parameters; {law.name!r} counts "
            f"{law.params_convention}"
        )
    return law


def decay_constants(law=DEFAULT_LAW) -> tuple[float, float, bool]:
    """(R_D*, R_N*, borrowed): the law's own decay constants, or Muennighoff et al. 2023's if it has none."""
    return _decay(_laws.get(law))


def _decay(law: _laws.Law) -> tuple[float, float, bool]:
    """decay_constants of a law object (the planner's inner loops: no lookup, no check)."""
    if "R_D_star" in law.constants and "R_N_star" in law.constants:
        return law.constants["R_D_star"], law.constants["R_N_star"], False
    own = _laws.get(DEFAULT_LAW).constants
    return own["R_D_star"], own["R_N_star"], True


def _borrow_warning(law: _laws.Law) -> str:
    r_d, r_n, _ = decay_constants(DEFAULT_LAW)
    return (
        f"{law.name}: has no data-constrained fit of its own; repeated tokens and excess parameters are "
        f"discounted with Muennighoff et al. 2023's R_D* = {r_d:.4g}, R_N* = {r_n:.4g}"
    )


def optimal_params_for_tokens(tokens, law=DEFAULT_LAW):
    """Compute-optimal N for a model trained on `tokens` tokens: N = G (D G)^(beta/alpha) (the README's D_to_N).

    This is U_N, the number of parameters U_D unique tokens can use without decay; with alpha = beta it is
    G^2 D = D / 19.613 for Muennighoff's constants.
    """
    return _parametric(law).maths.params_for_tokens(tokens)


def effective_data(tokens, unique_tokens, r_star: float | None = None):
    """D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*)), R_D = D / U_D - 1, U_D = min(U, D) (Muennighoff et al. eq. 5).

    Tokens beyond the first epoch are worth less and less; D' never exceeds (1 + R_D*) U however long one trains.
    """
    d = check_positive(tokens, "tokens")
    u = check_positive(unique_tokens, "unique tokens")
    return _effective_data(d, u, decay_constants()[0] if r_star is None else r_star)


def _effective_data(d, u, r_star):
    u = np.minimum(u, d)
    return _decayed(u, d / u - 1.0, r_star)


def effective_params(params, tokens, unique_tokens, law=DEFAULT_LAW):
    """N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)), U_N = min(N, N_opt(U_D)), R_N = N / U_N - 1 (eq. 6).

    Parameters beyond the compute-optimal size for the unique data are worth less; N' <= (1 + R_N*) U_N.
    """
    n = check_positive(params, "params")
    d = check_positive(tokens, "tokens")
    u = check_positive(unique_tokens, "unique tokens")
    law = _parametric(law)
    return _effective_params(law, n, d, u, _decay(law)[1])


def _effective_params(law: _laws.Law, n, d, u, r_star):
    u_n = np.minimum(n, law.maths.params_for_tokens(np.minimum(u, d)))
    return _decayed(u_n, n / u_n - 1.0, r_star)


def _decayed(unique, repeats, r_star):
    """U + U R* (1 - exp(-R / R*)): what R repetitions beyond U are worth (Muennighoff et al. eqs. 5 and 6)."""
    return unique + unique * r_star * -np.expm1(-repeats / r_star)


def data_constrained_loss(params, tokens, unique_tokens, law=DEFAULT_LAW):
    """Predicted loss of N parameters trained on D tokens drawn from U unique tokens (Muennighoff et al. eq. 7).

    >>> round(float(data_constrained_loss(6.34e9, 242e9, 25e9)), 6)  # the better model of their Fig. 1 (right)
    2.225644
    """
    n = check_positive(params, "params")
    d = check_positive(tokens, "tokens")
    u = check_positive(unique_tokens, "unique tokens")
    return constrained_loss(_parametric(law), n, d, u)


def constrained_loss(law: _laws.Law, n, d, u):
    """Eq. (7) for a checked parametric law and positive numbers (data_constrained_loss without its checks): the
    planner's inner loop, and the model stage at the designed N of a plan the law already allocated."""
    r_d, r_n, _ = _decay(law)
    return law.loss(_effective_params(law, n, d, u, r_n), _effective_data(d, u, r_d))


_CONSTRAINED_NUMBERS = (
    "flops",
    "params",
    "tokens",
    "tokens_per_param",
    "unique_tokens",
    "epochs",
    "loss",
    "loss_penalty",
    "effective_params",
    "effective_tokens",
    "unconstrained_params",
    "unconstrained_tokens",
    "unconstrained_loss",
)


@dataclass(frozen=True, eq=False, repr=False)  # PerBudget's __eq__ (arrays compare); repr: the summary
class ConstrainedPlan(PerBudget):
    """The best N, D for a budget when only `unique_tokens` unique tokens exist. Floats, or arrays like the budgets."""

    _per_budget: ClassVar[tuple[str, ...]] = _CONSTRAINED_NUMBERS

    law: str
    flops: float
    unique_tokens: float
    params: float
    tokens: float
    tokens_per_param: float
    epochs: float  # D / U: passes over the unique data (below 1: not all of it is needed)
    loss: float  # predicted by the data-constrained law
    effective_params: float  # N'
    effective_tokens: float  # D'
    unconstrained_params: float  # the law's compute-optimal N with unlimited unique data
    unconstrained_tokens: float
    unconstrained_loss: float
    loss_penalty: float  # loss - unconstrained_loss (>= 0)
    citation: str
    params_convention: str = "total"
    warnings: tuple[str, ...] = ()
    cost: CostBreakdown | None = None  # once the plan pipeline has priced it
    recipe: Recipe | None = None  # once the plan pipeline has designed the network
    name: str | None = None
    cluster: ClusterPlan | None = None  # the pipeline's cluster stage (memory, layout, HFU)
    precision: Reported | None = None  # the pipeline's precision stage (precision.PenaltyBlock)
    precision_report: Any = None  # `scaleplan precision`'s whole report (precision.PrecisionReport), when asked
    law_params: dict | None = None  # the law's own N and D, once the model stage has designed the network
    design: Any = None  # recipe.Design: the pipeline's model stage's network, before the recipe stage

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name} if self.name else {}
        out["law"] = self.law
        out.update({k: plain(getattr(self, k)) for k in _CONSTRAINED_NUMBERS})
        out["params_convention"] = self.params_convention
        out["law_params"] = self.law_params
        out["constrained"] = {
            k: out.pop(k)
            for k in _CONSTRAINED_NUMBERS
            if k not in ("flops", "params", "tokens", "tokens_per_param", "loss")
        }
        stage_blocks(out, self)
        out["warnings"] = list(self.warnings)
        out["citation"] = self.citation
        return contract(out)


def epoch_warnings(epochs, law_name: str = DEFAULT_LAW) -> list[str]:
    """Muennighoff et al.'s thresholds: ~4 epochs (negligible change) and ~16 (returns diminish extremely fast)."""
    arr = np.atleast_1d(np.asarray(epochs, float))
    prefix = (lambda i: f"[{i}] ") if arr.size > 1 else (lambda i: "")
    out = []
    for i, e in enumerate(arr):
        if e > EPOCHS_DIMINISHING:
            out.append(
                f"{prefix(i)}{law_name}: {fmt_number(e)} epochs over the unique data; beyond about 16 epochs "
                "returns diminish extremely fast and more compute buys almost nothing (Muennighoff et al. "
                "2023, Sec. 6); find more data"
            )
        elif e > EPOCHS_NEGLIGIBLE:
            out.append(
                f"{prefix(i)}{law_name}: {fmt_number(e)} epochs over the unique data; up to about 4 epochs "
                "cost almost nothing (Muennighoff et al. 2023), beyond that repeated tokens are worth "
                "noticeably less than fresh ones"
            )
    return out


def data_constrained_allocation(flops, unique_tokens, law=DEFAULT_LAW) -> ConstrainedPlan:
    """The best N and D (and so the number of epochs) for a budget with only `unique_tokens` unique tokens.

    Minimises the data-constrained loss over log N with D = C / 6N (Muennighoff et al. 2023 use a grid search; this
    one searches a log grid over 1e-4..1e4 times the unconstrained optimum, then refines by golden section).
    `flops` and `unique_tokens` broadcast against each other.

    >>> plan = data_constrained_allocation(1e22, 25e9)
    >>> round(plan.params / 1e9, 2), round(plan.epochs, 1)
    (7.03, 9.5)
    """
    law = _parametric(law)
    c, u = np.broadcast_arrays(check_positive(flops, "flops"), check_positive(unique_tokens, "unique tokens"))
    c_flat, u_flat = c.reshape(-1).astype(float), u.reshape(-1).astype(float)
    n0, d0 = law.optimum(c_flat)
    loss0 = law.loss(n0, d0)

    def fun(log_n):
        n = np.exp(log_n)
        return constrained_loss(law, n, conventions.tokens_for(c_flat[:, None], n), u_flat[:, None])

    log_n, loss = minimise_log(fun, np.log(n0), span=math.log(1e4))
    n = np.exp(log_n)
    # Enough unique data for the unconstrained optimum: the answer is the closed form (the search agrees to ~1e-10).
    enough = u_flat >= d0
    n = np.where(enough, n0, n)
    d = conventions.tokens_for(c_flat, n)
    loss = np.where(enough, loss0, loss)
    epochs = d / u_flat
    warnings = []
    if _decay(law)[2]:
        warnings.append(_borrow_warning(law))
    warnings += epoch_warnings(epochs.reshape(c.shape) if c.ndim else epochs[0], law.name)
    warnings += law.range_warnings(c_flat)

    def out(v):
        v = np.asarray(v, float).reshape(c.shape)
        return float(v) if c.ndim == 0 else v

    return ConstrainedPlan(
        law=law.name,
        flops=out(c_flat),
        unique_tokens=out(u_flat),
        params=out(n),
        tokens=out(d),
        tokens_per_param=out(d / n),
        epochs=out(epochs),
        loss=out(loss),
        effective_params=out(_effective_params(law, n, d, u_flat, _decay(law)[1])),
        effective_tokens=out(_effective_data(d, u_flat, _decay(law)[0])),
        unconstrained_params=out(n0),
        unconstrained_tokens=out(d0),
        unconstrained_loss=out(loss0),
        loss_penalty=out(np.maximum(loss - loss0, 0.0)),
        citation=law.cite,
        params_convention=law.params_convention,
        warnings=tuple(warnings),
    )


# ---------------------------------------------------------------------------------------------------------------
# Over-training: what each law says about a fixed (N, D)


def compute_for_loss(law, loss):
    """Training FLOPs (C = 6 N_total D) of the compute-optimal model that reaches `loss` under `law` (inf if none).

    Kaplan's frontier is not the minimum of Kaplan's loss, so there the answer is 'on the frontier'.
    """
    law = _laws.get(law)
    if not law.predicts_loss:
        raise ScaleplanError(f"law {law.name!r} predicts no loss")
    return law.compute_for_loss(loss)


def _native_params(law: _laws.Law, total):
    """N in the law's own convention for `total` parameters (inverts conventions.split_params by bisection)."""
    if law.params_convention == "total":
        return np.asarray(total, float)
    target = np.atleast_1d(np.asarray(total, float))

    def small(log_n):
        return conventions.split_params(law, np.exp(log_n))[0] < target

    lo, hi = solvers.bisect(small, np.log(target) - math.log(1e3), np.log(target) + math.log(1e3), iterations=100)
    out = np.exp((lo + hi) / 2.0)
    return float(out[0]) if np.ndim(total) == 0 else out


def downstream_block(law) -> dict | None:
    """The law file's `downstream` block (validated when the law loaded), or None."""
    return _laws.get(law).downstream


def downstream_error(loss, law="gadre", metric: str | None = None):
    """Average top-1 error predicted from loss, Err(L) = epsilon - k exp(-gamma L) (Gadre et al. 2024 eq. 5).

    Only meaningful for losses predicted by the same law (Gadre's C4-eval loss of a RedPajama-trained model).
    """
    block = downstream_block(law)
    if block is None:
        raise ScaleplanError(f"law {_laws.get(law).name!r} has no downstream-error law (gadre has one)")
    metrics = block["metrics"]
    metric = metric or block.get("default") or next(iter(metrics))
    if metric not in metrics:
        raise ScaleplanError(f"unknown downstream metric {metric!r}; {_laws.get(law).name} has {', '.join(metrics)}")
    m = metrics[metric]
    return m["epsilon"] - m["k"] * np.exp(-m["gamma"] * np.asarray(loss, float))


@dataclass(frozen=True)
class OvertrainRow:
    """What one law predicts for the fixed model."""

    law: str
    params: float  # N in the law's own convention
    params_convention: str
    loss: float
    tokens_per_param: float  # M = D / N_total
    optimal_tokens_per_param: float  # the law's compute-optimal D/N at the same compute
    overtraining: float  # M / optimal M (above 1: over-trained)
    compute_optimal_flops: float  # C of the compute-optimal model with the same loss (unlimited data)
    extra_compute: float  # C / compute_optimal_flops (1 = compute-optimal)
    loss_units: str
    citation: str
    loss_penalty: float | None = None  # loss increase from repeating the unique data, when unique_tokens is given
    top1_error: float | None = None
    top1_error_metric: str | None = None

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "params": plain(self.params),
            "params_convention": self.params_convention,
            "loss": plain(self.loss),
            "tokens_per_param": plain(self.tokens_per_param),
            "optimal_tokens_per_param": plain(self.optimal_tokens_per_param),
            "overtraining": plain(self.overtraining),
            "compute_optimal_flops": plain(self.compute_optimal_flops),
            "extra_compute": plain(self.extra_compute),
            "loss_penalty": plain(self.loss_penalty),
            "top1_error": plain(self.top1_error),
            "top1_error_metric": self.top1_error_metric,
            "loss_units": self.loss_units,
            "citation": self.citation,
        }


@dataclass(frozen=True, repr=False)
class OvertrainReport(Rendered):
    """A fixed (N, D) choice judged by every law that predicts loss."""

    params: float
    tokens: float
    flops: float
    tokens_per_param: float
    unique_tokens: float | None
    epochs: float | None
    rows: tuple[OvertrainRow, ...]
    warnings: tuple[str, ...] = ()
    cost: CostBreakdown | None = None  # once the plan pipeline has priced it
    recipe: Recipe | None = None  # once the plan pipeline has designed the network
    name: str | None = None
    cluster: ClusterPlan | None = None  # when the budget names a cluster (memory, layout, HFU)
    # precision.PenaltyBlock (a module above this one): low-precision training or serving bits (own losses)
    precision: Reported | None = None
    precision_report: Any = None  # `scaleplan precision`'s whole report (precision.PrecisionReport), when asked
    design: Any = None  # recipe.Design: the pipeline's model stage's network, before the recipe stage
    params_non_embedding: float | None = None  # the designed model's, once the model stage has designed it
    law_params: dict | None = None  # the model as given, when the plan's counts are its designed shape's

    @property
    def params_total(self) -> float:
        """Every parameter (a fixed model counts them all), as the other plans name it."""
        return self.params

    def row(self, law: str) -> OvertrainRow:
        name = _laws.get(law).name
        for r in self.rows:
            if r.law == name:
                return r
        raise ScaleplanError(f"no row for law {name!r}; rows: {', '.join(r.law for r in self.rows)}")

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name} if self.name else {}
        out.update(
            {
                "params": self.params,
                "tokens": self.tokens,
                "flops": self.flops,
                "tokens_per_param": self.tokens_per_param,
                "unique_tokens": self.unique_tokens,
                "epochs": self.epochs,
                "rows": [r.to_dict() for r in self.rows],
            }
        )
        stage_blocks(out, self)
        # at top level: the law asked for, else the default law (the other laws' rows stay under `fixed`)
        top = next((r for r in self.rows if r.law == _laws.DEFAULT_LAW), self.rows[0] if self.rows else None)
        out.update(
            law=None if top is None else top.law,
            params_total=self.params,
            params_non_embedding=self.params_non_embedding,
            law_params=self.law_params,
            loss=None if top is None else top.to_dict().get("loss"),
            citation=None if top is None or top.law not in _laws.names() else _laws.get(top.law).cite,
            fixed={"rows": out["rows"], "unique_tokens": self.unique_tokens, "epochs": self.epochs},
        )
        out["warnings"] = list(self.warnings)
        return contract(out)


def judging_laws(names) -> list[_laws.Law]:
    """Every law that predicts loss, or the ones named (each must)."""
    if names is None:
        return [law for law in _laws.all_laws() if law.predicts_loss]
    chosen = [_laws.get(name) for name in ([names] if isinstance(names, (str, _laws.Law)) else names)]
    if not chosen:
        raise ScaleplanError("fixed_allocation needs at least one law name")
    silent = [law.name for law in chosen if not law.predicts_loss]
    if silent:
        raise ScaleplanError(
            f"law(s) {', '.join(silent)} predict no loss; pick laws that do, e.g. epoch, "
            "chinchilla, muennighoff, gadre, kaplan"
        )
    return chosen


def _overtrain_row(law: _laws.Law, n: float, d: float, u: float | None, metric, native=None):
    """One law's judgement of N parameters on D tokens (of U unique ones), and what it warns: (row, warnings).
    `native` is N in the law's convention when a designed shape measures it."""
    warnings: list[str] = []
    native = float(_native_params(law, n) if native is None else native)
    plain_loss = float(law.loss(native, d))
    loss, penalty = plain_loss, None
    if u is not None:
        if law.is_parametric and law.params_convention == "total":
            loss = float(constrained_loss(law, n, d, u))
            penalty = loss - plain_loss
            if _decay(law)[2]:
                warnings.append(_borrow_warning(law))
        else:
            warnings.append(
                f"{law.name}: repeated data not discounted (the data-constrained correction needs a "
                "parametric law counting all parameters)"
            )
    flops = conventions.training_flops(n, d)
    total_opt, d_opt, _ = _laws.common_convention_optimum(law, np.array([flops]))
    m_opt = float(d_opt[0] / total_opt[0])
    c_same = float(np.asarray(law.compute_for_loss(loss)).reshape(-1)[0])  # every judging law predicts loss
    err, err_metric = None, None
    block = law.downstream
    if block is not None:
        err_metric = metric or block.get("default") or next(iter(block["metrics"]))
        err = float(downstream_error(loss, law, err_metric))
    row = OvertrainRow(
        law=law.name,
        params=native,
        params_convention=law.params_convention,
        loss=loss,
        tokens_per_param=d / n,
        optimal_tokens_per_param=m_opt,
        overtraining=(d / n) / m_opt,
        compute_optimal_flops=c_same,
        extra_compute=flops / c_same if math.isfinite(c_same) else math.inf,
        loss_units=law.loss_units or "",
        citation=law.short_cite,
        loss_penalty=penalty,
        top1_error=err,
        top1_error_metric=err_metric,
    )
    m_range = law.fitted_range.get("tokens_per_param")
    if m_range and not m_range[0] <= d / n <= m_range[1]:
        warnings.append(
            f"{law.name}: {fmt_number(d / n)} tokens per parameter is outside the token multipliers "
            f"it was fitted on ({fmt_number(m_range[0])} to {fmt_number(m_range[1])})"
        )
    if not law.frontier_is_loss_minimum:
        warnings.append(
            f"{law.name}: its compute-optimal frontier is not the minimum of its own loss, so "
            f"extra_compute compares with the frontier model ({fmt_sci(c_same)} FLOPs)"
        )
    return row, warnings


def fixed_allocation(params, tokens, unique_tokens=None, laws=None, *, metric: str | None = None) -> OvertrainReport:
    """Judge a fixed choice of N (all parameters) and D tokens, e.g. an over-trained 7B model on 2T tokens.

    For every law that predicts loss (or those named in `laws`): the predicted loss, the token multiplier
    M = D/N next to the law's compute-optimal one at the same compute, the FLOPs of the compute-optimal model with the
    same loss and the extra-compute factor, and, where the law has one (gadre), the predicted average top-1 error.
    With `unique_tokens`, parametric laws discount repeated data (Muennighoff et al. 2023; other laws borrow its decay
    constants, with a warning) and each row carries the loss penalty.
    """
    if np.ndim(params) or np.ndim(tokens) or np.ndim(unique_tokens):
        raise ScaleplanError("fixed_allocation judges one model at a time: give one params and one tokens value")
    n = float(check_positive(params, "params"))
    d = float(check_positive(tokens, "tokens"))
    u = None if unique_tokens is None else float(check_positive(unique_tokens, "unique tokens"))
    return judge_fixed(n, d, u, judging_laws(laws), metric=metric)


def judge_fixed(n: float, d: float, u: float | None, chosen, *, metric: str | None = None, shape=None):
    """fixed_allocation's judgement of checked values by the chosen laws (Law objects). With `shape` (a
    recipe.Shape of `n` parameters: the pipeline's designed model), each law's N is that shape's count in the law's
    convention rather than `n` converted with a reference vocabulary."""
    flops = conventions.training_flops(n, d)
    warnings = _laws.joint_range_warnings(chosen, flops)
    epochs = None if u is None else d / u
    if epochs is not None:
        warnings += epoch_warnings(epochs)
    rows = []
    for law in chosen:
        native = None if shape is None else measure(shape, law.params_convention)
        row, said = _overtrain_row(law, n, d, u, metric, native)
        rows.append(row)
        warnings += said
    return OvertrainReport(
        params=n,
        tokens=d,
        flops=flops,
        tokens_per_param=d / n,
        unique_tokens=u,
        epochs=epochs,
        rows=tuple(rows),
        warnings=tuple(dict.fromkeys(warnings)),
    )
