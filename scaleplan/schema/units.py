"""Human quantities at the edge: parse `1e21`, `70B`, `1.4T`, `$1.5M`, `1e18..1e25`; format them back.

General unit libraries misread these (`70B` as bytes, `2.5T` as tesla), hence this small parser.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..core.errors import ScaleplanError

SUFFIXES = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_NUMBER = re.compile(r"^\s*\$?\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKmMbBgGtTpP]?)\s*$")


def parse_quantity(value, what: str = "value") -> float:
    """A float from a number or a string such as '1e21', '5.76e23', '70B', '1.4T', '2M', '$1.5M', '1_000'."""
    if isinstance(value, bool):
        raise ScaleplanError(f"{what} must be a number, got {value!r}")
    if isinstance(value, (int, float, np.number)):
        try:
            x = float(value)
        except OverflowError:  # an int beyond any float (10**400)
            raise ScaleplanError(f"{what} must be finite, got an integer of {len(str(abs(value)))} digits") from None
    else:
        text = str(value).replace(",", "").replace("_", "")
        match = _NUMBER.match(text)
        if match is None:
            if text.strip().lower().lstrip("+-") in {"nan", "inf", "infinity"}:
                raise ScaleplanError(f"{what} must be finite, got {value!r}")
            raise ScaleplanError(f"{what} must be a number such as 1e21, 70B, 1.4T or $2M, got {value!r}")
        x = float(match.group(1)) * SUFFIXES[match.group(2).upper()]
    if not math.isfinite(x):
        raise ScaleplanError(f"{what} must be finite, got {value!r}")
    return x


def parse_flops(value, what: str = "flops", money: str | None = None) -> float:
    """A FLOP count: a plain number such as 1e21 or 5.76e23. Money ('$2M') and counts with a suffix ('70B') are
    refused, since they are almost always the wrong flag; `money` names the flag or key that takes dollars."""
    text = str(value).strip()
    if not isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        if "$" in text:
            hint = f"; did you mean {money}?" if money else "; this command takes FLOPs, such as 1e21"
            raise ScaleplanError(f"{what} {text!r} is an amount of money, not FLOPs{hint}")
        match = _NUMBER.match(text.replace(",", "").replace("_", ""))
        if match is not None and match.group(2):
            raise ScaleplanError(
                f"{what} {text!r} has a {match.group(2)!r} suffix, as a count of parameters or "
                "tokens would; FLOPs are written as plain numbers such as 1e21"
            )
    return parse_positive(value, what)


def parse_count(value, what: str) -> float:
    """A positive count of parameters or tokens ('70B', '1.4T', '7e9'); money is refused."""
    if "$" in str(value):
        raise ScaleplanError(f"{what} {str(value).strip()!r} is an amount of money, not a count")
    return parse_positive(value, what)


def parse_positive(value, what: str) -> float:
    x = parse_quantity(value, what)
    if x <= 0:
        raise ScaleplanError(f"{what} must be positive, got {value!r}")
    return x


def parse_fraction(value, what: str, low_open: bool = True, high_open: bool = False) -> float:
    """A number in (0, 1] (or [0, 1] with low_open=False, (0, 1) with high_open=True): 0.4 or '40%'.

    >>> parse_fraction("40%", "mfu"), parse_fraction(" 0.55 ", "mfu")
    (0.4, 0.55)
    """
    allowed = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
    example = "0.8 or 80%" if high_open else "0.4 or 40%"
    if isinstance(value, bool):
        raise ScaleplanError(f"{what} must be a number in {allowed} such as {example}, got {value!r}")
    if isinstance(value, (int, float, np.number)):
        try:
            x = float(value)
        except OverflowError:  # an int beyond any float (10**400)
            raise ScaleplanError(f"{what} must be finite, got an integer of {len(str(abs(value)))} digits") from None
    else:  # a fraction takes no suffix (K, M, B, T) and no dollar sign: only a number, or a percentage
        text = str(value).strip().replace("_", "")
        percent = text.endswith("%")
        try:
            x = float(text.removesuffix("%").strip()) / (100.0 if percent else 1.0)
        except ValueError:
            raise ScaleplanError(f"{what} must be a number in {allowed} such as {example}, got {value!r}") from None
    if not math.isfinite(x):
        raise ScaleplanError(f"{what} must be finite, got {value!r}")
    if x > 1 or x < 0 or (low_open and x == 0) or (high_open and x == 1):
        raise ScaleplanError(f"{what} must be in {allowed}, e.g. {example}, got {value!r}")
    return x


def parse_budgets(
    values,
    what: str = "<flops>",
    points: int = 8,
    allow_zero: bool = False,
    max_values: int | None = None,
    flops: bool = True,
) -> np.ndarray:
    """Budgets from repeated values and ranges: ['1e19', '1e21'] or ['1e18..1e25'] (log-spaced, `points` each).

    `max_values` caps how many values the list may expand to (checked before anything is computed); `flops`
    refuses money and suffixed counts as parse_flops does.
    """
    one = parse_flops if flops else parse_positive
    if max_values is not None:
        ranges = sum(".." in str(v) for v in values)
        total = len(values) - ranges + ranges * max(points, 0)
        if total > max_values:
            raise ScaleplanError(
                f"{what}: {len(values) - ranges} value(s) and {ranges} range(s) of <points> {points} "
                f"give {total:,} values; the limit is {max_values:,}"
            )
    out: list[float] = []
    for value in values:
        text = str(value)
        if ".." in text:
            low_text, high_text = text.split("..", 1)
            low, high = one(low_text, what), one(high_text, what)
            if high <= low:
                raise ScaleplanError(f"{what} range {text!r} must go from low to high")
            if points < 2:
                raise ScaleplanError(f"<points> must be at least 2, got {points}")
            out.extend(np.geomspace(low, high, points))
        elif allow_zero:
            x = parse_quantity(text, what)
            if x < 0:
                raise ScaleplanError(f"{what} must be zero or positive, got {value!r}")
            out.append(x)
        else:
            out.append(one(text, what))
    return np.asarray(out, float)


def _si(x: float, digits: int = 3) -> str:
    x = float(f"{x:.{digits}g}")  # round first so 999.9 becomes 1.00K, not 1e+03
    for suffix, scale in (("P", 1e15), ("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.{max(digits - len(str(int(abs(x) // scale))), 0)}f}{suffix}"
    return f"{x:.{digits}g}"


def fmt_count(x) -> str:
    """70.0B, 1.40T, 350M: parameters and tokens, three significant figures."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    x = float(x)
    if abs(x) >= 1e18:
        return f"{x:.3g}"
    return _si(x)


