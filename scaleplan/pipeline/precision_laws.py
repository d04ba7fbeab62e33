"""The three precision laws' maths (constants in data/precision.yaml), each in its own loss:

Precision-aware planning: what training in FP8 or FP4, and serving at 8, 4 or 3 bits, does to the loss.

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

Floating-point formats (named, E/M layouts, Sun's best layout per width) and the input checks every precision
module uses. Functions are vectorised over N and D (numpy broadcasting).
"""

from __future__ import annotations

import contextvars
import functools
import math
import re
from dataclasses import dataclass

import numpy as np

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..schema import limits

MAX_FLOPS = limits.MAX_FLOPS
# Parameters and tokens a caller gives are capped where they enter (scaleplan.schema.fields: the one cap of each, as in
# every command); the laws' own fitted ranges give warnings, not refusals, so a model derived from a large budget
# is judged as an extrapolation rather than refused.
MAX_PARAMS = limits.MAX_PARAMS
MAX_TOKENS = limits.MAX_TOKENS
MAX_BLOCK = 2.0**24
BITS_RANGE = (2, 32)


@functools.cache
def constants() -> dict:
    """data/precision.yaml: the three laws with citations, conventions, fitted ranges and published checks."""
    return _yaml.read(_yaml.DATA / "precision.yaml")


def citation(law: str) -> str:
    """'Sun et al. 2025, arXiv:2501.02423, Eq. (1) ...' for 'sun', 'ouyang' or 'kumar'."""
    c = constants()[law]["citation"]
    return f"{c['authors'].split(',')[0]} et al. {c['year']}, arXiv:{c['arxiv']}, {c['where']}"


def law_constants(law: str, overrides: dict | None) -> dict:
    """The bundled constants, with a user's replacements (every key must exist; values finite numbers)."""
    base = dict(constants()[law]["constants"])
    for key, value in (overrides or {}).items():
        if key not in base:
            raise ScaleplanError(f"unknown {law} constant {key!r}; known: {', '.join(base)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ScaleplanError(f"{law} constant {key} must be a finite number, got {value!r}")
        base[key] = float(value)
    return base


def checked(values, what: str, high: float, low: float = 0.0, inclusive_low: bool = False) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise ScaleplanError(f"{what}: no values given")
    bad = ~np.isfinite(arr) | (arr < low if inclusive_low else arr <= low) | (arr > high)
    if bad.any():
        bound = f"at least {low:g}" if inclusive_low else ("positive" if low == 0 else f"above {low:g}")
        cap = "" if high == math.inf else f" and at most {high:g}"
        raise ScaleplanError(f"{what} must be {bound}{cap}, got {arr[bad].flat[0]!r}")
    return arr


# True while a report judges the model it derived from a budget: that model is the law's, not a value a caller
# typed, so it is not refused beyond the caps (the fitted-range warnings say it is an extrapolation).
DERIVED: contextvars.ContextVar[bool] = contextvars.ContextVar("DERIVED", default=False)


def checked_params(v, what="params"):
    return checked(v, what, math.inf if DERIVED.get() else MAX_PARAMS)


def checked_tokens(v, what="tokens"):
    return checked(v, what, math.inf if DERIVED.get() else MAX_TOKENS)


def checked_bits(v, what="bits", low=BITS_RANGE[0]):
    return checked(v, what, BITS_RANGE[1], low=low, inclusive_low=True)


def checked_block(v):
    return checked(v, "block size", MAX_BLOCK, low=2, inclusive_low=True)


def as_value(x):
    return float(x) if np.ndim(x) == 0 else x


# ---------------------------------------------------------------------------------------------------------------
# Floating-point formats


@dataclass(frozen=True)
class FloatFormat:
    """A floating-point training format: exponent and mantissa bits (plus a sign bit) and the scaling block size."""

    name: str
    exponent_bits: int
    mantissa_bits: int
    block_size: float

    @property
    def bits(self) -> int:
        return self.exponent_bits + self.mantissa_bits + 1

    @property
    def layout(self) -> str:
        return f"E{self.exponent_bits}M{self.mantissa_bits}"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "layout": self.layout,
            "bits": self.bits,
            "exponent_bits": self.exponent_bits,
            "mantissa_bits": self.mantissa_bits,
            "block_size": float(self.block_size),
        }


