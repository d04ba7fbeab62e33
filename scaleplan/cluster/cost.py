"""Hardware presets (data/hardware.yaml, plus a user's own file) and the cost of a number of FLOPs on them.

One definition of utilisation throughout: model FLOPs are the plan's training FLOPs (6·N·D in the law's convention);
MFU = model FLOPs / (devices × time × dense peak at the training precision); hardware FLOPs add the work that
activation recompute repeats; HFU = hardware FLOPs / the same denominator.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.values import Rendered, check_positive, check_settings, plain
from ..schema.fields import PRECISIONS, RECOMPUTE  # noqa: F401 (the one list of each, re-exported)
from ..schema.fields import parse as parse_field
from ..schema.units import fmt_sci

DEFAULT_HARDWARE = "h100"
DEFAULT_MFU = 0.4
DEFAULT_GPUS = 1024
# The highest model FLOPs utilisation reported publicly for large-scale training: MegaScale (Jiang et al. 2024,
# arXiv 2402.15627), 55.2% for a 175B model on 12,288 GPUs. PaLM reached 46.2% (arXiv 2204.02311).
HIGHEST_REPORTED_MFU = 0.552
LOWEST_SENSIBLE_MFU = 0.10
SECONDS_PER_HOUR = 3600.0
GIB = 1024**3 / 1e9  # GB per GiB

# hardware.yaml schema: figure fields must be present (a number, or null with a reason under `missing`)
_FIGURES = ("peak_flops", "fp8_flops", "fp4_flops", "memory", "hbm_tb_s", "power_w", "scaleup_gb_s", "price_per_hour")
_STRINGS = ("name", "source", "date", "status")
_OPTIONAL_NUMBERS = ("int8_flops", "scaleup_devices", "server_power_x", "memory_bytes", "mean_power_w")
_KEYS = (
    set(_FIGURES)
    | set(_STRINGS)
    | set(_OPTIONAL_NUMBERS)
    | {"memory_unit", "memory_source", "server_power_basis", "kind", "price_source", "missing", "aliases"}
    | {"unpublished"}
)
_KINDS = ("gpu", "tpu", "asic")
_UNITS = {"GB": 1.0, "GiB": GIB}
# A device's reported bytes against its label: NVIDIA's "80 GB" reads 81,559 MiB (1.069x 80e9); a readout outside
# this band is a typo (e.g. MiB given as bytes), not a different device
_READOUT_OVER_LABEL = (0.9, 1.2)


@dataclass(frozen=True)
class Hardware:
    """One accelerator. `peak_flops` is the dense BF16 peak (the training default).

    `memory_bytes` is the device memory as the device reports it (binary for every vendor: an H100 "80 GB" is
    81,559 MiB = 85.52e9 B); `memory_vendor` is the vendor's label ("80 GB"), `memory_source` where the bytes were
    read. Every part of scaleplan that needs device memory reads `memory_bytes`.
    """

    key: str
    name: str
    peak_flops: float
    power_w: float | None
    memory_bytes: float | None
    price_per_hour: float | None
    source: str
    fp8_flops: float | None = None
    fp4_flops: float | None = None
    int8_flops: float | None = None
    hbm_tb_s: float | None = None
    scaleup_gb_s: float | None = None
    scaleup_devices: int | None = None
    memory_vendor: str | None = None
    memory_source: str | None = None
    kind: str = "gpu"
    server_power_x: float | None = None
    server_power_basis: str | None = None
    mean_power_w: float | None = None
    price_source: str | None = None
    date: str | None = None
    status: str | None = None
    missing: tuple[tuple[str, str], ...] = ()
    origin: str = "bundled"

    @property
    def memory_gb(self) -> float | None:
        """Device memory in GB of 1e9 bytes (memory_bytes / 1e9), for display."""
        return None if self.memory_bytes is None else self.memory_bytes / 1e9

    def why_missing(self, field: str) -> str:
        return dict(self.missing).get(field, "not given")

    def peak(self, precision: str = "bf16") -> float:
        """Dense peak FLOP/s at a training precision; a clear error where the chip has no such path."""
        precision = check_precision(precision)
        value = {"bf16": self.peak_flops, "fp8": self.fp8_flops, "fp4": self.fp4_flops}[precision]
        if value is None:
            field = {"bf16": "peak_flops", "fp8": "fp8_flops", "fp4": "fp4_flops"}[precision]
            raise ScaleplanError(
                f"{self.key} has no dense {precision.upper()} peak ({self.why_missing(field)}); "
                f"choose another <precision> or give <peak_flops>"
            )
        return float(value)

    @property
    def price_label(self) -> str:
        """'$2.00/h, assumed: <source, date>' or why there is no price."""
        if self.price_per_hour is None:
            return f"no published price for {self.key}; a dollar cost needs a price"
        if self.price_source == PRICE_GIVEN:
            return f"${self.price_per_hour:.2f}/h, given"
        return f"${self.price_per_hour:.2f}/h, assumed: {self.price_source or 'no source given'}"

    def to_dict(self) -> dict:
        d = {k: (plain(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}
        d["missing"] = dict(self.missing)
        return d


def check_precision(precision: str) -> str:
    return parse_field("precision", precision)


def check_hardware_spec(key: str, spec, where: str = "hardware.yaml") -> None:
    """The schema of one preset: unknown keys, wrong types and unexplained empty figures are errors."""
    at = f"{where}: {key}"
    if not isinstance(spec, dict):
        raise ScaleplanError(f"{at}: a preset must be a mapping of fields, got {type(spec).__name__}")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(_KEYS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ScaleplanError(f"{at}: unknown field {unknown[0]!r}{hint}")
    for f in _STRINGS:
        if not isinstance(spec.get(f), str) or not spec[f].strip():
            raise ScaleplanError(f"{at}: {f} must be a non-empty text")
    missing = spec.get("missing") or {}
    if not isinstance(missing, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in missing.items()
    ):
        raise ScaleplanError(f"{at}: missing must map a field to the reason it is empty")
    for f, _reason in missing.items():
        if f not in _FIGURES and f not in _OPTIONAL_NUMBERS:
            raise ScaleplanError(f"{at}: missing names {f!r}, which is not a figure field")
        if spec.get(f) is not None:
            raise ScaleplanError(f"{at}: {f} is given ({spec[f]!r}) but missing gives a reason it is empty")
    for f in _FIGURES + _OPTIONAL_NUMBERS:
        if f not in spec:
            if f in _FIGURES:
                raise ScaleplanError(f"{at}: {f} is required (a number, or null with a reason under missing)")
            continue
        value = spec[f]
        if value is None:
            if f in _FIGURES and f not in missing:
                raise ScaleplanError(f'{at}: {f} is empty; say why under missing: {{{f}: "..."}}')
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ScaleplanError(f"{at}: {f} must be a positive number or null, got {value!r}")
    if spec.get("memory") is not None and spec.get("memory_unit") not in _UNITS:
        raise ScaleplanError(
            f"{at}: memory_unit must be GB or GiB (as the vendor prints it), got {spec.get('memory_unit')!r}"
        )
    if spec.get("memory_bytes") is not None:
        if spec.get("memory") is None:
            raise ScaleplanError(f"{at}: memory_bytes needs memory and memory_unit (the vendor's label) beside it")
        label = float(spec["memory"]) * _UNITS[spec["memory_unit"]] * 1e9
        lo, hi = _READOUT_OVER_LABEL
        if not lo <= spec["memory_bytes"] / label <= hi:
            raise ScaleplanError(
                f"{at}: memory_bytes {spec['memory_bytes']!r} is not within {lo:g}-{hi:g}x the label "
                f"{spec['memory']:g} {spec['memory_unit']} ({label:.4g} B): give the device's readout in bytes"
            )
    if spec.get("server_power_basis") is not None and not isinstance(spec["server_power_basis"], str):
        raise ScaleplanError(f"{at}: server_power_basis must be a text (Epoch's value, or why it extends Epoch's)")
    if (
        spec.get("mean_power_w") is not None
        and spec.get("power_w") is not None
        and spec["mean_power_w"] > spec["power_w"]
    ):
        raise ScaleplanError(f"{at}: mean_power_w {spec['mean_power_w']!r} is above power_w {spec['power_w']!r}")
    if spec.get("memory_source") is not None and not isinstance(spec["memory_source"], str):
        raise ScaleplanError(f"{at}: memory_source must be a text (where the device's bytes were read)")
    if spec.get("kind", "gpu") not in _KINDS:
        raise ScaleplanError(f"{at}: kind must be one of {', '.join(_KINDS)}, got {spec.get('kind')!r}")
    if spec.get("scaleup_devices") is not None and int(spec["scaleup_devices"]) != spec["scaleup_devices"]:
        raise ScaleplanError(f"{at}: scaleup_devices must be a whole number, got {spec['scaleup_devices']!r}")
    if spec.get("price_per_hour") is not None and not isinstance(spec.get("price_source"), str):
        raise ScaleplanError(f"{at}: a price needs price_source (the listing and its date)")
    aliases = spec.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise ScaleplanError(f"{at}: aliases must be a list of names")


def _build(key: str, spec: dict, origin: str) -> Hardware:
    mem = spec.get("memory")
    unit = spec.get("memory_unit", "GB")
    num = lambda v: None if v is None else float(v)
    return Hardware(
        key=key,
        name=spec["name"],
        peak_flops=float(spec["peak_flops"]),
        power_w=num(spec.get("power_w")),
        memory_bytes=(
            None
            if mem is None
            else float(spec["memory_bytes"])
            if spec.get("memory_bytes") is not None
            else float(mem) * _UNITS[unit] * 1e9
        ),
        price_per_hour=num(spec.get("price_per_hour")),
        source=spec["source"],
        fp8_flops=num(spec.get("fp8_flops")),
        fp4_flops=num(spec.get("fp4_flops")),
        int8_flops=num(spec.get("int8_flops")),
        hbm_tb_s=num(spec.get("hbm_tb_s")),
        scaleup_gb_s=num(spec.get("scaleup_gb_s")),
        scaleup_devices=None if spec.get("scaleup_devices") is None else int(spec["scaleup_devices"]),
        memory_vendor=None if mem is None else f"{mem:g} {unit}",
        memory_source=(
            spec.get("memory_source")
            or (None if mem is None or spec.get("memory_bytes") is not None else f"the label {mem:g} {unit}")
        ),
        kind=spec.get("kind", "gpu"),
        server_power_x=num(spec.get("server_power_x")),
        server_power_basis=spec.get("server_power_basis"),
        mean_power_w=num(spec.get("mean_power_w")),
        price_source=spec.get("price_source"),
        date=spec.get("date"),
        status=spec.get("status"),
        missing=tuple(sorted((spec.get("missing") or {}).items())),
        origin=origin,
    )


def _table(
    specs: object, where: str, origin: str, base: dict[str, Hardware] | None = None, base_specs: dict | None = None
) -> tuple[dict[str, Hardware], dict]:
    """Validated presets by name and alias; a user's partial preset is merged over the bundled one of that key."""
    if not isinstance(specs, dict):
        raise ScaleplanError(f"{where}: expected a mapping of preset name to fields")
    table = dict(base or {})
    merged_specs = dict(base_specs or {})
    for key, spec in specs.items():
        key = str(key).strip().lower()
        if isinstance(spec, dict) and key in merged_specs:
            old = dict(merged_specs[key])
            missing = {k: v for k, v in (old.get("missing") or {}).items() if k not in spec}
            old.pop("missing", None)
            if "price_per_hour" in spec and "price_source" not in spec:
                old.pop("price_source", None)  # a new price needs its own source
            if "memory" in spec and "memory_bytes" not in spec:
                old.pop("memory_bytes", None)  # a new label without a readout: converted from the label
                old.pop("memory_source", None)
            spec = {**old, **spec, "missing": {**missing, **(spec.get("missing") or {})}}
            for k in list(spec["missing"]):
                if spec.get(k) is not None:
                    del spec["missing"][k]
            for k in list(table):  # the old preset's names give way to the new one's
                if table[k].key == key:
                    del table[k]
        check_hardware_spec(key, spec, where)
        hw = _build(key, spec, origin)
        for name in (key, *(a.strip().lower() for a in spec.get("aliases", ()))):
            if name in table and table[name].key != key:
                raise ScaleplanError(f"{where}: {key}: the name {name!r} is already taken by {table[name].key}")
            table[name] = hw
        merged_specs[key] = spec
    return table, merged_specs


