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
from ..core.values import Rendered, Values, plain
from ..schema import fields, limits
from ..schema.units import fmt_count

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


def _law_constants(law: str, overrides: dict | None) -> dict:
    """The bundled constants, with a user's replacements (every key must exist; values finite numbers)."""
    base = dict(constants()[law]["constants"])
    for key, value in (overrides or {}).items():
        if key not in base:
            raise ScaleplanError(f"unknown {law} constant {key!r}; known: {', '.join(base)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ScaleplanError(f"{law} constant {key} must be a finite number, got {value!r}")
        base[key] = float(value)
    return base


def _check(values, what: str, high: float, low: float = 0.0, inclusive_low: bool = False) -> np.ndarray:
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
_DERIVED: contextvars.ContextVar[bool] = contextvars.ContextVar("_DERIVED", default=False)


def _params(v, what="params"):
    return _check(v, what, math.inf if _DERIVED.get() else MAX_PARAMS)


def _tokens(v, what="tokens"):
    return _check(v, what, math.inf if _DERIVED.get() else MAX_TOKENS)


def _bits(v, what="bits", low=BITS_RANGE[0]):
    return _check(v, what, BITS_RANGE[1], low=low, inclusive_low=True)


def _block(v):
    return _check(v, "block size", MAX_BLOCK, low=2, inclusive_low=True)


def _out(x):
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
    c = _law_constants("sun", constants_)
    p = np.asarray(bits, float)
    s = c["delta"] + c["nu"]
    return _out(c["delta"] * p / s - 0.5), _out(c["nu"] * p / s - 0.5)


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
    block = (blk or default_block) if block_size is None else float(_block(block_size))
    return FloatFormat(key, e, m, float(block))


# ---------------------------------------------------------------------------------------------------------------
# Sun et al. 2025


def _sun_term(c: dict, e, m, block) -> np.ndarray:
    """log2(B) / (gamma (E+0.5)^delta (M+0.5)^nu): the precision factor of the last term."""
    return np.log2(block) / (
        c["gamma"] * (np.asarray(e, float) + 0.5) ** c["delta"] * (np.asarray(m, float) + 0.5) ** c["nu"]
    )


def sun_loss(params, tokens, exponent_bits, mantissa_bits, block_size=128, constants_: dict | None = None):
    """Sun et al. 2025 Eq. (1): Dolma loss of a run trained with E exponent and M mantissa bits, scaling blocks of B."""
    c = _law_constants("sun", constants_)
    n, d = _params(params), _tokens(tokens)
    _check(exponent_bits, "exponent bits", 31, low=0, inclusive_low=True)
    _check(mantissa_bits, "mantissa bits", 31, low=0, inclusive_low=True)
    b = _block(block_size)
    na, db = n ** c["alpha"], d ** c["beta"]
    return _out(c["n"] / na + c["d"] / db + c["epsilon"] + db / na * _sun_term(c, exponent_bits, mantissa_bits, b))


def sun_critical_tokens(params, exponent_bits, mantissa_bits, block_size=128, constants_: dict | None = None):
    """Eq. (21)/(41): the token count that minimises the loss at fixed N; more tokens make the run worse.

    D_crit = [d gamma N^alpha (E+0.5)^delta (M+0.5)^nu / log2 B]^(1/(2 beta))."""
    c = _law_constants("sun", constants_)
    n = _params(params)
    b = _block(block_size)
    return _out((c["d"] * n ** c["alpha"] / _sun_term(c, exponent_bits, mantissa_bits, b)) ** (1.0 / (2.0 * c["beta"])))


def _gamma_rho(c: dict) -> float:
    s = c["delta"] + c["nu"]
    return c["gamma"] * c["delta"] ** c["delta"] * c["nu"] ** c["nu"] / s**s


def sun_optimal_bits(flops, block_size=128, cost_k=None, constants_: dict | None = None):
    """Eq. (25)/(54): the continuous cost-optimal precision P at a budget C = k P N D (k = 6/16), joint over N, D, P
    with the best (continuous) layout. P^((delta+nu)(alpha+beta)/beta + alpha) =
    (gamma_D log2 B)^((alpha+beta)/beta) (delta+nu-alpha)/(delta+nu+beta) (d beta)/(n alpha) (C/k)^alpha."""
    c = _law_constants("sun", constants_)
    k = constants()["sun"]["conventions"]["cost_k"] if cost_k is None else cost_k
    cc = _check(flops, "flops", MAX_FLOPS)
    lb = np.log2(_block(block_size))
    a, b, s = c["alpha"], c["beta"], c["delta"] + c["nu"]
    gamma_d = (s - a) / (c["n"] * a * _gamma_rho(c))
    rhs = (gamma_d * lb) ** ((a + b) / b) * (s - a) / (s + b) * (c["d"] * b) / (c["n"] * a) * (cc / k) ** a
    return _out(rhs ** (1.0 / (s * (a + b) / b + a)))


def _sun_best_params(flops: float, exponent_bits, mantissa_bits, bits, block: float, k: float, c: dict):
    """N minimising Sun's loss at C = k P N D for a given layout (a 1-D search in log N), and its loss."""
    from .constrained import minimise_log

    term = _sun_term(c, exponent_bits, mantissa_bits, block)

    def loss(log_n):
        n = np.exp(log_n)
        d = flops / (k * bits * n)
        na, db = n ** c["alpha"], d ** c["beta"]
        return c["n"] / na + c["d"] / db + c["epsilon"] + db / na * term

    centre = 0.5 * math.log(flops / (k * bits))
    x, f = minimise_log(loss, [centre], span=20.0)
    n = float(math.exp(x[0]))
    return n, flops / (k * bits * n), float(f[0])


@dataclass(frozen=True)
class TrainingPenalty:
    """Sun et al.'s loss of one training format at N, D, against BF16 (E8M7) at the same N, D and block size.

    `penalty` is in Sun's own loss (nats/token on Dolma); `relative` = penalty / loss_bf16. Arrays broadcast over N, D.
    """

    format: FloatFormat
    params: Values
    tokens: Values
    loss: Values
    loss_bf16: Values
    penalty: Values
    relative: Values
    critical_tokens: Values  # Eq. (41) at this N: beyond it more tokens raise the loss
    exceeds_critical: bool | np.ndarray
    law: str = "sun"

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "format": self.format.to_dict(),
            "params": plain(self.params),
            "tokens": plain(self.tokens),
            "loss": plain(self.loss),
            "loss_bf16": plain(self.loss_bf16),
            "penalty": plain(self.penalty),
            "relative": plain(self.relative),
            "critical_tokens": plain(self.critical_tokens),
            "exceeds_critical": np.asarray(self.exceeds_critical).tolist(),
            "loss_units": constants()["sun"]["conventions"]["loss"],
            "citation": citation("sun"),
        }


