"""Inference-aware allocation (Sardana, Portes, Doubov & Frankle 2024, arXiv:2401.00448).

A model that will serve T tokens should be smaller and trained longer than compute-optimal. For a target loss l:

    minimise  6 N D  +  w T f(N)      subject to  L(N, D) = l

with f(N) = 2N inference FLOPs per token (or 2N + 2 n_layer n_ctx d_model with attention, Kaplan et al. 2020
Table 1) and w = 1 when the objective is FLOPs. When it is dollars, training and serving are priced by their own
hardware, utilisation and price: w = (dollars per inference FLOP) / (dollars per training FLOP), with prefill and
decode at their own MFU (Sardana et al.'s cost formulation). The compute-optimal plan is the same problem with T = 0.

For the Chinchilla form with f(N) = 2N the optimum solves Sardana et al.'s stationarity equation in D,
    (beta B / alpha + B) D^-beta + (w T beta B / (3 alpha)) D^(-beta-1) + E - l = 0,
whose left side falls monotonically in D, so a bracketed bisection in log D finds it to machine precision; then N
follows from the loss (the parametric form's own maths, laws/forms.py). Other loss forms (Kaplan's) and the attention
term go through a bracketed golden-section
search over log N with D(N) from the loss. Both are vectorised over T (scaleplan/core/solvers.py).

A law whose published compute-optimal frontier is not the minimum of its own loss surface (Kaplan et al. 2020: Table
6's N_opt against eq. 1.5's L(N, D); `Law.frontier_is_loss_minimum`) keeps its frontier as the compute-optimal
column, as every other command answers: the frontier model at the budget (or the one reaching the target loss), its
loss the surface's loss at that (N, D). The inference-aware model is the cheapest on the surface reaching that loss,
and the plan says how much of the saving the surface gives with nothing served (`frontier_vs_surface`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import laws
from ..cluster.cost import DEFAULT_MFU, Hardware, get_hardware, with_given_price
from ..core import solvers
from ..core.errors import ScaleplanError
from ..core.values import Rendered, Values, check_positive, pick, plain
from ..schema import conventions, limits
from ..schema.units import fmt_count, fmt_dollars, fmt_sci

# Sardana et al.'s repository defaults (cost_optimal.py): prefill MFU 0.5, decode MFU 0.01 (decoding is memory-
# bound), 70 prompt and 215 generated tokens per request.
DEFAULT_PREFILL_MFU = 0.5
DEFAULT_DECODE_MFU = 0.01
DEFAULT_PROMPT_SHARE = 70 / (70 + 215)
# INT8 and FP8 tensor throughput is twice BF16 on A100, H100, H200, B200 and MI300X data sheets.
BITS_SPEEDUP = {16: 1.0, 8: 2.0}
BREAK_EVEN_SAVING = 0.01


@dataclass(frozen=True)
class ServingCosts:
    """Hardware, utilisation and price for training and for serving."""

    train_hardware: Hardware
    train_mfu: float
    train_price: float
    inference_hardware: Hardware
    inference_price: float
    prefill_mfu: float = DEFAULT_PREFILL_MFU
    decode_mfu: float = DEFAULT_DECODE_MFU
    prompt_share: float = DEFAULT_PROMPT_SHARE
    inference_bits: int = 16
    train_precision: str = "bf16"
    serving_model: str = "roofline"  # or "fixed-mfu": Sardana et al.'s 2N per token at fixed prefill/decode MFU
    roofline: tuple[tuple[str, Any], ...] = ()  # scaleplan.cluster.serving settings (serve_bits, kv_bits, latency, ...)

    @property
    def dollars_per_training_flop(self) -> float:
        return self.train_price / (3600.0 * self.train_hardware.peak(self.train_precision) * self.train_mfu)

    @property
    def inference_peak(self) -> float:
        return serving_peak(self.inference_hardware, self.inference_bits)

    def dollars_per_prefill_flop(self) -> float:
        return self.inference_price / (3600.0 * self.inference_peak * self.prefill_mfu)

    def dollars_per_decode_flop(self) -> float:
        return self.inference_price / (3600.0 * self.inference_peak * self.decode_mfu)

    @property
    def dollars_per_inference_flop(self) -> float:
        """Prompt and generated tokens blended by their share."""
        return (
            self.prompt_share * self.dollars_per_prefill_flop()
            + (1.0 - self.prompt_share) * self.dollars_per_decode_flop()
        )

    @property
    def inference_weight(self) -> float:
        """Dollars per inference FLOP in units of a training FLOP's: the weight of T in the cost objective."""
        return self.dollars_per_inference_flop / self.dollars_per_training_flop

    @property
    def fixed_mfu(self) -> bool:
        return self.serving_model == "fixed-mfu"

    @functools.cached_property
    def pricer(self) -> RooflinePricer:
        """The roofline's $ per token against model size (designed shapes), for these settings."""
        return _pricer(self.inference_hardware, self.inference_price, self.roofline)

    def dollars_per_token(self, params_total, stored=None):
        """Dollars per served token (prompt + output) of a model with `params_total` parameters (vectorised): the
        roofline at the recipe's designed shape for that size, or Sardana et al.'s 2N at fixed MFU.

        A mixture of experts (`stored` > `params_total`, which are then its active parameters; one model): the
        roofline at the active size's designed shape (its layers, width and heads) holding `stored` parameters, so
        FLOPs come from the active and weight bytes from the stored ones."""
        n = np.asarray(params_total, float)
        if self.fixed_mfu:
            return 2.0 * n * self.dollars_per_inference_flop
        if stored is not None and float(stored) > float(n) * (1 + 1e-9):
            from dataclasses import replace as _replace

            from ..cluster import serving
            from ..recipe import design as recipe

            dense = serving.ServedModel.from_shape(recipe.design_shape(float(n)))
            served = self.serve(_replace(dense, params=float(stored), active_params=float(n)))
            if not served.fits or served.dollars_per_million is None:
                raise ScaleplanError(f"the mixture of experts cannot be served on {served.hardware}: {served.notes}")
            return served.dollars_per_million / 1e6
        return self.pricer.dollars_per_token(n)

    def serve(self, model):
        """The serving roofline's full answer (scaleplan.cluster.serving.Serving) for one model at these settings."""
        from ..cluster import serving

        opts = dict(self.roofline)
        hw = self.inference_hardware
        return serving.serve(
            model,
            serving.device(hw, price=None if self.inference_price == hw.price_per_hour else self.inference_price),
            serve_bits=opts.get("serve_bits"),
            kv_bits=opts.get("kv_bits"),
            precision=opts.get("serve_precision"),
            prompt_tokens=opts.get("prompt_tokens"),
            output_tokens=opts.get("output_tokens"),
            latency=opts.get("latency"),
            tp=opts.get("serve_tp"),
            bandwidth_fraction=opts.get("bandwidth_fraction"),
            prefill_mfu=opts.get("prefill_mfu"),
            memory_fraction=opts.get("memory_fraction"),
            batch_cap=opts.get("batch_cap"),
        )

    def prefill_fraction(self, params_total):
        """The share of serving dollars spent in prefill (vectorised)."""
        if self.fixed_mfu:
            p = self.prompt_share * self.dollars_per_prefill_flop()
            return np.full(np.shape(params_total), p / self.dollars_per_inference_flop)
        return self.pricer.prefill_fraction(np.asarray(params_total, float))

    def to_dict(self) -> dict:
        out = {
            "hardware": self.train_hardware.key,
            "mfu": self.train_mfu,
            "price": self.train_price,
            "inference_hardware": self.inference_hardware.key,
            "inference_price": self.inference_price,
            "serving_model": self.serving_model,
            "prefill_mfu": self.prefill_mfu,
        }
        if self.fixed_mfu:
            out.update(inference_bits=self.inference_bits, decode_mfu=self.decode_mfu, prompt_share=self.prompt_share)
        else:
            out.update(self.pricer.assumptions())
        return out