def fmt_sci(x, digits: int = 3, always: bool = False) -> str:
    """5.76e23, 1e-4: scientific notation without the padded exponent (`always` for 7.18e-4, not 0.000718)."""
    if x is None:
        return "-"
    text = f"{float(x):.{digits - 1}e}" if always else f"{float(x):.{digits}g}"
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def fmt_flops(x) -> str:
    """5.76e23 FLOPs."""
    return "-" if x is None else f"{fmt_sci(x)} FLOPs"


def fmt_dollars(x) -> str:
    """$12.50, $1,404, $350,000, $1.40M, $2.10B: money as a person writes it (no '$1.40K'); from the amount that
    rounds to $1,000,000 up, three significant figures with M, B or T ($1.00M, not $1,000,000)."""
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return "-"
    sign, x = ("-" if x < 0 else ""), abs(x)
    if float(f"{x:.3g}") >= 1e15:  # past $999T: no 'P' for money
        return f"{sign}${fmt_sci(x)}"
    if round(x) >= 1e6:
        return f"{sign}${_si(x)}"
    if round(x, 2) >= 100:
        return f"{sign}${x:,.0f}"
    return f"{sign}${x:,.2f}"


def _whole(x: float) -> str:
    """Three significant figures written out with thousands separators: 557, 1,030, 55,700."""
    return f"{float(f'{x:.3g}'):,.0f}"


_LARGE = (("trillion", 1e12), ("billion", 1e9), ("million", 1e6))


def fmt_duration(days) -> str:
    """41 min, 3.2 h, 2.5 days, 65 days, 3.4 years, 557 years, 55,700 years, 8.01 million years: a wall-clock time
    in the unit that reads best, never in scientific notation below a million million years."""
    if days is None:
        return "-"
    d = float(days)
    if not math.isfinite(d):
        return "-"
    minutes = d * 24 * 60
    if minutes < 1:
        seconds = minutes * 60
        return f"{seconds:.2g} s" if seconds >= 0.01 else f"{fmt_sci(seconds, 2)} s"
    if minutes < 90:
        return f"{minutes:.2g} min" if minutes < 10 else f"{minutes:.0f} min"
    if d < 2:
        return f"{d * 24:.2g} h" if d * 24 < 10 else f"{d * 24:.0f} h"
    if d < 2 * 365:
        return f"{d:.2g} days" if d < 10 else f"{d:,.0f} days"
    years = d / 365.25
    if years < 10:
        return f"{years:.2g} years"
    if years < 100:
        return f"{years:.0f} years"
    rounded = float(f"{years:.3g}")
    for word, scale in _LARGE:
        if rounded >= scale:
            if rounded >= 1e3 * _LARGE[0][1]:
                return f"{fmt_sci(years)} years"
            return f"{rounded / scale:.3g} {word} years"
    return f"{_whole(years)} years"


def fmt_ratio(x) -> str:
    """1.52x, 2,400x, 1.3e20x: a ratio, never a 21-digit number."""
    if x is None:
        return "-"
    x = float(x)
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{fmt_sci(x)}x"
    if abs(x) >= 100:
        return f"{x:,.0f}x"
    return f"{x:.2f}x"


def plural(n: float, word: str, many: str | None = None) -> str:
    """'1 token', '2 tokens', '1e12 tokens'."""
    shown = f"{n:,}" if isinstance(n, int) else fmt_number(n)
    return f"{shown} {word if n == 1 else (many or word + 's')}"


def fmt_number(x, digits: int = 3) -> str:
    """21.6, 0.0286, 737,280, 1.2e12: plain where it reads well, scientific where it does not."""
    if x is None:
        return "-"
    x = float(x)
    if x != 0 and (abs(x) >= 1e9 or abs(x) < 1e-3):
        return fmt_sci(x, digits)
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_percent(x: float) -> str:
    """40%, 55.2%, 0.01%, 1e-7%: a utilisation as a person writes it."""
    p = 100.0 * float(x)
    if p >= 10:
        return f"{p:.3g}%"
    if p >= 0.01:
        return f"{p:.2g}%"
    return f"{fmt_sci(p, 2)}%"