def training_penalty(
    params, tokens, fmt: str | FloatFormat = "fp8", block_size=None, constants_: dict | None = None
) -> TrainingPenalty:
    """Sun et al.'s loss penalty of training in `fmt` instead of BF16 at N, D (vectorised), with the critical data
    size."""
    f = fmt if isinstance(fmt, FloatFormat) else parse_format(fmt, block_size)
    loss = sun_loss(params, tokens, f.exponent_bits, f.mantissa_bits, f.block_size, constants_)
    bf16 = sun_loss(params, tokens, 8, 7, f.block_size, constants_)
    crit = sun_critical_tokens(params, f.exponent_bits, f.mantissa_bits, f.block_size, constants_)
    penalty = np.asarray(loss) - np.asarray(bf16)
    exceeds = np.asarray(tokens, float) > np.asarray(crit)
    return TrainingPenalty(
        f,
        _out(np.asarray(params, float)),
        _out(np.asarray(tokens, float)),
        loss,
        bf16,
        _out(penalty),
        _out(penalty / np.asarray(bf16)),
        crit,
        bool(exceeds) if exceeds.ndim == 0 else exceeds,
    )


@dataclass(frozen=True)
class PrecisionChoice:
    """One hardware precision at a budget: Sun's best N, D at C = k P N D and the loss there.

    On a given chip (`hardware`), a format runs only on a dense path of its width (16: BF16, 8: FP8, 4: FP4); one the
    chip lacks is `available` False with the reason and no N, D or loss. `speedup` is the end-to-end speed-up over BF16
    the cost assumes: without hardware Sun et al.'s 16/P (cost k P N D); on a chip, the published speed-up
    (cost.precision_speedup: FP8 1.34x at twice the BF16 peak), i.e. cost 6 N D / speedup.
    """

    format: FloatFormat
    params: float | None
    tokens: float | None
    loss: float | None
    critical_tokens: float | None
    speedup: float = 1.0
    available: bool = True
    unavailable: str | None = None

    def to_dict(self) -> dict:
        ok = self.params is not None and self.tokens is not None and self.critical_tokens is not None
        return {
            "format": self.format.to_dict(),
            "available": self.available,
            "unavailable": self.unavailable,
            "speedup": self.speedup,
            "params": self.params,
            "tokens": self.tokens,
            "loss": self.loss,
            "tokens_per_param": self.tokens / self.params if ok else None,  # type: ignore[operator]
            "critical_tokens": self.critical_tokens,
            "exceeds_critical": self.tokens > self.critical_tokens if ok else None,  # type: ignore[operator]
        }