@dataclass(frozen=True)
class RooflinePricer:
    """$ per token against total parameters: the serving roofline (scaleplan.cluster.serving) evaluated at the recipe's
    designed shape for sizes on a log grid (8 per decade, 1e6-1e16 parameters), interpolated in log-log between them
    (so a search over sizes calls no shape design)."""

    log_params: np.ndarray
    log_dollars: np.ndarray
    prefill_share: np.ndarray
    settings: dict

    def dollars_per_token(self, n):
        """Interpolated in log-log; beyond the grid, proportional to size (an extrapolation no plan reaches)."""
        x = np.log(np.clip(np.asarray(n, float), 1.0, None))
        lo, hi = self.log_params[0], self.log_params[-1]
        y = np.interp(x, self.log_params, self.log_dollars)
        y = y + np.minimum(x - lo, 0.0) + np.maximum(x - hi, 0.0)
        return np.exp(y)

    def prefill_fraction(self, n):
        x = np.log(np.clip(np.asarray(n, float), 1.0, None))
        return np.interp(x, self.log_params, self.prefill_share)

    def assumptions(self) -> dict:
        return dict(self.settings)


ROOFLINE_GRID = (1e6, 1e16, 81)


@functools.cache
def _pricer(hw: Hardware, price: float, settings: tuple[tuple[str, Any], ...]) -> RooflinePricer:
    from ..cluster import serving
    from ..recipe import design as recipe

    opts = dict(settings)
    dev = serving.device(hw, price=None if price == hw.price_per_hour else price)
    wl = serving.workload(
        serve_bits=opts.get("serve_bits"),
        kv_bits=opts.get("kv_bits"),
        precision=opts.get("serve_precision"),
        prompt_tokens=opts.get("prompt_tokens"),
        output_tokens=opts.get("output_tokens"),
        latency=opts.get("latency"),
    )
    eff = serving.efficiency(
        bandwidth_fraction=opts.get("bandwidth_fraction"),
        prefill_mfu=opts.get("prefill_mfu"),
        memory_fraction=opts.get("memory_fraction"),
        batch_cap=opts.get("batch_cap"),
    )
    grid = np.geomspace(*ROOFLINE_GRID[:2], int(ROOFLINE_GRID[2]))
    models = [serving.ServedModel.from_shape(recipe.design_shape(float(n))) for n in grid]
    out = serving.roofline(models, dev, wl, eff, tp=opts.get("serve_tp"))
    sizes = np.array([m.params for m in models])
    rate = np.where(out["fits"], out["tokens_per_s_per_gpu"], np.nan)
    per_token = price / (3600.0 * rate)
    o_len = float(wl.output_tokens)
    per_request = out["prefill_s"] + o_len * out["decode_step_s"] / out["batch"]
    ok = np.isfinite(per_token)
    if not ok.any():
        raise ScaleplanError(f"no model from 1e6 to 1e16 parameters can be served on {hw.key} with these settings")
    described = {
        "serve_bits": wl.weight_bits,
        "kv_bits": wl.kv_bits,
        "serve_precision": opts.get("serve_precision") or "as the weights, where the chip has it",
        "prompt_tokens": wl.prompt_tokens,
        "output_tokens": wl.output_tokens,
        "serve_tp": opts.get("serve_tp") or "cheapest power of two up to 8",
        "latency": wl.latency,
        "bandwidth_fraction": eff.bandwidth_fraction,
        "memory_fraction": eff.memory_fraction,
        "batch_cap": eff.batch_cap,
    }
    return RooflinePricer(np.log(sizes[ok]), np.log(per_token[ok]), (out["prefill_s"] / per_request)[ok], described)


def serving_peak(hw: Hardware, bits: int) -> float:
    """Dense serving compute peak: 16-bit is the BF16 peak; 8-bit is the chip's FP8 path, or its INT8 path where it
    has no FP8 (an A100's INT8 doubles its BF16), from the hardware presets; without either, twice BF16 (Sardana et
    al. 2024's assumption)."""
    if bits == 16:
        return hw.peak_flops
    return float(hw.fp8_flops or hw.int8_flops or BITS_SPEEDUP[bits] * hw.peak_flops)


