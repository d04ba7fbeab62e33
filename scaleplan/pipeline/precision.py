"""Precision-aware planning: what training in FP8 or FP4, and serving at 8, 4 or 3 bits, does to the loss.

Three published laws, constants in data/precision.yaml, each in its own loss (never added to another law's loss):

* Sun et al. 2025 (arXiv:2501.02423), floating-point quantization training, Dolma loss:
      L(N, D, E, M, B) = n/N^a + d/D^b + eps + (D^b/N^a) log2(B) / (gamma (E+0.5)^delta (M+0.5)^nu)
  with the best exponent/mantissa split per bit width, the critical data size beyond which more tokens make a
  low-precision run worse (Eq. 41), and the cost-optimal precision when cost is proportional to bits (Eq. 54).
* Ouyang et al. 2024 (arXiv:2411.17691), loss added by GPTQ weight-only quantization of a trained model (Pythia):
      QiD = k D^beta / (N^alpha P^gamma)
* Kumar et al. 2024 (arXiv:2411.04330), integer training precision as effective parameters and post-training
  quantization:  N_eff = N prod_x (1 - exp(n_x - P_x/gamma_x)),
                 delta_PTQ = C_T D^gamma_D / N^gamma_N exp(-P/gamma_post)
  with the offset sign inferred (the only reading that gives the printed 7-8 bit optimum).

Penalties are reported as a difference in the source's own loss and as a relative change of that loss at the same N
and D. Functions are vectorised over N and D (numpy broadcasting); results are frozen values with to_dict().

This module holds the published checks and the reports (`scaleplan precision`: quantizing a trained model,
the whole picture for a budget); the laws' maths are in precision_laws, the cost-optimal search in
precision_search, a plan's penalty block in precision_plan. Their public names are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import ScaleplanError
from ..core.values import Rendered, contract, plain
from ..schema import fields
from ..schema.conventions import training_flops
from ..schema.units import fmt_count
from .precision_laws import (
    BITS_RANGE,
    DERIVED,
    MAX_BLOCK,
    MAX_FLOPS,
    MAX_PARAMS,
    MAX_TOKENS,
    FloatFormat,
    best_layout,
    checked,
    checked_bits,
    checked_block,
    checked_params,
    checked_tokens,
    citation,
    constants,
    continuous_layout,
    kumar_critical_tokens,
    kumar_effective_params,
    kumar_loss,
    kumar_optimal_bits,
    kumar_param_multiplier,
    kumar_ptq_delta,
    law_constants,
    ouyang_critical_tokens,
    ouyang_loss_16bit,
    ouyang_qid,
    ouyang_tokens_for_qid,
    parse_format,
    sun_critical_tokens,
    sun_loss,
    sun_optimal_bits,
)
from .precision_plan import (
    PenaltyBlock,
    plan_penalties,
)
from .precision_search import (
    CostOptimalPrecision,
    PrecisionChoice,
    TrainingPenalty,
    cost_optimal_precision,
    hardware_path,
    sun_best_params,
    training_penalty,
)

__all__ = [
    "BITS_RANGE",
    "MAX_BLOCK",
    "MAX_FLOPS",
    "MAX_PARAMS",
    "MAX_TOKENS",
    "CostOptimalPrecision",
    "FloatFormat",
    "PenaltyBlock",
    "PrecisionChoice",
    "PrecisionReport",
    "QuantizationReport",
    "QuantizationRow",
    "TrainingPenalty",
    "best_layout",
    "citation",
    "constants",
    "continuous_layout",
    "cost_optimal_precision",
    "hardware_path",
    "kumar_critical_tokens",
    "kumar_effective_params",
    "kumar_loss",
    "kumar_optimal_bits",
    "kumar_param_multiplier",
    "kumar_ptq_delta",
    "ouyang_critical_tokens",
    "ouyang_loss_16bit",
    "ouyang_qid",
    "ouyang_tokens_for_qid",
    "parse_format",
    "plan_penalties",
    "precision_report",
    "published_checks",
    "published_quantity",
    "quantization_report",
    "report_of",
    "run_check",
    "sun_best_params",
    "sun_critical_tokens",
    "sun_loss",
    "sun_optimal_bits",
    "training_penalty",
]


# ---------------------------------------------------------------------------------------------------------------
# Published checks (the YAML's published_checks, evaluated)


def published_quantity(name: str, inputs: dict):
    match name:
        case "sun_critical_tokens":
            return sun_critical_tokens(**inputs)
        case "sun_best_exponent_bits":
            return [best_layout(p)[0] for p in inputs["bits"]]
        case "sun_cost_optimal_bits_range":
            return [float(x) for x in np.atleast_1d(sun_optimal_bits(np.asarray(inputs["flops"], float)))]
        case "ouyang_tokens_for_qid":
            return ouyang_tokens_for_qid(**inputs)
        case "kumar_optimal_bits":
            return kumar_optimal_bits()
        case "kumar_param_multiplier":
            return kumar_param_multiplier(**inputs)
    raise ScaleplanError(f"unknown published-check quantity {name!r}")


def run_check(check: dict) -> tuple[object, bool]:
    """(computed value, passed) for one published_checks entry of data/precision.yaml."""
    got = published_quantity(check["quantity"], dict(check.get("inputs") or {}))
    want = check["value"]
    match check.get("compare", "relative"):
        case "equal":
            ok = list(got) == list(want)
        case "within":
            ok = all(want[0] <= g <= want[1] for g in np.atleast_1d(got))
        case "greater":
            ok = float(got) > want
        case _:
            ok = abs(float(got) / want - 1.0) <= check["tolerance"]
    return got, bool(ok)


def published_checks() -> list[dict]:
    """Every published check of the three laws with its computed value and whether it passes."""
    rows = []
    for law in ("sun", "ouyang", "kumar"):
        for check in constants()[law].get("published_checks", []):
            got, ok = run_check(check)
            rows.append(
                {
                    "law": law,
                    "claim": check["claim"],
                    "where": check["where"],
                    "printed": check["value"],
                    "computed": plain(got) if not isinstance(got, list) else got,
                    "passed": ok,
                }
            )
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Reports: quantizing a trained model; the whole precision picture for a budget


def _range_warning(law: str, who: str, params: float, tokens: float | None = None) -> list[str]:
    r = constants()[law]["fitted_range"]
    outside = not r["params"][0] <= params <= r.get("validated_params", r["params"])[1]
    if tokens is not None:
        outside |= not r["tokens"][0] <= tokens <= r["tokens"][1]
    if not outside:
        return []
    span = (
        f"{fmt_count(r['params'][0])}-{fmt_count(r['params'][1])} parameters, {fmt_count(r['tokens'][0])}-"
        f"{fmt_count(r['tokens'][1])} tokens"
    )
    if "validated_params" in r:
        span += f" (validated to {fmt_count(r['validated_params'][1])} parameters)"
    at = f"N = {fmt_count(params)}" + ("" if tokens is None else f", D = {fmt_count(tokens)}")
    return [f"{who} fitted {span}; {at} is an extrapolation"]


@dataclass(frozen=True)
class QuantizationRow:
    """Loss after weight-only quantization of a trained model to `bits` (GPTQ-style, e.g. W4A16).

    `qid` is Ouyang et al.'s added loss in the Pythia loss (`relative` = qid / loss_16bit at the same N, D);
    `kumar_ptq_delta` is Kumar et al.'s Eq. (2) in its own Dolma loss (`kumar_relative` against its BF16 loss).
    """

    bits: float
    qid: float
    loss_quantized: float
    relative: float
    kumar_ptq_delta: float
    kumar_relative: float
    ouyang_critical_tokens_per_param: float  # D/N past which training longer, then quantizing, is worse (derived)
    kumar_critical_tokens_per_param: float  # the same by Kumar et al. Eq. (13)

    def to_dict(self) -> dict:
        return {k: plain(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, repr=False)
class QuantizationReport(Rendered):
    """The quantization penalty of a trained model (N parameters, D training tokens) at each serving bit width."""

    params: float
    tokens: float
    tokens_per_param: float
    loss_16bit: float  # Ouyang et al. Fig. 7 (Pythia)
    kumar_loss_bf16: float  # Kumar et al. Eq. 1 at 16 bits (Dolma)
    rows: tuple[QuantizationRow, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "law": "ouyang",
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens_per_param,
            "loss_16bit": self.loss_16bit,
            "kumar_loss_bf16": self.kumar_loss_bf16,
            "rows": [r.to_dict() for r in self.rows],
            "loss_units": constants()["ouyang"]["conventions"]["loss"],
            "kumar_loss_units": constants()["kumar"]["conventions"]["loss"],
            "citation": citation("ouyang"),
            "kumar_citation": citation("kumar"),
            "warnings": list(self.warnings),
        }


def quantization_report(params, tokens, bits=(8, 4, 3, 2)) -> QuantizationReport:
    """Ouyang et al.'s QiD (and Kumar et al.'s delta_PTQ, in its own loss) of one trained model at each bit width."""
    n, d = float(checked_params(params)), float(checked_tokens(tokens))
    widths = [float(b) for b in np.atleast_1d(checked_bits(list(bits), "bits", low=1))]
    base, kbase = float(ouyang_loss_16bit(n, d)), float(kumar_loss(n, d, 16))
    rows = []
    for b in widths:
        q, k = float(ouyang_qid(n, d, b)), float(kumar_ptq_delta(n, d, b))
        rows.append(
            QuantizationRow(
                b,
                q,
                base + q,
                q / base,
                k,
                k / kbase,
                ouyang_critical_tokens(n, b) / n,
                float(kumar_critical_tokens(n, b)) / n,
            )
        )
    lo, hi = constants()["ouyang"]["fitted_range"]["bits"]
    warnings = [
        f"Ouyang et al. fitted {lo}-{hi} bits (GPTQ): the {b:g} bits row is an extrapolation"
        for b in widths
        if not lo <= b <= hi
    ]
    warnings += _range_warning("ouyang", "Ouyang et al. (Pythia checkpoints)", n, d)
    warnings += _range_warning("kumar", "Kumar et al. (constants 'unlikely to be useful' beyond their setup)", n, d)
    return QuantizationReport(n, d, d / n, base, kbase, tuple(rows), tuple(warnings))


@dataclass(frozen=True, repr=False)
class PrecisionReport(Rendered):
    """Training precision for a budget (Sun, Kumar) and, for a trained model, serving precision (Ouyang, Kumar).

    `training` holds one Sun penalty per format: at the given N and D, or, for a bare budget, at each format's own
    cost-optimal N and D. Each law's numbers stay in its own loss.
    """

    flops: float
    params: float | None
    tokens: float | None
    block_size: float
    cost_optimal: CostOptimalPrecision
    training: tuple[TrainingPenalty, ...]
    kumar_optimal_bits: float
    kumar_multipliers: dict
    quantization: QuantizationReport | None
    warnings: tuple[str, ...] = ()
    plan: dict | None = None  # `scaleplan precision`: the common keys of the plan it judges (output contract)

    def to_dict(self) -> dict:
        own = self._own()
        if self.plan is None:
            return own
        # The plan's common keys at the top level, as every planning command has them (flops, params and tokens
        # are the plan's, in its law's convention); the N, D and C the precision laws used are `precision_laws`
        # (N without embeddings, C = 6 N D at 16 bits). The warnings are the report's own.
        laws = {
            "params": own["params"],
            "tokens": own["tokens"],
            "flops": own["flops"],
            "params_convention": "non_embedding",
            "judged": "the plan's designed model" if self.params is not None else "each format at its own N, D",
        }
        return contract({**own, **self.plan, "precision_laws": laws, "warnings": own["warnings"]})

    def _own(self) -> dict:
        return {
            "flops": self.flops,
            "params": self.params,
            "tokens": self.tokens,
            "block_size": self.block_size,
            "cost_optimal": self.cost_optimal.to_dict(),
            "training": [t.to_dict() for t in self.training],
            "kumar": {
                "optimal_bits": self.kumar_optimal_bits,
                "param_multiplier": {str(k): v for k, v in self.kumar_multipliers.items()},
                "loss_units": constants()["kumar"]["conventions"]["loss"],
                "citation": citation("kumar"),
            },
            "quantization": None if self.quantization is None else self.quantization.to_dict(),
            "warnings": list(self.warnings),
        }


def precision_report(
    flops=None,
    params=None,
    tokens=None,
    block_size=None,
    formats=("bf16", "fp8", "fp6", "fp4"),
    serve_bits=(8, 4, 3, 2),
    choices=("bf16", "fp8", "fp4"),
    hardware=None,
) -> PrecisionReport:
    """Everything `scaleplan precision` shows: give `flops` (a budget; 16-bit cost 6ND), or `params` and `tokens`
    (a model; its budget is 6ND). The serving table is for the model given, or, for a budget, for the best
    choice's model. `hardware` (a cost.Hardware) ranks only the formats the chip runs (see cost_optimal_precision)."""
    if (params is None) != (tokens is None):
        raise ScaleplanError("give params and tokens together (a trained model), or flops alone (a budget)")
    if params is None and flops is None:
        raise ScaleplanError("give flops (a budget), or params and tokens (a model)")
    if params is not None and flops is not None:
        raise ScaleplanError("give flops, or params and tokens, not both")
    n = None if params is None else float(fields.parse("params", params))
    d = None if tokens is None else float(fields.parse("tokens", tokens))
    serve_bits = tuple(fields.parse("serve_bits", b) for b in serve_bits)
    c = float(checked(flops if n is None or d is None else training_flops(n, d), "flops", MAX_FLOPS))
    block = None if block_size is None else float(checked_block(block_size))
    return report_of(c, n, d, block, formats, serve_bits, choices, hardware)