@dataclass(frozen=True)
class CostOptimalPrecision:
    """Sun et al.'s cost-optimal training precision at a budget C (cost k P N D, k = 6/16: 16 bits costs 6ND).

    `bits` is the paper's continuous optimum (Eq. 54, joint over N, D, P with the continuous layout of Eq. 31);
    `choices` are the precisions hardware has (default 16/8/4 with their best layouts), each at its own best N and D;
    `best` is the name of the lowest-loss choice.
    """

    flops: float
    block_size: float
    cost_k: float
    bits: float
    exponent_bits: float
    mantissa_bits: float
    nearest_layout: str
    params: float
    tokens: float
    loss: float
    choices: tuple[PrecisionChoice, ...]
    best: str
    hardware: str | None = None

    def to_dict(self) -> dict:
        return {
            "law": "sun",
            "hardware": self.hardware,
            "flops": self.flops,
            "block_size": self.block_size,
            "cost_k": self.cost_k,
            "bits": self.bits,
            "exponent_bits": self.exponent_bits,
            "mantissa_bits": self.mantissa_bits,
            "nearest_layout": self.nearest_layout,
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens / self.params,
            "loss": self.loss,
            "choices": [ch.to_dict() for ch in self.choices],
            "best": self.best,
            "loss_units": constants()["sun"]["conventions"]["loss"],
            "citation": citation("sun"),
        }


_PATHS = {16: "bf16", 8: "fp8", 4: "fp4"}  # format width -> the dense hardware path it runs on


def hardware_path(fmt: FloatFormat, hardware) -> tuple[str | None, str | None]:
    """(the chip's precision path for this format, None) or (None, why it has none)."""
    path = _PATHS.get(fmt.bits)
    if path is None:
        return None, f"{hardware.key} has no dense {fmt.bits}-bit path (only 16, 8 and 4 bits are modelled)"
    try:
        hardware.peak(path)
    except ScaleplanError:
        field = {"bf16": "peak_flops", "fp8": "fp8_flops", "fp4": "fp4_flops"}[path]
        return None, f"{hardware.key} has no dense {path.upper()} path ({hardware.why_missing(field)})"
    return path, None