def serving_costs(
    hardware=None,
    mfu=None,
    price=None,
    inference_hardware=None,
    inference_price=None,
    prefill_mfu=None,
    decode_mfu=None,
    prompt_share=None,
    inference_bits=None,
    peak_flops=None,
    precision: str = "bf16",
    hardware_file=None,
    *,
    serving_model=None,
    serve_bits=None,
    kv_bits=None,
    serve_precision=None,
    prompt_tokens=None,
    output_tokens=None,
    serve_tp=None,
    latency=None,
    bandwidth_fraction=None,
    memory_fraction=None,
    batch_cap=None,
) -> ServingCosts:
    """Fill in defaults: serving on the training hardware at its price, priced by the serving roofline
    (cluster.serving: `serve_bits`, `kv_bits`, `serve_precision`, `prompt_tokens`, `output_tokens`, `serve_tp`,
    `latency`, `bandwidth_fraction`, `memory_fraction`, `batch_cap`, `prefill_mfu`), or with
    ``serving_model="fixed-mfu"`` as Sardana et al. 2024 price it (2N per token at `prefill_mfu` and `decode_mfu`,
    `prompt_share` of the tokens in prefill, `inference_bits` 16 or 8). `hardware` is a preset name or a resolved
    Hardware; `hardware_file` adds or overrides presets for both chips."""
    model = "roofline" if serving_model is None else str(serving_model).strip().lower()
    if model not in SERVING_MODELS:
        raise ScaleplanError(f"<serving_model> must be roofline or fixed-mfu, got {serving_model!r}")
    _check_serving_args(
        hardware=hardware,
        inference_hardware=inference_hardware,
        mfu=mfu,
        price=price,
        inference_price=inference_price,
        prefill_mfu=prefill_mfu,
        decode_mfu=decode_mfu,
        prompt_share=prompt_share,
        inference_bits=inference_bits,
        peak_flops=peak_flops,
    )
    train_hw, train_price, infer_hw, inference_price = _serving_chips(
        hardware, price, inference_hardware, inference_price, peak_flops, hardware_file
    )
    train_hw.peak(precision)  # a clear error where the training chip has no such path
    bits = _check_fractions(inference_bits, prefill_mfu, decode_mfu, mfu, prompt_share)
    sardana = {"decode_mfu": decode_mfu, "prompt_share": prompt_share, "inference_bits": inference_bits}
    roof = {
        "serve_bits": serve_bits,
        "kv_bits": kv_bits,
        "serve_precision": serve_precision,
        "prompt_tokens": prompt_tokens,
        "output_tokens": output_tokens,
        "serve_tp": serve_tp,
        "latency": latency,
        "bandwidth_fraction": bandwidth_fraction,
        "memory_fraction": memory_fraction,
        "batch_cap": batch_cap,
    }
    settings = _model_settings(model, sardana, roof, prefill_mfu, infer_hw)
    return ServingCosts(
        train_hw,
        DEFAULT_MFU if mfu is None else mfu,
        train_price,
        infer_hw,
        inference_price,
        DEFAULT_PREFILL_MFU if prefill_mfu is None else prefill_mfu,
        DEFAULT_DECODE_MFU if decode_mfu is None else decode_mfu,
        DEFAULT_PROMPT_SHARE if prompt_share is None else prompt_share,
        bits,
        precision,
        model,
        tuple(sorted(settings.items())),
    )


SERVING_MODELS = ("roofline", "fixed-mfu")


def _check_fractions(inference_bits, prefill_mfu, decode_mfu, mfu, prompt_share) -> int:
    """The serving bits (16 or 8) and the utilisations and prompt share within their ranges."""
    bits = 16 if inference_bits is None else int(inference_bits)
    if bits not in BITS_SPEEDUP:
        raise ScaleplanError(f"<inference_bits> must be 16 or 8, got {inference_bits!r}")
    for name, value in (("<prefill_mfu>", prefill_mfu), ("<decode_mfu>", decode_mfu), ("<mfu>", mfu)):
        if value is not None and not 0 < value <= 1:
            raise ScaleplanError(f"{name} must be in (0, 1], got {value!r}")
    if prompt_share is not None and not 0 <= prompt_share <= 1:
        raise ScaleplanError(f"<prompt_share> must be in [0, 1], got {prompt_share!r}")
    return bits


def _serving_chips(hardware, price, inference_hardware, inference_price, peak_flops, hardware_file):
    """(training chip, its price, serving chip, its price): serving on the training chip at its price unless
    another is named; a chip without a published price needs one given."""
    train_hw = with_given_price(get_hardware(hardware, peak_flops, hardware_file=hardware_file), price)
    infer_hw = get_hardware(inference_hardware, hardware_file=hardware_file) if inference_hardware else train_hw
    if inference_hardware:
        infer_hw = with_given_price(infer_hw, inference_price)
    train_price = price if price is not None else train_hw.price_per_hour
    if inference_price is None:
        inference_price = train_price if inference_hardware is None else infer_hw.price_per_hour
    for flag, hw_, value in (("<price>", train_hw, train_price), ("<inference_price>", infer_hw, inference_price)):
        if value is None:
            raise ScaleplanError(f"pricing serving against training needs {flag}: no published price for {hw_.key}")
        if not value > 0:
            raise ScaleplanError(f"{flag} must be positive, got {value!r}")
    assert train_price is not None and inference_price is not None  # refused above
    return train_hw, float(train_price), infer_hw, float(inference_price)


def _model_settings(model: str, sardana: dict, roof: dict, prefill_mfu, infer_hw: Hardware) -> dict:
    """The serving model's own settings, checked: the roofline's (refusing Sardana et al.'s fixed-MFU ones), or
    none for fixed-MFU pricing (refusing the roofline's)."""
    if model != "roofline":
        given = [f"<{k}>" for k, v in roof.items() if v is not None and k != "serve_bits"]
        if given:
            raise ScaleplanError(f"{', '.join(given)} set the serving roofline, not <serving_model> fixed-mfu")
        return {}
    given = [f"<{k}>" for k, v in sardana.items() if v is not None]
    if given:
        raise ScaleplanError(
            f"{', '.join(given)} set Sardana et al.'s fixed-MFU pricing: give <serving_model> fixed-mfu with "
            "it (the default, the serving roofline, takes <serve_bits>, <kv_bits>, <prompt_tokens>, ...)"
        )
    settings = {k: v for k, v in roof.items() if v is not None}
    if prefill_mfu is not None:
        settings["prefill_mfu"] = prefill_mfu
    _check_roofline(infer_hw, settings)
    return settings