@functools.cache
def _bundled() -> tuple[dict[str, Hardware], dict]:
    return _table(_yaml.read(_yaml.DATA / "hardware.yaml"), "scaleplan/data/hardware.yaml", "bundled")


def user_hardware_file() -> Path:
    """The default user file: $XDG_CONFIG_HOME/scaleplan/hardware.yaml (~/.config/... when unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "scaleplan" / "hardware.yaml"


MAX_HARDWARE_FILE_BYTES = 1_000_000


@functools.cache
def _layered(files: tuple[tuple[str, float], ...]) -> tuple[dict[str, Hardware], dict]:
    """The bundled presets with each user file laid over the last (cached by path and modification time)."""
    table, specs = _bundled()
    for path, _mtime in files:
        data, _tree = _yaml.read_user(path, "hardware file")  # binary, huge, recursive: one clear line
        table, specs = _table(data, path, path, table, specs)
    return table, specs


def presets(hardware_file: str | os.PathLike | None = None) -> dict[str, Hardware]:
    """Presets by name and alias: the bundled ones, then the user's default file, then `hardware_file`, each file
    overriding or adding presets."""
    user = user_hardware_file()
    files: tuple[tuple[str, float], ...] = ((str(user), user.stat().st_mtime),) if user.is_file() else ()
    from ..core.files import note_input

    for path_read, _ in files:  # cached after the first read: still an input of this command, never an output
        note_input(path_read)
    if hardware_file is None:
        return _layered(files)[0] if files else _bundled()[0]
    _layered(files)  # the user's default file first: its own errors name its path
    try:  # the given file: whatever is wrong with it names <hardware_file> (--hardware-file, hardware_file:)
        if not isinstance(hardware_file, (str, os.PathLike)):
            raise ScaleplanError(f"must be a file name, got {hardware_file!r}")
        path = Path(hardware_file)
        if not path.is_file():
            from ..core.files import read_text

            read_text(path, "hardware file")  # says what is wrong: missing, a folder, a device
        table = _layered(tuple(dict.fromkeys(files + ((str(path), path.stat().st_mtime),))))[0]
        note_input(path)
        return table
    except ScaleplanError as exc:
        raise ScaleplanError(f"<hardware_file>: {exc.template}") from None
    except OSError as exc:
        raise ScaleplanError(f"<hardware_file>: {hardware_file}: cannot read ({exc.strerror or exc})") from None


def get_hardware(
    name: str | Hardware | None = None,
    peak_flops: float | None = None,
    *,
    hardware_file: str | os.PathLike | None = None,
) -> Hardware:
    """A preset by name (or alias); `peak_flops` replaces its peak and keeps its other figures (power, memory...).

    With only `peak_flops`, the default preset's other figures stand (and the result says so in its name). A
    Hardware already resolved (e.g. from a budget's hardware file) is used as it is.
    """
    if isinstance(name, Hardware) and peak_flops is None:
        return name
    if isinstance(name, Hardware):
        name = name.key
    if name is not None and not isinstance(name, str):
        raise ScaleplanError(f"<hardware> must be a preset name such as 'h100' or a Hardware, got {name!r}")
    table = presets(hardware_file)
    key = (name or DEFAULT_HARDWARE).strip().lower()
    if key not in table:
        close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        keys = sorted({hw.key for hw in table.values()})
        raise ScaleplanError(f"unknown hardware {name!r}{hint} (known: {', '.join(keys)}; or give <peak_flops>)")
    hw = table[key]
    if peak_flops is not None:
        try:
            peak = float(peak_flops)
        except (TypeError, ValueError, OverflowError):
            peak = math.nan
        if isinstance(peak_flops, bool) or not (math.isfinite(peak) and peak > 0):
            raise ScaleplanError(f"<peak_flops> must be a positive number of FLOP/s, got {peak_flops!r}")
        # the user's peak stands for every precision: it is the peak they train at
        hw = replace(
            hw,
            name=f"{hw.name}, peak given by the user",
            peak_flops=peak,
            fp8_flops=peak,
            fp4_flops=peak,
            source=f"peak {peak:.3g} FLOP/s given by the user; other figures: {hw.source}",
        )
    return hw


# ---------------------------------------------------------------------------------------------------------------
# Recompute: hardware FLOPs over model FLOPs


def recompute_ratio(recompute: str = "none", *, context=None, d_model=None, layers=None, vocab=None) -> float:
    """Hardware FLOPs / model FLOPs for an activation-recompute policy.

    none: 1. full: one extra forward pass, (6ND + 2ND) / 6ND = 4/3 (the 8ND convention of the BLOOM repository).
    selective: Korthikanti et al. 2022 (arXiv 2205.05198) App. A, eq. 8 over eq. 7:
    (1 + s/(3h) + V/(12hL)) / (1 + s/(6h) + V/(12hL)); it needs the shape (context s, d_model h, layers L, vocab V).
    """
    r = parse_field("recompute", recompute)
    if r == "none":
        return 1.0
    if r == "full":
        return 4.0 / 3.0
    if None in (context, d_model, layers, vocab):
        raise ScaleplanError("selective recompute needs the model's shape (context, d_model, layers, vocab)")
    s, h, n_layers, v = float(context), float(d_model), float(layers), float(vocab)
    logits = v / (12.0 * h * n_layers)
    return (1.0 + s / (3.0 * h) + logits) / (1.0 + s / (6.0 * h) + logits)


# ---------------------------------------------------------------------------------------------------------------
# Energy (Epoch AI's method)


@functools.cache
def cost_model() -> dict:
    return _yaml.read(_yaml.DATA / "cost_model.yaml")


@dataclass(frozen=True)
class Energy:
    """Facility energy: board power × server multiple × average draw (fraction of TDP) × PUE, and its price.

    Defaults (Epoch AI, Cottier et al. 2024 App. A.4): the preset's server multiple (H100 1.82, A100 2.03, TPU 1.56;
    else 1.8), 0.75 of TDP for GPUs and 0.43 for TPUs, PUE 1.25 (1.1 with hyperscale=True), $0.0771/kWh (EIA 2024).
    """

    server_power_x: float | None = None
    tdp_fraction: float | None = None
    pue: float | None = None
    hyperscale: bool = False
    dollars_per_kwh: float | None = None

    def resolved(self, hw: Hardware) -> dict:
        e = cost_model()["energy"]
        for name, value in (
            ("<server_power_x> (server power multiple)", self.server_power_x),
            ("<pue>", self.pue),
            ("<dollars_per_kwh> ($ per kWh)", self.dollars_per_kwh),
        ):
            if value is not None and not (math.isfinite(value) and 0 < value <= 100):
                raise ScaleplanError(f"{name} must be a positive number (at most 100), got {value!r}")
        if self.tdp_fraction is not None and not 0 < self.tdp_fraction <= 1.5:
            raise ScaleplanError(
                f"<tdp_fraction> (average draw as a fraction of TDP) must be in (0, 1.5], got {self.tdp_fraction!r}"
            )
        if self.pue is not None and self.pue < 1:
            raise ScaleplanError(f"<pue> is at least 1 (facility power / IT power), got {self.pue!r}")
        mean, board = hw.mean_power_w, hw.power_w
        measured = self.tdp_fraction is None and mean is not None and board is not None
        if self.server_power_x is not None:
            basis = "given"
        elif hw.server_power_x is not None:
            basis = hw.server_power_basis or "the preset's"
        else:
            basis = f"Epoch AI's default {e['server_power_x_default']:g} (the chip is not in Epoch's code)"
        return {
            "server_power_x": self.server_power_x or hw.server_power_x or e["server_power_x_default"],
            "server_power_basis": basis,
            # a measured mean draw (TPU v4: 170 W of a 192 W measured maximum) instead of Epoch's fraction of TDP
            "tdp_fraction": (
                mean / board  # type: ignore[operator]
                if measured
                else self.tdp_fraction or e["tdp_fraction"][hw.kind]
            ),
            "average_draw": (
                f"measured mean {hw.mean_power_w:g} W"
                if measured
                else "given"
                if self.tdp_fraction is not None
                else f"Epoch AI's {e['tdp_fraction'][hw.kind]:g} of TDP ({hw.kind})"
            ),
            "pue": self.pue or e["pue"]["hyperscale" if self.hyperscale else "other"],
            "dollars_per_kwh": self.dollars_per_kwh if self.dollars_per_kwh is not None else e["dollars_per_kwh"],
        }


# ---------------------------------------------------------------------------------------------------------------
# Owned hardware (Epoch AI's amortisation)


@dataclass(frozen=True)
class Owned:
    """Buying the cluster instead of renting: give the price per GPU as part of a server, or the chip's price
    (× Epoch AI's 1.64 server factor) — never both. Interconnect is 19% of the cluster's cost; the value falls
    0.14 orders of magnitude a year, so a run of H hours costs value × H/8760 × 0.14·ln 10 (Cottier et al. 2024,
    sec. 2.2 and App. A.1); `age_years` is how old the hardware is when the run starts (default 0, new)."""

    server_price_per_gpu: float | None = None
    chip_price: float | None = None
    age_years: float = 0.0

    def __post_init__(self):
        if (self.server_price_per_gpu is None) == (self.chip_price is None):
            raise ScaleplanError(
                "owned hardware needs exactly one of a price per GPU as part of a server "
                "or a chip price (which is multiplied by the 1.64 server factor), not both"
            )
        for name, v in (("price per GPU", self.server_price_per_gpu), ("chip price", self.chip_price)):
            if v is not None and not (math.isfinite(v) and 0 < v <= 1e8):
                raise ScaleplanError(f"{name} must be positive dollars (at most $100M), got {v!r}")
        if not (math.isfinite(self.age_years) and 0 <= self.age_years <= 30):
            raise ScaleplanError(f"hardware age must be 0 to 30 years, got {self.age_years!r}")

    def cluster_value(self, gpus: float) -> dict:
        o = cost_model()["owned"]
        per_gpu = (
            self.server_price_per_gpu if self.server_price_per_gpu is not None else self.chip_price * o["server_factor"]
        )
        acquisition = per_gpu * gpus / (1.0 - o["interconnect_fraction"])
        value = acquisition * 10.0 ** (-o["depreciation_ooms_per_year"] * self.age_years)
        return {
            "per_gpu_in_server": per_gpu,
            "acquisition": acquisition,
            "value_at_start": value,
            "amortisation_per_year": o["depreciation_ooms_per_year"] * math.log(10.0),
        }


# ---------------------------------------------------------------------------------------------------------------
# The cost of a run


@dataclass(frozen=True, repr=False)
class CostBreakdown(Rendered):
    """What training `flops` costs on `gpus` accelerators at utilisation `mfu` and `price` dollars per GPU-hour."""

    hardware: str
    peak_flops: float
    mfu: float
    price: float | None
    gpus: float
    gpu_hours: float
    days: float
    dollars: float | None
    kwh: float | None
    power_w: float | None
    inference_flops: float | None = None
    inference_dollars: float | None = None
    total_dollars: float | None = None
    precision: str = "bf16"
    recompute: str = "none"
    hfu: float | None = None
    hardware_flops: float | None = None
    price_label: str | None = None
    kwh_facility: float | None = None
    energy_dollars: float | None = None
    energy_assumptions: dict | None = None
    energy_note: str | None = None
    owned_dollars: float | None = None
    owned_assumptions: dict | None = None
    inference_price_label: str | None = None  # the serving price and what it is, when serving is priced
    speedup_over_bf16: float | None = None  # throughput over a BF16 run at the default BF16 MFU (FP8/FP4 only)

    def to_dict(self) -> dict:
        return {k: (v if isinstance(v, dict) else plain(v)) for k, v in self.__dict__.items()}


def gpu_hours_for(flops, hw: Hardware, mfu: float, precision: str = "bf16"):
    return np.asarray(flops, float) / (hw.peak(precision) * mfu * SECONDS_PER_HOUR)


PRICE_GIVEN = "given"  # the price_source of a preset whose price the user gave


def with_given_price(hw: Hardware, price: float | None) -> Hardware:
    """The preset at the user's price (None: its own), labelled 'given' even where it equals the preset's."""
    return hw if price is None else replace(hw, price_per_hour=float(price), price_source=PRICE_GIVEN)


def price_label(hw: Hardware, price: float | None) -> str:
    """The price and what it is: the preset's (with its source), the user's, or none (said neutrally: the label is
    shown in tables and read from Python; the CLI's errors name the flag that gives a price)."""
    if price is None:
        return f"no published price for {hw.key}; a dollar cost needs a price"
    from ..schema.units import fmt_dollars

    shown = f"${price:.2f}" if price < 1e6 else fmt_dollars(price)  # $1e300 in scientific notation, not 300 digits
    if hw.price_per_hour is not None and price == hw.price_per_hour and hw.price_source not in (None, PRICE_GIVEN):
        return f"{shown}/h, assumed: {hw.price_source}"
    return f"{shown}/h, given"


def training_cost(
    flops,
    hw: Hardware,
    mfu: float,
    price: float | None,
    gpus: float,
    inference_flops=None,
    inference_dollars=None,
    *,
    precision: str = "bf16",
    recompute: str = "none",
    hardware_ratio: float | None = None,
    energy: Energy | None = None,
    owned: Owned | None = None,
) -> CostBreakdown:
    """Cost breakdown, vectorised over `flops` (model FLOPs). `kwh` is board power only; `kwh_facility` adds the
    server, average draw and PUE (see Energy). `hardware_ratio` is hardware/model FLOPs (default: from `recompute`,
    which for selective recompute needs the shape: pass recompute_ratio(...) instead). Price None: no dollars.

    Serving is priced by the caller (scaleplan.pipeline.inference prices prefill and decode at their own utilisation).
    `hw` is a Hardware or a preset's name ('h100').
    """
    if isinstance(hw, str):
        try:
            hw = get_hardware(hw)
        except ScaleplanError as exc:
            raise ScaleplanError(f"<hw>: {exc.template.removesuffix('; or give <peak_flops>)')}") from None
    elif not isinstance(hw, Hardware):
        raise ScaleplanError(f"<hw> must be a Hardware (scaleplan.get_hardware('h100')) or a preset name, got {hw!r}")
    check_positive(flops, "<flops>")
    check_settings(mfu=mfu, price=price, gpus=gpus)
    precision = check_precision(precision)
    peak = hw.peak(precision)
    ratio = recompute_ratio(recompute) if hardware_ratio is None else float(hardware_ratio)
    hours = gpu_hours_for(flops, hw, mfu, precision)
    kwh = hours * hw.power_w / 1000.0 if hw.power_w else None
    kwh_fac = energy_dollars = assumptions = note = None
    if hw.power_w:
        assumptions = (energy or Energy()).resolved(hw)
        kwh_fac = kwh * assumptions["server_power_x"] * assumptions["tdp_fraction"] * assumptions["pue"]
        energy_dollars = kwh_fac * assumptions["dollars_per_kwh"]
    else:
        note = f"board power of {hw.key}: {hw.why_missing('power_w')}"
    dollars = None if price is None else hours * price
    inf_dollars = total = None
    if inference_dollars is not None:
        inf_dollars = inference_dollars
        total = None if dollars is None else dollars + inf_dollars
    owned_dollars = owned_info = None
    if owned is not None:
        owned_info = owned.cluster_value(float(gpus))
        run_hours = hours / gpus
        owned_dollars = owned_info["value_at_start"] * run_hours / 8760.0 * owned_info["amortisation_per_year"]
        if energy_dollars is not None:
            owned_dollars = owned_dollars + energy_dollars
        owned_info = {**owned_info, "age_years": owned.age_years, "includes_energy": energy_dollars is not None}
    return CostBreakdown(
        hw.key,
        peak,
        mfu,
        price,
        float(gpus),
        _num(hours),
        _num(hours / gpus / 24.0),
        _num(dollars),
        _num(kwh),
        hw.power_w,
        _num(inference_flops),
        _num(inf_dollars),
        _num(total),
        precision=precision,
        recompute=str(recompute).strip().lower(),
        hfu=mfu * ratio,
        hardware_flops=_num(np.asarray(flops, float) * ratio),
        price_label=price_label(hw, price),
        kwh_facility=_num(kwh_fac),
        energy_dollars=_num(energy_dollars),
        energy_assumptions=assumptions,
        energy_note=note,
        owned_dollars=_num(owned_dollars),
        owned_assumptions=owned_info,
        speedup_over_bf16=None if precision == "bf16" else implied_speedup(mfu, precision, hw),
    )


# ---------------------------------------------------------------------------------------------------------------
# The default MFU at a training precision (cost_model.yaml precision_mfu: published FP8/FP4-vs-BF16 comparisons)


def precision_speedup(precision: str, hw: Hardware) -> float:
    """The end-to-end speed-up over BF16 that the default MFU assumes at `precision` on `hw`: FP8 realises 0.34 of
    its extra peak (1.34x at 2x the BF16 peak, the low end of published dense comparisons at scale); FP4 adds the
    published NVFP4-over-FP8 1.35x. 1 for BF16 and wherever the chip's peak at the precision is its BF16 peak."""
    precision = check_precision(precision)
    if precision == "bf16":
        return 1.0
    data = cost_model()["precision_mfu"]
    fp8_ratio = (hw.fp8_flops or hw.peak_flops) / hw.peak_flops
    fp8 = 1.0 + data["fp8"]["realised"] * max(fp8_ratio - 1.0, 0.0)
    if precision == "fp8":
        return fp8
    fp4_ratio = hw.peak("fp4") / (hw.fp8_flops or hw.peak_flops)
    return fp8 * (data["fp4"]["speedup_over_fp8"] if fp4_ratio > 1.0 else 1.0)


def default_mfu(precision: str = "bf16", hw: Hardware | None = None) -> float:
    """The MFU a plan assumes when none is given, against the dense peak at `precision`: DEFAULT_MFU (0.40) at BF16;
    at FP8/FP4, 0.40 x the published speed-up over BF16 x BF16 peak / peak(precision) (H100 FP8: 0.40 x 1.34 / 2 =
    26.8%), so a default FP8 plan runs 1.34x faster than a BF16 one, not twice as fast."""
    precision = check_precision(precision)
    if precision == "bf16" or hw is None:
        return DEFAULT_MFU
    return DEFAULT_MFU * precision_speedup(precision, hw) * hw.peak_flops / hw.peak(precision)


def implied_speedup(mfu: float, precision: str, hw: Hardware) -> float:
    """Throughput at `mfu` of the `precision` peak over a BF16 run at the default BF16 MFU (0.40)."""
    return float(mfu) * hw.peak(precision) / (DEFAULT_MFU * hw.peak_flops)


def precision_warnings(mfu: float, precision: str, hw: Hardware, *, moe: bool = False) -> list[str]:
    """An MFU at FP8/FP4 that implies more throughput than the best published at that precision (dense), or, for a
    mixture of experts at FP8, more than published MoE FP8 runs reached (17.3%: DeepSeek-V3)."""
    precision = check_precision(precision)
    if precision == "bf16":
        return []
    data = cost_model()["precision_mfu"][precision]
    out = []
    if mfu > data["best_published_mfu"] * (1 + 1e-9):
        out.append(
            f"MFU {mfu:.1%} of the dense {precision.upper()} peak ({implied_speedup(mfu, precision, hw):.2f}x a BF16 "
            f"run at {DEFAULT_MFU:.0%}) is above the best published {precision.upper()} training run: "
            f"{data['best_published_mfu']:.1%}, {data['best_published']}"
        )
    if moe and precision == "fp8" and mfu > data["moe_published_mfu"] * (1 + 1e-9):
        out.append(
            f"MFU {mfu:.1%} of the dense FP8 peak for a mixture of experts: published MoE FP8 runs reached "
            f"{data['moe_published_mfu']:.1%} ({data['moe_published']}); give --mfu 0.173 to plan at that"
        )
    return out


def utilisation_warnings(mfu: float) -> list[str]:
    """Only training MFU is judged: below 10% or above MegaScale's 55.2%."""
    if mfu > HIGHEST_REPORTED_MFU:
        return [
            f"MFU {mfu:.1%} is above the highest reported for large-scale training "
            f"({HIGHEST_REPORTED_MFU:.1%}, MegaScale 2024)"
        ]
    if mfu < LOWEST_SENSIBLE_MFU:
        return [f"MFU {mfu:.1%} is below {LOWEST_SENSIBLE_MFU:.0%}: the plan leaves most of the hardware idle"]
    return []


@dataclass(frozen=True)
class Implied:
    """The utilisation a plan needs: model FLOPs on `gpus` devices in `days` (or a number of device-hours)."""

    flops: float
    hardware: str
    precision: str
    peak_flops: float
    gpu_hours: float
    mfu: float
    hfu: float
    recompute: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else plain(v)) for k, v in self.__dict__.items()}