# Named formats: (E, M, block size or None for the default). FP16 is IEEE half (E5M10); BF16 is E8M7.
_NAMED = {
    "bf16": (8, 7, None),
    "fp16": (5, 10, None),
    "fp32": (8, 23, None),
    "fp8": (4, 3, None),
    "fp6": (3, 2, None),
    "fp4": (2, 1, None),
    "mxfp8": (4, 3, 32),
    "mxfp6": (3, 2, 32),
    "mxfp4": (2, 1, 32),
    "nvfp4": (2, 1, 16),
}


def best_layout(bits: int) -> tuple[int, int]:
    """Sun et al.'s best integer split of `bits` (sign included): the E, M = bits - 1 - E that maximises
    (E + 0.5)^delta (M + 0.5)^nu (Sec. 4.2; Fig. 5 legend: E2M1, E4M3, E8M7 for 4, 8, 16 bits)."""
    ok = not isinstance(bits, bool) and np.ndim(bits) == 0 and isinstance(bits, (int, float, np.number))
    if not ok or not float(bits).is_integer() or not BITS_RANGE[0] <= bits <= BITS_RANGE[1]:
        raise ScaleplanError(f"bits must be a whole number from {BITS_RANGE[0]} to {BITS_RANGE[1]}, got {bits!r}")
    p = int(bits)
    c = constants()["sun"]["constants"]
    return max(
        ((e, p - 1 - e) for e in range(p)),
        key=lambda em: c["delta"] * math.log(em[0] + 0.5) + c["nu"] * math.log(em[1] + 0.5),
    )


def continuous_layout(bits, constants_: dict | None = None):
    """Eq. (19)/(31): E_opt = delta P/(delta + nu) - 0.5, M_opt = nu P/(delta + nu) - 0.5 (P total bits)."""
    c = law_constants("sun", constants_)
    p = np.asarray(bits, float)
    s = c["delta"] + c["nu"]
    return as_value(c["delta"] * p / s - 0.5), as_value(c["nu"] * p / s - 0.5)


def parse_format(text: str, block_size=None) -> FloatFormat:
    """'bf16', 'fp8' (E4M3), 'fp4' (E2M1), 'fp6' (E3M2), 'fp16' (IEEE E5M10), 'mxfp8'/'mxfp4' (block 32), 'nvfp4'
    (block 16), 'e4m3' or 'E5M2', or 'fpN' for Sun's best layout of N bits. Block size default 128 (Sun et al.)."""
    key = str(text).strip().lower()
    default_block = constants()["sun"]["conventions"]["default_block"]
    if key in _NAMED:
        e, m, blk = _NAMED[key]
    elif re.fullmatch(r"e\d{1,2}m\d{1,2}", key):
        e_text, m_text = key[1:].split("m", 1)
        e, m, blk = int(e_text), int(m_text), None
        if e + m + 1 > BITS_RANGE[1]:
            raise ScaleplanError(f"format {text!r}: at most {BITS_RANGE[1]} bits")
    elif key.startswith("fp") and key[2:].isdigit() and BITS_RANGE[0] <= int(key[2:]) <= BITS_RANGE[1]:
        (e, m), blk = best_layout(int(key[2:])), None
    else:
        raise ScaleplanError(
            f"unknown precision {text!r}; use bf16, fp16, fp8, fp6, fp4, mxfp8, mxfp6, mxfp4, nvfp4, "
            f"fpN (N = 2..{BITS_RANGE[1]}) or a layout such as e4m3"
        )
    block = (blk or default_block) if block_size is None else float(checked_block(block_size))
    return FloatFormat(key, e, m, float(block))


# ---------------------------------------------------------------------------------------------------------------
# Sun et al. 2025


def sun_term(c: dict, e, m, block) -> np.ndarray:
    """log2(B) / (gamma (E+0.5)^delta (M+0.5)^nu): the precision factor of the last term."""
    return np.log2(block) / (
        c["gamma"] * (np.asarray(e, float) + 0.5) ** c["delta"] * (np.asarray(m, float) + 0.5) ** c["nu"]
    )