def _check_roofline(hw: Hardware, settings: dict) -> None:
    """The roofline's settings, checked now (the pricing table is built on first use)."""
    from ..cluster import serving

    dev = serving.device(hw)
    wl = serving.workload(
        serve_bits=settings.get("serve_bits"),
        kv_bits=settings.get("kv_bits"),
        precision=settings.get("serve_precision"),
        prompt_tokens=settings.get("prompt_tokens"),
        output_tokens=settings.get("output_tokens"),
        latency=settings.get("latency"),
    )
    serving.compute_format(dev, wl.weight_bits, wl.precision)
    serving.efficiency(
        bandwidth_fraction=settings.get("bandwidth_fraction"),
        prefill_mfu=settings.get("prefill_mfu"),
        memory_fraction=settings.get("memory_fraction"),
        batch_cap=settings.get("batch_cap"),
    )
    tp = settings.get("serve_tp")
    if tp is not None and (serving._whole("serve_tp", tp, 1, serving.MAX_DEGREE) & (int(tp) - 1)):
        raise ScaleplanError(f"<serve_tp> must be a power of two, got {tp}")


def _number(name: str, value) -> float:
    """A finite real number passed by a library caller, or a ScaleplanError naming the argument."""
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float, np.number)):
        hint = " (parse text with scaleplan.schema.units.parse_quantity)" if isinstance(value, str) else ""
        raise ScaleplanError(f"<{name}> must be a number, got {value!r}{hint}")
    if not math.isfinite(float(value)):
        raise ScaleplanError(f"<{name}> must be finite, got {value!r}")
    return float(value)


def _check_serving_args(**args) -> None:
    """serving_costs' arguments by type: preset names are text, the rest numbers (their ranges are checked after)."""
    for name in ("hardware", "inference_hardware"):
        value = args[name]
        if value is not None and not (isinstance(value, Hardware) or (isinstance(value, str) and value.strip())):
            raise ScaleplanError(f"<{name}> must be a hardware preset name such as 'h100', got {value!r}")
    for name in ("mfu", "price", "inference_price", "prefill_mfu", "decode_mfu", "prompt_share", "peak_flops"):
        if args[name] is not None:
            _number(name, args[name])
    if args["peak_flops"] is not None and not args["peak_flops"] > 0:
        raise ScaleplanError(f"<peak_flops> must be positive, got {args['peak_flops']!r}")
    bits = args["inference_bits"]
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, (int, float, np.number))):
        raise ScaleplanError(f"<inference_bits> must be 16 or 8, got {bits!r}")


# ---------------------------------------------------------------------------------------------------------------
# The loss constraint and the solvers


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
        return 2.0 * total
    d_model = conventions.d_model_for(non_emb)
    return 2.0 * total + 2.0 * (d_model / conventions.ASPECT_RATIO) * context * d_model


def _golden_optimum(law: laws.Law, loss: float, weighted_tokens, context: float | None, per_token=None):
    """Minimise 6 N D(N) + T f(N) over log N by golden-section search (vectorised over T); f is `per_token` (a
    serving cost per token in training FLOPs) where given, else the inference FLOPs per token."""
    t = np.asarray(weighted_tokens, float)
    log_n_min = np.log(law.smallest_params_for_loss(loss))
    f = per_token or (lambda n: _inference_flops_per_token(law, n, context))

    def cost(log_n):
        n = np.exp(log_n)
        return 6.0 * n * law.tokens_for_loss(n, loss) + t * f(n)

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
    train = 6.0 * n * d
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
        train / (costs.train_hardware.peak(costs.train_precision) * costs.train_mfu * 3600),
    )


@dataclass(frozen=True, repr=False)
class InferencePlan(Rendered):
    law: str
    loss: float
    inference_tokens: Any  # a float, or an array of demands (a sweep)
    objective: str
    compute_optimal: Side
    inference_aware: Side
    costs: ServingCosts
    citation: str
    context: float | None = None
    flops: float | None = None
    break_even_tokens: float | None = None
    warnings: tuple[str, ...] = field(default=())
    frontier: dict | None = None  # for a frontier law (Kaplan): its frontier against its loss surface's minimum
    flop_optimal: dict | None = None  # objective 'cost': the FLOP objective's model, and why the two differ
    law_spec: Any = field(default=None, repr=False, compare=False)  # the Law itself (a law file's, not a name)

    def law_object(self) -> laws.Law:
        """The law the plan was sized with (a law file's own constants, not a bundled law of the same name)."""
        return self.law_spec if self.law_spec is not None else laws.get(self.law)

    @property
    def objective_note(self) -> str | None:
        return None if self.flop_optimal is None else self.flop_optimal.get("note")

    @property
    def flops_saving(self):
        return 1.0 - np.asarray(self.inference_aware.total_flops) / self.compute_optimal.total_flops

    @property
    def dollars_saving(self):
        return 1.0 - np.asarray(self.inference_aware.total_dollars) / self.compute_optimal.total_dollars

    def __iter__(self):
        """One plan per inference demand (a single-demand plan yields itself)."""
        if np.ndim(self.inference_tokens) == 0:
            yield self
            return
        for i in range(np.size(self.inference_tokens)):
            yield replace(
                self,
                inference_tokens=float(self.inference_tokens[i]),
                compute_optimal=self.compute_optimal.at(i),
                inference_aware=self.inference_aware.at(i),
            )

    def to_dict(self) -> dict:
        return (
            {
                "law": self.law,
                "loss": self.loss,
                "flops_budget": self.flops,
                "inference_tokens": plain(self.inference_tokens),
                "objective": self.objective,
                "inference_flops_per_token": "2N" if not self.context else f"2N + 2 n_layer {self.context:g} d_model",
                "compute_optimal": self.compute_optimal.to_dict(),
                "inference_aware": self.inference_aware.to_dict(),
                "flops_saving": plain(self.flops_saving),
                "dollars_saving": plain(self.dollars_saving),
                "break_even_tokens": self.break_even_tokens,
                "assumptions": self.costs.to_dict(),
                "warnings": list(self.warnings),
                "citation": self.citation,
            }
            | ({"frontier_vs_surface": self.frontier} if self.frontier is not None else {})
            | ({"flop_optimal": self.flop_optimal} if self.flop_optimal is not None else {})
        )


