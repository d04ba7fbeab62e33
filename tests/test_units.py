import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan.core.errors import ScaleplanError
from scaleplan.schema.units import (
    fmt_count,
    fmt_dollars,
    fmt_flops,
    fmt_sci,
    parse_budgets,
    parse_fraction,
    parse_positive,
    parse_quantity,
)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1e21", 1e21),
        ("5.76e23", 5.76e23),
        ("70B", 70e9),
        ("1.4T", 1.4e12),
        ("2M", 2e6),
        ("$1.5M", 1.5e6),
        ("500k", 5e5),
        ("1_000", 1000),
        ("2,048", 2048),
        (" 3 ", 3),
        (7, 7.0),
        (0.5, 0.5),
        ("1P", 1e15),
        ("4G", 4e9),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    "text, message",
    [
        ("abc", "must be a number"),
        ("nan", "must be finite"),
        ("inf", "must be finite"),
        ("-inf", "must be finite"),
        ("", "must be a number"),
        ("1e21x", "must be a number"),
        (True, "must be a number"),
        (float("nan"), "finite"),
    ],
)
def test_parse_quantity_rejects(text, message):
    with pytest.raises(ScaleplanError, match=message):
        parse_quantity(text, "--flops")


@pytest.mark.parametrize("text", ["0", "-1", "-1e21"])
def test_parse_positive_rejects(text):
    with pytest.raises(ScaleplanError, match="--flops must be positive"):
        parse_positive(text, "--flops")


def test_fractions():
    assert parse_fraction("1", "--mfu") == 1.0
    for bad in ("0", "1.01", "-0.1"):
        with pytest.raises(ScaleplanError, match=r"--mfu must be in \(0, 1\]"):
            parse_fraction(bad, "--mfu")
    assert parse_fraction("0", "--share", low_open=False) == 0.0


def test_budget_ranges():
    assert np.allclose(parse_budgets(["1e18..1e25"], points=8), np.geomspace(1e18, 1e25, 8))
    assert np.allclose(parse_budgets(["1e19", "1e21"]), [1e19, 1e21])
    with pytest.raises(ScaleplanError, match="from low to high"):
        parse_budgets(["1e25..1e18"])


@given(st.floats(min_value=1.0, max_value=9.99e17))
def test_count_format_round_trips_to_three_significant_figures(x):
    assert parse_quantity(fmt_count(x)) == pytest.approx(x, rel=5.1e-3)


@given(st.floats(min_value=1e-6, max_value=1e30))
def test_sci_round_trips(x):
    assert float(fmt_sci(x)) == pytest.approx(x, rel=5.1e-3)


def test_formats():
    assert fmt_count(70e9) == "70.0B" and fmt_count(1.4e12) == "1.40T" and fmt_count(350e6) == "350M"
    assert fmt_flops(5.76e23) == "5.76e23 FLOPs"
    assert fmt_dollars(1.2e6) == "$1.20M" and fmt_dollars(12.5) == "$12.50"
    assert fmt_count(999.9) == "1.00K"
    assert parse_quantity(fmt_dollars(2.5e6)) == 2.5e6 and parse_quantity(fmt_count(70e9)) == 70e9


def test_a_percentage_is_a_fraction():
    assert parse_fraction("40%", "--mfu") == pytest.approx(0.40)
    assert parse_fraction(" 55.2 % ", "mfu") == pytest.approx(0.552)
    assert parse_fraction("0%", "--share", low_open=False) == 0.0
    assert parse_fraction("80%", "ci", high_open=True) == pytest.approx(0.8)
    with pytest.raises(ScaleplanError, match=r"ci must be in \(0, 1\), e\.g\. 0\.8 or 80%, got '100%'"):
        parse_fraction("100%", "ci", high_open=True)
    with pytest.raises(ScaleplanError, match=r"--mfu must be in \(0, 1\], e\.g\. 0\.4 or 40%, got '150%'"):
        parse_fraction("150%", "--mfu")
    # the message for text that is no fraction says what a fraction looks like, not "1e21, 70B or $2M"
    for bad in ("40 percent", "0.4B", "$0.4", "%", "abc"):
        with pytest.raises(ScaleplanError, match=r"--mfu must be a number in \(0, 1\] such as 0\.4 or 40%") as info:
            parse_fraction(bad, "--mfu")
        assert "70B" not in str(info.value)
    for bad in ("nan%", "inf", True):
        with pytest.raises(ScaleplanError, match="--mfu must be"):
            parse_fraction(bad, "--mfu")


@given(st.floats(min_value=0.001, max_value=1.0))
def test_percent_and_fraction_agree(x):
    assert parse_fraction(f"{100 * x!r}%", "mfu") == pytest.approx(parse_fraction(repr(x), "mfu"), rel=1e-12)