def sun_loss(params, tokens, exponent_bits, mantissa_bits, block_size=128, constants_: dict | None = None):
    """Sun et al. 2025 Eq. (1): Dolma loss of a run trained with E exponent and M mantissa bits, scaling blocks of B."""
    c = law_constants("sun", constants_)
    n, d = checked_params(params), checked_tokens(tokens)
    checked(exponent_bits, "exponent bits", 31, low=0, inclusive_low=True)
    checked(mantissa_bits, "mantissa bits", 31, low=0, inclusive_low=True)
    b = checked_block(block_size)
    na, db = n ** c["alpha"], d ** c["beta"]
    return as_value(c["n"] / na + c["d"] / db + c["epsilon"] + db / na * sun_term(c, exponent_bits, mantissa_bits, b))


def sun_critical_tokens(params, exponent_bits, mantissa_bits, block_size=128, constants_: dict | None = None):
    """Eq. (21)/(41): the token count that minimises the loss at fixed N; more tokens make the run worse.

    D_crit = [d gamma N^alpha (E+0.5)^delta (M+0.5)^nu / log2 B]^(1/(2 beta))."""
    c = law_constants("sun", constants_)
    n = checked_params(params)
    b = checked_block(block_size)
    return as_value(
        (c["d"] * n ** c["alpha"] / sun_term(c, exponent_bits, mantissa_bits, b)) ** (1.0 / (2.0 * c["beta"]))
    )


def _gamma_rho(c: dict) -> float:
    s = c["delta"] + c["nu"]
    return c["gamma"] * c["delta"] ** c["delta"] * c["nu"] ** c["nu"] / s**s


def sun_optimal_bits(flops, block_size=128, cost_k=None, constants_: dict | None = None):
    """Eq. (25)/(54): the continuous cost-optimal precision P at a budget C = k P N D (k = 6/16), joint over N, D, P
    with the best (continuous) layout. P^((delta+nu)(alpha+beta)/beta + alpha) =
    (gamma_D log2 B)^((alpha+beta)/beta) (delta+nu-alpha)/(delta+nu+beta) (d beta)/(n alpha) (C/k)^alpha."""
    c = law_constants("sun", constants_)
    k = constants()["sun"]["conventions"]["cost_k"] if cost_k is None else cost_k
    cc = checked(flops, "flops", MAX_FLOPS)
    lb = np.log2(checked_block(block_size))
    a, b, s = c["alpha"], c["beta"], c["delta"] + c["nu"]
    gamma_d = (s - a) / (c["n"] * a * _gamma_rho(c))
    rhs = (gamma_d * lb) ** ((a + b) / b) * (s - a) / (s + b) * (c["d"] * b) / (c["n"] * a) * (cc / k) ** a
    return as_value(rhs ** (1.0 / (s * (a + b) / b + a)))


# ---------------------------------------------------------------------------------------------------------------
# Ouyang et al. 2024


def ouyang_qid(params, tokens, bits, constants_: dict | None = None, per_width: bool = False):
    """Eq. (8), Fig. 6: loss added by GPTQ weight-only quantization to P bits, k D^beta / (N^alpha P^gamma).
    N non-embedding, D training tokens of the checkpoint. The unified law is the default (printed, monotone in bits).
    per_width=True uses, at 3 and 4 bits, the per-width laws recovered from Table 1 (k D^beta / N^alpha;
    precision.yaml ouyang.per_width, not printed by the paper), with which the paper's own table was made."""
    c = law_constants("ouyang", constants_)
    n, d, p = checked_params(params), checked_tokens(tokens), checked_bits(bits, low=1)
    per = constants()["ouyang"]["per_width"] if per_width and constants_ is None else {}
    out = np.asarray(_qid(c, n, d, p), float)
    for width, w in per.items():
        at = np.asarray(p) == float(width)
        if np.any(at):
            out = np.where(at, w["k"] * np.asarray(d, float) ** w["beta"] / np.asarray(n, float) ** w["alpha"], out)
    return as_value(out)