SARDANA = "Sardana et al. 2024, arXiv:2401.00448"


def _check_demand(inference_tokens) -> np.ndarray:
    """Tokens to serve (a number or an array): numbers, zero or more, finite, at most limits.MAX_TOKENS."""
    if isinstance(inference_tokens, (str, bytes, bool)) or inference_tokens is None:
        hint = " (parse text with scaleplan.schema.units.parse_quantity)" if isinstance(inference_tokens, str) else ""
        raise ScaleplanError(
            f"<inference_tokens> must be a number or an array of numbers, got {inference_tokens!r}{hint}"
        )
    try:
        tokens = np.asarray(inference_tokens, float)
    except (TypeError, ValueError):
        raise ScaleplanError(
            f"<inference_tokens> must be a number or an array of numbers, got {inference_tokens!r}"
        ) from None
    if tokens.size == 0 or not np.all(np.isfinite(tokens)) or np.any(tokens < 0):
        raise ScaleplanError(
            f"<inference_tokens> must be zero or positive and finite, got {tokens.ravel()[:3].tolist()}"
        )
    limits.check_inference_tokens(tokens)
    return tokens


# Where a frontier law's model for a target loss is searched for (FLOPs): far beyond any plan at both ends.
FRONTIER_SEARCH = (1e-10, 1e45)


def inference_aware(
    inference_tokens,
    *,
    flops: float | None = None,
    target_loss: float | None = None,
    law: str | laws.Law = laws.DEFAULT_LAW,
    objective: str = "flops",
    context: float | None = None,
    costs: ServingCosts | None = None,
    break_even: bool = True,
) -> InferencePlan:
    """Compute-optimal vs inference-aware model for a quality (a FLOP budget's optimal loss, or a target loss).

    `inference_tokens` may be an array (a sweep over demand); the solvers are vectorised over it.

    >>> plan = inference_aware(2e12, target_loss=1.947, law="chinchilla-sardana")
    >>> round(plan.inference_aware.params / 1e9, 2), round(float(plan.flops_saving) * 100, 2)
    (24.18, 4.78)
    """
    law = laws.get(law)
    tokens, costs = _checked_request(inference_tokens, flops, target_loss, objective, context, costs)
    target_loss, front, warnings = _quality(law, flops, target_loss)
    weight, per_token = sizing(law, objective, costs)
    n_base, d_base, front = _baseline(law, target_loss, tokens, context, front, sized_by_budget=flops is not None)
    n_opt, d_opt = optimum_for_loss(law, target_loss, tokens * weight, context, per_token)
    base = costed_side(law, n_base, d_base, tokens, costs, context)
    best = costed_side(law, n_opt, d_opt, tokens, costs, context)
    warnings += _size_warnings(law, n_opt, d_opt, sized_by_budget=flops is not None)
    frontier = None
    baseline = None
    if not law.frontier_is_loss_minimum:  # a frontier law (Kaplan): its optimum is not its loss surface's minimum
        baseline = (float(front[0]), float(front[1]))
        frontier = _frontier_vs_surface(law, *baseline, target_loss, objective, costs, context, break_even)
        warnings.append(frontier["note"])
    flop_optimal = None
    if objective == "cost":
        n_f, d_f = optimum_for_loss(law, target_loss, tokens, context)
        flop_optimal = _versus_flop_optimal(law, costs, tokens, n_opt, d_opt, n_f, d_f)
    plan = InferencePlan(
        law.name,
        float(target_loss),
        _scalar(tokens),
        objective,
        _squeeze(base),
        _squeeze(best),
        costs,
        f"{SARDANA} (method); {law.cite} (law)",
        context,
        flops,
        None,
        tuple(warnings),
        frontier,
        flop_optimal,
        law_spec=law,
    )
    if break_even:
        plan = replace(
            plan, break_even_tokens=break_even_tokens(law, target_loss, objective, costs, context, baseline=baseline)
        )
    return plan


def _checked_request(inference_tokens, flops, target_loss, objective, context, costs):
    """inference_aware's arguments checked: (the demand as an array, the serving costs)."""
    if costs is not None and not isinstance(costs, ServingCosts):
        raise ScaleplanError(f"<costs> must be a ServingCosts from scaleplan.serving_costs(...), got {costs!r}")
    tokens = _check_demand(inference_tokens)
    if context is not None:
        c = _number("context", context)
        if not (c == math.floor(c) and 1 <= c <= limits.MAX_CONTEXT):
            raise ScaleplanError(f"<context> must be a whole number from 1 to {limits.MAX_CONTEXT:,}, got {context!r}")
    if target_loss is not None:
        _number("target_loss", target_loss)
        if not np.isfinite(target_loss):
            raise ScaleplanError(f"<target_loss> must be finite, got {target_loss!r}")
    if objective not in ("flops", "cost"):
        raise ScaleplanError(f"<objective> must be 'flops' or 'cost', got {objective!r}")
    if (flops is None) == (target_loss is None):
        raise ScaleplanError(
            "give the quality one way: <flops> (the loss its compute-optimal model reaches) or <target_loss>"
        )
    if flops is not None:
        check_positive(flops, "<flops>")
    return tokens, costs or serving_costs()


def _quality(law: laws.Law, flops, target_loss):
    """(the target loss, the frontier model (N, D) or None, warnings): a budget's quality is the loss of the law's
    compute-optimal model at C, its published frontier (for Kaplan, Table 6, which is not the minimum of its own
    L(N, D)), the answer `allocate` gives."""
    if flops is None:
        return float(target_loss), None, []
    tokens_for_loss(law, 1.0, 1.0)  # the clear error for laws without a loss, before anything else
    n_front, d_front = law.optimum(flops)
    return float(law.loss(n_front, d_front)), (n_front, d_front), list(law.range_warnings(flops))