def cost_optimal_precision(
    flops,
    block_size=None,
    choices=("bf16", "fp8", "fp4"),
    cost_k=None,
    constants_: dict | None = None,
    hardware=None,
) -> CostOptimalPrecision:
    """Sun et al.'s cost-optimal precision for one budget: the continuous optimum and the best of `choices`.

    With `hardware` (a cost.Hardware), only the formats the chip has a dense path for are ranked, each at the
    published end-to-end speed-up over BF16 on that chip (cost 6 N D / speed-up) instead of Sun's 16/P; the others
    are listed as unavailable. `best` is the lowest-loss available format."""
    c = _law_constants("sun", constants_)
    conv = constants()["sun"]["conventions"]
    k = conv["cost_k"] if cost_k is None else float(_check(cost_k, "cost k", 1e3))
    cc = float(_check(flops, "flops", MAX_FLOPS))
    block = float(conv["default_block"] if block_size is None else _block(block_size))
    p = float(sun_optimal_bits(cc, block, k, constants_))
    e, m = continuous_layout(p, constants_)
    n, d, loss = _sun_best_params(cc, e, m, p, block, k, c)
    nearest = best_layout(int(round(p)))
    rows = []
    for name in choices:
        f = parse_format(name, block)
        speedup, cost_bits = 16.0 / f.bits, float(f.bits)
        if hardware is not None:
            from ..cluster.cost import precision_speedup

            path, why = hardware_path(f, hardware)
            if path is None:
                rows.append(PrecisionChoice(f, None, None, None, None, 1.0, False, why))
                continue
            speedup = precision_speedup(path, hardware)
            cost_bits = 16.0 / speedup  # k (16 / s) N D = 6 N D / s
        fn, fd, fl = _sun_best_params(cc, f.exponent_bits, f.mantissa_bits, cost_bits, block, k, c)
        rows.append(
            PrecisionChoice(
                f,
                fn,
                fd,
                fl,
                float(sun_critical_tokens(fn, f.exponent_bits, f.mantissa_bits, block, constants_)),
                speedup,
            )
        )
    ranked = [r for r in rows if r.available and r.loss is not None]
    best = min(ranked, key=lambda r: r.loss).format.name if ranked else ""  # type: ignore[arg-type, return-value]
    return CostOptimalPrecision(
        cc,
        block,
        k,
        p,
        float(e),
        float(m),
        f"E{nearest[0]}M{nearest[1]}",
        n,
        d,
        loss,
        tuple(rows),
        best,
        None if hardware is None else hardware.key,
    )


# ---------------------------------------------------------------------------------------------------------------
# Ouyang et al. 2024


def ouyang_qid(params, tokens, bits, constants_: dict | None = None, per_width: bool = False):
    """Eq. (8), Fig. 6: loss added by GPTQ weight-only quantization to P bits, k D^beta / (N^alpha P^gamma).
    N non-embedding, D training tokens of the checkpoint. The unified law is the default (printed, monotone in bits).
    per_width=True uses, at 3 and 4 bits, the per-width laws recovered from Table 1 (k D^beta / N^alpha;
    precision.yaml ouyang.per_width, not printed by the paper), with which the paper's own table was made."""
    c = _law_constants("ouyang", constants_)
    n, d, p = _params(params), _tokens(tokens), _bits(bits, low=1)
    unified = c["k"] * d ** c["beta"] / (n ** c["alpha"] * p ** c["gamma"])
    per = constants()["ouyang"]["per_width"] if per_width and constants_ is None else {}
    out = np.asarray(unified, float)
    for width, w in per.items():
        at = np.asarray(p) == float(width)
        if np.any(at):
            out = np.where(at, w["k"] * np.asarray(d, float) ** w["beta"] / np.asarray(n, float) ** w["alpha"], out)
    return _out(out)


def ouyang_loss_16bit(params, tokens):
    """Fig. 7 caption: the 16-bit Pythia loss [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D."""
    c = constants()["ouyang"]["loss_16bit"]["constants"]
    n, d = _params(params), _tokens(tokens)
    return _out(((c["N_c"] / n) ** (c["alpha_N"] / c["alpha_D"]) + c["D_c"] / d) ** c["alpha_D"])