def _qid(c: dict, n, d, p):
    """Eq. (8), the unified law: k D^beta / (N^alpha P^gamma)."""
    return c["k"] * d ** c["beta"] / (n ** c["alpha"] * p ** c["gamma"])


def ouyang_loss_16bit(params, tokens):
    """Fig. 7 caption: the 16-bit Pythia loss [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D."""
    return as_value(_loss_16bit(checked_params(params), checked_tokens(tokens)))


def _loss_16bit(n, d):
    c = constants()["ouyang"]["loss_16bit"]["constants"]
    return ((c["N_c"] / n) ** (c["alpha_N"] / c["alpha_D"]) + c["D_c"] / d) ** c["alpha_D"]


def ouyang_relative_penalty(n: np.ndarray, d: np.ndarray, bits: float) -> np.ndarray:
    """ouyang_qid / ouyang_loss_16bit (the unified law) on float arrays already checked: what a search over (N, D)
    calls at every step (scaleplan.pipeline.quantized), its bits checked once at its entry."""
    return _qid(law_constants("ouyang", None), n, d, np.asarray(bits, float)) / _loss_16bit(n, d)


def ouyang_tokens_for_qid(params, qid, bits, constants_: dict | None = None, per_width: bool = False):
    """Training tokens at which a model of N parameters reaches QiD = q at P bits: (q N^alpha P^gamma / k)^(1/beta)
    (per_width=True: Table 1's per-width laws at 3 and 4 bits, recovered from its cells, not printed)."""
    c = law_constants("ouyang", constants_)
    n, q, p = checked_params(params), checked(qid, "qid", 100.0), checked_bits(bits, low=1)
    unified = (q * n ** c["alpha"] * p ** c["gamma"] / c["k"]) ** (1.0 / c["beta"])
    per = constants()["ouyang"]["per_width"] if per_width and constants_ is None else {}
    out = np.asarray(unified, float)
    for width, w in per.items():
        at = np.asarray(p) == float(width)
        if np.any(at):
            out = np.where(at, (np.asarray(q) * np.asarray(n, float) ** w["alpha"] / w["k"]) ** (1.0 / w["beta"]), out)
    return as_value(out)


# ---------------------------------------------------------------------------------------------------------------
# Kumar et al. 2024


def _kumar_factor(c: dict, x: str, bits) -> np.ndarray:
    return 1.0 - np.exp(c[f"n_{x}"] - np.asarray(bits, float) / c[f"gamma_{x}"])


def kumar_effective_params(params, weight_bits, activation_bits=None, kv_bits=None, constants_: dict | None = None):
    """Eq. (4) with the inferred offsets: N_eff = N prod_x (1 - exp(n_x - P_x/gamma_x)) over weights, activations and
    KV cache (activation and KV bits default to the weight bits). Raises below the precision where a factor turns
    negative (activations: gamma_a n_a = 3.11 bits; the paper fitted 3 bits and up)."""
    c = law_constants("kumar", constants_)
    n = checked_params(params)
    pw = checked_bits(weight_bits, "weight bits")
    pa = pw if activation_bits is None else checked_bits(activation_bits, "activation bits")
    pk = pw if kv_bits is None else checked_bits(kv_bits, "KV-cache bits")
    u = _kumar_factor(c, "w", pw) * _kumar_factor(c, "a", pa) * _kumar_factor(c, "kv", pk)
    if np.any(u <= 0):
        raise ScaleplanError(
            "Kumar et al.'s effective-parameter factor is not positive below about 3.2 bits "
            "(activations: gamma_a n_a = 3.11); use at least 4 bits"
        )
    return as_value(n * u)


def kumar_param_multiplier(bits, constants_: dict | None = None):
    """N / N_eff when weights, activations and KV cache are all trained at `bits`: how many more parameters buy the
    same loss term (Kumar et al. Sec. 4.3.2: more than 4x at 4 bits)."""
    return as_value(1.0 / np.asarray(kumar_effective_params(1.0, bits, constants_=constants_)))