def _baseline(law: laws.Law, target_loss: float, tokens, context, front, *, sized_by_budget: bool):
    """(N, D) of the compute-optimal model reaching the loss (one per demand), and the frontier model; a quality
    no plannable budget reaches, or one no model of a parameter or more misses, is refused."""
    with np.errstate(all="ignore"):  # absurd targets are judged below, not left to numpy's warnings
        n_base, d_base = optimum_for_loss(law, target_loss, np.zeros_like(tokens), context)
        if not law.frontier_is_loss_minimum:  # the compute-optimal model is on the frontier, not the surface
            front = front if front is not None else _frontier_for_loss(law, target_loss)
            n_base = np.full(tokens.shape, float(front[0]))
            d_base = np.full(tokens.shape, float(front[1]))
    if not sized_by_budget:  # a quality only a budget beyond any plan reaches is refused, as `allocate` refuses it
        base_flops = float(np.max(6.0 * np.asarray(n_base, float) * np.asarray(d_base, float)))
        if not base_flops <= limits.MAX_FLOPS:
            n_top, d_top = law.optimum(limits.MAX_FLOPS)
            raise ScaleplanError(
                f"<target_loss> {target_loss:g} needs a compute-optimal budget of {fmt_sci(base_flops)} FLOPs, beyond "
                f"any plan (more than {fmt_sci(limits.MAX_FLOPS)}): the lowest plannable loss under {law.name} is "
                f"{math.ceil(float(law.loss(n_top, d_top)) * 1e4) / 1e4:g}"
            )
    if not np.all(np.isfinite(n_base) & (np.asarray(n_base) >= 1.0)):
        n_small, d_small = law.optimum(law.min_flops())
        raise ScaleplanError(
            f"target loss {target_loss:g} is above the loss of any model under {law.name}: a compute-optimal model "
            f"reaching it would have less than one parameter (the smallest model scaleplan plans reaches "
            f"{float(law.loss(n_small, d_small)):.4g})"
        )
    return n_base, d_base, front


def _size_warnings(law: laws.Law, n_opt, d_opt, *, sized_by_budget: bool) -> list[str]:
    """A recommended model smaller than any scaleplan plans, or trained beyond what Sardana et al. validated."""
    warnings = []
    smallest = float(np.min(conventions.split_params(law, np.atleast_1d(np.asarray(n_opt, float)))[0]))
    if smallest < limits.MIN_PARAMS:
        warnings.append(
            f"the inference-aware model has {fmt_count(smallest)} parameters, below the smallest model scaleplan "
            f"plans ({fmt_count(limits.MIN_PARAMS)}) and far below anything published: "
            + (
                "the budget is tiny for this demand"
                if sized_by_budget
                else "the target loss is higher than such tiny models already reach"
            )
            + "; treat the numbers as an extrapolation"
        )
    if np.any(np.asarray(d_opt) / n_opt > 10_000):
        warnings.append(f"more than 10,000 tokens per parameter: beyond what {SARDANA} validated (up to 10,000)")
    return warnings


def _versus_flop_optimal(law, costs: ServingCosts, tokens, n_c, d_c, n_f, d_f) -> dict:
    """How the cost-optimal model differs from the FLOP-optimal one (both at the same loss), and why: what a served
    token costs, in training FLOPs, against the 2N the FLOP objective charges (vectorised over demand; the note for
    one demand)."""
    total_c = conventions.split_params(law, np.asarray(n_c, float))[0]
    per_token = costs.dollars_per_token(total_c)
    in_flops = per_token / costs.dollars_per_training_flop  # a served token's price in training FLOPs
    ratio = np.asarray(n_c, float) / np.asarray(n_f, float)
    out: dict[str, Any] = {
        "params": plain(_scalar(n_f)),
        "tokens": plain(_scalar(d_f)),
        "params_ratio": plain(_scalar(ratio)),
        "serving_dollars_per_million": plain(_scalar(per_token * 1e6)),
        "serving_token_in_training_flops_per_param": plain(_scalar(in_flops / total_c)),
    }
    if np.ndim(tokens) == 0 or np.size(tokens) == 1:
        r, k = float(np.ravel(ratio)[0]), float(np.ravel(in_flops / total_c)[0])
        model = "the serving roofline" if not costs.fixed_mfu else "fixed MFU"
        side = "smaller" if r < 1 else "larger"
        why = (
            "serving costs more than the 2N training FLOPs the FLOP objective charges, so a smaller model "
            "trained longer pays"
            if k > 2
            else "serving costs less than the 2N training FLOPs the FLOP objective charges, so the saving in "
            "serving buys less than the extra training costs"
        )
        out["note"] = (
            f"Cost-optimal {fmt_count(float(np.ravel(n_c)[0]))} parameters on {fmt_count(float(np.ravel(d_c)[0]))} "
            f"tokens vs FLOP-optimal {fmt_count(float(np.ravel(n_f)[0]))} on {fmt_count(float(np.ravel(d_f)[0]))} "
            f"({abs(r - 1):.1%} {side}): by {model} a served token costs "
            f"${float(np.ravel(per_token)[0]) * 1e6:.3g} per million on {costs.inference_hardware.key}, the price "
            f"of {k:.2g}N training FLOPs; {why}."
        )
    return out


@dataclass(frozen=True)
class TotalBudget:
    """The lowest-loss model whose training plus serving cost is within a total budget, and the split."""

    total_dollars: float
    inference_tokens: float
    params: float  # in the law's convention
    tokens: float
    loss: float
    training_dollars: float
    serving_dollars: float

    def to_dict(self) -> dict:
        return {k: plain(v) for k, v in self.__dict__.items()}


