"""Accelerator presets: the bundled hardware.yaml laid under the user's own files, each preset checked against the
schema; a preset by name, at a given peak or price."""

from __future__ import annotations

import difflib
import functools
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.values import plain
from ..schema.fields import PRECISIONS
from ..schema.fields import parse as parse_field

DEFAULT_HARDWARE = "h100"
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


PRICE_GIVEN = "given"  # the price_source of a preset whose price the user gave


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
    """A training precision's parsed name (bf16, fp8 or fp4): a name already parsed (the budget's, on every hot
    path) is taken as it is; anything else goes through the schema's one parser and its message."""
    if isinstance(precision, str) and precision in PRECISIONS:
        return precision
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
    _check_figures(at, spec)
    _check_memory(at, spec)
    _check_details(at, spec)


def _check_figures(at: str, spec: dict) -> None:
    """Every figure a positive number, or null with its reason under `missing` (which names figures only)."""
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


def _check_memory(at: str, spec: dict) -> None:
    """The memory label's unit, and a readout in bytes within the band of its label."""
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


def _check_details(at: str, spec: dict) -> None:
    """Power basis and mean draw, where the memory was read, kind, scale-up domain, the price's source, aliases."""
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