def implied_utilisation(
    flops: float,
    hw: Hardware,
    *,
    gpus: float | None = None,
    days: float | None = None,
    gpu_hours: float | None = None,
    dollars: float | None = None,
    price: float | None = None,
    precision: str = "bf16",
    recompute: str = "none",
    hardware_ratio: float | None = None,
) -> Implied:
    """MFU = model FLOPs / (devices × time × dense peak at the precision); HFU adds the recomputed work.

    Time is gpus × days, or device-hours directly, or dollars / price.
    """
    precision = check_precision(precision)
    peak = hw.peak(precision)
    ways = [
        w
        for w, ok in (
            ("gpus and days", gpus is not None and days is not None),
            ("gpu_hours", gpu_hours is not None),
            ("dollars", dollars is not None),
        )
        if ok
    ]
    if len(ways) != 1:
        raise ScaleplanError(
            "the implied MFU needs the time one way: gpus with days, device-hours, or dollars (with a price)"
        )
    if dollars is not None:
        if price is None:
            raise ScaleplanError(f"<dollars> needs <price> here: {price_label(hw, None)}")
        gpu_hours = dollars / price
    elif gpu_hours is None:
        assert gpus is not None and days is not None  # the one way left
        gpu_hours = gpus * days * 24.0
    for name, v in (("flops", flops), ("device-hours", gpu_hours)):
        if not (math.isfinite(v) and v > 0):
            raise ScaleplanError(f"{name} must be positive and finite, got {v!r}")
    ratio = recompute_ratio(recompute) if hardware_ratio is None else float(hardware_ratio)
    mfu = float(flops) / (gpu_hours * SECONDS_PER_HOUR * peak)
    if not mfu >= 1e-9:  # the time the user gave is absurdly long: name it, not an MFU they never typed
        given = "<days>" if days is not None else ("<dollars>" if dollars is not None else "<gpu_hours>")
        raise ScaleplanError(
            f"{given}: {fmt_sci(gpu_hours)} device-hours for {fmt_sci(flops)} FLOPs would use under 1e-9 of the "
            "peak (the implied MFU); check the units"
        )
    return Implied(
        float(flops),
        hw.key,
        precision,
        peak,
        float(gpu_hours),
        mfu,
        mfu * ratio,
        str(recompute).strip().lower(),
        tuple(utilisation_warnings(mfu)),
    )


def _num(v):
    if v is None:
        return None
    arr = np.asarray(v, float)
    return float(arr) if arr.ndim == 0 else arr