def kumar_loss(
    params, tokens, weight_bits=16, activation_bits=None, kv_bits=None, post_bits=None, constants_: dict | None = None
):
    """Eq. (1)/(11): A N_eff^-alpha + B D^-beta + E (+ delta_PTQ of Eq. 2 when post_bits is given; BF16 training)."""
    c = law_constants("kumar", constants_)
    neff = np.asarray(kumar_effective_params(params, weight_bits, activation_bits, kv_bits, constants_))
    d = checked_tokens(tokens)
    loss = c["A"] * neff ** -c["alpha"] + c["B"] * d ** -c["beta"] + c["E"]
    if post_bits is not None:
        loss = loss + np.asarray(kumar_ptq_delta(params, tokens, post_bits, constants_))
    return as_value(loss)


def kumar_ptq_delta(params, tokens, post_bits, constants_: dict | None = None):
    """Eq. (2): loss added by post-training quantization to P_post bits of a BF16-trained model,
    C_T (D^gamma_D / N^gamma_N) exp(-P_post / gamma_post). Table 2's bias b (role not stated) is not applied."""
    c = law_constants("kumar", constants_)
    n, d, p = checked_params(params), checked_tokens(tokens), checked_bits(post_bits, "post-training bits", low=1)
    return as_value(c["C_T"] * d ** c["gamma_D"] / n ** c["gamma_N"] * np.exp(-p / c["gamma_post"]))


def kumar_critical_tokens(params, post_bits, constants_: dict | None = None):
    """Eq. (13), App. E.1: tokens beyond which more pre-training raises the loss after quantizing to P_post bits,
    (beta B N^gamma_N exp(P_post/gamma_post) / (gamma_D C_T))^(1/(gamma_D + beta))."""
    c = law_constants("kumar", constants_)
    n, p = checked_params(params), checked_bits(post_bits, "post-training bits", low=1)
    return as_value(
        (c["beta"] * c["B"] * n ** c["gamma_N"] * np.exp(p / c["gamma_post"]) / (c["gamma_D"] * c["C_T"]))
        ** (1.0 / (c["gamma_D"] + c["beta"]))
    )


def kumar_optimal_bits(constants_: dict | None = None) -> float:
    """Compute-optimal training precision (all of weights, activations, KV at P; cost (6/16) N D P, Eq. 5).

    Setting dL/dlnN = dL/dlnP = 0 at fixed cost gives sum_x (P/gamma_x) q_x / (1 - q_x) = 1 with
    q_x = exp(n_x - P/gamma_x), independent of A, B, alpha and the budget. Solved by bisection (the left side falls
    monotonically in P). The paper prints 'around 7-8 bits' (Finding 3); this gives 7.00 under the inferred offsets.
    """
    c = law_constants("kumar", constants_)

    def f(p):
        total = 0.0
        for x in ("w", "a", "kv"):
            q = math.exp(c[f"n_{x}"] - p / c[f"gamma_{x}"])
            if q >= 1:
                return math.inf
            total += p / c[f"gamma_{x}"] * q / (1 - q)
        return total - 1.0

    lo, hi = 1.0, 64.0
    if f(hi) > 0:
        raise ScaleplanError("Kumar et al.'s optimum does not exist for these constants (no root below 64 bits)")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def ouyang_critical_tokens(params, bits) -> float:
    """Tokens at which Ouyang et al.'s quantized loss Loss_16bit + QiD (Fig. 7: both in the Pythia loss of the same
    paper) stops falling at fixed N: training longer, then quantizing to `bits`, makes the served model worse.
    Derived from the printed laws (Fig. 6, Fig. 7), not printed; found by a search in log D."""
    from .constrained import minimise_log

    n, p = float(checked_params(params)), float(checked_bits(bits, low=1))
    c = constants()["ouyang"]["loss_16bit"]["constants"]
    a = (c["N_c"] / n) ** (c["alpha_N"] / c["alpha_D"])

    q = constants()["ouyang"]["constants"]

    def loss(log_d):
        d = np.exp(log_d)
        return (a + c["D_c"] / d) ** c["alpha_D"] + q["k"] * d ** q["beta"] / (n ** q["alpha"] * p ** q["gamma"])

    x, _ = minimise_log(loss, [math.log(1e12)], span=30.0, points=601)
    return float(min(math.exp(x[0]), MAX_TOKENS))
