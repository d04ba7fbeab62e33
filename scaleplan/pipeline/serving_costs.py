"""What serving costs, for inference-aware sizing and every plan that serves tokens: the serving roofline
(cluster.serving) on the serving chip at its price, or Sardana et al. 2024's fixed-MFU pricing (2N FLOPs per token at
a prefill and a decode MFU), against training's dollars per FLOP (`ServingCosts`, made by `serving_costs`)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cluster.cost import DEFAULT_MFU, Hardware, get_hardware, with_given_price
from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema.conventions import serving_flops

# Sardana et al.'s repository defaults (cost_optimal.py): prefill MFU 0.5, decode MFU 0.01 (decoding is memory-
# bound), 70 prompt and 215 generated tokens per request.
DEFAULT_PREFILL_MFU = 0.5
DEFAULT_DECODE_MFU = 0.01
DEFAULT_PROMPT_SHARE = 70 / (70 + 215)
# INT8 and FP8 tensor throughput is twice BF16 on A100, H100, H200, B200 and MI300X data sheets.
BITS_SPEEDUP = {16: 1.0, 8: 2.0}


@dataclass(frozen=True, repr=False)
class ServingCosts(Rendered):
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

    @functools.cached_property
    def train_peak(self) -> float:
        """The training chip's dense peak at the training precision (looked up once: sizing searches read it)."""
        return self.train_hardware.peak(self.train_precision)

    @property
    def dollars_per_training_flop(self) -> float:
        return self.train_price / (3600.0 * self.train_peak * self.train_mfu)

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
            return serving_flops(n, 1.0) * self.dollars_per_inference_flop
        if stored is not None and float(stored) > float(n) * (1 + 1e-9):
            from dataclasses import replace as _replace

            from ..cluster import serving
            from ..recipe import design as recipe

            dense = serving.ServedModel.from_shape(recipe.default_shape(float(n)))
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
    models = [serving.ServedModel.from_shape(recipe.default_shape(float(n))) for n in grid]  # sizes of our own grid
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
    if tp is not None:
        v = check_number("serve_tp", tp)
        if v != math.floor(v) or not 1 <= v <= serving.MAX_DEGREE:
            raise ScaleplanError(f"<serve_tp> must be a whole number from 1 to {serving.MAX_DEGREE:,}, got {tp!r}")
        if int(v) & (int(v) - 1):
            raise ScaleplanError(f"<serve_tp> must be a power of two, got {tp}")


def check_number(name: str, value) -> float:
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
            check_number(name, args[name])
    if args["peak_flops"] is not None and not args["peak_flops"] > 0:
        raise ScaleplanError(f"<peak_flops> must be positive, got {args['peak_flops']!r}")
    bits = args["inference_bits"]
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, (int, float, np.number))):
        raise ScaleplanError(f"<inference_bits> must be 16 or 8, got {bits!r}")