def report_of(
    flops: float,
    params: float | None,
    tokens: float | None,
    block_size: float | None,
    formats,
    serve_bits,
    choices,
    hardware=None,
) -> PrecisionReport:
    """`precision_report` for inputs validated at the entry (the pipeline's precision stage, after the CLI or
    `plan()` checked the budget): `flops` at 16 bits, and `params` (non-embedding) and `tokens` for a model or None
    for a budget; `block_size` None is Sun et al.'s default 128."""
    derived = DERIVED.set(True)  # the inputs are checked: what follows judges models derived from them
    try:
        return _precision_report(flops, params, tokens, block_size, formats, serve_bits, choices, hardware)
    finally:
        DERIVED.reset(derived)


def _precision_report(c, n, d, block, formats, serve_bits, choices, hardware=None) -> PrecisionReport:
    conv = constants()["sun"]["conventions"]
    block = float(conv["default_block"] if block is None else block)
    opt = cost_optimal_precision(c, block, choices, hardware=hardware)
    warnings = []
    training = []
    for name in formats:
        f = parse_format(name, block)
        if n is None:
            fn, fd, _ = sun_best_params(
                c, f.exponent_bits, f.mantissa_bits, f.bits, block, conv["cost_k"], law_constants("sun", None)
            )
            training.append(training_penalty(fn, fd, f))
        else:
            training.append(training_penalty(n, d, f))
    for t in training:
        if t.exceeds_critical:
            warnings.append(
                f"{t.format.name} ({t.format.layout}): {fmt_count(t.tokens)} tokens exceed Sun et al.'s "
                f"critical data size {fmt_count(t.critical_tokens)} for {fmt_count(t.params)} parameters; "
                f"more tokens make this run worse"
            )
    if n is not None:
        warnings += _range_warning("sun", "Sun et al.", n, d)
    else:
        warnings += _range_warning("sun", "Sun et al.", opt.params, opt.tokens)
    best = next((ch for ch in opt.choices if ch.format.name == opt.best and ch.params is not None), None)
    if n is not None:
        quant = quantization_report(n, d, serve_bits)
    elif best is not None and best.tokens is not None and serve_bits:  # a budget: serve the best choice's model
        quant = quantization_report(best.params, best.tokens, serve_bits)
    else:
        quant = None
    if quant is not None:
        warnings += list(quant.warnings)
    multipliers = {b: float(kumar_param_multiplier(b)) for b in (16, 8, 6, 4)}
    return PrecisionReport(
        c, n, d, block, opt, tuple(training), kumar_optimal_bits(), multipliers, quant, tuple(dict.fromkeys(warnings))
    )
