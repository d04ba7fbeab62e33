"""The library validates its own inputs: ScaleplanError naming the argument (never a CLI flag), not a numpy error."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scaleplan
from scaleplan.errors import ScaleplanError
from scaleplan.units import fmt_dollars, fmt_duration


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mfu": -0.5}, "mfu must be in (0, 1]"),
        ({"mfu": 1.5}, "mfu must be in (0, 1]"),
        ({"mfu": float("nan")}, "mfu must be a finite number"),
        ({"price": -3}, "price must be positive"),
        ({"gpus": 0}, "gpus must be a whole number of at least 1"),
        ({"gpus": 2.5}, "gpus must be a whole number"),
        ({"peak_flops": 0}, "peak_flops must be positive"),
        ({"inference_tokens": -1}, "inference_tokens must be zero or more"),
    ],
)
def test_allocate_names_the_bad_argument(kwargs, message):
    with pytest.raises(ScaleplanError) as info:
        scaleplan.allocate(1e21, **kwargs)
    assert message in str(info.value) and "--" not in str(info.value)


@pytest.mark.parametrize("flops", ["70B", "1e21", None, True, [1e21, "x"], object()])
def test_allocate_takes_numbers_not_text(flops):
    with pytest.raises(ScaleplanError, match="flops must be a number"):
        scaleplan.allocate(flops)


def test_money_and_time_as_a_person_writes_them():
    assert [fmt_dollars(x) for x in (12.5, 1404, 350_000, 1.4e6, 2.1e9)] == [
        "$12.50",
        "$1,404",
        "$350,000",
        "$1.40M",
        "$2.10B",
    ]
    assert [fmt_duration(d) for d in (0.0286, 0.2, 1.5, 65.1, 800)] == [
        "41 min",
        "4.8 h",
        "36 h",
        "65 days",
        "2.2 years",
    ]


@given(st.floats(min_value=2e-5, max_value=1e9))  # from about 2 s
def test_durations_never_print_a_fraction_of_a_day(days):
    text = fmt_duration(days)
    assert not text.startswith("0.0") and text.split()[-1] in ("s", "min", "h", "days", "years")


def test_array_valued_plans_compare_without_raising():
    import numpy as np

    budgets = np.array([1e20, 1e21])
    assert scaleplan.allocate(budgets) == scaleplan.allocate(budgets)
    assert scaleplan.allocate(budgets) != scaleplan.allocate(budgets * 10)
    assert scaleplan.allocate(1e21) == scaleplan.allocate(1e21)