def ouyang_tokens_for_qid(params, qid, bits, constants_: dict | None = None, per_width: bool = False):
    """Training tokens at which a model of N parameters reaches QiD = q at P bits: (q N^alpha P^gamma / k)^(1/beta)
    (per_width=True: Table 1's per-width laws at 3 and 4 bits, recovered from its cells, not printed)."""
    c = _law_constants("ouyang", constants_)
    n, q, p = _params(params), _check(qid, "qid", 100.0), _bits(bits, low=1)
    unified = (q * n ** c["alpha"] * p ** c["gamma"] / c["k"]) ** (1.0 / c["beta"])
    per = constants()["ouyang"]["per_width"] if per_width and constants_ is None else {}
    out = np.asarray(unified, float)
    for width, w in per.items():
        at = np.asarray(p) == float(width)
        if np.any(at):
            out = np.where(at, (np.asarray(q) * np.asarray(n, float) ** w["alpha"] / w["k"]) ** (1.0 / w["beta"]), out)
    return _out(out)


# ---------------------------------------------------------------------------------------------------------------
# Kumar et al. 2024


def _kumar_factor(c: dict, x: str, bits) -> np.ndarray:
    return 1.0 - np.exp(c[f"n_{x}"] - np.asarray(bits, float) / c[f"gamma_{x}"])


def kumar_effective_params(params, weight_bits, activation_bits=None, kv_bits=None, constants_: dict | None = None):
    """Eq. (4) with the inferred offsets: N_eff = N prod_x (1 - exp(n_x - P_x/gamma_x)) over weights, activations and
    KV cache (activation and KV bits default to the weight bits). Raises below the precision where a factor turns
    negative (activations: gamma_a n_a = 3.11 bits; the paper fitted 3 bits and up)."""
    c = _law_constants("kumar", constants_)
    n = _params(params)
    pw = _bits(weight_bits, "weight bits")
    pa = pw if activation_bits is None else _bits(activation_bits, "activation bits")
    pk = pw if kv_bits is None else _bits(kv_bits, "KV-cache bits")
    u = _kumar_factor(c, "w", pw) * _kumar_factor(c, "a", pa) * _kumar_factor(c, "kv", pk)
    if np.any(u <= 0):
        raise ScaleplanError(
            "Kumar et al.'s effective-parameter factor is not positive below about 3.2 bits "
            "(activations: gamma_a n_a = 3.11); use at least 4 bits"
        )
    return _out(n * u)


def kumar_param_multiplier(bits, constants_: dict | None = None):
    """N / N_eff when weights, activations and KV cache are all trained at `bits`: how many more parameters buy the
    same loss term (Kumar et al. Sec. 4.3.2: more than 4x at 4 bits)."""
    return _out(1.0 / np.asarray(kumar_effective_params(1.0, bits, constants_=constants_)))


def kumar_loss(
    params, tokens, weight_bits=16, activation_bits=None, kv_bits=None, post_bits=None, constants_: dict | None = None
):
    """Eq. (1)/(11): A N_eff^-alpha + B D^-beta + E (+ delta_PTQ of Eq. 2 when post_bits is given; BF16 training)."""
    c = _law_constants("kumar", constants_)
    neff = np.asarray(kumar_effective_params(params, weight_bits, activation_bits, kv_bits, constants_))
    d = _tokens(tokens)
    loss = c["A"] * neff ** -c["alpha"] + c["B"] * d ** -c["beta"] + c["E"]
    if post_bits is not None:
        loss = loss + np.asarray(kumar_ptq_delta(params, tokens, post_bits, constants_))
    return _out(loss)


def kumar_ptq_delta(params, tokens, post_bits, constants_: dict | None = None):
    """Eq. (2): loss added by post-training quantization to P_post bits of a BF16-trained model,
    C_T (D^gamma_D / N^gamma_N) exp(-P_post / gamma_post). Table 2's bias b (role not stated) is not applied."""
    c = _law_constants("kumar", constants_)
    n, d, p = _params(params), _tokens(tokens), _bits(post_bits, "post-training bits", low=1)
    return _out(c["C_T"] * d ** c["gamma_D"] / n ** c["gamma_N"] * np.exp(-p / c["gamma_post"]))