def within_total(law, total_dollars: float, inference_tokens: float, costs: ServingCosts) -> TotalBudget:
    """Training and serving `inference_tokens` within `total_dollars`: over model sizes N, the tokens the rest of the
    money trains, D(N) = (B - T·p(N)) / (6N · $ per training FLOP), and the N whose L(N, D(N)) is lowest (a grid,
    then a golden-section search between the grid's neighbours; serving priced as `costs` price it)."""
    law = laws.get(law)
    tokens_for_loss(law, 1.0, 1.0)  # the clear error for a law without a loss
    b, t = float(total_dollars), float(inference_tokens)
    per_flop = costs.dollars_per_training_flop

    def split(n):
        serve = t * costs.dollars_per_token(conventions.split_params(law, n)[0])
        d = (b - serve) / (6.0 * n * per_flop)
        return d, serve

    def loss_at(log_n):
        n = np.exp(log_n)
        d, _ = split(n)
        with np.errstate(all="ignore"):
            out = np.where(d >= n, law.loss(n, np.maximum(d, 1.0)), np.inf)  # at least a token per parameter
        return np.where(np.isfinite(out), out, np.inf)

    grid = np.linspace(np.log(limits.MIN_PARAMS), np.log(1e15), 400)
    values = loss_at(grid)
    i = int(np.argmin(values))
    if not np.isfinite(values[i]):
        smallest = float(t * costs.dollars_per_token(conventions.split_params(law, np.array(limits.MIN_PARAMS))[0]))
        raise ScaleplanError(
            f"<total_dollars> {fmt_dollars(b)} does not pay for training any model and serving "
            f"{fmt_sci(t)} tokens (serving them costs {fmt_dollars(smallest)} even for a "
            f"{fmt_count(limits.MIN_PARAMS)}-parameter model); give more money or fewer tokens"
        )
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    best = solvers.golden_section(loss_at, np.array([lo]), np.array([hi]), iterations=100, xtol=1e-10)
    n = float(np.exp(best[0]))
    if not loss_at(np.array([np.log(n)]))[0] <= values[i]:
        n = float(np.exp(grid[i]))
    d, serve = split(np.array([n]))
    return TotalBudget(b, t, n, float(d[0]), float(law.loss(n, float(d[0]))), b - float(serve[0]), float(serve[0]))


def _frontier_for_loss(law: laws.Law, loss: float) -> tuple[float, float]:
    """(N, D) of the law's frontier model whose loss is `loss`: a bisection in log C along the frontier (its loss
    falls as C grows: N and D both grow with C)."""

    def above(log_c):
        n, d = law.optimum(np.exp(log_c))
        return law.loss(n, d) > loss

    lo, hi = np.log(np.array([FRONTIER_SEARCH[0]])), np.log(np.array([FRONTIER_SEARCH[1]]))
    if above(hi)[0]:
        raise ScaleplanError(
            f"target loss {loss:g} is below what {law.name}'s compute-optimal frontier reaches with "
            f"{fmt_sci(FRONTIER_SEARCH[1])} FLOPs; give a higher loss"
        )
    lo, hi = solvers.bisect(above, lo, hi, iterations=200, rtol=1e-15)
    n, d = law.optimum(np.exp(hi))
    return float(n[0]), float(d[0])


def _frontier_vs_surface(
    law: laws.Law, n_front: float, d_front: float, loss: float, objective, costs, context, break_even: bool
) -> dict:
    """How the law's loss surface differs from its published frontier at the frontier model's budget C: the
    surface's minimum at C, and the cheapest model on the surface reaching the frontier model's loss with nothing
    served (the part of the inference-aware saving that is not due to serving)."""
    c = 6.0 * n_front * d_front
    n_surface, d_surface = (float(x) for x in law.loss_optimum(c))
    n_cheap, d_cheap = (float(np.ravel(x)[0]) for x in optimum_for_loss(law, loss, np.zeros(1)))
    c_cheap = 6.0 * n_cheap * d_cheap
    ratio = n_surface / n_front
    saving = 1.0 - c_cheap / c
    serving = break_even_tokens(law, loss, objective, costs, context) if break_even else None
    note = (
        f"{law.name}: the compute-optimal column is the law's published frontier ({fmt_count(n_front)} parameters "
        f"on {fmt_count(d_front)} tokens at {fmt_sci(c)} FLOPs, as allocate answers); inference-aware sizing needs "
        f"its loss surface L(N, D), whose minimum at that budget is {fmt_count(n_surface)} parameters "
        f"({abs(ratio - 1):.0%} {'below' if ratio < 1 else 'above'} the frontier) and which reaches the frontier "
        f"model's loss {loss:.4f} with {fmt_sci(c_cheap)} FLOPs ({saving:.1%} less, {fmt_count(n_cheap)} parameters)"
        + (
            " even with no tokens served: that part of the saving is not due to serving"
            if saving > BREAK_EVEN_SAVING
            else " with no tokens served"
        )
    )
    return {
        "flops": c,
        "frontier_params": n_front,
        "frontier_tokens": d_front,
        "frontier_loss": float(loss),
        "surface_params": n_surface,
        "surface_tokens": d_surface,
        "surface_loss": float(law.loss(n_surface, d_surface)),
        "surface_vs_frontier_params": ratio,
        "surface_params_for_frontier_loss": n_cheap,
        "surface_tokens_for_frontier_loss": d_cheap,
        "surface_flops_for_frontier_loss": c_cheap,
        "saving_without_serving": saving,
        "serving_break_even_tokens": serving,
        "note": note,
    }


def _scalar(v):
    arr = np.asarray(v, float)
    return float(arr) if arr.ndim == 0 else arr


def _squeeze(side: Side) -> Side:
    return Side(**{k: _scalar(v) for k, v in side.__dict__.items()})


def savings(law, loss, tokens, objective, costs, context, baseline=None):
    """Fractional saving of the objective's own measure (FLOPs or dollars) against the compute-optimal model: the
    cheapest model on the loss surface with nothing served, or `baseline` (N, D), a frontier law's model."""
    weight, per_token = sizing(law, objective, costs)
    t = np.asarray(tokens, float)
    if baseline is None:
        n_base, d_base = optimum_for_loss(law, loss, np.zeros_like(t), context)
    else:
        n_base, d_base = np.full(t.shape, baseline[0]), np.full(t.shape, baseline[1])
    n_opt, d_opt = optimum_for_loss(law, loss, t * weight, context, per_token)
    base, best = costed_side(law, n_base, d_base, t, costs, context), costed_side(law, n_opt, d_opt, t, costs, context)
    key = "total_flops" if objective == "flops" else "total_dollars"
    return 1.0 - np.asarray(getattr(best, key)) / getattr(base, key)