def kumar_critical_tokens(params, post_bits, constants_: dict | None = None):
    """Eq. (13), App. E.1: tokens beyond which more pre-training raises the loss after quantizing to P_post bits,
    (beta B N^gamma_N exp(P_post/gamma_post) / (gamma_D C_T))^(1/(gamma_D + beta))."""
    c = _law_constants("kumar", constants_)
    n, p = _params(params), _bits(post_bits, "post-training bits", low=1)
    return _out(
        (c["beta"] * c["B"] * n ** c["gamma_N"] * np.exp(p / c["gamma_post"]) / (c["gamma_D"] * c["C_T"]))
        ** (1.0 / (c["gamma_D"] + c["beta"]))
    )


def kumar_optimal_bits(constants_: dict | None = None) -> float:
    """Compute-optimal training precision (all of weights, activations, KV at P; cost (6/16) N D P, Eq. 5).

    Setting dL/dlnN = dL/dlnP = 0 at fixed cost gives sum_x (P/gamma_x) q_x / (1 - q_x) = 1 with
    q_x = exp(n_x - P/gamma_x), independent of A, B, alpha and the budget. Solved by bisection (the left side falls
    monotonically in P). The paper prints 'around 7-8 bits' (Finding 3); this gives 7.00 under the inferred offsets.
    """
    c = _law_constants("kumar", constants_)

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


# ---------------------------------------------------------------------------------------------------------------
# Published checks (the YAML's published_checks, evaluated)


def _quantity(name: str, inputs: dict):
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
    got = _quantity(check["quantity"], dict(check.get("inputs") or {}))
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


@dataclass(frozen=True)
class QuantizationReport:
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
    n, d = float(_params(params)), float(_tokens(tokens))
    widths = [float(b) for b in np.atleast_1d(_bits(list(bits), "bits", low=1))]
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

    def to_dict(self) -> dict:
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
    c = float(_check(flops if n is None or d is None else 6.0 * n * d, "flops", MAX_FLOPS))
    conv = constants()["sun"]["conventions"]
    block = float(conv["default_block"] if block_size is None else _block(block_size))
    derived = _DERIVED.set(True)  # the inputs are checked: what follows judges models derived from them
    try:
        return _precision_report(c, n, d, block, formats, serve_bits, choices, hardware)
    finally:
        _DERIVED.reset(derived)


def _precision_report(c, n, d, block, formats, serve_bits, choices, hardware=None) -> PrecisionReport:
    conv = constants()["sun"]["conventions"]
    opt = cost_optimal_precision(c, block, choices, hardware=hardware)
    warnings = []
    training = []
    for name in formats:
        f = parse_format(name, block)
        if n is None:
            fn, fd, _ = _sun_best_params(
                c, f.exponent_bits, f.mantissa_bits, f.bits, block, conv["cost_k"], _law_constants("sun", None)
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


# ---------------------------------------------------------------------------------------------------------------
# The penalty block of a plan (library only: the planning pipeline can show it next to a plan)


def ouyang_critical_tokens(params, bits) -> float:
    """Tokens at which Ouyang et al.'s quantized loss Loss_16bit + QiD (Fig. 7: both in the Pythia loss of the same
    paper) stops falling at fixed N: training longer, then quantizing to `bits`, makes the served model worse.
    Derived from the printed laws (Fig. 6, Fig. 7), not printed; found by a search in log D."""
    from .constrained import minimise_log

    n, p = float(_params(params)), float(_bits(bits, low=1))
    c = constants()["ouyang"]["loss_16bit"]["constants"]
    a = (c["N_c"] / n) ** (c["alpha_N"] / c["alpha_D"])

    q = constants()["ouyang"]["constants"]

    def loss(log_d):
        d = np.exp(log_d)
        return (a + c["D_c"] / d) ** c["alpha_D"] + q["k"] * d ** q["beta"] / (n ** q["alpha"] * p ** q["gamma"])

    x, _ = minimise_log(loss, [math.log(1e12)], span=30.0, points=601)
    return float(min(math.exp(x[0]), MAX_TOKENS))


@dataclass(frozen=True)
class PenaltyBlock:
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
    n, d = float(_params(params)), float(_tokens(tokens))
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
        b = float(_bits(serving_bits, "serving bits", low=1))
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