def break_even_tokens(
    law, loss, objective, costs, context, saving: float = BREAK_EVEN_SAVING, baseline=None
) -> float | None:
    """The inference demand above which the inference-aware model saves more than `saving` (1%); 0.0 where it does
    with nothing served (against a frontier `baseline` the loss surface may reach the same loss more cheaply)."""
    if baseline is not None and savings(law, loss, np.zeros(1), objective, costs, context, baseline)[0] > saving:
        return 0.0
    grid = np.geomspace(1e6, 1e20, 57)
    s = savings(law, loss, grid, objective, costs, context, baseline)
    above = np.nonzero(s > saving)[0]
    if above.size == 0:
        return None
    if above[0] == 0:
        return float(grid[0])
    lo, hi = np.log(grid[above[0] - 1]), np.log(grid[above[0]])
    for _ in range(5):  # vectorised refinement: each round shrinks the bracket 63-fold (to ~1e-9 in log T)
        points = np.linspace(lo, hi, 64)
        first = int(np.argmax(savings(law, loss, np.exp(points), objective, costs, context, baseline) > saving))
        if first == 0:  # the crossing is at the bracket's low end already
            return float(np.exp(points[0]))
        lo, hi = points[first - 1], points[first]
    return float(np.exp(hi))


def describe_break_even(plan: InferencePlan) -> str:
    measure = "FLOPs" if plan.objective == "flops" else "dollars"
    if plan.break_even_tokens is None:
        return f"No demand up to 1e20 tokens saves more than 1% of {measure}"
    if plan.break_even_tokens == 0.0:  # a frontier law: its loss surface beats the frontier with nothing served
        f = plan.frontier or {}
        serving = f.get("serving_break_even_tokens")
        above = (
            f"above {fmt_sci(serving)} inference tokens" if serving is not None else "at no demand up to 1e20 tokens"
        )
        return (
            f"The inference-aware model saves more than 1% of total {measure} at any demand, even none: "
            f"{plan.law}'s loss surface reaches this loss with {f.get('saving_without_serving', 0.0):.1%} fewer "
            f"training FLOPs than its frontier model. Against the surface's cheapest model for this loss, serving "
            f"saves more than 1% {above}"
        )
    return (
        f"Above {fmt_sci(plan.break_even_tokens)} inference tokens the inference-aware model saves more than 1% "
        f"of total {measure}"
    )


__all__ = [
    "InferencePlan",
    "ServingCosts",
    "Side",
    "break_even_tokens",
    "inference_aware",
    "optimum_for_loss",
    "serving_costs",
    "tokens_for_loss",
]


@dataclass(frozen=True)
class QuantizedServing:
    """The model that reaches the target loss *as served* at `bits` (weight-only quantization, Ouyang et al. 2024):
    its trained loss times (1 + Ouyang's relative penalty at its N, D) equals the target. The penalty grows with
    D/N, so this model is trained less far than the inference-aware one. Relative penalty, as Ouyang's QiD over their
    16-bit loss at the same N, D: their Pythia loss is not this law's, so only the ratio crosses over."""

    bits: float
    params: float
    tokens: float
    tokens_per_param: float
    training_flops: float
    total_flops: float
    penalty_relative: float
    feasible: bool
    note: str

    def to_dict(self) -> dict:
        return {k: (plain(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def quantized_serving(plan: InferencePlan, bits: float, points: int = 400, law=None) -> QuantizedServing:
    """Minimise training + weighted serving FLOPs over N subject to the *served* loss at `bits` reaching the plan's
    target (one demand). A grid over N, and for each N the fewest tokens that reach it (bisection in log D)."""
    from ..core.solvers import bisect
    from . import precision as precision_mod

    law = laws.get(law) if law is not None else plan.law_object()  # the sizing's own law object (a law file included)
    if np.ndim(plan.inference_tokens):
        raise ScaleplanError("quantized serving is judged for one demand; give a single number of inference tokens")
    target = float(plan.loss)
    weight, per_token = sizing(law, plan.objective, plan.costs)
    t = float(plan.inference_tokens) * weight
    n_ref = float(plan.compute_optimal.params)
    log_n = np.linspace(np.log(n_ref) - np.log(20.0), np.log(n_ref) + np.log(5.0), points)
    n = np.exp(log_n)

    def served(log_d):
        d = np.exp(log_d)
        rel = precision_mod.ouyang_qid(n, d, bits) / precision_mod.ouyang_loss_16bit(n, d)
        return law.loss(n, d) * (1.0 + rel), rel

    # the served loss first falls with D (training) then rises (quantization): its minimum on a coarse grid
    grid = np.linspace(np.log(1e6), np.log(1e16), 241)
    with np.errstate(all="ignore"):
        values = np.stack([served(np.full_like(n, g))[0] for g in grid])  # (grid, N)
    best = np.argmin(values, axis=0)
    reachable = values[best, np.arange(n.size)] <= target
    lo = np.full(n.shape, grid[0])
    hi = grid[best]
    with np.errstate(all="ignore"):
        lo, hi = bisect(lambda x: served(x)[0] > target, lo, hi, iterations=60)
    d = np.exp(hi)
    flops = 6.0 * n * d + t * (2.0 * n if per_token is None else per_token(n))
    flops = np.where(reachable, flops, np.inf)
    i = int(np.argmin(flops))
    if not np.isfinite(flops[i]):
        return QuantizedServing(
            bits,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            False,
            f"no model reaches loss {target:.4g} once served at {bits:g} bits (Ouyang et al.)",
        )
    _, rel = served(np.full_like(n, np.log(d[i])))
    ni, di = float(n[i]), float(d[i])
    return QuantizedServing(
        bits,
        ni,
        di,
        di / ni,
        6.0 * ni * di,
        float(flops[i]),
        float(rel[i]),
        True,
        f"the cheapest model whose loss served at {bits:g} bits is {target:.4g}: trained to "
        f"{di / ni:.3g} tokens per parameter (Ouyang et al. 2024's penalty as a fraction of the loss)",
    )
